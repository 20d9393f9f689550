/* libFuzzer: the XLSX extractor (ozip + libxml2 reader: workbook, shared strings, sheets) on arbitrary bytes. */
#include "fuzz_buffer.h"
#include "worker/extract/xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_buffer(extract_xlsx_buffer, data, size);
}
