#include "http/router.h"

#include "base/alloc.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

/* A pattern segment: literal text, or the name of a {param}. */
typedef struct router_seg {
    char *text;
    size_t len;
    bool param;
} router_seg;

typedef struct router_entry {
    const http_route *route;
    router_seg *segs;
    size_t nsegs;
} router_entry;

struct http_router {
    router_entry *entries;
    size_t n;
};

/* A request path segment after decoding. A segment whose decoded form holds
 * a '/' (it was sent as %2F) can match nothing: it is neither a literal in
 * our patterns nor a single segment a handler could safely receive. */
typedef struct path_seg {
    const char *text;
    size_t len;
    bool has_slash;
} path_seg;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX escapes (and '+' when plus_space) into a NUL-terminated arena
 * copy. A decoded NUL is refused because every consumer is a C string. */
static int pct_decode(arena *a, const char *s, size_t n, bool plus_space, char **out,
                      size_t *out_len)
{
    char *d = arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        d[j++] = c;
    }
    d[j] = '\0';
    *out = d;
    if (out_len != NULL)
        *out_len = j;
    return 0;
}

static bool is_method_token(const char *m)
{
    if (m == NULL || *m == '\0')
        return false;
    for (; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return false;
    return true;
}

static bool is_param_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static int compile_pattern(const http_route *rt, router_entry *e, error *err)
{
    const char *p = rt->pattern;
    if (p == NULL || p[0] != '/')
        return error_set(err, ERR_CONFIG, NULL, "route %s: pattern must start with '/'",
                         rt->name ? rt->name : "?");
    size_t nsegs = 1;
    for (const char *q = p + 1; *q; q++)
        nsegs += *q == '/';
    e->route = rt;
    e->nsegs = nsegs;
    e->segs = xcalloc(nsegs, sizeof(router_seg));

    const char *start = p + 1;
    for (size_t i = 0; i < nsegs; i++) {
        const char *end = strchr(start, '/');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        router_seg *s = &e->segs[i];
        if (len >= 2 && start[0] == '{' && start[len - 1] == '}') {
            if (!is_param_name(start + 1, len - 2))
                return error_set(err, ERR_CONFIG, NULL,
                                 "route %s: bad parameter segment in \"%s\" (use {name} with "
                                 "letters, digits or _)",
                                 rt->name, p);
            s->param = true;
            s->text = xstrndup(start + 1, len - 2);
            s->len = len - 2;
            for (size_t k = 0; k < i; k++)
                if (e->segs[k].param && strcmp(e->segs[k].text, s->text) == 0)
                    return error_set(err, ERR_CONFIG, NULL,
                                     "route %s: parameter {%s} appears twice in \"%s\"", rt->name,
                                     s->text, p);
        } else {
            if (memchr(start, '{', len) || memchr(start, '}', len) || memchr(start, '%', len) ||
                (len == 0 && nsegs > 1))
                return error_set(err, ERR_CONFIG, NULL,
                                 "route %s: bad literal segment in \"%s\" (no braces, no %%, no "
                                 "empty segments)",
                                 rt->name, p);
            s->text = xstrndup(start, len);
            s->len = len;
        }
        start += len + 1;
    }
    return 0;
}

/* Two routes with the same method whose segments are pairwise both params or
 * equal literals would match exactly the same paths; the second could never
 * run, which is a mistake in the table, not something to resolve silently. */
static bool same_shape(const router_entry *a, const router_entry *b)
{
    if (a->nsegs != b->nsegs || strcmp(a->route->method, b->route->method) != 0)
        return false;
    for (size_t i = 0; i < a->nsegs; i++) {
        const router_seg *x = &a->segs[i], *y = &b->segs[i];
        if (x->param != y->param)
            return false;
        if (!x->param && strcmp(x->text, y->text) != 0)
            return false;
    }
    return true;
}

http_router *http_router_new(const http_route *routes, size_t n, error *err)
{
    http_router *rt = xcalloc(1, sizeof(*rt));
    rt->entries = xcalloc(n ? n : 1, sizeof(router_entry));
    for (size_t i = 0; i < n; i++) {
        const http_route *r = &routes[i];
        if (r->name == NULL || r->name[0] == '\0' || r->handler == NULL ||
            !is_method_token(r->method)) {
            error_set(err, ERR_CONFIG, NULL,
                      "route #%zu (%s): needs an upper-case method, a handler and a name", i,
                      r->pattern ? r->pattern : "no pattern");
            goto fail;
        }
        rt->n = i + 1; /* so http_router_free releases a half-compiled entry */
        if (compile_pattern(r, &rt->entries[i], err) != 0)
            goto fail;
        for (size_t k = 0; k < i; k++) {
            if (same_shape(&rt->entries[k], &rt->entries[i])) {
                error_set(err, ERR_CONFIG, NULL, "routes %s and %s both match %s %s",
                          routes[k].name, r->name, r->method, r->pattern);
                goto fail;
            }
        }
    }
    rt->n = n;
    return rt;
fail:
    http_router_free(rt);
    return NULL;
}

void http_router_free(http_router *rt)
{
    if (rt == NULL)
        return;
    for (size_t i = 0; i < rt->n; i++) {
        router_entry *e = &rt->entries[i];
        if (e->segs == NULL)
            continue;
        for (size_t k = 0; k < e->nsegs; k++)
            free(e->segs[k].text);
        free(e->segs);
    }
    free(rt->entries);
    free(rt);
}

static bool entry_matches(const router_entry *e, const path_seg *segs, size_t nsegs)
{
    if (e->nsegs != nsegs)
        return false;
    for (size_t i = 0; i < nsegs; i++) {
        const router_seg *s = &e->segs[i];
        const path_seg *p = &segs[i];
        if (p->has_slash)
            return false;
        if (s->param) {
            if (p->len == 0)
                return false;
        } else if (s->len != p->len || memcmp(s->text, p->text, p->len) != 0) {
            return false;
        }
    }
    return true;
}

/* True when a is more specific than b: at the first segment where one is a
 * literal and the other a param, a has the literal. */
static bool more_specific(const router_entry *a, const router_entry *b)
{
    for (size_t i = 0; i < a->nsegs; i++)
        if (a->segs[i].param != b->segs[i].param)
            return !a->segs[i].param;
    return false;
}

/* The Allow value for a 405: the distinct methods of the routes that match the
 * path, in table order, plus HEAD wherever GET is served (it falls back). */
static const char *allow_list(const http_router *rt, arena *a, const bool *path_hit)
{
    buf out;
    buf_init(&out, 4096);
    bool has_get = false, has_head = false;
    for (size_t i = 0; i < rt->n; i++) {
        if (!path_hit[i])
            continue;
        const char *m = rt->entries[i].route->method;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = path_hit[k] && strcmp(rt->entries[k].route->method, m) == 0;
        if (seen)
            continue;
        has_get |= strcmp(m, "GET") == 0;
        has_head |= strcmp(m, "HEAD") == 0;
        buf_printf(&out, "%s%s", out.len ? ", " : "", m);
    }
    if (has_get && !has_head)
        buf_puts(&out, ", HEAD");
    const char *s = arena_strdup(a, buf_cstr(&out));
    buf_free(&out);
    return s;
}

static void bind_params(const router_entry *e, arena *a, const path_seg *segs, http_pairs *out)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nsegs; i++)
        n += e->segs[i].param;
    out->n = n;
    out->names = arena_alloc(a, (n ? n : 1) * sizeof(char *));
    out->values = arena_alloc(a, (n ? n : 1) * sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < e->nsegs; i++) {
        if (!e->segs[i].param)
            continue;
        out->names[k] = e->segs[i].text;
        out->values[k] = segs[i].text;
        k++;
    }
}

