/*
 * replay-verify.c: portier-replay verify FILE|BUNDLE.tar [--key PUB]
 *     [--store DB]
 *
 * Checks every checkpoint and the seal of a recording with the public key
 * alone (recchain_verify() does the work), and says what holds: all of it
 * (exit 0), everything up to the last checkpoint of a recording cut
 * before its seal (exit 2), or where it was altered (exit 3).  A file
 * under the name Portier gave it (HHMMSS-SESSION.cast) must hold that
 * session.  Given a bundle made by "export", it first checks that the
 * bundle holds what an export writes and nothing else, and the manifest;
 * then the recording, and the bundle's own audit rows against it.  With
 * --store, the file is also compared with the audit trail's
 * recording.sealed row, which catches a recording cut at a checkpoint,
 * replaced whole, or never made by this bastion.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "portier.h"
#include "replay.h"

static void
replay_sha256_hex(const uint8_t *p, size_t len, char hex[65])
{
	uint8_t	 md[32];

	EVP_Digest(p, len, md, NULL, EVP_sha256(), NULL);
	hex_encode(md, sizeof(md), hex);
}

const char *
replay_base(const char *name)
{
	const char	*s = strrchr(name, '/');

	return s != NULL ? s + 1 : name;
}

/*
 * Portier files a recording as HHMMSS-SESSION.cast: a file under such a
 * name that holds another session was swapped with that session's file.
 * A name of another form (given by hand) is not checked.
 */
int
replay_name_check(const char *name, const char *sid)
{
	const char	*b = replay_base(name);
	size_t		 i;

	if (strlen(b) != 7 + PT_SID_LEN + 5 || b[6] != '-' ||
	    strcmp(b + 7 + PT_SID_LEN, ".cast") != 0)
		return 0;
	for (i = 0; i < 7 + PT_SID_LEN; i++)
		if (i != 6 && !(i < 6 ? isdigit((unsigned char)b[i]) :
		    isxdigit((unsigned char)b[i])))
			return 0;
	if (strlen(sid) == PT_SID_LEN && strncmp(b + 7, sid, PT_SID_LEN) == 0)
		return 0;
	printf("%s: FAILED: the file is named for session %.*s but holds "
	    "session %s: it was swapped with another recording\n", name,
	    PT_SID_LEN, b + 7, sid[0] != '\0' ? sid : "(none)");
	return -1;
}

/*
 * The file against a recording.sealed row ("file=PATH bytes=N
 * sha256=HEX"), from the store or a bundle's audit.txt: 0 when it
 * matches, -1 (said) when not.
 */
static int
replay_seal_check(const char *name, const char *row, const char *reason,
    const uint8_t *buf, size_t len)
{
	char	 hex[65], want[65], bytes[32];

	if (reason == NULL ||
	    recchain_word(reason, "bytes", bytes, sizeof(bytes)) == -1 ||
	    recchain_word(reason, "sha256", want, sizeof(want)) == -1) {
		printf("%s: FAILED: %s is not a recording seal\n", name, row);
		return -1;
	}
	replay_sha256_hex(buf, len, hex);
	if (strtoull(bytes, NULL, 10) != len || strcmp(hex, want) != 0) {
		printf("%s: FAILED: %s says the sealed file had %s bytes, "
		    "sha256 %s; this one has %zu bytes, sha256 %s: it was %s\n",
		    name, row, bytes, want, len, hex,
		    strtoull(bytes, NULL, 10) > len ? "cut" :
		    "altered or replaced");
		return -1;
	}
	return 0;
}

