/*
 * upload_store.h - stream one upload to disk while hashing it (spec 4.1).
 *
 * Layout (common/upload_path.h): UPLOAD_DIR/<tenant_id>/<run_id>/<sanitized
 * original name>. The bytes go to the temporary file (O_CREAT|O_EXCL, 0640) in a
 * fresh run folder (0750); upload_store_commit() fsyncs it, renames it to the
 * sanitized name and fsyncs the folders, so a committed file is complete and
 * durable. upload_store_abort() removes whatever exists (temporary or final
 * file, and the run folder), so a rejected or failed upload leaves nothing.
 * Memory use is constant: nothing but the hash state and a few paths is kept.
 *
 * upload_uri is upload_path_uri() of the final path: "file://" + the absolute
 * path, not percent-encoded, which is safe because sanitized names never
 * contain '%' (nor '?', '#').
 *
 * Typical use:
 *     struct upload_store s;
 *     upload_store_init(&s);
 *     if (upload_store_begin(&s, cfg->upload_dir, tenant, run, name, max) < 0) ...
 *     while (more) if (upload_store_write(&s, p, n) == UPLOAD_STORE_TOO_LARGE) ...
 *     upload_store_commit(&s);          // s.path, s.uri, s.sha256, s.size
 *     ... on any later failure: upload_store_abort(&s);
 *     upload_store_release(&s);         // frees memory, never deletes files
 */
#ifndef API_UPLOAD_STORE_H
#define API_UPLOAD_STORE_H

#include "common/hash.h"

#include <stddef.h>
#include <stdint.h>

/* Longest sanitized file name in bytes (without the NUL). */
#define UPLOAD_NAME_MAX 200

enum upload_store_result {
    UPLOAD_STORE_OK = 0,
    UPLOAD_STORE_ERROR = -1,       /* I/O or memory trouble (details logged) */
    UPLOAD_STORE_TOO_LARGE = -2,   /* max_bytes would be exceeded; nothing of this write stored */
};

enum upload_store_state {
    UPLOAD_STORE_IDLE = 0,         /* nothing on disk */
    UPLOAD_STORE_WRITING,          /* temporary file open */
    UPLOAD_STORE_COMMITTED,        /* final file in place */
};

struct upload_s3;

struct upload_store {
    enum upload_store_state state;
    struct upload_s3 *s3;          /* UPLOAD_STORE=s3: the S3 side (upload_store_s3.h), else NULL */
    int fd;
    int hash_live;
    struct sha256 hash;
    uint64_t max_bytes;
    char *tenant_dir;              /* UPLOAD_DIR/<tenant> (absolute) */
    char *dir;                     /* UPLOAD_DIR/<tenant>/<run> (absolute) */
    char *tmp_path;
    char name[UPLOAD_NAME_MAX + 1];   /* sanitized final name */

    int unavailable;               /* S3: the last failure was the store being unreachable or busy */

    /* results, valid after a successful commit */
    uint64_t size;                 /* bytes written so far (also while writing) */
    char *path;                    /* absolute final path */
    char *uri;                     /* "file://" + path */
    char sha256[HASH_SHA256_HEX_LEN + 1];
};

void upload_store_init(struct upload_store *s);

/*
 * UPLOAD_STORE=s3 (issue 17): after upload_store_configure(cfg) at start-up,
 * upload_store_begin() ignores root and streams to S3 instead (upload_store_s3.h);
 * every other call keeps its contract, path stays NULL and uri is
 * "s3://bucket/key". With UPLOAD_STORE=local (or never configured) nothing changes.
 */
struct config;
void upload_store_configure(const struct config *cfg);

/*
 * Create root/<tenant_id>/<run_id>/ (the run folder must not exist yet) and the
 * temporary file. tenant_id and run_id must be UUIDs (upload_path_is_id: they
 * become path parts).
 * original_name is sanitized (upload_store_sanitize_name). Returns 0 or -1;
 * on -1 nothing is left on disk.
 */
int upload_store_begin(struct upload_store *s, const char *root, const char *tenant_id,
                       const char *run_id, const char *original_name, size_t original_len,
                       uint64_t max_bytes);

/* Append n bytes and hash them. Returns an enum upload_store_result. */
int upload_store_write(struct upload_store *s, const void *p, size_t n);

