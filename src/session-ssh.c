/*
 * session-ssh.c: the SSH front end of a session process.
 *
 * The vendor's unmodified OpenSSH or PuTTY client talks to libssh here;
 * so does the target, through a second libssh session on a socket the
 * parent connected.  Every decision is the monitor's: the login (password
 * then code, keyboard-interactive), the target, its host key, and how to
 * log in to it.  The vendor never sees the target's credential: a
 * password comes from the monitor and is wiped once used; a key stays in
 * the monitor, which signs through an agent socket.
 *
 *	KEX -> AUTH -> (menu) -> AUTHZ -> UPSTREAM -> RELAY -> CLOSING
 *
 * Both libssh sessions share one ssh_event, driven by libevent: a wakeup
 * on either socket runs ssh_event_dopoll(ev, 0), then pump() moves bytes
 * between the channels through bounded queues, never writing more than
 * the peer's window (libssh 0.10 would block otherwise); both run again
 * while the sockets still give bytes (sshf_event).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "portier.h"
#include "digest.h"
#include "msg.h"
#include "session.h"
#include "session-ssh.h"
#include "sftplog.h"

static struct sshf	 F;

static struct msg_in	 call_in;	/* answers to session_call() */

static void	sshf_pump(struct sshf *);
static void	sshf_rearm(struct sshf *);
static int	sshf_wants_write(struct sshf *);
static uint64_t	sshf_sock_read(struct sshf *);
static void	sshf_upstream(struct sshf *);

/* Environment variables a vendor may pass on to the target. */
static const char *env_allowed[] = { "LANG", "LC_ALL", "LC_CTYPE",
    "LC_MESSAGES", "LC_COLLATE", "LC_NUMERIC", "LC_TIME", "TZ" };

/* ---- queues ---------------------------------------------------------------- */

void
bq_push(struct bq *q, const void *p, size_t n)
{
	if (q->q_off + q->q_len + n > q->q_cap) {
		if (q->q_off) {
			memmove(q->q_buf, q->q_buf + q->q_off, q->q_len);
			q->q_off = 0;
		}
		if (q->q_len + n > q->q_cap) {
			q->q_cap = (q->q_len + n) * 2;
			q->q_buf = xreallocarray(q->q_buf, q->q_cap, 1);
		}
	}
	memcpy(q->q_buf + q->q_off + q->q_len, p, n);
	q->q_len += n;
}

static void
bq_pop(struct bq *q, size_t n)
{
	q->q_off += n;
	q->q_len -= n;
	if (q->q_len == 0)
		q->q_off = 0;
}

static size_t
bq_room(struct bq *q)
{
	return q->q_len >= SSHF_QUEUE_HWM ? 0 : SSHF_QUEUE_HWM - q->q_len;
}

/* Write what the peer's window takes; never more. */
void
bq_flush(struct bq *q, ssh_channel out, int is_stderr)
{
	uint32_t	 w;
	size_t		 n;
	int		 m;

	if (q->q_busy)
		return;
	q->q_busy = 1;
	while (q->q_len > 0 && out != NULL && ssh_channel_is_open(out)) {
		if ((w = ssh_channel_window_size(out)) == 0)
			break;
		n = q->q_len < w ? q->q_len : w;
		m = is_stderr ?
		    ssh_channel_write_stderr(out, q->q_buf + q->q_off, n) :
		    ssh_channel_write(out, q->q_buf + q->q_off, n);
		if (m <= 0)
			break;
		bq_pop(q, (size_t)m);
		/* Counted as delivered, for portierctl sessions. */
		if (ssh_channel_get_session(out) == F.f_up)
			F.f_bytes_in += m;
		else
			F.f_bytes_out += m;
		if ((size_t)m < n)
			break;
	}
	q->q_busy = 0;
}

/* ---- telling the vendor ------------------------------------------------------ */

/*
 * A line from the bastion, clearly marked, on the vendor's terminal (or
 * stderr without one) and in the recording.
 */
void
sshf_say(struct sshf *f, const char *text)
{
	char	 line[1024];
	int	 n;

	if (f->f_dch == NULL || !ssh_channel_is_open(f->f_dch))
		return;
	n = snprintf(line, sizeof(line), "%s[portier] %s\r\n",
	    f->f_pty ? "\r\n" : "", text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (f->f_pty)
		bq_push(&f->f_qd, line, (size_t)n);
	else
		bq_push(&f->f_qde, line, (size_t)n);
	session_record(f->f_s, 'm', text, strlen(text));
	bq_flush(&f->f_qd, f->f_dch, 0);
	bq_flush(&f->f_qde, f->f_dch, 1);
}

static void
sshf_notice(struct session *s, const char *text)
{
	struct sshf	*f = &F;

	/* Before a channel opens, the disconnect message carries it. */
	if (f->f_down != NULL &&
	    (f->f_dch == NULL || !ssh_channel_is_open(f->f_dch)))
		ssh_session_set_disconnect_message(f->f_down, text);
	sshf_say(f, text);
}

/* ---- login --------------------------------------------------------------------- */

/* "jdoe@pacs-01": the login before the last '@', the target after it. */
static int
sshf_split_user(struct sshf *f, const char *user)
{
	const char	*at = strrchr(user, '@');
	size_t		 n = at != NULL ? (size_t)(at - user) : strlen(user);

	if (n == 0 || n >= sizeof(f->f_login) ||
	    (at != NULL && strlen(at + 1) >= sizeof(f->f_target)))
		return -1;
	memcpy(f->f_login, user, n);
	f->f_login[n] = '\0';
	if (at != NULL)
		strlcpy(f->f_target, at + 1, sizeof(f->f_target));
	return 0;
}

static void
sshf_prompt(ssh_message m, int round)
{
	static const char *pw[] = { "Password: " };
	static const char *code[] = { "Verification code: " };
	char		 echo[1] = { 0 };

	ssh_message_auth_interactive_request(m, "", "", 1,
	    round == 1 ? pw : code, echo);
}

/*
 * Refuse this attempt, and say why in a banner (OpenSSH prints it before
 * "Permission denied"); the client may start again if it has tries left.
 */
static void
sshf_refuse(struct sshf *f, ssh_message m, const char *text)
{
	char		 line[600];
	ssh_string	 banner;

	snprintf(line, sizeof(line), "%s\r\n", text);
	if ((banner = ssh_string_from_char(line)) != NULL) {
		ssh_send_issue_banner(f->f_down, banner);
		ssh_string_free(banner);
	}
	f->f_round = 0;
	ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_INTERACTIVE);
	ssh_message_reply_default(m);
}

