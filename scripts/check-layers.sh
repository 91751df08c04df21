#!/bin/sh
# Keeps the layering of src/ true (docs/decisions.md, "Layers, checked").
#   scripts/check-layers.sh SRC_DIR [LIBRARY.a]
# 1. Includes: a file in src/<layer>/ includes only headers of its own layer
#    or of a layer that layer may use (the table below).
# 2. Symbols (given the static library of src/): which object file calls or
#    reads which, from nm. An object uses only its own layer and the layers
#    below it; inside one layer the uses form no circle; http/ opens no
#    transaction (that is a service's job); and outside db/ a transaction is
#    db_tx, never a hand-written begin, commit or rollback.
# Prints every violation and exits 1 when there is one. Run by ctest.
set -eu

src=${1:?usage: check-layers.sh SRC_DIR [LIBRARY.a]}
lib=${2:-}

# What each layer may use besides itself, top to bottom. providers/ sits
# beside domain/: neither uses the other. jobs/ is above domain/ because the
# queue keeps its table's SQL in domain/job_store.
allowed() {
    case $1 in
    app) echo "http services jobs domain providers db base" ;;
    http) echo "services jobs domain db base" ;;
    services) echo "jobs domain providers db base" ;;
    jobs) echo "domain db base" ;;
    domain) echo "db base" ;;
    providers) echo "base" ;;
    db) echo "base" ;;
    base) echo "" ;;
    *) echo "?" ;;
    esac
}
layers="app http services jobs domain providers db base"

# Symbols that http/ must not use: transactions belong to services.
http_forbidden="db_begin db_begin_write db_commit db_rollback db_tx"
# Symbols only db/ uses: everyone else runs a transaction through db_tx,
# which begins, commits or rolls back and maps the error in one place.
tx_by_hand="db_begin db_begin_write db_commit db_rollback"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad=0
fail() {
    echo "check-layers: $*" >&2
    bad=1
}

# ---- 1. includes -----------------------------------------------------------
for layer in $layers; do
    [ -d "$src/$layer" ] || continue
    ok=" $layer $(allowed "$layer") "
    for f in "$src/$layer"/*.c "$src/$layer"/*.h; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*".*/\1/p' "$f" |
            sort -u | while read -r to; do
            case "$ok" in
            *" $to "*) ;;
            *) echo "${f#"$src"/} includes $to/ (a $layer file may include: $(allowed "$layer"))" ;;
            esac
        done
    done
done >"$tmp/includes"
if [ -s "$tmp/includes" ]; then
    while read -r line; do fail "$line"; done <"$tmp/includes"
fi

# ---- 2. symbols ------------------------------------------------------------
if [ -n "$lib" ]; then
    # basename.c -> layer; object files in the archive are named basename.c.o.
    for layer in $layers; do
        for f in "$src/$layer"/*.c; do
            [ -f "$f" ] && echo "$(basename "$f") $layer"
        done
    done | sort >"$tmp/layer_of"
    dups=$(awk '{print $1}' "$tmp/layer_of" | uniq -d)
    [ -z "$dups" ] || fail "source files share a name, so objects cannot be told apart: $dups"

    nm -A -P "$lib" | awk '{
        f = $1; sub(/.*\[/, "", f); sub(/\.o\]:$/, "", f)
        if ($3 == "U") print "U", f, $2
        else if ($3 ~ /^[TDBRCGVW]$/) print "D", f, $2
    }' >"$tmp/syms"
    # "from to symbol" for every use of a symbol another object defines.
    awk 'NR == FNR { layer[$1] = $2; next }
         $1 == "D" { def[$3] = $2; next }
         { use[++n] = $2 " " $3 }
         END {
             for (i = 1; i <= n; i++) {
                 split(use[i], u, " ")
                 if ((u[2] in def) && def[u[2]] != u[1] && (u[1] in layer) && (def[u[2]] in layer))
                     print u[1], def[u[2]], u[2], layer[u[1]], layer[def[u[2]]]
             }
         }' "$tmp/layer_of" "$tmp/syms" | sort -u >"$tmp/uses"
    [ -s "$tmp/uses" ] || fail "no symbol uses found in $lib: is it the library of $src?"

    while read -r from to sym lfrom lto; do
        if [ "$lfrom" != "$lto" ]; then
            case " $(allowed "$lfrom") " in
            *" $lto "*) ;;
            *) fail "$lfrom/$from uses $sym of $lto/$to (a $lfrom file may use: $(allowed "$lfrom"))" ;;
            esac
        else
            echo "$from $to" >>"$tmp/same_layer"
        fi
        if [ "$lfrom" = http ]; then
            case " $http_forbidden " in
            *" $sym "*) fail "http/$from opens or ends a transaction ($sym): a service should" ;;
            esac
        fi
        if [ "$lfrom" != db ]; then
            case " $tx_by_hand " in
            *" $sym "*) fail "$lfrom/$from writes a transaction by hand ($sym): use db_tx" ;;
            esac
        fi
    done <"$tmp/uses"

    # A circle inside a layer: tsort names the files on it.
    if [ -s "$tmp/same_layer" ]; then
        sort -u "$tmp/same_layer" | tsort >/dev/null 2>"$tmp/loops" || true
        if [ -s "$tmp/loops" ]; then
            grep -v 'input contains a loop' "$tmp/loops" | sed 's/^tsort: //' | tr '\n' ' ' >"$tmp/on_loops"
            fail "files that use each other (a circle): $(cat "$tmp/on_loops")"
        fi
    fi
fi

[ "$bad" = 0 ] && echo "check-layers: ok"
exit "$bad"
