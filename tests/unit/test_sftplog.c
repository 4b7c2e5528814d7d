/*
 * test_sftplog.c: the sftp transfer log from real SFTP v3 packet
 * streams, built here field by field the way OpenSSH's client and
 * server send them.  Every scenario is fed whole, byte by byte, in
 * random pieces and with a direction's packets run together, and must
 * give the same lines each time: uploads and downloads with their size
 * and SHA-256 (expected digests were computed independently with
 * Python's hashlib), offsets out of order, the other operations,
 * refusals, paths with control bytes, malformed and oversized packets,
 * the caps on open files and requests, and files left open at the end.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portier.h"
#include "sftplog.h"

#define SHA_EMPTY	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ABCGHIDEF	"4efa11fa3b6d49e49784becb57727f1a3a792ab6e0712ceca4acf0f2659dbba2"
/* 1 MiB of byte i = (i * 31 + 7) & 0xff */
#define SHA_PATTERN	"06b7bbfb7824aa03382051691630eb26de85102d1b08a81e907ec0744cd8a286"
#define MIB		(1024 * 1024)
#define CHUNK		32768

#define FXF_READ	0x01
#define FXF_WRITE	0x02
#define FXF_CREAT	0x08
#define FXF_TRUNC	0x10

/* ---- building streams --------------------------------------------------- */

struct buf {
	uint8_t		*b_p;
	size_t		 b_len, b_cap;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->b_len + n > b->b_cap) {
		b->b_cap = (b->b_len + n) * 2;
		b->b_p = realloc(b->b_p, b->b_cap);
		assert_non_null(b->b_p);
	}
	if (n > 0)
		memcpy(b->b_p + b->b_len, p, n);
	b->b_len += n;
}

static void
buf_u8(struct buf *b, uint8_t v)
{
	buf_add(b, &v, 1);
}

static void
buf_u32(struct buf *b, uint32_t v)
{
	uint8_t	 p[4] = { v >> 24, v >> 16, v >> 8, v };

	buf_add(b, p, 4);
}

static void
buf_u64(struct buf *b, uint64_t v)
{
	buf_u32(b, v >> 32);
	buf_u32(b, (uint32_t)v);
}

static void
buf_strn(struct buf *b, const void *p, size_t n)
{
	buf_u32(b, n);
	buf_add(b, p, n);
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_strn(b, s, strlen(s));
}

/* The two streams, and the order in which their pieces were sent. */
struct seg {
	int		 sg_server;
	size_t		 sg_off, sg_len;
};

struct script {
	struct buf	 sc_dir[2];	/* client, server */
	struct seg	*sc_segs;
	size_t		 sc_nsegs;
	struct buf	 sc_pkt;	/* the packet being built */
	int		 sc_server;
};

static void
raw(struct script *sc, int server, const void *p, size_t n)
{
	struct seg	*sg;

	sc->sc_segs = realloc(sc->sc_segs,
	    (sc->sc_nsegs + 1) * sizeof(*sc->sc_segs));
	assert_non_null(sc->sc_segs);
	sg = &sc->sc_segs[sc->sc_nsegs++];
	sg->sg_server = server;
	sg->sg_off = sc->sc_dir[server].b_len;
	sg->sg_len = n;
	buf_add(&sc->sc_dir[server], p, n);
}

static struct buf *
pkt(struct script *sc, int server, uint8_t type)
{
	sc->sc_pkt.b_len = 0;
	sc->sc_server = server;
	buf_u8(&sc->sc_pkt, type);
	return &sc->sc_pkt;
}

static void
pkt_send(struct script *sc)
{
	struct buf	 b = { 0 };

	buf_u32(&b, sc->sc_pkt.b_len);
	buf_add(&b, sc->sc_pkt.b_p, sc->sc_pkt.b_len);
	raw(sc, sc->sc_server, b.b_p, b.b_len);
	free(b.b_p);
}

static void
c_open(struct script *sc, uint32_t id, const char *path, uint32_t pflags)
{
	struct buf	*b = pkt(sc, 0, 3);

	buf_u32(b, id);
	buf_str(b, path);
	buf_u32(b, pflags);
	buf_u32(b, 0);		/* no attributes */
	pkt_send(sc);
}

static void
c_write(struct script *sc, uint32_t id, const char *h, uint64_t off,
    const void *p, size_t n)
{
	struct buf	*b = pkt(sc, 0, 6);

	buf_u32(b, id);
	buf_str(b, h);
	buf_u64(b, off);
	buf_strn(b, p, n);
	pkt_send(sc);
}

