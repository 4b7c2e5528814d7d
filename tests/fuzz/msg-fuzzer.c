/*
 * msg-fuzzer.c: libFuzzer harness for the message parser.
 *
 * Two properties per input:
 *
 *  1. The input, as one datagram, is parsed with msg_parse(); if the
 *     header is accepted, the fields are walked generically (whatever tag
 *     comes next decides the m_get_*() called) until an error or the end,
 *     then m_end().  Nothing may read outside the datagram, and what a
 *     read returns must lie inside it.  A relay with m_forward() must
 *     keep the payload byte for byte.
 *
 *  2. The input, read as a little script of field kinds and values,
 *     builds a message with m_create() and m_add_*(); its bytes, with the
 *     length written at offset 0 as msg_write() does, must parse back to
 *     the same type, id and values, and m_overflow must be set exactly
 *     when the fields would not fit MSG_MAX_SIZE (the script stops at the
 *     first field that does not fit).
 *
 * Any broken property calls abort().
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

/*
 * Under ASan, the bytes of mi_buf past the datagram are poisoned, so a
 * read beyond the message is reported though it stays inside mi_buf.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FUZZ_ASAN)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct msg_in	mi;
static char		small[64];
static char		big[4096];
static char		strbuf[MSG_MAX_SIZE];

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

/*
 * The datagram goes into mi_buf; what follows it is filled with a byte
 * that is no NUL (so an over-long string read is not saved by one) and
 * poisoned.
 */
static void
load(const void *p, size_t n)
{
	UNPOISON(mi.mi_buf, sizeof(mi.mi_buf));
	memcpy(mi.mi_buf, p, n);
	memset(mi.mi_buf + n, 0xa5, sizeof(mi.mi_buf) - n);
	POISON(mi.mi_buf + n, sizeof(mi.mi_buf) - n);
}

static void
unload(void)
{
	UNPOISON(mi.mi_buf, sizeof(mi.mi_buf));
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ---- 1: parse and walk -------------------------------------------------- */

static void
walk(void)
{
	const uint8_t	*p, *before;
	size_t		 len = 0, i;
	uint32_t	 u;
	int64_t		 v;
	unsigned	 sum = 0;
	int		 n = 0, rc;

	while (mi.mi_p < mi.mi_end && !mi.mi_err) {
		before = mi.mi_p;
		switch (*mi.mi_p) {
		case M_U32:
			rc = m_get_u32(&mi, &u);
			CHECK(rc == -1 || mi.mi_p == before + 5);
			break;
		case M_I64:
			rc = m_get_i64(&mi, &v);
			CHECK(rc == -1 || mi.mi_p == before + 9);
			break;
		case M_STR:
			if (n++ % 2 == 0) {
				rc = m_get_str(&mi, small, sizeof(small));
				if (rc == 0)
					len = strlen(small);
			} else {
				rc = m_get_str(&mi, big, sizeof(big));
				if (rc == 0)
					len = strlen(big);
			}
			/* The whole string, and no NUL, was in the field. */
			CHECK(rc == -1 || mi.mi_p == before + 5 + len);
			CHECK(rc == -1 || be32(before + 1) == len);
			break;
		case M_DATA:
			rc = m_get_data(&mi, &p, &len);
			if (rc == 0) {
				CHECK(p == before + 5);
				CHECK(len <= (size_t)(mi.mi_end - p));
				CHECK(mi.mi_p == p + len);
				for (i = 0; i < len; i++)	/* ASan checks */
					sum += p[i];
			}
			break;
		default:
			/* An unknown tag: every reader must refuse it. */
			rc = m_get_u32(&mi, &u);
			CHECK(rc == -1);
			break;
		}
		if (rc == -1)
			CHECK(mi.mi_err == 1);
		else
			CHECK(mi.mi_p > before && mi.mi_p <= mi.mi_end);
	}
	if (mi.mi_err)
		CHECK(m_get_u32(&mi, &u) == -1);
	rc = m_end(&mi);
	CHECK(rc == (mi.mi_err ? -1 : 0));
	(void)sum;
}

static void
parse_input(const uint8_t *data, size_t size)
{
	struct msg	*m;
	const char	*why = NULL;
	size_t		 n = size > MSG_MAX_SIZE ? MSG_MAX_SIZE : size;
	uint32_t	 id;

	load(data, n);
	if (msg_parse(&mi, n, -1, &why) == -1) {
		CHECK(why != NULL);
		CHECK(mi.mi_err == 1 && mi.mi_fd == -1);
		CHECK(m_end(&mi) == -1);
		unload();
		return;
	}
	/* What the header said, and what msg_parse took from it. */
	CHECK(n >= MSG_HDR_SIZE && be32(mi.mi_buf) == n);
	CHECK(mi.mi_type > MSG_NONE && mi.mi_type < MSG_MAX);
	CHECK((mi.mi_buf[6] | mi.mi_buf[7]) == 0);	/* no fd came */
	CHECK(mi.mi_p == mi.mi_buf + MSG_HDR_SIZE);
	CHECK(mi.mi_end == mi.mi_buf + n);
	id = mi.mi_id;
	walk();

	/* Relayed, the payload is kept byte for byte. */
	CHECK(msg_parse(&mi, n, -1, &why) == 0);
	m = m_forward(&mi, ~id);
	CHECK(!m->m_overflow && m->m_len == n && m->m_fd == -1);
	CHECK(memcmp(m->m_buf + 4, mi.mi_buf + 4, 4) == 0);
	CHECK(be32(m->m_buf + 8) == ~id);
	CHECK(memcmp(m->m_buf + MSG_HDR_SIZE, mi.mi_buf + MSG_HDR_SIZE,
	    n - MSG_HDR_SIZE) == 0);
	CHECK(m_end(&mi) == 0);
	m_free(m);
	unload();
}

/* ---- 2: build, then read back ------------------------------------------- */

struct script {
	const uint8_t	*p;
	const uint8_t	*end;
};

static uint8_t
next8(struct script *sc)
{
	return sc->p < sc->end ? *sc->p++ : 0;
}

static uint64_t
nextn(struct script *sc, int bytes)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | next8(sc);
	return v;
}

