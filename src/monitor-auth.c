/*
 * monitor-auth.c: the monitor's answers to a session's questions, from
 * the first factor to the target's credentials.
 *
 *	AUTH_PASSWORD	PAM, in a helper process (monitor-pam.c)
 *	AUTH_CODE	TOTP; a code already used is refused, for good
 *	TARGETS		what this user may pick, with each window's state
 *	AUTHZ		policy, source address, window; then the parent
 *			connects to the target for the session
 *	HOSTKEY		the target's key against the pin an admin set
 *	CRED		a password, or an agent that signs with the key
 *
 * Three failures in a row lock an account; the vendor is told until
 * when.  Logins that do not exist count failures and lock the same way,
 * in memory, so the answers never tell whether a login exists.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portier.h"
#include "msg.h"
#include "store.h"

#define AUTH_MAX_FAILURES	3
#define PHANTOMS		256

/* Failures of logins that do not exist, kept like real ones. */
static struct phantom {
	char		 ph_name[PT_NAME_MAX];
	int		 ph_failures;
	time_t		 ph_locked_until;
} phantoms[PHANTOMS];
static size_t	 phantom_next;

/* Host keys seen on targets without a pin, for `portierctl target trust`. */
struct seen_key {
	char		 sk_target[PT_NAME_MAX];
	char		 sk_type[64];
	char		 sk_blob[4096];
	char		 sk_fp[80];
};
static struct seen_key	 seen_keys[16];
static size_t		 seen_next;

const char *
monauth_tz(const char *user)
{
	struct pt_vendor *vd = config_vendor_of_user(mon_conf, user);

	if (vd != NULL && vd->vd_timezone != NULL)
		return vd->vd_timezone;
	return mon_conf->cf_timezone;
}

static struct phantom *
phantom_get(const char *name)
{
	struct phantom	*ph;
	size_t		 i;

	for (i = 0; i < PHANTOMS; i++)
		if (strcmp(phantoms[i].ph_name, name) == 0)
			return &phantoms[i];
	ph = &phantoms[phantom_next++ % PHANTOMS];
	memset(ph, 0, sizeof(*ph));
	strlcpy(ph->ph_name, name, sizeof(ph->ph_name));
	return ph;
}

static void
auth_reply(struct msession *ms, enum auth_result r, const char *text)
{
	struct msg	*m = m_create(MSG_MON_AUTH_RESULT, 0, -1);

	m_add_u32(m, r);
	m_add_str(m, text);
	msgchan_send(ms->ms_chan, m);
}

/* A known, enabled user of a vendor in the policy. */
static int
auth_known(const char *user, struct store_user *su)
{
	if (store_user_get(mon_store, user, su) != STORE_OK || su->su_disabled)
		return 0;
	return config_vendor_of_user(mon_conf, user) != NULL;
}

/* Is USER locked now?  Fills TEXT for the vendor. */
static int
auth_locked(const char *user, char *text, size_t len)
{
	struct store_user	 su;
	struct phantom		*ph;
	time_t			 now = time(NULL), until = 0;
	char			 hhmm[16];

	if (auth_known(user, &su))
		until = (time_t)su.su_locked_until;
	else if ((ph = phantom_get(user)) != NULL)
		until = ph->ph_locked_until;
	if (until <= now)
		return 0;
	snprintf(text, len, "Account locked after too many failed attempts, "
	    "until %s; try again then or ask hospital IT",
	    policy_hhmm(until, monauth_tz(user), hhmm, sizeof(hhmm)));
	return 1;
}

