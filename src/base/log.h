/*
 * log: JSON lines on stderr, one object per event:
 *   {"time":"…","level":"info","msg":"…","request_id":"…", …}
 * The request id is thread-local: the HTTP layer sets it while it serves a
 * request, so every line written on that thread carries it. Extra fields are
 * passed as a JSON fragment built by the caller (already escaped).
 */
#ifndef PS_BASE_LOG_H
#define PS_BASE_LOG_H

#include <stdio.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/** Sets the minimum level and the stream (NULL keeps stderr). */
void log_init(log_level min, FILE *stream);
/** Parses "debug", "info", "warn", "error"; -1 on anything else. */
int log_level_parse(const char *s);
/** Sets (or clears with NULL) the current thread's request id; the string is copied. */
void log_set_request_id(const char *id);
const char *log_request_id(void);

void log_write(log_level lvl, const char *fields_json, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_write(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, NULL, __VA_ARGS__)

/** Appends s to out as the body of a JSON string (no quotes), escaping as needed. */
struct buf;
int log_json_escape(struct buf *out, const char *s);

#endif
