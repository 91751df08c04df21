/*
 * proxy: which address a request comes from when the service runs behind
 * reverse proxies or load balancers (PSTUDIO_TRUSTED_PROXIES). Only when
 * the TCP peer is inside one of the trusted CIDRs is the forwarding header
 * read, from the right: the right-most address that is not itself a trusted
 * proxy is the client, since everything left of it was written by parties
 * we do not trust. A header that is missing, too large or malformed where
 * it is read leaves the peer as the client. The parsing is pure (no
 * sockets, no MHD) so the unit tests can throw hostile input at it.
 */
#ifndef PS_HTTP_PROXY_H
#define PS_HTTP_PROXY_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>

/* The combined header value read at most; a longer one is ignored whole. */
#define HTTP_PROXY_HEADER_MAX 4096
/* Trusted CIDRs at most, and hops walked from the right at most. */
#define HTTP_PROXY_CIDRS_MAX 64
#define HTTP_PROXY_HOPS_MAX  32

/* An address: IPv4 in a[0..3] (IPv4-mapped IPv6 is folded to IPv4). */
typedef struct http_ip {
    int family; /* AF_INET or AF_INET6 */
    unsigned char a[16];
} http_ip;

typedef enum http_proxy_header {
    HTTP_PROXY_XFF,       /* X-Forwarded-For: 203.0.113.7, 10.0.0.2 */
    HTTP_PROXY_FORWARDED, /* RFC 7239 Forwarded: for=203.0.113.7;proto=https, for="[::1]:80" */
} http_proxy_header;

typedef struct http_cidr {
    http_ip net;
    int prefix;
} http_cidr;

/* The trusted proxies; n == 0 trusts no one (every peer is the client). */
typedef struct http_proxies {
    http_cidr v[HTTP_PROXY_CIDRS_MAX];
    size_t n;
    http_proxy_header header;
} http_proxies;

/**
 * Parses a comma-separated list of CIDRs or single addresses ("10.0.0.0/8,
 * 192.0.2.10, fd00::/8"); NULL or "" trusts no one. header_name is
 * "x-forwarded-for" (NULL means it) or "forwarded". ERR_CONFIG with field
 * PSTUDIO_TRUSTED_PROXIES (or PSTUDIO_PROXY_HEADER) naming the bad entry:
 * not an address, a prefix out of range, bits set past the prefix, an
 * empty entry, more than HTTP_PROXY_CIDRS_MAX entries.
 */
int http_proxies_parse(const char *spec, const char *header_name, http_proxies *out, error *err);
/** Whether ip lies inside one of the trusted CIDRs. */
bool http_proxies_trust(const http_proxies *p, const http_ip *ip);
/** Parses a bare numeric IPv4 or IPv6 address (no port, no brackets, no zone). */
bool http_ip_parse(const char *text, size_t len, http_ip *out);
/** Writes ip as text (inet_ntop); out holds at least 46 bytes. */
void http_ip_format(const http_ip *ip, char *out, size_t n);
/**
 * The client of a request whose TCP peer is `peer` and whose forwarding
 * header (every occurrence joined by ", ", NULL when absent) is `value`.
 * Returns true and fills *client from the header only when the peer is
 * trusted and the header yields an address; false leaves *client = *peer.
 */
bool http_proxies_client(const http_proxies *p, const http_ip *peer, const char *value,
                         http_ip *client);

#endif
