/*
 * msg.c: typed, length-checked messages over SOCK_SEQPACKET sockets, with
 * descriptor passing.
 *
 * Wire format (all integers big-endian):
 *
 *	u32 length	whole message, header included, <= MSG_MAX_SIZE
 *	u16 type	enum msg_type, 0 < type < MSG_MAX
 *	u16 flags	MSG_FLAG_FD or 0; no other bit may be set
 *	u32 id		request id or 0
 *	fields		tag byte, then u32 | i64 | u32 length + bytes
 *
 * The receiver checks that the datagram length equals the header's, that
 * the type and flags are known, that a descriptor came if and only if the
 * flag says so, and field by field that each tag and length fits.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "portier.h"
#include "msg.h"

static const char *msg_names[MSG_MAX] = {
	[MSG_NONE] = "NONE",
	[MSG_MON_SESSION_NEW] = "MON_SESSION_NEW",
	[MSG_MON_SESSION_END] = "MON_SESSION_END",
	[MSG_PARENT_KILL] = "PARENT_KILL",
	[MSG_REC_SESSION_NEW] = "REC_SESSION_NEW",
	[MSG_MON_HELLO] = "MON_HELLO",
	[MSG_MON_AUTH_PASSWORD] = "MON_AUTH_PASSWORD",
	[MSG_MON_AUTH_CODE] = "MON_AUTH_CODE",
	[MSG_MON_AUTH_RESULT] = "MON_AUTH_RESULT",
	[MSG_MON_TARGETS] = "MON_TARGETS",
	[MSG_MON_TARGET] = "MON_TARGET",
	[MSG_MON_TARGETS_END] = "MON_TARGETS_END",
	[MSG_MON_AUTHZ] = "MON_AUTHZ",
	[MSG_MON_AUTHZ_RESULT] = "MON_AUTHZ_RESULT",
	[MSG_MON_HOSTKEY] = "MON_HOSTKEY",
	[MSG_MON_HOSTKEY_RESULT] = "MON_HOSTKEY_RESULT",
	[MSG_MON_CRED] = "MON_CRED",
	[MSG_MON_CRED_RESULT] = "MON_CRED_RESULT",
	[MSG_MON_NOTICE] = "MON_NOTICE",
	[MSG_MON_AUTHZ_ASK] = "MON_AUTHZ_ASK",
	[MSG_MON_REQUEST] = "MON_REQUEST",
	[MSG_MON_REQUEST_RESULT] = "MON_REQUEST_RESULT",
	[MSG_MON_REQUEST_CANCEL] = "MON_REQUEST_CANCEL",
	[MSG_MON_REQUESTS] = "MON_REQUESTS",
	[MSG_MON_CUT] = "MON_CUT",
	[MSG_MON_WINDOW] = "MON_WINDOW",
	[MSG_MON_STATS] = "MON_STATS",
	[MSG_MON_PERMS] = "MON_PERMS",
	[MSG_MON_PERMS_RESULT] = "MON_PERMS_RESULT",
	[MSG_MON_FWD] = "MON_FWD",
	[MSG_MON_BYE] = "MON_BYE",
	[MSG_MON_RELOAD] = "MON_RELOAD",
	[MSG_PARENT_UPSTREAM] = "PARENT_UPSTREAM",
	[MSG_SESS_UPSTREAM] = "SESS_UPSTREAM",
	[MSG_SESS_READY] = "SESS_READY",
	[MSG_REC_OPEN] = "REC_OPEN",
	[MSG_REC_DATA] = "REC_DATA",
	[MSG_REC_CLOSE] = "REC_CLOSE",
	[MSG_REC_FAIL] = "REC_FAIL",
	[MSG_REC_FILE_REQ] = "REC_FILE_REQ",
	[MSG_REC_FILE] = "REC_FILE",
	[MSG_CTL_STATUS] = "CTL_STATUS",
	[MSG_CTL_STATUS_INFO] = "CTL_STATUS_INFO",
	[MSG_CTL_STATUS_PROC] = "CTL_STATUS_PROC",
	[MSG_CTL_AUDIT] = "CTL_AUDIT",
	[MSG_CTL_AUDIT_MORE] = "CTL_AUDIT_MORE",
	[MSG_CTL_AUDIT_ROW] = "CTL_AUDIT_ROW",
	[MSG_CTL_AUDIT_VERIFY] = "CTL_AUDIT_VERIFY",
	[MSG_CTL_AUDIT_VERIFY_RESULT] = "CTL_AUDIT_VERIFY_RESULT",
	[MSG_CTL_USER_ADD] = "CTL_USER_ADD",
	[MSG_CTL_USER_LIST] = "CTL_USER_LIST",
	[MSG_CTL_USER_INFO] = "CTL_USER_INFO",
	[MSG_CTL_USER_UNLOCK] = "CTL_USER_UNLOCK",
	[MSG_CTL_USER_KEY_ADD] = "CTL_USER_KEY_ADD",
	[MSG_CTL_TOTP_ENROLL] = "CTL_TOTP_ENROLL",
	[MSG_CTL_TOTP_URI] = "CTL_TOTP_URI",
	[MSG_CTL_CRED_SET] = "CTL_CRED_SET",
	[MSG_CTL_TARGET_TRUST] = "CTL_TARGET_TRUST",
	[MSG_CTL_TARGET_KEY] = "CTL_TARGET_KEY",
	[MSG_CTL_REQUESTS] = "CTL_REQUESTS",
	[MSG_CTL_REQUEST_INFO] = "CTL_REQUEST_INFO",
	[MSG_CTL_APPROVE] = "CTL_APPROVE",
	[MSG_CTL_DENY] = "CTL_DENY",
	[MSG_CTL_REVIEW] = "CTL_REVIEW",
	[MSG_CTL_GRANTS] = "CTL_GRANTS",
	[MSG_CTL_GRANT_INFO] = "CTL_GRANT_INFO",
	[MSG_CTL_REVOKE] = "CTL_REVOKE",
	[MSG_CTL_SESSIONS] = "CTL_SESSIONS",
	[MSG_CTL_SESSION_INFO] = "CTL_SESSION_INFO",
	[MSG_CTL_KILL] = "CTL_KILL",
	[MSG_CTL_RELOAD] = "CTL_RELOAD",
	[MSG_CTL_RECORDINGS] = "CTL_RECORDINGS",
	[MSG_CTL_RECORDING_INFO] = "CTL_RECORDING_INFO",
	[MSG_CTL_RECORDING_HOLD] = "CTL_RECORDING_HOLD",
	[MSG_CTL_OK] = "CTL_OK",
	[MSG_CTL_END] = "CTL_END",
	[MSG_CTL_ERROR] = "CTL_ERROR",
	[MSG_NOTIFY_EVENT] = "NOTIFY_EVENT",
	[MSG_PARENT_REC_TARGET] = "PARENT_REC_TARGET",
	[MSG_REC_TARGET] = "REC_TARGET",
	[MSG_REC_SEALED] = "REC_SEALED",
};

const char *
msg_name(int type)
{
	if (type <= MSG_NONE || type >= MSG_MAX || msg_names[type] == NULL)
		return "UNKNOWN";
	return msg_names[type];
}

int
msg_ctl_admin(int type)
{
	switch (type) {
	case MSG_CTL_USER_ADD:
	case MSG_CTL_USER_LIST:
	case MSG_CTL_USER_UNLOCK:
	case MSG_CTL_USER_KEY_ADD:
	case MSG_CTL_TOTP_ENROLL:
	case MSG_CTL_CRED_SET:
	case MSG_CTL_TARGET_TRUST:
	case MSG_CTL_REQUESTS:
	case MSG_CTL_APPROVE:
	case MSG_CTL_DENY:
	case MSG_CTL_REVIEW:
	case MSG_CTL_GRANTS:
	case MSG_CTL_REVOKE:
	case MSG_CTL_SESSIONS:
	case MSG_CTL_KILL:
	case MSG_CTL_RELOAD:
	case MSG_CTL_RECORDINGS:
	case MSG_CTL_RECORDING_HOLD:
		return 1;
	default:
		return 0;
	}
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ---- building --------------------------------------------------------- */

