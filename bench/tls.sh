#!/bin/bash
# TLS side of the SIP benchmark, side by side with Kamailio in one sitting:
# full handshakes per second (bench/tools/tlsload hs, no resumption), and
# the server's memory with N registered phones each holding its own idle
# TLS connection (tlsload hold: handshake, REGISTER, 401, digest, 200).
#
#   bench/tls.sh [-n PHONES] [-t SECS] [-o OUTDIR]
#
# Both servers listen on 127.0.0.1:15061 with the same EC P-256 certificate
# (the one sipwarden's init made), the same 10,000 users (bench/tmp/users.csv
# from the shared kit) and 2 workers. Kamailio runs the shared kit's config
# (kamailio/kamailio.cfg.in) rendered as the kit's run.sh does, with only
# tcp_max_connections and tls_max_connections raised to hold N phones.
# Loopback only; every process started here is stopped at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root="$here/.."
kit="$root/../shared/bench"
N=10000
SECS=10
OUT="$here/results/tls-$(date -u +%Y%m%dT%H%M%SZ)"
WHICH=both
while getopts n:t:o:s: o; do
	case $o in
	s) WHICH=$OPTARG ;;
	n) N=$OPTARG ;;
	t) SECS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) exit 2 ;;
	esac
done
mkdir -p "$OUT"
make -s -C "$here/tools" >/dev/null || exit 1
T="$here/tools/tlsload"
users="$here/tmp/users.csv"
D="$here/tmp/deploy"
[ -f "$D/sipwarden.conf" ] || { echo "run the SIP benchmark first (it makes $D)"; exit 1; }
ulimit -n "$(ulimit -Hn)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pss() { awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
tree_pss() { local s=0 p; for p in $(pgrep -P "$1") "$1"; do s=$((s + $(pss "$p"))); done; echo "$s"; }
tree_ticks() { local s=0 p; for p in $(pgrep -P "$1") "$1"; do s=$((s + $(ticks "$p"))); done; echo "$s"; }
hz=$(getconf CLK_TCK)

measure() {   # $1 name, $2 server pid
	local name=$1 pid=$2 i t0 t1 line
	sleep 2
	echo "$name idle_pss_kB $(tree_pss "$pid")" | tee -a "$OUT/summary.txt"
	for i in 1 2 3; do
		t0=$(tree_ticks "$pid")
		line=$("$T" hs -p 15061 -c 64 -t "$SECS")
		t1=$(tree_ticks "$pid")
		echo "$name hs run $i: $line; server cpu $(( (t1 - t0) * 100 / hz / SECS ))%" | tee -a "$OUT/summary.txt"
	done
	"$T" hold -p 15061 -U "$users" -n "$N" -r 1000 -t $((N / 1000 + 40)) > "$OUT/$name-hold.log" 2>&1 &
	local hp=$!
	for i in $(seq 1 $((N / 1000 + 35))); do
		sleep 1
		grep -q "^registered" "$OUT/$name-hold.log" && break
	done
	sleep 2
	echo "$name $(head -1 "$OUT/$name-hold.log"); server pss_kB with them: $(tree_pss "$pid")" | tee -a "$OUT/summary.txt"
	kill "$hp" 2>/dev/null
	wait "$hp" 2>/dev/null
}

# ---- sipwarden, on a copy of the SIP benchmark's deployment: phones that
# register over TLS get pinned to TLS (the guard), which would refuse the
# SIP benchmark's UDP registrations of the same users afterwards.
if [ "$WHICH" != kamailio ]; then
DT="$here/tmp/deploy-tls"
rm -rf "$DT"
cp -a "$D" "$DT"
# The SIP benchmark's UDP bindings are not this measure's: start without.
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM bindings"); c.commit()' \
    "$DT/sipwarden.db"
sed -i -e "s/^tls = .*/tls = 127.0.0.1:15061/" -e "s/^workers = .*/workers = 2/" \
    -e "s|^allow =.*|allow = 127.0.0.0/8|" -e "s/^log_level = .*/log_level = warn/" "$DT/sipwarden.conf"
"$root/build/sipwarden" -c "$DT/sipwarden.conf" serve > "$OUT/sipwarden.log" 2>&1 &
sw=$!
pids+=("$sw")
measure sipwarden "$sw"
kill "$sw"; wait "$sw" 2>/dev/null
rm -rf "$DT"
fi
[ "$WHICH" = sipwarden ] && { echo "results: $OUT/summary.txt"; exit 0; }

# ---- Kamailio, the kit's config, same certificate and users
K="$here/tmp/kam"
mkdir -p "$K"
[ -f "$K/subscriber.db" ] || python3 - "$users" "$K/subscriber.db" <<'PY'
import hashlib, sqlite3, sys
csv, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
con.executescript("""
CREATE TABLE version (id INTEGER PRIMARY KEY NOT NULL, table_name VARCHAR(32) NOT NULL,
  table_version INTEGER DEFAULT 0 NOT NULL, CONSTRAINT version_table_name_idx UNIQUE (table_name));
INSERT INTO version (table_name, table_version) VALUES ('version','1');
CREATE TABLE subscriber (id INTEGER PRIMARY KEY NOT NULL,
  username VARCHAR(64) DEFAULT '' NOT NULL, domain VARCHAR(64) DEFAULT '' NOT NULL,
  password VARCHAR(64) DEFAULT '' NOT NULL, ha1 VARCHAR(128) DEFAULT '' NOT NULL,
  ha1b VARCHAR(128) DEFAULT '' NOT NULL,
  CONSTRAINT subscriber_account_idx UNIQUE (username, domain));
INSERT INTO version (table_name, table_version) VALUES ('subscriber','7');
""")
rows = []
with open(csv) as f:
    next(f)
    for line in f:
        u, d, p = line.rstrip("\n").split(";")[:3]
        rows.append((u, d, "", hashlib.md5(f"{u}:{d}:{p}".encode()).hexdigest(),
                     hashlib.md5(f"{u}@{d}:{d}:{p}".encode()).hexdigest()))
con.executemany("INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?,?,?,?,?)", rows)
con.commit()
PY
sed -e "s|@LISTEN_IP@|127.0.0.1|g" -e "s|@SIP_PORT@|15060|g" -e "s|@TLS_PORT@|15061|g" \
    -e "s|@CHILDREN@|2|g" -e "s|@DOMAIN@|bench.test|g" \
    -e "s|@DBURL@|sqlite://$K/subscriber.db|g" -e "s|@CTL_SOCK@|$K/ctl.sock|g" \
    -e "s|@TLS_CFG@|$K/tls.cfg|g" \
    -e "s|^tcp_max_connections=.*|tcp_max_connections=$((N + 2048))|" \
    -e "s|^tls_max_connections=.*|tls_max_connections=$((N + 2048))|" \
    "$kit/kamailio/kamailio.cfg.in" > "$K/kamailio.cfg"
sed -e "s|@TLS_CERT@|$D/tls/cert.pem|g" -e "s|@TLS_KEY@|$D/tls/key.pem|g" \
    "$kit/kamailio/tls.cfg.in" > "$K/tls.cfg"
kamailio -f "$K/kamailio.cfg" -DD -E -m 1024 -M 8 -P "$K/kamailio.pid" -Y "$K" > "$OUT/kamailio.log" 2>&1 &
km=$!
pids+=("$km")
sleep 3
measure kamailio "$km"
kill "$km"; wait "$km" 2>/dev/null
echo "results: $OUT/summary.txt"
