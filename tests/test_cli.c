/*
 * The pstudio binary as an operator meets it: --help and --version, the
 * exit status 2 and a message naming the setting for each kind of bad
 * configuration, migrate, admin user create, and serve answering on a real
 * socket until SIGTERM. Run once per engine.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct cli {
    testdb t;
    char data_dir[256];
    char env_url[1100];
    char env_dir[300];
} cli;

static int setup(void **state)
{
    cli *c = test_calloc(1, sizeof(*c));
    testdb_create_empty(&c->t);
    test_tmpdir(c->data_dir, sizeof(c->data_dir));
    snprintf(c->env_url, sizeof(c->env_url), "PSTUDIO_DATABASE_URL=%s", c->t.url);
    snprintf(c->env_dir, sizeof(c->env_dir), "PSTUDIO_DATA_DIR=%s", c->data_dir);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cli *c = *state;
    testdb_destroy(&c->t);
    test_free(c);
    return 0;
}

static char out[65536];

#define RUN(env, input, ...)                                                                       \
    test_run((const char *const[]){PSTUDIO_BIN, __VA_ARGS__, NULL}, env, input, out, sizeof(out))

static void expect_in_output(const char *needle)
{
    if (strstr(out, needle) == NULL)
        fail_msg("expected '%s' in output:\n%s", needle, out);
}

static void test_version_and_help_exit_zero(void **state)
{
    assert_int_equal(RUN(NULL, NULL, "--version"), 0);
    expect_in_output("pstudio 0.");
    assert_int_equal(RUN(NULL, NULL, "--help"), 0);
    expect_in_output("serve");
    expect_in_output("PSTUDIO_DATABASE_URL");
    assert_int_equal(RUN(NULL, NULL, "serve", "--help"), 0);
    expect_in_output("SIGTERM");
    assert_int_equal(RUN(NULL, NULL, "migrate", "--help"), 0);
    expect_in_output("newer");
    assert_int_equal(RUN(NULL, NULL, "admin", "user", "create", "--help"), 0);
    expect_in_output("standard input");
}

static void test_an_unknown_command_is_a_usage_error(void **state)
{
    assert_int_equal(RUN(NULL, NULL, "frobnicate"), 2);
    expect_in_output("unknown command 'frobnicate'");
    assert_int_equal(RUN(NULL, NULL, "serve", "--no-such-flag"), 2);
    expect_in_output("--no-such-flag");
}

static void test_a_malformed_database_url_exits_2_naming_the_setting(void **state)
{
    const char *env[] = {"PSTUDIO_DATABASE_URL=mysql://db/x", NULL};
    assert_int_equal(RUN(env, NULL, "migrate"), 2);
    expect_in_output("PSTUDIO_DATABASE_URL");
    expect_in_output("unsupported");
}

static void test_an_unreachable_postgres_exits_2_naming_the_setting(void **state)
{
    cli *c = *state;
    const char *env[] = {"PSTUDIO_DATABASE_URL=postgres://postgres@127.0.0.1:1/x", c->env_dir,
                         NULL};
    assert_int_equal(RUN(env, NULL, "migrate"), 2);
    expect_in_output("PSTUDIO_DATABASE_URL");
    expect_in_output("cannot connect to PostgreSQL");
}

static void test_an_unwritable_data_directory_exits_2_naming_the_setting(void **state)
{
    cli *c = *state;
    /* A path below a regular file can be created by nobody, root included. */
    char file[300], env_dir[400];
    snprintf(file, sizeof(file), "%s/not-a-directory", c->data_dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(env_dir, sizeof(env_dir), "PSTUDIO_DATA_DIR=%s/data", file);
    const char *env[] = {env_dir, NULL};
    assert_int_equal(RUN(env, NULL, "migrate"), 2);
    expect_in_output("PSTUDIO_DATA_DIR");
    expect_in_output("not-a-directory");
}

static void test_a_port_in_use_exits_2_naming_the_setting(void **state)
{
    cli *c = *state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    char port[32];
    snprintf(port, sizeof(port), "PSTUDIO_PORT=%d", ntohs(sa.sin_port));
    const char *env[] = {c->env_url, c->env_dir, port, NULL};
    assert_int_equal(RUN(env, NULL, "serve"), 2);
    expect_in_output("PSTUDIO_PORT");
    close(fd);
}

/* serve or worker under timeout(1): a binary that started despite a bad
 * setting would otherwise run until the suite's own timeout. */
static int run_guarded(const char *const env[], const char *command)
{
    const char *argv[] = {"/usr/bin/timeout", "60", PSTUDIO_BIN, command, NULL};
    return test_run(argv, env, NULL, out, sizeof(out));
}

