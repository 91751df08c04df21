#include "services/publish_service.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "domain/account_store.h"
#include "domain/channel_store.h"
#include "domain/persona_store.h"
#include "domain/project_store.h"
#include "jobs/queue.h"
#include "providers/google_oauth.h"
#include "providers/media_store.h"
#include "providers/youtube_upload.h"
#include "services/google_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUBLISH_TRIES      8 /* quota waits are long; give them room */
#define PUBLISH_LEASE_S    600
#define PUBLISH_RESUMES    5 /* dropped connections or 5xx in a row within one attempt */
#define PUBLISH_VIDEO_TYPE "video/mp4"
#define PUBLISH_THUMB_TYPE "image/png"
#define PUBLISH_API        "YouTube upload"

/* The one precondition on the project's media before anything is sent:
 * the finished video is in its media store. (When projects record their
 * render status, that check belongs here too.) ERR_CONFLICT naming "video"
 * when it is not there yet. */
static int publish_service__ready(services *s, const char *user_id, const char *project_id,
                                  media_file *video, error *err)
{
    if (s->media == NULL)
        return error_set(err, ERR_UNAVAILABLE, NULL,
                         "media storage is not available on this server");
    if (media_store_open(s->media, user_id, project_id, PUBLISH_VIDEO_NAME, video, err) != 0) {
        if (err->kind == ERR_NOT_FOUND)
            return error_set(err, ERR_CONFLICT, "video",
                             "the project has no finished video yet; render it first");
        return -1;
    }
    if (video->size <= 0) {
        close(video->fd);
        video->fd = -1;
        return error_set(err, ERR_CONFLICT, "video", "the project's video file is empty");
    }
    return 0;
}

/* True when the space-separated scopes include want. */
static bool publish__has_scope(const char *scopes, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = scopes ? scopes : ""; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, want, n) == 0)
            return true;
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* A plain error (no problem of its own) in ge, naming field. */
static int publish__refuse(google_err *ge, error_kind kind, const char *field, const char *msg)
{
    ge->problem = GOOGLE_PROBLEM_NONE;
    ge->retry_after_s = -1;
    return error_set(&ge->e, kind, field, "%s", msg);
}

/* The channel the project is for and its Google account, ready to upload
 * with: every missing piece is named. */
static int publish__open(db_conn *c, arena *a, const char *user_id, const char *channel_id,
                         channel *ch, account *acc, google_err *ge)
{
    error e;
    if (channel_id == NULL)
        return publish__refuse(ge, ERR_CONFLICT, "channel_id",
                               "the project is not meant for a channel; set its channel_id first");
    if (channel_store_get(c, a, user_id, channel_id, false, "channel_id", ch, &e) != 0)
        return google_service__plain(ge, &e);
    if (ch->account_id == NULL)
        return publish__refuse(ge, ERR_CONFLICT, "channel_id",
                               "the channel is not linked to a Google account; import it through "
                               "a connected account first");
    if (account_store_get(c, a, user_id, ch->account_id, acc, &e) != 0)
        return google_service__plain(ge, &e);
    if (strcmp(acc->status, ACCOUNT_ACTIVE) != 0)
        return google_service__fail(ge, GOOGLE_PROBLEM_RECONNECT, ERR_CONFLICT,
                                    "the channel's Google account must be connected again");
    if (!publish__has_scope(acc->scopes, GOOGLE_SCOPE_UPLOAD))
        return google_service__fail(ge, GOOGLE_PROBLEM_SCOPE, ERR_CONFLICT,
                                    "the channel's Google account did not grant the youtube.upload "
                                    "scope; connect it again (with publishing on) and allow "
                                    "managing your YouTube videos");
    return 0;
}

/* YouTube refuses '<' and '>' in titles and descriptions. */
static bool publish__plain_text(const char *v)
{
    return v == NULL || strpbrk(v, "<>") == NULL;
}

/* The publication as asked for, from rq and the project (the language from
 * the project, else its persona's). */
