/*
 * test_recchain.c: the recording format's integrity lines and their check.
 *
 * A recording is built in memory the way the recorder writes one (header,
 * events, signed checkpoints, a seal), with a fresh Ed25519 key, then
 * altered case by case: a byte flipped in the header, in an event, in a
 * checkpoint's hash or signature; a line added, removed or moved; the
 * file cut inside a line or at a line's end; another key.  Each case
 * names the verdict recchain_verify() must give and, when the file is
 * altered, the line it must point at.  JSON strings are checked to go
 * through the recorder's escaping and the reader's unescaping unchanged.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "portier.h"
#include "recchain.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SID		"0123456789abcdef"

static EVP_PKEY	*key, *other;

struct rbuf {
	char		*b;
	size_t		 len, cap;
	EVP_MD_CTX	*md;
	uint64_t	 seq;
};

static void
rb_add(struct rbuf *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->b = realloc(r->b, r->cap);
		assert_non_null(r->b);
	}
	memcpy(r->b + r->len, s, n);
	r->len += n;
	r->b[r->len] = '\0';
	EVP_DigestUpdate(r->md, s, n);
}

static void
rb_mark(struct rbuf *r, const char *kind)
{
	char		 line[RECCHAIN_LINE_MAX];
	uint8_t		 md[32];
	EVP_MD_CTX	*c = EVP_MD_CTX_new();
	int		 n;

	assert_int_equal(EVP_MD_CTX_copy_ex(c, r->md), 1);
	assert_int_equal(EVP_DigestFinal_ex(c, md, NULL), 1);
	EVP_MD_CTX_free(c);
	n = recchain_line(line, sizeof(line), key, SID, 1000000 *
	    (int64_t)(r->seq + 1), kind, r->seq + 1, r->len, md);
	assert_true(n > 0);
	r->seq++;
	rb_add(r, line, (size_t)n);
}

/*
 * A header, then events 0..N-1 with a checkpoint after every EVERY of
 * them, then a seal if SEAL.
 */
static struct rbuf
rb_build(int n, int every, int seal)
{
	struct rbuf	 r = { NULL, 0, 0, EVP_MD_CTX_new(), 0 };
	char		 fp[RECCHAIN_FP_LEN + 1], line[256];
	int		 i;

	EVP_DigestInit_ex(r.md, EVP_sha256(), NULL);
	recchain_key_fp(key, fp);
	snprintf(line, sizeof(line), "{\"version\": 2, \"portier_format\": 2, "
	    "\"portier\": {\"format\": 2, \"session\": \"%s\", \"key\": "
	    "\"%s\"}}\n", SID, fp);
	rb_add(&r, line, strlen(line));
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "[%d.000000, \"%c\", \"event "
		    "%d\\r\\n\"]\n", i, i % 2 ? 'o' : 'i', i);
		rb_add(&r, line, strlen(line));
		if ((i + 1) % every == 0)
			rb_mark(&r, "checkpoint");
	}
	if (seal)
		rb_mark(&r, "seal");
	return r;
}

static void
rb_free(struct rbuf *r)
{
	EVP_MD_CTX_free(r->md);
	free(r->b);
}

/* The offset of the Nth line (1-based). */
static size_t
line_off(const char *b, int n)
{
	const char	*p = b;

	while (--n > 0)
		p = strchr(p, '\n') + 1;
	return (size_t)(p - b);
}

/* ---- whole files ----------------------------------------------------------- */

enum change {
	C_NONE, C_FLIP, C_CUT, C_DROP_LINE, C_DUP_LINE, C_APPEND, C_OTHER_KEY,
};

