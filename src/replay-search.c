/*
 * replay-search.c: portier-replay search PATTERN [--dir DIR] [--target T]
 *     [--vendor V] [--since YYYY-MM-DD] [--json]
 *
 * Finds what was typed ("i" events), shown ("o" events) or noted by the
 * bastion ("m" events: the command an exec ran, forwarded connections,
 * the end) across all recordings under a directory.  Each stream is
 * rebuilt as the text a person would read: keystrokes joined and
 * backspaces applied, output
 * without its terminal escape sequences; PATTERN, an extended regular
 * expression, is matched line by line.  Each hit names the session, the
 * file, and the time offset to give "play --from".  Dates are UTC, as
 * the directories are.  A directory or file it cannot read makes the
 * search incomplete: it says so, and exits 1 whatever it found.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portier.h"
#include "replay.h"

/* The readable text of one stream, and when each piece of it came. */
struct stext {
	char		*st_text;
	size_t		 st_len, st_cap;
	struct {
		size_t	 off;
		int64_t	 us;
	}		*st_marks;
	size_t		 st_nmarks, st_capmarks;
	int		 st_esc;	/* inside an escape sequence */
};

struct sfile {
	struct stext	 sf_in, sf_out, sf_ev;
	char		 sf_user[PT_NAME_MAX], sf_vendor[PT_NAME_MAX];
	char		 sf_target[PT_NAME_MAX];
};

static char	**files;
static size_t	  nfiles, capfiles;
static int	  json, hits, unread;

static void
stext_add(struct stext *st, char c)
{
	if (st->st_len + 2 > st->st_cap) {
		st->st_cap = st->st_cap ? st->st_cap * 2 : 4096;
		st->st_text = xreallocarray(st->st_text, st->st_cap, 1);
	}
	st->st_text[st->st_len++] = c;
	st->st_text[st->st_len] = '\0';
}

static void
stext_back(struct stext *st, int line)
{
	while (st->st_len > 0 && st->st_text[st->st_len - 1] != '\n') {
		st->st_len--;
		if (!line)
			break;
	}
	if (st->st_text != NULL)
		st->st_text[st->st_len] = '\0';
}

/* Append what a person would read of DATA. */
static void
stext_feed(struct stext *st, const char *p, size_t len, int64_t us,
    int input)
{
	size_t		 i;
	unsigned char	 c;

	if (st->st_nmarks == st->st_capmarks) {
		st->st_capmarks = st->st_capmarks ? st->st_capmarks * 2 : 256;
		st->st_marks = xreallocarray(st->st_marks, st->st_capmarks,
		    sizeof(*st->st_marks));
	}
	st->st_marks[st->st_nmarks].off = st->st_len;
	st->st_marks[st->st_nmarks].us = us;
	st->st_nmarks++;
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		switch (st->st_esc) {
		case 1:		/* after ESC */
			st->st_esc = c == '[' ? 2 : c == ']' ? 3 : 0;
			continue;
		case 2:		/* CSI: up to a final byte */
			if (c >= 0x40 && c <= 0x7e)
				st->st_esc = 0;
			continue;
		case 3:		/* OSC: up to BEL or ESC \ */
			if (c == 0x07)
				st->st_esc = 0;
			else if (c == 0x1b)
				st->st_esc = 1;
			continue;
		}
		if (c == 0x1b)
			st->st_esc = 1;
		else if (c == '\n' || (input && c == '\r'))
			stext_add(st, '\n');
		else if (c == 0x7f || c == 0x08)
			stext_back(st, 0);
		else if (input && c == 0x15)	/* ^U */
			stext_back(st, 1);
		else if (c == '\t')
			stext_add(st, ' ');
		else if (c >= 0x20)
			stext_add(st, (char)c);
	}
}

