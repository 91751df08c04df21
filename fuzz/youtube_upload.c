/* A resumable upload session's answers. The first byte picks the status
 * from the table; the input's first line is the Range header (308), the
 * rest the body (200/201: the video resource; others: an error body). */
#include "providers/youtube_upload.h"
#include "base/buf.h"
#include "fuzz.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {308, 308, 200, 201, 404, 410, 401, 403, 429, 500, 503};
    unsigned pick = fuzz_take_byte(&data, &size);
    int64_t total = 1 + (int64_t)fuzz_take_byte(&data, &size) * 1000003;
    http_client_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.status = statuses[pick % (sizeof(statuses) / sizeof(statuses[0]))];
    resp.retry_after_s = -1;
    resp.content_length = -1;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : 0;
    if (head >= sizeof(resp.range))
        head = sizeof(resp.range) - 1;
    if (nl != NULL) {
        memcpy(resp.range, data, head);
        resp.range[head] = '\0';
        resp.range[strcspn(resp.range, "\r")] = '\0';
        size -= (size_t)(nl + 1 - data);
        data = nl + 1;
    }
    buf_init(&resp.body, size + 1);
    buf_append(&resp.body, data, size);
    youtube_upload_state out;
    google_status st = {0};
    error err;
    if (youtube_upload__answer(&resp, total, &out, &st, &err) == 0) {
        FUZZ_CHECK(out.offset >= 0 && out.offset <= total);
        FUZZ_CHECK(!out.done || (out.video_id[0] != '\0' && out.offset == total));
        FUZZ_CHECK(!out.gone);
    }
    buf_free(&resp.body);
    return 0;
}