static void
c_read(struct script *sc, uint32_t id, const char *h, uint64_t off,
    uint32_t n)
{
	struct buf	*b = pkt(sc, 0, 5);

	buf_u32(b, id);
	buf_str(b, h);
	buf_u64(b, off);
	buf_u32(b, n);
	pkt_send(sc);
}

/* CLOSE, REMOVE, RMDIR, OPENDIR, READDIR, STAT: an id and a string. */
static void
c_one(struct script *sc, uint8_t type, uint32_t id, const char *s)
{
	struct buf	*b = pkt(sc, 0, type);

	buf_u32(b, id);
	buf_str(b, s);
	if (type == 14)		/* MKDIR has attributes */
		buf_u32(b, 0);
	pkt_send(sc);
}

/* RENAME, SYMLINK: an id and two strings. */
static void
c_two(struct script *sc, uint8_t type, uint32_t id, const char *a,
    const char *b2)
{
	struct buf	*b = pkt(sc, 0, type);

	buf_u32(b, id);
	buf_str(b, a);
	buf_str(b, b2);
	pkt_send(sc);
}

static void
s_handle(struct script *sc, uint32_t id, const char *h)
{
	struct buf	*b = pkt(sc, 1, 102);

	buf_u32(b, id);
	buf_str(b, h);
	pkt_send(sc);
}

static void
s_status(struct script *sc, uint32_t id, uint32_t code, const char *msg)
{
	struct buf	*b = pkt(sc, 1, 101);

	buf_u32(b, id);
	buf_u32(b, code);
	buf_str(b, msg);
	buf_str(b, "");
	pkt_send(sc);
}

static void
s_data(struct script *sc, uint32_t id, const void *p, size_t n)
{
	struct buf	*b = pkt(sc, 1, 103);

	buf_u32(b, id);
	buf_strn(b, p, n);
	pkt_send(sc);
}

/* What every session starts with: INIT and VERSION (with extensions). */
static void
handshake(struct script *sc)
{
	struct buf	*b;

	b = pkt(sc, 0, 1);
	buf_u32(b, 3);
	pkt_send(sc);
	b = pkt(sc, 1, 2);
	buf_u32(b, 3);
	buf_str(b, "posix-rename@openssh.com");
	buf_str(b, "1");
	pkt_send(sc);
}

static uint8_t *
pattern(void)
{
	uint8_t	*p;
	size_t	 i;

	p = malloc(MIB);
	assert_non_null(p);
	for (i = 0; i < MIB; i++)
		p[i] = (uint8_t)(i * 31 + 7);
	return p;
}

/* ---- feeding and collecting --------------------------------------------- */

struct lines {
	char		**l_v;
	size_t		 l_n;
};

static void
collect(void *arg, const char *line)
{
	struct lines	*l = arg;

	assert_null(strchr(line, '\n'));
	l->l_v = realloc(l->l_v, (l->l_n + 1) * sizeof(*l->l_v));
	assert_non_null(l->l_v);
	l->l_v[l->l_n] = strdup(line);
	assert_non_null(l->l_v[l->l_n]);
	l->l_n++;
}

static void
lines_free(struct lines *l)
{
	size_t	 i;

	for (i = 0; i < l->l_n; i++)
		free(l->l_v[i]);
	free(l->l_v);
	memset(l, 0, sizeof(*l));
}

enum mode { WHOLE, BYTES, RANDOM, RUNS, NMODES };
static const char *const mode_names[] = { "whole", "bytes", "random", "runs" };

static void
give(struct sftplog *sl, int server, const uint8_t *p, size_t n)
{
	if (server)
		sftplog_server(sl, p, n);
	else
		sftplog_client(sl, p, n);
}

/*
 * Feed the script: each piece whole, byte by byte, cut at random
 * (a fixed seed), or every run of pieces in one direction at once.
 * Lines come out in LINES; sftplog_free() is called when FREE.
 */
