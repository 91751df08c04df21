/*
 * The dashboard: a single page (web/index.html) with its ES modules and
 * styles (web/app/) and the vendored third-party modules (web/vendor/),
 * all embedded in the binary. It is served under three path shapes only,
 * "/", "/app/{file}" and "/vendor/{package}/{file}", so it can never shadow
 * the API, the operational endpoints or a future route: the dashboard's own
 * screens live in the URL fragment ("/#/channels/…"), which no server sees.
 *
 * Every answer carries a validator (ETag) and "Cache-Control: no-cache", so
 * a browser revalidates and gets a bodiless 304 until the binary changes;
 * and a Content-Security-Policy that lets the page run its own files and
 * nothing else: no inline script or style, no other origin but YouTube's
 * image hosts for channel thumbnails, and no framing.
 */
#include "http/http.h"
#include "http/web_assets.h"

#include <stdlib.h>
#include <string.h>

/* script-src and style-src 'self' only: the page applies styles by class
 * (and the CSSOM, which CSP does not govern), never by a style attribute.
 * connect-src 'self' covers fetch and the events stream. img-src names the
 * hosts YouTube serves channel thumbnails from; media-src 'self' lets the
 * scene board play its narration from the media route. */
#define WEB_CSP                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "                \
    "img-src 'self' https://yt3.ggpht.com https://yt3.googleusercontent.com "                      \
    "https://i.ytimg.com; media-src 'self'; font-src 'self'; base-uri 'none'; "                    \
    "form-action 'self'; frame-ancestors 'none'"

static int h_web__cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const web_asset *)elem)->path);
}

static const web_asset *h_web__find(const char *path)
{
    return bsearch(path, web_assets, (size_t)web_assets_count, sizeof(web_assets[0]), h_web__cmp);
}

/* True when If-None-Match names etag (or is "*"): the browser's copy is current. */
static bool h_web__not_modified(http_request *r, const char *etag)
{
    const char *inm = http_header(r, "If-None-Match");
    if (inm == NULL)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
        /* a whole list member: preceded by start, ',' , ' ' or "W/" */
        bool start = p == inm || p[-1] == ',' || p[-1] == ' ' || (p - inm >= 2 && p[-1] == '/');
        bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
        if (start && end)
            return true;
    }
    return false;
}

static void h_web__serve(http_request *r, const char *path)
{
    const web_asset *a = h_web__find(path);
    if (a == NULL) {
        http_reply_problem(r, 404, "not-found", "Not found",
                           "The dashboard has no file at this path.");
        return;
    }
    http_set_header(r, "ETag", a->etag);
    http_set_header(r, "Cache-Control", "no-cache");
    if (strncmp(a->content_type, "text/html", 9) == 0)
        http_set_header(r, "Content-Security-Policy", WEB_CSP);
    if (h_web__not_modified(r, a->etag)) {
        http_reply(r, 304, NULL, NULL, 0);
        return;
    }
    http_reply(r, 200, a->content_type, a->data, a->len);
}

static void h_web__index(http_request *r)
{
    h_web__serve(r, "/index.html");
}

/* A segment is a plain file name: no "..", no '/', (the router decoded
 * %2F into the segment), no leading dot. Anything else is not ours. */
static bool h_web__name_ok(const char *s)
{
    if (s == NULL || s[0] == '\0' || s[0] == '.' || strlen(s) > 100)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return false;
    return true;
}

static void h_web__app(http_request *r)
{
    const char *f = http_param(r, "file");
    if (!h_web__name_ok(f)) {
        h_web__serve(r, "");
        return;
    }
    h_web__serve(r, arena_sprintf(http_arena(r), "/app/%s", f));
}

static void h_web__vendor(http_request *r)
{
    const char *pkg = http_param(r, "package"), *f = http_param(r, "file");
    if (!h_web__name_ok(pkg) || !h_web__name_ok(f)) {
        h_web__serve(r, "");
        return;
    }
    h_web__serve(r, arena_sprintf(http_arena(r), "/vendor/%s/%s", pkg, f));
}

const http_route web_routes[] = {
    {"GET", "/", h_web__index, "web.index"},
    {"GET", "/app/{file}", h_web__app, "web.app"},
    {"GET", "/vendor/{package}/{file}", h_web__vendor, "web.vendor"},
};
const size_t web_routes_count = sizeof(web_routes) / sizeof(web_routes[0]);
