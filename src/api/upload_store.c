/*
 * upload_store.c - stream one upload into its run folder while hashing it,
 * commit it durably or remove every trace (upload_store.h). The folder layout
 * is common/upload_path.h's.
 */
#include "api/upload_store.h"

#include "api/upload_store_s3.h"

#include "common/log.h"
#include "common/upload_path.h"
#include "common/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define EXT_MAX 16

/* ---------- file name sanitizer ---------- */

/* Invisible or direction-changing characters that make a name lie about itself. */
static int codepoint_dropped(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) ||
           (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) ||
           c == 0xFFFE || c == 0xFFFF;
}

static int ascii_allowed(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '.' || c == '_' || c == '-' || c == '(' || c == ')';
}

static size_t put_default(char *out, size_t outsz, const char *ext, size_t extlen)
{
    return (size_t)snprintf(out, outsz, "upload%.*s", (int)extlen, ext);
}

size_t upload_store_sanitize_name(const char *in, size_t n, char *out, size_t outsz)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t start = 0, len = 0, lead = 0, ext = 0, extlen = 0, result;
    int lead_dot = 0;
    char *t = NULL;

    if (outsz <= UPLOAD_NAME_MAX)
        return 0;
    if (!in)
        n = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i] == '/' || u[i] == '\\')
            start = i + 1;
    t = malloc(n - start + 1);
    if (!t)
        return put_default(out, outsz, "", 0);

    for (size_t i = start; i < n;) {
        uint32_t cp;
        size_t k;

        if (u[i] < 0x20 || u[i] == 0x7F) {
            i++;
        } else if (u[i] < 0x80) {
            t[len++] = ascii_allowed(u[i]) ? (char)u[i] : '_';
            i++;
        } else {
            k = utf8_next(u + i, n - i, &cp);
            if (k == 0) {
                t[len++] = '_';
                i++;
            } else {
                if (!codepoint_dropped(cp)) {
                    memcpy(t + len, u + i, k);
                    len += k;
                }
                i += k;
            }
        }
    }

    /* No hidden names, no "." or "..": leading dots and spaces go. */
    while (lead < len && (t[lead] == '.' || t[lead] == ' ')) {
        if (t[lead] == '.')
            lead_dot = 1;
        lead++;
    }
    while (len > lead && (t[len - 1] == ' ' || t[len - 1] == '.'))
        len--;
    if (len == lead) {
        result = put_default(out, outsz, "", 0);
        goto out;
    }
    /* ".pdf" was an extension alone: keep it as "upload.pdf". */
    if (lead_dot && !memchr(t + lead, '.', len - lead) && len - lead <= EXT_MAX) {
        char e[EXT_MAX + 2];

        e[0] = '.';
        memcpy(e + 1, t + lead, len - lead);
        result = put_default(out, outsz, e, len - lead + 1);
        goto out;
    }
    memmove(t, t + lead, len - lead);
    len -= lead;

    if (len > UPLOAD_NAME_MAX) {
        size_t cut;

        for (size_t i = len; i > 0; i--) {
            if (t[i - 1] == '.') {
                if (i - 1 > 0 && len - (i - 1) <= EXT_MAX + 1) {
                    ext = i - 1;
                    extlen = len - ext;
                }
                break;
            }
        }
        cut = UPLOAD_NAME_MAX - extlen;
        /* Back up to the start of a UTF-8 character. */
        while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
            cut--;
        while (cut > 0 && (t[cut - 1] == ' ' || t[cut - 1] == '.'))
            cut--;
        if (cut == 0) {
            result = put_default(out, outsz, t + ext, extlen);
            goto out;
        }
        if (extlen)
            memmove(t + cut, t + ext, extlen);
        len = cut + extlen;
    }
    memcpy(out, t, len);
    out[len] = '\0';
    result = len;
out:
    free(t);
    return result;
}

/* ---------- store ---------- */