/* Ask the monitor; returns the auth_result and its text. */
static int
sshf_auth_call(struct sshf *f, struct msg *m, char *text, size_t len)
{
	uint32_t	 r;

	if (session_call(f->f_s, m, MSG_MON_AUTH_RESULT, 0, &call_in) == -1 ||
	    m_get_u32(&call_in, &r) == -1 ||
	    m_get_str(&call_in, text, len) == -1 || m_end(&call_in) == -1) {
		m_in_clear(&call_in);
		return -1;
	}
	m_in_clear(&call_in);
	return (int)r;
}

static int
sshf_kbdint(struct sshf *f, ssh_message m)
{
	char		 text[512] = "", answer[512];
	const char	*a, *user;
	struct msg	*req;
	int		 r;

	if (f->f_state == SS_CLOSING) {
		ssh_message_reply_default(m);
		return 0;
	}
	if (!ssh_message_auth_kbdint_is_response(m)) {
		user = ssh_message_auth_user(m);
		if (f->f_login[0] == '\0' &&
		    (user == NULL || sshf_split_user(f, user) == -1)) {
			sshf_refuse(f, m, "Log in as LOGIN@TARGET or LOGIN.");
			return 0;
		}
		f->f_round = 1;
		sshf_prompt(m, 1);
		return 0;
	}
	if (f->f_round == 0 ||
	    ssh_userauth_kbdint_getnanswers(f->f_down) != 1 ||
	    (a = ssh_userauth_kbdint_getanswer(f->f_down, 0)) == NULL) {
		sshf_refuse(f, m, "Answer the prompt.");
		return 0;
	}
	strlcpy(answer, a, sizeof(answer));
	if (++f->f_tries > SSHF_MAX_TRIES) {
		explicit_bzero(answer, sizeof(answer));
		sshf_refuse(f, m, "Too many attempts on this connection.");
		f->f_state = SS_CLOSING;
		return 0;
	}
	if (f->f_round == 1) {
		req = m_create(MSG_MON_AUTH_PASSWORD, 0, -1);
		m_add_str(req, f->f_login);
		m_add_str(req, answer);
	} else {
		req = m_create(MSG_MON_AUTH_CODE, 0, -1);
		m_add_str(req, answer);
	}
	explicit_bzero(answer, sizeof(answer));
	r = sshf_auth_call(f, req, text, sizeof(text));
	switch (r) {
	case AUTH_NEED_CODE:
		f->f_round = 2;
		sshf_prompt(m, 2);
		break;
	case AUTH_OK:
		f->f_authed = 1;
		f->f_round = 0;
		ssh_message_auth_reply_success(m, 0);
		log_info("session %s: %s logged in", f->f_s->s_sid,
		    f->f_login);
		sshf_fwd_perms(f);
		break;
	case AUTH_FAIL:
		sshf_refuse(f, m, text);
		break;
	default:	/* locked, denied, or the monitor is gone */
		sshf_refuse(f, m, r == -1 ? "Authentication is unavailable; "
		    "try again later." : text);
		f->f_state = SS_CLOSING;
		break;
	}
	return 0;
}

static int
sshf_message(ssh_session sess, ssh_message m, void *arg)
{
	struct sshf	*f = arg;

	switch (ssh_message_type(m)) {
	case SSH_REQUEST_AUTH:
		/* A session being closed (no recording) never logs in: the
		 * request waits, unanswered, for the disconnect message. */
		if (f->f_s->s_closing)
			return 0;
		if (f->f_authed) {
			ssh_message_reply_default(m);
			return 0;
		}
		if (ssh_message_subtype(m) == SSH_AUTH_METHOD_INTERACTIVE)
			return sshf_kbdint(f, m);
		/* none, password, publickey: ask for the two prompts. */
		ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_INTERACTIVE);
		ssh_message_reply_default(m);
		return 0;
	case SSH_REQUEST_CHANNEL_OPEN:
	case SSH_REQUEST_GLOBAL:
		/* ssh -L, -D, -R: as the policy says (session-ssh-fwd.c). */
		if (f->f_authed && sshf_fwd_message(f, m))
			return 0;
		/* x11, agent channels from a vendor: never. */
		log_info("session %s: refused a non-session channel or "
		    "request", f->f_s->s_sid);
		session_record(f->f_s, 'm', "refused: forwarding", 19);
		ssh_message_reply_default(m);
		return 0;
	case SSH_REQUEST_CHANNEL:
		/* x11-req (-X) and the rest; allowed ones have callbacks. */
		log_info("session %s: refused a channel request (%s)",
		    f->f_s->s_sid, ssh_message_subtype(m) ==
		    SSH_CHANNEL_REQUEST_X11 ? "X11 forwarding" :
		    "agent forwarding or unsupported");
		session_record(f->f_s, 'm', "refused: forwarding request", 27);
		ssh_message_reply_default(m);
		return 0;
	default:
		ssh_message_reply_default(m);
		return 0;
	}
}

/* ---- the vendor's channel ---------------------------------------------------- */

static int
d_data(ssh_session sess, ssh_channel c, void *data, uint32_t len,
    int is_stderr, void *arg)
{
	struct sshf	*f = arg;
	size_t		 n;

	if (f->f_state == SS_SELECT || f->f_state == SS_ASK ||
	    f->f_state == SS_WAIT)
		return sshf_line_input(f, data, len);
	if (f->f_state != SS_RELAY || f->f_uch == NULL) {
		/* Kept in libssh until the target is there. */
		f->f_d_pending = 1;
		return 0;
	}
	n = len < bq_room(&f->f_qu) ? len : bq_room(&f->f_qu);
	if (n > 0)
		bq_push(&f->f_qu, data, n);
	if (n < len)
		f->f_d_pending = 1;
	/* Forward first, then record: a keystroke waits for no recorder. */
	bq_flush(&f->f_qu, f->f_uch, 0);
	sshf_record_io(f, 'i', data, n);
	return (int)n;
}

static void
d_close(ssh_session sess, ssh_channel c, void *arg)
{
	((struct sshf *)arg)->f_d_closed = 1;
}

