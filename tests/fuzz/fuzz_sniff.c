/* libFuzzer: sniff_mime on arbitrary heads, with and without a file name. */
#include "common/sniff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { NULL, "a.docx", "a.md", "a.html", "a.txt", "a.csv", "a.tsv", "a.xlsx" };
    static const char *const types[] = {
        SNIFF_MIME_PDF, SNIFF_MIME_DOCX, SNIFF_MIME_HTML, SNIFF_MIME_MARKDOWN, SNIFF_MIME_TEXT, SNIFF_MIME_PNG,
        SNIFF_MIME_JPEG, SNIFF_MIME_TIFF, SNIFF_MIME_PPTX, SNIFF_MIME_XLSX, SNIFF_MIME_ODT, SNIFF_MIME_ODS,
        SNIFF_MIME_ODP, SNIFF_MIME_EPUB, SNIFF_MIME_RTF, SNIFF_MIME_CSV, SNIFF_MIME_TSV, SNIFF_MIME_EML, NULL,
    };
    const char *m = sniff_mime(data, size, names[size % 8]);
    int known = 0;

    /* one of the types the worker extracts */
    for (int i = 0; m && types[i]; i++)
        known |= strcmp(m, types[i]) == 0;
    if (m && !known)
        abort();
    /* text is never claimed for bytes holding a NUL */
    if (m && (!strcmp(m, SNIFF_MIME_TEXT) || !strcmp(m, SNIFF_MIME_MARKDOWN)) &&
        memchr(data, 0, size < SNIFF_HEAD_MAX ? size : SNIFF_HEAD_MAX))
        abort();
    return 0;
}
