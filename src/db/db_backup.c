#include "db/db_backup.h"

#include "base/timeutil.h"
#include "db/db_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DB_BACKUP__PAGES     64       /* pages per backup step at first */
#define DB_BACKUP__BUSY_USEC 60000000 /* longest a copy waits on locks in all */
#define DB_BACKUP__TAIL      400      /* bytes of a tool's stderr kept for the reason */
#define DB_BACKUP__APP_NAME  "pstudio-backup"

/* ---- SQLite ------------------------------------------------------------- */

const char *db_backup_sqlite_path(const char *url)
{
    return strncmp(url, "sqlite://", 9) == 0 ? url + 9 : NULL;
}

int db_backup_sqlite_hold(const char *url, bool exclusive, int *fd, db_error *err)
{
    const char *path = db_backup_sqlite_path(url);
    *fd = -1;
    if (path == NULL)
        return db_driver_set_error(err, DB_FAULT_URL, "not a SQLite URL");
    /* A restore renames a new file over the path: whoever locked the old
     * inode meanwhile locks again, so the lock always guards the file the
     * path names. A few rounds are plenty: restores are rare. */
    for (int round = 0; round < 8; round++) {
        int f = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
        if (f < 0)
            return db_driver_set_error(err, DB_FAULT_CONNECTION, "cannot open %s: %s", path,
                                       strerror(errno));
        if (flock(f, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
            int e = errno;
            close(f);
            if (e != EWOULDBLOCK)
                return db_driver_set_error(err, DB_FAULT_OTHER, "cannot lock %s: %s", path,
                                           strerror(e));
            return db_driver_set_error(
                err, DB_FAULT_BUSY,
                exclusive ? "the SQLite database %s is in use by a running 'pstudio serve' or "
                            "'pstudio worker'; stop them first"
                          : "the SQLite database %s is being replaced by 'pstudio admin "
                            "restore'; start again once it has finished",
                path);
        }
        struct stat held, now;
        if (fstat(f, &held) == 0 && stat(path, &now) == 0 && held.st_ino == now.st_ino &&
            held.st_dev == now.st_dev) {
            *fd = f;
            return 0;
        }
        close(f);
    }
    return db_driver_set_error(err, DB_FAULT_BUSY, "the SQLite database %s keeps being replaced",
                               path);
}

static int db_backup__sqlite_error(sqlite3 *h, db_fault fault, db_error *err, const char *what,
                                   const char *path)
{
    return db_driver_set_error(err, fault, "%s %s: %s", what, path,
                               h ? sqlite3_errmsg(h) : "out of memory");
}

/* Runs PRAGMA integrity_check on h: 0 when it answers the single row "ok". */
static int db_backup__integrity(sqlite3 *h, const char *path, db_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check(20)", -1, &st, NULL) != SQLITE_OK)
        return db_backup__sqlite_error(h, DB_FAULT_SCHEMA, err, "not a SQLite database:", path);
    int rc = sqlite3_step(st);
    int ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (!ok && rc == SQLITE_ROW)
        db_driver_set_error(err, DB_FAULT_SCHEMA, "%s fails its integrity check: %.300s", path,
                            (const char *)sqlite3_column_text(st, 0));
    else if (!ok)
        db_backup__sqlite_error(h, DB_FAULT_SCHEMA, err, "not a SQLite database:", path);
    sqlite3_finalize(st);
    return ok ? 0 : DB_ERR;
}

static int db_backup__fsync_path(const char *path, db_error *err)
{
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0 || fsync(f) != 0) {
        int e = errno;
        if (f >= 0)
            close(f);
        return db_driver_set_error(err, DB_FAULT_OTHER, "cannot sync %s: %s", path, strerror(e));
    }
    close(f);
    return 0;
}

/* The directory of path, fsynced, so a rename in it is durable. */
static int db_backup__fsync_dir_of(const char *path, db_error *err)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    return db_backup__fsync_path(dirname(dir), err);
}

