#!/bin/bash
# bench/flood.sh: the guard under a flood (issue 5). In one sitting:
# legitimate REGISTERs per second (SIPp, real digest auth, 1,000 users, as
# fast as the daemon answers) with no attack, while a flood of failing
# REGISTERs comes from not-yet-banned sources, and while it comes from
# banned ones (dropped by the daemon, then by the kernel with [guard] nft =
# on); and the daemon CPU each dropped banned packet costs.
#
# Deployment: a throwaway one in bench/tmp/flood (remade each run), release
# build build/sipwarden (`make build/sipwarden`), plain UDP on
# 127.0.0.1:$FLOOD_PORT (25060), 2 workers, media ports 20000-20999 (unused:
# only REGISTERs), log level warn, no TLS, TCP or portal listener.
# Legit client: 127.0.0.1. Attackers: 127.0.0.2 .. 127.0.0.(1+N), never in
# [guard] allow; they target 1,000 other extensions (wrong passwords), so
# no extension the legit client uses is locked.
#
# Guard configurations (one daemon start each; alternating windows without
# and with the flood, FLOOD_REPS times):
#   A  legit NOT allow-listed ([guard] allow empty). One address sending
#      tens of thousands of messages a second needs the per-source limit
#      out of the way: rate = rate_burst = 1000000 (the maximum; the token
#      bucket still runs for every message, the attackers' too).
#   B  legit allow-listed (allow = 127.0.0.1/32), default rate = 200,
#      rate_burst = 400: the per-source limit in force for the attackers.
# "Not yet banned": max_auth_failures = 1000 (the maximum) in window = 1s;
# each attacker fails fewer than 1000 times a second, so none is banned and
# every flood REGISTER is parsed, challenged (401) and its digest checked
# (403) for the whole phase. "Banned": max_auth_failures = 5, window = 60s;
# the attackers are banned by failing (tests/sipp/register_flood.xml) before
# the measurements, then flood with bench/sipp/flood_banned.xml (one REGISTER
# per call, no answer awaited: a call is a packet). nft: configuration A
# with nft = on (the daemon starts as root; the bans are restored from the
# store into the kernel set at start).
#
# Cost of a dropped packet: the banned flood alone (no legit load), its
# packets counted exactly (SIPp OutgoingCall), daemon CPU (utime+stime of
# the daemon and its children, /proc) over the flood minus the idle
# daemon's over as long, divided by the packets.
#
# Usage: bench/flood.sh   (from anywhere; root; about 8 minutes)
# Env: FLOOD_PORT (25060) FLOOD_T (10 s per window) FLOOD_REPS (3)
#      FLOOD_ATTACKERS (8) FLOOD_UNBANNED_PPS (10000: attack REGISTER
#      requests/s offered, all attackers together, not yet banned)
#      FLOOD_BANNED_PPS (40000: packets/s from banned sources)
#      FLOOD_LEGIT_INFLIGHT (256: legit registrations in flight)
#      FLOOD_WAIT (300: seconds to wait for a 1-minute load average < 1)
#      FLOOD_NFT (1: run configuration A with nft = on; 0: skip)
#      FLOOD_OUT (bench/results/flood-<UTC time>)
# Output: $FLOOD_OUT/windows.tsv (every window), summary.md (the tables),
# meta.txt, logs and SIPp statistics. Stops only the processes it started
# (their PIDs are recorded); removes the nftables table inet sipwarden_bans
# if its nft daemon died without doing it.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
B="$root/build/sipwarden"
W="$here/tmp/flood"
D="$W/deploy"
C="$D/sipwarden.conf"
OUT="${FLOOD_OUT:-$here/results/flood-$(date -u +%Y%m%dT%H%M%SZ)}"
PORT="${FLOOD_PORT:-25060}"
T="${FLOOD_T:-10}"
REPS="${FLOOD_REPS:-3}"
NATT="${FLOOD_ATTACKERS:-8}"
UNBANNED_PPS="${FLOOD_UNBANNED_PPS:-10000}"
BANNED_PPS="${FLOOD_BANNED_PPS:-40000}"
INFLIGHT="${FLOOD_LEGIT_INFLIGHT:-256}"
WAIT="${FLOOD_WAIT:-300}"
NFT="${FLOOD_NFT:-1}"
DOMAIN=flood.test
NUSERS=2000 # extensions: the first 1000 for the legit client, the rest attacked
WARM=2      # seconds of flood before a measured window
HZ=$(getconf CLK_TCK)
SIPP_DIR="$root/tests/sipp"
LEGIT_SF="$SIPP_DIR/register_once.xml"
UNBANNED_SF="$SIPP_DIR/register_flood.xml"
BANNED_SF="$here/sipp/flood_banned.xml"
LPORT=$((PORT + 20)) # legit SIPp; attacker i: LPORT + i (each on its own address)

