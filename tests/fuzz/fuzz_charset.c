/* libFuzzer: charset_declared (BOM, XML declaration, <meta> prescan) and decoding on arbitrary bytes. */
#include "common/charset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[CHARSET_NAME_MAX];
    char out[4 * 256 + 4];
    size_t len = 0, n;
    enum charset_source src = charset_declared(data, size, name, sizeof(name));

    n = strlen(name);
    /* a label is reported with its source, and only then; it never holds a '/' (iconv's options) */
    if ((src == CHARSET_NONE) != (n == 0) || n >= CHARSET_NAME_MAX || strchr(name, '/'))
        abort();
    if (src != CHARSET_NONE && charset_supported(name)) {
        n = size < 256 ? size : 256;
        if (charset_to_utf8(name, data, n, out, sizeof(out), &len) == -1 || len > sizeof(out))
            abort();
        (void)charset_ascii_compatible(name);
    }
    return 0;
}
