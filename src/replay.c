/*
 * replay.c: portier-replay's main() and what its subcommands share.
 *
 *	portier-replay verify FILE|BUNDLE [--key PUB]
 *	portier-replay play FILE [--speed N] [--from TIME] [--max-idle S]
 *	portier-replay search PATTERN [--dir DIR] [--target T] [--vendor V]
 *	    [--since DATE] [--json]
 *	portier-replay export FILE -o BUNDLE.tar [--key PUB] [--store DB]
 *
 * doc/portier-replay.1 is its manual; recordings/FORMAT.md the format it
 * reads.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portier.h"
#include "replay.h"

static __attribute__((noreturn)) void
usage(FILE *f, int code)
{
	fprintf(f,
	    "usage: portier-replay verify FILE|BUNDLE.tar [--key PUB] "
	    "[--store DB]\n"
	    "       portier-replay play FILE [--speed N] [--from TIME] "
	    "[--max-idle S]\n"
	    "       portier-replay search PATTERN [--dir DIR] [--target T] "
	    "[--vendor V]\n"
	    "                             [--since YYYY-MM-DD] [--json]\n"
	    "       portier-replay export FILE -o BUNDLE.tar [--key PUB] "
	    "[--store DB]\n");
	exit(code);
}

/* After getopt's own word on a bad option. */
void
replay_usage(void)
{
	usage(stderr, REPLAY_ERROR);
}

void
replay_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fputs("portier-replay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
replay_default_key(void)
{
	static char	 path[1024];

	recchain_pub_path(PT_DEF_RECORDING_KEY, path, sizeof(path));
	return path;
}

int
replay_load(const char *path, uint8_t **buf, size_t *len)
{
	struct stat	 sb;
	uint8_t		*p;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		replay_warnx("%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		replay_warnx("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	p = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, p + off, (size_t)sb.st_size - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	p[off] = '\0';
	*buf = p;
	*len = off;
	return 0;
}

size_t
replay_header(const uint8_t *buf, size_t len)
{
	const uint8_t	*nl = memchr(buf, '\n', len);

	return nl != NULL ? (size_t)(nl - buf) : len;
}

int
replay_events(const uint8_t *buf, size_t len,
    int (*fn)(const struct recevent *, size_t, void *), void *arg)
{
	const char	*s = (const char *)buf, *nl;
	struct recevent	 ev;
	size_t		 off, ll;
	int		 rc;

	off = replay_header(buf, len) + 1;
	while (off < len) {
		if ((nl = memchr(s + off, '\n', len - off)) == NULL)
			ll = len - off;
		else
			ll = (size_t)(nl - (s + off));
		if (recchain_event_parse(s + off, ll, &ev) == 0) {
			rc = fn(&ev, off, arg);
			free(ev.ev_data);
			if (rc != 0)
				return rc;
		}
		off += ll + 1;
	}
	return 0;
}

double
replay_time_parse(const char *s)
{
	double	 t = 0, part;
	char	*end;
	int	 fields = 0;

	for (;;) {
		part = strtod(s, &end);
		/* Finite; minutes and seconds after the first field < 60. */
		if (end == s || !(part >= 0 && part < 1e9) || ++fields > 3 ||
		    (fields > 1 && part >= 60))
			return -1;
		t = t * 60 + part;
		if (*end == '\0')
			return t;
		if (*end != ':')
			return -1;
		s = end + 1;
	}
}

/* ---- tar (ustar), read side; replay-export.c writes it ------------------ */

int
replay_is_tar(const uint8_t *buf, size_t len)
{
	return len >= 1024 && memcmp(buf + 257, "ustar", 5) == 0;
}

int
replay_tar_next(const uint8_t *buf, size_t len, size_t *off,
    struct replay_tar *t)
{
	const uint8_t	*h;
	char		 size[13];
	unsigned long long n;
	char		*end;

	if (*off + 512 > len)
		return -1;
	h = buf + *off;
	if (h[0] == '\0')
		return 0;
	memcpy(size, h + 124, 12);
	size[12] = '\0';
	n = strtoull(size, &end, 8);
	if (end == size || n > len || *off + 512 + n > len)
		return -1;
	memset(t, 0, sizeof(*t));
	if (h[345] != '\0')
		snprintf(t->t_name, sizeof(t->t_name), "%.155s/%.100s",
		    (const char *)h + 345, (const char *)h);
	else
		snprintf(t->t_name, sizeof(t->t_name), "%.100s",
		    (const char *)h);
	t->t_data = h + 512;
	t->t_len = (size_t)n;
	*off += 512 + ((n + 511) / 512) * 512;
	if (h[156] == '5')
		return replay_tar_next(buf, len, off, t);	/* a directory */
	/* Links and devices: tar -x would make them, verify cannot. */
	return h[156] == '0' || h[156] == '\0' ? 1 : -1;
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		usage(stderr, REPLAY_ERROR);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(stdout, REPLAY_OK);
	log_init(1, 0);
	if (strcmp(argv[1], "verify") == 0)
		return replay_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "play") == 0)
		return replay_play(argc - 1, argv + 1);
	if (strcmp(argv[1], "search") == 0)
		return replay_search(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return replay_export(argc - 1, argv + 1);
	usage(stderr, REPLAY_ERROR);
}