static void db_backup__sleep_usec(long usec)
{
    struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* The page loop. A write by another process restarts a backup from its
 * first page; with a server writing all the time, small steps could restart
 * for ever, so each restart quadruples the step until one step is the whole
 * file (a single read transaction, which in WAL mode still blocks no
 * writer). */
static int db_backup__pages(sqlite3_backup *b)
{
    int pages = DB_BACKUP__PAGES, last = -1;
    int64_t busy_until = time_mono_usec() + DB_BACKUP__BUSY_USEC;
    for (;;) {
        int rc = sqlite3_backup_step(b, pages);
        if (rc == SQLITE_DONE)
            return SQLITE_OK;
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            if (time_mono_usec() > busy_until)
                return rc;
            db_backup__sleep_usec(2000);
            continue;
        }
        if (rc != SQLITE_OK)
            return rc;
        int remaining = sqlite3_backup_remaining(b);
        if (last >= 0 && remaining > last && pages > 0)
            pages = pages >= sqlite3_backup_pagecount(b) / 4 ? -1 : pages * 4;
        last = remaining;
    }
}

int db_backup_sqlite_copy(const char *url, const char *dest, db_error *err)
{
    const char *path = db_backup_sqlite_path(url);
    if (path == NULL)
        return db_driver_set_error(err, DB_FAULT_URL, "not a SQLite URL");
    sqlite3 *src = NULL, *dst = NULL;
    int rc = DB_ERR;
    /* Read-write without create: a missing database is an error, not an
     * empty backup. */
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        db_backup__sqlite_error(src, DB_FAULT_CONNECTION, err, "cannot open the database", path);
        goto done;
    }
    sqlite3_busy_timeout(src, 5000);
    if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        db_backup__sqlite_error(dst, DB_FAULT_OTHER, err, "cannot create", dest);
        goto done;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        db_backup__sqlite_error(dst, DB_FAULT_OTHER, err, "cannot start the copy into", dest);
        goto done;
    }
    int step = db_backup__pages(b);
    sqlite3_backup_finish(b);
    if (step != SQLITE_OK) {
        db_driver_set_error(err, step == SQLITE_BUSY ? DB_FAULT_BUSY : DB_FAULT_OTHER,
                            "copying %s failed: %s", path, sqlite3_errstr(step));
        goto done;
    }
    /* The copy carries the source's WAL flag; a backup file should stand
     * alone, so it goes back to a rollback journal (the server's driver
     * turns WAL on again when it opens the restored file). */
    char *msg = NULL;
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, &msg) != SQLITE_OK) {
        db_driver_set_error(err, DB_FAULT_OTHER, "cannot finish the copy %s: %s", dest,
                            msg ? msg : "?");
        sqlite3_free(msg);
        goto done;
    }
    if (db_backup__integrity(dst, dest, err) != 0)
        goto done;
    rc = 0;
done:
    sqlite3_close_v2(src);
    if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && rc == 0)
        rc = db_driver_set_error(err, DB_FAULT_OTHER, "cannot close the copy %s", dest);
    if (rc == 0)
        rc = db_backup__fsync_path(dest, err);
    if (rc != 0)
        unlink(dest);
    return rc;
}

int db_backup_sqlite_verify(const char *path, int *schema_version, db_error *err)
{
    sqlite3 *h = NULL;
    int rc = DB_ERR;
    *schema_version = 0;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        db_backup__sqlite_error(h, DB_FAULT_SCHEMA, err, "cannot open", path);
        goto done;
    }
    if (db_backup__integrity(h, path, err) != 0)
        goto done;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK) {
        db_backup__sqlite_error(h, DB_FAULT_SCHEMA, err, "not a pstudio database:", path);
        goto done;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        *schema_version = sqlite3_column_int(st, 0);
        rc = 0;
    } else {
        db_backup__sqlite_error(h, DB_FAULT_SCHEMA, err, "cannot read the schema version of", path);
    }
    sqlite3_finalize(st);
done:
    sqlite3_close(h);
    return rc;
}

int db_backup_sqlite_tables(const char *url, long *tables, db_error *err)
{
    const char *path = db_backup_sqlite_path(url);
    *tables = 0;
    struct stat st;
    if (path == NULL || stat(path, &st) != 0 || st.st_size == 0)
        return 0;
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    int rc = DB_ERR;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'", -1, &q,
                           NULL) != SQLITE_OK) {
        /* Not a database at all: nothing in it to lose but the file, which
         * the replacement keeps beside it. */
        rc = 0;
    } else if (sqlite3_step(q) == SQLITE_ROW) {
        *tables = sqlite3_column_int64(q, 0);
        rc = 0;
    } else {
        db_backup__sqlite_error(h, DB_FAULT_OTHER, err, "cannot read", path);
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    return rc;
}

