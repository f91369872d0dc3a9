/*
 * broker/log.c: the process logger.
 *
 * One line per event on stderr, in Orion's "key=value | key=value" shape so
 * that log pipelines built for Orion keep parsing it. The level is set once
 * at start; a line is formatted into a local buffer and written with one
 * write(2), so lines from different threads never interleave.
 */
#include "broker.h"

#include <stdarg.h>
#include <strings.h>
#include <unistd.h>

/* A log line longer than this is cut; request lines are far shorter. */
#define LOG_LINE_MAX 4096

static enum log_level current = LOG_INFO;

static const char *const NAMES[] = {"DEBUG", "INFO", "WARN", "ERROR", "NONE"};

void log_init(enum log_level level)
{
    current = level;
}

bool log_enabled(enum log_level level)
{
    return level >= current && level != LOG_NONE;
}

const char *log_level_name(enum log_level level)
{
    return NAMES[level];
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = LOG_DEBUG; i <= LOG_NONE; i++)
        if (strcasecmp(s, NAMES[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    if (strcasecmp(s, "WARNING") == 0) { /* Orion's spelling */
        *out = LOG_WARN;
        return 0;
    }
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t n = ngsi_log_line(line, sizeof line, NAMES[level], NULL, fmt, ap);
    va_end(ap);
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* nothing sensible to do when stderr is gone */
}
