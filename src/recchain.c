/*
 * recchain.c: checkpoints, seals and their checking (recchain.h).
 *
 * The recorder hashes every byte it writes.  Every few seconds it states
 * the hash of the file so far in a checkpoint line signed with its
 * Ed25519 key, and at the end it writes a seal of the same shape: so a
 * recording cut by a crash still proves everything up to its last
 * checkpoint, and any byte changed, added or removed breaks the first
 * checkpoint after it.  The same code checks them in portier-replay, so
 * writer and reader cannot drift apart; recordings/FORMAT.md says it in
 * words, with a recipe that needs only sha256sum and openssl.
 *
 * Library-like: returns codes and reasons, never logs.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "portier.h"
#include "recchain.h"

#define STATEMENT_PREFIX	"portier-recording v2 session="

/* ---- the key ------------------------------------------------------------ */

void
recchain_pub_path(const char *key, char *buf, size_t len)
{
	size_t	 n = strlen(key);

	if (n > 4 && strcmp(key + n - 4, ".key") == 0)
		snprintf(buf, len, "%.*s.pub", (int)(n - 4), key);
	else
		snprintf(buf, len, "%s.pub", key);
}

static int
recchain_write_pem(const char *path, mode_t mode, EVP_PKEY *pk, int priv,
    char *err, size_t errlen)
{
	FILE	*fp;
	int	 fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	ok = priv ? PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_PUBKEY(fp, pk);
	if (fflush(fp) != 0 || fsync(fileno(fp)) == -1)
		ok = 0;
	if (fclose(fp) != 0 || !ok) {
		snprintf(err, errlen, "%s: cannot write the key", path);
		unlink(path);
		return -1;
	}
	return 0;
}

int
recchain_key_create(const char *path, char *err, size_t errlen)
{
	EVP_PKEY	*pk;
	char		 pub[1024];
	int		 rc = -1;

	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		snprintf(err, errlen, "cannot generate an Ed25519 key");
		return -1;
	}
	recchain_pub_path(path, pub, sizeof(pub));
	if (recchain_write_pem(path, 0600, pk, 1, err, errlen) == 0) {
		(void)unlink(pub);	/* a stale one would mislead */
		if (recchain_write_pem(pub, 0644, pk, 0, err, errlen) == 0)
			rc = 0;
		else
			unlink(path);
	}
	EVP_PKEY_free(pk);
	return rc;
}

EVP_PKEY *
recchain_key_load(const char *path, char *err, size_t errlen)
{
	struct stat	 sb;
	EVP_PKEY	*pk = NULL;
	FILE		*fp;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: usable by others; fix with: "
		    "chmod 600 %s", path, path);
		close(fd);
		return NULL;
	}
	if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u; fix with: chown "
		    "root %s", path, (unsigned)sb.st_uid, path);
		close(fd);
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (pk == NULL || EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 private key in PEM",
		    path);
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

EVP_PKEY *
recchain_pub_parse(const char *pem, size_t len)
{
	EVP_PKEY	*pk;
	BIO		*bio;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pk != NULL && EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

EVP_PKEY *
recchain_pub_load(const char *path, char *err, size_t errlen)
{
	EVP_PKEY	*pk;
	FILE		*fp;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	pk = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	if (pk == NULL || EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 public key in PEM",
		    path);
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

int
recchain_key_fp(EVP_PKEY *pk, char fp[RECCHAIN_FP_LEN + 1])
{
	uint8_t		 raw[32], md[32];
	unsigned char	 b64[48];
	size_t		 rawlen = sizeof(raw);
	int		 n;

	if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) != 1 ||
	    rawlen != sizeof(raw) ||
	    EVP_Digest(raw, rawlen, md, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	n = EVP_EncodeBlock(b64, md, sizeof(md));
	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(fp, RECCHAIN_FP_LEN + 1, "SHA256:%.*s", n, (char *)b64);
	return 0;
}

/* ---- lines -------------------------------------------------------------- */

int
recchain_statement(char *buf, size_t len, const char *sid, const char *kind,
    uint64_t seq, uint64_t bytes, const char *hex)
{
	int	 n;

	n = snprintf(buf, len, STATEMENT_PREFIX "%s %s seq=%" PRIu64
	    " bytes=%" PRIu64 " sha256=%s", sid, kind, seq, bytes, hex);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int
recchain_line(char *buf, size_t len, EVP_PKEY *key, const char *sid,
    int64_t us, const char *kind, uint64_t seq, uint64_t bytes,
    const uint8_t digest[32])
{
	char		 hex[RECCHAIN_HEX_LEN + 1], st[256];
	unsigned char	 sig[64], b64[RECCHAIN_SIG_B64_LEN + 1];
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*ctx;
	int		 n, ok;

	hex_encode(digest, 32, hex);
	if ((n = recchain_statement(st, sizeof(st), sid, kind, seq, bytes,
	    hex)) == -1)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)st,
	    (size_t)n) == 1 && siglen == sizeof(sig);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	EVP_EncodeBlock(b64, sig, sizeof(sig));
	n = snprintf(buf, len, "[%" PRId64 ".%06" PRId64 ", \"x\", \"%s "
	    "seq=%" PRIu64 " bytes=%" PRIu64 " sha256=%s sig=%s\"]\n",
	    us / 1000000, us % 1000000, kind, seq, bytes, hex, (char *)b64);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* ---- JSON strings --------------------------------------------------------- */

/*
 * The escapes JSON needs, \u00XX for other control bytes and for bytes
 * that are not valid UTF-8, so the file stays valid JSON (and asciicast)
 * whatever a session printed.
 */
size_t
recchain_json_escape(char *out, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char		*o = out;
	size_t		 i, k, need;
	uint8_t		 c;

	for (i = 0; i < len; i++) {
		c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			continue;
		}
		if (c == '\n' || c == '\r') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : 'r';
			continue;
		}
		if (c >= 0x80) {
			need = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 &&
			    c < 0xf0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
			for (k = 1; k <= need; k++)
				if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
					break;
			if (need > 0 && k > need) {
				memcpy(o, p + i, need + 1);
				o += need + 1;
				i += need;
				continue;
			}
		}
		*o++ = '\\';
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 0xf];
	}
	return (size_t)(o - out);
}