int db_backup_sqlite_replace(const char *url, const char *copy, db_error *err)
{
    const char *path = db_backup_sqlite_path(url);
    if (path == NULL)
        return db_driver_set_error(err, DB_FAULT_URL, "not a SQLite URL");
    char side[4200];
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size > 0) {
        /* Fold the old database's WAL into it, so the kept copy is whole.
         * An old file too damaged to open is kept as it is: being damaged
         * may be why it is restored. */
        sqlite3 *h = NULL;
        if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
            sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_close(h);
        snprintf(side, sizeof(side), "%s.pre-restore", path);
        if ((unlink(side) != 0 && errno != ENOENT) || link(path, side) != 0)
            return db_driver_set_error(err, DB_FAULT_OTHER,
                                       "cannot keep the old database as %s: %s", side,
                                       strerror(errno));
    }
    /* The old -wal and -shm belong to the old file: left beside the new
     * one, SQLite would replay the old pages into it. */
    static const char *const sides[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, sides[i]);
        if (unlink(side) != 0 && errno != ENOENT)
            return db_driver_set_error(err, DB_FAULT_OTHER, "cannot remove %s: %s", side,
                                       strerror(errno));
    }
    if (rename(copy, path) != 0)
        return db_driver_set_error(err, DB_FAULT_OTHER, "cannot move %s to %s: %s", copy, path,
                                   strerror(errno));
    return db_backup__fsync_dir_of(path, err);
}

/* ---- PostgreSQL --------------------------------------------------------- */

/* The environment for a libpq program: ours, with every connection setting
 * the URL holds put in its PG* variable (PGHOST, PGPORT, PGUSER,
 * PGPASSWORD, PGDATABASE, PGSSLMODE …) over any inherited one. NULL when the
 * URL does not parse. The strings are malloc'd; free with db_backup__env_free. */
static char **db_backup__env(const char *url, char **dbname, db_error *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (opts == NULL) {
        db_driver_set_error(err, DB_FAULT_URL, "PostgreSQL URL: %s", perr ? perr : "invalid");
        PQfreemem(perr);
        return NULL;
    }
    size_t nenv = 0, nopt = 0;
    while (environ[nenv] != NULL)
        nenv++;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        nopt++;
    char **env = calloc(nenv + nopt + 1, sizeof(*env));
    size_t n = 0;
    *dbname = NULL;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL || o->envvar == NULL)
            continue;
        size_t len = strlen(o->envvar) + strlen(o->val) + 2;
        env[n] = malloc(len);
        snprintf(env[n++], len, "%s=%s", o->envvar, o->val);
        if (strcmp(o->keyword, "dbname") == 0)
            *dbname = strdup(o->val);
    }
    size_t set = n;
    for (size_t i = 0; i < nenv; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool overridden = false;
        for (size_t j = 0; j < set && !overridden; j++)
            overridden = strncmp(env[j], environ[i], klen) == 0;
        if (!overridden)
            env[n++] = strdup(environ[i]);
    }
    PQconninfoFree(opts);
    return env;
}

static void db_backup__env_free(char **env)
{
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        free(env[i]);
    free(env);
}

/* The tail as one line. */
static const char *db_backup__reason(char *tail, size_t n)
{
    tail[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tail[i] < 0x20)
            tail[i] = ' ';
    while (n > 0 && tail[n - 1] == ' ')
        tail[--n] = '\0';
    return n ? tail : "(no message)";
}

static void db_backup__keep(char *tail, size_t *n, const char *data, size_t len)
{
    if (len >= DB_BACKUP__TAIL) {
        memcpy(tail, data + len - DB_BACKUP__TAIL, DB_BACKUP__TAIL);
        *n = DB_BACKUP__TAIL;
        return;
    }
    if (*n + len > DB_BACKUP__TAIL) {
        size_t drop = *n + len - DB_BACKUP__TAIL;
        memmove(tail, tail + drop, *n - drop);
        *n -= drop;
    }
    memcpy(tail + *n, data, len);
    *n += len;
}

/*
 * Runs program (from t->bin_dir, else PATH) with args (NULL-terminated,
 * without argv[0]) and env (NULL: ours), never through a shell, stdin
 * /dev/null. Its stdout goes into out (n bytes, NUL-terminated, the rest
 * dropped) or to /dev/null when out is NULL; the end of its stderr names why
 * it failed. DB_FAULT_URL when it cannot be started, DB_FAULT_OTHER when it
 * fails.
 */
