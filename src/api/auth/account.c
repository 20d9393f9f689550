/*
 * account.c - the pure account rules (account.h): what a valid e-mail and
 * role are, and a users row as the API's User object.
 */
#include "api/auth/account.h"
#include "common/db.h"

#include <string.h>

int auth_role_valid(const char *s)
{
    return s && (strcmp(s, "user") == 0 || strcmp(s, "admin") == 0);
}

int auth_email_valid(const char *s)
{
    const char *at;
    size_t n;

    if (!s)
        return 0;
    n = strnlen(s, 321);
    if (n < 3 || n > 320)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c == 0x7F)
            return 0;
    }
    at = strchr(s, '@');
    if (!at || at == s || at - s > 64 || at[1] == '\0' || strchr(at + 1, '@'))
        return 0;
    return 1;
}

json_t *auth_user_json(const PGresult *res, int row, int col0)
{
    const char *active = db_val(res, row, col0 + 5);

    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:s?, s:s?}",
                     "user_id", db_val(res, row, col0),
                     "tenant_id", db_val(res, row, col0 + 1),
                     "tenant_slug", db_val(res, row, col0 + 2),
                     "email", db_val(res, row, col0 + 3),
                     "role", db_val(res, row, col0 + 4),
                     "is_active", active && active[0] == 't',
                     "created_at", db_val(res, row, col0 + 6),
                     "updated_at", db_val(res, row, col0 + 7));
}
