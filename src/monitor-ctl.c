/*
 * monitor-ctl.c: administrators' requests: vendors' users, their public
 * keys and TOTP enrolments, and the credentials Portier logs in to
 * targets with.
 *
 * The control process relays each request from portierctl with the
 * caller's uid in front, taken from the kernel (SO_PEERCRED), never from
 * the client; the audit trail names the caller "admin:NAME".  The policy
 * stays the authority on who and what exists: a user is added only under
 * the vendor the policy declares it in, a credential only for the account
 * the policy names on its target.  Every change and its audit row commit
 * in one transaction.
 *
 * Secrets (TOTP seeds, target passwords and private keys) are sealed in
 * the vault before they reach the store, are never logged nor audited,
 * and every buffer that held one is wiped.  A TOTP seed leaves the
 * monitor once: in the answer to its enrolment, as the otpauth:// URI the
 * vendor's authenticator app scans.
 *
 * A request that does not parse is a protocol violation (-1); one that
 * parses but cannot be granted gets a CTL_ERROR saying what to do.
 */
#include "config.h"

#include <ctype.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>

#include "portier.h"
#include "msg.h"
#include "store.h"

#define TOTP_ISSUER	"Portier"
#define CTL_TEXT_MAX	1024	/* an answer's text */
/*
 * Names are read into buffers larger than any valid one, so that a long
 * name gets an answer instead of cutting the channel, then checked to be
 * at most STORE_NAME_MAX (64) bytes; "%.64s" below only tells the
 * compiler so.
 */
#define CTL_STR_MAX	512
#define CTL_LINE_MAX	(STORE_KEYBLOB_MAX + 1024)	/* a .pub line */
#define CRED_PASSWORD_MAX 1024
#define CRED_KEY_MAX	(16 * 1024)
#define KEY_COMMENT_MAX	256
#define RSA_MIN_BITS	3072

/* ---- answering ---------------------------------------------------------- */

static void	monctl_answer(struct monctl *, enum msg_type, const char *,
		    va_list) __attribute__((format(printf, 3, 0)));

static void
monctl_answer(struct monctl *c, enum msg_type type, const char *fmt,
    va_list ap)
{
	char		 text[CTL_TEXT_MAX];
	struct msg	*m;

	vsnprintf(text, sizeof(text), fmt, ap);
	if (type == MSG_CTL_ERROR)
		log_info("control: %s: refused: %s", c->c_actor, text);
	m = m_create(type, c->c_id, -1);
	m_add_str(m, text);
	msgchan_send(c->c_chan, m);
}

int
monctl_ok(struct monctl *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	monctl_answer(c, MSG_CTL_OK, fmt, ap);
	va_end(ap);
	return 0;
}

/* Texts never hold a secret: they are logged. */
int
monctl_error(struct monctl *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	monctl_answer(c, MSG_CTL_ERROR, fmt, ap);
	va_end(ap);
	return 0;
}

/* The store failed: logged once, as a warning, and answered. */
int
monctl_store_error(struct monctl *c)
{
	char		 text[CTL_TEXT_MAX];
	struct msg	*m;

	log_warnx("control: %s: store: %s", c->c_actor,
	    store_error(mon_store));
	snprintf(text, sizeof(text), "the store failed: %s",
	    store_error(mon_store));
	store_tx_rollback(mon_store);
	m = m_create(MSG_CTL_ERROR, c->c_id, -1);
	m_add_str(m, text);
	msgchan_send(c->c_chan, m);
	return 0;
}

/* The administrator, from the uid control put first in the request. */
int
monctl_begin(struct monctl *c, struct msgchan *mc, struct msg_in *mi)
{
	struct passwd	*pw;
	uint32_t	 uid;

	if (m_get_u32(mi, &uid) == -1)
		return -1;
	c->c_chan = mc;
	c->c_id = mi->mi_id;
	if ((pw = getpwuid((uid_t)uid)) != NULL &&
	    strlen(pw->pw_name) < sizeof(c->c_name))
		strlcpy(c->c_name, pw->pw_name, sizeof(c->c_name));
	else
		snprintf(c->c_name, sizeof(c->c_name), "uid=%u", uid);
	snprintf(c->c_actor, sizeof(c->c_actor), "admin:%s", c->c_name);
	return 0;
}

