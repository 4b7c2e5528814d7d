/*
 * monitor-agent.c: an ssh-agent, in the monitor, holding one target key
 * for one session.
 *
 * A session logs in to its target with the target's key without ever
 * holding it: libssh in the session talks the agent protocol over a
 * socketpair whose other end is here.  The agent answers two requests,
 * list identities and sign, for the one Ed25519 key the policy's account
 * uses; anything else, or anything malformed, ends the agent.  A session
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
#include <openssl/evp.h>

#include "portier.h"

#define AGENT_MAX_PACKET	(64 * 1024)

#define AGENT_FAILURE		5
#define AGENT_REQUEST_IDS	11
#define AGENT_IDS_ANSWER	12
#define AGENT_SIGN_REQUEST	13
#define AGENT_SIGN_RESPONSE	14

struct monagent {
	int		 ma_fd;
	struct event	*ma_ev;
	EVP_PKEY	*ma_key;
	uint8_t		 ma_pub[32];
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

/* string "ssh-ed25519", string pub: the public key blob (51 bytes) */
static size_t
agent_pubblob(struct monagent *ma, uint8_t *out)
{
	uint8_t	*p = out;

	p = wr_str(p, "ssh-ed25519", 11);
	p = wr_str(p, ma->ma_pub, 32);
	return (size_t)(p - out);
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
	size_t		 i, n = 0, rawlen = 0, len, publen, privlen;
	const uint8_t	*s, *pub, *priv;
	struct rd	 r, pr;
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
	    rd_str(&r, &len) == NULL || (s = rd_str(&r, &len)) == NULL ||
	    r.err)
		goto out;
	pr.p = s;
	pr.end = s + len;
	pr.err = 0;
	if (rd_u32(&pr) != rd_u32(&pr) || !rd_streq(&pr, "ssh-ed25519") ||
	    (pub = rd_str(&pr, &publen)) == NULL || publen != 32 ||
	    (priv = rd_str(&pr, &privlen)) == NULL || privlen != 64 ||
	    memcmp(priv + 32, pub, 32) != 0 || pr.err)
		goto out;
	memcpy(ma->ma_pub, pub, 32);
	ma->ma_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    priv, 32);
	if (ma->ma_key != NULL)
		rc = 0;
out:
	if (raw != NULL)
		freezero(raw, rawlen + 1);
	if (b64 != NULL)
		freezero(b64, (size_t)(e - b) + 1);
	return rc;
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
	uint8_t		 out[512], blob[64], sig[64], *p;
	size_t		 bloblen, klen, dlen, siglen = sizeof(sig);
	const uint8_t	*k, *data;
	struct rd	 r = { pkt + 1, pkt + len, 0 };
	EVP_MD_CTX	*ctx;
	int		 ok;

	bloblen = agent_pubblob(ma, blob);
	switch (pkt[0]) {
	case AGENT_REQUEST_IDS:
		if (len != 1)
			return -1;
		out[4] = AGENT_IDS_ANSWER;
		p = wr_u32(out + 5, 1);
		p = wr_str(p, blob, bloblen);
		p = wr_str(p, "portier", 7);
		wr_u32(out, (uint32_t)(p - out - 4));
		return agent_send(ma, out, (size_t)(p - out));
	case AGENT_SIGN_REQUEST:
		k = rd_str(&r, &klen);
		data = rd_str(&r, &dlen);
		(void)rd_u32(&r);		/* flags: none apply */
		if (r.err || r.p != r.end)
			return -1;
		if (klen != bloblen || memcmp(k, blob, bloblen) != 0)
			return agent_failure(ma);
		if ((ctx = EVP_MD_CTX_new()) == NULL)
			return agent_failure(ma);
		ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL,
		    ma->ma_key) == 1 &&
		    EVP_DigestSign(ctx, sig, &siglen, data, dlen) == 1 &&
		    siglen == 64;
		EVP_MD_CTX_free(ctx);
		if (!ok)
			return agent_failure(ma);
		out[4] = AGENT_SIGN_RESPONSE;
		/* string signature = string "ssh-ed25519", string sig */
		p = wr_u32(out + 5, 4 + 11 + 4 + 64);
		p = wr_str(p, "ssh-ed25519", 11);
		p = wr_str(p, sig, 64);
		wr_u32(out, (uint32_t)(p - out - 4));
		return agent_send(ma, out, (size_t)(p - out));
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
	if (agent_parse_key(ma, key_text) == -1) {
		log_warnx("agent: the target key is not an unencrypted "
		    "OpenSSH Ed25519 key");
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
