/* libFuzzer: the CSV extractor (quoting, paging, the repeated header) on arbitrary bytes. */
#include "fuzz_buffer.h"
#include "worker/extract/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_buffer(extract_csv_buffer, data, size);
}
