/* YouTube Data API channels.list answers, one page into a listing's rows. */
#include "fuzz.h"
#include "providers/youtube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 4096);
    const char *body = fuzz_cstr(&a, data, size);
    youtube_channel *rows = arena_alloc(&a, sizeof(*rows) * YOUTUBE_MAX_CHANNELS);
    size_t n = 0;
    const char *next;
    google_status st = {0};
    error err;
    if (youtube__read_page(body, &a, rows, &n, &next, &st, &err) == 0) {
        FUZZ_CHECK(n <= YOUTUBE_MAX_CHANNELS);
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(rows[i].id != NULL && rows[i].title != NULL);
            FUZZ_CHECK(rows[i].subscriber_count >= -1 && rows[i].view_count >= -1 &&
                       rows[i].video_count >= -1);
        }
    } else {
        FUZZ_CHECK(st.fault == GOOGLE_REJECTED && n == 0);
    }
    arena_free(&a);
    return 0;
}
