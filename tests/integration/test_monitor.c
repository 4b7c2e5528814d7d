/*
 * test_monitor.c: the real monitor process, with this test playing the
 * parent and the sessions over real socketpairs, a real SQLite store and,
 * as root, a real PAM stack.
 *
 * It shows that a session breaking the protocol (garbage, a request out
 * of turn, a lie about its id) is cut off, reported to the parent for
 * killing and written to the audit trail; and that one vendor's slow PAM
 * stack does not hold up another's login.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "portier.h"
#include "msg.h"
#include "store.h"

struct fixture {
	char			 dir[64];
	char			 store[128];
	char			 key[128];
	char			 pam[128];
	struct pt_config	 cf;
	pid_t			 pid;
	int			 parent;	/* our end of parent<->monitor */
	int			 control;
};

static struct msg_in	 in;

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		 err[256];

	strlcpy(f->dir, "/tmp/pt-monitor.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->store, sizeof(f->store), "%s/portier.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/vault.key", f->dir);
	assert_int_equal(vault_key_create(f->key, err, sizeof(err)), 0);
	f->cf.cf_store = f->store;
	f->cf.cf_vault_key = f->key;
	f->cf.cf_pam_service = "portier-test-none";
	f->cf.cf_timezone = "UTC";
	f->cf.cf_lockout = 60;
	TAILQ_INIT(&f->cf.cf_listens);
	TAILQ_INIT(&f->cf.cf_targets);
	TAILQ_INIT(&f->cf.cf_vendors);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	if (f->pam[0])
		unlink(f->pam);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
monitor_start(struct fixture *f)
{
	int	 p[2], c[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, c), 0);
	f->pid = fork();
	assert_true(f->pid != -1);
	if (f->pid == 0) {
		close(p[0]);
		close(c[0]);
		log_procname("monitor");
		monitor_run(&f->cf, p[1], c[1]);
		_exit(0);
	}
	close(p[1]);
	close(c[1]);
	f->parent = p[0];
	f->control = c[0];
}

static void
monitor_stop(struct fixture *f)
{
	int	 status;

	kill(f->pid, SIGTERM);
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(f->parent);
	close(f->control);
}

/* Announce a session as the parent does; returns the session's end. */
static int
session_new(struct fixture *f, const char *sid)
{
	struct msg	*m;
	int		 s[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, s), 0);
	m = m_create(MSG_MON_SESSION_NEW, 0, s[1]);
	m_add_str(m, sid);
	m_add_str(m, "127.0.0.1:50000");
	m_add_str(m, "127.0.0.1:2222");
	m_add_u32(m, (uint32_t)getpid());
	assert_int_equal(msg_send(f->parent, m), 0);
	return s[0];
}

static void
session_hello(int fd, const char *sid)
{
	struct msg	*m = m_create(MSG_MON_HELLO, 0, -1);

	m_add_str(m, sid);
	assert_int_equal(msg_send(fd, m), 0);
}

/* Wait up to MS milliseconds for FD to be readable. */
static int
readable(int fd, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, ms) == 1;
}

/* The monitor must ask the parent to kill SID, for a protocol violation. */
static void
expect_kill(struct fixture *f, const char *sid, const char *what)
{
	const char	*why;
	char		 got[PT_SID_LEN + 1], reason[256];

	assert_true(readable(f->parent, 5000));
	assert_int_equal(msg_recv(f->parent, &in, &why), 0);
	assert_int_equal(in.mi_type, MSG_PARENT_KILL);
	assert_int_equal(m_get_str(&in, got, sizeof(got)), 0);
	assert_int_equal(m_get_str(&in, reason, sizeof(reason)), 0);
	assert_int_equal(m_end(&in), 0);
	assert_string_equal(got, sid);
	assert_non_null(strstr(reason, "protocol violation"));
	if (what != NULL)
		assert_non_null(strstr(reason, what));
}

/* After being cut off, the session's channel reads EOF. */
static void
expect_eof(int fd)
{
	char	 c;

	assert_true(readable(fd, 5000));
	assert_int_equal(recv(fd, &c, 1, 0), 0);
	close(fd);
}

struct audit_find {
	const char	*event;
	const char	*session;
	int		 found;
	char		 reason[256];
};

static int
find_row(const struct audit_rec *ar, void *arg)
{
	struct audit_find *af = arg;

	if (strcmp(ar->event, af->event) == 0 && ar->session != NULL &&
	    strcmp(ar->session, af->session) == 0) {
		af->found++;
		strlcpy(af->reason, ar->reason ? ar->reason : "",
		    sizeof(af->reason));
	}
	return 0;
}

/* Once the monitor stopped: the row is there and the chain verifies. */
static void
expect_audit(struct fixture *f, const char *event, const char *sid,
    const char *reason_part)
{
	struct store	*st;
	struct audit_find af = { event, sid, 0, "" };
	char		 err[256], why[256];
	int64_t		 nrows, bad;

	assert_int_equal(store_open(f->store, &st, err, sizeof(err)), 0);
	assert_int_equal(audit_list(st, 0, find_row, &af), 0);
	assert_int_equal(af.found, 1);
	if (reason_part != NULL)
		assert_non_null(strstr(af.reason, reason_part));
	assert_int_equal(audit_verify(st, &nrows, &bad, why, sizeof(why)), 0);
	assert_true(nrows >= 3);
	store_close(st);
}