struct msg *
m_create(enum msg_type type, uint32_t id, int fd)
{
	struct msg	*m;

	if (type <= MSG_NONE || type >= MSG_MAX)
		fatalx("m_create: bad type %d", type);
	m = xcalloc(1, sizeof(*m));
	m->m_cap = 256;
	m->m_buf = xmalloc(m->m_cap);
	m->m_len = MSG_HDR_SIZE;
	m->m_fd = fd;
	put_u16(m->m_buf + 4, type);
	put_u16(m->m_buf + 6, fd == -1 ? 0 : MSG_FLAG_FD);
	put_u32(m->m_buf + 8, id);
	return m;
}

static uint8_t *
m_grow(struct msg *m, size_t n)
{
	uint8_t	*p;

	if (m->m_overflow || n > MSG_MAX_SIZE - m->m_len) {
		m->m_overflow = 1;
		return NULL;
	}
	if (m->m_len + n > m->m_cap) {
		uint8_t	*nbuf;
		size_t	 ncap = m->m_cap;

		while (m->m_len + n > ncap)
			ncap *= 2;
		/* Not realloc: the old buffer may hold a secret to wipe. */
		nbuf = xmalloc(ncap);
		memcpy(nbuf, m->m_buf, m->m_len);
		freezero(m->m_buf, m->m_cap);
		m->m_buf = nbuf;
		m->m_cap = ncap;
	}
	p = m->m_buf + m->m_len;
	m->m_len += n;
	return p;
}

