/*
 * monitor-agent.c: an ssh-agent, in the monitor, holding one target key
 * for one session.
 *
 * A session logs in to its target with the target's key without ever
 * holding it: libssh in the session talks the agent protocol over a
 * socketpair whose other end is here.  The agent answers two requests,
 * list identities and sign, for the one key the policy's account uses
 * (Ed25519, ECDSA, or RSA signing with SHA-256 or SHA-512, never SHA-1);
 * anything else, or anything malformed, ends the agent.  A session
 * that is compromised can ask for signatures during its own session, for
 * its own target, and nothing more: the key cannot leave the monitor.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "portier.h"

#define AGENT_MAX_PACKET	(64 * 1024)

#define AGENT_FAILURE		5
#define AGENT_REQUEST_IDS	11
#define AGENT_IDS_ANSWER	12
#define AGENT_SIGN_REQUEST	13
#define AGENT_SIGN_RESPONSE	14
#define AGENT_RSA_SHA2_256	0x02	/* sign request flags */
#define AGENT_RSA_SHA2_512	0x04

#define AGENT_BLOB_MAX		2048	/* an RSA 8192 public key fits */
#define AGENT_SIG_MAX		1100	/* and its signature */

enum agent_kind {
	AK_ED25519,
	AK_RSA,
	AK_ECDSA,
};

struct monagent {
	int		 ma_fd;
	struct event	*ma_ev;
	EVP_PKEY	*ma_key;
	enum agent_kind	 ma_kind;
	const EVP_MD	*ma_md;		/* ECDSA: the curve's hash */
	char		 ma_alg[32];	/* ECDSA: the key type name */
	uint8_t		 ma_blob[AGENT_BLOB_MAX];	/* the public key */
	size_t		 ma_bloblen;
	uint8_t		 ma_in[AGENT_MAX_PACKET + 4];
	size_t		 ma_inlen;
};

/* ---- a small reader and writer of SSH wire strings ------------------------ */

struct rd {
	const uint8_t	*p, *end;
	int		 err;
};

static uint32_t
rd_u32(struct rd *r)
{
	uint32_t v;

	if (r->err || r->end - r->p < 4) {
		r->err = 1;
		return 0;
	}
	v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return v;
}

static const uint8_t *
rd_str(struct rd *r, size_t *len)
{
	const uint8_t	*s;
	uint32_t	 n = rd_u32(r);

	if (r->err || (size_t)(r->end - r->p) < n) {
		r->err = 1;
		return NULL;
	}
	s = r->p;
	r->p += n;
	*len = n;
	return s;
}

static int
rd_streq(struct rd *r, const char *want)
{
	size_t		 n;
	const uint8_t	*s = rd_str(r, &n);

	return s != NULL && n == strlen(want) && memcmp(s, want, n) == 0;
}

static uint8_t *
wr_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

static uint8_t *
wr_str(uint8_t *p, const void *s, size_t n)
{
	p = wr_u32(p, (uint32_t)n);
	memcpy(p, s, n);
	return p + n;
}

/* ---- RSA from its OpenSSH private fields ---------------------------------- */

static BIGNUM *
rd_bn(struct rd *r)
{
	const uint8_t	*p;
	size_t		 n;

	if ((p = rd_str(r, &n)) == NULL || n > 2048)
		return NULL;
	return BN_bin2bn(p, (int)n, NULL);
}

/*
 * mpint n, e, d, iqmp, p, q: OpenSSL wants the CRT exponents too,
 * d mod (p - 1) and d mod (q - 1).
 */
static int
agent_rsa_key(struct monagent *ma, struct rd *r)
{
	BIGNUM		*bn[8] = { NULL };	/* n e d iqmp p q dmp1 dmq1 */
	BIGNUM		*t = NULL;
	BN_CTX		*bctx = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	int		 i, rc = -1;

	for (i = 0; i < 6; i++)
		if ((bn[i] = rd_bn(r)) == NULL)
			goto out;
	if ((bctx = BN_CTX_new()) == NULL || (t = BN_new()) == NULL ||
	    (bn[6] = BN_new()) == NULL || (bn[7] = BN_new()) == NULL ||
	    !BN_sub(t, bn[4], BN_value_one()) ||
	    !BN_mod(bn[6], bn[2], t, bctx) ||
	    !BN_sub(t, bn[5], BN_value_one()) ||
	    !BN_mod(bn[7], bn[2], t, bctx))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn[0]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn[1]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, bn[2]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, bn[4]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, bn[5]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1,
	    bn[6]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	    bn[7]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	    bn[3]) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &ma->ma_key, EVP_PKEY_KEYPAIR,
	    params) != 1)
		goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(bctx);
	BN_clear_free(t);
	for (i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return rc;
}

