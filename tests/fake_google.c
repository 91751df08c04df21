#include "fake_google.h"

#include "base/alloc.h"
#include "base/buf.h"
#include "base/timeutil.h"
#include "http/http.h"
#include "providers/http_client.h"
#include "providers/youtube_analytics.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fake_google_lock(fake_google *fg)
{
    pthread_mutex_lock(&fg->lock);
}

void fake_google_unlock(fake_google *fg)
{
    pthread_mutex_unlock(&fg->lock);
}

/* Copies src into dst, cut to fit (the records only need to be long enough to compare). */
static void fake__copy(char *dst, size_t n, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    if (len >= n)
        len = n - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

static int fake__hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes application/x-www-form-urlencoded text of length n into out. */
static void fake__decode(const char *s, size_t n, char *out, size_t out_n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < out_n; i++) {
        if (s[i] == '+') {
            out[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && fake__hex(s[i + 1]) >= 0 &&
                   fake__hex(s[i + 2]) >= 0) {
            out[k++] = (char)(fake__hex(s[i + 1]) * 16 + fake__hex(s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
}

/* The decoded value of name in a form body; false when absent. */
static bool fake__form(const char *body, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    for (const char *p = body; p && *p;) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        if (eq != NULL) {
            char key[64];
            fake__decode(p, (size_t)(eq - p), key, sizeof(key));
            if (strcmp(key, name) == 0) {
                fake__decode(eq + 1, len - (size_t)(eq - p) - 1, out, n);
                return true;
            }
        }
        p = p[len] ? p + len + 1 : NULL;
    }
    return false;
}

static void fake__json(http_request *r, int status, json_t *doc)
{
    http_reply_json(r, status, doc);
}

static void fake__oauth_error(http_request *r, int status, const char *code)
{
    fake__json(r, status,
               json_pack("{s:s,s:s}", "error", code, "error_description", "Bad Request"));
}

static void fake__api_error(http_request *r, int status, const char *reason, const char *message)
{
    fake__json(r, status,
               json_pack("{s:{s:i,s:s,s:[{s:s,s:s,s:s}]}}", "error", "code", status, "message",
                         message, "errors", "message", message, "domain", "youtube.quota", "reason",
                         reason));
}

static void fake__random_hex(char out[17])
{
    unsigned char raw[8];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(out, 17, raw, sizeof(raw));
}

/* Issues a token for identity; caller holds the lock. */
static const char *fake__issue(fake_google *fg, const char *identity, bool refresh)
{
    if (fg->ntokens == FAKE_GOOGLE_MAX_TOKENS)
        return NULL;
    fake_google_token *t = &fg->tokens[fg->ntokens];
    char rnd[17];
    fake__random_hex(rnd);
    snprintf(t->value, sizeof(t->value),
             refresh ? "1//0g-refresh-%s-%02d-%s" : "ya29.a0-access-%s-%02d-%s", identity,
             fg->ntokens, rnd);
    fake__copy(t->identity, sizeof(t->identity), identity);
    t->refresh = refresh;
    t->valid = true;
    fg->ntokens++;
    return t->value;
}

static fake_google_token *fake__token(fake_google *fg, const char *value, bool refresh)
{
    for (int i = 0; i < fg->ntokens; i++)
        if (fg->tokens[i].refresh == refresh && strcmp(fg->tokens[i].value, value) == 0)
            return &fg->tokens[i];
    return NULL;
}

bool fake_google_access_valid(fake_google *fg, const char *value)
{
    fake_google_lock(fg);
    fake_google_token *t = fake__token(fg, value, false);
    bool ok = t != NULL && t->valid;
    fake_google_unlock(fg);
    return ok;
}

void fake_google_expire_access_tokens(fake_google *fg)
{
    fake_google_lock(fg);
    for (int i = 0; i < fg->ntokens; i++)
        if (!fg->tokens[i].refresh)
            fg->tokens[i].valid = false;
    fake_google_unlock(fg);
}

/* The access token of "Authorization: Bearer …", if valid; caller holds the lock. */
static fake_google_token *fake__bearer(fake_google *fg, http_request *r)
{
    const char *h = http_header(r, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
        return NULL;
    fake__copy(fg->last_bearer, sizeof(fg->last_bearer), h + 7);
    fake_google_token *t = fake__token(fg, h + 7, false);
    return t && t->valid ? t : NULL;
}

static void fake__append_query(buf *b, const char *name, const char *value)
{
    char enc[1024];
    http_client_urlencode(value, enc, sizeof(enc));
    buf_printf(b, "%c%s=%s", strchr(buf_cstr(b), '?') ? '&' : '?', name, enc);
}

/* GET /o/oauth2/v2/auth: the consent page, answered at once. */
static void fake__authorize(http_request *r)
{
    fake_google *fg = http_app(r);
    fake_google_lock(fg);
    fake__copy(fg->auth_client_id, sizeof(fg->auth_client_id), http_query(r, "client_id"));
    fake__copy(fg->auth_redirect_uri, sizeof(fg->auth_redirect_uri), http_query(r, "redirect_uri"));
    fake__copy(fg->auth_response_type, sizeof(fg->auth_response_type),
               http_query(r, "response_type"));
    fake__copy(fg->auth_scope, sizeof(fg->auth_scope), http_query(r, "scope"));
    fake__copy(fg->auth_state, sizeof(fg->auth_state), http_query(r, "state"));
    fake__copy(fg->auth_challenge, sizeof(fg->auth_challenge), http_query(r, "code_challenge"));
    fake__copy(fg->auth_challenge_method, sizeof(fg->auth_challenge_method),
               http_query(r, "code_challenge_method"));
    fake__copy(fg->auth_access_type, sizeof(fg->auth_access_type), http_query(r, "access_type"));
    fake__copy(fg->auth_prompt, sizeof(fg->auth_prompt), http_query(r, "prompt"));
    bool ok = strcmp(fg->auth_client_id, fg->client_id) == 0 &&
              strcmp(fg->auth_response_type, "code") == 0 &&
              strcmp(fg->auth_challenge_method, "S256") == 0 && strlen(fg->auth_challenge) == 43 &&
              fg->auth_redirect_uri[0] && fg->auth_state[0];
    if (!ok || fg->ncodes == FAKE_GOOGLE_MAX_CODES) {
        fake_google_unlock(fg);
        http_reply(r, 400, "text/plain", "invalid authorization request", 29);
        return;
    }
    buf loc;
    buf_init(&loc, 8192);
    buf_puts(&loc, fg->auth_redirect_uri);
    if (fg->deny) {
        fake__append_query(&loc, "error", "access_denied");
        fake__append_query(&loc, "state", fg->auth_state);
    } else {
        fake_google_code *c = &fg->codes[fg->ncodes++];
        char rnd[17];
        fake__random_hex(rnd);
        snprintf(c->code, sizeof(c->code), "4/0Ad-code-%s", rnd);
        fake__copy(c->identity, sizeof(c->identity), fg->identity);
        fake__copy(c->challenge, sizeof(c->challenge), fg->auth_challenge);
        fake__copy(c->redirect_uri, sizeof(c->redirect_uri), fg->auth_redirect_uri);
        fake__copy(c->scope, sizeof(c->scope), fg->auth_scope);
        if (fg->drop_youtube_scope)
            fake__copy(c->scope, sizeof(c->scope),
                       "https://www.googleapis.com/auth/yt-analytics.readonly openid "
                       "https://www.googleapis.com/auth/userinfo.email");
        fake__append_query(&loc, "state", fg->auth_state);
        fake__append_query(&loc, "code", c->code);
        fake__append_query(&loc, "scope", c->scope);
        fake__append_query(&loc, "authuser", "0");
        fake__append_query(&loc, "prompt", "consent");
    }
    fake_google_unlock(fg);
    http_set_header(r, "Location", buf_cstr(&loc));
    buf_free(&loc);
    http_reply(r, 302, NULL, NULL, 0);
}

static json_t *fake__token_doc(fake_google *fg, const char *access, const char *refresh,
                               const char *scope)
{
    json_t *doc = json_pack("{s:s,s:i,s:s,s:s,s:s}", "access_token", access, "expires_in",
                            (int)fg->expires_in, "scope", scope, "token_type", "Bearer", "id_token",
                            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
    if (refresh != NULL)
        json_object_set_new(doc, "refresh_token", json_string(refresh));
    return doc;
}

/* POST /token: code exchange and refresh, as Google's token endpoint. */
static void fake__token_endpoint(http_request *r)
{
    fake_google *fg = http_app(r);
    const char *body = http_body(r, NULL);
    char grant[32], id[128], secret[128], code[128], verifier[160], redirect[512], refresh[160];
    fake__form(body, "grant_type", grant, sizeof(grant));
    fake__form(body, "client_id", id, sizeof(id));
    fake__form(body, "client_secret", secret, sizeof(secret));
    fake__form(body, "code", code, sizeof(code));
    fake__form(body, "code_verifier", verifier, sizeof(verifier));
    fake__form(body, "redirect_uri", redirect, sizeof(redirect));
    fake__form(body, "refresh_token", refresh, sizeof(refresh));
    fake_google_lock(fg);
    fake__copy(fg->tok_grant_type, sizeof(fg->tok_grant_type), grant);
    fake__copy(fg->tok_client_secret, sizeof(fg->tok_client_secret), secret);
    fake__copy(fg->tok_content_type, sizeof(fg->tok_content_type), http_header(r, "Content-Type"));
    if (strcmp(id, fg->client_id) != 0 || strcmp(secret, fg->client_secret) != 0) {
        fake_google_unlock(fg);
        fake__oauth_error(r, 401, "invalid_client");
        return;
    }
    if (strcmp(grant, "authorization_code") == 0) {
        fg->exchanges++;
        fake__copy(fg->tok_redirect_uri, sizeof(fg->tok_redirect_uri), redirect);
        fake__copy(fg->tok_verifier, sizeof(fg->tok_verifier), verifier);
        fake_google_code *c = NULL;
        for (int i = 0; i < fg->ncodes; i++)
            if (strcmp(fg->codes[i].code, code) == 0)
                c = &fg->codes[i];
        char challenge[64] = "";
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
        sodium_bin2base64(challenge, sizeof(challenge), h, sizeof(h),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (c == NULL || c->used || strcmp(challenge, c->challenge) != 0) {
            fake_google_unlock(fg);
            fake__oauth_error(r, 400, "invalid_grant");
            return;
        }
        if (strcmp(redirect, c->redirect_uri) != 0) {
            fake_google_unlock(fg);
            fake__oauth_error(r, 400, "redirect_uri_mismatch");
            return;
        }
        c->used = true;
        const char *access = fake__issue(fg, c->identity, false);
        const char *refresh_token = fake__issue(fg, c->identity, true);
        json_t *doc = fake__token_doc(fg, access, refresh_token, c->scope);
        fake_google_unlock(fg);
        fake__json(r, 200, doc);
        return;
    }
    if (strcmp(grant, "refresh_token") == 0) {
        fg->refreshes++;
        fake_google_token *t = fake__token(fg, refresh, true);
        if (fg->refresh_invalid || t == NULL || !t->valid) {
            fake_google_unlock(fg);
            fake__oauth_error(r, 400, "invalid_grant");
            return;
        }
        const char *access = fake__issue(fg, t->identity, false);
        json_t *doc =
            fake__token_doc(fg, access, NULL,
                            "https://www.googleapis.com/auth/youtube.readonly "
                            "https://www.googleapis.com/auth/yt-analytics.readonly openid "
                            "https://www.googleapis.com/auth/userinfo.email");
        fake_google_unlock(fg);
        fake__json(r, 200, doc);
        return;
    }
    fake_google_unlock(fg);
    fake__oauth_error(r, 400, "unsupported_grant_type");
}

static void fake__userinfo(http_request *r)
{
    fake_google *fg = http_app(r);
    fake_google_lock(fg);
    fg->userinfos++;
    fake_google_token *t = fake__bearer(fg, r);
    if (t == NULL) {
        fake_google_unlock(fg);
        fake__json(r, 401, json_pack("{s:s}", "error", "invalid_token"));
        return;
    }
    char sub[64], email[64];
    snprintf(sub, sizeof(sub), "10776%s", t->identity);
    snprintf(email, sizeof(email), "%s@gmail.test", t->identity);
    fake_google_unlock(fg);
    fake__json(r, 200,
               json_pack("{s:s,s:s,s:b,s:s}", "sub", sub, "email", email, "email_verified", 1,
                         "picture", "https://lh3.example/photo.jpg"));
}

static void fake__revoke(http_request *r)
{
    fake_google *fg = http_app(r);
    char token[160];
    fake__form(http_body(r, NULL), "token", token, sizeof(token));
    fake_google_lock(fg);
    if (fg->revoke_status != 0) {
        int status = fg->revoke_status;
        fake_google_unlock(fg);
        http_reply_json(r, status,
                        json_pack("{s:s,s:s}", "error", "backend_error", "error_description",
                                  "The service is currently unavailable."));
        return;
    }
    if (fg->revokes < 8)
        fake__copy(fg->revoked[fg->revokes], sizeof(fg->revoked[0]), token);
    fg->revokes++;
    fake_google_token *t = fake__token(fg, token, true);
    if (t == NULL)
        t = fake__token(fg, token, false);
    if (t != NULL)
        for (int i = 0; i < fg->ntokens; i++) /* the grant goes, every token of it */
            if (strcmp(fg->tokens[i].identity, t->identity) == 0)
                fg->tokens[i].valid = false;
    fake_google_unlock(fg);
    if (t == NULL) {
        fake__oauth_error(r, 400, "invalid_token");
        return;
    }
    http_reply(r, 200, "application/json", "{}", 2);
}

static json_t *fake__channel(const char *id, const char *title, const char *handle,
                             const char *subs, const char *views, const char *videos)
{
    char thumb[3][128];
    static const char *const sizes[] = {"default", "medium", "high"};
    json_t *thumbs = json_object();
    for (int i = 0; i < 3; i++) {
        snprintf(thumb[i], sizeof(thumb[i]), "https://yt3.ggpht.example/%s-%s.jpg", id, sizes[i]);
        json_object_set_new(thumbs, sizes[i],
                            json_pack("{s:s,s:i,s:i}", "url", thumb[i], "width", 88 * (i + 1),
                                      "height", 88 * (i + 1)));
    }
    json_t *stats = json_pack("{s:s,s:s}", "viewCount", views, "videoCount", videos);
    if (subs != NULL) {
        json_object_set_new(stats, "subscriberCount", json_string(subs));
        json_object_set_new(stats, "hiddenSubscriberCount", json_false());
    } else {
        json_object_set_new(stats, "hiddenSubscriberCount", json_true());
    }
    char uploads[64];
    snprintf(uploads, sizeof(uploads), "UU%s", id + 2);
    json_t *snippet = json_pack("{s:s,s:s,s:s,s:o}", "title", title, "description", "",
                                "publishedAt", "2015-03-01T10:00:00Z", "thumbnails", thumbs);
    if (handle != NULL)
        json_object_set_new(snippet, "customUrl", json_string(handle));
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:{s:{s:s,s:s}}}", "kind", "youtube#channel", "etag",
                     "etag-1", "id", id, "snippet", snippet, "statistics", stats, "contentDetails",
                     "relatedPlaylists", "likes", "", "uploads", uploads);
}

/* GET /youtube/v3/channels?part=snippet,statistics,contentDetails&mine=true */
static void fake__channels(http_request *r)
{
    fake_google *fg = http_app(r);
    const char *part = http_query(r, "part"), *mine = http_query(r, "mine");
    if (part == NULL || strcmp(part, "snippet,statistics,contentDetails") != 0 || mine == NULL ||
        strcmp(mine, "true") != 0) {
        fake__api_error(r, 400, "badRequest",
                        "expected part=snippet,statistics,contentDetails "
                        "and mine=true");
        return;
    }
    fake_google_lock(fg);
    fg->channel_lists++;
    int mode = fg->channels_mode;
    fake_google_token *t = fake__bearer(fg, r);
    char identity[16], subs[32];
    fake__copy(identity, sizeof(identity), t ? t->identity : "");
    fake__copy(subs, sizeof(subs), fg->alice_subscribers);
    fake_google_unlock(fg);
    if (mode == 1) {
        fake__api_error(r, 403, "quotaExceeded",
                        "The request cannot be completed because you have exceeded your <a "
                        "href=\"/youtube/v3/getting-started#quota\">quota</a>.");
        return;
    }
    if (mode == 2) {
        http_set_header(r, "Retry-After", "30");
        fake__api_error(r, 429, "rateLimitExceeded", "Too many requests.");
        return;
    }
    if (t == NULL) {
        fake__json(r, 401,
                   json_pack("{s:{s:i,s:s,s:[{s:s,s:s}]}}", "error", "code", 401, "message",
                             "Request had invalid authentication credentials.", "errors", "reason",
                             "authError", "domain", "global"));
        return;
    }
    json_t *items = json_array();
    if (strcmp(identity, "alice") == 0) {
        json_array_append_new(items, fake__channel("UCalice0000000000000001", "Alice in Space",
                                                   "@aliceinspace", subs, "98765432101", "321"));
        json_array_append_new(
            items, fake__channel("UCalice0000000000000002", "Alice Cooks", NULL, NULL, "42", "7"));
    } else if (strcmp(identity, "bob") == 0) {
        json_array_append_new(items, fake__channel("UCbob000000000000000001", "Bob Builds",
                                                   "@bobbuilds", "10", "100", "3"));
    } else {
        json_array_append_new(items, fake__channel("UCbrand0000000000000001", "Brand Channel",
                                                   "@brand", "5000", "70000", "40"));
    }
    fake__json(r, 200,
               json_pack("{s:s,s:s,s:{s:i,s:i},s:o}", "kind", "youtube#channelListResponse", "etag",
                         "list-etag", "pageInfo", "totalResults", (int)json_array_size(items),
                         "resultsPerPage", 50, "items", items));
}

void fake_google_analytics_day(const char *date, int revision, fake_analytics_day *out)
{
    int64_t d = 0;
    time_day_parse(date, &d);
    out->views = 100 + (d % 37) * 10 + revision;
    out->likes = out->views / 10;
    out->comments = d % 5;
    out->shares = d % 3;
    out->minutes = out->views * 2;
    out->duration = 120 + d % 60;
    out->percentage = 30.0 + (double)(d % 20) * 1.5;
    out->gained = d % 7;
    out->lost = d % 2;
}

void fake_google_video_day(const char *date, int revision, const fake_video *v,
                           fake_analytics_day *out)
{
    fake_analytics_day ch;
    fake_google_analytics_day(date, revision, &ch);
    memset(out, 0, sizeof(*out));
    out->views = ch.views * v->share_pct / 100;
    out->likes = out->views / 10;
    out->comments = ch.comments > 0 ? 1 : 0;
    out->minutes = out->views * v->minutes_per_view;
    out->duration = 60 * v->minutes_per_view;
    out->percentage = v->percentage;
    out->gained = ch.gained / 2;
}

void fake_google_add_video(fake_google *fg, const char *id, int share_pct, int minutes_per_view,
                           double percentage)
{
    if (fg->nvideos >= FAKE_GOOGLE_MAX_VIDEOS)
        return;
    fake_video *v = &fg->videos[fg->nvideos++];
    snprintf(v->id, sizeof(v->id), "%s", id);
    v->share_pct = share_pct;
    v->minutes_per_view = minutes_per_view;
    v->percentage = percentage;
}

/* filters=video==ID1,ID2,… as the real API takes it: 1 to 500 ids of
 * letters, digits, '-' and '_'. The ids split into ids[] (at most max). */
static int fake__video_filter(const char *f, char ids[][16], int max)
{
    if (f == NULL || strncmp(f, "video==", 7) != 0)
        return -1;
    int n = 0;
    const char *p = f + 7;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len > 64 || n >= 500)
            return -1;
        for (size_t i = 0; i < len; i++)
            if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
                return -1;
        if (n < max)
            snprintf(ids[n], 16, "%.*s", (int)(len < 15 ? len : 15), p);
        n++;
        if (p[len] == '\0')
            return n;
        p += len + 1;
    }
}

static bool fake__query_is(http_request *r, const char *name, const char *want, fake_google *fg)
{
    const char *v = http_query(r, name);
    if (v != NULL && strcmp(v, want) == 0)
        return true;
    snprintf(fg->analytics_bad_query, sizeof(fg->analytics_bad_query), "%s=%s, expected %s", name,
             v ? v : "(none)", want);
    return false;
}

static json_t *fake__header(const char *name, const char *type, const char *data)
{
    return json_pack("{s:s,s:s,s:s}", "name", name, "columnType", type, "dataType", data);
}

static const char *const fake__metrics[] = {"views",
                                            "likes",
                                            "comments",
                                            "shares",
                                            "estimatedMinutesWatched",
                                            "averageViewDuration",
                                            "averageViewPercentage",
                                            "subscribersGained",
                                            "subscribersLost"};

/* The report by day and video: per day, a row for each video asked for that
 * the fake knows, in the order asked (the columns reversed on request). */
static void fake__video_reports(http_request *r, int64_t from, int64_t last, char asked[][16],
                                int nasked, const fake_video *known, int nknown, int revision,
                                bool reversed, int mode)
{
    json_t *headers = json_array();
    if (!reversed) {
        json_array_append_new(headers, fake__header("day", "DIMENSION", "STRING"));
        if (mode != FAKE_VIDEO_NO_COLUMN)
            json_array_append_new(headers, fake__header("video", "DIMENSION", "STRING"));
    }
    for (size_t k = 0; k < 9; k++) {
        const char *m = fake__metrics[reversed ? 8 - k : k];
        bool real = strcmp(m, "averageViewPercentage") == 0;
        json_array_append_new(headers, fake__header(m, "METRIC", real ? "FLOAT" : "INTEGER"));
    }
    if (reversed) {
        if (mode != FAKE_VIDEO_NO_COLUMN)
            json_array_append_new(headers, fake__header("video", "DIMENSION", "STRING"));
        json_array_append_new(headers, fake__header("day", "DIMENSION", "STRING"));
    }
    json_t *rows = json_array();
    for (int64_t d = from; d <= last; d++) {
        char date[TIME_DAY_STR_LEN + 1];
        time_day_format(d, date);
        for (int i = 0; i < nasked; i++) {
            const fake_video *v = NULL;
            for (int k = 0; k < nknown; k++)
                if (strcmp(known[k].id, asked[i]) == 0)
                    v = &known[k];
            if (v == NULL)
                continue;
            fake_analytics_day x;
            fake_google_video_day(date, revision, v, &x);
            json_t *vals[9] = {
                json_integer(x.views),   json_integer(x.likes),   json_integer(x.comments),
                json_integer(x.shares),  json_integer(x.minutes), json_integer(x.duration),
                json_real(x.percentage), json_integer(x.gained),  json_integer(x.lost)};
            const char *vid = mode == FAKE_VIDEO_UNASKED ? "notAskedFor" : v->id;
            json_t *row = json_array();
            if (!reversed) {
                json_array_append_new(row, json_string(date));
                if (mode != FAKE_VIDEO_NO_COLUMN)
                    json_array_append_new(row, json_string(vid));
            }
            for (size_t k = 0; k < 9; k++)
                json_array_append_new(row, json_incref(vals[reversed ? 8 - k : k]));
            for (size_t k = 0; k < 9; k++)
                json_decref(vals[k]);
            if (reversed) {
                if (mode != FAKE_VIDEO_NO_COLUMN)
                    json_array_append_new(row, json_string(vid));
                json_array_append_new(row, json_string(date));
            }
            if (mode == FAKE_VIDEO_TWICE)
                json_array_append(rows, row);
            json_array_append_new(rows, row);
        }
    }
    json_t *doc =
        json_pack("{s:s,s:o}", "kind", "youtubeAnalytics#resultTable", "columnHeaders", headers);
    if (json_array_size(rows) > 0)
        json_object_set_new(doc, "rows", rows);
    else
        json_decref(rows);
    fake__json(r, 200, doc);
}

/* GET /v2/reports?ids=channel==MINE&startDate&endDate&metrics&dimensions=day&sort=day, or
 * dimensions=day,video with filters=video==ID1,ID2,… */
static void fake__reports(http_request *r)
{
    fake_google *fg = http_app(r);
    fake_google_lock(fg);
    int call = fg->analytics_calls++;
    const char *start = http_query(r, "startDate"), *end = http_query(r, "endDate");
    if (call < 64)
        snprintf(fg->analytics_ranges[call], sizeof(fg->analytics_ranges[0]), "%.10s..%.10s",
                 start ? start : "", end ? end : "");
    int64_t from = 0, to = 0;
    const char *dims = http_query(r, "dimensions");
    bool by_video = dims != NULL && strcmp(dims, "day,video") == 0;
    char asked[64][16];
    int nasked = 0;
    if (by_video) {
        fg->video_calls++;
        nasked = fake__video_filter(http_query(r, "filters"), asked, 64);
        if (nasked > fg->video_ids_max)
            fg->video_ids_max = nasked;
        if (nasked < 0)
            snprintf(fg->analytics_bad_query, sizeof(fg->analytics_bad_query),
                     "filters=%s, expected video==ID1,ID2,... with 1 to 500 ids",
                     http_query(r, "filters") ? http_query(r, "filters") : "(none)");
    }
    bool ok = fake__query_is(r, "ids", "channel==MINE", fg) &&
              fake__query_is(r, "metrics", YOUTUBE_ANALYTICS_METRICS, fg) &&
              (by_video ? nasked > 0 : fake__query_is(r, "dimensions", "day", fg)) &&
              fake__query_is(r, "sort", "day", fg) && time_day_parse(start, &from) &&
              time_day_parse(end, &to) && from <= to;
    int video_mode = fg->analytics_video_mode;
    if (by_video && video_mode == FAKE_VIDEO_EXPIRED)
        fg->analytics_video_mode = FAKE_VIDEO_OK;
    fake_video known[FAKE_GOOGLE_MAX_VIDEOS];
    int nknown = fg->nvideos;
    memcpy(known, fg->videos, sizeof(known));
    int mode = fg->analytics_mode;
    bool fail_now = fg->analytics_fail_at > 0 && --fg->analytics_fail_at == 0;
    bool reversed = fg->analytics_reversed;
    int revision = fg->analytics_revision;
    int64_t last = to;
    if (fg->analytics_last_day[0] && time_day_parse(fg->analytics_last_day, &last) && last > to)
        last = to;
    fake_google_token *t = fake__bearer(fg, r);
    int delay_ms = fg->analytics_delay_ms;
    fake_google_unlock(fg);
    if (delay_ms > 0) {
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    if (!ok) {
        fake__api_error(r, 400, "badRequest", "Invalid query.");
        return;
    }
    if (t == NULL || (by_video && video_mode == FAKE_VIDEO_EXPIRED)) {
        fake__json(r, 401,
                   json_pack("{s:{s:i,s:s,s:[{s:s,s:s}]}}", "error", "code", 401, "message",
                             "Request had invalid authentication credentials.", "errors", "reason",
                             "authError", "domain", "global"));
        return;
    }
    if (mode == FAKE_ANALYTICS_QUOTA) {
        fake__api_error(r, 403, "quotaExceeded",
                        "The request cannot be completed because you have exceeded your quota.");
        return;
    }
    if (mode == FAKE_ANALYTICS_RATE_LIMITED ||
        (by_video && video_mode == FAKE_VIDEO_RATE_LIMITED)) {
        http_set_header(r, "Retry-After", "45");
        fake__api_error(r, 429, "rateLimitExceeded", "Too many requests.");
        return;
    }
    if (mode == FAKE_ANALYTICS_UNAVAILABLE || fail_now) {
        fake__api_error(r, 503, "backendError", "The service is currently unavailable.");
        return;
    }
    if (mode == FAKE_ANALYTICS_NOT_JSON) {
        http_reply(r, 200, "application/json", "<html>oops</html>", 17);
        return;
    }
    if (by_video) {
        fake__video_reports(r, from, last, asked, nasked < 64 ? nasked : 64, known, nknown,
                            revision, reversed, video_mode);
        return;
    }
    const char *const *metrics = fake__metrics;
    size_t nm = 9;
    if (mode == FAKE_ANALYTICS_NO_COLUMN)
        nm--;
    json_t *headers = json_array();
    if (!reversed)
        json_array_append_new(headers, fake__header("day", "DIMENSION", "STRING"));
    for (size_t k = 0; k < nm; k++) {
        const char *m = metrics[reversed ? nm - 1 - k : k];
        bool real = strcmp(m, "averageViewPercentage") == 0;
        json_array_append_new(headers, fake__header(m, "METRIC", real ? "FLOAT" : "INTEGER"));
    }
    if (reversed)
        json_array_append_new(headers, fake__header("day", "DIMENSION", "STRING"));
    json_t *rows = json_array();
    for (int64_t d = from; d <= last; d++) {
        char date[TIME_DAY_STR_LEN + 1];
        time_day_format(mode == FAKE_ANALYTICS_WRONG_DAY && d == from ? to + 1 : d, date);
        char real_date[TIME_DAY_STR_LEN + 1];
        time_day_format(d, real_date);
        fake_analytics_day v;
        fake_google_analytics_day(real_date, revision, &v);
        json_t *vals[9] = {
            mode == FAKE_ANALYTICS_NEGATIVE       ? json_integer(-v.views)
            : mode == FAKE_ANALYTICS_STRING_COUNT ? json_sprintf("%lld", v.views)
                                                  : json_integer(v.views),
            json_integer(v.likes),
            json_integer(v.comments),
            json_integer(v.shares),
            json_integer(v.minutes),
            json_integer(v.duration),
            json_real(v.percentage),
            json_integer(v.gained),
            json_integer(v.lost),
        };
        json_t *row = json_array();
        if (!reversed)
            json_array_append_new(row, json_string(date));
        for (size_t k = 0; k < 9; k++) {
            size_t at = reversed ? nm - 1 - k : k;
            if (k < nm)
                json_array_append_new(row, json_incref(vals[at]));
        }
        for (size_t k = 0; k < 9; k++)
            json_decref(vals[k]);
        if (reversed)
            json_array_append_new(row, json_string(date));
        if (mode == FAKE_ANALYTICS_SHORT_ROW)
            json_array_remove(row, json_array_size(row) - 1);
        json_array_append_new(rows, row);
    }
    json_t *doc =
        json_pack("{s:s,s:o}", "kind", "youtubeAnalytics#resultTable", "columnHeaders", headers);
    if (mode == FAKE_ANALYTICS_ROWS_OBJECT) {
        json_decref(rows);
        json_object_set_new(doc, "rows", json_object());
    } else if (json_array_size(rows) > 0) {
        json_object_set_new(doc, "rows", rows); /* absent when there is no data, as Google does */
    } else {
        json_decref(rows);
    }
    fake__json(r, 200, doc);
}

/* ---- YouTube Reporting API v1 ----------------------------------------------------- */

void fake_google_add_reach_report(fake_google *fg, const char *id, const char *day,
                                  const char *create, const char *csv)
{
    int64_t d = 0;
    time_day_parse(day, &d);
    char next[TIME_DAY_STR_LEN + 1];
    time_day_format(d + 1, next);
    fake_google_lock(fg);
    if (fg->nreports < FAKE_GOOGLE_MAX_REPORTS) {
        fake_reach_report *r = &fg->reports[fg->nreports++];
        fake__copy(r->id, sizeof(r->id), id);
        /* Google's days start at midnight Pacific time. */
        snprintf(r->start, sizeof(r->start), "%sT08:00:00Z", day);
        snprintf(r->end, sizeof(r->end), "%sT08:00:00Z", next);
        fake__copy(r->create, sizeof(r->create), create);
        fake__copy(r->csv, sizeof(r->csv), csv);
    }
    fake_google_unlock(fg);
}

static void fake__unauthorized(http_request *r)
{
    fake__json(r, 401,
               json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 401, "message",
                         "Request had invalid authentication credentials.", "status",
                         "UNAUTHENTICATED"));
}

static json_t *fake__reporting_job(const char *id, const char *type)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "id", id, "reportTypeId", type, "name",
                     "Persona Studio reach", "createTime", "2026-01-05T10:00:00.123456Z");
}

/* GET /v1/jobs[?pageToken=p2] */
static void fake__jobs_list(http_request *r)
{
    fake_google *fg = http_app(r);
    fake_google_lock(fg);
    fg->job_lists++;
    fake_google_token *t = fake__bearer(fg, r);
    bool other = fg->reporting_other_job, expired = fg->reporting_expired_job;
    char job[64];
    fake__copy(job, sizeof(job), fg->reporting_job_id);
    fake_google_unlock(fg);
    if (t == NULL) {
        fake__unauthorized(r);
        return;
    }
    const char *page = http_query(r, "pageToken");
    json_t *doc = json_object(), *jobs = json_array();
    if (other && page == NULL) {
        json_array_append_new(jobs, fake__reporting_job("job-other-1", "channel_basic_a3"));
        json_object_set_new(doc, "nextPageToken", json_string("p2"));
    } else {
        if (expired) { /* it makes no more reports */
            json_t *old = fake__reporting_job("reach-job-expired", "channel_reach_basic_a1");
            json_object_set_new(old, "expireTime", json_string("2020-01-01T00:00:00Z"));
            json_array_append_new(jobs, old);
        }
        if (job[0])
            json_array_append_new(jobs, fake__reporting_job(job, "channel_reach_basic_a1"));
    }
    if (json_array_size(jobs) > 0) /* absent when there are none, as Google does */
        json_object_set_new(doc, "jobs", jobs);
    else
        json_decref(jobs);
    fake__json(r, 200, doc);
}

/* POST /v1/jobs {reportTypeId, name} */
static void fake__jobs_create(http_request *r)
{
    fake_google *fg = http_app(r);
    json_t *body = json_loads(http_body(r, NULL), JSON_REJECT_DUPLICATES, NULL);
    const char *type = json_string_value(json_object_get(body, "reportTypeId"));
    const char *name = json_string_value(json_object_get(body, "name"));
    fake_google_lock(fg);
    fg->job_creates++;
    fake_google_token *t = fake__bearer(fg, r);
    bool exists = fg->reporting_job_id[0] != '\0';
    bool ok = type && name && name[0] && strcmp(type, "channel_reach_basic_a1") == 0;
    if (!ok)
        snprintf(fg->reporting_bad, sizeof(fg->reporting_bad),
                 "jobs.create body without "
                 "reportTypeId "
                 "channel_reach_basic_a1 and a name");
    if (t != NULL && ok && !exists)
        fake__copy(fg->reporting_job_id, sizeof(fg->reporting_job_id), "reach-job-1");
    fake_google_unlock(fg);
    json_decref(body);
    if (t == NULL) {
        fake__unauthorized(r);
    } else if (!ok) {
        fake__api_error(r, 400, "badRequest", "Invalid job.");
    } else if (exists) {
        fake__json(r, 409,
                   json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 409, "message",
                             "Job already exists.", "status", "ALREADY_EXISTS"));
    } else {
        fake__json(r, 200, fake__reporting_job("reach-job-1", "channel_reach_basic_a1"));
    }
}

