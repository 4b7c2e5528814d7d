/*
 * store-session.c: one row per vendor connection, from accept to close.
 *
 * The row is written when the connection is accepted, completed as the
 * vendor authenticates and picks a target, and ended once.  Rows left
 * live by a crash are ended at the next start (store_session_end_all()),
 * so the live count the control process reports is true.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>

#include "portier.h"
#include "store.h"

int
store_session_begin(struct store *st, const char *sid, const char *source,
    pid_t pid)
{
	return store_run(st, NULL, "INSERT INTO sessions (sid, source, "
	    "started, pid) VALUES (?, ?, ?, ?)", "ssII", sid, source,
	    store_now(), (int64_t)pid);
}

int
store_session_set(struct store *st, const char *sid, const char *user,
    const char *vendor, const char *target, const char *recording)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE sessions SET user = coalesce(?2, user), "
	    "vendor = coalesce(?3, vendor), target = coalesce(?4, target), "
	    "recording = coalesce(?5, recording) WHERE sid = ?1", "sssss",
	    sid, user, vendor, target, recording);
	return store_touched(st, rc, n, "session", sid);
}

int
store_session_bytes(struct store *st, const char *sid, int64_t in,
    int64_t out)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE sessions SET bytes_in = ?, "
	    "bytes_out = ? WHERE sid = ?", "IIs", in, out, sid);
	return store_touched(st, rc, n, "session", sid);
}

int
store_session_end(struct store *st, const char *sid, const char *reason)
{
	int	 rc, n;

	/* max(): a clock stepped back must not break the CHECK. */
	rc = store_run(st, &n, "UPDATE sessions SET ended = max(?, started), "
	    "end_reason = ? WHERE sid = ? AND ended IS NULL", "Iss",
	    store_now(), reason, sid);
	return store_touched(st, rc, n, "live session", sid);
}

int
store_session_end_all(struct store *st, const char *reason)
{
	int	 rc, n;

	rc = store_run(st, &n, "UPDATE sessions SET ended = max(?, started), "
	    "end_reason = ? WHERE ended IS NULL", "Is", store_now(), reason);
	return rc == STORE_OK ? n : STORE_ERR;
}

int
store_session_count_live(struct store *st)
{
	int64_t	 n;

	if (store_row_int(st, &n, "SELECT count(*) FROM sessions "
	    "WHERE ended IS NULL", "") != STORE_OK)
		return STORE_ERR;
	return (int)n;
}
