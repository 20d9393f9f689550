/* bootstrap.h - `core-api bootstrap`: create a tenant and its first admin (idempotent). */
#ifndef API_BOOTSTRAP_H
#define API_BOOTSTRAP_H

struct config;

/* argv after the subcommand; password from BOOTSTRAP_PASSWORD or stdin. Returns an exit code (0, 1, 2). */
int bootstrap_main(const struct config *cfg, int argc, char **argv);

#endif
