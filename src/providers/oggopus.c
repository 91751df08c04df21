/*
 * Ogg Opus through libopusenc's callback API: the pages go through our own
 * write() loop on a descriptor we opened, so a short write or a full disk
 * is seen (libopusenc 0.2 ignores its write callback's answer) and the
 * file is never followed through a symbolic link.
 */
#include "providers/oggopus.h"

#include <errno.h>
#include <fcntl.h>
#include <opusenc.h>
#include <string.h>
#include <unistd.h>

/* Samples handed to libopusenc per call: its count is an int. */
#define OGGOPUS__CHUNK 65536

/* Where the pages go, and the first write error (sticky: later pages are
 * dropped, the call fails at the end). */
typedef struct oggopus__sink {
    int fd;
    int errnum;
} oggopus__sink;

static int oggopus__write(void *user, const unsigned char *p, opus_int32 len)
{
    oggopus__sink *s = user;
    while (len > 0 && s->errnum == 0) {
        ssize_t w = write(s->fd, p, (size_t)len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->errnum = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        len -= (opus_int32)w;
    }
    return s->errnum != 0;
}

/* The descriptor is ours to close, after the encoder is done with it. */
static int oggopus__close(void *user)
{
    (void)user;
    return 0;
}

static int oggopus__refused(const char *what, int rc, error *err)
{
    return error_set(err, ERR_INTERNAL, NULL, "encoding the narration as Opus failed: %s: %s", what,
                     ope_strerror(rc));
}

int oggopus_write_file(const char *path, const int16_t *samples, size_t nsamples, int sample_rate,
                       error *err)
{
    if (sample_rate < OGGOPUS_RATE_MIN || sample_rate > OGGOPUS_RATE_MAX)
        return error_set(err, ERR_INVALID, NULL,
                         "narration at %d Hz cannot be encoded as Opus (%d-%d Hz are)", sample_rate,
                         OGGOPUS_RATE_MIN, OGGOPUS_RATE_MAX);
    oggopus__sink sink = {.fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)};
    if (sink.fd < 0)
        return error_set(err, ERR_UNAVAILABLE, NULL, "opening the narration's Opus file failed: %s",
                         strerror(errno));
    OggOpusComments *comments = ope_comments_create();
    if (comments == NULL) {
        close(sink.fd);
        return oggopus__refused("no comments", OPE_ALLOC_FAIL, err);
    }
    static const OpusEncCallbacks callbacks = {oggopus__write, oggopus__close};
    int rc = OPE_OK;
    const char *what = "creating the encoder";
    OggOpusEnc *enc =
        ope_encoder_create_callbacks(&callbacks, &sink, comments, sample_rate, 1, 0, &rc);
    ope_comments_destroy(comments);
    if (enc == NULL && rc == OPE_OK)
        rc = OPE_INTERNAL_ERROR;
    if (rc == OPE_OK && (rc = ope_encoder_ctl(enc, OPUS_SET_BITRATE(OGGOPUS_BITRATE))) != OPE_OK)
        what = "setting the bitrate";
    if (rc == OPE_OK &&
        (rc = ope_encoder_ctl(enc, OPUS_SET_COMPLEXITY(OGGOPUS_COMPLEXITY))) != OPE_OK)
        what = "setting the complexity";
    for (size_t at = 0; rc == OPE_OK && sink.errnum == 0 && at < nsamples;) {
        size_t n = nsamples - at < OGGOPUS__CHUNK ? nsamples - at : OGGOPUS__CHUNK;
        if ((rc = ope_encoder_write(enc, samples + at, (int)n)) != OPE_OK)
            what = "encoding";
        at += n;
    }
    if (rc == OPE_OK && sink.errnum == 0 && (rc = ope_encoder_drain(enc)) != OPE_OK)
        what = "finishing the stream";
    if (enc != NULL)
        ope_encoder_destroy(enc);
    int close_errno = close(sink.fd) != 0 ? errno : 0;
    if (sink.errnum == 0)
        sink.errnum = close_errno;
    if (sink.errnum != 0)
        return error_set(err, ERR_UNAVAILABLE, NULL, "writing the narration's Opus file failed: %s",
                         strerror(sink.errnum));
    if (rc != OPE_OK)
        return oggopus__refused(what, rc, err);
    return 0;
}
