#!/bin/sh
# `make run`: a deployment in ./var with a demo tenant on SQLite, then the
# daemon in the foreground (Ctrl-C stops it).
set -eu
cd "$(dirname "$0")/.."
B=build/sipwarden
VAR=var
CONF="$VAR/sipwarden.conf"
DOMAIN="${SIPWARDEN_DEMO_DOMAIN:-demo.sipwarden.test}"

if [ "$(id -u)" -eq 0 ]; then
	scripts/ensure-user.sh sipwarden
fi
if [ ! -f "$CONF" ]; then
	$B init "$VAR" --domain "$DOMAIN"
	$B -c "$CONF" tenant add demo --domain "$DOMAIN"
	echo
	echo "Demo extensions (each password is shown this once; 'ext rotate' makes a new one):"
	for ext in 1001 1002; do
		pw=$($B -c "$CONF" ext add demo "$ext" --name "Demo $ext" |
		    sed -n 's/^password: //p')
		echo "  sip:$ext@$DOMAIN   auth user $ext   password $pw"
	done
else
	echo "Using the existing deployment in $VAR (passwords were shown when created;"
	echo "  $B -c $CONF ext rotate demo 1001   prints a new one)."
fi
cat <<MSG

Deployment: $VAR   config: $CONF
  $B -c $CONF tenant list
  $B -c $CONF ext list demo
  $B -c $CONF audit

Phones: SIP over TLS on port 5061 of this host, domain $DOMAIN, auth user =
extension. A baresip account line (in ~/.baresip/accounts) for extension 1001:
  <sip:1001@$DOMAIN;transport=tls>;auth_pass=PASSWORD;outbound="sip:127.0.0.1:5061;transport=tls";mediaenc=srtp-mand

Status: phones register over TLS (and UDP/TCP when opened in the config)
and call each other (extension to extension) with SRTP media relayed by
this server (a key per leg; a plain-RTP offer gets 488); the admin portal
is not in this build yet (README, Status). Starting the daemon (Ctrl-C
stops):
MSG
exec $B -c "$CONF" serve