void
m_add_u32(struct msg *m, uint32_t v)
{
	uint8_t	*p;

	if ((p = m_grow(m, 5)) == NULL)
		return;
	p[0] = M_U32;
	put_u32(p + 1, v);
}

void
m_add_i64(struct msg *m, int64_t v)
{
	uint64_t u = (uint64_t)v;
	uint8_t	*p;

	if ((p = m_grow(m, 9)) == NULL)
		return;
	p[0] = M_I64;
	put_u32(p + 1, (uint32_t)(u >> 32));
	put_u32(p + 5, (uint32_t)u);
}

static void
m_add_bytes(struct msg *m, int tag, const void *data, size_t len)
{
	uint8_t	*p;

	if (len > MSG_MAX_SIZE || (p = m_grow(m, 5 + len)) == NULL) {
		m->m_overflow = 1;
		return;
	}
	p[0] = tag;
	put_u32(p + 1, (uint32_t)len);
	if (len)
		memcpy(p + 5, data, len);
}

void
m_add_str(struct msg *m, const char *s)
{
	if (s == NULL)
		s = "";
	m_add_bytes(m, M_STR, s, strlen(s));
}

void
m_add_data(struct msg *m, const void *data, size_t len)
{
	m_add_bytes(m, M_DATA, data, len);
}

struct msg *
m_forward(struct msg_in *mi, uint32_t id)
{
	struct msg	*m;
	size_t		 len = (size_t)(mi->mi_end - mi->mi_buf) - MSG_HDR_SIZE;
	uint8_t		*p;

	m = m_create(mi->mi_type, id, m_take_fd(mi));
	if (len && (p = m_grow(m, len)) != NULL)
		memcpy(p, mi->mi_buf + MSG_HDR_SIZE, len);
	mi->mi_p = mi->mi_end;
	return m;
}

struct msg *
m_forward_uid(struct msg_in *mi, uint32_t id, uint32_t uid)
{
	struct msg	*m;
	size_t		 len = (size_t)(mi->mi_end - mi->mi_buf) - MSG_HDR_SIZE;
	uint8_t		*p;

	m = m_create(mi->mi_type, id, m_take_fd(mi));
	m_add_u32(m, uid);
	if (len && (p = m_grow(m, len)) != NULL)
		memcpy(p, mi->mi_buf + MSG_HDR_SIZE, len);
	mi->mi_p = mi->mi_end;
	return m;
}

void
m_free(struct msg *m)
{
	if (m == NULL)
		return;
	if (m->m_fd != -1)
		close(m->m_fd);
	/* Messages carry passwords on their way to the monitor. */
	freezero(m->m_buf, m->m_cap);
	free(m);
}

/* ---- reading ---------------------------------------------------------- */

int
msg_parse(struct msg_in *mi, size_t len, int fd, const char **why)
{
	uint32_t	 hlen;
	uint16_t	 type, flags;

	mi->mi_fd = fd;
	mi->mi_err = 0;
	if (len < MSG_HDR_SIZE) {
		*why = "short message";
		goto bad;
	}
	hlen = get_u32(mi->mi_buf);
	type = get_u16(mi->mi_buf + 4);
	flags = get_u16(mi->mi_buf + 6);
	if (hlen != len) {
		*why = "length does not match the header";
		goto bad;
	}
	if (type <= MSG_NONE || type >= MSG_MAX) {
		*why = "unknown message type";
		goto bad;
	}
	if ((flags & ~MSG_FLAG_FD) != 0) {
		*why = "unknown flags";
		goto bad;
	}
	if (!!(flags & MSG_FLAG_FD) != (fd != -1)) {
		*why = fd == -1 ? "descriptor missing" : "unexpected descriptor";
		goto bad;
	}
	mi->mi_type = type;
	mi->mi_id = get_u32(mi->mi_buf + 8);
	mi->mi_p = mi->mi_buf + MSG_HDR_SIZE;
	mi->mi_end = mi->mi_buf + len;
	return 0;
bad:
	if (fd != -1)
		close(fd);
	mi->mi_fd = -1;
	mi->mi_err = 1;
	return -1;
}

