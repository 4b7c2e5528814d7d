/*
 * replay-export.c: portier-replay export FILE -o BUNDLE.tar [--key PUB]
 *     [--store DB]
 *
 * One file to hand over as evidence: a tar (ustar, written here) holding
 * the recording as it is, the public key that verifies it, the session's
 * audit rows and the requests that opened its window (read from the
 * store, read-only, with --store), a README saying how to check it all
 * with common tools, and MANIFEST.sha256 for "sha256sum -c".  The bundle
 * is verified before it is written; "portier-replay verify BUNDLE.tar"
 * checks it again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "portier.h"
#include "replay.h"

struct member {
	char	 name[100];
	char	*data;
	size_t	 len;
};

#define MEMBERS_MAX	8

static struct member	 members[MEMBERS_MAX];
static size_t		 nmembers;

static void
export_add(const char *name, const void *data, size_t len)
{
	struct member	*m = &members[nmembers++];

	strlcpy(m->name, name, sizeof(m->name));
	m->data = xmalloc(len + 1);
	memcpy(m->data, data, len);
	m->len = len;
}

/* A ustar header: the directory goes in the prefix field (155 bytes),
 * the member's name in the name field (100). */
static void
export_header(uint8_t h[512], const char *prefix, const char *name,
    size_t size, char type, time_t mtime)
{
	unsigned int	 sum = 0;
	size_t		 i;

	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	memcpy(h + 345, prefix, strnlen(prefix, 155));
	snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = (uint8_t)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	strlcpy((char *)h + 265, "root", 32);
	strlcpy((char *)h + 297, "root", 32);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static int
export_write(int fd, const void *p, size_t len)
{
	const uint8_t	*b = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, b, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
export_tar(const char *out, const char *dir)
{
	uint8_t		 h[512], zero[1024] = { 0 };
	char		 name[64];
	time_t		 now = time(NULL);
	size_t		 i, pad;
	int		 fd;

	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) ==
	    -1) {
		replay_warnx("%s: %s%s", out, strerror(errno), errno == EEXIST ?
		    ": a bundle is never overwritten; give another name, or "
		    "remove that file first" : "");
		return -1;
	}
	snprintf(name, sizeof(name), "%.60s/", dir);
	export_header(h, "", name, 0, '5', now);
	if (export_write(fd, h, 512) == -1)
		goto fail;
	for (i = 0; i < nmembers; i++) {
		export_header(h, dir, members[i].name, members[i].len, '0',
		    now);
		pad = (512 - members[i].len % 512) % 512;
		if (export_write(fd, h, 512) == -1 ||
		    export_write(fd, members[i].data, members[i].len) == -1 ||
		    export_write(fd, zero, pad) == -1)
			goto fail;
	}
	if (export_write(fd, zero, sizeof(zero)) == -1 || fsync(fd) == -1)
		goto fail;
	close(fd);
	return 0;
 fail:
	replay_warnx("%s: %s", out, strerror(errno));
	close(fd);
	unlink(out);
	return -1;
}

/* Text rows from the store, read-only: the session's trail. */
static void
export_rows(sqlite3 *db, const char *sql, const char *sid, const char *title,
    char **text, size_t *len, int *nrows)
{
	sqlite3_stmt	*st;
	FILE		*f;
	int		 i, n;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		replay_warnx("store: %s", sqlite3_errmsg(db));
		return;
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	f = open_memstream(text, len);
	fprintf(f, "# %s\n", title);
	n = sqlite3_column_count(st);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "\t" : "", sqlite3_column_name(st, i));
	fputc('\n', f);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			const unsigned char *v = sqlite3_column_text(st, i);

			fprintf(f, "%s%s", i ? "\t" : "", v != NULL ?
			    (const char *)v : "");
		}
		fputc('\n', f);
		(*nrows)++;
	}
	fclose(f);
	sqlite3_finalize(st);
}

