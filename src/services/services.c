#include "services/services.h"

#include <string.h>

void services_defaults(services *s)
{
    memset(s, 0, sizeof(*s));
    s->session_idle_usec = (int64_t)7 * 24 * 3600 * 1000000;      /* a week unused */
    s->session_absolute_usec = (int64_t)30 * 24 * 3600 * 1000000; /* a month at most */
    s->cookie_secure = false;
    s->login_max_attempts = 10;
    s->login_window_usec = (int64_t)15 * 60 * 1000000;
    s->event_streams_per_user = 8;
    s->ffmpeg = "ffmpeg";
    s->media_timeout_ms = 120000;
    s->render_timeout_ms = 1800000;
    s->optimizer_min_evidence_days = 5; /* the config's defaults (app/config.c) */
    s->optimizer_cooldown_days = 7;
    s->audit_retention_days = 365;
    s->google.upload_chunk_bytes = (int64_t)8 * 1024 * 1024;
}