/* Count a failure; lock at the third.  Returns the reply to send. */
static enum auth_result
auth_failed(struct msession *ms, const char *what, char *text, size_t len)
{
	struct store_user	 su;
	struct phantom		*ph = NULL;
	time_t			 now = time(NULL), until;
	int			 failures = 0, lockouts = 0, known;
	char			 hhmm[16], reason[128];

	known = auth_known(ms->ms_user, &su);
	if (known) {
		if (store_user_fail(mon_store, ms->ms_user, &failures) < 0)
			log_warnx("store: %s", store_error(mon_store));
	} else {
		ph = phantom_get(ms->ms_user);
		failures = ++ph->ph_failures;
	}
	mon_audit(ms->ms_user, "auth.fail", NULL, ms->ms_peer, ms->ms_sid,
	    what);
	if (failures < AUTH_MAX_FAILURES) {
		snprintf(text, len, "%s incorrect (%d attempt%s left)", what,
		    AUTH_MAX_FAILURES - failures,
		    AUTH_MAX_FAILURES - failures > 1 ? "s" : "");
		return AUTH_FAIL;
	}
	until = now + mon_conf->cf_lockout;
	if (known) {
		if (store_user_lockout(mon_store, ms->ms_user, until,
		    policy_day(now, monauth_tz(ms->ms_user)), &lockouts) < 0)
			log_warnx("store: %s", store_error(mon_store));
	} else {
		ph->ph_failures = 0;
		ph->ph_locked_until = until;
	}
	snprintf(reason, sizeof(reason), "%d failures; locked for %d s",
	    AUTH_MAX_FAILURES, mon_conf->cf_lockout);
	mon_audit(ms->ms_user, "auth.lockout", NULL, ms->ms_peer, ms->ms_sid,
	    reason);
	{
		struct pt_vendor *vd = config_vendor_of_user(mon_conf,
		    ms->ms_user);
		char		  note[256];

		snprintf(note, sizeof(note), "%s; last from %s", reason,
		    ms->ms_peer);
		mon_notify(&(struct notice){ .n_event = "user.lockout",
		    .n_user = ms->ms_user, .n_vendor = known && vd != NULL ?
		    vd->vd_name : NULL, .n_actor = "portierd",
		    .n_text = note, .n_ends = until });
	}
	if (lockouts >= 3) {
		snprintf(reason, sizeof(reason), "%d lockouts today",
		    lockouts);
		log_alert("account %s locked out %d times today (last from "
		    "%s)", ms->ms_user, lockouts, ms->ms_peer);
		mon_audit(ms->ms_user, "auth.lockout.alert", NULL, ms->ms_peer,
		    ms->ms_sid, reason);
	}
	snprintf(text, len, "%s incorrect. Too many failed attempts: account "
	    "locked until %s", what,
	    policy_hhmm(until, monauth_tz(ms->ms_user), hhmm, sizeof(hhmm)));
	return AUTH_LOCKED;
}

static void
auth_pam_done(void *arg, int ok, const char *msg)
{
	struct msession		*ms = arg;
	struct store_user	 su;
	struct store_totp	 tt;
	enum auth_result	 r;
	char			 text[256] = "";

	ms->ms_pam = NULL;
	if (ms->ms_gone)
		return;
	/* The same answer whether the password or the login was wrong. */
	if (!ok || !auth_known(ms->ms_user, &su)) {
		r = auth_failed(ms, "Password", text, sizeof(text));
		ms->ms_state = MS_HELLO;
		auth_reply(ms, r, text);
		return;
	}
	memset(&tt, 0, sizeof(tt));
	if (store_totp_get(mon_store, ms->ms_user, &tt) != STORE_OK) {
		mon_audit(ms->ms_user, "auth.deny", NULL, ms->ms_peer,
		    ms->ms_sid, "no verification code app enrolled");
		auth_reply(ms, AUTH_DENIED, "No verification code app is "
		    "enrolled for this account; ask hospital IT to enrol one "
		    "(portierctl totp enroll)");
		ms->ms_state = MS_HELLO;
		return;
	}
	free(tt.tt_sealed);
	mon_audit(ms->ms_user, "auth.password.ok", NULL, ms->ms_peer,
	    ms->ms_sid, NULL);
	ms->ms_state = MS_PASSWORD_OK;
	auth_reply(ms, AUTH_NEED_CODE, "");
}

int
monauth_password(struct msession *ms, struct msg_in *mi)
{
	char	 user[PT_NAME_MAX], password[512], text[256];
	int	 rc = -1;

	if (m_get_str(mi, user, sizeof(user)) == -1 ||
	    m_get_str(mi, password, sizeof(password)) == -1 ||
	    m_end(mi) == -1)
		goto done;
	rc = 0;
	/* A session keeps the login it started with. */
	if (ms->ms_user[0] != '\0' && strcmp(ms->ms_user, user) != 0) {
		rc = -1;
		goto done;
	}
	strlcpy(ms->ms_user, user, sizeof(ms->ms_user));
	if (auth_locked(user, text, sizeof(text))) {
		mon_audit(user, "auth.locked", NULL, ms->ms_peer, ms->ms_sid,
		    "login attempt while locked");
		auth_reply(ms, AUTH_LOCKED, text);
		goto done;
	}
	ms->ms_state = MS_AUTH_WAIT;
	ms->ms_pam = pam_job_start(mon_base, mon_conf->cf_pam_service, user,
	    password, ms->ms_peer, auth_pam_done, ms);
	if (ms->ms_pam == NULL) {
		log_warn("session %s: cannot start a PAM helper", ms->ms_sid);
		ms->ms_state = MS_HELLO;
		auth_reply(ms, AUTH_DENIED, "Authentication is unavailable; "
		    "try again later");
	}
done:
	explicit_bzero(password, sizeof(password));
	return rc;
}

