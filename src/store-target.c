/*
 * store-target.c: what the store knows of each target: the pin of its
 * host key, trusted by an administrator, and the credentials Portier logs
 * in with, sealed by vault.c before they get here.
 *
 * The configuration names targets; the daemon adds each one here so that
 * pins, credentials, requests and grants can refer to it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "portier.h"
#include "store.h"

int
store_target_add(struct store *st, const char *name)
{
	return store_run(st, NULL,
	    "INSERT INTO targets (name, created) VALUES (?, ?)",
	    "sI", name, store_now());
}

int
store_target_pin_set(struct store *st, const char *target,
    const struct store_pin *p)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE targets SET hostkey_type = ?, "
	    "hostkey_sha256 = ?, hostkey_blob = ?, trusted_by = ?, "
	    "trusted_at = ? WHERE name = ?", "ssssIs", p->sp_type,
	    p->sp_sha256, p->sp_blob, p->sp_trusted_by,
	    p->sp_trusted_at != 0 ? p->sp_trusted_at : store_now(), target);
	return store_touched(st, rc, n, "target", target);
}

int
store_target_pin_get(struct store *st, const char *target,
    struct store_pin *p)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(p, 0, sizeof(*p));
	rc = store_row(st, &stmt, "SELECT hostkey_type, hostkey_sha256, "
	    "hostkey_blob, trusted_by, trusted_at FROM targets "
	    "WHERE name = ? AND hostkey_type IS NOT NULL", "s", target);
	if (rc == STORE_NOENT)
		store_seterr(st, "target not pinned: %s", target);
	if (rc != STORE_OK)
		return rc;
	store_col_str(stmt, 0, p->sp_type, sizeof(p->sp_type));
	store_col_str(stmt, 1, p->sp_sha256, sizeof(p->sp_sha256));
	store_col_str(stmt, 2, p->sp_blob, sizeof(p->sp_blob));
	store_col_str(stmt, 3, p->sp_trusted_by, sizeof(p->sp_trusted_by));
	p->sp_trusted_at = sqlite3_column_int64(stmt, 4);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

static const char *
store_cred_kind_name(enum store_cred_kind kind)
{
	switch (kind) {
	case STORE_CRED_PASSWORD:
		return "password";
	case STORE_CRED_KEY:
		return "key";
	}
	return NULL;
}

int
store_cred_set(struct store *st, const char *target, const char *account,
    enum store_cred_kind kind, const uint8_t *sealed, size_t sealedlen)
{
	int	 rc;

	if (store_cred_kind_name(kind) == NULL)
		return store_seterr(st, "credential kind %d unknown", kind);
	rc = store_run(st, NULL, "INSERT INTO target_credentials (target, "
	    "account, kind, sealed, updated) VALUES (?, ?, ?, ?, ?) "
	    "ON CONFLICT (target, account) DO UPDATE SET kind = excluded.kind,"
	    " sealed = excluded.sealed, updated = excluded.updated", "sssbI",
	    target, account, store_cred_kind_name(kind), sealed, sealedlen,
	    store_now());
	if (rc == STORE_NOENT)
		store_seterr(st, "no such target: %s", target);
	return rc;
}

int
store_cred_get(struct store *st, const char *target, const char *account,
    enum store_cred_kind *kind, uint8_t **sealed, size_t *sealedlen)
{
	sqlite3_stmt	*stmt;
	const char	*k;
	int		 rc;

	*sealed = NULL;
	*sealedlen = 0;
	rc = store_row(st, &stmt, "SELECT kind, sealed FROM target_credentials "
	    "WHERE target = ? AND account = ?", "ss", target, account);
	if (rc == STORE_NOENT)
		store_seterr(st, "no credential for %s on %s", account, target);
	if (rc != STORE_OK)
		return rc;
	k = (const char *)sqlite3_column_text(stmt, 0);
	*kind = k != NULL && strcmp(k, "key") == 0 ? STORE_CRED_KEY :
	    STORE_CRED_PASSWORD;
	store_col_blob(stmt, 1, sealed, sealedlen);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

int
store_cred_del(struct store *st, const char *target, const char *account)
{
	int	 rc, n;

	rc = store_run(st, &n, "DELETE FROM target_credentials WHERE "
	    "target = ? AND account = ?", "ss", target, account);
	return store_touched(st, rc, n, "credential on target", target);
}

