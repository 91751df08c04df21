#include "http/routes.h"

#include "base/alloc.h"

typedef struct routes__group {
    const http_route *routes;
    const size_t *count;
} routes__group;

#define G(g)                                                                                       \
    {                                                                                              \
        g##_routes, &g##_routes_count                                                              \
    }

static const routes__group routes__groups[] = {
    {http_ops_routes, &http_ops_routes_count},
    G(auth),
    G(admin),
    G(audit),
    G(personas),
    G(channels),
    G(projects),
    G(jobs),
    G(generation),
    G(google),
    G(performance),
    G(media),
    G(optimizer),
    G(web),
};

#define ROUTES__N (sizeof(routes__groups) / sizeof(routes__groups[0]))

http_route *http_all_routes(size_t *n)
{
    size_t total = 0;
    for (size_t g = 0; g < ROUTES__N; g++)
        total += *routes__groups[g].count;
    http_route *all = xcalloc(total ? total : 1, sizeof(*all));
    size_t k = 0;
    for (size_t g = 0; g < ROUTES__N; g++)
        for (size_t i = 0; i < *routes__groups[g].count; i++)
            all[k++] = routes__groups[g].routes[i];
    *n = k;
    return all;
}
