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
 * event: [seconds, "o"|"i"|"r"|"m", "data"].  Lines of the recorder's
 * own ("x") make it evidence: every few seconds a checkpoint signs the
 * SHA-256 of every byte written so far, and fdatasync()s it; at the end
 * a seal does the same, and the parent hands the final length and hash
 * to the monitor for the audit trail (recchain.c, recordings/FORMAT.md).
 * The signing key is the one secret this process holds: it reads it
 * before it drops privileges.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "portier.h"
#include "msg.h"
#include "recchain.h"

#define REC_PENDING_MAX	(4 * 1024 * 1024)	/* before the file opens */

struct rsession {
	TAILQ_ENTRY(rsession)	 rs_entry;
	char			 rs_sid[PT_SID_LEN + 1];
	struct msgchan		*rs_chan;
	int			 rs_fd;		/* -1 until the parent sends it */
	int			 rs_opened;	/* REC_OPEN seen */
	int			 rs_closed;	/* REC_CLOSE seen */
	int			 rs_failed;
	char			 rs_path[256];	/* relative to the directory */
	char			 rs_target[PT_NAME_MAX];
	char			*rs_out;	/* events not yet written */
	size_t			 rs_outlen;
	size_t			 rs_outcap;
	EVP_MD_CTX		*rs_md;		/* SHA-256 of what was written */
	uint64_t		 rs_bytes;	/* written */
	uint64_t		 rs_ck_end;	/* file length after the last
						   checkpoint line */
	uint64_t		 rs_seq;	/* checkpoints written */
	struct timespec		 rs_t0;
	int64_t			 rs_last_us;	/* of the last event */
	struct event		*rs_tick;
};
TAILQ_HEAD(rsessions, rsession);

static struct event_base *base;
static struct msgchan	*parent_chan;
static struct rsessions	 rsessions = TAILQ_HEAD_INITIALIZER(rsessions);
static EVP_PKEY		*rec_key;	/* the signing key */
static char		 rec_fp[RECCHAIN_FP_LEN + 1];

static void	rec_flush(struct rsession *);
static void	rec_checkpoint(struct rsession *, const char *);

static struct rsession *
rec_find(const char *sid)
{
	struct rsession	*rs;

	TAILQ_FOREACH(rs, &rsessions, rs_entry)
		if (strcmp(rs->rs_sid, sid) == 0)
			return rs;
	return NULL;
}

/* The time of a line the recorder writes itself: never before the last. */
static int64_t
rec_now_us(struct rsession *rs)
{
	struct timespec	 now;
	int64_t		 us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - rs->rs_t0.tv_sec) * 1000000 +
	    (now.tv_nsec - rs->rs_t0.tv_nsec) / 1000;
	return us > rs->rs_last_us ? us : rs->rs_last_us;
}

static void
rec_fail(struct rsession *rs, const char *why)
{
	struct msg	*m;

	if (rs->rs_failed)
		return;
	rs->rs_failed = 1;
	log_warnx("session %s: recording failed: %s", rs->rs_sid, why);
	if (!rs->rs_chan->mc_dead) {
		m = m_create(MSG_REC_FAIL, 0, -1);
		m_add_str(m, why);
		msgchan_send(rs->rs_chan, m);
	}
	/* The audit trail learns it through the parent. */
	m = m_create(MSG_REC_SEALED, 0, -1);
	m_add_str(m, rs->rs_sid);
	m_add_str(m, rs->rs_path);
	m_add_str(m, rs->rs_target);
	m_add_u32(m, 0);
	m_add_i64(m, (int64_t)rs->rs_bytes);
	m_add_str(m, why);
	msgchan_send(parent_chan, m);
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
 * session, so that the file only ever ends on a whole line; any error
 * fails the recording.  Every byte written goes into the running hash.
 * Before the file is open the buffer holds the events, up to a bound.
 */
static void
rec_write(struct rsession *rs)
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
		EVP_DigestUpdate(rs->rs_md, p, (size_t)n);
		rs->rs_bytes += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	rs->rs_outlen = 0;
}

static void
rec_flush(struct rsession *rs)
{
	rec_write(rs);
	if (!rs->rs_failed && rs->rs_fd != -1 &&
	    rs->rs_bytes - rs->rs_ck_end >= RECCHAIN_EVERY_BYTES)
		rec_checkpoint(rs, "checkpoint");
}

/*
 * A checkpoint (or the seal): the signed hash of the file so far, then
 * the data to disk, so a crash loses at most one interval.
 */
