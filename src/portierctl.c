/*
 * portierctl: the administrator's tool.
 *
 * It speaks the message layer over the control socket, one request at a
 * time, and prints answers for people (default) or for scripts (--json).
 * Commands that carry a secret (a TOTP enrolment URI, a target's password
 * or private key) wipe every buffer that held it once it is sent or shown.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <png.h>
#include <qrencode.h>

#include "portier.h"
#include "msg.h"
#include "store.h"
#include "portierctl.h"

#define CTL_FILE_MAX	(16 * 1024)	/* a key file */
#define CTL_PASSWORD_MAX 1024
#define QR_QUIET_TERM	2	/* modules of margin in a terminal */
#define QR_QUIET_PNG	4	/* and in a PNG, as the standard asks */
#define QR_PNG_SCALE	8	/* pixels per module */

int			 json;
static const char	*sockpath = PT_DEF_CONTROL;
static struct msg_in	 in;

static const char	*unlink_on_die;	/* a half-written file */

static void __attribute__((noreturn))
usage_to(FILE *f, int code)
{
	fprintf(f,
	    "usage: portierctl [-s socket] [--json] command [args]\n"
	    "commands:\n"
	    "  status                 daemon, processes and live sessions\n"
	    "  audit [--since TIME]   the audit trail; TIME is YYYY-MM-DD,\n"
	    "                         \"YYYY-MM-DD HH:MM[:SS]\" (UTC) or an age\n"
	    "                         such as 30m, 2h, 7d\n"
	    "  audit verify [--anchor ROW:HASH]\n"
	    "                         check the audit trail's hash chain\n"
	    "  user add NAME --vendor VENDOR [--name \"FULL NAME\"]\n"
	    "                         add a vendor's user the policy declares\n"
	    "  user list              users, their TOTP state and lockouts\n"
	    "  user unlock NAME       lift a lockout\n"
	    "  user key add NAME FILE add the SSH public key in FILE (.pub)\n"
	    "  totp enroll NAME [--png FILE] [--force]\n"
	    "                         new verification code app: show its QR\n"
	    "                         code once (and write it to a new PNG)\n"
	    "  target credential set TARGET ACCOUNT --key FILE | --password-stdin\n"
	    "                         what Portier logs in to TARGET with\n"
	    "  target trust TARGET [--yes]\n"
	    "                         pin the host key TARGET presents\n"
	    "  requests [--pending | --needs-review] [--user USER] [--since TIME]\n"
	    "                         vendors' requests and their decisions\n"
	    "  approve ID [--for DURATION] [--from TIME] [--note TEXT]\n"
	    "                         give the window request ID asks for\n"
	    "  deny ID --reason TEXT  refuse it; the vendor reads the reason\n"
	    "  review ID --note TEXT  close the review of an emergency access\n"
	    "  grants [--all]         approved windows, live and to come\n"
	    "  revoke GRANT --reason TEXT\n"
	    "                         withdraw a window; its sessions end now\n"
	    "  sessions               live sessions\n"
	    "  kill SESSION --reason TEXT\n"
	    "                         end a live session now\n"
	    "  reload                 read the policies again\n"
	    "  recordings [--vendor V] [--target T] [--since TIME] [--verify]\n"
	    "                         recordings, their seal and their file\n"
	    "  recordings hold SESSION --reason TEXT\n"
	    "  recordings release SESSION --reason TEXT\n"
	    "                         a legal hold: never purged while held\n");
	exit(code);
}

void
usage(void)
{
	usage_to(stderr, 2);
}

