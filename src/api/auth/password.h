/*
 * password.h - password policy and Argon2id hashing (libargon2, PHC strings).
 *
 * Parameters (PASSWORD_T_COST, PASSWORD_M_COST_KIB, PASSWORD_PARALLELISM) are
 * OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane. On the 2-core build
 * machine one hash or verify takes about 40-80 ms, so a login stays under
 * ~100 ms and 8 concurrent logins cost ~150 MiB at most. Stored hashes carry
 * their own parameters, so raising these later only affects new hashes.
 *
 * Policy (password_check): at least PASSWORD_MIN_CHARS (8) Unicode code
 * points, at most PASSWORD_MAX_BYTES (1024) bytes of valid UTF-8, no control
 * characters (U+0000-U+001F, U+007F). No composition rules (NIST SP 800-63B):
 * length is what counts. The byte cap bounds the work an attacker can ask of
 * Argon2 and of the JSON parser.
 */
#ifndef API_PASSWORD_H
#define API_PASSWORD_H

#include <stddef.h>

#define PASSWORD_MIN_CHARS     8
#define PASSWORD_MAX_BYTES     1024
#define PASSWORD_T_COST        2
#define PASSWORD_M_COST_KIB    19456
#define PASSWORD_PARALLELISM   1
#define PASSWORD_SALT_LEN      16
#define PASSWORD_HASH_LEN      32
#define PASSWORD_ENCODED_MAX   128   /* room for the PHC string of these parameters */

/* 0 if pw is acceptable, else -1 with a short client-safe reason in *why. */
int password_check(const char *pw, const char **why);

/*
 * Hash pw (any length up to PASSWORD_MAX_BYTES; policy is the caller's job)
 * with a fresh 16-byte salt from getrandom(2) into out as a PHC string
 * ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"). Returns 0 or -1.
 */
int password_hash(const char *pw, char *out, size_t outlen);

/*
 * 1 if pw matches the PHC string encoded, 0 if it does not or encoded is not
 * an Argon2id hash (e.g. a disabled account's placeholder), -1 on an internal
 * error (out of memory). Only argon2id hashes are accepted; every refusal,
 * even one that needs no hashing (over-long password, placeholder hash),
 * takes about one verify's time.
 */
int password_verify(const char *encoded, const char *pw);

/*
 * Spend the time of one password_verify() against a fixed dummy hash of the
 * current parameters, for logins whose account does not exist or is
 * inactive, so response time does not reveal which accounts exist.
 */
void password_verify_dummy(const char *pw);

#endif
