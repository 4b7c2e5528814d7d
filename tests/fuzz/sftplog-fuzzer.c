/*
 * sftplog-fuzzer.c: libFuzzer harness for the sftp transfer log parser,
 * which reads what vendors and targets send.
 *
 * The input is a run of records, each one byte then its data: the
 * byte's high bit says which side sent it (set: the server), its low
 * seven bits how many bytes follow (1 to 128).  So the fuzzer chooses
 * both how the two streams interleave, which matters to the matching of
 * replies to requests, and how they are cut into calls.  Every line must
 * be one line shorter than 4 KiB (two capped paths and a message); the
 * parser is freed at the end so that leaks show.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portier.h"
#include "sftplog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
emit(void *arg, const char *line)
{
	size_t	*count = arg;

	if (strchr(line, '\n') != NULL || strlen(line) >= 4096)
		abort();
	(*count)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftplog	*sl;
	size_t		 count = 0, n;
	uint8_t		 h;

	sl = sftplog_new(emit, &count);
	while (size > 0) {
		h = *data++;
		size--;
		n = 1 + (h & 0x7f);
		if (n > size)
			n = size;
		if (h & 0x80)
			sftplog_server(sl, data, n);
		else
			sftplog_client(sl, data, n);
		data += n;
		size -= n;
	}
	sftplog_free(sl);
	return 0;
}
