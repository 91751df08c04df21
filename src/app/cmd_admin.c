#include "app/app.h"

#include "base/text.h"
#include "domain/plan_store.h"
#include "domain/user_store.h"
#include "services/audit.h"
#include "services/google_service.h"
#include "services/password.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char cmd_admin__usage[] =
    "Usage: pstudio admin user create --email EMAIL [--name NAME] [--plan CODE] [--admin]\n"
    "       pstudio admin rotate-key\n"
    "       pstudio admin backup --to FILE\n"
    "       pstudio admin restore --from FILE [--clean]\n"
    "\n"
    "user create: creates a user. The password is read from standard input (one\n"
    "line), never from the command line: echo \"$PASSWORD\" | pstudio admin user create --email …\n"
    "On a terminal it is prompted for without echo.\n"
    "\n"
    "rotate-key: adds a new version of the key that encrypts the stored Google\n"
    "tokens and re-encrypts every account's tokens under it, one account at a\n"
    "time, while servers keep running. The master key (PSTUDIO_SECRET_KEY or\n"
    "<data_dir>/secret.key) stays the same. Exits 1 when some account's tokens\n"
    "could not be decrypted (they are listed and left as they were).\n"
    "\n";

static void cmd_admin__help(void)
{
    fputs(cmd_admin__usage, stdout);
    cmd_backup_usage(stdout);
}