/* ---- the OpenSSH private key format, unencrypted Ed25519 only ------------- */

static int
agent_parse_key(struct monagent *ma, const char *text)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----";
	const char	*b, *e;
	char		*b64 = NULL;
	uint8_t		*raw = NULL;
	size_t		 i, n = 0, rawlen = 0, len, publen, privlen, bloblen;
	const uint8_t	*s, *pub, *priv, *blob;
	struct rd	 r, pr, save;
	int		 rc = -1, dlen;

	if ((b = strstr(text, begin)) == NULL ||
	    (e = strstr(b, end)) == NULL)
		return -1;
	b += sizeof(begin) - 1;
	b64 = xmalloc((size_t)(e - b) + 1);
	for (i = 0; b + i < e; i++)
		if (b[i] != '\n' && b[i] != '\r' && b[i] != ' ')
			b64[n++] = b[i];
	if (n == 0 || n % 4 != 0)
		goto out;
	rawlen = n / 4 * 3;
	raw = xmalloc(rawlen + 1);
	if ((dlen = EVP_DecodeBlock(raw, (uint8_t *)b64, (int)n)) < 0)
		goto out;
	/* EVP_DecodeBlock counts padding as zero bytes. */
	rawlen = (size_t)dlen - (b64[n - 1] == '=') - (b64[n - 2] == '=');

	r.p = raw;
	r.end = raw + rawlen;
	r.err = 0;
	if (rawlen < 15 || memcmp(raw, "openssh-key-v1", 15) != 0)
		goto out;
	r.p += 15;
	if (!rd_streq(&r, "none") || !rd_streq(&r, "none") ||
	    rd_str(&r, &len) == NULL || len != 0 || rd_u32(&r) != 1 ||
	    (blob = rd_str(&r, &bloblen)) == NULL ||
	    (s = rd_str(&r, &len)) == NULL || r.err)
		goto out;
	pr.p = s;
	pr.end = s + len;
	pr.err = 0;
	if (rd_u32(&pr) != rd_u32(&pr) || pr.err)
		goto out;
	save = pr;
	if (rd_streq(&save, "ssh-rsa")) {
		if (bloblen <= sizeof(ma->ma_blob) &&
		    agent_rsa_key(ma, &save) == 0) {
			/* The public key blob: the file's, as ssh-keygen made. */
			ma->ma_kind = AK_RSA;
			memcpy(ma->ma_blob, blob, bloblen);
			ma->ma_bloblen = bloblen;
			rc = 0;
		}
		goto out;
	}
	if (!rd_streq(&pr, "ssh-ed25519") ||
	    (pub = rd_str(&pr, &publen)) == NULL || publen != 32 ||
	    (priv = rd_str(&pr, &privlen)) == NULL || privlen != 64 ||
	    memcmp(priv + 32, pub, 32) != 0 || pr.err)
		goto out;
	ma->ma_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    priv, 32);
	if (ma->ma_key != NULL) {
		/* string "ssh-ed25519", string pub */
		ma->ma_kind = AK_ED25519;
		ma->ma_bloblen = (size_t)(wr_str(wr_str(ma->ma_blob,
		    "ssh-ed25519", 11), pub, 32) - ma->ma_blob);
		rc = 0;
	}
out:
	if (raw != NULL)
		freezero(raw, rawlen + 1);
	if (b64 != NULL)
		freezero(b64, (size_t)(e - b) + 1);
	return rc;
}

/*
 * ECDSA keys: libssh reads the OpenSSH format and gives the key back as
 * PEM, which OpenSSL signs with; the public key blob is the one libssh
 * makes, as the target will see it.  (libssh 0.10 does not give RSA keys
 * back as PEM: agent_rsa_key() builds those.)
 */
