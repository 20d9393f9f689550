#include "api/auth/jwt.h"

#include "common/hash.h"
#include "common/ids.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *jwt_err_str(enum jwt_err e)
{
    switch (e) {
    case JWT_OK: return "ok";
    case JWT_MALFORMED: return "malformed";
    case JWT_BAD_HEADER: return "bad_header";
    case JWT_BAD_SIGNATURE: return "bad_signature";
    case JWT_BAD_CLAIMS: return "bad_claims";
    case JWT_EXPIRED: return "expired";
    case JWT_NOT_YET_VALID: return "not_yet_valid";
    case JWT_INTERNAL: return "internal";
    }
    return "internal";
}

size_t jwt_b64url_encode(const unsigned char *p, size_t n, char *out)
{
    size_t i = 0, o = 0;
    unsigned v;

    while (i + 3 <= n) {
        v = ((unsigned)p[i] << 16) | ((unsigned)p[i + 1] << 8) | p[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
        i += 3;
    }
    if (n - i == 1) {
        v = (unsigned)p[i] << 16;
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        v = ((unsigned)p[i] << 16) | ((unsigned)p[i + 1] << 8);
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long jwt_b64url_decode(const char *s, size_t len, unsigned char *out, size_t outlen)
{
    size_t i, o = 0, rem = len % 4;
    size_t need = (len / 4) * 3 + (rem ? rem - 1 : 0);
    unsigned v = 0;
    int d;

    if (rem == 1 || need > outlen)
        return -1;
    for (i = 0; i < len; i++) {
        d = b64url_value(s[i]);
        if (d < 0)
            return -1;
        v = (v << 6) | (unsigned)d;
        if (i % 4 == 3) {
            out[o++] = (unsigned char)(v >> 16);
            out[o++] = (unsigned char)(v >> 8);
            out[o++] = (unsigned char)v;
            v = 0;
        }
    }
    if (rem == 2) {
        /* 12 bits: 8 used, the low 4 must be zero */
        if (v & 0xF)
            return -1;
        out[o++] = (unsigned char)(v >> 4);
    } else if (rem == 3) {
        /* 18 bits: 16 used, the low 2 must be zero */
        if (v & 0x3)
            return -1;
        out[o++] = (unsigned char)(v >> 10);
        out[o++] = (unsigned char)(v >> 2);
    }
    return (long)o;
}

/* malloc()ed base64url of a JSON value's compact text, or NULL. */
static char *b64url_json(const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    char *out = NULL;
    size_t n;

    if (!text)
        return NULL;
    n = strlen(text);
    out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        jwt_b64url_encode((const unsigned char *)text, n, out);
    free(text);
    return out;
}

static int role_valid(const char *role)
{
    return strcmp(role, "user") == 0 || strcmp(role, "admin") == 0;
}

int jwt_sign(const struct jwt_claims *c, const void *key, size_t keylen, char **out)
{
    json_t *header = NULL, *payload = NULL;
    char *h64 = NULL, *p64 = NULL, *token = NULL;
    unsigned char mac[32];
    char sig64[45];
    size_t hl, pl, sl;
    int rc = -1;

    if (!id_is_uuid(c->sub) || !id_is_uuid(c->tid) || !id_is_uuid(c->jti) || !role_valid(c->role))
        goto out;
    header = json_pack("{s:s, s:s}", "alg", "HS256", "typ", "JWT");
    payload = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
                        "sub", c->sub, "tid", c->tid, "role", c->role, "jti", c->jti,
                        "iat", (json_int_t)c->iat, "nbf", (json_int_t)c->nbf,
                        "exp", (json_int_t)c->exp);
    if (!header || !payload)
        goto out;
    h64 = b64url_json(header);
    p64 = b64url_json(payload);
    if (!h64 || !p64)
        goto out;
    hl = strlen(h64);
    pl = strlen(p64);
    token = malloc(hl + 1 + pl + 1 + sizeof(sig64));
    if (!token)
        goto out;
    memcpy(token, h64, hl);
    token[hl] = '.';
    memcpy(token + hl + 1, p64, pl);
    if (hmac_sha256(key, keylen, token, hl + 1 + pl, mac) < 0)
        goto out;
    sl = jwt_b64url_encode(mac, sizeof(mac), sig64);
    token[hl + 1 + pl] = '.';
    memcpy(token + hl + 1 + pl + 1, sig64, sl + 1);
    *out = token;
    token = NULL;
    rc = 0;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    free(token);
    free(h64);
    free(p64);
    json_decref(header);
    json_decref(payload);
    return rc;
}

/* Decode one base64url part and parse it as a JSON object; NULL if either fails. */
static json_t *decode_json_part(const char *s, size_t len)
{
    unsigned char *raw;
    long n;
    json_t *j = NULL;

    raw = malloc(3 * (len / 4) + 3);
    if (!raw)
        return NULL;
    n = jwt_b64url_decode(s, len, raw, 3 * (len / 4) + 3);
    if (n > 0)
        j = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* The header may hold alg (exactly "HS256") and typ (exactly "JWT"), nothing else. */
static int header_valid(json_t *h)
{
    const char *k;
    json_t *v;
    int has_alg = 0;

    json_object_foreach(h, k, v) {
        if (strcmp(k, "alg") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "HS256") != 0)
                return 0;
            has_alg = 1;
        } else if (strcmp(k, "typ") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "JWT") != 0)
                return 0;
        } else {
            return 0;
        }
    }
    return has_alg;
}

