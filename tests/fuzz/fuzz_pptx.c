/* libFuzzer: the PPTX extractor (ozip + libxml2: presentation, slides, notes) on arbitrary bytes. */
#include "fuzz_buffer.h"
#include "worker/extract/pptx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_buffer(extract_pptx_buffer, data, size);
}
