/*
 * control.c: the process behind the control socket.
 *
 * portierctl connects to a unix socket that only root and the admin
 * group can open; this process checks the peer's credentials again
 * (SO_PEERCRED) and relays each request to the process that can answer
 * it: status to the parent, audit to the monitor.  It runs unprivileged,
 * chrooted and sandboxed, holds nothing, and decides nothing.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "portier.h"
#include "msg.h"

#define CONTROL_CLIENTS_MAX	32

struct cclient {
	TAILQ_ENTRY(cclient)	 cc_entry;
	uint32_t		 cc_id;
	uid_t			 cc_uid;
	struct msgchan		*cc_chan;
	char			 cc_name[32];
};
TAILQ_HEAD(cclients, cclient);

static struct event_base *base;
static struct msgchan	*parent_chan, *monitor_chan;
static struct cclients	 clients = TAILQ_HEAD_INITIALIZER(clients);
static size_t		 nclients;
static uint32_t		 next_id = 1;

static struct cclient *
control_find(uint32_t id)
{
	struct cclient	*cc;

	TAILQ_FOREACH(cc, &clients, cc_entry)
		if (cc->cc_id == id)
			return cc;
	return NULL;
}

static int
control_is_admin(uid_t uid, gid_t gid)
{
	size_t	 i;

	if (uid == 0 || gid == pt_rt.rt_admin_gid)
		return 1;
	for (i = 0; i < pt_rt.rt_nadmin_uids; i++)
		if (pt_rt.rt_admin_uids[i] == uid)
			return 1;
	return 0;
}

static int
control_client_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct cclient	*cc = mc->mc_arg;

	switch (mi->mi_type) {
	case MSG_CTL_STATUS:
		msgchan_send(parent_chan, m_forward(mi, cc->cc_id));
		return 0;
	case MSG_CTL_AUDIT:
	case MSG_CTL_AUDIT_VERIFY:
		msgchan_send(monitor_chan, m_forward(mi, cc->cc_id));
		return 0;
	default:
		if (!msg_ctl_admin(mi->mi_type))
			return -1;
		/* The monitor learns who asks from the kernel, not from
		 * the client: the uid goes in front of the payload. */
		msgchan_send(monitor_chan, m_forward_uid(mi, cc->cc_id,
		    (uint32_t)cc->cc_uid));
		return 0;
	}
}

static void
control_client_free(struct cclient *cc)
{
	TAILQ_REMOVE(&clients, cc, cc_entry);
	nclients--;
	msgchan_free(cc->cc_chan);
	free(cc);
}

static void
control_client_closed(struct msgchan *mc, const char *why)
{
	struct cclient	*cc = mc->mc_arg;

	if (strncmp(why, "protocol", 8) == 0)
		log_warnx("control client uid %u: %s", (unsigned)cc->cc_uid,
		    why);
	control_client_free(cc);
}

static void
control_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	struct cclient	*cc;
	struct msgchan	*mc;
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		close(fd);
		return;
	}
	if (!control_is_admin(cred.uid, cred.gid)) {
		struct msg	*m;
		char		 text[160];

		log_warnx("control: refused uid %u: not root nor in the "
		    "admin group", (unsigned)cred.uid);
		snprintf(text, sizeof(text), "permission denied: uid %u is "
		    "not an administrator (root or the admin group)",
		    (unsigned)cred.uid);
		m = m_create(MSG_CTL_ERROR, 0, -1);
		m_add_str(m, text);
		(void)msg_send(fd, m);
		close(fd);
		return;
	}
	if (nclients >= CONTROL_CLIENTS_MAX) {
		struct msg	*m = m_create(MSG_CTL_ERROR, 0, -1);

		m_add_str(m, "too many control clients; try again");
		(void)msg_send(fd, m);
		close(fd);
		return;
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->cc_id = next_id++;
	if (next_id == 0)
		next_id = 1;
	cc->cc_uid = cred.uid;
	snprintf(cc->cc_name, sizeof(cc->cc_name), "client %u", cc->cc_id);
	TAILQ_INSERT_TAIL(&clients, cc, cc_entry);
	nclients++;
	mc = msgchan_new(base, fd, cc->cc_name, control_client_dispatch,
	    control_client_closed, cc);
	cc->cc_chan = mc;
}

/* Answers from the parent or the monitor go back to whoever asked. */
static int
control_core_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct cclient	*cc;

	switch (mi->mi_type) {
	case MSG_CTL_STATUS_INFO:
	case MSG_CTL_STATUS_PROC:
	case MSG_CTL_AUDIT_ROW:
	case MSG_CTL_AUDIT_MORE:
	case MSG_CTL_AUDIT_VERIFY_RESULT:
	case MSG_CTL_USER_INFO:
	case MSG_CTL_TOTP_URI:
	case MSG_CTL_TARGET_KEY:
	case MSG_CTL_REQUEST_INFO:
	case MSG_CTL_GRANT_INFO:
	case MSG_CTL_SESSION_INFO:
	case MSG_CTL_RECORDING_INFO:
	case MSG_CTL_OK:
	case MSG_CTL_END:
	case MSG_CTL_ERROR:
		break;
	default:
		return -1;
	}
	if ((cc = control_find(mi->mi_id)) == NULL) {
		mi->mi_p = mi->mi_end;	/* the client left meanwhile */
		return 0;
	}
	msgchan_send(cc->cc_chan, m_forward(mi, mi->mi_id));
	return 0;
}

static void
control_core_closed(struct msgchan *mc, const char *why)
{
	log_warnx("channel to %s closed: %s", mc->mc_name, why);
	event_base_loopexit(base, NULL);
}

static void
control_signal(evutil_socket_t sig, short ev, void *arg)
{
	event_base_loopexit(base, NULL);
}

void
control_run(struct pt_config *cf, int parent_fd, int monitor_fd)
{
	struct event	*ev, *sev;
	struct cclient	*cc;

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	sev = evsignal_new(base, SIGTERM, control_signal, NULL);
	event_add(sev, NULL);
	signal(SIGINT, SIG_IGN);
	proc_drop_privs(cf, cf->cf_chroot);
	sandbox_apply(SANDBOX_CONTROL);

	parent_chan = msgchan_new(base, parent_fd, "parent",
	    control_core_dispatch, control_core_closed, NULL);
	monitor_chan = msgchan_new(base, monitor_fd, "monitor",
	    control_core_dispatch, control_core_closed, NULL);
	fd_nonblock(pt_rt.rt_control_fd);
	ev = event_new(base, pt_rt.rt_control_fd, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	event_add(ev, NULL);
	event_base_dispatch(base);
	while ((cc = TAILQ_FIRST(&clients)) != NULL)
		control_client_free(cc);
	/* _exit: the sanitizers' exit-time checks need system calls the
	 * sandbox forbids; this process's code is checked by the tests. */
	_exit(0);
}
