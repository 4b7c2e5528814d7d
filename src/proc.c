/*
 * proc.c: the process table and what every child does before its body
 * runs: close what it must not hold, drop privileges for good.
 *
 *	parent     root; config, listening sockets, opens files and upstream
 *	           sockets and passes them down; supervises
 *	monitor    root, no network; store, PAM, TOTP, vault
 *	recorder   unprivileged, chroot, seccomp; writes recordings
 *	notifier   unprivileged, chroot, seccomp; posts events to the webhook
 *	control    unprivileged, chroot, seccomp; serves portierctl
 *	session    one per connection; unprivileged, chroot, seccomp,
 *	           not dumpable; the only process that parses vendor bytes
 *
 * README.privsep (at the top of the tree) draws the channels between them.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portier.h"

struct pt_proc pt_procs[PROC_MAX] = {
	[PROC_PARENT] =   { PROC_PARENT,   "parent",   NULL,         -1 },
	[PROC_MONITOR] =  { PROC_MONITOR,  "monitor",  monitor_run,  -1 },
	[PROC_RECORDER] = { PROC_RECORDER, "recorder", recorder_run, -1 },
	[PROC_NOTIFIER] = { PROC_NOTIFIER, "notifier", notifier_run, -1 },
	[PROC_CONTROL] =  { PROC_CONTROL,  "control",  control_run,  -1 },
	[PROC_SESSION] =  { PROC_SESSION,  "session",  NULL,         -1 },
};

enum pt_procid pt_self = PROC_PARENT;

const char *
proc_name(enum pt_procid id)
{
	if (id >= PROC_MAX)
		return "unknown";
	return pt_procs[id].p_title;
}

/*
 * The sandbox root must be an empty directory that only root can write:
 * anything else would give a compromised process a place to stand.
 */
static void
proc_check_root(const char *root)
{
	struct stat	 st;

	if (stat(root, &st) == -1)
		fatal("chroot directory %s", root);
	if (!S_ISDIR(st.st_mode))
		fatalx("chroot directory %s is not a directory", root);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("chroot directory %s must be owned by root and "
		    "writable by root only; fix with: chown root:root %s && "
		    "chmod 755 %s", root, root, root);
}

void
proc_drop_privs(struct pt_config *cf, const char *root)
{
	uid_t	 uid = pt_rt.rt_uid;
	gid_t	 gid = pt_rt.rt_gid;

	if (geteuid() != 0)
		fatalx("%s: must start as root to drop privileges",
		    proc_name(pt_self));
	proc_check_root(root);
	if (chroot(root) == -1)
		fatal("chroot %s", root);
	if (chdir("/") == -1)
		fatal("chdir /");
	if (setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("cannot drop privileges to uid %u", (unsigned)uid);
	/* Make sure there is no way back. */
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("%s: could regain root after dropping it",
		    proc_name(pt_self));
	/* No core dumps and no ptrace by a sibling with the same uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl PR_SET_DUMPABLE");
}

void
proc_setproctitle(const char *title)
{
	char	 name[16];

	/* The kernel keeps 15 bytes; enough for "pt-session". */
	snprintf(name, sizeof(name), "pt-%s", title);
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}