static int db_backup__run(const db_pg_tools *t, const char *program, const char *const *args,
                          char **env, char *out, size_t n, db_error *err)
{
    char path[4096];
    if (t->bin_dir != NULL && t->bin_dir[0] != '\0')
        snprintf(path, sizeof(path), "%s/%s", t->bin_dir, program);
    else
        snprintf(path, sizeof(path), "%s", program);
    const char *argv[24];
    size_t nargs = 0;
    argv[nargs++] = path;
    for (size_t i = 0; args[i] != NULL && nargs < sizeof(argv) / sizeof(argv[0]) - 1; i++)
        argv[nargs++] = args[i];
    argv[nargs] = NULL;

    int outpipe[2], errpipe[2], execpipe[2];
    if (pipe2(outpipe, O_CLOEXEC) != 0)
        return db_driver_set_error(err, DB_FAULT_OTHER, "no pipe: %s", strerror(errno));
    if (pipe2(errpipe, O_CLOEXEC) != 0 || pipe2(execpipe, O_CLOEXEC) != 0) {
        close(outpipe[0]);
        close(outpipe[1]);
        return db_driver_set_error(err, DB_FAULT_OTHER, "no pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. */
        int nul = open("/dev/null", O_RDWR);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(out ? outpipe[1] : nul, 1) < 0 ||
            dup2(errpipe[1], 2) < 0) {
            int e = errno;
            (void)!write(execpipe[1], &e, sizeof(e));
            _exit(127);
        }
        if (strchr(path, '/') != NULL)
            execve(path, (char *const *)argv, env ? env : environ);
        else
            execvpe(path, (char *const *)argv, env ? env : environ);
        int e = errno;
        (void)!write(execpipe[1], &e, sizeof(e));
        _exit(127);
    }
    int start_errno = pid < 0 ? errno : 0;
    close(outpipe[1]);
    close(errpipe[1]);
    close(execpipe[1]);
    if (pid > 0) {
        ssize_t got;
        int e = 0;
        while ((got = read(execpipe[0], &e, sizeof(e))) < 0 && errno == EINTR)
            ;
        if (got == (ssize_t)sizeof(e))
            start_errno = e;
    }
    close(execpipe[0]);
    if (start_errno != 0) {
        close(outpipe[0]);
        close(errpipe[0]);
        if (pid > 0)
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return db_driver_set_error(err, DB_FAULT_URL,
                                   "cannot run %s: %s (install the PostgreSQL client programs, or "
                                   "set PSTUDIO_PG_BIN_DIR to their directory)",
                                   path, strerror(start_errno));
    }
    char tail[DB_BACKUP__TAIL + 1];
    size_t ntail = 0, nout = 0;
    struct pollfd p[2] = {{.fd = outpipe[0], .events = POLLIN},
                          {.fd = errpipe[0], .events = POLLIN}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            char chunk[4096];
            ssize_t got = read(p[i].fd, chunk, sizeof(chunk));
            if (got > 0 && i == 1) {
                db_backup__keep(tail, &ntail, chunk, (size_t)got);
            } else if (got > 0 && out != NULL && nout + 1 < n) {
                size_t take = (size_t)got < n - 1 - nout ? (size_t)got : n - 1 - nout;
                memcpy(out + nout, chunk, take);
                nout += take;
            } else if (got == 0 || (got < 0 && errno != EINTR)) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    if (out != NULL)
        out[nout] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        return db_driver_set_error(err, DB_FAULT_OTHER, "%s died of signal %d: %s", program,
                                   WTERMSIG(status), db_backup__reason(tail, ntail));
    return db_driver_set_error(err, DB_FAULT_OTHER, "%s exited with status %d: %s", program,
                               WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                               db_backup__reason(tail, ntail));
}

int db_backup_pg_tool_version(const db_pg_tools *t, const char *program, int *major, char *text,
                              size_t n, db_error *err)
{
    char out[512];
    const char *args[] = {"--version", NULL};
    if (db_backup__run(t, program, args, NULL, out, sizeof(out), err) != 0)
        return DB_ERR;
    /* "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" */
    const char *v = strstr(out, ") ");
    char *end = NULL;
    long m = v ? strtol(v + 2, &end, 10) : 0;
    if (v == NULL || end == v + 2 || m <= 0 || m > 1000)
        return db_driver_set_error(err, DB_FAULT_URL, "%s --version printed no version: %.80s",
                                   program, out);
    *major = (int)m;
    size_t len = strcspn(v + 2, " \n");
    snprintf(text, n, "%.*s", (int)len, v + 2);
    return 0;
}

static PGconn *db_backup__pg_connect(const char *url, db_error *err)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {url, "5", DB_BACKUP__APP_NAME, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        const char *msg = c ? PQerrorMessage(c) : "out of memory";
        db_driver_set_error(err, DB_FAULT_CONNECTION, "cannot connect to PostgreSQL: %.*s",
                            (int)strcspn(msg, "\n"), msg);
        PQfinish(c);
        return NULL;
    }
    return c;
}