static void
test_garbage_cuts_session(void **state)
{
	struct fixture	*f = *state;
	const char	*sid = "00000000000000a1";
	int		 fd;

	monitor_start(f);
	fd = session_new(f, sid);
	assert_int_equal(send(fd, "hello", 5, 0), 5);
	expect_kill(f, sid, "short message");
	expect_eof(fd);
	monitor_stop(f);
	expect_audit(f, "session.violation", sid, "short message");
}

static void
test_authz_before_auth_cuts_session(void **state)
{
	struct fixture	*f = *state;
	const char	*sid = "00000000000000a2";
	struct msg	*m;
	int		 fd;

	monitor_start(f);
	fd = session_new(f, sid);
	session_hello(fd, sid);
	m = m_create(MSG_MON_AUTHZ, 0, -1);
	m_add_str(m, "pacs-01");
	assert_int_equal(msg_send(fd, m), 0);
	expect_kill(f, sid, "MON_AUTHZ");
	expect_eof(fd);
	monitor_stop(f);
	expect_audit(f, "session.violation", sid, "MON_AUTHZ");
}

static void
test_hello_with_another_sid_cuts_session(void **state)
{
	struct fixture	*f = *state;
	const char	*sid = "00000000000000a3";
	int		 fd;

	monitor_start(f);
	fd = session_new(f, sid);
	session_hello(fd, "00000000000000ff");
	expect_kill(f, sid, "MON_HELLO");
	expect_eof(fd);
	monitor_stop(f);
	expect_audit(f, "session.violation", sid, NULL);
}

static void
test_trailing_byte_cuts_session(void **state)
{
	struct fixture	*f = *state;
	const char	*sid = "00000000000000a4";
	struct msg	*m;
	int		 fd;

	monitor_start(f);
	fd = session_new(f, sid);
	m = m_create(MSG_MON_HELLO, 0, -1);
	m_add_str(m, sid);
	m_add_u32(m, 1);	/* one field too many */
	assert_int_equal(msg_send(fd, m), 0);
	expect_kill(f, sid, "MON_HELLO");
	expect_eof(fd);
	monitor_stop(f);
	expect_audit(f, "session.violation", sid, NULL);
}

/* Read one AUTH_RESULT from FD; returns its verdict (enum auth_result). */
static int
auth_result(int fd)
{
	const char	*why;
	char		 text[256];
	uint32_t	 ok;

	assert_int_equal(msg_recv(fd, &in, &why), 0);
	assert_int_equal(in.mi_type, MSG_MON_AUTH_RESULT);
	assert_int_equal(m_get_u32(&in, &ok), 0);
	assert_int_equal(m_get_str(&in, text, sizeof(text)), 0);
	assert_int_equal(m_end(&in), 0);
	return (int)ok;
}

static void
auth_password(int fd, const char *user, const char *password)
{
	struct msg	*m = m_create(MSG_MON_AUTH_PASSWORD, 0, -1);

	m_add_str(m, user);
	m_add_str(m, password);
	assert_int_equal(msg_send(fd, m), 0);
}

/*
 * A PAM stack that takes three seconds for "slowvendor" and answers at
 * once for anybody else: the fast vendor's answer must come first.
 */
static void
test_slow_pam_does_not_delay_others(void **state)
{
	struct fixture	*f = *state;
	const char	*a = "00000000000000b1", *b = "00000000000000b2";
	FILE		*fp;
	char		 script[128];
	int		 fa, fb;

	if (geteuid() != 0 || access("/etc/pam.d", W_OK) != 0)
		skip();
	snprintf(f->pam, sizeof(f->pam), "/etc/pam.d/portier-test-%ld",
	    (long)getpid());
	f->cf.cf_pam_service = f->pam + strlen("/etc/pam.d/");
	snprintf(script, sizeof(script), "%s/slow.sh", f->dir);
	assert_non_null(fp = fopen(script, "w"));
	fprintf(fp, "#!/bin/sh\n[ \"$PAM_USER\" != slowvendor ] || "
	    "sleep 3\nexit 0\n");
	fclose(fp);
	assert_int_equal(chmod(script, 0755), 0);
	assert_non_null(fp = fopen(f->pam, "w"));
	fprintf(fp, "auth required pam_exec.so quiet %s\n"
	    "auth required pam_permit.so\n"
	    "account required pam_permit.so\n", script);
	fclose(fp);

	monitor_start(f);
	fa = session_new(f, a);
	fb = session_new(f, b);
	session_hello(fa, a);
	session_hello(fb, b);
	auth_password(fa, "slowvendor", "x");
	usleep(100000);
	auth_password(fb, "fastvendor", "x");
	/* b answers while a's PAM helper still sleeps. */
	assert_true(readable(fb, 2500));
	assert_false(readable(fa, 0));
	/* PAM says yes, but neither login is a Portier user: refused, with
	 * the answer a wrong password gets. */
	assert_int_equal(auth_result(fb), AUTH_FAIL);
	assert_true(readable(fa, 5000));
	assert_int_equal(auth_result(fa), AUTH_FAIL);
	close(fa);
	close(fb);
	monitor_stop(f);
	expect_audit(f, "auth.fail", a, "Password");
	expect_audit(f, "auth.fail", b, "Password");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_garbage_cuts_session,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_authz_before_auth_cuts_session, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_hello_with_another_sid_cuts_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_byte_cuts_session,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_slow_pam_does_not_delay_others, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
