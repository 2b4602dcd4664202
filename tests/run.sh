#!/usr/bin/env bash
# The test suite from a fresh Debian 12 machine: install what is needed,
# build three times (gcc; clang with ASan+UBSan; clang with TSan), run every
# suite in the first two and the unit and e2e suites under TSan, and end with
# one line "N passed, N failed" summed from meson's summaries.
set -uo pipefail
cd "$(dirname "$0")/.."
bash packaging/deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
run_build() { # name, meson setup args... (TEST_ARGS: extra meson test args)
  local dir=$1; shift
  if ! { [ -d "$dir" ] || meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; } ||
     ! meson compile -C "$dir" >"$dir.compile.log" 2>&1; then
    echo "== $dir: build failed"
    cat "$dir.setup.log" 2>/dev/null | tail -20
    grep -E -A3 'error|FAILED' "$dir.compile.log" 2>/dev/null | head -60
    failed=$((failed + 1)); return
  fi
  # shellcheck disable=SC2086 # TEST_ARGS is a word list
  meson test -C "$dir" --num-processes 2 --print-errorlogs ${TEST_ARGS:-} >"$dir.test.log" 2>&1
  grep -E '^(Ok|Expected Fail|Fail|Unexpected Pass|Skipped|Timeout): ' "$dir.test.log" | sed "s/^/$dir: /"
  grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT|ERROR)' "$dir.test.log" | head -40
  local ok fail to
  ok=$(awk '/^Ok: /{print $2}' "$dir.test.log"); fail=$(awk '/^Fail: /{print $2}' "$dir.test.log")
  to=$(awk '/^Timeout: /{print $2}' "$dir.test.log"); xp=$(awk '/^Unexpected Pass: /{print $3}' "$dir.test.log")
  if [ -z "$ok" ]; then echo "== $dir: no test summary"; tail -40 "$dir.test.log"; failed=$((failed + 1)); return; fi
  [ "${fail:-0}" -gt 0 ] || [ "${to:-0}" -gt 0 ] && grep -B2 -A30 -E '(FAIL|TIMEOUT)' "$dir.test.log" | tail -150
  passed=$((passed + ok)); failed=$((failed + ${fail:-0} + ${to:-0} + ${xp:-0}))
}

run_build build
CC=clang run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
# TSan: the threads are the engine's and the output workers'; fuzz and
# conformance are single-threaded parsers, already run twice above. A TSan
# process is 5-15x slower: the slowest test took 44 s of its 300 s, the
# multiplier is margin for a slower machine, and a hang still ends in 10 min.
# Every report also goes to build-tsan/tsan.<pid>: an e2e test that does not
# judge sluice's exit status would otherwise let a race in the binary pass.
rm -f build-tsan/tsan.*
TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp}:log_path=$PWD/build-tsan/tsan" \
TEST_ARGS="--suite unit --suite e2e --timeout-multiplier 2" \
CC=clang run_build build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
for r in build-tsan/tsan.*; do
  [ -e "$r" ] || continue
  echo "== $r: ThreadSanitizer report"; head -60 "$r"; failed=$((failed + 1))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
