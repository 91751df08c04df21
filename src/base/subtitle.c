#include "base/subtitle.h"

#include <stdbool.h>
#include <string.h>

static int subtitle__time(buf *b, int64_t ms, char sep)
{
    if (ms < 0)
        ms = 0;
    return buf_printf(b, "%02lld:%02lld:%02lld%c%03lld", (long long)(ms / 3600000),
                      (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60), sep,
                      (long long)(ms % 1000));
}

static int subtitle__write(buf *b, const subtitle_cue *cues, size_t n, bool vtt)
{
    int rc = vtt ? buf_puts(b, "WEBVTT\n\n") : 0;
    char sep = vtt ? '.' : ',';
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!vtt)
            rc |= buf_printf(b, "%zu\n", i + 1);
        rc |= subtitle__time(b, cues[i].start_ms, sep);
        rc |= buf_puts(b, " --> ");
        rc |= subtitle__time(b, cues[i].end_ms, sep);
        rc |= buf_printf(b, "\n%s\n\n", cues[i].text);
    }
    return rc;
}

int subtitle_write_srt(buf *b, const subtitle_cue *cues, size_t n)
{
    return subtitle__write(b, cues, n, false);
}

int subtitle_write_vtt(buf *b, const subtitle_cue *cues, size_t n)
{
    return subtitle__write(b, cues, n, true);
}

static void subtitle__le(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void wav_header(uint8_t out[WAV_HEADER_LEN], int sample_rate, int channels, size_t nsamples)
{
    uint32_t data = (uint32_t)(nsamples * (size_t)channels * 2);
    memcpy(out, "RIFF", 4);
    subtitle__le(out + 4, 36 + data, 4);
    memcpy(out + 8, "WAVEfmt ", 8);
    subtitle__le(out + 16, 16, 4); /* fmt chunk size */
    subtitle__le(out + 20, 1, 2);  /* PCM */
    subtitle__le(out + 22, (uint32_t)channels, 2);
    subtitle__le(out + 24, (uint32_t)sample_rate, 4);
    subtitle__le(out + 28, (uint32_t)(sample_rate * channels * 2), 4); /* byte rate */
    subtitle__le(out + 32, (uint32_t)(channels * 2), 2);               /* block align */
    subtitle__le(out + 34, 16, 2);                                     /* bits per sample */
    memcpy(out + 36, "data", 4);
    subtitle__le(out + 40, data, 4);
}
