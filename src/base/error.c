#include "base/error.h"

#include "base/text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_set(error *e, error_kind kind, const char *field, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    e->kind = kind;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    /* A message that quotes long text is shortened, but never inside a
     * character: it is shown in a JSON answer, which must be UTF-8. */
    if (n >= (int)sizeof(e->message))
        e->message[utf8_cut(e->message, sizeof(e->message) - 1)] = '\0';
    return -1;
}

void error_clear(error *e)
{
    if (e == NULL)
        return;
    e->kind = ERR_NONE;
    e->field[0] = '\0';
    e->message[0] = '\0';
}

const char *error_kind_name(error_kind kind)
{
    switch (kind) {
    case ERR_NONE:
        return "none";
    case ERR_INVALID:
        return "invalid";
    case ERR_NOT_FOUND:
        return "not-found";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_CONSTRAINT:
        return "constraint";
    case ERR_TOO_LARGE:
        return "too-large";
    case ERR_UNAVAILABLE:
        return "unavailable";
    case ERR_UNAUTHORIZED:
        return "unauthorized";
    case ERR_FORBIDDEN:
        return "forbidden";
    case ERR_PLAN_LIMIT:
        return "plan-limit";
    case ERR_PLAN_REQUIRED:
        return "plan-required";
    case ERR_NO_PERSONA:
        return "persona-unavailable";
    case ERR_PRECONDITION:
        return "precondition-failed";
    case ERR_RATE_LIMITED:
        return "rate-limited";
    case ERR_NO_SPACE:
        return "no-space";
    case ERR_CONFIG:
        return "config";
    case ERR_INTERNAL:
        return "internal";
    }
    return "internal";
}

bool error_errno_is_full(int errnum)
{
    return errnum == ENOSPC || errnum == EFBIG || errnum == EDQUOT;
}

int error_set_io(error *e, int errnum, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (error_errno_is_full(errnum))
        return error_set(e, ERR_NO_SPACE, NULL,
                         "the disk is full: %s: %s; free space (or raise the file size limit) "
                         "and try again",
                         what, strerror(errnum));
    return error_set(e, ERR_UNAVAILABLE, NULL, "%s: %s", what, strerror(errnum));
}
