/*
 * session-ssh-ask.c: when the bastion itself has the vendor's terminal.
 *
 * Before a target is reached, Portier talks to the vendor directly: the
 * menu of their targets (ssh jdoe@bastion), and, when no window is open
 * on the target they named, the questions that file a request to
 * hospital IT (a reason, a duration, an emergency or not) and the wait
 * for IT's answer in the same session, Ctrl-C to give up.  Without a
 * terminal, two commands do the same ahead of time:
 *
 *	ssh jdoe@bastion request pacs-01 --for 2h --reason "..." \
 *	    [--from "2026-12-01 20:00"] [--emergency]
 *	ssh jdoe@bastion requests
 *
 * Everything here is vendor input in the sandboxed session; the monitor
 * checks every field again before anything is filed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portier.h"
#include "msg.h"
#include "session.h"
#include "session-ssh.h"

#define ASK_DEFAULT	3600	/* the duration offered */
#define CMD_ARGS_MAX	16

enum ask_question {
	ASK_REASON = 1,
	ASK_DURATION,
	ASK_EMERGENCY,
};

static struct msg_in	 call_in;	/* answers to session_call() */

/* Text for the vendor's terminal, as is (no bastion mark). */
static void
ask_put(struct sshf *f, const char *text)
{
	bq_push(&f->f_qd, text, strlen(text));
	bq_flush(&f->f_qd, f->f_dch, 0);
}

/* ---- the menu ---------------------------------------------------------------- */

void
sshf_menu(struct sshf *f)
{
	char		 name[PT_NAME_MAX], proto[16], status[128], line[256];
	struct msg	*m = m_create(MSG_MON_TARGETS, 0, -1);
	uint32_t	 open;
	int		 n = 0;

	snprintf(line, sizeof(line), "Targets for %s:\r\n", f->f_login);
	bq_push(&f->f_qd, line, strlen(line));
	for (;;) {
		if (session_call(f->f_s, m, MSG_MON_TARGET,
		    MSG_MON_TARGETS_END, &call_in) == -1) {
			sshf_end(f, 1, "Portier cannot list your targets now; "
			    "try again later.");
			return;
		}
		m = NULL;
		if (call_in.mi_type == MSG_MON_TARGETS_END)
			break;
		if (m_get_str(&call_in, name, sizeof(name)) == -1 ||
		    m_get_str(&call_in, proto, sizeof(proto)) == -1 ||
		    m_get_str(&call_in, status, sizeof(status)) == -1 ||
		    m_get_u32(&call_in, &open) == -1 ||
		    m_end(&call_in) == -1) {
			sshf_end(f, 1, "Portier cannot list your targets now.");
			return;
		}
		m_in_clear(&call_in);
		if (n == SSHF_MAX_TARGETS)
			continue;
		strlcpy(f->f_targets[n], name, PT_NAME_MAX);
		snprintf(line, sizeof(line), "  %2d) %-20s %-4s %s\r\n",
		    n + 1, name, proto, status);
		bq_push(&f->f_qd, line, strlen(line));
		n++;
	}
	m_in_clear(&call_in);
	f->f_ntargets = n;
	if (n == 0) {
		sshf_end(f, 1, "No target is assigned to you; ask hospital "
		    "IT.");
		return;
	}
	strlcpy(line, "Choose a target (number or name, q to quit): ",
	    sizeof(line));
	bq_push(&f->f_qd, line, strlen(line));
	f->f_linelen = 0;
	f->f_state = SS_SELECT;
	bq_flush(&f->f_qd, f->f_dch, 0);
}

/* ---- asking for a window -------------------------------------------------------- */

static void
ask_prompt(struct sshf *f, enum ask_question q)
{
	char	 line[256], max[16], dflt[16];
	int64_t	 limit = f->f_approval_max > 0 ? f->f_approval_max :
	    f->f_emergency_max;

	f->f_ask = q;
	f->f_linelen = 0;
	switch (q) {
	case ASK_REASON:
		ask_put(f, "Reason (required; Ctrl-C to cancel): ");
		break;
	case ASK_DURATION:
		snprintf(line, sizeof(line), "Duration, at most %s [%s]: ",
		    policy_duration_str(limit, max, sizeof(max)),
		    policy_duration_str(limit < ASK_DEFAULT ? limit :
		    ASK_DEFAULT, dflt, sizeof(dflt)));
		ask_put(f, line);
		break;
	case ASK_EMERGENCY:
		ask_put(f, f->f_approval_max > 0 ?
		    "Is this an emergency that cannot wait for hospital IT? "
		    "Emergency access opens now, is flagged and reviewed "
		    "[no]: " :
		    "Only emergency access is possible: it opens now, is "
		    "flagged and reviewed. Open it? [no]: ");
		break;
	}
}

