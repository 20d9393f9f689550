/*
 * embed_hash.c - the "hash" embedding provider: feature hashing, no model.
 *
 * Features of a text (all lower-cased, with a light English suffix stemmer):
 *   - word unigrams (stop words kept at a small weight, so a query made only
 *     of stop words still matches something, but they never dominate);
 *   - bigrams of consecutive content words (stop words skipped, so
 *     "capital of France" and "France's capital" share "capital france"
 *     only in one order - phrases still count);
 *   - character trigrams of each content word with boundary marks, at a lower
 *     weight, which makes "retry", "retries" and "retried" close even where
 *     the stemmer misses.
 * Each feature's total weight w in the text is damped sublinearly (1 + ln w),
 * then added with a hash-derived sign (+/-) to bucket hash % dim; the vector
 * is L2-normalized. Deterministic across runs, machines and processes.
 * Changing anything here changes the vectors: bump the default model name.
 */
#include "common/embed_provider.h"
#include "common/utf8.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 64
#define W_UNIGRAM 1.0f
#define W_STOPWORD 0.08f
#define W_BIGRAM 0.7f
#define W_TRIGRAMS 0.6f   /* shared by all trigrams of one word */

enum feature_kind { F_WORD = 1, F_BIGRAM = 2, F_TRIGRAM = 3 };

struct hash_state {
    int dim;
};

/* feature hash -> accumulated weight; open addressing, key 0 = empty */
struct ftable {
    uint64_t *keys;
    float *vals;
    size_t cap, used;
};

static const char *const stop_words[] = {
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few",
    "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of",
    "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own",
    "s", "same", "she", "should", "so", "some", "such", "t", "than", "that", "the", "their",
    "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through",
    "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
    "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
    "yourself", "yourselves", "shall", "may", "might", "must", "does", "tell", "please", "let",
    "de", "la", "le", "les", "el", "en", "und", "der", "die", "das",
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *sorted_stops[sizeof(stop_words) / sizeof(stop_words[0])];
static const size_t n_stops = sizeof(stop_words) / sizeof(stop_words[0]);
static pthread_once_t stops_once = PTHREAD_ONCE_INIT;

static void stops_init(void)
{
    memcpy(sorted_stops, stop_words, sizeof(stop_words));
    qsort(sorted_stops, n_stops, sizeof(sorted_stops[0]), cmp_str);
}

static int is_stop(const char *w)
{
    size_t lo = 0, hi = n_stops;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(w, sorted_stops[mid]);

        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t feature_hash(enum feature_kind kind, const char *a, size_t alen, const char *b,
                             size_t blen)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)kind * 0x9e3779b97f4a7c15ULL);

    h = fnv1a(h, a, alen);
    if (b) {
        h = fnv1a(h, "\x1f", 1);
        h = fnv1a(h, b, blen);
    }
    h = mix64(h);
    return h ? h : 1;
}

static int ftable_grow(struct ftable *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256, i;
    uint64_t *keys = calloc(cap, sizeof(*keys));
    float *vals = calloc(cap, sizeof(*vals));

    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (i = 0; i < t->cap; i++) {
        size_t j;

        if (!t->keys[i])
            continue;
        j = (size_t)(t->keys[i] & (cap - 1));
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = t->keys[i];
        vals[j] = t->vals[i];
    }
    free(t->keys);
    free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->cap = cap;
    return 0;
}

static int ftable_add(struct ftable *t, uint64_t key, float w)
{
    size_t j;

    if ((t->used + 1) * 2 > t->cap && ftable_grow(t) < 0)
        return -1;
    j = (size_t)(key & (t->cap - 1));
    while (t->keys[j] && t->keys[j] != key)
        j = (j + 1) & (t->cap - 1);
    if (!t->keys[j]) {
        t->keys[j] = key;
        t->used++;
    }
    t->vals[j] += w;
    return 0;
}

static void ftable_clear(struct ftable *t)
{
    if (t->keys)
        memset(t->keys, 0, t->cap * sizeof(*t->keys));
    if (t->vals)
        memset(t->vals, 0, t->cap * sizeof(*t->vals));
    t->used = 0;
}

static void ftable_release(struct ftable *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof(*t));
}

static int is_word_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c < 0xC0 || c == 0xD7 || c == 0xF7 || c == 0xFFFD)
        return 0;
    if ((c >= 0x2000 && c <= 0x206F) || (c >= 0x2190 && c <= 0x2BFF) ||
        (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F) ||
        (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFE30 && c <= 0xFE4F))
        return 0;
    return 1;
}

static uint32_t lower_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3A9) ||
        (c >= 0x410 && c <= 0x42F))
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

