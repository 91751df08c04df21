#include "app/config.h"

#include "base/alloc.h"
#include "db/db.h"
#include "domain/limits.h"
#include "http/proxy.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef enum config__type {
    CFG_STRING,
    CFG_INT,
    CFG_BOOL,
    CFG_LOG_LEVEL,
    CFG_DB_URL,
    CFG_URL,          /* an http:// or https:// URL */
    CFG_SECRET,       /* never a flag; also read from the file named by <ENV>_FILE */
    CFG_CIDRS,        /* comma-separated CIDRs (http/proxy.h) */
    CFG_PROXY_HEADER, /* x-forwarded-for | forwarded */
    CFG_CHOICE,       /* one of the words config__choices() gives */
} config__type;

typedef struct config__spec {
    const char *name; /* config-file key */
    const char *env;
    const char *flag; /* NULL: no flag (secrets, or file/env only) */
    config__type type;
    size_t offset;
    const char *def; /* NULL: derived or none */
    long min, max;   /* CFG_INT range */
    const char *help;
} config__spec;

#define CFG_OFF(f) offsetof(config, f)

static const config__spec config__specs[] = {
    {"config", "PSTUDIO_CONFIG", "--config", CFG_STRING, CFG_OFF(config_file), NULL, 0, 0,
     "Optional config file of 'name = value' lines, using the names in this table."},
    {"data_dir", "PSTUDIO_DATA_DIR", "--data-dir", CFG_STRING, CFG_OFF(data_dir), "./data", 0, 0,
     "Directory for the SQLite database and generated media. Created if missing."},
    {"database_url", "PSTUDIO_DATABASE_URL", "--database-url", CFG_DB_URL, CFG_OFF(database_url),
     NULL, 0, 0,
     "sqlite:///abs/path.db or postgres://user@host:port/db. Default: SQLite at "
     "<data_dir>/pstudio.db. A URL with a password is refused as a flag."},
    {"bind", "PSTUDIO_BIND", "--bind", CFG_STRING, CFG_OFF(bind), "127.0.0.1", 0, 0,
     "Address the HTTP server listens on."},
    {"port", "PSTUDIO_PORT", "--port", CFG_INT, CFG_OFF(port), "8080", 0, 65535,
     "TCP port of the HTTP server (0 picks a free one)."},
    {"http_threads", "PSTUDIO_HTTP_THREADS", "--http-threads", CFG_INT, CFG_OFF(http_threads), "4",
     1, 256, "HTTP worker threads."},
    {"db_pool_size", "PSTUDIO_DB_POOL_SIZE", "--db-pool-size", CFG_INT, CFG_OFF(db_pool_size), "8",
     1, 256, "Database connections per process."},
    {"max_body_bytes", "PSTUDIO_MAX_BODY_BYTES", "--max-body-bytes", CFG_INT,
     CFG_OFF(max_body_bytes), "1048576", 1024, 67108864,
     "Largest request body accepted; larger ones get 413."},
    {"shutdown_timeout_ms", "PSTUDIO_SHUTDOWN_TIMEOUT_MS", "--shutdown-timeout-ms", CFG_INT,
     CFG_OFF(shutdown_timeout_ms), "10000", 0, 600000,
     "How long SIGTERM waits for in-flight requests before stopping."},
    {"max_connections_per_ip", "PSTUDIO_MAX_CONNECTIONS_PER_IP", "--max-connections-per-ip",
     CFG_INT, CFG_OFF(max_connections_per_ip), "128", 0, 1024,
     "Open connections one client address may hold, of the server's 1024 (0: no limit). Behind "
     "a reverse proxy every connection comes from the proxy: raise it or set 0."},
    {"trusted_proxies", "PSTUDIO_TRUSTED_PROXIES", "--trusted-proxies", CFG_CIDRS,
     CFG_OFF(trusted_proxies), NULL, 0, 0,
     "Comma-separated CIDRs or addresses of the reverse proxies in front of 'serve' (IPv4 and "
     "IPv6, e.g. 127.0.0.1,10.0.0.0/8). Only from those peers is the right-most untrusted "
     "address of the proxy header taken as the client, for the log-in limiter and the logs. "
     "Default: none, the TCP peer is the client."},
    {"proxy_header", "PSTUDIO_PROXY_HEADER", "--proxy-header", CFG_PROXY_HEADER,
     CFG_OFF(proxy_header), "x-forwarded-for", 0, 0,
     "The header the trusted proxies append the client's address to: x-forwarded-for or "
     "forwarded (RFC 7239). Only that one is read: a client can send the other."},
    {"clock_skew_warn_ms", "PSTUDIO_CLOCK_SKEW_WARN_MS", "--clock-skew-warn-ms", CFG_INT,
     CFG_OFF(clock_skew_warn_ms), "1000", 1, 3600000,
     "At start, 'serve' and 'worker' compare their clock with PostgreSQL's and log a warning "
     "when they differ by more than this (job leases, sessions and event streams assume "
     "clocks within a second)."},
    {"first_request_timeout_s", "PSTUDIO_FIRST_REQUEST_TIMEOUT_S", "--first-request-timeout-s",
     CFG_INT, CFG_OFF(first_request_timeout_s), "10", 1, 30,
     "Seconds a new connection may stay silent before its first request is in; then it is "
     "closed (connections in use wait 30 s)."},
    {"event_streams_per_user", "PSTUDIO_EVENT_STREAMS_PER_USER", "--event-streams-per-user",
     CFG_INT, CFG_OFF(event_streams_per_user), "8", 1, 256,
     "Open /api/v1/events streams one user may hold, of the server's 256; past it, 429."},
    {"auth_cache_size", "PSTUDIO_AUTH_CACHE_SIZE", "--auth-cache-size", CFG_INT,
     CFG_OFF(auth_cache_size), "10000", 0, 1000000,
     "Sessions and API keys 'serve' keeps resolved in memory on PostgreSQL, so a request "
     "authenticates without a database round trip; revocations reach every process within 1 s "
     "(0: off, every request asks the database; SQLite never caches)."},
    {"log_level", "PSTUDIO_LOG_LEVEL", "--log-level", CFG_LOG_LEVEL, CFG_OFF(log_level), "info", 0,
     0, "debug, info, warn or error."},
    {"auto_migrate", "PSTUDIO_AUTO_MIGRATE", "--auto-migrate", CFG_BOOL, CFG_OFF(auto_migrate),
     "true", 0, 0, "Whether 'serve' applies pending migrations at start (true or false)."},
    {"cookie_secure", "PSTUDIO_COOKIE_SECURE", "--cookie-secure", CFG_BOOL, CFG_OFF(cookie_secure),
     "false", 0, 0,
     "Mark the session cookie Secure and send Strict-Transport-Security (set true behind "
     "HTTPS)."},
    {"metrics_token", "PSTUDIO_METRICS_TOKEN", NULL, CFG_SECRET, CFG_OFF(metrics_token), NULL, 0, 0,
     "Bearer token /metrics requires from every client (secret; or PSTUDIO_METRICS_TOKEN_FILE). "
     "Default: none, and /metrics answers loopback clients only."},
    {"workers", "PSTUDIO_WORKERS", "--workers", CFG_INT, CFG_OFF(workers), "2", 0, 64,
     "Job worker threads of 'serve' and 'worker' (0 in serve: run 'pstudio worker' instead)."},
    {"job_batch", "PSTUDIO_JOB_BATCH", "--job-batch", CFG_INT, CFG_OFF(job_batch), "16", 1, 256,
     "Most jobs a worker claims at once; it claims one after a slow job and doubles while jobs "
     "stay short (1: one at a time)."},
    {"llm_provider", "PSTUDIO_LLM_PROVIDER", "--llm-provider", CFG_CHOICE, CFG_OFF(llm_provider),
     "auto", 0, 0,
     "Script writer: offline, gemini or openai. auto: gemini or openai when its key is set, "
     "else offline."},
    {"llm_model", "PSTUDIO_LLM_MODEL", "--llm-model", CFG_STRING, CFG_OFF(llm_model), NULL, 0, 0,
     "Model name. Default: gemini-2.5-flash (gemini), gpt-4o-mini (openai)."},
    {"llm_timeout_ms", "PSTUDIO_LLM_TIMEOUT_MS", "--llm-timeout-ms", CFG_INT,
     CFG_OFF(llm_timeout_ms), "120000", 1000, 600000, "Longest a model call may take."},
    {"gemini_base_url", "PSTUDIO_GEMINI_BASE_URL", "--gemini-base-url", CFG_URL,
     CFG_OFF(gemini_base_url), "https://generativelanguage.googleapis.com", 0, 0,
     "Base URL of the Gemini API."},
    {"gemini_api_key", "PSTUDIO_GEMINI_API_KEY", NULL, CFG_SECRET, CFG_OFF(gemini_api_key), NULL, 0,
     0, "Gemini API key (secret; or a file named by PSTUDIO_GEMINI_API_KEY_FILE)."},
    {"openai_base_url", "PSTUDIO_OPENAI_BASE_URL", "--openai-base-url", CFG_URL,
     CFG_OFF(openai_base_url), "https://api.openai.com", 0, 0,
     "Base URL of an OpenAI-compatible API (OpenAI, Ollama, llama.cpp, vLLM)."},
    {"openai_api_key", "PSTUDIO_OPENAI_API_KEY", NULL, CFG_SECRET, CFG_OFF(openai_api_key), NULL, 0,
     0, "Key for the OpenAI-compatible API (secret; or PSTUDIO_OPENAI_API_KEY_FILE)."},
    {"openai_send_top_k", "PSTUDIO_OPENAI_SEND_TOP_K", "--openai-send-top-k", CFG_BOOL,
     CFG_OFF(openai_send_top_k), "false", 0, 0,
     "Send top_k to the OpenAI-compatible backend (vLLM, llama.cpp and Ollama take it)."},
    {"ffmpeg", "PSTUDIO_FFMPEG", "--ffmpeg", CFG_STRING, CFG_OFF(ffmpeg), "ffmpeg", 0, 0,
     "The ffmpeg program that renders the video, fits model images and decodes compressed "
     "narrator answers; a name looked up on PATH, or a path."},
    {"media_timeout_ms", "PSTUDIO_MEDIA_TIMEOUT_MS", "--media-timeout-ms", CFG_INT,
     CFG_OFF(media_timeout_ms), "120000", 1000, 3600000,
     "Longest one ffmpeg run may take before it is killed and the job retried."},
    {"render_timeout_ms", "PSTUDIO_RENDER_TIMEOUT_MS", "--render-timeout-ms", CFG_INT,
     CFG_OFF(render_timeout_ms), "1800000", 10000, 21600000,
     "Longest one video render (its ffmpeg run) may take before it is killed and the job "
     "retried."},
    {"pg_bin_dir", "PSTUDIO_PG_BIN_DIR", "--pg-bin-dir", CFG_STRING, CFG_OFF(pg_bin_dir), NULL, 0,
     0,
     "Directory of the pg_dump and pg_restore programs 'admin backup' and 'admin restore' run "
     "on PostgreSQL (e.g. /usr/lib/postgresql/16/bin for a newer server). Default: found on "
     "PATH."},
    {"media_store", "PSTUDIO_MEDIA_STORE", "--media-store", CFG_CHOICE, CFG_OFF(media_store),
     "local", 0, 0,
     "Where media files live: local (<data_dir>/media) or s3 (an S3-compatible bucket, the "
     "PSTUDIO_S3_* settings; every serve and worker process must use the same)."},
    {"s3_endpoint", "PSTUDIO_S3_ENDPOINT", "--s3-endpoint", CFG_URL, CFG_OFF(s3_endpoint), NULL, 0,
     0,
     "The S3 service's URL, scheme and host only (https://s3.eu-west-1.amazonaws.com, "
     "http://127.0.0.1:9000 for MinIO)."},
    {"s3_bucket", "PSTUDIO_S3_BUCKET", "--s3-bucket", CFG_STRING, CFG_OFF(s3_bucket), NULL, 0, 0,
     "The bucket media go to (it must exist)."},
    {"s3_region", "PSTUDIO_S3_REGION", "--s3-region", CFG_STRING, CFG_OFF(s3_region), "us-east-1",
     0, 0, "The region requests are signed for (AWS Signature V4)."},
    {"s3_access_key_id", "PSTUDIO_S3_ACCESS_KEY_ID", "--s3-access-key-id", CFG_STRING,
     CFG_OFF(s3_access_key_id), NULL, 0, 0, "The access key id requests are signed with."},
    {"s3_secret_access_key", "PSTUDIO_S3_SECRET_ACCESS_KEY", NULL, CFG_SECRET,
     CFG_OFF(s3_secret_access_key), NULL, 0, 0,
     "Its secret key (secret; or PSTUDIO_S3_SECRET_ACCESS_KEY_FILE)."},
    {"s3_path_style", "PSTUDIO_S3_PATH_STYLE", "--s3-path-style", CFG_BOOL, CFG_OFF(s3_path_style),
     "false", 0, 0,
     "Address objects as <endpoint>/<bucket>/<key> (MinIO, Ceph, most local servers) instead "
     "of <bucket>.<host>/<key>."},
    {"s3_prefix", "PSTUDIO_S3_PREFIX", "--s3-prefix", CFG_STRING, CFG_OFF(s3_prefix), "media", 0, 0,
     "Key prefix of every object: <prefix>/<user>/<project>/<name>."},
    {"s3_serve", "PSTUDIO_S3_SERVE", "--s3-serve", CFG_CHOICE, CFG_OFF(s3_serve), "stream", 0, 0,
     "How the owner gets a file: stream (through the server, from a local copy, Range and ETag "
     "kept) or presigned (a 302 to a short-lived presigned S3 URL)."},
    {"s3_presign_expiry_s", "PSTUDIO_S3_PRESIGN_EXPIRY_S", "--s3-presign-expiry-s", CFG_INT,
     CFG_OFF(s3_presign_expiry_s), "300", 10, 604800,
     "How long a presigned URL stays valid, in seconds."},
    {"s3_part_size_mb", "PSTUDIO_S3_PART_SIZE_MB", "--s3-part-size-mb", CFG_INT,
     CFG_OFF(s3_part_size_mb), "8", 5, 4096,
     "Files larger than this go up as a multipart upload in parts of this size (MiB)."},
    {"s3_cache_mb", "PSTUDIO_S3_CACHE_MB", "--s3-cache-mb", CFG_INT, CFG_OFF(s3_cache_mb), "2048",
     0, 1048576,
     "Local copies of read objects kept in <data_dir>/s3-spool for the next read, in MiB "
     "(least recently read go first; 0: none kept)."},
    {"s3_timeout_ms", "PSTUDIO_S3_TIMEOUT_MS", "--s3-timeout-ms", CFG_INT, CFG_OFF(s3_timeout_ms),
     "300000", 1000, 3600000, "Longest one S3 request (an upload part, a download) may take."},
    {"tts_provider", "PSTUDIO_TTS_PROVIDER", "--tts-provider", CFG_CHOICE, CFG_OFF(tts_provider),
     "offline", 0, 0,
     "Narrator: offline (espeak-ng), openai (POST /v1/audio/speech, key PSTUDIO_OPENAI_API_KEY) "
     "or google (Cloud Text-to-Speech v1beta1, key PSTUDIO_GOOGLE_TTS_API_KEY)."},
    {"tts_timeout_ms", "PSTUDIO_TTS_TIMEOUT_MS", "--tts-timeout-ms", CFG_INT,
     CFG_OFF(tts_timeout_ms), "60000", 1000, 600000,
     "Longest one HTTP narration call may take; past it the job is retried."},
    {"tts_openai_base_url", "PSTUDIO_TTS_OPENAI_BASE_URL", "--tts-openai-base-url", CFG_URL,
     CFG_OFF(tts_openai_base_url), NULL, 0, 0,
     "Base URL of the OpenAI-compatible speech API. Default: PSTUDIO_OPENAI_BASE_URL."},
    {"tts_openai_model", "PSTUDIO_TTS_OPENAI_MODEL", "--tts-openai-model", CFG_STRING,
     CFG_OFF(tts_openai_model), "tts-1", 0, 0, "Speech model of the openai narrator."},
    {"tts_openai_voice", "PSTUDIO_TTS_OPENAI_VOICE", "--tts-openai-voice", CFG_STRING,
     CFG_OFF(tts_openai_voice), "alloy", 0, 0,
     "Voice of the openai narrator when the persona names none of its voices."},
    {"tts_google_base_url", "PSTUDIO_TTS_GOOGLE_BASE_URL", "--tts-google-base-url", CFG_URL,
     CFG_OFF(tts_google_base_url), "https://texttospeech.googleapis.com", 0, 0,
     "Base URL of Google Cloud Text-to-Speech."},
    {"tts_google_api_key", "PSTUDIO_GOOGLE_TTS_API_KEY", NULL, CFG_SECRET,
     CFG_OFF(tts_google_api_key), NULL, 0, 0,
     "API key for Google Cloud Text-to-Speech (secret; or PSTUDIO_GOOGLE_TTS_API_KEY_FILE)."},
    {"tts_google_voice", "PSTUDIO_TTS_GOOGLE_VOICE", "--tts-google-voice", CFG_STRING,
     CFG_OFF(tts_google_voice), NULL, 0, 0,
     "Google voice name (e.g. en-US-Neural2-C) when the persona names none. Default: Google's "
     "choice for the language."},
    {"image_provider", "PSTUDIO_IMAGE_PROVIDER", "--image-provider", CFG_CHOICE,
     CFG_OFF(image_provider), "offline", 0, 0,
     "Scene images: offline (a card drawn with cairo), gemini (generateContent with an image "
     "model, key PSTUDIO_IMAGE_GEMINI_API_KEY or PSTUDIO_GEMINI_API_KEY) or openai "
     "(POST /v1/images/generations, key PSTUDIO_IMAGE_OPENAI_API_KEY or PSTUDIO_OPENAI_API_KEY)."},
    {"image_timeout_ms", "PSTUDIO_IMAGE_TIMEOUT_MS", "--image-timeout-ms", CFG_INT,
     CFG_OFF(image_timeout_ms), "180000", 1000, 600000,
     "Longest one HTTP image call may take; past it the job is retried."},
    {"image_gemini_base_url", "PSTUDIO_IMAGE_GEMINI_BASE_URL", "--image-gemini-base-url", CFG_URL,
     CFG_OFF(image_gemini_base_url), NULL, 0, 0,
     "Base URL of the Gemini API for images. Default: PSTUDIO_GEMINI_BASE_URL."},
    {"image_gemini_model", "PSTUDIO_IMAGE_GEMINI_MODEL", "--image-gemini-model", CFG_STRING,
     CFG_OFF(image_gemini_model), "gemini-2.5-flash-image", 0, 0,
     "Gemini image model (answers images through generateContent)."},
    {"image_gemini_api_key", "PSTUDIO_IMAGE_GEMINI_API_KEY", NULL, CFG_SECRET,
     CFG_OFF(image_gemini_api_key), NULL, 0, 0,
     "Gemini API key for images (secret; or PSTUDIO_IMAGE_GEMINI_API_KEY_FILE). Default: "
     "PSTUDIO_GEMINI_API_KEY."},
    {"image_openai_base_url", "PSTUDIO_IMAGE_OPENAI_BASE_URL", "--image-openai-base-url", CFG_URL,
     CFG_OFF(image_openai_base_url), NULL, 0, 0,
     "Base URL of the OpenAI-compatible images API. Default: PSTUDIO_OPENAI_BASE_URL."},
    {"image_openai_model", "PSTUDIO_IMAGE_OPENAI_MODEL", "--image-openai-model", CFG_STRING,
     CFG_OFF(image_openai_model), "dall-e-3", 0, 0,
     "Image model of the openai provider (dall-e-3: 1792x1024; gpt-image-*: 1536x1024)."},
    {"image_openai_api_key", "PSTUDIO_IMAGE_OPENAI_API_KEY", NULL, CFG_SECRET,
     CFG_OFF(image_openai_api_key), NULL, 0, 0,
     "Key for the OpenAI-compatible images API (secret; or PSTUDIO_IMAGE_OPENAI_API_KEY_FILE). "
     "Default: PSTUDIO_OPENAI_API_KEY."},
    {"google_client_id", "PSTUDIO_GOOGLE_CLIENT_ID", "--google-client-id", CFG_STRING,
     CFG_OFF(google_client_id), NULL, 0, 0, "OAuth client id for Google connect."},
    {"google_client_secret", "PSTUDIO_GOOGLE_CLIENT_SECRET", NULL, CFG_SECRET,
     CFG_OFF(google_client_secret), NULL, 0, 0,
     "OAuth client secret (secret; or PSTUDIO_GOOGLE_CLIENT_SECRET_FILE)."},
    {"google_redirect_uri", "PSTUDIO_GOOGLE_REDIRECT_URI", "--google-redirect-uri", CFG_URL,
     CFG_OFF(google_redirect_uri), NULL, 0, 0,
     "The OAuth redirect URI registered with Google. Default: "
     "http://<bind>:<port>/api/v1/google/callback."},
    {"google_auth_url", "PSTUDIO_GOOGLE_AUTH_URL", "--google-auth-url", CFG_URL,
     CFG_OFF(google_auth_url), "https://accounts.google.com/o/oauth2/v2/auth", 0, 0,
     "Google's authorization endpoint."},
    {"google_token_url", "PSTUDIO_GOOGLE_TOKEN_URL", "--google-token-url", CFG_URL,
     CFG_OFF(google_token_url), "https://oauth2.googleapis.com/token", 0, 0,
     "Google's token endpoint."},
    {"google_userinfo_url", "PSTUDIO_GOOGLE_USERINFO_URL", "--google-userinfo-url", CFG_URL,
     CFG_OFF(google_userinfo_url), "https://openidconnect.googleapis.com/v1/userinfo", 0, 0,
     "Google's OpenID Connect userinfo endpoint."},
    {"google_revoke_url", "PSTUDIO_GOOGLE_REVOKE_URL", "--google-revoke-url", CFG_URL,
     CFG_OFF(google_revoke_url), "https://oauth2.googleapis.com/revoke", 0, 0,
     "Google's token revocation endpoint."},
    {"youtube_api_url", "PSTUDIO_YOUTUBE_API_URL", "--youtube-api-url", CFG_URL,
     CFG_OFF(youtube_api_url), "https://www.googleapis.com/youtube/v3", 0, 0,
     "Base URL of the YouTube Data API v3."},
    {"youtube_analytics_url", "PSTUDIO_YOUTUBE_ANALYTICS_URL", "--youtube-analytics-url", CFG_URL,
     CFG_OFF(youtube_analytics_url), "https://youtubeanalytics.googleapis.com", 0, 0,
     "Base URL of the YouTube Analytics API (v2 is under it)."},
    {"youtube_reporting_url", "PSTUDIO_YOUTUBE_REPORTING_URL", "--youtube-reporting-url", CFG_URL,
     CFG_OFF(youtube_reporting_url), "https://youtubereporting.googleapis.com", 0, 0,
     "Base URL of the YouTube Reporting API (v1 is under it); reports are downloaded only from "
     "its origin."},
    {"youtube_publishing", "PSTUDIO_YOUTUBE_PUBLISHING", "--youtube-publishing", CFG_BOOL,
     CFG_OFF(youtube_publishing), "false", 0, 0,
     "Publish finished videos to YouTube: asks Google for the youtube.upload scope and "
     "enables POST /api/v1/projects/{id}/publish."},
    {"youtube_upload_url", "PSTUDIO_YOUTUBE_UPLOAD_URL", "--youtube-upload-url", CFG_URL,
     CFG_OFF(youtube_upload_url), "https://www.googleapis.com/upload", 0, 0,
     "Base URL of YouTube's media uploads (videos.insert and thumbnails.set are under it)."},
    {"youtube_upload_chunk_kib", "PSTUDIO_YOUTUBE_UPLOAD_CHUNK_KIB", "--youtube-upload-chunk-kib",
     CFG_INT, CFG_OFF(youtube_upload_chunk_kib), "8192", 256, 262144,
     "Bytes of video sent per resumable upload request, in KiB; rounded down to a multiple of "
     "256 KiB as YouTube requires."},
    {"optimizer_min_evidence_days", "PSTUDIO_OPTIMIZER_MIN_EVIDENCE_DAYS",
     "--optimizer-min-evidence-days", CFG_INT, CFG_OFF(optimizer_min_evidence_days), "5", 1, 90,
     "Channel-days the current and the proposed persona each need on a channel before the "
     "optimizer suggests or makes a switch."},
    {"optimizer_cooldown_days", "PSTUDIO_OPTIMIZER_COOLDOWN_DAYS", "--optimizer-cooldown-days",
     CFG_INT, CFG_OFF(optimizer_cooldown_days), "7", 1, 90,
     "Days the optimizer leaves between two switches of a channel in auto mode, counted from "
     "the channel's last assignment."},
    {"audit_retention_days", "PSTUDIO_AUDIT_RETENTION_DAYS", "--audit-retention-days", CFG_INT,
     CFG_OFF(audit_retention_days), "365", 1, AUDIT_RETENTION_MAX,
     "Days the audit trail keeps an event; the hourly maintenance job deletes older ones."},
    {"secret_key", "PSTUDIO_SECRET_KEY", NULL, CFG_SECRET, CFG_OFF(secret_key), NULL, 0, 0,
     "Key that encrypts OAuth tokens at rest: 32 bytes in base64 (secret; or "
     "PSTUDIO_SECRET_KEY_FILE). Default: <data_dir>/secret.key, created with mode 0600."},
};

