#!/bin/bash
# fuzz.sh [NAME...] - run the libFuzzer harnesses in tests/fuzz/ for FUZZ_SECONDS
# each (default 60). Builds with clang in build-fuzz/ (out of tree), the library
# instrumented (-fsanitize=fuzzer-no-link,address,undefined) and each harness
# linked with -fsanitize=fuzzer. Works on a copy of the seed corpus in
# build-fuzz/corpus/NAME; crashes go to build-fuzz/artifacts/NAME/. Add a
# crashing input to tests/fuzz/corpus/NAME/ once fixed: `make check` replays it.
set -e
cd "$(dirname "$0")/.."
top=$PWD
secs=${FUZZ_SECONDS:-60}
names=${*:-conf state ctl nflog soap ssdp gena pcp pcp_srv pcpc pcpc_select neigh leases ct admin}
command -v clang >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)" >&2; exit 1; }
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
scripts/build.sh build-fuzz CC=clang CFLAGS="-g -O1 $SAN" LDFLAGS="-fsanitize=address,undefined" >/dev/null
cd build-fuzz
make -s src/libportgate.a
flags="-g -O1 -fsanitize=fuzzer,address,undefined -I$top/src -I."
libs="src/libportgate.a $(pkg-config --libs libevent libmicrohttpd libxml-2.0 libnftnl libmnl libxcrypt)"
status=0
for n in $names; do
	[ -f "$top/tests/fuzz/fuzz_$n.c" ] || { echo "fuzz.sh: no harness $n" >&2; exit 1; }
	clang $flags -o "fuzz_$n" "$top/tests/fuzz/fuzz_$n.c" "$top/tests/unit/testutil.c" $libs
	mkdir -p "corpus/$n" "artifacts/$n"
	cp -n "$top/tests/fuzz/corpus/$n/"* "corpus/$n/" 2>/dev/null || true
	echo "== fuzz_$n: $secs s"
	if ! ASAN_OPTIONS=detect_leaks=1 ./"fuzz_$n" -max_total_time="$secs" -max_len=4096 \
	    -artifact_prefix="artifacts/$n/" -print_final_stats=1 "corpus/$n" > "fuzz_$n.log" 2>&1; then
		status=1
	fi
	grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|cov:' "fuzz_$n.log" | tail -3
	found=$(ls "artifacts/$n" | head -5)
	[ -n "$found" ] && { echo "   CRASHES in build-fuzz/artifacts/$n: $found"; status=1; }
	grep -m1 -E 'ERROR: |runtime error' "fuzz_$n.log" || true
done
exit $status
