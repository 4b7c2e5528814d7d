/*
 * portierd.c: the parent process.
 *
 * It reads the configuration, binds the listening and control sockets,
 * starts the monitor, the recorder, the notifier and the control
 * process, and forks one session process per accepted connection.  It
 * holds no secret and parses no network byte.  It opens what needs
 * privilege (recording files, later upstream connections) and passes
 * descriptors down.  A core process that dies takes the daemon down
 * cleanly: nothing is restarted silently.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "portier.h"
#include "msg.h"
#include "store.h"
#include "recchain.h"

struct psession {
	TAILQ_ENTRY(psession)	 ps_entry;
	char			 ps_sid[PT_SID_LEN + 1];
	pid_t			 ps_pid;
	char			 ps_peer[80];
	time_t			 ps_started;
	int			 ps_ready;
	struct msgchan		*ps_chan;
};
TAILQ_HEAD(psessions, psession);

struct pt_runtime	 pt_rt;

static struct pt_config	*conf;
static struct event_base *base;
static struct msgchan	*chans[PROC_MAX];
static struct psessions	 sessions = TAILQ_HEAD_INITIALIZER(sessions);
static size_t		 nsessions;
static int		 shutting_down;

static void	parent_shutdown(int);

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: portierd [-dnv] [-f file]\n");
	exit(1);
}

/* ---- start-up, as root -------------------------------------------------- */

static int	parent_check_accounts(void);

static void
parent_resolve(void)
{
	struct passwd	*pw;
	struct group	*gr;
	char		**m;

	if (parent_check_accounts() == -1 ||
	    (pw = getpwnam(conf->cf_user)) == NULL ||
	    (gr = getgrnam(conf->cf_admin_group)) == NULL)
		fatalx("cannot start without them");
	pt_rt.rt_uid = pw->pw_uid;
	pt_rt.rt_gid = pw->pw_gid;
	pt_rt.rt_admin_gid = gr->gr_gid;
	for (m = gr->gr_mem; *m != NULL; m++) {
		if ((pw = getpwnam(*m)) == NULL)
			continue;
		pt_rt.rt_admin_uids = xreallocarray(pt_rt.rt_admin_uids,
		    pt_rt.rt_nadmin_uids + 1, sizeof(uid_t));
		pt_rt.rt_admin_uids[pt_rt.rt_nadmin_uids++] = pw->pw_uid;
	}
}

/* The accounts portierd runs as and answers to: each lack said, -1. */
static int
parent_check_accounts(void)
{
	struct passwd	*pw;
	int		 rv = 0;

	if ((pw = getpwnam(conf->cf_user)) == NULL) {
		log_warnx("unprivileged user \"%s\" does not exist; create it "
		    "with: useradd --system --no-create-home --shell "
		    "/usr/sbin/nologin %s", conf->cf_user, conf->cf_user);
		rv = -1;
	} else if (pw->pw_uid == 0) {
		log_warnx("user \"%s\" is root: portierd needs an "
		    "unprivileged user", conf->cf_user);
		rv = -1;
	}
	if (getgrnam(conf->cf_admin_group) == NULL) {
		log_warnx("admin group \"%s\" does not exist; create it with: "
		    "groupadd --system %s", conf->cf_admin_group,
		    conf->cf_admin_group);
		rv = -1;
	}
	return rv;
}

/* Create DIR (and missing parents) owned by root with MODE if absent. */
static void
parent_mkdir(const char *dir, mode_t mode)
{
	char	 path[PATH_MAX], *p;

	if (strlcpy(path, dir, sizeof(path)) >= sizeof(path))
		fatalx("path too long: %s", dir);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", path);
		*p = '/';
	}
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
}

static void
parent_dirname(const char *file, char *dir, size_t len)
{
	char	*slash;

	strlcpy(dir, file, len);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
}

