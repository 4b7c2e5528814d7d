/*
 * replay-verify.c: portier-replay verify FILE|BUNDLE.tar [--key PUB]
 *
 * Checks every checkpoint and the seal of a recording with the public key
 * alone (recchain_verify() does the work), and says in one line what
 * holds: all of it (exit 0), everything up to the last checkpoint of a
 * recording cut before its seal (exit 2), or where it was altered
 * (exit 3).  Given a bundle made by "export", it first checks the
 * bundle's manifest, then the recording inside it.  With --store, the
 * file is also compared with the audit trail's recording.sealed row,
 * which catches a recording cut at a checkpoint or replaced whole.
 */
#include "config.h"

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

static int
replay_verify_report(const char *name, const uint8_t *buf, size_t len,
    EVP_PKEY *pub, char *sid, size_t sidlen)
{
	struct recverify	 rv;
	char			 hex[65];

	recchain_verify(buf, len, pub, &rv);
	if (sid != NULL)
		strlcpy(sid, rv.rv_sid, sidlen);
	switch (rv.rv_status) {
	case RECV_SEALED:
		replay_sha256_hex(buf, len, hex);
		printf("%s: verified: %" PRIu64 " bytes, %" PRIu64 " checkpoints, "
		    "signed by key %s (session %s; sha256 of the file %s, as "
		    "in the audit trail)\n", name, rv.rv_size,
		    rv.rv_checkpoints, rv.rv_fp, rv.rv_sid, hex);
		return REPLAY_OK;
	case RECV_UNSEALED:
		if (rv.rv_checkpoints == 0) {
			printf("%s: not sealed, and no checkpoint: nothing in "
			    "its %" PRIu64 " bytes is covered by a signature.  "
			    "The recording was cut before its end (a crash, or "
			    "by hand: compare with the audit trail)\n", name,
			    rv.rv_size);
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

static const char *
replay_base(const char *name)
{
	const char	*s = strrchr(name, '/');

	return s != NULL ? s + 1 : name;
}

#define BUNDLE_MAX	16

/* A bundle: its manifest first, then the recording with the key. */
static int
replay_verify_bundle(const char *name, const uint8_t *buf, size_t len,
    EVP_PKEY *given)
{
	struct replay_tar	 t[BUNDLE_MAX], *man = NULL, *cast = NULL;
	struct replay_tar	*pubm = NULL;
	char			 line[512], hex[65], fp1[RECCHAIN_FP_LEN + 1];
	char			 fp2[RECCHAIN_FP_LEN + 1], *nl, *fname;
	const char		*p, *end;
	EVP_PKEY		*pub;
	size_t			 off = 0, n = 0, i, ll;
	int			 rc, listed, found;

	while ((rc = replay_tar_next(buf, len, &off, &t[n])) == 1)
		if (++n == BUNDLE_MAX)
			break;
	if (rc == -1 || n == 0) {
		printf("%s: FAILED: not a readable tar bundle\n", name);
		return REPLAY_BAD;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(replay_base(t[i].t_name), "MANIFEST.sha256") == 0)
			man = &t[i];
		else if (strstr(t[i].t_name, ".cast") != NULL)
			cast = &t[i];
		else if (strstr(t[i].t_name, ".pub") != NULL)
			pubm = &t[i];
	}
	if (man == NULL || cast == NULL || pubm == NULL) {
		printf("%s: FAILED: the bundle lacks its %s\n", name,
		    man == NULL ? "MANIFEST.sha256" : cast == NULL ?
		    "recording" : "public key");
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
	    pub, NULL, 0);
	EVP_PKEY_free(pub);
	return rc;
}

/*
 * The audit trail's word on the file: its length and SHA-256 when it was
 * sealed.  Returns the exit code, RC or worse.
 */
static int
replay_verify_store(const char *name, const char *db, const char *sid,
    const uint8_t *buf, size_t len, int rc)
{
	sqlite3		*h;
	sqlite3_stmt	*st = NULL;
	const char	*reason;
	char		 hex[65], want[65], bytes[32];
	long long	 id;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT id, reason FROM audit WHERE session "
	    "= ?1 AND event = 'recording.sealed' ORDER BY id DESC LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK) {
		replay_warnx("%s: %s", db, sqlite3_errmsg(h));
		sqlite3_finalize(st);
		sqlite3_close(h);
		return REPLAY_ERROR;
	}
	sqlite3_busy_timeout(h, 5000);
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		printf("%s: audit trail: no recording.sealed row for session "
		    "%s%s\n", name, sid, rc == REPLAY_OK ? "" : " (the recorder "
		    "never finished it)");
		goto done;
	}
	id = sqlite3_column_int64(st, 0);
	reason = (const char *)sqlite3_column_text(st, 1);
	if (reason == NULL ||
	    recchain_word(reason, "bytes", bytes, sizeof(bytes)) == -1 ||
	    recchain_word(reason, "sha256", want, sizeof(want)) == -1) {
		printf("%s: FAILED: audit row %lld is not a recording seal\n",
		    name, id);
		rc = REPLAY_BAD;
		goto done;
	}
	replay_sha256_hex(buf, len, hex);
	if (strtoull(bytes, NULL, 10) != len || strcmp(hex, want) != 0) {
		printf("%s: FAILED: audit row %lld says the sealed file had %s "
		    "bytes, sha256 %s; this one has %zu bytes, sha256 %s: it was "
		    "%s\n", name, id, bytes, want, len, hex,
		    strtoull(bytes, NULL, 10) > len ? "cut" : "altered or "
		    "replaced");
		rc = REPLAY_BAD;
	} else
		printf("%s: audit trail: matches recording.sealed, audit row "
		    "%lld\n", name, id);
 done:
	sqlite3_finalize(st);
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
			return REPLAY_ERROR;
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
		rc = replay_verify_bundle(argv[optind], buf, len, pub);
	else {
		rc = replay_verify_report(argv[optind], buf, len, pub, sid,
		    sizeof(sid));
		if (store != NULL && sid[0] != '\0')
			rc = replay_verify_store(argv[optind], store, sid, buf,
			    len, rc);
	}
	EVP_PKEY_free(pub);
	free(buf);
	return rc;
}
