#include "domain/project_json.h"

void project_json_members(jw *w, const project *pr)
{
    jw_member_str(w, "id", pr->id);
    jw_member_str(w, "topic", pr->topic);
    jw_member_str(w, "status", pr->status);
    jw_member_str(w, "channel_id", pr->channel_id);
    jw_member_str(w, "persona_id", pr->persona_id);
    jw_member_count(w, "persona_version", pr->persona_id ? pr->persona_version : -1);
    jw_member_str(w, "title", pr->title);
    jw_member_str(w, "description", pr->description);
    jw_key(w, "tags");
    jw_arr_begin(w);
    for (size_t i = 0; i < pr->ntags; i++)
        jw_str(w, pr->tags[i]);
    jw_arr_end(w);
    jw_member_str(w, "language", pr->language);
    jw_member_count(w, "target_scenes", pr->target_scenes > 0 ? pr->target_scenes : -1);
    jw_member_count(w, "target_seconds", pr->target_seconds > 0 ? pr->target_seconds : -1);
    jw_member_str(w, "instructions", pr->instructions);
    jw_member_str(w, "error", pr->error);
    jw_member_time(w, "created_at", pr->created_at);
    jw_member_time(w, "updated_at", pr->updated_at);
}

void project_json_write(jw *w, const project *pr)
{
    jw_obj_begin(w);
    project_json_members(w, pr);
    jw_obj_end(w);
}
