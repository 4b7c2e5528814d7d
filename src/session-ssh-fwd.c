/*
 * session-ssh-fwd.c: what a session forwards besides its own channel,
 * where the vendor's policy allows it on the target (PT_FWD_*):
 *
 *	ssh -L, -D	the vendor opens direct-tcpip channels; each is
 *			opened on the target, whose sshd connects
 *	ssh -R		the vendor's tcpip-forward is asked of the target;
 *			the forwarded-tcpip channels it opens reach the vendor
 *	ssh -A		auth-agent-req is passed on; the target's agent
 *			channels reach the vendor's agent, never the
 *			monitor's, which only ever signs the login
 *	ssh -X, -Y	x11-req is passed on with the vendor's own cookie
 *			(a fake one: the vendor's client puts the real one
 *			back); the target's x11 channels reach the vendor
 *
 * Each forwarded connection is a pair of channels relayed like the
 * session's own: bounded queues, writes within the peer's window.  The
 * recording gets a line when a pair opens and when it closes, with its
 * byte counts; what passes through it is not recorded.
 *
 * Requests that come before the target is connected (-A, -X and -R come
 * right after the login) are answered from what the monitor said of the
 * target named at login, kept, and asked of the target once it is
 * connected; the monitor's final word (MSG_MON_AUTHZ_RESULT) is checked
 * again then.  Without a target in the login they are refused.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portier.h"
#include "msg.h"
#include "session.h"
#include "session-ssh.h"

#define FWD_MAX		32		/* pairs open at once */
#define FWD_LISTEN_MAX	8		/* ssh -R ports */
#define FWD_HWM		(256u << 10)	/* bytes queued per direction */
#define FWD_OPEN_WAIT	30		/* seconds for the far side to open */
/*
 * ssh -N -R opens no channel at all: a session with ports to forward and
 * no session channel this long after its last tcpip-forward is taken as
 * forwarding only.  OpenSSH sends the session channel right behind its
 * forwarding requests, without waiting for their answers.
 */
#define FWD_ONLY_AFTER	3

enum fwd_open {
	FO_NONE,	/* both sides open */
	FO_WAIT,	/* ssh -N: for the session to reach its target */
	FO_TARGET,	/* direct-tcpip, on the target */
	FO_REVERSE,	/* forwarded-tcpip, to the vendor */
	FO_X11,
	FO_AGENT,
};

struct fwd {
	int		 fw_used;
	int		 fw_id;		/* #N in the recording */
	int		 fw_kind;	/* PT_FWD_* */
	enum fwd_open	 fw_opening;
	time_t		 fw_since;
	ssh_channel	 fw_ch[2];	/* 0: the vendor's, 1: the target's */
	struct bq	 fw_q[2];	/* 0: to the target, 1: to the vendor */
	int		 fw_pending[2];	/* libssh holds more from side i */
	int		 fw_eof[2];	/* side i's EOF passed on */
	int		 fw_closed[2];	/* side i closed */
	uint64_t	 fw_bytes[2];	/* taken from side i: 0 vendor, 1 target */
	char		 fw_host[256];	/* where to, as asked */
	int		 fw_port;
	char		 fw_orig[64];
	int		 fw_oport;
	struct ssh_channel_callbacks_struct fw_cb[2];
};

struct fwd_listen {
	char		 fl_addr[256];
	int		 fl_port;
	int		 fl_up;		/* the target listens */
	int		 fl_cancelled;
};

struct fwdtab {
	struct fwd		 t_fwd[FWD_MAX];
	int			 t_next_id;
	struct fwd_listen	 t_listen[FWD_LISTEN_MAX];
	int			 t_nlisten;
	time_t			 t_listen_at;	/* the last one asked */
	int			 t_agent;	/* the vendor asked for -A */
	int			 t_x11;		/* ... for -X */
	int			 t_x11_single, t_x11_screen;
	char			*t_x11_proto, *t_x11_cookie;
	int			 t_busy;	/* pump() running (libssh polls) */
};

static int	fwd_target_side(struct sshf *, struct fwd *);

static struct fwdtab *
fwd_tab(struct sshf *f)
{
	if (f->f_fwd == NULL)
		f->f_fwd = xcalloc(1, sizeof(*f->f_fwd));
	return f->f_fwd;
}

