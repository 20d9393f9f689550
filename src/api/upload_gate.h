/*
 * upload_gate.h - overload protection of POST /v1/ingest on one core-api
 * instance, checked before any other upload limit (upload_slots.h):
 *
 *  - at most MAX_UPLOADS_PER_INSTANCE uploads stream in at once, all tenants
 *    together; past it the upload answers 503 with Retry-After at once,
 *    before its body is read, instead of taking one more thread, file
 *    descriptor and disk stream until the process runs out of them;
 *  - a tenant may start at most UPLOAD_RATE_PER_TENANT uploads a minute (a
 *    token bucket holding a minute's worth, refilled continuously); past it
 *    429 with Retry-After (seconds until the next token).
 *
 * Both live in this process, like the slots: behind a load balancer each
 * instance counts on its own (docs/decisions.md). Thread-safe. Time is passed
 * in (time_mono_ms()) so the unit test moves the clock. Before authentication
 * ingest only peeks (upload_gate_full: a flood is refused without a database
 * round trip, and no unauthenticated request holds a place); after it, it
 * takes the place and the token.
 */
#ifndef API_UPLOAD_GATE_H
#define API_UPLOAD_GATE_H

#include <stdint.h>

enum upload_gate_result {
    UPLOAD_GATE_OK = 0,
    UPLOAD_GATE_INSTANCE_FULL,   /* max_instance uploads in progress: 503 */
    UPLOAD_GATE_RATE,            /* the tenant's bucket is empty: 429 */
    UPLOAD_GATE_NOMEM,
};

/* Retry-After (seconds) of the 503 past MAX_UPLOADS_PER_INSTANCE: about how long a small upload takes. */
#define UPLOAD_GATE_RETRY_S 5

/* One upload's place in the instance count (caller-owned, zeroed). */
struct upload_gate {
    int held;
};

/*
 * A place in the instance count if fewer than max_instance are held. On UPLOAD_GATE_OK g holds
 * it; else UPLOAD_GATE_INSTANCE_FULL, g holds nothing and *retry_after_s says
 * when to try again (seconds, >= 1).
 */
enum upload_gate_result upload_gate_enter(struct upload_gate *g, int64_t max_instance, int64_t *retry_after_s);
/*
 * One token of tenant_id's bucket (rate_per_min tokens a minute, 0: no limit)
 * at time now_ms: UPLOAD_GATE_OK, UPLOAD_GATE_RATE with *retry_after_s (the
 * seconds until the next token, rounded up, >= 1), or UPLOAD_GATE_NOMEM.
 */
enum upload_gate_result upload_gate_token(const char *tenant_id, int64_t rate_per_min, int64_t now_ms,
                                          int64_t *retry_after_s);
/*
 * 1 if max_instance places are held now (a peek, nothing taken): the cheap
 * check before authentication; upload_gate_enter() after it decides.
 */
int upload_gate_full(int64_t max_instance);
/* Give the place back; a no-op when g holds none. */
void upload_gate_leave(struct upload_gate *g);
/* Uploads in progress on this instance (places held). */
int64_t upload_gate_in_progress(void);

#endif
