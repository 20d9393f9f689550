/*
 * upload_slots.h - how many uploads one tenant and one user may stream into
 * this core-api instance at once (MAX_UPLOADS_PER_TENANT, MAX_UPLOADS_PER_USER).
 *
 * An upload takes a slot before its body is read and gives it back when the
 * body has been handled or the client went away, so a tenant with many slow
 * or stalled uploads runs into its own limit (429) instead of taking the
 * connections and threads every other tenant needs.
 *
 * The counts live in this process (a mutex and one entry per tenant or user
 * with an upload in progress, freed when its count drops to zero): they cost
 * no database round trip and vanish with a crashed process, but each core-api
 * instance counts on its own, so behind a load balancer a tenant may have up
 * to instances x limit uploads in flight (docs/decisions.md).
 */
#ifndef API_UPLOAD_SLOTS_H
#define API_UPLOAD_SLOTS_H

#include "common/ids.h"

#include <stdint.h>

/* What upload_slot_take() decided. */
enum upload_slot_result {
    UPLOAD_SLOT_OK = 0,
    UPLOAD_SLOT_TENANT_FULL,   /* the tenant has max_tenant uploads in progress */
    UPLOAD_SLOT_USER_FULL,     /* the user has max_user uploads in progress */
    UPLOAD_SLOT_NOMEM,
};

/* One upload's hold on its tenant's and its user's counts (caller-owned, zeroed or upload_slot_init). */
struct upload_slot {
    char tenant_id[ID_UUID_LEN + 1];
    char user_id[ID_UUID_LEN + 1];
    int held;
};

void upload_slot_init(struct upload_slot *s);
/*
 * Count one more upload for tenant_id and user_id if neither is at its limit
 * (the tenant's is checked first), atomically for all threads. UPLOAD_SLOT_OK
 * and s holds the slot, or why not (s holds nothing). s must hold nothing yet.
 */
enum upload_slot_result upload_slot_take(struct upload_slot *s, const char *tenant_id, const char *user_id,
                                         int64_t max_tenant, int64_t max_user);
/* Give the slot back; a no-op when s holds none, so it may be called on every way out. */
void upload_slot_release(struct upload_slot *s);
/* Uploads in progress of a tenant (or of a user: same id space, the counts are kept apart). */
int64_t upload_slots_of_tenant(const char *tenant_id);
int64_t upload_slots_of_user(const char *user_id);

#endif
