/* Unit tests of api/handlers/expand.c: compounds of adjacent query words, WordNet synonyms (the real wordnet-base files). */
#include "api/handlers/expand.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define WORDNET_DIR "/usr/share/wordnet"

static int has(const struct expansion *x, int n, const char *word, const char *origin)
{
    for (int i = 0; i < n; i++)
        if (strcmp(x[i].word, word) == 0 && strcmp(x[i].origin, origin) == 0)
            return 1;
    return 0;
}

static void test_compounds(void **state)
{
    struct expansion x[EXPAND_MAX];
    int n;

    (void)state;
    n = expand_query("How do I set the Time-Zone?", 1, NULL, NULL, x, EXPAND_MAX);
    assert_true(has(x, n, "timezone", "time zone"));
    assert_true(has(x, n, "setthe", "set the"));     /* proposals: the tenant's statistics keep real words */
    assert_int_equal(n, 6);   /* howdo setthe thetime timezone, settime thezone: "I" is no word to join */
    assert_true(x[0].weight == EXPAND_COMPOUND_WEIGHT);
    /* a file name's parts, which PostgreSQL's parser keeps as one token */
    n = expand_query("unpack a Tar.XZ archive, then edit /etc/fstab", 1, NULL, NULL, x, EXPAND_MAX);
    assert_true(has(x, n, "tar", "tar.xz") && has(x, n, "xz", "tar.xz"));
    assert_true(has(x, n, "etc", "/etc/fstab") && has(x, n, "fstab", "/etc/fstab"));
    assert_false(has(x, n, "unpack", "unpack"));
    /* ends in separators: tarxz, tar, xz */
    assert_int_equal(expand_query("tar.xz ?, '", 1, NULL, NULL, x, EXPAND_MAX), 3);
    assert_int_equal(expand_query("time zone", 0, NULL, NULL, x, EXPAND_MAX), 0);   /* off */
    assert_int_equal(expand_query("", 1, NULL, NULL, x, EXPAND_MAX), 0);
    assert_int_equal(expand_query("a b c", 1, NULL, NULL, x, EXPAND_MAX), 0);        /* one-letter words */
    /* bounded: never more than max, whatever the query */
    assert_int_equal(expand_query("aa bb cc dd ee ff gg hh ii jj", 1, NULL, NULL, x, 3), 3);
}

/* Joins over one word between, at a lower weight; both ends 3 letters or more. */
static void test_skip_joins(void **state)
{
    struct expansion x[EXPAND_MAX];
    int n;

    (void)state;
    n = expand_query("Add another user account", 1, NULL, NULL, x, EXPAND_MAX);
    assert_true(has(x, n, "adduser", "add user"));
    assert_true(has(x, n, "anotheraccount", "another account"));
    assert_true(has(x, n, "addanother", "add another"));      /* the adjacent joins stay */
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_true(x[i].weight == (strcmp(x[i].word, "adduser") == 0 || strcmp(x[i].word, "anotheraccount") == 0
                                        ? EXPAND_SKIP_WEIGHT
                                        : EXPAND_COMPOUND_WEIGHT));
    assert_true(EXPAND_SKIP_WEIGHT < EXPAND_COMPOUND_WEIGHT);
    n = expand_query("add a user", 1, NULL, NULL, x, EXPAND_MAX);   /* over a one-letter word */
    assert_true(has(x, n, "adduser", "add user"));
    assert_int_equal(n, 1);
    n = expand_query("add one more user", 1, NULL, NULL, x, EXPAND_MAX);   /* never over two */
    assert_false(has(x, n, "adduser", "add user"));
    n = expand_query("what time is it", 1, NULL, NULL, x, EXPAND_MAX);     /* "is", "it": too short to join */
    assert_false(has(x, n, "whatis", "what is"));
    assert_false(has(x, n, "timeit", "time it"));
    assert_true(has(x, n, "whattime", "what time"));
    assert_int_equal(expand_query("add another user", 0, NULL, NULL, x, EXPAND_MAX), 0);   /* off with compounds */
    /* a long query: the joins over a word stop at half of max, a file name's parts still fit */
    n = expand_query("aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm nnn ooo ppp qqq rrr sss ttt tar.xz", 1, NULL,
                     NULL, x, EXPAND_MAX);
    assert_true(has(x, n, "tar", "tar.xz") && has(x, n, "xz", "tar.xz"));
    assert_true(has(x, n, "aaaccc", "aaa ccc"));
    assert_false(has(x, n, "rrrttt", "rrr ttt"));
    assert_true(has(x, n, "rrrsss", "rrr sss"));
}

/* A hyphenated lexeme's parts among the query's lexemes (their stems). */
static void test_hyphen_parts(void **state)
{
    const char *lex[] = {"c-style", "count", "loop", "c", "style"};
    const char *cl[] = {"command-line", "command", "line", NULL, "happi"};
    const char *hp[] = {"happy-go-lucky", "go", "happi", "lucki", "luck"};

    (void)state;
    assert_int_equal(expand_hyphen_parts("c-style", lex, 5), 1u << 3 | 1u << 4);
    assert_int_equal(expand_hyphen_parts("count", lex, 5), 0);           /* no hyphen */
    assert_int_equal(expand_hyphen_parts("command-line", cl, 5), 1u << 1 | 1u << 2);
    /* "happi" is happy's stem, "lucki" lucky's; "luck" is a prefix of "lucky", a stem of it too */
    assert_int_equal(expand_hyphen_parts("happy-go-lucky", hp, 5), 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4);
    assert_int_equal(expand_hyphen_parts("x-ray", lex, 5), 0);           /* no part among them */
    assert_int_equal(expand_hyphen_parts("-", lex, 5), 0);
    assert_int_equal(expand_hyphen_parts(NULL, lex, 5), 0);
}

