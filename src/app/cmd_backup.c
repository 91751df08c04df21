/*
 * admin backup and admin restore: one file holds a whole database. It is a
 * line "PSTUDIO-BACKUP 1", a line of JSON (the manifest: engine, schema
 * version, when, the token key's version and check value, the payload's
 * size and SHA-256) and the payload: a SQLite database file, or a pg_dump
 * archive in custom format. The key itself is never in it (decision 152).
 */
#include "app/app.h"

#include "base/timeutil.h"
#include "db/db_backup.h"
#include "db/migrate.h"
#include "domain/token_key_store.h"
#include "services/token_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP__MAGIC        "PSTUDIO-BACKUP 1\n"
#define BACKUP__MANIFEST_MAX 4096

typedef struct backup__manifest {
    char engine[16];
    int schema_version;
    char created_at[TIME_STR_LEN + 1];
    char pstudio_version[32];
    int key_version; /* 0: the database had no token key yet */
    char key_check[65];
    char tool_version[32]; /* pg_dump's ("15.18"); "" for SQLite */
    int64_t payload_bytes;
    char payload_sha256[65];
} backup__manifest;

static const char backup__usage[] =
    "backup: copies the database PSTUDIO_DATABASE_URL names into FILE (replaced\n"
    "atomically, mode 600) while servers keep running. SQLite: the online backup\n"
    "API, then an integrity check of the copy. PostgreSQL: pg_dump in custom\n"
    "format (PSTUDIO_PG_BIN_DIR, else PATH), which must be at least the server's\n"
    "major version. FILE records the engine, the schema version and the token\n"
    "key's check value, never the key: keep PSTUDIO_SECRET_KEY (or\n"
    "<data_dir>/secret.key) apart from the backups. Media files are not in it.\n"
    "\n"
    "restore: puts FILE's database in place of the configured one, then applies\n"
    "the migrations a backup from an older pstudio lacks. Refused, with nothing\n"
    "changed: a file that is not a whole pstudio backup, a backup of the other\n"
    "engine or of a newer schema, a configured key that is not the backup's\n"
    "(PSTUDIO_SECRET_KEY), a serve or worker using the database (stop them\n"
    "first), and a database that already holds tables unless --clean is given.\n"
    "SQLite keeps the replaced file as <database>.pre-restore. PostgreSQL: with\n"
    "--clean the schema public is dropped first (the database owner's right);\n"
    "pg_restore then runs in one transaction, its objects owned by the URL's role.\n"
    "\n"
    "Exit status: 0 done, 1 a failure on the way, 2 bad usage, bad settings or\n"
    "a backup that cannot be restored here.\n";

void cmd_backup_usage(FILE *out)
{
    fputs(backup__usage, out);
}

static bool backup__is_sqlite(const config *c)
{
    return db_backup_sqlite_path(c->database_url) != NULL;
}