static void
parent_prepare(void)
{
	char	 dir[PATH_MAX], err[256];

	parent_mkdir(conf->cf_chroot, 0755);
	parent_mkdir(conf->cf_recordings, 0700);
	parent_dirname(conf->cf_store, dir, sizeof(dir));
	parent_mkdir(dir, 0700);
	parent_dirname(conf->cf_control, dir, sizeof(dir));
	parent_mkdir(dir, 0755);
	if (access(conf->cf_vault_key, F_OK) == -1) {
		parent_dirname(conf->cf_vault_key, dir, sizeof(dir));
		parent_mkdir(dir, 0700);
		if (vault_key_create(conf->cf_vault_key, err,
		    sizeof(err)) == -1)
			fatalx("vault key: %s", err);
		log_info("created vault key %s", conf->cf_vault_key);
	}
	if (access(conf->cf_recording_key, F_OK) == -1) {
		parent_dirname(conf->cf_recording_key, dir, sizeof(dir));
		parent_mkdir(dir, 0755);
		if (recchain_key_create(conf->cf_recording_key, err,
		    sizeof(err)) == -1)
			fatalx("recording key: %s", err);
		log_info("created recording key %s (public key next to it)",
		    conf->cf_recording_key);
	}
}

static void
parent_listen(void)
{
	struct pt_listen	*ls;
	int			 fd, on = 1;

	TAILQ_FOREACH(ls, &conf->cf_listens, ls_entry) {
		fd = socket(ls->ls_ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			fatal("listen on %s: socket", ls->ls_name);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ls->ls_ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, (struct sockaddr *)&ls->ls_ss, ls->ls_sslen) == -1)
			fatal("listen on %s: bind", ls->ls_name);
		if (listen(fd, 128) == -1)
			fatal("listen on %s", ls->ls_name);
		ls->ls_fd = fd;
		log_info("listening on %s (%s)", ls->ls_name,
		    config_proto_name(ls->ls_proto));
	}
}

/*
 * The control socket: root and the admin group may connect; the control
 * process checks the peer's credentials again on every connection.
 */
static void
parent_control_socket(void)
{
	struct sockaddr_un	 sun;
	int			 fd;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, conf->cf_control, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("control socket path too long: %s", conf->cf_control);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		fatal("control socket");
	if (unlink(conf->cf_control) == -1 && errno != ENOENT)
		fatal("unlink %s", conf->cf_control);
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", conf->cf_control);
	umask(old);
	if (chown(conf->cf_control, 0, pt_rt.rt_admin_gid) == -1 ||
	    chmod(conf->cf_control, 0660) == -1)
		fatal("control socket %s permissions", conf->cf_control);
	if (listen(fd, 16) == -1)
		fatal("listen %s", conf->cf_control);
	pt_rt.rt_control_fd = fd;
}

static int	parent_dispatch(struct msgchan *, struct msg_in *);
static void	parent_chan_closed(struct msgchan *, const char *);

static int
int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * A child keeps stdio and the descriptors listed (-1 entries ignored),
 * and gets default signal dispositions back from libevent's handlers.
 */
static void
parent_child_setup(int *keepfds, size_t nkeepfds)
{
	unsigned int	 from = 3;
	size_t		 i, nkeep = 0;
	int		 keep[8];
	int		 sigs[] = { SIGCHLD, SIGHUP, SIGINT, SIGTERM };

	/* Syslog's socket stays: the child cannot reopen it in its chroot. */
	for (i = 0; i < nkeepfds && nkeep < 7; i++)
		keep[nkeep++] = keepfds[i];
	if (log_syslog_fd() != -1)
		keep[nkeep++] = log_syslog_fd();

	/*
	 * The parent's event base is shared with the child through fork:
	 * give the child its own epoll instance, then drop the base, so
	 * the parent's events and signal handlers go with it.
	 */
	if (base != NULL) {
		(void)event_reinit(base);
		event_base_free(base);
		base = NULL;
	}
	qsort(keep, nkeep, sizeof(int), int_cmp);
	for (i = 0; i < nkeep; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned int)keep[i] > from)
			(void)close_range(from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	(void)close_range(from, ~0U, 0);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
}

