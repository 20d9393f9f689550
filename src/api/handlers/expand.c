/*
 * expand.c - query expansion (expand.h): compounds of adjacent query words
 * (and of words one apart, at a lower weight) and WordNet synonyms. The WordNet files are mapped read-only once and
 * searched in place (the index files are sorted: a binary search per word;
 * a synset is read at its byte offset in the data file), so a lookup costs
 * a few page reads. Each index file's lemma lines are put in a hash table of
 * their offsets once, when the files are opened (~150k lemmas, 1.5 MB a
 * process, read-only after): a look-up hashes the word and compares a lemma
 * or two, where a binary search compared ~17 lemmas strewn over the file.
 */
#include "api/handlers/expand.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { WN_NOUN, WN_VERB, WN_ADJ, WN_ADV, WN_POS };

static const char *const wn_pos_name[WN_POS] = {"noun", "verb", "adj", "adv"};

struct wn_file {
    const char *p;
    size_t len;
    uint32_t *slots;   /* index files: hash table of lemma lines, offset + 1 (0: empty), lemma_hash order */
    size_t mask;       /* slots - 1, a power of two minus one */
};

struct wordnet {
    struct wn_file index[WN_POS];
    struct wn_file data[WN_POS];
};

/* Map dir/name into f; 0 or -1 (err set). */
static int map_file(const char *dir, const char *name, struct wn_file *f, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;
    void *p;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
        snprintf(err, errlen, "WordNet: cannot read %s", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "WordNet: cannot map %s", path);
        return -1;
    }
    f->p = p;
    f->len = (size_t)st.st_size;
    return 0;
}

/* The start of the line after the one at (f->len at the end). */
static size_t line_next(const struct wn_file *f, size_t at)
{
    const char *nl = memchr(f->p + at, '\n', f->len - at);

    return nl ? (size_t)(nl - f->p) + 1 : f->len;
}

/* 1 if the line at is a lemma's (not a license line, two spaces first, nor an empty one). */
static int lemma_line(const struct wn_file *f, size_t at)
{
    return f->p[at] != ' ' && f->p[at] != '\n';
}

/* FNV-1a of the n bytes at p: the hash of a lemma (index_table). */
static uint32_t lemma_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* The length of the lemma of the line at (up to its space). */
static size_t lemma_len(const struct wn_file *f, size_t at)
{
    size_t i = 0;

    while (at + i < f->len && f->p[at + i] != ' ' && f->p[at + i] != '\n')
        i++;
    return i;
}

/* f->slots: every lemma line of index file f in a table at most half full; 0 or -1 (err set). */
static int index_table(struct wn_file *f, char *err, size_t errlen)
{
    size_t n = 0, size = 64;

    if (f->len >= UINT32_MAX) {
        snprintf(err, errlen, "WordNet: index file too large");
        return -1;
    }
    for (size_t at = 0; at < f->len; at = line_next(f, at))
        n += lemma_line(f, at);
    while (size < 2 * n)
        size *= 2;
    f->slots = calloc(size, sizeof(*f->slots));
    if (!f->slots) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->mask = size - 1;
    for (size_t at = 0; at < f->len; at = line_next(f, at)) {
        size_t i = lemma_hash(f->p + at, lemma_len(f, at)) & f->mask;

        if (!lemma_line(f, at))
            continue;
        while (f->slots[i])
            i = (i + 1) & f->mask;
        f->slots[i] = (uint32_t)at + 1;
    }
    return 0;
}

void wordnet_close(struct wordnet **wn)
{
    if (!wn || !*wn)
        return;
    for (int i = 0; i < WN_POS; i++) {
        if ((*wn)->index[i].p)
            munmap((void *)(*wn)->index[i].p, (*wn)->index[i].len);
        if ((*wn)->data[i].p)
            munmap((void *)(*wn)->data[i].p, (*wn)->data[i].len);
        free((*wn)->index[i].slots);
    }
    free(*wn);
    *wn = NULL;
}

struct wordnet *wordnet_open(const char *dir, char *err, size_t errlen)
{
    struct wordnet *wn = calloc(1, sizeof(*wn));
    char name[32];

    if (!wn) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < WN_POS; i++) {
        snprintf(name, sizeof(name), "index.%s", wn_pos_name[i]);
        if (map_file(dir, name, &wn->index[i], err, errlen) < 0 || index_table(&wn->index[i], err, errlen) < 0)
            break;
        snprintf(name, sizeof(name), "data.%s", wn_pos_name[i]);
        if (map_file(dir, name, &wn->data[i], err, errlen) < 0)
            break;
    }
    if (!wn->data[WN_ADV].p)
        wordnet_close(&wn);
    return wn;
}