static int64_t
stext_time(struct stext *st, size_t off)
{
	size_t	 lo = 0, hi = st->st_nmarks, mid;

	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (st->st_marks[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return st->st_nmarks ? st->st_marks[lo].us : 0;
}

static void
stext_free(struct stext *st)
{
	free(st->st_text);
	free(st->st_marks);
}

static int
replay_search_collect(const struct recevent *ev, size_t off, void *arg)
{
	struct sfile	*sf = arg;

	if (ev->ev_code == 'i')
		stext_feed(&sf->sf_in, ev->ev_data, ev->ev_len, ev->ev_us, 1);
	else if (ev->ev_code == 'o')
		stext_feed(&sf->sf_out, ev->ev_data, ev->ev_len, ev->ev_us, 0);
	else if (ev->ev_code == 'm') {
		stext_feed(&sf->sf_ev, ev->ev_data, ev->ev_len, ev->ev_us, 0);
		stext_feed(&sf->sf_ev, "\n", 1, ev->ev_us, 0);
	} else if (ev->ev_code == 'x' &&
	    strncmp(ev->ev_data, "authorized ", 11) == 0) {
		recchain_word(ev->ev_data, "user", sf->sf_user,
		    sizeof(sf->sf_user));
		recchain_word(ev->ev_data, "vendor", sf->sf_vendor,
		    sizeof(sf->sf_vendor));
		recchain_word(ev->ev_data, "target", sf->sf_target,
		    sizeof(sf->sf_target));
	}
	return 0;
}

static void
replay_search_json_str(const char *s)
{
	char	*o = xmalloc(strlen(s) * 6 + 1);
	size_t	 n;

	n = recchain_json_escape(o, (const uint8_t *)s, strlen(s));
	printf("\"%.*s\"", (int)n, o);
	free(o);
}

static void
replay_search_hit(const char *file, const char *sid, struct sfile *sf,
    const char *stream, double t, const char *ctx)
{
	if (json) {
		printf("%s{\"session\": ", hits ? ",\n" : "[\n");
		replay_search_json_str(sid);
		printf(", \"file\": ");
		replay_search_json_str(file);
		printf(", \"time\": %.3f, \"stream\": \"%s\", \"user\": ", t,
		    stream);
		replay_search_json_str(sf->sf_user);
		printf(", \"vendor\": ");
		replay_search_json_str(sf->sf_vendor);
		printf(", \"target\": ");
		replay_search_json_str(sf->sf_target);
		printf(", \"context\": ");
		replay_search_json_str(ctx);
		printf("}");
	} else
		printf("%s %s +%.3f %s: %s\n", sid, file, t, stream, ctx);
	hits++;
}

static void
replay_search_stream(const char *file, const char *sid, struct sfile *sf,
    struct stext *st, const char *stream, regex_t *re)
{
	regmatch_t	 m;
	const char	*p, *ls, *le;
	char		 ctx[161];
	size_t		 start, n;
	int		 flags = 0;

	if (st->st_text == NULL)
		return;
	p = st->st_text;
	while (*p != '\0' && regexec(re, p, 1, &m, flags) == 0) {
		start = (size_t)(p - st->st_text) + (size_t)m.rm_so;
		ls = st->st_text + start;
		while (ls > st->st_text && ls[-1] != '\n')
			ls--;
		le = strchr(st->st_text + start, '\n');
		if (le == NULL)
			le = st->st_text + st->st_len;
		n = (size_t)(le - ls);
		if (n > sizeof(ctx) - 1)
			n = sizeof(ctx) - 1;
		memcpy(ctx, ls, n);
		ctx[n] = '\0';
		replay_search_hit(file, sid, sf, stream,
		    (double)stext_time(st, start) / 1e6, ctx);
		/* One hit per line is enough. */
		if (*le == '\0')
			break;
		p = le + 1;
		flags = 0;
	}
}

static int
replay_search_walk(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	size_t	 n = strlen(path);

	if (type == FTW_DNR || type == FTW_NS) {
		replay_warnx("%s: cannot read: %s", path, strerror(errno));
		unread++;
		return 0;
	}
	if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".cast") != 0)
		return 0;
	if (nfiles == capfiles) {
		capfiles = capfiles ? capfiles * 2 : 64;
		files = xreallocarray(files, capfiles, sizeof(*files));
	}
	files[nfiles++] = xstrdup(path);
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
replay_search(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "target", required_argument, NULL, 't' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*dir = PT_DEF_RECORDINGS, *target = NULL;
	const char	*vendor = NULL;
	char		 sid[32], ts[32], pat[PT_NAME_MAX + 2];
	struct sfile	 sf;
	struct tm	 tm;
	regex_t		 re;
	time_t		 since = 0;
	uint8_t		*buf;
	size_t		 len, i, hl;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "d:t:v:s:j", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'v':
			vendor = optarg;
			break;
		case 's':
			memset(&tm, 0, sizeof(tm));
			if (strptime(optarg, "%Y-%m-%d", &tm) == NULL) {
				replay_warnx("--since: a date, YYYY-MM-DD");
				return REPLAY_ERROR;
			}
			since = timegm(&tm);	/* the directories' time */
			break;
		case 'j':
			json = 1;
			break;
		default:
			replay_usage();
		}
	}
	if (optind != argc - 1) {
		replay_warnx("usage: portier-replay search PATTERN [--dir DIR] "
		    "[--target T] [--vendor V] [--since DATE] [--json]");
		return REPLAY_ERROR;
	}
	if ((rc = regcomp(&re, argv[optind], REG_EXTENDED | REG_NEWLINE))
	    != 0) {
		replay_warnx("%s: not a valid extended regular expression",
		    argv[optind]);
		return REPLAY_ERROR;
	}
	if (nftw(dir, replay_search_walk, 16, FTW_PHYS) == -1) {
		replay_warnx("%s: cannot read the directory: %s", dir,
		    strerror(errno));
		regfree(&re);
		return REPLAY_ERROR;
	}
	if (nfiles > 0)
		qsort(files, nfiles, sizeof(*files), str_cmp);
	for (i = 0; i < nfiles; i++) {
		if (replay_load(files[i], &buf, &len) == -1) {
			unread++;
			continue;
		}
		hl = replay_header(buf, len);
		if (recchain_header_str((char *)buf, hl, "session", sid,
		    sizeof(sid)) == -1)
			strlcpy(sid, "-", sizeof(sid));
		if (since != 0) {
			const char	*t = memmem(buf, hl, "\"timestamp\": ", 13);

			snprintf(ts, sizeof(ts), "%.20s", t != NULL ? t + 13 :
			    "0");
			if (strtoll(ts, NULL, 10) < (long long)since) {
				free(buf);
				continue;
			}
		}
		memset(&sf, 0, sizeof(sf));
		replay_events(buf, len, replay_search_collect, &sf);
		free(buf);
		snprintf(pat, sizeof(pat), "/%s/", target != NULL ? target : "");
		if ((target == NULL || strcmp(sf.sf_target, target) == 0 ||
		    (sf.sf_target[0] == '\0' && strstr(files[i], pat))) &&
		    (vendor == NULL || strcmp(sf.sf_vendor, vendor) == 0)) {
			replay_search_stream(files[i], sid, &sf, &sf.sf_in,
			    "typed", &re);
			replay_search_stream(files[i], sid, &sf, &sf.sf_out,
			    "output", &re);
			replay_search_stream(files[i], sid, &sf, &sf.sf_ev,
			    "event", &re);
		}
		stext_free(&sf.sf_in);
		stext_free(&sf.sf_out);
		stext_free(&sf.sf_ev);
	}
	if (json)
		printf("%s]\n", hits ? "\n" : "[");
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	regfree(&re);
	if (unread > 0) {
		replay_warnx("the search is incomplete: %d path%s could not be "
		    "read (run it as root, or as the owner of the recordings)",
		    unread, unread == 1 ? "" : "s");
		return REPLAY_ERROR;
	}
	return hits > 0 ? REPLAY_OK : REPLAY_ERROR;
}
