/*
 * monitor-request.c: the approval queue and what enforces it.
 *
 * A vendor without an open window asks hospital IT for one, from the
 * session itself (and waits there for the answer) or ahead of time.  An
 * administrator approves (a grant: a window outside the schedule), denies
 * with a reason, or lets it expire; nobody decides a request they filed.
 * An emergency, where the policy allows one, opens a short window at once
 * and waits for an administrator's review after the fact.
 *
 * Decisions act on live sessions at once: a waiting session goes on to
 * its target or ends with the reason; a revoked grant, a killed session,
 * a reload that withdraws an access cut the sessions concerned, target
 * side first.  Every request, decision, revocation and cut is an audit
 * row, committed with the change it records, and a notification.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portier.h"
#include "msg.h"
#include "store.h"

#define REQ_AHEAD_MAX	(90 * 86400)	/* how far ahead one may ask */
#define REQ_LIST_MAX	500		/* rows in one answer */
#define REQ_MINE_MAX	20		/* a vendor's own, newest first */

/* ---- helpers ---------------------------------------------------------------- */

/* A vendor's or an administrator's text: 1 to STORE_TEXT_MAX printable bytes. */
int
monreq_text_ok(const char *s)
{
	const char	*p;

	for (p = s; *p == ' '; p++)
		;
	return *p != '\0' && strlen(s) <= STORE_TEXT_MAX &&
	    monctl_printable(s);
}

void
monreq_notify(const char *event, const struct store_request *rq,
    const struct store_grant *g, const char *actor, const char *text)
{
	struct notice	 n;

	memset(&n, 0, sizeof(n));
	n.n_event = event;
	n.n_request = rq != NULL ? rq->rq_id : g != NULL ? g->gr_request : 0;
	n.n_grant = g != NULL ? g->gr_id : 0;
	n.n_user = rq != NULL ? rq->rq_user : g != NULL && g->gr_user[0] ?
	    g->gr_user : NULL;
	n.n_vendor = rq != NULL ? rq->rq_vendor : g != NULL ? g->gr_vendor :
	    NULL;
	n.n_target = rq != NULL ? rq->rq_target : g != NULL ? g->gr_target :
	    NULL;
	n.n_actor = actor;
	n.n_text = text;
	if (g != NULL) {
		n.n_starts = g->gr_starts;
		n.n_ends = g->gr_ends;
	} else if (rq != NULL && rq->rq_starts != 0) {
		n.n_starts = rq->rq_starts;
		n.n_ends = rq->rq_starts + rq->rq_duration;
	}
	n.n_emergency = rq != NULL ? rq->rq_emergency : g->gr_emergency;
	mon_notify(&n);
}

/* "from Tue 24 Nov 20:00 to 22:00 CET" in the vendor's time, zone named. */
const char *
monreq_span(const char *user, time_t from, time_t until, char *buf, size_t len)
{
	const char	*tz = monauth_tz(user);
	char		 a[32], b[32], z[16];

	policy_when(from, tz, a, sizeof(a));
	if (until - from < 20 * 3600)
		policy_hhmm(until, tz, b, sizeof(b));
	else
		policy_when(until, tz, b, sizeof(b));
	policy_zone(until, tz, z, sizeof(z));
	snprintf(buf, len, "from %s to %s %s", a, b, z);
	return buf;
}

struct msession *
monreq_waiting(int64_t id)
{
	struct msession	*ms;

	for (ms = mon_session_first(); ms != NULL; ms = mon_session_next(ms))
		if (ms->ms_state == MS_WAIT && ms->ms_request == id)
			return ms;
	return NULL;
}

static void
req_answer(struct msession *ms, int ok, int64_t id, const char *text)
{
	struct msg	*m = m_create(MSG_MON_REQUEST_RESULT, 0, -1);

	m_add_u32(m, ok);
	m_add_i64(m, id);
	m_add_str(m, text);
	msgchan_send(ms->ms_chan, m);
}

