/*
 * test_totp.c: TOTP codes, the verification window and the otpauth:// URI.
 *
 * The codes are RFC 6238 Appendix B's SHA-1 vectors cut to the 6 digits
 * Portier uses (the appendix prints 8).  The window cases check that a
 * code one step early or late passes and names its own step, while two
 * steps off it fails.  The URI is checked to the byte, its base32 against
 * RFC 4648's vectors, and once against oathtool(1), an independent
 * implementation, when it is installed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "portier.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* RFC 6238 Appendix B's SHA-1 seed. */
static const uint8_t rfc_seed[] = "12345678901234567890";
#define RFC_SEEDLEN	20

static int
verify(const char *code, time_t now, int window, int64_t *step)
{
	return totp_verify(rfc_seed, RFC_SEEDLEN, code, now, window, step);
}

/* ---- RFC 6238 vectors ---------------------------------------------------- */

static const struct vec_case {
	const char	*name;
	time_t		 t;
	const char	*code;
} vec_cases[] = {
	{ "rfc6238: T=59", 59, "287082" },
	{ "rfc6238: T=1111111109", 1111111109, "081804" },
	{ "rfc6238: T=1111111111", 1111111111, "050471" },
	{ "rfc6238: T=1234567890", 1234567890, "005924" },
	{ "rfc6238: T=2000000000", 2000000000, "279037" },
	{ "rfc6238: T=20000000000 (past 2038)", (time_t)20000000000LL,
	    "353130" },
};

static void
test_vector(void **state)
{
	const struct vec_case	*c = *state;
	int64_t			 step = -1;

	assert_int_equal(verify(c->code, c->t, 0, &step), 0);
	assert_int_equal(step, (int64_t)c->t / TOTP_STEP);
	/* The same code with the window the monitor uses. */
	step = -1;
	assert_int_equal(verify(c->code, c->t, 1, &step), 0);
	assert_int_equal(step, (int64_t)c->t / TOTP_STEP);
}

/* ---- the window ---------------------------------------------------------- */

/* 050471 is the code of step 37037037 (T = 1111111111). */
#define W_CODE		"050471"
#define W_STEP		37037037LL
#define W_T		((time_t)(W_STEP * TOTP_STEP + 1))

static const struct win_case {
	const char	*name;
	time_t		 now;
	int		 window;
	int		 ok;
} win_cases[] = {
	{ "window 1: same step", W_T, 1, 1 },
	{ "window 1: verifier one step later", W_T + 30, 1, 1 },
	{ "window 1: verifier one step earlier", W_T - 30, 1, 1 },
	{ "window 1: verifier two steps later", W_T + 60, 1, 0 },
	{ "window 1: verifier two steps earlier", W_T - 60, 1, 0 },
	{ "window 0: verifier one step later", W_T + 30, 0, 0 },
	{ "window 0: verifier one step earlier", W_T - 30, 0, 0 },
	{ "window 2: verifier two steps later", W_T + 60, 2, 1 },
	{ "window 1: last second of the step after", W_T + 58, 1, 1 },
	{ "window 1: first second two steps after", W_T + 59, 1, 0 },
	{ "window -1 is refused", W_T, -1, 0 },
	{ "an absurd window is refused", W_T, 1000, 0 },
};

static void
test_window(void **state)
{
	const struct win_case	*c = *state;
	int64_t			 step = -1;

	if (c->ok) {
		assert_int_equal(verify(W_CODE, c->now, c->window, &step), 0);
		/* The step the code belongs to, not the verifier's. */
		assert_int_equal(step, W_STEP);
	} else {
		assert_int_equal(verify(W_CODE, c->now, c->window, &step), -1);
		assert_int_equal(step, -1);
	}
}

/* ---- malformed codes ----------------------------------------------------- */

