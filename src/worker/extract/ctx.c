/*
 * ctx.c - the helper's job context: progress frames, OCR page marks, metadata (ctx.h).
 */
#include "worker/extract/ctx.h"
#include "common/utf8.h"
#include "worker/extract/sandbox.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct extract_ctx *current;

struct extract_ctx *extract_ctx_current(void)
{
    return current;
}

void extract_ctx_set_current(struct extract_ctx *c)
{
    current = c;
}

static long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void extract_progress(long done, long total)
{
    long now;

    if (!current || current->progress_fd < 0 || done < 0 || total < done)
        return;
    now = mono_ms();
    if (done < total && now - current->progress_last_ms < 200)
        return;
    current->progress_last_ms = now;
    sandbox_child_progress(current->progress_fd, done, total);
}

int extract_mark_ocr(int page)
{
    if (!current || page < 0)
        return 0;
    if (page >= current->page_ocr_n) {
        int n = page + 64;
        unsigned char *p = realloc(current->page_ocr, (size_t)n);

        if (!p)
            return -1;
        memset(p + current->page_ocr_n, 0, (size_t)(n - current->page_ocr_n));
        current->page_ocr = p;
        current->page_ocr_n = n;
    }
    current->page_ocr[page] = 1;
    return 0;
}

/* Copy value into dst (cap bytes): valid UTF-8 only, whitespace runs -> one space, trimmed. */
static void meta_copy(char *dst, size_t cap, const char *value)
{
    const unsigned char *p = (const unsigned char *)value;
    size_t n = strlen(value), i = 0, o = 0;
    int space = 0;

    while (i < n) {
        size_t l = p[i] < 0x80 ? 1 : utf8_next(p + i, n - i, NULL);

        if (l == 0) {
            i++;
            continue;
        }
        if (l == 1 && (p[i] < 0x20 || p[i] == ' ' || p[i] == 0x7F)) {
            space = o > 0;
            i++;
            continue;
        }
        if (o + (size_t)space + l >= cap)
            break;
        if (space)
            dst[o++] = ' ';
        space = 0;
        memcpy(dst + o, p + i, l);
        o += l;
        i += l;
    }
    dst[o] = '\0';
}

void extract_meta(const char *field, const char *value)
{
    char *dst;

    if (!current || !value || !field)
        return;
    dst = strcmp(field, "title") == 0 ? current->title : strcmp(field, "author") == 0 ? current->author : NULL;
    if (dst && !dst[0])
        meta_copy(dst, EXTRACT_META_MAX, value);
}

int extract_outline_add(int level, long page, const char *title)
{
    char clean[EXTRACT_OUTLINE_TITLE_MAX];
    struct extract_outline *e;

    if (!current || !title || level < 1 || level > EXTRACT_OUTLINE_DEPTH || page < 1 || page > INT32_MAX ||
        current->outline_n >= EXTRACT_OUTLINE_MAX)
        return 0;
    meta_copy(clean, sizeof(clean), title);
    if (!clean[0])
        return 0;
    if (current->outline_n % 64 == 0) {
        e = realloc(current->outline, (size_t)(current->outline_n + 64) * sizeof(*e));
        if (!e)
            return -1;
        current->outline = e;
    }
    e = &current->outline[current->outline_n];
    e->title = strdup(clean);
    if (!e->title)
        return -1;
    e->level = level;
    e->page = (int)page;
    current->outline_n++;
    return 0;
}

void extract_outline_clear(struct extract_ctx *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->outline_n; i++)
        free(c->outline[i].title);
    free(c->outline);
    c->outline = NULL;
    c->outline_n = 0;
}
