#include "http/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- addresses ------------------------------------------------------------------------ */

bool http_ip_parse(const char *text, size_t len, http_ip *out)
{
    char buf[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->a) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->a) != 1)
        return false;
    out->family = AF_INET6;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out->a, mapped, sizeof(mapped)) == 0) {
        memmove(out->a, out->a + 12, 4);
        memset(out->a + 4, 0, 12);
        out->family = AF_INET;
    }
    return true;
}

void http_ip_format(const http_ip *ip, char *out, size_t n)
{
    if (inet_ntop(ip->family, ip->a, out, (socklen_t)n) == NULL)
        snprintf(out, n, "unknown");
}

static bool proxy__in(const http_cidr *c, const http_ip *ip)
{
    if (c->net.family != ip->family)
        return false;
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->net.a, ip->a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->net.a[full] & mask) == (ip->a[full] & mask);
}

bool http_proxies_trust(const http_proxies *p, const http_ip *ip)
{
    for (size_t i = 0; i < p->n; i++)
        if (proxy__in(&p->v[i], ip))
            return true;
    return false;
}

/* ---- the setting ---------------------------------------------------------------------- */

static bool proxy__ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* The next item of a comma-separated list at *s, blanks trimmed, as
 * [*b, *e); moves *s past its comma. False when it was the last. */
static bool proxy__next_item(const char **s, const char **b, const char **e)
{
    const char *comma = strchr(*s, ',');
    *b = *s;
    *e = comma ? comma : *s + strlen(*s);
    while (*b < *e && proxy__ows(**b))
        (*b)++;
    while (*e > *b && proxy__ows((*e)[-1]))
        (*e)--;
    *s = comma ? comma + 1 : *e;
    return comma != NULL;
}

static int proxy__bad(error *err, const char *entry, size_t len, const char *why)
{
    return error_set(err, ERR_CONFIG, "PSTUDIO_TRUSTED_PROXIES",
                     "PSTUDIO_TRUSTED_PROXIES: \"%.*s\" %s (give comma-separated CIDRs or "
                     "addresses, e.g. 10.0.0.0/8,192.0.2.10,fd00::/8)",
                     (int)(len > 60 ? 60 : len), entry, why);
}

/* One entry, "addr" or "addr/prefix", surrounding blanks already gone. */
static int proxy__parse_cidr(const char *s, size_t len, http_cidr *out, error *err)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (!http_ip_parse(s, alen, &out->net))
        return proxy__bad(err, s, len, "is not an IPv4 or IPv6 address or CIDR");
    int max = out->net.family == AF_INET ? 32 : 128;
    /* "::ffff:10.0.0.0/104" was folded to IPv4: its prefix counts from bit 96. */
    bool folded = out->net.family == AF_INET && memchr(s, ':', alen) != NULL;
    out->prefix = max;
    if (slash != NULL) {
        const char *d = slash + 1, *end = s + len;
        if (d == end || end - d > 3)
            return proxy__bad(err, s, len, "has no valid prefix length after '/'");
        int v = 0;
        for (; d < end; d++) {
            if (*d < '0' || *d > '9')
                return proxy__bad(err, s, len, "has no valid prefix length after '/'");
            v = v * 10 + (*d - '0');
        }
        if (folded)
            v -= 96;
        if (v < 0 || v > max)
            return proxy__bad(err, s, len, "has a prefix length out of range");
        out->prefix = v;
    }
    for (int bit = out->prefix; bit < max; bit++)
        if (out->net.a[bit / 8] & (0x80 >> (bit % 8)))
            return proxy__bad(err, s, len,
                              "has address bits set past its prefix length (write the network "
                              "address, e.g. 10.0.0.0/8)");
    return 0;
}

