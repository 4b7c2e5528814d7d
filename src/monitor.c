/*
 * monitor.c: the privileged process that decides.
 *
 * It owns the store, the vault key, PAM and (later) TOTP seeds, and holds
 * no network socket.  Session processes ask it questions over typed
 * messages; a table says which question may come in which state of the
 * session, as OpenSSH's monitor does: a session may ask to authenticate
 * before it asks for a target, never the reverse, and one question at a
 * time.  Any message out of turn or malformed cuts the session off, asks
 * the parent to kill it, and leaves an audit row.
 *
 * Every decision is written to the audit trail before it is answered.  If
 * the audit trail cannot be written, the monitor stops: the daemon fails
 * closed rather than let an access go unrecorded.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "portier.h"
#include "msg.h"
#include "store.h"

static struct msessions	 msessions = TAILQ_HEAD_INITIALIZER(msessions);

struct pt_config	*mon_conf;
struct store		*mon_store;
#define conf	mon_conf
#define store	mon_store
struct event_base	*mon_base;
#define base	mon_base
struct msgchan		*mon_parent;
static struct msgchan	*control_chan;
#define parent_chan	mon_parent

static int	mon_hello(struct msession *, struct msg_in *);
static int	mon_bye(struct msession *, struct msg_in *);

/* Which request a session may send, and when. */
static const struct mon_dispatch {
	enum msg_type	 md_type;
	int		 md_states;
	int		 (*md_fn)(struct msession *, struct msg_in *);
} mon_dispatch[] = {
	{ MSG_MON_HELLO,		MS_NEW,		mon_hello },
	{ MSG_MON_AUTH_PASSWORD,	MS_HELLO,	monauth_password },
	{ MSG_MON_AUTH_CODE,		MS_PASSWORD_OK,	monauth_code },
	{ MSG_MON_TARGETS,		MS_AUTHED,	monauth_targets },
	{ MSG_MON_AUTHZ,		MS_AUTHED,	monauth_authz },
	{ MSG_MON_PERMS,		MS_AUTHED,	monauth_perms },
	{ MSG_MON_HOSTKEY,		MS_AUTHZ,	monauth_hostkey },
	{ MSG_MON_CRED,			MS_HOSTKEY_OK,	monauth_cred },
	{ MSG_MON_REQUEST,		MS_AUTHED,	monreq_file },
	{ MSG_MON_REQUESTS,		MS_AUTHED,	monreq_mine },
	{ MSG_MON_REQUEST_CANCEL,	MS_WAIT,	monreq_cancel },
	{ MSG_MON_STATS,		MS_AUTHZ | MS_HOSTKEY_OK | MS_RELAY,
					monreq_stats },
	{ MSG_MON_BYE,			~MS_NEW,	mon_bye },
};

#define MON_CUT_GRACE	5	/* seconds a session has to end by itself */
#define MON_END_GRACE	15	/* after its window, before it is killed */
#define MON_EXPIRE_EVERY 60	/* seconds between sweeps of the queue */

/* ---- audit ------------------------------------------------------------- */

void
mon_audit(const char *actor, const char *event, const char *target,
    const char *source, const char *session, const char *reason)
{
	struct audit_rec	 ar;

	memset(&ar, 0, sizeof(ar));
	ar.actor = actor != NULL && *actor != '\0' ? actor : "portierd";
	ar.event = event;
	ar.target = target;
	ar.source = source;
	ar.session = session;
	ar.reason = reason;
	if (audit_append(store, &ar) != 0) {
		log_alert("audit trail cannot be written (%s); stopping: no "
		    "access may go unrecorded", store_error(store));
		exit(1);
	}
	/* Row and hash first: an anchor for "audit verify --anchor". */
	log_info("audit: %s row=%lld:%.16s actor=%s%s%s%s%s%s%s", event,
	    (long long)ar.id, ar.hash, ar.actor,
	    target ? " target=" : "", target ? target : "",
	    session ? " session=" : "", session ? session : "",
	    reason ? " reason=" : "", reason ? reason : "");
}

/* ---- sessions ---------------------------------------------------------- */

struct msession *
mon_session_find(const char *sid)
{
	struct msession	*ms;

	TAILQ_FOREACH(ms, &msessions, ms_entry)
		if (strcmp(ms->ms_sid, sid) == 0)
			return ms;
	return NULL;
}

struct msession *
mon_session_first(void)
{
	return TAILQ_FIRST(&msessions);
}

struct msession *
mon_session_next(struct msession *ms)
{
	return TAILQ_NEXT(ms, ms_entry);
}

