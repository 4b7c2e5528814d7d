/*
 * store-user.c: the people in the store: vendors, their users, the users'
 * public keys and TOTP enrolments, and the counters behind lockouts.
 *
 * The configuration names vendors; the daemon adds each one here so that
 * users can refer to it.  A failed login, a lockout and a TOTP step are
 * each one UPDATE, so two sessions of one user cannot both pass a limit.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "portier.h"
#include "store.h"

/* ---- vendors and users --------------------------------------------------- */

int
store_vendor_add(struct store *st, const char *name)
{
	return store_run(st, NULL,
	    "INSERT INTO vendors (name, created) VALUES (?, ?)",
	    "sI", name, store_now());
}

int
store_user_add(struct store *st, const char *name, const char *vendor,
    const char *fullname)
{
	int	 rc;

	rc = store_run(st, NULL, "INSERT INTO users (name, vendor, full_name, "
	    "created) VALUES (?, ?, ?, ?)", "sssI", name, vendor, fullname,
	    store_now());
	if (rc == STORE_NOENT)
		store_seterr(st, "no such vendor: %s", vendor);
	return rc;
}

#define SU_COLUMNS	"name, vendor, full_name, created, disabled, " \
			"locked_until, failures, lockouts_today, lockout_day"

static void
su_read(sqlite3_stmt *stmt, struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	store_col_str(stmt, 0, u->su_name, sizeof(u->su_name));
	store_col_str(stmt, 1, u->su_vendor, sizeof(u->su_vendor));
	store_col_str(stmt, 2, u->su_fullname, sizeof(u->su_fullname));
	u->su_created = sqlite3_column_int64(stmt, 3);
	u->su_disabled = sqlite3_column_int(stmt, 4);
	u->su_locked_until = sqlite3_column_int64(stmt, 5);
	u->su_failures = sqlite3_column_int(stmt, 6);
	u->su_lockouts_today = sqlite3_column_int(stmt, 7);
	u->su_lockout_day = sqlite3_column_int(stmt, 8);
}

int
store_user_get(struct store *st, const char *name, struct store_user *u)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(u, 0, sizeof(*u));
	rc = store_row(st, &stmt, "SELECT " SU_COLUMNS " FROM users "
	    "WHERE name = ?", "s", name);
	if (rc != STORE_OK)
		return rc;
	su_read(stmt, u);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

struct su_walker {
	int	 (*w_cb)(const struct store_user *, void *);
	void	*w_arg;
};

static int
su_row(sqlite3_stmt *stmt, void *arg)
{
	struct su_walker	*w = arg;
	struct store_user	 u;

	su_read(stmt, &u);
	return w->w_cb(&u, w->w_arg);
}

int
store_user_list(struct store *st,
    int (*cb)(const struct store_user *, void *), void *arg)
{
	struct su_walker	 w = { cb, arg };
	sqlite3_stmt		*stmt = NULL;
	int			 rc;

	rc = store_row(st, &stmt, "SELECT " SU_COLUMNS " FROM users "
	    "ORDER BY vendor, name", "");
	return store_walk(st, stmt, rc, "users", su_row, &w);
}

int
store_user_disable(struct store *st, const char *name, int disabled)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE users SET disabled = ? WHERE name = ?",
	    "ds", disabled != 0, name);
	return store_touched(st, rc, n, "user", name);
}

/* An UPDATE ... RETURNING one integer about user NAME. */
static int
store_user_value(struct store *st, const char *name, int *val, int rc,
    int64_t v)
{
	if (rc == STORE_NOENT)
		store_seterr(st, "no such user: %s", name);
	else if (rc == STORE_OK)
		*val = (int)v;
	return rc;
}

int
store_user_fail(struct store *st, const char *name, int *failures)
{
	int64_t	 v = 0;
	int	 rc;

	rc = store_row_int(st, &v, "UPDATE users SET failures = failures + 1 "
	    "WHERE name = ? RETURNING failures", "s", name);
	return store_user_value(st, name, failures, rc, v);
}

int
store_user_lockout(struct store *st, const char *name, int64_t until,
    int day, int *lockouts)
{
	int64_t	 v = 0;
	int	 rc;

	/* SET expressions see the row as it was before the UPDATE. */
	rc = store_row_int(st, &v, "UPDATE users SET locked_until = ?2, "
	    "failures = 0, lockouts_today = CASE WHEN lockout_day = ?3 "
	    "THEN lockouts_today + 1 ELSE 1 END, lockout_day = ?3 "
	    "WHERE name = ?1 RETURNING lockouts_today", "sId", name, until,
	    day);
	return store_user_value(st, name, lockouts, rc, v);
}

