#include "base/timeutil.h"

#include <string.h>
#include <time.h>

int64_t time_now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back: the
 * era-based algorithms from Howard Hinnant's "chrono-Compatible Low-Level
 * Date Algorithms". Out-of-range days roll over (Feb 31 is Mar 2 or 3), as
 * timegm() does. They replace timegm/gmtime_r, which took a lock and
 * consulted the time zone on every timestamp of every response. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t time_month_start(int64_t usec)
{
    int64_t sec = usec / 1000000 - (usec % 1000000 < 0);
    int64_t days = sec / 86400 - (sec % 86400 < 0);
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    return days_from_civil(year, month, 1) * 86400 * 1000000;
}

static void put_digits(char *out, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void time_format(int64_t usec, char out[TIME_STR_LEN + 1])
{
    int64_t sec = usec / 1000000;
    int64_t frac = usec % 1000000;
    if (frac < 0) {
        frac += 1000000;
        sec -= 1;
    }
    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    /* Years outside 0000-9999 cannot be written in this form; clamp rather
     * than overflow the fixed-width buffer (no caller stores such times). */
    if (year < 0)
        year = 0;
    if (year > 9999)
        year = 9999;
    /* 2026-11-25T16:53:18.123456Z */
    memcpy(out, "0000-00-00T00:00:00.000000Z", TIME_STR_LEN + 1);
    put_digits(out, year, 4);
    put_digits(out + 5, month, 2);
    put_digits(out + 8, day, 2);
    put_digits(out + 11, rem / 3600, 2);
    put_digits(out + 14, rem / 60 % 60, 2);
    put_digits(out + 17, rem % 60, 2);
    put_digits(out + 20, frac, 6);
}

static bool time__digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool time_parse(const char *s, int64_t *usec)
{
    const char *p = s;
    int y, mo, d, h, mi, se;
    if (!time__digits(&p, 4, &y) || *p++ != '-' || !time__digits(&p, 2, &mo) || *p++ != '-' ||
        !time__digits(&p, 2, &d))
        return false;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return false;
    p++;
    if (!time__digits(&p, 2, &h) || *p++ != ':' || !time__digits(&p, 2, &mi) || *p++ != ':' ||
        !time__digits(&p, 2, &se))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 6) {
                frac = frac * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        if (n == 0)
            return false;
        while (n++ < 6)
            frac *= 10;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh, om = 0;
        if (!time__digits(&p, 2, &oh))
            return false;
        if (*p == ':')
            p++;
        if (*p >= '0' && *p <= '9' && !time__digits(&p, 2, &om))
            return false;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    *usec = (t - offset) * 1000000 + frac;
    return true;
}

int64_t time_day_of(int64_t usec)
{
    int64_t sec = usec / 1000000 - (usec % 1000000 < 0);
    return sec / 86400 - (sec % 86400 < 0);
}

bool time_day_parse(const char *s, int64_t *day)
{
    if (s == NULL || strlen(s) != TIME_DAY_STR_LEN || s[4] != '-' || s[7] != '-')
        return false;
    int v[3] = {0, 0, 0};
    static const int at[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < len[k]; i++) {
            char c = s[at[k] + i];
            if (c < '0' || c > '9')
                return false;
            v[k] = v[k] * 10 + (c - '0');
        }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1)
        return false;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
    if (v[2] > mdays[v[1] - 1] + (v[1] == 2 && leap))
        return false;
    *day = days_from_civil(v[0], v[1], v[2]);
    return true;
}

void time_day_format(int64_t day, char out[TIME_DAY_STR_LEN + 1])
{
    int64_t year;
    int month, d;
    civil_from_days(day, &year, &month, &d);
    put_digits(out, year, 4);
    out[4] = '-';
    put_digits(out + 5, month, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

int64_t time_day_monday(int64_t day)
{
    /* 1970-01-01 was a Thursday: day + 3 counts from a Monday. */
    int64_t wd = (day + 3) % 7;
    if (wd < 0)
        wd += 7;
    return day - wd;
}

/* The n-th (1-based) Sunday of a month, as a day. */
static int64_t time__nth_sunday(int64_t year, int month, int n)
{
    int64_t first = days_from_civil(year, month, 1);
    int64_t wd = (first + 4) % 7; /* 0 = Sunday; 1970-01-01 was a Thursday (4) */
    if (wd < 0)
        wd += 7;
    return first + (7 - wd) % 7 + 7 * (n - 1);
}

/* The US Pacific offset from UTC at usec: daylight time from 02:00 PST on
 * March's second Sunday (10:00 UTC) to 02:00 PDT on November's first Sunday
 * (09:00 UTC). */
static int64_t time__pacific_offset(int64_t usec)
{
    const int64_t hour = 3600LL * 1000000, dayu = 24 * hour;
    int64_t year;
    int month, d;
    civil_from_days(time_day_of(usec), &year, &month, &d);
    int64_t start = time__nth_sunday(year, 3, 2) * dayu + 10 * hour;
    int64_t end = time__nth_sunday(year, 11, 1) * dayu + 9 * hour;
    return usec >= start && usec < end ? -7 * hour : -8 * hour;
}

int64_t time_next_pacific_midnight(int64_t usec)
{
    const int64_t dayu = 24LL * 3600 * 1000000;
    int64_t midnight = (time_day_of(usec + time__pacific_offset(usec)) + 1) * dayu;
    /* The offset that holds at that midnight, which differs from now's on
     * the days the clocks change. */
    return midnight - time__pacific_offset(midnight - time__pacific_offset(usec));
}
