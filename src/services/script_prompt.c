#include "services/script_prompt.h"

#include "base/buf.h"

#include <stdio.h>
#include <string.h>

/* Output token budgets. Thinking models spend part of it before answering. */
#define SCRIPT_MAX_TOKENS_SCRIPT 16384
#define SCRIPT_MAX_TOKENS_SCENE  8192
#define SCENE_NARRATION_MAX      10000 /* the scenes table's CHECKs */
#define SCENE_VISUAL_MAX         5000
#define SCRIPT_TAG_MAX           100

/* What a visual_description is, said once for the prompt and the schema.
 * It asks for an image and nothing else: whether a video may carry text on
 * screen is the persona's call (the starter personas forbid it), so the
 * request must not ask for any. */
#define SCRIPT_VISUAL_SAYS                                                                         \
    "what the viewer sees: one concrete shot or image (its subject, setting, composition and "     \
    "lighting), with no narration"

/* How many scenes to ask for, and whether exactly that many. */
static int script_prompt__scenes(const script_options *o, bool *exact)
{
    *exact = false;
    if (o != NULL && o->target_scenes > 0) {
        *exact = true;
        return o->target_scenes;
    }
    if (o != NULL && o->target_seconds > 0) {
        int n = (o->target_seconds + SCRIPT_SECONDS_PER_SCENE / 2) / SCRIPT_SECONDS_PER_SCENE;
        return n < SCRIPT_SCENES_MIN   ? SCRIPT_SCENES_MIN
               : n > SCRIPT_SCENES_MAX ? SCRIPT_SCENES_MAX
                                       : n;
    }
    return SCRIPT_DEFAULT_SCENES;
}

/* Seconds of narration each of n scenes carries when target_seconds was
 * asked for (0 otherwise): 12 s while n can grow, longer once n is at
 * SCRIPT_SCENES_MAX, so the total stays what was asked. */
static int script_prompt__scene_seconds(const script_options *o, int n)
{
    if (o == NULL || o->target_seconds <= 0 || n <= 0)
        return 0;
    return (o->target_seconds + n / 2) / n;
}

static json_t *script_prompt__text(const char *description, int min, int max)
{
    json_t *t = json_pack("{s:s,s:s}", "type", "string", "description", description);
    if (min > 0)
        json_object_set_new(t, "minLength", json_integer(min));
    json_object_set_new(t, "maxLength", json_integer(max));
    return t;
}

static json_t *script_prompt__scene_schema(void)
{
    json_t *props = json_object();
    json_object_set_new(props, "visual_description",
                        script_prompt__text(SCRIPT_VISUAL_SAYS, 1, SCENE_VISUAL_MAX));
    json_object_set_new(props, "narration",
                        script_prompt__text("The exact words the narrator says in this scene.", 1,
                                            SCENE_NARRATION_MAX));
    return json_pack("{s:s,s:o,s:[s,s],s:b}", "type", "object", "properties", props, "required",
                     "visual_description", "narration", "additionalProperties", 0);
}

/* {title, description, tags, scenes[{visual_description, narration}]} */
static json_t *script_prompt__script_schema(int min_scenes, int max_scenes)
{
    json_t *props = json_object();
    json_object_set_new(props, "title",
                        script_prompt__text("The video's title.", 1, SCRIPT_TITLE_MAX));
    json_object_set_new(props, "description",
                        script_prompt__text("The video's description, as shown on YouTube.", 0,
                                            SCRIPT_DESCRIPTION_MAX));
    json_object_set_new(props, "tags",
                        json_pack("{s:s,s:s,s:o,s:i}", "type", "array", "description",
                                  "Search tags for the video.", "items",
                                  script_prompt__text("One tag.", 1, SCRIPT_TAG_MAX), "maxItems",
                                  SCRIPT_TAGS_MAX));
    json_object_set_new(props, "scenes",
                        json_pack("{s:s,s:s,s:o,s:i,s:i}", "type", "array", "description",
                                  "The scenes, in the order they play.", "items",
                                  script_prompt__scene_schema(), "minItems", min_scenes, "maxItems",
                                  max_scenes));
    return json_pack("{s:s,s:o,s:[s,s,s,s],s:b}", "type", "object", "properties", props, "required",
                     "title", "description", "tags", "scenes", "additionalProperties", 0);
}

