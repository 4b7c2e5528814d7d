/*
 * parse.y: the grammar of portier.conf and of the policies it includes.
 *
 * A yacc grammar fed by a small hand-written lexer: a sorted keyword
 * table, quoted strings, numbers, "#" comments, "\" at the end of a line
 * to continue it, and "include" of glob patterns taken relative to the
 * directory of the including file.  Each error is reported as
 * "file:line: message", saying what is wrong and what to write instead;
 * parsing goes on so that one run shows them all, and config_parse() then
 * returns NULL.  What only the file system can tell (owners, modes, keys
 * present) is config_check()'s, in config.c.
 *
 * Every string the lexer makes lives until the end of the parse in one
 * list, so that the grammar's error recovery, which drops tokens, cannot
 * leak them; what the configuration keeps, it copies.
 */
%{
#include "config.h"

#include <sys/stat.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "portier.h"

#define PARSE_MAXDEPTH	8	/* include nesting */
#define PARSE_MAXFILES	256	/* files read, includes and all */
#define PARSE_MAXWORD	4096	/* a quoted string or a word */
#define PARSE_MAXSIZE	(1024 * 1024)	/* bytes in one file */
#define PARSE_MAXERRORS	50	/* then the rest is noise: stop */
#define PARSE_MAXTIME	(365 * 24 * 3600)	/* the longest duration */
#define PARSE_ZONEINFO	"/usr/share/zoneinfo"

/* One file being read; the last of the list is the current one. */
struct file {
	TAILQ_ENTRY(file)	 entry;
	FILE			*fp;
	const char		*name;		/* in cf_files */
	char			*dir;		/* absolute: relative paths */
	int			 lineno;
	int			 depth;		/* 0: portier.conf */
	int			 atend;		/* EOF seen, '\n' given */
	int			 lastc;		/* last character read */
	int			 nulseen;
	long			 size;		/* bytes read */
	int			 unget[4];
	int			 nunget;
	int			 braces;	/* blocks open */
	int			 brace_line;	/* where the outer one opened */
};
TAILQ_HEAD(files, file);

/* A string made by the lexer; see the comment at the top. */
struct word {
	struct word		*next;
	char			 text[];
};

static struct files	 files = TAILQ_HEAD_INITIALIZER(files);
static struct file	*file;
static struct pt_config	*conf;
static struct word	*words;
static int		 errors;
static int		 pflags;
static int		 pending_nl;	/* a '\n' owed after "include" */
static int		 tok_line;	/* line of the last token */
static int		 tok_bare;	/* ... which was an unquoted word */
static int		 tok_first;	/* ... first of its statement */
static int		 tok_prev;	/* the token before it */
static char		 tok_text[80];	/* ... as "syntax error near" shows */
static struct {
	dev_t	 dev;
	ino_t	 ino;
} read_files[PARSE_MAXFILES];
static int		 nread_files;

static struct pt_target	*cur_target;
static struct pt_vendor	*cur_vendor;
static struct pt_access	*cur_access;
static unsigned int	 opt_seen;	/* main options: each set once */

enum {
	OPT_FACILITY	= 0x0001,
	OPT_USER	= 0x0002,
	OPT_ADMIN	= 0x0004,
	OPT_CHROOT	= 0x0008,
	OPT_STORE	= 0x0010,
	OPT_VAULT	= 0x0020,
	OPT_CONTROL	= 0x0040,
	OPT_RECORDINGS	= 0x0080,
	OPT_PAM		= 0x0100,
	OPT_LOCKOUT	= 0x0200,
	OPT_SESSIONS	= 0x0400,
	OPT_TIMEZONE	= 0x0800,
	OPT_WEBHOOK	= 0x1000,
	OPT_WEBHOOK_CA	= 0x2000,
	OPT_WEBHOOK_TO	= 0x4000,
	OPT_WEBHOOK_RT	= 0x8000,
	OPT_RECKEY	= 0x10000,
	OPT_MINFREE	= 0x20000,
	OPT_RETENTION	= 0x40000,
};

static int	 yylex(void);
static void	 yyerror(const char *);
static void	 conf_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	 conf_error_at(const char *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 once(unsigned int, const char *);
static char	*path_abs(const char *);
static void	 set_string(char **, const char *, unsigned int, const char *);
static void	 set_path(char **, const char *, unsigned int, const char *);
static void	 set_facility(const char *);
static void	 set_timezone(char **, const char *);
static void	 include_glob(const char *);
static void	 hostkey_add(const char *);
static int	 forwarding_parse(const char *);
static void	 listen_add(const char *, int, int);
static int	 duration_parse(const char *);
static void	 min_free_set(const char *);
static int	 duration_check(int64_t);
static int	 proto_parse(const char *);
static int	 yesno_parse(const char *, const char *);
static int	 days_parse(const char *);
static void	 window_add(int, const char *);
static void	 target_begin(const char *);
static void	 target_end(void);
static void	 target_address(const char *, int);
static void	 vendor_begin(const char *);
static void	 vendor_user(const char *);
static void	 vendor_source(const char *);
static void	 access_begin(const char *);
static void	 webhook_set(const char *);
static void	 webhook_ca(const char *);
%}

%union {
	int64_t	 number;
	char	*string;
}

%token	ACCESS ACCOUNT ADDRESS ADMIN AGENT APPROVAL CHROOT CONTROL EMERGENCY
%token	EVERY FACILITY FORWARDING GROUP HOST INCLUDE KEY LISTEN LOCKOUT LOG
%token	MAX MINFREE ON PAM PORT PROTOCOL RECORDING RECORDINGS RETENTION
%token	SERVICE SESSIONS
%token	SFTP SOCKET
%token	SOURCE STORE TARGET TIMEZONE USER VAULT VENDOR WINDOW X11
%token	CA RETRY TIMEOUT WEBHOOK
%token	<string>	STRING
%token	<number>	NUMBER
%type	<number>	port proto optproto yesno duration days

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar include '\n'
		| grammar main '\n'
		| grammar target '\n'
		| grammar vendor '\n'
		| grammar error '\n'		{ yyerrok; }
		;

optnl		: /* empty */
		| optnl '\n'
		;

nl		: '\n' optnl
		;

include		: INCLUDE STRING		{ include_glob($2); }
		;

main		: LOG FACILITY STRING		{ set_facility($3); }
		| USER STRING			{
			set_string(&conf->cf_user, $2, OPT_USER, "user");
		}
		| ADMIN GROUP STRING		{
			set_string(&conf->cf_admin_group, $3, OPT_ADMIN,
			    "admin group");
		}
		| CHROOT STRING			{
			set_path(&conf->cf_chroot, $2, OPT_CHROOT, "chroot");
		}
		| STORE STRING			{
			set_path(&conf->cf_store, $2, OPT_STORE, "store");
		}
		| VAULT KEY STRING		{
			set_path(&conf->cf_vault_key, $3, OPT_VAULT,
			    "vault key");
		}
		| CONTROL SOCKET STRING		{
			set_path(&conf->cf_control, $3, OPT_CONTROL,
			    "control socket");
		}
		| RECORDINGS STRING		{
			set_path(&conf->cf_recordings, $2, OPT_RECORDINGS,
			    "recordings");
		}
		| RECORDING KEY STRING		{
			set_path(&conf->cf_recording_key, $3, OPT_RECKEY,
			    "recording key");
		}
		| RECORDING RETENTION duration	{
			if (once(OPT_RETENTION, "recording retention") &&
			    $3 != -1)
				conf->cf_recording_retention = $3;
		}
		| RECORDING MINFREE STRING	{ min_free_set($3); }
		| RECORDING MINFREE NUMBER	{
			char	 n[32];

			snprintf(n, sizeof(n), "%lld", (long long)$3);
			min_free_set(n);
		}
		| HOST KEY STRING		{ hostkey_add($3); }
		| PAM SERVICE STRING		{
			set_string(&conf->cf_pam_service, $3, OPT_PAM,
			    "pam service");
		}
		| LOCKOUT duration		{
			if (once(OPT_LOCKOUT, "lockout") && $2 != -1) {
				if ($2 < PT_MIN_LOCKOUT)
					conf_error("lockout %ds is too short; "
					    "use at least %ds", (int)$2,
					    PT_MIN_LOCKOUT);
				else
					conf->cf_lockout = $2;
			}
		}
		| MAX SESSIONS NUMBER		{
			if (once(OPT_SESSIONS, "max sessions")) {
				if ($3 < 1 || $3 > 65535)
					conf_error("max sessions %lld is out "
					    "of range; use 1 to 65535",
					    (long long)$3);
				else
					conf->cf_max_sessions = $3;
			}
		}
		| TIMEZONE STRING		{
			if (once(OPT_TIMEZONE, "timezone"))
				set_timezone(&conf->cf_timezone, $2);
		}
		| LISTEN ON STRING PORT port optproto {
			if ($5 != -1 && $6 != -1)
				listen_add($3, $5, $6);
		}
		| WEBHOOK STRING		{ webhook_set($2); }
		| WEBHOOK CA STRING		{ webhook_ca($3); }
		| WEBHOOK TIMEOUT duration	{
			if (once(OPT_WEBHOOK_TO, "webhook timeout") &&
			    $3 != -1) {
				if ($3 < 1 || $3 > 300)
					conf_error("webhook timeout %llds is "
					    "out of range; use 1s to 5m",
					    (long long)$3);
				else
					conf->cf_webhook_timeout = $3;
			}
		}
		| WEBHOOK RETRY duration	{
			if (once(OPT_WEBHOOK_RT, "webhook retry") &&
			    $3 != -1) {
				if ($3 < 1 || $3 > 3600)
					conf_error("webhook retry %llds is "
					    "out of range; use 1s to 1h",
					    (long long)$3);
				else
					conf->cf_webhook_retry = $3;
			}
		}
		;

port		: NUMBER			{
			if ($1 < 1 || $1 > 65535) {
				conf_error("bad port %lld; use 1 to 65535",
				    (long long)$1);
				$$ = -1;
			} else
				$$ = $1;
		}
		;

proto		: STRING			{ $$ = proto_parse($1); }
		;

optproto	: /* empty */			{ $$ = PT_PROTO_SSH; }
		| proto				{ $$ = $1; }
		;

duration	: NUMBER			{ $$ = duration_check($1); }
		| STRING			{ $$ = duration_parse($1); }
		;

yesno		: STRING			{ $$ = yesno_parse($1, NULL); }
		;

/* The last option of a block may share the line of its closing brace. */
target		: targethead '{' optnl targetopts_l '}'	{ target_end(); }
		| targethead '{' optnl targetopts_l targetopts '}' {
			target_end();
		}
		;

targethead	: TARGET STRING			{ target_begin($2); }
		;

targetopts_l	: /* empty */
		| targetopts_l targetopts nl
		| targetopts_l error nl		{ yyerrok; }
		;

targetopts	: ADDRESS STRING		{ target_address($2, 0); }
		| ADDRESS STRING PORT port	{
			target_address($2, $4 == -1 ? 0 : $4);
		}
		| PORT port			{
			if ($2 != -1)
				cur_target->tg_port = $2;
		}
		| PROTOCOL proto		{
			if ($2 != -1)
				cur_target->tg_proto = $2;
		}
		| ACCOUNT STRING		{
			if (cur_target->tg_account != NULL)
				conf_error("target \"%s\" has two accounts; "
				    "keep one", cur_target->tg_name);
			else if (*$2 == '\0' || strlen($2) >= 256)
				conf_error("bad account \"%s\" for target "
				    "\"%s\": use 1 to 255 characters", $2,
				    cur_target->tg_name);
			else
				cur_target->tg_account = xstrdup($2);
		}
		;

vendor		: vendorhead '{' optnl vendoropts_l '}'
		| vendorhead '{' optnl vendoropts_l vendoropts '}'
		;

vendorhead	: VENDOR STRING			{ vendor_begin($2); }
		;

vendoropts_l	: /* empty */
		| vendoropts_l vendoropts nl
		| vendoropts_l error nl		{ yyerrok; }
		;

vendoropts	: TIMEZONE STRING		{
			if (cur_vendor->vd_timezone != NULL)
				conf_error("vendor \"%s\" has two timezones; "
				    "keep one", cur_vendor->vd_name);
			else
				set_timezone(&cur_vendor->vd_timezone, $2);
		}
		| USER STRING			{ vendor_user($2); }
		| SOURCE STRING			{ vendor_source($2); }
		| SOURCE '{' optnl sources_l '}'
		| access
		;

sources_l	: STRING optcomma		{ vendor_source($1); }
		| sources_l STRING optcomma	{ vendor_source($2); }
		;

optcomma	: /* empty */
		| ',' optnl
		| nl
		;

access		: accesshead '{' optnl accessopts_l '}'
		| accesshead '{' optnl accessopts_l accessopts '}'
		;

accesshead	: ACCESS STRING			{ access_begin($2); }
		;

accessopts_l	: /* empty */
		| accessopts_l accessopts nl
		| accessopts_l error nl		{ yyerrok; }
		;

accessopts	: WINDOW EVERY days STRING	{ window_add($3, $4); }
		| APPROVAL MAX duration		{
			if ($3 == 0)
				conf_error("approval max must be more than 0; "
				    "to refuse approvals, write: approval no");
			else if ($3 != -1) {
				cur_access->ac_approval = 1;
				cur_access->ac_approval_max = $3;
			}
		}
		| APPROVAL STRING		{
			if (yesno_parse($2, "approval max 4h") == 0) {
				cur_access->ac_approval = 0;
				cur_access->ac_approval_max = 0;
			}
		}
		| EMERGENCY MAX duration	{
			if ($3 == 0)
				conf_error("emergency max must be more than 0; "
				    "to refuse emergencies, write: "
				    "emergency no");
			else if ($3 != -1)
				cur_access->ac_emergency_max = $3;
		}
		| EMERGENCY STRING		{
			if (yesno_parse($2, "emergency max 1h") == 0)
				cur_access->ac_emergency_max = 0;
		}
		| SFTP yesno			{
			if ($2 != -1)
				cur_access->ac_sftp = $2;
		}
		| FORWARDING STRING		{
			int	 fw = forwarding_parse($2);

			if (fw != -1)
				cur_access->ac_forwarding = fw;
		}
		| AGENT yesno			{
			if ($2 != -1)
				cur_access->ac_agent = $2;
		}
		| X11 yesno			{
			if ($2 != -1)
				cur_access->ac_x11 = $2;
		}
		;

days		: STRING			{ $$ = days_parse($1); }
		| days ',' STRING		{
			int	 d = days_parse($3);

			$$ = ($1 == -1 || d == -1) ? -1 : ($1 | d);
		}
		;

%%

/* ---- errors ------------------------------------------------------------- */

char		 config_errmsg[512];

static void	 conf_verror_at(const char *, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
conf_verror_at(const char *name, int line, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 n;

	if (errors >= PARSE_MAXERRORS) {
		if (errors++ == PARSE_MAXERRORS)
			log_warnx("%s:%d: too many errors; fix these first",
			    name, line);
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_warnx("%s:%d: %s", name, line, msg);
	if (errors++ == 0 && (n = snprintf(config_errmsg,
	    sizeof(config_errmsg), "%s:%d: ", name, line)) > 0 &&
	    (size_t)n < sizeof(config_errmsg))
		strlcpy(config_errmsg + n, msg, sizeof(config_errmsg) - n);
}

static void
conf_error_at(const char *name, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror_at(name, line, fmt, ap);
	va_end(ap);
}

/* An error about the statement being parsed. */
static void
conf_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror_at(file->name, tok_line, fmt, ap);
	va_end(ap);
}

/* ---- the lexer ---------------------------------------------------------- */

/* Where a statement may stand, for "is not allowed here" messages. */
#define W_TOP		"at the top level, outside any block"
#define W_TOPVENDOR	"at the top level or in a vendor { } block"
#define W_TARGET	"in a target { } block"
#define W_VENDOR	"in a vendor { } block"
#define W_ACCESS	"in an access { } block, inside a vendor { } block"

struct keyword {
	const char	*k_name;
	int		 k_token;
	const char	*k_where;	/* NULL: in no one place */
};

/* Sorted: searched with bsearch(3). */
static const struct keyword keywords[] = {
	{ "access",		ACCESS,		W_VENDOR },
	{ "account",		ACCOUNT,	W_TARGET },
	{ "address",		ADDRESS,	W_TARGET },
	{ "admin",		ADMIN,		W_TOP },
	{ "agent",		AGENT,		W_ACCESS },
	{ "approval",		APPROVAL,	W_ACCESS },
	{ "ca",			CA,		NULL },
	{ "chroot",		CHROOT,		W_TOP },
	{ "control",		CONTROL,	W_TOP },
	{ "emergency",		EMERGENCY,	W_ACCESS },
	{ "every",		EVERY,		NULL },
	{ "facility",		FACILITY,	NULL },
	{ "forwarding",		FORWARDING,	W_ACCESS },
	{ "group",		GROUP,		NULL },
	{ "host",		HOST,		W_TOP },
	{ "include",		INCLUDE,	W_TOP },
	{ "key",		KEY,		NULL },
	{ "listen",		LISTEN,		W_TOP },
	{ "lockout",		LOCKOUT,	W_TOP },
	{ "log",		LOG,		W_TOP },
	{ "max",		MAX,		NULL },
	{ "min-free",		MINFREE,	NULL },
	{ "on",			ON,		NULL },
	{ "pam",		PAM,		W_TOP },
	{ "port",		PORT,		NULL },
	{ "protocol",		PROTOCOL,	W_TARGET },
	{ "recording",		RECORDING,	W_TOP },
	{ "recordings",		RECORDINGS,	W_TOP },
	{ "retention",		RETENTION,	NULL },
	{ "retry",		RETRY,		NULL },
	{ "service",		SERVICE,	NULL },
	{ "sessions",		SESSIONS,	NULL },
	{ "sftp",		SFTP,		W_ACCESS },
	{ "socket",		SOCKET,		NULL },
	{ "source",		SOURCE,		W_VENDOR },
	{ "store",		STORE,		W_TOP },
	{ "target",		TARGET,		W_TOP },
	{ "timeout",		TIMEOUT,	NULL },
	{ "timezone",		TIMEZONE,	W_TOPVENDOR },
	{ "user",		USER,		W_TOPVENDOR },
	{ "vault",		VAULT,		W_TOP },
	{ "vendor",		VENDOR,		W_TOP },
	{ "webhook",		WEBHOOK,	W_TOP },
	{ "window",		WINDOW,		W_ACCESS },
	{ "x11",		X11,		W_ACCESS },
};
#define NKEYWORDS	(sizeof(keywords) / sizeof(keywords[0]))

static int
keyword_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keyword *)e)->k_name);
}