static void write_key_file(const char *path, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n", f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_a_key_file_other_users_can_read_exits_2_naming_the_file_and_the_fix(void **state)
{
    cli *c = *state;
    char key[400];
    snprintf(key, sizeof(key), "%s/secret.key", c->data_dir);
    write_key_file(key, 0644);
    const char *env[] = {c->env_url, c->env_dir, "PSTUDIO_PORT=0", NULL};
    assert_int_equal(run_guarded(env, "serve"), 2);
    expect_in_output("PSTUDIO_SECRET_KEY");
    expect_in_output(key);
    expect_in_output("chmod 600");
    assert_null(strstr(out, "listening"));

    assert_int_equal(RUN(env, NULL, "migrate"), 0);
    assert_int_equal(run_guarded(env, "worker"), 2);
    expect_in_output("chmod 600");

    /* A key that is not base64 of 32 bytes, from the environment. */
    chmod(key, 0600);
    const char *bad[] = {c->env_url, c->env_dir, "PSTUDIO_PORT=0", "PSTUDIO_SECRET_KEY=short",
                         NULL};
    assert_int_equal(run_guarded(bad, "serve"), 2);
    expect_in_output("PSTUDIO_SECRET_KEY");
    expect_in_output("openssl rand -base64 32");
}

static void test_a_key_other_than_the_one_the_tokens_were_sealed_with_exits_2(void **state)
{
    cli *c = *state;
    const char *first[] = {c->env_url, c->env_dir,
                           "PSTUDIO_SECRET_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", NULL};
    assert_int_equal(RUN(first, NULL, "migrate"), 0);
    assert_int_equal(RUN(first, NULL, "admin", "rotate-key"), 0);
    /* A second node that was not given the key would make one of its own. */
    const char *env[] = {c->env_url, c->env_dir, "PSTUDIO_PORT=0", NULL};
    assert_int_equal(run_guarded(env, "serve"), 2);
    expect_in_output("PSTUDIO_SECRET_KEY");
    expect_in_output("not the one this database's Google tokens are sealed with");
    assert_int_equal(run_guarded(env, "worker"), 2);
    expect_in_output("restore the original key");
}

static void test_migrate_is_idempotent(void **state)
{
    cli *c = *state;
    const char *env[] = {c->env_url, c->env_dir, NULL};
    assert_int_equal(RUN(env, NULL, "migrate"), 0);
    expect_in_output("schema at version");
    assert_int_equal(RUN(env, NULL, "migrate"), 0);
    expect_in_output("schema at version");
    assert_null(strstr(out, "applied migration"));
}

static void test_a_schema_newer_than_the_binary_is_refused_and_untouched(void **state)
{
    cli *c = *state;
    const char *env[] = {c->env_url, c->env_dir, NULL};
    assert_int_equal(RUN(env, NULL, "migrate"), 0);
    db_error de;
    c->t.db = db_open(c->t.url, 1, &de);
    assert_non_null(c->t.db);
    testdb_exec(&c->t, "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                       "(9999, 'future', '2030-01-01T00:00:00Z')");
    int64_t plans = testdb_scalar(&c->t, "SELECT COUNT(*) FROM plans");
    assert_int_equal(RUN(env, NULL, "migrate"), 2);
    expect_in_output("9999");
    expect_in_output("PSTUDIO_DATABASE_URL");
    assert_int_equal(RUN(env, NULL, "serve"), 2);
    expect_in_output("untouched");
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM plans"), plans);
    assert_int_equal(testdb_scalar(&c->t, "SELECT MAX(version) FROM schema_migrations"), 9999);
}

static void test_admin_user_create_reads_the_password_from_stdin_and_hashes_it(void **state)
{
    cli *c = *state;
    const char *env[] = {c->env_url, c->env_dir, NULL};
    assert_int_equal(RUN(env, NULL, "migrate"), 0);
    assert_int_equal(RUN(env, "correct horse battery\n", "admin", "user", "create", "--email",
                         "Root@Example.com", "--name", "Root", "--admin"),
                     0);
    expect_in_output("created admin Root@Example.com");
    db_error de;
    c->t.db = db_open(c->t.url, 1, &de);
    assert_non_null(c->t.db);
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND "
                                          "password_hash LIKE '$argon2id$%'"),
                     1);
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM users WHERE password_hash LIKE "
                                          "'%horse%'"),
                     0);
    /* On the new user's trail, by the system, without the password (issue 17). */
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM audit_events e JOIN users u ON "
                                          "u.id = e.subject_user_id WHERE e.action = "
                                          "'admin.user_created' AND e.actor_kind = 'system' AND "
                                          "e.actor_user_id IS NULL AND e.client_ip IS NULL"),
                     1);
    /* The same address in another case is the same user. */
    assert_int_equal(
        RUN(env, "another password\n", "admin", "user", "create", "--email", "root@example.com"),
        2);
    expect_in_output("already exists");
    /* Passwords never go on the command line, and short ones are refused. */
    assert_int_equal(RUN(env, NULL, "admin", "user", "create", "--email", "x@example.com",
                         "--password", "hunter2hunter2"),
                     2);
    expect_in_output("standard input");
    assert_int_equal(RUN(env, "short\n", "admin", "user", "create", "--email", "y@example.com"), 2);
    expect_in_output("at least");
    assert_int_equal(RUN(env, "long enough pw\n", "admin", "user", "create", "--email",
                         "z@example.com", "--plan", "platinum"),
                     2);
    expect_in_output("no plan 'platinum'");
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM users"), 1);
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM audit_events"), 1);
}

