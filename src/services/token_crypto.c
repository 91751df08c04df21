#include "services/token_crypto.h"

#include "base/alloc.h"
#include "base/timeutil.h"
#include "domain/account_store.h"
#include "domain/token_key_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_KDF_CONTEXT "pstokens" /* crypto_kdf contexts are exactly 8 bytes */
#define TOKEN_CHECK_TEXT  "pstudio token key check"
#define TOKEN_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TOKEN_SEAL_MAX    65536 /* no token, verifier or key comes close */

/* Accepts standard or URL-safe base64, padded or not: what `openssl rand
 * -base64 32` prints and what people paste. Exactly 32 bytes, nothing else. */
static int token__decode_key(const char *b64, unsigned char out[TOKEN_KEY_BYTES])
{
    static const int variants[] = {
        sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    size_t len = strlen(b64);
    while (len > 0 && (b64[len - 1] == '\n' || b64[len - 1] == '\r' || b64[len - 1] == ' '))
        len--;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        size_t n = 0;
        const char *end = NULL;
        if (sodium_base642bin(out, TOKEN_KEY_BYTES, b64, len, NULL, &n, &end, variants[i]) == 0 &&
            n == TOKEN_KEY_BYTES && end == b64 + len)
            return 0;
    }
    sodium_memzero(out, TOKEN_KEY_BYTES);
    return -1;
}

/* Writes a new random key to path without ever exposing a partial file:
 * the key goes to a private temporary file first, which is then linked into
 * place; link() fails when another process created the file meanwhile, and
 * then that process's key is the one everybody reads. */
static int token__create_key_file(const char *path, error *err)
{
    char tmp[400];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%08x", path, (long)getpid(), randombytes_random());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "cannot create the token key file %s: %s", path, strerror(errno));
    unsigned char key[TOKEN_KEY_BYTES];
    randombytes_buf(key, sizeof(key));
    char b64[sodium_base64_ENCODED_LEN(TOKEN_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL) + 1];
    sodium_bin2base64(b64, sizeof(b64) - 1, key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
    size_t len = strlen(b64);
    b64[len++] = '\n';
    bool ok = write(fd, b64, len) == (ssize_t)len && fsync(fd) == 0;
    sodium_memzero(b64, sizeof(b64));
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(tmp);
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "cannot write the token key file %s: %s", path, strerror(saved));
    }
    int lrc = link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (lrc != 0 && saved != EEXIST)
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "cannot create the token key file %s: %s", path, strerror(saved));
    return 0;
}

static int token__read_key_file(const char *path, unsigned char out[TOKEN_KEY_BYTES], error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "cannot read the token key file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "cannot read the token key file %s: %s", path, strerror(saved));
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "the token key file %s can be read by other users (mode %04o); run "
                         "'chmod 600 %s'",
                         path, (unsigned)(st.st_mode & 07777), path);
    }
    char text[256];
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n < 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "cannot read the token key file %s: %s", path, strerror(errno));
    text[n] = '\0';
    int rc = token__decode_key(text, out);
    sodium_memzero(text, sizeof(text));
    if (rc != 0)
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "the token key file %s does not hold 32 bytes in base64", path);
    return 0;
}

int token_keyring_load(const services *s, token_keyring *k, error *err)
{
    memset(k, 0, sizeof(*k));
    if (sodium_init() < 0)
        return error_set(err, ERR_INTERNAL, NULL, "libsodium could not be initialised");
    if (s->secret_key_b64 != NULL) {
        snprintf(k->source, sizeof(k->source), "PSTUDIO_SECRET_KEY");
        if (token__decode_key(s->secret_key_b64, k->master) != 0)
            return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                             "PSTUDIO_SECRET_KEY must be 32 bytes in base64 (make one with "
                             "'openssl rand -base64 32')");
        return 0;
    }
    if (s->data_dir == NULL)
        return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                         "no key to encrypt OAuth tokens with: set PSTUDIO_SECRET_KEY or "
                         "PSTUDIO_DATA_DIR");
    snprintf(k->source, sizeof(k->source), "%s/secret.key", s->data_dir);
    if (access(k->source, F_OK) != 0 && token__create_key_file(k->source, err) != 0)
        return -1;
    if (token__read_key_file(k->source, k->master, err) != 0) {
        sodium_memzero(k->master, sizeof(k->master));
        return -1;
    }
    return 0;
}

