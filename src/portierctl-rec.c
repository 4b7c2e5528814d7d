/*
 * portierctl-rec.c: the recordings, for hospital IT and auditors:
 * recordings [--vendor V] [--target T] [--since TIME] [--verify],
 * recordings hold SESSION --reason TEXT, recordings release SESSION
 * --reason TEXT.
 *
 * The daemon lists each recording with the seal the audit trail holds
 * (size and SHA-256 of the whole file); portierctl then looks at the
 * file itself: present, the sealed size, and with --verify the sealed
 * SHA-256.  portier-replay verify checks the signed chain inside.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "portier.h"
#include "msg.h"
#include "store.h"
#include "portierctl.h"

struct rec_row {
	char	 sid[20], user[STORE_NAME_MAX + 1], vendor[STORE_NAME_MAX + 1];
	char	 target[STORE_NAME_MAX + 1], source[80], path[256];
	char	 state[16], sha256[72], hold_by[STORE_ACTOR_MAX + 1];
	char	 hold_reason[STORE_TEXT_MAX + 1];
	int64_t	 started, ended, bytes, hold_at, purged_at;
};

/* The SHA-256 of a file, in hex; -1 if it cannot be read. */
static int
file_sha256(const char *path, char hex[65])
{
	EVP_MD_CTX	*ctx;
	uint8_t		 buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (n == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
		    mdlen == 32) {
			hex_encode(md, mdlen, hex);
			rc = 0;
		}
	}
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

