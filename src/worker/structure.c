/*
 * structure.c - boilerplate removal, page labels and heading paths of an
 * extracted text (structure.h; docs/retrieval.md "Structure").
 *
 * PDF running heads and footers are found by counting, over all pages, the
 * lines at the top and bottom of each page after normalization (digits and
 * roman numerals as '#', ASCII case folded): a line that carries a number and
 * comes back on a twentieth of the pages, or any line that comes back on a
 * quarter of them, is boilerplate (and in either case on STRUCT_EDGE_MIN_PAGES
 * pages at least).
 */
#include "worker/structure.h"

#include "common/sniff.h"
#include "worker/extract/extract.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STRUCT_EDGE_LINES 2          /* non-blank lines at each end of a page that may be a running head */
#define STRUCT_EDGE_MIN_PAGES 3
#define STRUCT_LEADER_RUN 4          /* ". . . ." or "...." (an ellipsis has 3) */
enum { STRUCT_HTML = 1, STRUCT_MARKDOWN = 2 };   /* STRUCT_HTML: EXTRACT_HEADING_MARK lines (HTML, DOCX) */
#define STRUCT_JUNK_MIN_CHARS 4      /* shorter lines are never judged junk */
#define STRUCT_JUNK_MAX_SHARE 0.25   /* below this share of word-like tokens a line may be glyph junk */

struct line {
    size_t start, end;   /* without the newline */
    int page;            /* 0-based */
    uint64_t norm;       /* hash of the normalized text (edge lines only), 0 otherwise */
    int has_num;         /* the normalized text has a '#' */
    int only_num;        /* the line is one number: a page number */
    size_t count;        /* edge lines: occurrences of norm over the document */
};

struct lines {
    struct line *v;
    size_t n, cap;
};

/* A front-matter page number: lower-case i, v and x only ("iv", "xii"). */
static int is_roman(const char *p, size_t n)
{
    if (n == 0 || n > 6)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != 'i' && p[i] != 'v' && p[i] != 'x')
            return 0;
    return 1;
}

/* A page number token: digits or a front-matter numeral. */
static int numeric_token(const char *p, size_t n)
{
    return n > 0 && (strspn(p, "0123456789") >= n || is_roman(p, n));
}

/* 1 if one of the n bytes at p is a digit. */
static int has_digit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)p[i]))
            return 1;
    return 0;
}

/* FNV-1a of the normalized line (numbers as one '#'); sets has_num and only_num. */
static void normalize(const char *t, struct line *l)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i = l->start, words = 0, nums = 0, first = 0, first_len = 0;

    while (i < l->end) {
        size_t j = i;

        while (j < l->end && t[j] != ' ' && t[j] != '\t')
            j++;
        if (j > i) {
            int roman = is_roman(t + i, j - i);

            if (words++ == 0) {
                first = i;
                first_len = j - i;
            }
            nums += roman || has_digit(t + i, j - i);
            for (size_t k = i; k < j; k++) {
                unsigned char c = (unsigned char)t[k];

                if (roman || isdigit(c)) {
                    if (k > i && (roman || isdigit((unsigned char)t[k - 1])))
                        continue;   /* a run of digits is one '#' */
                    c = '#';
                } else {
                    c = (unsigned char)tolower(c);
                }
                h = (h ^ c) * 1099511628211ULL;
            }
            h = (h ^ ' ') * 1099511628211ULL;
        }
        i = j + 1;
    }
    l->norm = h | 1;
    l->has_num = nums > 0;
    l->only_num = words == 1 && numeric_token(t + first, first_len);
}

/* Split text into lines, page by page. -1 when out of memory. */
static int split_lines(const char *t, size_t len, const size_t *ps, int pages, struct lines *L)
{
    size_t i = 0;
    int page = 0;

    while (i < len) {
        size_t e = i;

        while (e < len && t[e] != '\n')
            e++;
        while (page + 1 < pages && ps[page + 1] <= i)
            page++;
        if (L->n == L->cap) {
            size_t ncap = L->cap ? L->cap * 2 : 256;
            struct line *nv = realloc(L->v, ncap * sizeof(*nv));

            if (!nv)
                return -1;
            L->v = nv;
            L->cap = ncap;
        }
        memset(&L->v[L->n], 0, sizeof(L->v[0]));
        L->v[L->n].start = i;
        L->v[L->n].end = e;
        L->v[L->n].page = page;
        L->n++;
        i = e + 1;
    }
    return 0;
}