void
die(const char *fmt, ...)
{
	va_list	 ap;

	if (unlink_on_die != NULL)
		(void)unlink(unlink_on_die);
	fprintf(stderr, "portierctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

int
ctl_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sockpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		die("socket path too long: %s", sockpath);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	e = errno;
	if (e == ENOENT || e == ECONNREFUSED)
		die("cannot reach portierd at %s: %s\nIs portierd running? "
		    "Start it, or name its control socket with -s.", sockpath,
		    strerror(e));
	if (e == EACCES || e == EPERM)
		die("%s: %s\nOnly root and members of the admin group may "
		    "use portierctl.", sockpath, strerror(e));
	die("connect %s: %s", sockpath, strerror(e));
}

void
ctl_send(int fd, struct msg *m)
{
	if (msg_send(fd, m) == -1)
		die("sending to portierd: %s", strerror(errno));
}

/* The next answer; a CTL_ERROR ends the program with its text. */
struct msg_in *
ctl_recv(int fd)
{
	const char	*why = "?";
	char		 text[1024];

	if (msg_recv(fd, &in, &why) == -1)
		die("portierd closed the connection (%s)", why);
	if (in.mi_type == MSG_CTL_ERROR) {
		if (m_get_str(&in, text, sizeof(text)) == -1 ||
		    m_end(&in) == -1)
			die("malformed error from portierd");
		die("%s", text);
	}
	return &in;
}

void
ctl_bad(void)
{
	die("unexpected answer %s from portierd", msg_name(in.mi_type));
}

void
json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

const char *
fmt_time(int64_t t, char *buf, size_t len)
{
	return time_iso((time_t)t, buf, len);
}

static void
fmt_uptime(int64_t secs, char *buf, size_t len)
{
	if (secs >= 86400)
		snprintf(buf, len, "%lldd %lldh", (long long)(secs / 86400),
		    (long long)(secs % 86400 / 3600));
	else if (secs >= 3600)
		snprintf(buf, len, "%lldh %lldm", (long long)(secs / 3600),
		    (long long)(secs % 3600 / 60));
	else
		snprintf(buf, len, "%lldm %llds", (long long)(secs / 60),
		    (long long)(secs % 60));
}

/* ---- status ----------------------------------------------------------- */

static int
cmd_status(int fd)
{
	char		 version[64], store[1024], file[1024], name[32], sid[32];
	char		 tbuf[32], up[32];
	int64_t		 started, since;
	uint32_t	 nsess, pid;
	struct msg_in	*mi;
	int		 first = 1;

	ctl_send(fd, m_create(MSG_CTL_STATUS, 0, -1));
	mi = ctl_recv(fd);
	if (mi->mi_type != MSG_CTL_STATUS_INFO ||
	    m_get_str(mi, version, sizeof(version)) == -1 ||
	    m_get_i64(mi, &started) == -1 ||
	    m_get_str(mi, store, sizeof(store)) == -1 ||
	    m_get_str(mi, file, sizeof(file)) == -1 ||
	    m_get_u32(mi, &nsess) == -1 || m_end(mi) == -1)
		ctl_bad();
	fmt_uptime(time(NULL) - started, up, sizeof(up));
	if (json) {
		printf("{\"version\": ");
		json_str(version);
		printf(", \"started\": %lld, \"uptime\": %lld, \"store\": ",
		    (long long)started, (long long)(time(NULL) - started));
		json_str(store);
		printf(", \"config\": ");
		json_str(file);
		printf(", \"sessions\": %u, \"processes\": [", nsess);
	} else {
		printf("portierd %s, up %s (since %s)\n", version, up,
		    fmt_time(started, tbuf, sizeof(tbuf)));
		printf("config:   %s\nstore:    %s\nsessions: %u live\n\n",
		    file, store, nsess);
		printf("%-10s %8s  %-16s  %s\n", "PROCESS", "PID", "SESSION",
		    "SINCE");
	}
	for (;;) {
		mi = ctl_recv(fd);
		if (mi->mi_type == MSG_CTL_END)
			break;
		if (mi->mi_type != MSG_CTL_STATUS_PROC ||
		    m_get_str(mi, name, sizeof(name)) == -1 ||
		    m_get_u32(mi, &pid) == -1 ||
		    m_get_str(mi, sid, sizeof(sid)) == -1 ||
		    m_get_i64(mi, &since) == -1 || m_end(mi) == -1)
			ctl_bad();
		if (json) {
			printf("%s{\"name\": ", first ? "" : ", ");
			json_str(name);
			printf(", \"pid\": %u, \"session\": ", pid);
			json_str(sid);
			printf(", \"since\": %lld}", (long long)since);
		} else
			printf("%-10s %8u  %-16s  %s\n", name, pid,
			    sid[0] ? sid : "-",
			    fmt_time(since, tbuf, sizeof(tbuf)));
		first = 0;
	}
	if (json)
		printf("]}\n");
	return 0;
}

/* ---- audit ------------------------------------------------------------ */

int64_t
parse_since(const char *s)
{
	struct tm	 tm;
	char		*end;
	long long	 n;
	const char	*fmts[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
	    "%Y-%m-%d %H:%M", "%Y-%m-%d" };
	size_t		 i;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == 0 && end != s && n >= 0 && end[0] != '\0' &&
	    end[1] == '\0' && strchr("smhd", end[0]) != NULL) {
		switch (end[0]) {
		case 'd': n *= 24; /* FALLTHROUGH */
		case 'h': n *= 60; /* FALLTHROUGH */
		case 'm': n *= 60; /* FALLTHROUGH */
		default: break;
		}
		return (int64_t)time(NULL) - n;
	}
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && *end == '\0')
			return (int64_t)timegm(&tm);
	}
	die("--since %s: expected YYYY-MM-DD, \"YYYY-MM-DD HH:MM[:SS]\" "
	    "(UTC) or an age such as 30m, 2h, 7d", s);
}