static int
d_pty(ssh_session sess, ssh_channel c, const char *term, int cols, int rows,
    int py, int px, void *arg)
{
	struct sshf	*f = arg;

	if (f->f_req != REQ_NONE)
		return SSH_ERROR;
	f->f_pty = 1;
	strlcpy(f->f_term, term, sizeof(f->f_term));
	f->f_cols = cols;
	f->f_rows = rows;
	f->f_px = px;
	f->f_py = py;
	return SSH_OK;
}

static int
d_winch(ssh_session sess, ssh_channel c, int cols, int rows, int py, int px,
    void *arg)
{
	struct sshf	*f = arg;
	char		 size[32];
	int		 n;

	f->f_cols = cols;
	f->f_rows = rows;
	if (f->f_uch != NULL)
		ssh_channel_change_pty_size(f->f_uch, cols, rows);
	n = snprintf(size, sizeof(size), "%dx%d", cols, rows);
	session_record(f->f_s, 'r', size, (size_t)n);
	return SSH_OK;
}

static int
d_env(ssh_session sess, ssh_channel c, const char *name, const char *value,
    void *arg)
{
	struct sshf	*f = arg;
	size_t		 i;

	for (i = 0; i < sizeof(env_allowed) / sizeof(env_allowed[0]); i++) {
		if (strcmp(name, env_allowed[i]) != 0)
			continue;
		if (f->f_nenv == sizeof(f->f_env) / sizeof(f->f_env[0]) ||
		    strlen(value) > 256)
			return SSH_ERROR;
		f->f_env[f->f_nenv].e_name = xstrdup(name);
		f->f_env[f->f_nenv].e_value = xstrdup(value);
		f->f_nenv++;
		return SSH_OK;
	}
	return SSH_ERROR;
}

/* ---- what the recording keeps of the vendor's data ------------------------------- */

static void
sshf_tally_start(struct sshf *f)
{
	f->f_exec_data = 1;
	f->f_tally[0].t_md = digest_new();
	f->f_tally[1].t_md = digest_new();
}

static void
sshf_sftp_emit(void *arg, const char *line)
{
	struct sshf	*f = arg;

	session_record(f->f_s, 'm', line, strlen(line));
}

void
sshf_record_io(struct sshf *f, char stream, const void *p, size_t n)
{
	struct sshf_tally	*t;
	size_t			 keep = n;

	if (n == 0)
		return;
	if (f->f_sftp != NULL) {
		/* The protocol's own bytes: a transfer log, not a copy. */
		if (stream == 'i')
			sftplog_client(f->f_sftp, p, n);
		else if (stream == 'o')
			sftplog_server(f->f_sftp, p, n);
		return;
	}
	if (stream == 'e')
		stream = 'o';
	if (!f->f_record_io)
		return;
	if (f->f_exec_data) {
		t = &f->f_tally[stream == 'o'];
		keep = t->t_bytes >= SSHF_EXEC_REC ? 0 :
		    n < SSHF_EXEC_REC - t->t_bytes ? n :
		    SSHF_EXEC_REC - t->t_bytes;
		if (t->t_md != NULL && digest_update(t->t_md, p, n) == -1) {
			digest_free(t->t_md);
			t->t_md = NULL;
		}
		t->t_bytes += n;
	}
	if (keep > 0)
		session_record(f->f_s, stream, p, keep);
}

/* The end of an exec's data: how much passed, and its SHA-256. */
static void
sshf_tally_end(struct sshf *f)
{
	static const char *what[2] = { "exec input", "exec output" };
	struct sshf_tally	*t;
	char			 hex[DIGEST_HEX], text[256];
	int			 i;

	if (!f->f_exec_data)
		return;
	f->f_exec_data = 0;
	for (i = 0; i < 2; i++) {
		t = &f->f_tally[i];
		hex[0] = '\0';
		if (t->t_md != NULL)
			digest_final(t->t_md, hex);
		digest_free(t->t_md);
		t->t_md = NULL;
		if (t->t_bytes == 0 && i == 0)
			continue;
		snprintf(text, sizeof(text), "%s: %llu bytes, sha256 %s%s",
		    what[i], (unsigned long long)t->t_bytes, hex,
		    t->t_bytes > SSHF_EXEC_REC ? " (the first 1 MiB is "
		    "recorded)" : "");
		session_record(f->f_s, 'm', text, strlen(text));
	}
}

static int
d_request(struct sshf *f, enum sshf_req req, const char *arg)
{
	if (!f->f_authed || f->f_req != REQ_NONE)
		return SSH_ERROR;
	if (req == REQ_SUBSYSTEM && strcmp(arg, "sftp") != 0)
		return SSH_ERROR;
	f->f_req = req;
	f->f_req_arg = arg != NULL ? xstrdup(arg) : NULL;
	f->f_record_io = req != REQ_SUBSYSTEM;
	if (req == REQ_EXEC && !f->f_pty)
		sshf_tally_start(f);
	if (req == REQ_SUBSYSTEM)
		f->f_sftp = sftplog_new(sshf_sftp_emit, f);
	f->f_begin = 1;
	return SSH_OK;
}

static int
d_shell(ssh_session sess, ssh_channel c, void *arg)
{
	return d_request(arg, REQ_SHELL, NULL);
}

static int
d_exec(ssh_session sess, ssh_channel c, const char *cmd, void *arg)
{
	return d_request(arg, REQ_EXEC, cmd);
}

static int
d_subsystem(ssh_session sess, ssh_channel c, const char *sub, void *arg)
{
	return d_request(arg, REQ_SUBSYSTEM, sub);
}

static void
d_signal(ssh_session sess, ssh_channel c, const char *sig, void *arg)
{
	struct sshf	*f = arg;

	if (f->f_uch != NULL)
		ssh_channel_request_send_signal(f->f_uch, sig);
}

static ssh_channel
sshf_channel_open(ssh_session sess, void *arg)
{
	struct sshf	*f = arg;

	/* One session channel per connection, after the login. */
	if (!f->f_authed || f->f_dch != NULL || f->f_req == REQ_FORWARD)
		return NULL;
	f->f_dch = ssh_channel_new(sess);
	memset(&f->f_dcb, 0, sizeof(f->f_dcb));
	f->f_dcb.userdata = f;
	f->f_dcb.channel_data_function = d_data;
	f->f_dcb.channel_close_function = d_close;
	f->f_dcb.channel_pty_request_function = d_pty;
	f->f_dcb.channel_pty_window_change_function = d_winch;
	f->f_dcb.channel_env_request_function = d_env;
	f->f_dcb.channel_shell_request_function = d_shell;
	f->f_dcb.channel_exec_request_function = d_exec;
	f->f_dcb.channel_subsystem_request_function = d_subsystem;
	f->f_dcb.channel_signal_function = d_signal;
	sshf_fwd_channel(f, &f->f_dcb);
	ssh_callbacks_init(&f->f_dcb);
	ssh_set_channel_callbacks(f->f_dch, &f->f_dcb);
	return f->f_dch;
}

