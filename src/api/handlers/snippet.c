/*
 * snippet.c - a returned chunk's snippet from its text and the query's
 * lexemes: words stemmed by libstemmer's English Snowball stemmer (the one of
 * PostgreSQL's english configuration), the best windows of matches, marks
 * around the matches. snippet.h has the rules; docs/retrieval.md "Snippets"
 * the reasons.
 */
#include "api/handlers/snippet.h"

#include "api/handlers/rank.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The longest word or joined word that is matched (longer ones never are). */
#define SNIPPET_KEY_MAX 256

struct word {
    size_t start, end;   /* bytes of the text */
    int lex;             /* the lexeme it matches (index in lex), or -1 */
    int open, close;     /* a mark opens before it, closes after it */
};

/* One stemmer per thread (a stemmer is not thread-safe), freed when the thread ends. */
static pthread_key_t stem_key;
static pthread_once_t stem_once = PTHREAD_ONCE_INIT;
static int stem_key_ok;

static void stem_key_destroy(void *p)
{
    sb_stemmer_delete(p);
}

static void stem_key_init(void)
{
    stem_key_ok = pthread_key_create(&stem_key, stem_key_destroy) == 0;
}

struct sb_stemmer *snippet_stemmer(void)
{
    struct sb_stemmer *st;

    pthread_once(&stem_once, stem_key_init);
    if (!stem_key_ok)
        return NULL;
    st = pthread_getspecific(stem_key);
    if (st)
        return st;
    st = sb_stemmer_new("english", "UTF_8");
    if (st && pthread_setspecific(stem_key, st) != 0) {
        sb_stemmer_delete(st);
        st = NULL;
    }
    return st;
}

/*
 * The length of the character at p (at most n bytes) and whether it is part
 * of a word: ASCII letters and digits, and non-ASCII characters other than
 * the Latin-1 signs, general punctuation (dashes, quotes, ellipsis), symbol
 * blocks and CJK punctuation. A byte that does not start valid UTF-8 is one
 * separator byte.
 */
static size_t char_at(const unsigned char *p, size_t n, int *is_word)
{
    uint32_t c;
    size_t len;

    *is_word = 0;
    if (p[0] < 0x80) {
        *is_word = (p[0] >= '0' && p[0] <= '9') || ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z');
        return 1;
    }
    len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
    if (len == 0 || len > n)
        return 1;
    c = p[0] & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 1;
        c = c << 6 | (p[i] & 0x3f);
    }
    *is_word = !(c <= 0xbf || c == 0xd7 || c == 0xf7 || (c >= 0x2000 && c <= 0x206f) ||
                 (c >= 0x2190 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) || c == 0xfeff);
    return len;
}

/* The words of text into w (room for len / 2 + 1); their count. */
static size_t split_words(const char *text, size_t len, struct word *w)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t i = 0, n = 0;
    int in_word = 0;

    while (i < len) {
        int is_word;
        size_t cl = char_at(t + i, len - i, &is_word);

        if (is_word && !in_word) {
            w[n].start = i;
            w[n].lex = -1;
            w[n].open = w[n].close = 0;
        }
        if (!is_word && in_word)
            w[n++].end = i;
        in_word = is_word;
        i += cl;
    }
    if (in_word)
        w[n++].end = len;
    return n;
}

/* Whether c is an ASCII lowercase letter. */
static int ascii_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

void snippet_terms_init(struct snippet_terms *t, const char *const *lex, int n)
{
    t->n = n < SNIPPET_MAX_TERMS ? (n > 0 ? n : 0) : SNIPPET_MAX_TERMS;
    memset(t->pre, 0, sizeof(t->pre));
    for (int i = 0; i < t->n; i++) {
        t->lex[i] = lex[i] ? lex[i] : "";
        t->len[i] = lex[i] ? strlen(lex[i]) : 0;   /* "" matches no word: a word is never empty */
        if (t->len[i] >= 2 && ascii_lower(t->lex[i][0]) && ascii_lower(t->lex[i][1]))
            t->pre[t->lex[i][0] - 'a'] |= (uint32_t)1 << (t->lex[i][1] - 'a') |
                                          (uint32_t)(t->lex[i][1] == 'i') << ('y' - 'a');   /* "dying": "die" */
        else if (t->len[i] == 1 && ascii_lower(t->lex[i][0]))
            t->pre[t->lex[i][0] - 'a'] = ~(uint32_t)0;   /* "aed" stems to "a": any second letter */
    }
}