static int
cmd_audit(int fd, int64_t since)
{
	char		 f[6][4096], hash[80], tbuf[32];
	int64_t		 id, t, after = 0;
	struct msg_in	*mi;
	struct msg	*m;
	int		 i, first = 1, more;
	static const char *names[6] = { "actor", "event", "target",
	    "source", "session", "reason" };

	if (json)
		printf("[");
	do {
		m = m_create(MSG_CTL_AUDIT, 0, -1);
		m_add_i64(m, since);
		m_add_i64(m, after);
		ctl_send(fd, m);
		for (more = 0;;) {
			mi = ctl_recv(fd);
			if (mi->mi_type == MSG_CTL_END)
				break;
			if (mi->mi_type == MSG_CTL_AUDIT_MORE) {
				if (m_get_i64(mi, &after) == -1 ||
				    m_end(mi) == -1)
					ctl_bad();
				more = 1;
				break;
			}
			if (mi->mi_type != MSG_CTL_AUDIT_ROW ||
			    m_get_i64(mi, &id) == -1 ||
			    m_get_i64(mi, &t) == -1)
				ctl_bad();
			for (i = 0; i < 6; i++)
				if (m_get_str(mi, f[i], sizeof(f[i])) == -1)
					ctl_bad();
			if (m_get_str(mi, hash, sizeof(hash)) == -1 ||
			    m_end(mi) == -1)
				ctl_bad();
			if (json) {
				printf("%s\n {\"id\": %lld, \"time\": %lld",
				    first ? "" : ",", (long long)id,
				    (long long)t);
				for (i = 0; i < 6; i++) {
					printf(", \"%s\": ", names[i]);
					json_str(f[i]);
				}
				printf(", \"hash\": ");
				json_str(hash);
				printf("}");
			} else {
				printf("%6lld %s %-22s %-12s", (long long)id,
				    fmt_time(t, tbuf, sizeof(tbuf)), f[1],
				    f[0]);
				if (f[2][0])
					printf(" target=%s", f[2]);
				if (f[3][0])
					printf(" from=%s", f[3]);
				if (f[4][0])
					printf(" session=%s", f[4]);
				if (f[5][0])
					printf(" \"%s\"", f[5]);
				printf("\n");
			}
			first = 0;
		}
	} while (more);
	if (json)
		printf("%s]\n", first ? "" : "\n");
	return 0;
}

/*
 * "ROW:HASH", as portierd logs it with each audit row ("row=57:4f3a..."):
 * at least 16 hex digits of the row's hash.
 */
static int
parse_anchor(const char *s, int64_t *id, char hex[65])
{
	char		*end;
	long long	 n;
	size_t		 i, len;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != ':' || n < 1)
		return -1;
	len = strlen(end + 1);
	if (len < 16 || len > 64)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)end[1 + i]))
			return -1;
		hex[i] = (char)tolower((unsigned char)end[1 + i]);
	}
	hex[len] = '\0';
	*id = n;
	return 0;
}

static int
cmd_audit_verify(int fd, const char *anchor)
{
	struct msg_in	*mi;
	struct msg	*m;
	uint32_t	 ok;
	int64_t		 nrows, bad, aid = 0;
	char		 why[512], head[65], ahex[65] = "";

	if (anchor != NULL && parse_anchor(anchor, &aid, ahex) == -1) {
		fprintf(stderr, "portierctl: audit verify: --anchor \"%s\": "
		    "give ROW:HASH as portierd logged it with the row, e.g. "
		    "--anchor 57:4f3a9c1d2e3f4a5b (16 to 64 hex digits)\n",
		    anchor);
		exit(2);
	}
	m = m_create(MSG_CTL_AUDIT_VERIFY, 0, -1);
	m_add_i64(m, aid);
	m_add_str(m, ahex);
	ctl_send(fd, m);
	mi = ctl_recv(fd);
	if (mi->mi_type != MSG_CTL_AUDIT_VERIFY_RESULT ||
	    m_get_u32(mi, &ok) == -1 || m_get_i64(mi, &nrows) == -1 ||
	    m_get_i64(mi, &bad) == -1 ||
	    m_get_str(mi, why, sizeof(why)) == -1 ||
	    m_get_str(mi, head, sizeof(head)) == -1 || m_end(mi) == -1)
		ctl_bad();
	if (json) {
		printf("{\"ok\": %s, \"rows\": %lld", ok ? "true" : "false",
		    (long long)nrows);
		if (!ok) {
			printf(", \"bad_row\": %lld, \"reason\": ",
			    (long long)bad);
			json_str(why);
		} else
			printf(", \"head\": \"%lld:%s\"", (long long)nrows,
			    head);
		printf("}\n");
	} else if (ok)
		printf("audit trail verified: %lld rows, hash chain intact%s%s; "
		    "head %lld:%.16s (keep it: --anchor checks it later)\n",
		    (long long)nrows, aid > 0 ? ", anchor row " : "",
		    aid > 0 ? anchor : "", (long long)nrows, head);
	else
		printf("audit trail BROKEN at row %lld: %s\n", (long long)bad,
		    why);
	return ok ? 0 : 3;
}

/* ---- helpers for the commands below ------------------------------------ */

