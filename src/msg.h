/*
 * msg.h: the one message layer between portierd's processes and between
 * portierctl and the control process.
 *
 * Messages travel over SOCK_SEQPACKET unix sockets, so each one arrives
 * whole or not at all.  A message is a 12-byte header (total length, type,
 * flags, id) followed by typed fields: a tag byte, then the value.  A
 * receiver reads fields with m_get_*() and ends with m_end(); a wrong tag,
 * a short field, an over-long string or a trailing byte is an error, and
 * any error is fatal for the sender's connection.
 */
#ifndef PORTIER_MSG_H
#define PORTIER_MSG_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_HDR_SIZE	12
#define MSG_MAX_SIZE	(64 * 1024)	/* header included */
#define MSG_FLAG_FD	0x0001		/* one descriptor rides with it */
#define MSG_QUEUE_MAX	(16 * 1024 * 1024)	/* bytes queued for a peer */

/*
 * Every message type, with its direction.  Keep msg_names[] in msg.c in
 * the same order.
 */
enum msg_type {
	MSG_NONE = 0,
	/* parent -> monitor */
	MSG_MON_SESSION_NEW,	/* sid, peer, local, proto + fd (session end) */
	MSG_MON_SESSION_END,	/* sid, how it ended */
	/* monitor -> parent */
	MSG_PARENT_KILL,	/* sid, reason: a session broke the rules */
	MSG_PARENT_UPSTREAM,	/* sid, host, port: connect for this session */
	/* parent -> session */
	MSG_SESS_UPSTREAM,	/* errno, message + fd (the target connection) */
	/* parent -> recorder */
	MSG_REC_SESSION_NEW,	/* sid + fd (session end) */
	/* session -> monitor, monitor -> session */
	MSG_MON_HELLO,		/* sid: the session introduces itself */
	MSG_MON_AUTH_PASSWORD,	/* login, password */
	MSG_MON_AUTH_CODE,	/* TOTP code */
	MSG_MON_AUTH_RESULT,	/* enum auth_result, message for the vendor */
	MSG_MON_TARGETS,	/* request: the targets this user may pick */
	MSG_MON_TARGET,		/* name, protocol, status text, open now */
	MSG_MON_TARGETS_END,
	MSG_MON_AUTHZ,		/* target, "shell" | "exec" | "sftp" | "forward" */
	MSG_MON_AUTHZ_RESULT,	/* ok, message, account, window end, PT_FWD_* */
	MSG_MON_HOSTKEY,	/* key type, base64 blob, SHA256 fingerprint */
	MSG_MON_HOSTKEY_RESULT,	/* ok, message */
	MSG_MON_CRED,		/* request: how to log in to the target */
	MSG_MON_CRED_RESULT,	/* kind, secret (password) | agent fd (key) */
	MSG_MON_NOTICE,		/* monitor -> session: text for the vendor */
	MSG_MON_AUTHZ_ASK,	/* no window: text, approval max, emergency max */
	MSG_MON_REQUEST,	/* target, reason, duration, from, emergency, wait */
	MSG_MON_REQUEST_RESULT,	/* ok, request id, text */
	MSG_MON_REQUEST_CANCEL,	/* the waiting vendor gave up */
	MSG_MON_REQUESTS,	/* the vendor's own requests (a RESULT's text) */
	MSG_MON_CUT,		/* monitor -> session: end now, with this text */
	MSG_MON_WINDOW,		/* monitor -> session: window end, text */
	MSG_MON_STATS,		/* session -> monitor: bytes in, bytes out */
	MSG_MON_PERMS,		/* target named at login: what it allows */
	MSG_MON_PERMS_RESULT,	/* PT_FWD_* */
	MSG_MON_FWD,		/* monitor -> session: PT_FWD_* now (reload) */
	MSG_MON_BYE,		/* session -> monitor: why it ends, for audit */
	/* parent -> monitor */
	MSG_MON_RELOAD,		/* SIGHUP: read the policies again */
	/* session -> parent */
	MSG_SESS_READY,		/* sandboxed and serving */
	/* session -> recorder */
	MSG_REC_OPEN,		/* sid, metadata */
	MSG_REC_DATA,		/* (stream, time offset, bytes) 1 or more */
	MSG_REC_CLOSE,		/* reason */
	MSG_REC_FAIL,		/* recorder -> session: reason; fail closed */
	/* recorder <-> parent */
	MSG_REC_FILE_REQ,	/* sid, relative path */
	MSG_REC_FILE,		/* sid, errno, relative path + fd */
	/* portierctl <-> control <-> parent, monitor */
	MSG_CTL_STATUS,		/* request */
	MSG_CTL_STATUS_INFO,	/* version, started, store, sessions */
	MSG_CTL_STATUS_PROC,	/* name, pid, session id, since */
	MSG_CTL_AUDIT,		/* since, after id (pages of rows) */
	MSG_CTL_AUDIT_MORE,	/* last id sent: ask again after it */
	MSG_CTL_AUDIT_ROW,	/* one row */
	MSG_CTL_AUDIT_VERIFY,	/* request */
	MSG_CTL_AUDIT_VERIFY_RESULT, /* ok, rows, bad id, why */
	MSG_CTL_USER_ADD,	/* admin uid, user, vendor, full name */
	MSG_CTL_USER_LIST,	/* admin uid */
	MSG_CTL_USER_INFO,	/* user, vendor, full name, state ... */
	MSG_CTL_USER_UNLOCK,	/* admin uid, user */
	MSG_CTL_USER_KEY_ADD,	/* admin uid, user, "type base64 comment" */
	MSG_CTL_TOTP_ENROLL,	/* admin uid, user, force */
	MSG_CTL_TOTP_URI,	/* otpauth:// URI, shown once */
	MSG_CTL_CRED_SET,	/* admin uid, target, account, kind, secret */
	MSG_CTL_TARGET_TRUST,	/* admin uid, target, fingerprint or "" */
	MSG_CTL_TARGET_KEY,	/* target, type, fingerprint, pinned */
	MSG_CTL_REQUESTS,	/* admin uid, filter, since, user */
	MSG_CTL_REQUEST_INFO,	/* one request and its decision */
	MSG_CTL_APPROVE,	/* admin uid, id, from, duration, note */
	MSG_CTL_DENY,		/* admin uid, id, reason */
	MSG_CTL_REVIEW,		/* admin uid, id, note: an emergency reviewed */
	MSG_CTL_GRANTS,		/* admin uid, all */
	MSG_CTL_GRANT_INFO,	/* one grant */
	MSG_CTL_REVOKE,		/* admin uid, grant id, reason */
	MSG_CTL_SESSIONS,	/* admin uid */
	MSG_CTL_SESSION_INFO,	/* one live session */
	MSG_CTL_KILL,		/* admin uid, session id, reason */
	MSG_CTL_RELOAD,		/* admin uid */
	MSG_CTL_RECORDINGS,	/* admin uid, vendor, target, since */
	MSG_CTL_RECORDING_INFO,	/* one recording */
	MSG_CTL_RECORDING_HOLD,	/* admin uid, session id, hold, reason */
	MSG_CTL_OK,		/* text */
	MSG_CTL_END,		/* end of a multi-part answer */
	MSG_CTL_ERROR,		/* message */
	/* monitor -> parent -> notifier */
	MSG_NOTIFY_EVENT,	/* event, time, request, grant, user, vendor,
				   target, actor, text, starts, ends, emergency */
	/* recordings: who and where, and their seal for the audit trail */
	MSG_PARENT_REC_TARGET,	/* monitor -> parent: sid, target, user, vendor */
	MSG_REC_TARGET,		/* parent -> recorder: the same + new path */
	MSG_REC_SEALED,		/* recorder -> parent -> monitor: sid, path,
				   target, ok, bytes, sha256 or why */
	MSG_MAX
};

