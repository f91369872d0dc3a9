/*
 * ngsi/logline.c: one log record in Orion's "key=value | key=value" shape.
 *
 * The broker and the adapter host both log this way, so one log pipeline
 * built for Orion reads both. Formatting lives here and writing stays with
 * each process's logger, which owns its level and its file descriptor.
 */
#include "ngsi.h"

#include <stdio.h>
#include <time.h>

size_t ngsi_log_line(char *line, size_t cap, const char *level, const char *prefix, const char *fmt,
                     va_list ap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, cap, "time=%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, cap - (size_t)n, ".%03ldZ | lvl=%s | %s", ts.tv_nsec / 1000000, level,
                  prefix ? prefix : "");
    if (n >= (int)cap - 1)
        n = (int)cap - 2;
    int m = vsnprintf(line + n, cap - (size_t)n, fmt, ap);
    n = m < 0 ? n : (n + m >= (int)cap - 1 ? (int)cap - 2 : n + m);
    /* One record per line, whatever a message (a client's text, a
     * database's error) holds. */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    return (size_t)n;
}