static int
replay_verify_report(const char *name, const uint8_t *buf, size_t len,
    EVP_PKEY *pub, char *sid, size_t sidlen)
{
	struct recverify	 rv;
	char			 hex[65];

	recchain_verify(buf, len, pub, &rv);
	if (sid != NULL)
		strlcpy(sid, rv.rv_sid, sidlen);
	if (rv.rv_status != RECV_BAD &&
	    replay_name_check(name, rv.rv_sid) == -1)
		return REPLAY_BAD;
	switch (rv.rv_status) {
	case RECV_SEALED:
		replay_sha256_hex(buf, len, hex);
		printf("%s: verified: %" PRIu64 " bytes, %" PRIu64
		    " checkpoint%s, signed by key %s (session %s; sha256 of "
		    "the file %s)\n", name, rv.rv_size, rv.rv_checkpoints,
		    rv.rv_checkpoints == 1 ? "" : "s", rv.rv_fp, rv.rv_sid, hex);
		return REPLAY_OK;
	case RECV_UNSEALED:
		if (rv.rv_checkpoints == 0) {
			printf("%s: NOT VERIFIED: not sealed, and no "
			    "checkpoint: nothing in its %" PRIu64 " bytes is "
			    "signed, so the "
			    "file proves nothing by itself.  Either the "
			    "recording was cut within seconds of its start (a "
			    "crash) or it was written by hand: check it against "
			    "the audit trail (--store)\n", name, rv.rv_size);
			return REPLAY_UNSEALED;
		}
		printf("%s: not sealed: verified up to checkpoint %" PRIu64
		    " (byte %" PRIu64 " of %" PRIu64 "), signed by key %s; the "
		    "last %" PRIu64 " bytes are not covered by a signature.  "
		    "The recording was cut before its end (a crash, or by "
		    "hand: compare with the audit trail)\n", name,
		    rv.rv_checkpoints, rv.rv_verified, rv.rv_size, rv.rv_fp,
		    rv.rv_size - rv.rv_verified);
		return REPLAY_UNSEALED;
	case RECV_BAD:
	default:
		printf("%s: FAILED at line %d, byte %" PRIu64 ": %s\n", name,
		    rv.rv_bad_line, rv.rv_bad_offset, rv.rv_why);
		return REPLAY_BAD;
	}
}

#define BUNDLE_MAX	16	/* an export writes 5 */

/*
 * The bundle's own audit rows (audit.txt, first section) against its
 * recording: every row is of the recording's session, and its
 * recording.sealed row gives the file's length and SHA-256.
 */