static const struct keyword *
keyword_find(const char *s)
{
	return bsearch(s, keywords, NKEYWORDS, sizeof(keywords[0]),
	    keyword_cmp);
}

static int
keyword_lookup(const char *s)
{
	const struct keyword	*kw = keyword_find(s);

	return kw != NULL ? kw->k_token : STRING;
}

/* Whether A becomes B by one insertion, deletion, change or swap. */
static int
one_typo(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i = 0;

	while (i < la && i < lb && a[i] == b[i])
		i++;
	if (la == lb)
		return i < la && (strcmp(a + i + 1, b + i + 1) == 0 ||
		    (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		    strcmp(a + i + 2, b + i + 2) == 0));
	if (la == lb + 1)
		return strcmp(a + i + 1, b + i) == 0;
	if (lb == la + 1)
		return strcmp(a + i, b + i + 1) == 0;
	return 0;
}

static void
yyerror(const char *msg)
{
	const struct keyword	*kw;
	size_t			 i;

	if (strcmp(msg, "syntax error") != 0) {
		conf_error("%s", msg);
		return;
	}
	if (tok_bare && tok_first && (kw = keyword_find(tok_text)) != NULL) {
		if (kw->k_where != NULL)
			conf_error("\"%s\" is not allowed here: it belongs %s",
			    tok_text, kw->k_where);
		else
			conf_error("syntax error near \"%s\"", tok_text);
	} else if (tok_bare && tok_first &&
	    islower((unsigned char)tok_text[0]) &&
	    strspn(tok_text, "abcdefghijklmnopqrstuvwxyz0123456789_-") ==
	    strlen(tok_text)) {
		for (i = 0; i < NKEYWORDS; i++)
			if (strlen(tok_text) > 2 &&
			    one_typo(tok_text, keywords[i].k_name))
				break;
		if (i < NKEYWORDS)
			conf_error("unknown keyword \"%s\" (did you mean "
			    "\"%s\"?)", tok_text, keywords[i].k_name);
		else
			conf_error("unknown keyword \"%s\"", tok_text);
	} else if (tok_text[0] == '\0')
		conf_error("syntax error");
	else if (strcmp(tok_text, "end of line") == 0 ||
	    strcmp(tok_text, "end of file") == 0)
		conf_error("syntax error at %s: something is missing",
		    tok_text);
	else
		conf_error("syntax error near \"%s\"", tok_text);
}