static size_t put_cp(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static int ends_with(const char *w, size_t n, const char *s)
{
    size_t m = strlen(s);

    return n >= m && memcmp(w + n - m, s, m) == 0;
}

/*
 * A light suffix stemmer for English: writes the stem of w[0..n) to out and
 * returns its length. retry/retries/retried/retrying -> retry,
 * store/stored/stores/storing -> stor.
 */
static size_t stem(const char *w, size_t n, char *out)
{
    memcpy(out, w, n);
    if (n <= 3)
        return n;
    if ((ends_with(out, n, "ies") || ends_with(out, n, "ied")) && n > 4) {
        out[n - 3] = 'y';
        return n - 2;
    }
    if (ends_with(out, n, "sses"))
        return n - 2;
    if (ends_with(out, n, "ss") || ends_with(out, n, "us") || ends_with(out, n, "is"))
        return n;
    if (ends_with(out, n, "ing") && n > 5) {
        n -= 3;
        if (n > 2 && out[n - 1] == out[n - 2] && out[n - 1] != 'l' && out[n - 1] != 's' &&
            out[n - 1] != 'z')
            n--;   /* running -> run */
    } else if (ends_with(out, n, "ed") && n > 4) {
        n -= 2;
        if (n > 2 && out[n - 1] == out[n - 2] && out[n - 1] != 'l' && out[n - 1] != 's' &&
            out[n - 1] != 'z')
            n--;   /* stopped -> stop */
    } else if (ends_with(out, n, "es") && n > 4 &&
               (ends_with(out, n - 2, "sh") || ends_with(out, n - 2, "ch") ||
                ends_with(out, n - 2, "x") || ends_with(out, n - 2, "s") ||
                ends_with(out, n - 2, "z")))
        n -= 2;
    else if (ends_with(out, n, "s"))
        n -= 1;
    else if (ends_with(out, n, "ly") && n > 5)
        n -= 2;
    if (n > 3 && out[n - 1] == 'e')
        n -= 1;
    return n;
}

struct tokenizer {
    struct ftable *t;
    char prev[WORD_MAX];
    size_t prev_len;
    int have_prev;
};

static int add_word(struct tokenizer *tk, const char *w, size_t n)
{
    char z[WORD_MAX + 2], st[WORD_MAX];
    size_t s, i, ntri;
    float wt;

    if (n == 0)
        return 0;
    memcpy(z, w, n);
    z[n] = '\0';
    if (is_stop(z))
        return ftable_add(tk->t, feature_hash(F_WORD, w, n, NULL, 0), W_STOPWORD);

    s = stem(w, n, st);
    if (ftable_add(tk->t, feature_hash(F_WORD, st, s, NULL, 0), W_UNIGRAM) < 0)
        return -1;
    if (tk->have_prev &&
        ftable_add(tk->t, feature_hash(F_BIGRAM, tk->prev, tk->prev_len, st, s), W_BIGRAM) < 0)
        return -1;
    memcpy(tk->prev, st, s);
    tk->prev_len = s;
    tk->have_prev = 1;

    /* trigrams of "^word$" */
    z[0] = '^';
    memcpy(z + 1, w, n);
    z[n + 1] = '$';
    ntri = n;   /* (n + 2) - 2 */
    wt = W_TRIGRAMS / sqrtf((float)ntri);
    for (i = 0; i + 3 <= n + 2; i++)
        if (ftable_add(tk->t, feature_hash(F_TRIGRAM, z + i, 3, NULL, 0), wt) < 0)
            return -1;
    return 0;
}

static int embed_one(const struct hash_state *st, struct ftable *t, const char *text, size_t len,
                     float *v)
{
    const unsigned char *p = (const unsigned char *)text;
    struct tokenizer tk;
    char word[WORD_MAX + 4];
    size_t wl = 0, i = 0, l, k;
    int dim = st->dim;

    memset(&tk, 0, sizeof(tk));
    tk.t = t;
    ftable_clear(t);
    while (i <= len) {
        uint32_t c = 0;
        int wordc = 0;

        if (i < len) {
            l = utf8_next_lax(p + i, len - i, &c);
            wordc = is_word_cp(c);
            /* an apostrophe inside a word ("don't", "France's") ends it */
        } else
            l = 1;
        if (wordc) {
            c = lower_cp(c);
            if (wl + 4 <= WORD_MAX)
                wl += put_cp(word + wl, c);
        } else if (wl) {
            if (add_word(&tk, word, wl) < 0)
                return -1;
            wl = 0;
        }
        /* a sentence end breaks bigram chains */
        if (!wordc && i < len && (c == '.' || c == '!' || c == '?' || c == ';' || c == '\n'))
            tk.have_prev = 0;
        i += l;
    }

    memset(v, 0, sizeof(*v) * (size_t)dim);
    for (k = 0; k < t->cap; k++) {
        float w;
        uint64_t h;

        if (!t->keys[k])
            continue;
        w = t->vals[k];
        if (w > 1.0f)
            w = 1.0f + logf(w);
        h = t->keys[k];
        v[(h >> 1) % (uint64_t)dim] += (h & 1) ? w : -w;
    }
    embed_normalize(v, dim);
    return 0;
}

static void *hash_new(const struct embed_config *cfg, char *err, size_t errlen)
{
    struct hash_state *st;

    pthread_once(&stops_once, stops_init);
    st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->dim = cfg->dim;
    return st;
}

static void hash_free(void *state)
{
    free(state);
}

static int hash_texts(void *state, const char *const *texts, const size_t *lens, size_t n,
                     float *out, char *err, size_t errlen)
{
    struct hash_state *st = state;
    struct ftable t;
    size_t i;
    int rc = 0;

    memset(&t, 0, sizeof(t));
    if (ftable_grow(&t) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (embed_one(st, &t, texts[i] ? texts[i] : "", texts[i] ? lens[i] : 0,
                      out + i * (size_t)st->dim) < 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    ftable_release(&t);
    return rc;
}

const struct embed_provider embed_provider_hash = {
    .name = "hash",
    .default_model = "hash-v1",
    .create = hash_new,
    .destroy = hash_free,
    .texts = hash_texts,
};
