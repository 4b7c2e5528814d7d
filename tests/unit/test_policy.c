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

int
main(void)
{
	struct CMUnitTest	 t[sizeof(wcases) / sizeof(wcases[0]) + 2];
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
	return _cmocka_run_group_tests("policy", t, n, NULL, NULL);
}