void token_keyring_wipe(token_keyring *k)
{
    sodium_memzero(k->master, sizeof(k->master));
}

static void token__subkey(const token_keyring *k, int version, unsigned char out[TOKEN_KEY_BYTES])
{
    crypto_kdf_derive_from_key(out, TOKEN_KEY_BYTES, (uint64_t)version, TOKEN_KDF_CONTEXT,
                               k->master);
}

static void token__check_value(const token_keyring *k, int version, char out[65])
{
    unsigned char sub[TOKEN_KEY_BYTES], mac[32];
    token__subkey(k, version, sub);
    crypto_generichash(mac, sizeof(mac), (const unsigned char *)TOKEN_CHECK_TEXT,
                       strlen(TOKEN_CHECK_TEXT), sub, sizeof(sub));
    sodium_memzero(sub, sizeof(sub));
    sodium_bin2hex(out, 65, mac, sizeof(mac));
}

static int token__wrong_master(const token_keyring *k, int version, error *err)
{
    return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                     "the token key from %s is not the one this database's Google tokens are "
                     "sealed with (key version %d, stored by the first process that started on "
                     "it); every serve, worker and admin process must be given the same key: "
                     "restore the original key",
                     k->source, version);
}

int token_crypto_current_version(db_conn *c, const token_keyring *k, int *version, error *err)
{
    char stored[65], mine[65];
    if (token_key_store_current(c, version, stored, err) != 0)
        return -1;
    if (*version == 0) {
        /* First use: version 1. A concurrent first use inserts the same row. */
        bool created;
        token__check_value(k, 1, mine);
        if (token_key_store_insert(c, 1, mine, time_now_usec(), &created, err) != 0 ||
            token_key_store_current(c, version, stored, err) != 0)
            return -1;
    }
    token__check_value(k, *version, mine);
    if (sodium_memcmp(stored, mine, 64) != 0)
        return token__wrong_master(k, *version, err);
    return 0;
}

int token_keyring_check(const services *s, db_conn *c, error *err)
{
    token_keyring k;
    if (token_keyring_load(s, &k, err) != 0) {
        token_keyring_wipe(&k);
        return -1;
    }
    /* On an empty database this stores version 1's check value, so the
     * first process to start fixes the key for every later one. */
    int version = 0;
    int rc = token_crypto_current_version(c, &k, &version, err);
    token_keyring_wipe(&k);
    return rc;
}

int token_keyring_matches(const services *s, int version, const char *check, error *err)
{
    if (s->secret_key_b64 == NULL && s->data_dir != NULL) {
        char path[sizeof(((token_keyring *)0)->source)];
        snprintf(path, sizeof(path), "%s/secret.key", s->data_dir);
        if (access(path, F_OK) != 0)
            return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                             "the backup's Google tokens are sealed with a key (version %d) and "
                             "none is configured: set PSTUDIO_SECRET_KEY, or put the original "
                             "secret.key in %s, before restoring",
                             version, s->data_dir);
    }
    token_keyring k;
    if (token_keyring_load(s, &k, err) != 0) {
        token_keyring_wipe(&k);
        return -1;
    }
    char mine[65];
    token__check_value(&k, version, mine);
    int same = strlen(check) == 64 && sodium_memcmp(check, mine, 64) == 0;
    token_keyring_wipe(&k);
    if (same)
        return 0;
    return error_set(err, ERR_CONFIG, "PSTUDIO_SECRET_KEY",
                     "the key from %s is not the one the backup's Google tokens are sealed with "
                     "(key version %d): give the restore the key the backup was made with, in "
                     "PSTUDIO_SECRET_KEY or as <data_dir>/secret.key",
                     k.source, version);
}