#define MAXFIELDS	(MSG_MAX_SIZE / 5 + 1)

struct expect {
	int		 kind;
	uint64_t	 v;		/* M_U32, M_I64 */
	size_t		 off, len;	/* M_STR, M_DATA: in arena */
};

static struct expect	exp_fields[MAXFIELDS];
static uint8_t		arena[MSG_MAX_SIZE];
static uint8_t		scratch[MSG_MAX_SIZE + 1];

/*
 * Bytes for a string or data field of len bytes: the rest of the script,
 * cycled, or a fill byte; strings get no NUL.
 */
static void
fill(struct script *sc, uint8_t *dst, size_t len, int nonul)
{
	size_t	 i, avail = (size_t)(sc->end - sc->p);

	for (i = 0; i < len; i++) {
		dst[i] = avail ? sc->p[i % avail] : (uint8_t)('a' + i % 26);
		if (nonul && dst[i] == 0)
			dst[i] = 'x';
	}
}

static void
roundtrip(const uint8_t *data, size_t size)
{
	struct script	 sc = { data, data + size };
	struct msg	*m;
	const uint8_t	*p;
	const char	*why = NULL;
	enum msg_type	 type;
	uint32_t	 id, u;
	int64_t		 v;
	size_t		 nf = 0, used = 0, len, want, i, flen, before;
	int		 overflow = 0, kind;

	type = (enum msg_type)(MSG_NONE + 1 + next8(&sc) % (MSG_MAX - 1));
	id = (uint32_t)nextn(&sc, 4);
	m = m_create(type, id, -1);
	want = MSG_HDR_SIZE;

	while (sc.p < sc.end && nf < MAXFIELDS) {
		uint8_t	 op = next8(&sc);

		kind = 1 + op % 4;
		before = m->m_len;
		switch (kind) {
		case M_U32:
			exp_fields[nf].v = nextn(&sc, 4);
			flen = 5;
			m_add_u32(m, (uint32_t)exp_fields[nf].v);
			break;
		case M_I64:
			exp_fields[nf].v = nextn(&sc, 8);
			flen = 9;
			m_add_i64(m, (int64_t)exp_fields[nf].v);
			break;
		default:
			/* Small lengths mostly; the high op bits ask for more. */
			len = next8(&sc);
			if (op & 0x80)
				len = len << 8 | next8(&sc);
			if (op & 0x40)
				len = (len << 1) | 1;
			if (kind == M_STR && len > MSG_MAX_SIZE)
				len = MSG_MAX_SIZE;
			flen = 5 + len;
			/*
			 * Data longer than scratch is passed anyway: it must be
			 * refused before a byte is read (ASan would tell).
			 */
			fill(&sc, scratch, len < MSG_MAX_SIZE ? len :
			    MSG_MAX_SIZE, kind == M_STR);
			if (kind == M_STR) {
				scratch[len] = '\0';
				m_add_str(m, (const char *)scratch);
			} else
				m_add_data(m, scratch, len);
			if (want + flen <= MSG_MAX_SIZE) {
				CHECK(used + len <= sizeof(arena));
				memcpy(arena + used, scratch, len);
				exp_fields[nf].off = used;
				exp_fields[nf].len = len;
				used += len;
			}
			break;
		}
		exp_fields[nf].kind = kind;
		if (want + flen > MSG_MAX_SIZE) {
			/* Refused, and so is everything after it. */
			overflow = 1;
			CHECK(m->m_overflow);
			CHECK(m->m_len == before);
			m_add_u32(m, 0);
			m_add_data(m, scratch, 0);
			CHECK(m->m_overflow && m->m_len == before);
			break;
		}
		CHECK(!m->m_overflow);
		want += flen;
		CHECK(m->m_len == want);
		nf++;
	}
	CHECK(m->m_len <= MSG_MAX_SIZE);
	CHECK(!!m->m_overflow == overflow);
	if (overflow) {
		m_free(m);
		return;
	}

	/* The bytes msg_write() would send. */
	m->m_buf[0] = (uint8_t)(m->m_len >> 24);
	m->m_buf[1] = (uint8_t)(m->m_len >> 16);
	m->m_buf[2] = (uint8_t)(m->m_len >> 8);
	m->m_buf[3] = (uint8_t)m->m_len;
	load(m->m_buf, m->m_len);
	if (msg_parse(&mi, m->m_len, -1, &why) != 0) {
		fprintf(stderr, "built message refused: %s\n", why);
		abort();
	}
	CHECK(mi.mi_type == type);
	CHECK(mi.mi_id == id);
	CHECK(mi.mi_fd == -1);
	for (i = 0; i < nf; i++) {
		const struct expect	*e = &exp_fields[i];

		switch (e->kind) {
		case M_U32:
			CHECK(m_get_u32(&mi, &u) == 0);
			CHECK(u == (uint32_t)e->v);
			break;
		case M_I64:
			CHECK(m_get_i64(&mi, &v) == 0);
			CHECK((uint64_t)v == e->v);
			break;
		case M_STR:
			/* Alternate buffers; the 64-byte one must refuse more. */
			if (i % 2 == 0 && e->len < sizeof(small)) {
				CHECK(m_get_str(&mi, small, sizeof(small)) == 0);
				CHECK(strlen(small) == e->len);
				CHECK(memcmp(small, arena + e->off, e->len) == 0);
			} else if (i % 2 == 0) {
				CHECK(m_get_str(&mi, small, sizeof(small)) == -1);
				CHECK(m_end(&mi) == -1);
				m_free(m);
				unload();
				return;
			} else {
				CHECK(m_get_str(&mi, strbuf, sizeof(strbuf)) == 0);
				CHECK(strlen(strbuf) == e->len);
				CHECK(memcmp(strbuf, arena + e->off, e->len) == 0);
			}
			break;
		case M_DATA:
			CHECK(m_get_data(&mi, &p, &len) == 0);
			CHECK(len == e->len);
			CHECK(memcmp(p, arena + e->off, len) == 0);
			break;
		}
	}
	CHECK(m_end(&mi) == 0);
	m_free(m);
	unload();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mi.mi_fd = -1;
	parse_input(data, size);
	roundtrip(data, size);
	return 0;
}
