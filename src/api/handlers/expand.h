/*
 * expand.h - query expansion for search (search.c): compounds of adjacent
 * query words ("time zone" -> "timezone") and, optionally, WordNet synonyms
 * (the WordNet 3.0 database of Debian's wordnet-base, read in place). The
 * expansions are only proposals: search.c keeps those whose lexeme the
 * tenant's corpus contains (term_stats) and rank.c weighs them below the
 * user's own words (docs/retrieval.md "Query expansion").
 */
#ifndef API_EXPAND_H
#define API_EXPAND_H

#include <stddef.h>
#include <stdint.h>

#define EXPAND_MAX 32          /* expansions proposed for one query */
#define EXPAND_WORD_MAX 40     /* bytes of one word or origin (longer ones are not expanded) */
#define EXPAND_SYN_PER_WORD 4  /* WordNet synonyms of one query word */
#define EXPAND_SENSES 1        /* WordNet senses (most frequent first) read per part of speech */

#define EXPAND_COMPOUND_WEIGHT 1.0   /* a compound stands for its two words */
#define EXPAND_SYNONYM_WEIGHT 0.5    /* a synonym is weaker evidence than the user's word */
#define EXPAND_VARIANT_WEIGHT 1.0    /* a spelling variant is the user's word */
#define EXPAND_SKIP_WEIGHT 0.5       /* a join over one word between ("add another user" -> "adduser") */

/* One proposal: word (to be normalized by to_tsvector), the query words it stands for, its weight. */
struct expansion {
    char word[EXPAND_WORD_MAX * 2 + 1];
    char origin[EXPAND_WORD_MAX * 2 + 2];
    double weight;
};

/* The WordNet database, opened once (read-only mappings of its index and data files). */
struct wordnet;

/*
 * Open the WordNet 3.0 database in dir (index.noun, data.noun, ... of
 * wordnet-base). NULL with err set when a file is missing or unreadable.
 */
struct wordnet *wordnet_open(const char *dir, char *err, size_t errlen);

void wordnet_close(struct wordnet **wn);

/*
 * The single-word synonyms of word (lower case ASCII) in the first
 * EXPAND_SENSES synsets of each part of speech, trying WordNet's detachment
 * rules (files -> file, configured -> configure) when the word itself is not
 * a lemma; the word itself is not one of them. Writes at most max words of
 * at most EXPAND_WORD_MAX bytes into out; returns the count.
 */
int wordnet_synonyms(const struct wordnet *wn, const char *word, char out[][EXPAND_WORD_MAX + 1], int max);

/* 1 if word (lower case ASCII) or a base form of it is a WordNet lemma of any part of speech. */
int wordnet_knows(const struct wordnet *wn, const char *word);

/*
 * 1 if word (lower case ASCII, 3 letters or more) is in WordNet only as a proper noun: a noun
 * (after WordNet's inflection rules) each of whose senses writes it with a
 * capital ("canada", "australia"), and no verb, adjective or adverb.
 */
int wordnet_proper(const struct wordnet *wn, const char *word);

/*
 * The words of query that are no English word WordNet knows (runs of ASCII
 * letters and digits holding a letter, lower-cased: "zsh", "ggplot2") or that
 * it knows only as proper nouns (wordnet_proper: "canada"),
 * space-separated into out (outlen bytes, NUL-terminated; words that do not fit
 * are left out). Without wn, none. Returns how many.
 */
int expand_names(const char *query, const struct wordnet *wn, char *out, size_t outlen);

/*
 * The expansions of query: with compounds, each pair of adjacent words joined
 * ("time zone" -> "timezone", origin "time zone"), each pair of words one
 * word apart, both of 3 letters or more, joined at EXPAND_SKIP_WEIGHT ("add
 * another user" -> "adduser", origin "add user"; only while fewer than
 * max / 2 are proposed, so a long query keeps room for the rest), and the words of a token
 * joined by '.', '/' or '_' apart ("tar.xz" -> "tar", "xz"); with wn, the synonyms of
 * each word not in skip (a space-separated list of words not to expand:
 * question words). Words are runs of ASCII letters, lower-cased, 2 to
 * EXPAND_WORD_MAX letters. Returns the count (at most max).
 */
int expand_query(const char *query, int compounds, const struct wordnet *wn, const char *skip,
                 struct expansion *out, int max);

/*
 * Append to out[n..max) the spelling variants among the WordNet synonyms of
 * each query word ("colour" -> "color", "grey" -> "gray": a synonym of 4
 * letters or more, the same first two and last letters, lengths within one,
 * at most 2 edits away), at EXPAND_VARIANT_WEIGHT: the same word written
 * another way. Returns the new count.
 */
int expand_variants(const char *query, const struct wordnet *wn, struct expansion *out, int n, int max);

/*
 * The lexemes lex[0..n) (the query's own, Snowball stems) that are parts of the
 * hyphenated lexeme hw ("c-style": "c" and "style"; "command-line": "command"
 * and "line"), as a mask (bit j: lex[j]); 0 when hw has no hyphen. A part
 * matches a lexeme that is a prefix of it (its stem: "counting" -> "count") or
 * differs only in its last letter ("happy" -> "happi"). hw itself and lexemes
 * past the 64th are never in the mask.
 */
uint64_t expand_hyphen_parts(const char *hw, const char *const *lex, int n);

#endif