#define CONFIG__N (sizeof(config__specs) / sizeof(config__specs[0]))

typedef enum config__source { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG } config__source;

static const char *config__source_name(config__source s, const config__spec *sp)
{
    switch (s) {
    case SRC_FLAG:
        return sp->flag;
    case SRC_ENV:
        return "the environment";
    case SRC_FILE:
        return "the config file";
    default:
        return "the default";
    }
}

/* The words a CFG_CHOICE setting takes, separated by '|'. */
static const char *config__choices(const config__spec *sp)
{
    if (sp->offset == CFG_OFF(llm_provider))
        return "auto|offline|gemini|openai";
    if (sp->offset == CFG_OFF(tts_provider))
        return "offline|openai|google";
    if (sp->offset == CFG_OFF(image_provider))
        return "offline|gemini|openai";
    if (sp->offset == CFG_OFF(media_store))
        return "local|s3";
    if (sp->offset == CFG_OFF(s3_serve))
        return "stream|presigned";
    return "";
}

/* The words of a CFG_CHOICE setting as a reader says them: "a, b or c". */
static void config__choices_text(const char *choices, char *out, size_t size)
{
    size_t k = 0;
    const char *last = strrchr(choices, '|');
    for (const char *p = choices; *p != '\0' && k + 5 < size; p++) {
        if (*p != '|') {
            out[k++] = *p;
            continue;
        }
        const char *sep = p == last ? " or " : ", ";
        size_t n = strlen(sep);
        memcpy(out + k, sep, n);
        k += n;
    }
    out[k] = '\0';
}