/* Whether the stem of key (len bytes, lowercased) can be one of t's lexemes (snippet_terms.pre). */
static int may_stem_to(const char *key, size_t len, const struct snippet_terms *t)
{
    if (len < 2 || !ascii_lower(key[0]) || !ascii_lower(key[1]))
        return 1;
    return (t->pre[key[0] - 'a'] >> (key[1] - 'a')) & 1;
}

/* The index of the lexeme k (klen bytes) in t, or -1. */
static int find_lex(const char *k, size_t klen, const struct snippet_terms *t)
{
    for (int i = 0; i < t->n; i++)
        if (t->len[i] == klen && memcmp(t->lex[i], k, klen) == 0)
            return i;
    return -1;
}

/* The lexeme text[start, end) stands for (lowercased; stemmed unless it holds a digit): its index or -1. */
static int match(struct sb_stemmer *st, const char *text, size_t start, size_t end, const struct snippet_terms *t)
{
    char key[SNIPPET_KEY_MAX];
    size_t len = end - start;
    int digit = 0, i;
    const sb_symbol *stem;

    if (len == 0 || len > sizeof(key))
        return -1;   /* a word is never empty */
    for (size_t j = 0; j < len; j++) {
        unsigned char ch = (unsigned char)text[start + j];
        int upper = (ch >= 'A' && ch <= 'Z') ||   /* and Latin-1's À..Þ but × (U+00C0..U+00DE: C3 80..9E) */
                    (j > 0 && (unsigned char)text[start + j - 1] == 0xc3 && ch >= 0x80 && ch <= 0x9e && ch != 0x97);

        key[j] = (char)(upper ? ch + 32 : ch);
        digit |= ch >= '0' && ch <= '9';
    }
    i = find_lex(key, len, t);
    if (i >= 0 || digit || !st || !may_stem_to(key, len, t))
        return i;
    stem = sb_stemmer_stem(st, (const sb_symbol *)key, (int)len);
    return stem ? find_lex((const char *)stem, (size_t)sb_stemmer_length(st), t) : -1;
}

/* Whether words a and a + 1 are joined ("c-style", "tar.xz", "usr/bin"). */
static int joined(const char *text, const struct word *w, size_t a)
{
    char c = text[w[a].end];

    return w[a + 1].start == w[a].end + 1 && (c == '-' || c == '.' || c == '_' || c == '/');
}

/* The matches of the nw words w: joined words as one when they match so, else each word. */
static void mark_matches(struct sb_stemmer *st, const char *text, struct word *w, size_t nw,
                         const struct snippet_terms *t)
{
    for (size_t a = 0; a < nw;) {
        size_t b = a;
        int i = -1;

        while (b + 1 < nw && joined(text, w, b))
            b++;
        if (b > a)
            i = match(st, text, w[a].start, w[b].end, t);
        if (i >= 0) {
            w[a].lex = i;
            w[a].open = w[b].close = 1;
        } else {
            for (size_t k = a; k <= b; k++) {
                w[k].lex = match(st, text, w[k].start, w[k].end, t);
                w[k].open = w[k].close = w[k].lex >= 0;
            }
        }
        a = b + 1;
    }
}

/* The window's score: distinct lexemes, then matches. */
static long window_score(const struct word *w, size_t s, size_t e)
{
    uint64_t seen = 0;
    long distinct = 0, count = 0;

    for (size_t k = s; k < e; k++) {
        if (w[k].lex < 0)
            continue;
        count++;
        if (!(seen & (uint64_t)1 << w[k].lex)) {
            seen |= (uint64_t)1 << w[k].lex;
            distinct++;
        }
    }
    return distinct * 100000 + count;
}