/* ---- the target's channel ----------------------------------------------------- */

static int
u_data(ssh_session sess, ssh_channel c, void *data, uint32_t len,
    int is_stderr, void *arg)
{
	struct sshf	*f = arg;
	struct bq	*q = is_stderr ? &f->f_qde : &f->f_qd;
	size_t		 n;

	n = len < bq_room(q) ? len : bq_room(q);
	/* The recorder is behind: hold the target until it catches up. */
	if (f->f_record_io && f->f_s->s_recorder->mc_queued > SSHF_REC_HWM)
		n = 0;
	if (n > 0)
		bq_push(q, data, n);
	if (n < len) {
		if (is_stderr)
			f->f_ue_pending = 1;
		else
			f->f_u_pending = 1;
	}
	bq_flush(q, f->f_dch, is_stderr);
	sshf_record_io(f, is_stderr ? 'e' : 'o', data, n);
	return (int)n;
}

static void
u_exit_status(ssh_session sess, ssh_channel c, int status, void *arg)
{
	((struct sshf *)arg)->f_exit_status = status;
}

static void
u_exit_signal(ssh_session sess, ssh_channel c, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct sshf	*f = arg;

	strlcpy(f->f_exit_signal, sig, sizeof(f->f_exit_signal));
	f->f_exit_core = core;
}

static void
u_close(ssh_session sess, ssh_channel c, void *arg)
{
	((struct sshf *)arg)->f_u_closed = 1;
}

/* ---- from request to target ---------------------------------------------------- */

void
sshf_authz(struct sshf *f)
{
	struct msg	*m = m_create(MSG_MON_AUTHZ, 0, -1);

	m_add_str(m, f->f_target);
	/* What for: the policy may allow a shell and refuse file transfer. */
	m_add_str(m, f->f_req == REQ_SUBSYSTEM ? "sftp" :
	    f->f_req == REQ_EXEC ? "exec" :
	    f->f_req == REQ_FORWARD ? "forward" : "shell");
	f->f_state = SS_AUTHZ;
	msgchan_send(f->f_s->s_monitor, m);
}

/* The vendor's request was accepted: what comes next. */
static void
sshf_begin(struct sshf *f)
{
	f->f_begin = 0;
	if (f->f_target[0] != '\0') {
		sshf_authz(f);
		return;
	}
	if (f->f_req == REQ_SHELL && f->f_pty) {
		sshf_menu(f);
		return;
	}
	if (f->f_req == REQ_EXEC) {
		sshf_command(f);
		return;
	}
	sshf_end(f, 2, "No target given: connect as LOGIN@TARGET@bastion "
	    "(ssh without a command shows your targets).");
}

static int
sshf_monitor(struct session *s, struct msg_in *mi)
{
	struct sshf	*f = &F;
	char		 text[512], account[PT_NAME_MAX];
	uint32_t	 ok, fwd;
	int64_t		 end, amax, emax;

	switch (mi->mi_type) {
	case MSG_MON_AUTHZ_RESULT:
		/* After a wait, IT's approval brings the answer. */
		if ((f->f_state != SS_AUTHZ && f->f_state != SS_WAIT) ||
		    m_get_u32(mi, &ok) == -1 ||
		    m_get_str(mi, text, sizeof(text)) == -1 ||
		    m_get_str(mi, account, sizeof(account)) == -1 ||
		    m_get_i64(mi, &end) == -1 || m_get_u32(mi, &fwd) == -1 ||
		    m_end(mi) == -1)
			return -1;
		if (!ok) {
			sshf_end(f, 1, text);
			return 0;
		}
		strlcpy(f->f_account, account, sizeof(f->f_account));
		f->f_window_end = (time_t)end;
		f->f_fwd_allow = fwd;
		f->f_state = SS_UPSTREAM;
		/* The parent may have been quicker than the monitor. */
		if (f->f_upfd != -1 || f->f_upfd_err)
			sshf_upstream(f);
		return 0;
	case MSG_MON_FWD:
		if (m_get_u32(mi, &fwd) == -1 || m_end(mi) == -1)
			return -1;
		sshf_fwd_policy(f, fwd);
		return 0;
	case MSG_MON_AUTHZ_ASK:
		if (f->f_state != SS_AUTHZ ||
		    m_get_str(mi, text, sizeof(text)) == -1 ||
		    m_get_i64(mi, &amax) == -1 || m_get_i64(mi, &emax) == -1 ||
		    m_end(mi) == -1 || amax < 0 || emax < 0)
			return -1;
		sshf_ask_start(f, text, amax, emax);
		return 0;
	case MSG_MON_REQUEST_RESULT:
		return sshf_request_result(f, mi);
	case MSG_MON_NOTICE:
		if (m_get_str(mi, text, sizeof(text)) == -1 || m_end(mi) == -1)
			return -1;
		sshf_say(f, text);
		return 0;
	case MSG_MON_WINDOW:
		if (m_get_i64(mi, &end) == -1 ||
		    m_get_str(mi, text, sizeof(text)) == -1 || m_end(mi) == -1)
			return -1;
		f->f_window_end = (time_t)end;
		f->f_warned = 0;
		if (text[0] != '\0')
			sshf_say(f, text);
		return 0;
	case MSG_MON_CUT:
		/* Hospital IT or the policy ended it: target first, then us. */
		if (m_get_str(mi, text, sizeof(text)) == -1 || m_end(mi) == -1)
			return -1;
		sshf_end(f, 1, text);
		return 0;
	default:
		return -1;
	}
}

static int	sshf_connect(struct sshf *, int);
static int	sshf_connected(struct sshf *);

/* Both the monitor's yes and the parent's socket are here: connect. */
static void
sshf_upstream(struct sshf *f)
{
	int	 fd = f->f_upfd;

	f->f_upfd = -1;
	if (f->f_upfd_err) {
		sshf_end(f, 1, "The target cannot be reached now; try again "
		    "later or tell hospital IT.");
		return;
	}
	if (sshf_connect(f, fd) == 0)
		f->f_state = SS_RELAY;
	sshf_rearm(f);
}

