/*
 * test_policy.c: windows and source addresses at a given instant, with
 * the instants fixed (a fake clock): recurring windows, midnight
 * crossing, both 2026 daylight saving changes in Europe/Paris,
 * back-to-back windows, and CIDR checks.  Expected instants were
 * computed independently with Python's zoneinfo.
 */
#include "config.h"

#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portier.h"

#define PARIS	"Europe/Paris"
#define SUN	0x01
#define TUE	0x04
#define THU	0x10
#define FRI	0x20
#define ALL	0x7f

static struct pt_window	 wins[4];

static void
access_init(struct pt_access *ac, const struct pt_window *w, int n)
{
	int	 i;

	memset(ac, 0, sizeof(*ac));
	TAILQ_INIT(&ac->ac_windows);
	for (i = 0; i < n; i++) {
		wins[i] = w[i];
		TAILQ_INSERT_TAIL(&ac->ac_windows, &wins[i], wn_entry);
	}
}

struct wcase {
	const char	*name;
	struct pt_window w[2];
	int		 nw;
	time_t		 now;
	int		 open;
	time_t		 end;		/* if open */
	time_t		 next;		/* if closed; 0: not checked */
};

static const struct wcase wcases[] = {
	{ "tue,thu 20:00-23:00, Tue 20:30: open until 23:00",
	    { { .wn_days = TUE | THU, .wn_start = 1200, .wn_end = 1380 } }, 1,
	    1796153400, 1, 1796162400, 0 },
	{ "tue,thu 20:00-23:00, Tue 23:00 sharp: closed",
	    { { .wn_days = TUE | THU, .wn_start = 1200, .wn_end = 1380 } }, 1,
	    1796162400, 0, 0, 1796324400 },
	{ "tue,thu 20:00-23:00, Wed noon: closed, next Thu 20:00",
	    { { .wn_days = TUE | THU, .wn_start = 1200, .wn_end = 1380 } }, 1,
	    1796209200, 0, 0, 1796324400 },
	{ "fri 22:00-02:00, Sat 01:00: open since Friday, until 02:00",
	    { { .wn_days = FRI, .wn_start = 1320, .wn_end = 120 } }, 1,
	    1796428800, 1, 1796432400, 0 },
	{ "fri 22:00-02:00, Sat 03:00: closed",
	    { { .wn_days = FRI, .wn_start = 1320, .wn_end = 120 } }, 1,
	    1796436000, 0, 0, 0 },
	{ "fri 22:00-02:00, Fri 21:59: closed, next Fri 22:00",
	    { { .wn_days = FRI, .wn_start = 1320, .wn_end = 120 } }, 1,
	    1796417940, 0, 0, 1796418000 },
	{ "sun 01:00-04:00 on 2026-03-29 (spring): 2 h, ends 02:00 UTC",
	    { { .wn_days = SUN, .wn_start = 60, .wn_end = 240 } }, 1,
	    1774744200, 1, 1774749600, 0 },
	{ "sun 01:00-04:00 on 2026-10-25 (autumn): 4 h, ends 03:00 UTC",
	    { { .wn_days = SUN, .wn_start = 60, .wn_end = 240 } }, 1,
	    1792895400, 1, 1792897200, 0 },
	{ "tue 20:00-22:00 + tue 22:00-23:00 join: until 23:00",
	    { { .wn_days = TUE, .wn_start = 1200, .wn_end = 1320 },
	      { .wn_days = TUE, .wn_start = 1320, .wn_end = 1380 } }, 2,
	    1796153400, 1, 1796162400, 0 },
	{ "every day 00:00-24:00: open, the end capped a week ahead",
	    { { .wn_days = ALL, .wn_start = 0, .wn_end = 1440 } }, 1,
	    1796153400, 1, -1, 0 },
};

static void
test_window(void **state)
{
	const struct wcase	*c = *state;
	struct pt_access	 ac;
	time_t			 end = 0;

	access_init(&ac, c->w, c->nw);
	assert_int_equal(policy_window_now(&ac, PARIS, c->now, &end), c->open);
	if (c->open && c->end > 0)
		assert_int_equal(end, c->end);
	if (c->open && c->end == -1) {
		assert_true(end >= c->now + 7 * 24 * 3600);
		assert_true(end <= c->now + 9 * 24 * 3600);
	}
	if (!c->open && c->next != 0)
		assert_int_equal(policy_window_next(&ac, PARIS, c->now),
		    c->next);
}