/* Reads one line from stdin, prompting without echo on a terminal. */
static int cmd_admin__read_password(char *out, size_t n)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fputs("Password: ", stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = fgets(out, (int)n, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (line == NULL)
        return -1;
    size_t len = strcspn(out, "\r\n");
    if (out[len] == '\0' && len == n - 1)
        return -2; /* longer than the buffer */
    out[len] = '\0';
    return 0;
}

/* The plan, the user and its event, one transaction: the command line is
 * the system acting, on the new user's trail. */
typedef struct cmd_admin__create_tx {
    user *u;
    const char *plan_code; /* NULL: the lowest plan */
    const char *hash;
} cmd_admin__create_tx;

static int cmd_admin__create_body(db_conn *conn, void *arg, error *err)
{
    cmd_admin__create_tx *tx = arg;
    user *u = tx->u;
    int rc = tx->plan_code ? plan_store_id_by_code(conn, tx->plan_code, u->plan_id, err)
                           : plan_store_lowest(conn, u->plan_id, err);
    if (rc != 0 || user_store_insert(conn, u, tx->hash, err) != 0)
        return -1;
    return audit_record(conn,
                        &(audit_entry){.action = "admin.user_created",
                                       .subject = u->id,
                                       .object_type = "user",
                                       .object_id = u->id,
                                       .detail = json_pack("{s:s,s:o}", "role", u->role, "plan",
                                                           audit_text(tx->plan_code))},
                        err);
}

static int cmd_admin__user_create(config *c, int argi)
{
    const char *email = NULL, *name = NULL, *plan_code = NULL;
    bool admin = false;
    for (int i = argi; i < c->argc; i++) {
        const char *a = c->argv[i];
        const char **dst = strcmp(a, "--email") == 0  ? &email
                           : strcmp(a, "--name") == 0 ? &name
                           : strcmp(a, "--plan") == 0 ? &plan_code
                                                      : NULL;
        if (dst != NULL) {
            if (i + 1 >= c->argc) {
                app_fail("admin user create: %s needs a value", a);
                return EXIT_USAGE;
            }
            *dst = c->argv[++i];
        } else if (strcmp(a, "--admin") == 0) {
            admin = true;
        } else if (strcmp(a, "--help") == 0) {
            cmd_admin__help();
            return 0;
        } else if (strcmp(a, "--password") == 0 || strncmp(a, "--password=", 11) == 0) {
            app_fail("admin user create: passwords are read from standard input, never from the "
                     "command line");
            return EXIT_USAGE;
        } else {
            app_fail("admin user create: unexpected argument '%s'", a);
            return EXIT_USAGE;
        }
    }
    /* Arguments are raw bytes: only UTF-8 can be stored and shown again. */
    user u = {.email = email, .name = name ? name : email, .role = admin ? "admin" : "user"};
    error err;
    if (email == NULL || !utf8_valid(email, strlen(email)) || strchr(email, '@') == NULL ||
        row_check(&user_row, &u, "email", &err) != 0) {
        app_fail("admin user create: --email must be an email address");
        return EXIT_USAGE;
    }
    if (!utf8_valid(u.name, strlen(u.name)) || row_check(&user_row, &u, "name", &err) != 0) {
        app_fail("admin user create: --name must be UTF-8 text of at most %d characters",
                 USER_NAME_MAX);
        return EXIT_USAGE;
    }

    char pw[PASSWORD_MAX_LEN + 2];
    int r = cmd_admin__read_password(pw, sizeof(pw));
    if (r != 0 || password_validate(pw, &err) != 0) {
        app_fail("admin user create: %s", r == -1   ? "no password on standard input"
                                          : r == -2 ? "the password is too long"
                                                    : err.message);
        sodium_memzero(pw, sizeof(pw));
        return EXIT_USAGE;
    }
    char hash[PASSWORD_HASH_LEN];
    int hrc = password_hash(pw, hash, &err);
    sodium_memzero(pw, sizeof(pw));
    if (hrc != 0) {
        app_fail("admin user create: %s", err.message);
        return 1;
    }

    int status;
    db *d = app_open_db(c, 1, false, &status);
    if (d == NULL)
        return status;
    db_conn *conn = db_acquire(d);
    cmd_admin__create_tx tx = {&u, plan_code, hash};
    int rc = db_tx(conn, cmd_admin__create_body, &tx, &err);
    db_release(conn);
    db_close(d);
    if (rc != 0) {
        app_fail("admin user create: %s",
                 err.kind == ERR_CONFLICT ? "a user with that email already exists" : err.message);
        return err.kind == ERR_CONFLICT || err.kind == ERR_NOT_FOUND ? EXIT_USAGE : 1;
    }
    printf("created %s %s (%s)\n", u.role, u.email, u.id);
    return 0;
}

static int cmd_admin__rotate_key(config *c, int argi)
{
    for (int i = argi; i < c->argc; i++) {
        if (strcmp(c->argv[i], "--help") == 0) {
            cmd_admin__help();
            return 0;
        }
        app_fail("admin rotate-key: unexpected argument '%s'", c->argv[i]);
        return EXIT_USAGE;
    }
    int status;
    db *d = app_open_db(c, 1, false, &status);
    if (d == NULL)
        return status;
    services s;
    app_services_from_config(c, &s);
    s.db = d;
    /* The same start-up check as serve and worker: a wrong key stops here,
     * naming the setting, before any account is touched. */
    if ((status = app_check_token_key(&s)) != 0) {
        db_close(d);
        return status;
    }
    db_conn *conn = db_acquire(d);
    google_rotation rot;
    error err;
    int rc = google_service_rotate_key(&s, conn, &rot, &err);
    db_release(conn);
    db_close(d);
    if (rc != 0) {
        app_fail("admin rotate-key: %s", err.message);
        return err.kind == ERR_CONFIG ? EXIT_USAGE : 1;
    }
    printf("token key version %d -> %d: %zu account(s) re-encrypted\n", rot.old_version,
           rot.new_version, rot.resealed);
    if (rot.failed == 0)
        return 0;
    app_fail("admin rotate-key: %zu account(s) could not be decrypted and were left under their "
             "old key version; they must be connected again. First ones:",
             rot.failed);
    for (size_t i = 0; i < rot.failed && i < sizeof(rot.failed_ids) / sizeof(rot.failed_ids[0]);
         i++)
        fprintf(stderr, "  %s\n", rot.failed_ids[i]);
    return 1;
}

int cmd_admin(config *c)
{
    if (c->argc >= 2 && strcmp(c->argv[0], "user") == 0 && strcmp(c->argv[1], "create") == 0)
        return cmd_admin__user_create(c, 2);
    if (c->argc >= 1 && strcmp(c->argv[0], "rotate-key") == 0)
        return cmd_admin__rotate_key(c, 1);
    if (c->argc >= 1 && strcmp(c->argv[0], "backup") == 0)
        return cmd_admin_backup(c, 1);
    if (c->argc >= 1 && strcmp(c->argv[0], "restore") == 0)
        return cmd_admin_restore(c, 1);
    if (c->argc >= 1 && strcmp(c->argv[c->argc - 1], "--help") == 0) {
        cmd_admin__help();
        return 0;
    }
    app_fail("admin: unknown or missing subcommand; try 'pstudio admin --help'");
    return EXIT_USAGE;
}