static void
tok_set(const char *s, int bare)
{
	size_t	 n;

	n = strlcpy(tok_text, s, sizeof(tok_text));
	if (n >= sizeof(tok_text))
		memcpy(tok_text + sizeof(tok_text) - 4, "...", 4);
	tok_bare = bare;
}

static char *
word_new(const char *s)
{
	struct word	*w;
	size_t		 n = strlen(s) + 1;

	w = xmalloc(sizeof(*w) + n);
	memcpy(w->text, s, n);
	w->next = words;
	words = w;
	return w->text;
}

static void
words_free(void)
{
	struct word	*w;

	while ((w = words) != NULL) {
		words = w->next;
		free(w);
	}
}

static int
file_pop(void)
{
	struct file	*prev;

	if ((prev = TAILQ_PREV(file, files, entry)) == NULL)
		return 0;
	/* The parser would see the end in the including file. */
	if (file->braces > 0)
		conf_error_at(file->name, file->brace_line, "the block opened "
		    "here is not closed at the end of the file: add a }");
	TAILQ_REMOVE(&files, file, entry);
	fclose(file->fp);
	free(file->dir);
	free(file);
	file = prev;
	return 1;
}

/*
 * The next character.  The end of each file reads as one last newline, so
 * that a file need not end with one and no statement runs on into the
 * file that follows; then the including file resumes.  Inside a quoted
 * string the end of a file stays the end.
 */