/* A one-answer request: the daemon says what it did in a CTL_OK. */
int
ctl_request_ok(int fd, struct msg *m)
{
	struct msg_in	*mi;
	char		 text[1024];

	ctl_send(fd, m);
	mi = ctl_recv(fd);
	if (mi->mi_type != MSG_CTL_OK ||
	    m_get_str(mi, text, sizeof(text)) == -1 || m_end(mi) == -1)
		ctl_bad();
	if (json) {
		printf("{\"ok\": true, \"message\": ");
		json_str(text);
		printf("}\n");
	} else
		printf("%s\n", text);
	return 0;
}

/* Refuse, before anything is sent, what the daemon would refuse. */
static void
check_name(const char *what, const char *s)
{
	if (*s == '\0' || strlen(s) > STORE_NAME_MAX)
		die("%s names are 1 to %d characters: \"%s\"", what,
		    STORE_NAME_MAX, s);
}

/*
 * The whole of a small regular file, NUL-terminated; *LEN without the NUL.
 * It may hold a secret: release it with freezero(buf, *len + 1).
 */
static char *
read_small_file(const char *path, size_t max, size_t *len)
{
	struct stat	 sb;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		die("%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == -1)
		die("%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		die("%s: not a regular file", path);
	if (sb.st_size > (off_t)max)
		die("%s: larger than %zu bytes: is it the right file?", path,
		    max);
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* ---- user -------------------------------------------------------------- */

static int
cmd_user_add(int fd, const char *user, const char *vendor,
    const char *fullname)
{
	struct msg	*m;

	check_name("user", user);
	check_name("vendor", vendor);
	if (strlen(fullname) > STORE_FULLNAME_MAX)
		die("--name: at most %d bytes", STORE_FULLNAME_MAX);
	m = m_create(MSG_CTL_USER_ADD, 0, -1);
	m_add_str(m, user);
	m_add_str(m, vendor);
	m_add_str(m, fullname);
	return ctl_request_ok(fd, m);
}

static int
cmd_user_list(int fd)
{
	static const char *states[] = { "none", "pending", "active" };
	char		 user[STORE_NAME_MAX + 1], vendor[STORE_NAME_MAX + 1];
	char		 fullname[STORE_FULLNAME_MAX + 1], tbuf[32], locked[48];
	struct msg_in	*mi;
	uint32_t	 totp, failures, inpol;
	int64_t		 until;
	time_t		 now = time(NULL);
	int		 first = 1;

	ctl_send(fd, m_create(MSG_CTL_USER_LIST, 0, -1));
	if (json)
		printf("[");
	for (;;) {
		mi = ctl_recv(fd);
		if (mi->mi_type == MSG_CTL_END)
			break;
		if (mi->mi_type != MSG_CTL_USER_INFO ||
		    m_get_str(mi, user, sizeof(user)) == -1 ||
		    m_get_str(mi, vendor, sizeof(vendor)) == -1 ||
		    m_get_str(mi, fullname, sizeof(fullname)) == -1 ||
		    m_get_u32(mi, &totp) == -1 ||
		    m_get_i64(mi, &until) == -1 ||
		    m_get_u32(mi, &failures) == -1 ||
		    m_get_u32(mi, &inpol) == -1 || m_end(mi) == -1 ||
		    totp > 2)
			ctl_bad();
		if (json) {
			printf("%s\n {\"user\": ", first ? "" : ",");
			json_str(user);
			printf(", \"vendor\": ");
			json_str(vendor);
			printf(", \"full_name\": ");
			json_str(fullname);
			printf(", \"totp\": %u, \"totp_state\": \"%s\", "
			    "\"locked_until\": %lld, \"locked\": %s, "
			    "\"failures\": %u, \"in_policy\": %s}", totp,
			    states[totp], (long long)until, until > now ?
			    "true" : "false", failures, inpol ? "true" : "false");
		} else {
			if (first)
				printf("%-20s %-16s %-8s %-22s %8s  %s\n",
				    "USER", "VENDOR", "TOTP", "LOCKED",
				    "FAILURES", "NAME");
			if (until > now)
				snprintf(locked, sizeof(locked), "until %s",
				    fmt_time(until, tbuf, sizeof(tbuf)));
			else
				strlcpy(locked, "-", sizeof(locked));
			printf("%-20s %-16s %-8s %-22s %8u  %s%s%s\n", user,
			    vendor, states[totp], locked, failures, fullname,
			    !inpol && fullname[0] != '\0' ? " " : "", inpol ?
			    "" : "(not in the policy: cannot log in)");
		}
		first = 0;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
	else if (first)
		printf("no users yet: add one with portierctl user add NAME "
		    "--vendor VENDOR\n");
	return 0;
}

static int
cmd_user_unlock(int fd, const char *user)
{
	struct msg	*m;

	check_name("user", user);
	m = m_create(MSG_CTL_USER_UNLOCK, 0, -1);
	m_add_str(m, user);
	return ctl_request_ok(fd, m);
}

/* The one key line of a .pub file: blank lines and # comments skipped. */
static int
cmd_user_key_add(int fd, const char *user, const char *path)
{
	char		*buf, *line, *key = NULL, *next;
	size_t		 len;
	struct msg	*m;

	check_name("user", user);
	buf = read_small_file(path, CTL_FILE_MAX, &len);
	if (memchr(buf, '\0', len) != NULL || strstr(buf, "PRIVATE KEY"))
		die("%s is not a public key file%s", path,
		    strstr(buf, "PRIVATE KEY") ? " but a private key: give "
		    "the .pub file next to it (and keep that one secret)" : "");
	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		if (key != NULL)
			die("%s holds more than one line: give a .pub file, "
			    "which holds one key", path);
		key = line;
	}
	if (key == NULL)
		die("%s holds no key", path);
	if (strlen(key) > STORE_KEYBLOB_MAX + 512)
		die("%s: the key line is too long", path);
	m = m_create(MSG_CTL_USER_KEY_ADD, 0, -1);
	m_add_str(m, user);
	m_add_str(m, key);
	free(buf);
	return ctl_request_ok(fd, m);
}

/* ---- totp -------------------------------------------------------------- */

static int
qr_dark(const QRcode *qr, int quiet, int x, int y)
{
	x -= quiet;
	y -= quiet;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

/*
 * Two modules per character cell with half blocks.  Light modules are
 * drawn, dark ones left blank, as qrencode -t UTF8 does for the usual
 * light-on-dark terminal; on a terminal the colours are set, so that a
 * light-background terminal shows the same, scannable, code.
 */
static void
qr_print(const QRcode *qr)
{
	static const char *cells[4] = { " ", "\u2584", "\u2580", "\u2588" };
	int	 n = qr->width + 2 * QR_QUIET_TERM, x, y, top, bot;
	int	 tty = isatty(STDOUT_FILENO);

	for (y = 0; y < n; y += 2) {
		if (tty)
			fputs("\033[97;40m", stdout);
		for (x = 0; x < n; x++) {
			top = !qr_dark(qr, QR_QUIET_TERM, x, y);
			bot = y + 1 < n ?
			    !qr_dark(qr, QR_QUIET_TERM, x, y + 1) : 0;
			fputs(cells[top << 1 | bot], stdout);
		}
		fputs(tty ? "\033[0m\n" : "\n", stdout);
	}
}

static void
png_die(png_structp png, png_const_charp msg)
{
	die("%s: %s", unlink_on_die ? unlink_on_die : "PNG", msg);
}

static void
png_warn(png_structp png, png_const_charp msg)
{
}

/* A grayscale PNG of QR, to FD (a new file); dies on any error. */
static void
qr_png(const QRcode *qr, int fd, const char *path)
{
	png_structp	 png;
	png_infop	 info;
	png_bytep	 row;
	FILE		*fp;
	int		 side, x, y;

	side = (qr->width + 2 * QR_QUIET_PNG) * QR_PNG_SCALE;
	if ((fp = fdopen(fd, "wb")) == NULL)
		die("%s: %s", path, strerror(errno));
	if ((png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    png_die, png_warn)) == NULL ||
	    (info = png_create_info_struct(png)) == NULL)
		die("%s: libpng cannot start", path);
	png_init_io(png, fp);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	row = xmalloc((size_t)side);
	for (y = 0; y < side; y++) {
		for (x = 0; x < side; x++)
			row[x] = qr_dark(qr, QR_QUIET_PNG, x / QR_PNG_SCALE,
			    y / QR_PNG_SCALE) ? 0 : 255;
		png_write_row(png, row);
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	freezero(row, (size_t)side);
	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1 || fclose(fp) == EOF)
		die("%s: %s", path, strerror(errno));
}

static int
cmd_totp_enroll(int fd, const char *user, const char *png, int force)
{
	struct msg_in	*mi;
	struct msg	*m;
	QRcode		*qr;
	char		 uri[2048];
	int		 pfd = -1;

	check_name("user", user);
	/* The file first: enrolling replaces the app, there is no retry. */
	if (png != NULL) {
		pfd = open(png, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (pfd == -1 && errno == EEXIST)
			die("%s exists: give a new file name (the QR code "
			    "holds a secret; no file is overwritten)", png);
		if (pfd == -1)
			die("%s: %s", png, strerror(errno));
		unlink_on_die = png;
	}
	m = m_create(MSG_CTL_TOTP_ENROLL, 0, -1);
	m_add_str(m, user);
	m_add_u32(m, force != 0);
	ctl_send(fd, m);
	mi = ctl_recv(fd);
	if (mi->mi_type != MSG_CTL_TOTP_URI ||
	    m_get_str(mi, uri, sizeof(uri)) == -1 || m_end(mi) == -1)
		ctl_bad();
	m_in_clear(mi);
	if ((qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL) {
		explicit_bzero(uri, sizeof(uri));
		die("cannot make a QR code: %s; the enrolment is done: run "
		    "the command again for a new one", strerror(errno));
	}
	if (pfd != -1)
		qr_png(qr, pfd, png);
	unlink_on_die = NULL;
	if (json) {
		printf("{\"user\": ");
		json_str(user);
		printf(", \"uri\": ");
		json_str(uri);
		if (png != NULL) {
			printf(", \"png\": ");
			json_str(png);
		}
		printf("}\n");
	} else {
		printf("Verification code app for %s: scan this with the "
		    "vendor's authenticator app;\nthe first code they enter "
		    "at login confirms it.  It is shown only this once.\n\n",
		    user);
		qr_print(qr);
		printf("\n%s\n", uri);
		if (png != NULL)
			printf("\nQR code written to %s (mode 0600); delete it "
			    "once scanned: it holds the secret.\n", png);
	}
	fflush(stdout);
	explicit_bzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	explicit_bzero(uri, sizeof(uri));
	return 0;
}

/* ---- target ------------------------------------------------------------ */

/*
 * One line from standard input, without its newline, unbuffered so that
 * no stdio buffer keeps a copy; a terminal does not echo it.
 */
static char *
read_password(const char *target, const char *account, size_t *len)
{
	struct termios	 t, saved;
	char		*pw;
	size_t		 n = 0;
	ssize_t		 r;
	char		 c;
	int		 tty = isatty(STDIN_FILENO), echo_off = 0;

	if (tty) {
		fprintf(stderr, "Password of %s on %s: ", account, target);
		if (tcgetattr(STDIN_FILENO, &saved) == 0) {
			t = saved;
			t.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
		}
	}
	pw = xmalloc(CTL_PASSWORD_MAX + 1);
	for (;;) {
		r = read(STDIN_FILENO, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n == CTL_PASSWORD_MAX) {
			freezero(pw, CTL_PASSWORD_MAX + 1);
			die("the password is longer than %d bytes",
			    CTL_PASSWORD_MAX);
		}
		pw[n++] = c;
	}
	c = 0;
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (r == -1) {
		freezero(pw, CTL_PASSWORD_MAX + 1);
		die("reading the password: %s", strerror(errno));
	}
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	if (n == 0) {
		freezero(pw, CTL_PASSWORD_MAX + 1);
		die("empty password: give it on standard input, e.g. from a "
		    "password manager");
	}
	if (memchr(pw, '\0', n) != NULL) {
		freezero(pw, CTL_PASSWORD_MAX + 1);
		die("the password holds a NUL byte");
	}
	*len = n;
	return pw;
}

static int
cmd_cred_set(int fd, const char *target, const char *account,
    const char *keyfile)
{
	struct msg	*m;
	char		*secret;
	size_t		 len, size;
	int		 rc;

	check_name("target", target);
	check_name("account", account);
	if (keyfile != NULL) {
		secret = read_small_file(keyfile, CTL_FILE_MAX, &len);
		size = len + 1;
		if (strncmp(secret, "ssh-", 4) == 0 ||
		    strncmp(secret, "ecdsa-", 6) == 0) {
			freezero(secret, size);
			die("%s is a public key: give the private key file",
			    keyfile);
		}
		if (len == 0) {
			freezero(secret, size);
			die("%s is empty", keyfile);
		}
	} else {
		secret = read_password(target, account, &len);
		size = CTL_PASSWORD_MAX + 1;
	}
	m = m_create(MSG_CTL_CRED_SET, 0, -1);
	m_add_str(m, target);
	m_add_str(m, account);
	m_add_u32(m, keyfile != NULL ? STORE_CRED_KEY : STORE_CRED_PASSWORD);
	m_add_data(m, secret, len);
	freezero(secret, size);
	rc = ctl_request_ok(fd, m);	/* m_free() wipes the message */
	return rc;
}

/*
 * Show the host key a target presents, and pin it once an administrator
 * has compared the fingerprint with the equipment's own.
 */
static int
cmd_target_trust(int fd, const char *target, int yes)
{
	struct msg	*m;
	struct msg_in	*mi;
	char		 name[STORE_NAME_MAX + 1], type[64], fp[80];
	char		 answer[16];
	uint32_t	 pinned;

	check_name("target", target);
	m = m_create(MSG_CTL_TARGET_TRUST, 0, -1);
	m_add_str(m, target);
	m_add_str(m, "");
	ctl_send(fd, m);
	mi = ctl_recv(fd);
	if (mi->mi_type != MSG_CTL_TARGET_KEY ||
	    m_get_str(mi, name, sizeof(name)) == -1 ||
	    m_get_str(mi, type, sizeof(type)) == -1 ||
	    m_get_str(mi, fp, sizeof(fp)) == -1 ||
	    m_get_u32(mi, &pinned) == -1 || m_end(mi) == -1)
		ctl_bad();
	if (ctl_recv(fd)->mi_type != MSG_CTL_END)
		ctl_bad();
	if (pinned) {
		if (json)
			printf("{\"target\": \"%s\", \"type\": \"%s\", "
			    "\"fingerprint\": \"%s\", \"trusted\": true}\n",
			    name, type, fp);
		else
			printf("%s: host key %s %s is already trusted\n", name,
			    type, fp);
		return 0;
	}
	if (!yes) {
		printf("%s presents the host key\n  %s %s\nCompare it with "
		    "the fingerprint the equipment shows (on its console: "
		    "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub).\n"
		    "Trust this key? [y/N] ", name, type, fp);
		fflush(stdout);
		if (fgets(answer, sizeof(answer), stdin) == NULL ||
		    (answer[0] != 'y' && answer[0] != 'Y')) {
			printf("not trusted\n");
			return 1;
		}
	}
	m = m_create(MSG_CTL_TARGET_TRUST, 0, -1);
	m_add_str(m, target);
	m_add_str(m, fp);
	return ctl_request_ok(fd, m);
}

/* ---- command line ------------------------------------------------------ */

/*
 * Each command parses its own arguments with getopt_long (options and
 * operands in any order); --json is accepted everywhere.  ARGV[0] is the
 * command's last word.
 */
void
cmd_parse(const char *cmd, int argc, char **argv, const struct option *opts,
    int maxargs, struct cmd_args *ca)
{
	int	 ch;

	memset(ca, 0, sizeof(*ca));
	optind = 0;	/* glibc: start afresh */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_SINCE:
			ca->since = optarg;
			break;
		case OPT_VENDOR:
			ca->vendor = optarg;
			break;
		case OPT_NAME:
			ca->name = optarg;
			break;
		case OPT_PNG:
			ca->png = optarg;
			break;
		case OPT_FORCE:
			ca->force = 1;
			break;
		case OPT_KEY:
			ca->key = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			ca->password_stdin = 1;
			break;
		case OPT_YES:
			ca->yes = 1;
			break;
		case OPT_USER:
			ca->user = optarg;
			break;
		case OPT_REASON:
			ca->reason = optarg;
			break;
		case OPT_NOTE:
			ca->note = optarg;
			break;
		case OPT_FROM:
			ca->from = optarg;
			break;
		case OPT_FOR:
			ca->dur = optarg;
			break;
		case OPT_PENDING:
			ca->pending = 1;
			break;
		case OPT_NEEDS_REVIEW:
			ca->needs_review = 1;
			break;
		case OPT_ALL:
			ca->all = 1;
			break;
		case OPT_TARGET:
			ca->target = optarg;
			break;
		case OPT_VERIFY:
			ca->verify = 1;
			break;
		case OPT_ANCHOR:
			ca->anchor = optarg;
			break;
		case ':':
			fprintf(stderr, "portierctl: %s: %s needs an "
			    "argument\n", cmd, argv[optind - 1]);
			usage();
		default:
			fprintf(stderr, "portierctl: %s: unknown option "
			    "\"%s\"\n", cmd, argv[optind - 1]);
			usage();
		}
	}
	for (; optind < argc; optind++) {
		if (ca->na == maxargs) {
			fprintf(stderr, "portierctl: %s: unexpected argument "
			    "\"%s\"\n", cmd, argv[optind]);
			usage();
		}
		ca->a[ca->na++] = argv[optind];
	}
}

void
cmd_need(const char *cmd, const struct cmd_args *ca, int n, const char *what)
{
	if (ca->na < n) {
		fprintf(stderr, "portierctl: %s: expected %s\n", cmd, what);
		usage();
	}
}


static int
run_status(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON, O_END };
	struct cmd_args	 ca;

	cmd_parse("status", argc, argv, opts, 0, &ca);
	return cmd_status(ctl_connect());
}

static int
run_audit(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "since", required_argument, NULL, OPT_SINCE },
	    { "anchor", required_argument, NULL, OPT_ANCHOR }, O_END };
	struct cmd_args	 ca;
	int64_t		 t;

	cmd_parse("audit", argc, argv, opts, 1, &ca);
	if (ca.na == 1) {
		if (strcmp(ca.a[0], "verify") != 0) {
			fprintf(stderr, "portierctl: audit: unexpected "
			    "argument \"%s\"\n", ca.a[0]);
			usage();
		}
		if (ca.since != NULL)
			usage();
		return cmd_audit_verify(ctl_connect(), ca.anchor);
	}
	if (ca.anchor != NULL)
		usage();
	t = ca.since ? parse_since(ca.since) : 0;
	return cmd_audit(ctl_connect(), t);
}

