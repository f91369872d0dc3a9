/*
 * ngsi/datetime.c: ISO 8601 dates for DateTime attributes and builtins.
 *
 * Orion accepts a date, optionally followed by "T" and hh, hh:mm, hhmm,
 * hh:mm:ss or hhmmss with a fraction, and an optional zone (Z, +hh, +hhmm,
 * +hh:mm);
 * it renders every DateTime as YYYY-MM-DDThh:mm:ss.sssZ. Values are kept as
 * double seconds since the epoch, which is also how they are stored in
 * MongoDB, so queries can compare them as numbers.
 */
#include "ngsi.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Read exactly n digits at *p into *out, advancing *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Parse the zone suffix into an offset in seconds east of UTC. */
static bool parse_zone(const char *p, long *offset)
{
    *offset = 0;
    if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0'))
        return true;
    if (*p != '+' && *p != '-')
        return false;
    int sign = *p == '-' ? -1 : 1, hh, mm = 0;
    p++;
    if (!digits(&p, 2, &hh))
        return false;
    if (*p == ':')
        p++;
    if (*p != '\0' && !digits(&p, 2, &mm))
        return false;
    if (*p != '\0' || hh > 23 || mm > 59)
        return false;
    *offset = sign * (hh * 3600L + mm * 60L);
    return true;
}

/* Read the separator before minutes or seconds: ':' in the extended form,
 * nothing in the basic form (hhmmss); the form is fixed by the first one. */
static bool time_sep(const char **p, int *extended)
{
    if (*extended < 0)
        *extended = **p == ':';
    if (*extended) {
        if (**p != ':')
            return false;
        (*p)++;
    }
    return isdigit((unsigned char)**p);
}

/* Parse "hh[:mm[:ss[.fff]]]" or "hh[mm[ss[.fff]]]" at *p; false when
 * malformed. */
static bool parse_time(const char **p, struct tm *tm, double *frac)
{
    int extended = -1;
    if (!digits(p, 2, &tm->tm_hour) || tm->tm_hour > 23)
        return false;
    if (**p != ':' && !isdigit((unsigned char)**p))
        return true;
    if (!time_sep(p, &extended) || !digits(p, 2, &tm->tm_min) || tm->tm_min > 59)
        return false;
    if (**p != ':' && !isdigit((unsigned char)**p))
        return true;
    if (!time_sep(p, &extended) || !digits(p, 2, &tm->tm_sec) || tm->tm_sec > 59)
        return false;
    if (**p != '.')
        return true;
    (*p)++;
    double scale = 0.1;
    if (!isdigit((unsigned char)**p))
        return false;
    while (isdigit((unsigned char)**p)) {
        *frac += (**p - '0') * scale;
        scale /= 10;
        (*p)++;
    }
    return true;
}

int ngsi_datetime_parse(const char *s, double *out)
{
    struct tm tm = {0};
    const char *p = s;
    double frac = 0;
    long offset;
    if (!digits(&p, 4, &tm.tm_year) || *p++ != '-' || !digits(&p, 2, &tm.tm_mon) || *p++ != '-' ||
        !digits(&p, 2, &tm.tm_mday))
        return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > month_days(tm.tm_year, tm.tm_mon))
        return -1;
    if (*p == 'T') {
        p++;
        if (!parse_time(&p, &tm, &frac))
            return -1;
    } else if (*p != '\0') {
        return -1; /* a zone needs a time, as in Orion */
    }
    if (!parse_zone(p, &offset))
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (double)timegm(&tm) - (double)offset + frac;
    return 0;
}

void ngsi_datetime_format(double t, char out[NGSI_DATETIME_MAX])
{
    long long ms = llround(t * 1000.0);
    long long secs = ms / 1000;
    long long rem = ms % 1000;
    if (rem < 0) { /* floor division for dates before 1970 */
        rem += 1000;
        secs -= 1;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, NGSI_DATETIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
}

double ngsi_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool ngsi_datetime_type(const char *type)
{
    return type != NULL && (strcmp(type, "DateTime") == 0 || strcmp(type, "ISO8601") == 0);
}
