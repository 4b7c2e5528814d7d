/*
 * sftplog.c: the transfer log of an sftp channel (sftplog.h).
 *
 * Speaks enough of SFTP version 3 (draft-ietf-secsh-filexfer-02, what
 * OpenSSH's sftp and scp use) to follow a session from the outside: an
 * OPEN names a file, the server's HANDLE reply names the handle, WRITEs
 * carry an upload, READs and the DATA replies to them a download, and the
 * CLOSE ends the file: its line gives the size and SHA-256 of what went
 * through.  Other operations are logged when the server answers them, so
 * a line says whether it was done or refused.  Replies are matched to
 * requests by id, as the server does.
 *
 * Data is hashed as it streams: only packet headers and the small
 * requests around them are buffered, so an upload costs no more memory
 * than a directory listing.  What the peers can make the parser keep is
 * capped (packet size, open files, requests awaiting a reply); anything
 * it cannot follow ends the log with a line saying so, never the relay:
 * the caller keeps relaying whatever this returns.
 *
 * Library-like: calls EMIT with lines, never logs, no I/O.  Hashing
 * goes through digest.c (SHA-256 from OpenSSL, which needs no file once
 * loaded), so the parser runs in the session's sandbox.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portier.h"
#include "digest.h"
#include "sftplog.h"

/* Packet types (draft-ietf-secsh-filexfer-02, section 3). */
#define FXP_INIT		1
#define FXP_VERSION		2
#define FXP_OPEN		3
#define FXP_CLOSE		4
#define FXP_READ		5
#define FXP_WRITE		6
#define FXP_SETSTAT		9
#define FXP_FSETSTAT		10
#define FXP_OPENDIR		11
#define FXP_REMOVE		13
#define FXP_MKDIR		14
#define FXP_RMDIR		15
#define FXP_RENAME		18
#define FXP_SYMLINK		20
#define FXP_STATUS		101
#define FXP_HANDLE		102
#define FXP_DATA		103
#define FXP_EXTENDED		200

#define FXF_READ		0x01
#define FXF_WRITE		0x02
#define FXF_TRUNC		0x10

#define FX_OK			0
#define FX_EOF			1

#define ATTR_SIZE		0x01
#define ATTR_UIDGID		0x02
#define ATTR_PERMISSIONS	0x04
#define ATTR_ACMODTIME		0x08

#define HANDLE_MAX		256	/* the draft's limit on a handle */
#define STATUS_TEXT_MAX		256	/* bytes of a server's message */
#define NAME_BUF		(SFTPLOG_PATH_MAX + 4)	/* escaped, "..." */
#define WHAT_MAX		(2 * NAME_BUF + 128)
#define SFTPLOG_LINE		(WHAT_MAX + STATUS_TEXT_MAX + 256)

/* The "length, type" prefix, and "id, string length" after it. */
#define HEAD_LEN		5
#define DATA_HEAD_LEN		13

/* One direction of a transfer in an open file. */
struct side {
	struct digest	*sd_ctx;
	uint64_t	 sd_bytes;
	uint64_t	 sd_start;	/* offset of the first WRITE or DATA */
	uint64_t	 sd_next;	/* the offset that would continue */
	uint32_t	 sd_reqs;	/* WRITE or READ requests */
	int		 sd_started;
	int		 sd_nonseq;
	int		 sd_failed;	/* the server refused one */
	int		 sd_lost;	/* a READ could not be followed */
};

struct sfile {
	int		 f_used;
	uint32_t	 f_hlen;
	uint8_t		 f_handle[HANDLE_MAX];
	uint32_t	 f_pflags;
	char		*f_name;	/* escaped */
	struct side	 f_up, f_down;
};

enum rkind { R_OPEN, R_OPENDIR, R_OP, R_READ, R_WRITE };

struct sreq {
	uint32_t	 r_id;
	enum rkind	 r_kind;
	struct sfile	*r_file;	/* R_READ, R_WRITE */
	uint64_t	 r_off;		/* R_READ */
	uint32_t	 r_pflags;	/* R_OPEN */
	char		*r_what;	/* R_OPEN: the path; else the line */
};

enum sstate { ST_HEAD, ST_BODY, ST_DATA, ST_SKIP };
enum saction { A_SKIP, A_WHOLE, A_WRITE, A_DATA, A_ID };

struct stream {
	const char	*s_who;
	int		 s_server;
	uint8_t		*s_buf;
	size_t		 s_cap;
	size_t		 s_have;
	size_t		 s_need;
	uint32_t	 s_plen;	/* after the length field */
	uint8_t		 s_type;
	enum sstate	 s_state;
	enum saction	 s_action;
	int		 s_stage;
	uint64_t	 s_left;	/* ST_DATA, ST_SKIP: bytes to go */
	uint64_t	 s_trail;	/* after the data, to skip */
	struct side	*s_to;		/* ST_DATA: where bytes go, or NULL */
};

