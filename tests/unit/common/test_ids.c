/*
 * test_ids - common/ids.c: new UUIDs are canonical lower-case version 4 text
 * and do not repeat; id_is_uuid accepts the canonical form in any case and
 * refuses every other length, separator position and character.
 */
#include "common/ids.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define VALID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define COUNT 2000

static int is_hyphen_pos(int i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

static void test_new_is_canonical_v4(void **state)
{
    char id[ID_UUID_LEN + 1];

    (void)state;
    for (int n = 0; n < 100; n++) {
        memset(id, 'X', sizeof(id));
        id_uuid_new(id);
        assert_int_equal(id[ID_UUID_LEN], '\0');
        assert_int_equal(strlen(id), ID_UUID_LEN);
        for (int i = 0; i < ID_UUID_LEN; i++) {
            if (is_hyphen_pos(i))
                assert_int_equal(id[i], '-');
            else if (!isdigit((unsigned char)id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
                fail_msg("%s: character %d is not lower-case hex", id, i);
        }
        assert_int_equal(id[14], '4');                       /* version 4: random */
        assert_non_null(strchr("89ab", id[19]));              /* RFC 4122 variant */
        assert_int_equal(id_is_uuid(id), 1);
    }
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_new_does_not_repeat(void **state)
{
    char (*ids)[ID_UUID_LEN + 1] = calloc(COUNT, sizeof(*ids));

    (void)state;
    assert_non_null(ids);
    for (int i = 0; i < COUNT; i++)
        id_uuid_new(ids[i]);
    qsort(ids, COUNT, sizeof(*ids), cmp_ids);
    for (int i = 1; i < COUNT; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("%s generated twice", ids[i]);
    free(ids);
}

static void test_is_uuid_accepts(void **state)
{
    (void)state;
    assert_int_equal(id_is_uuid(VALID), 1);
    assert_int_equal(id_is_uuid("0F8FAD5B-D9CB-469F-A165-70867728950E"), 1);   /* any case */
    assert_int_equal(id_is_uuid("0f8FAD5b-D9cb-469F-a165-70867728950E"), 1);
    assert_int_equal(id_is_uuid("00000000-0000-0000-0000-000000000000"), 1);
    assert_int_equal(id_is_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"), 1);
}

static void test_is_uuid_refuses(void **state)
{
    (void)state;
    assert_int_equal(id_is_uuid(NULL), 0);
    assert_int_equal(id_is_uuid(""), 0);
    assert_int_equal(id_is_uuid(VALID "0"), 0);                                 /* 37 */
    assert_int_equal(id_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"), 0);     /* 35 */
    assert_int_equal(id_is_uuid(" " VALID), 0);
    assert_int_equal(id_is_uuid(VALID " "), 0);
    assert_int_equal(id_is_uuid(VALID "\n"), 0);
    assert_int_equal(id_is_uuid("{" VALID "}"), 0);
    assert_int_equal(id_is_uuid("urn:uuid:" VALID), 0);
    assert_int_equal(id_is_uuid("0f8fad5bd9cb469fa16570867728950e"), 0);        /* no hyphens */
    assert_int_equal(id_is_uuid("0f8fad5bd-9cb-469f-a165-70867728950e"), 0);    /* shifted */
    assert_int_equal(id_is_uuid("0f8fad5b-d9cb-469f-a16570867728950e-"), 0);
    assert_int_equal(id_is_uuid("------------------------------------"), 0);
    assert_int_equal(id_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950\xc3"), 0);
}

/* Spoiling any one character of a valid UUID makes it invalid. */
static void test_is_uuid_every_position(void **state)
{
    static const char bad_for_hex[] = {'g', 'G', 'z', '-', ' ', '_', 'x', ':', '\x80', '\xff'};
    static const char bad_for_hyphen[] = {'0', 'a', 'F', '_', ' ', '+', ':'};
    char s[ID_UUID_LEN + 1];

    (void)state;
    for (int i = 0; i < ID_UUID_LEN; i++) {
        const char *bad = is_hyphen_pos(i) ? bad_for_hyphen : bad_for_hex;
        size_t nbad = is_hyphen_pos(i) ? sizeof(bad_for_hyphen) : sizeof(bad_for_hex);

        for (size_t k = 0; k < nbad; k++) {
            memcpy(s, VALID, sizeof(s));
            s[i] = bad[k];
            if (id_is_uuid(s) != 0)
                fail_msg("accepted \"%s\" (0x%02x at %d)", s, (unsigned char)bad[k], i);
        }
        /* a NUL anywhere makes the text too short */
        memcpy(s, VALID, sizeof(s));
        s[i] = '\0';
        assert_int_equal(id_is_uuid(s), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_canonical_v4),
        cmocka_unit_test(test_new_does_not_repeat),
        cmocka_unit_test(test_is_uuid_accepts),
        cmocka_unit_test(test_is_uuid_refuses),
        cmocka_unit_test(test_is_uuid_every_position),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
