/* Request JSON bodies through the body validation api_body applies: parsed
 * with JSON_REJECT_DUPLICATES, then checked against a resource's row spec.
 * The first byte picks the spec, the mode and whether the caller is an
 * administrator; every fault must name a field and say why, as the 422
 * problem quotes them. */
#include "domain/apikey_store.h"
#include "domain/channel_store.h"
#include "domain/persona_store.h"
#include "domain/plan_store.h"
#include "domain/project_store.h"
#include "domain/publication_store.h"
#include "domain/row.h"
#include "domain/scene_store.h"
#include "domain/user_store.h"
#include "fuzz.h"

#include <jansson.h>

static const row_spec *const fuzz__specs[] = {
    &persona_row, &persona_preset_row,     &project_row, &scene_row,
    &channel_row, &channel_assignment_row, &user_row,    &apikey_row,
    &plan_row,    &publication_row,
};
#define FUZZ__NSPECS (sizeof(fuzz__specs) / sizeof(fuzz__specs[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned pick = fuzz_take_byte(&data, &size);
    const row_spec *spec = fuzz__specs[(pick >> 2) % FUZZ__NSPECS];
    row_mode mode = (pick & 1) ? ROW_MODE_UPDATE : ROW_MODE_CREATE;
    bool admin = (pick & 2) != 0;
    json_error_t jerr;
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (json_is_object(in)) {
        json_t *faults = json_array();
        size_t n = row_check_body(spec, in, mode, admin, faults);
        FUZZ_CHECK(n == json_array_size(faults));
        size_t i;
        json_t *f;
        json_array_foreach(faults, i, f)
        {
            FUZZ_CHECK(json_is_string(json_object_get(f, "field")));
            FUZZ_CHECK(json_is_string(json_object_get(f, "message")));
        }
        json_decref(faults);
    }
    json_decref(in);
    return 0;
}
