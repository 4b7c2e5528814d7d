/*
 * test_msg.c: the message layer, over real SOCK_SEQPACKET socketpairs.
 *
 * Round trips of every field kind and every message type; descriptor
 * passing; a table of malformed datagrams written raw with send() or
 * sendmsg(), so that the parser sees exactly those bytes, each of which
 * must be refused without leaking a descriptor; field-level strictness on
 * a parsed buffer; building past MSG_MAX_SIZE; relaying with m_forward();
 * and msgchan driven by a real libevent loop.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "msg.h"

/* The largest data field that fits one message. */
#define MAX_DATA	(MSG_MAX_SIZE - MSG_HDR_SIZE - 5)

/* ---- helpers ------------------------------------------------------------ */

static struct msg_in *
mi_new(void)
{
	struct msg_in	*mi = calloc(1, sizeof(*mi));

	assert_non_null(mi);
	mi->mi_fd = -1;
	return mi;
}

static void
mkpair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
}

/* A pipe whose read end does not block: EOF reads 0, an open writer -1. */
static void
mkpipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

/* 1 if every write end of the pipe is closed (the reader sees EOF). */
static int
pipe_eof(int rfd)
{
	char	 c;

	return read(rfd, &c, 1) == 0;
}

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_hdr(uint8_t *b, uint32_t len, uint16_t type, uint16_t flags, uint32_t id)
{
	put32(b, len);
	put16(b + 4, type);
	put16(b + 6, flags);
	put32(b + 8, id);
}

/* One datagram, exactly these bytes, with nfds descriptors if any. */
static void
send_raw(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr	*c;

	assert_true(nfds <= 4);
	if (nfds == 0) {
		assert_int_equal(send(sock, buf, len, 0), (ssize_t)len);
		return;
	}
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 31 + 7);
}

/* ---- round trips -------------------------------------------------------- */

enum fkind { F_END = 0, F_U32, F_I64, F_STR, F_DATA };

struct field {
	enum fkind	 k;
	uint32_t	 u;
	int64_t		 i;
	const char	*s;	/* F_STR: NULL means slen generated letters */
	size_t		 slen;
	size_t		 dlen;	/* F_DATA: dlen bytes of pattern() */
};

#define U32(v)		{ .k = F_U32, .u = (v) }
#define I64(v)		{ .k = F_I64, .i = (v) }
#define STR(v)		{ .k = F_STR, .s = (v) }
#define GSTR(n)		{ .k = F_STR, .slen = (n) }
#define DATA(n)		{ .k = F_DATA, .dlen = (n) }

struct rt_case {
	const char	*name;
	enum msg_type	 type;
	uint32_t	 id;
	struct field	 f[10];
};

static const struct rt_case rt_cases[] = {
	{ "roundtrip: no field", MSG_SESS_READY, 0, { { .k = F_END } } },
	{ "roundtrip: u32 values", MSG_MON_HELLO, 1,
	    { U32(0), U32(1), U32(0x7fffffff), U32(0x80000000),
	      U32(0xdeadbeef), U32(UINT32_MAX) } },
	{ "roundtrip: i64 values", MSG_CTL_AUDIT, 0xffffffff,
	    { I64(0), I64(1), I64(-1), I64(INT64_MIN), I64(INT64_MAX),
	      I64(INT64_MIN + 1), I64((int64_t)0x0123456789abcdefLL),
	      I64(-4294967296LL), I64(4294967295LL) } },
	{ "roundtrip: strings", MSG_MON_AUTH_PASSWORD, 7,
	    { STR(""), STR("a"), STR("vendor@example.com"),
	      STR("caf\xc3\xa9 \xe2\x82\xac"), STR("\x01\x7f\xff"),
	      STR(""), GSTR(4095) } },
	{ "roundtrip: large string", MSG_CTL_ERROR, 9,
	    { GSTR(MAX_DATA) } },
	{ "roundtrip: data", MSG_REC_DATA, 42,
	    { DATA(0), DATA(1), DATA(256), DATA(0), DATA(4096) } },
	{ "roundtrip: data of the largest size", MSG_REC_DATA, 43,
	    { DATA(MAX_DATA) } },
	{ "roundtrip: every kind mixed", MSG_CTL_AUDIT_ROW, 0x01020304,
	    { I64(-1700000000), U32(12), STR("session.open"), DATA(0),
	      STR(""), DATA(33), I64(INT64_MAX), U32(0), STR("end") } },
};

static void
field_str(const struct field *f, char **sp, size_t *lenp)
{
	char	*s;
	size_t	 i;

	if (f->s != NULL) {
		*sp = strdup(f->s);
		assert_non_null(*sp);
		*lenp = strlen(f->s);
		return;
	}
	s = malloc(f->slen + 1);
	assert_non_null(s);
	for (i = 0; i < f->slen; i++)
		s[i] = (char)('a' + i % 26);
	s[f->slen] = '\0';
	*sp = s;
	*lenp = f->slen;
}

static void
test_roundtrip(void **state)
{
	const struct rt_case	*tc = *state;
	const struct field	*f;
	struct msg_in		*mi = mi_new();
	struct msg		*m;
	const char		*why = NULL;
	const uint8_t		*p;
	uint8_t			*data;
	char			*buf, *s;
	size_t			 len, slen, i;
	uint32_t		 u;
	int64_t			 v;
	int			 sv[2];

	mkpair(sv);
	data = malloc(MAX_DATA);
	buf = malloc(MSG_MAX_SIZE);
	assert_non_null(data);
	assert_non_null(buf);
	for (i = 0; i < MAX_DATA; i++)
		data[i] = pattern(i);

	m = m_create(tc->type, tc->id, -1);
	for (f = tc->f; f->k != F_END; f++) {
		switch (f->k) {
		case F_U32:
			m_add_u32(m, f->u);
			break;
		case F_I64:
			m_add_i64(m, f->i);
			break;
		case F_STR:
			field_str(f, &s, &slen);
			m_add_str(m, s);
			free(s);
			break;
		case F_DATA:
			m_add_data(m, data, f->dlen);
			break;
		case F_END:
			break;
		}
	}
	assert_false(m->m_overflow);
	assert_int_equal(msg_send(sv[1], m), 0);

	assert_int_equal(msg_recv(sv[0], mi, &why), 0);
	assert_int_equal(mi->mi_type, tc->type);
	assert_int_equal(mi->mi_id, tc->id);
	assert_int_equal(mi->mi_fd, -1);
	for (f = tc->f; f->k != F_END; f++) {
		switch (f->k) {
		case F_U32:
			assert_int_equal(m_get_u32(mi, &u), 0);
			assert_int_equal(u, f->u);
			break;
		case F_I64:
			assert_int_equal(m_get_i64(mi, &v), 0);
			assert_true(v == f->i);
			break;
		case F_STR:
			field_str(f, &s, &slen);
			assert_int_equal(m_get_str(mi, buf, MSG_MAX_SIZE), 0);
			assert_int_equal(strlen(buf), slen);
			assert_string_equal(buf, s);
			free(s);
			break;
		case F_DATA:
			assert_int_equal(m_get_data(mi, &p, &len), 0);
			assert_int_equal(len, f->dlen);
			if (len)
				assert_memory_equal(p, data, len);
			break;
		case F_END:
			break;
		}
	}
	assert_int_equal(m_end(mi), 0);

	free(buf);
	free(data);
	free(mi);
	close(sv[0]);
	close(sv[1]);
}

