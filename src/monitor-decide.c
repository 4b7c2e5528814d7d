/*
 * monitor-decide.c: what hospital IT does with the approval queue and
 * the live sessions: list requests, approve, deny, review emergencies,
 * list and revoke grants, list and kill sessions, reload the policies.
 *
 * Four eyes: an administrator never decides (nor reviews) a request
 * filed under their own name.  An approval is bounded by the policy in
 * force when it is given: a longer duration is cut to the policy's
 * maximum, and the answer says so.  Each change commits with its audit
 * row, then acts on the live sessions it concerns.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portier.h"
#include "msg.h"
#include "store.h"

#define DECIDE_ROWS_MAX	1000	/* rows in one listing */
#define DECIDE_STR_MAX	(STORE_TEXT_MAX + 64)

/* Read a request id and check that the caller may decide it. */
static int
decide_request(struct monctl *c, int64_t id, struct store_request *rq)
{
	if (store_request_get(mon_store, id, rq) != STORE_OK) {
		monctl_error(c, "no request #%lld: see portierctl requests",
		    (long long)id);
		return -1;
	}
	if (strcmp(c->c_name, rq->rq_user) == 0) {
		/* An attempt on one's own request is worth a row. */
		mon_audit(c->c_actor, "request.self_decision", rq->rq_target,
		    NULL, NULL, "refused: four eyes, the request is the "
		    "administrator's own");
		monctl_error(c, "request #%lld was filed by you (%s): another "
		    "administrator must decide it", (long long)id, c->c_name);
		return -1;
	}
	return 0;
}

/*
 * A decision's store calls ended with RC inside the caller's
 * transaction.  STORE_REFUSED (decided meanwhile, not an emergency, over
 * already) is rolled back and answered with REFUSED; a store failure is
 * answered; otherwise the audit row is written and all of it committed.
 * 0 when committed, -1 when the administrator has been answered.
 */
static int
decide_commit(struct monctl *c, int rc, const char *refused,
    const char *event, const char *target, const char *session,
    const char *audit)
{
	if (rc == STORE_REFUSED) {
		store_tx_rollback(mon_store);
		monctl_error(c, "%s", refused);
		return -1;
	}
	if (rc != STORE_OK) {
		monctl_store_error(c);
		return -1;
	}
	mon_audit(c->c_actor, event, target, NULL, session, audit);
	if (store_tx_commit(mon_store) != STORE_OK) {
		monctl_store_error(c);
		return -1;
	}
	return 0;
}