static int
m_get_tag(struct msg_in *mi, int tag, size_t need)
{
	if (mi->mi_err || mi->mi_p >= mi->mi_end || *mi->mi_p != tag ||
	    (size_t)(mi->mi_end - mi->mi_p) < 1 + need) {
		mi->mi_err = 1;
		return -1;
	}
	mi->mi_p++;
	return 0;
}

int
m_get_u32(struct msg_in *mi, uint32_t *v)
{
	if (m_get_tag(mi, M_U32, 4) == -1)
		return -1;
	*v = get_u32(mi->mi_p);
	mi->mi_p += 4;
	return 0;
}

int
m_get_i64(struct msg_in *mi, int64_t *v)
{
	uint64_t u;

	if (m_get_tag(mi, M_I64, 8) == -1)
		return -1;
	u = (uint64_t)get_u32(mi->mi_p) << 32 | get_u32(mi->mi_p + 4);
	*v = (int64_t)u;
	mi->mi_p += 8;
	return 0;
}

static int
m_get_bytes(struct msg_in *mi, int tag, const uint8_t **p, size_t *len)
{
	uint32_t n;

	if (m_get_tag(mi, tag, 4) == -1)
		return -1;
	n = get_u32(mi->mi_p);
	if (n > (size_t)(mi->mi_end - mi->mi_p) - 4) {
		mi->mi_err = 1;
		return -1;
	}
	*p = mi->mi_p + 4;
	*len = n;
	mi->mi_p += 4 + n;
	return 0;
}

int
m_get_str(struct msg_in *mi, char *buf, size_t bufsz)
{
	const uint8_t	*p;
	size_t		 len;

	if (m_get_bytes(mi, M_STR, &p, &len) == -1)
		return -1;
	if (len >= bufsz || memchr(p, '\0', len) != NULL) {
		mi->mi_err = 1;
		return -1;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

int
m_get_data(struct msg_in *mi, const uint8_t **p, size_t *len)
{
	return m_get_bytes(mi, M_DATA, p, len);
}

int
m_take_fd(struct msg_in *mi)
{
	int	 fd = mi->mi_fd;

	mi->mi_fd = -1;
	return fd;
}

int
m_end(struct msg_in *mi)
{
	if (mi->mi_fd != -1) {
		close(mi->mi_fd);
		mi->mi_fd = -1;
	}
	if (mi->mi_err || mi->mi_p != mi->mi_end) {
		mi->mi_err = 1;
		return -1;
	}
	return 0;
}

void
m_in_clear(struct msg_in *mi)
{
	size_t	 len = mi->mi_end > mi->mi_buf ?
	    (size_t)(mi->mi_end - mi->mi_buf) : 0;

	if (mi->mi_fd != -1) {
		close(mi->mi_fd);
		mi->mi_fd = -1;
	}
	explicit_bzero(mi->mi_buf, len);
	mi->mi_p = mi->mi_end = mi->mi_buf;
}

/* ---- socket I/O ------------------------------------------------------- */

static ssize_t
msg_write(int sock, struct msg *m, int flags)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr	*c;

	put_u32(m->m_buf, (uint32_t)m->m_len);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = m->m_buf;
	iov.iov_len = m->m_len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (m->m_fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_len = CMSG_LEN(sizeof(int));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(c), &m->m_fd, sizeof(int));
	}
	return sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
}

