/*
 * fuzz_buffer.h - the body the buffer extractors' fuzz targets share: run one
 * extractor (formats.c's signature) on the input, libxml2 quiet, a 1 MiB text
 * limit and a 4 MiB inflation limit (small, so the bomb checks are reached).
 */
#ifndef TESTS_FUZZ_FUZZ_BUFFER_H
#define TESTS_FUZZ_FUZZ_BUFFER_H

#include "common/buf.h"
#include "common/errors.h"

#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>

typedef enum run_fail (*fuzz_buffer_fn)(const char *p, size_t n, long max_uncompressed, struct buf *out,
                                        char *detail, size_t detail_len);

static void fuzz_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static inline int fuzz_buffer(fuzz_buffer_fn fn, const uint8_t *data, size_t size)
{
    struct buf out;
    char detail[256] = "";

    xmlSetGenericErrorFunc(NULL, fuzz_quiet);
    buf_init(&out, 1 << 20);
    fn((const char *)data, size, 4 << 20, &out, detail, sizeof(detail));
    buf_release(&out);
    return 0;
}

#endif