static const struct bad_case {
	const char	*name;
	const char	*code;
} bad_cases[] = {
	{ "code: wrong digit", "287083" },
	{ "code: 5 digits", "28708" },
	{ "code: 7 digits", "2870820" },
	{ "code: 8-digit RFC form", "94287082" },
	{ "code: empty", "" },
	{ "code: a letter", "28708a" },
	{ "code: leading space", " 287082" },
	{ "code: trailing space", "287082 " },
	{ "code: trailing newline", "287082\n" },
	{ "code: sign", "+28708" },
	{ "code: fullwidth digits", "\xef\xbc\x92\xef\xbc\x98" },
};

static void
test_bad_code(void **state)
{
	const struct bad_case	*c = *state;
	int64_t			 step = -1;

	assert_int_equal(verify(c->code, 59, 1, &step), -1);
	assert_int_equal(step, -1);
}

static void
test_bad_args(void **state)
{
	int64_t	 step = -1;

	assert_int_equal(verify(NULL, 59, 1, &step), -1);
	assert_int_equal(totp_verify(NULL, 20, "287082", 59, 1, &step), -1);
	assert_int_equal(totp_verify(rfc_seed, 0, "287082", 59, 1, &step), -1);
	assert_int_equal(verify("287082", -1, 1, &step), -1);
	/* Another seed does not give the same code. */
	assert_int_equal(totp_verify((const uint8_t *)"12345678901234567891",
	    20, "287082", 59, 1, &step), -1);
	assert_int_equal(step, -1);
}

/* ---- seeds --------------------------------------------------------------- */

static void
test_seed_new(void **state)
{
	uint8_t	 a[TOTP_SEED_LEN], b[TOTP_SEED_LEN], zero[TOTP_SEED_LEN];

	memset(zero, 0, sizeof(zero));
	assert_int_equal(totp_seed_new(a), 0);
	assert_int_equal(totp_seed_new(b), 0);
	assert_memory_not_equal(a, b, TOTP_SEED_LEN);
	assert_memory_not_equal(a, zero, TOTP_SEED_LEN);
	assert_int_equal(TOTP_SEED_LEN, 20);
}

/* ---- the URI ------------------------------------------------------------- */

/* The secret= parameter of URI, copied into BUF. */
static void
uri_secret(const char *uri, char *buf, size_t bufsz)
{
	const char	*p;
	size_t		 n;

	p = strstr(uri, "?secret=");
	assert_non_null(p);
	p += 8;
	n = strcspn(p, "&");
	assert_true(n < bufsz);
	memcpy(buf, p, n);
	buf[n] = '\0';
}

static void
test_uri_exact(void **state)
{
	char	*uri;

	uri = totp_uri("Portier", "jdoe", rfc_seed, RFC_SEEDLEN);
	assert_non_null(uri);
	assert_string_equal(uri, "otpauth://totp/Portier:jdoe?"
	    "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Portier&"
	    "algorithm=SHA1&digits=6&period=30");
	strzero(uri);
}

static void
test_uri_escape(void **state)
{
	char	*uri;

	uri = totp_uri("Portier CHU", "j doe@x/\xc3\xa9:?&=%~._-",
	    rfc_seed, RFC_SEEDLEN);
	assert_non_null(uri);
	assert_string_equal(uri, "otpauth://totp/Portier%20CHU:"
	    "j%20doe%40x%2F%C3%A9%3A%3F%26%3D%25~._-?"
	    "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Portier%20CHU&"
	    "algorithm=SHA1&digits=6&period=30");
	strzero(uri);
}

static void
test_uri_refuses(void **state)
{
	assert_null(totp_uri("Portier", "", rfc_seed, RFC_SEEDLEN));
	assert_null(totp_uri("", "jdoe", rfc_seed, RFC_SEEDLEN));
	assert_null(totp_uri(NULL, "jdoe", rfc_seed, RFC_SEEDLEN));
	assert_null(totp_uri("Portier", NULL, rfc_seed, RFC_SEEDLEN));
	assert_null(totp_uri("Portier", "jdoe", NULL, RFC_SEEDLEN));
	assert_null(totp_uri("Portier", "jdoe", rfc_seed, 0));
}