static int
run_user_add(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "vendor", required_argument, NULL, OPT_VENDOR },
	    { "name", required_argument, NULL, OPT_NAME }, O_END };
	struct cmd_args	 ca;

	cmd_parse("user add", argc, argv, opts, 1, &ca);
	cmd_need("user add", &ca, 1, "a user name");
	if (ca.vendor == NULL) {
		fprintf(stderr, "portierctl: user add: --vendor VENDOR is "
		    "required: the vendor the policy declares %s under\n",
		    ca.a[0]);
		usage();
	}
	return cmd_user_add(ctl_connect(), ca.a[0], ca.vendor,
	    ca.name ? ca.name : "");
}

static int
run_user_list(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON, O_END };
	struct cmd_args	 ca;

	cmd_parse("user list", argc, argv, opts, 0, &ca);
	return cmd_user_list(ctl_connect());
}

static int
run_user_unlock(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON, O_END };
	struct cmd_args	 ca;

	cmd_parse("user unlock", argc, argv, opts, 1, &ca);
	cmd_need("user unlock", &ca, 1, "a user name");
	return cmd_user_unlock(ctl_connect(), ca.a[0]);
}

static int
run_user_key_add(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON, O_END };
	struct cmd_args	 ca;

	cmd_parse("user key add", argc, argv, opts, 2, &ca);
	cmd_need("user key add", &ca, 2, "a user name and a public key file");
	return cmd_user_key_add(ctl_connect(), ca.a[0], ca.a[1]);
}

