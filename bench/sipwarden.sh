#!/bin/sh
# Starts sipwarden for the shared benchmark kit (../shared/bench/run.sh -s
# cmd): a deployment in bench/tmp with the tenant "bench" (domain
# $BENCH_DOMAIN) holding the kit's users, plain SIP on UDP and TCP at
# $BENCH_PORT, $BENCH_WORKERS workers, the loopback range in [guard] allow
# (the load generator) and the bench tenant on srtp=optional (SIPp offers
# plain RTP). Runs the daemon in the foreground, as run.sh expects.
# Calls are anchored on the media relay: 4 ports (2 RTP/RTCP pairs) and 4
# descriptors per call in progress. 10,000 ports ran out at ~2,500 calls in
# progress (503 "no media ports" at 6,400 calls/s), so the range holds
# 10,000 calls; the descriptor limit (RLIMIT_NOFILE) then caps them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B="$here/../build/sipwarden"
D="$here/tmp/deploy"
C="$D/sipwarden.conf"
port="${BENCH_PORT:-15060}"
workers="${BENCH_WORKERS:-2}"
domain="${BENCH_DOMAIN:-bench.test}"
users="${BENCH_USERS_CSV:?BENCH_USERS_CSV (the kit's SIPp users file)}"

if [ ! -f "$C" ] || ! cmp -s "$users" "$D/users.csv"; then
	rm -rf "$D"
	mkdir -p "$here/tmp"
	"$B" init "$D" --domain "$domain" >/dev/null
	csv="$here/tmp/import.csv"
	{
		echo "extension,name,password"
		grep -v '^SEQUENTIAL' "$users" | awk -F';' 'NF >= 3 { print $1 ",," $3 }'
	} > "$csv"
	"$B" -c "$C" tenant add bench --domain "$domain" >/dev/null
	"$B" -c "$C" tenant set bench srtp=optional >/dev/null
	"$B" -c "$C" ext import bench "$csv" >/dev/null 2>&1
	rm -f "$csv"
	cp "$users" "$D/users.csv"
fi
# The listeners, workers and guard of this run (the config is ours).
sed -i \
    -e "s/^tls = .*/tls = 127.0.0.1:$((port + 1))/" \
    -e "s/^udp =.*/udp = 127.0.0.1:$port/" \
    -e "s/^tcp =.*/tcp = 127.0.0.1:$port/" \
    -e "s/^workers = .*/workers = $workers/" \
    -e "s/^ports = .*/ports = 20000-59999/" \
    -e "s/^listen = .*/listen = 127.0.0.1:18443/" \
    -e "s|^allow =.*|allow = 127.0.0.0/8|" \
    -e "s/^log_level = .*/log_level = warn/" \
    -e "s/^calls_per_extension = .*/calls_per_extension = 1000/" \
    -e "s/^calls_per_tenant = .*/calls_per_tenant = 100000/" \
    "$C"
exec "$B" -c "$C" serve