die() {
	echo "flood.sh: $*" >&2
	exit 1
}
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (the daemon drops to [daemon] user; nft needs root)"
[ -x "$B" ] || die "$B is missing: make build/sipwarden"
command -v sipp >/dev/null || die "sipp is missing (apt-get install sip-tester)"
for f in "$LEGIT_SF" "$UNBANNED_SF" "$BANNED_SF"; do [ -f "$f" ] || die "$f is missing"; done
if [ "$NATT" -lt 1 ] || [ "$NATT" -gt 200 ]; then die "FLOOD_ATTACKERS: 1..200"; fi
[ "$PORT" -lt 29000 ] || die "FLOOD_PORT: below 29000 (ports 40000-59999 are other benchmarks')"
# Not yet banned: each attacker must stay under 1000 failures a second.
[ $((UNBANNED_PPS / 2 / NATT)) -lt 900 ] || die "FLOOD_UNBANNED_PPS: under 1800 per attacker"
for p in "$PORT" "$LPORT"; do
	if [ -n "$(ss -Hlun "sport = :$p")" ]; then die "UDP port $p is in use"; fi
done

# ---- processes we started (PIDs), stopped on exit ----
PIDS=()
DAEMON=
NFT_DAEMON=0
stop_pid() { # PID: TERM, then KILL after 10 s; only a PID we started
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		# the daemon's children (the nft supervisor) first, then it
		local kids
		kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
		for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
nft_cleanup() {
	if [ "$NFT_DAEMON" = 1 ] && nft list table inet sipwarden_bans >/dev/null 2>&1; then
		log "the nft daemon left table inet sipwarden_bans: deleting it"
		nft delete table inet sipwarden_bans || true
	fi
	NFT_DAEMON=0
}
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	PIDS=()
	[ -z "$DAEMON" ] || stop_pid "$DAEMON"
	DAEMON=
	nft_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- measurements ----
cpu_tree() { # PID: utime+stime (ticks) of PID and its descendants
	local pid=$1 sum=0 k
	[ -r /proc/"$pid"/stat ] || {
		echo 0
		return
	}
	sum=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$pid"/stat)
	for k in $(cat /proc/"$pid"/task/*/children 2>/dev/null || true); do
		sum=$((sum + $(cpu_tree "$k")))
	done
	echo "$sum"
}
cpu_sum() { # PID...: utime+stime (ticks) of those processes
	local sum=0 p
	for p in "$@"; do sum=$((sum + $(cpu_tree "$p"))); done
	echo "$sum"
}
cpu_split() { # PID: "utime stime" (ticks), all threads
	awk '{ sub(/^.*\) /, ""); print $12, $13 }' /proc/"$1"/stat 2>/dev/null || echo "0 0"
}
sys_busy() { awk '/^cpu / { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8 }' /proc/stat; }
now() { date +%s.%N; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
stat_last() { # FILE COLUMN: the last line's value of a SIPp -trace_stat column
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
	    { v = $c } END { print v }' "$1"
}
stat_secs() { # FILE: seconds between SIPp's start and its last statistics line
	awk -F';' 'NR > 1 { n1 = split($1, a, "\t"); n3 = split($3, b, "\t"); s = b[n3] - a[n1] }
	    END { printf "%.3f", s }' "$1"
}
count_col() { # FILE COLUMN: the last line's value of a SIPp -trace_counts column
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
	    { v = $c } END { print (c ? v : 0) }' "$1"
}
wait_quiet() {
	local waited=0
	while awk '{ exit !($1 >= 1.0) }' /proc/loadavg && [ "$waited" -lt "$WAIT" ]; do
		[ "$waited" -gt 0 ] || log "load average $(cut -d' ' -f1-3 /proc/loadavg): waiting up to ${WAIT}s for < 1"
		sleep 10
		waited=$((waited + 10))
	done
	echo "$waited"
}

# ---- the deployment ----
conf_set() { # SECTION KEY VALUE
	awk -v s="[$1]" -v k="$2" -v v="$3" '/^\[/ { sec = $0 }
	    sec == s && $0 ~ "^" k " *=" { print k " = " v; next } { print }' "$C" >"$C.tmp"
	cat "$C.tmp" >"$C" # keeps the file's owner and mode
	rm -f "$C.tmp"
}
deploy() {
	log "deployment in $D ($NUSERS extensions)"
	rm -rf "$D"
	mkdir -p "$W"
	"$B" init "$D" --domain "$DOMAIN" >/dev/null
	"$B" -c "$C" tenant add flood --domain "$DOMAIN" >/dev/null
	python3 - "$W" "$NUSERS" "$DOMAIN" <<'EOF'
import os, secrets, string, sys
w, n, dom = sys.argv[1], int(sys.argv[2]), sys.argv[3]
a = string.ascii_letters + string.digits
users = [(str(30001 + i), "".join(secrets.choice(a) for _ in range(24))) for i in range(n)]
def out(name, text):
    with open(os.path.join(w, name), "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(text)
out("import.csv", "extension,name,password\n" + "".join("%s,,%s\n" % u for u in users))
out("legit.csv", "SEQUENTIAL\n" + "".join("%s;%s;%s\n" % (e, dom, p) for e, p in users[: n // 2]))
out("attack.csv", "SEQUENTIAL\n" + "".join("%s;%s;Wrong-%s\n" % (e, dom, p) for e, p in users[n // 2:]))
EOF
	"$B" -c "$C" ext import flood "$W/import.csv" >/dev/null 2>&1
	rm -f "$W/import.csv"
	conf_set daemon log_level warn
	conf_set sip tls ""
	conf_set sip tcp ""
	conf_set sip udp "127.0.0.1:$PORT"
	conf_set sip workers 2
	conf_set media ports 20000-20999
	conf_set portal listen ""
}
guard_conf() { # ALLOW RATE BURST MAX_FAILURES WINDOW NFT
	conf_set guard allow "$1"
	conf_set guard rate "$2"
	conf_set guard rate_burst "$3"
	conf_set guard max_auth_failures "$4"
	conf_set guard window "$5"
	conf_set guard nft "$6"
}
daemon_start() { # NAME
	local i
	cp "$C" "$OUT/$1.conf"
	if grep -q '^nft = on' "$C"; then NFT_DAEMON=1; fi
	"$B" -c "$C" serve >"$OUT/$1.log" 2>&1 &
	DAEMON=$!
	for i in $(seq 1 100); do
		kill -0 "$DAEMON" 2>/dev/null || die "the daemon died at start: $(tail -3 "$OUT/$1.log")"
		[ -z "$(ss -Hlun "sport = :$PORT")" ] || break
		sleep 0.1
	done
	[ -n "$(ss -Hlun "sport = :$PORT")" ] || die "the daemon does not listen on $PORT"
	sleep 1
	log "daemon $1 up (PID $DAEMON)"
}
daemon_stop() {
	stop_pid "$DAEMON"
	DAEMON=
	nft_cleanup
	if [ -n "$(ss -Hlun "sport = :$PORT")" ]; then sleep 1; fi
}

# ---- SIPp ----
SPID=
sipp_start() { # TAG SCENARIO CSV SOURCE PORT ARGS...: starts SIPp in $OUT/sipp/TAG, PID in SPID
	local tag=$1 sf=$2 csv=$3 src=$4 port=$5
	shift 5
	mkdir -p "$OUT/sipp/$tag"
	(cd "$OUT/sipp/$tag" && exec sipp "127.0.0.1:$PORT" -sf "$sf" -inf "$csv" -t u1 -i "$src" \
	    -p "$port" -nostdin -trace_stat -stf stat.csv -fd 1 -trace_counts \
	    -buff_size 4194304 "$@" >/dev/null 2>stderr.txt) &
	SPID=$!
	PIDS+=("$SPID")
}
sipp_wait() { # PID: waits for a SIPp we started, drops it from PIDS
	local pid=$1 p keep=()
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}
attacker() { echo "127.0.0.$((1 + $1))"; }

# Bans every attacker by letting it fail (register_flood.xml, 10 calls).
ban_attackers() {
	local i pids=() n
	for i in $(seq 1 "$NATT"); do
		sipp_start "ban-$i" "$UNBANNED_SF" "$W/attack.csv" "$(attacker "$i")" \
		    $((LPORT + i)) -r 50 -m 10 -timeout 10s
		pids+=("$SPID")
	done
	for i in "${pids[@]}"; do sipp_wait "$i"; done
	sleep 2
	n=$("$B" -c "$C" ban list | grep -c '^127\.0\.0\.' || true)
	log "bans in force: $n (of $NATT attackers)"
	[ "$n" -ge "$NATT" ] || die "the attackers were not all banned: $("$B" -c "$C" ban list)"
}

# One measured window. CONFIG KIND (none|unbanned|banned) LEGIT (1|0) REP
# Flood first (WARM s), then T s of legit load (or of nothing), CPU sampled
# around that window; flood rates from SIPp's own counts.
WIN=0
window() {
	local cfg=$1 kind=$2 legit=$3 rep=$4 tag i fpids=() pps la
	local c0 c1 t0 t1 s0 s1 ft0 ft1 g0 g1 per secs pkt=0 answered=0 reg=0 failed=0 retr=0
	WIN=$((WIN + 1))
	tag="w$WIN-$cfg-$kind$([ "$legit" = 1 ] || echo -alone)-r$rep"
	la=$(loadavg)
	case $kind in
	unbanned) per=$((UNBANNED_PPS / 2 / NATT)) ;; # calls/s (2 REGISTERs each)
	banned) per=$((BANNED_PPS / NATT)) ;;         # calls = packets/s
	esac
	if [ "$kind" != none ]; then
		for i in $(seq 1 "$NATT"); do
			if [ "$kind" = unbanned ]; then
				sipp_start "$tag-a$i" "$UNBANNED_SF" "$W/attack.csv" "$(attacker "$i")" \
				    $((LPORT + i)) -r "$per" -rp 1000 -l $((3 * per + 100)) \
				    -timeout $((WARM + T + 3))s -max_socket 100
			else
				sipp_start "$tag-a$i" "$BANNED_SF" "$W/attack.csv" "$(attacker "$i")" \
				    $((LPORT + i)) -r "$per" -rp 1000 -m $((per * (WARM + T + 3))) \
				    -timeout $((WARM + T + 4))s
			fi
			fpids+=("$SPID")
		done
		sleep "$WARM"
	fi
	read -r s0 ft0 < <(sys_busy)
	g0=$(cpu_sum "${fpids[@]+"${fpids[@]}"}")
	c0=$(cpu_tree "$DAEMON")
	t0=$(now)
	if [ "$legit" = 1 ]; then
		sipp_start "$tag-legit" "$LEGIT_SF" "$W/legit.csv" 127.0.0.1 "$LPORT" \
		    -r 100000 -l "$INFLIGHT" -m 100000000 -timeout "${T}s"
		sipp_wait "$SPID"
	else
		sleep "$T"
	fi
	t1=$(now)
	c1=$(cpu_tree "$DAEMON")
	g1=$(cpu_sum "${fpids[@]+"${fpids[@]}"}")
	read -r s1 ft1 < <(sys_busy)
	for i in "${fpids[@]+"${fpids[@]}"}"; do sipp_wait "$i"; done
	kill -0 "$DAEMON" 2>/dev/null || die "the daemon died during $tag"
	secs=$(calc "$t1 - $t0")
	if [ "$legit" = 1 ]; then
		local st="$OUT/sipp/$tag-legit/stat.csv"
		reg=$(calc "$(stat_last "$st" 'SuccessfulCall(C)') / $(stat_secs "$st")")
		failed=$(stat_last "$st" 'FailedCall(C)')
		retr=$(stat_last "$st" 'Retransmissions(C)')
	fi
	if [ "$kind" != none ]; then
		# packets offered per second, all attackers: each SIPp's sent
		# REGISTERs over its own lifetime (a steady rate)
		pps=0
		for i in $(seq 1 "$NATT"); do
			local dir="$OUT/sipp/$tag-a$i" cnt n s
			cnt=$(ls "$dir"/*_counts.csv)
			n=$(($(count_col "$cnt" 0_REGISTER_Sent) + $(count_col "$cnt" 2_REGISTER_Sent)))
			answered=$((answered + $(count_col "$cnt" 1_401_Recv)))
			s=$(stat_secs "$dir/stat.csv")
			pkt=$((pkt + n))
			pps=$(calc "$pps + $n / $s")
		done
	else
		pps=0
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%.3f\t%.1f\t%s\t%s\t%.0f\t%.0f\t%s\t%s\t%.1f\t%.1f\t%.1f\n' \
	    "$tag" "$cfg" "$kind" "$legit" "$rep" "$secs" "$reg" "$failed" "$retr" "$pps" "$pkt" \
	    "$answered" "$((c1 - c0))" "$(calc "100 * ($c1 - $c0) / $HZ / $secs")" \
	    "$(calc "200 * ($s1 - $s0) / ($ft1 - $ft0)")" \
	    "$(calc "100 * ($g1 - $g0) / $HZ / $secs")" >>"$OUT/windows.tsv"
	printf '%s\t%s\n' "$tag" "$la" >>"$OUT/loadavg.tsv"
	log "$tag: legit $(printf %.0f "$reg")/s, attack $(printf %.0f "$pps") pkt/s, daemon $(calc "100 * ($c1 - $c0) / $HZ / $secs")% CPU, machine $(calc "200 * ($s1 - $s0) / ($ft1 - $ft0)")%, load $la"
}

# The cost of a dropped banned packet: the banned flood alone, counted
# exactly (its SIPp runs -m packets, the window is its whole life), against
# the idle daemon over as long. CONFIG
drop_cost() {
	local cfg=$1 c0 c1 t0 t1 u0 u1 k0 k1 i r fpids per n nft0 nft1 idle_ticks idle_secs secs net
	per=$((BANNED_PPS / NATT))
	c0=$(cpu_tree "$DAEMON")
	t0=$(now)
	sleep "$T"
	t1=$(now)
	c1=$(cpu_tree "$DAEMON")
	idle_ticks=$((c1 - c0))
	idle_secs=$(calc "$t1 - $t0")
	for r in $(seq 1 "$REPS"); do
		fpids=()
		n=0
		nft0=$(nft_drops)
		read -r u0 k0 < <(cpu_split "$DAEMON")
		c0=$(cpu_tree "$DAEMON")
		t0=$(now)
		for i in $(seq 1 "$NATT"); do
			sipp_start "cost-$cfg-r$r-a$i" "$BANNED_SF" "$W/attack.csv" "$(attacker "$i")" \
			    $((LPORT + i)) -r "$per" -rp 1000 -m $((per * T)) -timeout $((T + 10))s
			fpids+=("$SPID")
		done
		for i in "${fpids[@]}"; do sipp_wait "$i"; done
		t1=$(now)
		c1=$(cpu_tree "$DAEMON")
		read -r u1 k1 < <(cpu_split "$DAEMON")
		nft1=$(nft_drops)
		kill -0 "$DAEMON" 2>/dev/null || die "the daemon died during the drop cost"
		secs=$(calc "$t1 - $t0")
		for i in $(seq 1 "$NATT"); do
			n=$((n + $(stat_last "$OUT/sipp/cost-$cfg-r$r-a$i/stat.csv" 'OutgoingCall(C)')))
		done
		# ticks of the flood window less the idle ones scaled to its length
		net=$(calc "($c1 - $c0) - $idle_ticks * $secs / $idle_secs")
		printf '%s\t%s\t%s\t%.3f\t%s\t%s\t%s\t%.3f\t%s\t%.0f\t%.2f\t%.1f\t%.3f\t%s\n' \
		    "$cfg" "$r" "$n" "$secs" "$((c1 - c0))" "$((u1 - u0))" "$((k1 - k0))" "$idle_secs" \
		    "$idle_ticks" "$(calc "$n / $secs")" "$(calc "100 * ($c1 - $c0) / $HZ / $secs")" \
		    "$(calc "100 * $idle_ticks / $HZ / $idle_secs")" "$(calc "$net / $HZ * 1000000 / $n")" \
		    "$((nft1 - nft0))" >>"$OUT/cost.tsv"
		log "drop cost $cfg r$r: $n packets in ${secs}s, daemon $((c1 - c0)) ticks (idle $idle_ticks in ${idle_secs}s), $(calc "$net / $HZ * 1000000 / $n") us/packet; nft drops $((nft1 - nft0))"
	done
}
nft_drops() { # packets the nft ban chain dropped so far (0 without the table)
	nft list chain inet sipwarden_bans drop_banned 2>/dev/null |
	    awk '/ip saddr @banned4/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }' |
	    head -1 | grep . || echo 0
}

# ---- the sitting ----
mkdir -p "$OUT"
waited=$(wait_quiet)
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) cores, $(uname -r)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (waited ${waited}s for < 1)"
	echo "binary: $B ($(stat -c %y "$B"), release build: make build/sipwarden)"
	echo "git: $(git -C "$root" rev-parse --short HEAD 2>/dev/null) $(git -C "$root" status --porcelain 2>/dev/null | grep -c . || true) files changed"
	echo "sipp: $(sipp -v 2>/dev/null | grep -o 'v[0-9.]*[^ ]*' | head -1)"
	echo "T=$T REPS=$REPS attackers=$NATT unbanned_pps=$UNBANNED_PPS banned_pps=$BANNED_PPS inflight=$INFLIGHT port=$PORT"
	echo "top CPU users at start:"
	ps -eo pid,pcpu,comm --sort=-pcpu | head -6
} >"$OUT/meta.txt"
printf 'window\tconfig\tkind\tlegit\trep\tsecs\tlegit_reg_per_s\tlegit_failed\tlegit_retrans\tattack_pps\tattack_packets\tattack_401\tdaemon_ticks\tdaemon_cpu_pct\tmachine_cpu_pct\tattack_sipp_cpu_pct\n' >"$OUT/windows.tsv"
printf 'config\trep\tpackets\tsecs\tdaemon_ticks\tdaemon_user_ticks\tdaemon_sys_ticks\tidle_secs\tidle_ticks\tpps\tdaemon_cpu_pct\tidle_cpu_pct\tus_per_packet\tnft_kernel_drops\n' >"$OUT/cost.tsv"
: >"$OUT/loadavg.tsv"
log "output in $OUT"

deploy
# A, not yet banned
guard_conf "" 1000000 1000000 1000 1s off
daemon_start A-unbanned
for r in $(seq 1 "$REPS"); do
	window A none 1 "$r"
	window A unbanned 1 "$r"
done
if grep -q 'security: ban src=' "$OUT/A-unbanned.log"; then die "an attacker was banned in the unbanned phase"; fi
daemon_stop
# B, not yet banned
guard_conf 127.0.0.1/32 200 400 1000 1s off
daemon_start B-unbanned
for r in $(seq 1 "$REPS"); do
	window B none 1 "$r"
	window B unbanned 1 "$r"
done
daemon_stop
# A, banned
guard_conf "" 1000000 1000000 5 60s off
daemon_start A-banned
ban_attackers
for r in $(seq 1 "$REPS"); do
	window A-ban none 1 "$r"
	window A-ban banned 1 "$r"
done
drop_cost A-ban
daemon_stop
# B, banned
guard_conf 127.0.0.1/32 200 400 5 60s off
daemon_start B-banned
for r in $(seq 1 "$REPS"); do
	window B-ban none 1 "$r"
	window B-ban banned 1 "$r"
done
daemon_stop
# A, banned, nft
if [ "$NFT" = 1 ]; then
	if nft list table inet sipwarden_bans >/dev/null 2>&1; then
		log "table inet sipwarden_bans exists (another daemon?): nft phase skipped"
	else
		guard_conf "" 1000000 1000000 5 60s on
		daemon_start A-nft
		sleep 1
		nft list set inet sipwarden_bans banned4 >"$OUT/nft-set.txt" 2>&1 || true
		log "kernel set: $(grep -o '127\.0\.0\.[0-9]*' "$OUT/nft-set.txt" | tr '\n' ' ')"
		for r in $(seq 1 "$REPS"); do
			window A-nft none 1 "$r"
			window A-nft banned 1 "$r"
		done
		drop_cost A-nft
		daemon_stop
	fi
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"

# ---- the tables ----
python3 - "$OUT" <<'EOF' | tee "$OUT/summary.md"
import csv, os, statistics, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "windows.tsv")), delimiter="\t"))
costs = list(csv.DictReader(open(os.path.join(out, "cost.tsv")), delimiter="\t"))
def f(r, k): return float(r[k])
def vals(rs, k): return " ".join("%.0f" % f(r, k) for r in rs)
def med(rs, k): return statistics.median(f(r, k) for r in rs)
def group(cfg, kind):
    return [r for r in rows if r["config"] == cfg and r["kind"] == kind and r["legit"] == "1"]
names = [
    ("A", "unbanned", "not allow-listed", "not yet banned"),
    ("A-ban", "banned", "not allow-listed", "banned (the daemon drops)"),
    ("A-nft", "banned", "not allow-listed", "banned, nft = on (the kernel drops)"),
    ("B", "unbanned", "allow-listed", "not yet banned, default rate limit 200/s"),
    ("B-ban", "banned", "allow-listed", "banned (the daemon drops)"),
]
print("| legit 127.0.0.1 | flood from | legit REGISTERs/s, no attack (each window) | under the flood (each window) | under flood / no attack, medians (target >= 80 %) | attack packets/s offered | daemon CPU %, no attack / flood (medians, of 200) | flood generators' CPU % | whole machine CPU %, no attack / flood |")
print("|---|---|---|---|---|---|---|---|---|")
for cfg, kind, who, label in names:
    base, fl = group(cfg, "none"), group(cfg, kind)
    if not base or not fl:
        continue
    ratio = 100 * med(fl, "legit_reg_per_s") / med(base, "legit_reg_per_s")
    print("| %s | %s | %s | %s | **%.0f %%** (%s) | %.0f | %.0f / %.0f | %.0f | %.0f / %.0f |" % (
        who, label, vals(base, "legit_reg_per_s"), vals(fl, "legit_reg_per_s"),
        ratio, "met" if ratio >= 80 else "NOT met", med(fl, "attack_pps"),
        med(base, "daemon_cpu_pct"), med(fl, "daemon_cpu_pct"), med(fl, "attack_sipp_cpu_pct"),
        med(base, "machine_cpu_pct"), med(fl, "machine_cpu_pct")))
failed = sum(int(r["legit_failed"]) for r in rows if r["legit"] == "1")
print()
print("Legit registrations that failed, all windows: %d." % failed)
print()
print("| drop path | banned packets per window (flood alone) | packets/s | daemon CPU % during / idle (of 200) | daemon user+sys ticks | daemon CPU per dropped packet, each window | median | nft counter drops |")
print("|---|---|---|---|---|---|---|---|")
for cfg, label in (("A-ban", "the daemon (guard_admit, before parsing)"), ("A-nft", "the kernel (nft = on)")):
    cs = [r for r in costs if r["config"] == cfg]
    if cs:
        print("| %s | %s | %.0f | %s / %.1f | %s | %s | **%.2f µs** | %s |" % (
            label, " ".join(c["packets"] for c in cs), med(cs, "pps"),
            " ".join("%.1f" % f(c, "daemon_cpu_pct") for c in cs), f(cs[0], "idle_cpu_pct"),
            " ".join("%s+%s" % (c["daemon_user_ticks"], c["daemon_sys_ticks"]) for c in cs),
            " ".join("%.2f" % f(c, "us_per_packet") for c in cs), med(cs, "us_per_packet"),
            " ".join(c["nft_kernel_drops"] for c in cs)))
EOF
log "done: $OUT"