static void
parent_spawn_core(void)
{
	int	 pp[PROC_MAX][2], mc[2];	/* parent<->proc, monitor<->control */
	int	 id, keep[4];
	pid_t	 pid;

	for (id = PROC_MONITOR; id <= PROC_CONTROL; id++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    pp[id]) == -1)
			fatal("socketpair");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mc) == -1)
		fatal("socketpair");

	for (id = PROC_MONITOR; id <= PROC_CONTROL; id++) {
		int	 peer = -1;

		if (id == PROC_MONITOR)
			peer = mc[0];
		else if (id == PROC_CONTROL)
			peer = mc[1];
		switch ((pid = fork())) {
		case -1:
			fatal("fork %s", proc_name(id));
		case 0:
			pt_self = id;
			log_procname(proc_name(id));
			proc_setproctitle(proc_name(id));
			keep[0] = pp[id][1];
			keep[1] = peer;
			keep[2] = id == PROC_CONTROL ? pt_rt.rt_control_fd : -1;
			keep[3] = -1;
			parent_child_setup(keep, 4);
			pt_procs[id].p_run(conf, pp[id][1], peer);
			_exit(0);
		default:
			pt_procs[id].p_pid = pid;
			close(pp[id][1]);
			chans[id] = msgchan_new(base, pp[id][0], proc_name(id),
			    parent_dispatch, parent_chan_closed,
			    &pt_procs[id]);
		}
	}
	close(mc[0]);
	close(mc[1]);
	close(pt_rt.rt_control_fd);
	pt_rt.rt_control_fd = -1;
}

/* ---- sessions ----------------------------------------------------------- */

static struct psession *
session_find(const char *sid)
{
	struct psession	*ps;

	TAILQ_FOREACH(ps, &sessions, ps_entry)
		if (strcmp(ps->ps_sid, sid) == 0)
			return ps;
	return NULL;
}

static struct psession *
session_find_pid(pid_t pid)
{
	struct psession	*ps;

	TAILQ_FOREACH(ps, &sessions, ps_entry)
		if (ps->ps_pid == pid)
			return ps;
	return NULL;
}

static int
session_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct psession	*ps = mc->mc_arg;

	switch (mi->mi_type) {
	case MSG_SESS_READY:
		if (ps->ps_ready || m_end(mi) == -1)
			return -1;
		ps->ps_ready = 1;
		return 0;
	default:
		return -1;
	}
}

static void
session_chan_closed(struct msgchan *mc, const char *why)
{
	struct psession	*ps = mc->mc_arg;

	/* A session that breaks the protocol with its parent is ended. */
	if (strncmp(why, "protocol", 8) == 0) {
		log_warnx("session %s: %s; killing it", ps->ps_sid, why);
		kill(ps->ps_pid, SIGKILL);
	}
}