static int
run_totp_enroll(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "png", required_argument, NULL, OPT_PNG },
	    { "force", no_argument, NULL, OPT_FORCE }, O_END };
	struct cmd_args	 ca;

	cmd_parse("totp enroll", argc, argv, opts, 1, &ca);
	cmd_need("totp enroll", &ca, 1, "a user name");
	return cmd_totp_enroll(ctl_connect(), ca.a[0], ca.png, ca.force);
}

static int
run_cred_set(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "key", required_argument, NULL, OPT_KEY },
	    { "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
	    O_END };
	struct cmd_args	 ca;

	cmd_parse("target credential set", argc, argv, opts, 2, &ca);
	cmd_need("target credential set", &ca, 2, "a target and an account");
	if ((ca.key != NULL) == ca.password_stdin) {
		fprintf(stderr, "portierctl: target credential set: give "
		    "either --key FILE or --password-stdin\n");
		usage();
	}
	return cmd_cred_set(ctl_connect(), ca.a[0], ca.a[1], ca.key);
}

static int
run_target_trust(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "yes", no_argument, NULL, OPT_YES },
	    O_END };
	struct cmd_args	 ca;

	cmd_parse("target trust", argc, argv, opts, 1, &ca);
	cmd_need("target trust", &ca, 1, "a target");
	return cmd_target_trust(ctl_connect(), ca.a[0], ca.yes);
}