/* GET /v1/jobs/{job}/reports[?createdAfter=…][&pageToken=…] */
static void fake__reports_list(http_request *r)
{
    fake_google *fg = http_app(r);
    const char *after_q = http_query(r, "createdAfter"), *page = http_query(r, "pageToken");
    int64_t after = -1;
    bool bad_after = after_q != NULL && !time_parse(after_q, &after);
    int start = page ? atoi(page) : 0;
    fake_google_lock(fg);
    fg->report_lists++;
    fake__copy(fg->last_created_after, sizeof(fg->last_created_after), after_q ? after_q : "");
    fake_google_token *t = fake__bearer(fg, r);
    int mode = fg->reporting_mode;
    bool ours = fg->reporting_job_id[0] && strcmp(http_param(r, "job"), fg->reporting_job_id) == 0;
    int size = fg->reporting_page_size > 0 ? fg->reporting_page_size : 2;
    bool offsite = fg->reporting_offsite;
    json_t *reports = json_array();
    int matched = 0, next = -1;
    for (int i = 0; i < fg->nreports; i++) {
        fake_reach_report *rep = &fg->reports[i];
        int64_t made = 0;
        time_parse(rep->create, &made);
        if (after >= 0 && made <= after)
            continue;
        if (matched++ < start)
            continue;
        if ((int)json_array_size(reports) == size) {
            next = matched - 1;
            break;
        }
        char url[256];
        snprintf(url, sizeof(url), "http://%s:%d/v1/media/reach/%s?alt=media",
                 offsite ? "localhost" : "127.0.0.1", fg->port, rep->id);
        json_array_append_new(reports,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", rep->id, "jobId",
                                        fg->reporting_job_id, "startTime", rep->start, "endTime",
                                        rep->end, "createTime", rep->create, "downloadUrl", url));
    }
    fake_google_unlock(fg);
    if (t == NULL) {
        json_decref(reports);
        fake__unauthorized(r);
        return;
    }
    if (bad_after || !ours) {
        json_decref(reports);
        fake__api_error(r, bad_after ? 400 : 404, bad_after ? "badRequest" : "notFound",
                        bad_after ? "Invalid createdAfter." : "Job not found.");
        return;
    }
    if (mode != FAKE_REPORTING_OK)
        json_decref(reports);
    switch (mode) {
    case FAKE_REPORTING_QUOTA:
        fake__api_error(r, 403, "quotaExceeded",
                        "The request cannot be completed because you have exceeded your quota.");
        return;
    case FAKE_REPORTING_RATE_LIMITED:
        http_set_header(r, "Retry-After", "45");
        fake__api_error(r, 429, "rateLimitExceeded", "Too many requests.");
        return;
    case FAKE_REPORTING_UNAVAILABLE:
        fake__api_error(r, 503, "backendError", "The service is currently unavailable.");
        return;
    case FAKE_REPORTING_NOT_JSON:
        http_reply(r, 200, "application/json", "{\"reports\": [", 13);
        return;
    default:
        break;
    }
    json_t *doc = json_object();
    if (json_array_size(reports) > 0)
        json_object_set_new(doc, "reports", reports);
    else
        json_decref(reports);
    if (next >= 0)
        json_object_set_new(doc, "nextPageToken", json_sprintf("%d", next));
    fake__json(r, 200, doc);
}