/* Sets one setting from text, validating it. The previous value is replaced. */
static int config__set(config *c, const config__spec *sp, const char *value, config__source src,
                       error *err)
{
    void *field = (char *)c + sp->offset;
    const char *from = config__source_name(src, sp);
    switch (sp->type) {
    case CFG_STRING:
        if (value[0] == '\0')
            return error_set(err, ERR_CONFIG, sp->env, "%s (from %s) must not be empty", sp->env,
                             from);
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    case CFG_DB_URL: {
        db_error de;
        if (db_url_check(value, &de) != 0)
            return error_set(err, ERR_CONFIG, sp->env, "%s (from %s) is not usable: %s", sp->env,
                             from, de.message);
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    }
    case CFG_INT: {
        errno = 0;
        char *end = NULL;
        long v = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || v < sp->min || v > sp->max)
            return error_set(err, ERR_CONFIG, sp->env,
                             "%s (from %s) is '%.64s'; it must be a whole number from %ld to %ld",
                             sp->env, from, value, sp->min, sp->max);
        *(int *)field = (int)v;
        return 0;
    }
    case CFG_BOOL:
        if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
            strcasecmp(value, "yes") == 0)
            *(bool *)field = true;
        else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
                 strcasecmp(value, "no") == 0)
            *(bool *)field = false;
        else
            return error_set(err, ERR_CONFIG, sp->env,
                             "%s (from %s) is '%.64s'; it must be true or false", sp->env, from,
                             value);
        return 0;
    case CFG_URL:
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
            return error_set(err, ERR_CONFIG, sp->env,
                             "%s (from %s) must be an http:// or https:// URL", sp->env, from);
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    case CFG_SECRET:
        if (value[0] == '\0')
            return error_set(err, ERR_CONFIG, sp->env, "%s (from %s) must not be empty", sp->env,
                             from);
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    case CFG_CIDRS:
    case CFG_PROXY_HEADER: {
        /* The server parses them again; this makes every command refuse them. */
        http_proxies probe;
        bool cidrs = sp->type == CFG_CIDRS;
        if (http_proxies_parse(cidrs ? value : NULL, cidrs ? NULL : value, &probe, err) != 0)
            return -1;
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    }
    case CFG_CHOICE: {
        size_t n = strlen(value);
        const char *choices = config__choices(sp);
        const char *w = choices;
        while (w != NULL && !(strncmp(w, value, n) == 0 && (w[n] == '|' || w[n] == '\0')))
            w = strchr(w, '|') ? strchr(w, '|') + 1 : NULL;
        if (n == 0 || w == NULL) {
            char words[128];
            config__choices_text(choices, words, sizeof(words));
            return error_set(err, ERR_CONFIG, sp->env, "%s (from %s) is '%.64s'; it must be %s",
                             sp->env, from, value, words);
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    }
    case CFG_LOG_LEVEL:
        if (strcmp(value, "debug") && strcmp(value, "info") && strcmp(value, "warn") &&
            strcmp(value, "error"))
            return error_set(err, ERR_CONFIG, sp->env,
                             "%s (from %s) is '%.64s'; it must be debug, info, warn or error",
                             sp->env, from, value);
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    }
    return 0;
}

