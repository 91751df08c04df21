#include "app/app.h"

#include "db/migrate.h"

#include <stdio.h>
#include <string.h>

int cmd_migrate(config *c)
{
    for (int i = 0; i < c->argc; i++) {
        if (strcmp(c->argv[i], "--help") == 0) {
            printf("Usage: pstudio migrate [settings]\n\n"
                   "Brings the database named by PSTUDIO_DATABASE_URL to this binary's schema\n"
                   "version. Safe to run again and from several processes at once. A database\n"
                   "whose schema is newer than this binary is refused and left untouched.\n\n");
            config_print_help(stdout);
            return 0;
        }
        app_fail("migrate: unexpected argument '%s'", c->argv[i]);
        return EXIT_USAGE;
    }
    int status;
    db *d = app_open_db(c, 1, true, &status);
    if (d == NULL)
        return status;
    int version = 0;
    db_error de;
    if (migrate_current(d, &version, &de) != 0) {
        app_fail("PSTUDIO_DATABASE_URL: %s", de.message);
        db_close(d);
        return 1;
    }
    printf("database schema at version %d (%s)\n", version, db_engine_name(db_engine_of(d)));
    db_close(d);
    return 0;
}
