/*
 * http/proxy: the PSTUDIO_TRUSTED_PROXIES list and the client address read
 * from X-Forwarded-For or RFC 7239 Forwarded, with hostile input. The rule
 * under test: only a trusted peer's header counts, read from the right,
 * and anything malformed where it is read leaves the peer as the client.
 */
#include "testlib.h"

#include "http/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static http_ip ip_of(const char *text)
{
    http_ip ip;
    if (!http_ip_parse(text, strlen(text), &ip))
        fail_msg("not an address: %s", text);
    return ip;
}

static void parse_ok(const char *spec, const char *header, http_proxies *p)
{
    error e;
    if (http_proxies_parse(spec, header, p, &e) != 0)
        fail_msg("'%s' refused: %s", spec ? spec : "(null)", e.message);
}

static void parse_fails(const char *spec, const char *field, const char *needle)
{
    http_proxies p;
    error e;
    assert_int_equal(http_proxies_parse(spec, NULL, &p, &e), -1);
    assert_int_equal(e.kind, ERR_CONFIG);
    assert_string_equal(e.field, field);
    if (strstr(e.message, needle) == NULL)
        fail_msg("'%s': expected '%s' in: %s", spec, needle, e.message);
}

/* The client the header yields from peer, as text; "peer" when it fell back. */
static const char *client_of(const http_proxies *p, const char *peer, const char *value)
{
    static char out[INET6_ADDRSTRLEN];
    http_ip pip = ip_of(peer), c;
    bool forwarded = http_proxies_client(p, &pip, value, &c);
    if (!forwarded) {
        assert_memory_equal(&c, &pip, sizeof(c));
        return "peer";
    }
    http_ip_format(&c, out, sizeof(out));
    return out;
}

static void test_the_setting_takes_cidrs_and_single_addresses_of_both_families(void **state)
{
    (void)state;
    http_proxies p;
    parse_ok(" 10.0.0.0/8 , 192.0.2.10,fd00::/8,\t::1 , 0.0.0.0/0", NULL, &p);
    assert_int_equal(p.n, 5);
    assert_int_equal(p.header, HTTP_PROXY_XFF);
    http_ip ip = ip_of("10.200.3.4");
    assert_true(http_proxies_trust(&p, &ip));
    ip = ip_of("fd12:3456::1");
    assert_true(http_proxies_trust(&p, &ip));
    ip = ip_of("fe80::1");
    assert_false(http_proxies_trust(&p, &ip));
    /* An IPv4-mapped IPv6 peer is its IPv4 address. */
    parse_ok("192.0.2.0/24", NULL, &p);
    ip = ip_of("::ffff:192.0.2.77");
    assert_true(http_proxies_trust(&p, &ip));
    ip = ip_of("192.0.3.1");
    assert_false(http_proxies_trust(&p, &ip));
    /* Prefixes that do not end on a byte. */
    parse_ok("172.16.0.0/12,2001:db8:8000::/33", NULL, &p);
    ip = ip_of("172.31.255.255");
    assert_true(http_proxies_trust(&p, &ip));
    ip = ip_of("172.32.0.0");
    assert_false(http_proxies_trust(&p, &ip));
    ip = ip_of("2001:db8:ffff::1");
    assert_true(http_proxies_trust(&p, &ip));
    ip = ip_of("2001:db8:7fff::1");
    assert_false(http_proxies_trust(&p, &ip));
    /* Nothing, or blanks: trust no one. */
    parse_ok(NULL, NULL, &p);
    assert_int_equal(p.n, 0);
    parse_ok("  ", "Forwarded", &p);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.header, HTTP_PROXY_FORWARDED);
}

static void test_a_bad_setting_is_refused_naming_the_setting_and_the_entry(void **state)
{
    (void)state;
    parse_fails("10.0.0.0/8,nginx", "PSTUDIO_TRUSTED_PROXIES", "\"nginx\"");
    parse_fails("10.0.0.0/33", "PSTUDIO_TRUSTED_PROXIES", "out of range");
    parse_fails("::/129", "PSTUDIO_TRUSTED_PROXIES", "out of range");
    parse_fails("10.0.0.1/8", "PSTUDIO_TRUSTED_PROXIES", "bits set past");
    parse_fails("10.0.0.0/", "PSTUDIO_TRUSTED_PROXIES", "prefix length");
    parse_fails("10.0.0.0/-1", "PSTUDIO_TRUSTED_PROXIES", "prefix length");
    parse_fails("10.0.0.0/8x", "PSTUDIO_TRUSTED_PROXIES", "prefix length");
    parse_fails("10.0.0.0/0008", "PSTUDIO_TRUSTED_PROXIES", "prefix length");
    parse_fails("10.0.0.0/8,,::1", "PSTUDIO_TRUSTED_PROXIES", "empty entry");
    parse_fails("10.0.0.0/8,", "PSTUDIO_TRUSTED_PROXIES", "empty entry");
    parse_fails("fe80::1%eth0", "PSTUDIO_TRUSTED_PROXIES", "not an IPv4 or IPv6");
    parse_fails("010.0.0.1", "PSTUDIO_TRUSTED_PROXIES", "not an IPv4 or IPv6");
    parse_fails("10.0.0", "PSTUDIO_TRUSTED_PROXIES", "not an IPv4 or IPv6");
    parse_fails("[::1]", "PSTUDIO_TRUSTED_PROXIES", "not an IPv4 or IPv6");
    char many[2048] = "";
    for (int i = 0; i <= HTTP_PROXY_CIDRS_MAX; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.0.%d.0/24", i ? "," : "",
                 i);
    parse_fails(many, "PSTUDIO_TRUSTED_PROXIES", "more than");
    http_proxies p;
    error e;
    assert_int_equal(http_proxies_parse("10.0.0.0/8", "X-Real-IP", &p, &e), -1);
    assert_string_equal(e.field, "PSTUDIO_PROXY_HEADER");
}