static int
decide_approve(struct monctl *c, struct msg_in *mi)
{
	struct store_request	 rq;
	struct store_grant	 g;
	struct pt_vendor	*vd;
	struct pt_access	*ac = NULL;
	struct msession		*ms;
	char			 note[DECIDE_STR_MAX], text[1400], span[96];
	char			 refused[128];
	char			 max[16], clamp[96] = "";
	int64_t			 id, from, duration;
	time_t			 now = time(NULL), gs, ge;
	int			 rc;

	if (m_get_i64(mi, &id) == -1 || m_get_i64(mi, &from) == -1 ||
	    m_get_i64(mi, &duration) == -1 ||
	    m_get_str(mi, note, sizeof(note)) == -1 || m_end(mi) == -1)
		return -1;
	if (note[0] != '\0' && !monreq_text_ok(note))
		return monctl_error(c, "the note must be printable text of at "
		    "most %d bytes", STORE_TEXT_MAX);
	if (decide_request(c, id, &rq) == -1)
		return 0;
	if (strcmp(rq.rq_state, "pending") != 0)
		return monctl_error(c, "request #%lld is %s already",
		    (long long)id, rq.rq_state);
	if ((vd = config_vendor_of_user(mon_conf, rq.rq_user)) != NULL)
		ac = config_access(vd, rq.rq_target);
	if (ac == NULL || !ac->ac_approval)
		return monctl_error(c, "the policy in force no longer lets %s "
		    "ask for %s: deny request #%lld", rq.rq_user,
		    rq.rq_target, (long long)id);
	if (from == 0)
		from = rq.rq_starts;
	if (duration == 0)
		duration = rq.rq_duration;
	if (duration > ac->ac_approval_max)
		snprintf(clamp, sizeof(clamp), " (cut to the policy's maximum "
		    "of %s)", policy_duration_str(ac->ac_approval_max, max,
		    sizeof(max)));
	if (policy_grant_window(now, (time_t)from, duration,
	    ac->ac_approval_max, &gs, &ge) == -1)
		return monctl_error(c, "the window request #%lld asks for is "
		    "over: deny it, or approve with --from", (long long)id);
	memset(&g, 0, sizeof(g));
	g.gr_starts = gs;
	g.gr_ends = ge;
	g.gr_request = id;
	strlcpy(g.gr_user, rq.rq_user, sizeof(g.gr_user));
	strlcpy(g.gr_target, rq.rq_target, sizeof(g.gr_target));
	strlcpy(g.gr_created_by, c->c_actor, sizeof(g.gr_created_by));

	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	rc = store_request_decide(mon_store, id, "approved", c->c_actor, note);
	if (rc == STORE_OK)
		rc = store_grant_add(mon_store, &g);
	snprintf(refused, sizeof(refused), "request #%lld was decided "
	    "meanwhile", (long long)id);
	snprintf(text, sizeof(text), "request #%lld of %s, grant #%lld, %s%s%s",
	    (long long)id, rq.rq_user, (long long)g.gr_id,
	    monreq_span(rq.rq_user, g.gr_starts, g.gr_ends, span,
	    sizeof(span)), note[0] != '\0' ? ": " : "", note);
	if (decide_commit(c, rc, refused, "request.approve", rq.rq_target,
	    rq.rq_session[0] != '\0' ? rq.rq_session : NULL, text) == -1)
		return 0;
	monreq_notify("request.approve", &rq, &g, c->c_actor,
	    note[0] != '\0' ? note : NULL);

	if ((ms = monreq_waiting(id)) != NULL)
		monreq_wake(ms, &g);
	/* A live session of the same user may now run longer. */
	monreq_reevaluate("The access policy no longer allows this session.");
	return monctl_ok(c, "request #%lld approved: %s may use %s %s (grant "
	    "#%lld)%s%s", (long long)id, rq.rq_user, rq.rq_target,
	    monreq_span(rq.rq_user, g.gr_starts, g.gr_ends, span,
	    sizeof(span)), (long long)g.gr_id, clamp, ms != NULL ?
	    "; the vendor's waiting session goes on" : "");
}

