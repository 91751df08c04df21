/* Configuration: defaults, file, environment and flags, in that order of
 * strength, and a clear error naming the setting for every bad value. */
#include "testlib.h"

#include "app/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const all_env[] = {
    "PSTUDIO_CONFIG",
    "PSTUDIO_DATA_DIR",
    "PSTUDIO_DATABASE_URL",
    "PSTUDIO_BIND",
    "PSTUDIO_PORT",
    "PSTUDIO_HTTP_THREADS",
    "PSTUDIO_DB_POOL_SIZE",
    "PSTUDIO_MAX_BODY_BYTES",
    "PSTUDIO_SHUTDOWN_TIMEOUT_MS",
    "PSTUDIO_LOG_LEVEL",
    "PSTUDIO_AUTO_MIGRATE",
    "PSTUDIO_LLM_PROVIDER",
    "PSTUDIO_GEMINI_API_KEY",
    "PSTUDIO_GEMINI_API_KEY_FILE",
    "PSTUDIO_SECRET_KEY",
    "PSTUDIO_TTS_PROVIDER",
    "PSTUDIO_GOOGLE_TTS_API_KEY",
    "PSTUDIO_GOOGLE_TTS_API_KEY_FILE",
    "PSTUDIO_MEDIA_STORE",
    "PSTUDIO_S3_SERVE",
    "PSTUDIO_S3_SECRET_ACCESS_KEY",
    "PSTUDIO_S3_SECRET_ACCESS_KEY_FILE",
    "PSTUDIO_AUDIT_RETENTION_DAYS",
};

static int clean_env(void **state)
{
    for (size_t i = 0; i < sizeof(all_env) / sizeof(all_env[0]); i++)
        unsetenv(all_env[i]);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_defaults_apply_with_no_file_env_or_flags(void **state)
{
    config c;
    error e;
    char *argv[] = {NULL};
    assert_int_equal(config_load(&c, 0, argv, &e), 0);
    assert_int_equal(c.port, 8080);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.log_level, "info");
    assert_true(c.auto_migrate);
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_int_equal(c.audit_retention_days, 365);
    /* The default database is SQLite inside the data directory, as an absolute path. */
    assert_true(strncmp(c.database_url, "sqlite:///", 10) == 0);
    assert_non_null(strstr(c.database_url, "/data/pstudio.db"));
    config_free(&c);
}

static void test_flag_beats_environment_beats_file_beats_default(void **state)
{
    char dir[256], path[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/pstudio.conf", dir);
    write_file(path, "# comment\n"
                     "port = 7001\n"
                     "http_threads = 3\n"
                     "bind = 0.0.0.0\n"
                     "log_level = debug\n");
    setenv("PSTUDIO_CONFIG", path, 1);
    setenv("PSTUDIO_PORT", "7002", 1);
    setenv("PSTUDIO_HTTP_THREADS", "5", 1);
    char a0[] = "--port", a1[] = "7003", a2[] = "extra";
    char *argv[] = {a0, a1, a2, NULL};
    config c;
    error e;
    assert_int_equal(config_load(&c, 3, argv, &e), 0);
    assert_int_equal(c.port, 7003);         /* flag */
    assert_int_equal(c.http_threads, 5);    /* environment over file */
    assert_string_equal(c.bind, "0.0.0.0"); /* file over default */
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.db_pool_size, 8); /* default */
    /* Arguments that are not settings are left for the subcommand, in order. */
    assert_int_equal(c.argc, 1);
    assert_string_equal(c.argv[0], "extra");
    config_free(&c);
}

static void test_flag_accepts_the_equals_form(void **state)
{
    char a0[] = "--log-level=warn";
    char *argv[] = {a0, NULL};
    config c;
    error e;
    assert_int_equal(config_load(&c, 1, argv, &e), 0);
    assert_string_equal(c.log_level, "warn");
    config_free(&c);
}

