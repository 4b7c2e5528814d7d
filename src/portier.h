/*
 * portier.h: the table of contents of portierd.
 *
 * One section per source file, in the order a reader meets them: the
 * configuration the parent reads, the processes it starts, and what each
 * of them does.  The message layer (msg.h) and the store (store.h) have
 * headers of their own because portierctl and the tests use them alone.
 */
#ifndef PORTIER_H
#define PORTIER_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PORTIER_VERSION		PACKAGE_VERSION
#define PT_CONF_FILE		SYSCONFDIR "/portier/portier.conf"
#define PT_MAX_HOSTKEYS		4
#define PT_NAME_MAX		64	/* vendor, user, target names */
#define PT_SID_LEN		16	/* session ids: 16 hex digits */

/* Defaults an operator may override in portier.conf. */
#define PT_DEF_USER		"portier"
#define PT_DEF_ADMIN_GROUP	"portier-admin"
#define PT_DEF_CHROOT		"/var/empty/portier"
#define PT_DEF_STORE		"/var/lib/portier/portier.db"
#define PT_DEF_VAULT_KEY	"/etc/portier/vault.key"
#define PT_DEF_CONTROL		"/run/portier/control.sock"
#define PT_DEF_RECORDINGS	"/var/lib/portier/recordings"
#define PT_DEF_RECORDING_KEY	"/etc/portier/recording.key"
#define PT_DEF_RECORDING_RETENTION (183 * 86400)	/* about 6 months */
#define PT_DEF_RECORDING_MIN_FREE_PCT	5	/* alert below 5% free */
#define PT_DEF_PAM_SERVICE	"portier"
#define PT_DEF_TIMEZONE		"Europe/Paris"
#define PT_DEF_LOCKOUT		(5 * 60)	/* seconds */
#define PT_MIN_LOCKOUT		60
#define PT_DEF_MAX_SESSIONS	256
#define PT_DEF_WEBHOOK_TIMEOUT	10	/* seconds for one delivery attempt */
#define PT_DEF_WEBHOOK_RETRY	5	/* seconds before the first retry */
#define PT_WEBHOOK_URL_MAX	1024

/* ---- parse.y, config.c: portier.conf and policies/ ---------------------- */

enum pt_proto {
	PT_PROTO_SSH = 1,
	PT_PROTO_RDP = 2,
};

struct pt_listen {
	TAILQ_ENTRY(pt_listen)	 ls_entry;
	struct sockaddr_storage	 ls_ss;
	socklen_t		 ls_sslen;
	enum pt_proto		 ls_proto;
	int			 ls_fd;		/* bound by the parent, -1 before */
	char			 ls_name[80];	/* "127.0.0.1:2222", "[::1]:2222" */
};
TAILQ_HEAD(pt_listens, pt_listen);

/* A recurring window: the days it opens on and the minutes of the day. */
struct pt_window {
	TAILQ_ENTRY(pt_window)	 wn_entry;
	uint8_t			 wn_days;	/* bit 0 = Sunday ... bit 6 = Saturday */
	uint16_t		 wn_start;	/* minutes after local midnight */
	uint16_t		 wn_end;	/* <= wn_start: ends the next day */
};
TAILQ_HEAD(pt_windows, pt_window);

struct pt_cidr {
	TAILQ_ENTRY(pt_cidr)	 cd_entry;
	int			 cd_af;		/* AF_INET or AF_INET6 */
	uint8_t			 cd_addr[16];	/* network byte order */
	int			 cd_prefix;
};
TAILQ_HEAD(pt_cidrs, pt_cidr);

/*
 * What a session may forward besides its own channel, as the monitor
 * tells the session process (MSG_MON_PERMS_RESULT, MSG_MON_AUTHZ_RESULT).
 */
#define PT_FWD_LOCAL		0x01	/* ssh -L: direct-tcpip channels */
#define PT_FWD_REMOTE		0x02	/* ssh -R: tcpip-forward */
#define PT_FWD_AGENT		0x04	/* ssh -A */
#define PT_FWD_X11		0x08	/* ssh -X, -Y */

/* What one vendor may do on one target. */
struct pt_access {
	TAILQ_ENTRY(pt_access)	 ac_entry;
	char			*ac_target;	/* a pt_target's name */
	struct pt_windows	 ac_windows;
	int			 ac_approval;	/* may ask IT outside windows */
	int			 ac_approval_max;	/* seconds */
	int			 ac_emergency_max;	/* seconds, 0: no emergency path */
	int			 ac_sftp;
	int			 ac_forwarding;	/* PT_FWD_LOCAL | PT_FWD_REMOTE */
	int			 ac_agent;
	int			 ac_x11;
	const char		*ac_file;
	int			 ac_line;
};
TAILQ_HEAD(pt_accesses, pt_access);