static void
mon_session_free(struct msession *ms)
{
	if (ms->ms_state == MS_WAIT)
		monreq_session_gone(ms);
	if (ms->ms_cut_ev != NULL)
		event_free(ms->ms_cut_ev);
	if (ms->ms_end_ev != NULL)
		event_free(ms->ms_end_ev);
	TAILQ_REMOVE(&msessions, ms, ms_entry);
	pam_job_cancel(ms->ms_pam);
	monagent_free(ms->ms_agent);
	msgchan_free(ms->ms_chan);
	free(ms);
}

void
mon_kill(struct msession *ms, const char *why)
{
	struct msg	*m;

	m = m_create(MSG_PARENT_KILL, 0, -1);
	m_add_str(m, ms->ms_sid);
	m_add_str(m, why);
	msgchan_send(parent_chan, m);
}

/* The session did not end when told to, or outlived its window. */
static void
mon_overdue(struct msession *ms, const char *why)
{
	log_warnx("session %s %s; killing it", ms->ms_sid, why);
	mon_audit(ms->ms_user, "session.overdue", ms->ms_target[0] != '\0' ?
	    ms->ms_target : NULL, ms->ms_peer, ms->ms_sid, why);
	mon_kill(ms, why);
}

static void
mon_cut_overdue(evutil_socket_t fd, short ev, void *arg)
{
	mon_overdue(arg, "did not end when told to");
}

static void
mon_end_overdue(evutil_socket_t fd, short ev, void *arg)
{
	mon_overdue(arg, "outlived its window");
}

void
mon_cut(struct msession *ms, const char *text)
{
	struct msg	*m;
	struct timeval	 tv = { MON_CUT_GRACE, 0 };

	if (ms->ms_gone) {
		mon_kill(ms, text);
		return;
	}
	m = m_create(MSG_MON_CUT, 0, -1);
	m_add_str(m, text);
	msgchan_send(ms->ms_chan, m);
	if (ms->ms_cut_ev == NULL)
		ms->ms_cut_ev = evtimer_new(base, mon_cut_overdue, ms);
	if (ms->ms_cut_ev != NULL && !evtimer_pending(ms->ms_cut_ev, NULL))
		evtimer_add(ms->ms_cut_ev, &tv);
}

/*
 * The session closes itself at the end of its window; should it not, the
 * monitor has it killed a little later.  A window that moves (a reload,
 * a later grant) is told to the session.
 */
void
mon_window_set(struct msession *ms, time_t end)
{
	struct timeval	 tv;
	struct msg	*m;
	time_t		 now = time(NULL);
	char		 when[32], text[160];

	if (ms->ms_window_end != 0 && ms->ms_window_end != end &&
	    !ms->ms_gone) {
		snprintf(text, sizeof(text), "Your maintenance window now ends "
		    "at %s.", policy_when(end, monauth_tz(ms->ms_user), when,
		    sizeof(when)));
		m = m_create(MSG_MON_WINDOW, 0, -1);
		m_add_i64(m, (int64_t)end);
		m_add_str(m, text);
		msgchan_send(ms->ms_chan, m);
	}
	ms->ms_window_end = end;
	if (ms->ms_end_ev == NULL &&
	    (ms->ms_end_ev = evtimer_new(base, mon_end_overdue, ms)) == NULL)
		return;
	tv.tv_sec = end > now ? end - now + MON_END_GRACE : MON_END_GRACE;
	tv.tv_usec = 0;
	evtimer_add(ms->ms_end_ev, &tv);
}

/*
 * A target was authorised: the parent files the recording under it and
 * the recorder writes who the vendor is, from here, not from the session.
 */
void
mon_rec_target(struct msession *ms)
{
	struct pt_vendor	*vd;
	struct msg		*m;

	vd = config_vendor_of_user(conf, ms->ms_user);
	m = m_create(MSG_PARENT_REC_TARGET, 0, -1);
	m_add_str(m, ms->ms_sid);
	m_add_str(m, ms->ms_target);
	m_add_str(m, ms->ms_user);
	m_add_str(m, vd != NULL ? vd->vd_name : "");
	msgchan_send(parent_chan, m);
}

static int
mon_session_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct msession	*ms = mc->mc_arg;
	size_t		 i;

	for (i = 0; i < sizeof(mon_dispatch) / sizeof(mon_dispatch[0]); i++) {
		if (mon_dispatch[i].md_type != mi->mi_type)
			continue;
		if ((mon_dispatch[i].md_states & ms->ms_state) == 0)
			return -1;
		return mon_dispatch[i].md_fn(ms, mi);
	}
	return -1;
}