struct sftplog {
	void		(*sl_emit)(void *, const char *);
	void		*sl_arg;
	struct stream	 sl_client, sl_server;
	struct sfile	 sl_files[SFTPLOG_FILES_MAX];
	struct sreq	*sl_reqs;
	size_t		 sl_nreqs;
	int		 sl_toomany;
	int		 sl_dead;
};

/* A reader over a packet held whole; a short field sets rd_bad. */
struct rd {
	const uint8_t	*rd_p;
	size_t		 rd_len;
	int		 rd_bad;
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint32_t
rd_u32(struct rd *r)
{
	uint32_t	 v;

	if (r->rd_bad || r->rd_len < 4) {
		r->rd_bad = 1;
		return 0;
	}
	v = get32(r->rd_p);
	r->rd_p += 4;
	r->rd_len -= 4;
	return v;
}

static uint64_t
rd_u64(struct rd *r)
{
	uint64_t	 v;

	if (r->rd_bad || r->rd_len < 8) {
		r->rd_bad = 1;
		return 0;
	}
	v = get64(r->rd_p);
	r->rd_p += 8;
	r->rd_len -= 8;
	return v;
}

static const uint8_t *
rd_str(struct rd *r, size_t *len)
{
	const uint8_t	*p;
	uint32_t	 n;

	*len = 0;
	n = rd_u32(r);
	if (r->rd_bad || n > r->rd_len) {
		r->rd_bad = 1;
		return (const uint8_t *)"";
	}
	p = r->rd_p;
	r->rd_p += n;
	r->rd_len -= n;
	*len = n;
	return p;
}

/* ---- lines -------------------------------------------------------------- */

/*
 * The length of a valid UTF-8 sequence at P that is safe to print, or 0.
 * C1 controls (U+0080 to U+009F) are refused: some terminals obey them.
 */
static size_t
utf8_len(const uint8_t *p, size_t len)
{
	uint8_t	 lo = 0x80, hi = 0xbf;
	size_t	 n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		if (p[0] == 0xf4)
			hi = 0x8f;	/* beyond U+10FFFF */
	} else
		return 0;
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	if (p[0] == 0xc2 && p[1] < 0xa0)
		return 0;
	return n;
}

/*
 * Untrusted bytes made printable, at most MAX bytes of it; "..." ends
 * what was cut.  OUT has room for MAX + 4.
 */
static void
sftplog_escape(char *out, size_t max, const uint8_t *p, size_t len)
{
	char	 tmp[8];
	size_t	 o = 0, i = 0, n, k;

	while (i < len) {
		n = 1;
		if (p[i] == '\\') {
			memcpy(tmp, "\\\\", 2);
			k = 2;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			tmp[0] = (char)p[i];
			k = 1;
		} else if (p[i] >= 0x80 && (n = utf8_len(p + i, len - i)) > 0) {
			memcpy(tmp, p + i, n);
			k = n;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			k = 4;
			n = 1;
		}
		if (o + k > max) {
			memcpy(out + o, "...", 4);
			return;
		}
		memcpy(out + o, tmp, k);
		o += k;
		i += n;
	}
	out[o] = '\0';
}

static char *
sftplog_name(const uint8_t *p, size_t len)
{
	char	 buf[NAME_BUF];

	sftplog_escape(buf, SFTPLOG_PATH_MAX, p, len);
	return xstrdup(buf);
}

