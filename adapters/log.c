/*
 * adapters/log.c: the host's logger.
 *
 * The broker's line format ("time=... | lvl=... | ..."), so one log
 * pipeline reads both. The supervisor and every child write to the same
 * stderr; each line goes out in one write(2) of less than PIPE_BUF bytes,
 * so lines of different processes never interleave. The minimum level is
 * the one piece of process state, set once at start.
 */
#include "host_private.h"

#include <stdio.h>
#include <strings.h>
#include <unistd.h>

/* Under PIPE_BUF (4096 on Linux), so one write is atomic on a pipe. */
#define LOG_LINE_MAX 4000

static enum adapter_log_level min_level = ADAPTER_LOG_INFO;

static const char *const NAMES[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void host_log_init(enum adapter_log_level min)
{
    min_level = min;
}

int host_log_level_parse(const char *s, enum adapter_log_level *out)
{
    for (int i = ADAPTER_LOG_DEBUG; i <= ADAPTER_LOG_ERROR; i++)
        if (strcasecmp(s, NAMES[i]) == 0) {
            *out = (enum adapter_log_level)i;
            return 0;
        }
    return -1;
}

void host_vlog(enum adapter_log_level level, const char *prefix, const char *fmt, va_list ap)
{
    if (level < min_level || level > ADAPTER_LOG_ERROR)
        return;
    char comp[256];
    snprintf(comp, sizeof comp, "comp=adapters | %s", prefix ? prefix : "");
    char line[LOG_LINE_MAX];
    size_t n = ngsi_log_line(line, sizeof line, NAMES[level], comp, fmt, ap);
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* nothing sensible to do when stderr is gone */
}

void host_log(enum adapter_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vlog(level, NULL, fmt, ap);
    va_end(ap);
}