static int
export_store(const char *path, const char *sid)
{
	sqlite3	*db;
	char	*a = NULL, *r = NULL, *all;
	size_t	 alen = 0, rlen = 0;
	int	 n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		replay_warnx("%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	export_rows(db, "SELECT id, datetime(time, 'unixepoch') AS utc, "
	    "actor, event, target, source, session, reason, hash FROM audit "
	    "WHERE session = ?1 ORDER BY id", sid,
	    "audit rows of the session (hash-chained: portierctl audit verify)",
	    &a, &alen, &n);
	export_rows(db, "SELECT r.id, r.user, r.target, r.reason, r.duration, "
	    "r.emergency, r.state, datetime(r.created, 'unixepoch') AS created, "
	    "r.decided_by, datetime(r.decided_at, 'unixepoch') AS decided, "
	    "r.decision_note FROM requests r JOIN sessions s ON s.user = "
	    "r.user AND s.target = r.target WHERE s.sid = ?1 AND r.created <= "
	    "s.started ORDER BY r.id", sid,
	    "requests for this vendor and target made before the session",
	    &r, &rlen, &n);
	sqlite3_close(db);
	xasprintf(&all, "%s\n%s", a != NULL ? a : "", r != NULL ? r : "");
	export_add("audit.txt", all, strlen(all));
	free(all);
	free(a);
	free(r);
	return n;
}

static const char readme[] =
"Portier recording: evidence bundle\n"
"==================================\n"
"\n"
"%s is the recording of session %s, exactly as the bastion wrote\n"
"it (asciicast v2; recordings/FORMAT.md in Portier's sources describes\n"
"it).  recording.pub is the public half of the key the bastion signs\n"
"recordings with: its fingerprint is %s.  Compare it with\n"
"the one your bastion publishes before you trust anything below.\n"
"\n"
"1. The files are those that were exported:\n"
"\n"
"	sha256sum -c MANIFEST.sha256\n"
"\n"
"2. The recording is complete and unaltered:\n"
"\n"
"	portier-replay verify %s --key recording.pub\n"
"\n"
"   or by hand, with openssl only: the last line is the seal\n"
"   [T, \"x\", \"seal seq=N bytes=B sha256=H sig=S\"]; the SHA-256 of the\n"
"   first B bytes must be H, and S must be an Ed25519 signature of\n"
"   \"portier-recording v2 session=%s seal seq=N bytes=B sha256=H\":\n"
"\n"
"	f=%s\n"
"	seal=$(tail -n 1 \"$f\" | sed 's/^\\[[0-9.]*, \"x\", \"\\(seal .*\\)\"\\]$/\\1/')\n"
"	B=$(echo \"$seal\" | sed 's/.* bytes=\\([0-9]*\\).*/\\1/')\n"
"	head -c \"$B\" \"$f\" | sha256sum        # prints H\n"
"	printf 'portier-recording v2 session=%%s %%s' %s \"${seal%% sig=*}\" > seal.txt\n"
"	echo \"${seal##* sig=}\" | base64 -d > seal.sig\n"
"	openssl pkeyutl -verify -pubin -inkey recording.pub -rawin \\\n"
"	    -in seal.txt -sigfile seal.sig\n"
"\n"
"3. The bastion's audit trail recorded the same file: its\n"
"   \"recording.sealed\" row for the session gives the file's length and\n"
"   the sha256sum of the whole file.%s\n"
"\n"
"Replay it with: portier-replay play %s (or asciinema play).\n";

