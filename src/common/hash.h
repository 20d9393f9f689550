/* hash.h - streaming SHA-256 (OpenSSL EVP) with hex output, HMAC-SHA256, and hex digits. */
#ifndef COMMON_HASH_H
#define COMMON_HASH_H

#include <stddef.h>

#define HASH_SHA256_HEX_LEN 64

struct sha256 {
    void *ctx;   /* EVP_MD_CTX */
};

int sha256_init(struct sha256 *h);
int sha256_update(struct sha256 *h, const void *p, size_t n);
/* Finish into 65 bytes of lower-case hex and release the context. */
int sha256_final_hex(struct sha256 *h, char out[HASH_SHA256_HEX_LEN + 1]);
/* Release without finishing (error paths); accepts an unused struct. */
void sha256_release(struct sha256 *h);

/* One-shot SHA-256 of a memory block into hex. */
int sha256_hex(const void *p, size_t n, char out[HASH_SHA256_HEX_LEN + 1]);
/* HMAC-SHA256 into 32 bytes. Returns 0 or -1. */
int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, unsigned char out[32]);

/* Value 0-15 of the hex digit c (either case), or -1 if c is not one. */
int hex_value(int c);

#endif