struct pt_vuser {
	TAILQ_ENTRY(pt_vuser)	 vu_entry;
	char			*vu_name;
	const char		*vu_file;
	int			 vu_line;
};
TAILQ_HEAD(pt_vusers, pt_vuser);

struct pt_vendor {
	TAILQ_ENTRY(pt_vendor)	 vd_entry;
	char			*vd_name;
	char			*vd_timezone;	/* NULL: the global one */
	struct pt_vusers	 vd_users;
	struct pt_cidrs		 vd_sources;	/* empty: any source */
	struct pt_accesses	 vd_access;
	const char		*vd_file;
	int			 vd_line;
};
TAILQ_HEAD(pt_vendors, pt_vendor);

struct pt_target {
	TAILQ_ENTRY(pt_target)	 tg_entry;
	char			*tg_name;
	char			*tg_host;
	int			 tg_port;
	enum pt_proto		 tg_proto;
	char			*tg_account;	/* the account Portier logs in as */
	const char		*tg_file;
	int			 tg_line;
};
TAILQ_HEAD(pt_targets, pt_target);

struct pt_config {
	char			*cf_file;	/* absolute path of portier.conf */
	char			*cf_user;	/* unprivileged user */
	char			*cf_admin_group;
	char			*cf_chroot;	/* empty directory for sandboxes */
	char			*cf_store;
	char			*cf_vault_key;
	char			*cf_control;
	char			*cf_recordings;
	char			*cf_recording_key;	/* signs recordings */
	int64_t			 cf_recording_min_free;	/* bytes, or 0 */
	int			 cf_recording_min_free_pct;	/* or percent */
	int64_t			 cf_recording_retention;	/* seconds, 0: ever */
	char			*cf_pam_service;
	char			*cf_timezone;
	char			*cf_hostkeys[PT_MAX_HOSTKEYS];
	int			 cf_nhostkeys;
	const char		*cf_hostkey_file[PT_MAX_HOSTKEYS];	/* where set */
	int			 cf_hostkey_line[PT_MAX_HOSTKEYS];
	int			 cf_facility;	/* syslog facility */
	int			 cf_lockout;	/* seconds */
	int			 cf_max_sessions;
	char			*cf_webhook;	/* URL, or NULL: syslog only */
	char			*cf_webhook_ca;	/* NULL: the system's CA store */
	int			 cf_webhook_timeout;	/* seconds */
	int			 cf_webhook_retry;	/* seconds, first retry */
	struct pt_listens	 cf_listens;
	struct pt_targets	 cf_targets;
	struct pt_vendors	 cf_vendors;
	char			**cf_files;	/* every file read, NULL-ended;
						   [0] as named, others absolute;
						   the *_file fields point here */
};

/*
 * Parse FILE (and what it includes) into a new configuration.  Errors are
 * reported on stderr/the log as "file:line: message" and make it return
 * NULL.  Relative paths in the file are taken relative to its directory.
 */
struct pt_config	*config_parse(const char *file);
#define CONFIG_NORESOLVE	0x01	/* no DNS: "listen on" wants an address */
struct pt_config	*config_parse_flags(const char *file, int flags);
/* The first error of the last config_parse(), "file:line: message". */
extern char		 config_errmsg[512];
/* A configuration holding only the defaults. */
struct pt_config	*config_new(void);
/* Checks that need the file system: owners and modes, keys present. */
int			 config_check(struct pt_config *);
void			 config_free(struct pt_config *);
struct pt_target	*config_target(struct pt_config *, const char *);
struct pt_vendor	*config_vendor(struct pt_config *, const char *);
struct pt_vendor	*config_vendor_of_user(struct pt_config *, const char *);
/* A name of a vendor, user or target as the policy grammar takes it. */
int			 config_name_ok(const char *);
struct pt_access	*config_access(struct pt_vendor *, const char *);
const char		*config_proto_name(enum pt_proto);
/* One PT_FWD_* kind, as the vendor asks for it: "ssh -L", "agent"... */
const char		*config_fwd_name(uint32_t);

/* ---- policy.c: windows and sources, evaluated at a given time ---------- */