static void
parent_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct pt_listen	*ls = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	struct session_args	 sa;
	struct psession		*ps;
	struct msg		*m;
	int			 fd, ms[2], rs[2], ps2[2];
	pid_t			 pid;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on %s", ls->ls_name);
		return;
	}
	/* Keystrokes go out at once: no Nagle on an interactive session. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	memset(&sa, 0, sizeof(sa));
	sockaddr_str((struct sockaddr *)&ss, sslen, sa.sa_peer,
	    sizeof(sa.sa_peer));
	strlcpy(sa.sa_local, ls->ls_name, sizeof(sa.sa_local));
	if (shutting_down || nsessions >= (size_t)conf->cf_max_sessions) {
		log_warnx("connection from %s refused: %s", sa.sa_peer,
		    shutting_down ? "shutting down" : "too many sessions");
		close(fd);
		return;
	}
	sid_new(sa.sa_sid);
	sa.sa_proto = ls->ls_proto;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ms) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rs) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ps2) == -1) {
		log_warn("session %s: socketpair", sa.sa_sid);
		close(fd);
		return;
	}

	switch ((pid = fork())) {
	case -1:
		log_warn("session %s: fork", sa.sa_sid);
		close(fd);
		close(ms[0]); close(ms[1]);
		close(rs[0]); close(rs[1]);
		close(ps2[0]); close(ps2[1]);
		return;
	case 0: {
		int	 keep[4] = { fd, ms[1], rs[1], ps2[1] };

		pt_self = PROC_SESSION;
		log_procname("session");
		proc_setproctitle("session");
		parent_child_setup(keep, 4);
		sa.sa_client = fd;
		sa.sa_monitor = ms[1];
		sa.sa_recorder = rs[1];
		sa.sa_parent = ps2[1];
		session_run(conf, &sa);
		_exit(0);
	}
	default:
		break;
	}
	close(fd);
	close(ms[1]);
	close(rs[1]);
	close(ps2[1]);

	ps = xcalloc(1, sizeof(*ps));
	strlcpy(ps->ps_sid, sa.sa_sid, sizeof(ps->ps_sid));
	strlcpy(ps->ps_peer, sa.sa_peer, sizeof(ps->ps_peer));
	ps->ps_pid = pid;
	ps->ps_started = time(NULL);
	ps->ps_chan = msgchan_new(base, ps2[0], ps->ps_sid, session_dispatch,
	    session_chan_closed, ps);
	TAILQ_INSERT_TAIL(&sessions, ps, ps_entry);
	nsessions++;

	m = m_create(MSG_MON_SESSION_NEW, 0, ms[0]);
	m_add_str(m, sa.sa_sid);
	m_add_str(m, sa.sa_peer);
	m_add_str(m, sa.sa_local);
	m_add_u32(m, (uint32_t)pid);
	msgchan_send(chans[PROC_MONITOR], m);

	m = m_create(MSG_REC_SESSION_NEW, 0, rs[0]);
	m_add_str(m, sa.sa_sid);
	msgchan_send(chans[PROC_RECORDER], m);

	log_info("session %s: connection from %s on %s, pid %ld",
	    sa.sa_sid, sa.sa_peer, sa.sa_local, (long)pid);
}

static void
session_reaped(struct psession *ps, int status)
{
	char		 how[64];
	struct msg	*m;

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "session process killed by "
		    "signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(how, sizeof(how), "session process exited with "
		    "status %d", WEXITSTATUS(status));
	else
		strlcpy(how, "closed", sizeof(how));
	if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)
		log_warnx("session %s: %s", ps->ps_sid, how);
	else
		log_info("session %s: closed", ps->ps_sid);

	m = m_create(MSG_MON_SESSION_END, 0, -1);
	m_add_str(m, ps->ps_sid);
	m_add_str(m, how);
	msgchan_send(chans[PROC_MONITOR], m);

	TAILQ_REMOVE(&sessions, ps, ps_entry);
	nsessions--;
	msgchan_free(ps->ps_chan);
	free(ps);
}

/* ---- upstream connections ------------------------------------------------- */

#define UPSTREAM_TIMEOUT	10	/* seconds */

struct upstream {
	char		 up_sid[PT_SID_LEN + 1];
	char		 up_name[300];
	int		 up_fd;
	struct event	*up_ev;
};

