/* The base layer: UUIDv7, arena, capped buffers, time, errors. */
#include "testlib.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/csv.h"
#include "base/error.h"
#include "base/jsonout.h"
#include "base/log.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "base/uuid.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_uuid_v7_is_canonical_text_with_version_7_and_rfc_variant(void **state)
{
    char id[UUID_STR_LEN + 1];
    for (int i = 0; i < 1000; i++) {
        uuid_v7(id);
        assert_int_equal(strlen(id), 36);
        assert_true(uuid_is_valid(id));
        assert_int_equal(id[14], '7');
        assert_non_null(strchr("89ab", id[19]));
        for (const char *p = id; *p; p++)
            assert_true(*p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
    }
}

static void test_uuid_v7_carries_the_current_unix_milliseconds(void **state)
{
    int64_t before = time_now_usec() / 1000;
    char id[UUID_STR_LEN + 1];
    uuid_v7(id);
    int64_t after = time_now_usec() / 1000;
    char hex[13] = {0};
    memcpy(hex, id, 8);
    memcpy(hex + 8, id + 9, 4);
    int64_t ms = strtoll(hex, NULL, 16);
    assert_true(ms >= before && ms <= after + 1);
}

static void test_uuid_v7_is_strictly_increasing_within_one_millisecond(void **state)
{
    /* 5000 ids are made far faster than 5000 ms, so many share a millisecond;
     * each must still sort after the one before it. */
    char prev[UUID_STR_LEN + 1], cur[UUID_STR_LEN + 1];
    uuid_v7(prev);
    int same_ms = 0;
    for (int i = 0; i < 5000; i++) {
        uuid_v7(cur);
        assert_true(strcmp(prev, cur) < 0);
        if (memcmp(prev, cur, 13) == 0)
            same_ms++;
        memcpy(prev, cur, sizeof(cur));
    }
    assert_true(same_ms > 0);
}

#define UUID_THREADS    4
#define UUID_PER_THREAD 2000
static char uuid_seen[UUID_THREADS * UUID_PER_THREAD][UUID_STR_LEN + 1];

static void *uuid_worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < UUID_PER_THREAD; i++)
        uuid_v7(uuid_seen[t * UUID_PER_THREAD + i]);
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_uuid_v7_is_unique_across_threads(void **state)
{
    pthread_t th[UUID_THREADS];
    for (int i = 0; i < UUID_THREADS; i++)
        pthread_create(&th[i], NULL, uuid_worker, (void *)(intptr_t)i);
    for (int i = 0; i < UUID_THREADS; i++)
        pthread_join(th[i], NULL);
    qsort(uuid_seen, UUID_THREADS * UUID_PER_THREAD, UUID_STR_LEN + 1, cmp_str);
    for (int i = 1; i < UUID_THREADS * UUID_PER_THREAD; i++)
        assert_true(strcmp(uuid_seen[i - 1], uuid_seen[i]) < 0);
}

static void test_uuid_is_valid_rejects_malformed_text(void **state)
{
    assert_true(uuid_is_valid("01936f4e-0000-7000-8000-000000000001"));
    assert_true(uuid_is_valid("01936F4E-0000-7000-8000-00000000000A"));
    assert_false(uuid_is_valid(NULL));
    assert_false(uuid_is_valid(""));
    assert_false(uuid_is_valid("01936f4e-0000-7000-8000-00000000000"));
    assert_false(uuid_is_valid("01936f4e-0000-7000-8000-0000000000011"));
    assert_false(uuid_is_valid("01936f4e00000-7000-8000-000000000001"));
    assert_false(uuid_is_valid("01936f4e-0000-7000-8000-00000000000g"));
}

static void test_arena_returns_aligned_memory_and_frees_everything_at_once(void **state)
{
    arena a;
    arena_init(&a, 128);
    for (int i = 1; i < 300; i++) {
        char *p = arena_alloc(&a, (size_t)i);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xab, (size_t)i);
    }
    char *big = arena_alloc(&a, 100000); /* larger than a block */
    memset(big, 1, 100000);
    char *z = arena_calloc(&a, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    assert_true(a.total >= 100000);
    arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
}

static void test_arena_sprintf_and_strdup_copy_their_input(void **state)
{
    arena a;
    arena_init(&a, 0);
    char src[] = "persona";
    char *copy = arena_strdup(&a, src);
    src[0] = 'X';
    assert_string_equal(copy, "persona");
    assert_string_equal(arena_sprintf(&a, "%s-%d", "v", 42), "v-42");
    char *longer = arena_sprintf(&a, "%0500d", 7);
    assert_int_equal(strlen(longer), 500);
    arena_free(&a);
}