int
monauth_code(struct msession *ms, struct msg_in *mi)
{
	struct store_totp	 tt;
	uint8_t			 key[VAULT_KEY_LEN], *seed = NULL;
	size_t			 seedlen = 0;
	char			 code[16], aad[PT_NAME_MAX + 8], text[256];
	int64_t			 step = 0;
	int			 ok = 0, replay = 0, rc;
	enum auth_result	 r;

	if (m_get_str(mi, code, sizeof(code)) == -1 || m_end(mi) == -1)
		return -1;
	memset(&tt, 0, sizeof(tt));
	snprintf(aad, sizeof(aad), "totp:%s", ms->ms_user);
	if (store_totp_get(mon_store, ms->ms_user, &tt) == STORE_OK &&
	    mon_vault_key(key) == 0) {
		if (vault_open(key, aad, tt.tt_sealed, tt.tt_sealedlen, &seed,
		    &seedlen) == 0) {
			ok = totp_verify(seed, seedlen, code, time(NULL), 1,
			    &step) == 0;
			freezero(seed, seedlen);
		} else
			log_warnx("session %s: the TOTP seed of %s does not "
			    "open with the vault key", ms->ms_sid,
			    ms->ms_user);
		explicit_bzero(key, sizeof(key));
	}
	free(tt.tt_sealed);
	if (ok) {
		/* Each step once: a code seen on a shoulder is worthless. */
		rc = store_totp_use_step(mon_store, ms->ms_user, step);
		if (rc == STORE_REFUSED) {
			ok = 0;
			replay = 1;
		} else if (rc != STORE_OK) {
			log_warnx("store: %s", store_error(mon_store));
			ok = 0;
		}
	}
	explicit_bzero(code, sizeof(code));
	if (!ok) {
		r = auth_failed(ms, replay ? "Verification code already used; "
		    "wait for the next one. Code" : "Verification code",
		    text, sizeof(text));
		ms->ms_state = MS_HELLO;
		auth_reply(ms, r, text);
		return 0;
	}
	if (!tt.tt_confirmed) {
		store_totp_confirm(mon_store, ms->ms_user);
		mon_audit(ms->ms_user, "totp.confirm", NULL, ms->ms_peer,
		    ms->ms_sid, "first code entered");
	}
	store_user_reset_failures(mon_store, ms->ms_user);
	mon_audit(ms->ms_user, "auth.ok", NULL, ms->ms_peer, ms->ms_sid,
	    "password and verification code");
	ms->ms_state = MS_AUTHED;
	auth_reply(ms, AUTH_OK, "");
	return 0;
}

/* ---- targets ----------------------------------------------------------- */

static void
authz_reply(struct msession *ms, int ok, const char *text,
    const char *account, time_t end, uint32_t fwd)
{
	struct msg	*m = m_create(MSG_MON_AUTHZ_RESULT, 0, -1);

	m_add_u32(m, ok);
	m_add_str(m, text);
	m_add_str(m, account);
	m_add_i64(m, (int64_t)end);
	m_add_u32(m, fwd);
	msgchan_send(ms->ms_chan, m);
}

/* What the policy lets this vendor forward on AC's target: PT_FWD_*. */
uint32_t
monauth_fwd(const struct pt_access *ac)
{
	uint32_t	 fwd = 0;

	if (ac == NULL)
		return 0;
	fwd |= (uint32_t)ac->ac_forwarding & (PT_FWD_LOCAL | PT_FWD_REMOTE);
	if (ac->ac_agent)
		fwd |= PT_FWD_AGENT;
	if (ac->ac_x11)
		fwd |= PT_FWD_X11;
	return fwd;
}

