/*
 * libFuzzer: jwt_verify (api/jwt.h) with a fixed key.
 *
 * The first byte picks a mode (the rest is the input proper):
 *   0  the bytes are the token, as a client would send it;
 *   1  the bytes are "<header>.<payload>" and the harness appends the correct
 *      signature, so the payload and claim checks are reached at all;
 *   2  the bytes are raw header JSON and payload JSON split at the first '\n';
 *      the harness base64url-encodes and signs them (JSON-level fuzzing).
 * Whatever verifies must hold well-formed claims, and re-signing those claims
 * must give a token that verifies to the same claims.
 */
#include "api/auth/jwt.h"
#include "common/hash.h"
#include "common/ids.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW_S 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "fuzz-jwt-key-0123456789abcdef0123456789";

static int zeroed(const struct jwt_claims *c)
{
    static const struct jwt_claims zero;

    return memcmp(c, &zero, sizeof(zero)) == 0;
}

static void check(const char *token)
{
    struct jwt_claims c, again;
    enum jwt_err e = jwt_verify(token, key, sizeof(key) - 1, NOW_S, &c);
    char *resigned = NULL;

    if ((unsigned)e > JWT_INTERNAL || !jwt_err_str(e)[0])
        abort();
    if (e != JWT_OK) {
        if (!zeroed(&c))
            abort();
        return;
    }
    if (!id_is_uuid(c.sub) || !id_is_uuid(c.tid) || !id_is_uuid(c.jti))
        abort();
    if (strcmp(c.role, "user") != 0 && strcmp(c.role, "admin") != 0)
        abort();
    if (c.exp <= c.nbf || c.exp <= c.iat || c.iat < 0 || c.nbf < 0)
        abort();
    if (jwt_sign(&c, key, sizeof(key) - 1, &resigned) != 0)
        abort();
    if (jwt_verify(resigned, key, sizeof(key) - 1, NOW_S, &again) != JWT_OK ||
        memcmp(&c, &again, sizeof(c)) != 0)
        abort();
    /* the same token under another key never verifies */
    if (jwt_verify(token, "other", 5, NOW_S, &again) != JWT_BAD_SIGNATURE)
        abort();
    free(resigned);
}

/* "<signing input>.<signature>" as a new string. */
static char *sign_input(const char *in, size_t n)
{
    unsigned char mac[32];
    char *tok = malloc(n + 1 + 44 + 1);

    if (!tok)
        return NULL;
    if (hmac_sha256(key, sizeof(key) - 1, in, n, mac) < 0) {
        free(tok);
        return NULL;
    }
    memcpy(tok, in, n);
    tok[n] = '.';
    jwt_b64url_encode(mac, sizeof(mac), tok + n + 1);
    return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1;
    size_t n;
    char *tok = NULL;

    if (size < 1 || size > 3 * JWT_MAX_LEN)
        return 0;
    n = size - 1;
    switch (data[0] % 3) {
    case 0:
        tok = malloc(n + 1);
        if (!tok)
            return 0;
        memcpy(tok, p, n);
        tok[n] = '\0';
        break;
    case 1:
        tok = sign_input(p, n);
        break;
    case 2: {
        const char *nl = memchr(p, '\n', n);
        size_t hl = nl ? (size_t)(nl - p) : n;
        size_t pl = nl ? n - hl - 1 : 0;
        char *in = malloc(4 * ((hl + 2) / 3) + 1 + 4 * ((pl + 2) / 3) + 1);
        size_t o;

        if (!in)
            return 0;
        o = jwt_b64url_encode((const unsigned char *)p, hl, in);
        in[o++] = '.';
        o += jwt_b64url_encode((const unsigned char *)p + hl + (nl ? 1 : 0), pl, in + o);
        tok = sign_input(in, o);
        free(in);
        break;
    }
    }
    if (tok)
        check(tok);
    free(tok);
    return 0;
}
