#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run.sh - sluice's throughput benchmark. Builds a release tree
# (build-bench/), generates deterministic data (tests/bench/data/, not in
# git), then runs 5 times each: the yajl parse-only baseline, sluice
# tail -> parser(json) -> null, and -> file, pinned to one core with
# taskset when available, and prints medians of MB/s, records/s, wall and
# CPU seconds, peak RSS, and the ratio to the baseline.
#
# usage: tests/bench/run.sh [LINES] [RUNS]     (defaults: 1000000 5)
set -eu
cd "$(dirname "$0")/../.."
LINES=${1:-1000000}
RUNS=${2:-5}
if [ ! -d build-bench ]; then
	meson setup build-bench --buildtype=release >/dev/null
fi
meson compile -C build-bench sluice:executable tests/bench/bench_baseline \
	>build-bench/bench-compile.log 2>&1 || {
	cat build-bench/bench-compile.log
	exit 1
}
python3 tests/bench/gen.py --lines "$LINES"
exec python3 tests/bench/measure.py --sluice build-bench/sluice \
	--baseline build-bench/tests/bench/bench_baseline \
	--data tests/bench/data/bench.log --runs "$RUNS"
