/*
 * sandbox.c: seccomp filters for the unprivileged processes.
 *
 * Default action: kill the process.  Each process gets the system calls
 * its event loop, allocator and channels need and nothing else: no open,
 * no socket, no connect, no exec, no ptrace (the notifier alone may open
 * TCP connections, to the webhook).  Descriptors a process needs
 * later (the upstream connection, a recording file) are passed to it by
 * the parent.  open() and socket() fail with EACCES instead of killing,
 * because libc may probe for locale files or reconnect to syslog; neither
 * gives anything inside an empty chroot.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include "portier.h"

static const int sandbox_common[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(close), SCMP_SYS(shutdown),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getrandom),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(restart_syscall),
	SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(fcntl), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(lseek), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(pipe2),
	SCMP_SYS(eventfd2), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid),
	/* Harmless, and the sanitizers' runtime sets one up at exit. */
	SCMP_SYS(sigaltstack),
};

static const int sandbox_recorder[] = {
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate),
	SCMP_SYS(pwrite64),
};

static const int sandbox_control[] = {
	SCMP_SYS(accept), SCMP_SYS(accept4),
};

/* The notifier's TCP connections to the webhook. */
static const int sandbox_notify[] = {
	SCMP_SYS(connect),
};

static void
sandbox_allow(scmp_filter_ctx ctx, const int *sys, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys[i], 0) < 0)
			fatalx("sandbox: cannot allow system call %d", sys[i]);
}

void
sandbox_apply(enum sandbox_kind kind)
{
	scmp_filter_ctx	 ctx;
	int		 rc = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl PR_SET_NO_NEW_PRIVS");
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("sandbox: seccomp_init failed");
	sandbox_allow(ctx, sandbox_common,
	    sizeof(sandbox_common) / sizeof(sandbox_common[0]));
	switch (kind) {
	case SANDBOX_RECORDER:
		sandbox_allow(ctx, sandbox_recorder,
		    sizeof(sandbox_recorder) / sizeof(sandbox_recorder[0]));
		break;
	case SANDBOX_CONTROL:
		sandbox_allow(ctx, sandbox_control,
		    sizeof(sandbox_control) / sizeof(sandbox_control[0]));
		break;
	case SANDBOX_NOTIFY:
		sandbox_allow(ctx, sandbox_notify,
		    sizeof(sandbox_notify) / sizeof(sandbox_notify[0]));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
		    1, SCMP_A0(SCMP_CMP_EQ, AF_INET));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
		    1, SCMP_A0(SCMP_CMP_EQ, AF_INET6));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		break;
	case SANDBOX_SESSION:
		break;
	}

	/* Memory may be mapped, never made executable. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* libevent asks how much is readable. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	/* abort() may signal this process, and no other. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* Fail, rather than kill, what libc tries on its own: isatty()
	 * (stdio, and the sanitizers' runtime before it writes a report)
	 * hears that no descriptor is a terminal. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS));
	/* Nor open a file or a socket of its own. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (kind != SANDBOX_NOTIFY) {
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(socket), 0);
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(connect), 0);
	}
	/* Every thread gets the filter (a session's hashing thread). */
	rc |= seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc != 0)
		fatalx("sandbox: cannot build the filter");
	if (seccomp_load(ctx) != 0)
		fatalx("sandbox: cannot load the seccomp filter");
	seccomp_release(ctx);
}
