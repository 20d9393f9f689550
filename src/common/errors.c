/* errors.c - lookups over the error tables of errors.h (codes, statuses, transient flags). */
#include "common/errors.h"

static const struct {
    const char *code;
    unsigned status;
} api_errs[] = {
    [API_OK] = {"ok", 200},
#define X(name, str, status) [API_ERR_##name] = {str, status},
    API_ERR_MAP(X)
#undef X
};

const char *api_err_code(enum api_err e)
{
    if ((unsigned)e >= API_ERR__COUNT)
        return "internal";
    return api_errs[e].code;
}

unsigned api_err_status(enum api_err e)
{
    if ((unsigned)e >= API_ERR__COUNT)
        return 500;
    return api_errs[e].status;
}

static const struct {
    const char *code;
    int transient;
} run_fails[] = {
#define X(name, str, transient) [RUN_FAIL_##name] = {str, transient},
    RUN_FAIL_MAP(X)
#undef X
};

const char *run_fail_code(enum run_fail f)
{
    if (f == RUN_OK)
        return "ok";
    if ((unsigned)f >= RUN_FAIL__COUNT)
        return "internal";
    return run_fails[f].code;
}

int run_fail_transient(enum run_fail f)
{
    if (f == RUN_OK)
        return 0;
    if ((unsigned)f >= RUN_FAIL__COUNT)
        return 1;
    return run_fails[f].transient;
}