static void
run(struct script *sc, enum mode mode, struct lines *lines)
{
	struct sftplog	*sl;
	struct seg	*sg;
	const uint8_t	*p;
	uint32_t	 seed = 12345;
	size_t		 i, j, n, k;

	sl = sftplog_new(collect, lines);
	assert_non_null(sl);
	for (i = 0; i < sc->sc_nsegs; i++) {
		sg = &sc->sc_segs[i];
		p = sc->sc_dir[sg->sg_server].b_p + sg->sg_off;
		n = sg->sg_len;
		switch (mode) {
		case WHOLE:
			give(sl, sg->sg_server, p, n);
			break;
		case BYTES:
			for (j = 0; j < n; j++)
				give(sl, sg->sg_server, p + j, 1);
			break;
		case RANDOM:
			for (j = 0; j < n; j += k) {
				seed = seed * 1103515245 + 12345;
				k = 1 + (seed >> 8) % 9000;
				if (k > n - j)
					k = n - j;
				give(sl, sg->sg_server, p + j, k);
			}
			break;
		case RUNS:
			while (i + 1 < sc->sc_nsegs &&
			    sc->sc_segs[i + 1].sg_server == sg->sg_server) {
				n += sc->sc_segs[i + 1].sg_len;
				i++;
			}
			give(sl, sg->sg_server, p, n);
			break;
		case NMODES:
			break;
		}
	}
	sftplog_free(sl);
}

static void
script_free(struct script *sc)
{
	free(sc->sc_dir[0].b_p);
	free(sc->sc_dir[1].b_p);
	free(sc->sc_pkt.b_p);
	free(sc->sc_segs);
}

/* ---- the scenarios ------------------------------------------------------ */

