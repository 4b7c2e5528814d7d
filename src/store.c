/*
 * store.c: opening the SQLite file that holds Portier's state.
 *
 * store_open() opens or creates the file (mode 0600, no symlink), sets the
 * pragmas the monitor relies on (WAL, foreign keys, a busy timeout, full
 * sync) and migrates the schema forward: PRAGMA user_version says how many
 * of store_schema[] (store-schema.c) have run, and each runs in its own
 * transaction.  Below that, the statement helpers the store-*.c files
 * share: each of their functions is one or two statements.  Nothing here
 * logs; errors are kept for store_error().
 */
#include "config.h"

#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "portier.h"
#include "store.h"

struct store {
	sqlite3		*st_db;
	char		 st_err[256];
};

/* Each pragma is set, then read back: a silent no-op is an error. */
static const struct {
	const char	*name;
	const char	*set;
	const char	*want;
} store_pragmas[] = {
	{ "busy_timeout",	"5000",	"5000" },	/* first: WAL waits */
	{ "journal_mode",	"WAL",	"wal" },
	{ "foreign_keys",	"ON",	"1" },
	{ "synchronous",	"FULL",	"2" },		/* the audit trail */
	{ "secure_delete",	"ON",	"1" },		/* zero deleted rows */
	{ "trusted_schema",	"OFF",	"0" },
};

static int	store_exec(struct store *, const char *);

int
store_seterr(struct store *st, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(st->st_err, sizeof(st->st_err), fmt, ap);
	va_end(ap);
	return STORE_ERR;
}

static int
store_sqlerr(struct store *st, const char *what)
{
	return store_seterr(st, "%s: %s", what, sqlite3_errmsg(st->st_db));
}

const char *
store_error(struct store *st)
{
	return st->st_err;
}

sqlite3 *
store_db(struct store *st)
{
	return st->st_db;
}

