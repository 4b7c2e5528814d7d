/*
 * portierctl.h: what portierctl's files share: the connection to the
 * daemon, error exits, output helpers and the command-line parser.
 * portierctl.c holds the daemon-wide, user and target commands;
 * portierctl-queue.c the approval queue, grants, sessions and reload.
 */
#ifndef PORTIERCTL_H
#define PORTIERCTL_H

#include <getopt.h>
#include <stdint.h>

struct msg;
struct msg_in;

extern int	 json;		/* --json: output for scripts */

__attribute__((noreturn)) void usage(void);
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *, ...);
int		 ctl_connect(void);
void		 ctl_send(int, struct msg *);
/* The next answer; a CTL_ERROR ends the program with its text. */
struct msg_in	*ctl_recv(int);
__attribute__((noreturn)) void ctl_bad(void);
/* A one-answer request: the daemon says what it did in a CTL_OK. */
int		 ctl_request_ok(int, struct msg *);
void		 json_str(const char *);
const char	*fmt_time(int64_t, char *, size_t);
int64_t		 parse_since(const char *);

/*
 * Each command parses its own arguments with getopt_long (options and
 * operands in any order); --json is accepted everywhere.  ARGV[0] is the
 * command's last word.
 */
struct cmd_args {
	char		*a[3];		/* operands */
	int		 na;
	const char	*since, *vendor, *name, *png, *key;
	const char	*user, *reason, *note, *from, *dur, *target;
	int		 force, password_stdin, yes;
	int		 pending, needs_review, all, verify;
	const char	*anchor;
};

enum {
	OPT_JSON = 256, OPT_SINCE, OPT_VENDOR, OPT_NAME, OPT_PNG, OPT_FORCE,
	OPT_KEY, OPT_PASSWORD_STDIN, OPT_YES, OPT_USER, OPT_REASON, OPT_NOTE,
	OPT_FROM, OPT_FOR, OPT_PENDING, OPT_NEEDS_REVIEW, OPT_ALL, OPT_TARGET,
	OPT_VERIFY, OPT_ANCHOR
};

#define O_JSON		{ "json", no_argument, NULL, OPT_JSON }
#define O_END		{ NULL, 0, NULL, 0 }

void	cmd_parse(const char *cmd, int argc, char **argv,
	    const struct option *, int maxargs, struct cmd_args *);
void	cmd_need(const char *cmd, const struct cmd_args *, int n,
	    const char *what);

/* portierctl-queue.c */
int	run_requests(int, char **);
int	run_approve(int, char **);
int	run_deny(int, char **);
int	run_review(int, char **);
int	run_grants(int, char **);
int	run_revoke(int, char **);
int	run_sessions(int, char **);
int	run_kill(int, char **);
int	run_reload(int, char **);

/* portierctl-rec.c */
int	run_recordings(int, char **);
int	run_recordings_hold(int, char **);
int	run_recordings_release(int, char **);

#endif /* PORTIERCTL_H */
