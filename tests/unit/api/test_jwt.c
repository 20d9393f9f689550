/* test_jwt.c - HS256 session tokens: round trip and every way a token must be refused. */
#include "api/auth/jwt.h"
#include "common/hash.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char KEY[] = "0123456789abcdef0123456789abcdef-test-key";
#define KEYLEN (sizeof(KEY) - 1)
#define NOW 1800000000

static void sample_claims(struct jwt_claims *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->sub, sizeof(c->sub), "11111111-2222-4333-8444-555555555555");
    snprintf(c->tid, sizeof(c->tid), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    snprintf(c->jti, sizeof(c->jti), "99999999-8888-4777-8666-555555555555");
    snprintf(c->role, sizeof(c->role), "admin");
    c->iat = NOW;
    c->nbf = NOW;
    c->exp = NOW + 3600;
}

/* base64url(header).base64url(payload).base64url(HMAC(key)) from raw JSON texts. */
static char *forge(const char *header, const char *payload, const void *key, size_t keylen)
{
    size_t hl = strlen(header), pl = strlen(payload);
    char *out = malloc(4 * (hl + pl) / 3 + 128);
    unsigned char mac[32];
    size_t n;

    assert_non_null(out);
    n = jwt_b64url_encode((const unsigned char *)header, hl, out);
    out[n++] = '.';
    n += jwt_b64url_encode((const unsigned char *)payload, pl, out + n);
    assert_int_equal(hmac_sha256(key, keylen, out, n, mac), 0);
    out[n++] = '.';
    jwt_b64url_encode(mac, sizeof(mac), out + n);
    return out;
}

static char *payload_json(const char *overrides)
{
    char *p = malloc(1024);

    assert_non_null(p);
    snprintf(p, 1024,
             "{\"sub\":\"11111111-2222-4333-8444-555555555555\","
             "\"tid\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\","
             "\"jti\":\"99999999-8888-4777-8666-555555555555\",\"role\":\"user\"%s%s}",
             overrides[0] ? "," : "", overrides);
    return p;
}

static enum jwt_err verify_forged(const char *header, const char *payload)
{
    struct jwt_claims c;
    char *t = forge(header, payload, KEY, KEYLEN);
    enum jwt_err e = jwt_verify(t, KEY, KEYLEN, NOW, &c);

    free(t);
    return e;
}

static void test_round_trip(void **state)
{
    struct jwt_claims in, out;
    char *token = NULL;

    (void)state;
    sample_claims(&in);
    assert_int_equal(jwt_sign(&in, KEY, KEYLEN, &token), 0);
    assert_non_null(token);
    assert_int_equal(jwt_verify(token, KEY, KEYLEN, NOW + 10, &out), JWT_OK);
    assert_string_equal(out.sub, in.sub);
    assert_string_equal(out.tid, in.tid);
    assert_string_equal(out.jti, in.jti);
    assert_string_equal(out.role, "admin");
    assert_int_equal(out.iat, NOW);
    assert_int_equal(out.nbf, NOW);
    assert_int_equal(out.exp, NOW + 3600);
    /* another key does not verify it */
    assert_int_equal(jwt_verify(token, "another-key-another-key-another-key", 35, NOW, &out),
                     JWT_BAD_SIGNATURE);
    free(token);
}

static void test_sign_refuses_bad_claims(void **state)
{
    struct jwt_claims c;
    char *token = NULL;

    (void)state;
    sample_claims(&c);
    snprintf(c.role, sizeof(c.role), "root");
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), -1);
    sample_claims(&c);
    snprintf(c.sub, sizeof(c.sub), "not-a-uuid");
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), -1);
    assert_null(token);
}

static void test_tampered(void **state)
{
    struct jwt_claims c, out;
    char *token = NULL, *dot;
    size_t n;

    (void)state;
    sample_claims(&c);
    snprintf(c.role, sizeof(c.role), "user");
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), 0);

    /* flip one character of the signature */
    n = strlen(token);
    token[n - 2] = token[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(jwt_verify(token, KEY, KEYLEN, NOW, &out), JWT_BAD_SIGNATURE);
    assert_string_equal(out.sub, "");   /* nothing leaks out of a refused token */
    free(token);

    /* keep the signature, swap the payload for one that says admin */
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), 0);
    {
        char *forged = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"role\":\"admin\"}", KEY, KEYLEN);
        char *sig = strrchr(token, '.');
        char *fsig;

        dot = strrchr(forged, '.');
        *dot = '\0';
        fsig = malloc(strlen(forged) + strlen(sig) + 1);
        assert_non_null(fsig);
        snprintf(fsig, strlen(forged) + strlen(sig) + 1, "%s%s", forged, sig);
        assert_int_equal(jwt_verify(fsig, KEY, KEYLEN, NOW, &out), JWT_BAD_SIGNATURE);
        free(fsig);
        free(forged);
    }
    free(token);
}

