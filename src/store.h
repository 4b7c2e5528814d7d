/*
 * store.h: Portier's persistent state, its audit trail and its vault.
 *
 * The store is one SQLite file owned by the monitor: vendors, users and
 * their keys, targets with their host-key pins and sealed credentials,
 * TOTP enrolments, access requests, grants, sessions and the audit
 * trail.  store.c opens it and migrates its schema (store-schema.c)
 * forward; store-user.c, store-target.c and store-session.c read and
 * write their rows; audit.c appends to and verifies the hash-chained
 * audit table; vault.c seals secrets with AES-256-GCM before they are
 * stored.
 *
 * These modules return codes and never log: the caller logs once, with
 * store_error() when it needs the reason.  Every time is in seconds since
 * the epoch, UTC.  This header is self-contained: portierctl and the tests
 * include it without portier.h.
 */
#ifndef PORTIER_STORE_H
#define PORTIER_STORE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/* ---- store.c: opening, migrating, transactions --------------------------- */

#define STORE_VERSION		4	/* the schema this build writes */
#define STORE_APPLICATION_ID	0x506f7274	/* "Port" */

#define STORE_NAME_MAX		64	/* vendor, user, target, account */
#define STORE_FULLNAME_MAX	128
#define STORE_KEYTYPE_MAX	64	/* "ssh-ed25519", "rsa-sha2-512" ... */
#define STORE_KEYBLOB_MAX	4096	/* base64 of a public key */
#define STORE_FP_MAX		64	/* "SHA256:" and 43 base64 digits */

/* Return codes.  Anything < 0 is an error; store_error() says which. */
#define STORE_ERR		(-1)
#define STORE_OK		0
#define STORE_NOENT		1	/* no such row (or the row it names) */
#define STORE_EXISTS		2	/* the row is already there */
#define STORE_REFUSED		3	/* a rule said no: TOTP step replay */

struct store;
struct sqlite3;

/*
 * Open (creating if needed, mode 0600) the store at PATH and migrate it to
 * STORE_VERSION.  A store file open to group or others, a file that is not
 * a Portier store and a schema newer than this build are refused.  On
 * failure ERR says why and *OUT is NULL.
 */
int	 store_open(const char *path, struct store **out, char *err,
	    size_t errlen);
void	 store_close(struct store *);
/* The schema version of the open file (STORE_VERSION once opened). */
int	 store_version(struct store *);
/* Why the last call on this store failed. */
const char *store_error(struct store *);
/* The SQLite handle, for audit.c and the tests; nothing else needs it. */
struct sqlite3 *store_db(struct store *);

/*
 * Group several changes into one transaction (BEGIN IMMEDIATE: the write
 * lock is taken at once).  audit_append() joins an open transaction, so a
 * decision and its audit row commit together or not at all.
 */
int	 store_tx_begin(struct store *);
int	 store_tx_commit(struct store *);
void	 store_tx_rollback(struct store *);

/* ---- store-user.c: vendors, users, their keys and TOTP ------------------- */

/* Names are 1 to STORE_NAME_MAX bytes. */
struct store_user {
	char		 su_name[STORE_NAME_MAX + 1];
	char		 su_vendor[STORE_NAME_MAX + 1];
	char		 su_fullname[STORE_FULLNAME_MAX + 1]; /* "": unset */
	int64_t		 su_created;
	int		 su_disabled;
	int64_t		 su_locked_until;	/* 0: not locked */
	int		 su_failures;		/* since the last success */
	int		 su_lockouts_today;
	int		 su_lockout_day;	/* the day they count */
};

/* STORE_EXISTS if the vendor is already there. */
int	 store_vendor_add(struct store *, const char *name);
/* STORE_NOENT if the vendor is unknown, STORE_EXISTS for a taken name. */
int	 store_user_add(struct store *, const char *name, const char *vendor,
	    const char *fullname);
int	 store_user_get(struct store *, const char *name, struct store_user *);
/*
 * Call CB for each user, by vendor then name.  A CB returning non-zero
 * stops the walk, and store_user_list() returns that value.
 */
int	 store_user_list(struct store *,
	    int (*cb)(const struct store_user *, void *), void *arg);
