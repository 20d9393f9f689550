/*
 * snippet.h - the snippet of a returned chunk, made in core-api from the
 * chunk's text and the query's lexemes (search.c), in place of PostgreSQL's
 * ts_headline(), which parsed and stemmed every returned chunk again in the
 * database (about a third of a search's PostgreSQL time at 100k chunks;
 * docs/retrieval.md "Snippets"). No I/O: unit-testable on its own.
 */
#ifndef API_SNIPPET_H
#define API_SNIPPET_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

#define SNIPPET_MAX_WORDS 40     /* words of one fragment at most (ts_headline's MaxWords) */
#define SNIPPET_MIN_WORDS 15     /* words shown when nothing matches (MinWords) */
#define SNIPPET_MAX_FRAGMENTS 2  /* fragments at most, joined by " ... " (MaxFragments) */
#define SNIPPET_LEAD 8           /* words before a fragment's first match, when the text has them */

#define SNIPPET_MAX_TERMS 64     /* lexemes matched at most (RANK_MAX_TERMS: a window's set is 64 bits) */

struct sb_stemmer;

/* The query's lexemes as snippet_make matches them: made once per search (snippet_terms_init). */
struct snippet_terms {
    int n;
    const char *lex[SNIPPET_MAX_TERMS];
    size_t len[SNIPPET_MAX_TERMS];
    /*
     * pre[a] bit b: some lexeme begins with the ASCII letters 'a' + a, 'a' + b,
     * or is the letter 'a' + a alone (every bit). The English stemmer keeps a
     * word's first letter, and its second when the stem has two ("aed" stems
     * to "a") but for a 'y' made 'i' ("dying": "die", so 'i' sets 'y' too; a
     * unit test checks it over every word of up to four letters and WordNet's),
     * so a word that begins with two ASCII letters no lexeme can begin with is
     * not stemmed.
     */
    uint32_t pre[26];
};

/*
 * Make t from the query lexemes lex[0..n) (as to_tsvector('english') made
 * them; the first SNIPPET_MAX_TERMS; a NULL one matches nothing). t points
 * into lex's strings, which must outlive it.
 */
void snippet_terms_init(struct snippet_terms *t, const char *const *lex, int n);

/*
 * The calling thread's English Snowball stemmer (libstemmer, the algorithm of
 * PostgreSQL's english configuration), made on first use and freed when the
 * thread ends; NULL when it cannot be made.
 */
struct sb_stemmer *snippet_stemmer(void);

/*
 * Append to out the snippet of text (len bytes of UTF-8) for the query
 * lexemes t (snippet_terms_init): its words (runs
 * of letters and digits; non-ASCII letters count as letters) are lowercased
 * (ASCII and Latin-1 letters) and stemmed by st (a word with a digit is not stemmed, like PostgreSQL's
 * numword), and words joined by '-', '.', '_' or '/' ("c-style", "tar.xz")
 * are also matched as one; a match is put between RANK_MARK_OPEN and
 * RANK_MARK_CLOSE (rank.h; rank_snippet() makes them <mark>). The snippet is
 * at most SNIPPET_MAX_FRAGMENTS fragments of at most SNIPPET_MAX_WORDS words,
 * the windows with the most distinct lexemes (then the most matches), each
 * starting up to SNIPPET_LEAD words before its first match, in text order
 * joined by " ... "; with no match, the first SNIPPET_MIN_WORDS words. Bytes
 * 1 and 2 of the text are dropped (they cannot forge a mark). 0, or -1 when
 * out of memory.
 */
int snippet_make(struct sb_stemmer *st, const char *text, size_t len, const struct snippet_terms *t,
                 struct buf *out);

#endif