static int
lgetc(int quoted)
{
	int	 c, next;

	for (;;) {
		if (file->nunget > 0)
			return file->unget[--file->nunget];
		if (file->atend) {
			if (quoted || !file_pop())
				return EOF;
			continue;
		}
		if ((c = getc(file->fp)) == EOF) {
			file->atend = 1;
			return '\n';
		}
		if (++file->size > PARSE_MAXSIZE) {
			conf_error_at(file->name, file->lineno, "file larger "
			    "than %d bytes: is it a configuration file?",
			    PARSE_MAXSIZE);
			file->atend = 1;
			return '\n';
		}
		if (c == '\0') {
			if (!file->nulseen)
				conf_error_at(file->name, file->lineno,
				    "NUL byte in file: is it a text file?");
			file->nulseen = 1;
			c = ' ';
		}
		if (c == '\\' && !quoted) {
			next = getc(file->fp);
			if (next == '\n') {
				file->lineno++;
				continue;
			}
			if (next != EOF)
				ungetc(next, file->fp);
		}
		file->lastc = c;
		return c;
	}
}

static void
lungetc(int c)
{
	if (c == EOF)
		return;
	if (file->nunget >= (int)(sizeof(file->unget) / sizeof(file->unget[0])))
		fatalx("%s: lungetc: too many characters", __func__);
	file->unget[file->nunget++] = c;
}

static int
isword(int c)
{
	return c != EOF && c < 0x80 && isgraph(c) &&
	    strchr("{},\"'#\\", c) == NULL;
}

/* The line a token at the end of the file is shown on: the last one. */
static int
lastline(void)
{
	if (file->lastc == '\n' && file->lineno > 1)
		return file->lineno - 1;
	return file->lineno;
}

static int	 yylex_token(void);

static int
yylex(void)
{
	int	 tok;

	tok_first = tok_prev == 0 || tok_prev == '\n' || tok_prev == '{';
	tok = yylex_token();
	tok_prev = tok;
	return tok;
}

static int
yylex_token(void)
{
	char	 buf[PARSE_MAXWORD];
	char	 shown[8];
	size_t	 n;
	int	 c, next, quote, toolong;

	if (pending_nl) {
		pending_nl = 0;
		tok_set("end of line", 0);
		return '\n';
	}
	/* Past so many errors, end the parse as if the input ended. */
	if (errors > PARSE_MAXERRORS) {
		tok_set("end of file", 0);
		return 0;
	}

	while ((c = lgetc(0)) == ' ' || c == '\t' || c == '\r')
		;
	tok_line = file->lineno;
	if (c == '#')
		while ((c = lgetc(0)) != '\n' && c != EOF)
			;

	switch (c) {
	case EOF:
		tok_line = lastline();
		tok_set("end of file", 0);
		return 0;
	case '\n':
		if (file->atend) {
			tok_line = lastline();
			tok_set("end of file", 0);
		} else {
			tok_set("end of line", 0);
			file->lineno++;
		}
		return '\n';
	case '"':
	case '\'':
		quote = c;
		n = 0;
		toolong = 0;
		for (;;) {
			if ((c = lgetc(1)) == EOF || c == '\n') {
				conf_error("unterminated quoted string: "
				    "add the closing %c", quote);
				lungetc(c);
				break;
			}
			if (c == quote)
				break;
			if (c == '\\') {
				next = lgetc(1);
				if (next == quote || next == '\\')
					c = next;
				else if (next == '\n' && !file->atend) {
					file->lineno++;
					continue;
				} else
					lungetc(next);
			}
			if (c < 0x20 || c == 0x7f) {
				conf_error("control character in quoted "
				    "string");
				continue;
			}
			if (n + 1 >= sizeof(buf)) {
				if (!toolong)
					conf_error("string too long (at most "
					    "%d characters)",
					    PARSE_MAXWORD - 1);
				toolong = 1;
				continue;
			}
			buf[n++] = c;
		}
		buf[n] = '\0';
		yylval.string = word_new(buf);
		tok_set(buf, 0);
		return STRING;
	}

	if (!isword(c)) {
		if (c >= 0x20 && c < 0x7f)
			snprintf(shown, sizeof(shown), "%c", c);
		else
			snprintf(shown, sizeof(shown), "\\x%02x", c);
		tok_set(shown, 0);
		/* Blocks left open at the end of a file are named there. */
		if (c == '{' && file->braces++ == 0)
			file->brace_line = file->lineno;
		else if (c == '}' && file->braces > 0)
			file->braces--;
		return c;
	}

	n = 0;
	toolong = 0;
	do {
		if (n + 1 >= sizeof(buf)) {
			if (!toolong)
				conf_error("word too long (at most %d "
				    "characters)", PARSE_MAXWORD - 1);
			toolong = 1;
		} else
			buf[n++] = c;
	} while (isword(c = lgetc(0)));
	lungetc(c);
	buf[n] = '\0';
	tok_set(buf, 1);

	if ((c = keyword_lookup(buf)) != STRING)
		return c;
	/* Digits alone are a number; 18 of them still fit in an int64_t. */
	if (n <= 18 && strspn(buf, "0123456789") == n) {
		yylval.number = strtoll(buf, NULL, 10);
		return NUMBER;
	}
	yylval.string = word_new(buf);
	return STRING;
}