static ssize_t
msg_read(int sock, struct msg_in *mi, int *fdp, int flags, const char **why)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr	*c;
	ssize_t		 n;
	int		 fd = -1, extra = 0;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = mi->mi_buf;
	iov.iov_len = sizeof(mi->mi_buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	*fdp = -1;
	if ((n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC)) < 0)
		return n;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		int	*fds = (int *)CMSG_DATA(c);
		size_t	 i, nfd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			int	 f;

			memcpy(&f, &fds[i], sizeof(f));
			if (fd == -1)
				fd = f;
			else {
				close(f);
				extra = 1;
			}
		}
	}
	if (n == 0) {
		/* End of file, or an empty datagram: either way no message,
		 * and no descriptor may stay behind. */
		if (fd != -1)
			close(fd);
		if (extra || fd != -1) {
			*why = "empty message with a descriptor";
			errno = EBADMSG;
			return -2;
		}
		return 0;
	}
	if (extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (fd != -1)
			close(fd);
		*why = extra ? "more than one descriptor" :
		    "message too long";
		errno = EBADMSG;
		return -2;
	}
	*fdp = fd;
	return n;
}

int
msg_send(int sock, struct msg *m)
{
	ssize_t	 n;

	if (m->m_overflow) {
		m_free(m);
		errno = EMSGSIZE;
		return -1;
	}
	do {
		n = msg_write(sock, m, 0);
	} while (n == -1 && errno == EINTR);
	m_free(m);
	return n == -1 ? -1 : 0;
}

int
msg_recv(int sock, struct msg_in *mi, const char **why)
{
	ssize_t	 n;
	int	 fd;

	do {
		n = msg_read(sock, mi, &fd, 0, why);
	} while (n == -1 && errno == EINTR);
	if (n == 0) {
		*why = "connection closed";
		errno = ECONNRESET;
		return -1;
	}
	if (n < 0) {
		if (n == -1)
			*why = strerror(errno);
		return -1;
	}
	if (msg_parse(mi, (size_t)n, fd, why) == -1) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* ---- channels --------------------------------------------------------- */

/*
 * closed() runs from the event loop, never from inside a call on the
 * channel: it may free the channel, and the code that noticed the failure
 * may still be using it.
 */
static void
msgchan_closedcb(evutil_socket_t fd, short ev, void *arg)
{
	struct msgchan	*mc = arg;

	if (mc->mc_closed != NULL)
		mc->mc_closed(mc, mc->mc_why);
}

static void
msgchan_fail(struct msgchan *mc, const char *why)
{
	struct msg	*m;

	if (mc->mc_dead)
		return;
	strlcpy(mc->mc_why, why, sizeof(mc->mc_why));
	mc->mc_dead = 1;
	event_del(mc->mc_rev);
	event_del(mc->mc_wev);
	/* Cut the peer off now: it reads EOF, whatever it does next. */
	close(mc->mc_fd);
	mc->mc_fd = -1;
	while ((m = TAILQ_FIRST(&mc->mc_queue)) != NULL) {
		TAILQ_REMOVE(&mc->mc_queue, m, m_entry);
		m_free(m);
	}
	mc->mc_queued = 0;
	event_active(mc->mc_cev, EV_TIMEOUT, 0);
}

static void
msgchan_readcb(evutil_socket_t fd, short ev, void *arg)
{
	struct msgchan	*mc = arg;
	struct msg_in	*mi = mc->mc_in;
	const char	*why = NULL;
	char		 reason[160];
	ssize_t		 n;
	int		 rfd, i;

	/* A bounded number per wakeup, so one busy peer cannot starve others. */
	for (i = 0; i < 64 && !mc->mc_dead; i++) {
		n = msg_read(fd, mi, &rfd, MSG_DONTWAIT, &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == 0) {
			msgchan_fail(mc, "connection closed");
			return;
		}
		if (n == -1) {
			msgchan_fail(mc, strerror(errno));
			return;
		}
		if (n == -2 || msg_parse(mi, (size_t)n, rfd, &why) == -1) {
			snprintf(reason, sizeof(reason),
			    "protocol violation: %s", why);
			if (n > 0)
				explicit_bzero(mi->mi_buf, (size_t)n);
			msgchan_fail(mc, reason);
			return;
		}
		if (mc->mc_dispatch(mc, mi) == -1 || mi->mi_err) {
			snprintf(reason, sizeof(reason),
			    "protocol violation: malformed or unexpected %s",
			    msg_name(mi->mi_type));
			m_in_clear(mi);
			msgchan_fail(mc, reason);
			return;
		}
		m_in_clear(mi);
	}
}

static void
msgchan_writecb(evutil_socket_t fd, short ev, void *arg)
{
	struct msgchan	*mc = arg;
	struct msg	*m;
	ssize_t		 n;

	while ((m = TAILQ_FIRST(&mc->mc_queue)) != NULL) {
		n = msg_write(fd, m, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == ENOBUFS ||
		    errno == EINTR)) {
			event_add(mc->mc_wev, NULL);
			return;
		}
		if (n == -1) {
			msgchan_fail(mc, strerror(errno));
			return;
		}
		TAILQ_REMOVE(&mc->mc_queue, m, m_entry);
		mc->mc_queued -= m->m_len;
		m_free(m);
	}
}