static int
sshf_parent(struct session *s, struct msg_in *mi)
{
	struct sshf	*f = &F;
	char		 text[512];
	uint32_t	 err;
	int		 fd;

	if (mi->mi_type != MSG_SESS_UPSTREAM ||
	    (f->f_state != SS_UPSTREAM && f->f_state != SS_AUTHZ &&
	    f->f_state != SS_WAIT) ||
	    f->f_upfd != -1 || f->f_upfd_err ||
	    m_get_u32(mi, &err) == -1 || m_get_str(mi, text, sizeof(text)) ==
	    -1)
		return -1;
	fd = m_take_fd(mi);
	if (m_end(mi) == -1 || (err == 0) != (fd != -1)) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	f->f_upfd = fd;
	f->f_upfd_err = err != 0;
	if (f->f_state == SS_UPSTREAM)
		sshf_upstream(f);
	return 0;
}

/* ---- the target ------------------------------------------------------------------- */

static int
sshf_hostkey(struct sshf *f)
{
	ssh_key		 key = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;
	char		*b64 = NULL, *fp = NULL, text[512];
	struct msg	*m;
	uint32_t	 ok = 0;
	int		 rc = -1;

	if (ssh_get_server_publickey(f->f_up, &key) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ||
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != SSH_OK ||
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
	    hlen)) == NULL) {
		sshf_end(f, 1, "The target's host key cannot be read.");
		goto out;
	}
	m = m_create(MSG_MON_HOSTKEY, 0, -1);
	m_add_str(m, ssh_key_type_to_char(ssh_key_type(key)));
	m_add_str(m, b64);
	m_add_str(m, fp);
	if (session_call(f->f_s, m, MSG_MON_HOSTKEY_RESULT, 0, &call_in) ==
	    -1 || m_get_u32(&call_in, &ok) == -1 ||
	    m_get_str(&call_in, text, sizeof(text)) == -1 ||
	    m_end(&call_in) == -1) {
		m_in_clear(&call_in);
		sshf_end(f, 1, "Portier cannot check the target now.");
		goto out;
	}
	m_in_clear(&call_in);
	if (!ok)
		sshf_end(f, 1, text);
	else
		rc = 0;
out:
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return rc;
}

/* Log in as the policy's account; the vendor never sees how. */
static int
sshf_login(struct sshf *f)
{
	const uint8_t	*secret;
	size_t		 len;
	uint32_t	 kind;
	char		*pw;
	int		 fd, rc = SSH_AUTH_ERROR;

	if (session_call(f->f_s, m_create(MSG_MON_CRED, 0, -1),
	    MSG_MON_CRED_RESULT, 0, &call_in) == -1 ||
	    m_get_u32(&call_in, &kind) == -1 ||
	    m_get_data(&call_in, &secret, &len) == -1) {
		m_in_clear(&call_in);
		sshf_end(f, 1, "Portier cannot log in to the target now.");
		return -1;
	}
	fd = m_take_fd(&call_in);
	if (m_end(&call_in) == -1) {
		m_in_clear(&call_in);
		return -1;
	}
	if (kind == 2 && fd != -1) {
		/* The key stays in the monitor: it signs for us. */
		if (ssh_set_agent_socket(f->f_up, fd) == SSH_OK)
			rc = ssh_userauth_agent(f->f_up, NULL);
	} else if (kind == 1 && len > 0) {
		pw = xmalloc(len + 1);
		memcpy(pw, secret, len);
		pw[len] = '\0';
		rc = ssh_userauth_password(f->f_up, NULL, pw);
		freezero(pw, len + 1);
	}
	m_in_clear(&call_in);
	if (fd != -1)
		close(fd);
	if (rc != SSH_AUTH_SUCCESS) {
		log_warnx("session %s: %s refused the vaulted credential of "
		    "%s", f->f_s->s_sid, f->f_target, f->f_account);
		sshf_end(f, 1, "The target refused Portier's login for this "
		    "maintenance account; hospital IT must update it.");
		return -1;
	}
	return 0;
}

