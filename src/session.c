/*
 * session.c: the process that serves one vendor connection.
 *
 * It starts as a child of the parent, lets its protocol front end load
 * what it needs from disk (host keys), then drops everything: chroot to
 * an empty directory, an unprivileged uid, no core dumps, no new
 * privileges, and a seccomp filter that kills on any system call it does
 * not need.  Only then does it read a byte from the vendor.
 *
 * It has three channels: the monitor (every decision), the recorder
 * (everything the vendor sends and sees), the parent (descriptors it may
 * not open itself).  Losing the monitor or the recorder ends the session:
 * no decision, no record, no access.
 *
 * The protocol itself lives in a front end (session-ssh.c, later
 * session-rdp.c); this file is what they share.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "portier.h"
#include "digest.h"
#include "msg.h"
#include "session.h"

static struct session	 sess;

static const struct session_front *fronts[] = {
	&session_front_ssh,
};

static const struct session_front *
session_front_find(enum pt_proto proto)
{
	size_t	 i;

	for (i = 0; i < sizeof(fronts) / sizeof(fronts[0]); i++)
		if (fronts[i]->sf_proto == proto)
			return fronts[i];
	return NULL;
}

int64_t
session_elapsed_us(struct session *s)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - s->s_t0.tv_sec) * 1000000 +
	    (now.tv_nsec - s->s_t0.tv_nsec) / 1000;
}

/* The events gathered so far, behind what is already queued. */
static void
session_rec_queue(struct session *s)
{
	struct msg	*m = s->s_rec_batch;

	if (m == NULL)
		return;
	s->s_rec_batch = NULL;
	if (msgchan_queue(s->s_recorder, m) == -1)
		session_close(s, "recording unavailable");
}

static void
session_rec_push(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;

	session_rec_queue(s);
	msgchan_push(s->s_recorder);
}

/*
 * Events go to the recorder several to a message, each with the time it
 * happened, a moment later (SESSION_REC_DELAY_US) or as soon as
 * SESSION_REC_BATCH bytes wait: in a terminal session every keystroke and
 * every echo would otherwise be a message of its own and wake the
 * recorder twice per round trip, on the CPUs the relay needs.  A write
 * that fails still ends the session (the channel's closed callback).
 */
void
session_record(struct session *s, char stream, const void *data, size_t len)
{
	static const struct timeval	 delay = { 0, SESSION_REC_DELAY_US };
	const uint8_t	*p = data;
	size_t		 n;

	/* Split so that every message stays well under MSG_MAX_SIZE. */
	while (len > 0) {
		n = len > SESSION_REC_CHUNK ? SESSION_REC_CHUNK : len;
		if (s->s_rec_batch != NULL &&
		    s->s_rec_batch->m_len + n > SESSION_REC_BATCH)
			session_rec_queue(s);
		if (s->s_recorder->mc_dead) {
			session_close(s, "recording unavailable");
			return;
		}
		if (s->s_rec_batch == NULL)
			s->s_rec_batch = m_create(MSG_REC_DATA, 0, -1);
		m_add_u32(s->s_rec_batch, (uint32_t)(unsigned char)stream);
		m_add_i64(s->s_rec_batch, session_elapsed_us(s));
		m_add_data(s->s_rec_batch, p, n);
		p += n;
		len -= n;
	}
	if (s->s_rec_batch != NULL &&
	    s->s_rec_batch->m_len >= SESSION_REC_BATCH) {
		session_rec_queue(s);
		msgchan_push(s->s_recorder);
	} else if (!evtimer_pending(s->s_rec_timer, NULL))
		evtimer_add(s->s_rec_timer, &delay);
}

void
session_close(struct session *s, const char *why)
{
	if (s->s_closing)
		return;
	s->s_closing = 1;
	strlcpy(s->s_close_why, why, sizeof(s->s_close_why));
	log_info("session %s: %s", s->s_sid, why);
	event_base_loopexit(s->s_base, NULL);
}

/*
 * After the loop: the front end says goodbye to its peers and writes
 * its last lines, then the recording is closed.  Never from inside a
 * callback, whose library (libssh) would go on with what was freed.
 */
static void
session_finish(struct session *s)
{
	struct msg	*m;

	if (!s->s_closing) {
		s->s_closing = 1;
		strlcpy(s->s_close_why, "closed", sizeof(s->s_close_why));
	}
	if (s->s_front->sf_close != NULL)
		s->s_front->sf_close(s, s->s_close_why);
	if (!s->s_monitor->mc_dead) {
		m = m_create(MSG_MON_BYE, 0, -1);
		m_add_str(m, s->s_close_why);
		msgchan_send(s->s_monitor, m);
	}
	session_rec_queue(s);
	if (!s->s_recorder->mc_dead && !s->s_rec_closed) {
		s->s_rec_closed = 1;
		m = m_create(MSG_REC_CLOSE, 0, -1);
		m_add_i64(m, session_elapsed_us(s));
		m_add_str(m, s->s_close_why);
		msgchan_send(s->s_recorder, m);
	}
	msgchan_flush(s->s_recorder);
	msgchan_flush(s->s_monitor);
}

/*
 * Ask the monitor and wait for its answer of type WANT.  For the few
 * questions libssh makes us answer before a callback returns (a login
 * prompt); anything else the monitor says meanwhile goes to the front end.
 */
int
session_call(struct session *s, struct msg *m, enum msg_type want,
    enum msg_type alt, struct msg_in *mi)
{
	struct msgchan	*mc = s->s_monitor;
	struct pollfd	 pfd;
	const char	*why = "";
	int		 n;

