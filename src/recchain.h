/*
 * recchain.h: the integrity of a recording, shared by the recorder that
 * writes it and portier-replay that checks it.
 *
 * A recording (recordings/FORMAT.md) carries lines of its own among the
 * asciicast events: checkpoints that state the SHA-256 of every byte of
 * the file before them, signed with the recorder's Ed25519 key, and at
 * the end a seal of the same shape.  This header is the one place that
 * says how those lines look, what exactly is signed, and how a file is
 * checked against them.
 */
#ifndef PORTIER_RECCHAIN_H
#define PORTIER_RECCHAIN_H

#include <stddef.h>
#include <stdint.h>

#define RECCHAIN_FORMAT		2	/* "portier_format" in the header */
#define RECCHAIN_HEX_LEN	64	/* SHA-256 in lower-case hex */
#define RECCHAIN_SIG_B64_LEN	88	/* an Ed25519 signature in base64 */
#define RECCHAIN_FP_LEN		50	/* "SHA256:" + 43 base64 characters */
#define RECCHAIN_LINE_MAX	512	/* a checkpoint or seal line */
#define RECCHAIN_EVERY_SEC	5	/* a checkpoint at least this often */
#define RECCHAIN_EVERY_BYTES	(256 * 1024)	/* ... or after this much */

typedef struct evp_pkey_st EVP_PKEY;

/* The key: an Ed25519 pair in PEM, the public half next to the private. */
/* "recording.key" -> "recording.pub"; other names get ".pub" added. */
void	 recchain_pub_path(const char *key, char *buf, size_t len);
/* Create both files (0600 root, 0644); -1 with a reason in ERR. */
int	 recchain_key_create(const char *path, char *err, size_t errlen);
/* Load a private key (checks it is Ed25519, a regular file, 0600). */
EVP_PKEY *recchain_key_load(const char *path, char *err, size_t errlen);
/* Load a public key from PEM text or a file. */
EVP_PKEY *recchain_pub_load(const char *path, char *err, size_t errlen);
EVP_PKEY *recchain_pub_parse(const char *pem, size_t len);
/* "SHA256:" + unpadded base64 of SHA-256 over the 32 raw key bytes. */
int	 recchain_key_fp(EVP_PKEY *, char fp[RECCHAIN_FP_LEN + 1]);

/*
 * What is signed: "portier-recording v2 session=SID " followed by the
 * line's text before " sig=", e.g.
 *	portier-recording v2 session=SID checkpoint seq=3 bytes=B sha256=H
 * Returns the length, or -1 if it does not fit.
 */
int	 recchain_statement(char *buf, size_t len, const char *sid,
	    const char *kind, uint64_t seq, uint64_t bytes, const char *hex);
/* A checkpoint or seal line, newline included; -1 on a signing error. */
int	 recchain_line(char *buf, size_t len, EVP_PKEY *key, const char *sid,
	    int64_t us, const char *kind, uint64_t seq, uint64_t bytes,
	    const uint8_t digest[32]);

/* JSON string bodies: the escapes the recorder writes, and their undoing. */
/* Writes at most 6 * LEN bytes to OUT; returns the count. */
size_t	 recchain_json_escape(char *out, const uint8_t *p, size_t len);
/*
 * One event line "[T, "c", "data"]" (no newline): its time in
 * microseconds, code and data, unescaped into a malloc'ed buffer.
 * Returns 0, or -1 if the line is not such an event.
 */
struct recevent {
	int64_t		 ev_us;
	char		 ev_code;
	char		*ev_data;
	size_t		 ev_len;
};
int	 recchain_event_parse(const char *line, size_t len, struct recevent *);
/* The text of a string field "NAME": "VALUE" in a JSON header line. */
int	 recchain_header_str(const char *line, size_t len, const char *name,
	    char *buf, size_t buflen);
/* A "name=value" word in a checkpoint, seal or authorised line. */
int	 recchain_word(const char *data, const char *name, char *buf,
	    size_t buflen);

/* Checking a whole file held in memory. */
enum recverify_status {
	RECV_SEALED = 0,	/* every checkpoint and the seal hold */
	RECV_UNSEALED = 2,	/* no seal: holds up to the last checkpoint */
	RECV_BAD = 3,		/* altered, truncated or not a recording */
};
struct recverify {
	enum recverify_status	 rv_status;
	char			 rv_sid[32];
	char			 rv_fp[RECCHAIN_FP_LEN + 1];
	uint64_t		 rv_checkpoints;	/* that verified */
	uint64_t		 rv_verified;	/* bytes covered by the last */
	uint64_t		 rv_size;
	char			 rv_sha256[RECCHAIN_HEX_LEN + 1];
	uint64_t		 rv_bad_offset;	/* RECV_BAD: where */
	int			 rv_bad_line;
	char			 rv_why[256];
};
void	 recchain_verify(const uint8_t *buf, size_t len, EVP_PKEY *pub,
	    struct recverify *);

#endif /* PORTIER_RECCHAIN_H */
