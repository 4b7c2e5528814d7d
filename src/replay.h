/*
 * replay.h: portier-replay, the auditor's tool for recordings.
 *
 * One file per subcommand (replay-verify.c, replay-play.c,
 * replay-search.c, replay-export.c); replay.c holds main() and what they
 * share: reading a recording, walking its events, reading a tar bundle.
 * It runs offline, needs only the public key, and never writes to a
 * recording.
 */
#ifndef PORTIER_REPLAY_H
#define PORTIER_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "recchain.h"

/* Exit codes, shared by every subcommand. */
#define REPLAY_OK	0
#define REPLAY_ERROR	1	/* usage, I/O; for search: nothing found */
#define REPLAY_UNSEALED	2
#define REPLAY_BAD	3

/* A whole file in memory. */
int	 replay_load(const char *path, uint8_t **buf, size_t *len);
/* Every event line after the header: fn returns non-zero to stop. */
int	 replay_events(const uint8_t *buf, size_t len,
	    int (*fn)(const struct recevent *, size_t off, void *), void *arg);
/* The header's first line, its length. */
size_t	 replay_header(const uint8_t *buf, size_t len);
/* "90", "1:30", "1:02:03", "12.5": seconds, or -1. */
double	 replay_time_parse(const char *);
/* The default public key: next to the daemon's private key. */
const char *replay_default_key(void);
void	 replay_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 replay_usage(void) __attribute__((noreturn));

/* A tar member found by replay_tar_next(). */
struct replay_tar {
	char		 t_name[260];
	const uint8_t	*t_data;
	size_t		 t_len;
};
int	 replay_is_tar(const uint8_t *buf, size_t len);
/* Walks members from *OFF; 1 and *T filled, 0 at the end, -1 if bad. */
int	 replay_tar_next(const uint8_t *buf, size_t len, size_t *off,
	    struct replay_tar *);

/* The last component of a path. */
const char *replay_base(const char *path);
/* A file named HHMMSS-SESSION.cast holds SID: 0, or -1 (said). */
int	 replay_name_check(const char *name, const char *sid);
/* The file against the store's audit trail: RC or a worse exit code. */
int	 replay_verify_store(const char *name, const char *db, const char *sid,
	    const uint8_t *buf, size_t len, int rc);

int	 replay_verify(int argc, char *argv[]);
int	 replay_play(int argc, char *argv[]);
int	 replay_search(int argc, char *argv[]);
int	 replay_export(int argc, char *argv[]);

#endif /* PORTIER_REPLAY_H */