static int publish__compose(db_conn *c, arena *a, const principal *p, const project *pr,
                            const publish_request *rq, publication *pb, google_err *ge)
{
    memset(pb, 0, sizeof(*pb));
    int64_t now = time_now_usec();
    snprintf(pb->project_id, sizeof(pb->project_id), "%s", pr->id);
    snprintf(pb->user_id, sizeof(pb->user_id), "%s", p->user_id);
    pb->channel_id = pr->channel_id;
    pb->status = "queued";
    pb->privacy_status = rq->privacy_status;
    pb->publish_at = rq->publish_at;
    pb->made_for_kids = rq->made_for_kids;
    /* Narration and images are generated: YouTube asks creators to disclose
     * realistic altered or synthetic content (decision 116). */
    pb->contains_synthetic_media = rq->synthetic_set ? rq->contains_synthetic_media : true;
    pb->title = rq->title ? rq->title : pr->title ? pr->title : pr->topic;
    pb->description = rq->description ? rq->description : pr->description ? pr->description : "";
    pb->tags = rq->tags_set ? (const char **)rq->tags : pr->tags;
    pb->ntags = rq->tags_set ? rq->ntags : pr->ntags;
    pb->category_id = rq->category_id ? rq->category_id : PUBLISH_DEFAULT_CATEGORY;
    pb->default_language = pr->language;
    if (pb->default_language == NULL && pr->persona_id != NULL) {
        persona pe;
        error e;
        if (persona_store_get_visible(c, a, pr->persona_id, p->user_id, &pe, &e) == 0)
            pb->default_language = pe.language;
    }
    pb->thumbnail_status = "none";
    pb->created_at = pb->updated_at = now;

    if (pb->publish_at != 0 && strcmp(pb->privacy_status, "private") != 0)
        return publish__refuse(ge, ERR_INVALID, "publish_at",
                               "YouTube schedules only private videos: set privacy_status to "
                               "private with publish_at");
    if (pb->publish_at != 0 && pb->publish_at <= now)
        return publish__refuse(ge, ERR_INVALID, "publish_at", "publish_at must be in the future");
    if (strlen(pb->category_id) > 8 ||
        strspn(pb->category_id, "0123456789") != strlen(pb->category_id))
        return publish__refuse(ge, ERR_INVALID, "category_id",
                               "category_id is a YouTube video category id: digits only");
    if (!publish__plain_text(pb->title))
        return publish__refuse(ge, ERR_INVALID, "title", "YouTube refuses < and > in titles");
    if (!publish__plain_text(pb->description))
        return publish__refuse(ge, ERR_INVALID, "description",
                               "YouTube refuses < and > in descriptions");
    size_t tag_chars = 0;
    for (size_t i = 0; i < pb->ntags; i++)
        tag_chars += strlen(pb->tags[i]) + 1;
    if (tag_chars > 500)
        return publish__refuse(ge, ERR_INVALID, "tags",
                               "YouTube takes at most 500 characters of tags in all");
    error e;
    if (row_check(&publication_row, pb, "title, description, tags, default_language", &e) != 0) {
        if (strcmp(e.field, "title") == 0 && pr->title != NULL && rq->title == NULL)
            return publish__refuse(ge, ERR_INVALID, "title",
                                   "the project's title is longer than YouTube's 100 characters; "
                                   "give a title in the request");
        return google_service__plain(ge, &e);
    }
    return 0;
}

typedef struct publish__request_tx {
    services *s;
    arena *a;
    const principal *p;
    const char *project_id;
    const publish_request *rq;
    publication *out;
    google_err *ge;
} publish__request_tx;

