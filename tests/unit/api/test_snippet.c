/* Unit tests of api/handlers/snippet.c: stemmed matches, joined words, windows, fragments, marks, no match. */
#include "api/handlers/snippet.h"

#include "api/handlers/rank.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The snippet of text for the lexemes lex[0..n) with <mark> for the markers, in out (size outsz). */
static void snip(const char *text, const char *const *lex, int n, char *out, size_t outsz)
{
    struct snippet_terms t;
    struct buf b;
    size_t j = 0;

    snippet_terms_init(&t, lex, n);
    buf_init(&b, 1 << 20);
    assert_int_equal(snippet_make(snippet_stemmer(), text, strlen(text), &t, &b), 0);
    for (size_t i = 0; i < b.len && j + 8 < outsz; i++) {
        if (b.ptr[i] == RANK_MARK_OPEN)
            j += (size_t)snprintf(out + j, outsz - j, "[");
        else if (b.ptr[i] == RANK_MARK_CLOSE)
            j += (size_t)snprintf(out + j, outsz - j, "]");
        else
            out[j++] = b.ptr[i];
    }
    out[j] = '\0';
    buf_release(&b);
}

static void test_stemmed_matches(void **state)
{
    const char *lex[] = {"refund", "subscript"};
    char out[1024];

    (void)state;
    assert_non_null(snippet_stemmer());
    snip("Refunds for Subscriptions are refunded within 14 days.", lex, 2, out, sizeof(out));
    assert_string_equal(out, "[Refunds] for [Subscriptions] are [refunded] within 14 days");
    /* stems that change the second letter or leave one: still found (snippet_terms.pre) */
    snip("The dying fire was tied off.", (const char *[]){"die", "tie"}, 2, out, sizeof(out));
    assert_string_equal(out, "The [dying] fire was [tied] off");
    snip("Oed, aed and oing.", (const char *[]){"o"}, 1, out, sizeof(out));
    assert_string_equal(out, "[Oed], aed and [oing]");
}

static void test_digits_and_joined_words(void **state)
{
    const char *lex[] = {"ggplot2", "tar.xz", "style"};
    char out[1024];

    (void)state;
    /* a word with a digit is not stemmed; joined words match as one, else their parts */
    snip("Use ggplot2 to unpack tar.xz files in C-style code.", lex, 3, out, sizeof(out));
    assert_string_equal(out, "Use [ggplot2] to unpack [tar.xz] files in C-[style] code");
    snip("Unpack a.tar.xz now", (const char *[]){"tar"}, 1, out, sizeof(out));
    assert_string_equal(out, "Unpack a.[tar].xz now");
    /* Latin-1 capitals are lowercased as PostgreSQL does ("\xc3\x89" É, "\xc3\xa9" é), × is not a letter */
    snip("\xc3\x89" "cole 3\xc3\x97" "4", (const char *[]){"\xc3\xa9" "cole"}, 1, out, sizeof(out));
    assert_string_equal(out, "[\xc3\x89" "cole] 3\xc3\x97" "4");
}

static void test_no_match_first_words(void **state)
{
    const char *lex[] = {"zebra"};
    char text[2048] = "", out[2048];

    (void)state;
    for (int i = 0; i < 30; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "w%d ", i);
    snip(text, lex, 1, out, sizeof(out));
    assert_string_equal(out, "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14");
    snip("", lex, 1, out, sizeof(out));
    assert_string_equal(out, "");
}

static void test_two_fragments_in_text_order(void **state)
{
    const char *lex[] = {"alpha", "beta", "gamma"};
    char text[8192] = "", out[8192];
    int words = 0;

    (void)state;
    /* 200 filler words; "alpha" at 20, "beta gamma" at 150 (the best window), "alpha" again at 190 */
    for (int i = 0; i < 200; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s ",
                 i == 20 || i == 190 ? "alpha" : i == 150 ? "beta" : i == 151 ? "gamma" : "x");
    snip(text, lex, 3, out, sizeof(out));
    /* two fragments: the first from 8 words before word 20, then the one holding beta and gamma */
    assert_non_null(strstr(out, " ... "));
    assert_true(strncmp(out, "x x x x x x x x [alpha] x", 25) == 0);
    assert_non_null(strstr(strstr(out, " ... "), "[beta] [gamma]"));
    for (const char *p = out; *p; p++)
        words += (p == out || p[-1] == ' ') && *p != ' ' && *p != '.';
    assert_true(words <= 2 * SNIPPET_MAX_WORDS + 1);   /* each at most SNIPPET_MAX_WORDS (+ "...") */
}

