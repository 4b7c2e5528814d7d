/*
 * recording-fuzzer.c: libFuzzer harness for what portier-replay reads.
 *
 * A recording holds vendor bytes (escaped) and may have been altered by
 * anyone who could write the file, so the auditor's tool parses it as
 * untrusted input.  Per input:
 *
 *  1. recchain_verify() on the whole input with a fixed key: whatever it
 *     says, it must not read outside it, and a verdict of "sealed" on an
 *     input the key never signed would be a forgery: abort().
 *  2. each line through recchain_event_parse(): the data it returns lies
 *     in a buffer of its own, no longer than the line.
 *  3. the input, escaped with recchain_json_escape() into an event line,
 *     must parse back to the same bytes.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "portier.h"
#include "recchain.h"

static EVP_PKEY	*key;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint8_t	 seed[32] = { 1, 2, 3 };
	struct recverify	 rv;
	struct recevent		 ev;
	const uint8_t		*p, *nl;
	char			*line;
	size_t			 n;

	if (key == NULL && (key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
	    NULL, seed, sizeof(seed))) == NULL)
		abort();
	recchain_verify(data, len, key, &rv);
	/* Only the recorder holds the key: random input is never sealed. */
	if (rv.rv_status == RECV_SEALED && rv.rv_checkpoints > 0 && len > 0 &&
	    memmem(data, len, "sig=", 4) == NULL)
		abort();
	for (p = data; p < data + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(data + len - p))) == NULL)
			nl = data + len;
		if (recchain_event_parse((const char *)p, (size_t)(nl - p),
		    &ev) == 0) {
			if (ev.ev_len > (size_t)(nl - p))
				abort();
			free(ev.ev_data);
		}
	}
	line = malloc(len * 6 + 32);
	memcpy(line, "[1.0, \"o\", \"", 12);
	n = 12 + recchain_json_escape(line + 12, data, len);
	memcpy(line + n, "\"]", 2);
	if (recchain_event_parse(line, n + 2, &ev) != 0 || ev.ev_len != len ||
	    memcmp(ev.ev_data, data, len) != 0)
		abort();
	free(ev.ev_data);
	free(line);
	return 0;
}