static int
decide_deny(struct monctl *c, struct msg_in *mi)
{
	struct store_request	 rq;
	struct msession		*ms;
	char			 reason[DECIDE_STR_MAX], text[1400];
	char			 refused[128];
	int64_t			 id;
	int			 rc;

	if (m_get_i64(mi, &id) == -1 ||
	    m_get_str(mi, reason, sizeof(reason)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monreq_text_ok(reason))
		return monctl_error(c, "a reason is required (--reason TEXT): "
		    "the vendor reads it");
	if (decide_request(c, id, &rq) == -1)
		return 0;
	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	rc = store_request_decide(mon_store, id, "denied", c->c_actor, reason);
	snprintf(refused, sizeof(refused), "request #%lld is %s already",
	    (long long)id, rq.rq_state);
	snprintf(text, sizeof(text), "request #%lld of %s: %s",
	    (long long)id, rq.rq_user, reason);
	if (decide_commit(c, rc, refused, "request.deny", rq.rq_target,
	    rq.rq_session[0] != '\0' ? rq.rq_session : NULL, text) == -1)
		return 0;
	monreq_notify("request.deny", &rq, NULL, c->c_actor, reason);
	if ((ms = monreq_waiting(id)) != NULL) {
		snprintf(text, sizeof(text), "Request #%lld was denied by "
		    "hospital IT: %s", (long long)id, reason);
		ms->ms_state = MS_AUTHED;
		ms->ms_request = 0;
		mon_cut(ms, text);
	}
	return monctl_ok(c, "request #%lld denied%s", (long long)id,
	    ms != NULL ? "; the vendor's waiting session was told" : "");
}

static int
decide_review(struct monctl *c, struct msg_in *mi)
{
	struct store_request	 rq;
	char			 note[DECIDE_STR_MAX], text[1400];
	char			 refused[128];
	int64_t			 id;
	int			 rc;

	if (m_get_i64(mi, &id) == -1 ||
	    m_get_str(mi, note, sizeof(note)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monreq_text_ok(note))
		return monctl_error(c, "say what the review found (--note "
		    "TEXT)");
	if (decide_request(c, id, &rq) == -1)
		return 0;
	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	rc = store_request_review(mon_store, id, c->c_actor, note);
	snprintf(refused, sizeof(refused), "request #%lld is no emergency "
	    "waiting for review", (long long)id);
	snprintf(text, sizeof(text), "emergency request #%lld of %s: %s",
	    (long long)id, rq.rq_user, note);
	if (decide_commit(c, rc, refused, "request.review", rq.rq_target,
	    NULL, text) == -1)
		return 0;
	return monctl_ok(c, "emergency request #%lld reviewed", (long long)id);
}

/* ---- listings ------------------------------------------------------------------ */

struct decide_walk {
	struct monctl	*dw_c;
	int		 dw_rows;
};

static int
decide_request_row(const struct store_request *rq, void *arg)
{
	struct decide_walk	*dw = arg;
	struct msg		*m;

	if (dw->dw_rows++ == DECIDE_ROWS_MAX)
		return 1;
	m = m_create(MSG_CTL_REQUEST_INFO, dw->dw_c->c_id, -1);
	m_add_i64(m, rq->rq_id);
	m_add_str(m, rq->rq_user);
	m_add_str(m, rq->rq_vendor);
	m_add_str(m, rq->rq_target);
	m_add_str(m, rq->rq_reason);
	m_add_i64(m, rq->rq_duration);
	m_add_i64(m, rq->rq_starts);
	m_add_u32(m, rq->rq_emergency);
	m_add_str(m, rq->rq_state);
	m_add_i64(m, rq->rq_created);
	m_add_str(m, rq->rq_source);
	m_add_str(m, rq->rq_decided_by);
	m_add_i64(m, rq->rq_decided_at);
	m_add_str(m, rq->rq_note);
	m_add_str(m, rq->rq_reviewed_by);
	m_add_i64(m, rq->rq_reviewed_at);
	m_add_str(m, rq->rq_review_note);
	m_add_i64(m, rq->rq_grant);
	m_add_i64(m, rq->rq_grant_starts);
	m_add_i64(m, rq->rq_grant_ends);
	return msgchan_send(dw->dw_c->c_chan, m) == -1 ? -1 : 0;
}

static int
decide_requests(struct monctl *c, struct msg_in *mi)
{
	struct decide_walk	 dw = { c, 0 };
	char			 user[STORE_NAME_MAX + 1];
	uint32_t		 filter;
	int64_t			 since;

	if (m_get_u32(mi, &filter) == -1 || m_get_i64(mi, &since) == -1 ||
	    m_get_str(mi, user, sizeof(user)) == -1 || m_end(mi) == -1)
		return -1;
	monreq_expire();
	if (store_request_list(mon_store, (int)filter, user[0] != '\0' ?
	    user : NULL, since, DECIDE_ROWS_MAX, decide_request_row, &dw) < 0)
		return monctl_store_error(c);
	msgchan_send(c->c_chan, m_create(MSG_CTL_END, c->c_id, -1));
	return 0;
}

static int
decide_grant_row(const struct store_grant *g, void *arg)
{
	struct decide_walk	*dw = arg;
	struct msg		*m;

	if (dw->dw_rows++ == DECIDE_ROWS_MAX)
		return 1;
	m = m_create(MSG_CTL_GRANT_INFO, dw->dw_c->c_id, -1);
	m_add_i64(m, g->gr_id);
	m_add_i64(m, g->gr_request);
	m_add_str(m, g->gr_user);
	m_add_str(m, g->gr_vendor);
	m_add_str(m, g->gr_target);
	m_add_i64(m, g->gr_starts);
	m_add_i64(m, g->gr_ends);
	m_add_u32(m, g->gr_emergency);
	m_add_i64(m, g->gr_created);
	m_add_str(m, g->gr_created_by);
	m_add_str(m, g->gr_revoked_by);
	m_add_i64(m, g->gr_revoked_at);
	m_add_str(m, g->gr_revoke_reason);
	return msgchan_send(dw->dw_c->c_chan, m) == -1 ? -1 : 0;
}

static int
decide_grants(struct monctl *c, struct msg_in *mi)
{
	struct decide_walk	 dw = { c, 0 };
	uint32_t		 all;

	if (m_get_u32(mi, &all) == -1 || m_end(mi) == -1)
		return -1;
	if (store_grant_list(mon_store, all != 0, time(NULL),
	    decide_grant_row, &dw) < 0)
		return monctl_store_error(c);
	msgchan_send(c->c_chan, m_create(MSG_CTL_END, c->c_id, -1));
	return 0;
}

static int
decide_revoke(struct monctl *c, struct msg_in *mi)
{
	struct store_grant	 g;
	char			 reason[DECIDE_STR_MAX], text[1400];
	char			 refused[128];
	int64_t			 id;
	int			 rc, n;

	if (m_get_i64(mi, &id) == -1 ||
	    m_get_str(mi, reason, sizeof(reason)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monreq_text_ok(reason))
		return monctl_error(c, "a reason is required (--reason TEXT): "
		    "the vendor reads it");
	if (store_grant_get(mon_store, id, &g) != STORE_OK)
		return monctl_error(c, "no grant #%lld: see portierctl grants",
		    (long long)id);
	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	rc = store_grant_revoke(mon_store, id, c->c_actor, reason);
	snprintf(refused, sizeof(refused), "grant #%lld is revoked or over "
	    "already", (long long)id);
	snprintf(text, sizeof(text), "grant #%lld of %s: %s", (long long)id,
	    g.gr_user[0] != '\0' ? g.gr_user : g.gr_vendor, reason);
	if (decide_commit(c, rc, refused, "grant.revoke", g.gr_target, NULL,
	    text) == -1)
		return 0;
	monreq_notify("grant.revoke", NULL, &g, c->c_actor, reason);
	snprintf(text, sizeof(text), "Hospital IT revoked your access: %s",
	    reason);
	n = monreq_reevaluate(text);
	return monctl_ok(c, "grant #%lld revoked; %d live session%s cut",
	    (long long)id, n, n == 1 ? "" : "s");
}

/* ---- live sessions ----------------------------------------------------------- */

static const char *
decide_state(const struct msession *ms)
{
	switch (ms->ms_state) {
	case MS_NEW:
	case MS_HELLO:
	case MS_AUTH_WAIT:
	case MS_PASSWORD_OK:
		return "login";
	case MS_AUTHED:
		return "authenticated";
	case MS_WAIT:
		return "waiting";
	case MS_RELAY:
		return "relaying";
	default:
		return "connecting";
	}
}

static int
decide_sessions(struct monctl *c, struct msg_in *mi)
{
	struct msession	*ms;
	struct msg	*m;

	if (m_end(mi) == -1)
		return -1;
	for (ms = mon_session_first(); ms != NULL; ms = mon_session_next(ms)) {
		if (ms->ms_gone)
			continue;
		m = m_create(MSG_CTL_SESSION_INFO, c->c_id, -1);
		m_add_str(m, ms->ms_sid);
		m_add_str(m, ms->ms_user);
		m_add_str(m, ms->ms_vendor);
		m_add_str(m, ms->ms_target[0] != '\0' ? ms->ms_target :
		    ms->ms_asked);
		m_add_str(m, ms->ms_peer);
		m_add_str(m, decide_state(ms));
		m_add_i64(m, ms->ms_since);
		m_add_i64(m, ms->ms_window_end);
		m_add_i64(m, ms->ms_grant);
		m_add_i64(m, ms->ms_request);
		m_add_i64(m, ms->ms_bytes_in);
		m_add_i64(m, ms->ms_bytes_out);
		m_add_u32(m, (uint32_t)ms->ms_pid);
		if (msgchan_send(c->c_chan, m) == -1)
			return 0;
	}
	msgchan_send(c->c_chan, m_create(MSG_CTL_END, c->c_id, -1));
	return 0;
}

static int
decide_kill(struct monctl *c, struct msg_in *mi)
{
	struct msession	*ms, *found = NULL;
	struct notice	 nt;
	char		 sid[64], reason[DECIDE_STR_MAX], text[1400];
	size_t		 len;
	int		 n = 0;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, reason, sizeof(reason)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monreq_text_ok(reason))
		return monctl_error(c, "a reason is required (--reason TEXT): "
		    "the vendor reads it");
	/* The id as portierctl sessions shows it, or its first digits. */
	if ((len = strlen(sid)) < 4)
		return monctl_error(c, "give the session id, or at least its "
		    "first 4 digits (portierctl sessions)");
	for (ms = mon_session_first(); ms != NULL; ms = mon_session_next(ms))
		if (!ms->ms_gone && strncmp(ms->ms_sid, sid, len) == 0) {
			found = ms;
			n++;
		}
	if (n == 0)
		return monctl_error(c, "no live session %s: see portierctl "
		    "sessions", sid);
	if (n > 1)
		return monctl_error(c, "%s names %d sessions: give more digits",
		    sid, n);
	mon_audit(c->c_actor, "session.kill", found->ms_target[0] != '\0' ?
	    found->ms_target : NULL, found->ms_peer, found->ms_sid, reason);
	/* Its pending request goes with it, in the killer's name. */
	if (found->ms_state == MS_WAIT && found->ms_request != 0) {
		snprintf(text, sizeof(text), "session killed: %s", reason);
		monreq_drop(found, c->c_actor, text);
	}
	snprintf(text, sizeof(text), "Hospital IT closed this session: %s",
	    reason);
	memset(&nt, 0, sizeof(nt));
	nt.n_event = "session.kill";
	nt.n_user = found->ms_user[0] != '\0' ? found->ms_user : NULL;
	nt.n_vendor = found->ms_vendor[0] != '\0' ? found->ms_vendor : NULL;
	nt.n_target = found->ms_target[0] != '\0' ? found->ms_target : NULL;
	nt.n_actor = c->c_actor;
	nt.n_text = reason;
	mon_notify(&nt);
	mon_cut(found, text);
	if (found->ms_grant != 0)
		return monctl_ok(c, "session %s of %s closed; grant #%lld it "
		    "used stays open, and the vendor may connect again: "
		    "portierctl revoke %lld --reason TEXT ends it",
		    found->ms_sid, found->ms_user, (long long)found->ms_grant,
		    (long long)found->ms_grant);
	return monctl_ok(c, "session %s of %s closed", found->ms_sid,
	    found->ms_user[0] != '\0' ? found->ms_user : "(not logged in)");
}

/* ---- reload -------------------------------------------------------------------- */

static int
decide_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
decide_same_listens(const struct pt_config *a, const struct pt_config *b)
{
	const struct pt_listen	*la = TAILQ_FIRST(&a->cf_listens);
	const struct pt_listen	*lb = TAILQ_FIRST(&b->cf_listens);

	for (; la != NULL && lb != NULL; la = TAILQ_NEXT(la, ls_entry),
	    lb = TAILQ_NEXT(lb, ls_entry))
		if (strcmp(la->ls_name, lb->ls_name) != 0 ||
		    la->ls_proto != lb->ls_proto)
			return 0;
	return la == NULL && lb == NULL;
}

static int
decide_same_hostkeys(const struct pt_config *a, const struct pt_config *b)
{
	int	 i;

	if (a->cf_nhostkeys != b->cf_nhostkeys)
		return 0;
	for (i = 0; i < a->cf_nhostkeys; i++)
		if (!decide_same(a->cf_hostkeys[i], b->cf_hostkeys[i]))
			return 0;
	return 1;
}

/*
 * The settings of portier.conf that processes other than the monitor
 * were started with (sockets, paths, keys, the notifier's webhook): a
 * reload cannot apply them, so it refuses to pretend.  Their names,
 * comma-separated, or "" when none changed.
 */
static void
decide_restart_only(const struct pt_config *o, const struct pt_config *nc,
    char *buf, size_t len)
{
	const struct {
		const char	*name;
		int		 same;
	} s[] = {
		{ "store", decide_same(o->cf_store, nc->cf_store) },
		{ "vault key", decide_same(o->cf_vault_key, nc->cf_vault_key) },
		{ "listen on", decide_same_listens(o, nc) },
		{ "control socket", decide_same(o->cf_control, nc->cf_control) },
		{ "user", decide_same(o->cf_user, nc->cf_user) },
		{ "admin group", decide_same(o->cf_admin_group,
		    nc->cf_admin_group) },
		{ "chroot", decide_same(o->cf_chroot, nc->cf_chroot) },
		{ "recordings", decide_same(o->cf_recordings,
		    nc->cf_recordings) },
		{ "recording key", decide_same(o->cf_recording_key,
		    nc->cf_recording_key) },
		{ "recording min-free", o->cf_recording_min_free ==
		    nc->cf_recording_min_free && o->cf_recording_min_free_pct ==
		    nc->cf_recording_min_free_pct },
		{ "host key", decide_same_hostkeys(o, nc) },
		{ "log facility", o->cf_facility == nc->cf_facility },
		{ "max sessions", o->cf_max_sessions == nc->cf_max_sessions },
		{ "webhook", decide_same(o->cf_webhook, nc->cf_webhook) &&
		    decide_same(o->cf_webhook_ca, nc->cf_webhook_ca) &&
		    o->cf_webhook_timeout == nc->cf_webhook_timeout &&
		    o->cf_webhook_retry == nc->cf_webhook_retry },
	};
	size_t	 i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(s) / sizeof(s[0]) && n < len; i++)
		if (!s[i].same)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n > 0 ? ", " : "", s[i].name);
}