/* A waiting session's request was granted: on to the target, if now. */
void
monreq_wake(struct msession *ms, const struct store_grant *g)
{
	struct mon_access	 ma;
	char			 text[256], span[96];

	ms->ms_request = 0;
	ms->ms_state = MS_AUTHED;
	if (g->gr_starts > time(NULL)) {
		snprintf(text, sizeof(text), "Your request was approved %s; "
		    "connect again then.", monreq_span(ms->ms_user, g->gr_starts,
		    g->gr_ends, span, sizeof(span)));
		mon_cut(ms, text);
		return;
	}
	monauth_access(ms->ms_user, ms->ms_peer, ms->ms_asked, ms->ms_what,
	    time(NULL), &ma);
	if (ma.ma_deny != NULL) {
		monauth_deny(ms, ms->ms_asked, ma.ma_text, ma.ma_deny);
		return;
	}
	monauth_allow(ms, &ma);
}

/* "ssh -L, agent" */
static void
req_fwd_names(uint32_t fwd, char *buf, size_t len)
{
	uint32_t	 bit;
	size_t		 n = 0;

	buf[0] = '\0';
	for (bit = PT_FWD_LOCAL; bit <= PT_FWD_X11; bit <<= 1)
		if ((fwd & bit) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n > 0 ? ", " : "", config_fwd_name(bit));
}

static void
req_fwd_audit(struct msession *ms, uint32_t fwd)
{
	char	 gone[64], added[64], text[160];

	req_fwd_names(ms->ms_fwd & ~fwd, gone, sizeof(gone));
	req_fwd_names(fwd & ~ms->ms_fwd, added, sizeof(added));
	snprintf(text, sizeof(text), "%s%s%s%s%s", gone[0] ? "withdrawn: " :
	    "", gone, gone[0] && added[0] ? "; " : "",
	    added[0] ? "allowed: " : "", added);
	mon_audit(ms->ms_user, "session.forwarding", ms->ms_target,
	    ms->ms_peer, ms->ms_sid, text);
}

/*
 * Look again at every session on a target: one no longer allowed is cut
 * with CAUSE, one whose window or forwarding changed is told.  Returns
 * how many were cut.
 */
int
monreq_reevaluate(const char *cause)
{
	struct msg		*m;
	uint32_t		 fwd;
	struct mon_access	 ma;
	struct msession		*ms;
	char			 text[600];
	time_t			 now = time(NULL);
	int			 n = 0;

	for (ms = mon_session_first(); ms != NULL; ms = mon_session_next(ms)) {
		if (ms->ms_gone || (ms->ms_state &
		    (MS_AUTHZ | MS_HOSTKEY_OK | MS_RELAY)) == 0)
			continue;
		monauth_access(ms->ms_user, ms->ms_peer, ms->ms_target,
		    ms->ms_what, now, &ma);
		if (ma.ma_deny == NULL) {
			ms->ms_grant = ma.ma_grant;
			if (ma.ma_end != ms->ms_window_end)
				mon_window_set(ms, ma.ma_end);
			/* Forwarding withdrawn: its open channels close. */
			if ((fwd = monauth_fwd(ma.ma_ac)) != ms->ms_fwd) {
				req_fwd_audit(ms, fwd);
				ms->ms_fwd = fwd;
				m = m_create(MSG_MON_FWD, 0, -1);
				m_add_u32(m, fwd);
				msgchan_send(ms->ms_chan, m);
			}
			continue;
		}
		snprintf(text, sizeof(text), "%s", cause);
		mon_audit(ms->ms_user, "session.cut", ms->ms_target,
		    ms->ms_peer, ms->ms_sid, ma.ma_deny);
		mon_cut(ms, text);
		n++;
	}
	return n;
}

/* ---- vendors ---------------------------------------------------------------- */

struct req_find {
	const char	*rf_target;
	int64_t		 rf_id;
};

static int
req_find_pending(const struct store_request *rq, void *arg)
{
	struct req_find	*rf = arg;

	if (strcmp(rq->rq_target, rf->rf_target) != 0 || rq->rq_starts != 0)
		return 0;
	rf->rf_id = rq->rq_id;
	return 1;
}

