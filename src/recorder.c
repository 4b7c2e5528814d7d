/*
 * recorder.c: the process that writes recordings.
 *
 * Sessions send it what the vendor typed and saw; it writes one file per
 * session.  A session cannot open, rewrite or delete a recording: it only
 * sends messages, and the file is opened by the parent (O_EXCL, append
 * only) and handed to this process, which runs unprivileged, chrooted and
 * sandboxed.  If a recording cannot be written the session is told to
 * stop: no access goes unrecorded.
 *
 * The file is asciicast v2: a JSON header line, then one JSON array per
 * event: [seconds, "o"|"i"|"m", "data"].  recordings/FORMAT.md documents
 * it.
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

#define REC_PENDING_MAX	(4 * 1024 * 1024)	/* before the file opens */

struct rsession {
	TAILQ_ENTRY(rsession)	 rs_entry;
	char			 rs_sid[PT_SID_LEN + 1];
	struct msgchan		*rs_chan;
	int			 rs_fd;		/* -1 until the parent sends it */
	int			 rs_opened;	/* REC_OPEN seen */
	int			 rs_failed;
	char			*rs_out;	/* events not yet written */
	size_t			 rs_outlen;
	size_t			 rs_outcap;
};
TAILQ_HEAD(rsessions, rsession);

static struct event_base *base;
static struct msgchan	*parent_chan;
static struct rsessions	 rsessions = TAILQ_HEAD_INITIALIZER(rsessions);

static void	rec_flush(struct rsession *);

static struct rsession *
rec_find(const char *sid)
{
	struct rsession	*rs;

	TAILQ_FOREACH(rs, &rsessions, rs_entry)
		if (strcmp(rs->rs_sid, sid) == 0)
			return rs;
	return NULL;
}

static void
rec_free(struct rsession *rs)
{
	TAILQ_REMOVE(&rsessions, rs, rs_entry);
	rec_flush(rs);
	if (rs->rs_fd != -1) {
		fdatasync(rs->rs_fd);
		close(rs->rs_fd);
	}
	msgchan_free(rs->rs_chan);
	free(rs->rs_out);
	free(rs);
}

static void
rec_fail(struct rsession *rs, const char *why)
{
	struct msg	*m;

	if (rs->rs_failed)
		return;
	rs->rs_failed = 1;
	log_warnx("session %s: recording failed: %s", rs->rs_sid, why);
	m = m_create(MSG_REC_FAIL, 0, -1);
	m_add_str(m, why);
	msgchan_send(rs->rs_chan, m);
}

/* Room for N more bytes in the output buffer. */
static char *
rec_room(struct rsession *rs, size_t n)
{
	if (rs->rs_outlen + n > rs->rs_outcap) {
		while (rs->rs_outlen + n > rs->rs_outcap)
			rs->rs_outcap = rs->rs_outcap ? rs->rs_outcap * 2 : 65536;
		rs->rs_out = xreallocarray(rs->rs_out, rs->rs_outcap, 1);
	}
	return rs->rs_out + rs->rs_outlen;
}

static void
rec_out(struct rsession *rs, const char *buf, size_t len)
{
	if (rs->rs_failed)
		return;
	memcpy(rec_room(rs, len), buf, len);
	rs->rs_outlen += len;
}

/*
 * Write what the buffer holds, in one write(2) per message from the
 * session; any error fails the recording.  Before the file is open the
 * buffer holds the events, up to a bound.
 */