int token_crypto_new_version(db_conn *c, const token_keyring *k, int *version, error *err)
{
    int current;
    if (token_crypto_current_version(c, k, &current, err) != 0)
        return -1;
    char check[65];
    token__check_value(k, current + 1, check);
    bool created;
    if (token_key_store_insert(c, current + 1, check, time_now_usec(), &created, err) != 0)
        return -1;
    if (!created)
        return error_set(err, ERR_CONFLICT, NULL,
                         "another key rotation created version %d at the same moment; run it "
                         "again once that one has finished",
                         current + 1);
    *version = current + 1;
    return 0;
}

/* "<purpose>|<row id>|<user id>|<version>": what binds a ciphertext to its place. */
static size_t token__ad(char *out, size_t n, const char *purpose, const char *row_id,
                        const char *user_id, int version)
{
    int len = snprintf(out, n, "%s|%s|%s|%d", purpose, row_id, user_id, version);
    return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

int token_crypto_seal(const token_keyring *k, int version, const char *purpose, const char *row_id,
                      const char *user_id, const char *plain, token_sealed *out, error *err)
{
    memset(out, 0, sizeof(*out));
    size_t plen = strlen(plain);
    if (plen > TOKEN_SEAL_MAX)
        return error_set(err, ERR_TOO_LARGE, NULL, "a secret of %zu bytes is too large to store",
                         plen);
    char ad[200];
    size_t adlen = token__ad(ad, sizeof(ad), purpose, row_id, user_id, version);
    unsigned char sub[TOKEN_KEY_BYTES];
    token__subkey(k, version, sub);
    out->len = TOKEN_NONCE_BYTES + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    out->data = xmalloc(out->len);
    randombytes_buf(out->data, TOKEN_NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        out->data + TOKEN_NONCE_BYTES, &clen, (const unsigned char *)plain, plen,
        (const unsigned char *)ad, adlen, NULL, out->data, sub);
    sodium_memzero(sub, sizeof(sub));
    out->len = TOKEN_NONCE_BYTES + (size_t)clen;
    return 0;
}

int token_crypto_open(db_conn *c, const token_keyring *k, int version, const char *purpose,
                      const char *row_id, const char *user_id, const void *sealed, size_t n,
                      char **plain, error *err)
{
    *plain = NULL;
    const unsigned char *in = sealed;
    size_t overhead = TOKEN_NONCE_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (in != NULL && n >= overhead && n <= TOKEN_SEAL_MAX + overhead) {
        char ad[200];
        size_t adlen = token__ad(ad, sizeof(ad), purpose, row_id, user_id, version);
        unsigned char sub[TOKEN_KEY_BYTES];
        token__subkey(k, version, sub);
        unsigned char *out = xmalloc(n - overhead + 1);
        unsigned long long mlen = 0;
        int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, &mlen, NULL, in + TOKEN_NONCE_BYTES, n - TOKEN_NONCE_BYTES,
            (const unsigned char *)ad, adlen, in, sub);
        sodium_memzero(sub, sizeof(sub));
        if (rc == 0) {
            out[mlen] = '\0';
            *plain = (char *)out;
            return 0;
        }
        free(out);
    }
    /* Say which: a wrong master key is an operator's fix, a bad row is not. */
    char stored[65], mine[65];
    error ignored;
    if (c != NULL && token_key_store_check(c, version, stored, &ignored) == 0) {
        token__check_value(k, version, mine);
        if (sodium_memcmp(stored, mine, 64) != 0)
            return token__wrong_master(k, version, err);
    }
    return error_set(err, ERR_CONFLICT, "credentials",
                     "the stored secret of %s %s does not decrypt: it was altered, or copied "
                     "from another row; connect the Google account again",
                     strncmp(purpose, "oauth.", 6) == 0 ? "authorization request" : "account",
                     row_id);
}

void token_sealed_free(token_sealed *s)
{
    free(s->data);
    s->data = NULL;
    s->len = 0;
}

void token_secret_free(char *plain)
{
    if (plain == NULL)
        return;
    sodium_memzero(plain, strlen(plain));
    free(plain);
}

void token_crypto_random_b64url(char out[44])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, 44, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void token_crypto_sha256_b64url(const char *s, char out[44])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2base64(out, 44, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void token_crypto_sha256_hex(const char *s, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, 65, h, sizeof(h));
}