static int publish__request_body(db_conn *c, void *arg, error *err)
{
    publish__request_tx *tx = arg;
    google_err *ge = tx->ge;
    project pr;
    channel ch;
    account acc;
    media_file video;
    if (project_store_lock(c, tx->p->user_id, tx->project_id, err) != 0 ||
        project_store_get(c, tx->a, tx->p->user_id, tx->project_id, &pr, err) != 0)
        return google_service__plain(ge, err);
    if (!tx->s->google.publishing)
        return google_service__fail(ge, GOOGLE_PROBLEM_PUBLISHING_OFF, ERR_CONFLICT,
                                    "publishing to YouTube is turned off on this server; an "
                                    "operator sets PSTUDIO_YOUTUBE_PUBLISHING=true to allow it");
    if (publish__open(c, tx->a, tx->p->user_id, pr.channel_id, &ch, &acc, ge) != 0)
        return -1;
    /* The video must be the scenes' current one: a stale or failed render
     * still has an older video.mp4 in the store. */
    if (pr.render_status == NULL || strcmp(pr.render_status, "rendered") != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "the project's video is not rendered (render status: %s); render it first",
                 pr.render_status != NULL ? pr.render_status : "none");
        return publish__refuse(ge, ERR_CONFLICT, "render_status", msg);
    }
    if (publish_service__ready(tx->s, tx->p->user_id, pr.id, &video, err) != 0)
        return google_service__plain(ge, err);
    close(video.fd);
    publication old;
    error e;
    int rc = publication_store_get(c, tx->a, tx->p->user_id, pr.id, &old, &e);
    if (rc != 0 && e.kind != ERR_NOT_FOUND)
        return google_service__plain(ge, &e);
    if (rc == 0 && strcmp(old.status, "failed") != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 strcmp(old.status, "published") == 0
                     ? "the project is already published on YouTube (video %s)"
                     : "the project is already being published (%s)",
                 strcmp(old.status, "published") == 0 ? old.youtube_video_id : old.status);
        return publish__refuse(ge, ERR_CONFLICT, "status", msg);
    }
    publication *pb = tx->out;
    if (publish__compose(c, tx->a, tx->p, &pr, tx->rq, pb, ge) != 0)
        return -1;
    json_t *payload = json_pack("{s:s}", "project_id", pr.id);
    char key[128], job_id[UUID_STR_LEN + 1];
    snprintf(key, sizeof(key), "%s:%s", PUBLISH_JOB, pr.id);
    job_options jo = {.user_id = tx->p->user_id,
                      .max_attempts = PUBLISH_TRIES,
                      .unique_key = key,
                      .unique_while_active = true};
    rc = job_enqueue(c, PUBLISH_JOB, payload, &jo, job_id, err);
    json_decref(payload);
    if (rc != 0)
        return google_service__plain(ge, err);
    pb->job_id = arena_strdup(tx->a, job_id);
    if (publication_store_put(c, tx->a, pb, err) != 0)
        return google_service__plain(ge, err);
    return 0;
}

int publish_service_request(services *s, db_conn *c, arena *a, const principal *p,
                            const char *project_id, const publish_request *rq, publication *out,
                            google_err *ge)
{
    memset(ge, 0, sizeof(*ge));
    publish__request_tx tx = {s, a, p, project_id, rq, out, ge};
    error e;
    if (db_tx(c, publish__request_body, &tx, &e) != 0) {
        if (ge->e.kind == ERR_NONE)
            google_service__plain(ge, &e);
        return -1;
    }
    return 0;
}

int publish_service_get(db_conn *c, arena *a, const principal *p, const char *project_id,
                        publication *out, error *err)
{
    project pr;
    if (project_store_get(c, a, p->user_id, project_id, &pr, err) != 0)
        return -1;
    return publication_store_get(c, a, p->user_id, project_id, out, err);
}

/* ---- the job ---------------------------------------------------------------------- */

/* One upload call with an access token (google_call_fn's argument). */
typedef struct publish__call {
    services *s;
    arena *a;
    publication *pb;
    youtube_upload_meta meta;
    const void *data;
    size_t len;
    int64_t offset;
    youtube_upload_state state;
    const char *session_uri; /* out of start */
    google_status last;      /* the last call's classification */
} publish__call;

static int publish__start_fn(const char *access, void *arg, google_status *st, error *e)
{
    publish__call *k = arg;
    return youtube_upload_start(k->s->google.youtube_upload_url, access, &k->meta,
                                k->pb->bytes_total, PUBLISH_VIDEO_TYPE, k->a, &k->session_uri, st,
                                e);
}

static int publish__query_fn(const char *access, void *arg, google_status *st, error *e)
{
    publish__call *k = arg;
    return youtube_upload_query(k->s->google.youtube_upload_url, k->pb->session_uri, access,
                                k->pb->bytes_total, &k->state, st, e);
}

static int publish__put_fn(const char *access, void *arg, google_status *st, error *e)
{
    publish__call *k = arg;
    return youtube_upload_put(k->s->google.youtube_upload_url, k->pb->session_uri, access, k->data,
                              k->len, k->offset, k->pb->bytes_total, PUBLISH_VIDEO_TYPE, &k->state,
                              st, e);
}

static int publish__thumb_fn(const char *access, void *arg, google_status *st, error *e)
{
    publish__call *k = arg;
    return youtube_thumbnail_set(k->s->google.youtube_upload_url, access, k->pb->youtube_video_id,
                                 k->data, k->len, PUBLISH_THUMB_TYPE, st, e);
}

