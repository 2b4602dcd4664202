#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_sidebyside.sh - sluice next to Fluent Bit on the same classic configs
# (issue 15): tail -> parser(json) -> null, -> 4 log_to_metrics ->
# prometheus_exporter, -> es, -> loki, -> es gzip, -> loki gzip, -> kafka
# (librdkafka's mock cluster), -> http json_lines, to local receivers.
# Each pipeline's config text is written once and run unchanged by both
# binaries, alternating run by run; prints one markdown table of medians:
# MB per CPU-second, peak RSS (VmHWM), records/s and wall seconds, with the
# sluice/Fluent Bit ratios. Every run must deliver every line (receiver
# counts, Kafka high watermarks), else it is reported, not measured.
# Method in detail: the header of tests/bench/sidebyside.py.
# Release build in build-bench/; data in tests/bench/data/ (not in git).
#
# usage: FLUENTBIT_BIN=/path/fluent-bit tests/bench/run_sidebyside.sh [LINES] [RUNS]
#        (defaults: 1000000 3; without FLUENTBIT_BIN sluice runs alone)
# SIDEBYSIDE_ONLY="es,kafka" limits the pipelines (names as in the table).
set -eu
cd "$(dirname "$0")/../.."
LINES=${1:-1000000}
RUNS=${2:-3}
[ -d build-bench ] || meson setup build-bench --buildtype=release >/dev/null
meson compile -C build-bench sluice:executable tests/bench/bench_kafka_mock \
	>build-bench/bench-compile.log 2>&1 || {
	cat build-bench/bench-compile.log
	exit 1
}
python3 tests/bench/gen.py --lines "$LINES" --out tests/bench/data/sidebyside.log
if [ -n "${FLUENTBIT_BIN:-}" ]; then
	[ -x "$FLUENTBIT_BIN" ] || {
		echo "FLUENTBIT_BIN=$FLUENTBIT_BIN is not an executable" >&2
		exit 1
	}
	set -- --fluentbit "$FLUENTBIT_BIN"
else
	echo "FLUENTBIT_BIN not set: running sluice alone" >&2
	set --
fi
[ -z "${SIDEBYSIDE_ONLY:-}" ] || set -- "$@" --only "$SIDEBYSIDE_ONLY"
exec python3 tests/bench/sidebyside.py --sluice build-bench/sluice \
	--kafka-mock build-bench/tests/bench/bench_kafka_mock \
	--data tests/bench/data/sidebyside.log --runs "$RUNS" "$@"
