#!/usr/bin/env bash
# Media relay benchmark: sipwarden's relay (ng control, [media] ng) side by
# side with rtpengine (userspace forwarding), with the shared media kit
# (../shared/bench/media: mediaload, run.sh, report.py; see its README.md).
#
#   bench/media.sh [-k KIT_DIR] [-n 250,500,1000] [-m rtp,srtp] [-r REPS]
#                  [-d SECS] [-w SECS] [-s sipwarden,rtpengine] [-o OUT_DIR]
#                  [-c CLEAN_MAX]
#   bench/media.sh -S [-c CLEAN_MAX] OUT_DIR...   (summary of earlier runs, pooled)
#
# Without -k the read-only kit is copied to a temp folder and built there
# (a -k folder is used as it is: a writable copy of the kit). A throwaway
# sipwarden deployment is made in a temp folder (`sipwarden init`, owned by
# the [daemon] user) with the relay on ports 40000-59999, ng on
# 127.0.0.1:2223, 1 media thread, a 1 h media timeout (no call ends for
# lack of media while 1000 calls are set up), TLS on 127.0.0.1:17061 only,
# no portal and [guard] allow = 127.0.0.0/8. For every repetition and mode
# the kit's run.sh runs once against sipwarden (-R cmd: the daemon started
# fresh, its PID measured) and once against rtpengine (-t 1), one after the
# other, so both see the same machine; every step is one mediaload run
# (-w warm-up, default 3 s; -d measured seconds, default 10). Defaults:
# 250, 500 and 1000 calls, 3 repetitions: about 10 minutes on 2 cores
# (-r 1: about 3.5). Results: OUT_DIR/<relay>-<mode>-r<rep>/
# (the kit's runs.txt, meta.txt, relay logs), OUT_DIR/report-<relay>.md
# (report.py: medians over repetitions), OUT_DIR/summary.md (both relays
# side by side and the ratios, over every repetition and over the clean
# steps: those where the rest of the host used at most CLEAN_MAX cores,
# default 0.25), OUT_DIR/host.txt (load before and after, the busiest
# processes before).
#
# Every process started here (run.sh, which itself stops the relay and the
# load tool it started by PID) is stopped by PID on exit, Ctrl-C or TERM;
# nothing is killed by name. The temp deployment and kit copy are removed.
set -u
set -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
B="$root/build/sipwarden"
KIT_SRC="$root/../shared/bench/media"
[ -d "$KIT_SRC" ] || KIT_SRC=/work/shared/bench/media

KIT=""
CALLS=250,500,1000
MODES=rtp,srtp
REPS=3
DUR=10
WARM=3
RELAYS=sipwarden,rtpengine
OUT=""
NG=127.0.0.1:2223
SIP_TLS=127.0.0.1:17061
SW_USER=sipwarden
CLEAN_MAX=0.25
SUMMARY_ONLY=0

usage() {
	sed -n "2,33p" "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while getopts "k:n:m:r:d:w:s:o:c:Sh" o; do
	case $o in
	k) KIT=$OPTARG ;; n) CALLS=$OPTARG ;; m) MODES=$OPTARG ;;
	r) REPS=$OPTARG ;; d) DUR=$OPTARG ;; w) WARM=$OPTARG ;;
	s) RELAYS=$OPTARG ;; o) OUT=$OPTARG ;; c) CLEAN_MAX=$OPTARG ;;
	S) SUMMARY_ONLY=1 ;; *) usage ;;
	esac
done
shift $((OPTIND - 1))

TMP=$(mktemp -d /tmp/sw-mediabench.XXXXXX) || exit 1
DEP="" # its own folder: the daemon user must reach it after dropping root
RUN_PID=""

stop_pid() { # one PID we started: TERM, up to 15 s, then KILL
	local p=$1
	[ -n "$p" ] || return 0
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 150); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
}

cleanup() {
	stop_pid "$RUN_PID" # run.sh stops its relay and load tool itself
	RUN_PID=""
	rm -rf "$TMP"
	[ -z "$DEP" ] || rm -rf "$DEP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "media.sh: $*" >&2
	exit 1
}