static void
upstream_done(struct upstream *up, int err, const char *text)
{
	struct psession	*ps;
	struct msg	*m;
	char		 buf[512];

	if ((ps = session_find(up->up_sid)) == NULL) {
		if (up->up_fd != -1)
			close(up->up_fd);
	} else {
		if (err != 0) {
			snprintf(buf, sizeof(buf), "cannot reach %s: %s",
			    up->up_name, text);
			log_warnx("session %s: %s", up->up_sid, buf);
			if (up->up_fd != -1)
				close(up->up_fd);
			up->up_fd = -1;
		} else
			buf[0] = '\0';
		m = m_create(MSG_SESS_UPSTREAM, 0, up->up_fd);
		m_add_u32(m, (uint32_t)err);
		m_add_str(m, buf);
		msgchan_send(ps->ps_chan, m);
	}
	if (up->up_ev != NULL)
		event_free(up->up_ev);
	free(up);
}

static void
upstream_connected(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*up = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (ev & EV_TIMEOUT) {
		upstream_done(up, ETIMEDOUT, "connection timed out");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		/* The session expects a blocking socket (libssh). */
		int	 fl = fcntl(fd, F_GETFL);

		if (fl != -1)
			(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	upstream_done(up, err, strerror(err));
}

/*
 * Connect to a target for a session the monitor authorised.  The session
 * process has no connect() in its sandbox: the parent dials and passes
 * the socket down.  Names are resolved here with the system resolver.
 */
static int
parent_upstream(struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], host[256], port[8];
	struct addrinfo	 hints, *res = NULL;
	struct upstream	*up;
	struct timeval	 tv = { UPSTREAM_TIMEOUT, 0 };
	uint32_t	 p;
	int		 rc, on = 1;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, host, sizeof(host)) == -1 ||
	    m_get_u32(mi, &p) == -1 || m_end(mi) == -1 || p == 0 || p > 65535)
		return -1;
	up = xcalloc(1, sizeof(*up));
	strlcpy(up->up_sid, sid, sizeof(up->up_sid));
	snprintf(up->up_name, sizeof(up->up_name), "%s port %u", host, p);
	up->up_fd = -1;
	snprintf(port, sizeof(port), "%u", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		upstream_done(up, EHOSTUNREACH, gai_strerror(rc));
		return 0;
	}
	up->up_fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (up->up_fd == -1) {
		freeaddrinfo(res);
		upstream_done(up, errno, strerror(errno));
		return 0;
	}
	setsockopt(up->up_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	rc = connect(up->up_fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc == -1 && errno != EINPROGRESS) {
		upstream_done(up, errno, strerror(errno));
		return 0;
	}
	up->up_ev = event_new(base, up->up_fd, EV_WRITE, upstream_connected,
	    up);
	event_add(up->up_ev, &tv);
	return 0;
}

/* ---- messages from the core processes ----------------------------------- */

static int
parent_status(struct msgchan *mc, struct msg_in *mi)
{
	struct msg	*m;
	int		 id;
	uint32_t	 rid = mi->mi_id;

	if (m_end(mi) == -1)
		return -1;
	m = m_create(MSG_CTL_STATUS_INFO, rid, -1);
	m_add_str(m, PORTIER_VERSION);
	m_add_i64(m, pt_rt.rt_started);
	m_add_str(m, conf->cf_store);
	m_add_str(m, conf->cf_file);
	m_add_u32(m, (uint32_t)nsessions);
	msgchan_send(mc, m);

	m = m_create(MSG_CTL_STATUS_PROC, rid, -1);
	m_add_str(m, "parent");
	m_add_u32(m, (uint32_t)getpid());
	m_add_str(m, "");
	m_add_i64(m, pt_rt.rt_started);
	msgchan_send(mc, m);
	for (id = PROC_MONITOR; id <= PROC_CONTROL; id++) {
		m = m_create(MSG_CTL_STATUS_PROC, rid, -1);
		m_add_str(m, proc_name(id));
		m_add_u32(m, (uint32_t)pt_procs[id].p_pid);
		m_add_str(m, "");
		m_add_i64(m, pt_rt.rt_started);
		msgchan_send(mc, m);
	}
	{
		struct psession	*ps;

		TAILQ_FOREACH(ps, &sessions, ps_entry) {
			m = m_create(MSG_CTL_STATUS_PROC, rid, -1);
			m_add_str(m, "session");
			m_add_u32(m, (uint32_t)ps->ps_pid);
			m_add_str(m, ps->ps_sid);
			m_add_i64(m, ps->ps_started);
			msgchan_send(mc, m);
		}
	}
	msgchan_send(mc, m_create(MSG_CTL_END, rid, -1));
	return 0;
}

