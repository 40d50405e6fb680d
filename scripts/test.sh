#!/bin/bash
# test.sh - install dependencies, build, run the whole test suite; ends with
# "N passed, N failed[, N skipped]" and exits non-zero if anything failed.
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }
make -s -j1 check >/dev/null 2>&1
log=test-suite.log
[ -f "$log" ] || { echo "0 passed, 1 failed"; exit 1; }
# per-test results with their logs for failures
for trs in $(find tests -name '*.trs' | sort); do
	res=$(sed -n 's/^:test-result: //p' "$trs")
	name=${trs%.trs}
	echo "$res: $name"
	case "$res" in FAIL|ERROR|XPASS) sed 's/^/    | /' "$name.log" | tail -40 ;; esac
done
pass=$(sed -n 's/^# PASS: *//p' "$log")
fail=$(( $(sed -n 's/^# FAIL: *//p' "$log") + $(sed -n 's/^# ERROR: *//p' "$log") + $(sed -n 's/^# XPASS: *//p' "$log") ))
skip=$(sed -n 's/^# SKIP: *//p' "$log")
if [ "${skip:-0}" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