static void expect_config_error(int argc, char **argv, const char *field, const char *needle)
{
    config c;
    error e;
    assert_int_equal(config_load(&c, argc, argv, &e), -1);
    assert_int_equal(e.kind, ERR_CONFIG);
    assert_string_equal(e.field, field);
    if (strstr(e.message, needle) == NULL)
        fail_msg("message '%s' lacks '%s'", e.message, needle);
    assert_non_null(strstr(e.message, field));
    config_free(&c);
}

static void test_bad_values_name_the_setting(void **state)
{
    char *none[] = {NULL};
    setenv("PSTUDIO_PORT", "70000", 1);
    expect_config_error(0, none, "PSTUDIO_PORT", "0 to 65535");
    setenv("PSTUDIO_PORT", "80x", 1);
    expect_config_error(0, none, "PSTUDIO_PORT", "80x");
    unsetenv("PSTUDIO_PORT");
    setenv("PSTUDIO_LOG_LEVEL", "loud", 1);
    expect_config_error(0, none, "PSTUDIO_LOG_LEVEL", "debug, info, warn or error");
    unsetenv("PSTUDIO_LOG_LEVEL");
    setenv("PSTUDIO_AUTO_MIGRATE", "perhaps", 1);
    expect_config_error(0, none, "PSTUDIO_AUTO_MIGRATE", "true or false");
    unsetenv("PSTUDIO_AUTO_MIGRATE");
    setenv("PSTUDIO_DATABASE_URL", "mysql://x", 1);
    expect_config_error(0, none, "PSTUDIO_DATABASE_URL", "unsupported");
    setenv("PSTUDIO_DATABASE_URL", "sqlite://relative.db", 1);
    expect_config_error(0, none, "PSTUDIO_DATABASE_URL", "absolute");
    unsetenv("PSTUDIO_DATABASE_URL");
    /* The audit trail's retention: whole days, at least one, at most a century. */
    const char *retention[] = {"0", "-5", "36501", "30d"};
    for (size_t i = 0; i < sizeof(retention) / sizeof(retention[0]); i++) {
        setenv("PSTUDIO_AUDIT_RETENTION_DAYS", retention[i], 1);
        expect_config_error(0, none, "PSTUDIO_AUDIT_RETENTION_DAYS", retention[i]);
    }
    unsetenv("PSTUDIO_AUDIT_RETENTION_DAYS");
    char a0[] = "--max-body-bytes", a1[] = "10";
    char *argv[] = {a0, a1, NULL};
    expect_config_error(2, argv, "PSTUDIO_MAX_BODY_BYTES", "--max-body-bytes");
    char b0[] = "--port";
    char *argv2[] = {b0, NULL};
    expect_config_error(1, argv2, "PSTUDIO_PORT", "needs a value");
}

/* The media store: local unless said, s3 with its settings; the secret key
 * has no flag and may come from a file. */
