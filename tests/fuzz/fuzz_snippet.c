/*
 * libFuzzer: search's snippet (snippet_make) on arbitrary chunk text and
 * lexemes: the first input line is the lexemes, space-separated, the rest the
 * text. Checks: success; marks never nested nor left open (the text's own
 * bytes 1 and 2 are dropped, so every marker is the snippet's); the output no
 * longer than the text with two markers a word and the " ... " between the
 * fragments.
 */
#include "api/handlers/rank.h"
#include "api/handlers/snippet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t llen = nl ? (size_t)(nl - data) : 0, tlen = nl ? size - llen - 1 : size;
    char *lexbuf = malloc(llen + 1);
    const char *lex[64];
    int n = 0, open = 0;
    struct snippet_terms terms;
    struct buf b;

    if (!lexbuf)
        return 0;
    memcpy(lexbuf, data, llen);
    lexbuf[llen] = '\0';
    for (char *save = NULL, *t = strtok_r(lexbuf, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save))
        lex[n++] = t;
    snippet_terms_init(&terms, lex, n);
    buf_init(&b, 1 << 22);
    if (snippet_make(snippet_stemmer(), (const char *)data + size - tlen, tlen, &terms, &b) != 0)
        abort();
    for (size_t i = 0; i < b.len; i++) {
        if (b.ptr[i] == RANK_MARK_OPEN && open++)
            abort();
        if (b.ptr[i] == RANK_MARK_CLOSE)
            open = 0;   /* a close without an open (a joined word cut by a window) is dropped by rank_snippet */
    }
    if (open || b.len > 3 * tlen + 5)
        abort();
    buf_release(&b);
    free(lexbuf);
    return 0;
}