/* Writes the publication's upload state in a transaction of its own. */
static int publish__save(db_conn *c, publication *pb, error *err)
{
    pb->updated_at = time_now_usec();
    return publication_store_save(c, pb, err);
}

/* Reads len bytes at off of fd into out, whole. */
static int publish__pread(int fd, void *out, size_t len, int64_t off, error *err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)out + got, len - got, (off_t)(off + (int64_t)got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return error_set(err, ERR_UNAVAILABLE, NULL, "reading the project's video failed: %s",
                             n < 0 ? strerror(errno) : "the file is shorter than it was");
        got += (size_t)n;
    }
    return 0;
}

/* Starts a session and stores its URI before any byte is sent, so a
 * worker killed from here on leaves a session the next one resumes. */
static int publish__start(services *s, db_conn *c, arena *a, account *acc, publish__call *k,
                          google_err *ge)
{
    if (google_service__call(s, c, a, acc, PUBLISH_API, publish__start_fn, k, &k->last, ge) != 0)
        return -1;
    k->pb->session_uri = k->session_uri;
    k->pb->bytes_sent = 0;
    k->pb->status = "uploading";
    k->pb->error = NULL;
    error e;
    if (publish__save(c, k->pb, &e) != 0)
        return google_service__plain(ge, &e);
    return 0;
}

/* Asks the stored session where it stands; a session YouTube no longer
 * knows is replaced by a new one. */
static int publish__resume_point(services *s, db_conn *c, arena *a, account *acc, publish__call *k,
                                 google_err *ge)
{
    if (google_service__call(s, c, a, acc, PUBLISH_API, publish__query_fn, k, &k->last, ge) == 0)
        return 0;
    if (k->state.gone) {
        log_info("publication of project %s: the upload session expired; starting a new one",
                 k->pb->project_id);
        memset(&k->state, 0, sizeof(k->state));
        return publish__start(s, c, a, acc, k, ge);
    }
    return -1;
}

/* The upload proper, from wherever the session stands to the video id. */
static int publish__upload(services *s, db_conn *c, arena *a, account *acc, int fd,
                           publish__call *k, google_err *ge)
{
    publication *pb = k->pb;
    if (pb->session_uri == NULL) {
        if (publish__start(s, c, a, acc, k, ge) != 0)
            return -1;
        memset(&k->state, 0, sizeof(k->state));
    } else if (publish__resume_point(s, c, a, acc, k, ge) != 0) {
        return -1;
    }
    int64_t chunk = s->google.upload_chunk_bytes;
    if (chunk < YOUTUBE_UPLOAD_UNIT)
        chunk = YOUTUBE_UPLOAD_UNIT;
    chunk -= chunk % YOUTUBE_UPLOAD_UNIT;
    char *data = malloc((size_t)chunk);
    if (data == NULL)
        return publish__refuse(ge, ERR_INTERNAL, NULL, "out of memory for an upload chunk");
    int drops = 0, rc = 0;
    error e;
    while (rc == 0 && !k->state.done) {
        int64_t off = k->state.offset;
        if (off != pb->bytes_sent) {
            pb->bytes_sent = off;
            if (publish__save(c, pb, &e) != 0) {
                rc = google_service__plain(ge, &e);
                break;
            }
        }
        if (off >= pb->bytes_total) { /* all held, yet not finished: ask again */
            rc = publish__resume_point(s, c, a, acc, k, ge);
            if (rc == 0 && !k->state.done && ++drops > PUBLISH_RESUMES)
                rc = publish__refuse(ge, ERR_UNAVAILABLE, NULL,
                                     "YouTube holds the whole video but does not finish it");
            continue;
        }
        size_t len = (size_t)(pb->bytes_total - off < chunk ? pb->bytes_total - off : chunk);
        if (publish__pread(fd, data, len, off, &e) != 0) {
            rc = google_service__plain(ge, &e);
            break;
        }
        k->data = data;
        k->len = len;
        k->offset = off;
        if (google_service__call(s, c, a, acc, PUBLISH_API, publish__put_fn, k, &k->last, ge) ==
            0) {
            drops = 0;
            continue;
        }
        /* A dropped connection or a 5xx: the session may hold part of the
         * chunk; ask it where to go on from. */
        if (k->last.fault != GOOGLE_UNAVAILABLE || ++drops > PUBLISH_RESUMES) {
            rc = -1;
            break;
        }
        log_info("publication of project %s: chunk at %lld not confirmed (%s); asking the "
                 "session where it stands",
                 pb->project_id, (long long)off, ge->e.message);
        rc = publish__resume_point(s, c, a, acc, k, ge);
    }
    free(data);
    if (rc == 0) {
        pb->bytes_sent = pb->bytes_total;
        pb->youtube_video_id = arena_strdup(a, k->state.video_id);
    }
    return rc;
}