int	 store_user_disable(struct store *, const char *name, int disabled);
/* Count one more failed login; *FAILURES gets the new count. */
int	 store_user_fail(struct store *, const char *name, int *failures);
/*
 * Lock the account until UNTIL and clear its failures.  DAY names the
 * caller's local day (e.g. 20250314); *LOCKOUTS gets the number of
 * lockouts on that day, this one included.
 */
int	 store_user_lockout(struct store *, const char *name, int64_t until,
	    int day, int *lockouts);
/* After a successful login. */
int	 store_user_reset_failures(struct store *, const char *name);
/* An administrator lifts a lockout. */
int	 store_user_unlock(struct store *, const char *name);

/*
 * Public keys.  A key (type and blob) belongs to one user at most:
 * adding it twice is STORE_EXISTS.  store_user_key_find() fills USER with
 * the key's owner.
 */
int	 store_user_key_add(struct store *, const char *user, const char *type,
	    const char *blob, const char *comment);
int	 store_user_key_del(struct store *, const char *user, const char *type,
	    const char *blob);
int	 store_user_key_find(struct store *, const char *type, const char *blob,
	    char user[STORE_NAME_MAX + 1]);

/*
 * TOTP enrolments.  Setting a seed starts a new, unconfirmed enrolment.
 * store_totp_use_step() accepts STEP only if it is later than the last
 * step used, in one statement, so a code is never accepted twice:
 * STORE_REFUSED otherwise.
 */
struct store_totp {
	uint8_t		*tt_sealed;	/* allocated; free() it */
	size_t		 tt_sealedlen;
	int		 tt_confirmed;
	int64_t		 tt_last_step;	/* 0: never used */
	int64_t		 tt_created;
};
int	 store_totp_set(struct store *, const char *user, const uint8_t *sealed,
	    size_t sealedlen);
int	 store_totp_get(struct store *, const char *user, struct store_totp *);
int	 store_totp_confirm(struct store *, const char *user);
int	 store_totp_use_step(struct store *, const char *user, int64_t step);
int	 store_totp_del(struct store *, const char *user);

/* ---- store-target.c: targets, host-key pins, sealed credentials ---------- */

struct store_pin {
	char		 sp_type[STORE_KEYTYPE_MAX + 1];
	char		 sp_sha256[STORE_FP_MAX + 1];
	char		 sp_blob[STORE_KEYBLOB_MAX + 1];
	char		 sp_trusted_by[STORE_NAME_MAX + 1];
	int64_t		 sp_trusted_at;
};

enum store_cred_kind {
	STORE_CRED_PASSWORD = 1,
	STORE_CRED_KEY = 2,
};

/* STORE_EXISTS if the target is already there. */
int	 store_target_add(struct store *, const char *name);
/* Replace the pin.  STORE_NOENT if the target is unknown. */
int	 store_target_pin_set(struct store *, const char *target,
	    const struct store_pin *);
/* STORE_NOENT if the target is unknown or not pinned. */
int	 store_target_pin_get(struct store *, const char *target,
	    struct store_pin *);
/* SEALED is vault_seal() output; the store never sees a plaintext. */
int	 store_cred_set(struct store *, const char *target, const char *account,
	    enum store_cred_kind, const uint8_t *sealed, size_t sealedlen);
/* *SEALED is allocated; free() it. */
int	 store_cred_get(struct store *, const char *target, const char *account,
	    enum store_cred_kind *, uint8_t **sealed, size_t *sealedlen);
int	 store_cred_del(struct store *, const char *target,
	    const char *account);

/* ---- store-session.c: one row per vendor connection --------------------- */

/*
 * A session row is created when the connection is accepted
 * (SID from sid_new()), completed as authentication and target selection
 * proceed (NULL arguments leave a column as it is), and ended once.
 */
int	 store_session_begin(struct store *, const char *sid,
	    const char *source, pid_t pid);
int	 store_session_set(struct store *, const char *sid, const char *user,
	    const char *vendor, const char *target, const char *recording);
int	 store_session_bytes(struct store *, const char *sid, int64_t in,
	    int64_t out);
