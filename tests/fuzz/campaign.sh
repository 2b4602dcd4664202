#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# campaign.sh - a fuzzing campaign (not part of CI): builds the fuzz targets
# with clang and -fsanitize=fuzzer,address,undefined, runs each one after the
# other for SECONDS with its seed corpus, and prints per target: execs/s,
# coverage (cov and ft from libFuzzer's last status line), and crashes.
#
#   tests/fuzz/campaign.sh [-t SECONDS] [-b BUILD_DIR] [-o OUT_DIR] [TARGET...]
#
# SECONDS defaults to 600, BUILD_DIR to build-fuzz, OUT_DIR to
# BUILD_DIR/campaign; TARGET defaults to every tests/fuzz/fuzz_*.c. New
# inputs go to OUT_DIR/corpus/TARGET (the seed corpus in the tree is only
# read), crash/leak/timeout reproducers to OUT_DIR/artifacts/TARGET. One
# target at a time: libFuzzer uses one core.
set -euo pipefail

secs=600
build=build-fuzz
out=
while getopts "t:b:o:h" opt; do
	case $opt in
	t) secs=$OPTARG ;;
	b) build=$OPTARG ;;
	o) out=$OPTARG ;;
	*)
		sed -n '3,16p' "$0"
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))

src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
out=${out:-$build/campaign}

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
fi

# The fuzz option makes meson link libFuzzer and instrument the library
# (tests/fuzz/meson.build); b_sanitize adds ASan and UBSan everywhere.
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=enabled \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug >/dev/null
fi
meson compile -C "$build" -j2 "${targets[@]/#/tests/fuzz/}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=()
status=0
for t in "${targets[@]}"; do
	exe=$build/tests/fuzz/$t
	seeds=tests/fuzz/corpus/$t
	work=$out/corpus/$t
	art=$out/artifacts/$t
	log=$out/$t.log
	mkdir -p "$work" "$art"
	echo "== $t: ${secs}s (log: $log)" >&2
	rc=0
	"$exe" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$art/" \
		"$work" "$seeds" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	total=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	crashes=$(find "$art" -type f | wc -l)
	[ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] && status=1
	summary+=("$(printf '%-24s execs/s %-8s execs %-11s cov %-6s ft %-7s crashes %s%s' \
		"$t" "${execs:-?}" "${total:-?}" "${cov:-?}" "${ft:-?}" \
		"$crashes" "$([ "$rc" -ne 0 ] && echo " (exit $rc, see $log)")")")
done
printf '%s\n' "${summary[@]}"
exit $status