static void test_alg_none(void **state)
{
    struct jwt_claims out;
    char *p = payload_json("\"iat\":1800000000,\"nbf\":1800000000,\"exp\":1800003600");
    char hb[128], pb[1024], token[1300];

    (void)state;
    /* unsigned token: empty signature part */
    jwt_b64url_encode((const unsigned char *)"{\"alg\":\"none\",\"typ\":\"JWT\"}", 27, hb);
    jwt_b64url_encode((const unsigned char *)p, strlen(p), pb);
    snprintf(token, sizeof(token), "%s.%s.", hb, pb);
    assert_int_not_equal(jwt_verify(token, KEY, KEYLEN, NOW, &out), JWT_OK);
    /* "none" with a signature computed anyway */
    assert_int_equal(verify_forged("{\"alg\":\"none\",\"typ\":\"JWT\"}", p), JWT_BAD_HEADER);
    assert_int_equal(verify_forged("{\"alg\":\"None\"}", p), JWT_BAD_HEADER);
    free(p);
}

static void test_other_algorithms(void **state)
{
    char *p = payload_json("\"iat\":1800000000,\"nbf\":1800000000,\"exp\":1800003600");

    (void)state;
    /* a real HS512 token (HMAC-SHA512) made with the same secret */
    {
        const char *hdr = "{\"alg\":\"HS512\",\"typ\":\"JWT\"}";
        unsigned char mac[64];
        unsigned int ml = 0;
        char t[2048];
        size_t n;
        struct jwt_claims out;

        n = jwt_b64url_encode((const unsigned char *)hdr, strlen(hdr), t);
        t[n++] = '.';
        n += jwt_b64url_encode((const unsigned char *)p, strlen(p), t + n);
        assert_non_null(HMAC(EVP_sha512(), KEY, (int)KEYLEN, (const unsigned char *)t, n, mac, &ml));
        assert_int_equal(ml, 64);
        t[n++] = '.';
        jwt_b64url_encode(mac, ml, t + n);
        assert_int_equal(jwt_verify(t, KEY, KEYLEN, NOW, &out), JWT_BAD_HEADER);
    }
    /* HS512 header, signed with HMAC-SHA256 and the right secret: still refused */
    assert_int_equal(verify_forged("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", p), JWT_BAD_HEADER);
    assert_int_equal(verify_forged("{\"alg\":\"RS256\"}", p), JWT_BAD_HEADER);
    assert_int_equal(verify_forged("{\"alg\":\"hs256\"}", p), JWT_BAD_HEADER);
    assert_int_equal(verify_forged("{\"typ\":\"JWT\"}", p), JWT_BAD_HEADER);          /* missing alg */
    assert_int_equal(verify_forged("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", p), JWT_BAD_HEADER);
    assert_int_equal(verify_forged("{\"alg\":\"HS256\",\"kid\":\"x\"}", p), JWT_BAD_HEADER);
    assert_int_equal(verify_forged("{\"alg\":[\"HS256\"]}", p), JWT_BAD_HEADER);
    /* the accepted spellings */
    assert_int_equal(verify_forged("{\"alg\":\"HS256\"}", p), JWT_OK);
    assert_int_equal(verify_forged("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", p), JWT_OK);
    /* duplicate keys are not valid JSON here */
    assert_int_not_equal(verify_forged("{\"alg\":\"HS256\",\"alg\":\"none\"}", p), JWT_OK);
    free(p);
}