static int
parent_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct pt_proc	*p = mc->mc_arg;
	char		 sid[PT_SID_LEN + 1], why[256];
	struct psession	*ps;

	switch (p->p_id) {
	case PROC_MONITOR:
		if (mi->mi_type == MSG_PARENT_UPSTREAM)
			return parent_upstream(mi);
		if (mi->mi_type == MSG_NOTIFY_EVENT) {
			/* Passed on unread: the notifier checks it. */
			msgchan_send(chans[PROC_NOTIFIER], m_forward(mi, 0));
			return 0;
		}
		if (mi->mi_type == MSG_PARENT_REC_TARGET)
			return parent_rec_target(chans[PROC_RECORDER], mi);
		if (mi->mi_type != MSG_PARENT_KILL ||
		    m_get_str(mi, sid, sizeof(sid)) == -1 ||
		    m_get_str(mi, why, sizeof(why)) == -1 || m_end(mi) == -1)
			return -1;
		if ((ps = session_find(sid)) != NULL) {
			log_warnx("session %s: ended by the monitor: %s",
			    sid, why);
			kill(ps->ps_pid, SIGKILL);
		}
		return 0;
	case PROC_RECORDER:
		if (mi->mi_type == MSG_REC_SEALED)
			return parent_rec_sealed(chans[PROC_MONITOR], mi);
		if (mi->mi_type != MSG_REC_FILE_REQ)
			return -1;
		return parent_rec_file(mc, mi);
	case PROC_CONTROL:
		if (mi->mi_type != MSG_CTL_STATUS)
			return -1;
		return parent_status(mc, mi);
	default:
		return -1;
	}
}

static void
parent_chan_closed(struct msgchan *mc, const char *why)
{
	struct pt_proc	*p = mc->mc_arg;

	if (shutting_down)
		return;
	log_warnx("lost the %s process: %s; shutting down", p->p_title, why);
	parent_shutdown(1);
}

/* ---- signals and shutdown ----------------------------------------------- */

static void
parent_reap(void)
{
	struct psession	*ps;
	pid_t		 pid;
	int		 status, id;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((ps = session_find_pid(pid)) != NULL) {
			session_reaped(ps, status);
			continue;
		}
		for (id = PROC_MONITOR; id <= PROC_CONTROL; id++) {
			if (pt_procs[id].p_pid != pid)
				continue;
			pt_procs[id].p_pid = -1;
			if (shutting_down)
				break;
			if (WIFSIGNALED(status))
				log_warnx("%s process killed by signal %d; "
				    "shutting down", proc_name(id),
				    WTERMSIG(status));
			else
				log_warnx("%s process exited with status %d; "
				    "shutting down", proc_name(id),
				    WEXITSTATUS(status));
			parent_shutdown(1);
		}
	}
}

static int	exit_status;

static void
parent_shutdown(int status)
{
	struct psession	*ps;
	int		 id;

	if (shutting_down)
		return;
	shutting_down = 1;
	exit_status = status;
	TAILQ_FOREACH(ps, &sessions, ps_entry)
		kill(ps->ps_pid, SIGTERM);
	for (id = PROC_MONITOR; id <= PROC_CONTROL; id++)
		if (pt_procs[id].p_pid > 0)
			kill(pt_procs[id].p_pid, SIGTERM);
	event_base_loopexit(base, NULL);
}