static const config__spec *config__by_name(const char *name)
{
    for (size_t i = 0; i < CONFIG__N; i++)
        if (strcmp(config__specs[i].name, name) == 0)
            return &config__specs[i];
    return NULL;
}

static const config__spec *config__by_flag(const char *flag, size_t n)
{
    for (size_t i = 0; i < CONFIG__N; i++) {
        const char *f = config__specs[i].flag;
        if (f != NULL && strlen(f) == n && strncmp(f, flag, n) == 0)
            return &config__specs[i];
    }
    return NULL;
}

static char *config__trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Reads 'name = value' lines from f, named path in messages. */
static int config__read_stream(config *c, FILE *f, const char *path, error *err)
{
    char line[4096];
    int lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            rc = error_set(err, ERR_CONFIG, "PSTUDIO_CONFIG",
                           "PSTUDIO_CONFIG: %s:%d: line longer than %zu bytes", path, lineno,
                           sizeof(line) - 2);
            break;
        }
        char *s = config__trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = error_set(err, ERR_CONFIG, "PSTUDIO_CONFIG",
                           "PSTUDIO_CONFIG: %s:%d: expected 'name = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *name = config__trim(s);
        char *value = config__trim(eq + 1);
        const config__spec *sp = config__by_name(name);
        if (sp == NULL || sp->offset == CFG_OFF(config_file)) {
            rc = error_set(err, ERR_CONFIG, "PSTUDIO_CONFIG",
                           "PSTUDIO_CONFIG: %s:%d: unknown setting '%.64s'", path, lineno, name);
            break;
        }
        rc = config__set(c, sp, value, SRC_FILE, err);
    }
    return rc;
}

