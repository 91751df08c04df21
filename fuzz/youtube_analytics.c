/* YouTube Analytics reports.query result tables (columnHeaders and rows by
 * day). The first byte is the length of the range asked for, 1-256 days
 * from 2024-05-01; every day read must lie inside it, in order. */
#include "providers/youtube_analytics.h"
#include "base/timeutil.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t from = 0;
    FUZZ_CHECK(time_day_parse("2024-05-01", &from));
    int64_t to = from + (int64_t)fuzz_take_byte(&data, &size);
    arena a;
    arena_init(&a, 4096);
    const char *body = fuzz_cstr(&a, data, size);
    youtube_analytics_day *days = NULL;
    size_t n = 0;
    google_status st = {0};
    error err;
    if (youtube_analytics__parse(body, from, to, &a, &days, &n, &st, &err) == 0) {
        FUZZ_CHECK(n <= (size_t)(to - from + 1));
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(days[i].day >= from && days[i].day <= to);
            FUZZ_CHECK(i == 0 || days[i].day > days[i - 1].day);
        }
    } else {
        FUZZ_CHECK(st.fault == GOOGLE_REJECTED && n == 0);
    }
    arena_free(&a);
    return 0;
}