/* The best window [*s, *s + SNIPPET_MAX_WORDS) apart from [ns, ne) (ne 0: none); 0, or -1 when none. */
static int best_window(const struct word *w, size_t nw, size_t ns, size_t ne, size_t *s)
{
    long best = 0;

    for (size_t p = 0; p < nw; p++) {
        size_t a = p > SNIPPET_LEAD ? p - SNIPPET_LEAD : 0, e;
        long score;

        if (w[p].lex < 0)
            continue;
        if (a + SNIPPET_MAX_WORDS > nw)
            a = nw > SNIPPET_MAX_WORDS ? nw - SNIPPET_MAX_WORDS : 0;
        e = a + SNIPPET_MAX_WORDS < nw ? a + SNIPPET_MAX_WORDS : nw;
        if (ne > 0 && a < ne && e > ns)
            continue;   /* overlaps the fragment already taken */
        score = window_score(w, a, e);
        if (score > best) {
            best = score;
            *s = a;
        }
    }
    return best > 0 ? 0 : -1;
}

/* Append text[from, to) without bytes 1 and 2. */
static int add_clean(struct buf *out, const char *text, size_t from, size_t to)
{
    size_t run = from;

    for (size_t i = from; i < to; i++) {
        if (text[i] != RANK_MARK_OPEN && text[i] != RANK_MARK_CLOSE)
            continue;
        if (i > run && buf_add(out, text + run, i - run) < 0)
            return -1;
        run = i + 1;
    }
    return to > run ? buf_add(out, text + run, to - run) : 0;
}

/* Append words [s, e) with the text between them and their marks (one left open is closed). */
static int add_window(struct buf *out, const char *text, const struct word *w, size_t s, size_t e)
{
    char open = RANK_MARK_OPEN, close = RANK_MARK_CLOSE;
    int in_mark = 0;

    for (size_t k = s; k < e; k++) {
        if (k > s && add_clean(out, text, w[k - 1].end, w[k].start) < 0)
            return -1;
        if (w[k].open && buf_add(out, &open, 1) < 0)
            return -1;
        in_mark |= w[k].open;
        if (buf_add(out, text + w[k].start, w[k].end - w[k].start) < 0)
            return -1;
        if ((w[k].close || (in_mark && k + 1 == e)) && buf_add(out, &close, 1) < 0)
            return -1;
        in_mark &= !w[k].close;
    }
    return 0;
}

/* The fragments of the nw words w into out (snippet_make's rules). */
static int add_fragments(struct buf *out, const char *text, const struct word *w, size_t nw)
{
    size_t s1 = 0, s2 = 0, e1, e2;

    if (best_window(w, nw, 0, 0, &s1) < 0)
        return add_window(out, text, w, 0, nw < SNIPPET_MIN_WORDS ? nw : SNIPPET_MIN_WORDS);
    e1 = s1 + SNIPPET_MAX_WORDS < nw ? s1 + SNIPPET_MAX_WORDS : nw;
    if (SNIPPET_MAX_FRAGMENTS < 2 || best_window(w, nw, s1, e1, &s2) < 0)
        return add_window(out, text, w, s1, e1);
    e2 = s2 + SNIPPET_MAX_WORDS < nw ? s2 + SNIPPET_MAX_WORDS : nw;
    if (s2 < s1) {
        size_t ts = s1, te = e1;

        s1 = s2;
        e1 = e2;
        s2 = ts;
        e2 = te;
    }
    if (add_window(out, text, w, s1, e1) < 0 || buf_adds(out, " ... ") < 0)
        return -1;
    return add_window(out, text, w, s2, e2);
}

int snippet_make(struct sb_stemmer *st, const char *text, size_t len, const struct snippet_terms *t,
                 struct buf *out)
{
    struct word *w = malloc(sizeof(*w) * (len / 2 + 1));
    size_t nw;
    int rc;

    if (!w)
        return -1;
    nw = split_words(text, len, w);
    mark_matches(st, text, w, nw, t);
    rc = add_fragments(out, text, w, nw);
    free(w);
    return rc;
}