static void test_only_a_trusted_peer_s_header_counts(void **state)
{
    (void)state;
    http_proxies p;
    parse_ok("10.0.0.0/8", NULL, &p);
    assert_string_equal(client_of(&p, "10.1.2.3", "203.0.113.7"), "203.0.113.7");
    assert_string_equal(client_of(&p, "198.51.100.1", "203.0.113.7"), "peer");
    assert_string_equal(client_of(&p, "10.1.2.3", NULL), "peer");
    /* No trusted proxies at all: never read. */
    parse_ok(NULL, NULL, &p);
    assert_string_equal(client_of(&p, "10.1.2.3", "203.0.113.7"), "peer");
}

static void test_x_forwarded_for_yields_the_right_most_untrusted_address(void **state)
{
    (void)state;
    http_proxies p;
    parse_ok("10.0.0.0/8,fd00::/8", NULL, &p);
    /* A client's forged entries sit left of what the proxies appended. */
    assert_string_equal(client_of(&p, "10.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.9"), "203.0.113.7");
    assert_string_equal(client_of(&p, "10.0.0.1", "203.0.113.7,10.0.0.9,fd00::2"), "203.0.113.7");
    /* Junk left of the client is the client's own and is not read. */
    assert_string_equal(client_of(&p, "10.0.0.1", "<script>, ,,, 203.0.113.7"), "203.0.113.7");
    /* IPv6, bracketed or not, and ports as some balancers add them. */
    assert_string_equal(client_of(&p, "10.0.0.1", "2001:db8::7"), "2001:db8::7");
    assert_string_equal(client_of(&p, "10.0.0.1", "[2001:db8::7]:4711"), "2001:db8::7");
    assert_string_equal(client_of(&p, "10.0.0.1", "[2001:db8::7]"), "2001:db8::7");
    assert_string_equal(client_of(&p, "10.0.0.1", "203.0.113.7:51000"), "203.0.113.7");
    assert_string_equal(client_of(&p, "10.0.0.1", "::ffff:203.0.113.7"), "203.0.113.7");
    /* Every hop trusted: the request began at the left-most one. */
    assert_string_equal(client_of(&p, "10.0.0.1", "10.9.9.9, 10.0.0.5"), "10.9.9.9");
    /* An IPv4-mapped trusted peer. */
    assert_string_equal(client_of(&p, "::ffff:10.0.0.1", "203.0.113.7"), "203.0.113.7");
}

static void test_a_malformed_x_forwarded_for_leaves_the_peer(void **state)
{
    (void)state;
    http_proxies p;
    parse_ok("10.0.0.0/8", NULL, &p);
    const char *bad[] = {
        "",
        " ",
        ",",
        "203.0.113.7,",
        "203.0.113.7, ",
        "unknown",
        "203.0.113.7, garbage",
        "203.0.113.7 10.0.0.2",
        "203.0.113.256",
        "203.0.113",
        "0203.0.113.7",
        "203.0.113.7:",
        "203.0.113.7:99999",
        "203.0.113.7:80:80",
        "203.0.113.7:http",
        "[203.0.113.7]",
        "[2001:db8::7",
        "[2001:db8::7]x",
        "[2001:db8::7]:",
        "fe80::1%eth0",
        "2001:db8::7::8",
        "\"203.0.113.7\"",
        "203.0.113.7\t\x01",
        "for=203.0.113.7",
        "1.1.1.1, garbage, 10.0.0.2", /* reached through a trusted hop */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strcmp(client_of(&p, "10.0.0.1", bad[i]), "peer") != 0)
            fail_msg("'%s' yielded an address", bad[i]);
}