/*
 * A login that names its target gets asked, before any channel, for
 * agent or X11 forwarding or ssh -R: the session must answer at once,
 * so it asks what the policy allows there.  The window is not looked
 * at (the target itself is decided by MSG_MON_AUTHZ), nor audited.
 */
int
monauth_perms(struct msession *ms, struct msg_in *mi)
{
	struct pt_vendor	*vd;
	struct msg		*m;
	char			 target[PT_NAME_MAX];
	uint32_t		 fwd = 0;

	if (m_get_str(mi, target, sizeof(target)) == -1 || m_end(mi) == -1)
		return -1;
	if ((vd = config_vendor_of_user(mon_conf, ms->ms_user)) != NULL &&
	    config_target(mon_conf, target) != NULL)
		fwd = monauth_fwd(config_access(vd, target));
	m = m_create(MSG_MON_PERMS_RESULT, 0, -1);
	m_add_u32(m, fwd);
	msgchan_send(ms->ms_chan, m);
	return 0;
}


/*
 * How the target stands for this user now: 1 if open (and *END, *GRANT),
 * with a word for the menu in TEXT.  A grant (an approved request) opens
 * it as a scheduled window does; the later end wins.
 */
static int
authz_status(const char *user, struct pt_vendor *vd, struct pt_access *ac,
    time_t now, time_t *end, int64_t *grant, char *text, size_t len)
{
	const char		*tz = monauth_tz(user);
	struct store_grant	 g;
	char			 when[32];
	time_t			 next, wend = 0;
	int			 open;

	*grant = 0;
	open = policy_window_now(ac, tz, now, &wend);
	if (store_grant_find(mon_store, user, vd->vd_name, ac->ac_target,
	    now, STORE_GRANT_NOW, &g) == STORE_OK && g.gr_ends > wend) {
		wend = g.gr_ends;
		*grant = g.gr_id;
		open = 1;
	}
	if (open) {
		*end = wend;
		if (wend - now < 20 * 3600)
			policy_hhmm(wend, tz, when, sizeof(when));
		else
			policy_when(wend, tz, when, sizeof(when));
		snprintf(text, len, "open until %s%s", when,
		    *grant != 0 ? " (approved)" : "");
		return 1;
	}
	next = policy_window_next(ac, tz, now);
	if (store_grant_find(mon_store, user, vd->vd_name, ac->ac_target,
	    now, STORE_GRANT_NEXT, &g) == STORE_OK &&
	    (next == 0 || g.gr_starts < next))
		snprintf(text, len, "closed, approved from %s",
		    policy_when(g.gr_starts, tz, when, sizeof(when)));
	else if (next != 0)
		snprintf(text, len, "closed, next window %s%s",
		    policy_when(next, tz, when, sizeof(when)),
		    ac->ac_approval ? ", or ask for approval" : "");
	else if (ac->ac_approval)
		snprintf(text, len, "closed, needs approval");
	else
		snprintf(text, len, "closed");
	return 0;
}

int
monauth_targets(struct msession *ms, struct msg_in *mi)
{
	struct pt_vendor	*vd;
	struct pt_access	*ac;
	struct pt_target	*tg;
	struct msg		*m;
	char			 text[128];
	time_t			 end;
	int64_t			 grant;
	int			 open;

	if (m_end(mi) == -1)
		return -1;
	if ((vd = config_vendor_of_user(mon_conf, ms->ms_user)) != NULL) {
		TAILQ_FOREACH(ac, &vd->vd_access, ac_entry) {
			if ((tg = config_target(mon_conf,
			    ac->ac_target)) == NULL)
				continue;
			open = authz_status(ms->ms_user, vd, ac, time(NULL),
			    &end, &grant, text, sizeof(text));
			m = m_create(MSG_MON_TARGET, 0, -1);
			m_add_str(m, tg->tg_name);
			m_add_str(m, config_proto_name(tg->tg_proto));
			m_add_str(m, text);
			m_add_u32(m, open);
			msgchan_send(ms->ms_chan, m);
		}
	}
	msgchan_send(ms->ms_chan, m_create(MSG_MON_TARGETS_END, 0, -1));
	return 0;
}