void
sshf_ask_start(struct sshf *f, const char *why, int64_t approval_max,
    int64_t emergency_max)
{
	char	 line[700], max[16];

	if (f->f_req != REQ_SHELL || !f->f_pty || f->f_dch == NULL) {
		snprintf(line, sizeof(line), "%s To ask hospital IT for one: "
		    "ssh %s@bastion request %s --for 1h --reason \"...\", or "
		    "connect with a terminal to ask and wait.", why,
		    f->f_login, f->f_target);
		sshf_end(f, 1, line);
		return;
	}
	f->f_approval_max = approval_max;
	f->f_emergency_max = emergency_max;
	sshf_say(f, why);
	if (approval_max > 0)
		snprintf(line, sizeof(line), "You may ask hospital IT for a "
		    "window of up to %s and wait here for the answer.\r\n",
		    policy_duration_str(approval_max, max, sizeof(max)));
	else
		snprintf(line, sizeof(line), "Your vendor's policy allows "
		    "emergency access only, up to %s.\r\n",
		    policy_duration_str(emergency_max, max, sizeof(max)));
	ask_put(f, line);
	f->f_state = SS_ASK;
	ask_prompt(f, ASK_REASON);
}

static void
ask_send(struct sshf *f, int emergency)
{
	struct msg	*m = m_create(MSG_MON_REQUEST, 0, -1);

	m_add_str(m, f->f_target);
	m_add_str(m, f->f_reason);
	m_add_i64(m, f->f_duration);
	m_add_str(m, "");
	m_add_u32(m, emergency);
	m_add_u32(m, 1);	/* and wait here */
	msgchan_send(f->f_s->s_monitor, m);
	session_record(f->f_s, 'm', "request filed", 13);
	f->f_state = SS_REQUESTING;
}

static int
ask_yes(const char *s)
{
	return strcasecmp(s, "y") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "o") == 0 || strcasecmp(s, "oui") == 0;
}

/* The vendor answered the question on screen. */
static void
ask_answer(struct sshf *f, const char *line)
{
	int64_t	 limit, d;
	char	 max[16], text[128];

	switch (f->f_ask) {
	case ASK_REASON:
		while (*line == ' ')
			line++;
		if (*line == '\0') {
			ask_prompt(f, ASK_REASON);
			return;
		}
		strlcpy(f->f_reason, line, sizeof(f->f_reason));
		ask_prompt(f, ASK_DURATION);
		return;
	case ASK_DURATION:
		limit = f->f_approval_max > 0 ? f->f_approval_max :
		    f->f_emergency_max;
		d = line[0] == '\0' ? (limit < ASK_DEFAULT ? limit :
		    ASK_DEFAULT) : policy_duration(line, limit);
		/* A bare number would be seconds: ask for a unit. */
		if (line[0] != '\0' && line[strlen(line) - 1] >= '0' &&
		    line[strlen(line) - 1] <= '9')
			d = -1;
		if (d == -1 || d == 0) {
			ask_put(f, "A duration is a number with m or h, as "
			    "30m or 2h.\r\n");
			ask_prompt(f, ASK_DURATION);
			return;
		}
		if (d < 0) {
			snprintf(text, sizeof(text), "That is longer than your "
			    "policy allows: at most %s.\r\n",
			    policy_duration_str(limit, max, sizeof(max)));
			ask_put(f, text);
			ask_prompt(f, ASK_DURATION);
			return;
		}
		f->f_duration = d;
		if (f->f_emergency_max > 0) {
			ask_prompt(f, ASK_EMERGENCY);
			return;
		}
		ask_send(f, 0);
		return;
	case ASK_EMERGENCY:
		if (ask_yes(line)) {
			ask_send(f, 1);
			return;
		}
		if (f->f_approval_max == 0) {
			sshf_end(f, 1, "Cancelled: no request filed.");
			return;
		}
		ask_send(f, 0);
		return;
	}
}

