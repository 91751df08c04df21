#include "services/media_job_common.h"

#include "base/uuid.h"
#include "domain/limits.h"

#include <stdio.h>
#include <string.h>

int media_job_scene_of(const job *j, char tag, media_job_scene *out, error *err)
{
    json_t *p = j->payload;
    json_t *gen = json_object_get(p, "generation");
    out->project_id = json_string_value(json_object_get(p, "project_id"));
    out->scene_id = json_string_value(json_object_get(p, "scene_id"));
    if (out->project_id == NULL || out->scene_id == NULL || !json_is_integer(gen) ||
        j->user_id[0] == '\0' || !uuid_is_valid(out->project_id) || !uuid_is_valid(out->scene_id))
        return error_set(err, ERR_INVALID, "payload",
                         "a %s job needs project_id, scene_id, generation and a user", j->kind);
    out->generation = json_integer_value(gen);
    snprintf(out->stem, sizeof(out->stem), "scene-%s-%c%lld", out->scene_id, tag,
             (long long)out->generation);
    return 0;
}

const char *media_job_reason(arena *a, const char *why)
{
    size_t n = strlen(why);
    if (n <= SCENE_AUDIO_ERROR_MAX)
        return arena_strdup(a, why);
    n = SCENE_AUDIO_ERROR_MAX;
    while (n > 0 && ((unsigned char)why[n] & 0xC0) == 0x80)
        n--;
    char *s = arena_alloc(a, n + 1);
    memcpy(s, why, n);
    s[n] = '\0';
    return s;
}

static int media_job__complete_body(db_conn *c, void *j, error *err)
{
    return job_complete(c, j, err);
}

int media_job_complete_only(db_conn *c, const job *j, error *err)
{
    return db_tx(c, media_job__complete_body, (void *)j, err) < 0 ? -1 : 0;
}