/* Reads the config file. Values set by the environment or a flag win, so
 * the file is read first and everything else applied over it. */
static int config__read_file(config *c, const char *path, error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return error_set(err, ERR_CONFIG, "PSTUDIO_CONFIG",
                         "PSTUDIO_CONFIG: cannot read config file %s: %s", path, strerror(errno));
    int rc = config__read_stream(c, f, path, err);
    fclose(f);
    return rc;
}

static void config__defaults(config *c)
{
    for (size_t i = 0; i < CONFIG__N; i++)
        if (config__specs[i].def != NULL)
            config__set(c, &config__specs[i], config__specs[i].def, SRC_DEFAULT, NULL);
}

int config_load_text(config *c, const char *text, size_t len, const char *name, error *err)
{
    memset(c, 0, sizeof(*c));
    config__defaults(c);
    if (len == 0) /* fmemopen refuses an empty buffer */
        return 0;
    FILE *f = fmemopen((void *)text, len, "r");
    if (f == NULL)
        return error_set(err, ERR_CONFIG, "PSTUDIO_CONFIG", "PSTUDIO_CONFIG: cannot read %s: %s",
                         name, strerror(errno));
    int rc = config__read_stream(c, f, name, err);
    fclose(f);
    return rc;
}

/* A secret may come from a file named by <ENV>_FILE (Docker and systemd
 * credentials work this way); its value wins over the variable itself. */