static int
replay_bundle_rows(const char *name, const struct replay_tar *rows,
    const struct replay_tar *cast, const char *sid, int rc)
{
	char	*text, *line, *next, *p, *tab, *f[7], row[64];
	int	 i, section = 0, sealed = 0;

	text = xmalloc(rows->t_len + 1);
	memcpy(text, rows->t_data, rows->t_len);
	text[rows->t_len] = '\0';
	for (line = text; line != NULL && rc != REPLAY_BAD; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#')
			section++;
		if (section != 1 || line[0] == '#' ||
		    strncmp(line, "id\t", 3) == 0)
			continue;
		/* id utc actor event target source session, reason, hash */
		for (i = 0, p = line; i < 7 && p != NULL; i++) {
			f[i] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (p == NULL)
			continue;	/* not a row */
		if ((tab = strrchr(p, '\t')) != NULL)
			*tab = '\0';
		if (strcmp(f[6], sid) != 0) {
			printf("%s: FAILED: audit.txt holds row %s of session "
			    "%s, not of the recording's session %s\n", name,
			    f[0], f[6], sid);
			rc = REPLAY_BAD;
		} else if (strcmp(f[3], "recording.sealed") == 0) {
			snprintf(row, sizeof(row), "audit.txt row %.20s", f[0]);
			if (replay_seal_check(name, row, p, cast->t_data,
			    cast->t_len) == -1)
				rc = REPLAY_BAD;
			else
				sealed = 1;
		}
	}
	free(text);
	if (rc == REPLAY_BAD)
		return rc;
	if (sealed)
		printf("%s: audit.txt: the recording matches its "
		    "recording.sealed row\n", name);
	else {
		printf("%s: audit.txt: no recording.sealed row for session "
		    "%s: the bundle's audit rows do not vouch for the "
		    "recording\n", name, sid);
		if (rc == REPLAY_OK)
			rc = REPLAY_UNSEALED;
	}
	return rc;
}

/* The member for base name WANT (one at most), or one whose ends so. */
static int
replay_bundle_pick(const char *name, struct replay_tar *t, size_t n,
    const char *want, int suffix, struct replay_tar **out)
{
	const char	*b;
	size_t		 i, bl, wl = strlen(want);

	for (*out = NULL, i = 0; i < n; i++) {
		b = replay_base(t[i].t_name);
		bl = strlen(b);
		if (suffix ? bl <= wl || strcmp(b + bl - wl, want) != 0 :
		    strcmp(b, want) != 0)
			continue;
		if (*out != NULL) {
			printf("%s: FAILED: the bundle holds more than one %s%s; "
			    "an export writes one\n", name,
			    suffix ? "file ending in " : "", want);
			return -1;
		}
		*out = &t[i];
	}
	return 0;
}

/*
 * A bundle: what an export writes and nothing else (the recording,
 * recording.pub, README, MANIFEST.sha256, audit.txt with --store), all
 * of it in the manifest; then the recording with the key, then the
 * bundle's audit rows, then the store if one is given.
 */
static int
replay_verify_bundle(const char *name, const uint8_t *buf, size_t len,
    EVP_PKEY *given, const char *store)
{
	struct replay_tar	 t[BUNDLE_MAX], extra, *man, *cast, *pubm;
	struct replay_tar	*rows, *readme;
	char			 line[512], hex[65], fp1[RECCHAIN_FP_LEN + 1];
	char			 fp2[RECCHAIN_FP_LEN + 1], sid[32], dir[64];
	char			*nl, *fname;
	const char		*p, *end, *b;
	EVP_PKEY		*pub;
	size_t			 off = 0, n = 0, i, ll;
	int			 rc, listed, found;

	while ((rc = replay_tar_next(buf, len, &off,
	    n < BUNDLE_MAX ? &t[n] : &extra)) == 1) {
		if (n == BUNDLE_MAX) {
			printf("%s: FAILED: the bundle holds more than %d "
			    "files; an export writes 5\n", name, BUNDLE_MAX);
			return REPLAY_BAD;
		}
		n++;
	}
	if (rc == -1 || n == 0) {
		printf("%s: FAILED: not a readable tar bundle (only regular "
		    "files and directories, as an export writes)\n", name);
		return REPLAY_BAD;
	}
	if (replay_bundle_pick(name, t, n, "MANIFEST.sha256", 0, &man) == -1 ||
	    replay_bundle_pick(name, t, n, ".cast", 1, &cast) == -1 ||
	    replay_bundle_pick(name, t, n, "recording.pub", 0, &pubm) == -1 ||
	    replay_bundle_pick(name, t, n, "audit.txt", 0, &rows) == -1 ||
	    replay_bundle_pick(name, t, n, "README", 0, &readme) == -1)
		return REPLAY_BAD;
	if (man == NULL || cast == NULL || pubm == NULL) {
		printf("%s: FAILED: the bundle lacks its %s\n", name,
		    man == NULL ? "MANIFEST.sha256" : cast == NULL ?
		    "recording" : "public key (recording.pub)");
		return REPLAY_BAD;
	}
	for (i = 0; i < n; i++) {
		if (&t[i] == man || &t[i] == cast || &t[i] == pubm ||
		    &t[i] == rows || &t[i] == readme)
			continue;
		printf("%s: FAILED: %s is not a file an export writes\n", name,
		    t[i].t_name);
		return REPLAY_BAD;
	}
	/* Every file listed matches, and every file is listed. */
	listed = 0;
	for (p = (const char *)man->t_data, end = p + man->t_len; p < end;
	    p += ll + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll == 0)
			continue;
		if (ll >= sizeof(line) || ll < 67 || p[64] != ' ' ||
		    p[65] != ' ') {
			printf("%s: FAILED: a malformed MANIFEST.sha256 line\n",
			    name);
			return REPLAY_BAD;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		fname = line + 66;
		for (found = 0, i = 0; i < n; i++) {
			if (strcmp(replay_base(t[i].t_name), fname) != 0)
				continue;
			found = 1;
			replay_sha256_hex(t[i].t_data, t[i].t_len, hex);
			if (strncmp(hex, line, 64) != 0) {
				printf("%s: FAILED: %s does not match its "
				    "SHA-256 in MANIFEST.sha256\n", name,
				    fname);
				return REPLAY_BAD;
			}
		}
		if (!found) {
			printf("%s: FAILED: %s, listed in MANIFEST.sha256, is "
			    "missing\n", name, fname);
			return REPLAY_BAD;
		}
		listed++;
	}
	if ((size_t)listed != n - 1) {
		printf("%s: FAILED: the bundle holds files its manifest does "
		    "not list\n", name);
		return REPLAY_BAD;
	}
	printf("%s: manifest: %d files match MANIFEST.sha256\n", name, listed);
	if ((pub = recchain_pub_parse((const char *)pubm->t_data,
	    pubm->t_len)) == NULL) {
		printf("%s: FAILED: %s is not an Ed25519 public key\n", name,
		    pubm->t_name);
		return REPLAY_BAD;
	}
	recchain_key_fp(pub, fp1);
	if (given != NULL) {
		recchain_key_fp(given, fp2);
		if (strcmp(fp1, fp2) != 0) {
			printf("%s: FAILED: the bundle's key %s is not the "
			    "key %s given with --key\n", name, fp1, fp2);
			EVP_PKEY_free(pub);
			return REPLAY_BAD;
		}
	} else
		printf("%s: using the bundle's own key %s: check it is your "
		    "bastion's (portier-replay verify --key)\n", name, fp1);
	rc = replay_verify_report(cast->t_name, cast->t_data, cast->t_len,
	    pub, sid, sizeof(sid));
	EVP_PKEY_free(pub);
	if (rc == REPLAY_BAD)
		return rc;
	/* All of it under portier-SESSION/, the recording's session. */
	snprintf(dir, sizeof(dir), "portier-%s", sid);
	for (i = 0; i < n; i++) {
		b = replay_base(t[i].t_name);
		if ((size_t)(b - t[i].t_name) == strlen(dir) + 1 &&
		    strncmp(t[i].t_name, dir, strlen(dir)) == 0)
			continue;
		printf("%s: FAILED: %s is not under %s/, the directory of the "
		    "recording's session\n", name, t[i].t_name, dir);
		return REPLAY_BAD;
	}
	if (rows != NULL)
		rc = replay_bundle_rows(name, rows, cast, sid, rc);
	if (store != NULL && rc != REPLAY_BAD)
		rc = replay_verify_store(cast->t_name, store, sid,
		    cast->t_data, cast->t_len, rc);
	return rc;
}

/* A hint for the error a copied WAL store gives. */
static void
replay_store_error(const char *db, sqlite3 *h)
{
	const char	*e = h != NULL ? sqlite3_errmsg(h) : "out of memory";

	replay_warnx("%s: %s%s", db, e, strstr(e, "no such table") != NULL ?
	    " (not a Portier store, or a copy made without its -wal file: "
	    "copy a live store with sqlite3 DB \".backup COPY\")" : "");
}

/*
 * The audit trail's word on the file: its length and SHA-256 when it was
 * sealed.  A session the trail never saw fails; a seal it never saw
 * leaves the file unvouched for.  Returns the exit code, RC or worse.
 */
int
replay_verify_store(const char *name, const char *db, const char *sid,
    const uint8_t *buf, size_t len, int rc)
{
	sqlite3		*h = NULL;
	sqlite3_stmt	*st = NULL, *known = NULL;
	char		 row[64];

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT id, reason FROM audit WHERE session "
	    "= ?1 AND event = 'recording.sealed' ORDER BY id DESC LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM audit WHERE session = "
	    "?1", -1, &known, NULL) != SQLITE_OK) {
		replay_store_error(db, h);
		rc = REPLAY_ERROR;
		goto done;
	}
	sqlite3_busy_timeout(h, 5000);
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_text(known, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(row, sizeof(row), "audit row %lld",
		    (long long)sqlite3_column_int64(st, 0));
		if (replay_seal_check(name, row, (const char *)
		    sqlite3_column_text(st, 1), buf, len) == -1)
			rc = REPLAY_BAD;
		else
			printf("%s: audit trail: matches recording.sealed, %s\n",
			    name, row);
	} else if (sqlite3_step(known) != SQLITE_ROW ||
	    sqlite3_column_int64(known, 0) == 0) {
		printf("%s: FAILED: the audit trail of %s has no row of session "
		    "%s: the recording was not made by this bastion, or this "
		    "is not its store\n", name, db, sid[0] != '\0' ? sid :
		    "(none)");
		rc = REPLAY_BAD;
	} else {
		printf("%s: audit trail: no recording.sealed row for session "
		    "%s (%s)\n", name, sid, rc == REPLAY_OK ? "the trail does "
		    "not vouch for this file" : "the recorder never finished "
		    "it");
		if (rc == REPLAY_OK)
			rc = REPLAY_UNSEALED;
	}
 done:
	sqlite3_finalize(st);
	sqlite3_finalize(known);
	sqlite3_close(h);
	return rc;
}

