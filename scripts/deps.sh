#!/bin/sh
# Installs the Debian packages sipwarden needs, and only those missing.
# The one place that names them: `scripts/deps.sh run` for building and
# running, `scripts/deps.sh test` for that plus what the tests use.
set -eu

RUN_PKGS="build-essential pkg-config libssl-dev libsqlite3-dev libsodium-dev
libinih-dev libzxcvbn-dev libjansson-dev libnftables-dev nftables openssl
ca-certificates passwd"
TEST_PKGS="clang libclang-rt-14-dev libcmocka-dev sqlite3 python3 clang-format
sip-tester baresip linphone-cli libsrtp2-dev tshark sipvicious fail2ban
iproute2 iptables"

case "${1:-run}" in
run) want="$RUN_PKGS" ;;
test) want="$RUN_PKGS $TEST_PKGS" ;;
*) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