static int blank(const char *t, const struct line *l)
{
    for (size_t i = l->start; i < l->end; i++)
        if (!isspace((unsigned char)t[i]))
            return 0;
    return 1;
}

/* Normalize the first and last STRUCT_EDGE_LINES non-blank lines of every page. */
static void mark_edges(const char *t, struct lines *L)
{
    size_t a = 0;

    while (a < L->n) {
        size_t b = a, k;
        int seen = 0;

        while (b < L->n && L->v[b].page == L->v[a].page)
            b++;
        for (k = a; k < b && seen < STRUCT_EDGE_LINES; k++)
            if (!blank(t, &L->v[k])) {
                normalize(t, &L->v[k]);
                seen++;
            }
        for (k = b, seen = 0; k > a && seen < STRUCT_EDGE_LINES; k--)
            if (!blank(t, &L->v[k - 1])) {
                normalize(t, &L->v[k - 1]);
                seen++;
            }
        a = b;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Pages on which the normalized edge line h occurs (sorted keys: one bsearch range). */
static size_t count_of(const uint64_t *keys, size_t n, uint64_t h)
{
    size_t lo = 0, hi = n, c = 0;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (keys[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo + c < n && keys[lo + c] == h)
        c++;
    return c;
}

/*
 * Clear norm on the edge lines that are not boilerplate; -1 when out of memory.
 * Counted in occurrences (at most 2 * STRUCT_EDGE_LINES per page).
 */
static int keep_boilerplate(struct lines *L, int pages)
{
    uint64_t *keys = malloc((L->n ? L->n : 1) * sizeof(*keys));
    size_t nk = 0;

    if (!keys)
        return -1;
    for (size_t i = 0; i < L->n; i++)
        if (L->v[i].norm)
            keys[nk++] = L->v[i].norm;
    qsort(keys, nk, sizeof(*keys), cmp_u64);
    for (size_t i = 0; i < L->n; i++) {
        size_t c;

        if (!L->v[i].norm)
            continue;
        c = count_of(keys, nk, L->v[i].norm);
        L->v[i].count = c;
        if (c < STRUCT_EDGE_MIN_PAGES || c * (L->v[i].has_num ? 20 : 4) < (size_t)pages)
            L->v[i].norm = 0;
    }
    free(keys);
    return 0;
}

/* 1 if the line is mostly a dot leader: STRUCT_LEADER_RUN dots in a row, single spaces allowed between. */
static int is_leader(const char *t, const struct line *l)
{
    int run = 0;

    for (size_t i = l->start; i < l->end; i++) {
        if (t[i] == '.')
            run++;
        else if (t[i] != ' ' || (i > l->start && t[i - 1] == ' '))
            run = 0;
        if (run >= STRUCT_LEADER_RUN)
            return 1;
        if ((unsigned char)t[i] == 0xE2 && i + 2 < l->end && (unsigned char)t[i + 1] == 0x80 &&
            (unsigned char)t[i + 2] == 0xA6 && i + 5 < l->end && (unsigned char)t[i + 3] == 0xE2)
            return 1;   /* "……" */
    }
    return 0;
}

/* A token that reads as a word: two letters or more with a vowel, or a number. */
static int wordlike(const char *p, size_t n)
{
    size_t letters = 0, digits = 0;
    int vowel = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        letters += isalpha(c) != 0;
        digits += isdigit(c) != 0;
        vowel |= c < 0x80 && strchr("aeiouyAEIOUY", c) != NULL && c;
    }
    return (letters >= 2 && vowel) || digits == n;
}

/*
 * Glyph junk from symbol fonts ("ª h h hhN"): three tokens or more, under a
 * quarter of them words, and a non-ASCII character. Plain ASCII (code,
 * command lines) is never junk.
 */
static int is_junk(const char *t, const struct line *l)
{
    size_t i = l->start, tokens = 0, words = 0;
    int nonascii = 0;

    if (l->end - l->start < STRUCT_JUNK_MIN_CHARS)
        return 0;
    while (i < l->end) {
        size_t j = i;

        while (j < l->end && t[j] != ' ' && t[j] != '\t') {
            nonascii |= (unsigned char)t[j] >= 0x80;
            j++;
        }
        if (j > i) {
            tokens++;
            words += (size_t)wordlike(t + i, j - i);
        }
        i = j + 1;
    }
    return nonascii && tokens >= 3 && (double)words < STRUCT_JUNK_MAX_SHARE * (double)tokens;
}

/* The output being built. */
struct sout {
    struct structure *st;
    const char *t;
    int pdf;                      /* PDF rules */
    int marked;                   /* heading lines: STRUCT_HTML, STRUCT_MARKDOWN or 0 */
    int fence;                    /* inside a ``` block */
    size_t hcap;
    const char *lvl[STRUCTURE_MAX_LEVEL];   /* current heading text per level */
    size_t lvl_len[STRUCTURE_MAX_LEVEL];
    const struct extract_outline *ol;       /* PDF outline entries, nol of them */
    size_t nol, ol_next;                    /* ol_next: the first entry not applied yet */
    size_t *ol_at;                          /* the line each entry starts at, or OL_UNUSED */
};

#define OL_UNUSED ((size_t)-1)
#define FOLD_MAX 256                        /* folded bytes of a line or title compared */

static void put(struct sout *o, const char *p, size_t n)
{
    memcpy(o->st->text + o->st->len, p, n);
    o->st->len += n;
}

static void put_line(struct sout *o, const struct line *l)
{
    put(o, o->t + l->start, l->end - l->start);
    put(o, "\n", 1);
}

/* Record that path (n bytes, cut at a character boundary) holds from the current offset. -1: memory. */
static int add_heading(struct sout *o, const char *path, size_t n)
{
    struct structure *st = o->st;
    char *copy;

    while (n > STRUCTURE_PATH_MAX || (n > 0 && n < strlen(path) && ((unsigned char)path[n] & 0xC0) == 0x80))
        n--;
    if (st->nheads && strlen(st->heads[st->nheads - 1].path) == n &&
        memcmp(st->heads[st->nheads - 1].path, path, n) == 0)
        return 0;
    if (st->nheads == o->hcap) {
        size_t ncap = o->hcap ? o->hcap * 2 : 32;
        struct structure_heading *nv = realloc(st->heads, ncap * sizeof(*nv));

        if (!nv)
            return -1;
        st->heads = nv;
        o->hcap = ncap;
    }
    copy = malloc(n + 1);
    if (!copy)
        return -1;
    memcpy(copy, path, n);
    copy[n] = '\0';
    st->heads[st->nheads].off = st->len;
    st->heads[st->nheads++].path = copy;
    return 0;
}

/*
 * A heading line: EXTRACT_HEADING_MARK and a level digit (HTML), or "#".."######"
 * and a space (Markdown, outside ``` blocks). Its level and text (trimmed); 0
 * when it is not one.
 */
static int heading_level(const struct sout *o, const struct line *l, const char **txt, size_t *n)
{
    const char *t = o->t;
    size_t i = l->start, mk = sizeof(EXTRACT_HEADING_MARK) - 1;
    int level = 0;

    if (o->marked == STRUCT_HTML) {
        if (l->end - i < mk + 1 || memcmp(t + i, EXTRACT_HEADING_MARK, mk) != 0 || t[i + mk] < '1' || t[i + mk] > '6')
            return 0;
        level = t[i + mk] - '0';
        i += mk + 1;
    } else {
        while (i < l->end && t[i] == '#' && level < 7)
            i++, level++;
        if (level == 0 || level > 6 || i >= l->end || t[i] != ' ')
            return 0;
    }
    while (i < l->end && t[i] == ' ')
        i++;
    *txt = t + i;
    *n = l->end - i;
    while (*n && ((*txt)[*n - 1] == ' ' || (o->marked == STRUCT_MARKDOWN && (*txt)[*n - 1] == '#')))
        (*n)--;
    return *n ? level : 0;
}

/* A heading of level (1 = top) with text txt[0..tn) starts here: update the path and record it. -1: memory. */
static int set_heading(struct sout *o, int level, const char *txt, size_t tn)
{
    char path[STRUCTURE_PATH_MAX * 2 + 8];
    size_t n = 0;

    if (level >= 1 && level <= STRUCTURE_MAX_LEVEL) {
        o->lvl[level - 1] = txt;
        o->lvl_len[level - 1] = tn;
        for (int k = level; k < STRUCTURE_MAX_LEVEL; k++)
            o->lvl[k] = NULL;
        for (int k = 0; k < level; k++) {
            size_t add = o->lvl_len[k] < STRUCTURE_PATH_MAX ? o->lvl_len[k] : STRUCTURE_PATH_MAX;

            if (!o->lvl[k] || n + add + 4 > sizeof(path))
                continue;
            if (n) {
                memcpy(path + n, " > ", 3);
                n += 3;
            }
            memcpy(path + n, o->lvl[k], add);
            n += add;
        }
        path[n] = '\0';
        return add_heading(o, path, n);
    }
    return 0;
}

/* A heading line: update the path, record it, write the heading's text. 1 if it was one, -1: memory. */
static int on_heading(struct sout *o, const struct line *l)
{
    size_t tn;
    const char *txt;
    int level;

    if (!o->marked || (o->fence && o->marked == STRUCT_MARKDOWN))
        return 0;
    level = heading_level(o, l, &txt, &tn);
    if (level == 0)
        return 0;
    if (set_heading(o, level, txt, tn) < 0)
        return -1;
    put(o, txt, tn);
    put(o, "\n", 1);
    return 1;
}

/* The line's text without page-number tokens at its ends, as the section from here on (a running head). */
static int head_section(struct sout *o, const struct line *l)
{
    const char *t = o->t;
    size_t a = l->start, b = l->end, j;

    for (;;) {   /* leading numbers */
        while (a < b && t[a] == ' ')
            a++;
        for (j = a; j < b && t[j] != ' ';)
            j++;
        if (j == a || j == b || !numeric_token(t + a, j - a))
            break;
        a = j;
    }
    for (;;) {   /* trailing numbers */
        while (b > a && t[b - 1] == ' ')
            b--;
        for (j = b; j > a && t[j - 1] != ' ';)
            j--;
        if (j == b || j == a || !numeric_token(t + j, b - j))
            break;
        b = j;
    }
    return b > a ? add_heading(o, t + a, b - a) : 0;
}

/* A page number line dropped from page p: its label (first one wins). -1: memory. */
static int set_label(struct sout *o, const struct line *l)
{
    size_t a = l->start, b = l->end;
    char **lab = &o->st->labels[l->page];

    while (a < b && o->t[a] == ' ')
        a++;
    while (b > a && o->t[b - 1] == ' ')
        b--;
    if (*lab || b == a || b - a >= STRUCTURE_LABEL_MAX)
        return 0;
    *lab = malloc(b - a + 1);
    if (!*lab)
        return -1;
    memcpy(*lab, o->t + a, b - a);
    (*lab)[b - a] = '\0';
    return 0;
}

/* One boilerplate edge line of a PDF: label or section from it. -1: memory. */
static int on_edge(struct sout *o, const struct line *l, int pages)
{
    o->st->dropped_lines++;
    if (l->only_num)
        return set_label(o, l);
    /* a head on most pages is the document's (its title), not a section; an outline names sections better */
    if (!o->nol && l->count * 10 < (size_t)pages * 6)
        return head_section(o, l);
    return 0;
}

/* A token that numbers a heading rather than names it: it holds a digit ("3.1.2", "A.1"
 * does not) or is an upper-case roman numeral of a part ("II"). */
static int number_token(const char *p, size_t n)
{
    size_t r = 0;

    for (size_t i = 0; i < n; i++)
        r += p[i] == 'I' || p[i] == 'V' || p[i] == 'X' || p[i] == '.';
    return has_digit(p, n) || r == n;
}

/* p[0..n) folded for matching into dst (FOLD_MAX): leading number tokens skipped, ASCII
 * letters and digits lower-cased, other ASCII dropped, non-ASCII bytes kept. Its length. */
static size_t fold(const char *p, size_t n, char *dst)
{
    size_t i = 0, o = 0;

    for (;;) {   /* leading numbers, only while a name follows */
        size_t j;

        while (i < n && p[i] == ' ')
            i++;
        for (j = i; j < n && p[j] != ' ';)
            j++;
        if (j == i || j >= n || !number_token(p + i, j - i))
            break;
        i = j;
    }
    for (; i < n && o < FOLD_MAX; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c >= 0x80 || isalnum(c))
            dst[o++] = (char)tolower(c);
    }
    return o;
}

/* 1 if line l reads as the heading whose folded title is ft[0..fn): the same words, or
 * the title followed by a few characters (a page number), or its first line when it wraps. */
static int heading_match(const char *t, const struct line *l, const char *ft, size_t fn)
{
    char fl[FOLD_MAX];
    size_t n = fold(t + l->start, l->end - l->start, fl);

    if (n == 0 || fn == 0)
        return 0;
    if (n >= fn)
        return memcmp(fl, ft, fn) == 0 && n - fn <= 4;
    return n * 2 >= fn && n >= 4 && memcmp(fl, ft, n) == 0;
}

/*
 * Place each outline entry on a line of its page, in outline order and never
 * backwards: the first line from there that matches its title, else where the
 * search started (the page's start, or the line after the previous entry's).
 * Entries whose page was passed or holds no line stay OL_UNUSED.
 */
static void place_outline(struct sout *o, const struct lines *L)
{
    size_t cur = 0;

    for (size_t e = 0; e < o->nol; e++) {
        const struct extract_outline *x = &o->ol[e];
        char ft[FOLD_MAX];
        size_t fn = fold(x->title, strlen(x->title), ft), k;

        o->ol_at[e] = OL_UNUSED;
        while (cur < L->n && L->v[cur].page < x->page - 1)
            cur++;
        if (cur >= L->n || L->v[cur].page != x->page - 1)
            continue;
        for (k = cur; k < L->n && L->v[k].page == x->page - 1; k++)
            if (heading_match(o->t, &L->v[k], ft, fn))
                break;
        if (k < L->n && L->v[k].page == x->page - 1) {
            o->ol_at[e] = k;
            cur = k + 1 < L->n && L->v[k + 1].page == x->page - 1 ? k + 1 : k;
        } else {
            o->ol_at[e] = cur;
        }
    }
}

/* Apply the outline entries placed at or before line i. -1: memory. */
static int apply_outline(struct sout *o, size_t i)
{
    while (o->ol_next < o->nol && (o->ol_at[o->ol_next] == OL_UNUSED || o->ol_at[o->ol_next] <= i)) {
        const struct extract_outline *x = &o->ol[o->ol_next++];

        if (o->ol_at[o->ol_next - 1] != OL_UNUSED && set_heading(o, x->level, x->title, strlen(x->title)) < 0)
            return -1;
    }
    return 0;
}

/* Start page p of the output: after a paragraph break, like extract_normalize() does. */
static void start_page(struct sout *o, int p)
{
    struct structure *st = o->st;

    if (st->len && !(st->len >= 2 && st->text[st->len - 1] == '\n' && st->text[st->len - 2] == '\n')) {
        put(o, "\n", 1);
        if (st->text[st->len - 2] != '\n')
            put(o, "\n", 1);
    }
    st->page_starts[p] = st->len;
}

/* Write every line that is not boilerplate. -1: memory. */
static int emit(struct sout *o, const struct lines *L, int pages)
{
    int page = -1;

    for (size_t i = 0; i < L->n; i++) {
        const struct line *l = &L->v[i];
        int rc = 0;

        while (page < l->page)
            start_page(o, ++page);
        if (o->nol && apply_outline(o, i) < 0)
            return -1;
        if (o->marked == STRUCT_MARKDOWN && l->end - l->start >= 3 && memcmp(o->t + l->start, "```", 3) == 0)
            o->fence = !o->fence;
        if (o->pdf && l->norm)
            rc = on_edge(o, l, pages);
        else if (o->pdf && (is_leader(o->t, l) || is_junk(o->t, l)))
            o->st->dropped_lines++;
        else if ((rc = on_heading(o, l)) == 0)
            put_line(o, l);
        if (rc < 0)
            return -1;
    }
    while (page + 1 < pages)
        start_page(o, ++page);
    return 0;
}

void structure_release(struct structure *st)
{
    if (!st)
        return;
    for (int i = 0; st->labels && i < st->pages; i++)
        free(st->labels[i]);
    for (size_t i = 0; i < st->nheads; i++)
        free(st->heads[i].path);
    free(st->labels);
    free(st->heads);
    free(st->text);
    free(st->page_starts);
    memset(st, 0, sizeof(*st));
}

int structure_build(const char *text, size_t len, const size_t *page_starts, int pages, const char *mime,
                    struct structure *st)
{
    return structure_build_outline(text, len, page_starts, pages, mime, NULL, 0, st);
}

int structure_build_outline(const char *text, size_t len, const size_t *page_starts, int pages, const char *mime,
                            const struct extract_outline *outline, int noutline, struct structure *st)
{
    struct lines L = {0};
    struct sout o;
    size_t zero = 0;
    int rc = -1;

    memset(st, 0, sizeof(*st));
    memset(&o, 0, sizeof(o));
    if (pages < 1 || !page_starts) {
        pages = 1;
        page_starts = &zero;
    }
    o.st = st;
    o.t = text;
    o.pdf = mime && strcmp(mime, SNIFF_MIME_PDF) == 0;
    if (mime && (strcmp(mime, SNIFF_MIME_HTML) == 0 || strcmp(mime, SNIFF_MIME_DOCX) == 0))
        o.marked = STRUCT_HTML;
    else if (mime && strcmp(mime, SNIFF_MIME_MARKDOWN) == 0)
        o.marked = STRUCT_MARKDOWN;
    if (o.pdf && outline && noutline > 0) {
        o.ol = outline;
        o.nol = (size_t)noutline;
    }
    o.ol_at = malloc((o.nol ? o.nol : 1) * sizeof(*o.ol_at));
    st->pages = pages;
    st->text = malloc(len + 2 * (size_t)pages + 2);
    st->page_starts = calloc((size_t)pages, sizeof(*st->page_starts));
    st->labels = calloc((size_t)pages, sizeof(*st->labels));
    if (o.ol_at && st->text && st->page_starts && st->labels && split_lines(text, len, page_starts, pages, &L) == 0) {
        if (o.pdf && pages >= STRUCT_EDGE_MIN_PAGES)
            mark_edges(text, &L);
        place_outline(&o, &L);
        if (keep_boilerplate(&L, pages) == 0 && emit(&o, &L, pages) == 0)
            rc = 0;
    }
    free(L.v);
    free(o.ol_at);
    if (rc < 0) {
        structure_release(st);
        return -1;
    }
    while (st->len && st->text[st->len - 1] == '\n' && st->len > st->page_starts[pages - 1])
        st->len--;
    st->text[st->len] = '\0';
    return 0;
}

void structure_label_chunks(const struct structure *st, struct chunk *c, size_t n)
{
    size_t h = 0;

    for (size_t i = 0; i < n; i++) {
        size_t mid = c[i].start + (c[i].end - c[i].start) / 2;

        while (h < st->nheads && st->heads[h].off <= c[i].start)
            h++;
        /* heads[h - 1] holds at the start; one starting in the first half wins */
        if (h < st->nheads && st->heads[h].off < mid)
            c[i].section = st->heads[h].path;
        else
            c[i].section = h ? st->heads[h - 1].path : NULL;
        c[i].page_label = c[i].page_start >= 1 && c[i].page_start <= st->pages ? st->labels[c[i].page_start - 1]
                                                                                 : NULL;
    }
}