static int
store_exec(struct store *st, const char *sql)
{
	if (sqlite3_exec(st->st_db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(st, "store");
	return STORE_OK;
}

/* Prepare SQL and bind its parameters as FMT says (see store.h). */
static int
store_vprepare(struct store *st, sqlite3_stmt **stmtp, const char *sql,
    const char *fmt, va_list ap)
{
	sqlite3_stmt	*stmt;
	const char	*s;
	const void	*p;
	size_t		 len;
	int		 i, rc = SQLITE_OK;

	if (sqlite3_prepare_v2(st->st_db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return store_sqlerr(st, "prepare");
	for (i = 1; *fmt != '\0' && rc == SQLITE_OK; fmt++, i++) {
		switch (*fmt) {
		case 's':
			if ((s = va_arg(ap, const char *)) == NULL)
				rc = sqlite3_bind_null(stmt, i);
			else
				rc = sqlite3_bind_text(stmt, i, s, -1,
				    SQLITE_STATIC);
			break;
		case 'I':
			rc = sqlite3_bind_int64(stmt, i, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_int(stmt, i, va_arg(ap, int));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(stmt, i, p, len,
			    SQLITE_STATIC);
			break;
		default:
			rc = SQLITE_MISUSE;
			break;
		}
	}
	if (rc != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return store_seterr(st, "bind: %s", sqlite3_errstr(rc));
	}
	*stmtp = stmt;
	return STORE_OK;
}

/* What a failed step means to a caller. */
static int
store_steperr(struct store *st, int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		store_seterr(st, "already exists");
		return STORE_EXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		store_seterr(st, "refers to a missing row");
		return STORE_NOENT;
	default:
		return store_sqlerr(st, "store");
	}
}

int
store_run(struct store *st, int *changes, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*stmt;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = store_vprepare(st, &stmt, sql, fmt, ap);
	va_end(ap);
	if (rc != STORE_OK)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		if (changes != NULL)
			*changes = sqlite3_changes(st->st_db);
		rc = STORE_OK;
	} else
		rc = store_steperr(st, rc);
	sqlite3_finalize(stmt);
	return rc;
}

/* STORE_OK leaves *STMTP on the row, for the caller to finalize. */
int
store_row(struct store *st, sqlite3_stmt **stmtp, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*stmt;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = store_vprepare(st, &stmt, sql, fmt, ap);
	va_end(ap);
	if (rc != STORE_OK)
		return rc;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*stmtp = stmt;
		return STORE_OK;
	}
	rc = rc == SQLITE_DONE ? STORE_NOENT : store_steperr(st, rc);
	if (rc == STORE_NOENT)
		store_seterr(st, "not found");
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * Step through the rest of a store_row() result (RC is what it
 * returned), handing each row to ROW until it returns non-zero, which is
 * then returned.  No row is STORE_OK.  WHAT names the table in errors.
 */
int
store_walk(struct store *st, sqlite3_stmt *stmt, int rc, const char *what,
    int (*row)(sqlite3_stmt *, void *), void *arg)
{
	int	 stop = 0;

	if (rc == STORE_NOENT)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	do {
		stop = row(stmt, arg);
	} while (stop == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW);
	sqlite3_finalize(stmt);
	if (stop != 0)
		return stop;
	if (rc != SQLITE_DONE)
		return store_seterr(st, "%s: %s", what, sqlite3_errstr(rc));
	return STORE_OK;
}

/* An UPDATE ... RETURNING is complete once stepped to its end. */
int
store_row_done(struct store *st, sqlite3_stmt *stmt)
{
	int	 rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_steperr(st, rc);
	return STORE_OK;
}

int
store_row_int(struct store *st, int64_t *v, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*stmt;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = store_vprepare(st, &stmt, sql, fmt, ap);
	va_end(ap);
	if (rc != STORE_OK)
		return rc;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*v = sqlite3_column_int64(stmt, 0);
		return store_row_done(st, stmt);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_steperr(st, rc);
	store_seterr(st, "not found");
	return STORE_NOENT;
}

void
store_col_str(sqlite3_stmt *stmt, int col, char *buf, size_t bufsz)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	strlcpy(buf, s != NULL ? (const char *)s : "", bufsz);
}

/* A blob column, copied; a zero-length one comes back as NULL, 0. */
void
store_col_blob(sqlite3_stmt *stmt, int col, uint8_t **out, size_t *outlen)
{
	const void	*p = sqlite3_column_blob(stmt, col);
	int		 n = sqlite3_column_bytes(stmt, col);

	*out = NULL;
	*outlen = 0;
	if (p == NULL || n <= 0)
		return;
	*out = xmalloc(n);
	memcpy(*out, p, n);
	*outlen = n;
}

int64_t
store_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- opening and migrating ----------------------------------------------- */

static int
store_pragmas_set(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt	*stmt;
	char		 sql[128];
	const char	*got;
	size_t		 i;
	int		 ok;

	for (i = 0; i < sizeof(store_pragmas) / sizeof(store_pragmas[0]); i++) {
		snprintf(sql, sizeof(sql), "PRAGMA %s = %s",
		    store_pragmas[i].name, store_pragmas[i].set);
		if (store_exec(st, sql) == STORE_ERR)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA %s", store_pragmas[i].name);
		if (sqlite3_prepare_v2(st->st_db, sql, -1, &stmt, NULL) !=
		    SQLITE_OK) {
			store_sqlerr(st, sql);
			goto fail;
		}
		got = sqlite3_step(stmt) == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(stmt, 0) : NULL;
		ok = got != NULL && strcmp(got, store_pragmas[i].want) == 0;
		sqlite3_finalize(stmt);
		if (!ok) {
			store_seterr(st, "PRAGMA %s = %s did not take",
			    store_pragmas[i].name, store_pragmas[i].set);
			goto fail;
		}
	}
	return STORE_OK;
 fail:
	snprintf(err, errlen, "%s", st->st_err);
	return STORE_ERR;
}

/* One step: schema VER + 1, inside the caller's transaction. */
static int
store_migrate_step(struct store *st, int64_t ver)
{
	sqlite3_stmt	*stmt;
	char		 sql[64];
	int		 rc;

	if (store_exec(st, store_schema[ver]) == STORE_ERR)
		return store_seterr(st, "migration to version %lld: %s",
		    (long long)ver + 1, sqlite3_errmsg(st->st_db));
	if (ver == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
		    STORE_APPLICATION_ID);
		if (store_exec(st, sql) == STORE_ERR)
			return STORE_ERR;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
	    (long long)ver + 1);
	if (store_exec(st, sql) == STORE_ERR)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->st_db, "PRAGMA foreign_key_check", -1,
	    &stmt, NULL) != SQLITE_OK)
		return store_sqlerr(st, "foreign_key_check");
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		store_seterr(st, "migration to version %lld: table %s refers "
		    "to missing rows", (long long)ver + 1,
		    (const char *)sqlite3_column_text(stmt, 0));
	else if (rc != SQLITE_DONE)
		store_sqlerr(st, "foreign_key_check");
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/*
 * Bring the schema to STORE_VERSION.  The version is read again under the
 * write lock, so two processes opening an old store migrate it once.
 */
