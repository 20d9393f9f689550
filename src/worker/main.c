/*
 * ingest-worker: the queue consumer (DESIGN section 7, src/worker/README.md).
 *
 *   ingest-worker [run]     consume the ingest queue until SIGTERM/SIGINT
 *   ingest-worker config    print the settings table
 *   ingest-worker --help
 *
 * Exit codes: 0 clean stop, 2 bad configuration or usage, 1 anything else.
 */
#include "common/config.h"
#include "common/log.h"
#include "common/signals.h"
#include "worker/consumer.h"
#include "worker/health.h"
#include "worker/proxy.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void usage(FILE *f)
{
    fputs("usage: ingest-worker [run|config|--help]\n"
          "  run      consume the ingest queue (default); SIGTERM/SIGINT drain and exit 0\n"
          "  config   print every setting (environment variable, type, default, bounds)\n",
          f);
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct health *h = NULL;
    struct proxy *px = NULL;
    char err[512];
    const char *cmd = argc > 1 ? argv[1] : "run";
    int threads_left = 0, rc;

    if (argc > 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "config") == 0) {
        config_print_table(CONFIG_WORKER);
        return 0;
    }
    if (strcmp(cmd, "run") != 0) {
        usage(stderr);
        return 2;
    }
    if (config_load_report(&cfg, CONFIG_WORKER, "ingest-worker") < 0)
        return 2;
    log_init_named("ingest-worker", cfg.log_level);
    signals_install(&stop_requested);

    if (cfg.worker_health_addr[0]) {
        h = health_start(cfg.worker_health_addr, err, sizeof(err));
        if (!h) {
            fprintf(stderr, "ingest-worker: WORKER_HEALTH_ADDR: %s\n", err);
            return 2;
        }
    }
    if (cfg.ingest_proxy_addr[0]) {
        px = proxy_start(&cfg, &stop_requested, err, sizeof(err));
        if (!px) {
            fprintf(stderr, "ingest-worker: INGEST_PROXY_ADDR: %s\n", err);
            health_stop(&h);
            return 2;
        }
    }
    log_event(LOG_INFO, "ingest-worker starting", NULL);
    rc = consumer_run(&cfg, &stop_requested, &threads_left);
    proxy_stop(&px);
    health_stop(&h);
    if (threads_left)
        _exit(rc);   /* jobs past the deadline still run: no atexit handlers under them */
    return rc;
}
