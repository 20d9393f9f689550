/* libFuzzer: sniff_mime on arbitrary heads, with and without a file name. */
#include "common/sniff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { NULL, "a.docx", "a.md", "a.html", "a.txt" };
    const char *m = sniff_mime(data, size, names[size % 5]);

    if (m && strcmp(m, SNIFF_MIME_PDF) && strcmp(m, SNIFF_MIME_DOCX) && strcmp(m, SNIFF_MIME_HTML) &&
        strcmp(m, SNIFF_MIME_MARKDOWN) && strcmp(m, SNIFF_MIME_TEXT))
        abort();
    /* text is never claimed for bytes holding a NUL */
    if (m && (!strcmp(m, SNIFF_MIME_TEXT) || !strcmp(m, SNIFF_MIME_MARKDOWN)) &&
        memchr(data, 0, size < SNIFF_HEAD_MAX ? size : SNIFF_HEAD_MAX))
        abort();
    return 0;
}
