/*
 * libFuzzer: the S3 ListObjectsV2 answer parser (common/s3.h: s3_parse_list),
 * which reads XML from whatever endpoint a source names. Whatever it accepts
 * has a key on every object and a continuation token when truncated; what it
 * refuses leaves an empty page and an error code. No leaks either way.
 */
#include "common/s3.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct s3_page page;
    struct s3_error err;

    if (s3_parse_list((const char *)data, size, &page, &err) == 0) {
        for (size_t i = 0; i < page.n; i++)
            if (!page.objects[i].key || strlen(page.objects[i].etag) >= sizeof(page.objects[i].etag))
                abort();
        if (page.truncated && !page.next_token)
            abort();
        s3_page_release(&page);
    } else if (page.n || page.objects || page.next_token || !err.code[0]) {
        abort();
    }
    return 0;
}