# Sets KEY = VALUE in [SECTION] of the config (the key must be there, as
# `sipwarden init` writes every key).
conf_set() {
	local conf=$1 sec=$2 key=$3 val=$4
	awk -v sec="[$sec]" -v key="$key" -v val="$val" '
		/^\[/ { cur = $0 }
		cur == sec && $0 ~ "^" key " *=" {
			print val == "" ? key " =" : key " = " val
			done = 1
			next
		}
		{ print }
		END { if (!done) exit 1 }' "$conf" >"$conf.new" &&
		cat "$conf.new" >"$conf" && rm -f "$conf.new"
}

# Medians per relay, mode and call count, over every repetition and over
# the "clean" ones only: steps where the rest of the host (host busy minus
# relay and load tool) used at most CLEAN_MAX cores. On a shared box other
# work both slows the steps (latency) and makes the relay batch more
# (less CPU per packet), so only clean steps compare relays fairly.
summary() {
	python3 - "$CLEAN_MAX" "$@" <<'EOF'
import glob, statistics, sys
clean_max, dirs = float(sys.argv[1]), sys.argv[2:]
rows = []
for d in dirs:
    for relay in ("sipwarden", "rtpengine"):
        for f in glob.glob(f"{d}/{relay}-*/runs.txt"):
            for line in open(f):
                if line.startswith("tag="):
                    r = dict(p.split("=", 1) for p in line.split() if "=" in p)
                    r["relay"] = relay
                    r["foreign"] = (float(r["host_busy_cores"]) - float(r["relay_cpu_cores"])
                                    - float(r["tool_cpu_cores"]))
                    rows.append(r)
def pick(relay, mode, n, clean):
    return [r for r in rows if r["relay"] == relay and r["mode"] == mode
            and int(r["calls"]) == n and (not clean or r["foreign"] <= clean_max)]
def med(rs, k):
    return statistics.median(float(r[k]) for r in rs) if rs else float("nan")
modes = sorted({r["mode"] for r in rows})
counts = sorted({int(r["calls"]) for r in rows})
for clean in (False, True):
    print("#### " + (f"Clean steps only (rest of the host <= {clean_max:g} core)" if clean
                     else "Every repetition"))
    print()
    print("| relay | mode | calls | reps | relay CPU (cores) | fwd pps per relay core "
          "| loss % (max) | p50 µs | p99 µs (min-max) | tool CPU | rest of host (cores) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in modes:
        for n in counts:
            for relay in ("sipwarden", "rtpengine"):
                g = pick(relay, mode, n, clean)
                if not g:
                    continue
                p99 = [float(r["lat_p99_us"]) for r in g]
                print(f"| {relay} | {mode} | {n} | {len(g)} | {med(g, 'relay_cpu_cores'):.2f} | "
                      f"{med(g, 'fwd_pps_per_relay_core'):.0f} | "
                      f"{med(g, 'loss_pct'):.3f} ({max(float(r['loss_pct']) for r in g):.3f}) | "
                      f"{med(g, 'lat_p50_us'):.0f} | {med(g, 'lat_p99_us'):.0f} "
                      f"({min(p99):.0f}-{max(p99):.0f}) | {med(g, 'tool_cpu_cores'):.2f} | "
                      f"{med(g, 'foreign'):.2f} |")
    print()
    for mode in modes:
        for n in counts:
            s, t = pick("sipwarden", mode, n, clean), pick("rtpengine", mode, n, clean)
            if not s or not t:
                continue
            cs, ct = med(s, "relay_cpu_cores"), med(t, "relay_cpu_cores")
            ps, pt = med(s, "fwd_pps_per_relay_core"), med(t, "fwd_pps_per_relay_core")
            print(f"- {mode} {n} calls: relay CPU {cs:.2f} / {ct:.2f} = **{cs / ct:.2f}x** "
                  f"(target <= 0.5x); pps per relay core {ps:.0f} / {pt:.0f} = "
                  f"**{ps / pt:.2f}x** (target >= 1.5x); sipwarden p99 "
                  f"{med(s, 'lat_p99_us'):.0f} µs (target < 1000)")
    print()
EOF
}

if [ "$SUMMARY_ONLY" = 1 ]; then
	summary "$@"
	exit 0
fi

# ---- the kit ----
if [ -z "$KIT" ]; then
	[ -f "$KIT_SRC/run.sh" ] || die "kit not found at $KIT_SRC (give -k DIR)"
	KIT="$TMP/kit"
	{ cp -r "$KIT_SRC" "$KIT" && chmod -R u+w "$KIT"; } || die "cannot copy the kit"
fi
KIT=$(cd "$KIT" && pwd)
make -s -C "$KIT" mediaload >/dev/null || die "cannot build mediaload in $KIT"
"$KIT/mediaload" -X || die "mediaload SRTP self-test failed"

[ -n "$OUT" ] || OUT="$here/results/media-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)

# ---- the sipwarden deployment ----
case ",$RELAYS," in
*,sipwarden,*)
	[ -x "$B" ] || die "$B is missing: make build/sipwarden"
	if [ "$(id -u)" -eq 0 ]; then
		"$root/scripts/ensure-user.sh" "$SW_USER" || exit 1
	fi
	DEP=$(mktemp -d /tmp/sw-mediabench-deploy.XXXXXX) || exit 1
	"$B" init "$DEP" --domain media.bench.test >"$TMP/init.log" 2>&1 ||
		die "sipwarden init failed: $(cat "$TMP/init.log")"
	C="$DEP/sipwarden.conf"
	{
		conf_set "$C" daemon log_level warn &&
			conf_set "$C" sip tls "$SIP_TLS" &&
			conf_set "$C" sip tcp "" &&
			conf_set "$C" sip udp "" &&
			conf_set "$C" sip workers 1 &&
			conf_set "$C" media ports 40000-59999 &&
			conf_set "$C" media ng "$NG" &&
			conf_set "$C" media threads 1 &&
			conf_set "$C" media timeout 1h &&
			conf_set "$C" portal listen "" &&
			conf_set "$C" guard allow 127.0.0.0/8
	} || die "cannot edit $C"
	cp "$C" "$OUT/sipwarden.conf"
	;;
esac
case ",$RELAYS," in
*,rtpengine,*)
	command -v rtpengine >/dev/null ||
		die "rtpengine is not installed (apt-get install rtpengine-daemon), or use -s sipwarden"
	;;