static void
mon_session_closed(struct msgchan *mc, const char *why)
{
	struct msession	*ms = mc->mc_arg;

	ms->ms_gone = 1;
	pam_job_cancel(ms->ms_pam);
	ms->ms_pam = NULL;
	if (strncmp(why, "protocol violation", 18) == 0) {
		log_warnx("session %s: %s; cutting it off", ms->ms_sid, why);
		mon_audit(ms->ms_user, "session.violation", NULL, ms->ms_peer,
		    ms->ms_sid, why);
		mon_kill(ms, why);
	}
	/* The record stays until the parent reports the process gone. */
}

static int
mon_hello(struct msession *ms, struct msg_in *mi)
{
	char	 sid[PT_SID_LEN + 1];

	if (m_get_str(mi, sid, sizeof(sid)) == -1 || m_end(mi) == -1)
		return -1;
	if (strcmp(sid, ms->ms_sid) != 0)
		return -1;
	ms->ms_state = MS_HELLO;
	return 0;
}

/* ---- the parent -------------------------------------------------------- */

static int
mon_session_new(struct msg_in *mi)
{
	struct msession	*ms;
	char		 local[80];
	uint32_t	 pid;
	int		 fd;

	ms = xcalloc(1, sizeof(*ms));
	if (m_get_str(mi, ms->ms_sid, sizeof(ms->ms_sid)) == -1 ||
	    m_get_str(mi, ms->ms_peer, sizeof(ms->ms_peer)) == -1 ||
	    m_get_str(mi, local, sizeof(local)) == -1 ||
	    m_get_u32(mi, &pid) == -1 || (fd = m_take_fd(mi)) == -1) {
		free(ms);
		return -1;
	}
	if (m_end(mi) == -1 || mon_session_find(ms->ms_sid) != NULL) {
		close(fd);
		free(ms);
		return -1;
	}
	ms->ms_pid = (pid_t)pid;
	ms->ms_state = MS_NEW;
	ms->ms_since = time(NULL);
	ms->ms_chan = msgchan_new(base, fd, ms->ms_sid, mon_session_dispatch,
	    mon_session_closed, ms);
	TAILQ_INSERT_TAIL(&msessions, ms, ms_entry);
	if (store_session_begin(store, ms->ms_sid, ms->ms_peer,
	    ms->ms_pid) != 0)
		log_warnx("session %s: store: %s", ms->ms_sid,
		    store_error(store));
	mon_audit(NULL, "session.connect", NULL, ms->ms_peer, ms->ms_sid,
	    local);
	return 0;
}

/*
 * The session says why it ends ("vendor disconnected", "window over",
 * "target SSH handshake failed: ...") for the session.end row.  Its
 * words, from a sandboxed process: kept short and printable.
 */
static int
mon_bye(struct msession *ms, struct msg_in *mi)
{
	char	 why[sizeof(ms->ms_bye)];
	size_t	 i;

	if (m_get_str(mi, why, sizeof(why)) == -1 || m_end(mi) == -1)
		return -1;
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
			why[i] = ' ';
	strlcpy(ms->ms_bye, why, sizeof(ms->ms_bye));
	return 0;
}

static int
mon_session_end(struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], how[256];
	struct msession	*ms;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, how, sizeof(how)) == -1 || m_end(mi) == -1)
		return -1;
	if ((ms = mon_session_find(sid)) == NULL)
		return 0;
	/* A clean exit: the session's own word on why, if it gave one
	 * (sent before it exited, perhaps not read yet). */
	if (ms->ms_chan != NULL)
		msgchan_drain(ms->ms_chan);
	if (strcmp(how, "closed") == 0 && ms->ms_bye[0] != '\0')
		strlcpy(how, ms->ms_bye, sizeof(how));
	if (store_session_end(store, sid, how) < 0)
		log_warnx("session %s: store: %s", sid, store_error(store));
	mon_audit(ms->ms_user, "session.end", ms->ms_target[0] ?
	    ms->ms_target : NULL, ms->ms_peer, sid, how);
	mon_session_free(ms);
	return 0;
}

/* A recording was sealed, or failed: its length and hash, audited, make
 * a deleted or truncated file evident. */
