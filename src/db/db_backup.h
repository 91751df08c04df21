/*
 * db_backup: whole-database copies for `pstudio admin backup` and `restore`,
 * in each engine's own way. SQLite: the online backup API into a fresh file
 * while other processes keep writing, checked with integrity_check, and an
 * atomic replacement of the database file while no server uses it (servers
 * hold a shared flock on the file for their lifetime; restore takes it
 * exclusively). PostgreSQL: the pg_dump and pg_restore programs in custom
 * format, spawned without a shell, the connection passed through libpq's
 * environment variables (PGHOST, PGPASSWORD …) taken from the URL, so no
 * password ever appears on a command line.
 *
 * Every function returns 0, or DB_ERR with err filled: DB_FAULT_BUSY when a
 * server holds the database, DB_FAULT_URL for a setting or program that
 * cannot be used (a missing or too old pg_dump), DB_FAULT_SCHEMA for a copy
 * that is not a sound database, DB_FAULT_CONNECTION and DB_FAULT_OTHER as
 * elsewhere.
 */
#ifndef PS_DB_DB_BACKUP_H
#define PS_DB_DB_BACKUP_H

#include "db/db.h"

#include <stdbool.h>

/** The file a sqlite:// URL names (a pointer into url); NULL for other engines. */
const char *db_backup_sqlite_path(const char *url);
/**
 * Opens (creating it empty when missing) the SQLite database file of url and
 * flocks it, shared or exclusive, without waiting: *fd is the descriptor to
 * keep open for as long as the hold should last. DB_FAULT_BUSY when another
 * process holds it the other way. The lock follows the file the path names
 * now: a file replaced while waiting is locked afresh.
 */
int db_backup_sqlite_hold(const char *url, bool exclusive, int *fd, db_error *err);
/**
 * Copies the live database of url into dest (which must not exist) through
 * the online backup API, a few pages a step so writers are never held up,
 * then checks the copy (PRAGMA integrity_check) and turns it into a
 * self-contained file (rollback journal, no -wal beside it), fsynced. On
 * failure dest is removed.
 */
int db_backup_sqlite_copy(const char *url, const char *dest, db_error *err);
/** Checks that path is a sound SQLite database (integrity_check) and reads its schema version. */
int db_backup_sqlite_verify(const char *path, int *schema_version, db_error *err);
/** The number of tables url's SQLite database holds (0 when the file is missing or empty). */
int db_backup_sqlite_tables(const char *url, long *tables, db_error *err);
/**
 * Replaces url's database file by copy (a file in the same directory): the
 * old database's WAL is checkpointed into it, the old file is kept as
 * "<path>.pre-restore", the copy is renamed over the path and the old -wal
 * and -shm files are removed, then the directory is fsynced. The caller
 * holds the exclusive lock (db_backup_sqlite_hold).
 */
int db_backup_sqlite_replace(const char *url, const char *copy, db_error *err);

/** Where pg_dump and pg_restore are found: bin_dir (NULL or "": on PATH). */
typedef struct db_pg_tools {
    const char *bin_dir;
} db_pg_tools;

/** The major version (15) and version text ("15.18") of pg_dump or pg_restore. */
int db_backup_pg_tool_version(const db_pg_tools *t, const char *program, int *major, char *text,
                              size_t n, db_error *err);
/** The PostgreSQL server's major version. */
int db_backup_pg_server_major(const char *url, int *major, db_error *err);
/** pg_dump --format=custom of url's database into dest. */
int db_backup_pg_dump(const db_pg_tools *t, const char *url, const char *dest, db_error *err);
/** Reads the archive's table of contents (pg_restore --list): DB_FAULT_SCHEMA when it is not one.
 */
int db_backup_pg_check_archive(const db_pg_tools *t, const char *path, db_error *err);
/**
 * What the target database holds: *relations, the tables, views and
 * sequences outside the system schemas; *others, the connections to it of
 * pstudio processes (application_name pstudio…) other than this one.
 */
int db_backup_pg_target(const char *url, long *relations, long *others, db_error *err);
/** Drops and recreates the schema public (where every pstudio object lives), in one transaction. */
int db_backup_pg_clear(const char *url, db_error *err);
/**
 * pg_restore of the archive into url's database, in one transaction
 * (all or nothing), the objects owned by the connecting role.
 */
int db_backup_pg_restore(const db_pg_tools *t, const char *url, const char *path, db_error *err);

#endif