static int config__secret_file(config *c, const config__spec *sp, error *err)
{
    char name[96];
    snprintf(name, sizeof(name), "%s_FILE", sp->env);
    const char *path = getenv(name);
    if (path == NULL)
        return 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return error_set(err, ERR_CONFIG, sp->env, "%s: cannot read %s: %s", name, path,
                         strerror(errno));
    char value[4096];
    size_t n = fread(value, 1, sizeof(value) - 1, f);
    bool too_long = !feof(f);
    fclose(f);
    if (too_long)
        return error_set(err, ERR_CONFIG, sp->env, "%s: %s is larger than %zu bytes", name, path,
                         sizeof(value) - 1);
    value[n] = '\0';
    char *v = config__trim(value);
    return config__set(c, sp, v, SRC_ENV, err);
}

/* A password in a URL on the command line is visible to every local user. */
static bool config__url_has_password(const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return false;
    p += 3;
    const char *at = strchr(p, '@');
    const char *slash = strchr(p, '/');
    if (at == NULL || (slash != NULL && slash < at))
        return strstr(url, "password=") != NULL;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    return colon != NULL || strstr(url, "password=") != NULL;
}

int config_load(config *c, int argc, char **argv, error *err)
{
    memset(c, 0, sizeof(*c));
    c->argv = xcalloc((size_t)argc + 1, sizeof(char *));
    config__defaults(c);

    /* Pass 1: collect flags (so --config is known before the file is read). */
    const config__spec *flag_spec[256];
    const char *flag_val[256];
    int nflags = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            c->argv[c->argc++] = argv[i];
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const config__spec *sp = config__by_flag(a, n);
        if (sp == NULL) {
            c->argv[c->argc++] = argv[i];
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (v == NULL) {
            if (i + 1 >= argc)
                return error_set(err, ERR_CONFIG, sp->env, "%s needs a value (%s)", sp->flag,
                                 sp->env);
            v = argv[++i];
        }
        if (nflags == 256)
            return error_set(err, ERR_CONFIG, sp->env, "too many flags");
        flag_spec[nflags] = sp;
        flag_val[nflags++] = v;
    }

    const config__spec *cfg_spec = config__by_name("config");
    const char *file = getenv(cfg_spec->env);
    for (int i = 0; i < nflags; i++)
        if (flag_spec[i] == cfg_spec)
            file = flag_val[i];
    if (file != NULL && file[0] != '\0') {
        if (config__set(c, cfg_spec, file, SRC_ENV, err) != 0 ||
            config__read_file(c, file, err) != 0)
            return -1;
    }
    for (size_t i = 0; i < CONFIG__N; i++) {
        const config__spec *sp = &config__specs[i];
        const char *v = getenv(sp->env);
        if (v != NULL && sp != cfg_spec && config__set(c, sp, v, SRC_ENV, err) != 0)
            return -1;
        if (sp->type == CFG_SECRET && config__secret_file(c, sp, err) != 0)
            return -1;
    }
    for (int i = 0; i < nflags; i++) {
        const config__spec *sp = flag_spec[i];
        if (sp == cfg_spec)
            continue;
        if (sp->offset == CFG_OFF(database_url) && config__url_has_password(flag_val[i]))
            return error_set(err, ERR_CONFIG, sp->env,
                             "%s must not carry a password on the command line; set %s in the "
                             "environment or the config file instead",
                             sp->flag, sp->env);
        if (config__set(c, sp, flag_val[i], SRC_FLAG, err) != 0)
            return -1;
    }
    if (c->database_url == NULL) {
        const char *dir = c->data_dir;
        char *abs = realpath(dir, NULL);
        size_t n = strlen(abs ? abs : dir) + 64;
        c->database_url = xmalloc(n);
        if (abs != NULL || dir[0] == '/')
            snprintf(c->database_url, n, "sqlite://%s/pstudio.db", abs ? abs : dir);
        else {
            /* The directory does not exist yet: anchor it to the working directory. */
            char cwd[PATH_MAX];
            if (getcwd(cwd, sizeof(cwd)) == NULL)
                return error_set(err, ERR_CONFIG, "PSTUDIO_DATA_DIR",
                                 "cannot resolve the data directory: %s", strerror(errno));
            free(c->database_url);
            n = strlen(cwd) + strlen(dir) + 64;
            c->database_url = xmalloc(n);
            snprintf(c->database_url, n, "sqlite://%s/%s/pstudio.db", cwd,
                     strncmp(dir, "./", 2) == 0 ? dir + 2 : dir);
        }
        free(abs);
    }
    return 0;
}

