/*
 * session-ssh.h: the SSH front end's state, shared by session-ssh.c (the
 * protocol and the relay) and session-ssh-ask.c (what the bastion itself
 * asks and answers on the vendor's terminal: the target menu, a request
 * for a window, the commands "request" and "requests").
 */
#ifndef PORTIER_SESSION_SSH_H
#define PORTIER_SESSION_SSH_H

#include <stdint.h>
#include <time.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>

struct digest;

#define SSHF_KEX_TIMEOUT	30	/* seconds for the key exchange */
#define SSHF_LOGIN_GRACE	120	/* seconds from connect to login */
#define SSHF_MAX_TRIES		6	/* password or code answers */
/* Polls per wakeup while a socket still gives bytes (4 KiB each). */
#define SSHF_PASSES		16
#define SSHF_QUEUE_HWM		(4u << 20)
#define SSHF_REC_HWM		(8u << 20)	/* recorder backlog: pause */
#define SSHF_TICK_MS		250
#define SSHF_STATS_EVERY	5	/* seconds between byte counts */
#define SSHF_MAX_TARGETS	64
#define SSHF_LINE_MAX		1024	/* a reason typed at a prompt */
/*
 * An exec without a terminal carries data (scp -O, tar, a database dump):
 * the recording keeps the first SSHF_EXEC_REC bytes each way and, at the
 * end, the size and SHA-256 of everything, as for a file transfer.
 */
#define SSHF_EXEC_REC		(1u << 20)

/* Only modern algorithms: what ssh-audit passes. */
#define SSHF_KEX	"curve25519-sha256,curve25519-sha256@libssh.org," \
			"diffie-hellman-group16-sha512," \
			"diffie-hellman-group18-sha512"
#define SSHF_CIPHERS	"chacha20-poly1305@openssh.com," \
			"aes256-gcm@openssh.com,aes128-gcm@openssh.com," \
			"aes256-ctr,aes192-ctr,aes128-ctr"
/*
 * Towards the target, where Portier chooses: AES-GCM first, which the
 * AES instructions of any server CPU make the fastest; then the same.
 */
#define SSHF_CIPHERS_UP	"aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
			"chacha20-poly1305@openssh.com," \
			"aes256-ctr,aes192-ctr,aes128-ctr"
#define SSHF_MACS	"hmac-sha2-256-etm@openssh.com," \
			"hmac-sha2-512-etm@openssh.com"
#define SSHF_HOSTKEYS	"ssh-ed25519,rsa-sha2-512,rsa-sha2-256"
/*
 * The target's host key: also ECDSA, which is all some appliances have;
 * it is pinned like any other.  (Portier's own key stays as above.)
 */
#define SSHF_HOSTKEYS_UP SSHF_HOSTKEYS ",ecdsa-sha2-nistp256," \
			"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"

enum sshf_state {
	SS_AUTH,	/* login, channel, request */
	SS_SELECT,	/* the vendor picks a target from a menu */
	SS_AUTHZ,	/* the monitor decides */
	SS_ASK,		/* no window: the vendor says why and how long */
	SS_REQUESTING,	/* the monitor files the request */
	SS_WAIT,	/* hospital IT decides; the vendor waits */
	SS_COMMAND,	/* a command for the bastion itself */
	SS_UPSTREAM,	/* the parent connects */
	SS_RELAY,
	SS_CLOSING,
};

enum sshf_req {
	REQ_NONE,
	REQ_SHELL,
	REQ_EXEC,
	REQ_SUBSYSTEM,
	REQ_FORWARD,	/* no session channel: ssh -N -L, forwarding only */
};

/* A bounded byte queue between the two channels. */
struct bq {
	uint8_t		*q_buf;
	size_t		 q_off, q_len, q_cap;
	int		 q_busy;	/* re-entrancy guard (libssh polls) */
};

struct sshf_env {
	char		*e_name;
	char		*e_value;
};

struct sshf {
	struct session	*f_s;
	enum sshf_state	 f_state;
	ssh_bind	 f_bind;
	ssh_session	 f_down;	/* the vendor */
	ssh_session	 f_up;		/* the target */
	ssh_event	 f_sev;
	struct ssh_counter_struct f_sock_down, f_sock_up;	/* bytes read */
	ssh_channel	 f_dch, f_uch;
	struct ssh_server_callbacks_struct	f_scb;
	struct ssh_channel_callbacks_struct	f_dcb, f_ucb;
	struct event	*f_ev_down, *f_ev_up, *f_tick;	/* reading */
	struct event	*f_ew_down, *f_ew_up;		/* writing */
	time_t		 f_started;

