/* timeutil.h - wall-clock time in milliseconds, RFC 3339 text, durations. */
#ifndef COMMON_TIMEUTIL_H
#define COMMON_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t time_now_ms(void);
/* Milliseconds from an arbitrary origin that never goes backwards (CLOCK_MONOTONIC). */
int64_t time_mono_ms(void);
/* Microseconds on the same clock as time_mono_ms(). */
int64_t time_mono_us(void);
/* "2026-11-29T05:01:02.123Z" into out (at least 32 bytes). */
void time_format_rfc3339(int64_t ms, char *out, size_t outlen);
/*
 * Parse a duration: plain seconds ("90") or a number with a unit suffix
 * ("500ms", "90s", "15m", "2h", "1d"). Stores milliseconds; returns 0 or -1.
 */
int time_parse_duration_ms(const char *s, int64_t *ms);
/* Sleep for ms milliseconds. */
void time_sleep_ms(int64_t ms);

#endif