void http_router_match(const http_router *rt, arena *a, const char *method, const char *path,
                       size_t len, http_match *m)
{
    memset(m, 0, sizeof(*m));
    m->route = -1;
    if (len == 0 || path[0] != '/') {
        m->result = HTTP_MATCH_BAD_PATH;
        return;
    }
    size_t nsegs = 1;
    for (size_t i = 1; i < len; i++)
        nsegs += path[i] == '/';
    path_seg *segs = arena_alloc(a, nsegs * sizeof(path_seg));
    const char *start = path + 1, *end = path + len;
    for (size_t i = 0; i < nsegs; i++) {
        const char *slash = memchr(start, '/', (size_t)(end - start));
        size_t slen = slash ? (size_t)(slash - start) : (size_t)(end - start);
        char *dec;
        if (pct_decode(a, start, slen, false, &dec, &segs[i].len) != 0) {
            m->result = HTTP_MATCH_BAD_PATH;
            return;
        }
        segs[i].text = dec;
        segs[i].has_slash = memchr(dec, '/', segs[i].len) != NULL;
        start += slen + 1;
    }

    bool *path_hit = arena_calloc(a, (rt->n ? rt->n : 1) * sizeof(bool));
    bool any_path = false, head = strcmp(method, "HEAD") == 0;
    int best = -1, best_get = -1;
    for (size_t i = 0; i < rt->n; i++) {
        const router_entry *e = &rt->entries[i];
        if (!entry_matches(e, segs, nsegs))
            continue;
        path_hit[i] = any_path = true;
        int *slot = NULL;
        if (strcmp(e->route->method, method) == 0)
            slot = &best;
        else if (head && strcmp(e->route->method, "GET") == 0)
            slot = &best_get;
        if (slot != NULL && (*slot < 0 || more_specific(e, &rt->entries[*slot])))
            *slot = (int)i;
    }
    if (best < 0)
        best = best_get;
    if (best >= 0) {
        m->result = HTTP_MATCH_OK;
        m->route = best;
        bind_params(&rt->entries[best], a, segs, &m->params);
    } else if (any_path) {
        m->result = HTTP_MATCH_NO_METHOD;
        m->allow = allow_list(rt, a, path_hit);
    } else {
        m->result = HTTP_MATCH_NO_PATH;
    }
}

int http_router_parse_query(arena *a, const char *query, http_pairs *out)
{
    size_t cap = 1;
    for (const char *q = query; *q; q++)
        cap += *q == '&';
    out->names = arena_alloc(a, cap * sizeof(char *));
    out->values = arena_alloc(a, cap * sizeof(char *));
    out->n = 0;
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            char *k, *v = NULL;
            if (pct_decode(a, p, klen, true, &k, NULL) != 0)
                return -1;
            if (eq && pct_decode(a, eq + 1, len - klen - 1, true, &v, NULL) != 0)
                return -1;
            out->names[out->n] = k;
            out->values[out->n] = v ? v : "";
            out->n++;
        }
        p += len + (amp != NULL);
    }
    return 0;
}

const char *http_pairs_get(const http_pairs *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->values[i];
    return NULL;
}