int
sshf_request_result(struct sshf *f, struct msg_in *mi)
{
	char		 text[SSHF_LINE_MAX * 16];
	uint32_t	 ok;
	int64_t		 id;

	if ((f->f_state != SS_REQUESTING && f->f_state != SS_COMMAND) ||
	    m_get_u32(mi, &ok) == -1 || m_get_i64(mi, &id) == -1 ||
	    m_get_str(mi, text, sizeof(text)) == -1 || m_end(mi) == -1)
		return -1;
	if (f->f_state == SS_COMMAND) {
		/* The answer to a command: printed, and the exit status. */
		ask_put(f, text);
		if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
			ask_put(f, "\r\n");
		sshf_end(f, ok ? 0 : 1, NULL);
		return 0;
	}
	if (!ok) {
		sshf_end(f, 1, text);
		return 0;
	}
	f->f_request = id;
	sshf_say(f, text);
	if (ok == 1)
		ask_put(f, "Waiting for hospital IT to decide... (Ctrl-C to "
		    "cancel)\r\n");
	f->f_state = SS_WAIT;
	return 0;
}

/* ---- the line editor ------------------------------------------------------------ */

static void
line_done(struct sshf *f)
{
	long	 k;
	char	*end;

	if (f->f_state == SS_ASK) {
		ask_answer(f, f->f_line);
		return;
	}
	k = strtol(f->f_line, &end, 10);
	if (strcmp(f->f_line, "q") == 0) {
		sshf_end(f, 0, "Bye.");
		return;
	}
	if (*end == '\0' && k >= 1 && k <= f->f_ntargets)
		strlcpy(f->f_target, f->f_targets[k - 1], sizeof(f->f_target));
	else if (f->f_linelen > 0)
		strlcpy(f->f_target, f->f_line, sizeof(f->f_target));
	else {
		ask_put(f, "Choose a target: ");
		return;
	}
	session_record(f->f_s, 'i', f->f_target, strlen(f->f_target));
	sshf_authz(f);
}

/*
 * The vendor types at a prompt of the bastion's; we echo, since the
 * terminal is raw.  Returns how many bytes were taken: what follows a
 * choice of target is for the target, and libssh keeps it.
 */
int
sshf_line_input(struct sshf *f, const uint8_t *p, uint32_t len)
{
	uint32_t	 i;
	enum sshf_state	 state = f->f_state;

	for (i = 0; i < len && f->f_state == state; i++) {
		if (p[i] == 0x03 || p[i] == 0x04) {	/* ^C, ^D */
			if (f->f_state == SS_WAIT) {
				msgchan_send(f->f_s->s_monitor,
				    m_create(MSG_MON_REQUEST_CANCEL, 0, -1));
				sshf_end(f, 1, "Cancelled: your request was "
				    "withdrawn.");
			} else
				sshf_end(f, 1, "Cancelled.");
			return (int)len;
		}
		if (f->f_state == SS_WAIT)
			continue;	/* nothing to type while IT decides */
		if (p[i] == '\r' || p[i] == '\n') {
			f->f_line[f->f_linelen] = '\0';
			bq_push(&f->f_qd, "\r\n", 2);
			line_done(f);
			if (f->f_state == state)
				continue;
			if (i + 1 < len && f->f_state == SS_AUTHZ)
				f->f_d_pending = 1;
			return (int)(i + 1);
		}
		if ((p[i] == 0x7f || p[i] == 0x08) && f->f_linelen > 0) {
			/* One character back, UTF-8 continuation bytes too. */
			while (f->f_linelen > 1 &&
			    (f->f_line[f->f_linelen - 1] & 0xc0) == 0x80)
				f->f_linelen--;
			f->f_linelen--;
			bq_push(&f->f_qd, "\b \b", 3);
			continue;
		}
		/* Printable ASCII; UTF-8 only in a reason. */
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] >= 0x80 && f->f_state != SS_ASK) ||
		    f->f_linelen + 1 >= sizeof(f->f_line) ||
		    (f->f_state == SS_SELECT &&
		    f->f_linelen + 1 >= PT_NAME_MAX))
			continue;
		f->f_line[f->f_linelen++] = (char)p[i];
		bq_push(&f->f_qd, &p[i], 1);
	}
	if (!f->f_s->s_closing)
		bq_flush(&f->f_qd, f->f_dch, 0);
	return (int)len;
}

