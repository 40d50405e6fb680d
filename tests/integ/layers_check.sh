#!/bin/bash
# layers_check.sh - the dependency rules of DESIGN.md on the built objects
# (scripts/check-layers.sh): no cycle between source files, no firewall
# backend named outside src/fw/. First the checker is shown to fail on a
# small tree that breaks each rule, then it must pass on this build.
. "$(dirname "$0")/lib.sh"

checker="$top_srcdir/scripts/check-layers.sh"
command -v nm >/dev/null 2>&1 || skip "nm (binutils) is not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# a two-file cycle, and a file outside src/fw/ calling a backend and naming one
mkdir -p "$tmp/b/src/fw" "$tmp/s/src/fw"
t=$tmp/s/src
printf 'void b(void); void a(void) { b(); }\n' > "$t/a.c"
printf 'void a(void); void b(void) { a(); }\n' > "$t/b.c"
printf 'void fw_nft_go(void) {}\n' > "$t/fw/fw_nft.c"
printf 'void fw_nft_go(void); const char *c(void) { fw_nft_go(); return "nftables"; }\n' > "$t/c.c"
for f in a b c fw/fw_nft; do
	$cc -c -o "$tmp/b/src/$f.o" "$t/$f.c" || skip "cannot compile the checker's test objects"
done
out=$("$checker" "$tmp/b" "$tmp/s" 2>&1); rc=$?
[ $rc -eq 1 ] && pass "the checker fails on a broken tree" || fail "the checker fails on a broken tree (exit $rc)"
check_out "it names the cycle" "cycle between 2 files: src/a src/b" echo "$out"
check_out "it names the backend call" "src/c uses the firewall backend: fw_nft_go" echo "$out"
check_out "it names the backend string" "backend named outside src/fw/" echo "$out"

# this build
if [ ! -f "$top_builddir/src/mtable.o" ]; then
	fail "built objects under $top_builddir/src"
else
	out=$("$checker" "$top_builddir" "$top_srcdir" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then pass "portgate's objects: no cycle, no backend outside src/fw/"; else
		fail "portgate's objects (exit $rc):"; echo "$out" | grep -v '^  ' | sed 's/^/       | /'; fi
	echo "$out" | sed -n '/^dependency picture/,$p'
fi
finish
