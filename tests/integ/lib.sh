# lib.sh - shared helpers for portgate's integration tests (sourced).
# Every check prints "ok" or "FAIL"; the test exits 1 if any failed.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
PORTGATED="$top_builddir/src/portgated"
PORTGATECTL="$top_builddir/src/portgatectl"
T_FAILS=0
T_CHECKS=0

pass() { T_CHECKS=$((T_CHECKS + 1)); echo "  ok   $*"; }
fail() { T_CHECKS=$((T_CHECKS + 1)); T_FAILS=$((T_FAILS + 1)); echo "  FAIL $*"; }
# check DESCRIPTION COMMAND...: pass if the command succeeds
check() { local d="$1"; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }
# check_not DESCRIPTION COMMAND...: pass if the command fails
check_not() { local d="$1"; shift; if "$@" >/dev/null 2>&1; then fail "$d"; else pass "$d"; fi; }
# check_out DESCRIPTION EXPECTED-SUBSTRING COMMAND...: pass if output contains it
check_out() {
	local d="$1" want="$2" out; shift 2
	out=$("$@" 2>&1)
	case "$out" in *"$want"*) pass "$d" ;; *) fail "$d: wanted '$want' in:"; echo "$out" | sed 's/^/       | /' | head -20 ;; esac
}
finish() {
	echo "$(basename "$0"): $T_CHECKS checks, $T_FAILS failed"
	[ "$T_FAILS" -eq 0 ]
}
# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds
wait_for() {
	local n=$(( $1 * 10 )); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
skip() { echo "SKIP: $*"; exit 77; }
# check_no_sanitizer LOG...: fail if a sanitizer (ASan, UBSan, LSan) reported in these logs
check_no_sanitizer() {
	local f hits=
	for f in "$@"; do
		[ -f "$f" ] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$f" && hits="$hits $f"
	done
	if [ -z "$hits" ]; then pass "no sanitizer report in the daemon's log"; else
		fail "sanitizer report in$hits"; grep -hE -A12 'Sanitizer|runtime error' "$@" | head -40 | sed 's/^/       | /'; fi
}
