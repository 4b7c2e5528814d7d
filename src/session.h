/*
 * session.h: what a session process's protocol front ends share.
 *
 * A front end (session-ssh.c, session-rdp.c) is a table of callbacks.
 * The generic part (session.c) owns the sandbox, the channels to the
 * monitor, recorder and parent, and the end of the session; a front end
 * owns the vendor's protocol and, later, the target's.
 */
#ifndef PORTIER_SESSION_H
#define PORTIER_SESSION_H

#include <time.h>

struct msg;
struct msgchan;
struct msg_in;
struct event_base;
struct session;

struct session_front {
	const char	*sf_name;
	enum pt_proto	 sf_proto;
	/* As root, before the sandbox: read keys.  -1 ends the session. */
	int		 (*sf_init)(struct session *);
	/* Sandboxed: start serving the vendor. */
	void		 (*sf_start)(struct session *);
	/* An answer from the monitor or the parent; -1: protocol error. */
	int		 (*sf_monitor)(struct session *, struct msg_in *);
	int		 (*sf_parent)(struct session *, struct msg_in *);
	/* Tell the vendor something from the bastion. */
	void		 (*sf_notice)(struct session *, const char *);
	/* The session ends: close the target first, then the vendor. */
	void		 (*sf_close)(struct session *, const char *why);
};

struct session {
	struct pt_config		*s_conf;
	const struct session_front	*s_front;
	void				*s_front_data;
	struct event_base		*s_base;
	struct msgchan			*s_monitor;
	struct msgchan			*s_recorder;
	struct msgchan			*s_parent;
	struct msg			*s_rec_batch;	/* not queued yet */
	struct event			*s_rec_timer;	/* queues it */
	int				 s_fd;		/* the vendor */
	int				 s_closing;
	char				 s_close_why[256];
	int				 s_rec_closed;
	char				 s_sid[PT_SID_LEN + 1];
	char				 s_peer[80];
	char				 s_local[80];
	struct timespec			 s_t0;
};

#define SESSION_CALL_TIMEOUT	60	/* seconds: PAM may be slow */
/* Recording events wait this long to go out together... */
#define SESSION_REC_DELAY_US	2000
/* ...unless a message holds this much; with a chunk, under MSG_MAX_SIZE. */
#define SESSION_REC_BATCH	(24 * 1024)
#define SESSION_REC_CHUNK	(32 * 1024)

extern const struct session_front session_front_ssh;	/* session-ssh.c */

enum msg_type;
/*
 * A question libssh makes us answer at once: send M (if not NULL) and
 * wait for the monitor's answer of type WANT (or ALT, if not 0).
 */
int	session_call(struct session *, struct msg *, enum msg_type want,
	    enum msg_type alt, struct msg_in *);

int64_t	session_elapsed_us(struct session *);
/* Send bytes to the recorder: 'i' vendor input, 'o' output, 'r' resize
 * ("80x24"), 'm' marker (a bastion notice). */
void	session_record(struct session *, char stream, const void *, size_t);
/* End the session: the loop stops after the callbacks under way, then
 * the front end closes its peers and the recording is closed with WHY
 * (the first reason given wins). */
void	session_close(struct session *, const char *why);

#endif /* PORTIER_SESSION_H */
