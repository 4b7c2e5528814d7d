/*
 * policy.c: what the policy says about a moment: is a vendor's window
 * open on a target now, until when, and is a source address declared.
 *
 * Windows are written in local time ("every tue,thu 20:00-23:00") in the
 * vendor's timezone; they are evaluated with the system's zoneinfo so
 * they stay right across daylight saving changes.  A window whose end is
 * not after its start runs past midnight into the next day.  Everything
 * here is pure logic on a given time, for the monitor and the unit tests.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portier.h"

#define POLICY_HORIZON	(7 * 24 * 3600)

/* Evaluate in TZ: the process's TZ is switched and restored. */
struct tz_saved {
	char	*ts_old;
	int	 ts_had;
};

static void
tz_enter(const char *tz, struct tz_saved *ts)
{
	const char	*old = getenv("TZ");

	ts->ts_had = old != NULL;
	ts->ts_old = old != NULL ? xstrdup(old) : NULL;
	setenv("TZ", tz, 1);
	tzset();
}

static void
tz_leave(struct tz_saved *ts)
{
	if (ts->ts_had)
		setenv("TZ", ts->ts_old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(ts->ts_old);
}

/* The instant of local day (Y, M, D) at MIN minutes, in the current TZ. */
static time_t
local_instant(int year, int mon, int mday, int min)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year;
	tm.tm_mon = mon;
	tm.tm_mday = mday + min / (24 * 60);
	min %= 24 * 60;
	tm.tm_hour = min / 60;
	tm.tm_min = min % 60;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/*
 * Is NOW inside one of W's occurrences?  An occurrence starts on a day
 * named in wn_days; it may have started yesterday and still run.
 */
static int
window_open(const struct pt_window *w, time_t now, time_t *start,
    time_t *end)
{
	struct tm	 lt, day;
	time_t		 t0, t1, base;
	int		 back, len;

	if (localtime_r(&now, &lt) == NULL)
		return 0;
	len = w->wn_end > w->wn_start ? w->wn_end - w->wn_start :
	    24 * 60 - w->wn_start + w->wn_end;
	for (back = 0; back <= 1; back++) {
		base = local_instant(lt.tm_year, lt.tm_mon, lt.tm_mday - back,
		    12 * 60);
		if (localtime_r(&base, &day) == NULL)
			continue;
		if ((w->wn_days & (1 << day.tm_wday)) == 0)
			continue;
		t0 = local_instant(day.tm_year, day.tm_mon, day.tm_mday,
		    w->wn_start);
		t1 = local_instant(day.tm_year, day.tm_mon, day.tm_mday,
		    w->wn_start + len);
		if (now >= t0 && now < t1) {
			*start = t0;
			*end = t1;
			return 1;
		}
	}
	return 0;
}

int
policy_window_now(const struct pt_access *ac, const char *tz, time_t now,
    time_t *end)
{
	const struct pt_window	*w;
	struct tz_saved		 ts;
	time_t			 s, e, best = 0;
	int			 open = 0, more;

	tz_enter(tz, &ts);
	TAILQ_FOREACH(w, &ac->ac_windows, wn_entry) {
		if (window_open(w, now, &s, &e) && e > best) {
			best = e;
			open = 1;
		}
	}
	/*
	 * Back-to-back windows (mon 08:00-12:00, mon 12:00-18:00) join,
	 * up to a week ahead: "every day 00:00-24:00" never ends otherwise.
	 */
	for (more = open; more && best < now + POLICY_HORIZON; ) {
		more = 0;
		TAILQ_FOREACH(w, &ac->ac_windows, wn_entry) {
			if (window_open(w, best, &s, &e) && e > best) {
				best = e;
				more = 1;
			}
		}
	}
	tz_leave(&ts);
	if (open && end != NULL)
		*end = best;
	return open;
}

time_t
policy_window_next(const struct pt_access *ac, const char *tz, time_t now)
{
	const struct pt_window	*w;
	struct tz_saved		 ts;
	struct tm		 lt, day;
	time_t			 t0, base, best = 0;
	int			 d;

	tz_enter(tz, &ts);
	if (localtime_r(&now, &lt) == NULL)
		goto done;
	for (d = 0; d <= 7; d++) {
		base = local_instant(lt.tm_year, lt.tm_mon, lt.tm_mday + d,
		    12 * 60);
		if (localtime_r(&base, &day) == NULL)
			continue;
		TAILQ_FOREACH(w, &ac->ac_windows, wn_entry) {
			if ((w->wn_days & (1 << day.tm_wday)) == 0)
				continue;
			t0 = local_instant(day.tm_year, day.tm_mon,
			    day.tm_mday, w->wn_start);
			if (t0 > now && (best == 0 || t0 < best))
				best = t0;
		}
	}
done:
	tz_leave(&ts);
	return best;
}

/*
 * "20:00", with the day ("Tue 01 Dec 20:00") when LONG_FORM is 1, or the
 * zone's abbreviation ("CET") when it is 2.
 */
static const char *
policy_strftime(time_t t, const char *tz, int long_form, char *buf,
    size_t len)
{
	struct tz_saved	 ts;
	struct tm	 tm;
	size_t		 n = 0;

	tz_enter(tz, &ts);
	if (localtime_r(&t, &tm) != NULL)
		n = long_form == 2 ? strftime(buf, len, "%Z", &tm) :
		    long_form ? strftime(buf, len, "%a %d %b %H:%M", &tm) :
		    strftime(buf, len, "%H:%M", &tm);
	if (n == 0)
		strlcpy(buf, "?", len);
	tz_leave(&ts);
	return buf;
}

const char *
policy_hhmm(time_t t, const char *tz, char *buf, size_t len)
{
	return policy_strftime(t, tz, 0, buf, len);
}

const char *
policy_when(time_t t, const char *tz, char *buf, size_t len)
{
	return policy_strftime(t, tz, 1, buf, len);
}

const char *
policy_zone(time_t t, const char *tz, char *buf, size_t len)
{
	return policy_strftime(t, tz, 2, buf, len);
}

int
policy_day(time_t t, const char *tz)
{
	struct tz_saved	 ts;
	struct tm	 tm;
	int		 day = 0;

	tz_enter(tz, &ts);
	if (localtime_r(&t, &tm) != NULL)
		day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
		    tm.tm_mday;
	tz_leave(&ts);
	return day;
}

/* Does ADDR ("192.0.2.7", "[2001:db8::1]:50000", "192.0.2.7:50000") fall
 * in one of the vendor's declared sources?  No declaration: any source. */
int
policy_source_ok(const struct pt_vendor *vd, const char *peer)
{
	const struct pt_cidr	*c;
	char			 host[INET6_ADDRSTRLEN + 2], *p;
	uint8_t			 a[16];
	int			 af, bits, i;

	if (TAILQ_EMPTY(&vd->vd_sources))
		return 1;
	if (peer[0] == '[') {
		strlcpy(host, peer + 1, sizeof(host));
		if ((p = strchr(host, ']')) != NULL)
			*p = '\0';
		af = AF_INET6;
	} else {
		strlcpy(host, peer, sizeof(host));
		if ((p = strrchr(host, ':')) != NULL)
			*p = '\0';
		af = AF_INET;
	}
	if (inet_pton(af, host, a) != 1)
		return 0;
	TAILQ_FOREACH(c, &vd->vd_sources, cd_entry) {
		if (c->cd_af != af)
			continue;
		bits = c->cd_prefix;
		for (i = 0; bits >= 8; i++, bits -= 8)
			if (a[i] != c->cd_addr[i])
				break;
		if (bits >= 8)
			continue;
		if (bits == 0 ||
		    ((a[i] ^ c->cd_addr[i]) & (0xff << (8 - bits)) & 0xff) == 0)
			return 1;
	}
	return 0;
}

/* ---- durations, times and granted windows --------------------------------- */

int64_t
policy_duration(const char *s, int64_t max)
{
	const char	*p = s;
	int64_t		 total = 0, n;
	int		 unit;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return -1;
		for (n = 0; *p >= '0' && *p <= '9'; p++)
			if ((n = n * 10 + (*p - '0')) > max)
				return -2;
		switch (*p) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case '\0':	/* a bare number, alone: seconds */
			if (total > 0)
				return -1;	/* "2h30": 30 what? */
			unit = 1;
			p--;
			break;
		default:
			return -1;
		}
		p++;
		if ((total += n * unit) > max)
			return -2;
	}
	return total;
}

