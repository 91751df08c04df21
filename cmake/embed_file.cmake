# Turns one file into a C source defining `const char <NAME>[]` (NUL-terminated)
# and `const unsigned long <NAME>_len`.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" nhex)
math(EXPR n "${nhex} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN}. Do not edit. */\nconst char ${NAME}[] = {${bytes} 0};\nconst unsigned long ${NAME}_len = ${n};\n")
file(RENAME ${OUT}.tmp ${OUT})
