/* libFuzzer: the OpenDocument extractor (ozip + libxml2 reader over content.xml) on arbitrary bytes. */
#include "fuzz_buffer.h"
#include "worker/extract/odf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_buffer(extract_odf_buffer, data, size);
}