/* GET /v1/media/reach/{id}?alt=media: the CSV, for the bearer token only. */
static void fake__media(http_request *r)
{
    fake_google *fg = http_app(r);
    fake_google_lock(fg);
    fg->media_calls++;
    fake_google_token *t = fake__bearer(fg, r);
    bool fail_now = fg->media_fail_at > 0 && --fg->media_fail_at == 0;
    char *csv = NULL;
    for (int i = 0; i < fg->nreports; i++)
        if (strcmp(fg->reports[i].id, http_param(r, "id")) == 0)
            csv = xstrdup(fg->reports[i].csv);
    fake_google_unlock(fg);
    if (t == NULL)
        fake__unauthorized(r);
    else if (fail_now)
        fake__api_error(r, 503, "backendError", "The service is currently unavailable.");
    else if (csv == NULL)
        fake__api_error(r, 404, "notFound", "No such report.");
    else
        http_reply(r, 200, "application/octet-stream", csv, strlen(csv));
    free(csv);
}

static const http_route fake__routes[] = {
    {"GET", "/o/oauth2/v2/auth", fake__authorize, "fake.authorize"},
    {"POST", "/token", fake__token_endpoint, "fake.token"},
    {"GET", "/v1/userinfo", fake__userinfo, "fake.userinfo"},
    {"POST", "/revoke", fake__revoke, "fake.revoke"},
    {"GET", "/youtube/v3/channels", fake__channels, "fake.channels"},
    {"GET", "/v2/reports", fake__reports, "fake.reports"},
    {"GET", "/v1/jobs", fake__jobs_list, "fake.jobs.list"},
    {"POST", "/v1/jobs", fake__jobs_create, "fake.jobs.create"},
    {"GET", "/v1/jobs/{job}/reports", fake__reports_list, "fake.jobs.reports.list"},
    {"GET", "/v1/media/reach/{id}", fake__media, "fake.media"},
};

