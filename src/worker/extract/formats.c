/*
 * formats.c - dispatch of the formats added in issue 16 (formats.h).
 */
#include "worker/extract/formats.h"
#include "common/sniff.h"
#include "worker/extract/extract.h"
#include "worker/extract/ocr.h"
#include "worker/extract/csv.h"
#include "worker/extract/eml.h"
#include "worker/extract/epub.h"
#include "worker/extract/odf.h"
#include "worker/extract/pptx.h"
#include "worker/extract/rtf.h"
#include "worker/extract/xlsx.h"

#include <stdio.h>
#include <string.h>

typedef enum run_fail (*format_fn)(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t detail_len);

/* The formats that parse the file's bytes in memory (the fuzzers call them so). */
typedef enum run_fail (*buffer_fn)(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                   size_t detail_len);

static enum run_fail from_buffer(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t dlen);

static const struct {
    const char *mime;
    format_fn fn;
    buffer_fn bfn;
} formats[] = {
    {SNIFF_MIME_PNG, extract_image_ocr, NULL},
    {SNIFF_MIME_JPEG, extract_image_ocr, NULL},
    {SNIFF_MIME_TIFF, extract_image_ocr, NULL},
    {SNIFF_MIME_XLSX, from_buffer, extract_xlsx_buffer},
    {SNIFF_MIME_PPTX, from_buffer, extract_pptx_buffer},
    {SNIFF_MIME_ODT, from_buffer, extract_odf_buffer},
    {SNIFF_MIME_ODS, from_buffer, extract_odf_buffer},
    {SNIFF_MIME_ODP, from_buffer, extract_odf_buffer},
    {SNIFF_MIME_EPUB, from_buffer, extract_epub_buffer},
    {SNIFF_MIME_CSV, from_buffer, extract_csv_buffer},
    {SNIFF_MIME_TSV, from_buffer, extract_tsv_buffer},
    {SNIFF_MIME_RTF, from_buffer, extract_rtf_buffer},
    {SNIFF_MIME_EML, from_buffer, extract_eml_buffer},
};

static int find_index(const char *mime)
{
    for (size_t i = 0; mime && i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].mime, mime) == 0)
            return (int)i;
    return -1;
}

static format_fn find(const char *mime)
{
    int i = find_index(mime);

    return i < 0 ? NULL : formats[i].fn;
}

/* Read the whole file (at most the inflation limit), then the format's buffer parser. */
static enum run_fail from_buffer(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t dlen)
{
    long max = ctx->max_uncompressed > 0 ? ctx->max_uncompressed : 512L << 20;
    struct buf file;
    enum run_fail rc;

    buf_init(&file, (size_t)max);
    rc = extract_read_file(ctx->path, (size_t)max, &file, detail, dlen);
    if (rc == RUN_OK)
        rc = formats[find_index(ctx->mime)].bfn(file.ptr ? file.ptr : "", file.len, max, raw, detail, dlen);
    buf_release(&file);
    return rc;
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