void
monauth_access(const char *user, const char *peer, const char *target,
    const char *what, time_t now, struct mon_access *ma)
{
	struct pt_vendor	*vd;
	char			 why[256];

	memset(ma, 0, sizeof(*ma));
	if ((vd = ma->ma_vd = config_vendor_of_user(mon_conf, user)) != NULL) {
		ma->ma_tg = config_target(mon_conf, target);
		ma->ma_ac = config_access(vd, target);
	}
	/* Each refusal: words for the vendor, a reason for the audit. */
	if (vd == NULL || ma->ma_tg == NULL || ma->ma_ac == NULL) {
		snprintf(ma->ma_text, sizeof(ma->ma_text), "%s is not a "
		    "target you may use; connect without a target to see "
		    "yours", target);
		ma->ma_deny = vd == NULL ? "user no longer in the policy" :
		    ma->ma_tg == NULL ? "target not in the policy" :
		    "target not in the vendor's policy";
	} else if (ma->ma_tg->tg_proto != PT_PROTO_SSH) {
		snprintf(ma->ma_text, sizeof(ma->ma_text), "%s is reached "
		    "over %s, not SSH", target,
		    config_proto_name(ma->ma_tg->tg_proto));
		ma->ma_deny = "wrong protocol";
	} else if (strcmp(what, "sftp") == 0 && !ma->ma_ac->ac_sftp) {
		snprintf(ma->ma_text, sizeof(ma->ma_text), "File transfer "
		    "(SFTP) to %s is not allowed by your vendor's policy",
		    target);
		ma->ma_deny = "sftp not allowed by the policy";
	} else if (strcmp(what, "forward") == 0 &&
	    !(ma->ma_ac->ac_forwarding & PT_FWD_LOCAL)) {
		snprintf(ma->ma_text, sizeof(ma->ma_text), "Port forwarding "
		    "to %s is not allowed by your vendor's policy", target);
		ma->ma_deny = "forwarding not allowed by the policy";
	} else if (!policy_source_ok(vd, peer)) {
		snprintf(ma->ma_text, sizeof(ma->ma_text), "Connections from "
		    "%s are not declared for %s; ask hospital IT to declare "
		    "your address", peer, vd->vd_name);
		ma->ma_deny = "undeclared source address";
	} else if (!authz_status(user, vd, ma->ma_ac, now, &ma->ma_end,
	    &ma->ma_grant, why, sizeof(why))) {
		ma->ma_may_request = ma->ma_ac->ac_approval ||
		    ma->ma_ac->ac_emergency_max > 0;
		snprintf(ma->ma_text, sizeof(ma->ma_text), "No window is open "
		    "for you on %s (%s).%s", target, why,
		    ma->ma_may_request ? "" : " Ask hospital IT for one.");
		ma->ma_deny = "no open window";
	}
}

void
monauth_deny(struct msession *ms, const char *target, const char *text,
    const char *why)
{
	mon_audit(ms->ms_user, "access.deny", target, ms->ms_peer, ms->ms_sid,
	    why);
	authz_reply(ms, 0, text, "", 0, 0);
}

void
monauth_allow(struct msession *ms, struct mon_access *ma)
{
	struct msg	*m;
	char		 why[256], until[32];
	size_t		 n;

	n = (size_t)snprintf(why, sizeof(why), "%s open until %s",
	    ma->ma_grant != 0 ? "approved window" : "window",
	    policy_when(ma->ma_end, monauth_tz(ms->ms_user), until,
	    sizeof(until)));
	if (ma->ma_grant != 0 && n < sizeof(why))
		snprintf(why + n, sizeof(why) - n, " (grant #%lld)",
		    (long long)ma->ma_grant);
	mon_audit(ms->ms_user, "access.allow", ma->ma_tg->tg_name,
	    ms->ms_peer, ms->ms_sid, why);
	if (store_session_set(mon_store, ms->ms_sid, ms->ms_user,
	    ma->ma_vd->vd_name, ma->ma_tg->tg_name, NULL) < 0)
		log_warnx("store: %s", store_error(mon_store));
	strlcpy(ms->ms_target, ma->ma_tg->tg_name, sizeof(ms->ms_target));
	strlcpy(ms->ms_vendor, ma->ma_vd->vd_name, sizeof(ms->ms_vendor));
	ms->ms_grant = ma->ma_grant;
	ms->ms_fwd = monauth_fwd(ma->ma_ac);
	ms->ms_asked[0] = '\0';
	ms->ms_state = MS_AUTHZ;
	mon_window_set(ms, ma->ma_end);
	mon_rec_target(ms);

	/* The parent opens the connection: sessions cannot connect(). */
	m = m_create(MSG_PARENT_UPSTREAM, 0, -1);
	m_add_str(m, ms->ms_sid);
	m_add_str(m, ma->ma_tg->tg_host);
	m_add_u32(m, (uint32_t)ma->ma_tg->tg_port);
	msgchan_send(mon_parent, m);
	authz_reply(ms, 1, "", ma->ma_tg->tg_account, ma->ma_end,
	    ms->ms_fwd);
}

