/*
 * jwt.h - session tokens: compact HS256 JSON Web Tokens, signed and verified
 * with OpenSSL HMAC-SHA256 (common/hash.h), base64url and jansson.
 *
 * Not libjwt on purpose: old versions let the token's own header pick the
 * algorithm (the "alg: none" and HS/RS confusion families). Here the algorithm
 * is fixed: a token verifies only if its header is exactly
 * {"alg":"HS256"} or {"alg":"HS256","typ":"JWT"} (any key order, nothing else),
 * its signature is the HMAC-SHA256 of "<header>.<payload>" as received
 * (compared in constant time), and its claims are all present and well typed:
 *
 *   sub  user_id (UUID)          tid  tenant_id (UUID)
 *   role "user" | "admin"        jti  token id (UUID)
 *   iat, nbf, exp  integers, seconds since the epoch
 *
 * exp and nbf are checked against the caller's clock with JWT_LEEWAY_S of
 * tolerance for clock skew between instances. Pure functions: no I/O, no
 * global state, so they are unit-tested directly (tests/unit/api/test_jwt.c).
 */
#ifndef API_JWT_H
#define API_JWT_H

#include "common/ids.h"

#include <stddef.h>
#include <stdint.h>

#define JWT_LEEWAY_S 30          /* tolerated clock skew for exp and nbf */
#define JWT_MAX_LEN  4096        /* longer tokens are rejected unparsed */

struct jwt_claims {
    char sub[ID_UUID_LEN + 1];   /* user_id */
    char tid[ID_UUID_LEN + 1];   /* tenant_id */
    char role[8];                /* "user" or "admin" */
    char jti[ID_UUID_LEN + 1];
    int64_t iat;
    int64_t nbf;
    int64_t exp;
};

enum jwt_err {
    JWT_OK = 0,
    JWT_MALFORMED,       /* not three base64url parts, bad JSON, too long */
    JWT_BAD_HEADER,      /* alg other than HS256 (incl. none), bad typ, extra keys */
    JWT_BAD_SIGNATURE,
    JWT_BAD_CLAIMS,      /* a claim missing, of the wrong type or invalid */
    JWT_EXPIRED,
    JWT_NOT_YET_VALID,
    JWT_INTERNAL,        /* out of memory, HMAC failure */
};

/* Stable name of an error ("expired"), for logs only: clients always get one 401. */
const char *jwt_err_str(enum jwt_err e);

/*
 * Sign c with key. On success *out is a malloc()ed NUL-terminated token (the
 * caller frees it) and 0 is returned; -1 on invalid claims (sub/tid/jti not
 * UUIDs, role not user|admin) or out of memory, with *out untouched.
 */
int jwt_sign(const struct jwt_claims *c, const void *key, size_t keylen, char **out);

/*
 * Verify token with key at time now_s (seconds since the epoch). On JWT_OK the
 * claims are in *out; on any other result *out is zeroed.
 */
enum jwt_err jwt_verify(const char *token, const void *key, size_t keylen,
                        int64_t now_s, struct jwt_claims *out);

/*
 * base64url without padding (RFC 4648 section 5), exposed for tests.
 * jwt_b64url_encode writes NUL-terminated text into out (needs
 * 4 * ceil(n / 3) + 1 bytes) and returns its length.
 * jwt_b64url_decode is strict: no padding, no characters outside the alphabet,
 * no length of 1 mod 4, unused trailing bits must be zero (so one token has
 * exactly one spelling). Returns the decoded length, or -1; out needs
 * 3 * (len / 4) + 2 bytes.
 */
size_t jwt_b64url_encode(const unsigned char *p, size_t n, char *out);
long jwt_b64url_decode(const char *s, size_t len, unsigned char *out, size_t outlen);

#endif
