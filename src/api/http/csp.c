/*
 * csp.c - the Content-Security-Policy of HTML answers (csp.h): the manifest of
 * inline script hashes, cached and read again when its file changes, and the
 * policy of one page built from it.
 */
#include "api/http/csp.h"
#include "common/buf.h"
#include "common/log.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Which file the cached manifest was read from: a change of any field reads it again. */
struct file_id {
    int present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

/* One manifest for the process, behind a mutex: requests are served on many threads. */
static struct {
    pthread_mutex_t mu;
    int loaded;          /* path has been read (or found missing) */
    char path[PATH_MAX];
    struct file_id id;
    json_t *pages;       /* "pages" of a valid manifest, or NULL */
} cache = {PTHREAD_MUTEX_INITIALIZER, 0, "", {0, 0, 0, 0, {0, 0}}, NULL};

int csp_hash_source_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n != 53 || strncmp(s, "'sha256-", 8) != 0 || strcmp(s + 51, "='") != 0)
        return 0;
    for (size_t i = 8; i < 51; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '/'))
            return 0;
    }
    return 1;
}

static struct file_id file_id_of(const struct stat *st)
{
    struct file_id id = {1, st->st_dev, st->st_ino, st->st_size, st->st_mtim};

    return id;
}

static int file_id_equal(const struct file_id *a, const struct file_id *b)
{
    if (a->present != b->present)
        return 0;
    return !a->present || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
                           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec);
}

/* 1 if every value of pages is an array of hash sources. */
static int pages_ok(json_t *pages)
{
    const char *key;
    json_t *list, *v;
    size_t i;

    if (!json_is_object(pages))
        return 0;
    json_object_foreach(pages, key, list) {
        if (!json_is_array(list))
            return 0;
        json_array_foreach(list, i, v)
            if (!csp_hash_source_ok(json_string_value(v)))
                return 0;
    }
    return 1;
}

/* The "pages" of the manifest text (a new reference), or NULL when it is not a valid manifest. */
static json_t *manifest_pages(const char *text, size_t len)
{
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *pages = json_object_get(root, "pages");

    if (json_integer_value(json_object_get(root, "version")) != 1 || !pages_ok(pages))
        pages = NULL;
    json_incref(pages);
    json_decref(root);
    return pages;
}

/*
 * Read the manifest at path into the cache (its mutex held); seen is what stat()
 * said before, kept when the file cannot be opened so a broken manifest is
 * logged once, not on every request. Logs why a manifest cannot be used.
 */
static void cache_load(const char *path, const struct file_id *seen)
{
    FILE *f = fopen(path, "re");
    struct stat st;
    char *text = NULL;
    const char *why = NULL;

    json_decref(cache.pages);
    cache.pages = NULL;
    cache.id = *seen;
    snprintf(cache.path, sizeof(cache.path), "%s", path);
    cache.loaded = 1;
    if (!f) {
        why = "missing or unreadable";
    } else if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CSP_MANIFEST_MAX) {
        why = "not a regular file of at most 4 MiB";
    } else {
        cache.id = file_id_of(&st);
        text = malloc((size_t)st.st_size + 1);
        if (!text || fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
            why = "unreadable";
        else
            cache.pages = manifest_pages(text, (size_t)st.st_size);
        if (!why && !cache.pages)
            why = "not a valid manifest";
    }
    if (f)
        fclose(f);
    free(text);
    if (why)
        log_event(LOG_WARN, "csp manifest unusable: the web UI's inline scripts will be blocked",
                  json_pack("{s:s,s:s}", "path", path, "reason", why));
}

/* The policy allowing the hash sources of list (NULL: none); NULL when memory is out. */
static char *policy_with(const json_t *list)
{
    struct buf b;
    const json_t *v;
    size_t i;
    int rc;

    buf_init(&b, CSP_POLICY_MAX);
    rc = buf_adds(&b, CSP_POLICY_HEAD);
    json_array_foreach(list, i, v)
        if (rc == 0)
            rc = buf_addf(&b, " %s", json_string_value(v));
    if (rc == 0)
        rc = buf_adds(&b, CSP_POLICY_TAIL);
    if (rc < 0) {
        log_event(LOG_WARN, "csp policy over the limit: the page gets the default policy",
                  json_pack("{s:I}", "hashes", (json_int_t)json_array_size(list)));
        return strdup(CSP_POLICY_DEFAULT);
    }
    return buf_detach(&b, NULL);
}

char *csp_page_policy(const char *web_dir, const char *rel)
{
    char path[PATH_MAX];
    struct file_id now = {0, 0, 0, 0, {0, 0}};
    struct stat st;
    char *policy;
    int n = snprintf(path, sizeof(path), "%s/%s", web_dir ? web_dir : "", CSP_MANIFEST);

    if (!web_dir || !rel || n < 0 || (size_t)n >= sizeof(path))
        return strdup(CSP_POLICY_DEFAULT);
    if (stat(path, &st) == 0)
        now = file_id_of(&st);
    pthread_mutex_lock(&cache.mu);
    if (!cache.loaded || strcmp(cache.path, path) != 0 || !file_id_equal(&cache.id, &now))
        cache_load(path, &now);
    policy = policy_with(cache.pages ? json_object_get(cache.pages, rel) : NULL);
    pthread_mutex_unlock(&cache.mu);
    return policy;
}