int
replay_export(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "store", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*out = NULL, *keypath = NULL, *store = NULL;
	const char		*base;
	char			 err[512], dir[64], hex[65], *text, *pem;
	char			*man = NULL;
	struct recverify	 rv;
	EVP_PKEY		*pub;
	uint8_t			*buf = NULL, *kbuf = NULL, md[32];
	size_t			 len, klen, i, mlen = 0;
	int			 ch, rc, status;
	FILE			*f;

	while ((ch = getopt_long(argc, argv, "o:k:s:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'k':
			keypath = optarg;
			break;
		case 's':
			store = optarg;
			break;
		default:
			replay_usage();
		}
	}
	if (optind != argc - 1 || out == NULL) {
		replay_warnx("usage: portier-replay export FILE -o BUNDLE.tar "
		    "[--key PUB] [--store DB]");
		return REPLAY_ERROR;
	}
	if (strcmp(out, "-") == 0) {
		replay_warnx("export writes a file, not standard output: give "
		    "its name with -o");
		return REPLAY_ERROR;
	}
	if (keypath == NULL)
		keypath = replay_default_key();
	if ((pub = recchain_pub_load(keypath, err, sizeof(err))) == NULL) {
		replay_warnx("%s", err);
		return REPLAY_ERROR;
	}
	if (replay_load(argv[optind], &buf, &len) == -1 ||
	    replay_load(keypath, &kbuf, &klen) == -1) {
		EVP_PKEY_free(pub);
		status = REPLAY_ERROR;
		goto done;
	}
	recchain_verify(buf, len, pub, &rv);
	EVP_PKEY_free(pub);
	if (rv.rv_status == RECV_BAD) {
		replay_warnx("%s does not verify (line %d, byte %llu: %s); not "
		    "exported", argv[optind], rv.rv_bad_line,
		    (unsigned long long)rv.rv_bad_offset, rv.rv_why);
		status = REPLAY_BAD;
		goto done;
	}
	status = rv.rv_status == RECV_SEALED ? REPLAY_OK : REPLAY_UNSEALED;
	/* What verify refuses is not exported as evidence. */
	if (replay_name_check(argv[optind], rv.rv_sid) == -1 ||
	    (store != NULL && (status = replay_verify_store(argv[optind],
	    store, rv.rv_sid, buf, len, status)) != REPLAY_OK &&
	    status != REPLAY_UNSEALED)) {
		if (status != REPLAY_ERROR)
			replay_warnx("%s: not exported", argv[optind]);
		status = status == REPLAY_ERROR ? REPLAY_ERROR : REPLAY_BAD;
		goto done;
	}
	if (rv.rv_status == RECV_UNSEALED)
		replay_warnx("%s is not sealed: exported as it is",
		    argv[optind]);
	else if (status == REPLAY_UNSEALED)
		replay_warnx("%s: the audit trail does not vouch for it: "
		    "exported as it is", argv[optind]);
	base = strrchr(argv[optind], '/') != NULL ?
	    strrchr(argv[optind], '/') + 1 : argv[optind];
	if (strlen(base) >= 90) {
		replay_warnx("%s: file name too long", base);
		status = REPLAY_ERROR;
		goto done;
	}
	export_add(base, buf, len);
	/* Only the PEM block: whatever else the file holds stays out. */
	pem = strstr((char *)kbuf, "-----BEGIN PUBLIC KEY-----");
	export_add("recording.pub", pem != NULL ? pem : (char *)kbuf,
	    pem != NULL ? strlen(pem) : klen);
	rc = -1;
	if (store != NULL && (rc = export_store(store, rv.rv_sid)) == -1) {
		status = REPLAY_ERROR;
		goto done;
	}
	xasprintf(&text, readme, base, rv.rv_sid, rv.rv_fp, base, rv.rv_sid,
	    base, rv.rv_sid, store != NULL ? "  audit.txt holds the session's "
	    "audit rows and the requests that\n   opened its window, as the "
	    "store had them at export." : "  (This bundle was made without "
	    "--store: no audit rows in it.)", base);
	export_add("README", text, strlen(text));
	free(text);
	f = open_memstream(&man, &mlen);
	for (i = 0; i < nmembers; i++) {
		EVP_Digest(members[i].data, members[i].len, md, NULL,
		    EVP_sha256(), NULL);
		hex_encode(md, 32, hex);
		fprintf(f, "%s  %s\n", hex, members[i].name);
	}
	fclose(f);
	export_add("MANIFEST.sha256", man, mlen);
	free(man);
	snprintf(dir, sizeof(dir), "portier-%s", rv.rv_sid);
	if (export_tar(out, dir) == -1) {
		status = REPLAY_ERROR;
		goto done;
	}
	printf("%s: %s with %zu files (%s%s), %s\n", out, dir, nmembers,
	    rv.rv_status == RECV_SEALED ? "recording sealed" :
	    "recording NOT sealed", store != NULL ? ", audit rows" : "",
	    "check it with: portier-replay verify BUNDLE.tar");
 done:
	for (i = 0; i < nmembers; i++)
		free(members[i].data);
	free(buf);
	free(kbuf);
	return status;
}
