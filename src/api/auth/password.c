#include "api/auth/password.h"

#include <argon2.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* Number of code points of a valid UTF-8 string without control characters, or -1. */
static long utf8_chars(const unsigned char *s, size_t n)
{
    size_t i = 0;
    long count = 0;
    unsigned cp;
    int extra;

    while (i < n) {
        unsigned char c = s[i];

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F)
                return -1;
            i++;
            count++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1F;
            extra = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0F;
            extra = 2;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07;
            extra = 3;
        } else {
            return -1;
        }
        if (n - i <= (size_t)extra)
            return -1;
        for (int k = 1; k <= extra; k++) {
            if ((s[i + (size_t)k] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (s[i + (size_t)k] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        i += (size_t)extra + 1;
        count++;
    }
    return count;
}

int password_check(const char *pw, const char **why)
{
    size_t n;
    long chars;

    if (!pw) {
        *why = "password is required";
        return -1;
    }
    n = strnlen(pw, PASSWORD_MAX_BYTES + 1);
    if (n > PASSWORD_MAX_BYTES) {
        *why = "password must be at most 1024 bytes";
        return -1;
    }
    chars = utf8_chars((const unsigned char *)pw, n);
    if (chars < 0) {
        *why = "password must be valid UTF-8 without control characters";
        return -1;
    }
    if (chars < PASSWORD_MIN_CHARS) {
        *why = "password must be at least 8 characters";
        return -1;
    }
    return 0;
}

static int fill_random(unsigned char *p, size_t n)
{
    size_t got = 0;
    ssize_t k;

    while (got < n) {
        k = getrandom(p + got, n - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)k;
    }
    return 0;
}

int password_hash(const char *pw, char *out, size_t outlen)
{
    unsigned char salt[PASSWORD_SALT_LEN];
    size_t n = strnlen(pw, PASSWORD_MAX_BYTES + 1);
    int rc;

    if (n > PASSWORD_MAX_BYTES || fill_random(salt, sizeof(salt)) < 0)
        return -1;
    rc = argon2id_hash_encoded(PASSWORD_T_COST, PASSWORD_M_COST_KIB, PASSWORD_PARALLELISM,
                               pw, n, salt, sizeof(salt), PASSWORD_HASH_LEN, out, outlen);
    OPENSSL_cleanse(salt, sizeof(salt));
    return rc == ARGON2_OK ? 0 : -1;
}

int password_verify(const char *encoded, const char *pw)
{
    size_t n;
    int rc;

    /*
     * Refusals that need no hashing still spend one verify's time: otherwise an
     * over-long password or a placeholder hash would answer measurably faster for
     * an existing account than the dummy verify does for a missing one.
     */
    if (!encoded || !pw || strncmp(encoded, "$argon2id$", 10) != 0) {
        password_verify_dummy(pw ? pw : "");
        return 0;
    }
    n = strnlen(pw, PASSWORD_MAX_BYTES + 1);
    if (n > PASSWORD_MAX_BYTES) {
        password_verify_dummy(pw);
        return 0;
    }
    /* argon2_verify recomputes the hash and compares in constant time */
    rc = argon2id_verify(encoded, pw, n);
    if (rc == ARGON2_OK)
        return 1;
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
        return -1;
    return 0;
}

static char dummy_hash[PASSWORD_ENCODED_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
    unsigned char secret[16];
    char pw[33];

    /* A password nobody knows, hashed with the current parameters. */
    if (fill_random(secret, sizeof(secret)) < 0)
        memset(secret, 0x5a, sizeof(secret));
    for (size_t i = 0; i < sizeof(secret); i++)
        snprintf(pw + 2 * i, 3, "%02x", secret[i]);
    if (password_hash(pw, dummy_hash, sizeof(dummy_hash)) < 0)
        dummy_hash[0] = '\0';
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(secret, sizeof(secret));
}

void password_verify_dummy(const char *pw)
{
    size_t n;

    pthread_once(&dummy_once, dummy_init);
    if (!dummy_hash[0] || !pw)
        return;
    n = strnlen(pw, PASSWORD_MAX_BYTES);
    (void)argon2id_verify(dummy_hash, pw, n);
}