static void script_prompt__scene_text(buf *b, const char *label, const scene *sc)
{
    buf_printf(b, "%s:\n  visual_description: %s\n  narration: %s\n", label,
               sc->visual_description[0] ? sc->visual_description : "(empty)",
               sc->narration[0] ? sc->narration : "(empty)");
}

void script_prompt_build(arena *a, const script_ask *ask, llm_request *rq, llm_brief *brief,
                         json_t **schema_out)
{
    const persona *ps = ask->ps;
    const project *pr = ask->pr;
    bool scene_mode = ask->scene_index >= 0;
    bool exact = false;
    int want = script_prompt__scenes(ask->o, &exact);
    int seconds = scene_mode ? 0 : script_prompt__scene_seconds(ask->o, want);
    const char *instructions = ask->o ? ask->o->instructions : NULL;

    buf b;
    buf_init(&b, 256 * 1024);
    if (!scene_mode) {
        buf_printf(&b, "Write the script of a YouTube video.\n\nTopic: %s\n", pr->topic);
        buf_printf(&b,
                   "Language: write the title, description, tags and narration in %s (BCP-47).\n",
                   ask->language);
        if (exact)
            buf_printf(&b, "Length: exactly %d scene%s.\n", want, want == 1 ? "" : "s");
        else if (seconds > 0)
            buf_printf(&b,
                       "Length: about %d seconds of narration in total: about %d scene%s of "
                       "about %d seconds (about %d words) of narration each.\n",
                       ask->o->target_seconds, want, want == 1 ? "" : "s", seconds,
                       seconds * SCRIPT_WORDS_PER_MINUTE / 60);
        else
            buf_printf(&b, "Length: between 4 and 12 scenes, as the topic needs.\n");
        buf_printf(&b,
                   "Each scene has a visual_description (" SCRIPT_VISUAL_SAYS
                   ") and a narration (the exact words the narrator says).\n"
                   "The title has at most %d characters, the description at most %d, and "
                   "there are at most %d tags.\n",
                   SCRIPT_TITLE_MAX, SCRIPT_DESCRIPTION_MAX, SCRIPT_TAGS_MAX);
    } else {
        int k = ask->scene_index;
        buf_printf(&b,
                   "Rewrite one scene of an existing YouTube video script so that it fits "
                   "between the scenes around it.\n\nTopic: %s\n",
                   pr->topic);
        if (pr->title != NULL)
            buf_printf(&b, "Title: %s\n", pr->title);
        buf_printf(&b, "Language: write in %s (BCP-47).\n", ask->language);
        buf_printf(&b, "The script has %zu scenes; rewrite scene %d.\n\n", ask->nscenes, k + 1);
        if (k > 0)
            script_prompt__scene_text(&b, "The scene before it", &ask->scenes[k - 1]);
        script_prompt__scene_text(&b, "The scene to rewrite, as it is now", &ask->scenes[k]);
        if ((size_t)k + 1 < ask->nscenes)
            script_prompt__scene_text(&b, "The scene after it", &ask->scenes[k + 1]);
        buf_printf(&b, "\nWrite a new visual_description and narration for scene %d.\n", k + 1);
    }
    if (instructions != NULL && instructions[0] != '\0')
        buf_printf(&b,
                   "\nExtra instructions from the person who asked (follow them unless they "
                   "contradict the format above):\n%s\n",
                   instructions);
    buf_puts(&b, "\nAnswer only with JSON in the requested format.\n");

    json_t *schema = scene_mode ? script_prompt__scene_schema()
                                : script_prompt__script_schema(exact ? want : SCRIPT_SCENES_MIN,
                                                               exact ? want : SCRIPT_SCENES_MAX);
    memset(brief, 0, sizeof(*brief));
    brief->topic = pr->topic;
    brief->language = ask->language;
    brief->persona_name = ps->name;
    brief->instructions = instructions;
    brief->seed = ask->seed;
    brief->scenes = want;
    brief->scene_words = seconds * SCRIPT_WORDS_PER_MINUTE / 60;
    brief->scene_index = ask->scene_index;
    brief->scene_count = (int)ask->nscenes;

    memset(rq, 0, sizeof(*rq));
    rq->system_instruction = ps->system_instruction;
    rq->prompt = arena_strdup(a, buf_cstr(&b));
    rq->temperature = ps->temperature;
    rq->top_p = ps->top_p;
    rq->top_k = ps->top_k;
    rq->max_output_tokens = scene_mode ? SCRIPT_MAX_TOKENS_SCENE : SCRIPT_MAX_TOKENS_SCRIPT;
    rq->schema = schema;
    rq->schema_name = scene_mode ? "scene" : "video_script";
    rq->brief = brief;
    *schema_out = schema;
    buf_free(&b);
}

