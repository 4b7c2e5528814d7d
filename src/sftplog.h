/*
 * sftplog.h: the transfer log of an sftp channel, from the bytes it
 * carries each way.
 *
 * An sftp session is not recorded byte for byte: what an auditor needs is
 * which files went where, how big they were and what they held.  The
 * session process feeds the parser with what it relays, in whatever
 * pieces it has, and gets back one line per file or operation:
 *
 *	sftp upload PATH: N bytes, sha256 HEX[ (NOTE)]...
 *	sftp download PATH: N bytes, sha256 HEX[ (NOTE)]...
 *	sftp open PATH: no data transferred[ (NOTE)]
 *	sftp remove PATH		sftp rename OLD -> NEW
 *	sftp mkdir PATH			sftp rmdir PATH
 *	sftp symlink LINK -> TARGET	sftp hardlink LINK -> TARGET
 *	sftp setstat PATH[ (ATTRIBUTES)]
 *	sftp copy SRC -> DST		sftp list PATH
 *	sftp extended NAME
 *	sftp upload PATH refused: REASON	(and so for any operation)
 *	sftp remove PATH (no reply seen)	(and so for any operation)
 *
 * Paths are the client's bytes: controls, backslashes and bytes that are
 * not UTF-8 are written \xNN (a backslash \\), and a path longer than
 * SFTPLOG_PATH_MAX in the line is cut and ends with "...".  The fixed
 * words are at the end of a line: read it from the right.
 * Pure: no I/O, no logging; memory is bounded whatever the peers send.
 */
#ifndef PORTIER_SFTPLOG_H
#define PORTIER_SFTPLOG_H

#include <stddef.h>

#define SFTPLOG_PATH_MAX	1024	/* bytes of a path in a line */
#define SFTPLOG_PACKET_MAX	(256 * 1024 + 1024)
#define SFTPLOG_FILES_MAX	64	/* open files followed at once */
#define SFTPLOG_REQUESTS_MAX	1024	/* requests awaiting their reply */

struct sftplog;
/* EMIT is called with one line of the transfer log (no newline). */
struct sftplog	*sftplog_new(void (*emit)(void *arg, const char *line), void *arg);
/* Bytes from the client (vendor) and from the server (target), in order. */
void		 sftplog_client(struct sftplog *, const void *, size_t);
void		 sftplog_server(struct sftplog *, const void *, size_t);
/* The end of the channel: files still open are reported, then freed. */
void		 sftplog_free(struct sftplog *);

#endif /* PORTIER_SFTPLOG_H */
