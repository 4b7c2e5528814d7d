/*
 * portierctl: the administrator's tool.
 *
 * It speaks the message layer over the control socket, one request at a
 * time, and prints answers for people (default) or for scripts (--json).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portier.h"
#include "msg.h"

static int		 json;
static const char	*sockpath = PT_DEF_CONTROL;
static struct msg_in	 in;

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr,
	    "usage: portierctl [-s socket] [--json] command [args]\n"
	    "commands:\n"
	    "  status                 daemon, processes and live sessions\n"
	    "  audit [--since TIME]   the audit trail; TIME is YYYY-MM-DD,\n"
	    "                         \"YYYY-MM-DD HH:MM[:SS]\" (UTC) or an age\n"
	    "                         such as 30m, 2h, 7d\n"
	    "  audit verify           check the audit trail's hash chain\n");
	exit(2);
}

static __attribute__((noreturn)) void
die(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "portierctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static int
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

static void
ctl_send(int fd, struct msg *m)
{
	if (msg_send(fd, m) == -1)
		die("sending to portierd: %s", strerror(errno));
}

/* The next answer; a CTL_ERROR ends the program with its text. */
static struct msg_in *
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

static __attribute__((noreturn)) void
ctl_bad(void)
{
	die("unexpected answer %s from portierd", msg_name(in.mi_type));
}

static void
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

static const char *
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

static int64_t
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

static int
cmd_audit_verify(int fd)
{
	struct msg_in	*mi;
	uint32_t	 ok;
	int64_t		 nrows, bad;
	char		 why[512];

	ctl_send(fd, m_create(MSG_CTL_AUDIT_VERIFY, 0, -1));
	mi = ctl_recv(fd);
	if (mi->mi_type != MSG_CTL_AUDIT_VERIFY_RESULT ||
	    m_get_u32(mi, &ok) == -1 || m_get_i64(mi, &nrows) == -1 ||
	    m_get_i64(mi, &bad) == -1 ||
	    m_get_str(mi, why, sizeof(why)) == -1 || m_end(mi) == -1)
		ctl_bad();
	if (json) {
		printf("{\"ok\": %s, \"rows\": %lld", ok ? "true" : "false",
		    (long long)nrows);
		if (!ok) {
			printf(", \"bad_row\": %lld, \"reason\": ",
			    (long long)bad);
			json_str(why);
		}
		printf("}\n");
	} else if (ok)
		printf("audit trail verified: %lld rows, hash chain intact\n",
		    (long long)nrows);
	else
		printf("audit trail BROKEN at row %lld: %s\n", (long long)bad,
		    why);
	return ok ? 0 : 3;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 'S' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*since = NULL, *env;
	int		 ch, fd;

	if ((env = getenv("PORTIER_CONTROL")) != NULL && *env != '\0')
		sockpath = env;
	/* "+" stops at the command; its own options are parsed after it. */
	while ((ch = getopt_long(argc, argv, "+hjs:", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 's':
			sockpath = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	{
		const char *cmd = argv[0];
		int	 i;

		for (i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0)
				json = 1;
			else if (strcmp(argv[i], "--since") == 0 &&
			    i + 1 < argc)
				since = argv[++i];
			else if (strncmp(argv[i], "--since=", 8) == 0)
				since = argv[i] + 8;
			else if (strcmp(cmd, "audit") == 0 &&
			    strcmp(argv[i], "verify") == 0 && i == 1)
				continue;
			else {
				fprintf(stderr, "portierctl: %s: unexpected "
				    "argument \"%s\"\n", cmd, argv[i]);
				usage();
			}
		}
		if (strcmp(cmd, "status") == 0 && argc == 1) {
			fd = ctl_connect();
			return cmd_status(fd);
		}
		if (strcmp(cmd, "audit") == 0) {
			int	 verify = argc > 1 &&
			    strcmp(argv[1], "verify") == 0;

			if (verify && since != NULL)
				usage();
			if (!verify) {
				int64_t t = since ? parse_since(since) : 0;

				fd = ctl_connect();
				return cmd_audit(fd, t);
			}
			fd = ctl_connect();
			return cmd_audit_verify(fd);
		}
	}
	fprintf(stderr, "portierctl: unknown command \"%s\"\n", argv[0]);
	usage();
}