/* 1 and *END if a window of AC is open at NOW in timezone TZ. */
int	 policy_window_now(const struct pt_access *, const char *tz,
	    time_t now, time_t *end);
/* When the next window opens after NOW (within a week), or 0. */
time_t	 policy_window_next(const struct pt_access *, const char *tz,
	    time_t now);
const char *policy_hhmm(time_t, const char *tz, char *, size_t);
const char *policy_when(time_t, const char *tz, char *, size_t);
const char *policy_zone(time_t, const char *tz, char *, size_t);
/* The local day as YYYYMMDD, for counting lockouts per day. */
int	 policy_day(time_t, const char *tz);
/* 1 if PEER ("addr:port", "[v6]:port") is in the vendor's sources. */
int	 policy_source_ok(const struct pt_vendor *, const char *peer);
/*
 * "90s", "5m", "4h", "1d", "1h30m" or a bare number of seconds: the
 * seconds, -1 if it is no duration, -2 if longer than MAX.
 */
int64_t	 policy_duration(const char *, int64_t max);
const char *policy_duration_str(int64_t secs, char *, size_t);
/* "YYYY-MM-DD HH:MM", "HH:MM" (the next one) or "now", in TZ; -1. */
time_t	 policy_parse_time(const char *, const char *tz, time_t now);
/*
 * The window a grant gives at NOW for a request from STARTS (0: now) for
 * DURATION seconds, clamped to MAX; late approvals keep the requested
 * end.  -1 if nothing of it is left.
 */
int	 policy_grant_window(time_t now, time_t starts, int64_t duration,
	    int64_t max, time_t *from, time_t *until);

/* ---- log.c --------------------------------------------------------------- */