static void test_marks_cannot_be_forged(void **state)
{
    const char *lex[] = {"secret"};
    char out[1024];

    (void)state;
    /* bytes 1 and 2 in the text are dropped; non-ASCII punctuation separates words */
    snip("a \x01 fake\x02 mark \xe2\x80\x94secret\xe2\x80\x94 caf\xc3\xa9", lex, 1, out, sizeof(out));
    assert_string_equal(out, "a  fake mark \xe2\x80\x94[secret]\xe2\x80\x94 caf\xc3\xa9");
}

/* The terms are made once: at most SNIPPET_MAX_TERMS of them, a NULL one matches nothing, reused for every text. */
static void test_terms_made_once(void **state)
{
    const char *lex[SNIPPET_MAX_TERMS + 2];
    struct snippet_terms t;
    struct buf b;

    (void)state;
    for (int i = 0; i < SNIPPET_MAX_TERMS + 2; i++)
        lex[i] = "filler";
    lex[0] = NULL;
    lex[1] = "refund";
    lex[SNIPPET_MAX_TERMS] = "secret";   /* past the cap: never matched */
    snippet_terms_init(&t, lex, SNIPPET_MAX_TERMS + 2);
    assert_int_equal(t.n, SNIPPET_MAX_TERMS);
    assert_int_equal(t.len[1], 6);
    for (int k = 0; k < 2; k++) {
        buf_init(&b, 1 << 16);
        assert_int_equal(snippet_make(snippet_stemmer(), "the secret refunds", 18, &t, &b), 0);
        assert_int_equal(b.len, 20);
        assert_memory_equal(b.ptr, "the secret \x01refunds\x02", 20);
        buf_release(&b);
    }
}

/*
 * Whether the English stem of word keeps its first letter, and its second
 * when the stem has two ("aed" stems to "a") but for a 'y' made 'i' ("dying"
 * stems to "die"): snippet_terms.pre relies on it.
 */
static int stem_keeps_prefix(struct sb_stemmer *st, const char *word, size_t len)
{
    const sb_symbol *stem = sb_stemmer_stem(st, (const sb_symbol *)word, (int)len);

    int n = stem ? sb_stemmer_length(st) : 0;

    if (n < 1 || stem[0] != (sb_symbol)word[0] ||
        (n >= 2 && stem[1] != (sb_symbol)word[1] && !(word[1] == 'y' && stem[1] == 'i'))) {
        print_message("stem of \"%.*s\": \"%.*s\"\n", (int)len, word, n,
                      stem ? (const char *)stem : "");
        return 0;
    }
    return 1;
}

/* Every word of 2-4 ASCII letters, and every all-letter lemma and irregular form of WordNet. */
static void test_stem_keeps_two_letters(void **state)
{
    static const char *const files[] = {"index.noun", "index.verb", "index.adj", "index.adv",
                                        "noun.exc", "verb.exc", "adj.exc", "adv.exc"};
    struct sb_stemmer *st = snippet_stemmer();
    char w[5], line[4096], path[512];
    long words = 0;

    (void)state;
    assert_non_null(st);
    for (int len = 2; len <= 4; len++)
        for (long k = 0, n = len == 2 ? 676 : len == 3 ? 17576 : 456976; k < n; k++, words++) {
            for (long x = k, j = len - 1; j >= 0; j--, x /= 26)
                w[j] = (char)('a' + x % 26);
            assert_true(stem_keeps_prefix(st, w, (size_t)len));
        }
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        FILE *fp;

        snprintf(path, sizeof(path), "/usr/share/wordnet/%s", files[f]);
        fp = fopen(path, "r");
        if (!fp)
            fail_msg("%s: install wordnet-base (scripts/install-deps.sh)", path);
        while (fgets(line, sizeof(line), fp)) {
            size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz");

            if (n >= 2 && line[n] == ' ') {   /* one all-letter word (a lemma with '_' is several) */
                assert_true(stem_keeps_prefix(st, line, n));
                words++;
            }
        }
        fclose(fp);
    }
    assert_true(words > 500000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stemmed_matches),
        cmocka_unit_test(test_digits_and_joined_words),
        cmocka_unit_test(test_no_match_first_words),
        cmocka_unit_test(test_two_fragments_in_text_order),
        cmocka_unit_test(test_marks_cannot_be_forged),
        cmocka_unit_test(test_terms_made_once),
        cmocka_unit_test(test_stem_keeps_two_letters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