/* An emergency: a window now, approved by the policy, reviewed later. */
static int
req_emergency(struct msession *ms, struct store_request *rq,
    struct pt_access *ac, int wait)
{
	struct store_grant	 g;
	char			 text[STORE_TEXT_MAX + 256], span[96];

	memset(&g, 0, sizeof(g));
	if (rq->rq_duration > ac->ac_emergency_max)
		rq->rq_duration = ac->ac_emergency_max;
	rq->rq_starts = 0;
	g.gr_starts = time(NULL);
	g.gr_ends = g.gr_starts + rq->rq_duration;
	g.gr_emergency = 1;
	strlcpy(g.gr_user, rq->rq_user, sizeof(g.gr_user));
	strlcpy(g.gr_vendor, rq->rq_vendor, sizeof(g.gr_vendor));
	strlcpy(g.gr_target, rq->rq_target, sizeof(g.gr_target));
	strlcpy(g.gr_created_by, "portierd:emergency",
	    sizeof(g.gr_created_by));
	if (store_tx_begin(mon_store) != STORE_OK ||
	    store_request_add(mon_store, rq) != STORE_OK ||
	    store_request_decide(mon_store, rq->rq_id, "approved",
	    "portierd:emergency", "emergency access: to be reviewed") !=
	    STORE_OK)
		goto fail;
	g.gr_request = rq->rq_id;
	if (store_grant_add(mon_store, &g) != STORE_OK)
		goto fail;
	snprintf(text, sizeof(text), "request #%lld, grant #%lld, %s: %s",
	    (long long)rq->rq_id, (long long)g.gr_id, monreq_span(rq->rq_user,
	    g.gr_starts, g.gr_ends, span, sizeof(span)), rq->rq_reason);
	mon_audit(rq->rq_user, "access.emergency", rq->rq_target, ms->ms_peer,
	    ms->ms_sid, text);
	if (store_tx_commit(mon_store) != STORE_OK)
		goto fail;
	log_alert("emergency access: %s on %s, %s", rq->rq_user,
	    rq->rq_target, text);
	monreq_notify("access.emergency", rq, &g, rq->rq_user, rq->rq_reason);
	if (wait) {
		strlcpy(ms->ms_asked, rq->rq_target, sizeof(ms->ms_asked));
		snprintf(text, sizeof(text), "Emergency access #%lld is open "
		    "%s. Hospital IT has been told and will review it.",
		    (long long)rq->rq_id, monreq_span(rq->rq_user, g.gr_starts,
		    g.gr_ends, span, sizeof(span)));
		/* 2: open already; the session's answer follows. */
		req_answer(ms, 2, rq->rq_id, text);
		ms->ms_state = MS_WAIT;
		ms->ms_request = rq->rq_id;
		monreq_wake(ms, &g);
		return 0;
	}
	snprintf(text, sizeof(text), "Emergency access #%lld is open %s. "
	    "Hospital IT has been told and will review it.",
	    (long long)rq->rq_id, monreq_span(rq->rq_user, g.gr_starts,
	    g.gr_ends, span, sizeof(span)));
	req_answer(ms, 1, rq->rq_id, text);
	return 0;
 fail:
	log_warnx("request: store: %s", store_error(mon_store));
	store_tx_rollback(mon_store);
	req_answer(ms, 0, 0, "Portier cannot file your request now; try again "
	    "later or call hospital IT.");
	return 0;
}