int
store_user_reset_failures(struct store *st, const char *name)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE users SET failures = 0 WHERE name = ?",
	    "s", name);
	return store_touched(st, rc, n, "user", name);
}

int
store_user_unlock(struct store *st, const char *name)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE users SET failures = 0, "
	    "locked_until = 0 WHERE name = ?", "s", name);
	return store_touched(st, rc, n, "user", name);
}

int
store_user_key_add(struct store *st, const char *user, const char *type,
    const char *blob, const char *comment)
{
	int	 rc;

	rc = store_run(st, NULL, "INSERT INTO user_keys (user, key_type, "
	    "key_blob, comment, added) VALUES (?, ?, ?, ?, ?)", "ssssI",
	    user, type, blob, comment, store_now());
	if (rc == STORE_NOENT)
		store_seterr(st, "no such user: %s", user);
	else if (rc == STORE_EXISTS)
		store_seterr(st, "this %s key is already registered", type);
	return rc;
}

int
store_user_key_del(struct store *st, const char *user, const char *type,
    const char *blob)
{
	int	 rc, n;

	rc = store_run(st, &n, "DELETE FROM user_keys WHERE user = ? AND "
	    "key_type = ? AND key_blob = ?", "sss", user, type, blob);
	return store_touched(st, rc, n, "key for user", user);
}

int
store_user_key_find(struct store *st, const char *type, const char *blob,
    char user[STORE_NAME_MAX + 1])
{
	sqlite3_stmt	*stmt;
	int		 rc;

	user[0] = '\0';
	rc = store_row(st, &stmt, "SELECT user FROM user_keys WHERE "
	    "key_type = ? AND key_blob = ?", "ss", type, blob);
	if (rc != STORE_OK)
		return rc;
	store_col_str(stmt, 0, user, STORE_NAME_MAX + 1);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

/* ---- TOTP ---------------------------------------------------------------- */

int
store_totp_set(struct store *st, const char *user, const uint8_t *sealed,
    size_t sealedlen)
{
	int	 rc;

	rc = store_run(st, NULL, "INSERT INTO totp (user, sealed_seed, "
	    "confirmed, last_used_step, created) VALUES (?, ?, 0, 0, ?) "
	    "ON CONFLICT (user) DO UPDATE SET "
	    "sealed_seed = excluded.sealed_seed, confirmed = 0, "
	    "last_used_step = 0, created = excluded.created",
	    "sbI", user, sealed, sealedlen, store_now());
	if (rc == STORE_NOENT)
		store_seterr(st, "no such user: %s", user);
	return rc;
}

int
store_totp_get(struct store *st, const char *user, struct store_totp *t)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(t, 0, sizeof(*t));
	rc = store_row(st, &stmt, "SELECT sealed_seed, confirmed, "
	    "last_used_step, created FROM totp WHERE user = ?", "s", user);
	if (rc == STORE_NOENT)
		store_seterr(st, "no TOTP enrolment for %s", user);
	if (rc != STORE_OK)
		return rc;
	store_col_blob(stmt, 0, &t->tt_sealed, &t->tt_sealedlen);
	t->tt_confirmed = sqlite3_column_int(stmt, 1);
	t->tt_last_step = sqlite3_column_int64(stmt, 2);
	t->tt_created = sqlite3_column_int64(stmt, 3);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

int
store_totp_confirm(struct store *st, const char *user)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE totp SET confirmed = 1 WHERE user = ?",
	    "s", user);
	return store_touched(st, rc, n, "TOTP enrolment for", user);
}

int
store_totp_use_step(struct store *st, const char *user, int64_t step)
{
	sqlite3_stmt	*stmt;
	int		 rc, n;

	/* The test and the update are one statement: no race can pass. */
	rc = store_run(st, &n, "UPDATE totp SET last_used_step = ?2 "
	    "WHERE user = ?1 AND last_used_step < ?2", "sI", user, step);
	if (rc != STORE_OK || n == 1)
		return rc;
	rc = store_row(st, &stmt, "SELECT 1 FROM totp WHERE user = ?", "s",
	    user);
	if (rc == STORE_NOENT)
		store_seterr(st, "no TOTP enrolment for %s", user);
	if (rc != STORE_OK)
		return rc;
	sqlite3_finalize(stmt);
	store_seterr(st, "TOTP step already used: %s", user);
	return STORE_REFUSED;
}

int
store_totp_del(struct store *st, const char *user)
{
	int	 rc, n;

	rc = store_run(st, &n, "DELETE FROM totp WHERE user = ?", "s", user);
	return store_touched(st, rc, n, "TOTP enrolment for", user);
}

