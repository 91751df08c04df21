/* The narrators' answers. The first byte picks Google's text:synthesize
 * JSON (base64 WAV in audioContent, timepoints per word mark) for a fixed
 * narration, or the bytes themselves as the WAV an OpenAI-compatible
 * server answers (tts_wav_read). Word times must come out in order and
 * within the audio. */
#include "providers/tts.h"
#include "fuzz.h"

static const char fuzz__text[] = "Hello there. This narration has \"ten\" words… in it! Right?";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned pick = fuzz_take_byte(&data, &size);
    arena a;
    arena_init(&a, 4096);
    tts_result out;
    memset(&out, 0, sizeof(out));
    out.retry_after_s = -1;
    if (pick & 1) {
        if (tts_wav_read(data, size, &out) == 0)
            FUZZ_CHECK(out.sample_rate > 0 && (out.nsamples == 0 || out.samples != NULL));
        else
            FUZZ_CHECK(out.outcome != TTS_OK);
    } else {
        tts__split(fuzz__text, &out);
        size_t nwords = out.nwords;
        tts__google_answer(fuzz__text, "en-US", fuzz_cstr(&a, data, size), &out);
        FUZZ_CHECK(out.nwords == nwords);
        if (out.outcome == TTS_OK) {
            int64_t dur = tts_result_duration_ms(&out);
            for (size_t i = 0; i < out.nwords; i++) {
                FUZZ_CHECK(out.words[i].start_ms >= 0 && out.words[i].start_ms <= dur);
                FUZZ_CHECK(i == 0 || out.words[i].start_ms >= out.words[i - 1].start_ms);
            }
        }
    }
    tts_result_free(&out);
    arena_free(&a);
    return 0;
}