/* s without leading and trailing blanks, in the arena; "" stays "". */
static const char *script_prompt__trim(arena *a, const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return arena_strndup(a, s, n);
}

/* The trimmed string member, or NULL (with why) when it is blank. */
static const char *script_prompt__field(arena *a, const json_t *obj, const char *key,
                                        bool may_be_blank, const char *where, char *why,
                                        size_t why_n)
{
    const char *v = script_prompt__trim(a, json_string_value(json_object_get(obj, key)));
    if (v[0] == '\0' && !may_be_blank) {
        snprintf(why, why_n, "%s%s is blank", where, key);
        return NULL;
    }
    return v;
}

int script_prompt_accept(arena *a, const script_ask *ask, const json_t *answer, script_answer *out,
                         char *why, size_t why_n)
{
    memset(out, 0, sizeof(*out));
    const json_t *list = answer;
    if (ask->scene_index < 0) {
        if (!(out->title = script_prompt__field(a, answer, "title", false, "", why, why_n)) ||
            !(out->description =
                  script_prompt__field(a, answer, "description", true, "", why, why_n)))
            return -1;
        const json_t *tags = json_object_get(answer, "tags");
        out->tags = arena_alloc(a, sizeof(*out->tags) * (json_array_size(tags) + 1));
        for (size_t i = 0; i < json_array_size(tags); i++) {
            const char *t = script_prompt__trim(a, json_string_value(json_array_get(tags, i)));
            if (t[0] != '\0') /* a blank tag is dropped, not fatal */
                out->tags[out->ntags++] = t;
        }
        list = json_object_get(answer, "scenes");
        bool exact = false;
        int want = script_prompt__scenes(ask->o, &exact);
        if (exact && json_array_size(list) != (size_t)want) {
            snprintf(why, why_n, "%d scenes were asked for and the answer has %zu", want,
                     json_array_size(list));
            return -1;
        }
    }
    size_t n = ask->scene_index < 0 ? json_array_size(list) : 1;
    out->visual = arena_alloc(a, sizeof(*out->visual) * n);
    out->narration = arena_alloc(a, sizeof(*out->narration) * n);
    for (size_t i = 0; i < n; i++) {
        const json_t *sc = ask->scene_index < 0 ? json_array_get(list, i) : answer;
        char where[48] = "";
        if (ask->scene_index < 0)
            snprintf(where, sizeof(where), "scenes[%zu].", i);
        if (!(out->visual[i] =
                  script_prompt__field(a, sc, "visual_description", false, where, why, why_n)) ||
            !(out->narration[i] =
                  script_prompt__field(a, sc, "narration", false, where, why, why_n)))
            return -1;
    }
    out->nscenes = n;
    return 0;
}
