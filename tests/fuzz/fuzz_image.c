/* libFuzzer: the image header reader that guards OCR (PNG IHDR, JPEG SOF, TIFF IFD chain). */
#include "worker/extract/ocr.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned long w, h;

    if (ocr_image_size(data, size, &w, &h) == 0 && (w == 0 || h == 0))
        return 0;
    return 0;
}
