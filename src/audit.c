/*
 * audit.c: the audit trail, append-only and hash-chained.
 *
 * Each row carries the hash of the row before it (64 '0' for the first)
 * and its own hash:
 *
 *	hash = SHA-256(prev_hash as 64 hex digits || fields)
 *
 * where each field is a tag byte, a 4-byte big-endian length and the
 * value, in tag order: id and time as 8-byte big-endian integers, then the
 * text fields.  id, time, actor and event are always there; a NULL
 * optional field is left out, so a column added later (source and session
 * in schema 2) does not change the hash of rows written before it, and
 * an empty string still differs from NULL.  Tags are never reused.
 *
 * Triggers in the schema refuse UPDATE and DELETE and an INSERT that does
 * not extend the chain, and prev_hash is UNIQUE: the chain cannot fork.
 * audit_verify() finds what was done behind SQLite's back: a row changed,
 * removed, reordered, or cut from the end.
 *
 * Whoever can write the store could also recompute every hash after the
 * row they changed.  That is what anchors are for: the monitor logs each
 * row's number and the start of its hash with the row (to syslog, which
 * a hospital usually copies off the machine), and "audit verify --anchor
 * ROW:HASH" checks that the trail still holds that hash at that row.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "portier.h"
#include "store.h"

enum audit_tag {
	AUDIT_TAG_ID = 1,
	AUDIT_TAG_TIME = 2,
	AUDIT_TAG_ACTOR = 3,
	AUDIT_TAG_EVENT = 4,
	AUDIT_TAG_TARGET = 5,
	AUDIT_TAG_REASON = 6,
	AUDIT_TAG_SOURCE = 7,		/* schema 2 */
	AUDIT_TAG_SESSION = 8,		/* schema 2 */
};

/* A text field as stored: NULL when absent; LEN counts every byte. */
struct audit_field {
	enum audit_tag	 tag;
	const char	*str;
	size_t		 len;
};
#define AUDIT_NTEXT	6

#define AUDIT_COLUMNS	"id, time, actor, event, target, source, session, " \
			"reason, prev_hash, hash"

static void
audit_zero(char h[AUDIT_HASH_LEN + 1])
{
	memset(h, '0', AUDIT_HASH_LEN);
	h[AUDIT_HASH_LEN] = '\0';
}

static int
audit_put(EVP_MD_CTX *ctx, enum audit_tag tag, const void *p, size_t len)
{
	uint8_t	 hdr[5];

	if (len > UINT32_MAX)
		return -1;
	hdr[0] = tag;
	hdr[1] = len >> 24;
	hdr[2] = len >> 16;
	hdr[3] = len >> 8;
	hdr[4] = len;
	if (EVP_DigestUpdate(ctx, hdr, sizeof(hdr)) != 1 ||
	    (len > 0 && EVP_DigestUpdate(ctx, p, len) != 1))
		return -1;
	return 0;
}

static int
audit_put_int(EVP_MD_CTX *ctx, enum audit_tag tag, int64_t v)
{
	uint64_t u = (uint64_t)v;
	uint8_t	 b[8];
	int	 i;

	for (i = 7; i >= 0; i--, u >>= 8)
		b[i] = u & 0xff;
	return audit_put(ctx, tag, b, sizeof(b));
}

/* HASH = SHA-256(PREV || id || time || present text fields, by tag). */
static int
audit_hash(const char *prev, int64_t id, int64_t t,
    const struct audit_field text[AUDIT_NTEXT], char hash[AUDIT_HASH_LEN + 1])
{
	EVP_MD_CTX	*ctx;
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, prev, AUDIT_HASH_LEN) == 1 &&
	    audit_put_int(ctx, AUDIT_TAG_ID, id) == 0 &&
	    audit_put_int(ctx, AUDIT_TAG_TIME, t) == 0;
	for (i = 0; ok && i < AUDIT_NTEXT; i++)
		if (text[i].str != NULL)
			ok = audit_put(ctx, text[i].tag, text[i].str,
			    text[i].len) == 0;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	hex_encode(md, mdlen, hash);
	return 0;
}

