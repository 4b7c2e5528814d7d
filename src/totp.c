/*
 * totp.c: time-based one-time codes (RFC 6238) for the second factor: new
 * seeds, the otpauth:// URI an authenticator app scans, and checking a
 * code a vendor typed.
 *
 * The parameters are the ones every authenticator app implements:
 * HMAC-SHA-1, 6 digits, 30-second steps from the epoch.  liboath computes
 * the codes; this file compares them in constant time and hands back the
 * step that matched, so that the monitor can accept each step once
 * (store_totp_use_step()): a code read over a shoulder is worthless.
 * Nothing here logs; every buffer that held a seed or a code is wiped.
 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include "portier.h"

#define TOTP_DIGITS	6
#define TOTP_WINDOW_MAX	10	/* steps either side; callers use 1 */

static int
totp_init(void)
{
	static int	 done;

	if (!done) {
		if (oath_init() != OATH_OK)
			return -1;
		done = 1;
	}
	return 0;
}

int
totp_seed_new(uint8_t seed[TOTP_SEED_LEN])
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < TOTP_SEED_LEN) {
		n = getrandom(seed + off, TOTP_SEED_LEN - off, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			explicit_bzero(seed, TOTP_SEED_LEN);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* RFC 4648 base32, without the '=' padding apps do not want. */
static size_t
totp_base32(const uint8_t *in, size_t len, char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t	 bits = 0;
	size_t		 i, n = 0;
	int		 nbits = 0;

	for (i = 0; i < len; i++) {
		bits = (bits << 8 | in[i]) & 0xfff;
		nbits += 8;
		while (nbits >= 5) {
			nbits -= 5;
			out[n++] = alphabet[(bits >> nbits) & 0x1f];
		}
	}
	if (nbits > 0)
		out[n++] = alphabet[(bits << (5 - nbits)) & 0x1f];
	out[n] = '\0';
	return n;
}

/* Percent-encode all but RFC 3986's unreserved characters. */
static char *
totp_escape(char *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			*out++ = (char)*p;
		else {
			*out++ = '%';
			*out++ = hex[*p >> 4];
			*out++ = hex[*p & 0xf];
		}
	}
	return out;
}

static char *
totp_append(char *out, const char *s)
{
	size_t	 len = strlen(s);

	memcpy(out, s, len);
	return out + len;
}

/*
 * The Key URI format of Google Authenticator, which every app reads.
 * Built in one buffer of the right size, so no copy of the secret is left
 * behind by a reallocation; the caller wipes it with strzero().
 */
char *
totp_uri(const char *issuer, const char *user, const uint8_t *seed,
    size_t seedlen)
{
	static const char params[] =
	    "&algorithm=SHA1&digits=6&period=30";
	char	*uri, *p;
	size_t	 ilen, ulen, size;

	if (issuer == NULL || user == NULL || seed == NULL || seedlen == 0 ||
	    *issuer == '\0' || *user == '\0')
		return NULL;
	ilen = strlen(issuer);
	ulen = strlen(user);
	if (ilen > 1024 || ulen > 1024 || seedlen > 1024)
		return NULL;
	size = sizeof("otpauth://totp/:?secret=&issuer=") + sizeof(params) +
	    2 * 3 * ilen + 3 * ulen + (seedlen * 8 + 4) / 5;
	uri = p = xmalloc(size);
	p = totp_append(p, "otpauth://totp/");
	p = totp_escape(p, issuer);
	*p++ = ':';
	p = totp_escape(p, user);
	p = totp_append(p, "?secret=");
	p += totp_base32(seed, seedlen, p);
	p = totp_append(p, "&issuer=");
	p = totp_escape(p, issuer);
	p = totp_append(p, params);
	*p = '\0';
	return uri;
}

/* Exactly TOTP_DIGITS ASCII digits. */
static int
totp_code_ok(const char *code)
{
	size_t	 i;

	for (i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return code[TOTP_DIGITS] == '\0';
}

int
totp_verify(const uint8_t *seed, size_t seedlen, const char *code,
    time_t now, int window, int64_t *step)
{
	char	 want[TOTP_DIGITS + 1];
	int64_t	 base, s, found = -1;
	int	 i, rc = 0;

	if (seed == NULL || seedlen == 0 || code == NULL || now < 0 ||
	    window < 0 || window > TOTP_WINDOW_MAX || !totp_code_ok(code) ||
	    totp_init() == -1)
		return -1;
	base = (int64_t)now / TOTP_STEP;
	/*
	 * Every step of the window is computed and compared, whatever
	 * matched: the time taken says nothing about the code.  If two
	 * steps give the same code, the later one is kept, which refuses
	 * more replays, never fewer.
	 */
	for (i = -window; i <= window; i++) {
		s = base + i;
		if (s < 0)
			continue;
		if (oath_totp_generate((const char *)seed, seedlen,
		    (time_t)(s * TOTP_STEP), TOTP_STEP, 0, TOTP_DIGITS,
		    want) != OATH_OK) {
			rc = -1;
			break;
		}
		if (CRYPTO_memcmp(want, code, TOTP_DIGITS) == 0)
			found = s;
	}
	explicit_bzero(want, sizeof(want));
	if (rc == -1 || found < 0)
		return -1;
	*step = found;
	return 0;
}
