/*
 * memo.h - a bounded in-memory cache whose entries are forgotten by an
 * outside signal (core-api's LISTEN connection): the principal cache
 * (principal_cache.h) and core-api's run reads (handlers/runs.c) use it.
 *
 * An entry: a key (at most MEMO_KEY_MAX - 1 bytes), a tag that groups
 * entries to forget together (a user's sessions), a value (bytes, at most
 * the cache's value_max) and an int. A fixed table of slots, direct-mapped
 * by the key's hash (a collision evicts), under one read-write lock; values are
 * malloc'd copies, freed when replaced or forgotten. Memory is bounded by
 * slots x (value_max + a few hundred bytes).
 *
 * Staleness:
 *  - forget_key / forget_tag / clear take effect at once for later gets;
 *  - an entry is trusted at most ttl_ms after it was read (and never past the
 *    expiry its put gave), which bounds an invalidation that never came;
 *  - while not live (memo_set_live(0): the signal's source is down) gets
 *    miss and puts are dropped;
 *  - a put races with an invalidation (read the row, the row changes, the
 *    signal is applied, then the stale row is put): memo_gen(key) before the
 *    read and memo_put(gen) after it drop such a put. The generation is the
 *    key's slot's (forget_key) combined with the whole cache's (forget_tag,
 *    clear, set_live), so changes of other keys do not drop a put.
 *
 * Every function accepts a NULL cache: gets miss, the rest do nothing.
 */
#ifndef COMMON_MEMO_H
#define COMMON_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define MEMO_KEY_MAX 80
#define MEMO_TAG_MAX 40

struct memo;

/* A cache of entries slots whose values are at most value_max bytes; NULL when entries or ttl_ms is 0, or memory is out. */
struct memo *memo_new(size_t entries, size_t value_max, int64_t ttl_ms);
/* Free; accepts NULL and sets *m to NULL. */
void memo_free(struct memo **m);
/*
 * 1 if key is held and trusted at now_ms: its value copied into out (at most
 * outlen bytes; *len set to the value's length, and a NUL added when it
 * fits), its int in *aux (either may be NULL). 0 on a miss, or when the value
 * does not fit out (then *len is the room it needs, when len is not NULL).
 */
int memo_get(struct memo *m, const char *key, int64_t now_ms, char *out, size_t outlen, size_t *len, int *aux);
/* The invalidation count of key: read it before the read whose answer is put. */
uint64_t memo_gen(struct memo *m, const char *key);
/*
 * Hold key (tag may be NULL) with n bytes of value and aux, read when
 * memo_gen(key) was gen, trusted until min(now_ms + ttl, until_ms). Dropped when
 * something was forgotten since gen, when not live, or when n > value_max.
 */
void memo_put(struct memo *m, uint64_t gen, const char *key, const char *tag, const void *value, size_t n, int aux,
              int64_t now_ms, int64_t until_ms);
/* Forget key. */
void memo_forget_key(struct memo *m, const char *key);
/* Forget every entry tagged tag (a scan of the table: for rare events). */
void memo_forget_tag(struct memo *m, const char *tag);
/* Forget everything. */
void memo_clear(struct memo *m);
/* live 1: the invalidation source is connected, entries may serve; 0: they may not. Forgets everything either way. */
void memo_set_live(struct memo *m, int live);
/* Entries held now. */
size_t memo_count(struct memo *m);

#endif