/* ---- files -------------------------------------------------------------- */

static void
files_add(const char *name)
{
	size_t	 n;

	for (n = 0; conf->cf_files[n] != NULL; n++)
		;
	conf->cf_files = xreallocarray(conf->cf_files, n + 2,
	    sizeof(*conf->cf_files));
	conf->cf_files[n] = xstrdup(name);
	conf->cf_files[n + 1] = NULL;
}

/*
 * Open ABS, known in messages as NAME, for the caller to put on the list
 * of files to read.  Errors are the caller's to report, with errno set;
 * EEXIST: read already.
 */
static struct file *
file_push(const char *name, const char *abs, int depth)
{
	struct file	*f;
	struct stat	 st;
	FILE		*fp;
	char		*slash;
	size_t		 n;
	int		 fd, i;

	if ((fd = open(abs, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return NULL;
	}
	if (st.st_size > PARSE_MAXSIZE) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	for (i = 0; i < nread_files; i++)
		if (read_files[i].dev == st.st_dev &&
		    read_files[i].ino == st.st_ino) {
			close(fd);
			errno = EEXIST;
			return NULL;
		}
	if (nread_files >= PARSE_MAXFILES) {
		close(fd);
		errno = EMFILE;
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return NULL;
	}
	read_files[nread_files].dev = st.st_dev;
	read_files[nread_files].ino = st.st_ino;
	nread_files++;

	files_add(name);
	for (n = 0; conf->cf_files[n + 1] != NULL; n++)
		;
	f = xcalloc(1, sizeof(*f));
	f->fp = fp;
	f->name = conf->cf_files[n];
	f->dir = xstrdup(abs);
	if ((slash = strrchr(f->dir, '/')) == f->dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	f->lineno = 1;
	f->depth = depth;
	return f;
}

/* PATH as an absolute path, taken from the directory of the file read. */
static char *
path_abs(const char *path)
{
	char	*abs;
	size_t	 n;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (path[0] == '/')
		return xstrdup(path);
	n = strlen(file->dir);
	xasprintf(&abs, "%s%s%s", file->dir,
	    n > 0 && file->dir[n - 1] == '/' ? "" : "/", path);
	return abs;
}

/*
 * include "pattern": the files it matches are read in the order glob(3)
 * sorts them, as if they stood in place of the include line.  A pattern
 * matching nothing is fine (a policies directory with no policy yet); a
 * plain path that does not exist is an error.
 */
static void
include_glob(const char *pattern)
{
	struct file	*f, *includer = file;
	glob_t		 g;
	char		*abs;
	size_t		 i;
	int		 rv, depth = file->depth + 1;

	if (*pattern == '\0') {
		conf_error("include \"\": give a file or a pattern, as in: "
		    "include \"policies/*.conf\"");
		return;
	}
	if (depth > PARSE_MAXDEPTH) {
		conf_error("include \"%s\": includes nested too deeply "
		    "(at most %d levels); is a file including itself?",
		    pattern, PARSE_MAXDEPTH);
		return;
	}
	abs = path_abs(pattern);
	memset(&g, 0, sizeof(g));
	rv = glob(abs, 0, NULL, &g);
	if (rv == GLOB_NOMATCH) {
		if (strpbrk(abs, "*?[") == NULL)
			conf_error("include \"%s\": %s: %s", pattern, abs,
			    strerror(ENOENT));
		goto done;
	} else if (rv != 0) {
		conf_error("include \"%s\": cannot list %s", pattern, abs);
		goto done;
	}
	if (g.gl_pathc > (size_t)(PARSE_MAXFILES - nread_files)) {
		conf_error("include \"%s\": %zu files match, more than the "
		    "%d a configuration may read", pattern, g.gl_pathc,
		    PARSE_MAXFILES);
		goto done;
	}
	/*
	 * Each match goes right after the includer, so the list ends with
	 * the first match: the current file, the one read next.
	 */
	for (i = 0; i < g.gl_pathc; i++) {
		if ((f = file_push(g.gl_pathv[i], g.gl_pathv[i],
		    depth)) == NULL) {
			if (errno == EEXIST)
				conf_error("include \"%s\": %s is read "
				    "already; include each file once",
				    pattern, g.gl_pathv[i]);
			else if (errno == EFBIG)
				conf_error("include \"%s\": %s is larger than "
				    "%d bytes: is it a configuration file?",
				    pattern, g.gl_pathv[i], PARSE_MAXSIZE);
			else if (errno == EMFILE)
				conf_error("include \"%s\": too many files "
				    "(at most %d)", pattern, PARSE_MAXFILES);
			else
				conf_error("include \"%s\": %s: %s", pattern,
				    g.gl_pathv[i], strerror(errno));
			continue;
		}
		TAILQ_INSERT_AFTER(&files, includer, f, entry);
	}
	if (TAILQ_LAST(&files, files) != includer) {
		file = TAILQ_LAST(&files, files);
		pending_nl = 1;
	}
 done:
	globfree(&g);
	free(abs);
}

/* ---- main options ------------------------------------------------------- */

static int
once(unsigned int opt, const char *what)
{
	if (opt_seen & opt) {
		conf_error("\"%s\" is set twice; keep one", what);
		return 0;
	}
	opt_seen |= opt;
	return 1;
}

/* Names of vendors, users and targets: safe in logs, paths and logins. */
static int
name_check(const char *what, const char *name)
{
	if (config_name_ok(name))
		return 0;
	conf_error("bad %s name \"%s\": use 1 to %d letters, digits, '.', "
	    "'_' or '-', beginning with a letter or digit%s", what, name,
	    PT_NAME_MAX - 1, strchr(name, '@') != NULL ?
	    " ('@' separates user and target at login)" : "");
	return -1;
}

static void
set_string(char **dst, const char *val, unsigned int opt, const char *what)
{
	if (!once(opt, what) || name_check(what, val) == -1)
		return;
	free(*dst);
	*dst = xstrdup(val);
}

static void
set_path(char **dst, const char *val, unsigned int opt, const char *what)
{
	if (!once(opt, what))
		return;
	if (*val == '\0') {
		conf_error("%s \"\": give a path", what);
		return;
	}
	free(*dst);
	*dst = path_abs(val);
}

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "auth",	LOG_AUTH },
	{ "authpriv",	LOG_AUTHPRIV },
	{ "daemon",	LOG_DAEMON },
	{ "local0",	LOG_LOCAL0 },
	{ "local1",	LOG_LOCAL1 },
	{ "local2",	LOG_LOCAL2 },
	{ "local3",	LOG_LOCAL3 },
	{ "local4",	LOG_LOCAL4 },
	{ "local5",	LOG_LOCAL5 },
	{ "local6",	LOG_LOCAL6 },
	{ "local7",	LOG_LOCAL7 },
};

/* The URL is checked as the notifier will read it. */
static void
webhook_set(const char *val)
{
	struct webhook_url	 wu;
	const char		*why;

	if (!once(OPT_WEBHOOK, "webhook"))
		return;
	if (webhook_url_parse(val, &wu, &why) == -1) {
		conf_error("bad webhook URL \"%s\": %s; write it as: webhook "
		    "\"https://HOST[:PORT]/PATH\"", val, why);
		return;
	}
	free(conf->cf_webhook);
	conf->cf_webhook = xstrdup(val);
}

static void
webhook_ca(const char *val)
{
	set_path(&conf->cf_webhook_ca, val, OPT_WEBHOOK_CA, "webhook ca");
	if (conf->cf_webhook_ca != NULL && *val != '\0' &&
	    access(conf->cf_webhook_ca, R_OK) == -1)
		conf_error("webhook ca \"%s\": %s; name a PEM file of CA "
		    "certificates", val, strerror(errno));
}

static void
set_facility(const char *name)
{
	size_t	 i;

	if (!once(OPT_FACILITY, "log facility"))
		return;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(name, facilities[i].name) == 0) {
			conf->cf_facility = facilities[i].facility;
			return;
		}
	conf_error("unknown log facility \"%s\": use daemon, auth, authpriv "
	    "or local0 to local7", name);
}