static void
addf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append to the string in BUF; what does not fit is dropped. */
static void
addf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(buf);

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static void
emitf(struct sftplog *sl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
emitf(struct sftplog *sl, const char *fmt, ...)
{
	char	 line[SFTPLOG_LINE];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sl->sl_emit(sl->sl_arg, line);
}

static void
sftplog_toomany(struct sftplog *sl)
{
	if (sl->sl_toomany)
		return;
	sl->sl_toomany = 1;
	emitf(sl, "sftp log: too many open files/requests; "
	    "the log is incomplete");
}

/* ---- files and requests ------------------------------------------------- */

static struct sfile *
file_find(struct sftplog *sl, const uint8_t *h, size_t hlen)
{
	struct sfile	*f;
	size_t		 i;

	for (i = 0; i < SFTPLOG_FILES_MAX; i++) {
		f = &sl->sl_files[i];
		if (f->f_used && f->f_hlen == hlen &&
		    memcmp(f->f_handle, h, hlen) == 0)
			return f;
	}
	return NULL;
}

/* The data of one WRITE or DATA at OFF starts: follow its order. */
static int
side_begin(struct side *sd, uint64_t off, uint64_t len)
{
	if (sd->sd_ctx == NULL && (sd->sd_ctx = digest_new()) == NULL)
		return -1;
	if (!sd->sd_started) {
		sd->sd_started = 1;
		sd->sd_start = off;
	} else if (off != sd->sd_next)
		sd->sd_nonseq = 1;
	sd->sd_next = off + len;
	return 0;
}

static void
side_report(struct sftplog *sl, const char *verb, const char *name,
    struct side *sd, const char *ops, const char *why)
{
	char			 line[SFTPLOG_LINE], hex[DIGEST_HEX];

	/* A file with no data still gets the hash of nothing. */
	if (sd->sd_ctx == NULL)
		sd->sd_ctx = digest_new();
	if (sd->sd_ctx == NULL || digest_final(sd->sd_ctx, hex) == -1)
		strlcpy(hex, "unavailable", sizeof(hex));
	snprintf(line, sizeof(line), "sftp %s %s: %" PRIu64 " bytes, sha256 %s",
	    verb, name, sd->sd_bytes, hex);
	/* A resumed transfer (reput, reget) does not hold the whole file. */
	if (sd->sd_start != 0)
		addf(line, sizeof(line), " (from offset %" PRIu64 ")",
		    sd->sd_start);
	if (sd->sd_nonseq)
		addf(line, sizeof(line), " (not sequential: the hash is of "
		    "the bytes in transfer order)");
	if (sd->sd_failed)
		addf(line, sizeof(line), " (the server refused some %s)", ops);
	if (sd->sd_lost)
		addf(line, sizeof(line), " (incomplete: too many requests)");
	if (why != NULL)
		addf(line, sizeof(line), " (not closed: %s)", why);
	sl->sl_emit(sl->sl_arg, line);
}

/* The line(s) of a file; WHY says why it ends unclosed, or NULL. */
static void
file_report(struct sftplog *sl, struct sfile *f, const char *why)
{
	int	 up, down;

	up = f->f_up.sd_reqs > 0;
	down = f->f_down.sd_reqs > 0;
	/* Opened to be truncated and closed unwritten: an empty upload. */
	if (!up && !down &&
	    (f->f_pflags & (FXF_WRITE | FXF_TRUNC)) == (FXF_WRITE | FXF_TRUNC))
		up = 1;
	if (up)
		side_report(sl, "upload", f->f_name, &f->f_up, "writes", why);
	if (down)
		side_report(sl, "download", f->f_name, &f->f_down, "reads",
		    why);
	if (!up && !down) {
		if (why != NULL)
			emitf(sl, "sftp open %s: no data transferred "
			    "(not closed: %s)", f->f_name, why);
		else
			emitf(sl, "sftp open %s: no data transferred",
			    f->f_name);
	}
}

static void
file_free(struct sftplog *sl, struct sfile *f)
{
	size_t	 i;

	/* Replies still to come for it are no longer followed. */
	for (i = 0; i < sl->sl_nreqs; i++)
		if (sl->sl_reqs[i].r_file == f)
			sl->sl_reqs[i].r_file = NULL;
	if (sl->sl_client.s_to == &f->f_up || sl->sl_client.s_to == &f->f_down)
		sl->sl_client.s_to = NULL;
	if (sl->sl_server.s_to == &f->f_up || sl->sl_server.s_to == &f->f_down)
		sl->sl_server.s_to = NULL;
	digest_free(f->f_up.sd_ctx);
	digest_free(f->f_down.sd_ctx);
	free(f->f_name);
	memset(f, 0, sizeof(*f));
}

static struct sreq *
req_add(struct sftplog *sl, uint32_t id, enum rkind kind)
{
	struct sreq	*r;

	if (sl->sl_nreqs >= SFTPLOG_REQUESTS_MAX) {
		sftplog_toomany(sl);
		return NULL;
	}
	r = &sl->sl_reqs[sl->sl_nreqs++];
	memset(r, 0, sizeof(*r));
	r->r_id = id;
	r->r_kind = kind;
	return r;
}

/* The oldest request with ID: servers answer in order, mostly. */
static struct sreq *
req_find(struct sftplog *sl, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < sl->sl_nreqs; i++)
		if (sl->sl_reqs[i].r_id == id)
			return &sl->sl_reqs[i];
	return NULL;
}

/* Requests stay in order, so that those never answered are told in it. */
static void
req_drop(struct sftplog *sl, struct sreq *r)
{
	size_t	 i = r - sl->sl_reqs;

	free(r->r_what);
	memmove(r, r + 1, (sl->sl_nreqs - i - 1) * sizeof(*r));
	sl->sl_nreqs--;
}

static const char *
open_verb(uint32_t pflags)
{
	return (pflags & FXF_WRITE) ? "upload" : "download";
}

