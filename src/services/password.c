#include "services/password.h"

#include <sodium.h>
#include <string.h>

/* libsodium's "interactive" preset: about 3.4 times the OWASP floor
 * (19 MiB, 2 passes) in memory x passes, and a verification of about
 * 140 ms here (docs/benchmarks.md). */
#define PASSWORD__OPSLIMIT 2
#define PASSWORD__MEMLIMIT (64u * 1024u * 1024u)

_Static_assert(PASSWORD_HASH_LEN == crypto_pwhash_STRBYTES, "hash buffer size");

int password_validate(const char *pw, error *err)
{
    size_t n = strlen(pw);
    if (n < PASSWORD_MIN_LEN)
        return error_set(err, ERR_INVALID, "password",
                         "the password must have at least %d characters", PASSWORD_MIN_LEN);
    if (n > PASSWORD_MAX_LEN)
        return error_set(err, ERR_INVALID, "password",
                         "the password must have at most %d characters", PASSWORD_MAX_LEN);
    return 0;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_LEN], error *err)
{
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), PASSWORD__OPSLIMIT, PASSWORD__MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return error_set(err, ERR_INTERNAL, NULL, "password hashing ran out of memory");
    return 0;
}

bool password_verify(const char *pw, const char *hash)
{
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool password_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, PASSWORD__OPSLIMIT, PASSWORD__MEMLIMIT) != 0;
}
