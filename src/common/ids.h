/* ids.h - random UUIDs (v4, from libuuid's getrandom-backed generator) and validation. */
#ifndef COMMON_IDS_H
#define COMMON_IDS_H

#define ID_UUID_LEN 36   /* text form, without the NUL */

/* Write a new random UUID in lower-case text form into out (37 bytes). */
void id_uuid_new(char out[ID_UUID_LEN + 1]);
/* 1 if s is a UUID in canonical text form (any case), else 0. Accepts NULL. */
int id_is_uuid(const char *s);

#endif