static int
agent_parse_other(struct monagent *ma, const char *text)
{
	ssh_key		 sk = NULL;
	char		*pem = NULL, *b64 = NULL;
	uint8_t		 raw[AGENT_BLOB_MAX + 3];
	BIO		*bio = NULL;
	struct rd	 r;
	const uint8_t	*alg;
	size_t		 n, alglen;
	int		 dlen, rc = -1;

	if (ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, &sk) !=
	    SSH_OK)
		return -1;
	switch (ssh_key_type(sk)) {
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
		ma->ma_kind = AK_ECDSA;
		break;
	default:
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(sk, &b64) != SSH_OK ||
	    (n = strlen(b64)) == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(raw) ||
	    (dlen = EVP_DecodeBlock(raw, (uint8_t *)b64, (int)n)) < 0)
		goto out;
	ma->ma_bloblen = (size_t)dlen - (b64[n - 1] == '=') -
	    (b64[n - 2] == '=');
	if (ma->ma_bloblen > sizeof(ma->ma_blob))
		goto out;
	memcpy(ma->ma_blob, raw, ma->ma_bloblen);
	r.p = ma->ma_blob;
	r.end = ma->ma_blob + ma->ma_bloblen;
	r.err = 0;
	if ((alg = rd_str(&r, &alglen)) == NULL ||
	    alglen >= sizeof(ma->ma_alg))
		goto out;
	memcpy(ma->ma_alg, alg, alglen);
	ma->ma_alg[alglen] = '\0';
	if (ma->ma_kind == AK_ECDSA)
		ma->ma_md = strstr(ma->ma_alg, "nistp256") ? EVP_sha256() :
		    strstr(ma->ma_alg, "nistp384") ? EVP_sha384() :
		    EVP_sha512();
	if (ssh_pki_export_privkey_base64(sk, NULL, NULL, NULL, &pem) !=
	    SSH_OK || (bio = BIO_new_mem_buf(pem, -1)) == NULL)
		goto out;
	if ((ma->ma_key = PEM_read_bio_PrivateKey(bio, NULL, NULL,
	    NULL)) != NULL)
		rc = 0;
out:
	BIO_free(bio);
	if (pem != NULL)
		freezero(pem, strlen(pem));
	ssh_string_free_char(b64);
	ssh_key_free(sk);
	return rc;
}

/* An SSH mpint of a non-negative BIGNUM: BN_bn2mpi's format. */
static uint8_t *
wr_mpint(uint8_t *p, const BIGNUM *bn)
{
	return p + BN_bn2mpi(bn, p);
}

/*
 * Sign DATA as the target expects; the signature blob (string algorithm,
 * string signature) into OUT.  0, or -1 for a failure answer.
 */
static int
agent_sign(struct monagent *ma, uint32_t flags, const uint8_t *data,
    size_t dlen, uint8_t *out, size_t *outlen)
{
	uint8_t		 sig[AGENT_SIG_MAX], inner[2 * 72];
	const uint8_t	*der = sig;
	const BIGNUM	*er, *es;
	const EVP_MD	*md = NULL;
	const char	*alg;
	size_t		 siglen = sizeof(sig), innerlen = 0;
	EVP_MD_CTX	*ctx;
	ECDSA_SIG	*esig;
	int		 ok;

	switch (ma->ma_kind) {
	case AK_ED25519:
		alg = "ssh-ed25519";
		break;
	case AK_RSA:
		/* SHA-1 ("ssh-rsa") is refused: no flag, no signature. */
		if (flags & AGENT_RSA_SHA2_512) {
			alg = "rsa-sha2-512";
			md = EVP_sha512();
		} else if (flags & AGENT_RSA_SHA2_256) {
			alg = "rsa-sha2-256";
			md = EVP_sha256();
		} else
			return -1;
		break;
	default:
		alg = ma->ma_alg;
		md = ma->ma_md;
		break;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, md, NULL, ma->ma_key) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, data, dlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	if (ma->ma_kind == AK_ECDSA) {
		/* DER (r, s) to string(mpint r, mpint s). */
		if ((esig = d2i_ECDSA_SIG(NULL, &der, (long)siglen)) == NULL)
			return -1;
		ECDSA_SIG_get0(esig, &er, &es);
		ok = BN_num_bytes(er) <= 67 && BN_num_bytes(es) <= 67;
		if (ok)
			innerlen = (size_t)(wr_mpint(wr_mpint(inner, er), es) -
			    inner);
		ECDSA_SIG_free(esig);
		if (!ok)
			return -1;
		memcpy(sig, inner, innerlen);
		siglen = innerlen;
	}
	*outlen = (size_t)(wr_str(wr_str(out, alg, strlen(alg)), sig,
	    siglen) - out);
	return 0;
}

/* ---- the protocol --------------------------------------------------------- */