	/* login */
	char		 f_login[PT_NAME_MAX];
	char		 f_target[PT_NAME_MAX];
	int		 f_round;	/* 0 none, 1 password, 2 code */
	int		 f_tries;
	int		 f_authed;

	/* what the vendor asked for */
	enum sshf_req	 f_req;
	char		*f_req_arg;
	int		 f_pty;
	char		 f_term[64];
	int		 f_cols, f_rows, f_px, f_py;
	struct sshf_env	 f_env[16];
	size_t		 f_nenv;
	int		 f_begin;	/* request accepted: go on from pump */

	/* the menu */
	char		 f_targets[SSHF_MAX_TARGETS][PT_NAME_MAX];
	int		 f_ntargets;
	char		 f_line[SSHF_LINE_MAX + 1];	/* at a prompt */
	size_t		 f_linelen;

	/* asking hospital IT for a window */
	int		 f_ask;		/* the question on screen */
	char		 f_reason[SSHF_LINE_MAX + 1];
	int64_t		 f_duration;
	int64_t		 f_approval_max, f_emergency_max;	/* seconds */
	int64_t		 f_request;	/* the request waited for */

	/* the target */
	char		 f_account[PT_NAME_MAX];
	time_t		 f_window_end;
	int		 f_upfd;	/* came before the monitor's answer */
	int		 f_upfd_err;
	int		 f_warned;	/* 2: ten minutes, 1: one minute */

	/* the relay */
	struct bq	 f_qu, f_qd, f_qde;
	int		 f_d_pending, f_u_pending, f_ue_pending;
	int		 f_d_eof_fwd, f_u_eof_fwd, f_d_closed, f_u_closed;
	int		 f_exit_fwd;
	int		 f_exit_status;
	char		 f_exit_signal[32];
	int		 f_exit_core;
	int		 f_record_io;	/* not for sftp's binary stream */
	int		 f_exec_data;	/* exec without a terminal: capped */
	struct sftplog	*f_sftp;	/* sftp: a transfer log instead */
	struct sshf_tally {
		uint64_t	 t_bytes;
		struct digest	*t_md;	/* SHA-256 of it all */
	}		 f_tally[2];	/* 0: vendor to target, 1: back */
	int64_t		 f_bytes_in, f_bytes_out;
	time_t		 f_stats_at;	/* last told to the monitor */

	/* forwarding: PT_FWD_* of the target named at login, then final */
	uint32_t	 f_fwd_early, f_fwd_allow;
	struct fwdtab	*f_fwd;
};

/* session-ssh.c */
void	bq_push(struct bq *, const void *, size_t);
void	bq_flush(struct bq *, ssh_channel, int is_stderr);
/* A line from the bastion, marked, on the terminal and in the recording. */
void	sshf_say(struct sshf *, const char *);
/* End with TEXT shown and STATUS as the exit status of the command. */
void	sshf_end(struct sshf *, int status, const char *text);
/* Ask the monitor for f_target. */
void	sshf_authz(struct sshf *);
/* Vendor input ('i'), target output ('o') or errors ('e') to record. */
void	sshf_record_io(struct sshf *, char stream, const void *, size_t);

/* session-ssh-fwd.c */
void	sshf_fwd_perms(struct sshf *);
void	sshf_fwd_channel(struct sshf *, struct ssh_channel_callbacks_struct *);
int	sshf_fwd_message(struct sshf *, ssh_message);
void	sshf_fwd_upstream(struct sshf *);
void	sshf_fwd_pump(struct sshf *);
void	sshf_fwd_tick(struct sshf *, time_t);
void	sshf_fwd_close(struct sshf *);
void	sshf_fwd_policy(struct sshf *, uint32_t);

/* session-ssh-ask.c */
void	sshf_menu(struct sshf *);
/* Input while the bastion has the terminal; returns the bytes taken. */
int	sshf_line_input(struct sshf *, const uint8_t *, uint32_t);
/* What libssh kept while a prompt came up. */
void	sshf_line_pending(struct sshf *);
/* No window on f_target: offer to ask hospital IT for one. */
void	sshf_ask_start(struct sshf *, const char *why, int64_t approval_max,
	    int64_t emergency_max);
int	sshf_request_result(struct sshf *, struct msg_in *);
/* "request ..." or "requests" run on the bastion (no target). */
void	sshf_command(struct sshf *);

#endif /* PORTIER_SESSION_SSH_H */
