#!/bin/sh
# Creates the unprivileged system user the daemon runs as ([daemon] user),
# when run as root and the user is missing.
set -eu
user="${1:-sipwarden}"
id "$user" >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "ensure-user: user '$user' is missing; create it as root" >&2
	exit 1
fi
useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$user"
echo "ensure-user: created system user '$user'"
