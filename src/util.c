/*
 * util.c: allocation that cannot fail silently, secret wiping, and the
 * small string and socket helpers every process needs.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portier.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if (n == 0)
		fatalx("xmalloc: zero size");
	if ((p = malloc(n)) == NULL)
		fatal("xmalloc: %zu bytes", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		fatalx("xcalloc: zero size");
	if ((p = calloc(nmemb, size)) == NULL)
		fatal("xcalloc: %zu * %zu bytes", nmemb, size);
	return p;
}

void *
xreallocarray(void *old, size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		fatalx("xreallocarray: zero size");
	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", nmemb, size);
	if ((p = realloc(old, nmemb * size)) == NULL)
		fatal("xreallocarray: %zu * %zu bytes", nmemb, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("xasprintf");
	return n;
}

void
freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

void
strzero(char *s)
{
	if (s != NULL)
		freezero(s, strlen(s));
}

#ifndef HAVE_STRLCPY
size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	 len = strlen(src);

	if (dsize != 0) {
		size_t n = len >= dsize ? dsize - 1 : len;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
#endif

const char *
sockaddr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t bufsz)
{
	char	 host[NI_MAXHOST], port[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		strlcpy(buf, "unknown", bufsz);
		return buf;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, bufsz, "[%s]:%s", host, port);
	else
		snprintf(buf, bufsz, "%s:%s", host, port);
	return buf;
}

int
fd_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
fd_cloexec(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

void
sid_new(char sid[PT_SID_LEN + 1])
{
	uint8_t		 rnd[PT_SID_LEN / 2];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("sid_new: getrandom");
	hex_encode(rnd, sizeof(rnd), sid);
}

void
hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

const char *
time_iso(time_t t, char *buf, size_t bufsz)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strlcpy(buf, "?", bufsz);
	return buf;
}

/*
 * Split LINE into words as a shell would for simple cases: blanks
 * separate, '...' and "..." group (backslash escapes in "..." and
 * outside quotes).  The words are copied into BUF.  Returns the number
 * of words (at most MAX), or -1 for an unterminated quote, too many
 * words or a line too long for BUF.
 */
int
cmdline_split(const char *line, char **argv, int max, char *buf,
    size_t buflen)
{
	const char	*p = line;
	size_t		 o = 0;
	int		 argc = 0, quote;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return argc;
		if (argc == max)
			return -1;
		argv[argc++] = buf + o;
		quote = 0;
		for (; *p != '\0'; p++) {
			if (quote == 0 && (*p == ' ' || *p == '\t'))
				break;
			if (quote == 0 && (*p == '\'' || *p == '"')) {
				quote = *p;
				continue;
			}
			if (quote != 0 && *p == quote) {
				quote = 0;
				continue;
			}
			if (*p == '\\' && quote != '\'' && p[1] != '\0')
				p++;
			if (o + 1 >= buflen)
				return -1;
			buf[o++] = *p;
		}
		if (quote != 0 || o + 1 >= buflen)
			return -1;
		buf[o++] = '\0';
	}
}
