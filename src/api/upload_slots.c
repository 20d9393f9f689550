/*
 * upload_slots.c - in-process counts of the uploads in progress per tenant
 * and per user (upload_slots.h). Two short lists under one mutex: an entry
 * exists only while its count is above zero, so they hold at most one entry
 * per connection the server accepts.
 */
#include "api/upload_slots.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot_count {
    struct slot_count *next;
    int64_t n;
    char id[ID_UUID_LEN + 1];
};

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot_count *tenants;
static struct slot_count *users;

/* The entry of id in *list, or NULL. Under slots_mu. */
static struct slot_count *find(struct slot_count *list, const char *id)
{
    for (; list; list = list->next)
        if (strcmp(list->id, id) == 0)
            return list;
    return NULL;
}

/* The count of id in *list, 0 if it has no entry. Under slots_mu. */
static int64_t count_of(struct slot_count *list, const char *id)
{
    struct slot_count *e = find(list, id);

    return e ? e->n : 0;
}

/* One more for id, making its entry if needed. 0, or -1 when memory is out. Under slots_mu. */
static int add(struct slot_count **list, const char *id)
{
    struct slot_count *e = find(*list, id);

    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e)
            return -1;
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->next = *list;
        *list = e;
    }
    e->n++;
    return 0;
}

/* One less for id; its entry goes away at zero. Under slots_mu. */
static void sub(struct slot_count **list, const char *id)
{
    for (struct slot_count **pp = list; *pp; pp = &(*pp)->next) {
        struct slot_count *e = *pp;

        if (strcmp(e->id, id) != 0)
            continue;
        if (--e->n <= 0) {
            *pp = e->next;
            free(e);
        }
        return;
    }
}

void upload_slot_init(struct upload_slot *s)
{
    memset(s, 0, sizeof(*s));
}

enum upload_slot_result upload_slot_take(struct upload_slot *s, const char *tenant_id, const char *user_id,
                                         int64_t max_tenant, int64_t max_user)
{
    enum upload_slot_result rc = UPLOAD_SLOT_OK;

    pthread_mutex_lock(&slots_mu);
    if (count_of(tenants, tenant_id) >= max_tenant) {
        rc = UPLOAD_SLOT_TENANT_FULL;
    } else if (count_of(users, user_id) >= max_user) {
        rc = UPLOAD_SLOT_USER_FULL;
    } else if (add(&tenants, tenant_id) < 0) {
        rc = UPLOAD_SLOT_NOMEM;
    } else if (add(&users, user_id) < 0) {
        sub(&tenants, tenant_id);
        rc = UPLOAD_SLOT_NOMEM;
    }
    pthread_mutex_unlock(&slots_mu);
    if (rc != UPLOAD_SLOT_OK)
        return rc;
    snprintf(s->tenant_id, sizeof(s->tenant_id), "%s", tenant_id);
    snprintf(s->user_id, sizeof(s->user_id), "%s", user_id);
    s->held = 1;
    return UPLOAD_SLOT_OK;
}

void upload_slot_release(struct upload_slot *s)
{
    if (!s || !s->held)
        return;
    pthread_mutex_lock(&slots_mu);
    sub(&tenants, s->tenant_id);
    sub(&users, s->user_id);
    pthread_mutex_unlock(&slots_mu);
    s->held = 0;
}

/* count_of() under the lock, for readers outside this file. */
static int64_t locked_count(struct slot_count *const *list, const char *id)
{
    int64_t n;

    pthread_mutex_lock(&slots_mu);
    n = count_of(*list, id);
    pthread_mutex_unlock(&slots_mu);
    return n;
}

int64_t upload_slots_of_tenant(const char *tenant_id)
{
    return locked_count(&tenants, tenant_id);
}

int64_t upload_slots_of_user(const char *user_id)
{
    return locked_count(&users, user_id);
}
