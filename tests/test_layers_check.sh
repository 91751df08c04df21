#!/bin/sh
# The layering check catches what it is for: on a small made-up tree it
# passes a clean layout and fails an upward include, an upward call, a
# circle inside one layer, a handler that opens a transaction, and a
# transaction written by hand outside db/.
#   tests/test_layers_check.sh CHECK_SCRIPT CC AR
set -eu
check=$1 cc=$2 ar=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Writes src/<layer>/<name>.c calling the functions given after it.
unit() {
    layer=$1 name=$2
    shift 2
    mkdir -p "$tmp/src/$layer"
    {
        for f in "$@"; do echo "void $f(void);"; done
        echo "void $name(void);"
        echo "void $name(void) {"
        for f in "$@"; do echo "    $f();"; done
        echo "}"
    } >"$tmp/src/$layer/$name.c"
}
# Builds the tree's library and runs the check; prints its exit status.
run() {
    rm -f "$tmp/lib.a" "$tmp"/*.o
    for f in "$tmp"/src/*/*.c; do "$cc" -c "$f" -o "$tmp/$(basename "$f").o"; done
    "$ar" rc "$tmp/lib.a" "$tmp"/*.o
    if "$check" "$tmp/src" "$tmp/lib.a" >"$tmp/out" 2>&1; then echo 0; else echo 1; fi
}
expect() {
    got=$(run)
    if [ "$got" != "$1" ]; then
        echo "FAIL: $2 (check exited $got)"
        cat "$tmp/out"
        exit 1
    fi
    if [ "$1" = 1 ] && ! grep -q "$3" "$tmp/out"; then
        echo "FAIL: $2: the check did not say \"$3\""
        cat "$tmp/out"
        exit 1
    fi
    echo "ok: $2"
}

unit base b_one
unit domain d_one b_one
unit services s_one d_one
unit http h_one s_one
expect 0 "a layout that only points down passes"

echo '#include "services/s_one.h"' >"$tmp/src/domain/d_bad.h"
expect 1 "an upward include fails" "domain/d_bad.h includes services/"
rm "$tmp/src/domain/d_bad.h"

unit domain d_two s_one
expect 1 "an upward call fails" "domain/d_two.c uses s_one"
rm "$tmp/src/domain/d_two.c"

unit http h_two h_three
unit http h_three h_two
expect 1 "two files of one layer that call each other fail" "a circle"
rm "$tmp/src/http/h_two.c" "$tmp/src/http/h_three.c"

unit http h_tx db_begin_write
unit db db_begin_write
expect 1 "a handler that opens a transaction fails" "opens or ends a transaction"
rm "$tmp/src/http/h_tx.c"

unit services s_tx db_commit
unit db db_commit
expect 1 "a service that commits by hand fails" "writes a transaction by hand (db_commit): use db_tx"