/* Dispatch what the peer already sent, now, without waiting for more. */
void
msgchan_drain(struct msgchan *mc)
{
	if (!mc->mc_dead)
		msgchan_readcb(mc->mc_fd, EV_READ, mc);
}

struct msgchan *
msgchan_new(struct event_base *base, int fd, const char *name,
    int (*dispatch)(struct msgchan *, struct msg_in *),
    void (*closed)(struct msgchan *, const char *), void *arg)
{
	struct msgchan	*mc;

	if (fd_nonblock(fd) == -1)
		fatal("msgchan_new: %s", name);
	mc = xcalloc(1, sizeof(*mc));
	mc->mc_fd = fd;
	mc->mc_name = name;
	mc->mc_dispatch = dispatch;
	mc->mc_closed = closed;
	mc->mc_arg = arg;
	mc->mc_in = xcalloc(1, sizeof(*mc->mc_in));
	mc->mc_in->mi_fd = -1;
	TAILQ_INIT(&mc->mc_queue);
	mc->mc_rev = event_new(base, fd, EV_READ | EV_PERSIST,
	    msgchan_readcb, mc);
	mc->mc_wev = event_new(base, fd, EV_WRITE, msgchan_writecb, mc);
	mc->mc_cev = event_new(base, -1, 0, msgchan_closedcb, mc);
	if (mc->mc_rev == NULL || mc->mc_wev == NULL || mc->mc_cev == NULL)
		fatalx("msgchan_new: event_new");
	event_add(mc->mc_rev, NULL);
	return mc;
}

int
msgchan_send(struct msgchan *mc, struct msg *m)
{
	if (msgchan_queue(mc, m) == -1)
		return -1;
	msgchan_push(mc);
	return mc->mc_dead ? -1 : 0;
}

int
msgchan_queue(struct msgchan *mc, struct msg *m)
{
	if (mc->mc_dead) {
		m_free(m);
		return -1;
	}
	if (m->m_overflow)
		fatalx("msgchan_send: %s to %s exceeds %d bytes",
		    msg_name(get_u16(m->m_buf + 4)), mc->mc_name,
		    MSG_MAX_SIZE);
	if (mc->mc_queued + m->m_len > MSG_QUEUE_MAX) {
		m_free(m);
		msgchan_fail(mc, "peer is not reading its messages");
		return -1;
	}
	TAILQ_INSERT_TAIL(&mc->mc_queue, m, m_entry);
	mc->mc_queued += m->m_len;
	return 0;
}

void
msgchan_push(struct msgchan *mc)
{
	/* A pending write event means the socket is full: it will run. */
	if (!mc->mc_dead && !TAILQ_EMPTY(&mc->mc_queue) &&
	    !event_pending(mc->mc_wev, EV_WRITE, NULL))
		msgchan_writecb(mc->mc_fd, EV_WRITE, mc);
}

void
msgchan_flush(struct msgchan *mc)
{
	struct msg	*m;
	int		 fl;

	/* Blocking sends: the process is about to exit anyway. */
	if (mc->mc_dead)
		return;
	if ((fl = fcntl(mc->mc_fd, F_GETFL)) == -1 ||
	    fcntl(mc->mc_fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return;
	while (!mc->mc_dead && (m = TAILQ_FIRST(&mc->mc_queue)) != NULL) {
		TAILQ_REMOVE(&mc->mc_queue, m, m_entry);
		mc->mc_queued -= m->m_len;
		if (msg_write(mc->mc_fd, m, 0) == -1) {
			m_free(m);
			break;
		}
		m_free(m);
	}
}

void
msgchan_free(struct msgchan *mc)
{
	struct msg	*m;

	if (mc == NULL)
		return;
	while ((m = TAILQ_FIRST(&mc->mc_queue)) != NULL) {
		TAILQ_REMOVE(&mc->mc_queue, m, m_entry);
		m_free(m);
	}
	event_free(mc->mc_rev);
	event_free(mc->mc_wev);
	event_free(mc->mc_cev);
	if (mc->mc_fd != -1)
		close(mc->mc_fd);
	free(mc->mc_in);
	free(mc);
}