static void
set_timezone(char **dst, const char *tz)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 n;

	n = snprintf(path, sizeof(path), "%s/%s", PARSE_ZONEINFO, tz);
	if (*tz == '\0' || *tz == '/' || strstr(tz, "..") != NULL ||
	    n < 0 || (size_t)n >= sizeof(path) ||
	    stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		conf_error("unknown timezone \"%s\": name a file under %s, "
		    "as in: timezone \"Europe/Paris\"", tz, PARSE_ZONEINFO);
		return;
	}
	free(*dst);
	*dst = xstrdup(tz);
}

static void
hostkey_add(const char *path)
{
	char	*abs;
	int	 i, n = conf->cf_nhostkeys;

	if (*path == '\0') {
		conf_error("host key \"\": give a path");
		return;
	}
	if (n >= PT_MAX_HOSTKEYS) {
		conf_error("too many host keys (at most %d); one per key type "
		    "is enough", PT_MAX_HOSTKEYS);
		return;
	}
	abs = path_abs(path);
	for (i = 0; i < n; i++)
		if (strcmp(conf->cf_hostkeys[i], abs) == 0) {
			conf_error("host key \"%s\" is given twice (first at "
			    "%s:%d); keep one", path, conf->cf_hostkey_file[i],
			    conf->cf_hostkey_line[i]);
			free(abs);
			return;
		}
	conf->cf_hostkeys[n] = abs;
	conf->cf_hostkey_file[n] = file->name;
	conf->cf_hostkey_line[n] = tok_line;
	conf->cf_nhostkeys++;
}

/*
 * listen on ADDRESS port N [ssh|rdp].  An address is taken as it is
 * written; "*" means every local address (one socket per family), and a
 * host name means every address it resolves to.
 */
static void
listen_add(const char *host, int port, int proto)
{
	struct addrinfo		 hints, *res, *ai;
	struct pt_listen	*ls, *other, *first = NULL;
	char			 portstr[8], addr[NI_MAXHOST];
	const char		*node = host;
	size_t			 n;
	int			 rv, mine;

	/* "[::1]", as IPv6 addresses are written next to a port. */
	n = strlen(host);
	if (n > 2 && n < sizeof(addr) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(addr, host + 1, n - 2);
		addr[n - 2] = '\0';
		node = addr;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (strcmp(node, "*") == 0) {
		node = NULL;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	}
	rv = getaddrinfo(node, portstr, &hints, &res);
	if (rv == EAI_NONAME && node != NULL && *node != '\0' &&
	    !(pflags & CONFIG_NORESOLVE)) {
		hints.ai_flags = AI_NUMERICSERV;
		rv = getaddrinfo(node, portstr, &hints, &res);
	}
	if (rv != 0) {
		conf_error("listen on \"%s\": %s; give an address such as "
		    "127.0.0.1, ::1 or *", host, gai_strerror(rv));
		return;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(ls->ls_ss))
			continue;
		ls = xcalloc(1, sizeof(*ls));
		memcpy(&ls->ls_ss, ai->ai_addr, ai->ai_addrlen);
		ls->ls_sslen = ai->ai_addrlen;
		ls->ls_proto = proto;
		ls->ls_fd = -1;
		sockaddr_str(ai->ai_addr, ai->ai_addrlen, ls->ls_name,
		    sizeof(ls->ls_name));
		/* Given before: an error; twice by one name: once is enough. */
		mine = 0;
		TAILQ_FOREACH(other, &conf->cf_listens, ls_entry) {
			if (other == first)
				mine = 1;
			if (strcmp(other->ls_name, ls->ls_name) == 0)
				break;
		}
		if (other != NULL) {
			if (!mine)
				conf_error("listen on %s is given twice; "
				    "keep one", ls->ls_name);
			free(ls);
			continue;
		}
		if (first == NULL)
			first = ls;
		TAILQ_INSERT_TAIL(&conf->cf_listens, ls, ls_entry);
	}
	freeaddrinfo(res);
}

/* ---- values ------------------------------------------------------------- */

/* forwarding yes | no | local | remote: which of ssh -L and -R. */
static int
forwarding_parse(const char *s)
{
	if (strcmp(s, "no") == 0)
		return 0;
	if (strcmp(s, "local") == 0)
		return PT_FWD_LOCAL;
	if (strcmp(s, "remote") == 0)
		return PT_FWD_REMOTE;
	if (strcmp(s, "yes") == 0)
		return PT_FWD_LOCAL | PT_FWD_REMOTE;
	conf_error("\"%s\": use yes, no, local (ssh -L) or remote (ssh -R)",
	    s);
	return -1;
}

static int
duration_check(int64_t secs)
{
	if (secs > PARSE_MAXTIME) {
		conf_error("duration of %lld seconds is too long (at most "
		    "365d)", (long long)secs);
		return -1;
	}
	return secs;
}

/*
 * "recording min-free": below this much free space on the recordings'
 * file system the daemon raises an alert.  "10%", "512M", "2G", "0".
 */
static void
min_free_set(const char *s)
{
	char		*end;
	long long	 n;
	int64_t		 unit = 1;

	if (!once(OPT_MINFREE, "recording min-free"))
		return;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || n < 0)
		goto bad;
	if (strcmp(end, "%") == 0) {
		if (n > 99)
			goto bad;
		conf->cf_recording_min_free_pct = (int)n;
		conf->cf_recording_min_free = 0;
		return;
	}
	if (strcmp(end, "K") == 0)
		unit = 1024;
	else if (strcmp(end, "M") == 0)
		unit = 1024 * 1024;
	else if (strcmp(end, "G") == 0)
		unit = 1024 * 1024 * 1024;
	else if (strcmp(end, "T") == 0)
		unit = (int64_t)1024 * 1024 * 1024 * 1024;
	else if (*end != '\0')
		goto bad;
	if (n > INT64_MAX / unit)
		goto bad;
	conf->cf_recording_min_free = n * unit;
	conf->cf_recording_min_free_pct = 0;
	return;
 bad:
	conf_error("recording min-free \"%s\": use a size (512M, 2G) or a "
	    "percentage (10%%)", s);
}