static void test_time(void **state)
{
    struct jwt_claims c, out;
    char *token = NULL;

    (void)state;
    sample_claims(&c);
    c.iat = c.nbf = NOW - 7200;
    c.exp = NOW - 3600;
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), 0);
    assert_int_equal(jwt_verify(token, KEY, KEYLEN, NOW, &out), JWT_EXPIRED);
    free(token);

    /* inside the leeway it still passes, just past it it does not */
    sample_claims(&c);
    c.exp = NOW - JWT_LEEWAY_S + 1;
    c.iat = c.nbf = NOW - 100;
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), 0);
    assert_int_equal(jwt_verify(token, KEY, KEYLEN, NOW, &out), JWT_OK);
    assert_int_equal(jwt_verify(token, KEY, KEYLEN, NOW + 1, &out), JWT_EXPIRED);
    free(token);

    sample_claims(&c);
    c.iat = NOW;
    c.nbf = NOW + 600;
    c.exp = NOW + 3600;
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), 0);
    assert_int_equal(jwt_verify(token, KEY, KEYLEN, NOW, &out), JWT_NOT_YET_VALID);
    assert_int_equal(jwt_verify(token, KEY, KEYLEN, NOW + 600, &out), JWT_OK);
    free(token);
}

static void test_malformed(void **state)
{
    struct jwt_claims c, out;
    char *token = NULL, *two, buf[8192];
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

    (void)state;
    sample_claims(&c);
    assert_int_equal(jwt_sign(&c, KEY, KEYLEN, &token), 0);

    /* two parts */
    two = strdup(token);
    assert_non_null(two);
    *strrchr(two, '.') = '\0';
    assert_int_equal(jwt_verify(two, KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    free(two);
    /* four parts */
    snprintf(buf, sizeof(buf), "%s.AAAA", token);
    assert_int_equal(jwt_verify(buf, KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    /* empty, NULL, one part, empty parts */
    assert_int_equal(jwt_verify("", KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    assert_int_equal(jwt_verify(NULL, KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    assert_int_equal(jwt_verify("abc", KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    assert_int_equal(jwt_verify("..", KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    /* bad base64 in the header (standard alphabet, padding) */
    snprintf(buf, sizeof(buf), "eyJhbGciOiJIUzI1NiJ9=%s", strchr(token, '.'));
    assert_int_equal(jwt_verify(buf, KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    snprintf(buf, sizeof(buf), "ey+hbGciOiJIUzI1NiJ9%s", strchr(token, '.'));
    assert_int_equal(jwt_verify(buf, KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    /* too long */
    memset(buf, 'A', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    buf[100] = '.';
    buf[200] = '.';
    assert_int_equal(jwt_verify(buf, KEY, KEYLEN, NOW, &out), JWT_MALFORMED);
    free(token);

    /* non-JSON header and payload (correctly signed) */
    assert_int_equal(verify_forged("not json", "{}"), JWT_MALFORMED);
    assert_int_equal(verify_forged(hdr, "not json"), JWT_MALFORMED);
    assert_int_equal(verify_forged(hdr, "[1,2,3]"), JWT_MALFORMED);
    assert_int_equal(verify_forged("\"HS256\"", "{}"), JWT_MALFORMED);
}

static void test_claim_types(void **state)
{
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    const char *times = "\"iat\":1800000000,\"nbf\":1800000000,\"exp\":1800003600";
    char p[1024];

    (void)state;
    /* missing claims */
    assert_int_equal(verify_forged(hdr, "{}"), JWT_BAD_CLAIMS);
    snprintf(p, sizeof(p), "{\"sub\":\"11111111-2222-4333-8444-555555555555\",\"role\":\"user\",%s}", times);
    assert_int_equal(verify_forged(hdr, p), JWT_BAD_CLAIMS);
    /* wrong types */
    snprintf(p, sizeof(p),
             "{\"sub\":\"11111111-2222-4333-8444-555555555555\",\"tid\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\","
             "\"jti\":\"99999999-8888-4777-8666-555555555555\",\"role\":\"user\","
             "\"iat\":\"1800000000\",\"nbf\":1800000000,\"exp\":1800003600}");
    assert_int_equal(verify_forged(hdr, p), JWT_BAD_CLAIMS);
    snprintf(p, sizeof(p),
             "{\"sub\":\"11111111-2222-4333-8444-555555555555\",\"tid\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\","
             "\"jti\":\"99999999-8888-4777-8666-555555555555\",\"role\":\"user\","
             "\"iat\":1800000000,\"nbf\":1800000000,\"exp\":1800003600.5}");
    assert_int_equal(verify_forged(hdr, p), JWT_BAD_CLAIMS);
    snprintf(p, sizeof(p),
             "{\"sub\":12,\"tid\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\","
             "\"jti\":\"99999999-8888-4777-8666-555555555555\",\"role\":\"user\",%s}", times);
    assert_int_equal(verify_forged(hdr, p), JWT_BAD_CLAIMS);
    /* tid not a UUID */
    snprintf(p, sizeof(p),
             "{\"sub\":\"11111111-2222-4333-8444-555555555555\",\"tid\":\"acme\","
             "\"jti\":\"99999999-8888-4777-8666-555555555555\",\"role\":\"user\",%s}", times);
    assert_int_equal(verify_forged(hdr, p), JWT_BAD_CLAIMS);
    /* role outside user|admin */
    snprintf(p, sizeof(p),
             "{\"sub\":\"11111111-2222-4333-8444-555555555555\",\"tid\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\","
             "\"jti\":\"99999999-8888-4777-8666-555555555555\",\"role\":\"superuser\",%s}", times);
    assert_int_equal(verify_forged(hdr, p), JWT_BAD_CLAIMS);
    /* the well-formed one passes */
    snprintf(p, sizeof(p),
             "{\"sub\":\"11111111-2222-4333-8444-555555555555\",\"tid\":\"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\","
             "\"jti\":\"99999999-8888-4777-8666-555555555555\",\"role\":\"user\",%s}", times);
    assert_int_equal(verify_forged(hdr, p), JWT_OK);
}

static void test_b64url(void **state)
{
    unsigned char out[16];
    char enc[32];

    (void)state;
    assert_int_equal(jwt_b64url_encode((const unsigned char *)"f", 1, enc), 2);
    assert_string_equal(enc, "Zg");
    assert_int_equal(jwt_b64url_encode((const unsigned char *)"fo", 2, enc), 3);
    assert_string_equal(enc, "Zm8");
    assert_int_equal(jwt_b64url_encode((const unsigned char *)"foo", 3, enc), 4);
    assert_string_equal(enc, "Zm9v");
    assert_int_equal(jwt_b64url_encode((const unsigned char *)"\xfb\xff", 2, enc), 3);
    assert_string_equal(enc, "-_8");
    assert_int_equal(jwt_b64url_decode("-_8", 3, out, sizeof(out)), 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(jwt_b64url_decode("Zm9v", 4, out, sizeof(out)), 3);
    assert_memory_equal(out, "foo", 3);
    assert_int_equal(jwt_b64url_decode("Zg", 2, out, sizeof(out)), 1);
    assert_int_equal(jwt_b64url_decode("Zh", 2, out, sizeof(out)), -1);     /* non-zero spare bits */
    assert_int_equal(jwt_b64url_decode("Zg==", 4, out, sizeof(out)), -1);   /* padding */
    assert_int_equal(jwt_b64url_decode("Z", 1, out, sizeof(out)), -1);      /* length 1 mod 4 */
    assert_int_equal(jwt_b64url_decode("Zm+v", 4, out, sizeof(out)), -1);   /* standard alphabet */
    assert_int_equal(jwt_b64url_decode("Zm9vZm9v", 8, out, 5), -1);         /* does not fit */
    assert_int_equal(jwt_b64url_decode("", 0, out, sizeof(out)), 0);
}

static void test_err_str(void **state)
{
    (void)state;
    assert_string_equal(jwt_err_str(JWT_OK), "ok");
    assert_string_equal(jwt_err_str(JWT_MALFORMED), "malformed");
    assert_string_equal(jwt_err_str(JWT_BAD_HEADER), "bad_header");
    assert_string_equal(jwt_err_str(JWT_BAD_SIGNATURE), "bad_signature");
    assert_string_equal(jwt_err_str(JWT_BAD_CLAIMS), "bad_claims");
    assert_string_equal(jwt_err_str(JWT_EXPIRED), "expired");
    assert_string_equal(jwt_err_str(JWT_NOT_YET_VALID), "not_yet_valid");
    assert_string_equal(jwt_err_str(JWT_INTERNAL), "internal");
    /* a value outside the enum (a corrupt one) still names something */
    assert_string_equal(jwt_err_str((enum jwt_err)(JWT_INTERNAL + 1)), "internal");
    assert_string_equal(jwt_err_str((enum jwt_err)-1), "internal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sign_refuses_bad_claims),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_other_algorithms),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_claim_types),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_err_str),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