fake_google *fake_google_start(const char *client_id, const char *client_secret)
{
    fake_google *fg = xcalloc(1, sizeof(*fg));
    pthread_mutex_init(&fg->lock, NULL);
    fake__copy(fg->client_id, sizeof(fg->client_id), client_id);
    fake__copy(fg->client_secret, sizeof(fg->client_secret), client_secret);
    fake__copy(fg->identity, sizeof(fg->identity), "alice");
    fake__copy(fg->alice_subscribers, sizeof(fg->alice_subscribers), "1234567");
    fg->expires_in = 3599;
    http_server_config cfg = {
        .bind_addr = "127.0.0.1",
        .port = 0,
        .threads = 2,
        .max_body = 64 * 1024,
        .shutdown_timeout_ms = 2000,
        .app = fg,
    };
    error e;
    fg->srv =
        http_server_start(&cfg, fake__routes, sizeof(fake__routes) / sizeof(fake__routes[0]), &e);
    if (fg->srv == NULL) {
        fprintf(stderr, "fake google: %s\n", e.message);
        abort();
    }
    fg->port = http_server_port(fg->srv);
    return fg;
}

void fake_google_stop(fake_google *fg)
{
    if (fg == NULL)
        return;
    http_server_stop(fg->srv);
    pthread_mutex_destroy(&fg->lock);
    free(fg);
}

