/*
 * replay-play.c: portier-replay play FILE [--speed N] [--from TIME]
 *     [--max-idle S]
 *
 * Plays what the vendor saw, at its pace (or faster), on this terminal.
 * When stdin is a terminal it is put in raw mode for the keys:
 *
 *	space	pause / resume		+ -	twice / half the speed
 *	n	on to the next marker	q	quit
 *
 * Output before --from is written at once, so the screen is what the
 * vendor had at that moment.  Nothing but the "o" stream reaches the
 * terminal: what the vendor typed is in it as echoed by the target.
 * Who, where and how it ended are said on stderr, before and after.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "portier.h"
#include "replay.h"

struct pevent {
	int64_t		 pe_us;
	char		 pe_code;
	char		*pe_data;
	size_t		 pe_len;
};

struct pevents {
	struct pevent	*pv;
	size_t		 n, cap;
};

static struct termios	 saved_tio;
static int		 raw_on;
static char		 who[512], what[512], ending[512];

static int
replay_play_collect(const struct recevent *ev, size_t off, void *arg)
{
	struct pevents	*pe = arg;
	int		 n = ev->ev_len > 400 ? 400 : (int)ev->ev_len;

	if (ev->ev_code == 'x' && strncmp(ev->ev_data, "authorized ", 11) == 0)
		snprintf(who, sizeof(who), "%.*s", n - 11, ev->ev_data + 11);
	if (ev->ev_code == 'm' && strncmp(ev->ev_data, "exec: ", 6) == 0 &&
	    what[0] == '\0')
		snprintf(what, sizeof(what), "%.*s", n, ev->ev_data);
	if (ev->ev_code == 'm' && strncmp(ev->ev_data, "end: ", 5) == 0)
		snprintf(ending, sizeof(ending), "+%.1fs %.*s",
		    (double)ev->ev_us / 1e6, n, ev->ev_data);
	if (ev->ev_code != 'o' && ev->ev_code != 'm')
		return 0;
	if (pe->n == pe->cap) {
		pe->cap = pe->cap ? pe->cap * 2 : 1024;
		pe->pv = xreallocarray(pe->pv, pe->cap, sizeof(*pe->pv));
	}
	pe->pv[pe->n].pe_us = ev->ev_us;
	pe->pv[pe->n].pe_code = ev->ev_code;
	pe->pv[pe->n].pe_data = xmalloc(ev->ev_len + 1);
	memcpy(pe->pv[pe->n].pe_data, ev->ev_data, ev->ev_len);
	pe->pv[pe->n].pe_len = ev->ev_len;
	pe->n++;
	return 0;
}

static void
replay_play_restore(void)
{
	if (raw_on)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	raw_on = 0;
}

static void
replay_play_signal(int sig)
{
	replay_play_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
replay_play_raw(void)
{
	struct termios	 tio;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) == -1)
		return;
	tio = saved_tio;
	tio.c_lflag &= ~(ICANON | ECHO);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == -1)
		return;
	raw_on = 1;
	atexit(replay_play_restore);
	signal(SIGINT, replay_play_signal);
	signal(SIGTERM, replay_play_signal);
}

static void
replay_play_write(const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(STDOUT_FILENO, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			exit(REPLAY_ERROR);
		}
		p += n;
		len -= (size_t)n;
	}
}

enum play_key { KEY_NONE, KEY_QUIT, KEY_NEXT };

/* Wait MS milliseconds (-1: until a key), minding the keys. */
static enum play_key
replay_play_wait(int ms, int *paused, double *speed)
{
	struct pollfd	 pfd = { STDIN_FILENO, POLLIN, 0 };
	struct timespec	 ts;
	char		 c;

	if (!raw_on) {
		if (ms > 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000;
			nanosleep(&ts, NULL);
		}
		return KEY_NONE;
	}
	for (;;) {
		if (poll(&pfd, 1, *paused ? -1 : ms) <= 0)
			return KEY_NONE;
		if (read(STDIN_FILENO, &c, 1) != 1)
			return KEY_NONE;
		switch (c) {
		case 'q':
		case 0x03:
			return KEY_QUIT;
		case 'n':
			*paused = 0;
			return KEY_NEXT;
		case ' ':
			*paused = !*paused;
			if (!*paused)
				return KEY_NONE;
			break;
		case '+':
			*speed = *speed * 2 > 64 ? 64 : *speed * 2;
			break;
		case '-':
			*speed = *speed / 2 < 0.125 ? 0.125 : *speed / 2;
			break;
		}
		if (!*paused)
			return KEY_NONE;
	}
}

int
replay_play(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "speed", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "max-idle", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct pevents	 pe = { NULL, 0, 0 };
	double		 speed = 1, from = 0, idle = 0, d;
	int64_t		 prev = 0, from_us;
	uint8_t		*buf;
	size_t		 len, i;
	int		 ch, paused = 0, skip = 0, ms;
	enum play_key	 k;

	while ((ch = getopt_long(argc, argv, "s:f:i:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			speed = strtod(optarg, NULL);
			if (!(speed >= 0.125 && speed <= 1000)) {
				replay_warnx("--speed: a number from 0.125 "
				    "to 1000");
				return REPLAY_ERROR;
			}
			break;
		case 'f':
			if ((from = replay_time_parse(optarg)) < 0) {
				replay_warnx("--from: seconds, or MM:SS");
				return REPLAY_ERROR;
			}
			break;
		case 'i':
			if ((idle = replay_time_parse(optarg)) < 0) {
				replay_warnx("--max-idle: seconds");
				return REPLAY_ERROR;
			}
			break;
		default:
			replay_usage();
		}
	}
	if (optind != argc - 1) {
		replay_warnx("usage: portier-replay play FILE [--speed N] "
		    "[--from TIME] [--max-idle S]");
		return REPLAY_ERROR;
	}
	if (replay_load(argv[optind], &buf, &len) == -1)
		return REPLAY_ERROR;
	replay_events(buf, len, replay_play_collect, &pe);
	fprintf(stderr, "portier-replay: %s: %s%s%s\r\n",
	    replay_base(argv[optind]), who[0] != '\0' ? who : "no session "
	    "was authorised (a refused or failed login)",
	    what[0] != '\0' ? ", " : "", what);
	free(buf);
	replay_play_raw();
	from_us = (int64_t)(from * 1e6);
	for (i = 0; i < pe.n; i++) {
		struct pevent	*e = &pe.pv[i];

		if (e->pe_us >= from_us && !skip) {
			d = (double)(e->pe_us - (prev > from_us ? prev :
			    from_us)) / 1e6;
			if (idle > 0 && d > idle)
				d = idle;
			if (d > 86400)
				d = 86400;
			ms = (int)(d * 1000 / speed);
			if (ms > 0 || paused) {
				k = replay_play_wait(ms, &paused, &speed);
				if (k == KEY_QUIT)
					break;
				if (k == KEY_NEXT)
					skip = 1;
			}
		}
		if (e->pe_code == 'm')
			skip = 0;	/* "n" stops at the marker */
		else
			replay_play_write(e->pe_data, e->pe_len);
		prev = e->pe_us;
	}
	replay_play_restore();
	fprintf(stderr, "\r\nportier-replay: %s\r\n", ending[0] != '\0' ?
	    ending : "no end marker: the recording was cut");
	for (i = 0; i < pe.n; i++)
		free(pe.pv[i].pe_data);
	free(pe.pv);
	return REPLAY_OK;
}