esac
if ss -Hulnp "sport = :${NG##*:}" 2>/dev/null | grep -q .; then
	die "the ng port ${NG##*:} is in use: $(ss -Hulnp "sport = :${NG##*:}")"
fi

{
	echo "date_utc=$(date -u +%FT%TZ)"
	echo "host: $(nproc) cpus, kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "sipwarden: $(git -C "$root" log -1 --format='%h %s' 2>/dev/null) $(git -C "$root" status --short -- src 2>/dev/null | wc -l) changed files in src/"
	command -v rtpengine >/dev/null && echo "rtpengine: $(rtpengine --version 2>&1 | head -1)"
	echo "args: -n $CALLS -m $MODES -r $REPS -d $DUR -w $WARM -s $RELAYS"
	echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "busiest processes before (ps, %CPU over their lifetime):"
	ps -eo pid,user,pcpu,etime,comm --sort=-pcpu | head -8
} >"$OUT/host.txt"
cat "$OUT/host.txt"

# One run.sh sweep (the kit stops the relay and the load tool by PID).
sweep() {
	local relay=$1 mode=$2 rep=$3 dir="$OUT/$1-$2-r$3"

	case $relay in
	sipwarden)
		"$KIT/run.sh" -R cmd -C "$B -c $C serve" -c "$NG" -t 1 -m "$mode" \
			-n "$CALLS" -r 1 -d "$DUR" -w "$WARM" -o "$dir" &
		;;
	rtpengine)
		"$KIT/run.sh" -R rtpengine -c "$NG" -t 1 -m "$mode" \
			-n "$CALLS" -r 1 -d "$DUR" -w "$WARM" -o "$dir" &
		;;
	esac
	RUN_PID=$!
	wait "$RUN_PID"
	RUN_PID=""
	sed -i "s/ rep=1 / rep=$rep relay=$relay /" "$dir/runs.txt" 2>/dev/null
}

IFS=, read -ra modes <<<"$MODES"
IFS=, read -ra relays <<<"$RELAYS"
for rep in $(seq "$REPS"); do
	for mode in "${modes[@]}"; do
		for relay in "${relays[@]}"; do
			echo "== $relay $mode rep $rep"
			sweep "$relay" "$mode" "$rep"
		done
	done
done
echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/host.txt"

for relay in "${relays[@]}"; do
	{
		echo "### $relay"
		echo
		python3 "$KIT/report.py" "$OUT/$relay"-*/runs.txt
	} >"$OUT/report-$relay.md"
	cat "$OUT/report-$relay.md"
	echo
done

summary "$OUT" | tee "$OUT/summary.md"
echo "results: $OUT"