/* STORE_NOENT if there is no live session SID. */
int	 store_session_end(struct store *, const char *sid, const char *reason);
/* End every live session (after a restart); returns how many, or -1. */
int	 store_session_end_all(struct store *, const char *reason);
/* The number of sessions not ended, or -1. */
int	 store_session_count_live(struct store *);

/* ---- store-request.c: access requests and the grants they give --------- */

#define STORE_TEXT_MAX		1024	/* a reason, a note */
#define STORE_ACTOR_MAX		80	/* "admin:alice", "jdoe" */

/*
 * A vendor's request for a window on a target.  STARTS 0: as soon as it
 * is approved.  States: pending, approved, denied, cancelled, expired.
 * Nothing is ever deleted: the history stays for the auditors.
 */
struct store_request {
	int64_t		 rq_id;
	char		 rq_user[STORE_NAME_MAX + 1];
	char		 rq_vendor[STORE_NAME_MAX + 1];	/* read only */
	char		 rq_target[STORE_NAME_MAX + 1];
	char		 rq_reason[STORE_TEXT_MAX + 1];
	int64_t		 rq_duration;	/* seconds */
	int64_t		 rq_starts;
	int		 rq_emergency;
	char		 rq_state[16];
	int64_t		 rq_created;
	char		 rq_source[80];
	char		 rq_session[20];	/* the session waiting, "" */
	char		 rq_decided_by[STORE_ACTOR_MAX + 1];
	int64_t		 rq_decided_at;
	char		 rq_note[STORE_TEXT_MAX + 1];
	char		 rq_reviewed_by[STORE_ACTOR_MAX + 1];
	int64_t		 rq_reviewed_at;
	char		 rq_review_note[STORE_TEXT_MAX + 1];
	int64_t		 rq_grant;	/* read only: the grant it gave, 0 */
	int64_t		 rq_grant_starts, rq_grant_ends;
};

/* A window given to a user (or every user of a vendor) on a target. */
struct store_grant {
	int64_t		 gr_id;
	int64_t		 gr_request;	/* 0: none */
	char		 gr_user[STORE_NAME_MAX + 1];	/* "": the vendor's */
	char		 gr_vendor[STORE_NAME_MAX + 1];
	char		 gr_target[STORE_NAME_MAX + 1];
	int64_t		 gr_starts, gr_ends;
	int		 gr_emergency;
	int64_t		 gr_created;
	char		 gr_created_by[STORE_ACTOR_MAX + 1];
	char		 gr_revoked_by[STORE_ACTOR_MAX + 1];	/* "": live */
	int64_t		 gr_revoked_at;
	char		 gr_revoke_reason[STORE_TEXT_MAX + 1];
};

/* Filters for store_request_list(). */
#define STORE_RQ_PENDING	0x01
#define STORE_RQ_REVIEW		0x02	/* emergencies not yet reviewed */

/* Fills RQ->rq_id and rq_created.  STORE_NOENT: unknown user or target. */
int	 store_request_add(struct store *, struct store_request *);
int	 store_request_get(struct store *, int64_t id, struct store_request *);
/*
 * Move a pending request to STATE ("approved", "denied", "cancelled",
 * "expired"): STORE_REFUSED if it is no longer pending.
 */
int	 store_request_decide(struct store *, int64_t id, const char *state,
	    const char *by, const char *note);
/* STORE_REFUSED if it is no emergency or was reviewed already. */
int	 store_request_review(struct store *, int64_t id, const char *by,
	    const char *note);
/* Newest first; USER NULL for everyone's, at most LIMIT rows (0: all). */
int	 store_request_list(struct store *, int filter, const char *user,
	    int64_t since, int limit,
	    int (*cb)(const struct store_request *, void *), void *arg);
/* The pending requests that can no longer be granted at NOW. */
int	 store_request_stale(struct store *, int64_t now,
	    int (*cb)(const struct store_request *, void *), void *arg);

/* Fills G->gr_id and gr_created. */
int	 store_grant_add(struct store *, struct store_grant *);
int	 store_grant_get(struct store *, int64_t id, struct store_grant *);
/*
 * The grant USER (of VENDOR) holds on TARGET at NOW, the one ending last;
 * with NOW in the future of every grant, the next one to start
 * (WHICH = STORE_GRANT_NEXT).  STORE_NOENT if there is none.
 */