/* "90", "90s", "5m", "4h", "1d", "1h30m": seconds, or -1. */
static int
duration_parse(const char *s)
{
	int64_t		 secs = policy_duration(s, PARSE_MAXTIME);

	if (secs == -2) {
		conf_error("duration \"%s\" is too long (at most 365d)", s);
		return -1;
	}
	if (secs < 0) {
		conf_error("bad duration \"%s\": use a number with s, m, h "
		    "or d, as in 90s, 5m, 4h or 1h30m", s);
		return -1;
	}
	return (int)secs;
}

static int
proto_parse(const char *s)
{
	if (strcmp(s, "ssh") == 0)
		return PT_PROTO_SSH;
	if (strcmp(s, "rdp") == 0)
		return PT_PROTO_RDP;
	conf_error("unknown protocol \"%s\": use ssh or rdp", s);
	return -1;
}

/* yes: 1, no: 0, else -1; HINT is what to write instead of "yes". */
static int
yesno_parse(const char *s, const char *hint)
{
	if (strcmp(s, "no") == 0)
		return 0;
	if (hint == NULL) {
		if (strcmp(s, "yes") == 0)
			return 1;
		conf_error("\"%s\": use yes or no", s);
	} else if (strcmp(s, "yes") == 0)
		conf_error("\"yes\" needs a bound; write, for instance: %s",
		    hint);
	else
		conf_error("\"%s\": write no, or a bound as in: %s", s, hint);
	return -1;
}

static const char *const daynames[7][2] = {
	{ "sun", "sunday" }, { "mon", "monday" }, { "tue", "tuesday" },
	{ "wed", "wednesday" }, { "thu", "thursday" }, { "fri", "friday" },
	{ "sat", "saturday" },
};

static int
day_number(const char *s, size_t len)
{
	int	 d, i;

	for (d = 0; d < 7; d++)
		for (i = 0; i < 2; i++)
			if (strlen(daynames[d][i]) == len &&
			    strncasecmp(s, daynames[d][i], len) == 0)
				return d;
	return -1;
}

/* "day", "tue" or "mon-fri" (ranges may wrap: "fri-mon"): a wn_days mask. */
static int
days_parse(const char *s)
{
	const char	*dash;
	int		 from, to, mask = 0;

	if (strcasecmp(s, "day") == 0)
		return 0x7f;
	if ((dash = strchr(s, '-')) == NULL) {
		from = to = day_number(s, strlen(s));
	} else {
		from = day_number(s, dash - s);
		to = day_number(dash + 1, strlen(dash + 1));
	}
	if (from == -1 || to == -1) {
		conf_error("unknown day \"%s\": use mon, tue, wed, thu, fri, "
		    "sat, sun, a range such as mon-fri, or day", s);
		return -1;
	}
	for (;;) {
		mask |= 1 << from;
		if (from == to)
			break;
		from = (from + 1) % 7;
	}
	return mask;
}

/* "HH:MM", 00:00 to 24:00, in minutes; -1 if malformed. */
static int
time_parse(const char *s, size_t len)
{
	int	 h, m;

	if (len == 4 && isdigit((unsigned char)s[0]) && s[1] == ':' &&
	    isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3])) {
		h = s[0] - '0';
		m = (s[2] - '0') * 10 + (s[3] - '0');
	} else if (len == 5 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && s[2] == ':' &&
	    isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4])) {
		h = (s[0] - '0') * 10 + (s[1] - '0');
		m = (s[3] - '0') * 10 + (s[4] - '0');
	} else
		return -1;
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static void
window_add(int days, const char *range)
{
	struct pt_window	*wn;
	const char		*dash;
	int			 start = -1, end = -1;

	if ((dash = strchr(range, '-')) != NULL) {
		start = time_parse(range, dash - range);
		end = time_parse(dash + 1, strlen(dash + 1));
	}
	if (start == -1 || end == -1 || start == 24 * 60) {
		conf_error("bad window \"%s\": use HH:MM-HH:MM from 00:00 to "
		    "24:00, as in 20:00-23:00", range);
		return;
	}
	if (start == end) {
		conf_error("window %s is empty; for a whole day write "
		    "00:00-24:00", range);
		return;
	}
	if (days == -1)
		return;
	wn = xcalloc(1, sizeof(*wn));
	wn->wn_days = days;
	wn->wn_start = start;
	wn->wn_end = end;
	TAILQ_INSERT_TAIL(&cur_access->ac_windows, wn, wn_entry);
}

/* ---- targets, vendors, access ------------------------------------------- */

/*
 * A block's object is linked into the configuration as soon as its first
 * line is read, even when that line is wrong: the parse then fails, and
 * config_free() finds everything in one place.
 */
static void
target_begin(const char *name)
{
	struct pt_target	*tg;

	if (name_check("target", name) == 0 &&
	    (tg = config_target(conf, name)) != NULL)
		conf_error("target \"%s\" is defined twice (first at %s:%d); "
		    "rename one", name, tg->tg_file, tg->tg_line);
	tg = xcalloc(1, sizeof(*tg));
	tg->tg_name = xstrdup(name);
	tg->tg_proto = PT_PROTO_SSH;
	tg->tg_file = file->name;
	tg->tg_line = tok_line;
	TAILQ_INSERT_TAIL(&conf->cf_targets, tg, tg_entry);
	cur_target = tg;
}

static void
target_address(const char *host, int port)
{
	size_t	 i, n = strlen(host);

	if (cur_target->tg_host != NULL) {
		conf_error("target \"%s\" has two addresses; keep one",
		    cur_target->tg_name);
		return;
	}
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)host[i]))
			break;
	if (n == 0 || n >= NI_MAXHOST || i < n) {
		conf_error("bad address \"%s\" for target \"%s\": give a host "
		    "name or an IP address", host, cur_target->tg_name);
		return;
	}
	cur_target->tg_host = xstrdup(host);
	if (port != 0)
		cur_target->tg_port = port;
}

static void
target_end(void)
{
	struct pt_target	*tg = cur_target;

	if (tg->tg_host == NULL)
		conf_error_at(tg->tg_file, tg->tg_line, "target \"%s\" has no "
		    "address; add one, as in: address \"192.0.2.10\"",
		    tg->tg_name);
	if (tg->tg_account == NULL)
		conf_error_at(tg->tg_file, tg->tg_line, "target \"%s\" has no "
		    "account; add the one Portier logs in as, as in: "
		    "account \"maint\"", tg->tg_name);
	if (tg->tg_port == 0)
		tg->tg_port = tg->tg_proto == PT_PROTO_RDP ? 3389 : 22;
}

