/* libFuzzer: the HTML extractor and the normalizer on arbitrary bytes. */
#include "common/buf.h"
#include "common/errors.h"
#include "worker/extract/extract.h"
#include "worker/extract/html.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf raw, out;
    char detail[256];

    xmlSetGenericErrorFunc(NULL, quiet);
    buf_init(&raw, 1 << 20);
    buf_init(&out, 1 << 20);
    if (extract_html_buffer((const char *)data, size, &raw, detail, sizeof(detail)) ==
        RUN_OK) {
        enum run_fail rc = extract_normalize(raw.ptr ? raw.ptr : "", raw.len, &out, NULL, NULL);

        if (rc == RUN_OK && out.len && memchr(out.ptr, 0, out.len))
            abort();
    }
    buf_release(&raw);
    buf_release(&out);
    return 0;
}
