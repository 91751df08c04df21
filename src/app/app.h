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
#include "services/services.h"

#define EXIT_USAGE 2

int cmd_serve(config *c);
int cmd_migrate(config *c);
int cmd_admin(config *c);
int cmd_worker(config *c);
/* admin backup and admin restore (cmd_backup.c), given the arguments after the word. */
int cmd_admin_backup(config *c, int argi);
int cmd_admin_restore(config *c, int argi);
/** What backup and restore do and refuse, for the admin --help text. */
void cmd_backup_usage(FILE *out);

/**
 * Shared start-up: prepares the data directory (for SQLite), opens the
 * database pool and checks or applies the schema. Prints a one-line error and
 * returns NULL with *status set on failure.
 */
db *app_open_db(const config *c, int pool_size, bool migrate, int *status);
/**
 * Creates the data directory when missing and proves it writable: 0, or -1
 * after a one-line message naming PSTUDIO_DATA_DIR.
 */
int app_prepare_data_dir(const char *dir);
/**
 * serve and worker on SQLite: holds a shared lock on the database file for
 * the life of the process, so 'admin restore' can tell that a server uses
 * it and refuse (db_backup.h). 0, or EXIT_USAGE after a message (a restore
 * is replacing the file). Nothing to do on PostgreSQL.
 */
int app_hold_database(const config *c);
/**
 * Fills s from c: the database is set by the caller. Resolves the LLM
 * provider "auto" (gemini or openai when its key is set, else offline) and
 * the default model and redirect URI. The strings point into c, which must
 * outlive s.
 */
void app_services_from_config(const config *c, services *s);
/**
 * Loads the key that encrypts stored Google tokens (creating <data_dir>/secret.key
 * on the first run) and checks it against the database, storing its check
 * value when the database has none yet: 0, or EXIT_USAGE after a one-line
 * message naming the setting or file and the fix. serve, worker and admin
 * rotate-key call it before they start work, like every other setting's check.
 */
int app_check_token_key(const services *s);
/**
 * Compares this machine's clock with PostgreSQL's (three round trips, the
 * shortest kept) and logs the offset; a warning naming
 * PSTUDIO_CLOCK_SKEW_WARN_MS when it is surely larger than warn_ms. Never
 * fails the start: a reading that fails is logged. SQLite: nothing to do.
 */
void app_check_clock(db *d, int warn_ms);
/** Registers every job handler (jobs_setup.c); called by serve and worker. */
void app_register_jobs(services *s);
/**
 * Opens the media store PSTUDIO_MEDIA_STORE names (<data_dir>/media, or the
 * S3 bucket with its spool in <data_dir>/s3-spool) into s->media (released
 * with media_store_free): 0, or EXIT_USAGE after saying why.
 */
int app_open_media(services *s, const config *c);
/** Names this process in job leases: "host:pid" (cmd_worker.c). */
void app_job_owner(char *out, size_t n);
/** Prints "pstudio: <message>" on stderr. */
void app_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