/* What the file says of its seal: "ok", "verified", "MISSING" ... */
static const char *
rec_check(const char *dir, const struct rec_row *r, int verify)
{
	struct stat	 sb;
	char		 path[PATH_MAX], hex[65];
	int		 n;

	if (strcmp(r->state, "purged") == 0)
		return "purged";
	if (strcmp(r->state, "failed") == 0)
		return "FAILED";
	n = snprintf(path, sizeof(path), "%s/%s", dir, r->path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return "unreadable";
	if (stat(path, &sb) == -1)
		return errno == ENOENT ? "MISSING" : "unreadable";
	if ((int64_t)sb.st_size != r->bytes)
		return "CHANGED (size)";
	if (!verify)
		return "ok";
	if (file_sha256(path, hex) == -1)
		return "unreadable";
	return strcmp(hex, r->sha256) == 0 ? "verified" : "CHANGED (sha256)";
}

static int
run_recordings_list(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "vendor", required_argument, NULL, OPT_VENDOR },
	    { "target", required_argument, NULL, OPT_TARGET },
	    { "since", required_argument, NULL, OPT_SINCE },
	    { "verify", no_argument, NULL, OPT_VERIFY }, O_END };
	struct cmd_args	 ca;
	struct rec_row	*rows = NULL, *r;
	struct msg_in	*mi;
	struct msg	*m;
	char		 dir[1024] = "", a[32], dur[16];
	const char	*check;
	size_t		 n = 0, i;
	int		 fd, bad = 0;

	cmd_parse("recordings", argc, argv, opts, 0, &ca);
	m = m_create(MSG_CTL_RECORDINGS, 0, -1);
	m_add_str(m, ca.vendor != NULL ? ca.vendor : "");
	m_add_str(m, ca.target != NULL ? ca.target : "");
	m_add_i64(m, ca.since != NULL ? parse_since(ca.since) : 0);
	fd = ctl_connect();
	ctl_send(fd, m);
	for (;;) {
		mi = ctl_recv(fd);
		if (mi->mi_type == MSG_CTL_END) {
			if (m_get_str(mi, dir, sizeof(dir)) == -1 ||
			    m_end(mi) == -1)
				ctl_bad();
			break;
		}
		if (mi->mi_type != MSG_CTL_RECORDING_INFO)
			ctl_bad();
		rows = xreallocarray(rows, n + 1, sizeof(*rows));
		r = &rows[n++];
		if (m_get_str(mi, r->sid, sizeof(r->sid)) == -1 ||
		    m_get_str(mi, r->user, sizeof(r->user)) == -1 ||
		    m_get_str(mi, r->vendor, sizeof(r->vendor)) == -1 ||
		    m_get_str(mi, r->target, sizeof(r->target)) == -1 ||
		    m_get_str(mi, r->source, sizeof(r->source)) == -1 ||
		    m_get_str(mi, r->path, sizeof(r->path)) == -1 ||
		    m_get_str(mi, r->state, sizeof(r->state)) == -1 ||
		    m_get_str(mi, r->sha256, sizeof(r->sha256)) == -1 ||
		    m_get_i64(mi, &r->started) == -1 ||
		    m_get_i64(mi, &r->ended) == -1 ||
		    m_get_i64(mi, &r->bytes) == -1 ||
		    m_get_str(mi, r->hold_by, sizeof(r->hold_by)) == -1 ||
		    m_get_i64(mi, &r->hold_at) == -1 ||
		    m_get_str(mi, r->hold_reason,
		    sizeof(r->hold_reason)) == -1 ||
		    m_get_i64(mi, &r->purged_at) == -1 || m_end(mi) == -1)
			ctl_bad();
	}
	if (json)
		printf("[");
	for (i = 0; i < n; i++) {
		r = &rows[i];
		check = rec_check(dir, r, ca.verify);
		if (strcmp(check, "ok") != 0 && strcmp(check, "verified") != 0 &&
		    strcmp(check, "purged") != 0)
			bad = 1;
		if (json) {
			printf("%s\n {\"session\": ", i ? "," : "");
			json_str(r->sid);
			printf(", \"user\": ");
			json_str(r->user);
			printf(", \"vendor\": ");
			json_str(r->vendor);
			printf(", \"target\": ");
			json_str(r->target);
			printf(", \"source\": ");
			json_str(r->source);
			printf(", \"file\": ");
			json_str(r->path);
			printf(", \"state\": ");
			json_str(r->state);
			printf(", \"sha256\": ");
			json_str(r->sha256);
			printf(", \"started\": %lld, \"ended\": %lld, "
			    "\"bytes\": %lld, \"held\": %s, \"held_by\": ",
			    (long long)r->started, (long long)r->ended,
			    (long long)r->bytes, r->hold_at ? "true" : "false");
			json_str(r->hold_by);
			printf(", \"hold_reason\": ");
			json_str(r->hold_reason);
			printf(", \"purged_at\": %lld, \"check\": ",
			    (long long)r->purged_at);
			json_str(check);
			printf("}");
			continue;
		}
		if (i == 0)
			printf("%-16s %-17s %-9s %-12s %-14s %-16s %10s  %-16s "
			    "%s\n", "SESSION", "STARTED", "DURATION", "USER",
			    "VENDOR", "TARGET", "BYTES", "CHECK", "FILE");
		policy_duration_str(r->ended > r->started ? r->ended -
		    r->started : 0, dur, sizeof(dur));
		printf("%-16s %-17s %-9s %-12s %-14s %-16s %10lld  %-16s %s\n",
		    r->sid, fmt_time(r->started, a, sizeof(a)), dur,
		    r->user[0] ? r->user : "-", r->vendor[0] ? r->vendor : "-",
		    r->target[0] ? r->target : "-", (long long)r->bytes, check,
		    r->path);
		if (r->hold_at != 0) {
			printf("%16s held by %s: %s\n", "", r->hold_by,
			    r->hold_reason);
		}
	}
	if (json)
		printf("%s]\n", n ? "\n" : "");
	else if (n == 0)
		printf("no recordings\n");
	free(rows);
	return bad ? 3 : 0;
}

static int
run_recordings_hold_release(const char *cmd, int hold, int argc,
    char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "reason", required_argument, NULL, OPT_REASON }, O_END };
	struct cmd_args	 ca;
	struct msg	*m;

	cmd_parse(cmd, argc, argv, opts, 1, &ca);
	cmd_need(cmd, &ca, 1, "a session id (portierctl recordings)");
	if (ca.reason == NULL || ca.reason[0] == '\0')
		die("%s: --reason TEXT is required: the audit trail keeps it",
		    cmd);
	m = m_create(MSG_CTL_RECORDING_HOLD, 0, -1);
	m_add_str(m, ca.a[0]);
	m_add_u32(m, hold);
	m_add_str(m, ca.reason);
	return ctl_request_ok(ctl_connect(), m);
}

int
run_recordings(int argc, char **argv)
{
	return run_recordings_list(argc, argv);
}

int
run_recordings_hold(int argc, char **argv)
{
	return run_recordings_hold_release("recordings hold", 1, argc, argv);
}

int
run_recordings_release(int argc, char **argv)
{
	return run_recordings_hold_release("recordings release", 0, argc,
	    argv);
}
