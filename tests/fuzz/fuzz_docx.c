/* libFuzzer: the DOCX extractor (libzip + libxml2 reader) on arbitrary bytes. */
#include "common/buf.h"
#include "common/errors.h"
#include "worker/extract/docx.h"

#include <libxml/parser.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out;
    char detail[256];

    xmlSetGenericErrorFunc(NULL, quiet);
    buf_init(&out, 1 << 20);
    /* a small inflation limit keeps each run fast and exercises the bomb checks */
    extract_docx_buffer((const char *)data, size, 4 << 20, &out, detail, sizeof(detail));
    buf_release(&out);
    return 0;
}
