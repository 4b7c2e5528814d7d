/*
 * monitor-pam.c: one PAM conversation, in a helper process of its own.
 *
 * PAM modules block: pam_unix sleeps about two seconds after a failure,
 * pam_ldap may wait for a server.  The monitor serves every session from
 * one event loop, so it never calls PAM itself: each authentication forks
 * a helper that runs the PAM stack and answers with one result on a pipe.
 * A slow stack delays its own vendor only.  The helper holds the password
 * for the length of the conversation and wipes it before exiting.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <event2/event.h>

#include "portier.h"


#define PAM_HELPER_TIMEOUT	30	/* seconds */

struct pam_job {
	pid_t		 pj_pid;
	int		 pj_fd;
	struct event	*pj_ev;
	void		 (*pj_done)(void *, int, const char *);
	void		*pj_arg;
};

struct pam_conv_data {
	const char	*pd_password;
	int		 pd_asked;
};

static int
pam_conv_cb(int n, const struct pam_message **msgs,
    struct pam_response **resp, void *arg)
{
	struct pam_conv_data	*pd = arg;
	struct pam_response	*r;
	int			 i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msgs[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			/* The password, once: a second secret prompt is
			 * something this conversation cannot answer. */
			if (pd->pd_asked++ > 0)
				goto fail;
			if ((r[i].resp = strdup(pd->pd_password)) == NULL)
				goto fail;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		strzero(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

static __attribute__((noreturn)) void
pam_helper(int fd, const char *service, const char *user, char *password,
    const char *rhost)
{
	struct pam_conv_data	 pd = { password, 0 };
	struct pam_conv		 conv = { pam_conv_cb, &pd };
	pam_handle_t		*ph = NULL;
	int			 rc;
	char			 res;

	rc = pam_start(service, user, &conv, &ph);
	if (rc == PAM_SUCCESS && rhost != NULL)
		rc = pam_set_item(ph, PAM_RHOST, rhost);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
	explicit_bzero(password, strlen(password));
	if (ph != NULL)
		pam_end(ph, rc);
	res = rc == PAM_SUCCESS ? 'y' : 'n';
	(void)write(fd, &res, 1);
	_exit(0);
}

static void
pam_job_free(struct pam_job *pj)
{
	if (pj->pj_pid > 0) {
		kill(pj->pj_pid, SIGKILL);
		(void)waitpid(pj->pj_pid, NULL, 0);
	}
	event_free(pj->pj_ev);
	close(pj->pj_fd);
	free(pj);
}

static void
pam_job_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct pam_job	*pj = arg;
	char		 res = 'n';
	const char	*msg = "authentication failed";
	ssize_t		 n;

	if (ev & EV_TIMEOUT)
		msg = "authentication timed out";
	else if ((n = read(fd, &res, 1)) != 1)
		res = 'n';
	else {
		(void)waitpid(pj->pj_pid, NULL, 0);
		pj->pj_pid = -1;
	}
	pj->pj_done(pj->pj_arg, res == 'y', res == 'y' ? "ok" : msg);
	pam_job_free(pj);
}

struct pam_job *
pam_job_start(struct event_base *base, const char *service,
    const char *user, char *password, const char *rhost,
    void (*done)(void *, int, const char *), void *arg)
{
	struct pam_job	*pj;
	struct timeval	 tv = { PAM_HELPER_TIMEOUT, 0 };
	int		 p[2];
	pid_t		 pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return NULL;
	switch ((pid = fork())) {
	case -1:
		close(p[0]);
		close(p[1]);
		return NULL;
	case 0:
		close(p[0]);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		pam_helper(p[1], service, user, password, rhost);
	default:
		break;
	}
	close(p[1]);
	pj = xcalloc(1, sizeof(*pj));
	pj->pj_pid = pid;
	pj->pj_fd = p[0];
	pj->pj_done = done;
	pj->pj_arg = arg;
	pj->pj_ev = event_new(base, p[0], EV_READ, pam_job_cb, pj);
	event_add(pj->pj_ev, &tv);
	return pj;
}

void
pam_job_cancel(struct pam_job *pj)
{
	if (pj != NULL)
		pam_job_free(pj);
}