int
monreq_reload(const char *actor, char *err, size_t errlen)
{
	struct pt_config	*ncf;
	struct pt_vendor	*vd;
	struct pt_target	*tg;
	char			 text[128], moved[256];
	int			 nv = 0, nt = 0, cut;

	if ((ncf = config_parse(mon_conf->cf_file)) == NULL) {
		snprintf(err, errlen, "%s", config_errmsg[0] != '\0' ?
		    config_errmsg : "the configuration does not parse");
		mon_audit(actor, "policy.reload.refused", NULL, NULL, NULL,
		    err);
		return -1;
	}
	if (config_check(ncf) == -1) {
		config_free(ncf);
		snprintf(err, errlen, "%s", config_errmsg[0] != '\0' ?
		    config_errmsg : "the configuration refers to files that "
		    "are missing or unsafe: see portierd -n");
		mon_audit(actor, "policy.reload.refused", NULL, NULL, NULL,
		    err);
		return -1;
	}
	/* What the running processes were built on needs a restart. */
	decide_restart_only(mon_conf, ncf, moved, sizeof(moved));
	if (moved[0] != '\0') {
		config_free(ncf);
		snprintf(err, errlen, "%s changed in %s, which a reload cannot "
		    "apply: restart portierd for that (it ends every live "
		    "session), or put back what runs now", moved,
		    mon_conf->cf_file);
		mon_audit(actor, "policy.reload.refused", NULL, NULL, NULL,
		    err);
		return -1;
	}
	config_free(mon_conf);
	mon_conf = ncf;
	TAILQ_FOREACH(vd, &ncf->cf_vendors, vd_entry)
		nv++;
	TAILQ_FOREACH(tg, &ncf->cf_targets, tg_entry)
		nt++;
	snprintf(text, sizeof(text), "%d vendors, %d targets", nv, nt);
	mon_audit(actor, "policy.reload", NULL, NULL, NULL, text);
	cut = monreq_reevaluate("The access policy changed and no longer "
	    "allows this session.");
	monrec_purge();		/* the retention may be shorter now */
	snprintf(err, errlen, "policies reloaded: %s; %d live session%s "
	    "ended", text, cut, cut == 1 ? "" : "s");
	log_info("%s", err);
	return 0;
}

