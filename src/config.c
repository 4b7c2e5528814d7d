/*
 * config.c: the configuration once parsed.
 *
 * parse.y turns portier.conf and the policies it includes into a struct
 * pt_config; this file gives it its defaults, answers the questions the
 * other processes ask of it (which vendor does this user belong to, may
 * this vendor reach that target), checks what only the file system can
 * tell (owners and modes of the files read, host keys present and
 * private) and frees it.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "portier.h"

struct pt_config *
config_new(void)
{
	struct pt_config	*cf;

	cf = xcalloc(1, sizeof(*cf));
	cf->cf_user = xstrdup(PT_DEF_USER);
	cf->cf_admin_group = xstrdup(PT_DEF_ADMIN_GROUP);
	cf->cf_chroot = xstrdup(PT_DEF_CHROOT);
	cf->cf_store = xstrdup(PT_DEF_STORE);
	cf->cf_vault_key = xstrdup(PT_DEF_VAULT_KEY);
	cf->cf_control = xstrdup(PT_DEF_CONTROL);
	cf->cf_recordings = xstrdup(PT_DEF_RECORDINGS);
	cf->cf_recording_key = xstrdup(PT_DEF_RECORDING_KEY);
	cf->cf_recording_min_free_pct = PT_DEF_RECORDING_MIN_FREE_PCT;
	cf->cf_pam_service = xstrdup(PT_DEF_PAM_SERVICE);
	cf->cf_timezone = xstrdup(PT_DEF_TIMEZONE);
	cf->cf_facility = LOG_DAEMON;
	cf->cf_lockout = PT_DEF_LOCKOUT;
	cf->cf_recording_retention = PT_DEF_RECORDING_RETENTION;
	cf->cf_max_sessions = PT_DEF_MAX_SESSIONS;
	cf->cf_webhook_timeout = PT_DEF_WEBHOOK_TIMEOUT;
	cf->cf_webhook_retry = PT_DEF_WEBHOOK_RETRY;
	TAILQ_INIT(&cf->cf_listens);
	TAILQ_INIT(&cf->cf_targets);
	TAILQ_INIT(&cf->cf_vendors);
	cf->cf_files = xcalloc(1, sizeof(*cf->cf_files));
	return cf;
}

static void
config_free_access(struct pt_access *ac)
{
	struct pt_window	*wn;

	while ((wn = TAILQ_FIRST(&ac->ac_windows)) != NULL) {
		TAILQ_REMOVE(&ac->ac_windows, wn, wn_entry);
		free(wn);
	}
	free(ac->ac_target);
	free(ac);
}

static void
config_free_vendor(struct pt_vendor *vd)
{
	struct pt_vuser		*vu;
	struct pt_cidr		*cd;
	struct pt_access	*ac;

	while ((vu = TAILQ_FIRST(&vd->vd_users)) != NULL) {
		TAILQ_REMOVE(&vd->vd_users, vu, vu_entry);
		free(vu->vu_name);
		free(vu);
	}
	while ((cd = TAILQ_FIRST(&vd->vd_sources)) != NULL) {
		TAILQ_REMOVE(&vd->vd_sources, cd, cd_entry);
		free(cd);
	}
	while ((ac = TAILQ_FIRST(&vd->vd_access)) != NULL) {
		TAILQ_REMOVE(&vd->vd_access, ac, ac_entry);
		config_free_access(ac);
	}
	free(vd->vd_name);
	free(vd->vd_timezone);
	free(vd);
}

/* Listening sockets are the parent's to close: this frees memory only. */
void
config_free(struct pt_config *cf)
{
	struct pt_listen	*ls;
	struct pt_target	*tg;
	struct pt_vendor	*vd;
	int			 i;

	if (cf == NULL)
		return;
	while ((ls = TAILQ_FIRST(&cf->cf_listens)) != NULL) {
		TAILQ_REMOVE(&cf->cf_listens, ls, ls_entry);
		free(ls);
	}
	while ((tg = TAILQ_FIRST(&cf->cf_targets)) != NULL) {
		TAILQ_REMOVE(&cf->cf_targets, tg, tg_entry);
		free(tg->tg_name);
		free(tg->tg_host);
		free(tg->tg_account);
		free(tg);
	}
	while ((vd = TAILQ_FIRST(&cf->cf_vendors)) != NULL) {
		TAILQ_REMOVE(&cf->cf_vendors, vd, vd_entry);
		config_free_vendor(vd);
	}
	for (i = 0; i < cf->cf_nhostkeys; i++)
		free(cf->cf_hostkeys[i]);
	if (cf->cf_files != NULL) {
		for (i = 0; cf->cf_files[i] != NULL; i++)
			free(cf->cf_files[i]);
		free(cf->cf_files);
	}
	free(cf->cf_file);
	free(cf->cf_user);
	free(cf->cf_admin_group);
	free(cf->cf_chroot);
	free(cf->cf_store);
	free(cf->cf_vault_key);
	free(cf->cf_control);
	free(cf->cf_recordings);
	free(cf->cf_recording_key);
	free(cf->cf_pam_service);
	free(cf->cf_timezone);
	free(cf->cf_webhook);
	free(cf->cf_webhook_ca);
	free(cf);
}

struct pt_target *
config_target(struct pt_config *cf, const char *name)
{
	struct pt_target	*tg;

	TAILQ_FOREACH(tg, &cf->cf_targets, tg_entry)
		if (strcmp(tg->tg_name, name) == 0)
			return tg;
	return NULL;
}