static void
audit_text_set(struct audit_field f[AUDIT_NTEXT], const char *actor,
    const char *event, const char *target, const char *reason,
    const char *source, const char *session)
{
	const char *v[AUDIT_NTEXT] = {
	    actor, event, target, reason, source, session
	};
	static const enum audit_tag tags[AUDIT_NTEXT] = {
	    AUDIT_TAG_ACTOR, AUDIT_TAG_EVENT, AUDIT_TAG_TARGET,
	    AUDIT_TAG_REASON, AUDIT_TAG_SOURCE, AUDIT_TAG_SESSION
	};
	int	 i;

	for (i = 0; i < AUDIT_NTEXT; i++) {
		f[i].tag = tags[i];
		f[i].str = v[i];
		f[i].len = v[i] != NULL ? strlen(v[i]) : 0;
	}
}

/* The text fields of a row read by a SELECT AUDIT_COLUMNS, byte exact. */
static void
audit_text_row(struct audit_field f[AUDIT_NTEXT], sqlite3_stmt *stmt)
{
	/* Columns of actor, event, target, reason, source, session. */
	static const int cols[AUDIT_NTEXT] = { 2, 3, 4, 7, 5, 6 };
	static const enum audit_tag tags[AUDIT_NTEXT] = {
	    AUDIT_TAG_ACTOR, AUDIT_TAG_EVENT, AUDIT_TAG_TARGET,
	    AUDIT_TAG_REASON, AUDIT_TAG_SOURCE, AUDIT_TAG_SESSION
	};
	int	 i;

	for (i = 0; i < AUDIT_NTEXT; i++) {
		f[i].tag = tags[i];
		f[i].str = (const char *)sqlite3_column_text(stmt, cols[i]);
		f[i].len = f[i].str != NULL ?
		    (size_t)sqlite3_column_bytes(stmt, cols[i]) : 0;
	}
}

static void
audit_rec_row(struct audit_rec *r, sqlite3_stmt *stmt)
{
	const char *prev = (const char *)sqlite3_column_text(stmt, 8);
	const char *hash = (const char *)sqlite3_column_text(stmt, 9);

	r->id = sqlite3_column_int64(stmt, 0);
	r->time = sqlite3_column_int64(stmt, 1);
	r->actor = (const char *)sqlite3_column_text(stmt, 2);
	r->event = (const char *)sqlite3_column_text(stmt, 3);
	r->target = (const char *)sqlite3_column_text(stmt, 4);
	r->source = (const char *)sqlite3_column_text(stmt, 5);
	r->session = (const char *)sqlite3_column_text(stmt, 6);
	r->reason = (const char *)sqlite3_column_text(stmt, 7);
	strlcpy(r->prev, prev != NULL ? prev : "", sizeof(r->prev));
	strlcpy(r->hash, hash != NULL ? hash : "", sizeof(r->hash));
}

/* The id and hash of the last row: 0 and 64 '0' for an empty trail. */
static int
audit_head(struct store *st, int64_t *id, char hash[AUDIT_HASH_LEN + 1],
    struct audit_rec *r)
{
	sqlite3_stmt	*stmt;
	const char	*h;
	int		 rc;