int
monreq_file(struct msession *ms, struct msg_in *mi)
{
	struct store_request	 rq;
	struct pt_vendor	*vd;
	struct pt_access	*ac = NULL;
	struct req_find		 rf;
	char			 from[64], text[STORE_TEXT_MAX + 256], span[96];
	char			 max[16];
	int64_t			 duration, limit;
	uint32_t		 emergency, wait;
	time_t			 now = time(NULL), starts = 0;
	int			 rc;

	memset(&rq, 0, sizeof(rq));
	if (m_get_str(mi, rq.rq_target, sizeof(rq.rq_target)) == -1 ||
	    m_get_str(mi, rq.rq_reason, sizeof(rq.rq_reason)) == -1 ||
	    m_get_i64(mi, &duration) == -1 ||
	    m_get_str(mi, from, sizeof(from)) == -1 ||
	    m_get_u32(mi, &emergency) == -1 || m_get_u32(mi, &wait) == -1 ||
	    m_end(mi) == -1)
		return -1;
	/* Waiting is for the target this session was refused, with a tty. */
	if (wait && strcmp(rq.rq_target, ms->ms_asked) != 0)
		return -1;
	if ((vd = config_vendor_of_user(mon_conf, ms->ms_user)) != NULL)
		ac = config_access(vd, rq.rq_target);
	limit = ac == NULL ? 0 : emergency ? ac->ac_emergency_max :
	    ac->ac_approval ? ac->ac_approval_max : 0;
	if (ac == NULL || config_target(mon_conf, rq.rq_target) == NULL) {
		snprintf(text, sizeof(text), "%s is not a target you may use.",
		    rq.rq_target);
		req_answer(ms, 0, 0, text);
		return 0;
	}
	if (limit == 0) {
		snprintf(text, sizeof(text), "Your vendor's policy allows no %s "
		    "for %s.", emergency ? "emergency access" : "requests",
		    rq.rq_target);
		req_answer(ms, 0, 0, text);
		return 0;
	}
	if (!policy_source_ok(vd, ms->ms_peer)) {
		req_answer(ms, 0, 0, "Your address is not declared for your "
		    "vendor; ask hospital IT to declare it.");
		return 0;
	}
	if (!monreq_text_ok(rq.rq_reason)) {
		req_answer(ms, 0, 0, "A reason is required: say what you will "
		    "do (at most 1024 characters).");
		return 0;
	}
	if (duration < 60 || (!emergency && duration > limit)) {
		snprintf(text, sizeof(text), "The duration must be between 1 "
		    "minute and %s.", policy_duration_str(limit, max,
		    sizeof(max)));
		req_answer(ms, 0, 0, text);
		return 0;
	}
	if (from[0] != '\0' && !emergency) {
		starts = policy_parse_time(from, monauth_tz(ms->ms_user), now);
		if (starts == -1 || starts < now - 60 ||
		    starts > now + REQ_AHEAD_MAX) {
			req_answer(ms, 0, 0, "The start must be a time to come, "
			    "within 90 days, as \"2026-12-01 20:00\" (your "
			    "timezone) or \"now\".");
			return 0;
		}
		if (starts <= now)
			starts = 0;
	}
	strlcpy(rq.rq_user, ms->ms_user, sizeof(rq.rq_user));
	strlcpy(rq.rq_vendor, vd->vd_name, sizeof(rq.rq_vendor));
	strlcpy(rq.rq_source, ms->ms_peer, sizeof(rq.rq_source));
	if (wait)
		strlcpy(rq.rq_session, ms->ms_sid, sizeof(rq.rq_session));
	rq.rq_duration = duration;
	rq.rq_starts = starts;
	rq.rq_emergency = emergency != 0;
	/* The store names targets by reference; the policy may be newer. */
	if ((rc = store_target_add(mon_store, rq.rq_target)) != STORE_OK &&
	    rc != STORE_EXISTS) {
		log_warnx("request: store: %s", store_error(mon_store));
		req_answer(ms, 0, 0, "Portier cannot file your request now.");
		return 0;
	}
	if (emergency)
		return req_emergency(ms, &rq, ac, wait);

	/* One pending "as soon as possible" request per target is enough. */
	rf.rf_target = rq.rq_target;
	rf.rf_id = 0;
	if (starts == 0 && store_request_list(mon_store, STORE_RQ_PENDING,
	    ms->ms_user, 0, 0, req_find_pending, &rf) < 0)
		log_warnx("request: store: %s", store_error(mon_store));
	if (rf.rf_id != 0) {
		rq.rq_id = rf.rf_id;
		snprintf(text, sizeof(text), "Request #%lld for %s is already "
		    "with hospital IT.", (long long)rf.rf_id, rq.rq_target);
	} else {
		if (store_tx_begin(mon_store) != STORE_OK ||
		    store_request_add(mon_store, &rq) != STORE_OK) {
			log_warnx("request: store: %s",
			    store_error(mon_store));
			store_tx_rollback(mon_store);
			req_answer(ms, 0, 0, "Portier cannot file your request "
			    "now; try again later or call hospital IT.");
			return 0;
		}
		snprintf(text, sizeof(text), "request #%lld for %s, %s: %s",
		    (long long)rq.rq_id, policy_duration_str(duration, max,
		    sizeof(max)), starts != 0 ? monreq_span(ms->ms_user, starts,
		    starts + duration, span, sizeof(span)) :
		    "as soon as approved", rq.rq_reason);
		mon_audit(ms->ms_user, "request.new", rq.rq_target,
		    ms->ms_peer, ms->ms_sid, text);
		if (store_tx_commit(mon_store) != STORE_OK) {
			log_warnx("request: store: %s",
			    store_error(mon_store));
			store_tx_rollback(mon_store);
			req_answer(ms, 0, 0, "Portier cannot file your request "
			    "now.");
			return 0;
		}
		monreq_notify("request.new", &rq, NULL, ms->ms_user,
		    rq.rq_reason);
		snprintf(text, sizeof(text), "Request #%lld sent to hospital "
		    "IT.", (long long)rq.rq_id);
	}
	if (wait) {
		ms->ms_state = MS_WAIT;
		ms->ms_request = rq.rq_id;
	}
	req_answer(ms, 1, rq.rq_id, text);
	return 0;
}