static int
mon_rec_sealed(struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], path[256], target[PT_NAME_MAX];
	char		 text[256], reason[1024];
	uint32_t	 ok;
	int64_t		 bytes;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, path, sizeof(path)) == -1 ||
	    m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_u32(mi, &ok) == -1 || m_get_i64(mi, &bytes) == -1 ||
	    m_get_str(mi, text, sizeof(text)) == -1 || m_end(mi) == -1)
		return -1;
	snprintf(reason, sizeof(reason), "file=%s/%s bytes=%lld %s%s",
	    conf->cf_recordings, path, (long long)bytes,
	    ok ? "sha256=" : "error=", text);
	mon_audit(NULL, ok ? "recording.sealed" : "recording.failed",
	    target[0] != '\0' ? target : NULL, NULL, sid, reason);
	monrec_sealed(sid, path, ok, bytes, text);
	return 0;
}

static int
mon_parent_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	char	 why[600];

	switch (mi->mi_type) {
	case MSG_MON_SESSION_NEW:
		return mon_session_new(mi);
	case MSG_MON_SESSION_END:
		return mon_session_end(mi);
	case MSG_MON_RELOAD:
		if (m_end(mi) == -1)
			return -1;
		if (monreq_reload("portierd", why, sizeof(why)) == -1)
			log_warnx("reload refused, the policies in force stay: "
			    "%s", why);
		return 0;
	case MSG_REC_SEALED:
		return mon_rec_sealed(mi);
	default:
		return -1;
	}
}

static void
mon_core_closed(struct msgchan *mc, const char *why)
{
	/* The parent or control is gone: so is the daemon. */
	log_warnx("channel to %s closed: %s", mc->mc_name, why);
	event_base_loopexit(base, NULL);
}

/* ---- the control process ------------------------------------------------ */

#define AUDIT_PAGE	256	/* rows per answer: bounded queues */

struct audit_walk {
	uint32_t	 aw_id;
	int64_t		 aw_after;
	int64_t		 aw_last;
	int		 aw_rows;
};

static int
mon_ctl_row(const struct audit_rec *ar, void *arg)
{
	struct audit_walk	*aw = arg;
	struct msg		*m;

	if (ar->id <= aw->aw_after)
		return 0;
	if (aw->aw_rows == AUDIT_PAGE)
		return 1;
	aw->aw_last = ar->id;
	m = m_create(MSG_CTL_AUDIT_ROW, aw->aw_id, -1);
	m_add_i64(m, ar->id);
	m_add_i64(m, ar->time);
	m_add_str(m, ar->actor);
	m_add_str(m, ar->event);
	m_add_str(m, ar->target);
	m_add_str(m, ar->source);
	m_add_str(m, ar->session);
	m_add_str(m, ar->reason);
	m_add_str(m, ar->hash);
	aw->aw_rows++;
	return msgchan_send(control_chan, m) == -1 ? -1 : 0;
}

int
mon_vault_key(uint8_t key[VAULT_KEY_LEN])
{
	char	 err[256];

	if (vault_key_load(conf->cf_vault_key, key, err, sizeof(err)) != 0) {
		log_warnx("vault key: %s", err);
		return -1;
	}
	return 0;
}

static int	mon_control_request(struct msgchan *, struct msg_in *);

/*
 * A malformed administrator's request (an old portierctl, a bug) gets an
 * error; it must not take the daemon down with the control channel.
 */
static int
mon_control_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct msg	*m;

	if (mon_control_request(mc, mi) == -1 || mi->mi_err) {
		log_warnx("control: malformed %s request", msg_name(mi->mi_type));
		m = m_create(MSG_CTL_ERROR, mi->mi_id, -1);
		m_add_str(m, "malformed request: is portierctl the same version "
		    "as portierd?");
		msgchan_send(mc, m);
		mi->mi_err = 0;
		mi->mi_p = mi->mi_end;
	}
	return 0;
}