int http_proxies_parse(const char *spec, const char *header_name, http_proxies *out, error *err)
{
    memset(out, 0, sizeof(*out));
    if (header_name == NULL || strcasecmp(header_name, "x-forwarded-for") == 0)
        out->header = HTTP_PROXY_XFF;
    else if (strcasecmp(header_name, "forwarded") == 0)
        out->header = HTTP_PROXY_FORWARDED;
    else
        return error_set(err, ERR_CONFIG, "PSTUDIO_PROXY_HEADER",
                         "PSTUDIO_PROXY_HEADER must be x-forwarded-for or forwarded (the header "
                         "your proxy appends the client's address to), not \"%.40s\"",
                         header_name);
    if (spec == NULL)
        return 0;
    const char *p = spec;
    while (proxy__ows(*p))
        p++;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *b, *e;
        bool more = proxy__next_item(&p, &b, &e);
        if (b == e)
            return error_set(err, ERR_CONFIG, "PSTUDIO_TRUSTED_PROXIES",
                             "PSTUDIO_TRUSTED_PROXIES has an empty entry (two commas in a row, "
                             "or one at an end)");
        if (out->n == HTTP_PROXY_CIDRS_MAX)
            return error_set(err, ERR_CONFIG, "PSTUDIO_TRUSTED_PROXIES",
                             "PSTUDIO_TRUSTED_PROXIES lists more than %d entries; use wider "
                             "CIDRs",
                             HTTP_PROXY_CIDRS_MAX);
        if (proxy__parse_cidr(b, (size_t)(e - b), &out->v[out->n], err) != 0)
            return -1;
        out->n++;
        if (!more)
            return 0;
    }
}

/* ---- the headers ---------------------------------------------------------------------- */

/* digits of a port, 1 to 5 of them, at most 65535. */
static bool proxy__port(const char *s, size_t len)
{
    if (len == 0 || len > 5)
        return false;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    return v <= 65535;
}

/* RFC 7239 obfport: "_" 1*(ALPHA / DIGIT / "." / "_" / "-"). */
static bool proxy__obfport(const char *s, size_t len)
{
    if (len < 2 || s[0] != '_')
        return false;
    for (size_t i = 1; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/*
 * A node: "192.0.2.7", "192.0.2.7:4711", "[2001:db8::1]", "[2001:db8::1]:4711";
 * bare IPv6 only in X-Forwarded-For (forwarded false), where proxies write
 * it so. An obfuscated port counts only in Forwarded. Anything else
 * ("unknown", "_hidden", junk) is not an address.
 */
static bool proxy__node(const char *s, size_t len, bool forwarded, http_ip *out)
{
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return false;
        size_t alen = (size_t)(close - s) - 1;
        const char *after = close + 1, *end = s + len;
        if (after < end) {
            if (*after != ':')
                return false;
            size_t plen = (size_t)(end - after - 1);
            if (!proxy__port(after + 1, plen) && !(forwarded && proxy__obfport(after + 1, plen)))
                return false;
        }
        /* "[192.0.2.7]" is not a bracketed IPv6 address; "[::ffff:192.0.2.7]" is. */
        return memchr(s + 1, ':', alen) != NULL && http_ip_parse(s + 1, alen, out);
    }
    const char *colon = memchr(s, ':', len);
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL) {
        /* One colon: IPv4 with a port. */
        size_t plen = len - (size_t)(colon - s) - 1;
        if (!proxy__port(colon + 1, plen) && !(forwarded && proxy__obfport(colon + 1, plen)))
            return false;
        return http_ip_parse(s, (size_t)(colon - s), out) && out->family == AF_INET;
    }
    if (colon != NULL && forwarded)
        return false; /* RFC 7239 writes IPv6 in brackets */
    return http_ip_parse(s, len, out);
}

/* The hops the header names, kept right-most last: a ring of the last
 * HTTP_PROXY_HOPS_MAX, each an address or "not an address". */
typedef struct proxy__hops {
    struct {
        bool ok;
        http_ip ip;
    } v[HTTP_PROXY_HOPS_MAX];
    size_t n; /* all hops seen; the ring holds the last min(n, MAX) */
} proxy__hops;

static void proxy__hop(proxy__hops *h, bool ok, const http_ip *ip)
{
    size_t i = h->n % HTTP_PROXY_HOPS_MAX;
    h->v[i].ok = ok;
    if (ok)
        h->v[i].ip = *ip;
    h->n++;
}

/* X-Forwarded-For: comma-separated addresses, no quoting. */
static bool proxy__xff(const char *s, proxy__hops *h)
{
    for (;;) {
        const char *b, *e;
        bool more = proxy__next_item(&s, &b, &e);
        http_ip ip;
        proxy__hop(h, b < e && proxy__node(b, (size_t)(e - b), false, &ip), &ip);
        if (!more)
            return true;
    }
}

