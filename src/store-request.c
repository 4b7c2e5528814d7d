/*
 * store-request.c: vendors' access requests, the decisions on them, and
 * the grants (windows outside the policy's schedule) they give.
 *
 * A request moves once from pending to approved, denied, cancelled or
 * expired; the UPDATE names the state it leaves, so two administrators
 * deciding at once cannot both win.  A grant is revoked at most once.
 * No row is ever deleted: who asked, why, who decided and what they said
 * stays queryable after the window is over.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "portier.h"
#include "store.h"

#define RQ_COLUMNS \
	"r.id, r.user, u.vendor, r.target, r.reason, r.duration, " \
	"coalesce(r.starts, 0), r.emergency, r.state, r.created, " \
	"r.source, r.session, r.decided_by, coalesce(r.decided_at, 0), " \
	"r.decision_note, r.reviewed_by, coalesce(r.reviewed_at, 0), " \
	"r.review_note, coalesce(g.id, 0), coalesce(g.starts, 0), " \
	"coalesce(g.ends, 0)"
#define RQ_FROM \
	" FROM requests r JOIN users u ON u.name = r.user " \
	"LEFT JOIN grants g ON g.request = r.id "

#define GR_COLUMNS \
	"id, coalesce(request, 0), user, vendor, target, starts, ends, " \
	"emergency, created, created_by, revoked_by, " \
	"coalesce(revoked_at, 0), revoke_reason"

static void
rq_read(sqlite3_stmt *stmt, struct store_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->rq_id = sqlite3_column_int64(stmt, 0);
	store_col_str(stmt, 1, rq->rq_user, sizeof(rq->rq_user));
	store_col_str(stmt, 2, rq->rq_vendor, sizeof(rq->rq_vendor));
	store_col_str(stmt, 3, rq->rq_target, sizeof(rq->rq_target));
	store_col_str(stmt, 4, rq->rq_reason, sizeof(rq->rq_reason));
	rq->rq_duration = sqlite3_column_int64(stmt, 5);
	rq->rq_starts = sqlite3_column_int64(stmt, 6);
	rq->rq_emergency = sqlite3_column_int(stmt, 7);
	store_col_str(stmt, 8, rq->rq_state, sizeof(rq->rq_state));
	rq->rq_created = sqlite3_column_int64(stmt, 9);
	store_col_str(stmt, 10, rq->rq_source, sizeof(rq->rq_source));
	store_col_str(stmt, 11, rq->rq_session, sizeof(rq->rq_session));
	store_col_str(stmt, 12, rq->rq_decided_by, sizeof(rq->rq_decided_by));
	rq->rq_decided_at = sqlite3_column_int64(stmt, 13);
	store_col_str(stmt, 14, rq->rq_note, sizeof(rq->rq_note));
	store_col_str(stmt, 15, rq->rq_reviewed_by,
	    sizeof(rq->rq_reviewed_by));
	rq->rq_reviewed_at = sqlite3_column_int64(stmt, 16);
	store_col_str(stmt, 17, rq->rq_review_note,
	    sizeof(rq->rq_review_note));
	rq->rq_grant = sqlite3_column_int64(stmt, 18);
	rq->rq_grant_starts = sqlite3_column_int64(stmt, 19);
	rq->rq_grant_ends = sqlite3_column_int64(stmt, 20);
}

static void
gr_read(sqlite3_stmt *stmt, struct store_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->gr_id = sqlite3_column_int64(stmt, 0);
	g->gr_request = sqlite3_column_int64(stmt, 1);
	store_col_str(stmt, 2, g->gr_user, sizeof(g->gr_user));
	store_col_str(stmt, 3, g->gr_vendor, sizeof(g->gr_vendor));
	store_col_str(stmt, 4, g->gr_target, sizeof(g->gr_target));
	g->gr_starts = sqlite3_column_int64(stmt, 5);
	g->gr_ends = sqlite3_column_int64(stmt, 6);
	g->gr_emergency = sqlite3_column_int(stmt, 7);
	g->gr_created = sqlite3_column_int64(stmt, 8);
	store_col_str(stmt, 9, g->gr_created_by, sizeof(g->gr_created_by));
	store_col_str(stmt, 10, g->gr_revoked_by, sizeof(g->gr_revoked_by));
	g->gr_revoked_at = sqlite3_column_int64(stmt, 11);
	store_col_str(stmt, 12, g->gr_revoke_reason,
	    sizeof(g->gr_revoke_reason));
}

/* Empty strings are stored as NULL. */
static const char *
nz(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int
store_request_add(struct store *st, struct store_request *rq)
{
	int	 rc;

	rq->rq_created = store_now();
	rc = store_run(st, NULL, "INSERT INTO requests (user, target, reason, "
	    "duration, starts, emergency, created, source, session) "
	    "VALUES (?, ?, ?, ?, nullif(?, 0), ?, ?, ?, ?)", "sssIIdIss",
	    rq->rq_user, rq->rq_target, rq->rq_reason, rq->rq_duration,
	    rq->rq_starts, rq->rq_emergency, rq->rq_created,
	    nz(rq->rq_source), nz(rq->rq_session));
	if (rc == STORE_OK)
		rq->rq_id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

int
store_request_get(struct store *st, int64_t id, struct store_request *rq)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	rc = store_row(st, &stmt, "SELECT " RQ_COLUMNS RQ_FROM
	    "WHERE r.id = ?", "I", id);
	if (rc == STORE_NOENT)
		store_seterr(st, "no request #%lld", (long long)id);
	if (rc != STORE_OK)
		return rc;
	rq_read(stmt, rq);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

int
store_request_decide(struct store *st, int64_t id, const char *state,
    const char *by, const char *note)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE requests SET state = ?, "
	    "decided_by = ?, decided_at = max(?, created), "
	    "decision_note = ? WHERE id = ? AND state = 'pending'", "ssIsI",
	    state, by, store_now(), nz(note), id);
	if (rc == STORE_OK && n == 0) {
		store_seterr(st, "request #%lld is not pending", (long long)id);
		return STORE_REFUSED;
	}
	return rc;
}