static void
test_hhmm_day(void **state)
{
	char	 buf[32];

	/* 2026-12-01 20:30 in Paris, a Tuesday; 19:30 in UTC. */
	assert_string_equal(policy_hhmm(1796153400, PARIS, buf, sizeof(buf)),
	    "20:30");
	assert_string_equal(policy_hhmm(1796153400, "UTC", buf, sizeof(buf)),
	    "19:30");
	assert_string_equal(policy_when(1796153400, PARIS, buf, sizeof(buf)),
	    "Tue 01 Dec 20:30");
	assert_int_equal(policy_day(1796153400, PARIS), 20261201);
	/* 00:30 in Paris on the 2nd is still the 1st in UTC. */
	assert_int_equal(policy_day(1796167800, PARIS), 20261202);
	assert_int_equal(policy_day(1796167800, "UTC"), 20261201);
}

struct scase {
	const char	*peer;
	int		 ok;
};

static void
cidr_add(struct pt_vendor *vd, struct pt_cidr *c, int af, const char *a,
    int prefix)
{
	memset(c, 0, sizeof(*c));
	c->cd_af = af;
	assert_int_equal(inet_pton(af, a, c->cd_addr), 1);
	c->cd_prefix = prefix;
	TAILQ_INSERT_TAIL(&vd->vd_sources, c, cd_entry);
}

static void
test_sources(void **state)
{
	static const struct scase cases[] = {
		{ "192.0.2.7:50000", 1 },	/* in 192.0.2.0/24 */
		{ "192.0.3.7:50000", 0 },
		{ "198.51.100.9:1", 1 },	/* the /32 */
		{ "198.51.100.10:1", 0 },
		{ "10.1.2.3:22", 1 },		/* in 10.0.0.0/12 */
		{ "10.16.0.1:22", 0 },		/* just outside it */
		{ "[2001:db8:ac::1]:50000", 1 },	/* in the /48 */
		{ "[2001:db8:ad::1]:50000", 0 },
		{ "[::1]:22", 0 },
		{ "garbage", 0 },
	};
	struct pt_vendor	 vd;
	struct pt_cidr		 c[4];
	size_t			 i;

	memset(&vd, 0, sizeof(vd));
	TAILQ_INIT(&vd.vd_sources);
	/* No declaration: any source. */
	assert_int_equal(policy_source_ok(&vd, "203.0.113.1:1"), 1);
	cidr_add(&vd, &c[0], AF_INET, "192.0.2.0", 24);
	cidr_add(&vd, &c[1], AF_INET, "198.51.100.9", 32);
	cidr_add(&vd, &c[2], AF_INET, "10.0.0.0", 12);
	cidr_add(&vd, &c[3], AF_INET6, "2001:db8:ac::", 48);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (policy_source_ok(&vd, cases[i].peer) != cases[i].ok)
			fail_msg("%s: expected %d", cases[i].peer, cases[i].ok);
	}
}

/* What vendors and administrators type: durations and start times. */
static void
test_durations_times(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 secs;
	} d[] = {
		{ "90s", 90 }, { "5m", 300 }, { "2h", 7200 }, { "1h30m", 5400 },
		{ "240m", 14400 }, { "1d", -2 }, { "45", 45 }, { "", -1 }, { "2x", -1 },
		{ "h", -1 }, { "-5m", -1 }, { "5h", -2 }, { "99999999999h", -2 },
		{ "2h30", -1 }, { "1h30m15", -1 },
	};
	char	 buf[16];
	size_t	 i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (policy_duration(d[i].s, 4 * 3600) != d[i].secs)
			fail_msg("duration \"%s\": got %lld, want %lld", d[i].s,
			    (long long)policy_duration(d[i].s, 4 * 3600),
			    (long long)d[i].secs);
	assert_string_equal(policy_duration_str(5400, buf, sizeof(buf)),
	    "1h30m");
	assert_string_equal(policy_duration_str(4 * 3600, buf, sizeof(buf)),
	    "4h");
	assert_string_equal(policy_duration_str(600, buf, sizeof(buf)), "10m");

	/* 2026-11-24 13:00 UTC is 14:00 in Paris. */
	assert_int_equal(policy_parse_time("2026-12-01 20:00", PARIS,
	    1795525200), 1796151600);
	/* The first hour of summer time, 2026-03-29 03:30 CEST. */
	assert_int_equal(policy_parse_time("2026-03-29 03:30", PARIS,
	    1774000000), 1774747800);
	/* A bare time is the next one: 20:00 today, 09:00 tomorrow. */
	assert_int_equal(policy_parse_time("20:00", PARIS, 1795525200),
	    1795525200 + 6 * 3600);
	assert_int_equal(policy_parse_time("09:00", PARIS, 1795525200),
	    1795525200 + 19 * 3600);
	assert_int_equal(policy_parse_time("now", PARIS, 1795525200),
	    1795525200);
	assert_int_equal(policy_parse_time("tomorrow", PARIS, 1795525200), -1);
	assert_int_equal(policy_parse_time("2027-02-30 10:00", PARIS,
	    1795525200), -1);
	assert_int_equal(policy_parse_time("2027-04-31 10:00", PARIS,
	    1795525200), -1);
	assert_int_equal(policy_parse_time("2026-12-01 20:00 x", PARIS,
	    1795525200), -1);
}

