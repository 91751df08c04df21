/* Google's OAuth answers: the first byte picks the token endpoint's answer,
 * userinfo's, or an error body (any Google API's) with a status from the
 * table, classified by google_oauth_fail. */
#include "providers/google_oauth.h"
#include "base/buf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {400, 401, 403, 404, 429, 500, 503};
    unsigned pick = fuzz_take_byte(&data, &size);
    arena a;
    arena_init(&a, 4096);
    const char *body = fuzz_cstr(&a, data, size);
    google_status st = {0};
    error err;
    switch (pick % 3) {
    case 0: {
        google_tokens t;
        if (google_oauth_read_tokens(body, "fuzzing", &t, &st, &err) == 0) {
            FUZZ_CHECK(t.access_token != NULL && t.access_token[0] != '\0');
            google_tokens_free(&t);
        } else {
            FUZZ_CHECK(t.access_token == NULL && st.fault == GOOGLE_REJECTED);
        }
        break;
    }
    case 1: {
        google_identity id;
        if (google_oauth_read_identity(body, &id, &st, &err) == 0)
            FUZZ_CHECK(id.sub[0] != '\0');
        else
            FUZZ_CHECK(st.fault == GOOGLE_REJECTED);
        break;
    }
    default: {
        http_client_resp resp;
        memset(&resp, 0, sizeof(resp));
        resp.status = statuses[(pick / 3) % (sizeof(statuses) / sizeof(statuses[0]))];
        resp.retry_after_s = -1;
        buf_init(&resp.body, size + 1);
        buf_append(&resp.body, data, size);
        FUZZ_CHECK(google_oauth_fail(&resp, "fuzzing", &st, &err) == -1);
        FUZZ_CHECK(strlen(st.reason) < sizeof(st.reason));
        buf_free(&resp.body);
        break;
    }
    }
    arena_free(&a);
    return 0;
}
