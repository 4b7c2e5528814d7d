/*
 * parent-rec.c: the parent's part in recordings.
 *
 * The recorder runs chrooted and cannot open a file; the parent opens
 * each recording for it (O_EXCL, append only, 0640 root) and passes the
 * descriptor down.  Files are laid out by day and target:
 *
 *	RECORDINGS/2026/11/24/pacs-01/093012-SESSIONID.cast
 *
 * A session has no target when it starts, so its file opens in the day's
 * directory and moves under the target's when the monitor authorises one
 * (the descriptor stays valid).  The parent relays the recorder's seal to
 * the monitor for the audit trail, and watches the free space left on the
 * recordings' file system: an alert before it is full, because a full
 * disk refuses every session (the recorder fails closed).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "portier.h"
#include "msg.h"

#define PREC_MAX		4096	/* recordings the parent tracks */
#define PREC_SPACE_EVERY	30	/* seconds between free space checks */

/* A recording between its first message and its seal. */
struct prec {
	TAILQ_ENTRY(prec)	 pr_entry;
	char			 pr_sid[PT_SID_LEN + 1];
	char			 pr_rel[256];	/* "" until the file is open */
	char			 pr_target[PT_NAME_MAX];
};
TAILQ_HEAD(precs, prec);

static struct pt_config	*conf;
static struct precs	 precs = TAILQ_HEAD_INITIALIZER(precs);
static size_t		 nprecs;
static int		 space_low;	/* alerted, not yet recovered */

static struct prec *
parent_rec_find(const char *sid, int create)
{
	struct prec	*pr;

	TAILQ_FOREACH(pr, &precs, pr_entry)
		if (strcmp(pr->pr_sid, sid) == 0)
			return pr;
	if (!create)
		return NULL;
	if (nprecs >= PREC_MAX) {
		/* Forget the oldest: it only loses a directory move. */
		pr = TAILQ_FIRST(&precs);
		TAILQ_REMOVE(&precs, pr, pr_entry);
		free(pr);
		nprecs--;
	}
	pr = xcalloc(1, sizeof(*pr));
	strlcpy(pr->pr_sid, sid, sizeof(pr->pr_sid));
	TAILQ_INSERT_TAIL(&precs, pr, pr_entry);
	nprecs++;
	return pr;
}

/* mkdir -p DIR, root's; returns 0 or an errno (a full or read-only disk
 * must refuse a session, not stop the daemon). */
static int
parent_mkdir_try(const char *dir, mode_t mode)
{
	char	 path[PATH_MAX], *p;

	if (strlcpy(path, dir, sizeof(path)) >= sizeof(path))
		return ENAMETOOLONG;
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) == -1 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		return errno;
	return 0;
}

static void
parent_rec_forget(struct prec *pr)
{
	TAILQ_REMOVE(&precs, pr, pr_entry);
	free(pr);
	nprecs--;
}