void config_free(config *c)
{
    for (size_t i = 0; i < CONFIG__N; i++) {
        const config__spec *sp = &config__specs[i];
        if (sp->type != CFG_INT && sp->type != CFG_BOOL) {
            char **f = (char **)((char *)c + sp->offset);
            free(*f);
            *f = NULL;
        }
    }
    free(c->argv);
    c->argv = NULL;
    c->argc = 0;
}

void config_print_help(FILE *out)
{
    fprintf(out, "Settings (flag, then environment, then config file, then default):\n");
    for (size_t i = 0; i < CONFIG__N; i++) {
        const config__spec *sp = &config__specs[i];
        fprintf(out, "  %-24s %-30s %s", sp->flag ? sp->flag : "(no flag)", sp->env, sp->help);
        if (sp->def)
            fprintf(out, " [default: %s]", sp->def);
        fputc('\n', out);
    }
}

void config_print_markdown(FILE *out)
{
    fprintf(out, "| variable | flag | config-file name | default | meaning |\n");
    fprintf(out, "|---|---|---|---|---|\n");
    for (size_t i = 0; i < CONFIG__N; i++) {
        const config__spec *sp = &config__specs[i];
        fprintf(out, "| `%s` | %s%s%s | `%s` | %s%s%s | %s |\n", sp->env, sp->flag ? "`" : "",
                sp->flag ? sp->flag : "none", sp->flag ? "`" : "", sp->name, sp->def ? "`" : "",
                sp->def                  ? sp->def
                : sp->type == CFG_DB_URL ? "derived"
                                         : "none",
                sp->def ? "`" : "", sp->help);
    }
}
