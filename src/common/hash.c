/* hash.c - SHA-256 and HMAC-SHA256 over OpenSSL EVP, and hex digits (hash.h). */
#include "common/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>

int sha256_init(struct sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    h->ctx = NULL;
    if (!ctx)
        return -1;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -1;
    }
    h->ctx = ctx;
    return 0;
}

int sha256_update(struct sha256 *h, const void *p, size_t n)
{
    return EVP_DigestUpdate(h->ctx, p, n) == 1 ? 0 : -1;
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

int sha256_final_hex(struct sha256 *h, char out[HASH_SHA256_HEX_LEN + 1])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int rc = EVP_DigestFinal_ex(h->ctx, d, &n) == 1 ? 0 : -1;

    if (rc == 0)
        to_hex(d, n, out);
    sha256_release(h);
    return rc;
}

void sha256_release(struct sha256 *h)
{
    if (h && h->ctx) {
        EVP_MD_CTX_free(h->ctx);
        h->ctx = NULL;
    }
}

int sha256_hex(const void *p, size_t n, char out[HASH_SHA256_HEX_LEN + 1])
{
    struct sha256 h;

    if (sha256_init(&h) < 0)
        return -1;
    if (sha256_update(&h, p, n) < 0) {
        sha256_release(&h);
        return -1;
    }
    return sha256_final_hex(&h, out);
}

int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, unsigned char out[32])
{
    unsigned int n = 0;

    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &n) || n != 32)
        return -1;
    return 0;
}

int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