/* strcmp of the lemma at line (up to its space) against word. */
static int lemma_cmp(const struct wn_file *f, size_t line, const char *word)
{
    size_t i = 0;

    for (; line + i < f->len && f->p[line + i] != ' ' && f->p[line + i] != '\n'; i++) {
        unsigned char a = (unsigned char)f->p[line + i], b = (unsigned char)word[i];

        if (a != b)
            return a < b ? -1 : 1;
    }
    return word[i] ? -1 : 0;
}

/* The index line of word in f (license lines starting with two spaces left out), or (size_t)-1. */
static size_t index_find(const struct wn_file *f, const char *word)
{
    for (size_t i = lemma_hash(word, strlen(word)) & f->mask; f->slots[i]; i = (i + 1) & f->mask)
        if (lemma_cmp(f, f->slots[i] - 1, word) == 0)
            return f->slots[i] - 1;
    return (size_t)-1;
}

/*
 * The synset offsets of the index line at line (at most max, most frequent
 * sense first): "lemma pos synset_cnt p_cnt [ptr...] sense_cnt tagsense_cnt offset...".
 */
static int index_offsets(const struct wn_file *f, size_t line, long *out, int max)
{
    size_t end = line_next(f, line);
    char buf[2048];
    char *tok, *save = NULL;
    long nsyn = 0, nptr = 0;
    int field = 0, n = 0;

    if (end - line >= sizeof(buf))
        return 0;
    memcpy(buf, f->p + line, end - line);
    buf[end - line] = '\0';
    for (tok = strtok_r(buf, " \n", &save); tok && n < max; tok = strtok_r(NULL, " \n", &save), field++) {
        if (field == 2)
            nsyn = strtol(tok, NULL, 10);
        else if (field == 3)
            nptr = strtol(tok, NULL, 10);
        else if (field >= 6 + nptr && field < 6 + nptr + nsyn)
            out[n++] = strtol(tok, NULL, 10);
    }
    return n;
}

/* 1 if w is already in out[0..n). */
static int seen(char out[][EXPAND_WORD_MAX + 1], int n, const char *w)
{
    for (int i = 0; i < n; i++)
        if (strcmp(out[i], w) == 0)
            return 1;
    return 0;
}

/*
 * Add the single words of the synset at offset of data file f (other than
 * word) to out[*n..max): "offset lex_filenum ss_type w_cnt(hex) word lex_id ...".
 */