int
monauth_authz(struct msession *ms, struct msg_in *mi)
{
	struct mon_access	 ma;
	struct msg		*m;
	char			 target[PT_NAME_MAX], what[16];

	if (m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_str(mi, what, sizeof(what)) == -1 || m_end(mi) == -1)
		return -1;
	if (strcmp(what, "shell") != 0 && strcmp(what, "exec") != 0 &&
	    strcmp(what, "sftp") != 0 && strcmp(what, "forward") != 0)
		return -1;
	strlcpy(ms->ms_what, what, sizeof(ms->ms_what));
	monauth_access(ms->ms_user, ms->ms_peer, target, what, time(NULL),
	    &ma);
	if (ma.ma_deny == NULL) {
		monauth_allow(ms, &ma);
		return 0;
	}
	if (!ma.ma_may_request) {
		monauth_deny(ms, target, ma.ma_text, ma.ma_deny);
		return 0;
	}
	/* The vendor may ask IT for a window from this very session. */
	mon_audit(ms->ms_user, "access.deny", target, ms->ms_peer, ms->ms_sid,
	    ma.ma_deny);
	strlcpy(ms->ms_asked, target, sizeof(ms->ms_asked));
	m = m_create(MSG_MON_AUTHZ_ASK, 0, -1);
	m_add_str(m, ma.ma_text);
	m_add_i64(m, ma.ma_ac->ac_approval ? ma.ma_ac->ac_approval_max : 0);
	m_add_i64(m, ma.ma_ac->ac_emergency_max);
	msgchan_send(ms->ms_chan, m);
	return 0;
}

/* ---- the target's host key ---------------------------------------------- */

static void
hostkey_seen(const char *target, const char *type, const char *blob,
    const char *fp)
{
	struct seen_key	*sk = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(seen_keys) / sizeof(seen_keys[0]); i++)
		if (strcmp(seen_keys[i].sk_target, target) == 0)
			sk = &seen_keys[i];
	if (sk == NULL)
		sk = &seen_keys[seen_next++ %
		    (sizeof(seen_keys) / sizeof(seen_keys[0]))];
	strlcpy(sk->sk_target, target, sizeof(sk->sk_target));
	strlcpy(sk->sk_type, type, sizeof(sk->sk_type));
	strlcpy(sk->sk_blob, blob, sizeof(sk->sk_blob));
	strlcpy(sk->sk_fp, fp, sizeof(sk->sk_fp));
}

/* The key last seen on TARGET, for `portierctl target trust`. */
int
monauth_seen_key(const char *target, const char **type, const char **blob,
    const char **fp)
{
	size_t	 i;

	for (i = 0; i < sizeof(seen_keys) / sizeof(seen_keys[0]); i++) {
		if (strcmp(seen_keys[i].sk_target, target) != 0)
			continue;
		*type = seen_keys[i].sk_type;
		*blob = seen_keys[i].sk_blob;
		*fp = seen_keys[i].sk_fp;
		return 0;
	}
	return -1;
}

static void
hostkey_reply(struct msession *ms, int ok, const char *text)
{
	struct msg	*m = m_create(MSG_MON_HOSTKEY_RESULT, 0, -1);

	m_add_u32(m, ok);
	m_add_str(m, text);
	msgchan_send(ms->ms_chan, m);
}

