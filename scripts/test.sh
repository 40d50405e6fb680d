#!/bin/bash
# test.sh - install dependencies, build, run the whole test suite:
#   build/        the normal build: unit, integration (namespace labs) and fuzz-replay tests
#   build-asan/   -fsanitize=address,undefined: unit tests, fuzz replays and the
#                 firewall = none integration tests; any sanitizer report fails
# Ends with "N passed, N failed[, N skipped]" and exits non-zero if anything failed.
cd "$(dirname "$0")/.."
scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
# the account the lab daemons run as (user = portgate), as the package makes it
id portgate >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin portgate || { echo "0 passed, 1 failed"; exit 1; }
pass=0 fail=0 skip=0

# run_suite LABEL DIR [make args...]: make check in DIR, print per-test results, add up
run_suite() {
	local label=$1 dir=$2 log res name trs
	shift 2
	make -C "$dir" -s -j1 check "$@" >/dev/null 2>&1
	log=$dir/test-suite.log
	if [ ! -f "$log" ]; then
		echo "FAIL: $label: make check did not run"; fail=$((fail + 1)); return
	fi
	for trs in $(cd "$dir" && find tests -name '*.trs' | sort); do
		res=$(sed -n 's/^:test-result: //p' "$dir/$trs")
		name=${trs%.trs}
		echo "$res: $label $name"
		case "$res" in
		PASS) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)); sed 's/^/    | /' "$dir/$name.log" | tail -40 ;;
		esac
	done
}

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
if scripts/build.sh build; then
	# the sanitizer build compiles (niced) while the normal suite runs, whose lab tests
	# mostly wait on the network: the whole run stays well within CI's time
	( nice -n 15 scripts/build.sh build-asan CFLAGS="$SAN" \
		LDFLAGS="-fsanitize=address,undefined" > build-asan.out 2>&1 &&
	  nice -n 15 make -C build-asan -s -j1 check TESTS= >> build-asan.out 2>&1
	  echo $? > build-asan.rc ) &
	asan_build=$!
	run_suite build build
else
	echo "FAIL: build"; fail=$((fail + 1))
	asan_build=
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
[ -n "$asan_build" ] && wait "$asan_build"
if [ -n "$asan_build" ] && [ "$(cat build-asan.rc 2>/dev/null)" = 0 ]; then
	run_suite asan build-asan TESTS='$(SANITIZER_TESTS)'
else
	echo "FAIL: sanitizer build"; fail=$((fail + 1))
	[ -f build-asan.out ] && tail -40 build-asan.out | sed 's/^/    | /'
fi
rm -f build-asan.out build-asan.rc

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