/* Typed before the prompt was up: libssh kept it, the prompt takes it. */
void
sshf_line_pending(struct sshf *f)
{
	static uint8_t	 buf[4096];
	int		 n, used;

	f->f_d_pending = 0;
	n = ssh_channel_read_nonblocking(f->f_dch, buf, sizeof(buf), 0);
	if (n <= 0)
		return;
	used = sshf_line_input(f, buf, (uint32_t)n);
	if (used < n && f->f_state == SS_AUTHZ) {
		/* Typed ahead for the target: it goes there next. */
		bq_push(&f->f_qu, buf + used, (size_t)(n - used));
		session_record(f->f_s, 'i', buf + used, (size_t)(n - used));
	}
}

/* ---- commands for the bastion ----------------------------------------------------- */

static const char cmd_usage[] =
    "To run a command on a target: ssh LOGIN@TARGET@bastion COMMAND\r\n"
    "Commands for the bastion itself (ssh LOGIN@bastion COMMAND):\r\n"
    "  request TARGET --for DURATION --reason TEXT [--from \"YYYY-MM-DD "
    "HH:MM\"] [--emergency]\r\n"
    "      ask hospital IT for a window on TARGET (now, or from a time, "
    "in your timezone)\r\n"
    "  requests\r\n"
    "      list your requests and what became of them\r\n"
    "Without a command, ssh LOGIN@bastion shows your targets.\r\n";

static void
cmd_fail(struct sshf *f, const char *text)
{
	bq_push(&f->f_qde, text, strlen(text));
	bq_push(&f->f_qde, "\r\n", 2);
	bq_push(&f->f_qde, cmd_usage, sizeof(cmd_usage) - 1);
	bq_flush(&f->f_qde, f->f_dch, 1);
	sshf_end(f, 2, NULL);
}

void
sshf_command(struct sshf *f)
{
	char		 buf[4096], *argv[CMD_ARGS_MAX], *target = NULL;
	char		*reason = NULL, *from = "", *dur = NULL, err[160];
	struct msg	*m;
	int64_t		 secs;
	int		 argc, i, emergency = 0;

	session_record(f->f_s, 'i', f->f_req_arg, strlen(f->f_req_arg));
	argc = cmdline_split(f->f_req_arg, argv, CMD_ARGS_MAX, buf,
	    sizeof(buf));
	if (argc == -1) {
		cmd_fail(f, "Portier: the command line does not parse (quotes?)");
		return;
	}
	f->f_state = SS_COMMAND;
	if (argc == 1 && strcmp(argv[0], "requests") == 0) {
		msgchan_send(f->f_s->s_monitor,
		    m_create(MSG_MON_REQUESTS, 0, -1));
		return;
	}
	if (argc < 1 || strcmp(argv[0], "request") != 0) {
		cmd_fail(f, argc > 0 && strcmp(argv[0], "help") == 0 ? "" :
		    "Portier: no target given, and no command for the "
		    "bastion.");
		return;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--emergency") == 0)
			emergency = 1;
		else if (i + 1 < argc && strcmp(argv[i], "--for") == 0)
			dur = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--reason") == 0)
			reason = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--from") == 0)
			from = argv[++i];
		else if (argv[i][0] != '-' && target == NULL)
			target = argv[i];
		else {
			snprintf(err, sizeof(err), "Portier: what is \"%.64s\"?",
			    argv[i]);
			cmd_fail(f, err);
			return;
		}
	}
	if (target == NULL || reason == NULL || dur == NULL) {
		cmd_fail(f, "Portier: request needs a TARGET, --for and "
		    "--reason.");
		return;
	}
	if ((secs = policy_duration(dur, 365 * 86400)) <= 0) {
		cmd_fail(f, "Portier: --for takes a duration, as 30m or 2h.");
		return;
	}
	m = m_create(MSG_MON_REQUEST, 0, -1);
	m_add_str(m, target);
	m_add_str(m, reason);
	m_add_i64(m, secs);
	m_add_str(m, from);
	m_add_u32(m, emergency);
	m_add_u32(m, 0);
	msgchan_send(f->f_s->s_monitor, m);
}
