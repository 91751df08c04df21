/* json_plain_strings, the fast path for stored string arrays, checked
 * against jansson: whenever it accepts a text, json_loads must read the
 * same array of the same strings (the contract in base/jsonout.h). */
#include "base/jsonout.h"
#include "fuzz.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 4096);
    const char *text = fuzz_cstr(&a, data, size);
    const char **items = NULL;
    size_t n = 0;
    if (json_plain_strings(&a, text, &items, &n)) {
        json_t *doc = json_loads(text, 0, NULL);
        FUZZ_CHECK(json_is_array(doc));
        FUZZ_CHECK(json_array_size(doc) == n);
        FUZZ_CHECK((n == 0) == (items == NULL));
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(doc, i);
            FUZZ_CHECK(json_is_string(v));
            FUZZ_CHECK(strcmp(json_string_value(v), items[i]) == 0);
        }
        json_decref(doc);
    }
    arena_free(&a);
    return 0;
}
