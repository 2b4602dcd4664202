#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# check_format.sh SOURCE_ROOT - fails when a C file of the tree is not as
# .clang-format wants it. The whole tree was formatted once (the commit is
# in .git-blame-ignore-revs), so any unformatted line is a changed one.
# Prints each offending file with clang-format's first complaints.
set -uo pipefail
root=${1:?usage: check_format.sh SOURCE_ROOT}
cd "$root" || exit 1
command -v clang-format >/dev/null || {
	echo "FAIL (cannot run): clang-format is not installed (packaging/deps.sh installs it)"
	exit 1
}
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find core inputs filters outputs plugins tests -name '*.[ch]' | sort)
fi
bad=0
for f in "${files[@]}"; do
	if ! out=$(clang-format --dry-run -Werror "$f" 2>&1); then
		echo "$f is not clang-formatted (run: clang-format -i $f):"
		printf '%s\n' "$out" | head -6
		bad=$((bad + 1))
	fi
done
echo "${#files[@]} files checked, $bad not formatted"
[ "$bad" -eq 0 ]
