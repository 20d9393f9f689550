/*
 * libFuzzer: structure_build on arbitrary extracted text (as extract_normalize
 * leaves it, pages from form feeds) for each document type, then chunking and
 * labelling: the cleaned text is valid UTF-8 and never longer than its bound,
 * page starts ascend within it, heading offsets ascend, every chunk's section
 * and label is one of the structure's. The same bytes go through the PDF
 * outline parser (extract_outline_parse) and its items, whatever their level
 * and page, are the outline of the structure.
 */
#include "common/buf.h"
#include "common/errors.h"
#include "common/sniff.h"
#include "common/utf8.h"
#include "worker/chunk.h"
#include "worker/extract/extract.h"
#include "worker/extract/outline.h"
#include "worker/structure.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outline {
    struct extract_outline e[64];
    char titles[64][EXTRACT_OUTLINE_TITLE_MAX];
    int n;
};

static int take(void *arg, int level, long page, const char *title)
{
    struct outline *o = arg;

    if (o->n >= 64)
        return 1;
    if (strlen(title) >= EXTRACT_OUTLINE_TITLE_MAX || level < 1 || level > EXTRACT_OUTLINE_DEPTH || page < 1)
        abort();
    strcpy(o->titles[o->n], title);
    o->e[o->n].level = level;
    o->e[o->n].page = page > 1000000 ? 1000000 : (int)page;
    o->e[o->n].title = o->titles[o->n];
    o->n++;
    return 0;
}

static void check(const struct structure *st, size_t in_len, int pages)
{
    if (st->pages != pages || st->len > in_len + 2 * (size_t)pages + 1 || strlen(st->text) != st->len ||
        (st->len && !utf8_valid(st->text, st->len)))
        abort();
    for (int p = 1; p < pages; p++)
        if (st->page_starts[p] < st->page_starts[p - 1] || st->page_starts[p] > st->len)
            abort();
    for (size_t h = 1; h < st->nheads; h++)
        if (st->heads[h].off < st->heads[h - 1].off || strlen(st->heads[h].path) > STRUCTURE_PATH_MAX)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const mimes[] = {SNIFF_MIME_PDF, SNIFF_MIME_HTML, SNIFF_MIME_MARKDOWN, SNIFF_MIME_TEXT};
    struct buf text;
    struct structure st;
    static struct outline ol;
    struct chunk *c = NULL;
    size_t n = 0, *starts = NULL;
    int pages = 0;

    if (size < 2)
        return 0;
    buf_init(&text, size * 3 + 16);
    if (extract_normalize((const char *)data + 1, size - 1, &text, &starts, &pages) != RUN_OK)
        abort();
    ol.n = 0;
    if (extract_outline_parse((const char *)data + 1, size - 1, take, &ol) < -1)
        abort();
    if (structure_build_outline(text.ptr ? text.ptr : "", text.len, starts, pages, mimes[data[0] % 4], ol.e, ol.n,
                                &st) != 0)
        abort();
    check(&st, text.len, pages < 1 ? 1 : pages);
    if (chunk_text(st.text, st.len, st.page_starts, st.pages, 16 + (size_t)data[0], 8, &c, &n) < 0)
        abort();
    structure_label_chunks(&st, c, n);
    for (size_t i = 0; i < n; i++) {
        int ok = !c[i].section;

        for (size_t h = 0; h < st.nheads && !ok; h++)
            ok = c[i].section == st.heads[h].path;
        if (!ok || (c[i].page_label && c[i].page_label != st.labels[c[i].page_start - 1]))
            abort();
    }
    free(c);
    structure_release(&st);
    free(starts);
    buf_release(&text);
    return 0;
}
