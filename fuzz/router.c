/* The router: the service's whole route table, a method and a raw request
 * target. Input: "<METHOD> <path>"; a path with '?' is cut there, as the
 * server cuts it, and the query given to the query-string parser too. */
#include "http/router.h"
#include "fuzz.h"
#include "http/routes.h"

static http_router *fuzz__rt;
static size_t fuzz__nroutes;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz__rt == NULL) {
        /* The router points into the table: both live as long as the process. */
        http_route *routes = http_all_routes(&fuzz__nroutes);
        error err;
        fuzz__rt = http_router_new(routes, fuzz__nroutes, &err);
        FUZZ_CHECK(fuzz__rt != NULL);
    }
    arena a;
    arena_init(&a, 4096);
    char *in = fuzz_cstr(&a, data, size);
    char *sp = memchr(in, ' ', size);
    const char *method = "GET";
    char *target = in;
    size_t len = size;
    if (sp != NULL) {
        *sp = '\0';
        method = in;
        target = sp + 1;
        len = size - (size_t)(target - in);
    }
    char *q = memchr(target, '?', len);
    if (q != NULL) {
        len = (size_t)(q - target);
        http_pairs pairs;
        if (http_router_parse_query(&a, q + 1, &pairs) == 0)
            for (size_t i = 0; i < pairs.n; i++)
                FUZZ_CHECK(pairs.names[i] != NULL && pairs.values[i] != NULL);
    }
    http_match m;
    http_router_match(fuzz__rt, &a, method, target, len, &m);
    if (m.result == HTTP_MATCH_OK) {
        FUZZ_CHECK(m.route >= 0 && (size_t)m.route < fuzz__nroutes);
        for (size_t i = 0; i < m.params.n; i++)
            FUZZ_CHECK(m.params.values[i] != NULL && http_pairs_get(&m.params, m.params.names[i]));
    } else {
        FUZZ_CHECK(m.route == -1);
        FUZZ_CHECK(m.result != HTTP_MATCH_NO_METHOD || m.allow != NULL);
    }
    arena_free(&a);
    return 0;
}