/* fsync, rename to the final name, fsync the folders; fills path, uri, sha256. 0 or -1. */
int upload_store_commit(struct upload_store *s);

/*
 * After a failed write or commit: 1 when the store itself was unreachable or
 * overloaded (S3 transport errors, 5xx, SlowDown: the client may retry, 503),
 * 0 for anything else (500).
 */
int upload_store_unavailable(const struct upload_store *s);

/* Remove the temporary or final file and the run folder. Safe in any state, idempotent. */
void upload_store_abort(struct upload_store *s);

/* Close and free; never deletes anything (call abort first to discard). Accepts NULL. */
void upload_store_release(struct upload_store *s);

/*
 * A committed upload of tenant_id, opened for reading (a version's original
 * file): the file itself for a file:// URI inside <upload_dir>/<tenant_id>/,
 * or, for an s3:// URI of the S3 store under <UPLOAD_S3_PREFIX><tenant_id>/,
 * an unlinked temporary copy downloaded from it (at most max_bytes; the http
 * layer sends a seekable descriptor, for ranges). *size receives its size.
 * -1 when it is not kept (gone, another tenant's, not this store's).
 */
int upload_store_open(const char *upload_dir, const char *tenant_id, const char *upload_uri, uint64_t max_bytes,
                      uint64_t *size);
/*
 * 1 when that upload is still kept (a retry may use it), 0 when not; an S3
 * store that cannot be asked counts as not kept.
 */
int upload_store_kept(const char *upload_dir, const char *tenant_id, const char *upload_uri);

/*
 * Turn a client-supplied file name (n bytes, may contain NUL) into a safe one
 * component name, written NUL-terminated into out (outsz > UPLOAD_NAME_MAX).
 * Rules:
 *  - only the last path component counts (split on '/' and '\\');
 *  - control bytes (0x00-0x1F, 0x7F) are dropped;
 *  - kept: ASCII letters, digits, space, '.', '_', '-', '(', ')', and any
 *    well-formed UTF-8 multibyte character except C1 controls, bidirectional
 *    overrides/isolates, zero-width characters, line/paragraph separators and
 *    BOM (those are dropped); every other byte becomes '_' (so never '%', '/',
 *    '\\', quotes, '?', '#', ...); malformed UTF-8 bytes become '_';
 *  - leading dots and spaces are removed, trailing spaces and dots too, so the
 *    name is never "..", "." or hidden; a name that was only an extension
 *    (".pdf") becomes "upload.pdf";
 *  - at most UPLOAD_NAME_MAX bytes: the stem is cut on a UTF-8 boundary and
 *    the extension (last '.' and up to 16 bytes after it) is kept;
 *  - an empty result becomes "upload".
 * Returns the length of out.
 */
size_t upload_store_sanitize_name(const char *in, size_t n, char *out, size_t outsz);

/*
 * 1 if the last upload store failure of the calling thread (since its last
 * upload_store_begin) was a full volume (ENOSPC, EDQUOT): the client is told
 * 507 with Retry-After instead of 500.
 */
int upload_store_full(void);

/* Bytes the readiness probe writes (and fsyncs, then removes). */
#define UPLOAD_STORE_PROBE_BYTES 4096

/*
 * Can the store take a file now? Writes UPLOAD_STORE_PROBE_BYTES to a dot file
 * in root, fsyncs and removes it. 0, or the errno that stopped it (ENOSPC on a
 * full volume, EROFS, EACCES, ENOENT; EINVAL for a NULL root). For /readyz.
 */
int upload_store_probe(const char *root);

/* What the upload store holds and what its volume has left, for /metrics. */
struct upload_store_usage {
    uint64_t bytes;       /* sizes of the files under UPLOAD_DIR/<tenant>/<run>/ */
    uint64_t files;
    uint64_t folders;     /* run folders */
    uint64_t fs_bytes;    /* size of the volume holding UPLOAD_DIR */
    uint64_t free_bytes;  /* bytes available to this process on it */
};

/*
 * Walk root (tenant and run folders only, no symlink followed) and statvfs
 * it. 0, or -1 when root is NULL or cannot be read (u zeroed). Costs one stat per file.
 */
int upload_store_usage(const char *root, struct upload_store_usage *u);

#endif
