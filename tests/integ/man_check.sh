#!/bin/bash
# man_check.sh - the man pages: mandoc -T lint clean, every configuration
# keyword of conf.c's conf_keywords[] documented in portgated.conf(5) (and no
# other), every command of ctl_cmd.c's ctl_commands[] in portgatectl(8); and
# README's tables: a row for every keyword (with conf_defaults()'s default, and
# no other keyword) and for every command.
. "$(dirname "$0")/lib.sh"

man="$top_srcdir/man"
conf_c="$top_srcdir/src/conf.c"
cmd_c="$top_srcdir/src/ctl_cmd.c"
pages="portgated.8 portgatectl.8 portgated.conf.5"

echo "mandoc -T lint"
command -v mandoc >/dev/null 2>&1 || skip "mandoc is not installed (scripts/deps.sh installs it)"
for p in $pages; do
	if [ ! -f "$man/$p" ]; then
		fail "$p exists"
		continue
	fi
	out=$(mandoc -T lint -W warning "$man/$p" 2>&1)
	rc=$?
	if [ -z "$out" ] && [ $rc -eq 0 ]; then
		pass "$p is lint clean"
	else
		fail "$p: mandoc -T lint -W warning (exit $rc):"
		echo "$out" | sed 's/^/       | /'
	fi
done

# The .It lines of a page, with ".It Xo" joined to the line after it.
items() {
	awk '/^\.It Xo[ \t]*$/ { xo = 1; next }
	     xo { sub(/^\./, ""); print ".It " $0; xo = 0; next }
	     /^\.It / { print }' "$1"
}

