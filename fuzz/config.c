/* The config-file parser ('name = value' lines, every setting validated),
 * read from the input itself through config_load_text: no file, no
 * environment, no flags. */
#include "app/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config c;
    error err;
    config_load_text(&c, (const char *)data, size, "fuzz.conf", &err);
    config_free(&c);
    return 0;
}