int
store_request_review(struct store *st, int64_t id, const char *by,
    const char *note)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE requests SET reviewed_by = ?, "
	    "reviewed_at = ?, review_note = ? WHERE id = ? AND "
	    "emergency = 1 AND reviewed_at IS NULL", "sIsI", by, store_now(),
	    nz(note), id);
	if (rc == STORE_OK && n == 0) {
		store_seterr(st, "request #%lld is no emergency waiting for "
		    "review", (long long)id);
		return STORE_REFUSED;
	}
	return rc;
}

struct rq_walker {
	int	 (*w_cb)(const struct store_request *, void *);
	void	*w_arg;
};

static int
rq_row(sqlite3_stmt *stmt, void *arg)
{
	struct rq_walker	*w = arg;
	struct store_request	 rq;

	rq_read(stmt, &rq);
	return w->w_cb(&rq, w->w_arg);
}

static int
rq_walk(struct store *st, sqlite3_stmt *stmt, int rc,
    int (*cb)(const struct store_request *, void *), void *arg)
{
	struct rq_walker	 w = { cb, arg };

	return store_walk(st, stmt, rc, "requests", rq_row, &w);
}

int
store_request_list(struct store *st, int filter, const char *user,
    int64_t since, int limit,
    int (*cb)(const struct store_request *, void *), void *arg)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc;

	rc = store_row(st, &stmt, "SELECT " RQ_COLUMNS RQ_FROM
	    "WHERE (?1 IS NULL OR r.user = ?1) AND r.created >= ?2 "
	    "AND ((?3 & 1) = 0 OR r.state = 'pending') "
	    "AND ((?3 & 2) = 0 OR (r.emergency = 1 AND r.reviewed_at IS NULL)) "
	    "ORDER BY r.id DESC LIMIT ?4", "sIdd", user, since, filter,
	    limit > 0 ? limit : -1);
	return rq_walk(st, stmt, rc, cb, arg);
}