int db_backup_pg_server_major(const char *url, int *major, db_error *err)
{
    PGconn *c = db_backup__pg_connect(url, err);
    if (c == NULL)
        return DB_ERR;
    *major = PQserverVersion(c) / 10000;
    PQfinish(c);
    return 0;
}

int db_backup_pg_dump(const db_pg_tools *t, const char *url, const char *dest, db_error *err)
{
    char *dbname = NULL;
    char **env = db_backup__env(url, &dbname, err);
    if (env == NULL)
        return DB_ERR;
    char file[4200];
    snprintf(file, sizeof(file), "--file=%s", dest);
    /* The connection comes from the environment alone: no -d, so nothing of
     * the URL, password included, is on the command line. */
    const char *args[] = {"--format=custom", "--no-password", file, NULL};
    int rc = db_backup__run(t, "pg_dump", args, env, NULL, 0, err);
    db_backup__env_free(env);
    free(dbname);
    if (rc == 0)
        rc = db_backup__fsync_path(dest, err);
    return rc;
}

int db_backup_pg_check_archive(const db_pg_tools *t, const char *path, db_error *err)
{
    const char *args[] = {"--list", path, NULL};
    if (db_backup__run(t, "pg_restore", args, NULL, NULL, 0, err) == 0)
        return 0;
    if (err != NULL && err->fault == DB_FAULT_URL)
        return DB_ERR;
    char why[sizeof(err->message)];
    snprintf(why, sizeof(why), "%s", err->message);
    return db_driver_set_error(err, DB_FAULT_SCHEMA, "not a pg_dump archive: %.400s", why);
}

int db_backup_pg_target(const char *url, long *relations, long *others, db_error *err)
{
    PGconn *c = db_backup__pg_connect(url, err);
    if (c == NULL)
        return DB_ERR;
    PGresult *r = PQexec(
        c, "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
           "         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
           "           AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
           "           AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'),"
           "       (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
           "           AND pid <> pg_backend_pid() AND application_name LIKE 'pstudio%'"
           "           AND application_name <> '" DB_BACKUP__APP_NAME "')");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        rc = db_driver_set_error(err, DB_FAULT_OTHER, "cannot inspect the target database: %s",
                                 PQerrorMessage(c));
    } else {
        *relations = atol(PQgetvalue(r, 0, 0));
        *others = atol(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

int db_backup_pg_clear(const char *url, db_error *err)
{
    PGconn *c = db_backup__pg_connect(url, err);
    if (c == NULL)
        return DB_ERR;
    PGresult *r = PQexec(c, "BEGIN; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; "
                            "COMMIT");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = db_driver_set_error(err, DB_FAULT_OTHER,
                                 "cannot empty the target database (--clean needs its owner): %s",
                                 PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

int db_backup_pg_restore(const db_pg_tools *t, const char *url, const char *path, db_error *err)
{
    char *dbname = NULL;
    char **env = db_backup__env(url, &dbname, err);
    if (env == NULL)
        return DB_ERR;
    /* pg_restore writes SQL to stdout unless given -d. A conninfo of the
     * database name alone, quoted, names it whatever characters it has;
     * host, user and password still come from the environment. */
    char conninfo[1200] = "dbname='";
    size_t n = strlen(conninfo);
    for (const char *p = dbname ? dbname : ""; *p != '\0' && n + 3 < sizeof(conninfo); p++) {
        if (*p == '\'' || *p == '\\')
            conninfo[n++] = '\\';
        conninfo[n++] = *p;
    }
    conninfo[n++] = '\'';
    conninfo[n] = '\0';
    char dbarg[1300];
    snprintf(dbarg, sizeof(dbarg), "--dbname=%s", conninfo);
    const char *args[] = {"--no-owner",
                          "--no-privileges",
                          "--single-transaction",
                          "--exit-on-error",
                          "--no-password",
                          dbarg,
                          path,
                          NULL};
    int rc = db_backup__run(t, "pg_restore", args, env, NULL, 0, err);
    db_backup__env_free(env);
    free(dbname);
    return rc;
}
