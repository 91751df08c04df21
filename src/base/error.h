/*
 * error: the one error convention. Functions return 0 on success and -1 on
 * failure, filling an `error` the caller passed in. The kind says what class
 * of failure it was (the HTTP layer maps it to a status and a problem type);
 * the message says, in plain words, what was wrong and what to do.
 */
#ifndef PS_BASE_ERROR_H
#define PS_BASE_ERROR_H

#include <stdbool.h>

typedef enum error_kind {
    ERR_NONE = 0,
    ERR_INVALID,       /* the input was malformed or out of range */
    ERR_NOT_FOUND,     /* no such object, or not the caller's */
    ERR_CONFLICT,      /* a uniqueness or state conflict */
    ERR_CONSTRAINT,    /* a foreign key or check constraint refused the write */
    ERR_TOO_LARGE,     /* input past a size cap */
    ERR_UNAVAILABLE,   /* a dependency (database, provider) is not reachable */
    ERR_UNAUTHORIZED,  /* no valid credentials */
    ERR_FORBIDDEN,     /* authenticated, but the role does not allow it */
    ERR_PLAN_LIMIT,    /* a plan limit was reached (field names the limit) */
    ERR_PLAN_REQUIRED, /* the object needs a higher plan than the caller's */
    ERR_NO_PERSONA,    /* the persona the work needs was deleted or is hidden now */
    ERR_PRECONDITION,  /* If-Match did not match the current version */
    ERR_RATE_LIMITED,  /* too many attempts; retry later */
    ERR_NO_SPACE,      /* a disk (media or database) is full or past a size limit */
    ERR_CONFIG,        /* bad configuration */
    ERR_INTERNAL,      /* a bug or an unexpected engine failure */
} error_kind;

typedef struct error {
    error_kind kind;
    char field[64];    /* the setting, parameter or field at fault, if any */
    char message[512]; /* what was wrong, for a person */
} error;

/** Fills e (when not NULL) and returns -1, so `return error_set(…)` reads well. */
int error_set(error *e, error_kind kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void error_clear(error *e);
const char *error_kind_name(error_kind kind);
/**
 * True for the errno values that mean "the disk is full" in one form or
 * another: ENOSPC (no space), EFBIG (past the file size limit, RLIMIT_FSIZE
 * or the file system's own) and EDQUOT (past a quota). Callers that write
 * files report those as ERR_NO_SPACE (error_set_io).
 */
bool error_errno_is_full(int errnum);
/**
 * Fills e for a failed file write or create: ERR_NO_SPACE when errnum is
 * one of the above, else ERR_UNAVAILABLE; the message is "<what>: <the
 * errno's text>", and for a full disk says what to do.
 */
int error_set_io(error *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
