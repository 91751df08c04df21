/* Gemini's generateContent answers and error bodies (llm_common.h). */
#include "llm_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_llm_run(&llm__gemini, llm__gemini_answer, data, size);
    return 0;
}
