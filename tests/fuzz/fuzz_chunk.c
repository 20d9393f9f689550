/*
 * libFuzzer: chunk_text on arbitrary text and parameters, checking its
 * invariants (bounds, order, hard maximum, UTF-8 boundaries, pages) and
 * extract_normalize's page table on the way.
 */
#include "common/buf.h"
#include "common/errors.h"
#include "worker/chunk.h"
#include "worker/extract/extract.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf text;
    struct chunk *c = NULL;
    size_t n = 0, i, target, overlap, *starts = NULL;
    int pages = 0;

    if (size < 3)
        return 0;
    target = 16 + (size_t)data[0] * 4;
    overlap = (size_t)data[1] * target / 256;
    data += 2;
    size -= 2;
    buf_init(&text, size * 3 + 16);
    if (extract_normalize((const char *)data, size, &text, &starts, &pages) != RUN_OK)
        abort();
    for (i = 1; i < (size_t)pages; i++)
        if (starts[i] < starts[i - 1] || starts[i] > text.len)
            abort();
    if (chunk_text(text.ptr ? text.ptr : "", text.len, starts, pages, target, overlap, &c, &n) < 0)
        abort();
    for (i = 0; i < n; i++) {
        const unsigned char *t = (const unsigned char *)text.ptr;

        if (c[i].start >= c[i].end || c[i].end > text.len ||
            c[i].end - c[i].start > CHUNK_HARD_MAX(target))
            abort();
        if (ws(t[c[i].start]) || ws(t[c[i].end - 1]))
            abort();
        /* normalized text is valid UTF-8, so no cut may fall inside a character */
        if ((t[c[i].start] & 0xC0) == 0x80 || (c[i].end < text.len && (t[c[i].end] & 0xC0) == 0x80))
            abort();
        if (c[i].page_start < 1 || c[i].page_end < c[i].page_start || c[i].page_end > pages)
            abort();
        if (i && (c[i].start <= c[i - 1].start || c[i].end <= c[i - 1].end))
            abort();
    }
    free(c);
    free(starts);
    buf_release(&text);
    return 0;
}
