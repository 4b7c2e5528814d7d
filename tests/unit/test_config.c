/*
 * test_config.c: portier.conf, its policies and config_check().
 *
 * A table of configurations, each written to a fresh directory (a main
 * file and, when given, a policy it includes) and parsed; a valid one must
 * parse, a wrong one must fail with exactly the "file:line: message" lines
 * listed, no more.  Then what a valid configuration holds, field by field,
 * and the file system checks on modes, owners and keys.
 *
 * Messages go to stderr through log.c; the tests catch them by pointing
 * descriptor 2 at a file for the length of a call.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "portier.h"

/* ---- helpers ------------------------------------------------------------ */

static char	 dir[256];		/* made by mkdtemp for each test */
static char	 caught[16384];		/* what went to stderr, prefixes cut */
static int	 saved_stderr = -1;

static int
dir_setup(void **state)
{
	const char	*tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_config.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

static void
rm_tree(const char *path)
{
	char	 cmd[PATH_MAX + 32];

	/* Only ever our own mkdtemp directory. */
	if (strstr(path, "/test_config.") == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

static int
dir_teardown(void **state)
{
	(void)state;
	rm_tree(dir);
	return 0;
}

/* Write TEXT to DIR/NAME (directories made as needed), with MODE. */
static void
put(const char *name, const char *text, mode_t mode)
{
	char	 path[PATH_MAX], *p;
	size_t	 len = strlen(text);
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
path_of(const char *name)
{
	static char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
catch_start(void)
{
	int	 fd;

	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(saved_stderr != -1);
	fd = open(path_of("stderr.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	dup2(fd, 2);
	close(fd);
}

/* Stop catching; CAUGHT then holds the messages, "portierd[pid]: " cut. */
static const char *
catch_end(void)
{
	char	 raw[sizeof(caught)], *line, *next, *msg;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fd = open(path_of("stderr.txt"), O_RDONLY);
	assert_true(fd != -1);
	n = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	assert_true(n >= 0);
	raw[n] = '\0';
	caught[0] = '\0';
	for (line = raw; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		msg = strstr(line, "]: ");
		msg = msg != NULL ? msg + 3 : line;
		len += snprintf(caught + len, sizeof(caught) - len, "%s\n",
		    msg);
		if (len >= sizeof(caught))
			fail_msg("too many messages");
	}
	return caught;
}

/* EXPECT with every "$D" replaced by the test directory. */
static void
expand(const char *expect, char *out, size_t outsz)
{
	size_t	 len = 0;

	while (*expect != '\0' && len + 1 < outsz) {
		if (expect[0] == '$' && expect[1] == 'D') {
			len += strlcpy(out + len, dir, outsz - len);
			expect += 2;
		} else
			out[len++] = *expect++;
	}
	if (len >= outsz)
		fail_msg("expected message too long");
	out[len] = '\0';
}

static struct pt_config *
parse(const char *name, const char **messages)
{
	struct pt_config	*cf;

	catch_start();
	cf = config_parse_flags(path_of(name), CONFIG_NORESOLVE);
	*messages = catch_end();
	return cf;
}

/* ---- the table ---------------------------------------------------------- */

struct parse_case {
	const char	*name;
	const char	*conf;		/* portier.conf */
	const char	*policy;	/* policies/p.conf, or NULL */
	const char	*expect;	/* NULL: valid; else every message */
};

#define TARGET_OK \
	"target \"pacs-01\" {\n\taddress \"127.0.0.1\"\n" \
	"\taccount \"maint\"\n}\n"

static const struct parse_case parse_cases[] = {
	/* Valid. */
	{ "empty", "", NULL, NULL },
	{ "comments only", "# nothing\n\n   # here\n", NULL, NULL },
	{ "no final newline", "lockout 5m", NULL, NULL },
	{ "crlf", "lockout 5m\r\nmax sessions 10\r\n", NULL, NULL },
	{ "continuation", "listen on 127.0.0.1 \\\n\tport 2222\n", NULL, NULL },
	{ "single quotes", "user 'portier'\n", NULL, NULL },
	{ "escaped quote", "store \"a\\\"b\"\n", NULL, NULL },
	{ "full",
	  "log facility local0\n"
	  "user \"portier\"\n"
	  "admin group \"portier-admin\"\n"
	  "chroot \"/var/empty/portier\"\n"
	  "store \"/var/lib/portier/portier.db\"\n"
	  "vault key \"/etc/portier/vault.key\"\n"
	  "control socket \"/run/portier/control.sock\"\n"
	  "recordings \"/var/lib/portier/recordings\"\n"
	  "recording key \"/etc/portier/recording.key\"\n"
	  "recording min-free 2G\n"
	  "host key \"/etc/portier/ssh_host_ed25519_key\"\n"
	  "pam service \"portier\"\n"
	  "lockout 2m\n"
	  "max sessions 32\n"
	  "timezone \"Europe/Paris\"\n"
	  "listen on 127.0.0.1 port 2222\n"
	  "listen on ::1 port 3389 rdp\n"
	  "include \"policies/*.conf\"\n",
	  TARGET_OK
	  "vendor \"acme\" {\n"
	  "\ttimezone \"America/New_York\"\n"
	  "\tuser \"jdoe\"\n"
	  "\tsource 192.0.2.0/24\n"
	  "\tsource { 10.1.0.0/16, 2001:db8::/32 }\n"
	  "\taccess \"pacs-01\" {\n"
	  "\t\twindow every tue,thu 20:00-23:00\n"
	  "\t\tapproval max 4h\n"
	  "\t\temergency max 1h\n"
	  "\t\tsftp yes\n"
	  "\t\tforwarding no\n"
	  "\t\tagent no\n"
	  "\t\tx11 no\n"
	  "\t}\n"
	  "}\n", NULL },
	{ "one-line blocks",
	  "target \"a\" { address \"h\"\naccount \"m\" }\n"
	  "vendor \"v\" { access \"a\" { sftp no } }\n"
	  "vendor \"w\" {}\n", NULL, NULL },
	{ "empty include", "include \"nothing/*.conf\"\n", NULL, NULL },
	{ "target defined after its access",
	  "vendor \"v\" {\n\taccess \"pacs-01\" {\n\t}\n}\n" TARGET_OK,
	  NULL, NULL },

	{ "recording min-free, a percentage", "recording min-free 10%\n",
	  NULL, NULL },
	{ "recording min-free, bytes", "recording min-free 0\n", NULL, NULL },
	{ "recording min-free, no unit known", "recording min-free 3X\n",
	  NULL, "$D/portier.conf:1: recording min-free \"3X\": use a size "
	  "(512M, 2G) or a percentage (10%)" },
	{ "recording min-free twice",
	  "recording min-free 1G\nrecording min-free 2G\n", NULL,
	  "$D/portier.conf:2: \"recording min-free\" is set twice; keep one" },

	/* Lexical and syntax errors. */
	{ "unknown keyword", "lockout 5m\nfoo bar\n", NULL,
	  "$D/portier.conf:2: unknown keyword \"foo\"" },
	{ "typo", "listen on 127.0.0.1 port 2222\nlockuot 5m\n", NULL,
	  "$D/portier.conf:2: unknown keyword \"lockuot\" "
	  "(did you mean \"lockout\"?)" },
	{ "unknown keyword in a block",
	  "target \"a\" {\n\taddress \"h\"\n\tacount \"m\"\n"
	  "\taccount \"m\"\n}\n",
	  NULL,
	  "$D/portier.conf:3: unknown keyword \"acount\" "
	  "(did you mean \"account\"?)" },
	{ "syntax error", "listen on 127.0.0.1 port 22 ssh ssh\n", NULL,
	  "$D/portier.conf:1: syntax error near \"ssh\"" },
	{ "missing argument", "\n\nlisten on 127.0.0.1\n", NULL,
	  "$D/portier.conf:3: syntax error at end of line: something is "
	  "missing" },
	{ "unclosed block", "target \"a\" {\n\taddress \"h\"\n", NULL,
	  "$D/portier.conf:2: syntax error at end of file: something is "
	  "missing" },
	{ "misplaced statement",
	  "vendor \"a\" {\n\twindow every day 08:00-18:00\n}\n", NULL,
	  "$D/portier.conf:2: \"window\" is not allowed here: it belongs in "
	  "an access { } block, inside a vendor { } block" },
	{ "top-level statement in a block",
	  "target \"a\" {\n\taddress \"h\"\n\taccount \"m\"\n"
	  "\tlisten on ::1 port 22\n}\n", NULL,
	  "$D/portier.conf:4: \"listen\" is not allowed here: it belongs at "
	  "the top level, outside any block" },
	{ "keyword out of place", "port 22\n", NULL,
	  "$D/portier.conf:1: syntax error near \"port\"" },
	{ "unterminated string", "user \"portier\n", NULL,
	  "$D/portier.conf:1: unterminated quoted string: add the closing \"" },
	{ "control character", "user \"port\tier\"\n", NULL,
	  "$D/portier.conf:1: control character in quoted string" },
	{ "not ascii", "\xc3\xa9t\xc3\xa9\n", NULL,
	  "$D/portier.conf:1: syntax error near \"\\xc3\"" },

	/* Main options. */
	{ "bad port", "listen on 127.0.0.1 port 70000\n", NULL,
	  "$D/portier.conf:1: bad port 70000; use 1 to 65535" },
	{ "port 0", "listen on 127.0.0.1 port 0\n", NULL,
	  "$D/portier.conf:1: bad port 0; use 1 to 65535" },
	{ "duplicate listen",
	  "listen on 127.0.0.1 port 2222\nlisten on 127.0.0.1 port 2222 rdp\n",
	  NULL, "$D/portier.conf:2: listen on 127.0.0.1:2222 is given twice; "
	  "keep one" },
	{ "listen protocol", "listen on ::1 port 2222 telnet\n", NULL,
	  "$D/portier.conf:1: unknown protocol \"telnet\": use ssh or rdp" },
	{ "lockout too short", "lockout 30s\n", NULL,
	  "$D/portier.conf:1: lockout 30s is too short; use at least 60s" },
	{ "bad duration", "lockout 5x\n", NULL,
	  "$D/portier.conf:1: bad duration \"5x\": use a number with s, m, h "
	  "or d, as in 90s, 5m, 4h or 1h30m" },
	{ "duration too long", "lockout 400d\n", NULL,
	  "$D/portier.conf:1: duration \"400d\" is too long (at most "
	  "365d)" },
	{ "set twice", "chroot \"/a\"\nchroot \"/b\"\n", NULL,
	  "$D/portier.conf:2: \"chroot\" is set twice; keep one" },
	{ "unknown timezone", "timezone \"Europe/Atlantis\"\n", NULL,
	  "$D/portier.conf:1: unknown timezone \"Europe/Atlantis\": name a "
	  "file under /usr/share/zoneinfo, as in: timezone \"Europe/Paris\"" },
	{ "timezone escape", "timezone \"../../etc/passwd\"\n", NULL,
	  "$D/portier.conf:1: unknown timezone \"../../etc/passwd\": name a "
	  "file under /usr/share/zoneinfo, as in: timezone \"Europe/Paris\"" },
	{ "log facility", "log facility kern\n", NULL,
	  "$D/portier.conf:1: unknown log facility \"kern\": use daemon, auth, "
	  "authpriv or local0 to local7" },
	{ "max sessions", "max sessions 0\n", NULL,
	  "$D/portier.conf:1: max sessions 0 is out of range; use 1 to 65535" },
	{ "bad user", "user \"-x\"\n", NULL,
	  "$D/portier.conf:1: bad user name \"-x\": use 1 to 63 letters, "
	  "digits, '.', '_' or '-', beginning with a letter or digit" },
	{ "empty path", "store \"\"\n", NULL,
	  "$D/portier.conf:1: store \"\": give a path" },
	{ "too many host keys",
	  "host key \"k1\"\nhost key \"k2\"\nhost key \"k3\"\nhost key \"k4\"\n"
	  "host key \"k5\"\n", NULL,
	  "$D/portier.conf:5: too many host keys (at most 4); one per key type "
	  "is enough" },
	{ "host key twice", "host key \"k1\"\nhost key \"./k1\"\n", NULL,
	  "$D/portier.conf:2: host key \"./k1\" is given twice (first at "
	  "$D/portier.conf:1); keep one" },

	/* Includes. */
	{ "include missing", "\ninclude \"nothere.conf\"\n", NULL,
	  "$D/portier.conf:2: include \"nothere.conf\": $D/nothere.conf: No "
	  "such file or directory" },
	{ "include itself", "include \"portier.conf\"\n", NULL,
	  "$D/portier.conf:1: include \"portier.conf\": $D/portier.conf is "
	  "read already; include each file once" },
	{ "include a directory", "include \"policies\"\n", "",
	  "$D/portier.conf:1: include \"policies\": $D/policies: Is a "
	  "directory" },
	{ "error in an included file",
	  "include \"policies/*.conf\"\nfoo\n", "lockout 5m\nbar\n",
	  "$D/policies/p.conf:2: unknown keyword \"bar\"\n"
	  "$D/portier.conf:2: unknown keyword \"foo\"" },
	{ "included file without final newline",
	  "include \"policies/*.conf\"\nlockout 5m\n", "max sessions 3", NULL },

	/* Targets. */
	{ "target without account",
	  "\ntarget \"a\" {\n\taddress \"h\"\n}\n", NULL,
	  "$D/portier.conf:2: target \"a\" has no account; add the one "
	  "Portier logs in as, as in: account \"maint\"" },
	{ "target without address",
	  "target \"a\" {\n\taccount \"m\"\n}\n", NULL,
	  "$D/portier.conf:1: target \"a\" has no address; add one, as in: "
	  "address \"192.0.2.10\"" },
	{ "target twice", "include \"policies/*.conf\"\n" TARGET_OK, TARGET_OK,
	  "$D/portier.conf:2: target \"pacs-01\" is defined twice (first at "
	  "$D/policies/p.conf:1); rename one" },
	{ "target name", "target \"pacs 01\" {\n\taddress \"h\"\n"
	  "\taccount \"m\"\n}\n", NULL,
	  "$D/portier.conf:1: bad target name \"pacs 01\": use 1 to 63 "
	  "letters, digits, '.', '_' or '-', beginning with a letter or "
	  "digit" },
	{ "target name too long",
	  "target \"a123456789012345678901234567890123456789012345678901234567"
	  "890123\" {\n\taddress \"h\"\n\taccount \"m\"\n}\n", NULL,
	  "$D/portier.conf:1: bad target name \"a12345678901234567890123456789"
	  "0123456789012345678901234567890123\": use 1 to 63 letters, digits, "
	  "'.', '_' or '-', beginning with a letter or digit" },
	{ "target protocol", "target \"a\" {\n\taddress \"h\"\n"
	  "\tprotocol vnc\n\taccount \"m\"\n}\n", NULL,
	  "$D/portier.conf:3: unknown protocol \"vnc\": use ssh or rdp" },
	{ "target two accounts", "target \"a\" {\n\taddress \"h\"\n"
	  "\taccount \"m\"\n\taccount \"n\"\n}\n", NULL,
	  "$D/portier.conf:4: target \"a\" has two accounts; keep one" },

	/* Vendors. */
	{ "user in two vendors",
	  "include \"policies/*.conf\"\n"
	  "vendor \"b\" {\n\tuser \"jdoe\"\n}\n",
	  "vendor \"a\" {\n\tuser \"jdoe\"\n}\n",
	  "$D/portier.conf:3: user \"jdoe\" already belongs to vendor \"a\" "
	  "($D/policies/p.conf:2): accounts are nominative, give each "
	  "technician one account in one vendor" },
	{ "user twice", "vendor \"a\" {\n\tuser \"jdoe\"\n\tuser \"jdoe\"\n}\n",
	  NULL, "$D/portier.conf:3: user \"jdoe\" is listed twice in vendor "
	  "\"a\" (first at $D/portier.conf:2)" },
	{ "user with @", "vendor \"a\" {\n\tuser \"jdoe@pacs\"\n}\n", NULL,
	  "$D/portier.conf:2: bad user name \"jdoe@pacs\": use 1 to 63 "
	  "letters, digits, '.', '_' or '-', beginning with a letter or digit "
	  "('@' separates user and target at login)" },
	{ "vendor twice", "vendor \"a\" {\n}\nvendor \"a\" {\n}\n", NULL,
	  "$D/portier.conf:3: vendor \"a\" is defined twice (first at "
	  "$D/portier.conf:1); keep one block per vendor" },
	{ "vendor timezone", "vendor \"a\" {\n\ttimezone \"Nowhere\"\n}\n",
	  NULL, "$D/portier.conf:2: unknown timezone \"Nowhere\": name a file "
	  "under /usr/share/zoneinfo, as in: timezone \"Europe/Paris\"" },
	{ "bad prefix", "vendor \"a\" {\n\tsource 192.0.2.0/33\n}\n", NULL,
	  "$D/portier.conf:2: bad source \"192.0.2.0/33\": use an address or a "
	  "network, as in 192.0.2.0/24 or 2001:db8::/32" },
	{ "bad source", "vendor \"a\" {\n\tsource { 10.0.0.0/8, nowhere }\n}\n",
	  NULL, "$D/portier.conf:2: bad source \"nowhere\": use an address or "
	  "a network, as in 192.0.2.0/24 or 2001:db8::/32" },
	{ "host bits", "vendor \"a\" {\n\tsource 192.0.2.1/24\n}\n", NULL,
	  "$D/portier.conf:2: source 192.0.2.1/24 has bits set past its /24 "
	  "prefix; write the network address" },

	/* Access. */
	{ "unknown target",
	  "include \"policies/*.conf\"\n",
	  "vendor \"a\" {\n\taccess \"pacs-02\" {\n\t}\n}\n",
	  "$D/policies/p.conf:2: access to unknown target \"pacs-02\"; define "
	  "it with: target \"pacs-02\" { ... }" },
	{ "access twice", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n\t}\n"
	  "\taccess \"pacs-01\" {\n\t}\n}\n", NULL,
	  "$D/portier.conf:8: vendor \"a\" has two access blocks for target "
	  "\"pacs-01\" (first at $D/portier.conf:6); merge them" },
	{ "empty window", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n"
	  "\t\twindow every day 20:00-20:00\n\t}\n}\n", NULL,
	  "$D/portier.conf:7: window 20:00-20:00 is empty; for a whole day "
	  "write 00:00-24:00" },
	{ "bad window", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n"
	  "\t\twindow every mon 20:00-24:30\n\t}\n}\n", NULL,
	  "$D/portier.conf:7: bad window \"20:00-24:30\": use HH:MM-HH:MM from "
	  "00:00 to 24:00, as in 20:00-23:00" },
	{ "bad day", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n"
	  "\t\twindow every mon,fry 20:00-22:00\n\t}\n}\n", NULL,
	  "$D/portier.conf:7: unknown day \"fry\": use mon, tue, wed, thu, "
	  "fri, sat, sun, a range such as mon-fri, or day" },
	{ "approval yes", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n"
	  "\t\tapproval yes\n\t}\n}\n", NULL,
	  "$D/portier.conf:7: \"yes\" needs a bound; write, for instance: "
	  "approval max 4h" },
	{ "approval max 0", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n"
	  "\t\tapproval max 0\n\t}\n}\n", NULL,
	  "$D/portier.conf:7: approval max must be more than 0; to refuse "
	  "approvals, write: approval no" },
	{ "yes or no", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n"
	  "\t\tx11 maybe\n\t}\n}\n", NULL,
	  "$D/portier.conf:7: \"maybe\": use yes or no" },
	{ "forwarding", TARGET_OK
	  "vendor \"a\" {\n\taccess \"pacs-01\" {\n"
	  "\t\tforwarding dynamic\n\t}\n}\n", NULL,
	  "$D/portier.conf:7: \"dynamic\": use yes, no, local (ssh -L) or "
	  "remote (ssh -R)" },

	/* Several errors in one run. */
	{ "several errors", "foo\nlockout 1s\nbar\n", NULL,
	  "$D/portier.conf:1: unknown keyword \"foo\"\n"
	  "$D/portier.conf:2: lockout 1s is too short; use at least 60s\n"
	  "$D/portier.conf:3: unknown keyword \"bar\"" },
	{ "errors on consecutive lines", "foo\nbar\n"
	  "target \"a\" {\n\tadress \"h\"\n\tacount \"m\"\n}\n", NULL,
	  "$D/portier.conf:1: unknown keyword \"foo\"\n"
	  "$D/portier.conf:2: unknown keyword \"bar\"\n"
	  "$D/portier.conf:4: unknown keyword \"adress\" (did you mean "
	  "\"address\"?)\n"
	  "$D/portier.conf:5: unknown keyword \"acount\" (did you mean "
	  "\"account\"?)\n"
	  "$D/portier.conf:3: target \"a\" has no address; add one, as in: "
	  "address \"192.0.2.10\"\n"
	  "$D/portier.conf:3: target \"a\" has no account; add the one "
	  "Portier logs in as, as in: account \"maint\"" },
};

static void
test_parse_case(void **state)
{
	const struct parse_case	*pc = *state;
	struct pt_config	*cf;
	const char		*got;
	char			 want[4096];

	put("portier.conf", pc->conf, 0644);
	if (pc->policy != NULL)
		put("policies/p.conf", pc->policy, 0644);
	cf = parse("portier.conf", &got);
	if (pc->expect == NULL) {
		if (cf == NULL)
			fail_msg("%s: refused:\n%s", pc->name, got);
		if (*got != '\0')
			fail_msg("%s: messages:\n%s", pc->name, got);
		config_free(cf);
		return;
	}
	expand(pc->expect, want, sizeof(want) - 1);
	strlcpy(want + strlen(want), "\n", 2);
	if (cf != NULL) {
		config_free(cf);
		fail_msg("%s: accepted", pc->name);
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s:\nwant:\n%sgot:\n%s", pc->name, want, got);
}

/* ---- what a valid configuration holds ----------------------------------- */

static struct pt_config *
parse_ok(const char *conf)
{
	struct pt_config	*cf;
	const char		*got;

	put("portier.conf", conf, 0644);
	cf = parse("portier.conf", &got);
	if (cf == NULL)
		fail_msg("refused:\n%s", got);
	return cf;
}

static void
test_defaults(void **state)
{
	struct pt_config	*cf = parse_ok("");

	(void)state;
	assert_string_equal(cf->cf_user, PT_DEF_USER);
	assert_string_equal(cf->cf_admin_group, PT_DEF_ADMIN_GROUP);
	assert_string_equal(cf->cf_chroot, PT_DEF_CHROOT);
	assert_string_equal(cf->cf_store, PT_DEF_STORE);
	assert_string_equal(cf->cf_vault_key, PT_DEF_VAULT_KEY);
	assert_string_equal(cf->cf_control, PT_DEF_CONTROL);
	assert_string_equal(cf->cf_recordings, PT_DEF_RECORDINGS);
	assert_string_equal(cf->cf_pam_service, PT_DEF_PAM_SERVICE);
	assert_string_equal(cf->cf_timezone, PT_DEF_TIMEZONE);
	assert_int_equal(cf->cf_facility, LOG_DAEMON);
	assert_int_equal(cf->cf_lockout, PT_DEF_LOCKOUT);
	assert_int_equal(cf->cf_max_sessions, PT_DEF_MAX_SESSIONS);
	assert_int_equal(cf->cf_nhostkeys, 0);
	assert_true(TAILQ_EMPTY(&cf->cf_listens));
	assert_string_equal(cf->cf_file, path_of("portier.conf"));
	assert_string_equal(cf->cf_files[0], path_of("portier.conf"));
	assert_null(cf->cf_files[1]);
	config_free(cf);
}

static void
test_main_options(void **state)
{
	struct pt_config	*cf;
	char			 want[PATH_MAX];

	(void)state;
	cf = parse_ok(
	    "log facility authpriv\n"
	    "user \"pt\"\n"
	    "admin group \"it\"\n"
	    "chroot \"empty\"\n"
	    "store \"./var/portier.db\"\n"
	    "vault key \"/etc/vault.key\"\n"
	    "control socket \"run/control.sock\"\n"
	    "recordings \"rec\"\n"
	    "host key \"keys/ed25519\"\n"
	    "host key \"/etc/ssh/ssh_host_rsa_key\"\n"
	    "pam service \"portier-test\"\n"
	    "lockout 1h30m\n"
	    "max sessions 12\n"
	    "timezone \"UTC\"\n");
	assert_int_equal(cf->cf_facility, LOG_AUTHPRIV);
	assert_string_equal(cf->cf_user, "pt");
	assert_string_equal(cf->cf_admin_group, "it");
	assert_string_equal(cf->cf_chroot, path_of("empty"));
	assert_string_equal(cf->cf_store, path_of("var/portier.db"));
	assert_string_equal(cf->cf_vault_key, "/etc/vault.key");
	assert_string_equal(cf->cf_control, path_of("run/control.sock"));
	assert_string_equal(cf->cf_recordings, path_of("rec"));
	assert_int_equal(cf->cf_nhostkeys, 2);
	assert_string_equal(cf->cf_hostkeys[0], path_of("keys/ed25519"));
	assert_string_equal(cf->cf_hostkeys[1], "/etc/ssh/ssh_host_rsa_key");
	snprintf(want, sizeof(want), "%s", path_of("portier.conf"));
	assert_string_equal(cf->cf_hostkey_file[1], want);
	assert_int_equal(cf->cf_hostkey_line[0], 9);
	assert_int_equal(cf->cf_hostkey_line[1], 10);
	assert_string_equal(cf->cf_pam_service, "portier-test");
	assert_int_equal(cf->cf_lockout, 5400);
	assert_int_equal(cf->cf_max_sessions, 12);
	assert_string_equal(cf->cf_timezone, "UTC");
	config_free(cf);
}

static void
test_listen(void **state)
{
	struct pt_config	*cf;
	struct pt_listen	*ls;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	int			 n = 0, v4any = 0, v6any = 0;

	(void)state;
	cf = parse_ok(
	    "listen on 127.0.0.1 port 2222\n"
	    "listen on ::1 port 2222 rdp\n"
	    "listen on [::1] port 2223 ssh\n"
	    "listen on * port 2224\n");
	ls = TAILQ_FIRST(&cf->cf_listens);
	assert_non_null(ls);
	assert_string_equal(ls->ls_name, "127.0.0.1:2222");
	assert_int_equal(ls->ls_proto, PT_PROTO_SSH);
	assert_int_equal(ls->ls_fd, -1);
	assert_int_equal(ls->ls_ss.ss_family, AF_INET);
	assert_int_equal(ls->ls_sslen, sizeof(struct sockaddr_in));
	sin = (struct sockaddr_in *)&ls->ls_ss;
	assert_int_equal(ntohs(sin->sin_port), 2222);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);

	ls = TAILQ_NEXT(ls, ls_entry);
	assert_string_equal(ls->ls_name, "[::1]:2222");
	assert_int_equal(ls->ls_proto, PT_PROTO_RDP);
	assert_int_equal(ls->ls_ss.ss_family, AF_INET6);
	sin6 = (struct sockaddr_in6 *)&ls->ls_ss;
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));

	ls = TAILQ_NEXT(ls, ls_entry);
	assert_string_equal(ls->ls_name, "[::1]:2223");
	assert_int_equal(ls->ls_proto, PT_PROTO_SSH);

	/* "*": every family's any address. */
	for (ls = TAILQ_NEXT(ls, ls_entry); ls != NULL;
	    ls = TAILQ_NEXT(ls, ls_entry), n++) {
		if (strcmp(ls->ls_name, "0.0.0.0:2224") == 0)
			v4any = 1;
		else if (strcmp(ls->ls_name, "[::]:2224") == 0)
			v6any = 1;
		else
			fail_msg("unexpected %s", ls->ls_name);
	}
	assert_true(v4any);
	assert_true(n >= 1 && n <= 2);
	(void)v6any;
	config_free(cf);
}

static void
test_policy(void **state)
{
	struct pt_config	*cf;
	struct pt_target	*tg;
	struct pt_vendor	*vd;
	struct pt_access	*ac;
	struct pt_window	*wn;
	struct pt_cidr		*cd;
	uint8_t			 v6[16];

	(void)state;
	put("policies/targets.conf",
	    "target \"pacs-01\" {\n"
	    "\taddress \"192.0.2.10\" port 2022\n"
	    "\taccount \"maint\"\n"
	    "}\n"
	    "target \"lab-rdp\" {\n"
	    "\taddress \"lab.example\"\n"
	    "\tprotocol rdp\n"
	    "\taccount \"DOMAIN\\\\maint\"\n"
	    "}\n"
	    "target \"lab-ssh\" {\n"
	    "\taddress \"lab.example\"\n"
	    "\taccount \"maint\"\n"
	    "}\n", 0644);
	put("policies/vendors.conf",
	    "vendor \"acme\" {\n"
	    "\tuser \"jdoe\"\n"
	    "\tuser \"asmith\"\n"
	    "\tsource 192.0.2.0/24\n"
	    "\tsource {\n\t\t10.1.0.0/16,\n\t\t2001:db8::/32\n"
	    "\t\t198.51.100.7\n"
	    "\t}\n"
	    "\taccess \"pacs-01\" {\n"
	    "\t\twindow every tue,thu 20:00-23:00\n"
	    "\t\twindow every fri-mon 22:00-02:00\n"
	    "\t\twindow every day 00:00-24:00\n"
	    "\t\tapproval max 4h\n"
	    "\t\temergency max 1h\n"
	    "\t\tforwarding yes\n"
	    "\t}\n"
	    "\taccess \"lab-rdp\" {\n"
	    "\t\tsftp no\n"
	    "\t}\n"
	    "\taccess \"lab-ssh\" {\n"
	    "\t\tforwarding local\n"
	    "\t\tagent yes\n"
	    "\t\tx11 yes\n"
	    "\t}\n"
	    "}\n"
	    "vendor \"biolab\" {\n"
	    "\ttimezone \"Europe/Berlin\"\n"
	    "\tuser \"kmuller\"\n"
	    "}\n", 0644);
	cf = parse_ok("include \"policies/*.conf\"\n");

	/* glob(3) order: targets.conf, then vendors.conf. */
	assert_string_equal(cf->cf_files[1], path_of("policies/targets.conf"));
	assert_string_equal(cf->cf_files[2], path_of("policies/vendors.conf"));
	assert_null(cf->cf_files[3]);

	tg = config_target(cf, "pacs-01");
	assert_non_null(tg);
	assert_string_equal(tg->tg_host, "192.0.2.10");
	assert_int_equal(tg->tg_port, 2022);
	assert_int_equal(tg->tg_proto, PT_PROTO_SSH);
	assert_string_equal(tg->tg_account, "maint");
	assert_string_equal(tg->tg_file, path_of("policies/targets.conf"));
	assert_int_equal(tg->tg_line, 1);
	tg = config_target(cf, "lab-rdp");
	assert_non_null(tg);
	assert_int_equal(tg->tg_port, 3389);
	assert_int_equal(tg->tg_proto, PT_PROTO_RDP);
	assert_string_equal(tg->tg_account, "DOMAIN\\maint");
	assert_null(config_target(cf, "pacs-02"));

	vd = config_vendor(cf, "acme");
	assert_non_null(vd);
	assert_null(vd->vd_timezone);
	assert_ptr_equal(config_vendor_of_user(cf, "asmith"), vd);
	assert_ptr_equal(config_vendor_of_user(cf, "kmuller"),
	    config_vendor(cf, "biolab"));
	assert_null(config_vendor_of_user(cf, "nobody"));
	assert_string_equal(config_vendor(cf, "biolab")->vd_timezone,
	    "Europe/Berlin");

	cd = TAILQ_FIRST(&vd->vd_sources);
	assert_int_equal(cd->cd_af, AF_INET);
	assert_int_equal(cd->cd_prefix, 24);
	assert_memory_equal(cd->cd_addr, "\xc0\x00\x02\x00", 4);
	cd = TAILQ_NEXT(cd, cd_entry);
	assert_int_equal(cd->cd_prefix, 16);
	cd = TAILQ_NEXT(cd, cd_entry);
	assert_int_equal(cd->cd_af, AF_INET6);
	assert_int_equal(cd->cd_prefix, 32);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::", v6), 1);
	assert_memory_equal(cd->cd_addr, v6, 16);
	cd = TAILQ_NEXT(cd, cd_entry);
	assert_int_equal(cd->cd_af, AF_INET);
	assert_int_equal(cd->cd_prefix, 32);
	assert_null(TAILQ_NEXT(cd, cd_entry));

	ac = config_access(vd, "pacs-01");
	assert_non_null(ac);
	assert_string_equal(ac->ac_file, path_of("policies/vendors.conf"));
	assert_int_equal(ac->ac_line, 10);
	assert_int_equal(ac->ac_approval, 1);
	assert_int_equal(ac->ac_approval_max, 4 * 3600);
	assert_int_equal(ac->ac_emergency_max, 3600);
	assert_int_equal(ac->ac_sftp, 1);
	assert_int_equal(ac->ac_forwarding, PT_FWD_LOCAL | PT_FWD_REMOTE);
	assert_int_equal(ac->ac_agent, 0);
	assert_int_equal(ac->ac_x11, 0);
	wn = TAILQ_FIRST(&ac->ac_windows);
	assert_int_equal(wn->wn_days, (1 << 2) | (1 << 4));
	assert_int_equal(wn->wn_start, 20 * 60);
	assert_int_equal(wn->wn_end, 23 * 60);
	wn = TAILQ_NEXT(wn, wn_entry);
	assert_int_equal(wn->wn_days,
	    (1 << 5) | (1 << 6) | (1 << 0) | (1 << 1));
	assert_int_equal(wn->wn_start, 22 * 60);
	assert_int_equal(wn->wn_end, 2 * 60);
	wn = TAILQ_NEXT(wn, wn_entry);
	assert_int_equal(wn->wn_days, 0x7f);
	assert_int_equal(wn->wn_start, 0);
	assert_int_equal(wn->wn_end, 24 * 60);
	assert_null(TAILQ_NEXT(wn, wn_entry));

	/* Defaults of an access block. */
	ac = config_access(vd, "lab-rdp");
	assert_non_null(ac);
	assert_int_equal(ac->ac_approval, 0);
	assert_int_equal(ac->ac_emergency_max, 0);
	assert_int_equal(ac->ac_sftp, 0);
	assert_int_equal(ac->ac_forwarding, 0);
	assert_true(TAILQ_EMPTY(&ac->ac_windows));
	assert_null(config_access(vd, "pacs-02"));
	ac = config_access(vd, "lab-ssh");
	assert_non_null(ac);
	assert_int_equal(ac->ac_forwarding, PT_FWD_LOCAL);
	assert_int_equal(ac->ac_agent, 1);
	assert_int_equal(ac->ac_x11, 1);

	assert_string_equal(config_proto_name(PT_PROTO_SSH), "ssh");
	assert_string_equal(config_proto_name(PT_PROTO_RDP), "rdp");
	config_free(cf);
}

/* Includes nest up to 8 deep: inc/N.conf includes inc/N+1.conf. */
static void
test_include_depth(void **state)
{
	struct pt_config	*cf;
	const char		*got;
	char			 name[32], text[64], want[PATH_MAX + 128];
	int			 i;

	(void)state;
	for (i = 2; i <= 9; i++) {
		snprintf(name, sizeof(name), "inc/%d.conf", i);
		snprintf(text, sizeof(text), "\ninclude \"%d.conf\"\n", i + 1);
		put(name, text, 0644);
	}
	put("inc/10.conf", "lockout 2m\n", 0644);

	/* portier.conf, then 3.conf to 10.conf: 8 levels below it. */
	put("portier.conf", "include \"inc/3.conf\"\n", 0644);
	cf = parse("portier.conf", &got);
	assert_non_null(cf);
	assert_int_equal(cf->cf_lockout, 120);
	config_free(cf);

	put("portier.conf", "include \"inc/2.conf\"\n", 0644);
	cf = parse("portier.conf", &got);
	assert_null(cf);
	snprintf(want, sizeof(want), "%s:2: include \"10.conf\": includes "
	    "nested too deeply (at most 8 levels); is a file including "
	    "itself?\n", path_of("inc/9.conf"));
	assert_string_equal(got, want);
}

static void
test_nul_byte(void **state)
{
	struct pt_config	*cf;
	const char		*got;
	char			 want[PATH_MAX + 64];
	int			 fd;

	(void)state;
	fd = open(path_of("portier.conf"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "lockout 5m\n\0\n", 13), 13);
	close(fd);
	cf = parse("portier.conf", &got);
	assert_null(cf);
	snprintf(want, sizeof(want), "%s:2: NUL byte in file: is it a text "
	    "file?\n", path_of("portier.conf"));
	assert_string_equal(got, want);
}

/* A file of nonsense gives 50 messages, then one saying it stops. */
static void
test_too_many_errors(void **state)
{
	struct pt_config	*cf;
	const char		*got, *p;
	char			 text[1024], want[PATH_MAX + 64];
	int			 i, lines = 0;

	(void)state;
	text[0] = '\0';
	for (i = 0; i < 100; i++)
		strlcpy(text + 4 * i, "foo\n", sizeof(text) - 4 * i);
	put("portier.conf", text, 0644);
	cf = parse("portier.conf", &got);
	assert_null(cf);
	for (p = got; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, 51);
	snprintf(want, sizeof(want), "%s:51: too many errors; fix these "
	    "first\n", path_of("portier.conf"));
	assert_string_equal(got + strlen(got) - strlen(want), want);
}

/* What is too big to be a configuration is not read. */
static void
test_too_large(void **state)
{
	struct pt_config	*cf;
	const char		*got;
	char			 conf[PATH_MAX], big[PATH_MAX];
	char			 want[2 * PATH_MAX + 128];
	int			 fd;

	(void)state;
	strlcpy(conf, path_of("portier.conf"), sizeof(conf));
	strlcpy(big, path_of("big.conf"), sizeof(big));
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(ftruncate(fd, 2 * 1024 * 1024), 0);
	close(fd);
	put("portier.conf", "include \"big.conf\"\n", 0644);
	cf = parse("portier.conf", &got);
	assert_null(cf);
	snprintf(want, sizeof(want), "%s:1: include \"big.conf\": %s is "
	    "larger than 1048576 bytes: is it a configuration file?\n",
	    conf, big);
	assert_string_equal(got, want);
}

static void
test_missing_file(void **state)
{
	struct pt_config	*cf;
	const char		*got;
	char			 want[PATH_MAX + 64];

	(void)state;
	cf = parse("nothere.conf", &got);
	assert_null(cf);
	snprintf(want, sizeof(want), "%s: No such file or directory\n",
	    path_of("nothere.conf"));
	assert_string_equal(got, want);
}

/* A relative file name: messages show it as given, cf_file is absolute. */
static void
test_relative_name(void **state)
{
	struct pt_config	*cf;
	char			 cwd[PATH_MAX];
	const char		*got;

	(void)state;
	put("portier.conf", "store \"db\"\nfoo\n", 0644);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	catch_start();
	cf = config_parse("./portier.conf");
	got = catch_end();
	assert_null(cf);
	assert_string_equal(got, "./portier.conf:2: unknown keyword \"foo\"\n");

	put("portier.conf", "store \"db\"\n", 0644);
	cf = config_parse("portier.conf");
	assert_non_null(cf);
	assert_string_equal(cf->cf_files[0], "portier.conf");
	assert_string_equal(cf->cf_file, path_of("portier.conf"));
	assert_string_equal(cf->cf_store, path_of("db"));
	config_free(cf);
	assert_int_equal(chdir(cwd), 0);
}

/* What ships must parse: contrib/portier.conf and the demo policy. */
static void
test_shipped(void **state)
{
	struct pt_config	*cf;
	const char		*top = getenv("top_srcdir"), *got;
	char			 conf[PATH_MAX], demo[PATH_MAX];
	char			 text[PATH_MAX + 32];

	(void)state;
	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(conf, sizeof(conf), "%s/contrib/portier.conf", top);
	snprintf(demo, sizeof(demo), "%s/policies/demo.conf", top);
	if (access(conf, R_OK) == -1 || access(demo, R_OK) == -1)
		skip();

	catch_start();
	cf = config_parse_flags(conf, CONFIG_NORESOLVE);
	got = catch_end();
	if (cf == NULL)
		fail_msg("%s refused:\n%s", conf, got);
	assert_int_equal(cf->cf_nhostkeys, 1);
	assert_false(TAILQ_EMPTY(&cf->cf_listens));
	config_free(cf);

	/* The demo policy, included as an operator would. */
	assert_non_null(realpath(demo, conf));
	snprintf(text, sizeof(text), "include \"%s\"\n", conf);
	cf = parse_ok(text);
	assert_non_null(config_target(cf, "pacs-01"));
	assert_non_null(config_vendor_of_user(cf, "jdoe"));
	config_free(cf);
}

/* ---- config_check() ----------------------------------------------------- */

struct check_case {
	const char	*name;
	const char	*conf;
	mode_t		 conf_mode;
	mode_t		 key_mode;	/* 0: no host key file */
	mode_t		 vault_mode;	/* 0: no vault key file */
	const char	*expect;	/* NULL: passes */
};

#define CHECK_CONF \
	"listen on 127.0.0.1 port 2222\nvault key \"vault.key\"\n" \
	"host key \"ssh_host_ed25519_key\"\n"

static const struct check_case check_cases[] = {
	{ "fine", CHECK_CONF, 0644, 0600, 0600, NULL },
	{ "fine without vault key", CHECK_CONF, 0600, 0400, 0, NULL },
	{ "world-writable config", CHECK_CONF, 0666, 0600, 0,
	  "$D/portier.conf: is writable by others; fix with: chmod go-w "
	  "$D/portier.conf" },
	{ "group-writable config", CHECK_CONF, 0664, 0600, 0,
	  "$D/portier.conf: is writable by others; fix with: chmod go-w "
	  "$D/portier.conf" },
	{ "missing host key", CHECK_CONF, 0644, 0, 0,
	  "$D/portier.conf:3: host key \"$D/ssh_host_ed25519_key\": No such "
	  "file or directory (generate one with: ssh-keygen -t ed25519 -N \"\" "
	  "-f $D/ssh_host_ed25519_key)" },
	{ "group-readable host key", CHECK_CONF, 0644, 0640, 0,
	  "$D/portier.conf:3: host key \"$D/ssh_host_ed25519_key\" is "
	  "readable by others; fix with: chmod 600 $D/ssh_host_ed25519_key" },
	{ "group-writable host key", CHECK_CONF, 0644, 0620, 0,
	  "$D/portier.conf:3: host key \"$D/ssh_host_ed25519_key\" is "
	  "writable by others; fix with: chmod 600 $D/ssh_host_ed25519_key" },
	{ "readable vault key", CHECK_CONF, 0644, 0600, 0644,
	  "vault key \"$D/vault.key\" is readable by others; fix with: "
	  "chmod 600 $D/vault.key" },
	{ "no listen", "host key \"ssh_host_ed25519_key\"\n", 0644, 0600, 0,
	  "$D/portier.conf: no \"listen on\" directive: vendors cannot "
	  "connect; add one, as in: listen on 127.0.0.1 port 2222" },
	{ "ssh without host key", "listen on 127.0.0.1 port 2222\n", 0644, 0,
	  0, "$D/portier.conf: listening for ssh needs a host key; add one, "
	  "as in: host key \"/etc/portier/ssh_host_ed25519_key\"" },
	{ "rdp only needs no host key", "listen on 127.0.0.1 port 3389 rdp\n",
	  0644, 0, 0, NULL },
	{ "several problems", CHECK_CONF, 0646, 0644, 0,
	  "$D/portier.conf: is writable by others; fix with: chmod go-w "
	  "$D/portier.conf\n"
	  "$D/portier.conf:3: host key \"$D/ssh_host_ed25519_key\" is "
	  "readable by others; fix with: chmod 600 $D/ssh_host_ed25519_key" },
};

static void
test_check_case(void **state)
{
	const struct check_case	*cc = *state;
	struct pt_config	*cf;
	const char		*got;
	char			 want[4096];
	int			 rv;

	put("portier.conf", cc->conf, cc->conf_mode);
	if (cc->key_mode != 0)
		put("ssh_host_ed25519_key", "key\n", cc->key_mode);
	if (cc->vault_mode != 0)
		put("vault.key", "key\n", cc->vault_mode);
	cf = parse("portier.conf", &got);
	if (cf == NULL)
		fail_msg("%s: refused:\n%s", cc->name, got);
	catch_start();
	rv = config_check(cf);
	got = catch_end();
	config_free(cf);
	if (cc->expect == NULL) {
		if (rv != 0 || *got != '\0')
			fail_msg("%s: refused (%d):\n%s", cc->name, rv, got);
		return;
	}
	expand(cc->expect, want, sizeof(want) - 1);
	strlcpy(want + strlen(want), "\n", 2);
	assert_int_equal(rv, -1);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\nwant:\n%sgot:\n%s", cc->name, want, got);
}

/* Owned by someone else: only root can make such a file to test it. */
static void
test_check_owner(void **state)
{
	struct pt_config	*cf;
	const char		*got;
	char			 want[2 * PATH_MAX + 128];

	(void)state;
	if (geteuid() != 0)
		skip();
	put("policies/p.conf", "lockout 5m\n", 0644);
	put("portier.conf", "listen on 127.0.0.1 port 3389 rdp\n"
	    "include \"policies/*.conf\"\n", 0644);
	assert_int_equal(chown(path_of("policies/p.conf"), 4242, 4242), 0);
	cf = parse("portier.conf", &got);
	assert_non_null(cf);
	catch_start();
	assert_int_equal(config_check(cf), -1);
	got = catch_end();
	config_free(cf);
	snprintf(want, sizeof(want), "%s: is owned by uid 4242, not by root; "
	    "fix with: chown root %s\n", path_of("policies/p.conf"),
	    path_of("policies/p.conf"));
	assert_string_equal(got, want);
}

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 nparse, ncheck, i, n = 0;
	const struct CMUnitTest	 fixed[] = {
		cmocka_unit_test_setup_teardown(test_defaults, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_main_options, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_listen, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_policy, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_include_depth, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_too_many_errors,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_too_large, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_relative_name, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_check_owner, dir_setup,
		    dir_teardown),
		cmocka_unit_test_setup_teardown(test_shipped, dir_setup,
		    dir_teardown),
	};
	const size_t		 nfixed = sizeof(fixed) / sizeof(fixed[0]);
	int			 rv;

	nparse = sizeof(parse_cases) / sizeof(parse_cases[0]);
	ncheck = sizeof(check_cases) / sizeof(check_cases[0]);
	tests = calloc(nparse + ncheck + nfixed, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (i = 0; i < nparse; i++, n++) {
		tests[n].name = parse_cases[i].name;
		tests[n].test_func = test_parse_case;
		tests[n].setup_func = dir_setup;
		tests[n].teardown_func = dir_teardown;
		tests[n].initial_state = (void *)&parse_cases[i];
	}
	for (i = 0; i < ncheck; i++, n++) {
		tests[n].name = check_cases[i].name;
		tests[n].test_func = test_check_case;
		tests[n].setup_func = dir_setup;
		tests[n].teardown_func = dir_teardown;
		tests[n].initial_state = (void *)&check_cases[i];
	}
	for (i = 0; i < nfixed; i++)
		tests[n++] = fixed[i];
	rv = _cmocka_run_group_tests("config", tests, n, NULL, NULL);
	free(tests);
	return rv;
}