static void test_an_oversized_header_or_too_many_trusted_hops_leaves_the_peer(void **state)
{
    (void)state;
    http_proxies p;
    parse_ok("10.0.0.0/8", NULL, &p);
    static char big[HTTP_PROXY_HEADER_MAX + 64];
    memset(big, 0, sizeof(big));
    while (strlen(big) < HTTP_PROXY_HEADER_MAX)
        strcat(big, "1.1.1.1, ");
    strcat(big, "203.0.113.7");
    assert_string_equal(client_of(&p, "10.0.0.1", big), "peer");
    /* Just under the cap is read. */
    memset(big, 0, sizeof(big));
    while (strlen(big) < HTTP_PROXY_HEADER_MAX - 40)
        strcat(big, "1.1.1.1, ");
    strcat(big, "203.0.113.7");
    assert_string_equal(client_of(&p, "10.0.0.1", big), "203.0.113.7");
    /* More trusted hops than are walked. */
    char chain[2048] = "203.0.113.7";
    for (int i = 0; i < HTTP_PROXY_HOPS_MAX; i++)
        snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), ", 10.0.0.%d", i + 1);
    assert_string_equal(client_of(&p, "10.0.0.1", chain), "peer");
    /* One fewer is fine. */
    char *last = strrchr(chain, ',');
    *last = '\0';
    assert_string_equal(client_of(&p, "10.0.0.1", chain), "203.0.113.7");
}

static void test_forwarded_reads_for_with_quoted_ipv6_and_ports(void **state)
{
    (void)state;
    http_proxies p;
    parse_ok("10.0.0.0/8,fd00::/8", "forwarded", &p);
    assert_string_equal(client_of(&p, "10.0.0.1", "for=203.0.113.7"), "203.0.113.7");
    assert_string_equal(client_of(&p, "10.0.0.1", "For=\"[2001:db8:cafe::17]:4711\""),
                        "2001:db8:cafe::17");
    assert_string_equal(client_of(&p, "10.0.0.1", "for=\"[2001:db8::1]\";proto=https"),
                        "2001:db8::1");
    assert_string_equal(client_of(&p, "10.0.0.1", "for=\"203.0.113.7:_port-1\""), "203.0.113.7");
    assert_string_equal(client_of(&p, "10.0.0.1",
                                  "for=192.0.2.60;proto=http;by=203.0.113.43, "
                                  "for=203.0.113.7 ; host=\"a,b;c\", for=10.0.0.9"),
                        "203.0.113.7");
    /* A quoted pair and a comma inside a quoted value of another parameter. */
    assert_string_equal(client_of(&p, "10.0.0.1", "host=\"x\\\"y,z\";for=\"203.0.113.7\""),
                        "203.0.113.7");
    /* Whatever the client wrote left of the client is not read. */
    assert_string_equal(client_of(&p, "10.0.0.1", "for=unknown, for=_hidden, for=203.0.113.7"),
                        "203.0.113.7");
    /* With X-Forwarded-For chosen, Forwarded syntax is not an address. */
    http_proxies x;
    parse_ok("10.0.0.0/8", NULL, &x);
    assert_string_equal(client_of(&x, "10.0.0.1", "for=203.0.113.7"), "peer");
}

static void test_a_malformed_forwarded_leaves_the_peer(void **state)
{
    (void)state;
    http_proxies p;
    parse_ok("10.0.0.0/8", "forwarded", &p);
    const char *bad[] = {
        "",
        "203.0.113.7",
        "for=",
        "for",
        "=203.0.113.7",
        "for=203.0.113.7,",
        "for=203.0.113.7, proto=https",
        "for=unknown",
        "for=_hidden",
        "for=\"_hidden:80\"",
        "for=2001:db8::1",
        "for=[2001:db8::1]",
        "for=\"2001:db8::1\"",
        "for=\"[2001:db8::1]:http\"",
        "for=\"[2001:db8::1]:99999\"",
        "for=203.0.113.7:80",
        "for=\"203.0.113.7",                  /* unclosed quote */
        "for=\"1.2.3.4\", for=\"203.0.113.7", /* a stray quote swallows the rest */
        "for=\"203.0.113.7\"x",
        "for=203.0.113.7;for=198.51.100.1", /* for twice in one element */
        "for = 203.0.113.7",
        "for=\"203.0.113.7\x01\"",
        "for=\"203.0.113.7\\\x01\"",
        "for=\"203.0.113.7\\",
        "for=203.0.113.7 proto=https",
        "for=\"[::1]:80\", for=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaa\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strcmp(client_of(&p, "10.0.0.1", bad[i]), "peer") != 0)
            fail_msg("'%s' yielded an address", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_setting_takes_cidrs_and_single_addresses_of_both_families),
        cmocka_unit_test(test_a_bad_setting_is_refused_naming_the_setting_and_the_entry),
        cmocka_unit_test(test_only_a_trusted_peer_s_header_counts),
        cmocka_unit_test(test_x_forwarded_for_yields_the_right_most_untrusted_address),
        cmocka_unit_test(test_a_malformed_x_forwarded_for_leaves_the_peer),
        cmocka_unit_test(test_an_oversized_header_or_too_many_trusted_hops_leaves_the_peer),
        cmocka_unit_test(test_forwarded_reads_for_with_quoted_ipv6_and_ports),
        cmocka_unit_test(test_a_malformed_forwarded_leaves_the_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
