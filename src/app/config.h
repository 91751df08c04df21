/*
 * config: every setting of the pstudio binary, in one table. Each setting
 * has a name (used in the config file), an environment variable PSTUDIO_*,
 * and usually a --flag. Precedence, highest first: flag, environment, config
 * file (PSTUDIO_CONFIG or --config), built-in default. Secrets have no flag:
 * a secret on a command line leaks through ps and shell history, so a
 * --database-url with a password in it is refused too.
 *
 * The loaded `config` owns its strings; config_free() releases them.
 */
#ifndef PS_APP_CONFIG_H
#define PS_APP_CONFIG_H

#include "base/error.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct config {
    char *config_file;
    char *data_dir;
    char *database_url;
    char *bind;
    int port;
    int http_threads;
    int db_pool_size;
    int max_body_bytes;
    int shutdown_timeout_ms;
    int max_connections_per_ip;
    int first_request_timeout_s;
    char *trusted_proxies;
    char *proxy_header;
    int clock_skew_warn_ms;
    int event_streams_per_user;
    int auth_cache_size;
    char *log_level;
    bool auto_migrate;
    bool cookie_secure;
    char *metrics_token;
    int workers;
    int job_batch;
    char *llm_provider; /* auto | offline | gemini | openai */
    char *llm_model;
    int llm_timeout_ms;
    char *gemini_base_url;
    char *gemini_api_key;
    char *openai_base_url;
    char *openai_api_key;
    bool openai_send_top_k;
    char *ffmpeg;
    int media_timeout_ms;
    int render_timeout_ms;
    char *pg_bin_dir;
    char *media_store; /* local | s3 */
    char *s3_endpoint;
    char *s3_bucket;
    char *s3_region;
    char *s3_access_key_id;
    char *s3_secret_access_key;
    bool s3_path_style;
    char *s3_prefix;
    char *s3_serve; /* stream | presigned */
    int s3_presign_expiry_s;
    int s3_part_size_mb;
    int s3_cache_mb;
    int s3_timeout_ms;
    char *tts_provider; /* offline | openai | google */
    int tts_timeout_ms;
    char *tts_openai_base_url;
    char *tts_openai_model;
    char *tts_openai_voice;
    char *tts_google_base_url;
    char *tts_google_api_key;
    char *tts_google_voice;
    char *image_provider; /* offline | gemini | openai */
    int image_timeout_ms;
    char *image_gemini_base_url;
    char *image_gemini_model;
    char *image_gemini_api_key;
    char *image_openai_base_url;
    char *image_openai_model;
    char *image_openai_api_key;
    char *google_client_id;
    char *google_client_secret;
    char *google_redirect_uri;
    char *google_auth_url;
    char *google_token_url;
    char *google_userinfo_url;
    char *google_revoke_url;
    char *youtube_api_url;
    char *youtube_analytics_url;
    char *youtube_reporting_url;
    bool youtube_publishing;
    char *youtube_upload_url;
    int youtube_upload_chunk_kib;
    char *secret_key;
    int optimizer_min_evidence_days;
    int optimizer_cooldown_days;
    int audit_retention_days;
    /* not settings: what the command line left for the subcommand */
    int argc;
    char **argv;
} config;

/**
 * Fills c from defaults, the config file, the environment and argv (the
 * arguments after the subcommand). Recognised flags are consumed; the rest
 * stay in c->argc/c->argv, in order, for the subcommand to parse. On a bad
 * value returns -1 with err->field naming the PSTUDIO_* variable.
 */
int config_load(config *c, int argc, char **argv, error *err);
/**
 * Fills c from the defaults and text[0..len) read as a config file (named
 * `name` in messages), nothing else: no environment, no flags, no files.
 * For fuzz/ and tests; free c with config_free whatever it returns.
 */
int config_load_text(config *c, const char *text, size_t len, const char *name, error *err);
void config_free(config *c);
/** Prints the settings table (flag, variable, default, meaning) for --help. */
void config_print_help(FILE *out);
/** Writes the settings table as Markdown rows (README generation and its test). */
void config_print_markdown(FILE *out);

#endif