int
monreq_cancel(struct msession *ms, struct msg_in *mi)
{
	if (m_end(mi) == -1)
		return -1;
	monreq_session_gone(ms);
	return 0;
}

void
monreq_session_gone(struct msession *ms)
{
	monreq_drop(ms, ms->ms_user, "the vendor stopped waiting");
}

/* The request MS waits for is cancelled: by ACTOR, for WHY. */
void
monreq_drop(struct msession *ms, const char *actor, const char *why)
{
	struct store_request	 rq;
	int64_t			 id = ms->ms_request;

	ms->ms_state = MS_AUTHED;
	ms->ms_request = 0;
	if (store_request_get(mon_store, id, &rq) != STORE_OK ||
	    strcmp(rq.rq_state, "pending") != 0 ||
	    strcmp(rq.rq_session, ms->ms_sid) != 0)
		return;		/* filed elsewhere: it stays */
	if (store_tx_begin(mon_store) != STORE_OK ||
	    store_request_decide(mon_store, id, "cancelled", actor,
	    why) != STORE_OK) {
		log_warnx("request #%lld: store: %s", (long long)id,
		    store_error(mon_store));
		store_tx_rollback(mon_store);
		return;
	}
	mon_audit(actor, "request.cancel", rq.rq_target, ms->ms_peer,
	    ms->ms_sid, why);
	if (store_tx_commit(mon_store) != STORE_OK) {
		log_warnx("request #%lld: store: %s", (long long)id,
		    store_error(mon_store));
		store_tx_rollback(mon_store);
		return;
	}
	monreq_notify("request.cancel", &rq, NULL, actor, why);
}

struct req_text {
	char	*rt_buf;
	size_t	 rt_len, rt_cap;
	const char *rt_tz;
};

static void
req_text_add(struct req_text *rt, const char *s)
{
	size_t	 n = strlen(s);

	if (rt->rt_len + n + 1 > rt->rt_cap)
		return;
	memcpy(rt->rt_buf + rt->rt_len, s, n + 1);
	rt->rt_len += n;
}

