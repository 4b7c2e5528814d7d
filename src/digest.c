/*
 * digest.c: SHA-256 of what a session relays, computed off the relay's
 * CPU (digest.h).
 *
 * The recording keeps the size and SHA-256 of every byte an exec or an
 * sftp transfer moves.  Hashed in the relay's loop, that is about a
 * fifth of the session's CPU in a bulk transfer.  Here one thread,
 * started before the sandbox and bound by the same seccomp filter, does
 * the hashing while the loop goes on relaying, on another core when the
 * machine has one free.  The caller copies its bytes into a ring of
 * 64 KiB slots; a slot goes to the thread when it is full, when the
 * bytes that follow belong to another digest, or at digest_final().
 * Slots are hashed in the order they were filled, so each digest sees
 * its bytes in order.
 *
 * When the ring is full the caller waits for the thread: hashing is CPU
 * work only, so the wait is bounded, and a relay faster than its hashing
 * slows down to it rather than buffering without end.  With no thread
 * (it could not be started, or a test or fuzzer never starts it), every
 * call hashes inline and the results are the same.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "portier.h"
#include "digest.h"

#define DIGEST_SLOTS		16
#define DIGEST_SLOT		(64 * 1024)
#define DIGEST_WAKE		4
#define DIGEST_STACK		(256 * 1024)

struct digest {
	EVP_MD_CTX	*d_md;
	int		 d_failed;	/* set by whoever hashed: read after
					   digest_drain() */
};

struct digest_slot {
	struct digest	*ds_d;
	size_t		 ds_len;
	uint8_t		*ds_buf;
};

static struct {
	pthread_mutex_t		 w_lock;
	pthread_cond_t		 w_work;	/* a slot was handed over */
	pthread_cond_t		 w_room;	/* a slot was hashed */
	int			 w_running;
	int			 w_idle;	/* the thread waits on w_work */
	int			 w_waiting;	/* the caller waits on w_room */
	uint8_t			*w_mem;
	struct digest_slot	 w_slot[DIGEST_SLOTS];
	unsigned		 w_head;	/* the caller fills this one */
	unsigned		 w_tail;	/* the thread hashes this one */
	unsigned		 w_count;	/* handed over, not yet hashed */
	/* The caller's side, never touched by the thread: */
	struct digest		*w_fill_d;
	size_t			 w_fill_len;
} W = {
	.w_lock = PTHREAD_MUTEX_INITIALIZER,
	.w_work = PTHREAD_COND_INITIALIZER,
	.w_room = PTHREAD_COND_INITIALIZER,
};

static void
digest_hash(struct digest *d, const void *p, size_t n)
{
	if (!d->d_failed && EVP_DigestUpdate(d->d_md, p, n) != 1)
		d->d_failed = 1;
}

static void *
digest_thread(void *arg)
{
	struct digest_slot	*s;

	(void)arg;
	pthread_mutex_lock(&W.w_lock);
	/* Running now: libc's own start-up calls (rseq...) are done. */
	W.w_running = 1;
	pthread_cond_signal(&W.w_room);
	for (;;) {
		while (W.w_count == 0) {
			W.w_idle = 1;
			pthread_cond_wait(&W.w_work, &W.w_lock);
			W.w_idle = 0;
		}
		s = &W.w_slot[W.w_tail];
		pthread_mutex_unlock(&W.w_lock);

		digest_hash(s->ds_d, s->ds_buf, s->ds_len);

		pthread_mutex_lock(&W.w_lock);
		W.w_tail = (W.w_tail + 1) % DIGEST_SLOTS;
		W.w_count--;
		if (W.w_waiting) {
			W.w_waiting = 0;
			pthread_cond_signal(&W.w_room);
		}
	}
	return NULL;
}