#define STORE_GRANT_NOW		0
#define STORE_GRANT_NEXT	1
int	 store_grant_find(struct store *, const char *user, const char *vendor,
	    const char *target, int64_t now, int which, struct store_grant *);
/* STORE_REFUSED if it was revoked already or is over. */
int	 store_grant_revoke(struct store *, int64_t id, const char *by,
	    const char *reason);
/* Live and future grants (ALL: every one), newest first. */
int	 store_grant_list(struct store *, int all, int64_t now,
	    int (*cb)(const struct store_grant *, void *), void *arg);

/* ---- store-recording.c: each session's recording, its hold and purge ---- */

struct store_recording {
	char		 sr_sid[20];
	char		 sr_user[STORE_NAME_MAX + 1];
	char		 sr_vendor[STORE_NAME_MAX + 1];
	char		 sr_target[STORE_NAME_MAX + 1];
	char		 sr_source[80];
	char		 sr_path[256];		/* under the recordings dir */
	char		 sr_state[16];		/* sealed, failed, purged */
	char		 sr_sha256[72];		/* hex, or the failure */
	int64_t		 sr_started, sr_ended, sr_bytes;
	char		 sr_hold_by[STORE_ACTOR_MAX + 1];	/* "": none */
	int64_t		 sr_hold_at;
	char		 sr_hold_reason[STORE_TEXT_MAX + 1];
	int64_t		 sr_purged_at;
};

/* The recorder sealed (OK) or lost (not OK) the recording of SID. */
int	 store_recording_sealed(struct store *, const char *sid,
	    const char *path, int ok, int64_t bytes, const char *sha256);
int	 store_recording_get(struct store *, const char *sid,
	    struct store_recording *);
/* Newest first; NULL or "" filters match everything. */
int	 store_recording_list(struct store *, const char *vendor,
	    const char *target, int64_t since, int limit,
	    int (*cb)(const struct store_recording *, void *), void *arg);
/* BY NULL lifts the hold.  STORE_REFUSED if it is purged already. */
int	 store_recording_hold(struct store *, const char *sid, const char *by,
	    const char *reason);
/* Recordings older than BEFORE, not held and not purged, oldest first. */
int	 store_recording_expired(struct store *, int64_t before, int limit,
	    int (*cb)(const struct store_recording *, void *), void *arg);
int	 store_recording_purged(struct store *, const char *sid);

/*
 * ---- store.c internals: for store-*.c and audit.c only ------------------
 *
 * store_schema[] (store-schema.c) holds one SQL script per version.  The
 * helpers run one statement whose parameters FMT describes: 's' a string
 * (NULL binds NULL), 'I' an int64_t, 'd' an int, 'b' a pointer and a
 * size_t length.  They return STORE_OK, STORE_EXISTS (a unique key),
 * STORE_NOENT (no row, or a foreign key to a missing row) or STORE_ERR,
 * with store_error() set.
 */
