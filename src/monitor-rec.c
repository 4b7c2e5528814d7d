/*
 * monitor-rec.c: the recordings as hospital IT and auditors see them:
 * listed with their seal, put under legal hold, and purged when the
 * retention ("recording retention", about 6 months by default) is over.
 *
 * The recorder reports each seal (size and SHA-256 of the whole file)
 * through the parent; the monitor writes it to the audit trail and to
 * the session's row.  A purge deletes the file, never the row nor the
 * audit rows: what the recording was stays provable, and every purge is
 * an audit row of its own.  A held recording is never purged.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portier.h"
#include "msg.h"
#include "store.h"

#define REC_LIST_MAX	2000	/* rows in one answer */
#define REC_PURGE_BATCH	64	/* files per sweep */

void
monrec_sealed(const char *sid, const char *path, int ok, int64_t bytes,
    const char *text)
{
	if (store_recording_sealed(mon_store, sid, path, ok, bytes, text) < 0)
		log_warnx("recording of %s: store: %s", sid,
		    store_error(mon_store));
}

struct rec_walk {
	struct monctl	*rw_c;
	int		 rw_rows;
};

static int
rec_row(const struct store_recording *sr, void *arg)
{
	struct rec_walk	*rw = arg;
	struct msg	*m;

	if (rw->rw_rows++ == REC_LIST_MAX)
		return 1;
	m = m_create(MSG_CTL_RECORDING_INFO, rw->rw_c->c_id, -1);
	m_add_str(m, sr->sr_sid);
	m_add_str(m, sr->sr_user);
	m_add_str(m, sr->sr_vendor);
	m_add_str(m, sr->sr_target);
	m_add_str(m, sr->sr_source);
	m_add_str(m, sr->sr_path);
	m_add_str(m, sr->sr_state);
	m_add_str(m, sr->sr_sha256);
	m_add_i64(m, sr->sr_started);
	m_add_i64(m, sr->sr_ended);
	m_add_i64(m, sr->sr_bytes);
	m_add_str(m, sr->sr_hold_by);
	m_add_i64(m, sr->sr_hold_at);
	m_add_str(m, sr->sr_hold_reason);
	m_add_i64(m, sr->sr_purged_at);
	return msgchan_send(rw->rw_c->c_chan, m) == -1 ? -1 : 0;
}

static int
rec_list(struct monctl *c, struct msg_in *mi)
{
	struct rec_walk	 rw = { c, 0 };
	char		 vendor[STORE_NAME_MAX + 1], target[STORE_NAME_MAX + 1];
	struct msg	*m;
	int64_t		 since;

	if (m_get_str(mi, vendor, sizeof(vendor)) == -1 ||
	    m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_i64(mi, &since) == -1 || m_end(mi) == -1)
		return -1;
	if (store_recording_list(mon_store, vendor, target, since,
	    REC_LIST_MAX, rec_row, &rw) < 0)
		return monctl_store_error(c);
	/* Where the files are, for portierctl to check them. */
	m = m_create(MSG_CTL_END, c->c_id, -1);
	m_add_str(m, mon_conf->cf_recordings);
	msgchan_send(c->c_chan, m);
	return 0;
}