static int
sshf_connect(struct sshf *f, int fd)
{
	int		 timeout = 10, no = 0, yes = 1, rc;
	size_t		 i;
	const char	*err;
	char		 why[200];

	if ((f->f_up = ssh_new()) == NULL) {
		close(fd);
		sshf_end(f, 1, "Out of memory.");
		return -1;
	}
	ssh_set_counters(f->f_up, &f->f_sock_up, NULL);
	ssh_options_set(f->f_up, SSH_OPTIONS_FD, &fd);
	ssh_options_set(f->f_up, SSH_OPTIONS_HOST, f->f_target);
	ssh_options_set(f->f_up, SSH_OPTIONS_USER, f->f_account);
	ssh_options_set(f->f_up, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(f->f_up, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(f->f_up, SSH_OPTIONS_SSH_DIR, "/nonexistent");
	ssh_options_set(f->f_up, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(f->f_up, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	ssh_options_set(f->f_up, SSH_OPTIONS_NODELAY, &yes);
	ssh_options_set(f->f_up, SSH_OPTIONS_KEY_EXCHANGE, SSHF_KEX);
	ssh_options_set(f->f_up, SSH_OPTIONS_HOSTKEYS, SSHF_HOSTKEYS_UP);
	ssh_options_set(f->f_up, SSH_OPTIONS_CIPHERS_C_S, SSHF_CIPHERS_UP);
	ssh_options_set(f->f_up, SSH_OPTIONS_CIPHERS_S_C, SSHF_CIPHERS_UP);
	ssh_options_set(f->f_up, SSH_OPTIONS_HMAC_C_S, SSHF_MACS);
	ssh_options_set(f->f_up, SSH_OPTIONS_HMAC_S_C, SSHF_MACS);
	if (ssh_connect(f->f_up) != SSH_OK) {
		err = ssh_get_error(f->f_up);
		log_warnx("session %s: %s: %s", f->f_s->s_sid, f->f_target,
		    err);
		/* Hospital IT reads why in the audit trail, the vendor not. */
		snprintf(why, sizeof(why), "target SSH handshake failed: %s",
		    strstr(err, "no match for method") != NULL ? "no algorithm "
		    "in common (see the log)" : err);
		session_close(f->f_s, why);	/* the audited reason */
		sshf_end(f, 1, "The target did not complete the SSH "
		    "handshake; try again later or tell hospital IT.");
		return -1;
	}
	if (sshf_hostkey(f) == -1 || sshf_login(f) == -1)
		return -1;
	if (f->f_req == REQ_FORWARD)
		return sshf_connected(f);

	f->f_uch = ssh_channel_new(f->f_up);
	if (f->f_uch == NULL || ssh_channel_open_session(f->f_uch) != SSH_OK)
		goto fail;
	/* Callbacks first: a blocking request may bring data already. */
	memset(&f->f_ucb, 0, sizeof(f->f_ucb));
	f->f_ucb.userdata = f;
	f->f_ucb.channel_data_function = u_data;
	f->f_ucb.channel_exit_status_function = u_exit_status;
	f->f_ucb.channel_exit_signal_function = u_exit_signal;
	f->f_ucb.channel_close_function = u_close;
	ssh_callbacks_init(&f->f_ucb);
	ssh_set_channel_callbacks(f->f_uch, &f->f_ucb);
	if (f->f_pty && ssh_channel_request_pty_size(f->f_uch, f->f_term,
	    f->f_cols, f->f_rows) != SSH_OK)
		goto fail;
	for (i = 0; i < f->f_nenv; i++)
		(void)ssh_channel_request_env(f->f_uch, f->f_env[i].e_name,
		    f->f_env[i].e_value);
	sshf_fwd_upstream(f);
	switch (f->f_req) {
	case REQ_EXEC:
		rc = ssh_channel_request_exec(f->f_uch, f->f_req_arg);
		break;
	case REQ_SUBSYSTEM:
		rc = ssh_channel_request_subsystem(f->f_uch, f->f_req_arg);
		break;
	default:
		rc = ssh_channel_request_shell(f->f_uch);
		break;
	}
	if (rc != SSH_OK)
		goto fail;
	return sshf_connected(f);
fail:
	log_warnx("session %s: %s: %s", f->f_s->s_sid, f->f_target,
	    ssh_get_error(f->f_up));
	sshf_end(f, 1, "The target refused the session request.");
	return -1;
}

/* Logged in to the target and asked: from now on, non-blocking. */
static int
sshf_connected(struct sshf *f)
{
	char	 text[256];

	if (f->f_req == REQ_FORWARD)
		sshf_fwd_upstream(f);
	ssh_set_blocking(f->f_up, 0);
	ssh_event_add_session(f->f_sev, f->f_up);
	snprintf(text, sizeof(text), "connected to %s as %s", f->f_target,
	    f->f_account);
	session_record(f->f_s, 'm', text, strlen(text));
	/* What the vendor asked for, and the terminal's size, for replay. */
	if (f->f_req == REQ_FORWARD)
		snprintf(text, sizeof(text), "forwarding only (ssh -N)");
	else if (f->f_req == REQ_EXEC)
		snprintf(text, sizeof(text), "exec: %.200s", f->f_req_arg);
	else if (f->f_req == REQ_SUBSYSTEM)
		snprintf(text, sizeof(text), "subsystem: %.64s (not recorded "
		    "byte by byte)", f->f_req_arg);
	else
		snprintf(text, sizeof(text), "shell");
	session_record(f->f_s, 'm', text, strlen(text));
	if (f->f_pty) {
		snprintf(text, sizeof(text), "%dx%d", f->f_cols, f->f_rows);
		session_record(f->f_s, 'r', text, strlen(text));
	}
	log_info("session %s: %s %s", f->f_s->s_sid, f->f_login, text);
	return 0;
}

/* ---- moving bytes ----------------------------------------------------------------- */

/* Take what libssh holds for a channel whose callback took less. */
static void
sshf_drain(struct sshf *f, ssh_channel in, struct bq *q, int is_stderr,
    int *pending, int record)
{
	static uint8_t	 buf[65536];
	size_t		 want;
	int		 n;

	while (*pending && bq_room(q) > 0) {
		if (record && f->f_s->s_recorder->mc_queued > SSHF_REC_HWM)
			return;
		want = bq_room(q) < sizeof(buf) ? bq_room(q) : sizeof(buf);
		n = ssh_channel_read_nonblocking(in, buf, (uint32_t)want,
		    is_stderr);
		if (n <= 0) {
			*pending = 0;
			break;
		}
		bq_push(q, buf, (size_t)n);
		sshf_record_io(f, q == &f->f_qu ? 'i' : is_stderr ? 'e' : 'o',
		    buf, (size_t)n);
	}
}

static void
sshf_pump(struct sshf *f)
{
	if (f->f_begin)
		sshf_begin(f);
	if ((f->f_state == SS_SELECT || f->f_state == SS_ASK ||
	    f->f_state == SS_WAIT) && f->f_d_pending)
		sshf_line_pending(f);
	bq_flush(&f->f_qd, f->f_dch, 0);
	bq_flush(&f->f_qde, f->f_dch, 1);
	if (f->f_state != SS_RELAY)
		return;
	if (f->f_req == REQ_FORWARD) {
		sshf_fwd_pump(f);
		return;
	}
	bq_flush(&f->f_qu, f->f_uch, 0);
	sshf_drain(f, f->f_dch, &f->f_qu, 0, &f->f_d_pending,
	    f->f_record_io);
	sshf_drain(f, f->f_uch, &f->f_qd, 0, &f->f_u_pending,
	    f->f_record_io);
	sshf_drain(f, f->f_uch, &f->f_qde, 1, &f->f_ue_pending,
	    f->f_record_io);
	bq_flush(&f->f_qu, f->f_uch, 0);
	bq_flush(&f->f_qd, f->f_dch, 0);
	bq_flush(&f->f_qde, f->f_dch, 1);
	sshf_fwd_pump(f);

	if (!f->f_u_eof_fwd && ssh_channel_is_eof(f->f_uch) &&
	    f->f_qd.q_len == 0 && f->f_qde.q_len == 0 && !f->f_u_pending &&
	    !f->f_ue_pending) {
		ssh_channel_send_eof(f->f_dch);
		f->f_u_eof_fwd = 1;
	}
	if (!f->f_d_eof_fwd && ssh_channel_is_eof(f->f_dch) &&
	    f->f_qu.q_len == 0 && !f->f_d_pending) {
		ssh_channel_send_eof(f->f_uch);
		f->f_d_eof_fwd = 1;
	}
	if ((f->f_u_closed || ssh_channel_is_closed(f->f_uch)) &&
	    f->f_u_eof_fwd && !f->f_exit_fwd) {
		if (f->f_exit_signal[0] != '\0')
			ssh_channel_request_send_exit_signal(f->f_dch,
			    f->f_exit_signal, f->f_exit_core, "", "");
		else if (f->f_exit_status >= 0)
			ssh_channel_request_send_exit_status(f->f_dch,
			    f->f_exit_status);
		ssh_channel_close(f->f_dch);
		f->f_exit_fwd = 1;
	}
	if (f->f_d_closed && !ssh_channel_is_closed(f->f_uch))
		ssh_channel_close(f->f_uch);
}

static int
sshf_finished(struct sshf *f)
{
	if (ssh_get_status(f->f_down) & (SSH_CLOSED | SSH_CLOSED_ERROR))
		return 1;
	if (f->f_state == SS_CLOSING)
		return 1;
	if (f->f_state == SS_RELAY && f->f_exit_fwd)
		return 1;
	if (f->f_state == SS_RELAY && f->f_d_closed)
		return 1;
	if (f->f_up != NULL && (ssh_get_status(f->f_up) &
	    (SSH_CLOSED | SSH_CLOSED_ERROR)) && f->f_qd.q_len == 0 &&
	    f->f_qde.q_len == 0)
		return 1;
	return 0;
}

/*
 * End the session with TEXT shown to the vendor and STATUS as the exit
 * status of their command.
 */
void
sshf_end(struct sshf *f, int status, const char *text)
{
	if (f->f_state == SS_CLOSING)
		return;
	if (text != NULL && text[0] != '\0')
		sshf_say(f, text);
	if (f->f_dch != NULL && ssh_channel_is_open(f->f_dch)) {
		ssh_channel_request_send_exit_status(f->f_dch, status);
		ssh_channel_send_eof(f->f_dch);
		ssh_channel_close(f->f_dch);
	}
	f->f_state = SS_CLOSING;
	session_close(f->f_s, text != NULL && text[0] != '\0' ? text :
	    "closed");
}

/* ---- the event loop ---------------------------------------------------------------- */

static void
sshf_event(evutil_socket_t fd, short what, void *arg)
{
	struct sshf	*f = arg;
	uint64_t	 got = 0;
	int		 pass, waited = 0;

	/*
	 * Poll libssh again while the last poll read something (libssh
	 * reads 4 KiB at a time) or left it waiting to see a socket
	 * writable.  After each send it waits for that before it sends
	 * again, and the socket nearly always is: settled here, it costs
	 * one poll, where a write event costs two epoll_ctl calls and a
	 * wakeup per packet.  A socket still not writable after a poll
	 * that read nothing is left to the write event.
	 */
	for (pass = 0; pass < SSHF_PASSES; pass++) {
		if (f->f_s->s_closing)
			return;
		if (pass > 0 && sshf_sock_read(f) == got &&
		    (waited || !sshf_wants_write(f)))
			break;
		got = sshf_sock_read(f);
		waited = sshf_wants_write(f);
		if (ssh_event_dopoll(f->f_sev, 0) == SSH_ERROR &&
		    f->f_state != SS_RELAY) {
			log_debug("session %s: dopoll error in state %d: %s",
			    f->f_s->s_sid, f->f_state,
			    ssh_get_error(f->f_down));
			session_close(f->f_s, "vendor disconnected");
			return;
		}
		if (f->f_s->s_closing)
			return;		/* a callback ended it */
		sshf_pump(f);
		if (sshf_finished(f)) {
			if (f->f_state != SS_CLOSING) {
				f->f_state = SS_CLOSING;
				session_close(f->f_s, f->f_exit_fwd ?
				    "session ended" : "vendor disconnected");
			}
			return;
		}
	}
	sshf_rearm(f);
}

static uint64_t
sshf_sock_read(struct sshf *f)
{
	return f->f_sock_down.in_bytes + f->f_sock_up.in_bytes;
}

/* libssh has output to send, or waits to see a socket writable. */
static int
sshf_wants_write(struct sshf *f)
{
	if (ssh_get_poll_flags(f->f_down) & SSH_WRITE_PENDING)
		return 1;
	return f->f_up != NULL && f->f_state == SS_RELAY &&
	    (ssh_get_poll_flags(f->f_up) & SSH_WRITE_PENDING) != 0;
}

/*
 * Read events stay armed; a write event is added only while libssh has
 * output it could not send.  No event is rebuilt on the way.
 */
static void
sshf_watch(struct sshf *f, struct event **rev, struct event **wev,
    ssh_session sess)
{
	int	 want_write = (ssh_get_poll_flags(sess) & SSH_WRITE_PENDING) != 0;

	if (*rev == NULL) {
		*rev = event_new(f->f_s->s_base, ssh_get_fd(sess),
		    EV_READ | EV_PERSIST, sshf_event, f);
		*wev = event_new(f->f_s->s_base, ssh_get_fd(sess),
		    EV_WRITE | EV_PERSIST, sshf_event, f);
		event_add(*rev, NULL);
	}
	if (want_write != (event_pending(*wev, EV_WRITE, NULL) != 0)) {
		if (want_write)
			event_add(*wev, NULL);
		else
			event_del(*wev);
	}
}

static void
sshf_rearm(struct sshf *f)
{
	if (f->f_s->s_closing)
		return;
	sshf_watch(f, &f->f_ev_down, &f->f_ew_down, f->f_down);
	if (f->f_up != NULL && f->f_state == SS_RELAY)
		sshf_watch(f, &f->f_ev_up, &f->f_ew_up, f->f_up);
}

/* Login grace, window warnings and end, and a paused recorder. */
static void
sshf_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sshf	*f = arg;
	struct msg	*m;
	time_t		 now = time(NULL), left;
	char		 text[160];

	if (f->f_s->s_closing)
		return;
	if (!f->f_authed && now - f->f_started > SSHF_LOGIN_GRACE) {
		session_close(f->f_s, "login grace time over");
		return;
	}
	sshf_fwd_tick(f, now);
	if (f->f_state == SS_RELAY && now - f->f_stats_at >= SSHF_STATS_EVERY) {
		m = m_create(MSG_MON_STATS, 0, -1);
		m_add_i64(m, f->f_bytes_in);
		m_add_i64(m, f->f_bytes_out);
		msgchan_send(f->f_s->s_monitor, m);
		f->f_stats_at = now;
	}
	if (f->f_state == SS_RELAY && f->f_window_end > 0) {
		left = f->f_window_end - now;
		if (left <= 0) {
			sshf_end(f, 1, "Your maintenance window has ended: "
			    "Portier closes this session.");
			return;
		}
		if ((left <= 60 && f->f_warned < 2) ||
		    (left <= 600 && f->f_warned < 1)) {
			f->f_warned = left <= 60 ? 2 : 1;
			snprintf(text, sizeof(text), "Your maintenance window "
			    "ends in %lld minute%s; the session will then be "
			    "closed.", (long long)((left + 59) / 60),
			    left > 60 ? "s" : "");
			sshf_say(f, text);
		}
	}
	/* Pick up what waited for the recorder or a window to open. */
	sshf_event(-1, 0, f);
}

/* ---- the front end ------------------------------------------------------------------ */

static int
sshf_init(struct session *s)
{
	struct pt_config	*cf = s->s_conf;
	struct sshf		*f = &F;
	ssh_key			 key;
	int			 i, n = 0;

	memset(f, 0, sizeof(*f));
	f->f_s = s;
	f->f_exit_status = -1;
	f->f_upfd = -1;
	s->s_front_data = f;
	/* Everything that reads a file happens now, before the sandbox. */
	if (ssh_init() != SSH_OK)
		return -1;
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if ((f->f_bind = ssh_bind_new()) == NULL)
		return -1;
	for (i = 0; i < cf->cf_nhostkeys; i++) {
		if (ssh_pki_import_privkey_file(cf->cf_hostkeys[i], NULL, NULL,
		    NULL, &key) != SSH_OK) {
			log_warnx("host key %s cannot be read",
			    cf->cf_hostkeys[i]);
			continue;
		}
		if (ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_IMPORT_KEY,
		    key) == SSH_OK)
			n++;
	}
	if (n == 0)
		return -1;
	ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_KEY_EXCHANGE,
	    SSHF_KEX);
	ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_CIPHERS_C_S,
	    SSHF_CIPHERS);
	ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_CIPHERS_S_C,
	    SSHF_CIPHERS);
	ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_HMAC_C_S, SSHF_MACS);
	ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_HMAC_S_C, SSHF_MACS);
	ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
	    SSHF_HOSTKEYS);
	/* The product, not the library version, in the identification. */
	ssh_bind_options_set(f->f_bind, SSH_BIND_OPTIONS_BANNER,
	    "Portier_" PORTIER_VERSION);
	return 0;
}