/* An empty message of every type, with the type and id read back. */
static void
test_roundtrip_every_type(void **state)
{
	struct msg_in	*mi = mi_new();
	const char	*why;
	int		 sv[2], t;

	(void)state;
	mkpair(sv);
	for (t = MSG_NONE + 1; t < MSG_MAX; t++) {
		assert_int_equal(msg_send(sv[1],
		    m_create((enum msg_type)t, (uint32_t)t * 1000003u, -1)), 0);
		assert_int_equal(msg_recv(sv[0], mi, &why), 0);
		assert_int_equal(mi->mi_type, t);
		assert_int_equal(mi->mi_id, (uint32_t)t * 1000003u);
		assert_int_equal(m_end(mi), 0);
	}
	free(mi);
	close(sv[0]);
	close(sv[1]);
}

/* A NULL string goes as the empty string. */
static void
test_null_string(void **state)
{
	struct msg_in	*mi = mi_new();
	struct msg	*m;
	const char	*why;
	char		 buf[8] = "x";
	int		 sv[2];

	(void)state;
	mkpair(sv);
	m = m_create(MSG_CTL_ERROR, 0, -1);
	m_add_str(m, NULL);
	assert_int_equal(msg_send(sv[1], m), 0);
	assert_int_equal(msg_recv(sv[0], mi, &why), 0);
	assert_int_equal(m_get_str(mi, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(m_end(mi), 0);
	free(mi);
	close(sv[0]);
	close(sv[1]);
}

/* ---- descriptors -------------------------------------------------------- */

static void
test_fd_passing(void **state)
{
	struct msg_in	*mi = mi_new();
	struct msg	*m;
	const char	*why;
	char		 buf[16];
	uint32_t	 u;
	int		 sv[2], p[2], fd, before;

	(void)state;
	before = count_fds();
	mkpair(sv);
	mkpipe(p);
	m = m_create(MSG_REC_FILE, 5, p[1]);	/* the msg owns p[1] now */
	m_add_u32(m, 0);
	assert_int_equal(msg_send(sv[1], m), 0);	/* and closed it */

	assert_int_equal(msg_recv(sv[0], mi, &why), 0);
	assert_int_equal(mi->mi_type, MSG_REC_FILE);
	assert_int_equal(mi->mi_id, 5);
	assert_int_not_equal(mi->mi_fd, -1);
	assert_int_equal(m_get_u32(mi, &u), 0);
	fd = m_take_fd(mi);
	assert_int_equal(mi->mi_fd, -1);
	assert_true(fd >= 0);
	assert_int_equal(m_end(mi), 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	assert_int_equal(write(fd, "passed", 6), 6);
	close(fd);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(p[0], buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "passed", 6);
	assert_true(pipe_eof(p[0]));	/* no copy left anywhere */

	close(p[0]);
	close(sv[0]);
	close(sv[1]);
	free(mi);
	assert_int_equal(count_fds(), before);
}

/* A descriptor the reader does not claim is closed by m_end(). */
static void
test_fd_unclaimed(void **state)
{
	struct msg_in	*mi = mi_new();
	const char	*why;
	int		 sv[2], p[2], before;

	(void)state;
	before = count_fds();
	mkpair(sv);
	mkpipe(p);
	assert_int_equal(msg_send(sv[1], m_create(MSG_REC_SESSION_NEW, 0,
	    p[1])), 0);
	assert_int_equal(msg_recv(sv[0], mi, &why), 0);
	assert_int_not_equal(mi->mi_fd, -1);
	assert_false(pipe_eof(p[0]));
	assert_int_equal(m_end(mi), 0);
	assert_int_equal(mi->mi_fd, -1);
	assert_true(pipe_eof(p[0]));
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
	free(mi);
	assert_int_equal(count_fds(), before);
}

/* m_in_clear() closes the descriptor and wipes the message. */
static void
test_in_clear(void **state)
{
	struct msg_in	*mi = mi_new();
	struct msg	*m;
	const char	*why;
	size_t		 i;
	int		 sv[2], p[2], before;

	(void)state;
	before = count_fds();
	mkpair(sv);
	mkpipe(p);
	m = m_create(MSG_MON_AUTH_PASSWORD, 3, p[1]);
	m_add_str(m, "user");
	m_add_str(m, "secret password");
	assert_int_equal(msg_send(sv[1], m), 0);
	assert_int_equal(msg_recv(sv[0], mi, &why), 0);
	m_in_clear(mi);
	assert_int_equal(mi->mi_fd, -1);
	assert_true(pipe_eof(p[0]));
	for (i = 0; i < 64; i++)
		assert_int_equal(mi->mi_buf[i], 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
	free(mi);
	assert_int_equal(count_fds(), before);
}

/* ---- names -------------------------------------------------------------- */

static void
test_names(void **state)
{
	const char	*a, *b;
	int		 t, u;

	(void)state;
	for (t = MSG_NONE + 1; t < MSG_MAX; t++) {
		a = msg_name(t);
		assert_non_null(a);
		assert_true(a[0] != '\0');
		assert_string_not_equal(a, "UNKNOWN");
		for (u = MSG_NONE + 1; u < t; u++) {
			b = msg_name(u);
			assert_string_not_equal(a, b);
		}
	}
	assert_string_equal(msg_name(MSG_NONE), "UNKNOWN");
	assert_string_equal(msg_name(MSG_MAX), "UNKNOWN");
	assert_string_equal(msg_name(-1), "UNKNOWN");
	assert_string_equal(msg_name(INT_MIN), "UNKNOWN");
	assert_string_equal(msg_name(INT_MAX), "UNKNOWN");
	assert_string_equal(msg_name(MSG_MON_HELLO), "MON_HELLO");
	assert_string_equal(msg_name(MSG_CTL_ERROR), "CTL_ERROR");
}

/* ---- malformed datagrams ------------------------------------------------ */

#define LEN_OK	0xffffffffu	/* header length = datagram size */

struct rej_case {
	const char	*name;
	size_t		 size;		/* bytes sent */
	uint32_t	 hlen;		/* header length field, or LEN_OK */
	uint16_t	 type;
	uint16_t	 flags;
	int		 nfds;		/* pipes whose write end rides along */
	const char	*why;		/* expected reason, a prefix; or NULL */
};

static const struct rej_case rej_cases[] = {
	{ "reject: 5-byte datagram", 5, LEN_OK, MSG_MON_HELLO, 0, 0,
	    "short message" },
	{ "reject: 11-byte datagram", 11, LEN_OK, MSG_MON_HELLO, 0, 0,
	    "short message" },
	{ "reject: short datagram with an fd", 3, LEN_OK, MSG_MON_HELLO,
	    MSG_FLAG_FD, 1, "short message" },
	{ "reject: length field above the size", 12, 13, MSG_MON_HELLO, 0, 0,
	    "length does not match" },
	{ "reject: length field below the size", 20, 12, MSG_MON_HELLO, 0, 0,
	    "length does not match" },
	{ "reject: length field zero", 12, 0, MSG_MON_HELLO, 0, 0,
	    "length does not match" },
	{ "reject: length field huge", 12, 0x80000000u, MSG_MON_HELLO, 0, 0,
	    "length does not match" },
	{ "reject: length mismatch with an fd", 16, 12, MSG_REC_FILE,
	    MSG_FLAG_FD, 1, "length does not match" },
	{ "reject: type 0", 12, LEN_OK, MSG_NONE, 0, 0,
	    "unknown message type" },
	{ "reject: type MSG_MAX", 12, LEN_OK, MSG_MAX, 0, 0,
	    "unknown message type" },
	{ "reject: type 0xffff", 12, LEN_OK, 0xffff, 0, 0,
	    "unknown message type" },
	{ "reject: type 0 with an fd", 12, LEN_OK, MSG_NONE, MSG_FLAG_FD, 1,
	    "unknown message type" },
	{ "reject: flag bit 1", 12, LEN_OK, MSG_MON_HELLO, 0x0002, 0,
	    "unknown flags" },
	{ "reject: flag bit 15", 12, LEN_OK, MSG_MON_HELLO, 0x8000, 0,
	    "unknown flags" },
	{ "reject: unknown flag beside the fd flag", 12, LEN_OK, MSG_REC_FILE,
	    MSG_FLAG_FD | 0x0100, 1, "unknown flags" },
	{ "reject: fd flag without an fd", 12, LEN_OK, MSG_REC_FILE,
	    MSG_FLAG_FD, 0, "descriptor missing" },
	{ "reject: fd without the fd flag", 12, LEN_OK, MSG_REC_FILE, 0, 1,
	    "unexpected descriptor" },
	{ "reject: two fds with the flag", 12, LEN_OK, MSG_REC_FILE,
	    MSG_FLAG_FD, 2, "more than one descriptor" },
	{ "reject: two fds without the flag", 12, LEN_OK, MSG_REC_FILE, 0, 2,
	    "more than one descriptor" },
	{ "reject: four fds", 12, LEN_OK, MSG_REC_FILE, MSG_FLAG_FD, 4,
	    "more than one descriptor" },
	{ "reject: datagram above MSG_MAX_SIZE", MSG_MAX_SIZE + 1, LEN_OK,
	    MSG_REC_DATA, 0, 0, "message too long" },
	{ "reject: datagram above MSG_MAX_SIZE with an fd",
	    MSG_MAX_SIZE + 100, LEN_OK, MSG_REC_DATA, MSG_FLAG_FD, 1,
	    "message too long" },
	/*
	 * An empty datagram reads as 0 bytes, like the end of the stream;
	 * either way it must be refused, and a descriptor riding with it
	 * must not stay open in the reader.
	 */
	{ "reject: empty datagram", 0, LEN_OK, 0, 0, 0, NULL },
	{ "reject: empty datagram with an fd", 0, LEN_OK, 0, 0, 1, NULL },
};

static void
test_reject(void **state)
{
	const struct rej_case	*tc = *state;
	struct msg_in		*mi = mi_new();
	const char		*why = NULL;
	uint8_t			*buf;
	int			 sv[2], pipes[4][2], wfds[4];
	int			 before, i, open_left = 0;

	before = count_fds();
	mkpair(sv);
	buf = calloc(1, tc->size < MSG_HDR_SIZE ? MSG_HDR_SIZE : tc->size);
	assert_non_null(buf);
	put_hdr(buf, tc->hlen == LEN_OK ? (uint32_t)tc->size : tc->hlen,
	    tc->type, tc->flags, 77);
	for (i = 0; i < tc->nfds; i++) {
		mkpipe(pipes[i]);
		wfds[i] = pipes[i][1];
	}
	send_raw(sv[1], buf, tc->size, wfds, (size_t)tc->nfds);
	for (i = 0; i < tc->nfds; i++)
		close(pipes[i][1]);	/* the datagram holds the only copy */

	errno = 0;
	assert_int_equal(msg_recv(sv[0], mi, &why), -1);
	assert_non_null(why);
	if (tc->why != NULL) {
		if (strncmp(why, tc->why, strlen(tc->why)) != 0)
			fail_msg("reason \"%s\", expected \"%s\"", why, tc->why);
		assert_int_equal(errno, EBADMSG);
	}
	assert_int_equal(mi->mi_fd, -1);
	/* Every descriptor that came along was closed by the reader. */
	for (i = 0; i < tc->nfds; i++) {
		if (!pipe_eof(pipes[i][0]))
			open_left++;
		close(pipes[i][0]);
	}
	close(sv[0]);
	close(sv[1]);
	free(buf);
	free(mi);
	if (open_left)
		fail_msg("%d of %d descriptors left open by the reader",
		    open_left, tc->nfds);
	assert_int_equal(count_fds(), before);
}

/* The same socket serves on after a refused datagram (msg_recv only). */
static void
test_reject_then_valid(void **state)
{
	struct msg_in	*mi = mi_new();
	const char	*why;
	uint8_t		 hdr[MSG_HDR_SIZE];
	int		 sv[2];

	(void)state;
	mkpair(sv);
	put_hdr(hdr, MSG_HDR_SIZE, MSG_NONE, 0, 1);
	send_raw(sv[1], hdr, sizeof(hdr), NULL, 0);
	assert_int_equal(msg_send(sv[1], m_create(MSG_MON_HELLO, 2, -1)), 0);
	assert_int_equal(msg_recv(sv[0], mi, &why), -1);
	/* Nothing read before msg_parse succeeds may be taken for a field. */
	assert_int_not_equal(m_end(mi), 0);
	assert_int_equal(msg_recv(sv[0], mi, &why), 0);
	assert_int_equal(mi->mi_type, MSG_MON_HELLO);
	assert_int_equal(mi->mi_id, 2);
	assert_int_equal(m_end(mi), 0);
	free(mi);
	close(sv[0]);
	close(sv[1]);
}

/* ---- field-level strictness on a parsed buffer -------------------------- */

enum getop { G_U32, G_I64, G_STR, G_DATA };

struct fld_case {
	const char	*name;
	const char	*payload;	/* bytes after the header */
	size_t		 plen;
	enum getop	 op;
	size_t		 bufsz;		/* G_STR */
	int		 want_get;
	int		 want_end;
	const char	*val;		/* G_STR, G_DATA: the value read */
	size_t		 vlen;
};

#define P(s)	(s), sizeof(s) - 1
#define V(s)	(s), sizeof(s) - 1

static const struct fld_case fld_cases[] = {
	{ "field: u32", P("\x01\x00\x00\x01\x02"), G_U32, 0, 0, 0, NULL, 0 },
	{ "field: i64", P("\x02\xff\xff\xff\xff\xff\xff\xff\xfe"), G_I64, 0,
	    0, 0, NULL, 0 },
	{ "field: u32 read as i64", P("\x01\x00\x00\x00\x2a"), G_I64, 0, -1,
	    -1, NULL, 0 },
	{ "field: i64 read as u32", P("\x02\x00\x00\x00\x00\x00\x00\x00\x2a"),
	    G_U32, 0, -1, -1, NULL, 0 },
	{ "field: str read as data", P("\x03\x00\x00\x00\x01" "a"), G_DATA, 0,
	    -1, -1, NULL, 0 },
	{ "field: data read as str", P("\x04\x00\x00\x00\x01" "a"), G_STR, 16,
	    -1, -1, NULL, 0 },
	{ "field: tag 0", P("\x00\x00\x00\x00\x00"), G_U32, 0, -1, -1, NULL,
	    0 },
	{ "field: tag 5", P("\x05\x00\x00\x00\x00"), G_U32, 0, -1, -1, NULL,
	    0 },
	{ "field: tag 0xff", P("\xff\x00\x00\x00\x00"), G_DATA, 0, -1, -1,
	    NULL, 0 },
	{ "field: none left", "", 0, G_U32, 0, -1, -1, NULL, 0 },
	{ "field: u32 truncated", P("\x01\x00\x00\x00"), G_U32, 0, -1, -1,
	    NULL, 0 },
	{ "field: u32 tag alone", P("\x01"), G_U32, 0, -1, -1, NULL, 0 },
	{ "field: i64 truncated", P("\x02\x00\x00\x00\x00\x00\x00\x00"),
	    G_I64, 0, -1, -1, NULL, 0 },
	{ "field: str length truncated", P("\x03\x00\x00\x00"), G_STR, 16, -1,
	    -1, NULL, 0 },
	{ "field: str beyond the end", P("\x03\x00\x00\x00\x05" "abcd"),
	    G_STR, 16, -1, -1, NULL, 0 },
	{ "field: str length 0xffffffff", P("\x03\xff\xff\xff\xff" "abcd"),
	    G_STR, 16, -1, -1, NULL, 0 },
	{ "field: str length 0x80000000", P("\x03\x80\x00\x00\x00" "abcd"),
	    G_STR, 16, -1, -1, NULL, 0 },
	{ "field: data beyond the end", P("\x04\x00\x00\x00\x02" "a"), G_DATA,
	    0, -1, -1, NULL, 0 },
	{ "field: data length 0xfffffffc", P("\x04\xff\xff\xff\xfc" "abcd"),
	    G_DATA, 0, -1, -1, NULL, 0 },
	{ "field: str with an embedded NUL", P("\x03\x00\x00\x00\x04"
	    "ab\0c"), G_STR, 16, -1, -1, NULL, 0 },
	{ "field: str ending in NUL", P("\x03\x00\x00\x00\x03" "ab\0"), G_STR,
	    16, -1, -1, NULL, 0 },
	{ "field: str of one NUL", P("\x03\x00\x00\x00\x01" "\0"), G_STR,
	    16, -1, -1, NULL, 0 },
	{ "field: str filling the buffer", P("\x03\x00\x00\x00\x07"
	    "abcdefg"), G_STR, 8, 0, 0, V("abcdefg") },
	{ "field: str one byte too long for the buffer",
	    P("\x03\x00\x00\x00\x08" "abcdefgh"), G_STR, 8, -1, -1, NULL, 0 },
	{ "field: empty str, buffer of 1", P("\x03\x00\x00\x00\x00"), G_STR,
	    1, 0, 0, V("") },
	{ "field: empty str, buffer of 0", P("\x03\x00\x00\x00\x00"), G_STR,
	    0, -1, -1, NULL, 0 },
	{ "field: data with NULs", P("\x04\x00\x00\x00\x03" "\0a\0"), G_DATA,
	    0, 0, 0, V("\0a\0") },
	{ "field: empty data", P("\x04\x00\x00\x00\x00"), G_DATA, 0, 0, 0,
	    V("") },
	{ "field: trailing byte after u32", P("\x01\x00\x00\x01\x02\x00"),
	    G_U32, 0, 0, -1, NULL, 0 },
	{ "field: trailing byte after data", P("\x04\x00\x00\x00\x01" "ab"),
	    G_DATA, 0, 0, -1, V("a") },
	{ "field: trailing tag after str", P("\x03\x00\x00\x00\x01" "a\x01"),
	    G_STR, 16, 0, -1, V("a") },
};

/* Parses header + payload in place; the header is always valid. */
static void
parse_payload(struct msg_in *mi, const void *payload, size_t plen)
{
	const char	*why = NULL;

	assert_true(MSG_HDR_SIZE + plen <= MSG_MAX_SIZE);
	put_hdr(mi->mi_buf, (uint32_t)(MSG_HDR_SIZE + plen), MSG_CTL_ERROR, 0,
	    0x11223344);
	if (plen)
		memcpy(mi->mi_buf + MSG_HDR_SIZE, payload, plen);
	if (msg_parse(mi, MSG_HDR_SIZE + plen, -1, &why) != 0)
		fail_msg("msg_parse: %s", why);
	assert_int_equal(mi->mi_type, MSG_CTL_ERROR);
	assert_int_equal(mi->mi_id, 0x11223344);
	assert_int_equal(mi->mi_err, 0);
}

static void
test_field(void **state)
{
	const struct fld_case	*tc = *state;
	struct msg_in		*mi = mi_new();
	const uint8_t		*p = NULL;
	char			 buf[64];
	size_t			 len = 0;
	uint32_t		 u;
	int64_t			 v;
	int			 rc = 0;

	parse_payload(mi, tc->payload, tc->plen);
	switch (tc->op) {
	case G_U32:
		rc = m_get_u32(mi, &u);
		if (rc == 0)
			assert_int_equal(u, 0x102);
		break;
	case G_I64:
		rc = m_get_i64(mi, &v);
		if (rc == 0)
			assert_true(v == -2);
		break;
	case G_STR:
		assert_true(tc->bufsz <= sizeof(buf));
		rc = m_get_str(mi, buf, tc->bufsz);
		if (rc == 0) {
			assert_int_equal(strlen(buf), tc->vlen);
			assert_memory_equal(buf, tc->val, tc->vlen);
		}
		break;
	case G_DATA:
		rc = m_get_data(mi, &p, &len);
		if (rc == 0) {
			assert_int_equal(len, tc->vlen);
			assert_true(p >= mi->mi_buf + MSG_HDR_SIZE);
			assert_true(p + len <= mi->mi_end);
			if (len)
				assert_memory_equal(p, tc->val, len);
		}
		break;
	}
	assert_int_equal(rc, tc->want_get);
	assert_true(mi->mi_p <= mi->mi_end);
	if (rc == -1) {
		assert_int_equal(mi->mi_err, 1);
		/* Sticky: no kind of read succeeds after a failed one. */
		assert_int_equal(m_get_u32(mi, &u), -1);
		assert_int_equal(m_get_data(mi, &p, &len), -1);
	}
	assert_int_equal(m_end(mi), tc->want_end);
	if (tc->want_end == -1)
		assert_int_equal(mi->mi_err, 1);
	free(mi);
}

/* A failed read poisons the message though the next field is good. */
static void
test_field_sticky(void **state)
{
	static const char payload[] =
	    "\x01\x00\x00\x00\x07"
	    "\x02\x00\x00\x00\x00\x00\x00\x00\x08"
	    "\x03\x00\x00\x00\x02" "hi";
	struct msg_in	*mi = mi_new();
	const uint8_t	*p;
	char		 buf[16];
	size_t		 len;
	uint32_t	 u;
	int64_t		 v;

	(void)state;
	/* Reading in order works. */
	parse_payload(mi, payload, sizeof(payload) - 1);
	assert_int_equal(m_get_u32(mi, &u), 0);
	assert_int_equal(u, 7);
	assert_int_equal(m_get_i64(mi, &v), 0);
	assert_true(v == 8);
	assert_int_equal(m_get_str(mi, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "hi");
	assert_int_equal(m_end(mi), 0);

	/* A wrong first read, then the right ones: all fail. */
	parse_payload(mi, payload, sizeof(payload) - 1);
	assert_int_equal(m_get_i64(mi, &v), -1);
	assert_int_equal(m_get_u32(mi, &u), -1);
	assert_int_equal(m_get_i64(mi, &v), -1);
	assert_int_equal(m_get_str(mi, buf, sizeof(buf)), -1);
	assert_int_equal(m_get_data(mi, &p, &len), -1);
	assert_int_equal(m_end(mi), -1);
	assert_int_equal(m_end(mi), -1);

	/* A string too long for the buffer poisons what follows too. */
	parse_payload(mi, payload, sizeof(payload) - 1);
	assert_int_equal(m_get_u32(mi, &u), 0);
	assert_int_equal(m_get_i64(mi, &v), 0);
	assert_int_equal(m_get_str(mi, buf, 2), -1);
	assert_int_equal(m_end(mi), -1);

	/* Leaving a field unread fails m_end. */
	parse_payload(mi, payload, sizeof(payload) - 1);
	assert_int_equal(m_get_u32(mi, &u), 0);
	assert_int_equal(m_end(mi), -1);

	/* A new parse starts clean. */
	parse_payload(mi, payload, 5);
	assert_int_equal(m_get_u32(mi, &u), 0);
	assert_int_equal(m_end(mi), 0);
	free(mi);
}

/* msg_parse() refuses what the socket table refuses, and closes the fd. */
static void
test_parse_direct(void **state)
{
	struct msg_in	*mi = mi_new();
	const char	*why = NULL;
	int		 p[2], before;

	(void)state;
	before = count_fds();
	put_hdr(mi->mi_buf, MSG_HDR_SIZE, MSG_REC_FILE, MSG_FLAG_FD, 1);
	assert_int_equal(msg_parse(mi, MSG_HDR_SIZE, -1, &why), -1);
	assert_string_equal(why, "descriptor missing");
	assert_int_equal(m_end(mi), -1);

	mkpipe(p);
	put_hdr(mi->mi_buf, MSG_HDR_SIZE, MSG_REC_FILE, 0, 1);
	assert_int_equal(msg_parse(mi, MSG_HDR_SIZE, p[1], &why), -1);
	assert_string_equal(why, "unexpected descriptor");
	assert_int_equal(mi->mi_fd, -1);
	assert_true(pipe_eof(p[0]));

	assert_int_equal(msg_parse(mi, 0, -1, &why), -1);
	assert_string_equal(why, "short message");

	put_hdr(mi->mi_buf, MSG_HDR_SIZE, MSG_REC_FILE, 0, 1);
	assert_int_equal(msg_parse(mi, MSG_HDR_SIZE, -1, &why), 0);
	assert_int_equal(m_end(mi), 0);
	close(p[0]);
	free(mi);
	assert_int_equal(count_fds(), before);
}

/* ---- building past MSG_MAX_SIZE ----------------------------------------- */

static void
test_overflow(void **state)
{
	struct msg_in	*mi = mi_new();
	struct msg	*m;
	uint8_t		*data;
	char		*s;
	int		 sv[2], p[2], before;

	(void)state;
	before = count_fds();
	mkpair(sv);
	data = calloc(1, MSG_MAX_SIZE + 1);
	assert_non_null(data);

	/* Exactly full is fine; one more field is not, and changes nothing. */
	m = m_create(MSG_REC_DATA, 1, -1);
	m_add_data(m, data, MAX_DATA);
	assert_false(m->m_overflow);
	assert_int_equal(m->m_len, MSG_MAX_SIZE);
	m_add_u32(m, 1);
	assert_true(m->m_overflow);
	assert_int_equal(m->m_len, MSG_MAX_SIZE);
	m_add_data(m, data, 0);
	assert_int_equal(m->m_len, MSG_MAX_SIZE);
	m_free(m);

	/* One byte too many, across several fields; the flag sticks. */
	m = m_create(MSG_REC_DATA, 1, -1);
	m_add_u32(m, 1);
	m_add_data(m, data, MAX_DATA - 5);
	assert_false(m->m_overflow);
	m_add_i64(m, 1);
	assert_true(m->m_overflow);
	m_add_str(m, "");
	assert_true(m->m_overflow);
	errno = 0;
	assert_int_equal(msg_send(sv[1], m), -1);	/* frees it */
	assert_int_equal(errno, EMSGSIZE);

	/* A string too long, and a length no buffer could hold. */
	s = malloc(MSG_MAX_SIZE + 1);
	assert_non_null(s);
	memset(s, 'x', MSG_MAX_SIZE);
	s[MSG_MAX_SIZE] = '\0';
	m = m_create(MSG_CTL_ERROR, 1, -1);
	m_add_str(m, s);
	assert_true(m->m_overflow);
	assert_int_equal(m->m_len, MSG_HDR_SIZE);
	m_free(m);
	free(s);
	m = m_create(MSG_REC_DATA, 1, -1);
	m_add_data(m, data, SIZE_MAX);	/* never read: refused first */
	assert_true(m->m_overflow);
	m_add_data(m, data, SIZE_MAX - 4);
	assert_true(m->m_overflow);
	errno = 0;
	assert_int_equal(msg_send(sv[1], m), -1);
	assert_int_equal(errno, EMSGSIZE);

	/* A refused message still closes the descriptor it owned. */
	mkpipe(p);
	m = m_create(MSG_REC_FILE, 1, p[1]);
	m_add_data(m, data, MAX_DATA + 1);
	assert_true(m->m_overflow);
	errno = 0;
	assert_int_equal(msg_send(sv[1], m), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_true(pipe_eof(p[0]));
	close(p[0]);

	/* Nothing went out. */
	assert_int_equal(recv(sv[0], mi->mi_buf, sizeof(mi->mi_buf),
	    MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	free(data);
	free(mi);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), before);
}

/* ---- relaying ----------------------------------------------------------- */

static void
test_forward(void **state)
{
	struct msg_in	*a = mi_new(), *b = mi_new();
	struct msg	*m;
	const char	*why;
	const uint8_t	*p;
	uint8_t		 data[300];
	char		 buf[32];
	size_t		 len, alen, i;
	uint32_t	 u;
	int64_t		 v;
	int		 sv[2], p2[2], fd, before;

	(void)state;
	before = count_fds();
	mkpair(sv);
	for (i = 0; i < sizeof(data); i++)
		data[i] = pattern(i);

	m = m_create(MSG_CTL_AUDIT_ROW, 17, -1);
	m_add_i64(m, INT64_MIN);
	m_add_str(m, "row");
	m_add_data(m, data, sizeof(data));
	m_add_u32(m, 99);
	assert_int_equal(msg_send(sv[1], m), 0);
	assert_int_equal(msg_recv(sv[0], a, &why), 0);
	alen = (size_t)(a->mi_end - a->mi_buf);

	/* Relay under another id. */
	m = m_forward(a, 0xabcdef01);
	assert_int_equal(m->m_len, alen);
	assert_int_equal(m_end(a), 0);		/* the payload was consumed */
	assert_int_equal(msg_send(sv[1], m), 0);
	assert_int_equal(msg_recv(sv[0], b, &why), 0);
	assert_int_equal(b->mi_type, MSG_CTL_AUDIT_ROW);
	assert_int_equal(b->mi_id, 0xabcdef01);
	assert_int_equal((size_t)(b->mi_end - b->mi_buf), alen);
	assert_memory_equal(b->mi_buf + MSG_HDR_SIZE, a->mi_buf + MSG_HDR_SIZE,
	    alen - MSG_HDR_SIZE);
	assert_int_equal(m_get_i64(b, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(m_get_str(b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "row");
	assert_int_equal(m_get_data(b, &p, &len), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(p, data, len);
	assert_int_equal(m_get_u32(b, &u), 0);
	assert_int_equal(u, 99);
	assert_int_equal(m_end(b), 0);

	/* An empty message, and one whose descriptor goes along. */
	mkpipe(p2);
	assert_int_equal(msg_send(sv[1], m_create(MSG_REC_FILE, 1, p2[1])), 0);
	assert_int_equal(msg_recv(sv[0], a, &why), 0);
	m = m_forward(a, 2);
	assert_int_equal(a->mi_fd, -1);
	assert_int_equal(m_end(a), 0);
	assert_int_equal(m->m_len, MSG_HDR_SIZE);
	assert_int_equal(msg_send(sv[1], m), 0);
	assert_int_equal(msg_recv(sv[0], b, &why), 0);
	assert_int_equal(b->mi_type, MSG_REC_FILE);
	assert_int_equal(b->mi_id, 2);
	fd = m_take_fd(b);
	assert_true(fd >= 0);
	assert_int_equal(m_end(b), 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(read(p2[0], buf, sizeof(buf)), 1);
	assert_true(pipe_eof(p2[0]));
	close(p2[0]);

	free(a);
	free(b);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), before);
}

/* ---- channels ----------------------------------------------------------- */

struct chan_state {
	struct msgchan	*mc;
	int		 ndispatch;
	uint32_t	 seen[256];
	int		 fail_at;	/* dispatch number returning -1, or 0 */
	int		 misread;	/* fail a read but return 0 */
	int		 echo;		/* answer each message */
	int		 nclosed;
	char		 why[256];
};

static int
chan_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct chan_state	*cs = mc->mc_arg;
	struct msg		*m;
	uint32_t		 u = 0;
	int64_t			 v;

	cs->ndispatch++;
	if (cs->misread) {
		(void)m_get_i64(mi, &v);
		return 0;
	}
	if (mi->mi_type == MSG_MON_HELLO && m_get_u32(mi, &u) == -1)
		return -1;
	if (cs->ndispatch <= (int)(sizeof(cs->seen) / sizeof(cs->seen[0])))
		cs->seen[cs->ndispatch - 1] = u;
	if (cs->ndispatch == cs->fail_at)
		return -1;
	if (cs->echo) {
		m = m_create(MSG_MON_AUTH_RESULT, mi->mi_id, -1);
		m_add_u32(m, u + 1000);
		if (msgchan_send(mc, m) == -1)
			return -1;
	}
	return m_end(mi);
}

static void
chan_closed(struct msgchan *mc, const char *why)
{
	struct chan_state	*cs = mc->mc_arg;

	cs->nclosed++;
	snprintf(cs->why, sizeof(cs->why), "%s", why);
}

struct chan_fixture {
	struct event_base	*base;
	struct chan_state	 cs;
	const void		*row;		/* a table row, or NULL */
	int			 peer;
	int			 fds_before;
};

static int
chan_setup(void **state)
{
	struct chan_fixture	*cf = calloc(1, sizeof(*cf));
	int			 sv[2];

	if (cf == NULL)
		return -1;
	cf->row = *state;
	cf->fds_before = count_fds();
	if ((cf->base = event_base_new()) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	cf->peer = sv[1];
	cf->cs.mc = msgchan_new(cf->base, sv[0], "test peer", chan_dispatch,
	    chan_closed, &cf->cs);
	*state = cf;
	return 0;
}

static int
chan_teardown(void **state)
{
	struct chan_fixture	*cf = *state;
	int			 after;

	msgchan_free(cf->cs.mc);
	if (cf->peer != -1)
		close(cf->peer);
	event_base_free(cf->base);
	after = count_fds();
	if (after != cf->fds_before) {
		fprintf(stderr, "descriptors: %d before, %d after\n",
		    cf->fds_before, after);
		free(cf);
		return -1;
	}
	free(cf);
	return 0;
}

/* Runs the loop, without blocking, until *counter reaches want. */
static void
pump(struct event_base *base, const int *counter, int want)
{
	int	 i;

	for (i = 0; i < 2000 && *counter < want; i++) {
		assert_int_not_equal(event_base_loop(base, EVLOOP_NONBLOCK),
		    -1);
		if (*counter < want)
			usleep(1000);
	}
}

/* A few more turns, for whatever should not happen. */
static void
settle(struct event_base *base)
{
	int	 i;

	for (i = 0; i < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(500);
	}
}

static void
send_hello(int sock, uint32_t id, uint32_t v)
{
	struct msg	*m = m_create(MSG_MON_HELLO, id, -1);

	m_add_u32(m, v);
	assert_int_equal(msg_send(sock, m), 0);
}

static void
test_chan_order(void **state)
{
	struct chan_fixture	*cf = *state;
	struct chan_state	*cs = &cf->cs;
	struct msg_in		*mi = mi_new();
	const char		*why;
	uint32_t		 i, u;

	cs->echo = 1;
	/* More than one wakeup's worth (64). */
	for (i = 0; i < 200; i++)
		send_hello(cf->peer, i + 1, i * 3);
	pump(cf->base, &cs->ndispatch, 200);
	assert_int_equal(cs->ndispatch, 200);
	assert_int_equal(cs->nclosed, 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(cs->seen[i], i * 3);
	/* The answers came back in order too. */
	for (i = 0; i < 200; i++) {
		assert_int_equal(msg_recv(cf->peer, mi, &why), 0);
		assert_int_equal(mi->mi_type, MSG_MON_AUTH_RESULT);
		assert_int_equal(mi->mi_id, i + 1);
		assert_int_equal(m_get_u32(mi, &u), 0);
		assert_int_equal(u, i * 3 + 1000);
		assert_int_equal(m_end(mi), 0);
	}
	settle(cf->base);
	assert_int_equal(cs->nclosed, 0);
	assert_int_equal(cs->mc->mc_queued, 0);
	free(mi);
}

static void
test_chan_dispatch_fails(void **state)
{
	struct chan_fixture	*cf = *state;
	struct chan_state	*cs = &cf->cs;
	struct msg_in		*mi = mi_new();
	const char		*why = NULL;
	int			 p[2];

	cs->fail_at = 2;
	send_hello(cf->peer, 1, 10);
	send_hello(cf->peer, 2, 20);
	send_hello(cf->peer, 3, 30);
	pump(cf->base, &cs->nclosed, 1);
	assert_int_equal(cs->nclosed, 1);
	assert_int_equal(strncmp(cs->why, "protocol violation", 18), 0);
	assert_non_null(strstr(cs->why, "MON_HELLO"));
	assert_int_equal(cs->ndispatch, 2);	/* the third never came in */
	settle(cf->base);
	assert_int_equal(cs->nclosed, 1);
	assert_int_equal(cs->ndispatch, 2);
	assert_int_equal(cs->mc->mc_dead, 1);

	/*
	 * The peer was cut off: it reads EOF, or ECONNRESET since its third
	 * message was left unread.
	 */
	errno = 0;
	assert_int_equal(msg_recv(cf->peer, mi, &why), -1);
	assert_int_equal(errno, ECONNRESET);

	/* Sending on a dead channel fails, and frees the message and fd. */
	mkpipe(p);
	assert_int_equal(msgchan_send(cs->mc,
	    m_create(MSG_REC_FILE, 0, p[1])), -1);
	assert_true(pipe_eof(p[0]));
	close(p[0]);
	free(mi);
}

/* A dispatch that ignores a failed read is still a violation. */
static void
test_chan_misread(void **state)
{
	struct chan_fixture	*cf = *state;
	struct chan_state	*cs = &cf->cs;

	cs->misread = 1;
	send_hello(cf->peer, 1, 10);
	send_hello(cf->peer, 2, 20);
	pump(cf->base, &cs->nclosed, 1);
	assert_int_equal(cs->nclosed, 1);
	assert_int_equal(strncmp(cs->why, "protocol violation", 18), 0);
	assert_int_equal(cs->ndispatch, 1);
}

static void
test_chan_peer_closes(void **state)
{
	struct chan_fixture	*cf = *state;
	struct chan_state	*cs = &cf->cs;

	send_hello(cf->peer, 1, 10);
	close(cf->peer);
	cf->peer = -1;
	pump(cf->base, &cs->nclosed, 1);
	assert_int_equal(cs->ndispatch, 1);	/* what came before EOF */
	assert_int_equal(cs->nclosed, 1);
	assert_string_equal(cs->why, "connection closed");
	settle(cf->base);
	assert_int_equal(cs->nclosed, 1);
}

/* The descriptor of a message the dispatch did not claim is closed. */
static void
test_chan_fd_unclaimed(void **state)
{
	struct chan_fixture	*cf = *state;
	struct chan_state	*cs = &cf->cs;
	int			 p[2];

	mkpipe(p);
	assert_int_equal(msg_send(cf->peer, m_create(MSG_REC_SESSION_NEW, 0,
	    p[1])), 0);
	pump(cf->base, &cs->ndispatch, 1);
	assert_int_equal(cs->ndispatch, 1);
	assert_int_equal(cs->nclosed, 0);
	assert_true(pipe_eof(p[0]));
	close(p[0]);
}

/* A peer that never reads is cut off once the queue bound is reached. */
static void
test_chan_queue_bound(void **state)
{
	struct chan_fixture	*cf = *state;
	struct chan_state	*cs = &cf->cs;
	struct msg		*m;
	uint8_t			*data;
	int			 i, rc = 0;

	data = calloc(1, MAX_DATA);
	assert_non_null(data);
	for (i = 0; i < 2 * (MSG_QUEUE_MAX / MSG_MAX_SIZE) && rc == 0; i++) {
		m = m_create(MSG_REC_DATA, (uint32_t)i, -1);
		m_add_data(m, data, MAX_DATA);
		rc = msgchan_send(cs->mc, m);
		assert_true(cs->mc->mc_queued <= MSG_QUEUE_MAX);
	}
	free(data);
	assert_int_equal(rc, -1);
	assert_true(i > MSG_QUEUE_MAX / MSG_MAX_SIZE);
	/* closed() runs from the event loop, not from inside the send. */
	assert_int_equal(cs->nclosed, 0);
	pump(cf->base, &cs->nclosed, 1);
	assert_int_equal(cs->nclosed, 1);
	assert_string_equal(cs->why, "peer is not reading its messages");
	assert_int_equal(cs->mc->mc_queued, 0);
	assert_true(TAILQ_EMPTY(&cs->mc->mc_queue));
}

/* Malformed datagrams, written raw, each ending the channel. */
struct chan_raw_case {
	const char	*name;
	size_t		 size;
	uint32_t	 hlen;
	uint16_t	 type;
	uint16_t	 flags;
	int		 nfds;
	const char	*why;
};

static const struct chan_raw_case chan_raw_cases[] = {
	{ "chan: type 0", 12, LEN_OK, MSG_NONE, 0, 0,
	    "protocol violation: unknown message type" },
	{ "chan: short datagram", 6, LEN_OK, MSG_MON_HELLO, 0, 0,
	    "protocol violation: short message" },
	{ "chan: length mismatch", 12, 40, MSG_MON_HELLO, 0, 0,
	    "protocol violation: length does not match the header" },
	{ "chan: unknown flag", 12, LEN_OK, MSG_MON_HELLO, 4, 0,
	    "protocol violation: unknown flags" },
	{ "chan: fd flag without fd", 12, LEN_OK, MSG_REC_FILE, MSG_FLAG_FD, 0,
	    "protocol violation: descriptor missing" },
	{ "chan: fd without flag", 12, LEN_OK, MSG_REC_FILE, 0, 1,
	    "protocol violation: unexpected descriptor" },
	{ "chan: two fds", 12, LEN_OK, MSG_REC_FILE, MSG_FLAG_FD, 2,
	    "protocol violation: more than one descriptor" },
	{ "chan: too long", MSG_MAX_SIZE + 1, LEN_OK, MSG_REC_DATA, 0, 0,
	    "protocol violation: message too long" },
	{ "chan: bad field", 13, LEN_OK, MSG_MON_HELLO, 0, 0,
	    "protocol violation: malformed or unexpected MON_HELLO" },
};

static void
test_chan_raw(void **state)
{
	struct chan_fixture		*cf = *state;
	const struct chan_raw_case	*tc = cf->row;
	struct chan_state		*cs = &cf->cs;
	uint8_t				*buf;
	size_t				 alloc;
	int				 pipes[4][2], wfds[4], i;

	alloc = tc->size < MSG_HDR_SIZE ? MSG_HDR_SIZE : tc->size;
	buf = calloc(1, alloc);
	assert_non_null(buf);
	put_hdr(buf, tc->hlen == LEN_OK ? (uint32_t)tc->size : tc->hlen,
	    tc->type, tc->flags, 5);
	if (tc->size > MSG_HDR_SIZE)
		buf[MSG_HDR_SIZE] = M_U32;	/* a field cut short */
	for (i = 0; i < tc->nfds; i++) {
		mkpipe(pipes[i]);
		wfds[i] = pipes[i][1];
	}
	/* A good message first: it is served before the bad one. */
	send_hello(cf->peer, 1, 10);
	send_raw(cf->peer, buf, tc->size, wfds, (size_t)tc->nfds);
	send_hello(cf->peer, 2, 20);
	for (i = 0; i < tc->nfds; i++)
		close(pipes[i][1]);
	free(buf);

	pump(cf->base, &cs->nclosed, 1);
	assert_int_equal(cs->nclosed, 1);
	assert_string_equal(cs->why, tc->why);
	/* The good one before, none after (a bad field is dispatched). */
	assert_int_equal(cs->ndispatch,
	    strstr(tc->why, "malformed") != NULL ? 2 : 1);
	for (i = 0; i < tc->nfds; i++) {
		if (!pipe_eof(pipes[i][0]))
			fail_msg("descriptor %d left open", i + 1);
		close(pipes[i][0]);
	}
	settle(cf->base);
	assert_int_equal(cs->nclosed, 1);
}

/* ---- main --------------------------------------------------------------- */

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_null_string),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_fd_unclaimed),
		cmocka_unit_test(test_in_clear),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_reject_then_valid),
		cmocka_unit_test(test_field_sticky),
		cmocka_unit_test(test_parse_direct),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_forward),
		cmocka_unit_test_setup_teardown(test_chan_order, chan_setup,
		    chan_teardown),
		cmocka_unit_test_setup_teardown(test_chan_dispatch_fails,
		    chan_setup, chan_teardown),
		cmocka_unit_test_setup_teardown(test_chan_misread, chan_setup,
		    chan_teardown),
		cmocka_unit_test_setup_teardown(test_chan_peer_closes,
		    chan_setup, chan_teardown),
		cmocka_unit_test_setup_teardown(test_chan_fd_unclaimed,
		    chan_setup, chan_teardown),
		cmocka_unit_test_setup_teardown(test_chan_queue_bound,
		    chan_setup, chan_teardown),
	};
	struct CMUnitTest	*t;
	size_t			 n = 0, i;
	int			 rc;

	/* The tables become one named test per row. */
	t = calloc(NELEM(fixed) + NELEM(rt_cases) + NELEM(rej_cases) +
	    NELEM(fld_cases) + NELEM(chan_raw_cases), sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < NELEM(rt_cases); i++, n++) {
		t[n].name = rt_cases[i].name;
		t[n].test_func = test_roundtrip;
		t[n].initial_state = (void *)(uintptr_t)&rt_cases[i];
	}
	for (i = 0; i < NELEM(fixed); i++, n++)
		t[n] = fixed[i];
	for (i = 0; i < NELEM(rej_cases); i++, n++) {
		t[n].name = rej_cases[i].name;
		t[n].test_func = test_reject;
		t[n].initial_state = (void *)(uintptr_t)&rej_cases[i];
	}
	for (i = 0; i < NELEM(fld_cases); i++, n++) {
		t[n].name = fld_cases[i].name;
		t[n].test_func = test_field;
		t[n].initial_state = (void *)(uintptr_t)&fld_cases[i];
	}
	for (i = 0; i < NELEM(chan_raw_cases); i++, n++) {
		t[n].name = chan_raw_cases[i].name;
		t[n].test_func = test_chan_raw;
		t[n].setup_func = chan_setup;
		t[n].teardown_func = chan_teardown;
		t[n].initial_state = (void *)(uintptr_t)&chan_raw_cases[i];
	}
	rc = _cmocka_run_group_tests("msg", t, n, NULL, NULL);
	free(t);
	return rc;
}