static int
req_mine_row(const struct store_request *rq, void *arg)
{
	struct req_text	*rt = arg;
	char		 line[1400], dur[16], span[96];

	snprintf(line, sizeof(line), "#%-5lld %-16s %-9s %s, %s%s\r\n"
	    "       reason: %.200s\r\n", (long long)rq->rq_id, rq->rq_target,
	    rq->rq_state, policy_duration_str(rq->rq_duration, dur,
	    sizeof(dur)), rq->rq_starts != 0 ? monreq_span(rq->rq_user,
	    rq->rq_starts, rq->rq_starts + rq->rq_duration, span,
	    sizeof(span)) : "as soon as approved",
	    rq->rq_emergency ? " (emergency)" : "", rq->rq_reason);
	req_text_add(rt, line);
	if (rq->rq_grant != 0) {
		snprintf(line, sizeof(line), "       approved %s\r\n",
		    monreq_span(rq->rq_user, rq->rq_grant_starts,
		    rq->rq_grant_ends, span, sizeof(span)));
		req_text_add(rt, line);
	}
	if (strcmp(rq->rq_state, "denied") == 0 && rq->rq_note[0] != '\0') {
		snprintf(line, sizeof(line), "       denied: %.200s\r\n",
		    rq->rq_note);
		req_text_add(rt, line);
	}
	return 0;
}

int
monreq_mine(struct msession *ms, struct msg_in *mi)
{
	struct req_text	 rt;
	char		 buf[16384];

	if (m_end(mi) == -1)
		return -1;
	memset(&rt, 0, sizeof(rt));
	rt.rt_buf = buf;
	rt.rt_cap = sizeof(buf);
	buf[0] = '\0';
	if (store_request_list(mon_store, 0, ms->ms_user, 0, REQ_MINE_MAX,
	    req_mine_row, &rt) < 0) {
		log_warnx("requests: store: %s", store_error(mon_store));
		req_answer(ms, 0, 0, "Portier cannot list your requests now.");
		return 0;
	}
	req_answer(ms, 1, 0, rt.rt_len > 0 ? buf : "You have filed no "
	    "request.\r\n");
	return 0;
}

int
monreq_stats(struct msession *ms, struct msg_in *mi)
{
	int64_t	 in, out;

	if (m_get_i64(mi, &in) == -1 || m_get_i64(mi, &out) == -1 ||
	    m_end(mi) == -1 || in < 0 || out < 0)
		return -1;
	ms->ms_bytes_in = in;
	ms->ms_bytes_out = out;
	return 0;
}

/* ---- expiry ------------------------------------------------------------------ */

struct req_ids {
	int64_t	 ri_id[64];
	int	 ri_n;
};

static int
req_collect(const struct store_request *rq, void *arg)
{
	struct req_ids	*ri = arg;

	ri->ri_id[ri->ri_n++] = rq->rq_id;
	return ri->ri_n == 64;
}

void
monreq_expire(void)
{
	struct store_request	 rq;
	struct msession		*ms;
	struct req_ids		 ri;
	char			 text[160];
	int			 i;

	memset(&ri, 0, sizeof(ri));
	if (store_request_stale(mon_store, time(NULL), req_collect, &ri) < 0) {
		log_warnx("requests: store: %s", store_error(mon_store));
		return;
	}
	for (i = 0; i < ri.ri_n; i++) {
		if (store_request_get(mon_store, ri.ri_id[i], &rq) != STORE_OK)
			continue;
		if (store_tx_begin(mon_store) != STORE_OK ||
		    store_request_decide(mon_store, rq.rq_id, "expired",
		    "portierd", "nobody decided in time") != STORE_OK) {
			store_tx_rollback(mon_store);
			continue;
		}
		mon_audit(NULL, "request.expire", rq.rq_target, NULL, NULL,
		    "nobody decided in time");
		if (store_tx_commit(mon_store) != STORE_OK) {
			store_tx_rollback(mon_store);
			continue;
		}
		if ((ms = monreq_waiting(rq.rq_id)) != NULL) {
			snprintf(text, sizeof(text), "Request #%lld expired: "
			    "nobody decided in time.", (long long)rq.rq_id);
			ms->ms_state = MS_AUTHED;
			mon_cut(ms, text);
		}
	}
}
