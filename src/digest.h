/*
 * digest.h: SHA-256 of what a session relays, computed off the relay's
 * CPU (digest.c).
 */
#ifndef PORTIER_DIGEST_H
#define PORTIER_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_HEX	(2 * 32 + 1)	/* SHA-256 in hex, with its NUL */

struct digest;

/*
 * Start the process's hashing thread.  Call it before the sandbox: the
 * seccomp filter must then be loaded for every thread (TSYNC).  -1 (no
 * thread): digests are computed inline, with the same results.
 */
int		 digest_worker_start(void);

struct digest	*digest_new(void);
/* Bytes are copied: P may be reused at once.  -1 on failure. */
int		 digest_update(struct digest *, const void *p, size_t n);
/*
 * The digest in lowercase hex.  Waits for what the thread still holds;
 * -1 (HEX is then "") if hashing failed.
 */
int		 digest_final(struct digest *, char hex[DIGEST_HEX]);
void		 digest_free(struct digest *);

#endif /* PORTIER_DIGEST_H */