struct pt_vendor *
config_vendor(struct pt_config *cf, const char *name)
{
	struct pt_vendor	*vd;

	TAILQ_FOREACH(vd, &cf->cf_vendors, vd_entry)
		if (strcmp(vd->vd_name, name) == 0)
			return vd;
	return NULL;
}

struct pt_vendor *
config_vendor_of_user(struct pt_config *cf, const char *user)
{
	struct pt_vendor	*vd;
	struct pt_vuser		*vu;

	TAILQ_FOREACH(vd, &cf->cf_vendors, vd_entry)
		TAILQ_FOREACH(vu, &vd->vd_users, vu_entry)
			if (strcmp(vu->vu_name, user) == 0)
				return vd;
	return NULL;
}

struct pt_access *
config_access(struct pt_vendor *vd, const char *target)
{
	struct pt_access	*ac;

	TAILQ_FOREACH(ac, &vd->vd_access, ac_entry)
		if (strcmp(ac->ac_target, target) == 0)
			return ac;
	return NULL;
}

const char *
config_proto_name(enum pt_proto proto)
{
	switch (proto) {
	case PT_PROTO_SSH:
		return "ssh";
	case PT_PROTO_RDP:
		return "rdp";
	}
	return "unknown";
}

const char *
config_fwd_name(uint32_t kind)
{
	switch (kind) {
	case PT_FWD_LOCAL:
		return "ssh -L";
	case PT_FWD_REMOTE:
		return "ssh -R";
	case PT_FWD_AGENT:
		return "agent";
	default:
		return "X11";
	}
}

int
config_name_ok(const char *name)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-";
	size_t	 n = strlen(name);

	return n > 0 && n < PT_NAME_MAX && strspn(name, chars) == n &&
	    isalnum((unsigned char)name[0]);
}

/* A check's complaint: logged, and the first for a reload's answer. */
static void __attribute__((format(printf, 1, 2)))
check_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	if (config_errmsg[0] == '\0')
		strlcpy(config_errmsg, msg, sizeof(config_errmsg));
}

/*
 * A file the daemon trusts must be changeable only by root or by whoever
 * runs portierd: anyone else who can write a policy can open a door.
 */
static int
config_check_file(const char *path, const char *name)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		check_warn("%s: %s", name, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		check_warn("%s: is writable by others; fix with: chmod go-w %s",
		    name, name);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		check_warn("%s: is owned by uid %lu, not by root; fix with: "
		    "chown root %s", name, (unsigned long)st.st_uid, name);
		return -1;
	}
	return 0;
}

static int
config_check_hostkey(const char *path, const char *file, int line)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			check_warn("%s:%d: host key \"%s\": %s (generate one "
			    "with: ssh-keygen -t ed25519 -N \"\" -f %s)",
			    file, line, path, strerror(errno), path);
		else
			check_warn("%s:%d: host key \"%s\": %s", file, line,
			    path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		check_warn("%s:%d: host key \"%s\" is not a regular file",
		    file, line, path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		check_warn("%s:%d: host key \"%s\" is %s by others; fix with: "
		    "chmod 600 %s", file, line, path,
		    st.st_mode & (S_IRGRP | S_IROTH) ? "readable" : "writable",
		    path);
		return -1;
	}
	return 0;
}

/* A missing vault or recording key is fine: the parent creates it on
 * first start. */
static int
config_check_vault_key(const char *path, const char *what)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		check_warn("%s \"%s\": %s", what, path, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		check_warn("%s \"%s\" is %s by others; fix with: "
		    "chmod 600 %s", what, path,
		    st.st_mode & (S_IRGRP | S_IROTH) ? "readable" : "writable",
		    path);
		return -1;
	}
	return 0;
}

int
config_check(struct pt_config *cf)
{
	struct pt_listen	*ls;
	const char		*top;
	int			 i, rv = 0, ssh = 0;

	config_errmsg[0] = '\0';

	top = cf->cf_files[0] != NULL ? cf->cf_files[0] : cf->cf_file;
	for (i = 0; cf->cf_files[i] != NULL; i++)
		if (config_check_file(i == 0 ? cf->cf_file : cf->cf_files[i],
		    cf->cf_files[i]) == -1)
			rv = -1;
	for (i = 0; i < cf->cf_nhostkeys; i++)
		if (config_check_hostkey(cf->cf_hostkeys[i],
		    cf->cf_hostkey_file[i], cf->cf_hostkey_line[i]) == -1)
			rv = -1;
	if (config_check_vault_key(cf->cf_vault_key, "vault key") == -1 ||
	    config_check_vault_key(cf->cf_recording_key,
	    "recording key") == -1)
		rv = -1;

	TAILQ_FOREACH(ls, &cf->cf_listens, ls_entry)
		if (ls->ls_proto == PT_PROTO_SSH)
			ssh = 1;
	if (TAILQ_EMPTY(&cf->cf_listens)) {
		check_warn("%s: no \"listen on\" directive: vendors cannot "
		    "connect; add one, as in: listen on 127.0.0.1 port 2222",
		    top);
		rv = -1;
	} else if (ssh && cf->cf_nhostkeys == 0) {
		check_warn("%s: listening for ssh needs a host key; add one, as "
		    "in: host key \"/etc/portier/ssh_host_ed25519_key\"", top);
		rv = -1;
	}
	return rv;
}