static int
recchain_hexval(const char *p, unsigned int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		*v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			*v |= (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			*v |= (unsigned)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			*v |= (unsigned)(p[i] - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* Unescape the JSON string starting after its opening quote at *PP. */
static int
recchain_json_string(const char **pp, const char *end, char **out,
    size_t *outlen)
{
	const char	*p = *pp;
	char		*o, *buf;
	unsigned int	 u, lo;

	buf = o = xmalloc((size_t)(end - p) + 1);
	while (p < end && *p != '"') {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		if (++p >= end)
			goto bad;
		switch (*p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (end - p < 4 || recchain_hexval(p, &u) == -1)
				goto bad;
			p += 4;
			if (u >= 0xd800 && u < 0xdc00 && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    recchain_hexval(p + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			}
			/* \u00XX stands for the byte XX the recorder saw. */
			if (u < 0x100)
				*o++ = (char)u;
			else if (u < 0x800) {
				*o++ = (char)(0xc0 | (u >> 6));
				*o++ = (char)(0x80 | (u & 0x3f));
			} else if (u < 0x10000) {
				*o++ = (char)(0xe0 | (u >> 12));
				*o++ = (char)(0x80 | ((u >> 6) & 0x3f));
				*o++ = (char)(0x80 | (u & 0x3f));
			} else {
				*o++ = (char)(0xf0 | (u >> 18));
				*o++ = (char)(0x80 | ((u >> 12) & 0x3f));
				*o++ = (char)(0x80 | ((u >> 6) & 0x3f));
				*o++ = (char)(0x80 | (u & 0x3f));
			}
			break;
		default:
			goto bad;
		}
	}
	if (p >= end)
		goto bad;
	*o = '\0';
	*pp = p + 1;
	*out = buf;
	*outlen = (size_t)(o - buf);
	return 0;
 bad:
	free(buf);
	return -1;
}

static const char *
recchain_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

int
recchain_event_parse(const char *line, size_t len, struct recevent *ev)
{
	const char	*p = line, *end = line + len;
	int64_t		 sec = 0, frac = 0;
	int		 digits = 0, nd = 0;
	char		*code;
	size_t		 codelen;

	memset(ev, 0, sizeof(*ev));
	if (p >= end || *p++ != '[')
		return -1;
	p = recchain_skip_ws(p, end);
	while (p < end && *p >= '0' && *p <= '9' && nd++ < 12)
		sec = sec * 10 + (*p++ - '0');
	if (nd == 0)
		return -1;
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			if (digits < 6) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
	while (digits++ < 6)
		frac *= 10;
	ev->ev_us = sec * 1000000 + frac;
	p = recchain_skip_ws(p, end);
	if (p >= end || *p++ != ',')
		return -1;
	p = recchain_skip_ws(p, end);
	if (p >= end || *p++ != '"' ||
	    recchain_json_string(&p, end, &code, &codelen) == -1)
		return -1;
	ev->ev_code = codelen == 1 ? code[0] : '?';
	free(code);
	p = recchain_skip_ws(p, end);
	if (p >= end || *p++ != ',')
		return -1;
	p = recchain_skip_ws(p, end);
	if (p >= end || *p++ != '"' ||
	    recchain_json_string(&p, end, &ev->ev_data, &ev->ev_len) == -1)
		return -1;
	p = recchain_skip_ws(p, end);
	if (p >= end || *p != ']') {
		free(ev->ev_data);
		ev->ev_data = NULL;
		return -1;
	}
	return 0;
}

int
recchain_header_str(const char *line, size_t len, const char *name,
    char *buf, size_t buflen)
{
	char		 pat[64];
	const char	*p, *end = line + len;
	char		*s;
	size_t		 n;

	snprintf(pat, sizeof(pat), "\"%s\": \"", name);
	if ((p = memmem(line, len, pat, strlen(pat))) == NULL)
		return -1;
	p += strlen(pat);
	if (recchain_json_string(&p, end, &s, &n) == -1)
		return -1;
	if (n >= buflen || memchr(s, '\0', n) != NULL) {
		free(s);
		return -1;
	}
	memcpy(buf, s, n + 1);
	free(s);
	return 0;
}

int
recchain_word(const char *data, const char *name, char *buf, size_t buflen)
{
	size_t		 nl = strlen(name), n;
	const char	*p = data;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == data || p[-1] == ' ') && p[nl] == '=') {
			p += nl + 1;
			n = strcspn(p, " ");
			if (n >= buflen)
				return -1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return 0;
		}
		p += nl;
	}
	return -1;
}

/* ---- checking -------------------------------------------------------------- */

static void
recchain_bad(struct recverify *rv, uint64_t off, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
recchain_bad(struct recverify *rv, uint64_t off, int line, const char *fmt,
    ...)
{
	va_list	 ap;

	rv->rv_status = RECV_BAD;
	rv->rv_bad_offset = off;
	rv->rv_bad_line = line;
	va_start(ap, fmt);
	vsnprintf(rv->rv_why, sizeof(rv->rv_why), fmt, ap);
	va_end(ap);
}

/* One checkpoint or seal line: 0 if it holds. */
static int
recchain_check_line(struct recverify *rv, EVP_PKEY *pub, EVP_MD_CTX *run,
    const char *data, const char *kind, uint64_t off, int lineno)
{
	char		 w[128], hex[RECCHAIN_HEX_LEN + 1], st[256];
	char		 sigb64[RECCHAIN_SIG_B64_LEN + 8];
	unsigned char	 sig[RECCHAIN_SIG_B64_LEN];
	uint8_t		 md[32];
	uint64_t	 seq, bytes;
	EVP_MD_CTX	*c;
	int		 n, ok;

	if (recchain_word(data, "seq", w, sizeof(w)) == -1 ||
	    (seq = strtoull(w, NULL, 10)) == 0 ||
	    recchain_word(data, "bytes", w, sizeof(w)) == -1 ||
	    recchain_word(data, "sha256", hex, sizeof(hex)) == -1 ||
	    recchain_word(data, "sig", sigb64, sizeof(sigb64)) == -1) {
		recchain_bad(rv, off, lineno, "a malformed %s line", kind);
		return -1;
	}
	bytes = strtoull(w, NULL, 10);
	if (seq != rv->rv_checkpoints + 1) {
		recchain_bad(rv, off, lineno, "%s %" PRIu64 " where %" PRIu64
		    " was due: a checkpoint was removed or moved", kind, seq,
		    rv->rv_checkpoints + 1);
		return -1;
	}
	if (bytes != off) {
		recchain_bad(rv, off, lineno, "%s %" PRIu64 " states %" PRIu64
		    " bytes before it but stands at byte %" PRIu64 ": bytes "
		    "were added or removed after byte %" PRIu64, kind, seq,
		    bytes, off, rv->rv_verified);
		return -1;
	}
	if ((c = EVP_MD_CTX_new()) == NULL || EVP_MD_CTX_copy_ex(c, run) != 1 ||
	    EVP_DigestFinal_ex(c, md, NULL) != 1) {
		EVP_MD_CTX_free(c);
		recchain_bad(rv, off, lineno, "SHA-256 failed");
		return -1;
	}
	EVP_MD_CTX_free(c);
	hex_encode(md, 32, rv->rv_sha256);
	if (strcmp(rv->rv_sha256, hex) != 0) {
		recchain_bad(rv, off, lineno, "the SHA-256 of bytes 0-%" PRIu64
		    " does not match %s %" PRIu64 ": the file was altered "
		    "between byte %" PRIu64 " and byte %" PRIu64, off, kind,
		    seq, rv->rv_verified, off);
		return -1;
	}
	n = EVP_DecodeBlock(sig, (const unsigned char *)sigb64,
	    (int)strlen(sigb64));
	if (recchain_statement(st, sizeof(st), rv->rv_sid, kind, seq, bytes,
	    hex) == -1 || n != 66 || (c = EVP_MD_CTX_new()) == NULL) {
		recchain_bad(rv, off, lineno, "a malformed signature on %s %"
		    PRIu64, kind, seq);
		return -1;
	}
	ok = EVP_DigestVerifyInit(c, NULL, NULL, NULL, pub) == 1 &&
	    EVP_DigestVerify(c, sig, 64, (const unsigned char *)st,
	    strlen(st)) == 1;
	EVP_MD_CTX_free(c);
	if (!ok) {
		recchain_bad(rv, off, lineno, "the signature on %s %" PRIu64
		    " does not verify with key %s", kind, seq, rv->rv_fp);
		return -1;
	}
	rv->rv_checkpoints = seq;
	rv->rv_verified = off;
	return 0;
}

void
recchain_verify(const uint8_t *buf, size_t len, EVP_PKEY *pub,
    struct recverify *rv)
{
	const char	*s = (const char *)buf, *nl, *kind;
	struct recevent	 ev;
	EVP_MD_CTX	*run;
	char		 hkey[RECCHAIN_FP_LEN + 8], fmt[16];
	size_t		 off = 0, ll;
	int		 lineno = 0, sealed = 0;

	memset(rv, 0, sizeof(*rv));
	rv->rv_size = len;
	if (pub == NULL || recchain_key_fp(pub, rv->rv_fp) == -1) {
		recchain_bad(rv, 0, 0, "no usable public key");
		return;
	}
	if ((nl = memchr(s, '\n', len)) == NULL || s[0] != '{') {
		recchain_bad(rv, 0, 1, "not a recording: no header line");
		return;
	}
	ll = (size_t)(nl - s);
	snprintf(fmt, sizeof(fmt), "%d", RECCHAIN_FORMAT);
	if (recchain_header_str(s, ll, "session", rv->rv_sid,
	    sizeof(rv->rv_sid)) == -1 ||
	    memmem(s, ll, "\"portier_format\": ", 18) == NULL) {
		recchain_bad(rv, 0, 1, "not a Portier recording of format %d "
		    "(no session or portier_format in the header)",
		    RECCHAIN_FORMAT);
		return;
	}
	if (recchain_header_str(s, ll, "key", hkey, sizeof(hkey)) == 0 &&
	    strcmp(hkey, rv->rv_fp) != 0) {
		recchain_bad(rv, 0, 1, "signed by key %s, not by %s", hkey,
		    rv->rv_fp);
		return;
	}
	if ((run = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(run, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(run);
		recchain_bad(rv, 0, 0, "SHA-256 failed");
		return;
	}
	while (off < len) {
		lineno++;
		if ((nl = memchr(s + off, '\n', len - off)) == NULL) {
			recchain_bad(rv, off, lineno, "the file ends inside a "
			    "line at byte %zu: it was truncated (the recorder "
			    "writes whole lines)", len);
			break;
		}
		ll = (size_t)(nl - (s + off));
		if (sealed) {
			recchain_bad(rv, off, lineno, "data after the seal");
			break;
		}
		kind = NULL;
		if (lineno > 1 && ll > 4 && memmem(s + off, ll, "\"x\"", 3) &&
		    recchain_event_parse(s + off, ll, &ev) == 0) {
			if (ev.ev_code == 'x' &&
			    strncmp(ev.ev_data, "checkpoint ", 11) == 0)
				kind = "checkpoint";
			else if (ev.ev_code == 'x' &&
			    strncmp(ev.ev_data, "seal ", 5) == 0)
				kind = "seal";
			if (kind != NULL && recchain_check_line(rv, pub, run,
			    ev.ev_data, kind, off, lineno) == -1) {
				free(ev.ev_data);
				break;
			}
			free(ev.ev_data);
			if (kind != NULL && strcmp(kind, "seal") == 0)
				sealed = 1;
		}
		EVP_DigestUpdate(run, s + off, ll + 1);
		off += ll + 1;
	}
	EVP_MD_CTX_free(run);
	if (rv->rv_status == RECV_BAD)
		return;
	rv->rv_status = sealed ? RECV_SEALED : RECV_UNSEALED;
}