void upload_store_init(struct upload_store *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

int upload_store_unavailable(const struct upload_store *s)
{
    return s->unavailable;
}

void upload_store_configure(const struct config *cfg)
{
    upload_s3_configure(cfg);
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* The last I/O failure of this thread was a full volume (upload_store_full). */
static _Thread_local int tl_full;

static void log_io(const char *what, const char *path, int err)
{
    tl_full = err == ENOSPC || err == EDQUOT;
    log_event(LOG_ERROR, "upload store failure",
              json_pack("{s:s,s:s,s:s}", "op", what, "path", path ? path : "", "error", strerror(err)));
}

/* Free the paths of a store that never got its run folder. */
static void drop_paths(struct upload_store *s)
{
    free(s->tenant_dir);
    free(s->dir);
    free(s->tmp_path);
    s->tenant_dir = s->dir = s->tmp_path = NULL;
}

/* root, created if missing, as an absolute path (malloc'd), or NULL. */
static char *absolute_root(const char *root)
{
    char *abs;

    if (mkdir(root, 0750) < 0 && errno != EEXIST) {
        log_io("mkdir", root, errno);
        return NULL;
    }
    abs = realpath(root, NULL);
    if (!abs)
        log_io("realpath", root, errno);
    return abs;
}

/* Create the tenant folder if missing and the run folder, which must be new; sets tenant_dir and dir. */
static int make_run_dir(struct upload_store *s, const char *root, const char *tenant_id, const char *run_id)
{
    char *absroot;

    /* The ids become path components: they must be plain UUID text. */
    if (!upload_path_is_id(tenant_id) || !upload_path_is_id(run_id)) {
        log_event(LOG_ERROR, "upload store: bad ids", NULL);
        return -1;
    }
    absroot = absolute_root(root);
    if (!absroot)
        return -1;
    s->tenant_dir = upload_path_tenant_dir(absroot, tenant_id);
    s->dir = upload_path_run_dir(absroot, tenant_id, run_id);
    free(absroot);
    if (!s->tenant_dir || !s->dir)
        return -1;
    if (mkdir(s->tenant_dir, 0750) < 0 && errno != EEXIST) {
        log_io("mkdir", s->tenant_dir, errno);
        return -1;
    }
    /* A fresh run id: an existing folder means something is wrong, never reuse it. */
    if (mkdir(s->dir, 0750) < 0) {
        log_io("mkdir", s->dir, errno);
        return -1;
    }
    return 0;
}

/* Create the temporary file in the run folder and start the hash. */
static int open_temp(struct upload_store *s)
{
    s->tmp_path = upload_path_temp(s->dir);
    if (!s->tmp_path)
        return -1;
    s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (s->fd < 0) {
        log_io("open", s->tmp_path, errno);
        return -1;
    }
    if (sha256_init(&s->hash) < 0) {
        close(s->fd);
        s->fd = -1;
        unlink(s->tmp_path);
        return -1;
    }
    s->hash_live = 1;
    return 0;
}

int upload_store_begin(struct upload_store *s, const char *root, const char *tenant_id,
                       const char *run_id, const char *original_name, size_t original_len,
                       uint64_t max_bytes)
{
    upload_store_release(s);
    upload_store_init(s);
    tl_full = 0;
    s->max_bytes = max_bytes;
    upload_store_sanitize_name(original_name, original_len, s->name, sizeof(s->name));
    if (upload_s3_enabled())
        return upload_s3_begin(s, tenant_id, run_id);
    if (make_run_dir(s, root, tenant_id, run_id) < 0) {
        drop_paths(s);
        return -1;
    }
    if (open_temp(s) < 0) {
        rmdir(s->dir);
        drop_paths(s);
        return -1;
    }
    s->state = UPLOAD_STORE_WRITING;
    return 0;
}

int upload_store_write(struct upload_store *s, const void *p, size_t n)
{
    const char *c = p;

    if (s->state != UPLOAD_STORE_WRITING)
        return UPLOAD_STORE_ERROR;
    if (n > s->max_bytes || s->size > s->max_bytes - n)
        return UPLOAD_STORE_TOO_LARGE;
    if (sha256_update(&s->hash, p, n) < 0)
        return UPLOAD_STORE_ERROR;
    if (s->s3)
        return upload_s3_write(s, p, n);
    while (n > 0) {
        ssize_t w = write(s->fd, c, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            log_io("write", s->tmp_path, errno);
            return UPLOAD_STORE_ERROR;
        }
        c += w;
        n -= (size_t)w;
        s->size += (uint64_t)w;
    }
    return UPLOAD_STORE_OK;
}

/* The temporary file on disk and closed, its hash in sha256. */
static int finish_temp(struct upload_store *s)
{
    if (fsync(s->fd) < 0) {
        log_io("fsync", s->tmp_path, errno);
        return -1;
    }
    if (close(s->fd) < 0) {
        s->fd = -1;
        log_io("close", s->tmp_path, errno);
        return -1;
    }
    s->fd = -1;
    s->hash_live = 0;   /* finished or failed, the context is released */
    return sha256_final_hex(&s->hash, s->sha256);
}

/* Rename the temporary file to its final name: the store is committed, path and uri set. */
static int rename_final(struct upload_store *s)
{
    char *final = upload_path_file(s->dir, s->name);
    char *uri = final ? upload_path_uri(final) : NULL;

    if (!uri || rename(s->tmp_path, final) < 0) {
        if (uri)
            log_io("rename", final, errno);
        free(final);
        free(uri);
        return -1;
    }
    s->state = UPLOAD_STORE_COMMITTED;
    s->path = final;
    s->uri = uri;
    return 0;
}

int upload_store_commit(struct upload_store *s)
{
    if (s->s3)
        return upload_s3_commit(s);
    if (s->state != UPLOAD_STORE_WRITING)
        return -1;
    if (finish_temp(s) < 0 || rename_final(s) < 0)
        return -1;
    /* The new name and the new folder must survive a crash too. */
    if (fsync_dir(s->dir) < 0) {
        log_io("fsync", s->dir, errno);
        return -1;
    }
    if (fsync_dir(s->tenant_dir) < 0) {
        log_io("fsync", s->tenant_dir, errno);
        return -1;
    }
    return 0;
}

void upload_store_abort(struct upload_store *s)
{
    if (!s)
        return;
    upload_s3_abort(s);
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    if (s->hash_live) {
        sha256_release(&s->hash);
        s->hash_live = 0;
    }
    if (s->tmp_path)
        unlink(s->tmp_path);
    if (s->path)
        unlink(s->path);
    if (s->dir && rmdir(s->dir) < 0 && errno != ENOENT)
        log_io("rmdir", s->dir, errno);
    s->state = UPLOAD_STORE_IDLE;
}

void upload_store_release(struct upload_store *s)
{
    if (!s)
        return;
    upload_s3_release(s);
    if (s->fd >= 0)
        close(s->fd);
    if (s->hash_live)
        sha256_release(&s->hash);
    free(s->tenant_dir);
    free(s->dir);
    free(s->tmp_path);
    free(s->path);
    free(s->uri);
    upload_store_init(s);
}

int upload_store_full(void)
{
    return tl_full;
}

/* ---------- health and usage ---------- */

int upload_store_probe(const char *root)
{
    char path[PATH_MAX], block[UPLOAD_STORE_PROBE_BYTES];
    int fd, err = 0;

    if (!root)
        return EINVAL;
    /* A dot name: never a tenant folder, so the crash guard's scan ignores a leftover. */
    if (snprintf(path, sizeof(path), "%s/.probe-%ld-%ld", root, (long)getpid(), (long)gettid()) >= (int)sizeof(path))
        return ENAMETOOLONG;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return errno;
    memset(block, 0, sizeof(block));
    if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
        err = errno ? errno : EIO;
    else if (fsync(fd) < 0)
        err = errno;
    close(fd);
    unlink(path);
    return err;
}

/* Add the plain files of folder fd (closed here) to u; depth 0 is UPLOAD_DIR, 2 a run folder. */
static void usage_walk(int fd, int depth, struct upload_store_usage *u)
{
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    struct dirent *e;
    struct stat st;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    for (e = readdir(d); e; e = readdir(d)) {
        if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            u->bytes += (uint64_t)st.st_size;
            u->files++;
        } else if (S_ISDIR(st.st_mode) && depth < 2) {
            if (depth == 1)
                u->folders++;
            usage_walk(openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), depth + 1, u);
        }
    }
    closedir(d);
}

