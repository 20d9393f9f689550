/* libFuzzer: the e-mail extractor (GMime: headers, MIME parts, encodings) on arbitrary bytes. */
#include "fuzz_buffer.h"
#include "worker/extract/eml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_buffer(extract_eml_buffer, data, size);
}