static int
agent_send(struct monagent *ma, const uint8_t *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		/* Answers are small; the socket buffer takes them whole. */
		if ((n = send(ma->ma_fd, buf, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
agent_failure(struct monagent *ma)
{
	uint8_t	 out[5] = { 0, 0, 0, 1, AGENT_FAILURE };

	return agent_send(ma, out, sizeof(out));
}

static int
agent_request(struct monagent *ma, const uint8_t *pkt, size_t len)
{
	uint8_t		 out[AGENT_BLOB_MAX + AGENT_SIG_MAX + 64], *p;
	size_t		 klen, dlen, siglen;
	const uint8_t	*k, *data;
	struct rd	 r = { pkt + 1, pkt + len, 0 };
	uint32_t	 flags;

	switch (pkt[0]) {
	case AGENT_REQUEST_IDS:
		if (len != 1)
			return -1;
		out[4] = AGENT_IDS_ANSWER;
		p = wr_u32(out + 5, 1);
		p = wr_str(p, ma->ma_blob, ma->ma_bloblen);
		p = wr_str(p, "portier", 7);
		wr_u32(out, (uint32_t)(p - out - 4));
		return agent_send(ma, out, (size_t)(p - out));
	case AGENT_SIGN_REQUEST:
		k = rd_str(&r, &klen);
		data = rd_str(&r, &dlen);
		flags = rd_u32(&r);
		if (r.err || r.p != r.end)
			return -1;
		if (klen != ma->ma_bloblen || memcmp(k, ma->ma_blob, klen) != 0)
			return agent_failure(ma);
		/* string signature, after the header and its length */
		if (agent_sign(ma, flags, data, dlen, out + 9, &siglen) == -1)
			return agent_failure(ma);
		out[4] = AGENT_SIGN_RESPONSE;
		wr_u32(out + 5, (uint32_t)siglen);
		wr_u32(out, (uint32_t)(siglen + 5));
		return agent_send(ma, out, siglen + 9);
	default:
		return agent_failure(ma);
	}
}

static void
agent_read(evutil_socket_t fd, short ev, void *arg)
{
	struct monagent	*ma = arg;
	ssize_t		 n;
	uint32_t	 len;

	n = read(fd, ma->ma_in + ma->ma_inlen, sizeof(ma->ma_in) -
	    ma->ma_inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		goto done;
	ma->ma_inlen += (size_t)n;
	while (ma->ma_inlen >= 4) {
		len = (uint32_t)ma->ma_in[0] << 24 |
		    (uint32_t)ma->ma_in[1] << 16 |
		    (uint32_t)ma->ma_in[2] << 8 | ma->ma_in[3];
		if (len == 0 || len > AGENT_MAX_PACKET)
			goto done;
		if (ma->ma_inlen < 4 + (size_t)len)
			return;
		if (agent_request(ma, ma->ma_in + 4, len) == -1)
			goto done;
		memmove(ma->ma_in, ma->ma_in + 4 + len,
		    ma->ma_inlen - 4 - len);
		ma->ma_inlen -= 4 + len;
	}
	return;
done:
	/* EOF or a violation: this session has no agent any more. */
	event_del(ma->ma_ev);
	shutdown(ma->ma_fd, SHUT_RDWR);
}

struct monagent *
monagent_new(const char *key_text, int *session_fd)
{
	struct monagent	*ma;
	int		 sp[2];

	ma = xcalloc(1, sizeof(*ma));
	if (agent_parse_key(ma, key_text) == -1 &&
	    agent_parse_other(ma, key_text) == -1) {
		log_warnx("agent: the target key is not an unencrypted "
		    "Ed25519, ECDSA or RSA OpenSSH key");
		free(ma);
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("agent: socketpair");
		EVP_PKEY_free(ma->ma_key);
		free(ma);
		return NULL;
	}
	fd_nonblock(sp[0]);
	ma->ma_fd = sp[0];
	ma->ma_ev = event_new(mon_base, sp[0], EV_READ | EV_PERSIST,
	    agent_read, ma);
	event_add(ma->ma_ev, NULL);
	*session_fd = sp[1];
	return ma;
}

void
monagent_free(struct monagent *ma)
{
	if (ma == NULL)
		return;
	event_free(ma->ma_ev);
	close(ma->ma_fd);
	EVP_PKEY_free(ma->ma_key);
	explicit_bzero(ma, sizeof(*ma));
	free(ma);
}