/*
 * Every lemma of every index file is found (the hash table of lemma lines
 * holds them all, whatever their hash collides with), and a word that is the
 * prefix of a lemma, or a lemma with a letter more, is not.
 */
static void test_wordnet_every_lemma(void **state)
{
    static const char *const files[] = {"index.noun", "index.verb", "index.adj", "index.adv"};
    char err[256], line[4096], path[256];
    struct wordnet *wn = wordnet_open(WORDNET_DIR, err, sizeof(err));
    int lemmas = 0;

    (void)state;
    assert_non_null(wn);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", WORDNET_DIR, files[i]);
        f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
            size_t n = strcspn(line, " \n");

            if (line[0] == ' ' || n == 0 || n > EXPAND_WORD_MAX)
                continue;   /* license lines; words too long to be looked up */
            line[n] = '\0';
            if (!wordnet_knows(wn, line))
                fail_msg("%s: %s not found", files[i], line);
            lemmas++;
        }
        fclose(f);
    }
    assert_true(lemmas > 140000);
    assert_true(wordnet_knows(wn, "dictionary"));
    assert_false(wordnet_knows(wn, "dictionar") || wordnet_knows(wn, "dictionaryz") || wordnet_knows(wn, ""));
    wordnet_close(&wn);
}

static void test_wordnet(void **state)
{
    char err[256], syn[EXPAND_SYN_PER_WORD][EXPAND_WORD_MAX + 1];
    struct wordnet *wn = wordnet_open(WORDNET_DIR, err, sizeof(err));
    struct expansion x[EXPAND_MAX];
    int n;

    (void)state;
    assert_non_null(wn);
    n = wordnet_synonyms(wn, "dictionary", syn, EXPAND_SYN_PER_WORD);
    assert_int_equal(n, 1);
    assert_string_equal(syn[0], "lexicon");
    /* inflected forms by WordNet's detachment rules: "dictionaries" -> "dictionary" */
    assert_int_equal(wordnet_synonyms(wn, "dictionaries", syn, EXPAND_SYN_PER_WORD), 1);
    assert_string_equal(syn[0], "lexicon");
    assert_int_equal(wordnet_synonyms(wn, "qzxqzx", syn, EXPAND_SYN_PER_WORD), 0);
    assert_int_equal(wordnet_synonyms(wn, "aaaaa", syn, EXPAND_SYN_PER_WORD), 0);   /* before the first lemma */
    assert_int_equal(wordnet_synonyms(wn, "zzzzzzz", syn, EXPAND_SYN_PER_WORD), 0); /* after the last */
    n = expand_query("a dictionary of words", 0, wn, "words", x, EXPAND_MAX);
    assert_true(has(x, n, "lexicon", "dictionary"));
    for (int i = 0; i < n; i++) {
        assert_true(x[i].weight == EXPAND_SYNONYM_WEIGHT);
        assert_string_not_equal(x[i].origin, "words");   /* skipped words are not expanded */
    }
    /* spelling variants only: colour -> color, not signal -> sign nor same -> sami */
    n = expand_variants("the colour of the signal is the same", wn, x, 0, EXPAND_MAX);
    assert_int_equal(n, 1);
    assert_true(has(x, n, "color", "colour") && x[0].weight == EXPAND_VARIANT_WEIGHT);
    assert_int_equal(expand_variants("grey", wn, x, n, n), n);                     /* full: nothing added */
    assert_int_equal(expand_variants("colour", NULL, x, 0, EXPAND_MAX), 0);        /* without WordNet */
    /* names: words WordNet does not know, inflected English words are known */
    char names[64];
    assert_int_equal(expand_names("Make a bar chart with ggplot2 in zsh, dictionaries!", wn, names, sizeof(names)), 3);
    assert_string_equal(names, "with ggplot2 zsh");   /* a stop word too: it has no lexeme to mark */
    assert_true(wordnet_knows(wn, "configured") && !wordnet_knows(wn, "zsh"));
    assert_int_equal(expand_names("42 1999", wn, names, sizeof(names)), 0);   /* numbers are no names */
    /* proper nouns only: Canada, Australia (and their plurals); not fish (a noun and a verb), excel (a verb),
     * shell, nor a word WordNet does not know */
    assert_true(wordnet_proper(wn, "canada") && wordnet_proper(wn, "australia"));
    assert_false(wordnet_proper(wn, "fish") || wordnet_proper(wn, "excel") || wordnet_proper(wn, "shell"));
    assert_false(wordnet_proper(wn, "zsh") || wordnet_proper(NULL, "canada") || wordnet_proper(wn, "a"));
    assert_int_equal(expand_names("population Canada fish shell", wn, names, sizeof(names)), 1);
    assert_string_equal(names, "canada");
    assert_int_equal(expand_names("zsh ggplot2", wn, names, 6), 1);           /* what fits */
    assert_string_equal(names, "zsh");
    assert_int_equal(expand_names("zsh", NULL, names, sizeof(names)), 0);     /* without WordNet: none */
    wordnet_close(&wn);
    assert_null(wn);
    assert_null(wordnet_open("/nonexistent", err, sizeof(err)));
    assert_non_null(strstr(err, "index.noun"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compounds),
        cmocka_unit_test(test_skip_joins),
        cmocka_unit_test(test_hyphen_parts),
        cmocka_unit_test(test_wordnet),
        cmocka_unit_test(test_wordnet_every_lemma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
