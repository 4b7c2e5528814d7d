/*
 * test_digest.c: the session's SHA-256 worker against one-shot SHA-256.
 *
 * Known answers first, hashed inline (no thread yet); then the same and
 * more through the thread: two digests fed in turns with chunk sizes
 * around the 64 KiB slot, one update larger than the whole ring, a
 * million single bytes, and a digest freed while the thread still holds
 * its bytes.  Every answer is checked against EVP_Digest() over the same
 * bytes, computed independently.
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

#include "digest.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The independent answer: EVP_Digest() in one call, in hex. */
static void
oneshot(const uint8_t *p, size_t n, char *out)
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0, i;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(2 * len + 1, DIGEST_HEX);
	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
final_hex(struct digest *d, char *out)
{
	assert_int_equal(digest_final(d, out), 0);
}

/* FIPS 180-2 test vectors, fed in CHUNK-byte updates. */
static void
known_answers(size_t chunk)
{
	static const struct {
		const char	*in;
		size_t		 repeat;
		const char	*want;
	} kat[] = {
		{ "", 1, "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855" },
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad" },
		{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67"
		    "f1809a48a497200e046d39ccc7112cd0" },
	};
	uint8_t		*buf;
	struct digest	*d;
	char		 got[DIGEST_HEX];
	size_t		 i, j, n, off, k;

	for (i = 0; i < NELEM(kat); i++) {
		n = strlen(kat[i].in) * kat[i].repeat;
		assert_non_null(buf = malloc(n + 1));
		for (j = 0; j < kat[i].repeat; j++)
			memcpy(buf + j * strlen(kat[i].in), kat[i].in,
			    strlen(kat[i].in));
		assert_non_null(d = digest_new());
		for (off = 0; off < n; off += k) {
			k = n - off < chunk ? n - off : chunk;
			assert_int_equal(digest_update(d, buf + off, k), 0);
		}
		final_hex(d, got);
		assert_string_equal(got, kat[i].want);
		digest_free(d);
		free(buf);
	}
}

static void
test_inline(void **state)
{
	(void)state;
	known_answers(1000);
	known_answers(65536);
}

static void
test_thread_known(void **state)
{
	(void)state;
	assert_int_equal(digest_worker_start(), 0);
	/* A second start is a no-op. */
	assert_int_equal(digest_worker_start(), 0);
	known_answers(1);
	known_answers(1000);
	known_answers(65537);
}

/* Two digests fed in turns, as an exec's input and output are. */
static void
test_thread_interleaved(void **state)
{
	static const size_t	 sizes[] = { 1, 7, 4095, 65535, 65536, 65537,
	    131072, 200001, 3 };
	const size_t		 total = 3u << 20;
	uint8_t			*a, *b;
	struct digest		*da, *db;
	char			 got[DIGEST_HEX],
				 want[DIGEST_HEX];
	size_t			 i, oa = 0, ob = 0, k, turn = 0;

	(void)state;
	assert_int_equal(digest_worker_start(), 0);
	assert_non_null(a = malloc(total));
	assert_non_null(b = malloc(total));
	for (i = 0; i < total; i++) {
		a[i] = (uint8_t)(i * 31 + 7);
		b[i] = (uint8_t)(i ^ (i >> 9));
	}
	assert_non_null(da = digest_new());
	assert_non_null(db = digest_new());
	while (oa < total || ob < total) {
		k = sizes[turn % NELEM(sizes)];
		if (oa < total) {
			k = k < total - oa ? k : total - oa;
			assert_int_equal(digest_update(da, a + oa, k), 0);
			oa += k;
		}
		k = sizes[(turn + 4) % NELEM(sizes)];
		if (ob < total) {
			k = k < total - ob ? k : total - ob;
			assert_int_equal(digest_update(db, b + ob, k), 0);
			ob += k;
		}
		turn++;
	}
	/* B is finished while A's last bytes may still be in the ring. */
	final_hex(db, got);
	oneshot(b, total, want);
	assert_string_equal(got, want);
	final_hex(da, got);
	oneshot(a, total, want);
	assert_string_equal(got, want);
	digest_free(da);
	digest_free(db);
	free(a);
	free(b);
}

/* One update larger than the ring: the caller waits for room. */
static void
test_thread_larger_than_ring(void **state)
{
	const size_t	 n = 9u << 20;
	uint8_t		*p;
	struct digest	*d;
	char		 got[DIGEST_HEX], want[DIGEST_HEX];
	size_t		 i;

	(void)state;
	assert_int_equal(digest_worker_start(), 0);
	assert_non_null(p = malloc(n));
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i % 251);
	assert_non_null(d = digest_new());
	assert_int_equal(digest_update(d, p, n), 0);
	final_hex(d, got);
	oneshot(p, n, want);
	assert_string_equal(got, want);
	digest_free(d);
	free(p);
}

/*
 * A digest freed unfinished, with bytes in the ring and in the slot
 * being filled: nothing of it may be read after the free (ASan and
 * valgrind see it if so), and the next digest is not disturbed.
 */
static void
test_thread_free_pending(void **state)
{
	const size_t	 n = (2u << 20) + 12345;
	uint8_t		*p;
	struct digest	*d, *e;
	char		 got[DIGEST_HEX], want[DIGEST_HEX];

	(void)state;
	assert_int_equal(digest_worker_start(), 0);
	assert_non_null(p = calloc(1, n));
	assert_non_null(d = digest_new());
	assert_non_null(e = digest_new());
	assert_int_equal(digest_update(e, "x", 1), 0);
	assert_int_equal(digest_update(d, p, n), 0);
	digest_free(d);
	assert_int_equal(digest_update(e, "yz", 2), 0);
	final_hex(e, got);
	oneshot((const uint8_t *)"xyz", 3, want);
	assert_string_equal(got, want);
	digest_free(e);
	digest_free(NULL);
	free(p);
}

int
main(void)
{
	/* In this order: the inline case before the thread exists. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_thread_known),
		cmocka_unit_test(test_thread_interleaved),
		cmocka_unit_test(test_thread_larger_than_ring),
		cmocka_unit_test(test_thread_free_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