size_t fake_google_env(const fake_google *fg, const char *redirect_uri, const char *secret_key,
                       fake_google_settings *s, const char **env)
{
    static const char *const endpoints[][2] = {{"GOOGLE_TOKEN_URL", "/token"},
                                               {"GOOGLE_REVOKE_URL", "/revoke"},
                                               {"GOOGLE_USERINFO_URL", "/v1/userinfo"},
                                               {"YOUTUBE_API_URL", "/youtube/v3"},
                                               {"YOUTUBE_ANALYTICS_URL", ""}};
    size_t n = 0;
    snprintf(s->text[n++], sizeof(s->text[0]), "PSTUDIO_GOOGLE_CLIENT_ID=%s", fg->client_id);
    snprintf(s->text[n++], sizeof(s->text[0]), "PSTUDIO_GOOGLE_CLIENT_SECRET=%s",
             fg->client_secret);
    snprintf(s->text[n++], sizeof(s->text[0]), "PSTUDIO_GOOGLE_REDIRECT_URI=%s", redirect_uri);
    snprintf(s->text[n++], sizeof(s->text[0]), "PSTUDIO_SECRET_KEY=%s", secret_key);
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
        snprintf(s->text[n++], sizeof(s->text[0]), "PSTUDIO_%s=http://127.0.0.1:%d%s",
                 endpoints[i][0], fg->port, endpoints[i][1]);
    for (size_t i = 0; i < n; i++)
        env[i] = s->text[i];
    env[n] = NULL;
    return n;
}