static void
rec_checkpoint(struct rsession *rs, const char *kind)
{
	char		 line[RECCHAIN_LINE_MAX];
	uint8_t		 md[32];
	EVP_MD_CTX	*c;
	int		 n, seal = strcmp(kind, "seal") == 0;

	rec_write(rs);
	if (rs->rs_failed || rs->rs_fd == -1)
		return;
	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_MD_CTX_copy_ex(c, rs->rs_md) != 1 ||
	    EVP_DigestFinal_ex(c, md, NULL) != 1 ||
	    (n = recchain_line(line, sizeof(line), rec_key, rs->rs_sid,
	    rec_now_us(rs), kind, rs->rs_seq + 1, rs->rs_bytes, md)) == -1) {
		EVP_MD_CTX_free(c);
		rec_fail(rs, "cannot sign a checkpoint");
		return;
	}
	EVP_MD_CTX_free(c);
	rs->rs_seq++;
	rec_out(rs, line, (size_t)n);
	rec_write(rs);
	if (rs->rs_failed)
		return;
	rs->rs_ck_end = rs->rs_bytes;
	if ((seal ? fsync(rs->rs_fd) : fdatasync(rs->rs_fd)) == -1)
		rec_fail(rs, strerror(errno));
}

static void
rec_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct rsession	*rs = arg;

	if (rs->rs_fd != -1 && !rs->rs_failed && rs->rs_outlen == 0 &&
	    rs->rs_bytes > rs->rs_ck_end)
		rec_checkpoint(rs, "checkpoint");
}

/* Seal the file and tell the audit trail its final length and hash. */
static void
rec_seal(struct rsession *rs)
{
	uint8_t		 md[32];
	char		 hex[RECCHAIN_HEX_LEN + 1], head[64];
	struct msg	*m;

	if (!rs->rs_closed && rs->rs_opened) {
		snprintf(head, sizeof(head), "[%" PRId64 ".%06" PRId64 ", \"m\", "
		    "\"end: ", rec_now_us(rs) / 1000000,
		    rec_now_us(rs) % 1000000);
		rec_out(rs, head, strlen(head));
		rec_out(rs, "session process lost\"]\n", 23);
	}
	rec_checkpoint(rs, "seal");
	if (rs->rs_failed)
		return;
	if (EVP_DigestFinal_ex(rs->rs_md, md, NULL) != 1) {
		rec_fail(rs, "SHA-256 failed");
		return;
	}
	hex_encode(md, 32, hex);
	m = m_create(MSG_REC_SEALED, 0, -1);
	m_add_str(m, rs->rs_sid);
	m_add_str(m, rs->rs_path);
	m_add_str(m, rs->rs_target);
	m_add_u32(m, 1);
	m_add_i64(m, (int64_t)rs->rs_bytes);
	m_add_str(m, hex);
	msgchan_send(parent_chan, m);
}

static void
rec_free(struct rsession *rs)
{
	TAILQ_REMOVE(&rsessions, rs, rs_entry);
	if (rs->rs_fd != -1) {
		rec_seal(rs);
		close(rs->rs_fd);
	}
	if (rs->rs_tick != NULL)
		event_free(rs->rs_tick);
	EVP_MD_CTX_free(rs->rs_md);
	msgchan_free(rs->rs_chan);
	free(rs->rs_out);
	free(rs);
}

static void
rec_json(struct rsession *rs, const uint8_t *p, size_t len)
{
	if (rs->rs_failed)
		return;
	rs->rs_outlen += recchain_json_escape(rec_room(rs, len * 6), p, len);
}

static int
rec_open(struct rsession *rs, struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], peer[80], local[80], proto[16];
	char		 path[128], day[32], line[640];
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
	/* By day (UTC); the parent adds the target's directory. */
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y/%m/%d/%H%M%S", &tm) == 0)
		return -1;
	snprintf(path, sizeof(path), "%s-%s.cast", day, sid);
	strlcpy(rs->rs_path, path, sizeof(rs->rs_path));
	m = m_create(MSG_REC_FILE_REQ, 0, -1);
	m_add_str(m, sid);
	m_add_str(m, path);
	msgchan_send(parent_chan, m);

	snprintf(line, sizeof(line), "{\"version\": 2, \"width\": 80, "
	    "\"height\": 24, \"timestamp\": %lld, \"env\": {\"TERM\": "
	    "\"xterm\"}, \"portier_format\": %d, \"portier\": {\"format\": %d, "
	    "\"session\": \"%s\", \"protocol\": \"%s\", \"key\": \"%s\", "
	    "\"source\": \"", (long long)t, RECCHAIN_FORMAT, RECCHAIN_FORMAT,
	    sid, proto, rec_fp);
	rec_out(rs, line, strlen(line));
	rec_json(rs, (const uint8_t *)peer, strlen(peer));
	rec_out(rs, "\", \"listener\": \"", 16);
	rec_json(rs, (const uint8_t *)local, strlen(local));
	rec_out(rs, "\"}}\n", 4);
	return 0;
}

static void
rec_event_head(struct rsession *rs, int64_t us, char code)
{
	char	 head[64];

	if (us > rs->rs_last_us)
		rs->rs_last_us = us;
	snprintf(head, sizeof(head), "[%lld.%06lld, \"%c\", \"",
	    (long long)(us / 1000000), (long long)(us % 1000000), code);
	rec_out(rs, head, strlen(head));
}