/* The command line counts a name's limit in characters like the API: a name
 * of 200 four-byte characters is stored whole, one of 201 or one that is not
 * UTF-8 (arguments are raw bytes) is refused and writes nothing. */
static void test_admin_user_create_keeps_a_long_multibyte_name_whole(void **state)
{
    cli *c = *state;
    const char *env[] = {c->env_url, c->env_dir, NULL};
    assert_int_equal(RUN(env, NULL, "migrate"), 0);
    char *name = test_repeat("", test_utf8_units[2], 200);
    char *longer = test_repeat(name, test_utf8_units[2], 1);
    assert_int_equal(RUN(env, "correct horse battery\n", "admin", "user", "create", "--email",
                         "wide@example.com", "--name", name),
                     0);
    assert_int_equal(RUN(env, "correct horse battery\n", "admin", "user", "create", "--email",
                         "longer@example.com", "--name", longer),
                     2);
    expect_in_output("at most 200 characters");
    assert_int_equal(RUN(env, "correct horse battery\n", "admin", "user", "create", "--email",
                         "bytes@example.com", "--name", "caf\xe9"),
                     2);
    db_error de;
    c->t.db = db_open(c->t.url, 1, &de);
    assert_non_null(c->t.db);
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM users"), 1);
    if (testdb_execf(&c->t, &de, "DELETE FROM users WHERE name = $1", "s", name) != 0)
        fail_msg("delete: %s", de.message);
    assert_int_equal(testdb_scalar(&c->t, "SELECT COUNT(*) FROM users"), 0);
    free(longer);
    free(name);
}

/* Starts p, `pstudio serve` with the test's database and data directory
 * plus `extra` (NULL-terminated, may be NULL), and waits until it listens;
 * what it wrote up to its "listening" line is in `out`. */
static void serve_start(cli *c, const char *const extra[], test_proc *p)
{
    char dir[256], log[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/serve.log", dir);
    /* serve as an operator starts it: its own defaults but for the port. */
    const char *env[8] = {"PSTUDIO_WORKERS", "PSTUDIO_SHUTDOWN_TIMEOUT_MS"};
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        assert_true(i + 3 < sizeof(env) / sizeof(env[0]));
        env[i + 2] = extra[i];
    }
    test_proc_opts o = {.db_url = c->t.url, .data_dir = c->data_dir, .log = log, .env = env};
    test_proc_start(p, "serve", &o);
    test_proc_ready(p);
    char *text = test_proc_log(p);
    const char *eol = strchr(strstr(text, "listening"), '\n');
    snprintf(out, sizeof(out), "%.*s", (int)(eol - text + 1), text);
    free(text);
}

/* SIGTERMs a serve_start()ed server and checks it stopped cleanly: exit
 * status 0 after its "stopped" line. */
static void serve_stop(test_proc *p)
{
    assert_int_equal(test_proc_stop(p, SIGTERM, 30), 0);
    char *log = test_proc_log(p);
    assert_non_null(strstr(log, "\"msg\":\"stopped\""));
    free(log);
}

/* serve, for real: start the binary on a free port, fetch /healthz and
 * /readyz over loopback, then SIGTERM. */
static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    strncat(ud, p, size * n < 1000 ? size * n : 1000);
    return size * n;
}

