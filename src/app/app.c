#include "app/app.h"

#include "base/log.h"
#include "db/migrate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void app_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pstudio: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Creates the data directory when missing and proves it writable by creating
 * and removing a file, so a read-only mount fails at start with a message
 * that names the setting, not later inside SQLite. */
static int app__prepare_data_dir(const char *dir)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        app_fail("PSTUDIO_DATA_DIR: cannot create the data directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char probe[4096];
    snprintf(probe, sizeof(probe), "%s/.pstudio-write-test-%ld", dir, (long)getpid());
    FILE *f = fopen(probe, "w");
    if (f == NULL) {
        app_fail("PSTUDIO_DATA_DIR: the data directory %s is not writable: %s", dir,
                 strerror(errno));
        return -1;
    }
    fclose(f);
    unlink(probe);
    return 0;
}

db *app_open_db(const config *c, int pool_size, bool migrate, int *status)
{
    *status = EXIT_USAGE;
    if (app__prepare_data_dir(c->data_dir) != 0)
        return NULL;
    db_error de;
    db *d = db_open(c->database_url, pool_size, &de);
    if (d == NULL) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        return NULL;
    }
    int rc;
    if (migrate) {
        int applied = 0;
        rc = migrate_apply(d, &applied, &de);
        if (rc == 0 && applied > 0)
            log_info("database schema brought to version %d (%d step%s)",
                     migrate_latest(db_engine_of(d)), applied, applied == 1 ? "" : "s");
    } else {
        rc = migrate_check_current(d, &de);
    }
    if (rc != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        /* A schema this binary cannot use, or a server it cannot reach, is a
         * configuration problem; a migration that fails part-way is a bug. */
        *status = de.fault == DB_FAULT_SCHEMA || de.fault == DB_FAULT_CONNECTION ? EXIT_USAGE : 1;
        db_close(d);
        return NULL;
    }
    *status = 0;
    return d;
}