static void synset_words(const struct wn_file *f, long offset, const char *word, char out[][EXPAND_WORD_MAX + 1],
                         int *n, int max)
{
    char buf[512];
    char *p, *tok, *save = NULL;
    size_t end;
    long count;

    if (offset < 0 || (size_t)offset >= f->len)
        return;
    end = line_next(f, (size_t)offset);
    if (end - (size_t)offset >= sizeof(buf))
        end = (size_t)offset + sizeof(buf) - 1;
    memcpy(buf, f->p + offset, end - (size_t)offset);
    buf[end - (size_t)offset] = '\0';
    strtok_r(buf, " ", &save);            /* offset */
    strtok_r(NULL, " ", &save);           /* lex_filenum */
    strtok_r(NULL, " ", &save);           /* ss_type */
    tok = strtok_r(NULL, " ", &save);     /* w_cnt, hexadecimal */
    count = tok ? strtol(tok, NULL, 16) : 0;
    for (long i = 0; i < count && *n < max && (tok = strtok_r(NULL, " ", &save)); i++) {
        if ((p = strchr(tok, '(')))
            *p = '\0';                    /* adjective markers: "big(a)" */
        for (p = tok; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (strlen(tok) <= EXPAND_WORD_MAX && strspn(tok, "abcdefghijklmnopqrstuvwxyz") == strlen(tok) &&
            strcmp(tok, word) != 0 && !seen(out, *n, tok))
            snprintf(out[(*n)++], EXPAND_WORD_MAX + 1, "%s", tok);
        if (!strtok_r(NULL, " ", &save))  /* lex_id */
            break;
    }
}

/* WordNet's detachment rules (morphy): base form i of word into out; 0 when there is none. */
static int detach(const char *word, int i, char *out, size_t outlen)
{
    static const char *const rule[][2] = {{"ies", "y"}, {"ches", "ch"}, {"shes", "sh"}, {"xes", "x"}, {"ses", "s"},
                                          {"es", "e"},  {"es", ""},     {"s", ""},      {"ied", "y"}, {"ed", "e"},
                                          {"ed", ""},   {"ing", "e"},   {"ing", ""}};
    size_t len = strlen(word), sl;

    if (i < 0 || i >= (int)(sizeof(rule) / sizeof(rule[0])))
        return -1;
    sl = strlen(rule[i][0]);
    if (len <= sl + 2 || strcmp(word + len - sl, rule[i][0]) != 0 || len - sl + strlen(rule[i][1]) >= outlen)
        return 0;
    snprintf(out, outlen, "%.*s%s", (int)(len - sl), word, rule[i][1]);
    return 1;
}

/*
 * The index line of word in part of speech pos, or of its first base form
 * that is a lemma (into base, EXPAND_WORD_MAX + 1 bytes); -1 if none.
 */
static size_t find_lemma(const struct wordnet *wn, int pos, const char *word, char *base)
{
    size_t at = index_find(&wn->index[pos], word);
    int r;

    snprintf(base, EXPAND_WORD_MAX + 1, "%s", word);
    for (int i = 0; at == (size_t)-1 && (r = detach(word, i, base, EXPAND_WORD_MAX + 1)) >= 0; i++)
        if (r)
            at = index_find(&wn->index[pos], base);
    return at;
}

int wordnet_synonyms(const struct wordnet *wn, const char *word, char out[][EXPAND_WORD_MAX + 1], int max)
{
    int n = 0;

    if (!wn || !word || strlen(word) > EXPAND_WORD_MAX)
        return 0;
    for (int pos = 0; pos < WN_POS && n < max; pos++) {
        char base[EXPAND_WORD_MAX + 1];
        size_t at = find_lemma(wn, pos, word, base);
        long off[EXPAND_SENSES];
        int k;

        if (at == (size_t)-1)
            continue;
        k = index_offsets(&wn->index[pos], at, off, EXPAND_SENSES);
        for (int i = 0; i < k; i++)
            synset_words(&wn->data[pos], off[i], base, out, &n, max);
    }
    return n;
}

int wordnet_knows(const struct wordnet *wn, const char *word)
{
    char base[EXPAND_WORD_MAX + 1];

    if (!wn || !word || strlen(word) > EXPAND_WORD_MAX)
        return 0;
    for (int pos = 0; pos < WN_POS; pos++)
        if (find_lemma(wn, pos, word, base) != (size_t)-1)
            return 1;
    return 0;
}

/* 1 if the synset at offset of data file f writes word (lower case) with a capital: "Canada". */
static int synset_capital(const struct wn_file *f, long offset, const char *word)
{
    char buf[512];
    char *tok, *save = NULL;
    size_t end;
    long count;

    if (offset < 0 || (size_t)offset >= f->len)
        return 0;
    end = line_next(f, (size_t)offset);
    if (end - (size_t)offset >= sizeof(buf))
        end = (size_t)offset + sizeof(buf) - 1;
    memcpy(buf, f->p + offset, end - (size_t)offset);
    buf[end - (size_t)offset] = '\0';
    for (int i = 0; i < 3; i++)
        strtok_r(i ? NULL : buf, " ", &save);   /* offset, lex_filenum, ss_type */
    tok = strtok_r(NULL, " ", &save);
    count = tok ? strtol(tok, NULL, 16) : 0;
    for (long i = 0; i < count && (tok = strtok_r(NULL, " ", &save)); i++) {
        if (strcasecmp(tok, word) == 0)
            return tok[0] >= 'A' && tok[0] <= 'Z';
        if (!strtok_r(NULL, " ", &save))        /* lex_id */
            break;
    }
    return 0;
}

int wordnet_proper(const struct wordnet *wn, const char *word)
{
    char base[EXPAND_WORD_MAX + 1];
    long off[16];
    size_t at;
    int n;

    if (!wn || !word || strlen(word) < 3 || strlen(word) > EXPAND_WORD_MAX)
        return 0;   /* "a", "us": letters and abbreviations, not what a question is about */
    for (int pos = WN_VERB; pos < WN_POS; pos++)
        if (find_lemma(wn, pos, word, base) != (size_t)-1)
            return 0;
    at = find_lemma(wn, WN_NOUN, word, base);
    n = at == (size_t)-1 ? 0 : index_offsets(&wn->index[WN_NOUN], at, off, 16);
    for (int i = 0; i < n; i++)
        if (!synset_capital(&wn->data[WN_NOUN], off[i], base))
            return 0;
    return n > 0;
}

static int is_alnum(char c)
{
    return ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9');
}

int expand_names(const char *query, const struct wordnet *wn, char *out, size_t outlen)
{
    char w[EXPAND_WORD_MAX + 1];
    size_t off = 0;
    int count = 0;

    if (outlen)
        out[0] = '\0';
    for (const char *p = query ? query : ""; wn && *p;) {
        size_t n = 0;
        int letters = 0;

        if (!is_alnum(*p)) {
            p++;
            continue;
        }
        for (; is_alnum(*p); p++, n++) {
            if (n < EXPAND_WORD_MAX)
                w[n] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            letters += (*p | 32) >= 'a' && (*p | 32) <= 'z';
        }
        if (n > EXPAND_WORD_MAX || !letters || off + n + 2 > outlen ||
            (wordnet_knows(wn, (w[n] = '\0', w)) && !wordnet_proper(wn, w)))
            continue;
        off += (size_t)snprintf(out + off, outlen - off, "%s%s", off ? " " : "", w);
        count++;
    }
    return count;
}

/* 1 if word is one of skip's space-separated words. */
static int skipped(const char *skip, const char *word)
{
    size_t len = strlen(word);

    for (const char *p = skip ? skip : ""; *p;) {
        size_t wl = strcspn(p, " ");

        if (wl == len && strncmp(p, word, len) == 0)
            return 1;
        p += wl;
        p += *p == ' ';
    }
    return 0;
}

/* The next word of *q (lower-cased ASCII letters) into w; 0 at the end. Longer or 1-letter words give "". */
static int next_word(const char **q, char *w)
{
    const char *p = *q;
    size_t n = 0;

    while (*p && !((*p | 32) >= 'a' && (*p | 32) <= 'z'))
        p++;
    if (!*p)
        return 0;
    for (; (*p | 32) >= 'a' && (*p | 32) <= 'z'; p++)
        if (n < EXPAND_WORD_MAX + 1)
            w[n++] = (char)(*p | 32);
    w[n < 2 || n > EXPAND_WORD_MAX ? 0 : n] = '\0';
    *q = p;
    return 1;
}

/* Append one expansion; 0, or -1 when out is full. */
static int add(struct expansion *out, int *n, int max, const char *word, const char *origin, double weight)
{
    if (*n >= max)
        return -1;
    snprintf(out[*n].word, sizeof(out[*n].word), "%s", word);
    snprintf(out[*n].origin, sizeof(out[*n].origin), "%s", origin);
    out[*n].weight = weight;
    (*n)++;
    return 0;
}

/* Append the join of a and b ("add" "user" -> "adduser"), standing for both, at weight. */
static void add_join(struct expansion *out, int *n, int max, const char *a, const char *b, double weight)
{
    char buf[EXPAND_WORD_MAX * 2 + 4], org[EXPAND_WORD_MAX * 2 + 5];

    snprintf(buf, sizeof(buf), "%s%s", a, b);
    snprintf(org, sizeof(org), "%s %s", a, b);
    add(out, n, max, buf, org, weight);
}

/*
 * The parts of each token that joins words with '.', '/' or '_' ("tar.xz",
 * "/etc/fstab", "file_name"): PostgreSQL's parser keeps such a token whole
 * (a file or host name), so a text that writes the parts apart never matched
 * it. Each part (2 letters or more) stands for the whole token.
 */
static void split_tokens(const char *query, struct expansion *out, int *n, int max)
{
    char tok[EXPAND_WORD_MAX * 2 + 1];

    for (const char *p = query; *p && *n < max;) {
        size_t len = 0, parts = 0;

        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '?' || *p == ',' || *p == '"' || *p == '\'')
            p++;
        while (p[len] && !strchr(" \t\n?,\"'", p[len]))
            len++;
        if (len >= sizeof(tok)) {
            p += len;   /* too long to be a file name worth splitting */
            continue;
        }
        if (len == 0)
            break;      /* only separators were left */
        memcpy(tok, p, len);
        tok[len] = '\0';
        p += len;
        for (size_t i = 0; i < len; i++)
            tok[i] = (char)(tok[i] >= 'A' && tok[i] <= 'Z' ? tok[i] + 32 : tok[i]);
        parts = strcspn(tok, "./_") < len;
        for (const char *q = tok; parts && *q && *n < max;) {
            char w[EXPAND_WORD_MAX + 2];

            if (!next_word(&q, w))
                break;
            if (w[0] && strcmp(w, tok) != 0)
                add(out, n, max, w, tok, EXPAND_COMPOUND_WEIGHT);
        }
    }
}

