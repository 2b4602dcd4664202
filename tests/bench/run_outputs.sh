#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_outputs.sh - the output benchmark: tail -> parser(json) -> es (gzip),
# -> loki (gzip), -> kafka, to local receivers, next to a gzip-only
# baseline over the same data. Release build in build-bench/.
#
# usage: tests/bench/run_outputs.sh [LINES] [RUNS]     (defaults: 300000 5)
set -eu
cd "$(dirname "$0")/../.."
LINES=${1:-300000}
RUNS=${2:-5}
[ -d build-bench ] || meson setup build-bench --buildtype=release >/dev/null
meson compile -C build-bench sluice:executable \
	tests/bench/bench_gzip_baseline tests/bench/bench_kafka_mock \
	>build-bench/bench-compile.log 2>&1 || {
	cat build-bench/bench-compile.log
	exit 1
}
python3 tests/bench/gen.py --lines "$LINES" --out tests/bench/data/outputs.log
exec python3 tests/bench/measure_outputs.py --sluice build-bench/sluice \
	--gzip-baseline build-bench/tests/bench/bench_gzip_baseline \
	--kafka-mock build-bench/tests/bench/bench_kafka_mock \
	--data tests/bench/data/outputs.log --runs "$RUNS"