	if (sqlite3_prepare_v2(store_db(st), "SELECT id, time, prev_hash, "
	    "hash FROM audit ORDER BY id DESC LIMIT 1", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return store_seterr(st, "audit: %s",
		    sqlite3_errmsg(store_db(st)));
	*id = 0;
	audit_zero(hash);
	if (r != NULL) {
		memset(r, 0, sizeof(*r));
		audit_zero(r->prev);
		audit_zero(r->hash);
	}
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(stmt, 0);
		h = (const char *)sqlite3_column_text(stmt, 3);
		strlcpy(hash, h != NULL ? h : "", AUDIT_HASH_LEN + 1);
		if (r != NULL) {
			r->id = *id;
			r->time = sqlite3_column_int64(stmt, 1);
			h = (const char *)sqlite3_column_text(stmt, 2);
			strlcpy(r->prev, h != NULL ? h : "", sizeof(r->prev));
			strlcpy(r->hash, hash, sizeof(r->hash));
		}
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_seterr(st, "audit: %s",
		    sqlite3_errmsg(store_db(st)));
	return STORE_OK;
}

int
audit_last(struct store *st, struct audit_rec *r)
{
	int64_t	 id;
	char	 hash[AUDIT_HASH_LEN + 1];

	return audit_head(st, &id, hash, r);
}

static int
audit_insert(struct store *st, struct audit_rec *r)
{
	struct audit_field f[AUDIT_NTEXT];
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	int64_t		 last;
	int		 rc;

	if (audit_head(st, &last, r->prev, NULL) == STORE_ERR)
		return STORE_ERR;
	r->id = last + 1;
	audit_text_set(f, r->actor, r->event, r->target, r->reason,
	    r->source, r->session);
	if (audit_hash(r->prev, r->id, r->time, f, r->hash) == -1)
		return store_seterr(st, "audit: SHA-256 failed");
	if (sqlite3_prepare_v2(db, "INSERT INTO audit (" AUDIT_COLUMNS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return store_seterr(st, "audit: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(stmt, 1, r->id);
	sqlite3_bind_int64(stmt, 2, r->time);
	sqlite3_bind_text(stmt, 3, r->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, r->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, r->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, r->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, r->session, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, r->prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 10, r->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_seterr(st, "audit: %s", sqlite3_errmsg(db));
	return STORE_OK;
}

int
audit_append(struct store *st, struct audit_rec *r)
{
	const char	*text[] = {
	    r->target, r->source, r->session, r->reason
	};
	size_t		 i;
	int		 own;

	if (r->actor == NULL || *r->actor == '\0' ||
	    r->event == NULL || *r->event == '\0')
		return store_seterr(st, "audit: actor and event are required");
	if (strlen(r->actor) > AUDIT_FIELD_MAX ||
	    strlen(r->event) > AUDIT_FIELD_MAX)
		return store_seterr(st, "audit: field too long");
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (text[i] != NULL && strlen(text[i]) > AUDIT_FIELD_MAX)
			return store_seterr(st, "audit: field too long");
	if (r->time == 0)
		r->time = (int64_t)time(NULL);

	/*
	 * Reading the head and inserting after it must be one write
	 * transaction, or two appenders could both extend the same row.
	 * In the caller's transaction SQLite gives the same guarantee.
	 */
	own = sqlite3_get_autocommit(store_db(st));
	if (own && store_tx_begin(st) == STORE_ERR)
		return STORE_ERR;
	if (audit_insert(st, r) == STORE_ERR) {
		if (own)
			store_tx_rollback(st);
		return STORE_ERR;
	}
	if (own && store_tx_commit(st) == STORE_ERR) {
		store_tx_rollback(st);
		return STORE_ERR;
	}
	return STORE_OK;
}

int
audit_list(struct store *st, int64_t since,
    int (*cb)(const struct audit_rec *, void *), void *arg)
{
	struct audit_rec r;
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	int		 rc, stop = 0;

	if (sqlite3_prepare_v2(db, "SELECT " AUDIT_COLUMNS " FROM audit "
	    "WHERE time >= ? ORDER BY id", -1, &stmt, NULL) != SQLITE_OK)
		return store_seterr(st, "audit: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(stmt, 1, since);
	while (stop == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		audit_rec_row(&r, stmt);
		stop = cb(&r, arg);
	}
	sqlite3_finalize(stmt);
	if (stop != 0)
		return stop;
	if (rc != SQLITE_DONE)
		return store_seterr(st, "audit: %s", sqlite3_errmsg(db));
	return STORE_OK;
}

/*
 * Check one row against the chain so far.  Returns 0 if it holds, 1 with
 * WHY set if not.
 */
static int
audit_verify_row(sqlite3_stmt *stmt, int64_t want_id, const char *want_prev,
    char *why, size_t whylen)
{
	struct audit_field f[AUDIT_NTEXT];
	const char	*prev, *hash;
	char		 h[AUDIT_HASH_LEN + 1];
	int64_t		 id = sqlite3_column_int64(stmt, 0);

	if (id != want_id) {
		snprintf(why, whylen, "row %lld: expected id %lld; rows "
		    "%lld to %lld are missing", (long long)id,
		    (long long)want_id, (long long)want_id, (long long)id - 1);
		return 1;
	}
	prev = (const char *)sqlite3_column_text(stmt, 8);
	if (prev == NULL || strcmp(prev, want_prev) != 0) {
		if (id == 1)
			snprintf(why, whylen, "row 1: prev_hash is not 64 '0': "
			    "rows before it were removed");
		else
			snprintf(why, whylen, "row %lld: prev_hash does not "
			    "match the hash of row %lld: a row was removed, "
			    "inserted or rewritten", (long long)id,
			    (long long)id - 1);
		return 1;
	}
	audit_text_row(f, stmt);
	hash = (const char *)sqlite3_column_text(stmt, 9);
	if (audit_hash(prev, id, sqlite3_column_int64(stmt, 1), f, h) == -1) {
		snprintf(why, whylen, "row %lld: SHA-256 failed",
		    (long long)id);
		return 1;
	}
	if (hash == NULL || strcmp(hash, h) != 0) {
		snprintf(why, whylen, "row %lld: hash mismatch: the row was "
		    "changed", (long long)id);
		return 1;
	}
	return 0;
}

/* Rows cut from the end leave sqlite_sequence ahead of the last id. */
static int
audit_verify_tail(sqlite3 *db, int64_t last, int64_t *bad_id, char *why,
    size_t whylen)
{
	sqlite3_stmt	*stmt;
	int64_t		 seq;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence "
	    "WHERE name = 'audit'", -1, &stmt, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "audit: %s", sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(stmt);
	seq = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(why, whylen, "audit: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (seq > last) {
		*bad_id = last + 1;
		if (seq == last + 1)
			snprintf(why, whylen, "row %lld was removed from the "
			    "end of the trail", (long long)seq);
		else
			snprintf(why, whylen, "rows %lld to %lld were removed "
			    "from the end of the trail", (long long)last + 1,
			    (long long)seq);
		return 1;
	}
	return 0;
}

int
audit_verify(struct store *st, int64_t *nrows, int64_t *bad_id, char *why,
    size_t whylen)
{
	char	 head[AUDIT_HASH_LEN + 1];

	return audit_verify_anchor(st, 0, NULL, nrows, bad_id, head, why,
	    whylen);
}

int
audit_verify_anchor(struct store *st, int64_t anchor_id, const char *anchor,
    int64_t *nrows, int64_t *bad_id, char head[AUDIT_HASH_LEN + 1],
    char *why, size_t whylen)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt = NULL;
	char		 prev[AUDIT_HASH_LEN + 1];
	const char	*h;
	int64_t		 n = 0;
	int		 rc, own, ret = -1;

	*nrows = 0;
	*bad_id = 0;
	why[0] = '\0';
	audit_zero(prev);
	audit_zero(head);
	/* One read transaction: the walk and the tail see one snapshot. */
	own = sqlite3_get_autocommit(db);
	if (own && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "audit: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_prepare_v2(db, "SELECT " AUDIT_COLUMNS " FROM audit "
	    "ORDER BY id", -1, &stmt, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "audit: %s", sqlite3_errmsg(db));
		goto out;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (audit_verify_row(stmt, n + 1, prev, why, whylen) != 0) {
			*bad_id = sqlite3_column_int64(stmt, 0);
			ret = 1;
			goto out;
		}
		h = (const char *)sqlite3_column_text(stmt, 9);
		strlcpy(prev, h, sizeof(prev));
		n++;
		*nrows = n;
		if (n == anchor_id && strncmp(h, anchor, strlen(anchor)) != 0) {
			*bad_id = n;
			snprintf(why, whylen, "its hash is %.16s..., not the "
			    "anchor %.16s...: this row or one before it was "
			    "rewritten, and the hashes after it recomputed",
			    h, anchor);
			ret = 1;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		snprintf(why, whylen, "audit: %s", sqlite3_errmsg(db));
		goto out;
	}
	strlcpy(head, prev, AUDIT_HASH_LEN + 1);
	ret = audit_verify_tail(db, n, bad_id, why, whylen);
	if (ret == 0 && anchor_id > n) {
		*bad_id = anchor_id;
		snprintf(why, whylen, "the anchor's row %lld is not in the "
		    "trail, which ends at row %lld: rows were removed",
		    (long long)anchor_id, (long long)n);
		ret = 1;
	}
 out:
	sqlite3_finalize(stmt);
	if (own)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return ret;
}