int upload_store_usage(const char *root, struct upload_store_usage *u)
{
    struct statvfs vfs;

    memset(u, 0, sizeof(*u));
    if (!root || statvfs(root, &vfs) < 0)
        return -1;
    u->fs_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    u->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    usage_walk(open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0, u);
    return 0;
}

int upload_store_open(const char *upload_dir, const char *tenant_id, const char *upload_uri, uint64_t max_bytes,
                      uint64_t *size)
{
    char path[PATH_MAX], err[256];
    struct stat st;
    int fd;

    if (!upload_uri)
        return -1;
    if (strncmp(upload_uri, "s3://", 5) == 0)
        return upload_s3_open(tenant_id, upload_uri, max_bytes, size);
    if (upload_path_resolve(upload_uri, upload_dir, tenant_id, path, sizeof(path), err, sizeof(err)) != RUN_OK)
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

int upload_store_kept(const char *upload_dir, const char *tenant_id, const char *upload_uri)
{
    char path[PATH_MAX], err[256];

    if (!upload_uri)
        return 0;
    if (strncmp(upload_uri, "s3://", 5) == 0)
        return upload_s3_kept(tenant_id, upload_uri);
    return upload_path_resolve(upload_uri, upload_dir, tenant_id, path, sizeof(path), err, sizeof(err)) == RUN_OK;
}
