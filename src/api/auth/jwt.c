/*
 * jwt.c - HS256 session tokens (jwt.h): base64url, signing, and verification
 * in a fixed order (shape, header, signature, then the claims).
 */
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

/* Stable names of enum jwt_err, by value. */
static const char *const jwt_err_names[] = {
    [JWT_OK] = "ok",
    [JWT_MALFORMED] = "malformed",
    [JWT_BAD_HEADER] = "bad_header",
    [JWT_BAD_SIGNATURE] = "bad_signature",
    [JWT_BAD_CLAIMS] = "bad_claims",
    [JWT_EXPIRED] = "expired",
    [JWT_NOT_YET_VALID] = "not_yet_valid",
    [JWT_INTERNAL] = "internal",
};

const char *jwt_err_str(enum jwt_err e)
{
    size_t i = (size_t)e;

    if (i >= sizeof(jwt_err_names) / sizeof(jwt_err_names[0]) || !jwt_err_names[i])
        return "internal";
    return jwt_err_names[i];
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

/* The value (0..63) of a base64url character, or -1 (NUL included). */
static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url_alphabet, c) : NULL;

    return p ? (int)(p - b64url_alphabet) : -1;
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

/* A token cut at its two dots: header, payload and signature (no NUL at their ends). */
struct jwt_parts {
    const char *header, *payload, *sig;
    size_t hl, pl, sl;
};

/* Split token into three non-empty parts; JWT_OK or JWT_MALFORMED. */
static enum jwt_err split_token(const char *token, struct jwt_parts *p)
{
    const char *dot1, *dot2;
    size_t len;

    if (!token)
        return JWT_MALFORMED;
    len = strnlen(token, JWT_MAX_LEN + 1);
    if (len == 0 || len > JWT_MAX_LEN)
        return JWT_MALFORMED;
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return JWT_MALFORMED;
    p->header = token;
    p->hl = (size_t)(dot1 - token);
    p->payload = dot1 + 1;
    p->pl = (size_t)(dot2 - dot1 - 1);
    p->sig = dot2 + 1;
    p->sl = len - (size_t)(dot2 + 1 - token);
    return p->hl && p->pl && p->sl ? JWT_OK : JWT_MALFORMED;
}

/* The header, checked first: an unexpected algorithm is refused before anything else. */
static enum jwt_err check_header(const struct jwt_parts *p)
{
    json_t *header = decode_json_part(p->header, p->hl);
    enum jwt_err rc;

    if (!header)
        return JWT_MALFORMED;
    rc = header_valid(header) ? JWT_OK : JWT_BAD_HEADER;
    json_decref(header);
    return rc;
}

/* The signature: HMAC-SHA256 of "<header>.<payload>" as received, compared in constant time. */
static enum jwt_err check_signature(const struct jwt_parts *p, const void *key, size_t keylen)
{
    unsigned char mac[32], sig[34];
    enum jwt_err rc = JWT_BAD_SIGNATURE;

    if (jwt_b64url_decode(p->sig, p->sl, sig, sizeof(sig)) != (long)sizeof(mac))
        return JWT_BAD_SIGNATURE;
    if (hmac_sha256(key, keylen, p->header, p->hl + 1 + p->pl, mac) < 0)
        rc = JWT_INTERNAL;
    else if (CRYPTO_memcmp(mac, sig, sizeof(mac)) == 0)
        rc = JWT_OK;
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}

/* The claims of a correctly signed payload, valid at now_s, into *c. */
static enum jwt_err check_claims(const struct jwt_parts *p, int64_t now_s, struct jwt_claims *c)
{
    json_t *payload = decode_json_part(p->payload, p->pl);
    enum jwt_err rc;

    if (!payload)
        return JWT_MALFORMED;
    rc = claims_parse(payload, c);
    json_decref(payload);
    if (rc != JWT_OK)
        return rc;
    if (now_s - JWT_LEEWAY_S >= c->exp)   /* not c->exp + leeway: exp may be INT64_MAX */
        return JWT_EXPIRED;
    if (now_s + JWT_LEEWAY_S < c->nbf)
        return JWT_NOT_YET_VALID;
    return JWT_OK;
}

enum jwt_err jwt_verify(const char *token, const void *key, size_t keylen,
                        int64_t now_s, struct jwt_claims *out)
{
    struct jwt_parts p;
    struct jwt_claims c;
    enum jwt_err rc;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    rc = split_token(token, &p);
    if (rc == JWT_OK)
        rc = check_header(&p);
    if (rc == JWT_OK)
        rc = check_signature(&p, key, keylen);
    /* Only a correctly signed payload is parsed. */
    if (rc == JWT_OK)
        rc = check_claims(&p, now_s, &c);
    if (rc == JWT_OK)
        *out = c;
    return rc;
}
