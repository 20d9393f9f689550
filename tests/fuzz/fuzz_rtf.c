/* libFuzzer: the RTF reader (groups, control words, escapes, \uN) on arbitrary bytes. */
#include "fuzz_buffer.h"
#include "worker/extract/rtf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_buffer(extract_rtf_buffer, data, size);
}