/* Reads "--name VALUE" pairs and flags; 0, 1 after --help, EXIT_USAGE. */
static int backup__args(config *c, int argi, const char *what, const char *name, const char **value,
                        bool *clean)
{
    for (int i = argi; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("Usage: pstudio admin backup --to FILE\n"
                   "       pstudio admin restore --from FILE [--clean]\n\n");
            cmd_backup_usage(stdout);
            return 1;
        }
        if (strcmp(a, name) == 0 && i + 1 < c->argc) {
            *value = c->argv[++i];
        } else if (clean != NULL && strcmp(a, "--clean") == 0) {
            *clean = true;
        } else {
            app_fail("admin %s: unexpected argument '%s'; try 'pstudio admin --help'", what, a);
            return EXIT_USAGE;
        }
    }
    if (*value == NULL || (*value)[0] == '\0') {
        app_fail("admin %s: %s FILE is required", what, name);
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- the file ----------------------------------------------------------- */

/* A temporary file beside path (same file system, so rename is atomic),
 * named into out; -1 after a message. */
static int backup__temp_beside(const char *path, const char *tag, char *out, size_t n)
{
    snprintf(out, n, "%s.%s-XXXXXX", path, tag);
    int fd = mkstemp(out);
    if (fd < 0) {
        app_fail("cannot create a file beside %s: %s", path, strerror(errno));
        return -1;
    }
    fchmod(fd, 0600);
    close(fd);
    return 0;
}

static int backup__write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Size and SHA-256 (hex) of a file. */
static int backup__hash_file(const char *path, int64_t *size, char hex[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536];
    ssize_t got;
    *size = 0;
    while ((got = read(fd, buf, sizeof(buf))) > 0 || (got < 0 && errno == EINTR)) {
        if (got < 0)
            continue;
        crypto_hash_sha256_update(&st, buf, (size_t)got);
        *size += got;
    }
    close(fd);
    if (got < 0)
        return -1;
    unsigned char mac[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, mac);
    sodium_bin2hex(hex, 65, mac, sizeof(mac));
    return 0;
}

/* Writes magic, manifest and payload into a temporary beside dest, syncs
 * it and renames it over dest. */
static int backup__write_file(const char *dest, const backup__manifest *m, const char *payload)
{
    json_t *j = json_pack(
        "{s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:I, s:s}", "engine", m->engine, "schema_version",
        m->schema_version, "created_at", m->created_at, "pstudio_version", m->pstudio_version,
        "key_version", m->key_version, "key_check", m->key_check, "tool_version", m->tool_version,
        "payload_bytes", (json_int_t)m->payload_bytes, "payload_sha256", m->payload_sha256);
    char *line = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (line == NULL) {
        app_fail("admin backup: cannot write the manifest");
        return 1;
    }
    char tmp[4200];
    int rc = 1;
    int in = -1, out = -1;
    if (backup__temp_beside(dest, "tmp", tmp, sizeof(tmp)) != 0) {
        free(line);
        return 1;
    }
    out = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
    in = open(payload, O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || backup__write_all(out, BACKUP__MAGIC, strlen(BACKUP__MAGIC)) != 0 ||
        backup__write_all(out, line, strlen(line)) != 0 || backup__write_all(out, "\n", 1) != 0)
        goto done;
    char buf[65536];
    ssize_t got;
    while ((got = read(in, buf, sizeof(buf))) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || backup__write_all(out, buf, (size_t)got) != 0)
            goto done;
    }
    if (fsync(out) != 0 || close(out) != 0) {
        out = -1;
        goto done;
    }
    out = -1;
    if (rename(tmp, dest) != 0)
        goto done;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", dest);
    int dfd = open(dirname(dir), O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
done:
    if (rc != 0)
        app_fail("admin backup: cannot write %s: %s", dest, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc != 0)
        unlink(tmp);
    free(line);
    return rc;
}

/* Reads the magic line and the manifest; leaves fd at the payload's first
 * byte. 0, or EXIT_USAGE after saying what is wrong with the file. */
static int backup__read_manifest(int fd, const char *path, backup__manifest *m)
{
    char head[sizeof(BACKUP__MAGIC) - 1 + BACKUP__MANIFEST_MAX + 1];
    ssize_t got = pread(fd, head, sizeof(head) - 1, 0);
    if (got < 0) {
        app_fail("admin restore: cannot read %s: %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    head[got] = '\0';
    size_t magic = strlen(BACKUP__MAGIC);
    char *nl = (size_t)got > magic ? memchr(head + magic, '\n', (size_t)got - magic) : NULL;
    if ((size_t)got < magic || memcmp(head, BACKUP__MAGIC, magic) != 0 || nl == NULL) {
        app_fail("admin restore: %s is not a pstudio backup (it does not start with the "
                 "PSTUDIO-BACKUP 1 header and its manifest line)",
                 path);
        return EXIT_USAGE;
    }
    json_error_t je;
    json_t *j = json_loadb(head + magic, (size_t)(nl - head) - magic, JSON_REJECT_DUPLICATES, &je);
    const char *engine, *created, *version, *check, *tool, *sha;
    json_int_t bytes;
    if (j == NULL ||
        json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:I, s:s}",
                       "engine", &engine, "schema_version", &m->schema_version, "created_at",
                       &created, "pstudio_version", &version, "key_version", &m->key_version,
                       "key_check", &check, "tool_version", &tool, "payload_bytes", &bytes,
                       "payload_sha256", &sha) != 0 ||
        (strcmp(engine, "sqlite") != 0 && strcmp(engine, "postgres") != 0) ||
        m->schema_version < 1 || m->key_version < 0 || bytes < 1 || strlen(sha) != 64 ||
        strlen(check) > 64 || strlen(created) > TIME_STR_LEN || strlen(version) >= 32 ||
        strlen(tool) >= 32) {
        app_fail("admin restore: the manifest of %s is damaged: %s", path,
                 j == NULL    ? je.text
                 : je.text[0] ? je.text
                              : "a value is out of range");
        json_decref(j);
        return EXIT_USAGE;
    }
    snprintf(m->engine, sizeof(m->engine), "%s", engine);
    snprintf(m->created_at, sizeof(m->created_at), "%s", created);
    snprintf(m->pstudio_version, sizeof(m->pstudio_version), "%s", version);
    snprintf(m->key_check, sizeof(m->key_check), "%s", check);
    snprintf(m->tool_version, sizeof(m->tool_version), "%s", tool);
    snprintf(m->payload_sha256, sizeof(m->payload_sha256), "%s", sha);
    m->payload_bytes = bytes;
    json_decref(j);
    if (lseek(fd, (off_t)((size_t)(nl - head) + 1), SEEK_SET) < 0) {
        app_fail("admin restore: cannot read %s: %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

/* Copies the payload from fd into dest, checking its size and SHA-256
 * against the manifest. 0, EXIT_USAGE for a payload that is not the one
 * the manifest describes, 1 for an I/O failure. dest is removed on failure. */
static int backup__extract(int fd, const char *path, const backup__manifest *m, const char *dest)
{
    int out = open(dest, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (out < 0) {
        app_fail("admin restore: cannot write %s: %s", dest, strerror(errno));
        return 1;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536];
    int64_t total = 0;
    ssize_t got;
    int rc = 0;
    while ((got = read(fd, buf, sizeof(buf))) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || backup__write_all(out, buf, (size_t)got) != 0) {
            app_fail("admin restore: cannot copy %s to %s: %s", path, dest, strerror(errno));
            rc = 1;
            break;
        }
        crypto_hash_sha256_update(&st, buf, (size_t)got);
        total += got;
    }
    if (rc == 0 && (fsync(out) != 0)) {
        app_fail("admin restore: cannot write %s: %s", dest, strerror(errno));
        rc = 1;
    }
    close(out);
    if (rc == 0) {
        unsigned char mac[crypto_hash_sha256_BYTES];
        char hex[65];
        crypto_hash_sha256_final(&st, mac);
        sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
        if (total != m->payload_bytes || strcmp(hex, m->payload_sha256) != 0) {
            app_fail("admin restore: %s is %s: its database part is %lld bytes with another "
                     "checksum than its manifest says (%lld bytes); nothing was changed",
                     path, total < m->payload_bytes ? "truncated" : "damaged", (long long)total,
                     (long long)m->payload_bytes);
            rc = EXIT_USAGE;
        }
    }
    if (rc != 0)
        unlink(dest);
    return rc;
}

/* ---- backup ------------------------------------------------------------- */

/* Schema version and token key check value of the live database, into m. */
static int backup__describe(const config *c, backup__manifest *m)
{
    db_error de;
    db *d = db_open(c->database_url, 1, &de);
    if (d == NULL) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        return EXIT_USAGE;
    }
    int rc = 0;
    int latest = migrate_latest(db_engine_of(d));
    if (migrate_current(d, &m->schema_version, &de) != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        rc = EXIT_USAGE;
    } else if (m->schema_version == 0) {
        app_fail("admin backup: the database PSTUDIO_DATABASE_URL names is empty (no schema): "
                 "nothing to back up");
        rc = EXIT_USAGE;
    } else {
        db_conn *conn = db_acquire(d);
        error e;
        /* An older schema may lack token_keys; at the current one a failure
         * is real. */
        if (token_key_store_current(conn, &m->key_version, m->key_check, &e) != 0) {
            m->key_version = 0;
            m->key_check[0] = '\0';
            if (m->schema_version >= latest) {
                app_fail("admin backup: cannot read the token key's check value: %s", e.message);
                rc = 1;
            }
        }
        db_release(conn);
    }
    snprintf(m->engine, sizeof(m->engine), "%s", db_engine_name(db_engine_of(d)));
    db_close(d);
    return rc;
}

static int backup__pg_versions(const config *c, const db_pg_tools *t, backup__manifest *m)
{
    db_error de;
    int tool_major, server_major;
    if (db_backup_pg_tool_version(t, "pg_dump", &tool_major, m->tool_version,
                                  sizeof(m->tool_version), &de) != 0) {
        app_fail("PSTUDIO_PG_BIN_DIR: %s", de.message);
        return EXIT_USAGE;
    }
    if (db_backup_pg_server_major(c->database_url, &server_major, &de) != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        return EXIT_USAGE;
    }
    if (tool_major < server_major) {
        app_fail("PSTUDIO_PG_BIN_DIR: pg_dump %s is older than the PostgreSQL %d server and "
                 "cannot dump it; install the client programs of version %d or later and point "
                 "PSTUDIO_PG_BIN_DIR at them (e.g. /usr/lib/postgresql/%d/bin)",
                 m->tool_version, server_major, server_major, server_major);
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_admin_backup(config *c, int argi)
{
    const char *to = NULL;
    int rc = backup__args(c, argi, "backup", "--to", &to, NULL);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    backup__manifest m = {0};
    db_pg_tools tools = {.bin_dir = c->pg_bin_dir};
    bool sqlite = backup__is_sqlite(c);
    if (sqlite && access(db_backup_sqlite_path(c->database_url), F_OK) != 0) {
        app_fail("PSTUDIO_DATABASE_URL: there is no database at %s: nothing to back up",
                 db_backup_sqlite_path(c->database_url));
        return EXIT_USAGE;
    }
    if (!sqlite && (rc = backup__pg_versions(c, &tools, &m)) != 0)
        return rc;
    if ((rc = backup__describe(c, &m)) != 0)
        return rc;
    time_format(time_now_usec(), m.created_at);
    snprintf(m.pstudio_version, sizeof(m.pstudio_version), "%s", PSTUDIO_VERSION);

    char payload[4200];
    if (backup__temp_beside(to, "part", payload, sizeof(payload)) != 0)
        return 1;
    db_error de;
    int copied = sqlite ? db_backup_sqlite_copy(c->database_url, payload, &de)
                        : db_backup_pg_dump(&tools, c->database_url, payload, &de);
    /* The SQLite copy says exactly which schema it holds. */
    if (copied == 0 && sqlite)
        copied = db_backup_sqlite_verify(payload, &m.schema_version, &de);
    if (copied != 0) {
        app_fail("admin backup: %s", de.message);
        unlink(payload);
        return 1;
    }
    if (backup__hash_file(payload, &m.payload_bytes, m.payload_sha256) != 0) {
        app_fail("admin backup: cannot read %s: %s", payload, strerror(errno));
        unlink(payload);
        return 1;
    }
    rc = backup__write_file(to, &m, payload);
    unlink(payload);
    if (rc != 0)
        return rc;
    printf("backed up the %s database at schema version %d to %s (%lld bytes)\n", m.engine,
           m.schema_version, to, (long long)m.payload_bytes);
    return 0;
}

/* ---- restore ------------------------------------------------------------ */

static int backup__restore_sqlite(const config *c, int fd, const char *from,
                                  const backup__manifest *m, bool clean)
{
    const char *path = db_backup_sqlite_path(c->database_url);
    if (app_prepare_data_dir(c->data_dir) != 0)
        return EXIT_USAGE;
    db_error de;
    int lock = -1;
    /* The lock needs the file; one made only for it goes again on failure,
     * so a refused restore leaves the data directory as it found it. */
    bool existed = access(path, F_OK) == 0;
    if (db_backup_sqlite_hold(c->database_url, true, &lock, &de) != 0) {
        app_fail("admin restore: %s", de.message);
        return EXIT_USAGE;
    }
    long tables = 0;
    int rc = 0;
    char copy[4200] = "";
    if (db_backup_sqlite_tables(c->database_url, &tables, &de) != 0) {
        app_fail("admin restore: %s", de.message);
        rc = 1;
    } else if (tables > 0 && !clean) {
        app_fail("admin restore: the database %s already holds %ld tables; give --clean to "
                 "replace it (it is kept as %s.pre-restore)",
                 path, tables, path);
        rc = EXIT_USAGE;
    } else if (backup__temp_beside(path, "restore", copy, sizeof(copy)) != 0) {
        rc = 1;
        copy[0] = '\0';
    } else if ((rc = backup__extract(fd, from, m, copy)) != 0) {
        copy[0] = '\0';
    } else {
        int version = 0;
        if (db_backup_sqlite_verify(copy, &version, &de) != 0) {
            app_fail("admin restore: the database in %s is not sound: %s; nothing was changed",
                     from, de.message);
            rc = EXIT_USAGE;
        } else if (version != m->schema_version) {
            app_fail("admin restore: the database in %s is at schema version %d, not %d as its "
                     "manifest says; nothing was changed",
                     from, version, m->schema_version);
            rc = EXIT_USAGE;
        } else if (db_backup_sqlite_replace(c->database_url, copy, &de) != 0) {
            app_fail("admin restore: %s", de.message);
            rc = 1;
        } else {
            copy[0] = '\0'; /* it is the database now */
        }
    }
    if (copy[0] != '\0')
        unlink(copy);
    if (rc != 0 && !existed)
        unlink(path);
    close(lock);
    return rc;
}

static int backup__restore_pg(const config *c, int fd, const char *from, const backup__manifest *m,
                              bool clean)
{
    db_pg_tools tools = {.bin_dir = c->pg_bin_dir};
    db_error de;
    int major;
    char text[32];
    if (db_backup_pg_tool_version(&tools, "pg_restore", &major, text, sizeof(text), &de) != 0) {
        app_fail("PSTUDIO_PG_BIN_DIR: %s", de.message);
        return EXIT_USAGE;
    }
    if (major < atoi(m->tool_version)) {
        app_fail("PSTUDIO_PG_BIN_DIR: pg_restore %s cannot read an archive of pg_dump %s; "
                 "point PSTUDIO_PG_BIN_DIR at the client programs of version %d or later",
                 text, m->tool_version, atoi(m->tool_version));
        return EXIT_USAGE;
    }
    /* The file first: a damaged one is refused whatever the target. */
    char base[4100], archive[4200];
    snprintf(base, sizeof(base), "%s/.restore", c->data_dir);
    if (app_prepare_data_dir(c->data_dir) != 0)
        return EXIT_USAGE;
    if (backup__temp_beside(base, "archive", archive, sizeof(archive)) != 0)
        return 1;
    int rc = backup__extract(fd, from, m, archive);
    if (rc != 0)
        return rc;
    long relations = 0, others = 0;
    if (db_backup_pg_check_archive(&tools, archive, &de) != 0) {
        app_fail("admin restore: the database part of %s: %s; nothing was changed", from,
                 de.message);
        rc = EXIT_USAGE;
    } else if (db_backup_pg_target(c->database_url, &relations, &others, &de) != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        rc = de.fault == DB_FAULT_CONNECTION ? EXIT_USAGE : 1;
    } else if (others > 0) {
        app_fail("admin restore: %ld pstudio connection(s) to the target database are open; stop "
                 "every 'pstudio serve' and 'pstudio worker' using it first",
                 others);
        rc = EXIT_USAGE;
    } else if (relations > 0 && !clean) {
        app_fail("admin restore: the target database already holds %ld tables, views or "
                 "sequences; restore into an empty database, or give --clean to drop the "
                 "schema public first",
                 relations);
        rc = EXIT_USAGE;
    } else if (clean && relations > 0 && db_backup_pg_clear(c->database_url, &de) != 0) {
        app_fail("admin restore: %s", de.message);
        rc = 1;
    } else if (db_backup_pg_restore(&tools, c->database_url, archive, &de) != 0) {
        app_fail("admin restore: %s; pg_restore ran in one transaction, so it left nothing "
                 "behind%s",
                 de.message,
                 clean && relations > 0 ? " (but --clean had emptied the database)" : "");
        rc = 1;
    }
    unlink(archive);
    return rc;
}

int cmd_admin_restore(config *c, int argi)
{
    const char *from = NULL;
    bool clean = false;
    int rc = backup__args(c, argi, "restore", "--from", &from, &clean);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    int fd = open(from, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        app_fail("admin restore: cannot open %s: %s", from, strerror(errno));
        return EXIT_USAGE;
    }
    backup__manifest m = {0};
    if ((rc = backup__read_manifest(fd, from, &m)) != 0) {
        close(fd);
        return rc;
    }
    bool sqlite = backup__is_sqlite(c);
    db_engine engine = sqlite ? DB_ENGINE_SQLITE : DB_ENGINE_POSTGRES;
    const char *mine = db_engine_name(engine);
    if (strcmp(m.engine, mine) != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s is a backup of a %s database and this configuration "
                 "names a %s one; restore it into a %s database (nothing was changed)",
                 from, m.engine, mine, m.engine);
        close(fd);
        return EXIT_USAGE;
    }
    if (m.schema_version > migrate_latest(engine)) {
        app_fail("admin restore: %s holds schema version %d but this pstudio binary only knows up "
                 "to version %d; restore it with a newer pstudio (nothing was changed)",
                 from, m.schema_version, migrate_latest(engine));
        close(fd);
        return EXIT_USAGE;
    }
    if (m.key_version > 0) {
        services s;
        app_services_from_config(c, &s);
        error e;
        if (token_keyring_matches(&s, m.key_version, m.key_check, &e) != 0) {
            app_fail("%s: %s (nothing was changed)", e.field[0] ? e.field : "PSTUDIO_SECRET_KEY",
                     e.message);
            close(fd);
            return EXIT_USAGE;
        }
    }
    rc = sqlite ? backup__restore_sqlite(c, fd, from, &m, clean)
                : backup__restore_pg(c, fd, from, &m, clean);
    close(fd);
    if (rc != 0)
        return rc;
    /* An older backup is brought to this binary's schema like any database. */
    int status;
    db *d = app_open_db(c, 1, true, &status);
    if (d == NULL)
        return status == 0 ? 1 : status;
    db_close(d);
    printf("restored the %s backup of %s (schema version %d, made by pstudio %s); the database "
           "is at schema version %d\n",
           m.engine, m.created_at, m.schema_version, m.pstudio_version, migrate_latest(engine));
    return 0;
}