/* Printable text: nothing that would drive a terminal showing it. */
int
monctl_printable(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
monctl_name_ok(const char *s)
{
	return *s != '\0' && strlen(s) <= STORE_NAME_MAX && monctl_printable(s);
}

/* ---- users ---------------------------------------------------------------- */

static int
monctl_user_add(struct monctl *c, struct msg_in *mi)
{
	char			 user[CTL_STR_MAX], vendor[CTL_STR_MAX];
	char			 fullname[CTL_STR_MAX], reason[160];
	struct pt_vendor	*vd, *owner;
	struct pt_vuser		*vu;
	int			 rc;

	if (m_get_str(mi, user, sizeof(user)) == -1 ||
	    m_get_str(mi, vendor, sizeof(vendor)) == -1 ||
	    m_get_str(mi, fullname, sizeof(fullname)) == -1 ||
	    m_end(mi) == -1)
		return -1;
	/* As the policy grammar has them: the advice below must be doable. */
	if (!config_name_ok(user) || !monctl_name_ok(vendor))
		return monctl_error(c, "bad user name \"%s\": use 1 to %d "
		    "letters, digits, '.', '_' or '-', beginning with a letter "
		    "or digit, as in the policy", monctl_printable(user) ?
		    user : "?", PT_NAME_MAX - 1);
	if (strlen(fullname) > STORE_FULLNAME_MAX ||
	    !monctl_printable(fullname))
		return monctl_error(c, "a full name is at most %d printable "
		    "bytes", STORE_FULLNAME_MAX);

	/* The policy declares who may exist; the store only follows it. */
	if ((vd = config_vendor(mon_conf, vendor)) == NULL) {
		vd = TAILQ_FIRST(&mon_conf->cf_vendors);
		return monctl_error(c, "no vendor \"%s\" in the policy: "
		    "declare it in a policy file such as %s (vendor \"%s\" "
		    "{ user \"%s\" ... }), then run portierctl reload", vendor,
		    vd ? vd->vd_file : mon_conf->cf_file, vendor, user);
	}
	if ((owner = config_vendor_of_user(mon_conf, user)) == NULL)
		return monctl_error(c, "user \"%s\" is not in the policy: add "
		    "the line 'user \"%s\"' to vendor \"%s\" in %s (line %d), "
		    "then run portierctl reload", user, user, vendor, vd->vd_file,
		    vd->vd_line);
	if (owner != vd) {
		TAILQ_FOREACH(vu, &owner->vd_users, vu_entry)
			if (strcmp(vu->vu_name, user) == 0)
				break;
		return monctl_error(c, "the policy declares user \"%s\" under "
		    "vendor \"%s\" (%s:%d), not \"%s\": add it with --vendor "
		    "%s, or move its line in the policy and run portierctl "
		    "reload",
		    user, owner->vd_name, vu ? vu->vu_file : owner->vd_file,
		    vu ? vu->vu_line : owner->vd_line, vendor,
		    owner->vd_name);
	}

	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	rc = store_vendor_add(mon_store, vendor);
	if (rc != STORE_OK && rc != STORE_EXISTS)
		return monctl_store_error(c);
	rc = store_user_add(mon_store, user, vendor, fullname);
	if (rc == STORE_EXISTS) {
		store_tx_rollback(mon_store);
		return monctl_error(c, "user %s already exists", user);
	}
	if (rc != STORE_OK)
		return monctl_store_error(c);
	snprintf(reason, sizeof(reason), "vendor %.64s", vendor);
	mon_audit(c->c_actor, "user.add", user, NULL, NULL, reason);
	if (store_tx_commit(mon_store) != STORE_OK)
		return monctl_store_error(c);
	return monctl_ok(c, "user %s added to vendor %s; next, enrol their "
	    "verification code app: portierctl totp enroll %s", user, vendor,
	    user);
}

struct user_walk {
	struct monctl	*uw_ctl;
	int		 uw_err;
};

static int
monctl_user_row(const struct store_user *su, void *arg)
{
	struct user_walk	*uw = arg;
	struct store_totp	 tt;
	struct msg		*m;
	uint32_t		 totp;
	int			 rc;

	/* 0: none, 1: waiting for the first code, 2: active. */
	rc = store_totp_get(mon_store, su->su_name, &tt);
	if (rc == STORE_NOENT)
		totp = 0;
	else if (rc == STORE_OK) {
		totp = tt.tt_confirmed ? 2 : 1;
		free(tt.tt_sealed);
	} else {
		uw->uw_err = 1;
		return 1;
	}
	m = m_create(MSG_CTL_USER_INFO, uw->uw_ctl->c_id, -1);
	m_add_str(m, su->su_name);
	m_add_str(m, su->su_vendor);
	m_add_str(m, su->su_fullname);
	m_add_u32(m, totp);
	m_add_i64(m, su->su_locked_until);
	m_add_u32(m, (uint32_t)su->su_failures);
	/* The store keeps whom the policy dropped: they cannot log in. */
	m_add_u32(m, config_vendor_of_user(mon_conf, su->su_name) != NULL);
	return msgchan_send(uw->uw_ctl->c_chan, m) == -1 ? 1 : 0;
}

static int
monctl_user_list(struct monctl *c, struct msg_in *mi)
{
	struct user_walk	 uw = { c, 0 };
	int			 rc;

	if (m_end(mi) == -1)
		return -1;
	rc = store_user_list(mon_store, monctl_user_row, &uw);
	if (rc < 0 || uw.uw_err)
		return monctl_store_error(c);
	if (rc == 0)
		msgchan_send(c->c_chan, m_create(MSG_CTL_END, c->c_id, -1));
	return 0;
}

static int
monctl_user_unlock(struct monctl *c, struct msg_in *mi)
{
	char			 user[CTL_STR_MAX], reason[128], when[32];
	struct store_user	 su;
	int			 rc;

	if (m_get_str(mi, user, sizeof(user)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monctl_name_ok(user))
		return monctl_error(c, "no such user: %s", user);
	if ((rc = store_user_get(mon_store, user, &su)) == STORE_NOENT)
		return monctl_error(c, "no such user: %s", user);
	if (rc != STORE_OK)
		return monctl_store_error(c);
	if (su.su_locked_until > (int64_t)time(NULL))
		snprintf(reason, sizeof(reason), "was locked until %s",
		    time_iso((time_t)su.su_locked_until, when, sizeof(when)));
	else
		snprintf(reason, sizeof(reason), "was not locked; %d failures "
		    "cleared", su.su_failures);
	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	if ((rc = store_user_unlock(mon_store, user)) == STORE_NOENT) {
		store_tx_rollback(mon_store);
		return monctl_error(c, "no such user: %s", user);
	}
	if (rc != STORE_OK)
		return monctl_store_error(c);
	mon_audit(c->c_actor, "user.unlock", user, NULL, NULL, reason);
	if (store_tx_commit(mon_store) != STORE_OK)
		return monctl_store_error(c);
	return monctl_ok(c, "%s unlocked (%s)", user, reason);
}

/* ---- public keys ---------------------------------------------------------- */

/* The modulus size of an ssh-rsa public key blob, in base64; -1 if bad. */
static int
monctl_rsa_bits(const char *b64)
{
	unsigned char	*blob, *p;
	size_t		 inlen = strlen(b64), len, pad = 0, n;
	uint32_t	 field[3];
	int		 i, bits = -1, olen;

	if (inlen == 0 || inlen % 4 != 0)
		return -1;
	blob = xmalloc(inlen / 4 * 3);
	if ((olen = EVP_DecodeBlock(blob, (const unsigned char *)b64,
	    (int)inlen)) < 0)
		goto done;
	pad = (b64[inlen - 1] == '=') + (b64[inlen - 2] == '=');
	len = (size_t)olen - pad;
	/* string "ssh-rsa", mpint e, mpint n */
	for (p = blob, i = 0; i < 3; i++) {
		if ((size_t)(blob + len - p) < 4)
			goto done;
		field[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
		p += 4;
		if (field[i] > (size_t)(blob + len - p))
			goto done;
		if (i < 2)
			p += field[i];
	}
	for (n = field[2]; n > 0 && *p == 0; n--)
		p++;
	if (n == 0)
		goto done;
	bits = (int)(n - 1) * 8;
	for (i = *p; i != 0; i >>= 1)
		bits++;
done:
	free(blob);
	return bits;
}

/* The SHA256:... fingerprint of KEY into BUF. */
static const char *
monctl_fingerprint(ssh_key key, char *buf, size_t bufsz)
{
	unsigned char	*hash = NULL;
	size_t		 hlen = 0;
	char		*fp;

	strlcpy(buf, "SHA256:?", bufsz);
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != 0)
		return buf;
	if ((fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
	    hlen)) != NULL) {
		strlcpy(buf, fp, bufsz);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
	return buf;
}

/*
 * Check a vendor's public key: a kind a modern sshd accepts and an
 * attacker cannot factor.  Returns NULL, or why not into WHY.
 */
static const char *
monctl_pubkey_check(ssh_key key, const char *b64, char *why, size_t whylen)
{
	int	 bits;

	switch (ssh_key_type(key)) {
	case SSH_KEYTYPE_ED25519:
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
		return NULL;
	case SSH_KEYTYPE_RSA:
		if ((bits = monctl_rsa_bits(b64)) >= RSA_MIN_BITS)
			return NULL;
		snprintf(why, whylen, "this RSA key has %d bits; %d at least "
		    "are required (ssh-keygen -t ed25519 makes a better key)",
		    bits, RSA_MIN_BITS);
		return why;
	case SSH_KEYTYPE_DSS:
		snprintf(why, whylen, "DSA keys are refused: they are too "
		    "weak and OpenSSH dropped them; use ssh-keygen -t ed25519");
		return why;
	default:
		snprintf(why, whylen, "%s keys are not accepted; use "
		    "ssh-ed25519, ecdsa-sha2-nistp256/384/521 or RSA of %d "
		    "bits or more", ssh_key_type_to_char(ssh_key_type(key)),
		    RSA_MIN_BITS);
		return why;
	}
}

static int
monctl_user_key_add(struct monctl *c, struct msg_in *mi)
{
	char			 user[CTL_STR_MAX], line[CTL_LINE_MAX];
	char			 fp[STORE_FP_MAX + 1], why[256], reason[160];
	char			*type, *b64, *comment, *canon = NULL, *p;
	const char		*ktype, *err = NULL;
	enum ssh_keytypes_e	 kt;
	ssh_key			 key = NULL;
	int			 rc;

	if (m_get_str(mi, user, sizeof(user)) == -1 ||
	    m_get_str(mi, line, sizeof(line)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monctl_name_ok(user))
		return monctl_error(c, "no such user: %s", user);

	/* "type base64 [comment]", as in a .pub file. */
	line[strcspn(line, "\r\n")] = '\0';
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	type = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " \t");
	b64 = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	comment = p + strspn(p, " \t");
	for (p = comment + strlen(comment); p > comment &&
	    (p[-1] == ' ' || p[-1] == '\t'); p--)
		p[-1] = '\0';
	if (*type == '\0' || *b64 == '\0')
		return monctl_error(c, "expected an OpenSSH public key line: "
		    "TYPE BASE64 [COMMENT], as in a .pub file");
	if (strlen(b64) > STORE_KEYBLOB_MAX)
		return monctl_error(c, "the key is longer than %d characters",
		    STORE_KEYBLOB_MAX);
	if (strlen(comment) > KEY_COMMENT_MAX || !monctl_printable(comment))
		return monctl_error(c, "the key's comment must be at most %d "
		    "printable characters", KEY_COMMENT_MAX);
	if ((kt = ssh_key_type_from_name(type)) == SSH_KEYTYPE_UNKNOWN ||
	    !monctl_printable(type))
		return monctl_error(c, "unknown key type \"%.64s\": expected "
		    "an OpenSSH public key line (TYPE BASE64 [COMMENT])",
		    monctl_printable(type) ? type : "?");
	if (ssh_pki_import_pubkey_base64(b64, kt, &key) != SSH_OK) {
		err = "the key does not decode: is it a whole public key line?";
		goto refuse;
	}
	/*
	 * libssh trusts the type it is given; the blob names its own.  Both
	 * agree only if the key writes back to the very same text.
	 */
	if (ssh_pki_export_pubkey_base64(key, &canon) != SSH_OK ||
	    strcmp(canon, b64) != 0 ||
	    ssh_key_type_from_name(type) != ssh_key_type(key)) {
		err = "the key's data does not match its type";
		goto refuse;
	}
	if ((err = monctl_pubkey_check(key, b64, why, sizeof(why))) != NULL)
		goto refuse;
	ktype = ssh_key_type_to_char(ssh_key_type(key));
	monctl_fingerprint(key, fp, sizeof(fp));

	if (store_tx_begin(mon_store) != STORE_OK) {
		rc = monctl_store_error(c);
		goto out;
	}
	rc = store_user_key_add(mon_store, user, ktype, b64, comment);
	if (rc == STORE_NOENT || rc == STORE_EXISTS) {
		store_tx_rollback(mon_store);
		if (rc == STORE_NOENT)
			snprintf(why, sizeof(why), "no such user: %.64s",
			    user);
		else
			snprintf(why, sizeof(why), "this key (%s) is already "
			    "registered; a key names one person", fp);
		err = why;
		goto refuse;
	}
	if (rc != STORE_OK) {
		rc = monctl_store_error(c);
		goto out;
	}
	snprintf(reason, sizeof(reason), "%s %s", ktype, fp);
	mon_audit(c->c_actor, "user.key.add", user, NULL, NULL, reason);
	if (store_tx_commit(mon_store) != STORE_OK)
		rc = monctl_store_error(c);
	else
		rc = monctl_ok(c, "%s key %s added to %s", ktype, fp, user);
	goto out;
refuse:
	rc = monctl_error(c, "%s", err);
out:
	ssh_string_free_char(canon);
	ssh_key_free(key);
	return rc;
}

/* ---- TOTP ----------------------------------------------------------------- */

static int
monctl_totp_enroll(struct monctl *c, struct msg_in *mi)
{
	char			 user[CTL_STR_MAX], aad[STORE_NAME_MAX + 8];
	const char		*reason;
	uint8_t			 seed[TOTP_SEED_LEN], key[VAULT_KEY_LEN];
	uint8_t			*sealed = NULL;
	size_t			 sealedlen = 0;
	struct store_user	 su;
	struct store_totp	 tt;
	struct msg		*m;
	char			*uri = NULL;
	uint32_t		 force;
	int			 rc, had = 0, active = 0;

	if (m_get_str(mi, user, sizeof(user)) == -1 ||
	    m_get_u32(mi, &force) == -1 || m_end(mi) == -1)
		return -1;
	if (!monctl_name_ok(user))
		return monctl_error(c, "no such user: %s", user);
	if ((rc = store_user_get(mon_store, user, &su)) == STORE_NOENT)
		return monctl_error(c, "no such user: %s; add them first with "
		    "portierctl user add %s --vendor VENDOR", user, user);
	if (rc != STORE_OK)
		return monctl_store_error(c);
	if ((rc = store_totp_get(mon_store, user, &tt)) == STORE_OK) {
		had = 1;
		active = tt.tt_confirmed;
		free(tt.tt_sealed);
	} else if (rc != STORE_NOENT)
		return monctl_store_error(c);
	/* An app in use is replaced only on purpose. */
	if (active && !force)
		return monctl_error(c, "%s already has an active verification "
		    "code app; re-enrol with --force (the old one stops "
		    "working)", user);

	if (totp_seed_new(seed) == -1) {
		log_warn("control: totp_seed_new");
		return monctl_error(c, "no random bytes for a new seed");
	}
	snprintf(aad, sizeof(aad), "totp:%.64s", user);
	if (mon_vault_key(key) == -1) {
		rc = monctl_error(c, "the vault key cannot be read; see the "
		    "daemon's log");
		goto done;
	}
	rc = vault_seal(key, aad, seed, sizeof(seed), &sealed, &sealedlen);
	explicit_bzero(key, sizeof(key));
	if (rc != 0) {
		log_warnx("control: %s: vault_seal failed", c->c_actor);
		rc = monctl_error(c, "the seed could not be sealed");
		goto done;
	}
	if ((uri = totp_uri(TOTP_ISSUER, user, seed, sizeof(seed))) == NULL) {
		rc = monctl_error(c, "cannot make the enrolment URI");
		goto done;
	}
	explicit_bzero(seed, sizeof(seed));

	if (store_tx_begin(mon_store) != STORE_OK) {
		rc = monctl_store_error(c);
		goto done;
	}
	if (store_totp_set(mon_store, user, sealed, sealedlen) != STORE_OK) {
		rc = monctl_store_error(c);
		goto done;
	}
	if (active)
		reason = "replaces the active enrolment (--force); pending "
		    "until the first code at login";
	else if (had)
		reason = "replaces an unconfirmed enrolment; pending until "
		    "the first code at login";
	else
		reason = "pending until the first code at login";
	mon_audit(c->c_actor, "totp.enroll", user, NULL, NULL, reason);
	if (store_tx_commit(mon_store) != STORE_OK) {
		rc = monctl_store_error(c);
		goto done;
	}
	/* The only time the seed leaves the monitor; m_free() wipes it. */
	m = m_create(MSG_CTL_TOTP_URI, c->c_id, -1);
	m_add_str(m, uri);
	msgchan_send(c->c_chan, m);
	rc = 0;
done:
	explicit_bzero(seed, sizeof(seed));
	strzero(uri);
	free(sealed);
	return rc;
}

/* ---- target credentials --------------------------------------------------- */

/* A passphrase-protected key must fail, never prompt on a terminal. */
static int
monctl_no_passphrase(const char *prompt, char *buf, size_t len, int echo,
    int verify, void *arg)
{
	return -1;
}

static int
monctl_cred_set(struct monctl *c, struct msg_in *mi)
{
	char			 target[CTL_STR_MAX], account[CTL_STR_MAX];
	char			 aad[2 * STORE_NAME_MAX + 16], reason[192];
	char			 full[sizeof(reason) + 32];
	char			 fp[STORE_FP_MAX + 1], *text = NULL;
	char			*pub = NULL, why[192];
	const char		*what;
	const uint8_t		*secret;
	uint8_t			 key[VAULT_KEY_LEN], *sealed = NULL, *old;
	size_t			 len, sealedlen = 0, oldlen;
	struct pt_target	*tg;
	enum store_cred_kind	 oldkind;
	ssh_key			 sk = NULL;
	uint32_t		 kind;
	int			 rc, replaced = 0;

	if (m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_str(mi, account, sizeof(account)) == -1 ||
	    m_get_u32(mi, &kind) == -1 ||
	    m_get_data(mi, &secret, &len) == -1 || m_end(mi) == -1)
		return -1;
	/* SECRET points into the message, which the channel wipes. */
	if (kind != STORE_CRED_PASSWORD && kind != STORE_CRED_KEY)
		return monctl_error(c, "unknown credential kind %u", kind);
	what = kind == STORE_CRED_KEY ? "key" : "password";
	if (!monctl_name_ok(target) ||
	    (tg = config_target(mon_conf, target)) == NULL)
		return monctl_error(c, "no target \"%s\" in the policy: "
		    "declare it in a policy file (target \"%s\" { address ... "
		    "account ... }), then run portierctl reload",
		    monctl_printable(target) ? target : "?",
		    monctl_printable(target) ? target : "?");
	/* The policy names the one account Portier logs in as. */
	if (tg->tg_account == NULL)
		return monctl_error(c, "target %s has no account in the policy "
		    "(%s:%d): add   account \"%s\"   to it, then run "
		    "portierctl reload", target, tg->tg_file, tg->tg_line,
		    monctl_printable(account) ? account : "?");
	if (!monctl_name_ok(account) || strcmp(account, tg->tg_account) != 0)
		return monctl_error(c, "target %s logs in as \"%s\" (its "
		    "account in %s:%d), not \"%s\": set the credential of %s, "
		    "or change the policy", target, tg->tg_account,
		    tg->tg_file, tg->tg_line,
		    monctl_printable(account) ? account : "?", tg->tg_account);
	if (len == 0)
		return monctl_error(c, "the %s is empty", what);
	if (memchr(secret, '\0', len) != NULL)
		return monctl_error(c, "the %s holds a NUL byte", what);
	if (kind == STORE_CRED_PASSWORD && len > CRED_PASSWORD_MAX)
		return monctl_error(c, "the password is longer than %d bytes",
		    CRED_PASSWORD_MAX);
	if (kind == STORE_CRED_KEY && len > CRED_KEY_MAX)
		return monctl_error(c, "the key file is longer than %d bytes",
		    CRED_KEY_MAX);

	snprintf(reason, sizeof(reason), "account %.64s, password",
	    account);
	if (kind == STORE_CRED_KEY) {
		/* The sealed text is the key file as given: libssh reads it
		 * back the way it was checked here. */
		text = xmalloc(len + 1);
		memcpy(text, secret, len);
		text[len] = '\0';
		if (ssh_pki_import_privkey_base64(text, NULL,
		    monctl_no_passphrase, NULL, &sk) != SSH_OK) {
			rc = monctl_error(c, "the private key does not parse, "
			    "or is protected by a passphrase: Portier needs an "
			    "OpenSSH private key without one");
			goto done;
		}
		/* What a vendor's key must be, the target's must be too. */
		if (ssh_pki_export_pubkey_base64(sk, &pub) != SSH_OK) {
			rc = monctl_error(c, "the key's public half cannot be "
			    "derived");
			goto done;
		}
		if (monctl_pubkey_check(sk, pub, why, sizeof(why)) != NULL) {
			rc = monctl_error(c, "%s; install the new key's public "
			    "half for %s on %s", why, account, target);
			goto done;
		}
		monctl_fingerprint(sk, fp, sizeof(fp));
		snprintf(reason, sizeof(reason), "account %.64s, key %s %s",
		    account, ssh_key_type_to_char(ssh_key_type(sk)), fp);
	}

	snprintf(aad, sizeof(aad), "target:%.64s:%.64s", target,
	    account);
	if (mon_vault_key(key) == -1) {
		rc = monctl_error(c, "the vault key cannot be read; see the "
		    "daemon's log");
		goto done;
	}
	rc = vault_seal(key, aad, secret, len, &sealed, &sealedlen);
	explicit_bzero(key, sizeof(key));
	if (rc != 0) {
		log_warnx("control: %s: vault_seal failed", c->c_actor);
		rc = monctl_error(c, "the %s could not be sealed", what);
		goto done;
	}

	if (store_tx_begin(mon_store) != STORE_OK) {
		rc = monctl_store_error(c);
		goto done;
	}
	rc = store_target_add(mon_store, target);
	if (rc != STORE_OK && rc != STORE_EXISTS) {
		rc = monctl_store_error(c);
		goto done;
	}
	if (store_cred_get(mon_store, target, account, &oldkind, &old,
	    &oldlen) == STORE_OK) {
		replaced = 1;
		free(old);
	}
	if (store_cred_set(mon_store, target, account, kind, sealed,
	    sealedlen) != STORE_OK) {
		rc = monctl_store_error(c);
		goto done;
	}
	if (replaced) {
		snprintf(full, sizeof(full), "%s; replaces the previous one",
		    reason);
		strlcpy(reason, full, sizeof(reason));
	}
	mon_audit(c->c_actor, "target.credential.set", target, NULL, NULL,
	    reason);
	if (store_tx_commit(mon_store) != STORE_OK) {
		rc = monctl_store_error(c);
		goto done;
	}
	rc = monctl_ok(c, "%s: the %s of %s is %s, sealed in the vault%s%s",
	    target, what, account, replaced ? "replaced" : "set",
	    kind == STORE_CRED_KEY ? "; key " : "",
	    kind == STORE_CRED_KEY ? fp : "");
done:
	if (text != NULL)
		freezero(text, len + 1);
	ssh_string_free_char(pub);
	ssh_key_free(sk);
	free(sealed);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------- */

/* ---- target host keys ------------------------------------------------------ */

/*
 * Without a fingerprint: show the key the target presented (or the pin).
 * With one: pin that key, if it is still the one seen.  An administrator
 * compares the fingerprint with the equipment's own before saying yes.
 */
static int
monctl_target_trust(struct monctl *c, struct msg_in *mi)
{
	struct store_pin	 pin;
	const char		*type, *blob, *seen_fp;
	char			 target[CTL_STR_MAX], fp[80];
	struct msg		*m;
	int			 rc, pinned;

	if (m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_str(mi, fp, sizeof(fp)) == -1 || m_end(mi) == -1)
		return -1;
	if (!monctl_name_ok(target) || config_target(mon_conf, target) == NULL)
		return monctl_error(c, "no target \"%s\" in the policy",
		    target);
	memset(&pin, 0, sizeof(pin));
	rc = store_target_pin_get(mon_store, target, &pin);
	pinned = rc == STORE_OK && pin.sp_type[0] != '\0';
	if (monauth_seen_key(target, &type, &blob, &seen_fp) == -1) {
		if (!pinned)
			return monctl_error(c, "Portier has not seen the host "
			    "key of %s yet: it is recorded when a vendor first "
			    "connects to it (the connection is refused until the "
			    "key is trusted); then run this command again",
			    target);
		type = pin.sp_type;
		seen_fp = pin.sp_sha256;
		blob = NULL;
	}
	if (fp[0] == '\0') {
		m = m_create(MSG_CTL_TARGET_KEY, c->c_id, -1);
		m_add_str(m, target);
		m_add_str(m, type);
		m_add_str(m, seen_fp);
		m_add_u32(m, pinned && strcmp(pin.sp_sha256, seen_fp) == 0);
		msgchan_send(c->c_chan, m);
		msgchan_send(c->c_chan, m_create(MSG_CTL_END, c->c_id, -1));
		return 0;
	}
	if (blob == NULL || strcmp(fp, seen_fp) != 0)
		return monctl_error(c, "the key %s presents changed since it "
		    "was shown; run the command again", target);
	memset(&pin, 0, sizeof(pin));
	strlcpy(pin.sp_type, type, sizeof(pin.sp_type));
	strlcpy(pin.sp_sha256, seen_fp, sizeof(pin.sp_sha256));
	strlcpy(pin.sp_blob, blob, sizeof(pin.sp_blob));
	strlcpy(pin.sp_trusted_by, c->c_actor, sizeof(pin.sp_trusted_by));
	pin.sp_trusted_at = time(NULL);
	if (store_tx_begin(mon_store) != STORE_OK)
		return monctl_store_error(c);
	rc = store_target_add(mon_store, target);
	if ((rc != STORE_OK && rc != STORE_EXISTS) ||
	    store_target_pin_set(mon_store, target, &pin) != STORE_OK) {
		store_tx_rollback(mon_store);
		return monctl_store_error(c);
	}
	mon_audit(c->c_actor, "target.trust", target, NULL, NULL, seen_fp);
	if (store_tx_commit(mon_store) != STORE_OK)
		return monctl_store_error(c);
	return monctl_ok(c, "%s: host key %s %s is now trusted", target,
	    type, seen_fp);
}

int
monctl_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	struct monctl	 c;

	if (!msg_ctl_admin(mi->mi_type))
		return 1;
	memset(&c, 0, sizeof(c));
	if (monctl_begin(&c, mc, mi) == -1)
		return -1;
	switch (mi->mi_type) {
	case MSG_CTL_USER_ADD:
		return monctl_user_add(&c, mi);
	case MSG_CTL_USER_LIST:
		return monctl_user_list(&c, mi);
	case MSG_CTL_USER_UNLOCK:
		return monctl_user_unlock(&c, mi);
	case MSG_CTL_TARGET_TRUST:
		return monctl_target_trust(&c, mi);
	case MSG_CTL_USER_KEY_ADD:
		return monctl_user_key_add(&c, mi);
	case MSG_CTL_TOTP_ENROLL:
		return monctl_totp_enroll(&c, mi);
	case MSG_CTL_CRED_SET:
		return monctl_cred_set(&c, mi);
	default:
		return mondecide_dispatch(&c, mi);
	}
}