static void test_buf_refuses_to_grow_past_its_cap_and_keeps_what_it_had(void **state)
{
    buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "0123456789"), BUF_OK);
    assert_int_equal(buf_puts(&b, "x"), BUF_TOO_BIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(buf_cstr(&b), "0123456789");
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%s", "abcdefghijk"), BUF_TOO_BIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_printf(&b, "%d", 12345), BUF_OK);
    assert_string_equal(buf_cstr(&b), "12345");
    buf_free(&b);
}

static void test_time_round_trips_through_text_and_parses_both_engines_forms(void **state)
{
    char s[TIME_STR_LEN + 1];
    int64_t t = 1795000000123456; /* 2026-11-17 */
    time_format(t, s);
    assert_string_equal(s, "2026-11-18T11:06:40.123456Z");
    int64_t back = 0;
    assert_true(time_parse(s, &back));
    assert_true(back == t);
    assert_true(time_parse("2026-11-18 11:06:40.123456+00", &back));
    assert_true(back == t);
    assert_true(time_parse("2026-11-18T13:06:40.123456+02:00", &back));
    assert_true(back == t);
    assert_true(time_parse("2026-11-18T11:06:40.123Z", &back));
    assert_true(back == 1795000000123000);
    assert_false(time_parse("2026-11-18", &back));
    assert_false(time_parse("2026-13-18T07:06:40Z", &back));
    assert_false(time_parse("2026-11-18T07:06:40", &back));
    assert_false(time_parse("2026-11-18T07:06:40Zjunk", &back));
}

static void test_error_set_fills_kind_field_and_message(void **state)
{
    error e;
    assert_int_equal(error_set(&e, ERR_INVALID, "temperature", "must be %s", "0-2"), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.field, "temperature");
    assert_string_equal(e.message, "must be 0-2");
    assert_string_equal(error_kind_name(ERR_CONFLICT), "conflict");
    assert_int_equal(error_set(NULL, ERR_INVALID, NULL, "x"), -1);
}

static void test_log_json_escape_escapes_quotes_backslashes_and_controls(void **state)
{
    buf b;
    buf_init(&b, 100);
    log_json_escape(&b, "a\"b\\c\nd\x01");
    assert_string_equal(buf_cstr(&b), "a\\\"b\\\\c\\nd\\u0001");
    buf_free(&b);
}

/* time_format and time_parse do their own calendar arithmetic; libc's
 * gmtime_r and timegm are the reference, over 10,000 years of instants. */
static void test_calendar_days_parse_strictly_format_back_and_know_iso_mondays(void **state)
{
    (void)state;
    /* Every day from 1970 to 2100 formats as time_format's date part and parses back. */
    for (int64_t day = 0; day < 47847; day++) {
        char got[TIME_DAY_STR_LEN + 1], full[TIME_STR_LEN + 1];
        time_day_format(day, got);
        time_format(day * 86400 * 1000000, full);
        assert_memory_equal(got, full, TIME_DAY_STR_LEN);
        int64_t back = -1;
        assert_true(time_day_parse(got, &back));
        assert_int_equal(back, day);
        assert_int_equal(time_day_of(day * 86400 * 1000000 + 86399999999LL), day);
        int64_t mon = time_day_monday(day);
        assert_true(mon <= day && day - mon < 7);
        assert_int_equal((mon + 3) % 7, 0); /* 1970-01-05 was a Monday */
    }
    int64_t d;
    static const char *const bad[] = {"2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
                                      "2026-1-01",  "26-01-01",   "2026/01/01", "2026-01-01T",
                                      "1969-12-31", "",           "2026-01-0x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (time_day_parse(bad[i], &d))
            fail_msg("'%s' parsed as a day", bad[i]);
    assert_false(time_day_parse(NULL, &d));
    assert_true(time_day_parse("2024-02-29", &d));
    assert_true(time_day_parse("2026-11-29", &d)); /* a Sunday ends its ISO week */
    char mon[TIME_DAY_STR_LEN + 1];
    time_day_format(time_day_monday(d), mon);
    assert_string_equal(mon, "2026-11-23");
    assert_true(time_day_parse("2026-11-30", &d));
    assert_int_equal(time_day_monday(d), d);
}

static void test_pacific_midnight_follows_us_daylight_time_across_both_changes(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"2026-12-06T23:00:00Z", "2026-12-07T08:00:00Z"}, /* PST */
        {"2026-12-07T07:59:59Z", "2026-12-07T08:00:00Z"},
        {"2026-12-07T08:00:00Z", "2026-12-08T08:00:00Z"},
        {"2026-07-01T12:00:00Z", "2026-07-02T07:00:00Z"}, /* PDT */
        {"2026-03-08T09:00:00Z", "2026-03-09T07:00:00Z"}, /* 01:00 PST, the day clocks go on */
        {"2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z"}, /* just after midnight PST */
        {"2026-03-07T12:00:00Z", "2026-03-08T08:00:00Z"},
        {"2026-11-01T08:30:00Z", "2026-11-02T08:00:00Z"}, /* 01:30 PDT, the day clocks go back */
        {"2026-10-31T12:00:00Z", "2026-11-01T07:00:00Z"},
        {"2027-03-14T12:00:00Z", "2027-03-15T07:00:00Z"}, /* 2027: March 14 and November 7 */
        {"2027-11-07T12:00:00Z", "2027-11-08T08:00:00Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t now, want;
        assert_true(time_parse(cases[i][0], &now));
        assert_true(time_parse(cases[i][1], &want));
        int64_t got = time_next_pacific_midnight(now);
        if (got != want) {
            char g[TIME_STR_LEN + 1];
            time_format(got, g);
            fail_msg("after %s: got %s, want %s", cases[i][0], g, cases[i][1]);
        }
    }
}