static void
parent_signal(evutil_socket_t sig, short ev, void *arg)
{
	switch (sig) {
	case SIGCHLD:
		parent_reap();
		break;
	case SIGHUP:
		/*
		 * The monitor reads the policies again and applies them to
		 * the live sessions; listeners and paths need a restart.
		 */
		log_info("SIGHUP: reloading the policies");
		msgchan_send(chans[PROC_MONITOR], m_create(MSG_MON_RELOAD, 0,
		    -1));
		break;
	case SIGINT:
	case SIGTERM:
		log_info("received signal %d, shutting down", (int)sig);
		parent_shutdown(0);
		break;
	}
}

static void
parent_wait_children(void)
{
	struct psession	*ps;
	int		 i, id, left;
	pid_t		 pid;

	/* Give them two seconds, then SIGKILL. */
	for (i = 0; i < 40; i++) {
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
			if ((ps = session_find_pid(pid)) != NULL)
				ps->ps_pid = -1;
			for (id = PROC_MONITOR; id <= PROC_CONTROL; id++)
				if (pt_procs[id].p_pid == pid)
					pt_procs[id].p_pid = -1;
		}
		left = 0;
		TAILQ_FOREACH(ps, &sessions, ps_entry)
			left += ps->ps_pid > 0;
		for (id = PROC_MONITOR; id <= PROC_CONTROL; id++)
			left += pt_procs[id].p_pid > 0;
		if (left == 0)
			return;
		usleep(50000);
	}
	TAILQ_FOREACH(ps, &sessions, ps_entry)
		if (ps->ps_pid > 0)
			kill(ps->ps_pid, SIGKILL);
	for (id = PROC_MONITOR; id <= PROC_CONTROL; id++)
		if (pt_procs[id].p_pid > 0)
			kill(pt_procs[id].p_pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int
main(int argc, char *argv[])
{
	const char		*file = PT_CONF_FILE;
	struct pt_listen	*ls;
	struct event		*ev;
	int			 ch, debug = 0, check = 0, verbose = 0;
	int			 sigs[] = { SIGCHLD, SIGHUP, SIGINT, SIGTERM };
	size_t			 i;

	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	if ((conf = config_parse(file)) == NULL || config_check(conf) == -1) {
		fprintf(stderr, "portierd: %s: configuration has errors\n",
		    file);
		exit(1);
	}
	if (check) {
		if (parent_check_accounts() == -1) {
			fprintf(stderr, "portierd: %s: configuration has "
			    "errors\n", file);
			exit(1);
		}
		fprintf(stderr, "portierd: %s: configuration OK\n", file);
		exit(0);
	}
	if (geteuid() != 0)
		fatalx("must be started as root: portierd drops privileges "
		    "itself, process by process");

	log_init(debug, conf->cf_facility);
	parent_resolve();
	parent_prepare();
	parent_listen();
	parent_control_socket();
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	pt_rt.rt_foreground = debug;
	pt_rt.rt_started = time(NULL);
	signal(SIGPIPE, SIG_IGN);
	log_procname("parent");
	proc_setproctitle("parent");

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	parent_spawn_core();
	parent_rec_init(conf, base);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev = evsignal_new(base, sigs[i], parent_signal, NULL);
		if (ev == NULL || event_add(ev, NULL) == -1)
			fatalx("cannot watch signal %d", sigs[i]);
	}
	TAILQ_FOREACH(ls, &conf->cf_listens, ls_entry) {
		ev = event_new(base, ls->ls_fd, EV_READ | EV_PERSIST,
		    parent_accept, ls);
		if (ev == NULL || event_add(ev, NULL) == -1)
			fatalx("cannot watch %s", ls->ls_name);
	}
	log_info("portierd %s started", PORTIER_VERSION);
	event_base_dispatch(base);
	parent_wait_children();
	if (unlink(conf->cf_control) == -1 && errno != ENOENT)
		log_warn("unlink %s", conf->cf_control);
	log_info("portierd stopped");
	return exit_status;
}
