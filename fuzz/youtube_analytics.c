/* YouTube Analytics reports.query result tables (columnHeaders and rows by
 * day, or by day and video). The first byte is the length of the range asked
 * for, 1-256 days from 2024-05-01; the second, how many of a fixed list of
 * video ids were asked for (0: the channel's report by day). Every row read
 * must lie inside the range, in order, and name a video asked for, once a
 * day. */
#include "providers/youtube_analytics.h"
#include "base/timeutil.h"
#include "fuzz.h"

static const char *const videos[] = {"dQw4w9WgXcQ", "a-b_c1234", "VID00000001", "x"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t from = 0;
    FUZZ_CHECK(time_day_parse("2024-05-01", &from));
    int64_t to = from + (int64_t)fuzz_take_byte(&data, &size);
    size_t n_ids = fuzz_take_byte(&data, &size) % (sizeof(videos) / sizeof(videos[0]) + 1);
    const char *const *ids = n_ids > 0 ? videos : NULL;
    arena a;
    arena_init(&a, 4096);
    const char *body = fuzz_cstr(&a, data, size);
    youtube_analytics_video_day *rows = NULL;
    size_t n = 0;
    google_status st = {0};
    error err;
    if (youtube_analytics__parse(body, from, to, ids, n_ids, &a, &rows, &n, &st, &err) == 0) {
        FUZZ_CHECK(n <= (size_t)(to - from + 1) * (ids ? n_ids : 1));
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(rows[i].m.day >= from && rows[i].m.day <= to);
            FUZZ_CHECK(ids == NULL ? rows[i].video == 0 : rows[i].video < n_ids);
            FUZZ_CHECK(i == 0 || rows[i].m.day > rows[i - 1].m.day ||
                       (ids != NULL && rows[i].m.day == rows[i - 1].m.day));
            for (size_t k = i; ids != NULL && k-- > 0 && rows[k].m.day == rows[i].m.day;)
                FUZZ_CHECK(rows[k].video != rows[i].video);
        }
    } else {
        FUZZ_CHECK(st.fault == GOOGLE_REJECTED && n == 0);
    }
    arena_free(&a);
    return 0;
}
