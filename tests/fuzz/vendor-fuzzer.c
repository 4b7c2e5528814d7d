/*
 * vendor-fuzzer.c: libFuzzer harness for what a vendor types to the
 * bastion itself: the command line of "ssh jdoe@bastion request ..."
 * (cmdline_split), durations ("2h", "1h30m") and start times
 * ("2026-12-01 20:00") as the session and the monitor read them.
 *
 * The input is cut at its first NUL, as the SSH layer hands a C string.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portier.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*line, buf[512], *argv[16];
	time_t	 from, until;
	int64_t	 d;
	int	 argc, i;

	if (size > 4096)
		return 0;
	line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	argc = cmdline_split(line, argv, 16, buf, sizeof(buf));
	if (argc > 16)
		abort();
	for (i = 0; i < argc; i++) {
		if (strlen(argv[i]) >= sizeof(buf))
			abort();
		d = policy_duration(argv[i], 4 * 3600);
		if (d > 4 * 3600 || d < -2)
			abort();
		if (d > 0 && policy_grant_window(1795525200, 0, d, 3600,
		    &from, &until) == 0 && until - from > 3600)
			abort();
	}
	if (size < 64)
		(void)policy_parse_time(line, "Europe/Paris", 1795525200);
	free(line);
	return 0;
}