static void
vendor_begin(const char *name)
{
	struct pt_vendor	*vd;

	if (name_check("vendor", name) == 0 &&
	    (vd = config_vendor(conf, name)) != NULL)
		conf_error("vendor \"%s\" is defined twice (first at %s:%d); "
		    "keep one block per vendor", name, vd->vd_file,
		    vd->vd_line);
	vd = xcalloc(1, sizeof(*vd));
	vd->vd_name = xstrdup(name);
	TAILQ_INIT(&vd->vd_users);
	TAILQ_INIT(&vd->vd_sources);
	TAILQ_INIT(&vd->vd_access);
	vd->vd_file = file->name;
	vd->vd_line = tok_line;
	TAILQ_INSERT_TAIL(&conf->cf_vendors, vd, vd_entry);
	cur_vendor = vd;
}

/* One technician, one nominative account, in one vendor. */
static void
vendor_user(const char *name)
{
	struct pt_vendor	*vd;
	struct pt_vuser		*vu;

	if (name_check("user", name) == -1)
		return;
	TAILQ_FOREACH(vd, &conf->cf_vendors, vd_entry)
		TAILQ_FOREACH(vu, &vd->vd_users, vu_entry) {
			if (strcmp(vu->vu_name, name) != 0)
				continue;
			if (vd == cur_vendor)
				conf_error("user \"%s\" is listed twice in "
				    "vendor \"%s\" (first at %s:%d)", name,
				    vd->vd_name, vu->vu_file, vu->vu_line);
			else
				conf_error("user \"%s\" already belongs to "
				    "vendor \"%s\" (%s:%d): accounts are "
				    "nominative, give each technician one "
				    "account in one vendor", name,
				    vd->vd_name, vu->vu_file, vu->vu_line);
			return;
		}
	vu = xcalloc(1, sizeof(*vu));
	vu->vu_name = xstrdup(name);
	vu->vu_file = file->name;
	vu->vu_line = tok_line;
	TAILQ_INSERT_TAIL(&cur_vendor->vd_users, vu, vu_entry);
}

/* "192.0.2.0/24", "2001:db8::/32", or an address alone: /32 or /128. */
static void
vendor_source(const char *s)
{
	struct pt_cidr	 cd;
	struct pt_cidr	*new;
	char		 addr[INET6_ADDRSTRLEN];
	const char	*slash;
	size_t		 n;
	int		 max, i, bits;

	memset(&cd, 0, sizeof(cd));
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(addr))
		goto bad;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, cd.cd_addr) == 1) {
		cd.cd_af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, cd.cd_addr) == 1) {
		cd.cd_af = AF_INET6;
		max = 128;
	} else
		goto bad;
	cd.cd_prefix = max;
	if (slash != NULL) {
		slash++;
		n = strlen(slash);
		if (n == 0 || n > 3 || strspn(slash, "0123456789") != n ||
		    (n > 1 && slash[0] == '0'))
			goto bad;
		cd.cd_prefix = atoi(slash);
		if (cd.cd_prefix > max)
			goto bad;
	}
	/* Host bits set mean a typo more often than a wish. */
	for (i = 0; i < max / 8; i++) {
		bits = cd.cd_prefix - i * 8;
		if (bits >= 8)
			continue;
		if (cd.cd_addr[i] & (bits <= 0 ? 0xff : 0xff >> bits)) {
			conf_error("source %s has bits set past its /%d "
			    "prefix; write the network address", s,
			    cd.cd_prefix);
			return;
		}
	}
	new = xmalloc(sizeof(*new));
	*new = cd;
	TAILQ_INSERT_TAIL(&cur_vendor->vd_sources, new, cd_entry);
	return;
 bad:
	conf_error("bad source \"%s\": use an address or a network, as in "
	    "192.0.2.0/24 or 2001:db8::/32", s);
}

static void
access_begin(const char *target)
{
	struct pt_access	*ac;

	if (name_check("target", target) == 0 &&
	    (ac = config_access(cur_vendor, target)) != NULL)
		conf_error("vendor \"%s\" has two access blocks for target "
		    "\"%s\" (first at %s:%d); merge them", cur_vendor->vd_name,
		    target, ac->ac_file, ac->ac_line);
	ac = xcalloc(1, sizeof(*ac));
	ac->ac_target = xstrdup(target);
	TAILQ_INIT(&ac->ac_windows);
	ac->ac_sftp = 1;
	ac->ac_file = file->name;
	ac->ac_line = tok_line;
	TAILQ_INSERT_TAIL(&cur_vendor->vd_access, ac, ac_entry);
	cur_access = ac;
}

/* ---- the whole -------------------------------------------------------- */

/* What only the whole configuration can tell. */
static void
conf_finish(void)
{
	struct pt_vendor	*vd;
	struct pt_access	*ac;

	TAILQ_FOREACH(vd, &conf->cf_vendors, vd_entry)
		TAILQ_FOREACH(ac, &vd->vd_access, ac_entry)
			if (config_target(conf, ac->ac_target) == NULL)
				conf_error_at(ac->ac_file, ac->ac_line,
				    "access to unknown target \"%s\"; define "
				    "it with: target \"%s\" { ... }",
				    ac->ac_target, ac->ac_target);
}

struct pt_config *
config_parse(const char *filename)
{
	return config_parse_flags(filename, 0);
}

struct pt_config *
config_parse_flags(const char *filename, int flags)
{
	struct pt_config	*cf;
	char			 cwd[PATH_MAX];
	const char		*rel = filename;

	conf = config_new();
	errors = 0;
	config_errmsg[0] = '\0';
	pflags = flags;
	pending_nl = 0;
	opt_seen = 0;
	nread_files = 0;
	cur_target = NULL;
	cur_vendor = NULL;
	cur_access = NULL;
	tok_line = 0;
	tok_prev = 0;
	tok_set("", 0);

	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (filename[0] == '/')
		conf->cf_file = xstrdup(filename);
	else if (getcwd(cwd, sizeof(cwd)) == NULL) {
		log_warnx("%s: cannot tell the current directory: %s",
		    filename, strerror(errno));
		config_free(conf);
		conf = NULL;
		return NULL;
	} else
		xasprintf(&conf->cf_file, "%s%s%s", cwd,
		    strcmp(cwd, "/") == 0 ? "" : "/", rel);

	if ((file = file_push(filename, conf->cf_file, 0)) == NULL) {
		log_warnx("%s: %s", filename, strerror(errno));
		config_free(conf);
		conf = NULL;
		return NULL;
	}
	TAILQ_INSERT_TAIL(&files, file, entry);
	if (yyparse() != 0 && errors == 0)
		errors++;
	/* An aborted parse leaves files open. */
	while (file_pop())
		;
	fclose(file->fp);
	free(file->dir);
	TAILQ_REMOVE(&files, file, entry);
	free(file);
	file = NULL;
	words_free();

	conf_finish();
	cf = conf;
	conf = NULL;
	if (errors > 0) {
		config_free(cf);
		return NULL;
	}
	return cf;
}
