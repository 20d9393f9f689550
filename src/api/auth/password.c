/*
 * password.c - the password policy, Argon2id hashing and constant-time
 * verification (password.h).
 */
#include "api/auth/password.h"

#include "common/utf8.h"

#include <argon2.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* 1 if the n bytes at s hold an ASCII control character (U+0000-U+001F, U+007F). */
static int has_control(const char *s, size_t n)
{
    /* In UTF-8 every byte of a multi-byte sequence is >= 0x80: a byte test suffices. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return 1;
    return 0;
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
    chars = has_control(pw, n) ? -1 : utf8_count(pw, n);
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
