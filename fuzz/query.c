/* The query-string parser: "a=1&b=x+y" with percent escapes. Every pair
 * it returns is looked up again by name. */
#include "fuzz.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 4096);
    const char *query = fuzz_cstr(&a, data, size);
    http_pairs pairs;
    if (http_router_parse_query(&a, query, &pairs) == 0) {
        for (size_t i = 0; i < pairs.n; i++) {
            FUZZ_CHECK(pairs.names[i] != NULL && pairs.values[i] != NULL);
            FUZZ_CHECK(http_pairs_get(&pairs, pairs.names[i]) != NULL);
        }
    }
    arena_free(&a);
    return 0;
}