int expand_query(const char *query, int compounds, const struct wordnet *wn, const char *skip,
                 struct expansion *out, int max)
{
    char prev2[EXPAND_WORD_MAX + 2] = "", prev[EXPAND_WORD_MAX + 2] = "", w[EXPAND_WORD_MAX + 2];
    char syn[EXPAND_SYN_PER_WORD][EXPAND_WORD_MAX + 1];
    const char *q = query ? query : "";
    int n = 0;

    while (n < max && next_word(&q, w)) {
        if (compounds && prev[0] && w[0])
            add_join(out, &n, max, prev, w, EXPAND_COMPOUND_WEIGHT);
        /* over any word ("add a user"), in the first half of out: the rest is the other kinds' */
        if (compounds && strlen(prev2) >= 3 && strlen(w) >= 3 && n < max / 2)
            add_join(out, &n, max, prev2, w, EXPAND_SKIP_WEIGHT);
        if (wn && w[0] && !skipped(skip, w)) {
            int k = wordnet_synonyms(wn, w, syn, EXPAND_SYN_PER_WORD);

            for (int i = 0; i < k; i++)
                add(out, &n, max, syn[i], w, EXPAND_SYNONYM_WEIGHT);
        }
        snprintf(prev2, sizeof(prev2), "%s", prev);
        snprintf(prev, sizeof(prev), "%s", w);
    }
    if (compounds)
        split_tokens(query ? query : "", out, &n, max);
    return n;
}