int
monauth_hostkey(struct msession *ms, struct msg_in *mi)
{
	struct store_pin	 pin;
	char			 type[64], blob[4096], fp[80], text[256];
	int			 rc;

	if (m_get_str(mi, type, sizeof(type)) == -1 ||
	    m_get_str(mi, blob, sizeof(blob)) == -1 ||
	    m_get_str(mi, fp, sizeof(fp)) == -1 || m_end(mi) == -1)
		return -1;
	memset(&pin, 0, sizeof(pin));
	rc = store_target_pin_get(mon_store, ms->ms_target, &pin);
	if (rc == STORE_OK && pin.sp_type[0] != '\0' &&
	    strcmp(pin.sp_type, type) == 0 && strcmp(pin.sp_blob, blob) == 0) {
		ms->ms_state = MS_HOSTKEY_OK;
		hostkey_reply(ms, 1, "");
		return 0;
	}
	hostkey_seen(ms->ms_target, type, blob, fp);
	if (rc != STORE_OK || pin.sp_type[0] == '\0') {
		mon_audit(ms->ms_user, "target.hostkey.untrusted",
		    ms->ms_target, ms->ms_peer, ms->ms_sid, fp);
		snprintf(text, sizeof(text), "The host key of %s is not "
		    "trusted yet; hospital IT must check and trust it "
		    "(portierctl target trust %s)", ms->ms_target,
		    ms->ms_target);
	} else {
		log_alert("host key of target %s changed: pinned %s, now %s; "
		    "session %s refused", ms->ms_target, pin.sp_sha256, fp,
		    ms->ms_sid);
		mon_audit(ms->ms_user, "target.hostkey.mismatch",
		    ms->ms_target, ms->ms_peer, ms->ms_sid, fp);
		snprintf(text, sizeof(text), "The host key of %s does not "
		    "match the one hospital IT trusted: connection refused. "
		    "Hospital IT has been alerted", ms->ms_target);
	}
	hostkey_reply(ms, 0, text);
	return 0;
}

/* ---- credentials --------------------------------------------------------- */

int
monauth_cred(struct msession *ms, struct msg_in *mi)
{
	struct pt_target	*tg;
	enum store_cred_kind	 kind = 0;
	uint8_t			 key[VAULT_KEY_LEN], *sealed = NULL;
	uint8_t			*secret = NULL;
	size_t			 sealedlen = 0, secretlen = 0;
	char			 aad[2 * PT_NAME_MAX + 16];
	struct msg		*m;
	int			 fd = -1, ok = 0;

	if (m_end(mi) == -1)
		return -1;
	tg = config_target(mon_conf, ms->ms_target);
	if (tg != NULL && store_cred_get(mon_store, ms->ms_target,
	    tg->tg_account, &kind, &sealed, &sealedlen) == STORE_OK &&
	    mon_vault_key(key) == 0) {
		snprintf(aad, sizeof(aad), "target:%s:%s", ms->ms_target,
		    tg->tg_account);
		ok = vault_open(key, aad, sealed, sealedlen, &secret,
		    &secretlen) == 0;
		explicit_bzero(key, sizeof(key));
	}
	free(sealed);
	if (!ok) {
		mon_audit(ms->ms_user, "access.fail", ms->ms_target,
		    ms->ms_peer, ms->ms_sid, "no usable credential for the "
		    "target account");
		m = m_create(MSG_MON_CRED_RESULT, 0, -1);
		m_add_u32(m, 0);
		m_add_data(m, "", 0);
		msgchan_send(ms->ms_chan, m);
		return 0;
	}
	if (kind == STORE_CRED_KEY) {
		/* The key stays here; the session gets an agent to ask. */
		monagent_free(ms->ms_agent);
		ms->ms_agent = monagent_new((const char *)secret, &fd);
		freezero(secret, secretlen);
		m = m_create(MSG_MON_CRED_RESULT, 0, fd);
		m_add_u32(m, ms->ms_agent != NULL ? STORE_CRED_KEY : 0);
		m_add_data(m, "", 0);
	} else {
		m = m_create(MSG_MON_CRED_RESULT, 0, -1);
		m_add_u32(m, STORE_CRED_PASSWORD);
		m_add_data(m, secret, secretlen);
		freezero(secret, secretlen);
	}
	ms->ms_state = MS_RELAY;
	mon_audit(ms->ms_user, "session.target.login", ms->ms_target,
	    ms->ms_peer, ms->ms_sid, kind == STORE_CRED_KEY ?
	    "as the policy's account, with the vaulted key" :
	    "as the policy's account, with the vaulted password");
	msgchan_send(ms->ms_chan, m);
	return 0;
}
