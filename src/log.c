/*
 * log.c: logging for every portierd process and portierctl.
 *
 * In the foreground (-d) lines go to stderr prefixed with the process
 * name; otherwise to syslog with the configured facility.  Callers never
 * pass secrets here: passwords, codes, seeds and keys are not loggable.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <paths.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "portier.h"

static int	 log_foreground = 1;
static int	 log_verbose;
static int	 log_facility = LOG_DAEMON;
static int	 log_fd = -1;		/* connected to /dev/log */
static const char *log_proc = "portierd";

/*
 * Portier writes to syslog's socket itself rather than through syslog(3):
 * the descriptor is opened once by the parent, kept open by every child
 * across the descriptors it closes (log_syslog_fd()), and usable after
 * the chroot that hides /dev/log.  The C library's own connection would
 * be closed with the rest and its number reused by another descriptor.
 */
static void
log_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path));
	/* Non-blocking: a stalled syslogd must not stall a daemon. */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return;
	}
	log_fd = fd;
}

void
log_init(int foreground, int facility)
{
	log_foreground = foreground;
	log_facility = facility;
	if (!foreground && log_fd == -1)
		log_connect();
	tzset();
}

int
log_syslog_fd(void)
{
	return log_fd;
}

/* "<PRI>Mmm dd hh:mm:ss portierd[PID]: PROC: MSG", as syslog(3) sends. */
static void
log_syslog(int pri, const char *msg)
{
	char		 line[1200], when[32];
	struct tm	 tm;
	time_t		 now = time(NULL);
	int		 n;

	if (log_fd == -1)
		log_connect();	/* outside a sandbox, syslogd may be back */
	if (log_fd == -1)
		return;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm) == 0)
		when[0] = '\0';
	n = snprintf(line, sizeof(line), "<%d>%s portierd[%ld]: %s: %s",
	    log_facility | pri, when, (long)getpid(), log_proc, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (write(log_fd, line, (size_t)n) == -1 && errno != EAGAIN &&
	    errno != ENOBUFS && errno != EINTR) {
		close(log_fd);
		log_fd = -1;
	}
}

void
log_procname(const char *name)
{
	log_proc = name;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_foreground) {
		fprintf(stderr, "%s[%ld]: %s\n", log_proc, (long)getpid(), msg);
		fflush(stderr);
	} else
		log_syslog(pri, msg);
	errno = saved;
}

static void
vlog_errno(int pri, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved = errno;

	if (fmt == NULL || *fmt == '\0')
		logit(pri, "%s", strerror(saved));
	else {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		logit(pri, "%s: %s", msg, strerror(saved));
	}
	errno = saved;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
log_alert(const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logit(LOG_WARNING, "ALERT: %s", buf);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
