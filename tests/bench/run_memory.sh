#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_memory.sh - the memory benchmark: peak RSS (VmHWM) and MB per
# CPU-second of tail -> parser(json) -> null, es, loki, kafka (mock
# cluster) and http, to local receivers. Release build in build-bench/.
#
# usage: tests/bench/run_memory.sh [LINES] [RUNS] [CASES]
#        (defaults: 1000000 3 null,es,loki,kafka,http)
set -eu
cd "$(dirname "$0")/../.."
LINES=${1:-1000000}
RUNS=${2:-3}
CASES=${3:-null,es,loki,kafka,http}
[ -d build-bench ] || meson setup build-bench --buildtype=release >/dev/null
meson compile -C build-bench sluice:executable tests/bench/bench_kafka_mock \
	>build-bench/bench-compile.log 2>&1 || {
	cat build-bench/bench-compile.log
	exit 1
}
python3 tests/bench/gen.py --lines "$LINES" --out tests/bench/data/memory.log
exec python3 tests/bench/measure_memory.py --sluice build-bench/sluice \
	--kafka-mock build-bench/tests/bench/bench_kafka_mock \
	--data tests/bench/data/memory.log --runs "$RUNS" --cases "$CASES"