static void test_time_calendar_matches_gmtime_and_timegm(void **state)
{
    const int64_t lo = -62167219200LL, hi = 253402300799LL; /* 0000-01-01 .. 9999-12-31 */
    for (int i = 0; i < 200000; i++) {
        int64_t sec;
        if (i < 1000)
            sec = i * 86399LL - 500 * 86400LL; /* every day around 1970 */
        else
            sec = lo +
                  (int64_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) % (uint64_t)(hi - lo + 1));
        int64_t usec = sec * 1000000 + rand() % 1000000;
        char got[TIME_STR_LEN + 1], want[64];
        time_format(usec, got);
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(usec - sec * 1000000));
        if (strcmp(got, want) != 0)
            fail_msg("%lld: got %s, want %s", (long long)usec, got, want);
        int64_t back = 0;
        assert_true(time_parse(got, &back));
        assert_int_equal(back, usec);
        /* The month it falls in starts where timegm says the 1st does. */
        tm.tm_mday = 1;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        assert_int_equal(time_month_start(usec), (int64_t)timegm(&tm) * 1000000);
    }
    /* Day numbers past the month roll over as timegm rolls them. */
    int64_t a, b;
    assert_true(time_parse("2024-02-30T00:00:00Z", &a));
    assert_true(time_parse("2024-03-01T00:00:00Z", &b));
    assert_int_equal(a, b);
    assert_true(time_parse("2026-11-25T12:00:00-03:00", &a));
    assert_true(time_parse("2026-11-25T15:00:00Z", &b));
    assert_int_equal(a, b);
}

static void test_buf_reserve_keeps_content_and_respects_the_cap(void **state)
{
    buf b;
    buf_init(&b, 100);
    buf_reserve(&b, 50);
    assert_string_equal(buf_cstr(&b), "");
    assert_int_equal(buf_puts(&b, "hello"), BUF_OK);
    buf_reserve(&b, 1000); /* clamped to the cap */
    assert_int_equal(b.alloc, 101);
    assert_string_equal(buf_cstr(&b), "hello");
    char big[101];
    memset(big, 'x', sizeof(big));
    assert_int_equal(buf_append(&b, big, 95), BUF_OK);
    assert_int_equal(buf_append(&b, big, 1), BUF_TOO_BIG);
    assert_int_equal(b.len, 100);
    buf_free(&b);
}

/* ---- jsonout: byte for byte json_dumps, on random trees ---- */

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

/* A string of control bytes, quotes, backslashes, ASCII, 2-, 3- and 4-byte
 * UTF-8 and, sometimes, an embedded NUL (jansson reads none back in a key). */
static json_t *random_string(bool nul)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         " ",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\n",
                                         "\r",
                                         "\t",
                                         "\b",
                                         "\f",
                                         "\x01",
                                         "\x1b",
                                         "\x1f",
                                         "\x7f",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x8e\xac",
                                         "\xe2\x80\xa8",
                                         "<",
                                         "&"};
    char text[256];
    size_t len = 0, n = rnd(40);
    for (size_t i = 0; i < n; i++) {
        if (nul && rnd(30) == 0) {
            text[len++] = '\0';
            continue;
        }
        const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
        memcpy(text + len, p, strlen(p));
        len += strlen(p);
    }
    return json_stringn(text, len);
}

