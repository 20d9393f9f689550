/* log.c - JSON-lines logging to stderr, one write(2) per line (log.h). */
#include "common/log.h"
#include "common/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_svc = "app";
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *svc, enum log_level min)
{
    log_svc = svc;
    log_min = min;
}

int log_level_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void log_init_named(const char *svc, const char *level)
{
    int lv = level && *level ? log_level_parse(level) : LOG_INFO;

    log_init(svc, lv < 0 ? LOG_INFO : (enum log_level)lv);
}

int log_enabled(enum log_level level)
{
    return level >= log_min;
}

void log_event(enum log_level level, const char *msg, json_t *fields)
{
    char ts[40];
    json_t *line;
    char *text;

    if (level < log_min) {
        json_decref(fields);
        return;
    }
    time_format_rfc3339(time_now_ms(), ts, sizeof(ts));
    line = json_pack("{s:s,s:s,s:s,s:s}", "ts", ts, "level", level_names[level],
                     "svc", log_svc, "msg", msg ? msg : "");
    if (!line) {
        json_decref(fields);
        return;
    }
    if (json_is_object(fields))
        json_object_update_missing(line, fields);
    json_decref(fields);
    text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(line);
    if (!text)
        return;
    {
        size_t n = strlen(text);
        char *withnl = malloc(n + 2);

        if (withnl) {
            memcpy(withnl, text, n);
            withnl[n] = '\n';
            /* One write per line so lines from several threads never interleave. */
            ssize_t w = write(STDERR_FILENO, withnl, n + 1);
            (void)w;
            free(withnl);
        }
    }
    free(text);
}

void log_msgf(enum log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (level < log_min)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_event(level, msg, NULL);
}
