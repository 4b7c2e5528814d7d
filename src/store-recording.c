/*
 * store-recording.c: what the store keeps of each session's recording:
 * where it is, its seal (size and SHA-256, as the recorder reported them
 * and the audit trail holds them), a legal hold, and its purge.
 *
 * A held recording is never purged.  A purged one keeps its row and its
 * seal: the audit trail and this table still say what it was.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "portier.h"
#include "store.h"

#define SR_COLUMNS \
	"sid, coalesce(user, ''), coalesce(vendor, ''), " \
	"coalesce(target, ''), source, coalesce(recording, ''), rec_state, " \
	"coalesce(rec_sha256, ''), started, coalesce(ended, 0), " \
	"coalesce(rec_bytes, 0), coalesce(rec_hold_by, ''), " \
	"coalesce(rec_hold_at, 0), coalesce(rec_hold_reason, ''), " \
	"coalesce(rec_purged_at, 0)"

static void
sr_read(sqlite3_stmt *stmt, struct store_recording *sr)
{
	memset(sr, 0, sizeof(*sr));
	store_col_str(stmt, 0, sr->sr_sid, sizeof(sr->sr_sid));
	store_col_str(stmt, 1, sr->sr_user, sizeof(sr->sr_user));
	store_col_str(stmt, 2, sr->sr_vendor, sizeof(sr->sr_vendor));
	store_col_str(stmt, 3, sr->sr_target, sizeof(sr->sr_target));
	store_col_str(stmt, 4, sr->sr_source, sizeof(sr->sr_source));
	store_col_str(stmt, 5, sr->sr_path, sizeof(sr->sr_path));
	store_col_str(stmt, 6, sr->sr_state, sizeof(sr->sr_state));
	store_col_str(stmt, 7, sr->sr_sha256, sizeof(sr->sr_sha256));
	sr->sr_started = sqlite3_column_int64(stmt, 8);
	sr->sr_ended = sqlite3_column_int64(stmt, 9);
	sr->sr_bytes = sqlite3_column_int64(stmt, 10);
	store_col_str(stmt, 11, sr->sr_hold_by, sizeof(sr->sr_hold_by));
	sr->sr_hold_at = sqlite3_column_int64(stmt, 12);
	store_col_str(stmt, 13, sr->sr_hold_reason,
	    sizeof(sr->sr_hold_reason));
	sr->sr_purged_at = sqlite3_column_int64(stmt, 14);
}

int
store_recording_sealed(struct store *st, const char *sid, const char *path,
    int ok, int64_t bytes, const char *sha256)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE sessions SET recording = ?, "
	    "rec_state = ?, rec_bytes = ?, rec_sha256 = ? WHERE sid = ?",
	    "ssIss", path, ok ? "sealed" : "failed", bytes, sha256, sid);
	return store_touched(st, rc, n, "session", sid);
}

int
store_recording_get(struct store *st, const char *sid,
    struct store_recording *sr)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	rc = store_row(st, &stmt, "SELECT " SR_COLUMNS " FROM sessions "
	    "WHERE sid = ? AND rec_state IS NOT NULL", "s", sid);
	if (rc == STORE_NOENT)
		store_seterr(st, "no recording of session %s", sid);
	if (rc != STORE_OK)
		return rc;
	sr_read(stmt, sr);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

struct sr_walker {
	int	 (*w_cb)(const struct store_recording *, void *);
	void	*w_arg;
};

static int
sr_row(sqlite3_stmt *stmt, void *arg)
{
	struct sr_walker	*w = arg;
	struct store_recording	 sr;

	sr_read(stmt, &sr);
	return w->w_cb(&sr, w->w_arg);
}

static int
sr_walk(struct store *st, sqlite3_stmt *stmt, int rc,
    int (*cb)(const struct store_recording *, void *), void *arg)
{
	struct sr_walker	 w = { cb, arg };

	return store_walk(st, stmt, rc, "recordings", sr_row, &w);
}

int
store_recording_list(struct store *st, const char *vendor,
    const char *target, int64_t since, int limit,
    int (*cb)(const struct store_recording *, void *), void *arg)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc;

	rc = store_row(st, &stmt, "SELECT " SR_COLUMNS " FROM sessions "
	    "WHERE rec_state IS NOT NULL AND (coalesce(?1, '') = '' OR "
	    "vendor = ?1) AND (coalesce(?2, '') = '' OR target = ?2) AND "
	    "started >= ?3 ORDER BY started DESC LIMIT ?4", "ssId", vendor,
	    target, since, limit > 0 ? limit : -1);
	return sr_walk(st, stmt, rc, cb, arg);
}

int
store_recording_hold(struct store *st, const char *sid, const char *by,
    const char *reason)
{
	struct store_recording	 sr;
	int			 rc, n;

	if ((rc = store_recording_get(st, sid, &sr)) != STORE_OK)
		return rc;
	if (strcmp(sr.sr_state, "purged") == 0) {
		store_seterr(st, "the recording of %s was purged", sid);
		return STORE_REFUSED;
	}
	rc = store_run(st, &n, "UPDATE sessions SET rec_hold_by = ?, "
	    "rec_hold_at = CASE WHEN ?1 IS NULL THEN NULL ELSE ? END, "
	    "rec_hold_reason = ? WHERE sid = ?", "sIss", by, store_now(),
	    reason, sid);
	return store_touched(st, rc, n, "session", sid);
}

int
store_recording_expired(struct store *st, int64_t before, int limit,
    int (*cb)(const struct store_recording *, void *), void *arg)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc;

	rc = store_row(st, &stmt, "SELECT " SR_COLUMNS " FROM sessions "
	    "WHERE rec_state IN ('sealed', 'failed') AND rec_hold_at IS NULL "
	    "AND coalesce(ended, started) < ? ORDER BY started LIMIT ?",
	    "Id", before, limit);
	return sr_walk(st, stmt, rc, cb, arg);
}

int
store_recording_purged(struct store *st, const char *sid)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE sessions SET rec_state = 'purged', "
	    "rec_purged_at = ? WHERE sid = ? AND rec_hold_at IS NULL", "Is",
	    store_now(), sid);
	return store_touched(st, rc, n, "unheld recording", sid);
}