static void
rec_flush(struct rsession *rs)
{
	const char	*p = rs->rs_out;
	size_t		 len = rs->rs_outlen;
	ssize_t		 n;

	if (rs->rs_failed || len == 0)
		return;
	if (rs->rs_fd == -1) {
		if (len > REC_PENDING_MAX)
			rec_fail(rs, "recording file not available");
		return;
	}
	while (len > 0) {
		if ((n = write(rs->rs_fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			rec_fail(rs, strerror(errno));
			return;
		}
		p += n;
		len -= (size_t)n;
	}
	rs->rs_outlen = 0;
}

/*
 * The body of a JSON string for DATA: the escapes JSON needs, \u00XX for
 * other control bytes and for bytes that are not valid UTF-8, so the
 * file stays valid JSON (and asciicast) whatever the session printed.
 */
static void
rec_json(struct rsession *rs, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char		*o, *start;
	size_t		 i, k, need;
	uint8_t		 c;

	if (rs->rs_failed)
		return;
	start = o = rec_room(rs, len * 6);
	for (i = 0; i < len; i++) {
		c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			continue;
		}
		if (c == '\n' || c == '\r') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : 'r';
			continue;
		}
		if (c >= 0x80) {
			need = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 &&
			    c < 0xf0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
			for (k = 1; k <= need; k++)
				if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
					break;
			if (need > 0 && k > need) {
				memcpy(o, p + i, need + 1);
				o += need + 1;
				i += need;
				continue;
			}
		}
		*o++ = '\\';
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 0xf];
	}
	rs->rs_outlen += (size_t)(o - start);
}

static int
rec_open(struct rsession *rs, struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], peer[80], local[80], proto[16];
	char		 path[128], day[16], line[512];
	int64_t		 t;
	struct tm	 tm;
	time_t		 tt;
	struct msg	*m;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, peer, sizeof(peer)) == -1 ||
	    m_get_str(mi, local, sizeof(local)) == -1 ||
	    m_get_str(mi, proto, sizeof(proto)) == -1 ||
	    m_get_i64(mi, &t) == -1 || m_end(mi) == -1)
		return -1;
	/* A session speaks for itself only. */
	if (rs->rs_opened || strcmp(sid, rs->rs_sid) != 0)
		return -1;
	rs->rs_opened = 1;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.cast", day, sid);
	m = m_create(MSG_REC_FILE_REQ, 0, -1);
	m_add_str(m, sid);
	m_add_str(m, path);
	msgchan_send(parent_chan, m);

	snprintf(line, sizeof(line), "{\"version\": 2, \"width\": 80, "
	    "\"height\": 24, \"timestamp\": %lld, \"env\": {\"TERM\": "
	    "\"xterm\"}, \"portier\": {\"format\": 1, \"session\": \"%s\", "
	    "\"protocol\": \"%s\", \"source\": \"", (long long)t, sid, proto);
	rec_out(rs, line, strlen(line));
	rec_json(rs, (const uint8_t *)peer, strlen(peer));
	rec_out(rs, "\", \"listener\": \"", 16);
	rec_json(rs, (const uint8_t *)local, strlen(local));
	rec_out(rs, "\"}}\n", 4);
	return 0;
}

static int
rec_data(struct rsession *rs, struct msg_in *mi)
{
	uint32_t	 stream;
	int64_t		 us;
	const uint8_t	*p;
	size_t		 len;
	char		 head[64];

	if (m_get_u32(mi, &stream) == -1 || m_get_i64(mi, &us) == -1 ||
	    m_get_data(mi, &p, &len) == -1 || m_end(mi) == -1)
		return -1;
	if (!rs->rs_opened || us < 0 ||
	    (stream != 'i' && stream != 'o' && stream != 'm' &&
	    stream != 'r'))
		return -1;
	snprintf(head, sizeof(head), "[%lld.%06lld, \"%c\", \"",
	    (long long)(us / 1000000), (long long)(us % 1000000), (char)stream);
	rec_out(rs, head, strlen(head));
	rec_json(rs, p, len);
	rec_out(rs, "\"]\n", 3);
	return 0;
}

static int	rec_session_message(struct rsession *, struct msg_in *);

static int
rec_session_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct rsession	*rs = mc->mc_arg;
	int		 rc;

	rc = rec_session_message(rs, mi);
	rec_flush(rs);
	return rc;
}

