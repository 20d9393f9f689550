/* test_hash.c - SHA-256 (one-shot and streamed), HMAC-SHA256 (RFC 4231) and hex digits. */
#include "common/hash.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void sha256_known_vectors(void **state)
{
    char out[HASH_SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(sha256_hex("abc", 3, out), 0);
    assert_string_equal(out, ABC_SHA256);
    assert_int_equal(sha256_hex("", 0, out), 0);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void sha256_streamed_equals_one_shot(void **state)
{
    struct sha256 h;
    char out[HASH_SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(sha256_init(&h), 0);
    assert_int_equal(sha256_update(&h, "a", 1), 0);
    assert_int_equal(sha256_update(&h, "", 0), 0);
    assert_int_equal(sha256_update(&h, "bc", 2), 0);
    assert_int_equal(sha256_final_hex(&h, out), 0);
    assert_string_equal(out, ABC_SHA256);
    sha256_release(&h);    /* after final: a no-op */
}

static void hmac_rfc4231_case2(void **state)
{
    static const unsigned char want[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
    };
    unsigned char out[32];

    (void)state;
    assert_int_equal(hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out), 0);
    assert_memory_equal(out, want, sizeof(want));
}

static void hex_digits(void **state)
{
    (void)state;
    assert_int_equal(hex_value('0'), 0);
    assert_int_equal(hex_value('9'), 9);
    assert_int_equal(hex_value('a'), 10);
    assert_int_equal(hex_value('F'), 15);
    assert_int_equal(hex_value('g'), -1);
    assert_int_equal(hex_value('/'), -1);
    assert_int_equal(hex_value(':'), -1);
    assert_int_equal(hex_value('@'), -1);
    assert_int_equal(hex_value(0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_known_vectors),
        cmocka_unit_test(sha256_streamed_equals_one_shot),
        cmocka_unit_test(hmac_rfc4231_case2),
        cmocka_unit_test(hex_digits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
