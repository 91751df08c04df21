#include "base/log.h"

#include "base/buf.h"
#include "base/jsonout.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static log_level log__min = LOG_INFO;
static FILE *log__stream;
static pthread_mutex_t log__lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char log__request_id[80];

static const char *const log__names[] = {"debug", "info", "warn", "error"};

void log_init(log_level min, FILE *stream)
{
    log__min = min;
    log__stream = stream;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, log__names[i]) == 0)
            return i;
    return -1;
}

void log_set_request_id(const char *id)
{
    if (id == NULL) {
        log__request_id[0] = '\0';
        return;
    }
    snprintf(log__request_id, sizeof(log__request_id), "%s", id);
}

const char *log_request_id(void)
{
    return log__request_id[0] ? log__request_id : NULL;
}

int log_json_escape(buf *out, const char *s)
{
    return json_escape(out, s, strlen(s));
}

void log_write(log_level lvl, const char *fields_json, const char *fmt, ...)
{
    if (lvl < log__min)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    char ts[TIME_STR_LEN + 1];
    time_format(time_now_usec(), ts);
    buf line;
    buf_init(&line, 16384);
    buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, log__names[lvl]);
    log_json_escape(&line, msg);
    buf_puts(&line, "\"");
    if (log__request_id[0]) {
        buf_puts(&line, ",\"request_id\":\"");
        log_json_escape(&line, log__request_id);
        buf_puts(&line, "\"");
    }
    if (fields_json != NULL && fields_json[0]) {
        buf_puts(&line, ",");
        buf_puts(&line, fields_json);
    }
    buf_puts(&line, "}\n");

    FILE *f = log__stream ? log__stream : stderr;
    pthread_mutex_lock(&log__lock);
    fputs(buf_cstr(&line), f);
    fflush(f);
    pthread_mutex_unlock(&log__lock);
    buf_free(&line);
}
