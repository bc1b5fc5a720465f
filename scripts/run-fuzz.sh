#!/bin/sh
# Runs each libFuzzer target for a fixed number of seconds over its corpus
# (tests/fuzz/corpus/NAME for build/fuzz/fuzz_NAME). New inputs go to a
# scratch folder, so the tree stays clean; a crash fails the run.
set -u
secs="$1"; shift
failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for bin in "$@"; do
	name=$(basename "$bin"); name=${name#fuzz_}
	corpus="tests/fuzz/corpus/$name"
	if [ ! -d "$corpus" ]; then
		echo "fuzz: $name has no corpus at $corpus" >&2
		failed=$((failed + 1)); continue
	fi
	mkdir -p "$scratch/$name"
	echo "== fuzz $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=0 -artifact_prefix="$scratch/" \
	    "$scratch/$name" "$corpus" >"$scratch/$name.log" 2>&1; then
		tail -40 "$scratch/$name.log" >&2
		mkdir -p build/fuzz-crashes && cp "$scratch"/crash-* "$scratch"/leak-* \
		    "$scratch"/timeout-* build/fuzz-crashes/ 2>/dev/null
		echo "FAILED: fuzz $name (artifacts in build/fuzz-crashes)" >&2
		failed=$((failed + 1))
	else
		grep -E '^#[0-9]+ +DONE' "$scratch/$name.log" | tail -1
	fi
done
echo "fuzz: $(($# - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
