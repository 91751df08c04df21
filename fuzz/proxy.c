/* The forwarding-header parsers (X-Forwarded-For and RFC 7239 Forwarded)
 * and the trusted-proxy list. The first byte picks the header and whether
 * the first line of the input is the trusted list itself (else a fixed
 * list that trusts the peer); the rest is the header value. */
#include "http/proxy.h"
#include "fuzz.h"

#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned pick = fuzz_take_byte(&data, &size);
    arena a;
    arena_init(&a, 4096);
    char *in = fuzz_cstr(&a, data, size);
    const char *spec = "10.0.0.0/8, 192.0.2.10, fd00::/8, 127.0.0.1";
    const char *value = in;
    if (pick & 2) {
        char *nl = strchr(in, '\n');
        if (nl != NULL) {
            *nl = '\0';
            spec = in;
            value = nl + 1;
        }
    }
    http_proxies p;
    error err;
    if (http_proxies_parse(spec, (pick & 1) ? "forwarded" : "x-forwarded-for", &p, &err) == 0) {
        FUZZ_CHECK(p.n <= HTTP_PROXY_CIDRS_MAX);
        http_ip peer;
        FUZZ_CHECK(http_ip_parse((pick & 4) ? "fd00::5" : "10.1.2.3", (pick & 4) ? 7 : 8, &peer));
        http_ip client;
        bool from_header = http_proxies_client(&p, &peer, value, &client);
        FUZZ_CHECK(client.family == AF_INET || client.family == AF_INET6);
        char text[64];
        http_ip_format(&client, text, sizeof(text));
        http_ip back;
        FUZZ_CHECK(http_ip_parse(text, strlen(text), &back));
        FUZZ_CHECK(back.family == client.family &&
                   memcmp(back.a, client.a, client.family == AF_INET ? 4 : 16) == 0);
        FUZZ_CHECK(from_header || memcmp(&client, &peer, sizeof(peer)) == 0);
    }
    arena_free(&a);
    return 0;
}