/* Field tags. */
#define M_U32	1
#define M_I64	2
#define M_STR	3
#define M_DATA	4

/* A message being built. */
struct msg {
	uint8_t		*m_buf;
	size_t		 m_len;
	size_t		 m_cap;
	int		 m_fd;		/* -1: none; owned by the msg */
	int		 m_overflow;	/* grew past MSG_MAX_SIZE */
	TAILQ_ENTRY(msg) m_entry;
};

/* A message received: fields are read in place. */
struct msg_in {
	enum msg_type	 mi_type;
	uint32_t	 mi_id;
	int		 mi_fd;		/* -1 or a descriptor the reader owns */
	const uint8_t	*mi_p;
	const uint8_t	*mi_end;
	int		 mi_err;	/* a m_get_* failed */
	uint8_t		 mi_buf[MSG_MAX_SIZE];
};

const char	*msg_name(int type);
/*
 * An administrator's request: the control process relays it with the
 * caller's uid in front, and monitor-ctl.c answers it.
 */
int		 msg_ctl_admin(int type);

struct msg	*m_create(enum msg_type, uint32_t id, int fd);
void		 m_add_u32(struct msg *, uint32_t);
void		 m_add_i64(struct msg *, int64_t);
void		 m_add_str(struct msg *, const char *);
void		 m_add_data(struct msg *, const void *, size_t);
void		 m_free(struct msg *);

