/* The base layer: UUIDv7, arena, capped buffers, time, errors. */
#include "testlib.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/uuid.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
        cmocka_unit_test(test_log_json_escape_escapes_quotes_backslashes_and_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