int
replay_verify(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "store", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*keypath = NULL, *store = NULL;
	char		 sid[32] = "";
	char		 err[512];
	EVP_PKEY	*pub = NULL;
	uint8_t		*buf;
	size_t		 len;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "k:s:", opts, NULL)) != -1) {
		switch (ch) {
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
	if (optind != argc - 1) {
		replay_warnx("usage: portier-replay verify FILE|BUNDLE.tar "
		    "[--key PUB] [--store DB]");
		return REPLAY_ERROR;
	}
	if (replay_load(argv[optind], &buf, &len) == -1)
		return REPLAY_ERROR;
	if (keypath != NULL || !replay_is_tar(buf, len)) {
		if (keypath == NULL)
			keypath = replay_default_key();
		if ((pub = recchain_pub_load(keypath, err, sizeof(err))) ==
		    NULL) {
			replay_warnx("%s", err);
			free(buf);
			return REPLAY_ERROR;
		}
	}
	if (replay_is_tar(buf, len))
		rc = replay_verify_bundle(argv[optind], buf, len, pub, store);
	else {
		rc = replay_verify_report(argv[optind], buf, len, pub, sid,
		    sizeof(sid));
		if (store != NULL && rc != REPLAY_BAD)
			rc = replay_verify_store(argv[optind], store, sid, buf,
			    len, rc);
	}
	EVP_PKEY_free(pub);
	free(buf);
	return rc;
}
