#!/bin/sh
# check-layers.sh - the dependency rules of DESIGN.md, checked on the built objects.
#
#   scripts/check-layers.sh [-v] BUILDDIR [SRCDIR]
#
# Reads `nm` of every object of the daemon and portgatectl (BUILDDIR/src/**.o): a file
# depends on another when it calls or reads a symbol the other defines.  Fails (exit 1)
#   - on any cycle between source files (a strongly connected component of more than
#     one file), printing the files of each cycle and the symbols that close it;
#   - on a firewall backend named outside src/fw/: an object outside src/fw/ that uses
#     a symbol of a backend file (src/fw/fw_<backend>*.o other than the in-memory
#     backend, src/fw/ct.o) or of libnftnl (nftnl_*), or a source file outside
#     src/fw/ that spells
#     a backend's name ("nftables") as a string.
# Prints the dependency picture, one line per file with the files it uses, lowest
# layer first (-v adds the symbols of each arrow).
set -eu

verbose=0
if [ "${1:-}" = "-v" ]; then verbose=1; shift; fi
build=${1:?usage: check-layers.sh [-v] BUILDDIR [SRCDIR]}
src=${2:-$(dirname "$0")/..}
NM=${NM:-nm}

src=$(cd "$src" && pwd)
if [ ! -d "$build/src" ]; then
	echo "check-layers: $build/src: no built objects (build first)" >&2
	exit 2
fi
# Only objects of today's sources: a stale .o of a renamed file would draw arrows that are gone.
objs=$(cd "$build" && find src -name '*.o' ! -name 'xml_data.o' | LC_ALL=C sort |
	while read -r o; do if [ -f "$src/${o%.o}.c" ]; then echo "$o"; fi; done)
if [ -z "$objs" ]; then
	echo "check-layers: no objects under $build/src" >&2
	exit 2
fi

tab=$(mktemp)
trap 'rm -f "$tab"' EXIT
for o in $objs; do
	# "D sym" for a defined global, "U sym" for a use; one object per block.
	"$NM" -g "$build/$o" | awk -v f="${o%.o}" '
		$1 == "U" { print f, "U", $2; next }
		NF >= 3 && $2 ~ /^[BCDGRSTVW]$/ { print f, "D", $3 }'
done >"$tab"

# Backend names spelled as strings outside the firewall directory.
# and a backend's header included there (what nm cannot see: macros, constants).
names=$(grep -rnE --include='*.c' --include='*.h' \
	'"nftables"|#include "fw/(fw_nft|ct)[a-z_]*\.h"' "$src/src" 2>/dev/null |
	grep -v "^$src/src/fw/" || true)

python3 - "$tab" "$verbose" "$names" <<'EOF'
import sys, re
from collections import defaultdict

tab, verbose, names = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
defs, uses = {}, defaultdict(set)
for line in open(tab):
    f, kind, sym = line.split()
    if kind == "D":
        defs.setdefault(sym, f)
    else:
        uses[f].add(sym)
files = sorted(set(defs.values()) | set(uses))
edges = defaultdict(lambda: defaultdict(set))  # a -> b -> symbols
for f in files:
    for s in uses[f]:
        d = defs.get(s)
        if d is not None and d != f:
            edges[f][d].add(s)

# Tarjan's strongly connected components.
index, low, onstack, stack, sccs, n = {}, {}, set(), [], [], [0]
def strong(v):
    index[v] = low[v] = n[0]; n[0] += 1
    stack.append(v); onstack.add(v)
    for w in sorted(edges[v]):	# sorted: the same picture from run to run
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in onstack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); onstack.discard(w); comp.append(w)
            if w == v: break
        sccs.append(sorted(comp))
sys.setrecursionlimit(10000)
for f in files:
    if f not in index:
        strong(f)

bad = 0
cycles = [c for c in sccs if len(c) > 1]
for c in cycles:
    bad += 1
    print("check-layers: cycle between %d files: %s" % (len(c), " ".join(c)))
    for a in c:
        for b in sorted(edges[a]):
            if b in c:
                syms = sorted(edges[a][b])
                more = " ..." if len(syms) > 4 else ""
                print("    %s -> %s: %s%s" % (a, b, " ".join(syms[:4]), more))

# The firewall's backends and the netlink libraries belong to src/fw/.
backend = re.compile(r"^src/fw/(fw_(?!mem\b)[a-z]+.*|ct)$")
for f in files:
    if f.startswith("src/fw/"):
        continue
    hits = sorted(s for s in uses[f]
                  if (defs.get(s) and backend.match(defs[s]))
                  or s.startswith("nftnl_"))
    if hits:
        bad += 1
        print("check-layers: %s uses the firewall backend: %s" % (f, " ".join(hits)))
for line in names.splitlines():
    if line.strip():
        bad += 1
        print("check-layers: backend named outside src/fw/: %s" % line)

# The picture: components in dependency order (Tarjan emits callees first).
print("dependency picture (%d files, %d cycles; each file: the files it uses)" %
      (len(files), len(cycles)))
for c in sccs:
    for f in c:
        deps = sorted(edges[f])
        tag = " [cycle]" if len(c) > 1 else ""
        print("  %s%s: %s" % (f, tag, " ".join(deps) if deps else "-"))
        if verbose:
            for d in deps:
                print("      -> %s: %s" % (d, " ".join(sorted(edges[f][d]))))
if bad:
    print("check-layers: FAILED (%d problems)" % bad)
    sys.exit(1)
print("check-layers: ok")
EOF