static int
decide_reload(struct monctl *c, struct msg_in *mi)
{
	char	 text[700];

	if (m_end(mi) == -1)
		return -1;
	if (monreq_reload(c->c_actor, text, sizeof(text)) == -1)
		return monctl_error(c, "reload refused, the policies in force "
		    "stay: %s", text);
	return monctl_ok(c, "%s", text);
}

int
mondecide_dispatch(struct monctl *c, struct msg_in *mi)
{
	switch (mi->mi_type) {
	case MSG_CTL_REQUESTS:
		return decide_requests(c, mi);
	case MSG_CTL_APPROVE:
		return decide_approve(c, mi);
	case MSG_CTL_DENY:
		return decide_deny(c, mi);
	case MSG_CTL_REVIEW:
		return decide_review(c, mi);
	case MSG_CTL_GRANTS:
		return decide_grants(c, mi);
	case MSG_CTL_REVOKE:
		return decide_revoke(c, mi);
	case MSG_CTL_SESSIONS:
		return decide_sessions(c, mi);
	case MSG_CTL_KILL:
		return decide_kill(c, mi);
	case MSG_CTL_RELOAD:
		return decide_reload(c, mi);
	case MSG_CTL_RECORDINGS:
	case MSG_CTL_RECORDING_HOLD:
		return monrec_dispatch(c, mi);
	default:
		return -1;
	}
}