/* RFC 4648 section 10, without the padding. */
static const struct b32_case {
	const char	*name;
	const char	*in;
	const char	*out;
} b32_cases[] = {
	{ "base32: f", "f", "MY" },
	{ "base32: fo", "fo", "MZXQ" },
	{ "base32: foo", "foo", "MZXW6" },
	{ "base32: foob", "foob", "MZXW6YQ" },
	{ "base32: fooba", "fooba", "MZXW6YTB" },
	{ "base32: foobar", "foobar", "MZXW6YTBOI" },
	{ "base32: all bits set", "\xff\xff\xff\xff\xff", "77777777" },
};

static void
test_base32(void **state)
{
	const struct b32_case	*c = *state;
	char			*uri, secret[64];

	uri = totp_uri("Portier", "jdoe", (const uint8_t *)c->in,
	    strlen(c->in));
	assert_non_null(uri);
	uri_secret(uri, secret, sizeof(secret));
	assert_string_equal(secret, c->out);
	strzero(uri);
}

/*
 * A new seed's URI, read back by oathtool: the code it prints must pass
 * totp_verify() with the original seed.
 */
static void
test_oathtool(void **state)
{
	uint8_t	 seed[TOTP_SEED_LEN];
	char	*uri, secret[64], cmd[160], code[32];
	FILE	*fp;
	int64_t	 step = -1;
	time_t	 now;

	if (system("command -v oathtool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "oathtool not installed: skipped\n");
		skip();
	}
	assert_int_equal(totp_seed_new(seed), 0);
	uri = totp_uri("Portier", "jdoe", seed, sizeof(seed));
	assert_non_null(uri);
	uri_secret(uri, secret, sizeof(secret));
	assert_int_equal(strlen(secret), 32);
	assert_int_equal(strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
	    32);
	snprintf(cmd, sizeof(cmd), "oathtool --totp -b %s", secret);
	now = time(NULL);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	assert_non_null(fgets(code, sizeof(code), fp));
	assert_int_equal(pclose(fp), 0);
	code[strcspn(code, "\n")] = '\0';
	assert_int_equal(strlen(code), 6);
	/* Window 1 covers a step boundary crossed meanwhile. */
	assert_int_equal(totp_verify(seed, sizeof(seed), code, now, 1, &step),
	    0);
	assert_true(step >= (int64_t)now / TOTP_STEP - 1 &&
	    step <= (int64_t)now / TOTP_STEP + 1);
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(secret, sizeof(secret));
	strzero(uri);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_seed_new),
		cmocka_unit_test(test_uri_exact),
		cmocka_unit_test(test_uri_escape),
		cmocka_unit_test(test_uri_refuses),
		cmocka_unit_test(test_oathtool),
	};
	struct CMUnitTest	*t;
	size_t			 i, n = 0;
	int			 rc;

	t = calloc(NELEM(vec_cases) + NELEM(win_cases) + NELEM(bad_cases) +
	    NELEM(b32_cases) + NELEM(fixed), sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < NELEM(vec_cases); i++, n++) {
		t[n].name = vec_cases[i].name;
		t[n].test_func = test_vector;
		t[n].initial_state = (void *)(uintptr_t)&vec_cases[i];
	}
	for (i = 0; i < NELEM(win_cases); i++, n++) {
		t[n].name = win_cases[i].name;
		t[n].test_func = test_window;
		t[n].initial_state = (void *)(uintptr_t)&win_cases[i];
	}
	for (i = 0; i < NELEM(bad_cases); i++, n++) {
		t[n].name = bad_cases[i].name;
		t[n].test_func = test_bad_code;
		t[n].initial_state = (void *)(uintptr_t)&bad_cases[i];
	}
	for (i = 0; i < NELEM(b32_cases); i++, n++) {
		t[n].name = b32_cases[i].name;
		t[n].test_func = test_base32;
		t[n].initial_state = (void *)(uintptr_t)&b32_cases[i];
	}
	for (i = 0; i < NELEM(fixed); i++, n++)
		t[n] = fixed[i];
	rc = _cmocka_run_group_tests("totp", t, n, NULL, NULL);
	free(t);
	return rc;
}
