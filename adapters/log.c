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

#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>
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
    char line[LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "time=%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ | lvl=%s | comp=adapters | %s",
                  ts.tv_nsec / 1000000, NAMES[level], prefix ? prefix : "");
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    n = m < 0 ? n : (n + m >= (int)sizeof line - 1 ? (int)sizeof line - 2 : n + m);
    /* one record per line, whatever the message holds */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nothing sensible to do when stderr is gone */
}

void host_log(enum adapter_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vlog(level, NULL, fmt, ap);
    va_end(ap);
}