/* A target's name as one safe directory name. */
static void
parent_rec_dirname(const char *target, char *buf, size_t len)
{
	size_t	 i;

	strlcpy(buf, target, len);
	for (i = 0; buf[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.", buf[i]) == NULL || (i == 0 && buf[i] == '.'))
			buf[i] = '_';
}

/* "2026/11/24/093012-SID.cast" -> "2026/11/24/pacs-01/093012-SID.cast" */
static int
parent_rec_under(const char *rel, const char *target, char *buf, size_t len)
{
	const char	*slash = strrchr(rel, '/');
	char		 dir[PT_NAME_MAX];
	int		 n;

	parent_rec_dirname(target, dir, sizeof(dir));
	if (slash == NULL)
		n = snprintf(buf, len, "%s/%s", dir, rel);
	else
		n = snprintf(buf, len, "%.*s/%s%s", (int)(slash - rel), rel,
		    dir, slash);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void
parent_rec_space(void)
{
	struct statvfs	 sv;
	uint64_t	 avail, want;
	char		 what[32];

	if (statvfs(conf->cf_recordings, &sv) == -1)
		return;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (conf->cf_recording_min_free_pct > 0) {
		want = (uint64_t)sv.f_blocks * sv.f_frsize / 100 *
		    (uint64_t)conf->cf_recording_min_free_pct;
		snprintf(what, sizeof(what), "%d%%",
		    conf->cf_recording_min_free_pct);
	} else {
		want = (uint64_t)conf->cf_recording_min_free;
		snprintf(what, sizeof(what), "%llu MiB",
		    (unsigned long long)(want >> 20));
	}
	if (avail < want && !space_low) {
		space_low = 1;
		log_alert("recordings: %llu MiB left on the file system of %s, "
		    "below recording min-free %s: free space or sessions will "
		    "be refused when it is full",
		    (unsigned long long)(avail >> 20), conf->cf_recordings,
		    what);
	} else if (avail >= want && space_low) {
		space_low = 0;
		log_info("recordings: free space is above recording min-free "
		    "again (%llu MiB)", (unsigned long long)(avail >> 20));
	}
}

static void
parent_rec_tick(evutil_socket_t fd, short ev, void *arg)
{
	parent_rec_space();
}

void
parent_rec_init(struct pt_config *cf, struct event_base *base)
{
	struct timeval	 tv = { PREC_SPACE_EVERY, 0 };
	struct event	*ev;

	conf = cf;
	parent_rec_space();
	if ((ev = event_new(base, -1, EV_PERSIST, parent_rec_tick, NULL)) ==
	    NULL || event_add(ev, &tv) == -1)
		fatalx("cannot watch the recordings' free space");
}

int
parent_rec_file(struct msgchan *mc, struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], rel[256], path[PATH_MAX], *p;
	char		 under[256];
	struct prec	*pr;
	struct msg	*m;
	int		 fd = -1, err = 0;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, rel, sizeof(rel)) == -1 || m_end(mi) == -1)
		return -1;
	/* The recorder names the file; it may not leave the directory. */
	if (rel[0] == '/' || strstr(rel, "..") != NULL ||
	    strspn(rel, "abcdefghijklmnopqrstuvwxyz0123456789-_./") !=
	    strlen(rel))
		return -1;
	pr = parent_rec_find(sid, 1);
	/* The monitor may have named the target already. */
	if (pr->pr_target[0] != '\0' &&
	    parent_rec_under(rel, pr->pr_target, under, sizeof(under)) == 0)
		strlcpy(rel, under, sizeof(rel));
	parent_rec_space();
	if ((size_t)snprintf(path, sizeof(path), "%s/%s",
	    conf->cf_recordings, rel) >= sizeof(path))
		err = ENAMETOOLONG;
	else {
		if ((p = strrchr(path, '/')) != NULL) {
			*p = '\0';
			err = parent_mkdir_try(path, 0700);
			*p = '/';
		}
		if (err == 0 && (fd = open(path, O_WRONLY | O_CREAT | O_EXCL |
		    O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640)) == -1)
			err = errno;
		if (err != 0)
			log_warnx("recording %s: %s", path, strerror(err));
	}
	if (fd != -1)
		strlcpy(pr->pr_rel, rel, sizeof(pr->pr_rel));
	m = m_create(MSG_REC_FILE, 0, fd);
	m_add_str(m, sid);
	m_add_u32(m, (uint32_t)err);
	m_add_str(m, rel);
	msgchan_send(mc, m);
	return 0;
}

/* The monitor authorised a target: move the file under it, tell the
 * recorder who and where. */
int
parent_rec_target(struct msgchan *rec, struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1], target[PT_NAME_MAX];
	char		 user[PT_NAME_MAX], vendor[PT_NAME_MAX];
	char		 rel[256], from[PATH_MAX], to[PATH_MAX], *p;
	struct prec	*pr;
	struct msg	*m;

	if (m_get_str(mi, sid, sizeof(sid)) == -1 ||
	    m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_str(mi, user, sizeof(user)) == -1 ||
	    m_get_str(mi, vendor, sizeof(vendor)) == -1 || m_end(mi) == -1 ||
	    target[0] == '\0')
		return -1;
	pr = parent_rec_find(sid, 1);
	if (pr->pr_target[0] == '\0' && pr->pr_rel[0] != '\0' &&
	    parent_rec_under(pr->pr_rel, target, rel, sizeof(rel)) == 0 &&
	    (size_t)snprintf(from, sizeof(from), "%s/%s", conf->cf_recordings,
	    pr->pr_rel) < sizeof(from) &&
	    (size_t)snprintf(to, sizeof(to), "%s/%s", conf->cf_recordings,
	    rel) < sizeof(to)) {
		p = strrchr(to, '/');
		*p = '\0';
		(void)parent_mkdir_try(to, 0700);
		*p = '/';
		if (rename(from, to) == -1)
			log_warn("recording %s: cannot move it to %s", from, to);
		else
			strlcpy(pr->pr_rel, rel, sizeof(pr->pr_rel));
	}
	strlcpy(pr->pr_target, target, sizeof(pr->pr_target));
	m = m_create(MSG_REC_TARGET, 0, -1);
	m_add_str(m, sid);
	m_add_str(m, target);
	m_add_str(m, user);
	m_add_str(m, vendor);
	m_add_str(m, pr->pr_rel);
	msgchan_send(rec, m);
	return 0;
}

/* The recorder sealed (or lost) a recording: on to the audit trail. */
int
parent_rec_sealed(struct msgchan *mon, struct msg_in *mi)
{
	char		 sid[PT_SID_LEN + 1];
	struct prec	*pr;
	struct msg	*m;

	if (m_get_str(mi, sid, sizeof(sid)) == -1)
		return -1;
	if ((pr = parent_rec_find(sid, 0)) != NULL)
		parent_rec_forget(pr);
	m = m_forward(mi, 0);
	if (mon != NULL)
		msgchan_send(mon, m);
	else
		m_free(m);
	return 0;
}