static int
rec_hold(struct monctl *c, struct msg_in *mi)
{
	struct store_recording	 sr;
	char			 sid[64], reason[STORE_TEXT_MAX + 64];
	char			 text[STORE_TEXT_MAX + 400];
	uint32_t		 hold;
	int			 rc;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_u32(mi, &hold) == -1 ||
	    m_get_str(mi, reason, sizeof(reason)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monreq_text_ok(reason))
		return monctl_error(c, "a reason is required (--reason TEXT): "
		    "the audit trail keeps it");
	if (store_recording_get(mon_store, sid, &sr) != STORE_OK)
		return monctl_error(c, "no recording of session %s: see "
		    "portierctl recordings", sid);
	if (hold && sr.sr_hold_by[0] != '\0')
		return monctl_error(c, "the recording of %s is held already "
		    "(by %s: %s)", sid, sr.sr_hold_by, sr.sr_hold_reason);
	if (!hold && sr.sr_hold_by[0] == '\0')
		return monctl_error(c, "the recording of %s is not held", sid);
	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	if ((rc = store_recording_hold(mon_store, sid, hold ? c->c_actor :
	    NULL, hold ? reason : NULL)) == STORE_REFUSED) {
		store_tx_rollback(mon_store);
		return monctl_error(c, "the recording of %s was purged on %s",
		    sid, time_iso((time_t)sr.sr_purged_at, text,
		    sizeof(text)));
	}
	if (rc != STORE_OK)
		return monctl_store_error(c);
	snprintf(text, sizeof(text), "%s: %s", sr.sr_path, reason);
	mon_audit(c->c_actor, hold ? "recording.hold" : "recording.release",
	    sr.sr_target[0] != '\0' ? sr.sr_target : NULL, NULL, sid, text);
	if (store_tx_commit(mon_store) != STORE_OK)
		return monctl_store_error(c);
	return monctl_ok(c, hold ? "the recording of %s is held: it will not "
	    "be purged" : "the recording of %s is no longer held", sid);
}

int
monrec_dispatch(struct monctl *c, struct msg_in *mi)
{
	switch (mi->mi_type) {
	case MSG_CTL_RECORDINGS:
		return rec_list(c, mi);
	case MSG_CTL_RECORDING_HOLD:
		return rec_hold(c, mi);
	default:
		return -1;
	}
}

/* ---- retention ----------------------------------------------------------------- */

struct rec_batch {
	struct store_recording	 rb_sr[REC_PURGE_BATCH];
	int			 rb_n;
};

static int
rec_collect(const struct store_recording *sr, void *arg)
{
	struct rec_batch	*rb = arg;

	rb->rb_sr[rb->rb_n++] = *sr;
	return rb->rb_n == REC_PURGE_BATCH;
}

/*
 * Delete the recordings older than the retention, oldest first, a batch
 * at a time; each purge is an audit row with the seal the file had.
 */
void
monrec_purge(void)
{
	struct rec_batch	*rb;
	struct store_recording	*sr;
	char			 path[PATH_MAX], text[1400];
	int64_t			 keep = mon_conf->cf_recording_retention;
	int			 i, n;

	if (keep <= 0)
		return;
	rb = xcalloc(1, sizeof(*rb));
	if (store_recording_expired(mon_store, (int64_t)time(NULL) - keep,
	    REC_PURGE_BATCH, rec_collect, rb) < 0) {
		log_warnx("retention: store: %s", store_error(mon_store));
		free(rb);
		return;
	}
	for (i = 0; i < rb->rb_n; i++) {
		sr = &rb->rb_sr[i];
		/* Only names under the recordings directory, never "..". */
		if (sr->sr_path[0] == '\0' || sr->sr_path[0] == '/' ||
		    strstr(sr->sr_path, "..") != NULL)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s",
		    mon_conf->cf_recordings, sr->sr_path);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("retention: %s", path);
			continue;
		}
		if (store_tx_begin(mon_store) != STORE_OK ||
		    store_recording_purged(mon_store, sr->sr_sid) != STORE_OK) {
			log_warnx("retention: store: %s",
			    store_error(mon_store));
			store_tx_rollback(mon_store);
			continue;
		}
		snprintf(text, sizeof(text), "%s: bytes=%lld sha256=%s; "
		    "retention of %lld days over", sr->sr_path,
		    (long long)sr->sr_bytes, sr->sr_sha256,
		    (long long)(keep / 86400));
		mon_audit(NULL, "recording.purge", sr->sr_target[0] != '\0' ?
		    sr->sr_target : NULL, NULL, sr->sr_sid, text);
		if (store_tx_commit(mon_store) != STORE_OK) {
			log_warnx("retention: store: %s",
			    store_error(mon_store));
			store_tx_rollback(mon_store);
		}
	}
	free(rb);
}