static int
store_migrate(struct store *st, const char *path)
{
	int64_t	 ver, appid, again, nobj;

	for (;;) {
		if (store_row_int(st, &ver, "PRAGMA user_version", "") !=
		    STORE_OK || store_row_int(st, &appid,
		    "PRAGMA application_id", "") != STORE_OK)
			return STORE_ERR;
		if (ver > STORE_VERSION)
			return store_seterr(st, "%s: schema version %lld is "
			    "newer than this portier knows (%d); use a newer "
			    "portier", path, (long long)ver, STORE_VERSION);
		if (ver > 0 && appid != STORE_APPLICATION_ID)
			return store_seterr(st, "%s: not a Portier store "
			    "(application_id %lld)", path, (long long)appid);
		if (ver == STORE_VERSION)
			return STORE_OK;
		if (store_exec(st, "BEGIN IMMEDIATE") == STORE_ERR)
			return STORE_ERR;
		if (store_row_int(st, &again, "PRAGMA user_version", "") !=
		    STORE_OK)
			goto fail;
		if (again != ver) {		/* someone else migrated */
			store_exec(st, "ROLLBACK");
			continue;
		}
		if (ver == 0) {
			if (store_row_int(st, &nobj, "SELECT count(*) "
			    "FROM sqlite_master", "") != STORE_OK)
				goto fail;
			if (nobj != 0) {
				store_seterr(st, "%s: not a Portier store "
				    "(tables but no schema version)", path);
				goto fail;
			}
		}
		if (store_migrate_step(st, ver) == STORE_ERR ||
		    store_exec(st, "COMMIT") == STORE_ERR)
			goto fail;
	}
 fail:
	if (!sqlite3_get_autocommit(st->st_db))
		sqlite3_exec(st->st_db, "ROLLBACK", NULL, NULL, NULL);
	return STORE_ERR;
}

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store	*st;
	struct stat	 sb;
	mode_t		 omask;
	int		 rc;

	*out = NULL;
	st = xcalloc(1, sizeof(*st));
	omask = umask(077);
	rc = sqlite3_open_v2(path, &st->st_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	umask(omask);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, st->st_db != NULL ?
		    sqlite3_errmsg(st->st_db) : sqlite3_errstr(rc));
		goto fail;
	}
	/* The -wal and -shm files SQLite creates take this file's mode. */
	if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen, "%s: open to group or others "
		    "(mode %04o); fix with: chmod 600 %s", path,
		    (unsigned)(sb.st_mode & 07777), path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->st_db, 1);
	sqlite3_db_config(st->st_db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (store_pragmas_set(st, err, errlen) == STORE_ERR)
		goto fail;
	if (store_migrate(st, path) == STORE_ERR) {
		snprintf(err, errlen, "%s", st->st_err);
		goto fail;
	}
	st->st_err[0] = '\0';
	*out = st;
	return STORE_OK;
 fail:
	store_close(st);
	return STORE_ERR;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->st_db);
	free(st);
}

int
store_version(struct store *st)
{
	int64_t	 v;

	if (store_row_int(st, &v, "PRAGMA user_version", "") != STORE_OK)
		return STORE_ERR;
	return (int)v;
}

int
store_tx_begin(struct store *st)
{
	return store_exec(st, "BEGIN IMMEDIATE");
}

int
store_tx_commit(struct store *st)
{
	return store_exec(st, "COMMIT");
}

void
store_tx_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->st_db))
		sqlite3_exec(st->st_db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_touched(struct store *st, int rc, int changes, const char *what,
    const char *name)
{
	if (rc == STORE_OK && changes == 0) {
		store_seterr(st, "no such %s: %s", what, name);
		return STORE_NOENT;
	}
	return rc;
}