static int
rec_data(struct rsession *rs, struct msg_in *mi)
{
	uint32_t	 stream;
	int64_t		 us;
	const uint8_t	*p;
	size_t		 len;

	/* One event or more, in order: the session sends them in batches. */
	do {
		if (m_get_u32(mi, &stream) == -1 ||
		    m_get_i64(mi, &us) == -1 || m_get_data(mi, &p, &len) == -1)
			return -1;
		/* "x" lines are the recorder's own: not a session's. */
		if (!rs->rs_opened || us < 0 ||
		    (stream != 'i' && stream != 'o' && stream != 'm' &&
		    stream != 'r'))
			return -1;
		rec_event_head(rs, us, (char)stream);
		rec_json(rs, p, len);
		rec_out(rs, "\"]\n", 3);
	} while (mi->mi_p != mi->mi_end);
	return m_end(mi);
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
	char		 why[256];
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
		    !rs->rs_opened || us < 0 || rs->rs_closed)
			return -1;
		rs->rs_closed = 1;
		rec_event_head(rs, us, 'm');
		rec_out(rs, "end: ", 5);
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
	if (rs->rs_fd != -1 || !rs->rs_opened || rs->rs_failed)
		rec_free(rs);
}

/* A name the monitor gave, kept to one word for "name=value" lines. */
static void
rec_word(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '=' || (unsigned char)*s < 0x20)
			*s = '_';
}

/* The monitor authorised a target; the parent moved the file under it. */
static int
rec_target(struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], target[PT_NAME_MAX];
	char		 user[PT_NAME_MAX], vendor[PT_NAME_MAX], path[256];
	char		 text[256];
	struct rsession	*rs;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_str(mi, user, sizeof(user)) == -1 ||
	    m_get_str(mi, vendor, sizeof(vendor)) == -1 ||
	    m_get_str(mi, path, sizeof(path)) == -1 || m_end(mi) == -1)
		return -1;
	if ((rs = rec_find(sid)) == NULL || !rs->rs_opened)
		return 0;
	rec_word(target);
	rec_word(user);
	rec_word(vendor);
	strlcpy(rs->rs_target, target, sizeof(rs->rs_target));
	if (path[0] != '\0')
		strlcpy(rs->rs_path, path, sizeof(rs->rs_path));
	rec_event_head(rs, rec_now_us(rs), 'x');
	snprintf(text, sizeof(text), "authorized user=%s vendor=%s target=%s",
	    user, vendor, target);
	rec_json(rs, (const uint8_t *)text, strlen(text));
	rec_out(rs, "\"]\n", 3);
	rec_flush(rs);
	return 0;
}

static int
rec_parent_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], path[256];
	struct rsession	*rs;
	struct timeval	 tv = { RECCHAIN_EVERY_SEC, 0 };
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
		clock_gettime(CLOCK_MONOTONIC, &rs->rs_t0);
		if ((rs->rs_md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(rs->rs_md, EVP_sha256(), NULL) != 1)
			fatalx("SHA-256 is not available");
		TAILQ_INSERT_TAIL(&rsessions, rs, rs_entry);
		rs->rs_chan = msgchan_new(base, fd, rs->rs_sid,
		    rec_session_dispatch, rec_session_closed, rs);
		return 0;
	case MSG_REC_FILE:
		if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
		    m_get_u32(mi, &err) == -1 ||
		    m_get_str(mi, path, sizeof(path)) == -1)
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
		strlcpy(rs->rs_path, path, sizeof(rs->rs_path));
		rs->rs_tick = event_new(base, -1, EV_PERSIST, rec_tick, rs);
		if (rs->rs_tick == NULL || event_add(rs->rs_tick, &tv) == -1)
			fatalx("recorder: cannot arm the checkpoint timer");
		rec_flush(rs);
		if (rs->rs_chan->mc_dead)
			rec_free(rs);
		return 0;
	case MSG_REC_TARGET:
		return rec_target(mi);
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

/*
 * Load the signing key as root and sign once, so that OpenSSL has found
 * everything it needs before the sandbox forbids open(2).
 */
static void
rec_key_init(struct pt_config *cf)
{
	char		 err[256], line[RECCHAIN_LINE_MAX];
	uint8_t		 md[32] = { 0 };

	if ((rec_key = recchain_key_load(cf->cf_recording_key, err,
	    sizeof(err))) == NULL)
		fatalx("recording key: %s", err);
	if (recchain_key_fp(rec_key, rec_fp) == -1 ||
	    recchain_line(line, sizeof(line), rec_key, "0", 0, "checkpoint",
	    1, 0, md) == -1 ||
	    EVP_Digest("", 0, md, NULL, EVP_sha256(), NULL) != 1)
		fatalx("recording key %s cannot sign", cf->cf_recording_key);
	log_info("signing recordings with key %s", rec_fp);
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
	rec_key_init(cf);
	proc_drop_privs(cf, cf->cf_chroot);
	sandbox_apply(SANDBOX_RECORDER);

	parent_chan = msgchan_new(base, parent_fd, "parent",
	    rec_parent_dispatch, rec_parent_closed, NULL);
	event_base_dispatch(base);
	while ((rs = TAILQ_FIRST(&rsessions)) != NULL)
		rec_free(rs);
	msgchan_flush(parent_chan);
	/* _exit: the sanitizers' exit-time checks need system calls the
	 * sandbox forbids; this process's code is checked by the tests. */
	_exit(0);
}