/* What the channel leaves behind, at its end or when the log stops. */
static void
sftplog_flush(struct sftplog *sl, const char *why)
{
	struct sreq	*r;
	size_t		 i;

	for (i = 0; i < SFTPLOG_FILES_MAX; i++)
		if (sl->sl_files[i].f_used) {
			file_report(sl, &sl->sl_files[i], why);
			file_free(sl, &sl->sl_files[i]);
		}
	for (i = 0; i < sl->sl_nreqs; i++) {
		r = &sl->sl_reqs[i];
		if (r->r_kind == R_OPEN)
			emitf(sl, "sftp %s %s (no reply seen)",
			    open_verb(r->r_pflags), r->r_what);
		else if (r->r_kind == R_OPENDIR || r->r_kind == R_OP)
			emitf(sl, "sftp %s (no reply seen)", r->r_what);
		free(r->r_what);
	}
	sl->sl_nreqs = 0;
}

static void
sftplog_die(struct sftplog *sl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The stream is out of step: nothing after this can be trusted. */
static void
sftplog_die(struct sftplog *sl, const char *fmt, ...)
{
	char	 why[256];
	va_list	 ap;

	if (sl->sl_dead)
		return;
	sl->sl_dead = 1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	emitf(sl, "sftp log: stream not understood (%s); the log stops here",
	    why);
	sftplog_flush(sl, "the log stopped");
	free(sl->sl_client.s_buf);
	free(sl->sl_server.s_buf);
	sl->sl_client.s_buf = sl->sl_server.s_buf = NULL;
	sl->sl_client.s_cap = sl->sl_server.s_cap = 0;
}

static const char *
type_name(uint8_t type)
{
	switch (type) {
	case FXP_OPEN:		return "OPEN";
	case FXP_CLOSE:		return "CLOSE";
	case FXP_READ:		return "READ";
	case FXP_WRITE:		return "WRITE";
	case FXP_SETSTAT:	return "SETSTAT";
	case FXP_FSETSTAT:	return "FSETSTAT";
	case FXP_OPENDIR:	return "OPENDIR";
	case FXP_REMOVE:	return "REMOVE";
	case FXP_MKDIR:		return "MKDIR";
	case FXP_RMDIR:		return "RMDIR";
	case FXP_RENAME:	return "RENAME";
	case FXP_SYMLINK:	return "SYMLINK";
	case FXP_STATUS:	return "STATUS";
	case FXP_HANDLE:	return "HANDLE";
	case FXP_DATA:		return "DATA";
	case FXP_EXTENDED:	return "EXTENDED";
	}
	return "packet";
}

/* ---- the client's requests ---------------------------------------------- */

/* " (size N, owner U:G, mode 0644, mtime T)", or "" without any. */
static void
attrs_text(struct rd *r, char *out, size_t len)
{
	uint32_t	 flags, a, b;
	uint64_t	 size;
	const char	*sep = " (";

	out[0] = '\0';
	flags = rd_u32(r);
	if (flags & ATTR_SIZE) {
		size = rd_u64(r);
		addf(out, len, "%ssize %" PRIu64, sep, size);
		sep = ", ";
	}
	if (flags & ATTR_UIDGID) {
		a = rd_u32(r);
		b = rd_u32(r);
		addf(out, len, "%sowner %u:%u", sep, a, b);
		sep = ", ";
	}
	if (flags & ATTR_PERMISSIONS) {
		a = rd_u32(r);
		addf(out, len, "%smode %04o", sep, a & 07777);
		sep = ", ";
	}
	if (flags & ATTR_ACMODTIME) {
		(void)rd_u32(r);
		a = rd_u32(r);
		addf(out, len, "%smtime %u", sep, a);
		sep = ", ";
	}
	if (*out != '\0')
		addf(out, len, ")");
	if (r->rd_bad)
		out[0] = '\0';
}

static const char *
handle_name(struct sftplog *sl, const uint8_t *h, size_t hlen)
{
	struct sfile	*f;

	if ((f = file_find(sl, h, hlen)) == NULL)
		return "(a handle not followed)";
	return f->f_name;
}

/* An operation logged once the server answered it. */
static void
req_op(struct sftplog *sl, uint32_t id, enum rkind kind, const char *what)
{
	struct sreq	*r;

	if ((r = req_add(sl, id, kind)) != NULL)
		r->r_what = xstrdup(what);
}

/* Two paths (rename, links, copy) as "A -> B". */
static void
pair_text(char *out, size_t len, const char *verb, const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen)
{
	char	 ea[NAME_BUF], eb[NAME_BUF];

	sftplog_escape(ea, SFTPLOG_PATH_MAX, a, alen);
	sftplog_escape(eb, SFTPLOG_PATH_MAX, b, blen);
	snprintf(out, len, "%s %s -> %s", verb, ea, eb);
}

/*
 * Extensions OpenSSH's client uses: those that change files are logged,
 * those that only ask (limits, statvfs, expand-path...) are not.
 */
static void
client_extended(struct sftplog *sl, uint32_t id, struct rd *r)
{
	static const char *const quiet[] = {
		"limits@openssh.com", "statvfs@openssh.com",
		"fstatvfs@openssh.com", "expand-path@openssh.com",
		"home-directory", "users-groups-by-id@openssh.com",
		"fsync@openssh.com", "check-file-name", "check-file-handle",
	};
	char		 what[WHAT_MAX], attrs[128], name[NAME_BUF];
	char		 src[NAME_BUF], dst[NAME_BUF];
	const uint8_t	*ext, *a, *b;
	size_t		 elen, alen, blen, i;

	ext = rd_str(r, &elen);
	if (r->rd_bad)
		return;
#define IS(s)	(elen == sizeof(s) - 1 && memcmp(ext, s, elen) == 0)
	if (IS("posix-rename@openssh.com") || IS("hardlink@openssh.com")) {
		a = rd_str(r, &alen);
		b = rd_str(r, &blen);
		if (r->rd_bad)
			return;
		/* link(A, B): the new name B is the link to A. */
		if (IS("hardlink@openssh.com"))
			pair_text(what, sizeof(what), "hardlink", b, blen,
			    a, alen);
		else
			pair_text(what, sizeof(what), "rename", a, alen,
			    b, blen);
	} else if (IS("lsetstat@openssh.com")) {
		a = rd_str(r, &alen);
		attrs_text(r, attrs, sizeof(attrs));
		if (r->rd_bad)
			return;
		sftplog_escape(name, SFTPLOG_PATH_MAX, a, alen);
		snprintf(what, sizeof(what), "setstat %s%s", name, attrs);
	} else if (IS("copy-data")) {
		/* read handle, offset, length, write handle, offset */
		a = rd_str(r, &alen);
		(void)rd_u64(r);
		(void)rd_u64(r);
		b = rd_str(r, &blen);
		(void)rd_u64(r);
		if (r->rd_bad)
			return;
		strlcpy(src, handle_name(sl, a, alen), sizeof(src));
		strlcpy(dst, handle_name(sl, b, blen), sizeof(dst));
		snprintf(what, sizeof(what), "copy %s -> %s", src, dst);
	} else {
		for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
			if (elen == strlen(quiet[i]) &&
			    memcmp(ext, quiet[i], elen) == 0)
				return;
		sftplog_escape(name, 128, ext, elen);
		snprintf(what, sizeof(what), "extended %s", name);
	}
#undef IS
	req_op(sl, id, R_OP, what);
}

static void
client_packet(struct sftplog *sl, uint8_t type, const uint8_t *p, size_t len)
{
	struct rd	 r = { p, len, 0 };
	struct sfile	*f;
	struct sreq	*q;
	char		 what[WHAT_MAX], attrs[128], name[NAME_BUF];
	const uint8_t	*a, *b;
	size_t		 alen, blen;
	uint32_t	 id, pflags;
	uint64_t	 off;
	const char	*verb;

	id = rd_u32(&r);
	switch (type) {
	case FXP_OPEN:
		a = rd_str(&r, &alen);
		pflags = rd_u32(&r);
		if (r.rd_bad)
			break;
		if ((q = req_add(sl, id, R_OPEN)) != NULL) {
			q->r_what = sftplog_name(a, alen);
			q->r_pflags = pflags;
		}
		break;
	case FXP_CLOSE:
		a = rd_str(&r, &alen);
		if (!r.rd_bad && (f = file_find(sl, a, alen)) != NULL) {
			file_report(sl, f, NULL);
			file_free(sl, f);
		}
		break;
	case FXP_READ:
		a = rd_str(&r, &alen);
		off = rd_u64(&r);
		(void)rd_u32(&r);
		if (r.rd_bad || (f = file_find(sl, a, alen)) == NULL)
			break;
		f->f_down.sd_reqs++;
		if ((q = req_add(sl, id, R_READ)) == NULL) {
			/* Its DATA will not be recognised: a gap. */
			f->f_down.sd_lost = 1;
			break;
		}
		q->r_file = f;
		q->r_off = off;
		break;
	case FXP_SETSTAT:
	case FXP_FSETSTAT:
		a = rd_str(&r, &alen);
		attrs_text(&r, attrs, sizeof(attrs));
		if (r.rd_bad)
			break;
		if (type == FXP_SETSTAT)
			sftplog_escape(name, SFTPLOG_PATH_MAX, a, alen);
		else
			strlcpy(name, handle_name(sl, a, alen), sizeof(name));
		snprintf(what, sizeof(what), "setstat %s%s", name, attrs);
		req_op(sl, id, R_OP, what);
		break;
	case FXP_OPENDIR:
	case FXP_REMOVE:
	case FXP_MKDIR:
	case FXP_RMDIR:
		verb = type == FXP_OPENDIR ? "list" : type == FXP_REMOVE ?
		    "remove" : type == FXP_MKDIR ? "mkdir" : "rmdir";
		a = rd_str(&r, &alen);
		if (r.rd_bad)
			break;
		sftplog_escape(name, SFTPLOG_PATH_MAX, a, alen);
		snprintf(what, sizeof(what), "%s %s", verb, name);
		req_op(sl, id, type == FXP_OPENDIR ? R_OPENDIR : R_OP, what);
		break;
	case FXP_RENAME:
	case FXP_SYMLINK:
		a = rd_str(&r, &alen);
		b = rd_str(&r, &blen);
		if (r.rd_bad)
			break;
		/*
		 * OpenSSH sends SYMLINK's paths the other way round from the
		 * draft: the target first, then the link; its servers and
		 * clients agree on that order, so it is the one that matters.
		 */
		if (type == FXP_RENAME)
			pair_text(what, sizeof(what), "rename", a, alen,
			    b, blen);
		else
			pair_text(what, sizeof(what), "symlink", b, blen,
			    a, alen);
		req_op(sl, id, R_OP, what);
		break;
	case FXP_EXTENDED:
		client_extended(sl, id, &r);
		break;
	}
	if (r.rd_bad)
		sftplog_die(sl, "a malformed %s from the client",
		    type_name(type));
}

/* ---- the server's replies ----------------------------------------------- */

static void
status_text(char *out, size_t len, uint32_t code, const uint8_t *msg,
    size_t mlen)
{
	static const char *const names[] = {
		"ok", "end of file", "no such file", "permission denied",
		"failure", "bad message", "no connection", "connection lost",
		"operation unsupported",
	};

	if (mlen > 0)
		sftplog_escape(out, len - 4, msg, mlen);
	else if (code < sizeof(names) / sizeof(names[0]))
		snprintf(out, len, "%s", names[code]);
	else
		snprintf(out, len, "status %u", code);
}

static void
server_status(struct sftplog *sl, struct sreq *q, struct rd *r)
{
	const uint8_t	*msg;
	size_t		 mlen;
	uint32_t	 code;
	char		 text[STATUS_TEXT_MAX + 4];

	code = rd_u32(r);
	if (r->rd_bad)
		return;
	/* Old servers may leave the message and language out. */
	msg = rd_str(r, &mlen);
	if (r->rd_bad) {
		r->rd_bad = 0;
		mlen = 0;
	}
	switch (q->r_kind) {
	case R_OPEN:
	case R_OPENDIR:
	case R_OP:
		if (code == FX_OK && q->r_kind == R_OP) {
			emitf(sl, "sftp %s", q->r_what);
			break;
		}
		if (code == FX_OK)
			break;	/* OPEN answered OK without a handle */
		status_text(text, sizeof(text), code, msg, mlen);
		if (q->r_kind == R_OPEN)
			emitf(sl, "sftp %s %s refused: %s",
			    open_verb(q->r_pflags), q->r_what, text);
		else
			emitf(sl, "sftp %s refused: %s", q->r_what, text);
		break;
	case R_READ:
		if (code != FX_OK && code != FX_EOF && q->r_file != NULL)
			q->r_file->f_down.sd_failed = 1;
		break;
	case R_WRITE:
		if (code != FX_OK && q->r_file != NULL)
			q->r_file->f_up.sd_failed = 1;
		break;
	}
}

static void
server_handle(struct sftplog *sl, struct sreq *q, struct rd *r)
{
	struct sfile	*f;
	const uint8_t	*h;
	size_t		 hlen, i;

	h = rd_str(r, &hlen);
	if (r->rd_bad)
		return;
	if (q->r_kind == R_OPENDIR || q->r_kind == R_OP) {
		emitf(sl, "sftp %s", q->r_what);
		return;
	}
	if (q->r_kind != R_OPEN)
		return;
	if (hlen > HANDLE_MAX) {
		sftplog_die(sl, "a handle of %zu bytes from the server", hlen);
		return;
	}
	/* A handle given again was closed without the CLOSE being seen. */
	if ((f = file_find(sl, h, hlen)) != NULL) {
		file_report(sl, f, NULL);
		file_free(sl, f);
	}
	for (i = 0; i < SFTPLOG_FILES_MAX; i++)
		if (!sl->sl_files[i].f_used)
			break;
	if (i == SFTPLOG_FILES_MAX) {
		sftplog_toomany(sl);
		emitf(sl, "sftp %s %s: not followed (too many open files)",
		    open_verb(q->r_pflags), q->r_what);
		return;
	}
	f = &sl->sl_files[i];
	f->f_used = 1;
	f->f_hlen = hlen;
	memcpy(f->f_handle, h, hlen);
	f->f_pflags = q->r_pflags;
	f->f_name = q->r_what;
	q->r_what = NULL;
}

static void
server_packet(struct sftplog *sl, uint8_t type, const uint8_t *p, size_t len)
{
	struct rd	 r = { p, len, 0 };
	struct sreq	*q;
	uint32_t	 id;

	id = rd_u32(&r);
	if (r.rd_bad) {
		sftplog_die(sl, "a malformed %s from the server",
		    type_name(type));
		return;
	}
	if ((q = req_find(sl, id)) == NULL)
		return;
	if (type == FXP_STATUS)
		server_status(sl, q, &r);
	else if (type == FXP_HANDLE)
		server_handle(sl, q, &r);
	else if (q->r_kind == R_OP)
		emitf(sl, "sftp %s", q->r_what);	/* an EXTENDED_REPLY */
	if (!sl->sl_dead)
		req_drop(sl, q);
	if (r.rd_bad)
		sftplog_die(sl, "a malformed %s from the server",
		    type_name(type));
}

/* ---- the streams -------------------------------------------------------- */

static void
stream_reset(struct stream *st)
{
	st->s_have = 0;
	st->s_need = HEAD_LEN;
	st->s_state = ST_HEAD;
	st->s_stage = 0;
	st->s_left = st->s_trail = 0;
	st->s_to = NULL;
}

/* After data or a skip ran out: what follows in the packet, or the next. */
static void
stream_settle(struct stream *st)
{
	if (st->s_state == ST_DATA && st->s_left == 0) {
		st->s_state = ST_SKIP;
		st->s_left = st->s_trail;
		st->s_trail = 0;
		st->s_to = NULL;
	}
	if (st->s_state == ST_SKIP && st->s_left == 0)
		stream_reset(st);
}

static enum saction
stream_action(const struct stream *st)
{
	if (st->s_server) {
		switch (st->s_type) {
		case FXP_DATA:
			return A_DATA;
		case FXP_STATUS:
		case FXP_HANDLE:
			return A_WHOLE;
		case FXP_VERSION:
			return A_SKIP;
		}
		return st->s_plen >= 5 ? A_ID : A_SKIP;
	}
	switch (st->s_type) {
	case FXP_WRITE:
		return A_WRITE;
	case FXP_OPEN:
	case FXP_CLOSE:
	case FXP_READ:
	case FXP_SETSTAT:
	case FXP_FSETSTAT:
	case FXP_OPENDIR:
	case FXP_REMOVE:
	case FXP_MKDIR:
	case FXP_RMDIR:
	case FXP_RENAME:
	case FXP_SYMLINK:
	case FXP_EXTENDED:
		return A_WHOLE;
	}
	return A_SKIP;
}

/* The length and type are in: how much more to hold, or what to skip. */
static void
stream_head(struct sftplog *sl, struct stream *st)
{
	st->s_plen = get32(st->s_buf);
	st->s_type = st->s_buf[4];
	if (st->s_plen == 0) {
		sftplog_die(sl, "an empty packet from the %s", st->s_who);
		return;
	}
	if (st->s_plen > SFTPLOG_PACKET_MAX) {
		sftplog_die(sl, "a packet of %" PRIu32 " bytes from the %s",
		    st->s_plen, st->s_who);
		return;
	}
	st->s_action = stream_action(st);
	st->s_state = ST_BODY;
	switch (st->s_action) {
	case A_SKIP:
		st->s_state = ST_SKIP;
		st->s_left = st->s_plen - 1;
		stream_settle(st);
		return;
	case A_WHOLE:
		st->s_need = 4 + (size_t)st->s_plen;
		break;
	case A_ID:
		st->s_need = HEAD_LEN + 4;
		break;
	case A_WRITE:
	case A_DATA:
		st->s_need = DATA_HEAD_LEN;
		break;
	}
	if (st->s_need > 4 + (size_t)st->s_plen)
		sftplog_die(sl, "a short %s from the %s",
		    type_name(st->s_type), st->s_who);
}

/* A WRITE's header is in (id, handle, offset, length): hash what follows. */
static void
stream_write(struct sftplog *sl, struct stream *st)
{
	struct sfile	*f;
	struct sreq	*q;
	uint32_t	 hlen, dlen, id;
	uint64_t	 off, rest;

	id = get32(st->s_buf + 5);
	hlen = get32(st->s_buf + 9);
	if (st->s_stage == 0) {
		if (hlen > HANDLE_MAX) {
			sftplog_die(sl, "a handle of %" PRIu32 " bytes from "
			    "the client", hlen);
			return;
		}
		st->s_stage = 1;
		st->s_need = DATA_HEAD_LEN + hlen + 12;
		if (st->s_need > 4 + (size_t)st->s_plen)
			sftplog_die(sl, "a short WRITE from the client");
		return;
	}
	off = get64(st->s_buf + DATA_HEAD_LEN + hlen);
	dlen = get32(st->s_buf + DATA_HEAD_LEN + hlen + 8);
	rest = 4 + (uint64_t)st->s_plen - st->s_need;
	if (dlen > rest) {
		sftplog_die(sl, "a WRITE longer than its packet");
		return;
	}
	st->s_state = ST_DATA;
	st->s_left = dlen;
	st->s_trail = rest - dlen;
	st->s_to = NULL;
	if ((f = file_find(sl, st->s_buf + DATA_HEAD_LEN, hlen)) != NULL) {
		f->f_up.sd_reqs++;
		if (side_begin(&f->f_up, off, dlen) == -1) {
			sftplog_die(sl, "cannot hash");
			return;
		}
		st->s_to = &f->f_up;
		/* Only to learn whether the server refused it. */
		if ((q = req_add(sl, id, R_WRITE)) != NULL)
			q->r_file = f;
	}
	stream_settle(st);
}

/* A DATA's header is in (id, length): hash what follows for its READ. */
static void
stream_data(struct sftplog *sl, struct stream *st)
{
	struct sreq	*q;
	struct side	*sd = NULL;
	uint32_t	 id, dlen;
	uint64_t	 rest;

	id = get32(st->s_buf + 5);
	dlen = get32(st->s_buf + 9);
	rest = 4 + (uint64_t)st->s_plen - DATA_HEAD_LEN;
	if (dlen > rest) {
		sftplog_die(sl, "a DATA longer than its packet");
		return;
	}
	if ((q = req_find(sl, id)) != NULL) {
		if (q->r_kind == R_READ && q->r_file != NULL) {
			sd = &q->r_file->f_down;
			if (side_begin(sd, q->r_off, dlen) == -1) {
				sftplog_die(sl, "cannot hash");
				return;
			}
		}
		req_drop(sl, q);
	}
	st->s_state = ST_DATA;
	st->s_left = dlen;
	st->s_trail = rest - dlen;
	st->s_to = sd;
	stream_settle(st);
}

/* The bytes asked for are in: act on them. */
static void
stream_step(struct sftplog *sl, struct stream *st)
{
	if (st->s_state == ST_HEAD) {
		stream_head(sl, st);
		return;
	}
	switch (st->s_action) {
	case A_WHOLE:
		if (st->s_server)
			server_packet(sl, st->s_type, st->s_buf + HEAD_LEN,
			    st->s_plen - 1);
		else
			client_packet(sl, st->s_type, st->s_buf + HEAD_LEN,
			    st->s_plen - 1);
		stream_reset(st);
		break;
	case A_ID:
		server_packet(sl, st->s_type, st->s_buf + HEAD_LEN, 4);
		st->s_state = ST_SKIP;
		st->s_left = 4 + (uint64_t)st->s_plen - st->s_need;
		stream_settle(st);
		break;
	case A_WRITE:
		stream_write(sl, st);
		break;
	case A_DATA:
		stream_data(sl, st);
		break;
	case A_SKIP:
		break;
	}
}

static void
stream_feed(struct sftplog *sl, struct stream *st, const uint8_t *p,
    size_t n)
{
	size_t	 k;

	while (n > 0 && !sl->sl_dead) {
		if (st->s_state == ST_DATA || st->s_state == ST_SKIP) {
			k = n < st->s_left ? n : (size_t)st->s_left;
			if (st->s_state == ST_DATA && st->s_to != NULL) {
				if (digest_update(st->s_to->sd_ctx, p, k) == -1) {
					sftplog_die(sl, "cannot hash");
					return;
				}
				st->s_to->sd_bytes += k;
			}
			p += k;
			n -= k;
			st->s_left -= k;
			stream_settle(st);
			continue;
		}
		if (st->s_need > st->s_cap) {
			/* Grown to the largest packet held, at most the cap. */
			st->s_buf = xreallocarray(st->s_buf, 1, st->s_need);
			st->s_cap = st->s_need;
		}
		k = st->s_need - st->s_have;
		if (k > n)
			k = n;
		memcpy(st->s_buf + st->s_have, p, k);
		st->s_have += k;
		p += k;
		n -= k;
		if (st->s_have == st->s_need)
			stream_step(sl, st);
	}
}

/* ---- the interface ------------------------------------------------------ */

struct sftplog *
sftplog_new(void (*emit)(void *, const char *), void *arg)
{
	struct sftplog	*sl;

	sl = xcalloc(1, sizeof(*sl));
	sl->sl_emit = emit;
	sl->sl_arg = arg;
	sl->sl_reqs = xcalloc(SFTPLOG_REQUESTS_MAX, sizeof(*sl->sl_reqs));
	sl->sl_client.s_who = "client";
	sl->sl_server.s_who = "server";
	sl->sl_server.s_server = 1;
	stream_reset(&sl->sl_client);
	stream_reset(&sl->sl_server);
	return sl;
}

void
sftplog_client(struct sftplog *sl, const void *p, size_t n)
{
	stream_feed(sl, &sl->sl_client, p, n);
}

void
sftplog_server(struct sftplog *sl, const void *p, size_t n)
{
	stream_feed(sl, &sl->sl_server, p, n);
}

void
sftplog_free(struct sftplog *sl)
{
	if (sl == NULL)
		return;
	if (!sl->sl_dead)
		sftplog_flush(sl, "the channel ended");
	free(sl->sl_client.s_buf);
	free(sl->sl_server.s_buf);
	free(sl->sl_reqs);
	free(sl);
}