static int claim_uuid(json_t *p, const char *name, char out[ID_UUID_LEN + 1])
{
    json_t *v = json_object_get(p, name);
    const char *s;

    if (!json_is_string(v))
        return -1;
    s = json_string_value(v);
    if (!id_is_uuid(s))
        return -1;
    memcpy(out, s, ID_UUID_LEN + 1);
    return 0;
}

static int claim_time(json_t *p, const char *name, int64_t *out)
{
    json_t *v = json_object_get(p, name);

    /* NumericDate: jansson keeps integers and reals apart, so 1.5 or "1" are refused */
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static enum jwt_err claims_parse(json_t *p, struct jwt_claims *c)
{
    json_t *role = json_object_get(p, "role");

    if (claim_uuid(p, "sub", c->sub) < 0 || claim_uuid(p, "tid", c->tid) < 0 ||
        claim_uuid(p, "jti", c->jti) < 0)
        return JWT_BAD_CLAIMS;
    if (!json_is_string(role) || !role_valid(json_string_value(role)))
        return JWT_BAD_CLAIMS;
    snprintf(c->role, sizeof(c->role), "%s", json_string_value(role));
    if (claim_time(p, "iat", &c->iat) < 0 || claim_time(p, "nbf", &c->nbf) < 0 ||
        claim_time(p, "exp", &c->exp) < 0)
        return JWT_BAD_CLAIMS;
    if (c->exp <= c->nbf || c->exp <= c->iat)
        return JWT_BAD_CLAIMS;
    return JWT_OK;
}

enum jwt_err jwt_verify(const char *token, const void *key, size_t keylen,
                        int64_t now_s, struct jwt_claims *out)
{
    struct jwt_claims c;
    const char *dot1, *dot2;
    size_t len, hl, pl, sl;
    unsigned char mac[32], sig[34];
    json_t *header = NULL, *payload = NULL;
    enum jwt_err rc = JWT_MALFORMED;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    if (!token)
        goto out;
    len = strnlen(token, JWT_MAX_LEN + 1);
    if (len == 0 || len > JWT_MAX_LEN)
        goto out;
    dot1 = memchr(token, '.', len);
    if (!dot1)
        goto out;
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        goto out;
    hl = (size_t)(dot1 - token);
    pl = (size_t)(dot2 - dot1 - 1);
    sl = len - (size_t)(dot2 + 1 - token);
    if (hl == 0 || pl == 0 || sl == 0)
        goto out;

    /* The header first: an unexpected algorithm is refused before anything else. */
    header = decode_json_part(token, hl);
    if (!header)
        goto out;
    if (!header_valid(header)) {
        rc = JWT_BAD_HEADER;
        goto out;
    }
    if (jwt_b64url_decode(dot2 + 1, sl, sig, sizeof(sig)) != (long)sizeof(mac)) {
        rc = JWT_BAD_SIGNATURE;
        goto out;
    }
    if (hmac_sha256(key, keylen, token, hl + 1 + pl, mac) < 0) {
        rc = JWT_INTERNAL;
        goto out;
    }
    if (CRYPTO_memcmp(mac, sig, sizeof(mac)) != 0) {
        rc = JWT_BAD_SIGNATURE;
        goto out;
    }
    /* Only a correctly signed payload is parsed. */
    payload = decode_json_part(dot1 + 1, pl);
    if (!payload)
        goto out;
    rc = claims_parse(payload, &c);
    if (rc != JWT_OK)
        goto out;
    if (now_s - JWT_LEEWAY_S >= c.exp) {   /* not c.exp + leeway: exp may be INT64_MAX */
        rc = JWT_EXPIRED;
        goto out;
    }
    if (now_s + JWT_LEEWAY_S < c.nbf) {
        rc = JWT_NOT_YET_VALID;
        goto out;
    }
    *out = c;
    rc = JWT_OK;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    json_decref(header);
    json_decref(payload);
    return rc;
}