static void
sc_upload_abc(struct script *sc)
{
	c_open(sc, 1, "/tmp/a.txt", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
	s_handle(sc, 1, "h1");
	c_write(sc, 2, "h1", 0, "abc", 3);
	s_status(sc, 2, 0, "Success");
	c_one(sc, 4, 3, "h1");
	s_status(sc, 3, 0, "Success");
}

static void
sc_upload_empty(struct script *sc)
{
	c_open(sc, 1, "/tmp/empty", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
	s_handle(sc, 1, "\0\0\0\1");
	c_one(sc, 4, 2, "");	/* another handle: not ours */
	c_one(sc, 4, 3, "\0\0\0\1");
	s_status(sc, 3, 0, "Success");
}

/* A handle with a NUL in it, as OpenSSH's are. */
static void
sc_upload_empty_nul(struct script *sc)
{
	struct buf	*b;

	c_open(sc, 1, "/tmp/empty", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
	b = pkt(sc, 1, 102);
	buf_u32(b, 1);
	buf_strn(b, "\0\0\0\1", 4);
	pkt_send(sc);
	b = pkt(sc, 0, 4);
	buf_u32(b, 2);
	buf_strn(b, "\0\0\0\1", 4);
	pkt_send(sc);
	s_status(sc, 2, 0, "Success");
}

/* OpenSSH's way: writes pipelined, their statuses later, FSETSTAT. */
static void
sc_upload_mib(struct script *sc)
{
	uint8_t		*p = pattern();
	struct buf	*b;
	uint32_t	 id = 10, off;

	c_open(sc, 1, "/srv/fw.bin", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
	s_handle(sc, 1, "H");
	for (off = 0; off < MIB; off += CHUNK)
		c_write(sc, id++, "H", off, p + off, CHUNK);
	for (id = 10; id < 10 + MIB / CHUNK; id++)
		s_status(sc, id, 0, "Success");
	b = pkt(sc, 0, 10);		/* FSETSTAT, mode 0644 */
	buf_u32(b, 2);
	buf_str(b, "H");
	buf_u32(b, 0x04);
	buf_u32(b, 0100644);
	pkt_send(sc);
	s_status(sc, 2, 0, "Success");
	c_one(sc, 4, 3, "H");
	s_status(sc, 3, 0, "Success");
	free(p);
}

static void
sc_download_mib(struct script *sc)
{
	uint8_t		*p = pattern();
	uint32_t	 id = 10, off;

	c_one(sc, 17, 1, "/srv/log.bin");	/* STAT: not logged */
	c_open(sc, 2, "/srv/log.bin", FXF_READ);
	s_handle(sc, 2, "D");
	for (off = 0; off < MIB; off += CHUNK)
		c_read(sc, id++, "D", off, CHUNK);
	c_read(sc, id, "D", MIB, CHUNK);
	for (id = 10, off = 0; off < MIB; off += CHUNK)
		s_data(sc, id++, p + off, CHUNK);
	s_status(sc, id, 1, "End of file");
	c_one(sc, 4, 3, "D");
	s_status(sc, 3, 0, "Success");
	free(p);
}

static void
sc_nonseq(struct script *sc)
{
	c_open(sc, 1, "/tmp/x", FXF_WRITE | FXF_CREAT);
	s_handle(sc, 1, "h");
	c_write(sc, 2, "h", 0, "abc", 3);
	c_write(sc, 3, "h", 6, "ghi", 3);
	c_write(sc, 4, "h", 3, "def", 3);
	s_status(sc, 2, 0, "");
	s_status(sc, 3, 0, "");
	s_status(sc, 4, 4, "Failure");
	c_one(sc, 4, 5, "h");
}

static void
sc_resume(struct script *sc)
{
	c_open(sc, 1, "/tmp/big", FXF_WRITE);
	s_handle(sc, 1, "h");
	c_write(sc, 2, "h", 100, "abc", 3);
	c_one(sc, 4, 3, "h");
}

static void
sc_operations(struct script *sc)
{
	struct buf	*b;

	c_one(sc, 13, 1, "/tmp/old.log");
	c_two(sc, 18, 2, "/tmp/a", "/tmp/b");
	c_one(sc, 14, 3, "/tmp/d");
	c_one(sc, 15, 4, "/tmp/e");
	c_two(sc, 20, 5, "target", "/tmp/link");
	b = pkt(sc, 0, 9);		/* SETSTAT mode and times */
	buf_u32(b, 6);
	buf_str(b, "/tmp/b");
	buf_u32(b, 0x04 | 0x08);
	buf_u32(b, 0100755);
	buf_u32(b, 1700000000);
	buf_u32(b, 1700000001);
	pkt_send(sc);
	b = pkt(sc, 0, 200);
	buf_u32(b, 7);
	buf_str(b, "posix-rename@openssh.com");
	buf_str(b, "/tmp/b");
	buf_str(b, "/tmp/c");
	pkt_send(sc);
	b = pkt(sc, 0, 200);	/* asks only: not logged */
	buf_u32(b, 8);
	buf_str(b, "limits@openssh.com");
	pkt_send(sc);
	c_one(sc, 11, 9, "/home/vendor");
	s_status(sc, 1, 0, "Success");
	s_status(sc, 2, 0, "Success");
	s_status(sc, 3, 0, "Success");
	s_status(sc, 4, 0, "Success");
	s_status(sc, 5, 0, "Success");
	s_status(sc, 6, 0, "Success");
	s_status(sc, 7, 0, "Success");
	b = pkt(sc, 1, 201);	/* EXTENDED_REPLY */
	buf_u32(b, 8);
	buf_u64(b, 32768);
	pkt_send(sc);
	s_handle(sc, 9, "dir");
	c_one(sc, 12, 10, "dir");	/* READDIR */
	b = pkt(sc, 1, 104);		/* NAME, one entry */
	buf_u32(b, 10);
	buf_u32(b, 1);
	buf_str(b, "a");
	buf_str(b, "-rw-r--r-- a");
	buf_u32(b, 0);
	pkt_send(sc);
	c_one(sc, 4, 11, "dir");
}

static void
sc_refused(struct script *sc)
{
	c_open(sc, 1, "/etc/shadow", FXF_READ);
	s_status(sc, 1, 3, "Permission denied");
	c_open(sc, 2, "/etc/passwd", FXF_WRITE | FXF_TRUNC);
	s_status(sc, 2, 3, "Permission denied");
	c_one(sc, 13, 3, "/nonexistent");
	s_status(sc, 3, 2, "");
	c_one(sc, 14, 4, "/x");
	s_status(sc, 4, 99, "");
	c_one(sc, 11, 5, "/root");
	s_status(sc, 5, 3, "no\x1b[2J");
}

static void
sc_escaped(struct script *sc)
{
	c_one(sc, 13, 1, "/tmp/a\x1b[31mb\n\\\xc3\xa9\xff\xc2\x85.txt");
	s_status(sc, 1, 0, "");
}

static void
sc_long_path(struct script *sc)
{
	char	 path[2001];

	memset(path, 'a', 2000);
	path[2000] = '\0';
	c_one(sc, 13, 1, path);
	s_status(sc, 1, 0, "");
}

static void
sc_left_open(struct script *sc)
{
	c_open(sc, 1, "/tmp/a", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
	s_handle(sc, 1, "h");
	c_write(sc, 2, "h", 0, "abc", 3);
	c_open(sc, 3, "/tmp/r", FXF_READ);
	s_handle(sc, 3, "r");
	c_one(sc, 13, 4, "/tmp/gone");
	c_open(sc, 5, "/tmp/slow", FXF_READ);
}

static void
sc_zero_length(struct script *sc)
{
	static const uint8_t	 zero[] = { 0, 0, 0, 0, 3, 0, 0, 0 };

	sc_upload_abc(sc);
	c_open(sc, 4, "/tmp/b", FXF_WRITE | FXF_TRUNC);
	s_handle(sc, 4, "hb");
	c_write(sc, 5, "hb", 0, "abc", 3);
	raw(sc, 0, zero, sizeof(zero));
	c_one(sc, 13, 6, "/after");
	s_status(sc, 6, 0, "");
}

static void
sc_oversized(struct script *sc)
{
	static const uint8_t	 big[] = { 0, 4, 0x93, 0xe0, 6, 0, 0, 0, 1 };

	raw(sc, 0, big, sizeof(big));
	c_one(sc, 13, 2, "/after");
}

static void
sc_bad_open(struct script *sc)
{
	struct buf	*b = pkt(sc, 0, 3);

	buf_u32(b, 1);
	buf_u32(b, 1000);	/* a path longer than the packet */
	buf_add(b, "/tmp", 4);
	pkt_send(sc);
}

static void
sc_bad_write(struct script *sc)
{
	struct buf	*b;

	c_open(sc, 1, "/tmp/w", FXF_WRITE | FXF_TRUNC);
	s_handle(sc, 1, "h");
	b = pkt(sc, 0, 6);
	buf_u32(b, 2);
	buf_str(b, "h");
	buf_u64(b, 0);
	buf_u32(b, 100);	/* 100 bytes said, 3 sent */
	buf_add(b, "abc", 3);
	pkt_send(sc);
}

static void
sc_bad_status(struct script *sc)
{
	static const uint8_t	 st[] = { 0, 0, 0, 3, 101, 0, 0 };

	c_one(sc, 13, 1, "/x");
	raw(sc, 1, st, sizeof(st));
}

struct tcase {
	const char	*name;
	void		(*build)(struct script *);
	const char	*want[8];
};

static const struct tcase tcases[] = {
	{ "upload of abc", sc_upload_abc, {
	    "sftp upload /tmp/a.txt: 3 bytes, sha256 " SHA_ABC } },
	{ "empty upload", sc_upload_empty, {
	    "sftp upload /tmp/empty: 0 bytes, sha256 " SHA_EMPTY } },
	{ "empty upload, handle with NULs", sc_upload_empty_nul, {
	    "sftp upload /tmp/empty: 0 bytes, sha256 " SHA_EMPTY } },
	{ "1 MiB upload in pipelined writes", sc_upload_mib, {
	    "sftp setstat /srv/fw.bin (mode 0644)",
	    "sftp upload /srv/fw.bin: 1048576 bytes, sha256 " SHA_PATTERN } },
	{ "1 MiB download, READ then DATA", sc_download_mib, {
	    "sftp download /srv/log.bin: 1048576 bytes, sha256 "
	    SHA_PATTERN } },
	{ "writes out of order, one refused", sc_nonseq, {
	    "sftp upload /tmp/x: 9 bytes, sha256 " SHA_ABCGHIDEF
	    " (not sequential: the hash is of the bytes in transfer order)"
	    " (the server refused some writes)" } },
	{ "resumed upload", sc_resume, {
	    "sftp upload /tmp/big: 3 bytes, sha256 " SHA_ABC
	    " (from offset 100)" } },
	{ "other operations", sc_operations, {
	    "sftp remove /tmp/old.log",
	    "sftp rename /tmp/a -> /tmp/b",
	    "sftp mkdir /tmp/d",
	    "sftp rmdir /tmp/e",
	    "sftp symlink /tmp/link -> target",
	    "sftp setstat /tmp/b (mode 0755, mtime 1700000001)",
	    "sftp rename /tmp/b -> /tmp/c",
	    "sftp list /home/vendor" } },
	{ "refusals", sc_refused, {
	    "sftp download /etc/shadow refused: Permission denied",
	    "sftp upload /etc/passwd refused: Permission denied",
	    "sftp remove /nonexistent refused: no such file",
	    "sftp mkdir /x refused: status 99",
	    "sftp list /root refused: no\\x1b[2J" } },
	{ "control bytes escaped", sc_escaped, {
	    "sftp remove /tmp/a\\x1b[31mb\\x0a\\\\\xc3\xa9\\xff\\xc2\\x85.txt" } },
	{ "a file and requests left open", sc_left_open, {
	    "sftp upload /tmp/a: 3 bytes, sha256 " SHA_ABC
	    " (not closed: the channel ended)",
	    "sftp open /tmp/r: no data transferred "
	    "(not closed: the channel ended)",
	    "sftp remove /tmp/gone (no reply seen)",
	    "sftp download /tmp/slow (no reply seen)" } },
	{ "a packet of length 0", sc_zero_length, {
	    "sftp upload /tmp/a.txt: 3 bytes, sha256 " SHA_ABC,
	    "sftp log: stream not understood (an empty packet from the "
	    "client); the log stops here",
	    "sftp upload /tmp/b: 3 bytes, sha256 " SHA_ABC
	    " (not closed: the log stopped)" } },
	{ "an oversized packet", sc_oversized, {
	    "sftp log: stream not understood (a packet of 300000 bytes "
	    "from the client); the log stops here" } },
	{ "an OPEN with a path longer than its packet", sc_bad_open, {
	    "sftp log: stream not understood (a malformed OPEN from the "
	    "client); the log stops here" } },
	{ "a WRITE longer than its packet", sc_bad_write, {
	    "sftp log: stream not understood (a WRITE longer than its "
	    "packet); the log stops here",
	    "sftp upload /tmp/w: 0 bytes, sha256 " SHA_EMPTY
	    " (not closed: the log stopped)" } },
	{ "a STATUS too short for its id", sc_bad_status, {
	    "sftp log: stream not understood (a malformed STATUS from the "
	    "server); the log stops here",
	    "sftp remove /x (no reply seen)" } },
};

static void
check_lines(const struct lines *got, const char *const *want, size_t nwant,
    const char *what)
{
	size_t	 i;

	for (i = 0; i < got->l_n && i < nwant; i++)
		if (strcmp(got->l_v[i], want[i]) != 0)
			fail_msg("%s: line %zu:\n got  \"%s\"\n want \"%s\"",
			    what, i, got->l_v[i], want[i]);
	if (got->l_n != nwant)
		fail_msg("%s: %zu lines, want %zu%s%s", what, got->l_n, nwant,
		    got->l_n > nwant ? "; the next: " : "",
		    got->l_n > nwant ? got->l_v[nwant] : "");
}

static void
test_case(void **state)
{
	const struct tcase	*c = *state;
	struct script		 sc;
	struct lines		 got;
	char			 what[256];
	size_t			 nwant;
	int			 m;

	memset(&sc, 0, sizeof(sc));
	handshake(&sc);
	c->build(&sc);
	for (nwant = 0; nwant < 8 && c->want[nwant] != NULL; nwant++)
		;
	for (m = 0; m < NMODES; m++) {
		memset(&got, 0, sizeof(got));
		run(&sc, m, &got);
		snprintf(what, sizeof(what), "%s, fed %s", c->name,
		    mode_names[m]);
		check_lines(&got, c->want, nwant, what);
		lines_free(&got);
	}
	script_free(&sc);
}

/* ---- the caps ----------------------------------------------------------- */

/* The 65th open file is named but not followed; the 64 others are. */
static void
test_too_many_files(void **state)
{
	struct script	 sc;
	struct lines	 got;
	char		 path[32], h[32];
	int		 i, m;

	memset(&sc, 0, sizeof(sc));
	handshake(&sc);
	for (i = 0; i < SFTPLOG_FILES_MAX + 1; i++) {
		snprintf(path, sizeof(path), "/f%d", i);
		snprintf(h, sizeof(h), "h%d", i);
		c_open(&sc, i, path, FXF_WRITE | FXF_TRUNC);
		s_handle(&sc, i, h);
	}
	for (i = 0; i < SFTPLOG_FILES_MAX + 1; i++) {
		snprintf(h, sizeof(h), "h%d", i);
		c_write(&sc, 1000 + i, h, 0, "abc", 3);
		c_one(&sc, 4, 2000 + i, h);
	}
	for (m = 0; m < NMODES; m += 2) {
		memset(&got, 0, sizeof(got));
		run(&sc, m, &got);
		assert_int_equal(got.l_n, 2 + SFTPLOG_FILES_MAX);
		assert_string_equal(got.l_v[0], "sftp log: too many open "
		    "files/requests; the log is incomplete");
		assert_string_equal(got.l_v[1], "sftp upload /f64: not "
		    "followed (too many open files)");
		assert_string_equal(got.l_v[2],
		    "sftp upload /f0: 3 bytes, sha256 " SHA_ABC);
		assert_string_equal(got.l_v[65],
		    "sftp upload /f63: 3 bytes, sha256 " SHA_ABC);
		lines_free(&got);
	}
	script_free(&sc);
}

/* READs beyond the cap: their DATA is a gap, and the line says so. */
static void
test_too_many_requests(void **state)
{
	struct script	 sc;
	struct lines	 got;
	uint32_t	 i, n = SFTPLOG_REQUESTS_MAX + 10;

	memset(&sc, 0, sizeof(sc));
	handshake(&sc);
	c_open(&sc, 1, "/r", FXF_READ);
	s_handle(&sc, 1, "h");
	for (i = 0; i < n; i++)
		c_read(&sc, 10 + i, "h", i, 1);
	for (i = 0; i < n; i++)
		s_data(&sc, 10 + i, "a", 1);
	c_one(&sc, 4, 2, "h");
	memset(&got, 0, sizeof(got));
	run(&sc, RUNS, &got);
	assert_int_equal(got.l_n, 2);
	assert_string_equal(got.l_v[0], "sftp log: too many open "
	    "files/requests; the log is incomplete");
	assert_non_null(strstr(got.l_v[1], "sftp download /r: 1024 bytes, "));
	assert_non_null(strstr(got.l_v[1], " (incomplete: too many "
	    "requests)"));
	lines_free(&got);
	script_free(&sc);
}

/* A path is cut at SFTPLOG_PATH_MAX bytes in the line. */
static void
test_long_path(void **state)
{
	struct script	 sc;
	struct lines	 got;
	char		 want[SFTPLOG_PATH_MAX + 32];

	memset(&sc, 0, sizeof(sc));
	sc_long_path(&sc);
	memset(&got, 0, sizeof(got));
	run(&sc, RANDOM, &got);
	strlcpy(want, "sftp remove ", sizeof(want));
	memset(want + 12, 'a', SFTPLOG_PATH_MAX);
	strlcpy(want + 12 + SFTPLOG_PATH_MAX, "...", 4);
	assert_int_equal(got.l_n, 1);
	assert_string_equal(got.l_v[0], want);
	lines_free(&got);
	script_free(&sc);
}

/* Whatever follows a fatal packet, in either direction, is ignored. */
static void
test_dead_stays_dead(void **state)
{
	static const uint8_t	 zero[5] = { 0 };
	struct sftplog		*sl;
	struct lines		 got;
	struct script		 sc;

	memset(&got, 0, sizeof(got));
	memset(&sc, 0, sizeof(sc));
	sc_upload_abc(&sc);
	sl = sftplog_new(collect, &got);
	sftplog_server(sl, zero, sizeof(zero));
	sftplog_client(sl, sc.sc_dir[0].b_p, sc.sc_dir[0].b_len);
	sftplog_server(sl, sc.sc_dir[1].b_p, sc.sc_dir[1].b_len);
	sftplog_free(sl);
	assert_int_equal(got.l_n, 1);
	assert_string_equal(got.l_v[0], "sftp log: stream not understood "
	    "(an empty packet from the server); the log stops here");
	lines_free(&got);
	script_free(&sc);
	sftplog_free(NULL);
}

static void
add(struct CMUnitTest *t, size_t *n, const char *name,
    void (*fn)(void **))
{
	memset(&t[*n], 0, sizeof(t[*n]));
	t[*n].name = name;
	t[(*n)++].test_func = fn;
}

int
main(void)
{
	struct CMUnitTest	 t[sizeof(tcases) / sizeof(tcases[0]) + 4];
	size_t			 i, n = 0;

	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		add(t, &n, tcases[i].name, test_case);
		t[n - 1].initial_state = (void *)(uintptr_t)&tcases[i];
	}
	add(t, &n, "65 open files", test_too_many_files);
	add(t, &n, "1034 outstanding READs", test_too_many_requests);
	add(t, &n, "a path of 2000 bytes", test_long_path);
	add(t, &n, "nothing after the log stops", test_dead_stays_dead);
	return _cmocka_run_group_tests("sftplog", t, n, NULL, NULL);
}