/* The generated thumbnail, when the project has one; its failure is
 * recorded on the publication but does not undo the video. */
static void publish__thumbnail(services *s, db_conn *c, arena *a, account *acc, publish__call *k)
{
    media_file f;
    error e;
    if (media_store_open(s->media, k->pb->user_id, k->pb->project_id, PUBLISH_THUMBNAIL_NAME, &f,
                         &e) != 0) {
        k->pb->thumbnail_status = e.kind == ERR_NOT_FOUND ? "none" : "failed";
        return;
    }
    if (f.size <= 0 || f.size > PUBLISH_THUMBNAIL_MAX) {
        close(f.fd);
        k->pb->thumbnail_status = "failed";
        k->pb->error = "the thumbnail is larger than YouTube's 2 MB limit";
        return;
    }
    char *data = malloc((size_t)f.size);
    int rc = data ? publish__pread(f.fd, data, (size_t)f.size, 0, &e) : -1;
    close(f.fd);
    google_err ge;
    memset(&ge, 0, sizeof(ge));
    if (rc == 0) {
        k->data = data;
        k->len = (size_t)f.size;
        rc = google_service__call(s, c, a, acc, PUBLISH_API, publish__thumb_fn, k, &k->last, &ge);
    }
    free(data);
    k->pb->thumbnail_status = rc == 0 ? "set" : "failed";
    if (rc != 0) {
        log_warn("publication of project %s: thumbnail not set: %s", k->pb->project_id,
                 ge.e.message[0] ? ge.e.message : e.message);
        k->pb->error = arena_sprintf(a,
                                     "the video is published, but its thumbnail was not set: "
                                     "%s",
                                     ge.e.message[0] ? ge.e.message : e.message);
    }
}

typedef struct publish__finish_tx {
    publication *pb;
    const job *j;
} publish__finish_tx;

static int publish__finish_body(db_conn *c, void *arg, error *err)
{
    publish__finish_tx *tx = arg;
    if (publish__save(c, tx->pb, err) != 0)
        return -1;
    return job_complete(c, tx->j, err);
}

/* Records a failure's effect on the publication and decides the job's. */
static void publish__failed(db_conn *c, const job *j, publication *pb, const google_status *gs,
                            google_err *ge, job_result *out)
{
    error e;
    bool final = false;
    if (gs->fault == GOOGLE_QUOTA)
        google_service__quota_wait(gs, PUBLISH_API, ge);
    if (strcmp(gs->reason, "uploadLimitExceeded") == 0) {
        error_set(&ge->e, ERR_CONFLICT, NULL,
                  "YouTube says this channel has uploaded as many videos as it may for now "
                  "(uploadLimitExceeded); publish again later");
        final = true;
    } else if (ge->problem == GOOGLE_PROBLEM_RECONNECT || ge->problem == GOOGLE_PROBLEM_SCOPE ||
               ge->e.kind == ERR_NOT_FOUND || ge->e.kind == ERR_CONFLICT ||
               gs->fault == GOOGLE_REJECTED || gs->fault == GOOGLE_FORBIDDEN) {
        final = true;
    } else if (j->attempts >= j->max_attempts) {
        final = true;
    }
    out->err = ge->e;
    if (pb != NULL) {
        pb->status = final                                 ? "failed"
                     : ge->problem == GOOGLE_PROBLEM_QUOTA ? "waiting"
                                                           : pb->status;
        pb->error = ge->e.message;
        if (publish__save(c, pb, &e) != 0)
            log_warn("job %s: the publication's state was not saved: %s", j->id, e.message);
    }
    if (final) {
        out->outcome = JOB_OUTCOME_FAIL;
    } else if (ge->problem == GOOGLE_PROBLEM_QUOTA) {
        out->outcome = JOB_OUTCOME_RETRY_AT;
        out->retry_at = time_now_usec() + (int64_t)ge->retry_after_s * 1000000;
    } else {
        out->outcome = JOB_OUTCOME_RETRY;
    }
}

