/*
 * libFuzzer: the Range header parser of a version's content download,
 * api/handlers/versions.h versions_range_parse().
 *
 * The first 8 bytes (little-endian, fewer read as zeros) are the file's size,
 * the rest the header's value (cut at its first NUL). Checked on every input:
 *   - the answer is -1, 0 or 1, and start/len are written only for 1;
 *   - a 1 lies inside the file: len >= 1, start < size, start + len <= size
 *     without wrapping;
 *   - a 1 or -1 only for a header that starts with "bytes=" (any case) and
 *     has no comma (several ranges are ignored, never half-served);
 *   - the range written back as "bytes=FIRST-LAST" parses to the same range.
 */
#include "api/handlers/versions.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t file = 0, start = 7, len = 9, s2 = 0, l2 = 0;
    char *h, again[64];
    size_t n = size < 8 ? size : 8;
    int rc;

    for (size_t i = 0; i < n; i++)
        file |= (uint64_t)data[i] << (8 * i);
    h = malloc(size - n + 1);
    if (!h)
        return 0;
    memcpy(h, data + n, size - n);
    h[size - n] = '\0';

    rc = versions_range_parse(h, file, &start, &len);
    if (rc < -1 || rc > 1)
        abort();
    if (rc != 1 && (start != 7 || len != 9))
        abort();
    if (rc != 0 && (strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',')))
        abort();
    if (rc == 1) {
        if (len < 1 || start >= file || len > file - start)
            abort();
        snprintf(again, sizeof(again), "bytes=%llu-%llu", (unsigned long long)start,
                 (unsigned long long)(start + len - 1));
        if (versions_range_parse(again, file, &s2, &l2) != 1 || s2 != start || l2 != len)
            abort();
    }
    free(h);
    return 0;
}