static int
mon_control_request(struct msgchan *mc, struct msg_in *mi)
{
	struct audit_walk	 aw = { mi->mi_id, 0, 0, 0 };
	struct msg		*m;
	int64_t			 since, nrows = 0, bad = 0, anchor_id;
	char			 why[256] = "", anchor[AUDIT_HASH_LEN + 1];
	char			 head[AUDIT_HASH_LEN + 1];
	int			 rc;

	if ((rc = monctl_dispatch(mc, mi)) != 1)
		return rc;
	switch (mi->mi_type) {
	case MSG_CTL_AUDIT:
		if (m_get_i64(mi, &since) == -1 ||
		    m_get_i64(mi, &aw.aw_after) == -1 || m_end(mi) == -1)
			return -1;
		rc = audit_list(store, since, mon_ctl_row, &aw);
		if (rc < 0) {
			m = m_create(MSG_CTL_ERROR, mi->mi_id, -1);
			m_add_str(m, store_error(store));
			msgchan_send(mc, m);
		} else if (rc == 1) {
			m = m_create(MSG_CTL_AUDIT_MORE, mi->mi_id, -1);
			m_add_i64(m, aw.aw_last);
			msgchan_send(mc, m);
		} else
			msgchan_send(mc, m_create(MSG_CTL_END, mi->mi_id, -1));
		return 0;
	case MSG_CTL_AUDIT_VERIFY:
		if (m_get_i64(mi, &anchor_id) == -1 ||
		    m_get_str(mi, anchor, sizeof(anchor)) == -1 ||
		    m_end(mi) == -1 || strspn(anchor, "0123456789abcdef") !=
		    strlen(anchor) || (anchor_id > 0) != (anchor[0] != '\0'))
			return -1;
		rc = audit_verify_anchor(store, anchor_id, anchor, &nrows,
		    &bad, head, why, sizeof(why));
		if (rc < 0) {
			m = m_create(MSG_CTL_ERROR, mi->mi_id, -1);
			m_add_str(m, why);
			msgchan_send(mc, m);
			return 0;
		}
		m = m_create(MSG_CTL_AUDIT_VERIFY_RESULT, mi->mi_id, -1);
		m_add_u32(m, rc == 0);
		m_add_i64(m, nrows);
		m_add_i64(m, bad);
		m_add_str(m, why);
		m_add_str(m, head);
		msgchan_send(mc, m);
		if (rc != 0)
			log_alert("audit chain broken at row %lld: %s",
			    (long long)bad, why);
		return 0;
	default:
		return -1;
	}
}

/* ---- main -------------------------------------------------------------- */

static void
mon_signal(evutil_socket_t sig, short ev, void *arg)
{
	event_base_loopexit(base, NULL);
}

static void
mon_expire(evutil_socket_t fd, short ev, void *arg)
{
	static int	 ticks;

	monreq_expire();
	/* Recordings past their retention: once an hour. */
	if (ticks++ % (3600 / MON_EXPIRE_EVERY) == 0)
		monrec_purge();
}

void
monitor_run(struct pt_config *cf, int parent_fd, int control_fd)
{
	char		 err[256];
	uint8_t		 key[VAULT_KEY_LEN];
	struct event	*ev, *expire_ev;
	struct timeval	 expire_tv = { MON_EXPIRE_EVERY, 0 };
	struct msession	*ms;
	int		 n;

	conf = cf;
	if (store_open(cf->cf_store, &store, err, sizeof(err)) != 0)
		fatalx("store %s: %s", cf->cf_store, err);
	/* Check the vault key now, so a bad one stops the start. */
	if (vault_key_load(cf->cf_vault_key, key, err, sizeof(err)) != 0)
		fatalx("vault key: %s", err);
	explicit_bzero(key, sizeof(key));
	if ((n = store_session_end_all(store,
	    "portierd stopped while the session was live")) > 0)
		log_warnx("%d sessions were live when portierd last stopped",
		    n);

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	parent_chan = msgchan_new(base, parent_fd, "parent",
	    mon_parent_dispatch, mon_core_closed, NULL);
	control_chan = msgchan_new(base, control_fd, "control",
	    mon_control_dispatch, mon_core_closed, NULL);
	ev = evsignal_new(base, SIGTERM, mon_signal, NULL);
	event_add(ev, NULL);
	expire_ev = event_new(base, -1, EV_PERSIST, mon_expire, NULL);
	event_add(expire_ev, &expire_tv);
	monreq_expire();
	signal(SIGINT, SIG_IGN);

	mon_audit(NULL, "daemon.start", NULL, NULL, NULL, PORTIER_VERSION);
	event_base_dispatch(base);
	while ((ms = TAILQ_FIRST(&msessions)) != NULL) {
		store_session_end(store, ms->ms_sid, "portierd stopped");
		mon_audit(ms->ms_user, "session.end", NULL, ms->ms_peer,
		    ms->ms_sid, "portierd stopped");
		mon_session_free(ms);
	}
	mon_audit(NULL, "daemon.stop", NULL, NULL, NULL, NULL);
	event_free(ev);
	event_free(expire_ev);
	msgchan_free(parent_chan);
	msgchan_free(control_chan);
	event_base_free(base);
	store_close(store);
	exit(0);
}