static void
fwd_note(struct sshf *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line in the recording and the log. */
static void
fwd_note(struct sshf *f, const char *fmt, ...)
{
	va_list	 ap;
	char	 text[512];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_info("session %s: %s", f->f_s->s_sid, text);
	session_record(f->f_s, 'm', text, strlen(text));
}

/* ---- the permissions --------------------------------------------------- */

/*
 * After the login, when it named a target: what may be forwarded there.
 * The requests that come before the target is connected are answered
 * from this.
 */
void
sshf_fwd_perms(struct sshf *f)
{
	static struct msg_in	 in;
	struct msg		*m;
	uint32_t		 fwd;

	f->f_fwd_early = 0;
	if (f->f_target[0] == '\0')
		return;
	m = m_create(MSG_MON_PERMS, 0, -1);
	m_add_str(m, f->f_target);
	if (session_call(f->f_s, m, MSG_MON_PERMS_RESULT, 0, &in) == -1)
		return;
	if (m_get_u32(&in, &fwd) == 0 && m_end(&in) == 0)
		f->f_fwd_early = fwd;
	m_in_clear(&in);
}

/* ---- the relay of one pair --------------------------------------------- */

static size_t
fwd_room(struct bq *q)
{
	return q->q_len >= FWD_HWM ? 0 : FWD_HWM - q->q_len;
}

static int
fwd_data(ssh_session sess, ssh_channel c, void *data, uint32_t len,
    int is_stderr, void *arg)
{
	struct fwd	*fw = arg;
	int		 side = c == fw->fw_ch[1];
	struct bq	*q = &fw->fw_q[side];
	size_t		 n;

	if (c != fw->fw_ch[0] && c != fw->fw_ch[1])
		return (int)len;	/* not this pair's (cannot happen) */

	n = len < fwd_room(q) ? len : fwd_room(q);
	if (n > 0)
		bq_push(q, data, n);
	fw->fw_bytes[side] += n;
	if (n < len)
		fw->fw_pending[side] = 1;
	if (fw->fw_opening == FO_NONE)
		bq_flush(q, fw->fw_ch[!side], 0);
	return (int)n;
}

static void
fwd_close(ssh_session sess, ssh_channel c, void *arg)
{
	struct fwd	*fw = arg;

	if (c == fw->fw_ch[0] || c == fw->fw_ch[1])
		fw->fw_closed[c == fw->fw_ch[1]] = 1;
}

static void
fwd_callbacks(struct fwd *fw, int side)
{
	struct ssh_channel_callbacks_struct	*cb = &fw->fw_cb[side];

	memset(cb, 0, sizeof(*cb));
	cb->userdata = fw;
	cb->channel_data_function = fwd_data;
	cb->channel_close_function = fwd_close;
	ssh_callbacks_init(cb);
	ssh_set_channel_callbacks(fw->fw_ch[side], cb);
}

static struct fwd *
fwd_new(struct sshf *f, int kind, const char *host, int port,
    const char *orig, int oport)
{
	struct fwdtab	*t = fwd_tab(f);
	struct fwd	*fw;
	int		 i;

	for (i = 0; i < FWD_MAX; i++)
		if (!t->t_fwd[i].fw_used)
			break;
	if (i == FWD_MAX) {
		fwd_note(f, "forward refused: %d forwarded connections are "
		    "open already", FWD_MAX);
		return NULL;
	}
	fw = &t->t_fwd[i];
	memset(fw, 0, sizeof(*fw));
	fw->fw_used = 1;
	fw->fw_id = ++t->t_next_id;
	fw->fw_kind = kind;
	fw->fw_since = time(NULL);
	strlcpy(fw->fw_host, host != NULL ? host : "", sizeof(fw->fw_host));
	fw->fw_port = port;
	strlcpy(fw->fw_orig, orig != NULL ? orig : "", sizeof(fw->fw_orig));
	fw->fw_oport = oport;
	return fw;
}

/* Ask again for the side being opened: SSH_OK, SSH_AGAIN, SSH_ERROR. */
static int
fwd_open(struct fwd *fw)
{
	switch (fw->fw_opening) {
	case FO_TARGET:
		return ssh_channel_open_forward(fw->fw_ch[1], fw->fw_host,
		    fw->fw_port, fw->fw_orig, fw->fw_oport);
	case FO_REVERSE:
		return ssh_channel_open_reverse_forward(fw->fw_ch[0],
		    fw->fw_host, fw->fw_port, fw->fw_orig, fw->fw_oport);
	case FO_X11:
		return ssh_channel_open_x11(fw->fw_ch[0], fw->fw_orig,
		    fw->fw_oport);
	case FO_AGENT:
		return ssh_channel_open_auth_agent(fw->fw_ch[0]);
	default:
		return SSH_OK;
	}
}

static void
fwd_opened(struct sshf *f, struct fwd *fw)
{
	if (fw->fw_kind == PT_FWD_LOCAL || fw->fw_kind == PT_FWD_REMOTE)
		fwd_note(f, "forward #%d opened: %s to %s:%d (from %s:%d)",
		    fw->fw_id, config_fwd_name(fw->fw_kind), fw->fw_host,
		    fw->fw_port, fw->fw_orig, fw->fw_oport);
	else
		fwd_note(f, "forward #%d opened: %s channel from the target",
		    fw->fw_id, config_fwd_name(fw->fw_kind));
}

/* Both channels closed, the pair freed, the recording told. */
static void
fwd_end(struct sshf *f, struct fwd *fw, const char *why)
{
	int	 i;

	if (fw->fw_opening != FO_NONE)
		fwd_note(f, "forward #%d: %s to %s:%d %s", fw->fw_id,
		    config_fwd_name(fw->fw_kind), fw->fw_host, fw->fw_port,
		    why);
	else
		fwd_note(f, "forward #%d closed: %llu bytes to the target, "
		    "%llu back%s%s", fw->fw_id,
		    (unsigned long long)fw->fw_bytes[0],
		    (unsigned long long)fw->fw_bytes[1], why[0] ? "; " : "",
		    why);
	for (i = 0; i < 2; i++) {
		if (fw->fw_ch[i] != NULL) {
			/*
			 * libssh keeps a channel until the peer's close comes:
			 * its callbacks must not reach this slot's next pair.
			 */
			ssh_remove_channel_callbacks(fw->fw_ch[i],
			    &fw->fw_cb[i]);
			if (ssh_channel_is_open(fw->fw_ch[i]))
				ssh_channel_close(fw->fw_ch[i]);
			ssh_channel_free(fw->fw_ch[i]);
		}
		free(fw->fw_q[i].q_buf);
	}
	memset(fw, 0, sizeof(*fw));
}

/* What libssh kept of side I's data, into its queue. */
static void
fwd_drain(struct fwd *fw, int i)
{
	static uint8_t	 buf[16384];
	size_t		 want;
	int		 n;

	while (fw->fw_pending[i] && fwd_room(&fw->fw_q[i]) > 0) {
		want = fwd_room(&fw->fw_q[i]) < sizeof(buf) ?
		    fwd_room(&fw->fw_q[i]) : sizeof(buf);
		n = ssh_channel_read_nonblocking(fw->fw_ch[i], buf,
		    (uint32_t)want, 0);
		if (n <= 0) {
			fw->fw_pending[i] = 0;
			break;
		}
		bq_push(&fw->fw_q[i], buf, (size_t)n);
		fw->fw_bytes[i] += (size_t)n;
	}
}

/* Move one pair's bytes; 1 when it is over. */
static int
fwd_pump_one(struct sshf *f, struct fwd *fw)
{
	int	 i, rc;

	if (fw->fw_opening == FO_WAIT) {
		if (f->f_state != SS_RELAY)
			return 0;
		if (fwd_target_side(f, fw) == -1)
			return 1;
	}
	if (fw->fw_opening != FO_NONE) {
		rc = fwd_open(fw);
		if (rc == SSH_AGAIN) {
			if (time(NULL) - fw->fw_since > FWD_OPEN_WAIT) {
				fwd_end(f, fw, "not answered in time");
				return 1;
			}
			return 0;
		}
		if (rc != SSH_OK) {
			fwd_end(f, fw, fw->fw_opening == FO_TARGET ?
			    "refused by the target" : "refused by the vendor");
			return 1;
		}
		fw->fw_opening = FO_NONE;
		fwd_opened(f, fw);
	}
	for (i = 0; i < 2; i++) {
		bq_flush(&fw->fw_q[i], fw->fw_ch[!i], 0);
		fwd_drain(fw, i);
		bq_flush(&fw->fw_q[i], fw->fw_ch[!i], 0);
	}
	for (i = 0; i < 2; i++) {
		/* Side i said EOF and all it sent has gone on: pass it. */
		if (!fw->fw_eof[i] && ssh_channel_is_eof(fw->fw_ch[i]) &&
		    fw->fw_q[i].q_len == 0 && !fw->fw_pending[i] &&
		    ssh_channel_is_open(fw->fw_ch[!i])) {
			ssh_channel_send_eof(fw->fw_ch[!i]);
			fw->fw_eof[i] = 1;
		}
	}
	for (i = 0; i < 2; i++) {
		if (!fw->fw_closed[i] && !ssh_channel_is_closed(fw->fw_ch[i]))
			continue;
		/* Side i is gone: the other gets what is left, then ends. */
		if ((fw->fw_q[i].q_len == 0 && !fw->fw_pending[i]) ||
		    !ssh_channel_is_open(fw->fw_ch[!i])) {
			fwd_end(f, fw, "");
			return 1;
		}
	}
	return 0;
}

void
sshf_fwd_pump(struct sshf *f)
{
	struct fwdtab	*t = f->f_fwd;
	int		 i;

	if (t == NULL || t->t_busy)
		return;
	t->t_busy = 1;
	for (i = 0; i < FWD_MAX; i++)
		if (t->t_fwd[i].fw_used)
			(void)fwd_pump_one(f, &t->t_fwd[i]);
	t->t_busy = 0;
}

/* ---- what the vendor asks ---------------------------------------------- */

/*
 * ssh -N: a direct-tcpip channel before any session channel.  The
 * connection is for forwarding only: ask the monitor for the target
 * named at login, as a shell would.
 */
static int
fwd_only(struct sshf *f)
{
	if (f->f_req == REQ_FORWARD)
		return f->f_state != SS_CLOSING;
	if (f->f_req != REQ_NONE || f->f_dch != NULL ||
	    f->f_target[0] == '\0' || !(f->f_fwd_early & PT_FWD_LOCAL))
		return 0;
	f->f_req = REQ_FORWARD;
	f->f_begin = 1;
	return 1;
}

/* Open the target's side of a vendor's direct-tcpip channel. */
static int
fwd_target_side(struct sshf *f, struct fwd *fw)
{
	if (!(f->f_fwd_allow & PT_FWD_LOCAL)) {
		fwd_end(f, fw, "not allowed by the policy");
		return -1;
	}
	if ((fw->fw_ch[1] = ssh_channel_new(f->f_up)) == NULL) {
		fwd_end(f, fw, "out of memory");
		return -1;
	}
	fwd_callbacks(fw, 1);
	fw->fw_opening = FO_TARGET;
	return 0;
}

/* ssh -L, -D: a direct-tcpip channel from the vendor. */
static int
fwd_direct(struct sshf *f, ssh_message m)
{
	struct fwd	*fw;
	const char	*host = ssh_message_channel_request_open_destination(m);
	const char	*orig = ssh_message_channel_request_open_originator(m);
	int		 port, oport, relay = f->f_state == SS_RELAY;

	port = ssh_message_channel_request_open_destination_port(m);
	oport = ssh_message_channel_request_open_originator_port(m);
	if (host == NULL || (relay ? !(f->f_fwd_allow & PT_FWD_LOCAL) :
	    !fwd_only(f))) {
		fwd_note(f, "refused: ssh -L to %s:%d (%s)", host ? host : "?",
		    port, relay || (f->f_target[0] != '\0' &&
		    f->f_dch == NULL) ? "not allowed by the policy" :
		    "the session is not connected to its target yet");
		ssh_message_reply_default(m);
		return 0;
	}
	if ((fw = fwd_new(f, PT_FWD_LOCAL, host, port, orig, oport)) == NULL) {
		ssh_message_reply_default(m);
		return 0;
	}
	if ((fw->fw_ch[0] = ssh_channel_new(f->f_down)) == NULL) {
		ssh_message_reply_default(m);
		fwd_end(f, fw, "out of memory");
		return 0;
	}
	fwd_callbacks(fw, 0);
	/* libssh cannot answer later: open now, close if the target says no. */
	if (ssh_message_channel_request_open_reply_accept_channel(m,
	    fw->fw_ch[0]) != SSH_OK) {
		fwd_end(f, fw, "could not be answered");
		return 0;
	}
	if (!relay) {
		fw->fw_opening = FO_WAIT;	/* until the target is there */
		return 0;
	}
	if (fwd_target_side(f, fw) == 0 && !f->f_fwd->t_busy)
		(void)fwd_pump_one(f, fw);
	return 0;
}

/* ssh -R and its cancellation: global requests. */
static int
fwd_global(struct sshf *f, ssh_message m)
{
	struct fwdtab		*t = fwd_tab(f);
	struct fwd_listen	*fl;
	const char		*addr = ssh_message_global_request_address(m);
	int			 port = ssh_message_global_request_port(m), i;

	if (addr == NULL)
		addr = "";
	if (ssh_message_subtype(m) == SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD) {
		for (i = 0; i < t->t_nlisten; i++)
			if (t->t_listen[i].fl_port == port &&
			    strcmp(t->t_listen[i].fl_addr, addr) == 0)
				t->t_listen[i].fl_cancelled = 1;
		ssh_message_global_request_reply_success(m, 0);
		return 0;
	}
	if (ssh_message_subtype(m) != SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
		ssh_message_reply_default(m);
		return 0;
	}
	/*
	 * Asked before the target is connected and answered at once: only
	 * a given port (the one the target would pick cannot be told now).
	 */
	if (!(f->f_fwd_early & PT_FWD_REMOTE) || f->f_state == SS_RELAY ||
	    port <= 0 || port > 65535 || t->t_nlisten == FWD_LISTEN_MAX ||
	    strlen(addr) >= sizeof(fl->fl_addr)) {
		fwd_note(f, "refused: ssh -R port %d (%s)", port,
		    !(f->f_fwd_early & PT_FWD_REMOTE) ? f->f_target[0] ?
		    "not allowed by the policy" : "no target in the login" :
		    f->f_state == SS_RELAY ? "asked after the session "
		    "began" : port <= 0 ? "the port must be given" :
		    "too many");
		ssh_message_reply_default(m);
		return 0;
	}
	fl = &t->t_listen[t->t_nlisten++];
	strlcpy(fl->fl_addr, addr, sizeof(fl->fl_addr));
	fl->fl_port = port;
	t->t_listen_at = time(NULL);
	ssh_message_global_request_reply_success(m, (uint16_t)port);
	return 0;
}

/*
 * The vendor's messages about forwarding; 1 if it was one (answered),
 * 0 if not.
 */
int
sshf_fwd_message(struct sshf *f, ssh_message m)
{
	switch (ssh_message_type(m)) {
	case SSH_REQUEST_CHANNEL_OPEN:
		if (ssh_message_subtype(m) != SSH_CHANNEL_DIRECT_TCPIP)
			return 0;
		fwd_direct(f, m);
		return 1;
	case SSH_REQUEST_GLOBAL:
		fwd_global(f, m);
		return 1;
	default:
		return 0;
	}
}

/* auth-agent-req on the vendor's session channel (if allowed, set). */
static void
fwd_agent_req(ssh_session sess, ssh_channel c, void *arg)
{
	struct sshf	*f = arg;

	fwd_tab(f)->t_agent = 1;
}

/* x11-req: libssh says yes once this callback is set. */
static void
fwd_x11_req(ssh_session sess, ssh_channel c, int single, const char *proto,
    const char *cookie, uint32_t screen, void *arg)
{
	struct sshf	*f = arg;
	struct fwdtab	*t = fwd_tab(f);

	if (t->t_x11 || proto == NULL || cookie == NULL)
		return;
	t->t_x11 = 1;
	t->t_x11_single = single;
	t->t_x11_screen = (int)screen;
	t->t_x11_proto = xstrdup(proto);
	t->t_x11_cookie = xstrdup(cookie);
}

/*
 * The vendor's session channel is being opened: take agent and X11
 * requests on it if the target named at login allows them; without the
 * callbacks libssh refuses them.
 */
void
sshf_fwd_channel(struct sshf *f, struct ssh_channel_callbacks_struct *cb)
{
	if (f->f_fwd_early & PT_FWD_AGENT)
		cb->channel_auth_agent_req_function = fwd_agent_req;
	if (f->f_fwd_early & PT_FWD_X11)
		cb->channel_x11_req_function = fwd_x11_req;
}

/* Once a second or so: ssh -N -R, with no channel to start it. */
void
sshf_fwd_tick(struct sshf *f, time_t now)
{
	struct fwdtab	*t = f->f_fwd;

	if (t == NULL || t->t_nlisten == 0 || f->f_state != SS_AUTH ||
	    !f->f_authed || now - t->t_listen_at < FWD_ONLY_AFTER)
		return;
	if (f->f_req == REQ_NONE && f->f_dch == NULL)
		(void)fwd_only(f);
}

/* ---- what the target opens --------------------------------------------- */

static struct fwd_listen *
fwd_listen_find(struct fwdtab *t, int port)
{
	int	 i;

	for (i = 0; i < t->t_nlisten; i++)
		if (t->t_listen[i].fl_up && !t->t_listen[i].fl_cancelled &&
		    t->t_listen[i].fl_port == port)
			return &t->t_listen[i];
	return NULL;
}

static int
fwd_up_open(struct sshf *f, ssh_message m)
{
	struct fwdtab		*t = fwd_tab(f);
	struct fwd_listen	*fl = NULL;
	struct fwd		*fw;
	const char		*orig;
	int			 kind, oport;
	enum fwd_open		 how;

	orig = ssh_message_channel_request_open_originator(m);
	oport = ssh_message_channel_request_open_originator_port(m);
	switch (ssh_message_subtype(m)) {
	case SSH_CHANNEL_FORWARDED_TCPIP:
		kind = PT_FWD_REMOTE;
		how = FO_REVERSE;
		fl = fwd_listen_find(t,
		    ssh_message_channel_request_open_destination_port(m));
		break;
	case SSH_CHANNEL_X11:
		kind = PT_FWD_X11;
		how = FO_X11;
		break;
	case SSH_CHANNEL_AUTH_AGENT:
		kind = PT_FWD_AGENT;
		how = FO_AGENT;
		break;
	default:
		kind = 0;
		how = FO_NONE;
		break;
	}
	/* Only what was asked, allowed, and passed on to the target. */
	if (kind == 0 || !(f->f_fwd_allow & kind) || f->f_state != SS_RELAY ||
	    (kind == PT_FWD_REMOTE && fl == NULL) ||
	    (kind == PT_FWD_X11 && !t->t_x11) ||
	    (kind == PT_FWD_AGENT && !t->t_agent)) {
		log_info("session %s: refused a channel the target opened",
		    f->f_s->s_sid);
		ssh_message_reply_default(m);
		return 0;
	}
	if ((fw = fwd_new(f, kind, fl != NULL ? fl->fl_addr : NULL,
	    fl != NULL ? fl->fl_port : 0, orig, oport)) == NULL) {
		ssh_message_reply_default(m);
		return 0;
	}
	fw->fw_ch[0] = ssh_channel_new(f->f_down);
	fw->fw_ch[1] = ssh_channel_new(f->f_up);
	if (fw->fw_ch[0] == NULL || fw->fw_ch[1] == NULL) {
		ssh_message_reply_default(m);
		fwd_end(f, fw, "out of memory");
		return 0;
	}
	fwd_callbacks(fw, 0);
	fwd_callbacks(fw, 1);
	if (ssh_message_channel_request_open_reply_accept_channel(m,
	    fw->fw_ch[1]) != SSH_OK) {
		fwd_end(f, fw, "could not be answered");
		return 0;
	}
	fw->fw_opening = how;
	if (!t->t_busy)
		(void)fwd_pump_one(f, fw);
	return 0;
}

/* Messages from the target: channels it opens, and global requests. */
static int
fwd_up_message(ssh_session sess, ssh_message m, void *arg)
{
	struct sshf	*f = arg;

	if (ssh_message_type(m) == SSH_REQUEST_CHANNEL_OPEN)
		return fwd_up_open(f, m);
	ssh_message_reply_default(m);
	return 0;
}

/*
 * The target is connected, its session channel open, the shell not yet
 * asked for: pass on what the vendor asked and the policy allows.
 * Blocking calls: the upstream session is still blocking here.
 */
void
sshf_fwd_upstream(struct sshf *f)
{
	struct fwdtab		*t = f->f_fwd;
	struct fwd_listen	*fl;
	char			 text[512];
	int			 i, bound;

	ssh_set_message_callback(f->f_up, fwd_up_message, f);
	if (t == NULL)
		return;
	if (t->t_agent) {
		if (!(f->f_fwd_allow & PT_FWD_AGENT))
			sshf_say(f, "Agent forwarding is not allowed on this "
			    "target now.");
		else if (ssh_channel_request_auth_agent(f->f_uch) != SSH_OK)
			sshf_say(f, "Agent forwarding: refused by the target.");
		else
			fwd_note(f, "agent forwarding asked of the target");
	}
	if (t->t_x11) {
		if (!(f->f_fwd_allow & PT_FWD_X11))
			sshf_say(f, "X11 forwarding is not allowed on this "
			    "target now.");
		else if (ssh_channel_request_x11(f->f_uch, t->t_x11_single,
		    t->t_x11_proto, t->t_x11_cookie, t->t_x11_screen) !=
		    SSH_OK)
			sshf_say(f, "X11 forwarding: refused by the target.");
		else
			fwd_note(f, "X11 forwarding asked of the target");
	}
	for (i = 0; i < t->t_nlisten; i++) {
		fl = &t->t_listen[i];
		if (fl->fl_cancelled)
			continue;
		if (!(f->f_fwd_allow & PT_FWD_REMOTE)) {
			snprintf(text, sizeof(text), "Remote forwarding of "
			    "port %d is not allowed on this target now.",
			    fl->fl_port);
			sshf_say(f, text);
			continue;
		}
		bound = 0;
		if (ssh_channel_listen_forward(f->f_up, fl->fl_addr,
		    fl->fl_port, &bound) != SSH_OK) {
			snprintf(text, sizeof(text), "Remote forwarding of "
			    "port %d: refused by the target.", fl->fl_port);
			sshf_say(f, text);
			continue;
		}
		fl->fl_up = 1;
		fwd_note(f, "ssh -R: the target listens on %s:%d",
		    fl->fl_addr[0] ? fl->fl_addr : "localhost", fl->fl_port);
	}
}

/*
 * A reload changed what the policy allows on this target.  What it
 * withdraws stops now: open pairs of that kind are closed and counted,
 * and the target's channels of that kind are refused from here on (an
 * ssh -R port stays bound on the target until the session ends, but
 * leads nowhere).  What it adds applies to what the vendor opens next.
 */
void
sshf_fwd_policy(struct sshf *f, uint32_t allow)
{
	struct fwdtab	*t = f->f_fwd;
	uint32_t	 gone = f->f_fwd_allow & ~allow, asked = 0;
	char		 text[160];
	int		 i, n = 0;

	f->f_fwd_allow = allow;
	f->f_fwd_early &= allow;
	if (gone == 0)
		return;
	if (t == NULL)
		return;		/* it never asked to forward */
	for (i = 0; i < FWD_MAX; i++)
		if (t->t_fwd[i].fw_used && (t->t_fwd[i].fw_kind & gone)) {
			fwd_end(f, &t->t_fwd[i], "withdrawn by the policy");
			n++;
		}
	/* Told only if it forwarded, or asked to, what is withdrawn. */
	if (t->t_nlisten > 0)
		asked |= PT_FWD_REMOTE;
	if (t->t_agent)
		asked |= PT_FWD_AGENT;
	if (t->t_x11)
		asked |= PT_FWD_X11;
	if (n == 0 && (gone & asked) == 0)
		return;
	snprintf(text, sizeof(text), "The access policy no longer allows "
	    "this forwarding: %d forwarded connection%s closed. Ask hospital "
	    "IT if you still need it.", n, n == 1 ? " was" : "s were");
	sshf_say(f, text);
}

/* The session ends: every pair closed and counted. */
void
sshf_fwd_close(struct sshf *f)
{
	struct fwdtab	*t = f->f_fwd;
	int		 i;

	if (t == NULL)
		return;
	for (i = 0; i < FWD_MAX; i++)
		if (t->t_fwd[i].fw_used)
			fwd_end(f, &t->t_fwd[i], "with the session");
	free(t->t_x11_proto);
	if (t->t_x11_cookie != NULL)
		freezero(t->t_x11_cookie, strlen(t->t_x11_cookie));
	free(t);
	f->f_fwd = NULL;
}