static const struct file_case {
	const char	*name;
	int		 events, every, seal;
	enum change	 change;
	int		 line;		/* the line changed */
	int		 at;		/* offset in it; C_CUT: keep this much */
	enum recverify_status want;
	int		 bad_line;	/* RECV_BAD: where it must point */
	uint64_t	 checkpoints;	/* verified */
} file_cases[] = {
	{ "sealed, untouched", 10, 3, 1, C_NONE, 0, 0, RECV_SEALED, 0, 4 },
	{ "sealed, no checkpoint before the seal", 2, 100, 1, C_NONE, 0, 0,
	    RECV_SEALED, 0, 1 },
	{ "no seal, ends on a checkpoint", 9, 3, 0, C_NONE, 0, 0,
	    RECV_UNSEALED, 0, 3 },
	{ "no seal, events after the last checkpoint", 10, 3, 0, C_NONE, 0, 0,
	    RECV_UNSEALED, 0, 3 },
	{ "a byte flipped in the header", 10, 3, 1, C_FLIP, 1, 5, RECV_BAD,
	    5, 0 },
	{ "a byte flipped in the first event", 10, 3, 1, C_FLIP, 2, 12,
	    RECV_BAD, 5, 0 },
	{ "a byte flipped after checkpoint 1", 10, 3, 1, C_FLIP, 6, 12,
	    RECV_BAD, 9, 1 },
	{ "a byte flipped in a checkpoint's hash", 10, 3, 1, C_FLIP, 5, 80,
	    RECV_BAD, 5, 0 },
	{ "a byte flipped in a checkpoint's signature", 10, 3, 1, C_FLIP, 5,
	    160, RECV_BAD, 5, 0 },
	{ "a byte flipped in the seal", 10, 3, 1, C_FLIP, 15, 50, RECV_BAD,
	    15, 3 },
	{ "an event removed", 10, 3, 1, C_DROP_LINE, 3, 0, RECV_BAD, 4, 0 },
	{ "a checkpoint removed", 10, 3, 1, C_DROP_LINE, 5, 0, RECV_BAD, 8, 0 },
	{ "an event repeated", 10, 3, 1, C_DUP_LINE, 7, 0, RECV_BAD, 10, 1 },
	{ "a line after the seal", 10, 3, 1, C_APPEND, 0, 0, RECV_BAD, 16, 4 },
	{ "cut inside the seal", 10, 3, 1, C_CUT, 15, 40, RECV_BAD, 15, 3 },
	{ "cut inside an event", 10, 3, 0, C_CUT, 14, 5, RECV_BAD, 14, 3 },
	{ "cut at the end of a line, the seal gone", 10, 3, 1, C_CUT, 15, 0,
	    RECV_UNSEALED, 0, 3 },
	{ "another key", 10, 3, 1, C_OTHER_KEY, 0, 0, RECV_BAD, 1, 0 },
};

static void
test_files(void **state)
{
	const struct file_case	*c;
	struct recverify	 rv;
	struct rbuf		 r;
	char			*b;
	size_t			 len, o, e;
	size_t			 i;

	for (i = 0; i < NELEM(file_cases); i++) {
		c = &file_cases[i];
		r = rb_build(c->events, c->every, c->seal);
		b = malloc(r.len * 2 + 64);
		memcpy(b, r.b, r.len + 1);
		len = r.len;
		switch (c->change) {
		case C_FLIP:
			o = line_off(b, c->line) + (size_t)c->at;
			b[o] = b[o] == 'a' ? 'b' : 'a';
			break;
		case C_CUT:
			len = line_off(b, c->line) + (size_t)c->at;
			break;
		case C_DROP_LINE:
			o = line_off(b, c->line);
			e = line_off(b, c->line + 1);
			memmove(b + o, b + e, len - e + 1);
			len -= e - o;
			break;
		case C_DUP_LINE:
			o = line_off(b, c->line);
			e = line_off(b, c->line + 1);
			memmove(b + e + (e - o), b + e, len - e + 1);
			memcpy(b + e, b + o, e - o);
			len += e - o;
			break;
		case C_APPEND:
			memcpy(b + len, "[99.0, \"o\", \"x\"]\n", 18);
			len += 17;
			break;
		default:
			break;
		}
		recchain_verify((uint8_t *)b, len, c->change == C_OTHER_KEY ?
		    other : key, &rv);
		if (rv.rv_status != c->want ||
		    (c->want == RECV_BAD && rv.rv_bad_line != c->bad_line) ||
		    rv.rv_checkpoints != c->checkpoints)
			fail_msg("%s: status %d line %d checkpoints %llu (%s); "
			    "want %d line %d checkpoints %llu", c->name,
			    rv.rv_status, rv.rv_bad_line,
			    (unsigned long long)rv.rv_checkpoints, rv.rv_why,
			    c->want, c->bad_line,
			    (unsigned long long)c->checkpoints);
		if (c->want != RECV_BAD)
			assert_string_equal(rv.rv_sid, SID);
		free(b);
		rb_free(&r);
	}
}

/* ---- lines ------------------------------------------------------------------ */

static void
test_statement(void **state)
{
	char	 buf[256], hex[65];

	memset(hex, 'a', 64);
	hex[64] = '\0';
	assert_int_equal(recchain_statement(buf, sizeof(buf), SID, "seal", 7,
	    1234, hex), 29 + 16 + 5 + 6 + 11 + 8 + 64);
	assert_string_equal(buf, "portier-recording v2 session=" SID
	    " seal seq=7 bytes=1234 sha256=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(recchain_statement(buf, 40, SID, "seal", 7, 1234,
	    hex), -1);
}

