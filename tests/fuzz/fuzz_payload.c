/*
 * libFuzzer: extract_unpack, the worker's check of the extraction helper's
 * answer (a helper subverted by a parser bug may send anything), on arbitrary
 * bytes: a result it accepts has its pages ordered inside the text, 0/1 OCR
 * flags, valid UTF-8 text and strings, and outline entries within their bounds.
 */
#include "common/buf.h"
#include "common/errors.h"
#include "common/utf8.h"
#include "worker/extract/extract.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct extract_result *r)
{
    if (r->pages < 1 || r->page_starts[0] != 0 || strlen(r->text) != r->len || !utf8_valid(r->text, r->len))
        abort();
    for (int p = 0; p < r->pages; p++)
        if (r->page_starts[p] > r->len || (p && r->page_starts[p] < r->page_starts[p - 1]) || r->page_ocr[p] > 1)
            abort();
    if (r->noutline < 0 || r->noutline > EXTRACT_OUTLINE_MAX)
        abort();
    for (int i = 0; i < r->noutline; i++) {
        const struct extract_outline *e = &r->outline[i];
        size_t n = strlen(e->title);

        if (e->level < 1 || e->level > EXTRACT_OUTLINE_DEPTH || e->page < 1 || e->page > r->pages || n == 0 ||
            n >= EXTRACT_OUTLINE_TITLE_MAX || !utf8_valid(e->title, n))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf b;
    struct extract_result r;
    char detail[128];

    buf_init(&b, size + 1);
    if (size && buf_add(&b, data, size) < 0)
        return 0;
    if (extract_unpack(&b, &r, detail, sizeof(detail)) == RUN_OK)
        check(&r);
    else if (r.text || r.outline || r.page_starts)
        abort();
    extract_result_release(&r);
    buf_release(&b);
    return 0;
}