int
store_request_stale(struct store *st, int64_t now,
    int (*cb)(const struct store_request *, void *), void *arg)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc;

	/*
	 * A request for a set time is stale once that window is over; one
	 * for "as soon as approved" after a day without an answer.
	 */
	rc = store_row(st, &stmt, "SELECT " RQ_COLUMNS RQ_FROM
	    "WHERE r.state = 'pending' AND ((r.starts IS NOT NULL AND "
	    "r.starts + r.duration <= ?1) OR (r.starts IS NULL AND "
	    "r.created + 86400 <= ?1)) ORDER BY r.id", "I", now);
	return rq_walk(st, stmt, rc, cb, arg);
}

int
store_grant_add(struct store *st, struct store_grant *g)
{
	int	 rc;

	g->gr_created = store_now();
	rc = store_run(st, NULL, "INSERT INTO grants (request, user, vendor, "
	    "target, starts, ends, emergency, created, created_by) VALUES "
	    "(nullif(?, 0), ?, ?, ?, ?, ?, ?, ?, ?)", "IsssIIdIs",
	    g->gr_request, nz(g->gr_user),
	    nz(g->gr_user) != NULL ? NULL : nz(g->gr_vendor), g->gr_target,
	    g->gr_starts, g->gr_ends, g->gr_emergency, g->gr_created,
	    g->gr_created_by);
	if (rc == STORE_OK)
		g->gr_id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

int
store_grant_get(struct store *st, int64_t id, struct store_grant *g)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	rc = store_row(st, &stmt, "SELECT " GR_COLUMNS " FROM grants "
	    "WHERE id = ?", "I", id);
	if (rc == STORE_NOENT)
		store_seterr(st, "no grant #%lld", (long long)id);
	if (rc != STORE_OK)
		return rc;
	gr_read(stmt, g);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

int
store_grant_find(struct store *st, const char *user, const char *vendor,
    const char *target, int64_t now, int which, struct store_grant *g)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (which == STORE_GRANT_NOW)
		rc = store_row(st, &stmt, "SELECT " GR_COLUMNS " FROM grants "
		    "WHERE (user = ?1 OR vendor = ?2) AND target = ?3 AND "
		    "revoked_at IS NULL AND starts <= ?4 AND ends > ?4 "
		    "ORDER BY ends DESC LIMIT 1", "sssI", user, vendor,
		    target, now);
	else
		rc = store_row(st, &stmt, "SELECT " GR_COLUMNS " FROM grants "
		    "WHERE (user = ?1 OR vendor = ?2) AND target = ?3 AND "
		    "revoked_at IS NULL AND starts > ?4 "
		    "ORDER BY starts LIMIT 1", "sssI", user, vendor, target,
		    now);
	if (rc != STORE_OK)
		return rc;
	gr_read(stmt, g);
	sqlite3_finalize(stmt);
	return STORE_OK;
}

int
store_grant_revoke(struct store *st, int64_t id, const char *by,
    const char *reason)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE grants SET revoked_by = ?, "
	    "revoked_at = ?, revoke_reason = ? "
	    "WHERE id = ? AND revoked_at IS NULL AND ends > ?", "sIsII",
	    by, store_now(), reason, id, store_now());
	if (rc == STORE_OK && n == 0) {
		store_seterr(st, "grant #%lld is revoked or over already",
		    (long long)id);
		return STORE_REFUSED;
	}
	return rc;
}

struct gr_walker {
	int	 (*w_cb)(const struct store_grant *, void *);
	void	*w_arg;
};

static int
gr_row(sqlite3_stmt *stmt, void *arg)
{
	struct gr_walker	*w = arg;
	struct store_grant	 g;

	gr_read(stmt, &g);
	return w->w_cb(&g, w->w_arg);
}

int
store_grant_list(struct store *st, int all, int64_t now,
    int (*cb)(const struct store_grant *, void *), void *arg)
{
	struct gr_walker	 w = { cb, arg };
	sqlite3_stmt		*stmt = NULL;
	int			 rc;

	rc = store_row(st, &stmt, "SELECT " GR_COLUMNS " FROM grants "
	    "WHERE ?1 OR (revoked_at IS NULL AND ends > ?2) "
	    "ORDER BY id DESC", "dI", all, now);
	return store_walk(st, stmt, rc, "grants", gr_row, &w);
}
