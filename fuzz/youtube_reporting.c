/* YouTube Reporting API channel_reach_basic_a1 CSV reports. The first byte
 * is how many days the report covers (1-93) from 2024-05-01; the channel
 * summed is UCfuzzchannel0000000000a. */
#include "providers/youtube_reporting.h"
#include "base/timeutil.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    youtube_report r;
    memset(&r, 0, sizeof(r));
    FUZZ_CHECK(time_day_parse("2024-05-01", &r.first_day));
    r.last_day = r.first_day + (int64_t)(fuzz_take_byte(&data, &size) % YOUTUBE_REPORT_DAYS_MAX);
    arena a;
    arena_init(&a, 4096);
    youtube_reach_day *days = NULL;
    size_t n = 0;
    google_status st = {0};
    error err;
    if (youtube_reporting_reach_days((const char *)data, size, "UCfuzzchannel0000000000a", &r, &a,
                                     &days, &n, &st, &err) == 0) {
        FUZZ_CHECK(n == (size_t)(r.last_day - r.first_day + 1));
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(days[i].day == r.first_day + (int64_t)i && days[i].impressions >= 0);
            FUZZ_CHECK(days[i].impressions == 0
                           ? days[i].avg_ctr == -1
                           : days[i].avg_ctr >= 0 && days[i].avg_ctr <= 100.000001);
        }
    } else {
        FUZZ_CHECK(st.fault == GOOGLE_REJECTED && n == 0);
    }
    arena_free(&a);
    return 0;
}