/* The window an approval gives, and the policy's maximum. */
static void
test_grant_window(void **state)
{
	const time_t	 now = 1795525200;
	time_t		 from, until;

	/* As soon as approved, for 2h. */
	assert_int_equal(policy_grant_window(now, 0, 7200, 4 * 3600, &from,
	    &until), 0);
	assert_int_equal(from, now);
	assert_int_equal(until, now + 7200);
	/* Asked for 8h, the policy allows 4h: clamped. */
	assert_int_equal(policy_grant_window(now, 0, 8 * 3600, 4 * 3600,
	    &from, &until), 0);
	assert_int_equal(until - from, 4 * 3600);
	/* A future start stays in the future. */
	assert_int_equal(policy_grant_window(now, now + 86400, 3600, 4 * 3600,
	    &from, &until), 0);
	assert_int_equal(from, now + 86400);
	assert_int_equal(until, now + 86400 + 3600);
	/* Approved late: it opens now and keeps the end asked for. */
	assert_int_equal(policy_grant_window(now, now - 1800, 3600, 4 * 3600,
	    &from, &until), 0);
	assert_int_equal(from, now);
	assert_int_equal(until, now + 1800);
	/* Approved after its end: nothing left to give. */
	assert_int_equal(policy_grant_window(now, now - 7200, 3600, 4 * 3600,
	    &from, &until), -1);
	assert_int_equal(policy_grant_window(now, 0, 0, 4 * 3600, &from,
	    &until), -1);
}

/* The vendor's command line: ssh jdoe@bastion request pacs-01 ... */
static void
test_cmdline(void **state)
{
	char	 buf[256], *argv[8];

	assert_int_equal(cmdline_split("request pacs-01 --reason 'disk "
	    "swap' --for 2h", argv, 8, buf, sizeof(buf)), 6);
	assert_string_equal(argv[0], "request");
	assert_string_equal(argv[3], "disk swap");
	assert_string_equal(argv[5], "2h");
	assert_int_equal(cmdline_split("  a\"b c\"d  \"e\\\"f\" g\\ h ", argv,
	    8, buf, sizeof(buf)), 3);
	assert_string_equal(argv[0], "ab cd");
	assert_string_equal(argv[1], "e\"f");
	assert_string_equal(argv[2], "g h");
	assert_int_equal(cmdline_split("", argv, 8, buf, sizeof(buf)), 0);
	assert_int_equal(cmdline_split("'open", argv, 8, buf, sizeof(buf)),
	    -1);
	assert_int_equal(cmdline_split("a b c d e f g h i", argv, 8, buf,
	    sizeof(buf)), -1);
	assert_int_equal(cmdline_split("abcdefgh", argv, 8, buf, 8), -1);
}

int
main(void)
{
	struct CMUnitTest	 t[sizeof(wcases) / sizeof(wcases[0]) + 5];
	size_t			 i, n = 0;

	for (i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++, n++) {
		memset(&t[n], 0, sizeof(t[n]));
		t[n].name = wcases[i].name;
		t[n].test_func = test_window;
		t[n].initial_state = (void *)(uintptr_t)&wcases[i];
	}
	memset(&t[n], 0, sizeof(t[n]));
	t[n].name = "local times and days";
	t[n++].test_func = test_hhmm_day;
	memset(&t[n], 0, sizeof(t[n]));
	t[n].name = "source addresses";
	t[n++].test_func = test_sources;
	memset(&t[n], 0, sizeof(t[n]));
	t[n].name = "durations and start times";
	t[n++].test_func = test_durations_times;
	memset(&t[n], 0, sizeof(t[n]));
	t[n].name = "approved windows and the maximum";
	t[n++].test_func = test_grant_window;
	memset(&t[n], 0, sizeof(t[n]));
	t[n].name = "vendor command lines";
	t[n++].test_func = test_cmdline;
	return _cmocka_run_group_tests("policy", t, n, NULL, NULL);
}