/* Levenshtein distance of a and b when at most 2 (else 3); both at most EXPAND_WORD_MAX bytes. */
static int edits(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int row[EXPAND_WORD_MAX + 2];

    if (la > EXPAND_WORD_MAX || lb > EXPAND_WORD_MAX || (la > lb ? la - lb : lb - la) > 2)
        return 3;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];

        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb] < 3 ? row[lb] : 3;
}

/*
 * Whether synonym s is word w spelled another way: 4 letters or more, the same
 * first two and last letters, lengths within one, at most 2 edits apart
 * (colour/color, grey/gray, analyse/analyze; not signal/sign, same/sami).
 */
static int same_spelling(const char *s, const char *w)
{
    size_t ls = strlen(s), lw = strlen(w);

    if (ls < 4 || lw < 4 || (ls > lw ? ls - lw : lw - ls) > 1 || strncmp(s, w, 2) != 0 || s[ls - 1] != w[lw - 1])
        return 0;
    return edits(s, w) <= 2;
}

int expand_variants(const char *query, const struct wordnet *wn, struct expansion *out, int n, int max)
{
    char w[EXPAND_WORD_MAX + 2], syn[EXPAND_SYN_PER_WORD][EXPAND_WORD_MAX + 1];
    const char *q = query ? query : "";

    while (wn && n < max && next_word(&q, w)) {
        int k = strlen(w) >= 4 ? wordnet_synonyms(wn, w, syn, EXPAND_SYN_PER_WORD) : 0;

        for (int i = 0; i < k && n < max; i++)
            if (same_spelling(syn[i], w))
                add(out, &n, max, syn[i], w, EXPAND_VARIANT_WEIGHT);
    }
    return n;
}

/* 1 if lexeme l is the stem of word part p[0..pn): a prefix of it, or all but the last letter of both alike. */
static int stem_of(const char *l, const char *p, size_t pn)
{
    size_t ln = strlen(l), cp = 0;

    while (cp < ln && cp < pn && l[cp] == p[cp])
        cp++;
    return ln > 0 && (cp == ln || (cp >= 3 && cp + 1 == ln && cp + 1 >= pn));
}

uint64_t expand_hyphen_parts(const char *hw, const char *const *lex, int n)
{
    uint64_t mask = 0;
    const char *p = hw;

    if (!hw || !strchr(hw, '-'))
        return 0;
    while (*p) {
        size_t pn = strcspn(p, "-");

        for (int j = 0; j < n && j < 64 && pn > 0; j++)
            if (lex[j] && !strchr(lex[j], '-') && stem_of(lex[j], p, pn))
                mask |= (uint64_t)1 << j;
        p += pn;
        p += *p == '-';
    }
    return mask;
}
