#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_scale.sh - the many-files benchmark (issue 15). Builds a release tree
# (build-bench/) with the line writer and the timestamping receiver, raises
# the fd and inotify limits when needed (as root), then runs scale.py:
#   A: 1,000 / 2,500 / 5,000 files at 10 lines/s each
#   B: 25 / 50 / 100 files at 10,000 lines/s each, stepped down until the
#      collector keeps up (the writer shares the CPU with it)
# beside Fluent Bit when FLUENTBIT_BIN is set (same classic config text).
# Indicative figures: other work on the machine moves them.
#
# usage: tests/bench/run_scale.sh [--quick] [scale.py options]
#        FLUENTBIT_BIN=/work/fb-build/bin/fluent-bit tests/bench/run_scale.sh
#   --quick: A at 1,000 and 2,500 files, B at 25 and 50, 6 s each (< 2 min)
set -eu
cd "$(dirname "$0")/../.."
if [ ! -d build-bench ]; then
	meson setup build-bench --buildtype=release >/dev/null
fi
meson compile -C build-bench sluice:executable \
	tests/bench/bench_scale_writer tests/bench/bench_scale_sink \
	>build-bench/scale-compile.log 2>&1 || {
	cat build-bench/scale-compile.log
	exit 1
}
# One fd and one inotify watch per file, in the collector: 5,000 files
# pass the usual 1,024 fds. scale.py raises RLIMIT_NOFILE for its
# children and fs.inotify.max_user_watches when it may (root).
want=11024
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
	ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
fi
echo "ulimit -n: $(ulimit -n) (hard $(ulimit -Hn));" \
	"fs.inotify.max_user_watches: $(cat /proc/sys/fs/inotify/max_user_watches);" \
	"max_user_instances: $(cat /proc/sys/fs/inotify/max_user_instances);" \
	"max_queued_events: $(cat /proc/sys/fs/inotify/max_queued_events)"
set -- --sluice build-bench/sluice \
	--writer build-bench/tests/bench/bench_scale_writer \
	--sink build-bench/tests/bench/bench_scale_sink "$@"
if [ -n "${FLUENTBIT_BIN:-}" ]; then
	set -- "$@" --fluentbit "$FLUENTBIT_BIN"
fi
exec python3 tests/bench/scale.py "$@"