void	log_init(int foreground, int facility);
/* The descriptor of syslog's socket, or -1: children keep it open. */
int	log_syslog_fd(void);
void	log_procname(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	logit(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* An alert: a syslog warning an operator must act upon. */
void	log_alert(const char *, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(const char *, ...)
    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
    __attribute__((format(printf, 1, 2)));

/* ---- util.c -------------------------------------------------------------- */

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
int	 xasprintf(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Wipe then free: for anything that held a secret. */
void	 freezero(void *, size_t);
void	 strzero(char *);
#ifndef HAVE_STRLCPY
size_t	 strlcpy(char *, const char *, size_t);
#endif
const char *sockaddr_str(const struct sockaddr *, socklen_t, char *, size_t);
int	 fd_nonblock(int);
int	 fd_cloexec(int);
void	 sid_new(char [PT_SID_LEN + 1]);
/* N bytes in lower-case hex: 2N digits and a NUL in OUT. */
void	 hex_encode(const uint8_t *, size_t n, char *out);
const char *time_iso(time_t, char *, size_t);
/* Words of a command line, shell-like quotes; -1 if it does not split. */
int	 cmdline_split(const char *line, char **argv, int max, char *buf,
	    size_t buflen);

/* ---- proc.c: the process table ------------------------------------------ */

/* The core processes are PROC_MONITOR to PROC_CONTROL: portierd.c starts,
 * lists and stops them in that order. */
enum pt_procid {
	PROC_PARENT = 0,
	PROC_MONITOR,
	PROC_RECORDER,
	PROC_NOTIFIER,
	PROC_CONTROL,
	PROC_SESSION,
	PROC_MAX
};

struct pt_proc {
	enum pt_procid	 p_id;
	const char	*p_title;	/* "monitor", used in logs and status */
	void		 (*p_run)(struct pt_config *, int parent_fd, int peer_fd);
	pid_t		 p_pid;		/* in the parent */
};

extern struct pt_proc	 pt_procs[PROC_MAX];
extern enum pt_procid	 pt_self;

const char	*proc_name(enum pt_procid);
/* Give up root for good: chroot, setgroups, setresgid, setresuid. */
void		 proc_drop_privs(struct pt_config *, const char *root);
void		 proc_setproctitle(const char *);

/* ---- sandbox.c: seccomp filters ----------------------------------------- */

enum sandbox_kind {
	SANDBOX_SESSION,	/* network bytes: the narrowest */
	SANDBOX_RECORDER,
	SANDBOX_CONTROL,
	SANDBOX_NOTIFY,		/* may open TCP connections, nothing else */
};
/* Install the filter; fatal on failure (a process never runs unconfined). */
void	sandbox_apply(enum sandbox_kind);

/* ---- portierd.c: the parent --------------------------------------------- */

/* What the parent resolved as root, before any process dropped it. */
struct pt_runtime {
	uid_t		 rt_uid;	/* the unprivileged user */
	gid_t		 rt_gid;
	gid_t		 rt_admin_gid;
	uid_t		*rt_admin_uids;	/* members of the admin group */
	size_t		 rt_nadmin_uids;
	int		 rt_control_fd;	/* listening control socket */
	int		 rt_foreground;
	time_t		 rt_started;
};
extern struct pt_runtime pt_rt;

/* ---- parent-rec.c: recording files, opened and moved by the parent ------- */

struct event_base;
struct msgchan;
struct msg_in;
void	parent_rec_init(struct pt_config *, struct event_base *);
int	parent_rec_file(struct msgchan *recorder, struct msg_in *);
int	parent_rec_target(struct msgchan *recorder, struct msg_in *);
int	parent_rec_sealed(struct msgchan *monitor, struct msg_in *);

/* ---- monitor-pam.c: one PAM conversation per helper process ------------- */

struct event_base;
struct pam_job;
/* Runs the PAM stack in a child; done(arg, ok, msg) is called once. */
struct pam_job	*pam_job_start(struct event_base *, const char *service,
		    const char *user, char *password, const char *rhost,
		    void (*done)(void *, int, const char *), void *arg);
void		 pam_job_cancel(struct pam_job *);

/* ---- monitor-notify.c ---- */

/* An event hospital IT is told about: syslog now, the webhook soon. */
struct notice {
	const char	*n_event;	/* "request.new", "request.approve", "request.deny",
					   "request.cancel", "access.emergency", "grant.revoke",
					   "session.kill", "user.lockout" */
	int64_t		 n_request;	/* 0: none */
	int64_t		 n_grant;	/* 0: none */
	const char	*n_user;	/* vendor's user, or NULL */
	const char	*n_vendor;
	const char	*n_target;
	const char	*n_actor;	/* who did it: "jdoe", "admin:alice", "portierd" */
	const char	*n_text;	/* reason / note, or NULL */
	int64_t		 n_starts, n_ends;	/* a window, 0: none */
	int		 n_emergency;
};
void	mon_notify(const struct notice *);

/* Longest strings a notice carries (NUL included); longer ones are cut. */
#define NOTICE_EVENT_MAX	64
#define NOTICE_NAME_MAX		256	/* user, vendor, target, actor */
#define NOTICE_TEXT_MAX		2048

/* ---- webhook.c: the webhook's URL, document and schedule (pure) ---------- */

struct webhook_url {
	int		 wu_tls;		/* https */
	char		 wu_host[256];		/* a name or an address, no [] */
	int		 wu_port;
	char		 wu_path[PT_WEBHOOK_URL_MAX];	/* "/..." with the query */
};
/* 0, or -1 and a static reason in *WHY. */
int	 webhook_url_parse(const char *, struct webhook_url *, const char **why);
/* The JSON document for a notice that happened at WHEN; malloc'd. */
char	*webhook_json(const struct notice *, time_t when, const char *bastion);
/* Seconds before the next attempt after FAILURES failed ones, the first
 * made at FIRST; -1: give up.  BASE is the first delay (5 s: 5 s, 30 s,
 * 2 min, then every 10 min, for an hour at most). */
int	 webhook_retry_delay(int failures, time_t first, time_t now, int base);
/* The status code of an HTTP/1.x status line, or -1. */
int	 webhook_status(const char *line);

/* ---- monitor.c, monitor-*.c: the monitor's internals --------------------- */

struct store;
struct msgchan;
struct msg_in;
struct monagent;

/* A session as the monitor sees it: a state gates what it may ask. */
enum mon_state {
	MS_NEW = 0x01,		/* the parent announced it */
	MS_HELLO = 0x02,	/* it introduced itself: may authenticate */
	MS_AUTH_WAIT = 0x04,	/* a PAM helper is running for it */
	MS_PASSWORD_OK = 0x08,	/* first factor passed: may send a code */
	MS_AUTHED = 0x10,	/* authenticated: may ask for a target */
	MS_AUTHZ = 0x20,	/* a target was allowed: may show its key */
	MS_HOSTKEY_OK = 0x40,	/* the target's key matched its pin */
	MS_RELAY = 0x80,	/* credentials given: relaying */
	MS_WAIT = 0x100,	/* waiting for IT to decide on its request */
};

/* What the monitor answers a login attempt. */
enum auth_result {
	AUTH_FAIL = 0,		/* try again (the text says how many left) */
	AUTH_NEED_CODE = 1,	/* password accepted: ask for the code */
	AUTH_OK = 2,
	AUTH_LOCKED = 3,	/* final: the account is locked */
	AUTH_DENIED = 4,	/* final: the account cannot log in */
};

struct msession {
	TAILQ_ENTRY(msession)	 ms_entry;
	char			 ms_sid[PT_SID_LEN + 1];
	char			 ms_peer[80];
	char			 ms_user[PT_NAME_MAX];
	char			 ms_target[PT_NAME_MAX];
	pid_t			 ms_pid;
	int			 ms_state;
	struct msgchan		*ms_chan;
	struct pam_job		*ms_pam;
	struct monagent		*ms_agent;
	int			 ms_gone;	/* channel closed */
	char			 ms_vendor[PT_NAME_MAX];
	char			 ms_asked[PT_NAME_MAX];	/* may request it */
	char			 ms_what[8];	/* "shell", "exec", "sftp" */
	int64_t			 ms_request;	/* the request it waits for */
	int64_t			 ms_grant;	/* the grant it uses, 0 */
	uint32_t		 ms_fwd;	/* PT_FWD_* it was told */
	time_t			 ms_since;
	time_t			 ms_window_end;	/* 0: not on a target yet */
	int64_t			 ms_bytes_in, ms_bytes_out;
	struct event		*ms_cut_ev;	/* kill if a cut is ignored */
	char			 ms_bye[200];	/* why it ended, it says */
	struct event		*ms_end_ev;	/* kill if the window end is */
};
TAILQ_HEAD(msessions, msession);

extern struct store	*mon_store;
extern struct pt_config	*mon_conf;
extern struct event_base *mon_base;
extern struct msgchan	*mon_parent;
struct msession	*mon_session_find(const char *sid);
/* Ask the parent to kill a session that broke the rules. */
void	mon_kill(struct msession *, const char *why);

/* monitor-auth.c: the session's questions, one handler per request. */
int	monauth_password(struct msession *, struct msg_in *);
int	monauth_code(struct msession *, struct msg_in *);
int	monauth_targets(struct msession *, struct msg_in *);
int	monauth_authz(struct msession *, struct msg_in *);
int	monauth_perms(struct msession *, struct msg_in *);
int	monauth_hostkey(struct msession *, struct msg_in *);
int	monauth_cred(struct msession *, struct msg_in *);
/* What the policy and the grants say of USER on TARGET now. */
struct mon_access {
	struct pt_vendor	*ma_vd;
	struct pt_access	*ma_ac;
	struct pt_target	*ma_tg;
	const char		*ma_deny;	/* for the audit; NULL: allowed */
	char			 ma_text[512];	/* for the vendor */
	time_t			 ma_end;	/* the window closes */
	int64_t			 ma_grant;	/* the grant it rests on, 0 */
	int			 ma_may_request;	/* closed, but may ask */
};
void	monauth_access(const char *user, const char *peer, const char *target,
	    const char *what, time_t now, struct mon_access *);
/* Let the session through: audit, connect upstream, answer. */
void	monauth_allow(struct msession *, struct mon_access *);
void	monauth_deny(struct msession *, const char *target,
	    const char *text, const char *why);
/* What the policy lets a vendor forward under an access: PT_FWD_*. */
uint32_t monauth_fwd(const struct pt_access *);
/* The vendor's timezone, for their windows. */
const char *monauth_tz(const char *user);
/* End a session: tell it, and kill it if it does not end. */
void	mon_cut(struct msession *, const char *text);
/* Walk the live sessions. */
struct msession *mon_session_first(void);
struct msession *mon_session_next(struct msession *);
/* A target was allowed: the recording is filed under it. */
void	mon_rec_target(struct msession *);
/* The window of a session on its target moved (or is set). */
void	mon_window_set(struct msession *, time_t end);
/* The host key last seen on a target without a pin. */
int	monauth_seen_key(const char *target, const char **type,
	    const char **blob, const char **fp);

/* monitor-agent.c: an ssh-agent holding one target key for one session. */
struct monagent	*monagent_new(const char *key_text, int *session_fd);
void		 monagent_free(struct monagent *);
/* Write an audit row and a log line; exits if the trail cannot be written. */
void	mon_audit(const char *actor, const char *event, const char *target,
	    const char *source, const char *session, const char *reason);
/* Load the vault key for one use; the caller wipes it. */
int	mon_vault_key(uint8_t key[32]);

/* monitor-ctl.c: administrators' requests, relayed by the control process.
 * Each message starts with the administrator's uid (added by control).
 * Returns 1 if the type is not one of its own, 0 handled, -1 malformed. */
int	monctl_dispatch(struct msgchan *, struct msg_in *);

/* One administrator's request being answered. */
struct monctl {
	struct msgchan	*c_chan;
	uint32_t	 c_id;
	char		 c_actor[80];	/* "admin:root" */
	char		 c_name[72];	/* "root" */
};
/* The administrator, from the uid control put first in the request. */
int	monctl_begin(struct monctl *, struct msgchan *, struct msg_in *);
int	monctl_ok(struct monctl *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Texts never hold a secret: they are logged. */
int	monctl_error(struct monctl *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* The store failed: rolled back, logged once and answered. */
int	monctl_store_error(struct monctl *);
/* Printable text: nothing that would drive a terminal showing it. */
int	monctl_printable(const char *);
int	monctl_name_ok(const char *);

/*
 * monitor-request.c: vendors' requests, administrators' decisions on
 * them, grants, live sessions and policy reloads.
 */
int	monreq_file(struct msession *, struct msg_in *);
int	monreq_cancel(struct msession *, struct msg_in *);
int	monreq_mine(struct msession *, struct msg_in *);
int	monreq_stats(struct msession *, struct msg_in *);
/* A waiting session went away: its request is cancelled. */
void	monreq_session_gone(struct msession *);
void	monreq_drop(struct msession *, const char *actor, const char *why);
/* Every minute: requests nobody answered in time expire. */
void	monreq_expire(void);
/* Shared with monitor-decide.c. */
int	monreq_text_ok(const char *);
struct store_request;
struct store_grant;
void	monreq_notify(const char *event, const struct store_request *,
	    const struct store_grant *, const char *actor, const char *text);
const char *monreq_span(const char *user, time_t from, time_t until,
	    char *, size_t);
struct msession *monreq_waiting(int64_t request);
/* A waiting session's request was granted: on to the target, if now. */
void	monreq_wake(struct msession *, const struct store_grant *);
/*
 * Look again at every session on a target: one no longer allowed is cut
 * with CAUSE, one whose window moved is told.  Returns how many were cut.
 */
int	monreq_reevaluate(const char *cause);

/* monitor-rec.c: recordings listed, held, and purged after retention. */
int	monrec_dispatch(struct monctl *, struct msg_in *);
void	monrec_sealed(const char *sid, const char *path, int ok,
	    int64_t bytes, const char *text);
void	monrec_purge(void);

/* monitor-decide.c: administrators' decisions, grants, sessions, reload. */
int	mondecide_dispatch(struct monctl *, struct msg_in *);
/* Read the policies again: 0 and what changed, or -1 and why not, in
 * TEXT; the policies in force stay when -1. */
int	monreq_reload(const char *actor, char *text, size_t textlen);


/* totp.c: RFC 6238 codes, SHA-1, 6 digits, 30-second steps. */
#define TOTP_SEED_LEN	20
#define TOTP_STEP	30
int	totp_seed_new(uint8_t seed[TOTP_SEED_LEN]);
/* "otpauth://totp/Portier:USER?secret=BASE32&issuer=Portier&..." */
char	*totp_uri(const char *issuer, const char *user,
	    const uint8_t *seed, size_t seedlen);
/* 0 and *STEP (the matching time step) if CODE is valid at NOW within
 * +-WINDOW steps; -1 otherwise. */
int	totp_verify(const uint8_t *seed, size_t seedlen, const char *code,
	    time_t now, int window, int64_t *step);

/* ---- monitor.c, recorder.c, control.c, session.c: process bodies -------- */

void	monitor_run(struct pt_config *, int parent_fd, int peer_fd);
void	recorder_run(struct pt_config *, int parent_fd, int peer_fd);
void	control_run(struct pt_config *, int parent_fd, int peer_fd);
void	notifier_run(struct pt_config *, int parent_fd, int peer_fd);

struct session_args {
	char		 sa_sid[PT_SID_LEN + 1];
	int		 sa_client;	/* the vendor's connection */
	int		 sa_parent;	/* channel to the parent */
	int		 sa_monitor;	/* channel to the monitor */
	int		 sa_recorder;	/* channel to the recorder */
	enum pt_proto	 sa_proto;
	char		 sa_peer[80];	/* vendor's address, for messages */
	char		 sa_local[80];
};
void	session_run(struct pt_config *, struct session_args *);

#endif /* PORTIER_H */