/* Longer commands first: "audit verify" is found as "audit" + operand. */
static const struct ctl_cmd {
	const char	*cc_words[3];
	int		 (*cc_run)(int, char **);
} ctl_cmds[] = {
	{ { "status" }, run_status },
	{ { "audit" }, run_audit },
	{ { "user", "add" }, run_user_add },
	{ { "user", "list" }, run_user_list },
	{ { "user", "unlock" }, run_user_unlock },
	{ { "user", "key", "add" }, run_user_key_add },
	{ { "totp", "enroll" }, run_totp_enroll },
	{ { "target", "credential", "set" }, run_cred_set },
	{ { "target", "trust" }, run_target_trust },
	{ { "requests" }, run_requests },
	{ { "approve" }, run_approve },
	{ { "deny" }, run_deny },
	{ { "review" }, run_review },
	{ { "grants" }, run_grants },
	{ { "revoke" }, run_revoke },
	{ { "sessions" }, run_sessions },
	{ { "kill" }, run_kill },
	{ { "reload" }, run_reload },
	{ { "recordings", "hold" }, run_recordings_hold },
	{ { "recordings", "release" }, run_recordings_release },
	{ { "recordings" }, run_recordings },
};

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct ctl_cmd *cc;
	const char	*env;
	size_t		 i;
	int		 ch, n;

	if ((env = getenv("PORTIER_CONTROL")) != NULL && *env != '\0')
		sockpath = env;
	/* "+" stops at the command; its own options are parsed after it. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+hjs:", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 's':
			if (*optarg == '\0')
				die("-s: give the control socket's path");
			sockpath = optarg;
			break;
		case 'h':
			usage_to(stdout, 0);
		default:
			fprintf(stderr, "portierctl: unknown option \"%s\"\n",
			    argv[optind - 1]);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		cc = &ctl_cmds[i];
		for (n = 0; n < 3 && cc->cc_words[n] != NULL; n++)
			if (n >= argc || strcmp(argv[n], cc->cc_words[n]) != 0)
				break;
		if (n < 3 && cc->cc_words[n] != NULL)
			continue;
		/* argv[n - 1], the last word, stands as the program name. */
		return cc->cc_run(argc - n + 1, argv + n - 1);
	}
	fprintf(stderr, "portierctl: unknown command \"%s%s%s\"\n", argv[0],
	    argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	usage();
}