struct sqlite3_stmt;
extern const char *const store_schema[STORE_VERSION];
int	 store_seterr(struct store *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A statement that returns no row; *CHANGES (if set) gets its count. */
int	 store_run(struct store *, int *changes, const char *sql,
	    const char *fmt, ...);
/* One row (a SELECT, an UPDATE ... RETURNING) left in *STMT to read. */
int	 store_row(struct store *, struct sqlite3_stmt **, const char *sql,
	    const char *fmt, ...);
/* Each remaining row of a store_row() result to ROW, until non-zero. */
int	 store_walk(struct store *, struct sqlite3_stmt *, int rc,
	    const char *what, int (*row)(struct sqlite3_stmt *, void *),
	    void *);
/* Read a store_row() statement to its end and finalize it. */
int	 store_row_done(struct store *, struct sqlite3_stmt *);
/* One row's first column, as an integer. */
int	 store_row_int(struct store *, int64_t *, const char *sql,
	    const char *fmt, ...);
void	 store_col_str(struct sqlite3_stmt *, int, char *, size_t);
/* Copied to an allocated buffer; NULL, 0 for an empty blob. */
void	 store_col_blob(struct sqlite3_stmt *, int, uint8_t **, size_t *);
/* STORE_NOENT, "no such WHAT: NAME", when a write touched no row. */
int	 store_touched(struct store *, int rc, int changes, const char *what,
	    const char *name);
int64_t	 store_now(void);

/* ---- audit.c: the append-only, hash-chained audit trail ------------------ */

#define AUDIT_HASH_LEN		64	/* hex SHA-256 */
#define AUDIT_FIELD_MAX		4096	/* bytes, any text field */

struct audit_rec {
	int64_t		 id;
	int64_t		 time;
	const char	*actor;		/* required: a user, "portierd" ... */
	const char	*event;		/* required: "session.start" ... */
	const char	*target;	/* optional fields may be NULL */
	const char	*source;
	const char	*session;
	const char	*reason;
	char		 prev[AUDIT_HASH_LEN + 1];
	char		 hash[AUDIT_HASH_LEN + 1];
};

/*
 * Append REC (time(NULL) if REC->time is 0) and fill its id, prev and
 * hash.  Runs in its own BEGIN IMMEDIATE transaction, or in the caller's.
 */
int	 audit_append(struct store *, struct audit_rec *);
/*
 * Call CB for each row with time >= SINCE, in id order.  The strings live
 * until CB returns.  A CB returning non-zero stops the walk, and
 * audit_list() returns that value.
 */
int	 audit_list(struct store *, int64_t since,
	    int (*cb)(const struct audit_rec *, void *), void *arg);
/*
 * The chain's head: id, time, prev and hash of the last row (string
 * fields NULL); id 0 and prev = hash = 64 '0' for an empty trail.
 */
int	 audit_last(struct store *, struct audit_rec *);
/*
 * Walk the chain in id order.  Returns 0 if every row verifies (*NROWS
 * rows), 1 if the chain is broken at row *BAD_ID (WHY says how), -1 if
 * the store could not be read (WHY says why).
 */
int	 audit_verify(struct store *, int64_t *nrows, int64_t *bad_id,
	    char *why, size_t whylen);
/*
 * The same, and row ANCHOR_ID (if > 0) must have a hash that starts with
 * ANCHOR (lowercase hex); HEAD gets the last row's hash.
 */
int	 audit_verify_anchor(struct store *, int64_t anchor_id,
	    const char *anchor, int64_t *nrows, int64_t *bad_id,
	    char head[AUDIT_HASH_LEN + 1], char *why, size_t whylen);

/* ---- vault.c: AES-256-GCM for secrets at rest ---------------------------- */

#define VAULT_KEY_LEN		32
#define VAULT_VERSION		1
#define VAULT_NONCE_LEN		12
#define VAULT_TAG_LEN		16
#define VAULT_OVERHEAD		(1 + VAULT_NONCE_LEN + VAULT_TAG_LEN)

/*
 * Load the 32-byte key at PATH.  A key file that is not a regular file,
 * is open to group or others, belongs to another user or is not exactly
 * 32 bytes long is refused; ERR says why and how to fix it.
 */
int	 vault_key_load(const char *path, uint8_t key[VAULT_KEY_LEN],
	    char *err, size_t errlen);
/* Create PATH (it must not exist) with 32 random bytes, mode 0600. */
int	 vault_key_create(const char *path, char *err, size_t errlen);
/*
 * Seal PT under KEY, bound to AAD, the secret's owner ("target:pacs-01:
 * maint", "totp:jdoe"): a secret moved to another row does not open.
 * *OUT = version (1) || nonce (12) || ciphertext || tag (16); free() it.
 */
int	 vault_seal(const uint8_t key[VAULT_KEY_LEN], const char *aad,
	    const uint8_t *pt, size_t ptlen, uint8_t **out, size_t *outlen);
/*
 * The reverse; fails if anything was changed.  *OUT holds *OUTLEN bytes
 * and a NUL after them; release it with freezero(*out, *outlen).
 */
int	 vault_open(const uint8_t key[VAULT_KEY_LEN], const char *aad,
	    const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen);

#endif /* PORTIER_STORE_H */
