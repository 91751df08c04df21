/*
 * app: the subcommands of the pstudio binary. Each takes the loaded config
 * (whose argc/argv hold the arguments left after the settings) and returns
 * the process exit status: 0 success, 1 a runtime failure, 2 bad usage or
 * bad configuration (the message names the setting).
 */
#ifndef PS_APP_APP_H
#define PS_APP_APP_H

#include "app/config.h"
#include "db/db.h"

#define EXIT_USAGE 2

int cmd_serve(config *c);
int cmd_migrate(config *c);
int cmd_admin(config *c);

/**
 * Shared start-up: prepares the data directory (for SQLite), opens the
 * database pool and checks or applies the schema. Prints a one-line error and
 * returns NULL with *status set on failure.
 */
db *app_open_db(const config *c, int pool_size, bool migrate, int *status);
/** Prints "pstudio: <message>" on stderr. */
void app_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