static void
test_line_shape(void **state)
{
	char		 line[RECCHAIN_LINE_MAX], w[128];
	uint8_t		 md[32] = { 0 };
	struct recevent	 ev;
	int		 n;

	n = recchain_line(line, sizeof(line), key, SID, 5008126, "checkpoint",
	    1, 311, md);
	assert_true(n > 0 && line[n - 1] == '\n');
	assert_int_equal(strncmp(line, "[5.008126, \"x\", \"checkpoint seq=1 "
	    "bytes=311 sha256=0000", 55), 0);
	assert_int_equal(recchain_event_parse(line, (size_t)n - 1, &ev), 0);
	assert_int_equal(ev.ev_code, 'x');
	assert_int_equal(ev.ev_us, 5008126);
	assert_int_equal(recchain_word(ev.ev_data, "sig", w, sizeof(w)), 0);
	assert_int_equal(strlen(w), RECCHAIN_SIG_B64_LEN);
	assert_int_equal(recchain_word(ev.ev_data, "seq", w, sizeof(w)), 0);
	assert_string_equal(w, "1");
	assert_int_equal(recchain_word(ev.ev_data, "nope", w, sizeof(w)), -1);
	free(ev.ev_data);
}

static const struct json_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*escaped;
} json_cases[] = {
	{ "plain", "ls -l", 5, "ls -l" },
	{ "quote and backslash", "a\"b\\c", 5, "a\\\"b\\\\c" },
	{ "newline, return", "a\r\nb", 4, "a\\r\\nb" },
	{ "escape and bell", "\x1b[0m\a", 5, "\\u001b[0m\\u0007" },
	{ "NUL", "a\0b", 3, "a\\u0000b" },
	{ "UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac", 9, "caf\xc3\xa9 \xe2\x82\xac" },
	{ "invalid UTF-8 as bytes", "\xff\xc3", 2, "\\u00ff\\u00c3" },
	{ "DEL", "\x7f", 1, "\\u007f" },
};

static void
test_json(void **state)
{
	const struct json_case	*c;
	char			 out[256], line[300];
	struct recevent		 ev;
	size_t			 i, n;

	for (i = 0; i < NELEM(json_cases); i++) {
		c = &json_cases[i];
		n = recchain_json_escape(out, (const uint8_t *)c->in, c->len);
		out[n] = '\0';
		if (strcmp(out, c->escaped) != 0)
			fail_msg("%s: escaped as \"%s\"", c->name, out);
		snprintf(line, sizeof(line), "[1.5, \"o\", \"%s\"]", out);
		assert_int_equal(recchain_event_parse(line, strlen(line), &ev),
		    0);
		if (ev.ev_len != c->len || memcmp(ev.ev_data, c->in, c->len))
			fail_msg("%s: did not come back unchanged", c->name);
		assert_int_equal(ev.ev_us, 1500000);
		free(ev.ev_data);
	}
}

static void
test_event_reject(void **state)
{
	static const char *bad[] = {
		"", "[", "[1.0]", "[1.0, \"o\"]", "[1.0, \"o\", 3]",
		"[1.0, \"o\", \"x\"", "[1.0, \"o\", \"x]",
		"{\"version\": 2}", "[1.0, \"o\", \"\\q\"]",
		"[1.0, \"o\", \"\\u12\"]",
	};
	struct recevent	 ev;
	size_t		 i;

	for (i = 0; i < NELEM(bad); i++)
		if (recchain_event_parse(bad[i], strlen(bad[i]), &ev) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
test_key_paths(void **state)
{
	char	 buf[256], fp[RECCHAIN_FP_LEN + 1];

	recchain_pub_path("/etc/portier/recording.key", buf, sizeof(buf));
	assert_string_equal(buf, "/etc/portier/recording.pub");
	recchain_pub_path("/etc/portier/signing", buf, sizeof(buf));
	assert_string_equal(buf, "/etc/portier/signing.pub");
	assert_int_equal(recchain_key_fp(key, fp), 0);
	assert_int_equal(strlen(fp), RECCHAIN_FP_LEN);
	assert_int_equal(strncmp(fp, "SHA256:", 7), 0);
}

static int
setup(void **state)
{
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return key != NULL && other != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_statement),
		cmocka_unit_test(test_line_shape),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_event_reject),
		cmocka_unit_test(test_key_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
