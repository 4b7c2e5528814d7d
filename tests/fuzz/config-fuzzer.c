/*
 * config-fuzzer.c: libFuzzer harness for the portier.conf parser.
 *
 * config_parse() reads files, so each input is written to one file in a
 * private temporary directory, made once and rewritten every time, and
 * parsed from there; a configuration that parses is checked and freed, so
 * that leaks show.  The directory keeps relative includes ("*.conf") from
 * reading whatever else lies in /tmp.
 * Name lookups are off (CONFIG_NORESOLVE): a fuzzer must not wait on DNS.
 * The parser's messages are thrown away: they would drown libFuzzer's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portier.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[256];
static char	 path[300];
static int	 fd = -1;

static void
cleanup(void)
{
	if (fd != -1) {
		close(fd);
		unlink(path);
		rmdir(dir);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE		*null;
	const char	*tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/config-fuzzer.XXXXXX",
	    tmp != NULL && *tmp == '/' && strlen(tmp) < 200 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/portier.conf", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		perror(path);
		exit(1);
	}
	atexit(cleanup);
	/*
	 * log.c writes to the stdio stream stderr; libFuzzer and the
	 * sanitizers keep writing to descriptor 2.
	 */
	if ((null = fopen("/dev/null", "w")) == NULL) {
		perror("/dev/null");
		exit(1);
	}
	stderr = null;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_config	*cf;

	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if ((cf = config_parse_flags(path, CONFIG_NORESOLVE)) != NULL) {
		config_check(cf);
		config_free(cf);
	}
	return 0;
}
