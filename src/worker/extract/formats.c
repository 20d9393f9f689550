/*
 * formats.c - dispatch of the formats added in issue 16 (formats.h).
 */
#include "worker/extract/formats.h"
#include "common/sniff.h"
#include "worker/extract/ocr.h"

#include <stdio.h>
#include <string.h>

typedef enum run_fail (*format_fn)(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t detail_len);

static const struct {
    const char *mime;
    format_fn fn;
} formats[] = {
    {SNIFF_MIME_PNG, extract_image_ocr},
    {SNIFF_MIME_JPEG, extract_image_ocr},
    {SNIFF_MIME_TIFF, extract_image_ocr},
};

static format_fn find(const char *mime)
{
    for (size_t i = 0; mime && i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].mime, mime) == 0)
            return formats[i].fn;
    return NULL;
}

int extract_other_handles(const char *mime)
{
    return find(mime) != NULL;
}

enum run_fail extract_other_file(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t detail_len)
{
    format_fn fn = ctx ? find(ctx->mime) : NULL;

    if (!fn) {
        snprintf(detail, detail_len, "no extractor for %s", ctx && ctx->mime ? ctx->mime : "unknown type");
        return RUN_FAIL_UNSUPPORTED_TYPE;
    }
    return fn(ctx, raw, detail, detail_len);
}
