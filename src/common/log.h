/*
 * log.h - JSON-lines logging to stderr (after postgres' jsonlog.c).
 *
 * One object per line: {"ts", "level", "svc", "msg", ...fields}. Internals
 * (SQL errors, errno text, paths) belong here, never in an HTTP response.
 * Thread-safe: a line is written with one write(2).
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Name the service ("core-api") and the lowest level written. */
void log_init(const char *svc, enum log_level min);
/* "debug", "info", "warn", "error" -> level; -1 if unknown. */
int log_level_parse(const char *s);
/*
 * log_init() with the level given by name, as LOG_LEVEL spells it: NULL, ""
 * or an unknown name mean "info". How both programs start their log.
 */
void log_init_named(const char *svc, const char *level);

/*
 * Write one line. fields is a JSON object whose keys are merged into the line
 * (may be NULL); the reference is stolen, so log_event(..., json_pack(...)) is fine.
 */
void log_event(enum log_level level, const char *msg, json_t *fields);
/* 1 if a line of level is written (log_init's minimum): skip building the fields of one that is not. */
int log_enabled(enum log_level level);
/* Shorthands: a printf-formatted message and no fields. */
void log_msgf(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_info(msg, fields)  log_event(LOG_INFO, (msg), (fields))
#define log_warn(msg, fields)  log_event(LOG_WARN, (msg), (fields))
#define log_error(msg, fields) log_event(LOG_ERROR, (msg), (fields))
#define log_debug(msg, fields) log_event(LOG_DEBUG, (msg), (fields))

#endif