static void
sshf_start(struct session *s)
{
	struct sshf	*f = &F;
	struct timeval	 tv = { 0, SSHF_TICK_MS * 1000 };
	long		 timeout = SSHF_KEX_TIMEOUT;

	f->f_started = time(NULL);
	if ((f->f_down = ssh_new()) == NULL ||
	    ssh_bind_accept_fd(f->f_bind, f->f_down, s->s_fd) != SSH_OK) {
		session_close(s, "cannot start SSH");
		return;
	}
	ssh_set_counters(f->f_down, &f->f_sock_down, NULL);
	ssh_options_set(f->f_down, SSH_OPTIONS_TIMEOUT, &timeout);
	memset(&f->f_scb, 0, sizeof(f->f_scb));
	f->f_scb.userdata = f;
	f->f_scb.channel_open_request_session_function = sshf_channel_open;
	ssh_callbacks_init(&f->f_scb);
	ssh_set_server_callbacks(f->f_down, &f->f_scb);
	ssh_set_message_callback(f->f_down, sshf_message, f);
	ssh_set_auth_methods(f->f_down, SSH_AUTH_METHOD_INTERACTIVE);
	if (ssh_handle_key_exchange(f->f_down) != SSH_OK) {
		log_info("session %s: key exchange with %s failed: %s",
		    s->s_sid, s->s_peer, ssh_get_error(f->f_down));
		session_close(s, "key exchange failed");
		return;
	}
	ssh_set_blocking(f->f_down, 0);
	f->f_sev = ssh_event_new();
	ssh_event_add_session(f->f_sev, f->f_down);
	f->f_tick = event_new(s->s_base, -1, EV_PERSIST, sshf_tick, f);
	event_add(f->f_tick, &tv);
	sshf_rearm(f);
}

