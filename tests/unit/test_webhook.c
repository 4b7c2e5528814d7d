/*
 * test_webhook.c: the webhook's URL, its JSON document, its retry
 * schedule and the status line it reads, without any network.
 *
 * Every document is also read back by a strict JSON check (no control
 * character, no invalid UTF-8, escapes well formed), so that a user name
 * or a reason full of quotes, backslashes, newlines or stray bytes can
 * never break the receiver's parser or forge a field.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portier.h"

/* ---- URLs ------------------------------------------------------------- */

struct ucase {
	const char	*url;
	int		 ok;
	int		 tls;
	const char	*host;
	int		 port;
	const char	*path;
	const char	*why;		/* a word of the reason, if refused */
};

static const struct ucase ucases[] = {
	{ "https://siem.example.org/hooks/portier", 1, 1,
	    "siem.example.org", 443, "/hooks/portier", NULL },
	{ "http://127.0.0.1:8080/hook", 1, 0, "127.0.0.1", 8080, "/hook",
	    NULL },
	{ "HTTPS://Example.org", 1, 1, "Example.org", 443, "/", NULL },
	{ "https://[2001:db8::1]:8443/h?token=abc", 1, 1, "2001:db8::1",
	    8443, "/h?token=abc", NULL },
	{ "http://relay?x=1", 1, 0, "relay", 80, "/?x=1", NULL },
	{ "https://a.example:65535/", 1, 1, "a.example", 65535, "/", NULL },
	{ "ftp://example.org/", 0, 0, NULL, 0, NULL, "begin with" },
	{ "example.org/hook", 0, 0, NULL, 0, NULL, "begin with" },
	{ "https://", 0, 0, NULL, 0, NULL, "host" },
	{ "https:///path", 0, 0, NULL, 0, NULL, "host" },
	{ "https://example.org:0/", 0, 0, NULL, 0, NULL, "port" },
	{ "https://example.org:65536/", 0, 0, NULL, 0, NULL, "port" },
	{ "https://example.org:/", 0, 0, NULL, 0, NULL, "port" },
	{ "https://example.org:44x/", 0, 0, NULL, 0, NULL, "port" },
	{ "https://user:pw@example.org/", 0, 0, NULL, 0, NULL, "credentials" },
	{ "https://example.org/a#frag", 0, 0, NULL, 0, NULL, "fragment" },
	{ "https://exa mple.org/", 0, 0, NULL, 0, NULL, "ASCII" },
	{ "https://example.org/\xc3\xa9", 0, 0, NULL, 0, NULL, "ASCII" },
	{ "https://[2001:db8::1/", 0, 0, NULL, 0, NULL, "]" },
	{ "https://[nothex]/", 0, 0, NULL, 0, NULL, "host" },
	{ "https://-bad.example/", 0, 0, NULL, 0, NULL, "host" },
	{ "https://bad_host/", 0, 0, NULL, 0, NULL, "host" },
	{ "https://[::1]x/", 0, 0, NULL, 0, NULL, "after the host" },
};

static void
test_url(void **state)
{
	struct webhook_url	 wu;
	const char		*why;
	size_t			 i;
	char			 longurl[PT_WEBHOOK_URL_MAX + 8];

	for (i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		const struct ucase *c = &ucases[i];

		why = NULL;
		if (webhook_url_parse(c->url, &wu, &why) != (c->ok ? 0 : -1))
			fail_msg("%s: expected %s", c->url,
			    c->ok ? "accepted" : "refused");
		if (!c->ok) {
			assert_non_null(why);
			if (strstr(why, c->why) == NULL)
				fail_msg("%s: reason \"%s\" lacks \"%s\"",
				    c->url, why, c->why);
			continue;
		}
		assert_int_equal(wu.wu_tls, c->tls);
		assert_string_equal(wu.wu_host, c->host);
		assert_int_equal(wu.wu_port, c->port);
		assert_string_equal(wu.wu_path, c->path);
	}
	memset(longurl, 'a', sizeof(longurl));
	memcpy(longurl, "https://x/", 10);
	longurl[sizeof(longurl) - 1] = '\0';
	assert_int_equal(webhook_url_parse(longurl, &wu, &why), -1);
	assert_non_null(strstr(why, "too long"));
}

/* ---- a strict JSON string reader, independent of the writer ------------ */

/* Checks the string at *P (after its opening quote) and decodes it into
 * OUT as UTF-8; returns 0, or -1 if it is not valid JSON. */