static int
rec_session_message(struct rsession *rs, struct msg_in *mi)
{
	char		 why[256], head[64];
	int64_t		 us;

	switch (mi->mi_type) {
	case MSG_REC_OPEN:
		return rec_open(rs, mi);
	case MSG_REC_DATA:
		return rec_data(rs, mi);
	case MSG_REC_CLOSE:
		/* The end, with its reason, as a marker event. */
		if (m_get_i64(mi, &us) == -1 ||
		    m_get_str(mi, why, sizeof(why)) == -1 || m_end(mi) == -1 ||
		    !rs->rs_opened || us < 0)
			return -1;
		snprintf(head, sizeof(head), "[%lld.%06lld, \"m\", \"end: ",
		    (long long)(us / 1000000), (long long)(us % 1000000));
		rec_out(rs, head, strlen(head));
		rec_json(rs, (const uint8_t *)why, strlen(why));
		rec_out(rs, "\"]\n", 3);
		return 0;
	default:
		return -1;
	}
}

static void
rec_session_closed(struct msgchan *mc, const char *why)
{
	struct rsession	*rs = mc->mc_arg;

	if (strncmp(why, "protocol", 8) == 0)
		log_warnx("session %s: %s", rs->rs_sid, why);
	/* Keep the record until its file arrived, then close it. */
	if (rs->rs_fd != -1 || !rs->rs_opened)
		rec_free(rs);
}

static int
rec_parent_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1];
	struct rsession	*rs;
	uint32_t	 err;
	int		 fd;

	switch (mi->mi_type) {
	case MSG_REC_SESSION_NEW:
		if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
		    (fd = m_take_fd(mi)) == -1)
			return -1;
		if (m_end(mi) == -1 || rec_find(sid) != NULL) {
			close(fd);
			return -1;
		}
		rs = xcalloc(1, sizeof(*rs));
		strlcpy(rs->rs_sid, sid, sizeof(rs->rs_sid));
		rs->rs_fd = -1;
		TAILQ_INSERT_TAIL(&rsessions, rs, rs_entry);
		rs->rs_chan = msgchan_new(base, fd, rs->rs_sid,
		    rec_session_dispatch, rec_session_closed, rs);
		return 0;
	case MSG_REC_FILE:
		if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
		    m_get_u32(mi, &err) == -1)
			return -1;
		fd = m_take_fd(mi);
		if (m_end(mi) == -1) {
			if (fd != -1)
				close(fd);
			return -1;
		}
		/* The session may have gone while the parent opened it. */
		if ((rs = rec_find(sid)) == NULL || rs->rs_fd != -1) {
			if (fd != -1)
				close(fd);
			return rs == NULL ? 0 : -1;
		}
		if (fd == -1) {
			rec_fail(rs, err ? strerror((int)err) :
			    "cannot open the recording file");
			if (rs->rs_chan->mc_dead)
				rec_free(rs);
			return 0;
		}
		rs->rs_fd = fd;
		rec_flush(rs);
		if (rs->rs_chan->mc_dead)
			rec_free(rs);
		return 0;
	default:
		return -1;
	}
}

static void
rec_parent_closed(struct msgchan *mc, const char *why)
{
	log_warnx("channel to the parent closed: %s", why);
	event_base_loopexit(base, NULL);
}

static void
rec_signal(evutil_socket_t sig, short ev, void *arg)
{
	event_base_loopexit(base, NULL);
}

void
recorder_run(struct pt_config *cf, int parent_fd, int unused)
{
	struct rsession	*rs;
	struct event	*ev;

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	ev = evsignal_new(base, SIGTERM, rec_signal, NULL);
	event_add(ev, NULL);
	signal(SIGINT, SIG_IGN);
	proc_drop_privs(cf, cf->cf_chroot);
	sandbox_apply(SANDBOX_RECORDER);

	parent_chan = msgchan_new(base, parent_fd, "parent",
	    rec_parent_dispatch, rec_parent_closed, NULL);
	event_base_dispatch(base);
	while ((rs = TAILQ_FIRST(&rsessions)) != NULL)
		rec_free(rs);
	/* _exit: the sanitizers' exit-time checks need system calls the
	 * sandbox forbids; this process's code is checked by the tests. */
	_exit(0);
}