int		 m_get_u32(struct msg_in *, uint32_t *);
int		 m_get_i64(struct msg_in *, int64_t *);
/* Copies a string of at most bufsz - 1 bytes, without NULs, into buf. */
int		 m_get_str(struct msg_in *, char *buf, size_t bufsz);
int		 m_get_data(struct msg_in *, const uint8_t **, size_t *);
/* A copy of a received message under another id, for relaying. */
struct msg	*m_forward(struct msg_in *, uint32_t id);
/* The same, with a u32 (the caller's uid) put before the first field. */
struct msg	*m_forward_uid(struct msg_in *, uint32_t id, uint32_t uid);
/* Fails if a byte is left or a get failed; closes an unclaimed fd. */
int		 m_end(struct msg_in *);
/* Takes the descriptor out of the message. */
int		 m_take_fd(struct msg_in *);
void		 m_in_clear(struct msg_in *);

/*
 * Parse one datagram.  Returns 0, or -1 with a static reason in *why.
 * Exposed for the fuzz harness and the unit tests.
 */
int		 msg_parse(struct msg_in *, size_t len, int fd, const char **why);

/* Blocking I/O, for portierctl and tests.  Return 0, or -1 with errno. */
int		 msg_send(int sock, struct msg *);	/* frees the msg */
int		 msg_recv(int sock, struct msg_in *, const char **why);

/*
 * A channel: one socket driven by libevent, with a bounded send queue.
 * dispatch() returning -1 marks the peer as broken: the channel closes
 * its socket at once and, from the event loop, calls closed() with the
 * reason; closed() may free the channel.
 */
struct event_base;
struct msgchan {
	int		  mc_fd;
	const char	 *mc_name;	/* "monitor", "session 1a2b..." */
	struct event	 *mc_rev;
	struct event	 *mc_wev;
	struct event	 *mc_cev;	/* runs closed() from the loop */
	char		  mc_why[160];
	TAILQ_HEAD(, msg) mc_queue;
	size_t		  mc_queued;
	int		  mc_dead;
	int		  (*mc_dispatch)(struct msgchan *, struct msg_in *);
	void		  (*mc_closed)(struct msgchan *, const char *why);
	void		 *mc_arg;
	struct msg_in	 *mc_in;
};

struct msgchan	*msgchan_new(struct event_base *, int fd, const char *name,
		    int (*dispatch)(struct msgchan *, struct msg_in *),
		    void (*closed)(struct msgchan *, const char *),
		    void *arg);
/* Queues the message (takes it); -1 if the peer is dead or too slow. */
int		 msgchan_send(struct msgchan *, struct msg *);
/*
 * Queues the message (takes it) without writing it yet: msgchan_push()
 * writes, so that a burst of messages wakes the peer once; -1 as above.
 */
int		 msgchan_queue(struct msgchan *, struct msg *);
/* Write what is queued, without blocking; the rest when it can. */
void		 msgchan_push(struct msgchan *);
/* Write what is queued, blocking; for a process about to exit. */
void		 msgchan_flush(struct msgchan *);
/* Dispatch what the peer already sent, without waiting for more. */
void		 msgchan_drain(struct msgchan *);
void		 msgchan_free(struct msgchan *);

#endif /* PORTIER_MSG_H */
