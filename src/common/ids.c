/* ids.c - random v4 UUIDs from libuuid and the canonical-form check (ids.h). */
#include "common/ids.h"

#include <ctype.h>
#include <string.h>
#include <uuid/uuid.h>

void id_uuid_new(char out[ID_UUID_LEN + 1])
{
    uuid_t u;

    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

int id_is_uuid(const char *s)
{
    if (!s || strlen(s) != ID_UUID_LEN)
        return 0;
    for (int i = 0; i < ID_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}
