/*
 * subtitle: SubRip (.srt) and WebVTT (.vtt) text from timed cues, and the
 * 44-byte header of a PCM WAV file. Pure formatting: the cues come from
 * the narration's word timings (services/media_service.c).
 */
#ifndef PS_BASE_SUBTITLE_H
#define PS_BASE_SUBTITLE_H

#include "base/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct subtitle_cue {
    int64_t start_ms;
    int64_t end_ms;   /* > start_ms */
    const char *text; /* one line, UTF-8, no "-->" */
} subtitle_cue;

/** Appends the cues as SubRip: numbered from 1, "HH:MM:SS,mmm --> HH:MM:SS,mmm". */
int subtitle_write_srt(buf *b, const subtitle_cue *cues, size_t n);
/** Appends the cues as WebVTT: the "WEBVTT" header, then "HH:MM:SS.mmm --> HH:MM:SS.mmm". */
int subtitle_write_vtt(buf *b, const subtitle_cue *cues, size_t n);

#define WAV_HEADER_LEN 44
/** The header of a 16-bit little-endian PCM WAV of nsamples frames. */
void wav_header(uint8_t out[WAV_HEADER_LEN], int sample_rate, int channels, size_t nsamples);

#endif