	if (m != NULL && msgchan_send(mc, m) == -1)
		return -1;
	msgchan_flush(mc);
	for (;;) {
		if (mc->mc_dead)
			return -1;
		pfd.fd = mc->mc_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, SESSION_CALL_TIMEOUT * 1000)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0) {
			log_warnx("session %s: the monitor did not answer %s",
			    s->s_sid, msg_name(want));
			return -1;
		}
		if (msg_recv(mc->mc_fd, mi, &why) == -1) {
			log_warnx("session %s: monitor: %s", s->s_sid, why);
			return -1;
		}
		if (mi->mi_type == want || (alt != 0 && mi->mi_type == alt))
			return 0;
		if (s->s_front->sf_monitor == NULL ||
		    s->s_front->sf_monitor(s, mi) == -1 || m_end(mi) == -1)
			return -1;
		m_in_clear(mi);
	}
}

static int
session_monitor_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct session	*s = mc->mc_arg;

	if (s->s_closing)
		return 0;	/* too late: the loop is ending */
	if (s->s_front->sf_monitor == NULL)
		return -1;
	return s->s_front->sf_monitor(s, mi);
}

static int
session_recorder_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct session	*s = mc->mc_arg;
	char		 why[256];

	if (mi->mi_type != MSG_REC_FAIL ||
	    m_get_str(mi, why, sizeof(why)) == -1 || m_end(mi) == -1)
		return -1;
	log_warnx("session %s: recorder: %s", s->s_sid, why);
	if (s->s_front->sf_notice != NULL)
		s->s_front->sf_notice(s, "recording unavailable: session "
		    "refused");
	session_close(s, "recording unavailable");
	return 0;
}

static int
session_parent_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct session	*s = mc->mc_arg;

	if (s->s_closing)
		return 0;
	if (s->s_front->sf_parent == NULL)
		return -1;
	return s->s_front->sf_parent(s, mi);
}

static void
session_chan_closed(struct msgchan *mc, const char *why)
{
	struct session	*s = mc->mc_arg;
	char		 reason[256];

	if (s->s_closing)
		return;
	snprintf(reason, sizeof(reason), "lost the %s: %s", mc->mc_name, why);
	session_close(s, reason);
}

static void
session_signal(evutil_socket_t sig, short ev, void *arg)
{
	session_close(&sess, "portierd is stopping");
}

void
session_run(struct pt_config *cf, struct session_args *sa)
{
	struct session	*s = &sess;
	struct event	*ev;
	struct msg	*m;

	memset(s, 0, sizeof(*s));
	s->s_conf = cf;
	s->s_fd = sa->sa_client;
	strlcpy(s->s_sid, sa->sa_sid, sizeof(s->s_sid));
	strlcpy(s->s_peer, sa->sa_peer, sizeof(s->s_peer));
	strlcpy(s->s_local, sa->sa_local, sizeof(s->s_local));
	clock_gettime(CLOCK_MONOTONIC, &s->s_t0);
	if ((s->s_front = session_front_find(sa->sa_proto)) == NULL)
		fatalx("session %s: no front end for %s", s->s_sid,
		    config_proto_name(sa->sa_proto));

	/* As root: what the front end must read from disk. */
	if (s->s_front->sf_init != NULL && s->s_front->sf_init(s) == -1)
		fatalx("session %s: %s front end failed to start", s->s_sid,
		    s->s_front->sf_name);
	if ((s->s_base = event_base_new()) == NULL)
		fatalx("session %s: event_base_new", s->s_sid);
	ev = evsignal_new(s->s_base, SIGTERM, session_signal, NULL);
	if (ev == NULL || event_add(ev, NULL) == -1)
		fatalx("session %s: signal", s->s_sid);

	proc_drop_privs(cf, cf->cf_chroot);
	/* Before the sandbox, whose filter then binds this thread too. */
	if (digest_worker_start() == -1)
		log_warnx("session %s: no hashing thread: exec and sftp "
		    "data are hashed in the relay", s->s_sid);
	sandbox_apply(SANDBOX_SESSION);

	s->s_monitor = msgchan_new(s->s_base, sa->sa_monitor, "monitor",
	    session_monitor_dispatch, session_chan_closed, s);
	s->s_recorder = msgchan_new(s->s_base, sa->sa_recorder, "recorder",
	    session_recorder_dispatch, session_chan_closed, s);
	s->s_parent = msgchan_new(s->s_base, sa->sa_parent, "parent",
	    session_parent_dispatch, session_chan_closed, s);
	if ((s->s_rec_timer = evtimer_new(s->s_base, session_rec_push,
	    s)) == NULL)
		fatalx("session %s: evtimer_new", s->s_sid);

	m = m_create(MSG_MON_HELLO, 0, -1);
	m_add_str(m, s->s_sid);
	msgchan_send(s->s_monitor, m);

	m = m_create(MSG_REC_OPEN, 0, -1);
	m_add_str(m, s->s_sid);
	m_add_str(m, s->s_peer);
	m_add_str(m, s->s_local);
	m_add_str(m, s->s_front->sf_name);
	m_add_i64(m, (int64_t)time(NULL));
	msgchan_send(s->s_recorder, m);

	msgchan_send(s->s_parent, m_create(MSG_SESS_READY, 0, -1));

	s->s_front->sf_start(s);
	event_base_dispatch(s->s_base);
	session_finish(s);
	_exit(0);
}