echo "portgated.conf(5) documents every keyword of conf_keywords[] in src/conf.c"
keys=$(awk '/conf_keywords\[[A-Z_]*\] = \{/ { t = 1; next }
	t && /^\};/ { exit }
	t && match($0, /^[ \t]*\{ *"[a-z_0-9]+"/) {
		s = substr($0, RSTART, RLENGTH); sub(/^[ \t]*\{ *"/, "", s); sub(/"$/, "", s); print s
	}' "$conf_c")
nkeys=$(echo "$keys" | grep -c .)
# a cross-check of the extractor: every row of the table names a kw_ handler
want=$(awk '/conf_keywords\[\] = \{/ { t = 1; next } t && /^\};/ { exit } t && /kw_[a-z_0-9]+/ { n++ } END { print n + 0 }' "$conf_c")
if [ "$want" -gt 0 ] && [ "$nkeys" -eq "$want" ]; then
	pass "found all $nkeys keywords (rows with a kw_ handler) in conf_keywords[]"
else
	fail "found $nkeys keywords in conf_keywords[] but $want rows with a kw_ handler: update man_check.sh's extractor"
fi
conf_items=$(items "$man/portgated.conf.5")
missing=
for k in $keys; do
	echo "$conf_items" | grep -qE "^\.It (Ic|Cm) $k( |$)" || missing="$missing $k"
done
if [ -z "$missing" ]; then
	pass "every keyword has an '.It Ic KEYWORD' item"
else
	fail "keywords of src/conf.c not documented in man/portgated.conf.5:$missing"
fi
# ... and nothing in its KEYWORDS list that conf.c does not know
extra=
for k in $(awk '/^\.Sh /{ s = ($2 == "KEYWORDS") } s && /^\.It Ic / { print $3 }' \
    "$man/portgated.conf.5"); do
	echo "$keys" | grep -qx "$k" || extra="$extra $k"
done
if [ -z "$extra" ]; then
	pass "KEYWORDS lists no keyword that src/conf.c lacks"
else
	fail "man/portgated.conf.5 documents keywords that src/conf.c lacks:$extra"
fi

echo "portgatectl(8) documents every command of ctl_commands[] in src/ctl_cmd.c"
cmds=$(awk '/ctl_commands\[\] = \{/ { t = 1; next }
	t && /^\};/ { exit }
	t && match($0, /^[ \t]*\{ *"[a-z]+", *("[a-z]+"|NULL)/) {
		s = substr($0, RSTART, RLENGTH); gsub(/[{",]/, " ", s); sub(/ NULL/, "", s)
		gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); print s
	}' "$cmd_c")
ncmds=$(echo "$cmds" | grep -c .)
if [ "$ncmds" -gt 0 ]; then
	pass "found $ncmds commands in ctl_commands[]"
else
	fail "found no commands in ctl_commands[]: update man_check.sh's extractor"
fi
ctl_items=$(items "$man/portgatectl.8")
missing=
while read -r c; do
	[ -n "$c" ] || continue
	echo "$ctl_items" | grep -qE "^\.It (Ic|Cm) $c( |$)" || missing="$missing '$c'"
done <<< "$cmds"
if [ -z "$missing" ]; then
	pass "every command has an '.It Ic COMMAND' item"
else
	fail "commands of src/ctl_cmd.c not documented in man/portgatectl.8:$missing"
fi

echo "README.md's configuration table: every keyword of conf_keywords[], with conf.c's default"
readme="$top_srcdir/README.md"
# "KEY<TAB>DEFAULT" per row of the table under "## Configuration" ("allow / deny" is two rows)
rows=$(awk '/^## / { s = ($2 == "Configuration") } s && /^\| `[a-z_0-9]+`/ {
	n = split($0, c, "|"); k = c[2]; d = c[3]; gsub(/[` ]/, "", d)
	while (match(k, /`[a-z_0-9]+`/)) { print substr(k, RSTART + 1, RLENGTH - 2) "\t" d; k = substr(k, RSTART + RLENGTH) }
	}' "$readme")
missing=
for k in $keys; do
	echo "$rows" | cut -f1 | grep -qx "$k" || missing="$missing $k"
done
if [ -z "$missing" ]; then
	pass "every keyword has a row"
else
	fail "keywords of src/conf.c without a row in README.md's configuration table:$missing"
fi
extra=
for k in $(echo "$rows" | cut -f1); do
	echo "$keys" | grep -qx "$k" || extra="$extra $k"
done
if [ -z "$extra" ]; then
	pass "the table has no row for a keyword src/conf.c lacks"
else
	fail "README.md's configuration table has rows for keywords src/conf.c lacks:$extra"
fi
# conf_defaults(): "c->KEY = N;" or "c->KEY = xstrdup("TEXT");" (booleans are 1/0: yes/no)
defaults=$(awk '/^conf_defaults\(/ { t = 1; next } t && /^\}/ { exit }
	t && match($0, /c->[a-z_0-9]+ = /) {
		k = substr($0, RSTART + 3, RLENGTH - 6); v = substr($0, RSTART + RLENGTH)
		sub(/;.*/, "", v); sub(/^xstrdup\("/, "", v); sub(/"\)$/, "", v); gsub(/ /, "", v)
		print k "\t" v
	}' "$conf_c")
ndef=$(echo "$defaults" | grep -c .)
# the firewall's default is src/fw/'s (fw_backend_default): the first of fw.c's fw_backends[],
# named by its ops table
fw_ops=$(awk '/fw_backends\[\] = \{/ { t = 1; next }
	t && match($0, /fw_[a-z_]+_ops/) { print substr($0, RSTART, RLENGTH); exit }' \
	"$top_srcdir/src/fw/fw.c")
fw_default=$(cat "$top_srcdir"/src/fw/*.c | awk -v o="$fw_ops" '$0 ~ "^const struct fw_ops " o " = \\{" { t = 1 }
	t && match($0, /\.name = "[^"]*"/) { print substr($0, RSTART + 9, RLENGTH - 10); exit }')
wrong=
while IFS=$'\t' read -r k v; do
	[ -n "$k" ] || continue
	d=$(echo "$rows" | awk -F'\t' -v k="$k" '$1 == k { print $2 }')
	case "$d" in yes) d=1 ;; no) d=0 ;; esac
	# an enum's default (CONF_IGD_AUTO) is the word after its last underscore (auto)
	case "$v" in CONF_*_*) v=$(echo "${v##*_}" | tr 'A-Z' 'a-z') ;; esac
	[ "$v" = "xstrdup(fw_backend_default())" ] && v=${fw_default:-unknown}
	[ "$d" = "$v" ] || wrong="$wrong $k (conf.c: $v, README: ${d:-no row})"
done <<< "$defaults"
if [ "$ndef" -gt 0 ] && [ -z "$wrong" ]; then
	pass "the $ndef defaults conf_defaults() sets are README's"
else
	fail "README.md's defaults differ from conf_defaults() (or none were found):$wrong"
fi

echo "README.md's portgatectl table: every command of ctl_commands[]"
ctl_rows=$(awk '/^## / { s = ($2 == "portgatectl") } s && /^\| `[a-z]/ {
	split($0, c, "`"); n = split(c[2], w, " "); print w[1] (w[2] ~ /^[a-z]+$/ ? " " w[2] : "") }' "$readme")
missing=
while read -r c; do
	[ -n "$c" ] || continue
	echo "$ctl_rows" | grep -qx "$c" || missing="$missing '$c'"
done <<< "$cmds"
if [ -z "$missing" ]; then
	pass "every command has a row"
else
	fail "commands of src/ctl_cmd.c without a row in README.md's portgatectl table:$missing"
fi

finish
