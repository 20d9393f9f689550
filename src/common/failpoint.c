/*
 * failpoint.c - the FAILPOINTS variable read once, and the two actions
 * (failpoint.h). Without -DFAILPOINTS only failpoint_compiled_in() is built.
 */
#include "common/failpoint.h"

#ifdef FAILPOINTS
#include "common/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAILPOINT_SPEC_MAX 1024

static pthread_once_t fp_once = PTHREAD_ONCE_INIT;
static char fp_spec[FAILPOINT_SPEC_MAX];

static void fp_load(void)
{
    const char *v = getenv("FAILPOINTS");

    snprintf(fp_spec, sizeof(fp_spec), "%s", v ? v : "");
}

/* The action text of name in the spec ("exit", "sleep=500"), copied to out; 0 if named, -1 if not. */
static int fp_action(const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = fp_spec;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
            snprintf(out, outsz, "%.*s", (int)(len - nlen - 1), p + nlen + 1);
            return 0;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return -1;
}

void failpoint_hit(const char *name)
{
    char action[64];

    pthread_once(&fp_once, fp_load);
    if (!fp_spec[0] || fp_action(name, action, sizeof(action)) < 0)
        return;
    if (strcmp(action, "exit") == 0) {
        char line[160];
        int n = snprintf(line, sizeof(line), "failpoint %s: exit %d\n", name, FAILPOINT_EXIT_CODE);

        if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
            _exit(FAILPOINT_EXIT_CODE);
        _exit(FAILPOINT_EXIT_CODE);
    }
    if (strncmp(action, "sleep=", 6) == 0)
        time_sleep_ms(strtol(action + 6, NULL, 10));
}

int failpoint_compiled_in(void)
{
    return 1;
}
#else
int failpoint_compiled_in(void)
{
    return 0;
}
#endif