static const char *publish__payload_id(const job *j)
{
    const char *v = json_string_value(json_object_get(j->payload, "project_id"));
    return v && uuid_is_valid(v) && j->user_id[0] ? v : NULL;
}

static void publish__job(db_conn *c, const job *j, job_result *out, void *ctx)
{
    services *s = ctx;
    const char *project_id = publish__payload_id(j);
    if (project_id == NULL) {
        out->outcome = JOB_OUTCOME_FAIL;
        error_set(&out->err, ERR_INVALID, "payload", "a publish job needs a project_id and a user");
        return;
    }
    arena a;
    arena_init(&a, 16384);
    publication pb;
    channel ch;
    account acc;
    media_file video = {.fd = -1};
    google_err ge;
    memset(&ge, 0, sizeof(ge));
    google_status gs;
    memset(&gs, 0, sizeof(gs));
    error e;
    if (publication_store_get(c, &a, j->user_id, project_id, &pb, &e) != 0) {
        if (e.kind == ERR_NOT_FOUND) { /* the project was deleted: nothing to publish */
            job_complete_alone(c, j, out);
        } else {
            out->outcome = JOB_OUTCOME_RETRY;
            out->err = e;
        }
        arena_free(&a);
        return;
    }
    if (strcmp(pb.status, "published") == 0 || strcmp(pb.status, "failed") == 0) {
        job_complete_alone(c, j, out);
        arena_free(&a);
        return;
    }
    publish__call k = {.s = s, .a = &a, .pb = &pb};
    k.meta = (youtube_upload_meta){
        .title = pb.title,
        .description = pb.description,
        .tags = pb.tags,
        .ntags = pb.ntags,
        .category_id = pb.category_id,
        .default_language = pb.default_language,
        .privacy_status = pb.privacy_status,
        .made_for_kids = pb.made_for_kids,
        .contains_synthetic_media = pb.contains_synthetic_media,
    };
    char when[TIME_STR_LEN + 1];
    if (pb.publish_at != 0) {
        time_format(pb.publish_at, when);
        k.meta.publish_at = when;
    }
    int rc = publish__open(c, &a, j->user_id, pb.channel_id, &ch, &acc, &ge);
    if (rc == 0 && publish_service__ready(s, j->user_id, project_id, &video, &e) != 0)
        rc = google_service__plain(&ge, &e);
    if (rc == 0 && pb.session_uri != NULL && pb.bytes_total != video.size) {
        /* The video was rendered again since the session started. */
        pb.session_uri = NULL;
    }
    if (rc == 0) {
        pb.bytes_total = video.size;
        rc = publish__upload(s, c, &a, &acc, video.fd, &k, &ge);
        if (rc != 0)
            gs = k.last; /* the failed call's classification */
    }
    if (video.fd >= 0)
        close(video.fd);
    if (rc != 0) {
        publish__failed(c, j, &pb, &gs, &ge, out);
        arena_free(&a);
        return;
    }
    publish__thumbnail(s, c, &a, &acc, &k);
    pb.status = "published";
    pb.published_at = time_now_usec();
    publish__finish_tx tx = {&pb, j};
    if (db_tx(c, publish__finish_body, &tx, &e) != 0) {
        out->outcome = JOB_OUTCOME_RETRY; /* the session answers the video again */
        out->err = e;
    } else {
        log_info("project %s published as YouTube video %s", pb.project_id, pb.youtube_video_id);
        out->outcome = JOB_OUTCOME_DONE;
    }
    arena_free(&a);
}

/* A publish job that died without deciding (its last lease lost): the
 * publication says so instead of "uploading" forever. */
static void publish__dead(db_conn *c, const job *j, const char *why, void *ctx)
{
    (void)ctx;
    const char *project_id = publish__payload_id(j);
    if (project_id == NULL)
        return;
    arena a;
    arena_init(&a, 4096);
    publication pb;
    error e;
    if (publication_store_get(c, &a, j->user_id, project_id, &pb, &e) == 0 &&
        strcmp(pb.status, "published") != 0) {
        pb.status = "failed";
        pb.error = why;
        if (publish__save(c, &pb, &e) != 0)
            log_warn("job %s: the publication's state was not saved: %s", j->id, e.message);
    }
    arena_free(&a);
}

void publish_service_register_jobs(services *s)
{
    job_register(PUBLISH_JOB, publish__job, s, PUBLISH_LEASE_S);
    job_on_dead(PUBLISH_JOB, publish__dead);
}
