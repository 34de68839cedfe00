#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzzing build for a bounded time, on a copy of its corpus.
# usage: test/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET
# Prints each target's executions and executions per second, then "fuzz: N passed, N failed".
set -u
src=$(cd "$(dirname "$0")" && pwd)
build=$1 seconds=${2:-60}
passed=0 failed=0
for exe in "$build"/test/fuzz/fuzz_*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    name=$(basename "$exe")
    seeds="$src/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    [ -d "$seeds" ] && cp -r "$seeds/." "$work/"
    log="$work.log"
    if "$exe" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/crash-" "$work" >"$log" 2>&1; then
        passed=$((passed + 1))
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
        echo "fuzz: $name ok: $execs executions in ${seconds}s, $rate/s"
    else
        failed=$((failed + 1))
        echo "fuzz: $name FAILED"
        grep -E "ERROR|SUMMARY|==[0-9]+==|Test unit written" "$log" | head -n 20
        # Keep the input that failed, to reproduce with: $exe FILE
        mkdir -p "$build/fuzz-crashes"
        for c in "$work"/crash-*; do
            [ -f "$c" ] || continue
            cp "$c" "$build/fuzz-crashes/$name-$(basename "$c")"
            echo "fuzz: input kept: $build/fuzz-crashes/$name-$(basename "$c") ($(od -An -c "$c" | head -c 200 | tr -s ' '))"
        done
    fi
    rm -rf "$work" "$log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
