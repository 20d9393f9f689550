#include "api/upload_store.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_NAME ".upload.part"
#define EXT_MAX 16

/* ---------- file name sanitizer ---------- */

/* Length of a well-formed UTF-8 multibyte sequence at p (cp receives it), else 0. */
static size_t utf8_multibyte(const unsigned char *p, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;

    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
        c = p[0] & 0x1F;
        min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        c = p[0] & 0x0F;
        min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        c = p[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

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
            k = utf8_multibyte(u + i, n - i, &cp);
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

static void log_io(const char *what, const char *path, int err)
{
    log_event(LOG_ERROR, "upload store failure",
              json_pack("{s:s,s:s,s:s}", "op", what, "path", path ? path : "", "error", strerror(err)));
}

static char *path_join(const char *a, const char *b)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}

int upload_store_begin(struct upload_store *s, const char *root, const char *tenant_id,
                       const char *run_id, const char *original_name, size_t original_len,
                       uint64_t max_bytes)
{
    char *absroot = NULL, *tdir = NULL;
    int rc = -1;

    upload_store_release(s);
    upload_store_init(s);
    s->max_bytes = max_bytes;
    upload_store_sanitize_name(original_name, original_len, s->name, sizeof(s->name));

    /* The ids become path components: they must be plain UUID text. */
    if (!tenant_id || !run_id || strspn(tenant_id, "0123456789abcdefABCDEF-") != strlen(tenant_id) ||
        strspn(run_id, "0123456789abcdefABCDEF-") != strlen(run_id) || !*tenant_id || !*run_id) {
        log_event(LOG_ERROR, "upload store: bad ids", NULL);
        goto out;
    }
    if (mkdir(root, 0750) < 0 && errno != EEXIST) {
        log_io("mkdir", root, errno);
        goto out;
    }
    absroot = realpath(root, NULL);
    if (!absroot) {
        log_io("realpath", root, errno);
        goto out;
    }
    tdir = path_join(absroot, tenant_id);
    if (!tdir)
        goto out;
    if (mkdir(tdir, 0750) < 0 && errno != EEXIST) {
        log_io("mkdir", tdir, errno);
        goto out;
    }
    s->dir = path_join(tdir, run_id);
    if (!s->dir)
        goto out;
    /* A fresh run id: an existing folder means something is wrong, never reuse it. */
    if (mkdir(s->dir, 0750) < 0) {
        log_io("mkdir", s->dir, errno);
        free(s->dir);
        s->dir = NULL;
        goto out;
    }
    s->tmp_path = path_join(s->dir, TMP_NAME);
    if (!s->tmp_path)
        goto fail_dir;
    s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (s->fd < 0) {
        log_io("open", s->tmp_path, errno);
        goto fail_dir;
    }
    if (sha256_init(&s->hash) < 0) {
        close(s->fd);
        s->fd = -1;
        unlink(s->tmp_path);
        goto fail_dir;
    }
    s->hash_live = 1;
    s->state = UPLOAD_STORE_WRITING;
    rc = 0;
    goto out;
fail_dir:
    rmdir(s->dir);
out:
    if (rc < 0) {
        free(s->dir);
        free(s->tmp_path);
        s->dir = s->tmp_path = NULL;
    }
    free(absroot);
    free(tdir);
    return rc;
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

int upload_store_commit(struct upload_store *s)
{
    char *final = NULL, *uri = NULL, *tdir = NULL, *slash;
    int rc = -1;

    if (s->state != UPLOAD_STORE_WRITING)
        return -1;
    if (fsync(s->fd) < 0) {
        log_io("fsync", s->tmp_path, errno);
        goto out;
    }
    if (close(s->fd) < 0) {
        s->fd = -1;
        log_io("close", s->tmp_path, errno);
        goto out;
    }
    s->fd = -1;
    if (sha256_final_hex(&s->hash, s->sha256) < 0) {
        s->hash_live = 0;
        goto out;
    }
    s->hash_live = 0;
    final = path_join(s->dir, s->name);
    if (!final || asprintf(&uri, "file://%s", final) < 0) {
        uri = NULL;
        goto out;
    }
    if (rename(s->tmp_path, final) < 0) {
        log_io("rename", final, errno);
        goto out;
    }
    s->state = UPLOAD_STORE_COMMITTED;
    s->path = final;
    s->uri = uri;
    final = uri = NULL;
    /* The new name and the new folder must survive a crash too. */
    tdir = strdup(s->dir);
    slash = tdir ? strrchr(tdir, '/') : NULL;
    if (fsync_dir(s->dir) < 0 || !slash) {
        log_io("fsync", s->dir, errno);
        goto out;
    }
    *slash = '\0';
    if (fsync_dir(tdir) < 0) {
        log_io("fsync", tdir, errno);
        goto out;
    }
    rc = 0;
out:
    free(final);
    free(uri);
    free(tdir);
    return rc;
}

void upload_store_abort(struct upload_store *s)
{
    if (!s)
        return;
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
    if (s->fd >= 0)
        close(s->fd);
    if (s->hash_live)
        sha256_release(&s->hash);
    free(s->dir);
    free(s->tmp_path);
    free(s->path);
    free(s->uri);
    upload_store_init(s);
}
