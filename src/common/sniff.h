/*
 * sniff.h - decide an upload's type from its first bytes (and, second, its name).
 *
 * core-api calls it before storing an upload to answer 415 early; the worker
 * calls it again before extraction. The bytes decide first: a PDF is a PDF
 * whatever it is called, and an executable renamed notes.txt is refused.
 */
#ifndef COMMON_SNIFF_H
#define COMMON_SNIFF_H

#include <stddef.h>

#define SNIFF_MIME_PDF      "application/pdf"
#define SNIFF_MIME_DOCX     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#define SNIFF_MIME_HTML     "text/html"
#define SNIFF_MIME_MARKDOWN "text/markdown"
#define SNIFF_MIME_TEXT     "text/plain"
/* Issue 16: images (OCR), office containers, e-books, RTF, tables, e-mail. */
#define SNIFF_MIME_PNG      "image/png"
#define SNIFF_MIME_JPEG     "image/jpeg"
#define SNIFF_MIME_TIFF     "image/tiff"
#define SNIFF_MIME_PPTX     "application/vnd.openxmlformats-officedocument.presentationml.presentation"
#define SNIFF_MIME_XLSX     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#define SNIFF_MIME_ODT      "application/vnd.oasis.opendocument.text"
#define SNIFF_MIME_ODS      "application/vnd.oasis.opendocument.spreadsheet"
#define SNIFF_MIME_ODP      "application/vnd.oasis.opendocument.presentation"
#define SNIFF_MIME_EPUB     "application/epub+zip"
#define SNIFF_MIME_RTF      "application/rtf"
#define SNIFF_MIME_CSV      "text/csv"
#define SNIFF_MIME_TSV      "text/tab-separated-values"
#define SNIFF_MIME_EML      "message/rfc822"

/* How many leading bytes sniff_mime() looks at; pass at most this many. */
#define SNIFF_HEAD_MAX 8192

/*
 * head: the first n bytes of the file (n <= SNIFF_HEAD_MAX is enough; more is
 * ignored). filename: the client's name for it, or NULL.
 * Returns one of the SNIFF_MIME_* strings (static), or NULL when unsupported:
 *   - "%PDF-" within the first 1024 bytes                    -> PDF
 *   - PNG, JPEG, TIFF magic numbers                          -> the image type
 *   - "{\rtf"                                                -> RTF
 *   - a zip whose first entry is "mimetype" (stored) naming
 *     application/epub+zip or an OpenDocument text, spreadsheet
 *     or presentation                                        -> EPUB, ODT, ODS, ODP
 *   - a zip whose local headers name ppt/... or xl/...       -> PPTX, XLSX;
 *     any other zip named *.pptx / *.xlsx                    -> PPTX, XLSX
 *   - text opening with an RFC 5322 header block that has From: and one of
 *     Date:, Subject:, Message-ID:, MIME-Version:, Received:   -> EML
 *   - text named *.csv / *.tsv whose first lines split into the same number
 *     (>= 2) of fields on ',' / tab                           -> CSV, TSV
 *   - a zip whose local headers (visible in head) name word/... -> DOCX;
 *     any zip when filename ends in .docx                      -> DOCX
 *   - UTF-8 text starting (after BOM, blanks, comments) with <!doctype html,
 *     <html, <head or <body                                    -> HTML;
 *     text named *.html / *.htm / *.xhtml                      -> HTML
 *   - other valid UTF-8 without NULs: *.md / *.markdown        -> markdown,
 *     else                                                     -> plain text
 *   - bytes that are not UTF-8 text but declare a charset (a UTF-8/16 BOM,
 *     <?xml encoding=...?>, <meta charset=...>, <meta http-equiv=content-type
 *     content="...charset=...">: charset.h) that iconv decodes, and that decode
 *     in it, without an invalid sequence, to text that is HTML as above (or is
 *     named so)                                                 -> HTML
 *   - anything else (NULs, invalid UTF-8 with no usable declaration, an
 *     unknown charset, many control bytes, other magic numbers such as PNG,
 *     JPEG, ELF, gzip, OLE .doc; plain text or Markdown in another charset
 *     than UTF-8)                                               -> NULL
 * A multi-byte sequence cut by the end of head is not counted as invalid.
 * The worker's HTML extractor decodes with the same declared charset
 * (charset_declared()), so what is accepted here is what gets indexed.
 */
const char *sniff_mime(const unsigned char *head, size_t n, const char *filename);

/*
 * The same detection, before the filter: sniff_mime() returns only the types
 * the worker has an extractor for - today every type sniff_detect() returns.
 */
const char *sniff_detect(const unsigned char *head, size_t n, const char *filename);

#endif