int
digest_worker_start(void)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	sigset_t	 all, old;
	int		 rc;

	if (W.w_running)
		return 0;
	if (pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setstacksize(&attr, DIGEST_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals are the event loop's: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, digest_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -1;
	/*
	 * The sandbox must not come before the thread has started: its
	 * filter would kill the thread's first system calls.
	 */
	pthread_mutex_lock(&W.w_lock);
	while (!W.w_running)
		pthread_cond_wait(&W.w_room, &W.w_lock);
	pthread_mutex_unlock(&W.w_lock);
	return 0;
}

/* Hand the slot being filled to the thread. */
static void
digest_publish(void)
{
	if (W.w_fill_len == 0)
		return;
	pthread_mutex_lock(&W.w_lock);
	W.w_slot[W.w_head].ds_d = W.w_fill_d;
	W.w_slot[W.w_head].ds_len = W.w_fill_len;
	W.w_head = (W.w_head + 1) % DIGEST_SLOTS;
	W.w_count++;
	/* An idle thread is woken for a few slots at once; digest_wait()
	 * wakes it for fewer. */
	if (W.w_idle && W.w_count >= DIGEST_WAKE)
		pthread_cond_signal(&W.w_work);
	pthread_mutex_unlock(&W.w_lock);
	W.w_fill_d = NULL;
	W.w_fill_len = 0;
}

/* Wait until at most MAX slots are still with the thread. */
static void
digest_wait(unsigned max)
{
	pthread_mutex_lock(&W.w_lock);
	while (W.w_count > max) {
		if (W.w_idle)
			pthread_cond_signal(&W.w_work);
		W.w_waiting = 1;
		pthread_cond_wait(&W.w_room, &W.w_lock);
	}
	pthread_mutex_unlock(&W.w_lock);
}

struct digest *
digest_new(void)
{
	struct digest	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->d_md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d->d_md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(d->d_md);
		free(d);
		return NULL;
	}
	return d;
}

int
digest_update(struct digest *d, const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 k;
	unsigned	 i;

	/* The ring is for sessions that hash: allocated at first use. */
	if (W.w_running && W.w_mem == NULL &&
	    (W.w_mem = malloc(DIGEST_SLOTS * DIGEST_SLOT)) != NULL)
		for (i = 0; i < DIGEST_SLOTS; i++)
			W.w_slot[i].ds_buf = W.w_mem + i * DIGEST_SLOT;
	if (!W.w_running || W.w_mem == NULL) {
		digest_hash(d, p, n);
		return d->d_failed ? -1 : 0;
	}
	while (n > 0) {
		if (W.w_fill_len > 0 && W.w_fill_d != d)
			digest_publish();
		if (W.w_fill_len == 0) {
			/* The slot at the head must be free to fill. */
			digest_wait(DIGEST_SLOTS - 1);
			W.w_fill_d = d;
		}
		k = DIGEST_SLOT - W.w_fill_len;
		if (k > n)
			k = n;
		memcpy(W.w_slot[W.w_head].ds_buf + W.w_fill_len, b, k);
		W.w_fill_len += k;
		b += k;
		n -= k;
		if (W.w_fill_len == DIGEST_SLOT)
			digest_publish();
	}
	return 0;
}

int
digest_final(struct digest *d, char hex[DIGEST_HEX])
{
	uint8_t			 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;

	hex[0] = '\0';
	if (W.w_running) {
		digest_publish();
		digest_wait(0);
	}
	if (d->d_failed || EVP_DigestFinal_ex(d->d_md, md, &mdlen) != 1 ||
	    2 * mdlen + 1 != DIGEST_HEX)
		return -1;
	hex_encode(md, mdlen, hex);
	return 0;
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	if (W.w_running) {
		/* Nothing of D may be left for the thread to read. */
		if (W.w_fill_d == d) {
			W.w_fill_d = NULL;
			W.w_fill_len = 0;
		}
		digest_wait(0);
	}
	EVP_MD_CTX_free(d->d_md);
	free(d);
}