static void test_media_store_settings(void **state)
{
    char *none[] = {NULL};
    config c;
    error e;
    assert_int_equal(config_load(&c, 0, none, &e), 0);
    assert_string_equal(c.media_store, "local");
    assert_string_equal(c.s3_serve, "stream");
    assert_string_equal(c.s3_prefix, "media");
    assert_int_equal(c.s3_part_size_mb, 8);
    assert_null(c.s3_secret_access_key);
    config_free(&c);
    setenv("PSTUDIO_MEDIA_STORE", "nfs", 1);
    expect_config_error(0, none, "PSTUDIO_MEDIA_STORE", "it must be local or s3");
    setenv("PSTUDIO_MEDIA_STORE", "s", 1);
    expect_config_error(0, none, "PSTUDIO_MEDIA_STORE", "it must be local or s3");
    setenv("PSTUDIO_MEDIA_STORE", "s3", 1);
    setenv("PSTUDIO_S3_SERVE", "redirect", 1);
    expect_config_error(0, none, "PSTUDIO_S3_SERVE", "it must be stream or presigned");
    setenv("PSTUDIO_S3_SERVE", "presigned", 1);
    char dir[256], path[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/s3", dir);
    write_file(path, "wJalrXUtnFEMI/K7MDENG\n");
    setenv("PSTUDIO_S3_SECRET_ACCESS_KEY_FILE", path, 1);
    char a0[] = "--s3-part-size-mb", a1[] = "4";
    char *argv[] = {a0, a1, NULL};
    expect_config_error(2, argv, "PSTUDIO_S3_PART_SIZE_MB", "5 to 4096");
    assert_int_equal(config_load(&c, 0, none, &e), 0);
    assert_string_equal(c.media_store, "s3");
    assert_string_equal(c.s3_serve, "presigned");
    assert_string_equal(c.s3_secret_access_key, "wJalrXUtnFEMI/K7MDENG");
    config_free(&c);
    (void)state;
}

static void test_database_url_with_password_is_refused_as_a_flag(void **state)
{
    char a0[] = "--database-url", a1[] = "postgres://app:secret@db.internal/pstudio";
    char *argv[] = {a0, a1, NULL};
    expect_config_error(2, argv, "PSTUDIO_DATABASE_URL", "command line");
    /* The same URL from the environment is fine. */
    setenv("PSTUDIO_DATABASE_URL", "postgres://app:secret@db.internal/pstudio", 1);
    char *none[] = {NULL};
    config c;
    error e;
    assert_int_equal(config_load(&c, 0, none, &e), 0);
    config_free(&c);
}

static void test_config_file_errors_name_the_line(void **state)
{
    char dir[256], path[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/bad.conf", dir);
    write_file(path, "port = 9000\ncolour = blue\n");
    setenv("PSTUDIO_CONFIG", path, 1);
    char *none[] = {NULL};
    expect_config_error(0, none, "PSTUDIO_CONFIG", ":2: unknown setting 'colour'");
    write_file(path, "port 9000\n");
    expect_config_error(0, none, "PSTUDIO_CONFIG", ":1: expected 'name = value'");
    snprintf(path, sizeof(path), "%s/missing.conf", dir);
    setenv("PSTUDIO_CONFIG", path, 1);
    expect_config_error(0, none, "PSTUDIO_CONFIG", "cannot read config file");
}

/* config_load_text reads a buffer as the file is read (fuzz/config.c uses
 * it): the same checks, the same messages, and nothing from the environment. */
static void test_a_config_text_is_read_like_the_file_and_alone(void **state)
{
    setenv("PSTUDIO_PORT", "7000", 1);
    static const char text[] = "# settings\nport = 9001\n\tlog_level=debug\r\n";
    config c;
    error err;
    assert_int_equal(config_load_text(&c, text, strlen(text), "t.conf", &err), 0);
    assert_int_equal(c.port, 9001);
    assert_string_equal(c.log_level, "debug");
    assert_string_equal(c.data_dir, "./data");
    config_free(&c);
    static const char bad[] = "port = 9001\ncolour = blue\n";
    assert_int_equal(config_load_text(&c, bad, strlen(bad), "t.conf", &err), -1);
    assert_string_equal(err.field, "PSTUDIO_CONFIG");
    assert_non_null(strstr(err.message, "t.conf:2: unknown setting 'colour'"));
    config_free(&c);
    assert_int_equal(config_load_text(&c, "", 0, "t.conf", &err), 0);
    assert_int_equal(c.port, 8080);
    config_free(&c);
    unsetenv("PSTUDIO_PORT");
}

static void test_secrets_have_no_flag_and_can_come_from_a_file(void **state)
{
    char a0[] = "--gemini-api-key", a1[] = "k";
    char *argv[] = {a0, a1, NULL};
    config c;
    error e;
    /* An unknown flag is left for the subcommand, which refuses it. */
    assert_int_equal(config_load(&c, 2, argv, &e), 0);
    assert_null(c.gemini_api_key);
    assert_int_equal(c.argc, 2);
    config_free(&c);

    char dir[256], path[300];
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/key", dir);
    write_file(path, "  AIza-secret-value\n");
    setenv("PSTUDIO_GEMINI_API_KEY_FILE", path, 1);
    char *none[] = {NULL};
    assert_int_equal(config_load(&c, 0, none, &e), 0);
    assert_string_equal(c.gemini_api_key, "AIza-secret-value");
    config_free(&c);
    setenv("PSTUDIO_GEMINI_API_KEY_FILE", "/nonexistent/key", 1);
    expect_config_error(0, none, "PSTUDIO_GEMINI_API_KEY", "cannot read");
    unsetenv("PSTUDIO_GEMINI_API_KEY_FILE");
    setenv("PSTUDIO_LLM_PROVIDER", "claude", 1);
    expect_config_error(0, none, "PSTUDIO_LLM_PROVIDER", "auto, offline, gemini or openai");
    unsetenv("PSTUDIO_LLM_PROVIDER");

    /* The narrator: one of three, offline unless said; its Google key a secret too. */
    assert_int_equal(config_load(&c, 0, none, &e), 0);
    assert_string_equal(c.tts_provider, "offline");
    assert_null(c.tts_google_api_key);
    config_free(&c);
    setenv("PSTUDIO_TTS_PROVIDER", "espeak", 1);
    expect_config_error(0, none, "PSTUDIO_TTS_PROVIDER", "offline, openai or google");
    setenv("PSTUDIO_TTS_PROVIDER", "google", 1);
    write_file(path, "AIza-tts-secret\n");
    setenv("PSTUDIO_GOOGLE_TTS_API_KEY_FILE", path, 1);
    assert_int_equal(config_load(&c, 0, none, &e), 0);
    assert_string_equal(c.tts_provider, "google");
    assert_string_equal(c.tts_google_api_key, "AIza-tts-secret");
    config_free(&c);
    char a2[] = "--tts-google-api-key", a3[] = "k";
    char *flag[] = {a2, a3, NULL};
    assert_int_equal(config_load(&c, 2, flag, &e), 0); /* no such flag: left for the subcommand */
    assert_int_equal(c.argc, 2);
    config_free(&c);
}

/* The README's configuration table is this table: a setting added to the code
 * and not to the README fails here. */
static void test_readme_lists_every_setting_exactly_as_the_code_defines_it(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    config_print_markdown(mem);
    fclose(mem);

    FILE *f = fopen(PSTUDIO_SOURCE_DIR "/README.md", "r");
    assert_non_null(f);
    static char readme[200000];
    size_t n = fread(readme, 1, sizeof(readme) - 1, f);
    readme[n] = '\0';
    fclose(f);
    if (strstr(readme, text) == NULL)
        fail_msg("README.md's settings table differs from the code; it should read:\n%s", text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_apply_with_no_file_env_or_flags, clean_env),
        cmocka_unit_test_setup(test_flag_beats_environment_beats_file_beats_default, clean_env),
        cmocka_unit_test_setup(test_flag_accepts_the_equals_form, clean_env),
        cmocka_unit_test_setup(test_bad_values_name_the_setting, clean_env),
        cmocka_unit_test_setup_teardown(test_media_store_settings, clean_env, clean_env),
        cmocka_unit_test_setup(test_database_url_with_password_is_refused_as_a_flag, clean_env),
        cmocka_unit_test_setup(test_config_file_errors_name_the_line, clean_env),
        cmocka_unit_test_setup(test_a_config_text_is_read_like_the_file_and_alone, clean_env),
        cmocka_unit_test_setup(test_secrets_have_no_flag_and_can_come_from_a_file, clean_env),
        cmocka_unit_test(test_readme_lists_every_setting_exactly_as_the_code_defines_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
