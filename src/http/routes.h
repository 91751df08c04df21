/*
 * routes: the one place where every handler file's route table is put
 * together. A handler file exports `<group>_routes[]` and
 * `<group>_routes_count`; adding a group means one line in routes.c.
 */
#ifndef PS_HTTP_ROUTES_H
#define PS_HTTP_ROUTES_H

#include "http/http.h"

#define HTTP_ROUTE_GROUP(g)                                                                        \
    extern const http_route g##_routes[];                                                          \
    extern const size_t g##_routes_count

HTTP_ROUTE_GROUP(auth);
HTTP_ROUTE_GROUP(admin);
HTTP_ROUTE_GROUP(audit);
HTTP_ROUTE_GROUP(personas);
HTTP_ROUTE_GROUP(channels);
HTTP_ROUTE_GROUP(projects);
HTTP_ROUTE_GROUP(jobs);
HTTP_ROUTE_GROUP(generation);
HTTP_ROUTE_GROUP(google);
HTTP_ROUTE_GROUP(performance);
HTTP_ROUTE_GROUP(media);
HTTP_ROUTE_GROUP(optimizer);
HTTP_ROUTE_GROUP(web);

/** A new array (caller frees) of every route of the service, ops routes included. */
http_route *http_all_routes(size_t *n);

#endif