/* RFC 9110 tchar. */
static bool proxy__tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/*
 * Forwarded (RFC 7239 section 4): elements split by ",", pairs by ";",
 * each pair token=value with a token or a quoted-string as value. The
 * whole value is scanned left to right, since a quoted string may hold a
 * comma; a syntax error anywhere makes the header unusable (false), as a
 * client's stray quote would otherwise swallow what the proxy appended.
 * Each element must carry exactly one "for" to name a hop.
 */
static bool proxy__forwarded(const char *s, proxy__hops *h)
{
    const unsigned char *p = (const unsigned char *)s;
    char node[64];
    size_t nlen = 0;
    int nfor = 0;
    bool node_long = false;
    for (;;) {
        while (proxy__ows((char)*p))
            p++;
        if (*p == ',' || *p == '\0') {
            /* An element ends; an empty one (",,") names no hop. */
            if (nfor > 0) {
                http_ip ip;
                proxy__hop(h, nfor == 1 && !node_long && proxy__node(node, nlen, true, &ip), &ip);
            } else if (*p == ',' || h->n > 0) {
                proxy__hop(h, false, NULL);
            }
            if (*p == '\0')
                return h->n > 0;
            p++;
            nfor = 0;
            nlen = 0;
            node_long = false;
            continue;
        }
        if (*p == ';') {
            p++;
            continue;
        }
        const unsigned char *name = p;
        while (proxy__tchar(*p))
            p++;
        size_t name_len = (size_t)(p - name);
        if (name_len == 0 || *p != '=')
            return false;
        p++;
        bool is_for = name_len == 3 && strncasecmp((const char *)name, "for", 3) == 0;
        char value[64];
        size_t vlen = 0;
        bool vlong = false;
        if (*p == '"') {
            p++;
            for (;;) {
                unsigned char ch = *p;
                if (ch == '"')
                    break;
                if (ch == '\\') {
                    ch = *++p;
                    if (ch != '\t' && (ch < 0x20 || ch == 0x7f))
                        return false;
                } else if (ch != '\t' && (ch < 0x20 || ch == 0x7f)) {
                    return false; /* includes the end of the string: an unclosed quote */
                }
                if (vlen < sizeof(value))
                    value[vlen++] = (char)ch;
                else
                    vlong = true;
                p++;
            }
            p++;
        } else {
            const unsigned char *v = p;
            while (proxy__tchar(*p))
                p++;
            if (p == v)
                return false;
            vlen = (size_t)(p - v);
            if (vlen > sizeof(value)) {
                vlen = sizeof(value);
                vlong = true;
            }
            memcpy(value, v, vlen);
        }
        while (proxy__ows((char)*p))
            p++;
        if (*p != ';' && *p != ',' && *p != '\0')
            return false;
        if (is_for) {
            nfor++;
            memcpy(node, value, vlen);
            nlen = vlen;
            node_long = vlong;
        }
    }
}

bool http_proxies_client(const http_proxies *p, const http_ip *peer, const char *value,
                         http_ip *client)
{
    *client = *peer;
    if (p->n == 0 || value == NULL || !http_proxies_trust(p, peer))
        return false;
    if (strlen(value) > HTTP_PROXY_HEADER_MAX)
        return false;
    proxy__hops h = {0};
    bool ok =
        p->header == HTTP_PROXY_FORWARDED ? proxy__forwarded(value, &h) : proxy__xff(value, &h);
    if (!ok || h.n == 0)
        return false;
    /* From the right: skip trusted proxies; the first other address is the
     * client. Left of it everything is the client's to write, and ignored. */
    size_t walk = h.n < HTTP_PROXY_HOPS_MAX ? h.n : HTTP_PROXY_HOPS_MAX;
    for (size_t k = 0; k < walk; k++) {
        size_t i = (h.n - 1 - k) % HTTP_PROXY_HOPS_MAX;
        if (!h.v[i].ok)
            return false;
        if (!http_proxies_trust(p, &h.v[i].ip) || k == h.n - 1) {
            /* An untrusted hop, or the left end of a chain of trusted ones:
             * the request started there. */
            *client = h.v[i].ip;
            return true;
        }
    }
    return false; /* more trusted hops than we walk */
}
