/*
 * oggopus: narration encoded as Opus in an Ogg file, in this process, with
 * libopusenc (Debian's libopusenc0; decision 133). It takes the 16-bit mono
 * PCM a narrator made, at the narrator's own rate (libopusenc resamples to
 * Opus's 48 kHz), and writes a whole Ogg Opus file whose granule positions
 * give exactly the input's length. Speech settings are fixed: 48 kb/s VBR,
 * libopus complexity 5 (decision 109), 20 ms frames.
 *
 * Stateless: each call owns its encoder, so calls on several threads run at
 * once. The file is the caller's temporary (media_store_temp): a failed
 * call leaves it partly written, and the caller discards it.
 */
#ifndef PS_PROVIDERS_OGGOPUS_H
#define PS_PROVIDERS_OGGOPUS_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

#define OGGOPUS_BITRATE    48000 /* bits per second */
#define OGGOPUS_COMPLEXITY 5     /* of libopus's 0-10 */
/* The input rates taken: the narrators' 16, 22.05 and 24 kHz and more. */
#define OGGOPUS_RATE_MIN 8000
#define OGGOPUS_RATE_MAX 192000

/**
 * Encodes nsamples of mono PCM at sample_rate Hz into the file at path,
 * which must exist (it is truncated; a symbolic link is refused). 0 when
 * the file is complete (no samples make a valid file of no length). -1
 * with err: ERR_INVALID for a rate outside OGGOPUS_RATE_MIN-MAX;
 * ERR_UNAVAILABLE when the file cannot
 * be opened or written (the errno text in the message); ERR_INTERNAL when
 * libopusenc refuses (its own words in the message).
 */
int oggopus_write_file(const char *path, const int16_t *samples, size_t nsamples, int sample_rate,
                       error *err);

#endif