static int
json_string(const char **p, char *out, size_t outsz)
{
	const unsigned char	*s = (const unsigned char *)*p;
	size_t			 o = 0;
	unsigned int		 cp;
	int			 i;

	for (;;) {
		if (o + 5 > outsz)
			return -1;
		if (*s == '"') {
			out[o] = '\0';
			*p = (const char *)s + 1;
			return 0;
		}
		if (*s < 0x20)
			return -1;
		if (*s != '\\') {
			out[o++] = (char)*s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"': case '\\': case '/':
			out[o++] = (char)*s++;
			continue;
		case 'n': out[o++] = '\n'; s++; continue;
		case 'r': out[o++] = '\r'; s++; continue;
		case 't': out[o++] = '\t'; s++; continue;
		case 'b': out[o++] = '\b'; s++; continue;
		case 'f': out[o++] = '\f'; s++; continue;
		case 'u':
			s++;
			for (cp = 0, i = 0; i < 4; i++, s++) {
				if (!strchr("0123456789abcdefABCDEF", *s) ||
				    *s == '\0')
					return -1;
				cp = cp * 16 + (unsigned int)(*s <= '9' ?
				    *s - '0' : (*s | 0x20) - 'a' + 10);
			}
			if (cp < 0x80)
				out[o++] = (char)cp;
			else if (cp < 0x800) {
				out[o++] = (char)(0xc0 | cp >> 6);
				out[o++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[o++] = (char)(0xe0 | cp >> 12);
				out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[o++] = (char)(0x80 | (cp & 0x3f));
			}
			continue;
		default:
			return -1;
		}
	}
}

/* Every byte of the document outside escapes must be valid UTF-8. */
static int
utf8_valid(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	int			 n, i;

	while (*s) {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 1;
		else if (*s >= 0xe0 && *s <= 0xef)
			n = 2;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 3;
		else
			return 0;
		for (i = 1; i <= n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return 0;
		s += n + 1;
	}
	return 1;
}

/* The decoded value of string field NAME in DOC, or NULL if absent. */
static const char *
json_field(const char *doc, const char *name, char *out, size_t outsz)
{
	char		 key[64];
	const char	*p;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	/* Keys are at top level, after '{' or ','. */
	for (p = doc; (p = strstr(p, key)) != NULL; p++)
		if (p[-1] == '{' || p[-1] == ',')
			break;
	if (p == NULL)
		return NULL;
	p += strlen(key);
	return json_string(&p, out, outsz) == 0 ? out : NULL;
}

/* ---- documents ---------------------------------------------------------- */

static void
test_json_full(void **state)
{
	struct notice	 n = {
		.n_event = "request.approve", .n_request = 42, .n_grant = 7,
		.n_user = "jdoe", .n_vendor = "acme", .n_target = "pacs-01",
		.n_actor = "admin:alice", .n_text = "planned update",
		.n_starts = 1795525200, .n_ends = 1795528800,
	};
	char		*doc;

	doc = webhook_json(&n, 1795525200, "bastion-1");
	assert_string_equal(doc, "{\"version\":1,\"event\":\"request.approve\","
	    "\"time\":\"2026-11-24T13:00:00Z\",\"request\":42,\"grant\":7,"
	    "\"user\":\"jdoe\",\"vendor\":\"acme\",\"target\":\"pacs-01\","
	    "\"actor\":\"admin:alice\",\"text\":\"planned update\","
	    "\"starts\":\"2026-11-24T13:00:00Z\","
	    "\"ends\":\"2026-11-24T14:00:00Z\",\"emergency\":false,"
	    "\"bastion\":\"bastion-1\"}");
	free(doc);
}

static void
test_json_omits(void **state)
{
	struct notice	 n = { .n_event = "access.emergency", .n_user = "",
	    .n_emergency = 1 };
	char		*doc;

	doc = webhook_json(&n, 1795525200, NULL);
	assert_string_equal(doc, "{\"version\":1,\"event\":\"access.emergency\","
	    "\"time\":\"2026-11-24T13:00:00Z\",\"emergency\":true}");
	free(doc);
}

struct jcase {
	const char	*name;
	const char	*in;
	const char	*escaped;	/* as it must appear in the document */
	const char	*decoded;	/* what a JSON reader gets back */
};

static const struct jcase jcases[] = {
	{ "plain", "jdoe", "\"jdoe\"", "jdoe" },
	{ "quote", "a\"b", "\"a\\\"b\"", "a\"b" },
	{ "backslash", "a\\b", "\"a\\\\b\"", "a\\b" },
	{ "forged field", "x\",\"event\":\"fake",
	    "\"x\\\",\\\"event\\\":\\\"fake\"", "x\",\"event\":\"fake" },
	{ "newline, tab, return", "a\nb\tc\rd", "\"a\\nb\\tc\\rd\"",
	    "a\nb\tc\rd" },
	{ "control characters", "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"",
	    "\x01\x1f\x7f" },
	{ "escape sequence", "\x1b[31m", "\"\\u001b[31m\"", "\x1b[31m" },
	{ "UTF-8 kept", "J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x94\x92",
	    "\"J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x94\x92\"",
	    "J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x94\x92" },
	{ "Latin-1 byte", "J\xe9r\xf4me", "\"J\\ufffdr\\ufffdme\"",
	    "J\xef\xbf\xbdr\xef\xbf\xbdme" },
	{ "overlong slash", "\xc0\xaf", "\"\\ufffd\\ufffd\"",
	    "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "surrogate", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "truncated sequence", "ab\xe2\x82", "\"ab\\ufffd\\ufffd\"",
	    "ab\xef\xbf\xbd\xef\xbf\xbd" },
	{ "past U+10FFFF", "\xf4\x90\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", NULL },
};

static void
test_json_escape(void **state)
{
	struct notice	 n;
	char		*doc, want[256], got[512];
	const char	*fields[] = { "user", "vendor", "target", "actor",
	    "text" };
	size_t		 i, f;

	for (i = 0; i < sizeof(jcases) / sizeof(jcases[0]); i++) {
		const struct jcase *c = &jcases[i];

		memset(&n, 0, sizeof(n));
		n.n_event = "user.lockout";
		n.n_user = n.n_vendor = n.n_target = n.n_actor = n.n_text =
		    c->in;
		doc = webhook_json(&n, 1795525200, c->in);
		if (!utf8_valid(doc))
			fail_msg("%s: the document is not UTF-8", c->name);
		snprintf(want, sizeof(want), "\"user\":%s,", c->escaped);
		if (strstr(doc, want) == NULL)
			fail_msg("%s: %s lacks %s", c->name, doc, want);
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			if (json_field(doc, fields[f], got, sizeof(got)) ==
			    NULL)
				fail_msg("%s: field %s unreadable in %s",
				    c->name, fields[f], doc);
			if (c->decoded != NULL &&
			    strcmp(got, c->decoded) != 0)
				fail_msg("%s: field %s reads back wrong",
				    c->name, fields[f]);
		}
		/* The event the document names is still the real one. */
		assert_non_null(json_field(doc, "event", got, sizeof(got)));
		assert_string_equal(got, "user.lockout");
		assert_int_equal(doc[strlen(doc) - 1], '}');
		free(doc);
	}
}

/* ---- retries ------------------------------------------------------------ */

static void
test_retry(void **state)
{
	/* With 5 s: attempts at 0, 5, 35, 155, then every 600 s. */
	static const int want[] = { 5, 30, 120, 600, 600, 600, 600, 600, -1 };
	time_t		 first = 1000000, now = first;
	size_t		 i;
	int		 d;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		d = webhook_retry_delay((int)i + 1, first, now, 5);
		if (d != want[i])
			fail_msg("failure %zu at +%lld: delay %d, want %d",
			    i + 1, (long long)(now - first), d, want[i]);
		if (d > 0)
			now += d;
	}
	/* The last attempt came at +3155; one more would pass the hour. */
	assert_int_equal(now - first, 3155);
	/* Slow answers count: time spent in attempts moves the end. */
	assert_int_equal(webhook_retry_delay(4, first, first + 3001, 5), -1);
	assert_int_equal(webhook_retry_delay(4, first, first + 3000, 5), 600);
	/* The first delay scales the schedule (tests use 1 s). */
	assert_int_equal(webhook_retry_delay(1, first, first, 1), 1);
	assert_int_equal(webhook_retry_delay(2, first, first + 1, 1), 6);
	assert_int_equal(webhook_retry_delay(3, first, first + 7, 1), 24);
	assert_int_equal(webhook_retry_delay(0, first, first, 5), -1);
}

/* ---- status lines ------------------------------------------------------- */

static void
test_status(void **state)
{
	static const struct {
		const char	*line;
		int		 status;
	} cases[] = {
		{ "HTTP/1.1 200 OK", 200 },
		{ "HTTP/1.0 204 No Content", 204 },
		{ "HTTP/1.1 500 Internal Server Error", 500 },
		{ "HTTP/1.1 302", 302 },
		{ "HTTP/1.1 200OK", -1 },
		{ "HTTP/2 200", -1 },
		{ "HTTP/1.1 20 OK", -1 },
		{ "HTTP/1.1 099 Odd", -1 },
		{ "http/1.1 200 OK", -1 },
		{ "SSH-2.0-OpenSSH_9.2", -1 },
		{ "", -1 },
		{ "HTTP/1.1 2000 OK", -1 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (webhook_status(cases[i].line) != cases[i].status)
			fail_msg("\"%s\": %d, want %d", cases[i].line,
			    webhook_status(cases[i].line), cases[i].status);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_json_full),
		cmocka_unit_test(test_json_omits),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