static json_t *random_value(int depth)
{
    static const double reals[] = {0.0,
                                   -0.0,
                                   0.7,
                                   0.1 + 0.2,
                                   1.5,
                                   -2.25,
                                   1e20,
                                   1e21,
                                   1e-5,
                                   1.25e-7,
                                   123456789012345678.0,
                                   3.14159265358979,
                                   1e300,
                                   -1e-300,
                                   0.123456789012345678,
                                   100.0,
                                   1e15,
                                   1e16};
    static const json_int_t ints[] = {0, 1, -1, 9, 10, 42, -1234567, LLONG_MAX, LLONG_MIN};
    unsigned kind = rnd(depth > 4 ? 6 : 8);
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd(2));
    case 2:
        return json_integer(rnd(2) ? ints[rnd(sizeof(ints) / sizeof(ints[0]))]
                                   : (json_int_t)rnd(1000000) - 500000);
    case 3:
        return json_real(rnd(2) ? reals[rnd(sizeof(reals) / sizeof(reals[0]))]
                                : ((double)rnd(100000) - 50000) / (1 + rnd(1000)));
    case 4:
    case 5:
        return random_string(true);
    case 6: {
        json_t *a = json_array();
        for (unsigned i = rnd(6); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned i = rnd(6); i > 0; i--) {
            json_t *k = random_string(false);
            json_object_setn_new(o, json_string_value(k), json_string_length(k),
                                 random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

/* utf8_valid accepts exactly what jansson's json_stringn accepts. */
static void test_utf8_valid_agrees_with_jansson(void **state)
{
    static const unsigned char interesting[] = {0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1,
                                                0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
                                                0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90};
    unsigned char text[24];
    int accepted = 0;
    for (int i = 0; i < 300000; i++) {
        size_t n = (size_t)rnd(sizeof(text) + 1);
        for (size_t k = 0; k < n; k++)
            text[k] = rnd(3) ? interesting[rnd(sizeof(interesting))] : (unsigned char)rnd(256);
        json_t *j = json_stringn((const char *)text, n);
        bool want = j != NULL;
        json_decref(j);
        if (utf8_valid((const char *)text, n) != want)
            fail_msg("case %d (%zu bytes): utf8_valid says %d, jansson %d", i, n, !want, want);
        accepted += want;
    }
    assert_true(accepted > 1000); /* the cases were not all rejections */
    assert_null(json_str(NULL));
    assert_null(json_str("bad \xc3("));
    json_t *ok = json_str("caf\xc3\xa9 \xf0\x9f\x8e\xac");
    assert_string_equal(json_string_value(ok), "caf\xc3\xa9 \xf0\x9f\x8e\xac");
    json_decref(ok);
}

static void test_jsonout_writes_what_json_dumps_writes(void **state)
{
    for (int i = 0; i < 3000; i++) {
        json_t *v = random_value(0);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        assert_non_null(want);
        buf got;
        buf_init(&got, 1 << 20);
        assert_int_equal(jsonout_value(&got, v), BUF_OK);
        if (strcmp(want, buf_cstr(&got)) != 0)
            fail_msg("tree %d:\n want %s\n got  %s", i, want, buf_cstr(&got));
        /* and it reads back as the same value */
        json_error_t err;
        json_t *back = json_loadb(got.data, got.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (back == NULL)
            fail_msg("tree %d does not read back: %s in %s", i, err.text, buf_cstr(&got));
        json_decref(back);
        buf_free(&got);
        free(want);
        json_decref(v);
    }
}

/* Long strings, so the word-at-a-time scan meets each special byte at each
 * offset of a word, and UTF-8 bytes that make the word test say "maybe". */
static void test_jsonout_escapes_at_every_offset(void **state)
{
    static const char specials[] = {'"',    '\\', '\n', '\x01', '\x1f', ' ',
                                    '\x7f', '!',  '#',  '[',    ']'};
    char text[80];
    for (size_t len = 1; len < sizeof(text); len++) {
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof(specials); k++) {
                for (size_t i = 0; i < len; i++)
                    text[i] = i % 7 == 3 ? '\xc3' : i % 7 == 4 ? '\xa9' : 'a' + (char)(i % 26);
                if (at % 7 == 3 || at % 7 == 4)
                    continue; /* keep the UTF-8 pairs whole */
                text[at] = specials[k];
                if (len % 7 == 4)
                    text[len - 1] = 'z'; /* no cut-off pair at the end */
                json_t *v = json_stringn(text, len);
                assert_non_null(v);
                char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                buf got;
                buf_init(&got, 1024);
                assert_int_equal(jsonout_value(&got, v), BUF_OK);
                assert_string_equal(buf_cstr(&got), want);
                buf_free(&got);
                free(want);
                json_decref(v);
            }
        }
    }
}

static void test_jsonout_refuses_null_deep_nesting_and_overflowing_the_cap(void **state)
{
    buf b;
    buf_init(&b, 64);
    assert_int_equal(jsonout_value(&b, NULL), JSONOUT_INVALID);

    json_t *root = json_array(), *at = root;
    for (int i = 0; i < JSONOUT_MAX_DEPTH + 5; i++) {
        json_t *inner = json_array();
        json_array_append_new(at, inner);
        at = inner;
    }
    buf_reset(&b);
    b.cap = 1 << 20;
    assert_int_equal(jsonout_value(&b, root), JSONOUT_INVALID);
    json_decref(root);

    json_t *big = json_pack("{s:s}", "k", "0123456789012345678901234567890123456789");
    buf_free(&b);
    buf_init(&b, 16);
    assert_int_equal(jsonout_value(&b, big), BUF_TOO_BIG);
    assert_true(b.len <= 16);
    json_decref(big);
    buf_free(&b);
}

/* ---- jw: the same text as jsonout_value, from calls instead of a tree ---- */

/* Writes v with jw calls; a whole subtree is sometimes handed over as a
 * tree with jw_value, as a handler does with a part it already has. */
static void jw_emit(jw *w, const json_t *v)
{
    if (rnd(8) == 0) {
        jw_value(w, v);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        jw_null(w);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        jw_bool(w, json_is_true(v));
        break;
    case JSON_INTEGER:
        jw_int(w, json_integer_value(v));
        break;
    case JSON_REAL:
        jw_real(w, json_real_value(v));
        break;
    case JSON_STRING:
        jw_strn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        jw_arr_begin(w);
        for (size_t i = 0; i < json_array_size(v); i++)
            jw_emit(w, json_array_get(v, i));
        jw_arr_end(w);
        break;
    case JSON_OBJECT:
        jw_obj_begin(w);
        for (void *it = json_object_iter((json_t *)v); it != NULL;
             it = json_object_iter_next((json_t *)v, it)) {
            jw_keyn(w, json_object_iter_key(it), json_object_iter_key_len(it));
            jw_emit(w, json_object_iter_value(it));
        }
        jw_obj_end(w);
        break;
    }
}

static void test_jw_writes_what_jsonout_writes_for_the_same_tree(void **state)
{
    for (int i = 0; i < 3000; i++) {
        json_t *v = random_value(0);
        buf want, got;
        buf_init(&want, 1 << 20);
        buf_init(&got, 1 << 20);
        assert_int_equal(jsonout_value(&want, v), BUF_OK);
        jw w;
        jw_init(&w, &got);
        jw_emit(&w, v);
        assert_int_equal(jw_error(&w), BUF_OK);
        if (strcmp(buf_cstr(&want), buf_cstr(&got)) != 0)
            fail_msg("tree %d:\n want %s\n got  %s", i, buf_cstr(&want), buf_cstr(&got));
        buf_free(&want);
        buf_free(&got);
        json_decref(v);
    }
}

static void test_jw_writes_null_for_missing_or_broken_text_and_times(void **state)
{
    buf b;
    buf_init(&b, 4096);
    jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "none");
    jw_str(&w, NULL);
    jw_key(&w, "bad");
    jw_str(&w, "bad \xc3(");
    jw_key(&w, "ok");
    jw_str(&w, "caf\xc3\xa9 \"q\"");
    jw_key(&w, "never");
    jw_time(&w, 0);
    jw_key(&w, "at");
    jw_time(&w, 1764080958123456LL);
    jw_key(&w, "list");
    jw_arr_begin(&w);
    jw_int(&w, -7);
    jw_real(&w, 0.7);
    jw_bool(&w, false);
    jw_arr_end(&w);
    jw_key(&w, "empty");
    jw_obj_begin(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    assert_int_equal(jw_error(&w), BUF_OK);
    assert_string_equal(buf_cstr(&b),
                        "{\"none\":null,\"bad\":null,\"ok\":\"caf\xc3\xa9 \\\"q\\\"\","
                        "\"never\":null,\"at\":\"2025-11-25T14:29:18.123456Z\","
                        "\"list\":[-7,0.7,false],\"empty\":{}}");
    buf_free(&b);
}

/* ---- plain arrays of strings: what json_loads reads, or a refusal ---- */

static void test_json_plain_strings_reads_what_jansson_reads_or_refuses(void **state)
{
    static const char *const plain[] = {
        "a", "dark", "night sky", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\xac",
        "",  "x/y",  "<&>",       "1, 2"};
    static const char *const escaped[] = {"\"q\"", "back\\slash", "line\nbreak", "\x01"};
    static const char *const seps[] = {",", ", ", " ,", ",\n  ", "\t,\t"};
    static const char *const opens[] = {"[", " [", "[ ", "\n[\n"};
    static const char *const closes[] = {"]", " ]", "] ", "\n]\n"};
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        arena a;
        arena_init(&a, 4096);
        buf text;
        buf_init(&text, 1 << 16);
        bool want_plain = true;
        unsigned n = rnd(6);
        buf_puts(&text, opens[rnd(4)]);
        for (unsigned k = 0; k < n; k++) {
            if (k > 0)
                buf_puts(&text, seps[rnd(5)]);
            if (rnd(8) == 0) { /* needs an escape: jansson writes it */
                json_t *v = json_string(escaped[rnd(4)]);
                char *t = json_dumps(v, JSON_ENCODE_ANY);
                buf_puts(&text, t);
                free(t);
                json_decref(v);
                want_plain = false;
            } else {
                buf_printf(&text, "\"%s\"", plain[rnd(10)]);
            }
        }
        buf_puts(&text, closes[rnd(4)]);
        switch (rnd(12)) { /* sometimes, something that is not the plain form */
        case 0:
            text.data[text.len - 1 - rnd((unsigned)text.len)] = (char)"x,]\"[{1\xc3"[rnd(8)];
            want_plain = false;
            break;
        case 1:
            buf_puts(&text, "x");
            want_plain = false;
            break;
        case 2:
            text.len -= rnd((unsigned)text.len);
            text.data[text.len] = '\0';
            want_plain = false;
            break;
        }
        const char **got = NULL;
        size_t ngot = 0;
        bool ok = json_plain_strings(&a, buf_cstr(&text), &got, &ngot);
        json_t *j = json_loads(buf_cstr(&text), 0, NULL);
        if (ok) {
            accepted++;
            if (!json_is_array(j) || json_array_size(j) != ngot)
                fail_msg("case %d: accepted %s, jansson disagrees", i, buf_cstr(&text));
            for (size_t k = 0; k < ngot; k++) {
                const char *v = json_string_value(json_array_get(j, k));
                if (v == NULL || strcmp(v, got[k]) != 0)
                    fail_msg("case %d: string %zu of %s differs", i, k, buf_cstr(&text));
            }
        } else if (want_plain) {
            fail_msg("case %d: refused the plain %s", i, buf_cstr(&text));
        }
        json_decref(j);
        buf_free(&text);
        arena_free(&a);
    }
    assert_true(accepted > 10000);
}

/* With more digits, reals come out as json_dumps writes them at that precision. */
static void test_jw_writes_reals_at_the_precision_asked(void **state)
{
    static const double reals[] = {0.7,  0.1 + 0.2, 1.0 / 3.0, -2.25,
                                   1e21, 1.25e-7,   100.0,     2.0 / 3e10};
    for (int digits = 15; digits <= 17; digits++) {
        for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
            json_t *v = json_real(reals[i]);
            char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(digits));
            buf b;
            buf_init(&b, 64);
            jw w;
            jw_init(&w, &b);
            w.real_digits = digits;
            jw_real(&w, reals[i]);
            assert_int_equal(jw_error(&w), BUF_OK);
            assert_string_equal(buf_cstr(&b), want);
            buf_free(&b);
            free(want);
            json_decref(v);
        }
    }
}

