/* libFuzzer: the EPUB extractor (container, OPF spine, XHTML chapters via the HTML extractor) on arbitrary bytes. */
#include "fuzz_buffer.h"
#include "worker/extract/epub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_buffer(extract_epub_buffer, data, size);
}
