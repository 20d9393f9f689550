/*
 * migrate.h - `core-api migrate`: apply the db/migrations SQL files in file-name order.
 *
 * Connects as the login of url (the schema owner; no SET ROLE), serializes
 * concurrent runs with a PostgreSQL advisory lock (several instances may start
 * at once), records each applied file in schema_migrations, and applies each
 * file in its own transaction together with its record, so a failed file
 * leaves nothing behind. A second run applies nothing.
 */
#ifndef API_MIGRATE_H
#define API_MIGRATE_H

#include <stddef.h>

/* The advisory lock key (pg_advisory_lock) held while migrating. */
#define MIGRATE_LOCK_KEY 7240021001LL

/* Directory of the migrations: env MIGRATIONS_DIR, else "db/migrations". */
const char *migrate_default_dir(void);

/*
 * Apply the pending migrations of dir (each applied file is logged). Returns 0
 * (also when already up to date), or -1 with a one-line message in err.
 */
int migrate_run(const char *url, const char *dir, char *err, size_t errlen);

#endif