static void test_jw_stops_at_the_cap_and_reports_open_containers(void **state)
{
    buf b;
    buf_init(&b, 16);
    jw w;
    jw_init(&w, &b);
    jw_arr_begin(&w);
    assert_int_equal(jw_error(&w), JSONOUT_INVALID); /* still open */
    jw_str(&w, "0123456789012345678901234567890123456789");
    assert_int_equal(jw_error(&w), BUF_TOO_BIG);
    size_t len = b.len;
    jw_int(&w, 1);
    jw_arr_end(&w);
    assert_int_equal(jw_error(&w), BUF_TOO_BIG);
    assert_int_equal(b.len, len); /* nothing after the failure */
    buf_free(&b);

    buf_init(&b, 1 << 16);
    jw_init(&w, &b);
    for (int i = 0; i < JW_MAX_DEPTH + 1; i++)
        jw_arr_begin(&w);
    assert_int_equal(jw_error(&w), JSONOUT_INVALID);
    buf_free(&b);
}

/* text_copy copies whole or not at all; utf8_cut and utf8_prefix never end
 * inside a character; error_set shortens a long message at a character
 * boundary. Each runs for 2-, 3- and 4-byte characters at every offset. */
static void test_text_copies_whole_or_refuses_and_cuts_only_between_characters(void **state)
{
    (void)state;
    char small[5];
    assert_int_equal(text_copy(small, sizeof(small), "abcd"), 0);
    assert_string_equal(small, "abcd");
    assert_int_equal(text_copy(small, sizeof(small), "abcde"), -1);
    assert_string_equal(small, "");
    assert_int_equal(text_copy(small, sizeof(small), NULL), 0);
    assert_string_equal(small, "");
    char wide[UTF8_BUF(3)];
    assert_int_equal(
        text_copy(wide, sizeof(wide), "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), 0);

    for (int u = 0; u < TEST_UTF8_UNITS; u++) {
        const char *unit = test_utf8_units[u];
        size_t w = strlen(unit);
        for (int lead = 0; lead < 4; lead++) {
            char *prefix = test_repeat("", "a", lead);
            char *s = test_repeat(prefix, unit, 10);
            size_t len = strlen(s);
            assert_int_equal(utf8_chars(s), (size_t)lead + 10);
            for (size_t n = 0; n <= len; n++) {
                size_t k = utf8_cut(s, n);
                assert_true(k <= n && n - k < w);
                assert_true(utf8_valid(s, k));
                if (utf8_valid(s, n))
                    assert_int_equal(k, n);
            }
            for (size_t c = 0; c <= 12; c++) {
                size_t k = utf8_prefix(s, c);
                assert_true(utf8_valid(s, k));
                char *head = strndup(s, k);
                assert_int_equal(utf8_chars(head), c < (size_t)lead + 10 ? c : (size_t)lead + 10);
                free(head);
            }
            char *big = test_repeat(prefix, unit, 600);
            error e;
            error_set(&e, ERR_INVALID, NULL, "%s", big);
            assert_true(strlen(e.message) > sizeof(e.message) - 5);
            assert_true(utf8_valid(e.message, strlen(e.message)));
            free(big);
            free(s);
            free(prefix);
        }
    }
}

/* ---- csv ---- */

static const csv_limits CSV_LIM = {100, 16, 64};

static void test_csv_reads_quotes_doubled_quotes_line_breaks_bom_and_crlf(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 4096);
    static const char in[] = "\xEF\xBB\xBF"
                             "a,\"b,c\",\"say \"\"hi\"\"\"\r\n"
                             "\r\n"
                             ",\"two\r\nlines\",\n"
                             "x\n"
                             "last,\"\"\r";
    csv_record *r;
    size_t n;
    error e;
    assert_int_equal(csv_parse(&a, in, sizeof(in) - 1, &CSV_LIM, &r, &n, &e), 0);
    assert_int_equal(n, 4);
    assert_int_equal(r[0].line, 1);
    assert_int_equal(r[0].n, 3);
    assert_string_equal(r[0].fields[0], "a");
    assert_string_equal(r[0].fields[1], "b,c");
    assert_string_equal(r[0].fields[2], "say \"hi\"");
    assert_int_equal(r[1].line, 3); /* after the blank line */
    assert_int_equal(r[1].n, 3);
    assert_string_equal(r[1].fields[0], "");
    assert_string_equal(r[1].fields[1], "two\r\nlines");
    assert_string_equal(r[1].fields[2], "");
    assert_int_equal(r[2].line, 5); /* the quoted line break counts */
    assert_string_equal(r[2].fields[0], "x");
    assert_int_equal(r[3].line, 6);
    assert_int_equal(r[3].n, 2);
    assert_string_equal(r[3].fields[1], "");
    /* A CR inside an unquoted field is data. */
    assert_int_equal(csv_parse(&a, "a\rb,c", 5, &CSV_LIM, &r, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].fields[0], "a\rb");
    /* Nothing at all: no record. */
    assert_int_equal(csv_parse(&a, "\xEF\xBB\xBF", 3, &CSV_LIM, &r, &n, &e), 0);
    assert_int_equal(n, 0);
    arena_free(&a);
}

static void test_csv_refuses_bad_quoting_and_inputs_past_its_limits_naming_the_line(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 4096);
    static const struct {
        const char *in;
        error_kind kind;
        const char *line;
    } bad[] = {
        {"a\nb\"c\n", ERR_INVALID, "line 2:"},     /* a quote in an unquoted field */
        {"a\n\"b\"c\n", ERR_INVALID, "line 2:"},   /* text after the closing quote */
        {"a\n\n\"b\nc\n", ERR_INVALID, "line 3:"}, /* never closed */
        {"a\n"
         "0123456789012345678901234567890123456789012345678901234567890123456789\n",
         ERR_TOO_LARGE, "line 2:"},
        {"a\n1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n", ERR_TOO_LARGE, "line 2:"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        csv_record *r;
        size_t n;
        error e;
        assert_int_equal(csv_parse(&a, bad[i].in, strlen(bad[i].in), &CSV_LIM, &r, &n, &e), -1);
        assert_int_equal(e.kind, bad[i].kind);
        if (strncmp(e.message, bad[i].line, strlen(bad[i].line)) != 0)
            fail_msg("case %zu: \"%s\" does not start with %s", i, e.message, bad[i].line);
    }
    /* A NUL byte. */
    csv_record *r;
    size_t n;
    error e;
    assert_int_equal(csv_parse(&a, "a,b\0c", 5, &CSV_LIM, &r, &n, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    /* Records: exactly the limit passes, one more does not. */
    const csv_limits three = {3, 4, 8};
    assert_int_equal(csv_parse(&a, "a\nb\nc\n", 6, &three, &r, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(csv_parse(&a, "a\nb\nc\nd", 7, &three, &r, &n, &e), -1);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_v7_is_canonical_text_with_version_7_and_rfc_variant),
        cmocka_unit_test(test_uuid_v7_carries_the_current_unix_milliseconds),
        cmocka_unit_test(test_uuid_v7_is_strictly_increasing_within_one_millisecond),
        cmocka_unit_test(test_uuid_v7_is_unique_across_threads),
        cmocka_unit_test(test_uuid_is_valid_rejects_malformed_text),
        cmocka_unit_test(test_arena_returns_aligned_memory_and_frees_everything_at_once),
        cmocka_unit_test(test_arena_sprintf_and_strdup_copy_their_input),
        cmocka_unit_test(test_buf_refuses_to_grow_past_its_cap_and_keeps_what_it_had),
        cmocka_unit_test(test_time_round_trips_through_text_and_parses_both_engines_forms),
        cmocka_unit_test(test_error_set_fills_kind_field_and_message),
        cmocka_unit_test(test_text_copies_whole_or_refuses_and_cuts_only_between_characters),
        cmocka_unit_test(test_log_json_escape_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_time_calendar_matches_gmtime_and_timegm),
        cmocka_unit_test(test_calendar_days_parse_strictly_format_back_and_know_iso_mondays),
        cmocka_unit_test(test_pacific_midnight_follows_us_daylight_time_across_both_changes),
        cmocka_unit_test(test_buf_reserve_keeps_content_and_respects_the_cap),
        cmocka_unit_test(test_jsonout_writes_what_json_dumps_writes),
        cmocka_unit_test(test_utf8_valid_agrees_with_jansson),
        cmocka_unit_test(test_jsonout_escapes_at_every_offset),
        cmocka_unit_test(test_jsonout_refuses_null_deep_nesting_and_overflowing_the_cap),
        cmocka_unit_test(test_jw_writes_what_jsonout_writes_for_the_same_tree),
        cmocka_unit_test(test_jw_writes_null_for_missing_or_broken_text_and_times),
        cmocka_unit_test(test_jw_stops_at_the_cap_and_reports_open_containers),
        cmocka_unit_test(test_jw_writes_reals_at_the_precision_asked),
        cmocka_unit_test(test_json_plain_strings_reads_what_jansson_reads_or_refuses),
        cmocka_unit_test(test_csv_reads_quotes_doubled_quotes_line_breaks_bom_and_crlf),
        cmocka_unit_test(test_csv_refuses_bad_quoting_and_inputs_past_its_limits_naming_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