static void
sshf_close(struct session *s, const char *why)
{
	struct sshf	*f = &F;
	int		 i;

	if (f->f_ev_down != NULL) {
		event_del(f->f_ev_down);
		event_del(f->f_ew_down);
	}
	if (f->f_ev_up != NULL) {
		event_del(f->f_ev_up);
		event_del(f->f_ew_up);
	}
	if (f->f_tick != NULL)
		event_del(f->f_tick);
	sshf_tally_end(f);
	if (f->f_sftp != NULL) {
		sftplog_free(f->f_sftp);	/* what is still open, then */
		f->f_sftp = NULL;
	}
	sshf_fwd_close(f);
	/* The target first, then the vendor, who may read what we said. */
	if (f->f_up != NULL) {
		if (f->f_uch != NULL && ssh_channel_is_open(f->f_uch))
			ssh_channel_close(f->f_uch);
		ssh_disconnect(f->f_up);
	}
	if (f->f_down != NULL) {
		ssh_set_blocking(f->f_down, 1);
		bq_flush(&f->f_qd, f->f_dch, 0);
		bq_flush(&f->f_qde, f->f_dch, 1);
		if (f->f_dch != NULL && ssh_channel_is_open(f->f_dch))
			ssh_channel_close(f->f_dch);
		/* What we said must reach the vendor before we hang up. */
		(void)ssh_blocking_flush(f->f_down, 2000);
		/* Let the client see the close before the disconnect. */
		for (i = 0; i < 10 && f->f_sev != NULL &&
		    !(ssh_get_status(f->f_down) &
		    (SSH_CLOSED | SSH_CLOSED_ERROR)); i++)
			if (ssh_event_dopoll(f->f_sev, 20) == SSH_ERROR)
				break;
		ssh_disconnect(f->f_down);
	}
}

const struct session_front session_front_ssh = {
	.sf_name = "ssh",
	.sf_proto = PT_PROTO_SSH,
	.sf_init = sshf_init,
	.sf_start = sshf_start,
	.sf_monitor = sshf_monitor,
	.sf_parent = sshf_parent,
	.sf_notice = sshf_notice,
	.sf_close = sshf_close,
};
