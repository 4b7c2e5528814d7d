/*
 * vault.c: secrets at rest, sealed with AES-256-GCM.
 *
 * Target credentials and TOTP seeds reach the store only sealed under the
 * vault key, a 32-byte file only the monitor reads.  A sealed secret is
 *
 *	version (1) || nonce (12, random) || ciphertext || tag (16)
 *
 * and its additional authenticated data is the version byte followed by
 * the name of the secret's owner ("target:pacs-01:maint", "totp:jdoe"), so
 * a sealed value copied to another row, or altered in any byte, does not
 * open.  Key material and plaintexts are wiped before they are freed.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "portier.h"
#include "store.h"

int
vault_key_load(const char *path, uint8_t key[VAULT_KEY_LEN], char *err,
    size_t errlen)
{
	struct stat	 sb;
	ssize_t		 n;
	size_t		 off = 0;
	uint8_t		 extra;
	int		 fd;

	explicit_bzero(key, VAULT_KEY_LEN);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK))
	    == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: %s by others; fix with: "
		    "chmod 600 %s", path,
		    sb.st_mode & (S_IRGRP | S_IROTH) ? "readable" :
		    sb.st_mode & (S_IWGRP | S_IWOTH) ? "writable" : "usable",
		    path);
		goto fail;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		snprintf(err, errlen, "%s: owned by uid %u; fix with: chown "
		    "root %s", path, (unsigned)sb.st_uid, path);
		goto fail;
	}
	if (sb.st_size != VAULT_KEY_LEN) {
		snprintf(err, errlen, "%s: %lld bytes; a vault key is exactly "
		    "%d", path, (long long)sb.st_size, VAULT_KEY_LEN);
		goto fail;
	}
	while (off < VAULT_KEY_LEN) {
		n = read(fd, key + off, VAULT_KEY_LEN - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path, n == 0 ?
			    "short read" : strerror(errno));
			goto fail;
		}
		off += n;
	}
	/* The file may have grown since fstat(). */
	if (read(fd, &extra, 1) != 0) {
		snprintf(err, errlen, "%s: longer than %d bytes", path,
		    VAULT_KEY_LEN);
		goto fail;
	}
	close(fd);
	return 0;
 fail:
	explicit_bzero(key, VAULT_KEY_LEN);
	close(fd);
	return -1;
}

int
vault_key_create(const char *path, char *err, size_t errlen)
{
	uint8_t		 key[VAULT_KEY_LEN];
	ssize_t		 n;
	size_t		 off;
	int		 fd, saved;

	for (off = 0; off < sizeof(key); off += n) {
		n = getrandom(key + off, sizeof(key) - off, 0);
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n <= 0) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			explicit_bzero(key, sizeof(key));
			return -1;
		}
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		explicit_bzero(key, sizeof(key));
		return -1;
	}
	/* The umask may have taken more than group and others. */
	if (fchmod(fd, 0600) == -1)
		goto fail;
	for (off = 0; off < sizeof(key); off += n) {
		n = write(fd, key + off, sizeof(key) - off);
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			goto fail;
	}
	if (fsync(fd) == -1)
		goto fail;
	explicit_bzero(key, sizeof(key));
	if (close(fd) == -1) {
		saved = errno;
		unlink(path);
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		return -1;
	}
	return 0;
 fail:
	saved = errno;
	explicit_bzero(key, sizeof(key));
	close(fd);
	unlink(path);
	snprintf(err, errlen, "%s: %s", path, strerror(saved));
	return -1;
}

/* Feed the version byte and the owner's name as additional data. */
static int
vault_aad(EVP_CIPHER_CTX *ctx, int enc, const char *aad)
{
	const uint8_t	 ver = VAULT_VERSION;
	int		 n;

	if (enc)
		return EVP_EncryptUpdate(ctx, NULL, &n, &ver, 1) == 1 &&
		    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
		    (int)strlen(aad)) == 1 ? 0 : -1;
	return EVP_DecryptUpdate(ctx, NULL, &n, &ver, 1) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
	    (int)strlen(aad)) == 1 ? 0 : -1;
}

int
vault_seal(const uint8_t key[VAULT_KEY_LEN], const char *aad,
    const uint8_t *pt, size_t ptlen, uint8_t **out, size_t *outlen)
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		*buf, *nonce, *ct;
	size_t		 len;
	int		 n, ok;

	*out = NULL;
	*outlen = 0;
	if (aad == NULL || *aad == '\0' || strlen(aad) > INT32_MAX ||
	    ptlen > INT32_MAX - VAULT_OVERHEAD || (pt == NULL && ptlen != 0))
		return -1;
	len = VAULT_OVERHEAD + ptlen;
	buf = xmalloc(len);
	buf[0] = VAULT_VERSION;
	nonce = buf + 1;
	ct = nonce + VAULT_NONCE_LEN;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		free(buf);
		return -1;
	}
	ok = RAND_bytes(nonce, VAULT_NONCE_LEN) == 1 &&
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_LEN,
	    NULL) == 1 &&
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
	    vault_aad(ctx, 1, aad) == 0 &&
	    (ptlen == 0 || (EVP_EncryptUpdate(ctx, ct, &n, pt, (int)ptlen) == 1
	    && (size_t)n == ptlen)) &&
	    EVP_EncryptFinal_ex(ctx, ct + ptlen, &n) == 1 && n == 0 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VAULT_TAG_LEN,
	    ct + ptlen) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		freezero(buf, len);
		return -1;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int
vault_open(const uint8_t key[VAULT_KEY_LEN], const char *aad,
    const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	EVP_CIPHER_CTX	*ctx;
	const uint8_t	*nonce, *ct, *tag;
	uint8_t		*pt;
	size_t		 ctlen;
	int		 n, ok;

	*out = NULL;
	*outlen = 0;
	if (aad == NULL || *aad == '\0' || strlen(aad) > INT32_MAX ||
	    in == NULL || inlen < VAULT_OVERHEAD || inlen > INT32_MAX ||
	    in[0] != VAULT_VERSION)
		return -1;
	nonce = in + 1;
	ct = nonce + VAULT_NONCE_LEN;
	ctlen = inlen - VAULT_OVERHEAD;
	tag = ct + ctlen;
	pt = xmalloc(ctlen + 1);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		free(pt);
		return -1;
	}
	/* OpenSSL wants a writable tag buffer; it only reads it. */
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL,
	    NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_LEN,
	    NULL) == 1 &&
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
	    vault_aad(ctx, 0, aad) == 0 &&
	    (ctlen == 0 || (EVP_DecryptUpdate(ctx, pt, &n, ct, (int)ctlen) == 1
	    && (size_t)n == ctlen)) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VAULT_TAG_LEN,
	    (void *)(uintptr_t)tag) == 1 &&
	    EVP_DecryptFinal_ex(ctx, pt + ctlen, &n) == 1 && n == 0;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		/* A failed open must not leave unauthenticated plaintext. */
		freezero(pt, ctlen + 1);
		return -1;
	}
	pt[ctlen] = '\0';
	*out = pt;
	*outlen = ctlen;
	return 0;
}