static void test_serve_answers_on_loopback_and_stops_cleanly_on_sigterm(void **state)
{
    cli *c = *state;
    test_proc srv;
    serve_start(c, NULL, &srv);
    int port = srv.port;
    assert_true(port > 0);
    /* On PostgreSQL the clocks were compared: same machine, no warning. */
    if (strcmp(test_engine(), "postgres") == 0)
        expect_in_output("clock agrees with the database's");
    assert_null(strstr(out, "PSTUDIO_CLOCK_SKEW_WARN_MS"));
    /* The first start made the token key, readable by its owner only. */
    char key[400];
    struct stat st;
    snprintf(key, sizeof(key), "%s/secret.key", c->data_dir);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    char url[128], body[2048] = "";
    long status = 0;
    CURL *h = curl_easy_init();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(body, test_engine()));
    body[0] = '\0';
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/nope", port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 404);
    assert_non_null(strstr(body, "/problems/not-found"));
    curl_easy_cleanup(h);
    serve_stop(&srv);
}

#define KEY_A "PSTUDIO_SECRET_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define KEY_B "PSTUDIO_SECRET_KEY=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="

/* Issue 19: the first process on an empty database stores the key's check
 * value, so a node started later with another key is refused at once (exit
 * 2, naming the setting) even though no Google token exists yet to fail. */
static void test_a_restart_with_another_key_exits_2_before_any_token_exists(void **state)
{
    cli *c = *state;
    const char *a[] = {KEY_A, NULL};
    test_proc srv;
    serve_start(c, a, &srv);
    assert_true(srv.port > 0);
    serve_stop(&srv);

    const char *b[] = {c->env_url, c->env_dir, "PSTUDIO_PORT=0", KEY_B, NULL};
    assert_int_equal(run_guarded(b, "serve"), 2);
    expect_in_output("PSTUDIO_SECRET_KEY");
    expect_in_output("every serve, worker and admin process must be given the same key");
    assert_null(strstr(out, "listening"));
    assert_int_equal(run_guarded(b, "worker"), 2);
    expect_in_output("PSTUDIO_SECRET_KEY");
    assert_int_equal(RUN(b, NULL, "admin", "rotate-key"), 2);
    expect_in_output("PSTUDIO_SECRET_KEY");

    /* Rotation under the right key keeps the check right for both keys. */
    const char *env_a[] = {c->env_url, c->env_dir, KEY_A, NULL};
    assert_int_equal(RUN(env_a, NULL, "admin", "rotate-key"), 0);
    expect_in_output("token key version 1 -> 2");
    assert_int_equal(run_guarded(b, "serve"), 2);
    expect_in_output("key version 2");
    serve_start(c, a, &srv);
    assert_true(srv.port > 0);
    serve_stop(&srv);
}

/* Issue 19, time: a process whose clock is 30 s ahead of PostgreSQL's
 * (libfaketime, preloaded into the real binary) warns at start, naming the
 * setting, and still starts. SQLite has no other clock to compare. */
#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

static void test_a_clock_far_from_the_database_s_is_warned_about_at_start(void **state)
{
    cli *c = *state;
    if (access(FAKETIME_LIB, R_OK) != 0)
        fail_msg("%s is missing: scripts/install-deps.sh test installs faketime", FAKETIME_LIB);
    const char *ahead[] = {"LD_PRELOAD=" FAKETIME_LIB, "FAKETIME=+30s",
                           "FAKETIME_DONT_FAKE_MONOTONIC=1",
                           /* an ASan build wants its runtime first; this one is not */
                           "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0", NULL};
    test_proc srv;
    serve_start(c, ahead, &srv);
    assert_true(srv.port > 0);
    if (strcmp(test_engine(), "postgres") == 0) {
        expect_in_output("PSTUDIO_CLOCK_SKEW_WARN_MS=1000");
        expect_in_output("ahead of the database's");
        expect_in_output("\"clock_skew_ms\":-");
    } else {
        assert_null(strstr(out, "clock"));
    }
    serve_stop(&srv);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        T(test_version_and_help_exit_zero),
        T(test_an_unknown_command_is_a_usage_error),
        T(test_a_malformed_database_url_exits_2_naming_the_setting),
        T(test_an_unreachable_postgres_exits_2_naming_the_setting),
        T(test_an_unwritable_data_directory_exits_2_naming_the_setting),
        T(test_a_port_in_use_exits_2_naming_the_setting),
        T(test_a_key_file_other_users_can_read_exits_2_naming_the_file_and_the_fix),
        T(test_a_key_other_than_the_one_the_tokens_were_sealed_with_exits_2),
        T(test_migrate_is_idempotent),
        T(test_a_schema_newer_than_the_binary_is_refused_and_untouched),
        T(test_admin_user_create_reads_the_password_from_stdin_and_hashes_it),
        T(test_admin_user_create_keeps_a_long_multibyte_name_whole),
        T(test_serve_answers_on_loopback_and_stops_cleanly_on_sigterm),
        T(test_a_restart_with_another_key_exits_2_before_any_token_exists),
        T(test_a_clock_far_from_the_database_s_is_warned_about_at_start),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