const char *
policy_duration_str(int64_t secs, char *buf, size_t len)
{
	int64_t	 h = secs / 3600, m = secs % 3600 / 60;

	if (h > 0 && m > 0)
		snprintf(buf, len, "%lldh%02lldm", (long long)h, (long long)m);
	else if (h > 0)
		snprintf(buf, len, "%lldh", (long long)h);
	else if (m > 0 || secs == 0)
		snprintf(buf, len, "%lldm", (long long)m);
	else
		snprintf(buf, len, "%llds", (long long)secs);
	return buf;
}

time_t
policy_parse_time(const char *s, const char *tz, time_t now)
{
	struct tz_saved	 ts;
	struct tm	 tm, today;
	const char	*end;
	time_t		 t = -1;
	int		 day;

	if (strcmp(s, "now") == 0)
		return now;
	tz_enter(tz, &ts);
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d %H:%M", &tm)) != NULL &&
	    *end == '\0') {
		tm.tm_isdst = -1;
		day = tm.tm_mday;
		t = mktime(&tm);
		if (tm.tm_mday != day)
			t = -1;		/* 30 February: no such day */
	} else if ((end = strptime(s, "%H:%M", &tm)) != NULL &&
	    *end == '\0' && localtime_r(&now, &today) != NULL) {
		/* A bare time: the next time the clock shows it. */
		t = local_instant(today.tm_year, today.tm_mon, today.tm_mday,
		    tm.tm_hour * 60 + tm.tm_min);
		if (t != -1 && t <= now)
			t = local_instant(today.tm_year, today.tm_mon,
			    today.tm_mday + 1, tm.tm_hour * 60 + tm.tm_min);
	}
	tz_leave(&ts);
	return t;
}

int
policy_grant_window(time_t now, time_t starts, int64_t duration,
    int64_t max, time_t *from, time_t *until)
{
	time_t	 s = starts > 0 ? starts : now;

	if (duration <= 0 || max <= 0)
		return -1;
	if (duration > max)
		duration = max;
	*until = s + (time_t)duration;
	*from = s > now ? s : now;
	return *until > *from ? 0 : -1;
}
