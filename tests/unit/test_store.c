/*
 * test_store.c: the store, its audit trail and the vault.
 *
 * Each test gets a fresh directory and, mostly, a freshly created store
 * in it.  Tampering is done the way an intruder with the file would do
 * it: through a second SQLite connection, triggers dropped first.  The
 * migration test loads tests/data/store-v1.sql ($top_srcdir, default ".").
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "portier.h"
#include "store.h"

struct fx {
	char		 dir[64];
	char		 path[128];	/* dir/portier.db */
	struct store	*st;
};

/* The key the fixture's sealed secrets were made with: 0x01 .. 0x20. */
static void
fixture_key(uint8_t key[VAULT_KEY_LEN])
{
	int	 i;

	for (i = 0; i < VAULT_KEY_LEN; i++)
		key[i] = i + 1;
}

static void
assert_has(const char *s, const char *sub)
{
	if (s == NULL || strstr(s, sub) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", s ? s : "(null)", sub);
}

static int
setup_dir(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	strlcpy(fx->dir, "/tmp/test_store.XXXXXX", sizeof(fx->dir));
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/portier.db", fx->dir);
	*state = fx;
	return 0;
}

static int
setup_store(void **state)
{
	struct fx	*fx;
	char		 err[256];

	if (setup_dir(state) == -1)
		return -1;
	fx = *state;
	if (store_open(fx->path, &fx->st, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	struct dirent	*de;
	DIR		*d;
	char		 p[512];

	store_close(fx->st);
	if ((d = opendir(fx->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", fx->dir, de->d_name);
			if (unlink(p) == -1)
				rmdir(p);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Run SQL on PATH through a connection of its own, as an intruder would. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3	*db;
	char	*e = NULL;
	mode_t	 omask = umask(077);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	umask(omask);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK)
		fail_msg("%s: %s", sql, e);
	sqlite3_close(db);
}

/* A tests/data/store-v1.sql store at PATH. */
static void
load_v1(const char *path)
{
	const char	*top = getenv("top_srcdir");
	char		 fixture[1024], *sql;
	FILE		*f;
	long		 n;

	snprintf(fixture, sizeof(fixture), "%s/tests/data/store-v1.sql",
	    top != NULL ? top : ".");
	if ((f = fopen(fixture, "r")) == NULL)
		fail_msg("%s: %s (set top_srcdir)", fixture, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	sql = calloc(1, n + 1);
	assert_non_null(sql);
	assert_int_equal(fread(sql, 1, n, f), (size_t)n);
	fclose(f);
	raw_exec(path, sql);
	free(sql);
}

static int64_t
sql_int(struct store *st, const char *sql)
{
	sqlite3_stmt	*stmt;
	int64_t		 v;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &stmt,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static void
add_user(struct store *st, const char *user)
{
	int	 rc = store_vendor_add(st, "acme-imaging");

	assert_true(rc == STORE_OK || rc == STORE_EXISTS);
	assert_int_equal(store_user_add(st, user, "acme-imaging", NULL),
	    STORE_OK);
}

static void
append(struct store *st, int64_t t, const char *actor, const char *event,
    const char *target, const char *reason, struct audit_rec *out)
{
	struct audit_rec r = { .time = t, .actor = actor, .event = event,
	    .target = target, .reason = reason };

	if (audit_append(st, &r) != STORE_OK)
		fail_msg("audit_append: %s", store_error(st));
	if (out != NULL)
		*out = r;
}

/* ---- opening ---------------------------------------------------------------- */

static void
test_open_pragmas(void **state)
{
	static const struct {
		const char	*sql;
		int64_t		 want;
	} pragmas[] = {
		{ "SELECT journal_mode = 'wal' FROM pragma_journal_mode", 1 },
		{ "PRAGMA foreign_keys", 1 },
		{ "PRAGMA busy_timeout", 5000 },
		{ "PRAGMA synchronous", 2 },
		{ "PRAGMA user_version", STORE_VERSION },
		{ "PRAGMA application_id", STORE_APPLICATION_ID },
	};
	struct fx	*fx = *state;
	struct stat	 sb;
	size_t		 i;

	for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		if (sql_int(fx->st, pragmas[i].sql) != pragmas[i].want)
			fail_msg("%s: want %lld", pragmas[i].sql,
			    (long long)pragmas[i].want);
	}
	assert_int_equal(store_version(fx->st), STORE_VERSION);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
}

static void
test_reopen_keeps_data(void **state)
{
	struct fx		*fx = *state;
	struct store_user	 u;
	char			 err[256];

	assert_int_equal(store_vendor_add(fx->st, "acme-imaging"), STORE_OK);
	assert_int_equal(store_vendor_add(fx->st, "acme-imaging"),
	    STORE_EXISTS);
	assert_int_equal(store_user_add(fx->st, "jdoe", "acme-imaging",
	    "Jane Doe"), STORE_OK);
	assert_int_equal(store_user_add(fx->st, "jdoe", "acme-imaging", NULL),
	    STORE_EXISTS);
	assert_int_equal(store_user_add(fx->st, "kim", "nobody", NULL),
	    STORE_NOENT);
	assert_has(store_error(fx->st), "no such vendor: nobody");
	assert_int_equal(store_user_add(fx->st, "", "acme-imaging", NULL),
	    STORE_ERR);
	store_close(fx->st);
	fx->st = NULL;

	assert_int_equal(store_open(fx->path, &fx->st, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(store_user_get(fx->st, "jdoe", &u), STORE_OK);
	assert_string_equal(u.su_vendor, "acme-imaging");
	assert_string_equal(u.su_fullname, "Jane Doe");
	assert_int_equal(u.su_disabled, 0);
	assert_true(u.su_created > 0);
	assert_int_equal(store_user_get(fx->st, "kim", &u), STORE_NOENT);
}

static void
prep_newer(const char *path)
{
	char	 sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STORE_VERSION + 1);
	raw_exec(path, sql);
}

static void
prep_foreign(const char *path)
{
	raw_exec(path, "CREATE TABLE t (x)");
}

static void
prep_appid(const char *path)
{
	raw_exec(path, "PRAGMA application_id = 42");
}

static void
prep_mode(const char *path)
{
	assert_int_equal(chmod(path, 0644), 0);
}

static void
test_open_refused(void **state)
{
	static const struct {
		const char	*name;
		int		 fresh;	/* start from a good store */
		void		 (*prep)(const char *);
		const char	*err;
	} cases[] = {
		{ "newer", 1, prep_newer, "is newer than this portier knows" },
		{ "foreign", 0, prep_foreign, "not a Portier store" },
		{ "appid", 1, prep_appid, "not a Portier store" },
		{ "mode", 1, prep_mode, "fix with: chmod 600" },
	};
	struct fx	*fx = *state;
	struct store	*st;
	char		 path[256], err[256];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.db", fx->dir,
		    cases[i].name);
		if (cases[i].fresh) {
			assert_int_equal(store_open(path, &st, err,
			    sizeof(err)), STORE_OK);
			store_close(st);
		}
		cases[i].prep(path);
		if (store_open(path, &st, err, sizeof(err)) != STORE_ERR)
			fail_msg("%s: opened", cases[i].name);
		assert_null(st);
		assert_has(err, cases[i].err);
	}
	/* A symbolic link is not followed. */
	snprintf(path, sizeof(path), "%s/link.db", fx->dir);
	assert_int_equal(symlink(fx->path, path), 0);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), STORE_ERR);
}

static void
test_migrate_v1(void **state)
{
	struct fx		*fx = *state;
	struct store_user	 u;
	struct store_pin	 pin;
	struct store_totp	 t;
	struct audit_rec	 r = { .actor = "jdoe", .event = "session.end",
	    .target = "pacs-01", .source = "203.0.113.7:50122",
	    .session = "0123456789abcdef", .reason = "window closed" };
	enum store_cred_kind	 kind;
	uint8_t			 key[VAULT_KEY_LEN], *sealed, *pt;
	size_t			 sealedlen, ptlen;
	int64_t			 n, bad;
	char			 err[256], why[256];

	load_v1(fx->path);
	assert_int_equal(store_open(fx->path, &fx->st, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(store_version(fx->st), STORE_VERSION);

	/* The rows are all there. */
	assert_int_equal(store_user_get(fx->st, "jdoe", &u), STORE_OK);
	assert_string_equal(u.su_fullname, "Jane Doe");
	assert_int_equal(u.su_failures, 1);
	assert_int_equal(store_user_get(fx->st, "mroe", &u), STORE_OK);
	assert_int_equal(u.su_disabled, 1);
	assert_int_equal(store_target_pin_get(fx->st, "pacs-01", &pin),
	    STORE_OK);
	assert_string_equal(pin.sp_sha256,
	    "SHA256:3GVCqJLu8XZTFrqxc6sZFr/IPYJ9lzYaRJeQvbmP5nM");
	assert_int_equal(store_target_pin_get(fx->st, "ris-02", &pin),
	    STORE_NOENT);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM requests "
	    "WHERE state = 'approved'"), 1);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM grants"), 1);

	/* Sealed secrets still open. */
	fixture_key(key);
	assert_int_equal(store_cred_get(fx->st, "pacs-01", "maint", &kind,
	    &sealed, &sealedlen), STORE_OK);
	assert_int_equal(kind, STORE_CRED_PASSWORD);
	assert_int_equal(vault_open(key, "target:pacs-01:maint", sealed,
	    sealedlen, &pt, &ptlen), 0);
	assert_string_equal((char *)pt, "s3cret-maint");
	freezero(pt, ptlen);
	free(sealed);
	assert_int_equal(store_totp_get(fx->st, "jdoe", &t), STORE_OK);
	assert_int_equal(t.tt_last_step, 57857520);
	assert_int_equal(vault_open(key, "totp:jdoe", t.tt_sealed,
	    t.tt_sealedlen, &pt, &ptlen), 0);
	assert_string_equal((char *)pt, "JBSWY3DPEHPK3PXP");
	freezero(pt, ptlen);
	free(t.tt_sealed);
	assert_int_equal(store_totp_use_step(fx->st, "jdoe", 57857520),
	    STORE_REFUSED);

	/* What version 2 added works on the old rows. */
	assert_int_equal(sql_int(fx->st, "SELECT bytes_in + bytes_out FROM "
	    "sessions WHERE sid = '0123456789abcdef'"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'index' AND name = 'audit_time'"), 1);
	assert_int_equal(store_session_count_live(fx->st), 0);

	/* The old chain verifies, and extends with the new columns. */
	assert_int_equal(audit_verify(fx->st, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 6);
	assert_int_equal(audit_append(fx->st, &r), STORE_OK);
	assert_int_equal(r.id, 7);
	assert_int_equal(audit_verify(fx->st, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 7);

	/* A second open finds nothing to do. */
	store_close(fx->st);
	assert_int_equal(store_open(fx->path, &fx->st, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(store_version(fx->st), STORE_VERSION);
}

/* ---- audit -------------------------------------------------------------------- */

static int
count_cb(const struct audit_rec *r, void *arg)
{
	int	*n = arg;

	assert_non_null(r->actor);
	assert_int_equal(strlen(r->hash), AUDIT_HASH_LEN);
	(*n)++;
	return 0;
}

static int
stop_cb(const struct audit_rec *r, void *arg)
{
	return r->id == 2 ? 42 : 0;
}

static void
test_audit_chain(void **state)
{
	struct fx		*fx = *state;
	struct audit_rec	 r[5], last, bad_rec = { .event = "x" };
	char			 zero[AUDIT_HASH_LEN + 1], why[256];
	int64_t			 n, bad;
	int			 i, cnt;

	memset(zero, '0', AUDIT_HASH_LEN);
	zero[AUDIT_HASH_LEN] = '\0';
	assert_int_equal(audit_last(fx->st, &last), STORE_OK);
	assert_int_equal(last.id, 0);
	assert_string_equal(last.hash, zero);
	assert_int_equal(audit_verify(fx->st, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 0);

	append(fx->st, 1000, "portierd", "start", NULL, NULL, &r[0]);
	append(fx->st, 2000, "admin", "user.add", "jdoe", "", &r[1]);
	append(fx->st, 3000, "jdoe", "login", NULL, "password ok", &r[2]);
	append(fx->st, 4000, "jdoe", "session.start", "pacs-01", NULL, &r[3]);
	append(fx->st, 0, "jdoe", "session.end", "pacs-01", "exit", &r[4]);
	assert_string_equal(r[0].prev, zero);
	for (i = 0; i < 5; i++) {
		assert_int_equal(r[i].id, i + 1);
		if (i > 0)
			assert_string_equal(r[i].prev, r[i - 1].hash);
	}
	assert_true(r[4].time > 4000);		/* filled with now */

	assert_int_equal(audit_last(fx->st, &last), STORE_OK);
	assert_int_equal(last.id, 5);
	assert_string_equal(last.hash, r[4].hash);
	assert_null(last.actor);

	cnt = 0;
	assert_int_equal(audit_list(fx->st, 3000, count_cb, &cnt), 0);
	assert_int_equal(cnt, 3);
	assert_int_equal(audit_list(fx->st, 0, stop_cb, NULL), 42);

	assert_int_equal(audit_verify(fx->st, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 5);

	/* actor and event are required. */
	assert_int_equal(audit_append(fx->st, &bad_rec), STORE_ERR);
	assert_has(store_error(fx->st), "required");
}

static void
test_audit_append_only(void **state)
{
	static const struct {
		const char	*sql;
		const char	*err;
	} refused[] = {
		{ "UPDATE audit SET reason = 'x' WHERE id = 2", "append-only" },
		{ "DELETE FROM audit WHERE id = 3", "append-only" },
		{ "DELETE FROM audit", "append-only" },
		{ "INSERT INTO audit (id, time, actor, event, prev_hash, hash) "
		  "VALUES (9, 1, 'x', 'y', hex(randomblob(32)), "
		  "hex(randomblob(32)))", "appended in order" },
		{ "INSERT INTO audit (id, time, actor, event, prev_hash, hash) "
		  "VALUES (4, 1, 'x', 'y', hex(randomblob(32)), "
		  "hex(randomblob(32)))", "appended in order" },
	};
	struct fx	*fx = *state;
	sqlite3		*db = store_db(fx->st);
	char		 why[256];
	int64_t		 n, bad;
	size_t		 i;
	int		 t;

	for (t = 1; t <= 3; t++)
		append(fx->st, t, "admin", "test", NULL, NULL, NULL);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (sqlite3_exec(db, refused[i].sql, NULL, NULL, NULL) ==
		    SQLITE_OK)
			fail_msg("%s: allowed", refused[i].sql);
		assert_has(sqlite3_errmsg(db), refused[i].err);
	}
	assert_int_equal(audit_verify(fx->st, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
}

static void
test_audit_tamper(void **state)
{
	static const struct {
		const char	*name;
		const char	*sql;
		int64_t		 bad_id;
		const char	*why;
	} cases[] = {
		{ "change a field",
		  "UPDATE audit SET reason = 'routine' WHERE id = 3",
		  3, "row 3: hash mismatch" },
		{ "change a time", "UPDATE audit SET time = 1 WHERE id = 4",
		  4, "row 4: hash mismatch" },
		{ "append a hidden NUL",
		  "UPDATE audit SET actor = actor || char(0) WHERE id = 2",
		  2, "row 2: hash mismatch" },
		{ "set a NULL field",
		  "UPDATE audit SET target = 'ris-02' WHERE id = 1",
		  1, "row 1: hash mismatch" },
		{ "delete a row", "DELETE FROM audit WHERE id = 3",
		  4, "rows 3 to 3 are missing" },
		{ "delete the first row", "DELETE FROM audit WHERE id = 1",
		  2, "rows 1 to 1 are missing" },
		{ "delete and renumber",
		  "DELETE FROM audit WHERE id = 3;"
		  "UPDATE audit SET id = id - 1 WHERE id > 3",
		  3, "row 3: prev_hash does not match the hash of row 2" },
		{ "swap two rows",
		  "UPDATE audit SET id = id + 100 WHERE id IN (2, 3);"
		  "UPDATE audit SET id = 3 WHERE id = 102;"
		  "UPDATE audit SET id = 2 WHERE id = 103",
		  2, "row 2: prev_hash does not match" },
		{ "cut the tail", "DELETE FROM audit WHERE id >= 4",
		  4, "rows 4 to 5 were removed from the end" },
	};
	struct fx	*fx = *state;
	struct store	*st;
	char		 path[256], err[256], why[256];
	int64_t		 n, bad;
	size_t		 i;
	int		 t;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/tamper%zu.db", fx->dir, i);
		assert_int_equal(store_open(path, &st, err, sizeof(err)),
		    STORE_OK);
		for (t = 1; t <= 5; t++)
			append(st, 1000 * t, "jdoe", "event", "pacs-01",
			    "why not", NULL);
		raw_exec(path, "DROP TRIGGER audit_no_update;"
		    "DROP TRIGGER audit_no_delete;");
		raw_exec(path, cases[i].sql);
		if (audit_verify(st, &n, &bad, why, sizeof(why)) != 1)
			fail_msg("%s: not detected", cases[i].name);
		if (bad != cases[i].bad_id)
			fail_msg("%s: bad id %lld, want %lld (%s)",
			    cases[i].name, (long long)bad,
			    (long long)cases[i].bad_id, why);
		assert_has(why, cases[i].why);
		store_close(st);
	}
}

/* Two processes appending at once leave one unbroken chain. */
static void
test_audit_concurrent(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	char		 err[256], why[256];
	pid_t		 pid[2];
	int64_t		 n, bad;
	int		 i, j, status, ok;

	store_close(fx->st);
	fx->st = NULL;
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0) {
			ok = store_open(fx->path, &st, err, sizeof(err)) == 0;
			for (j = 0; ok && j < 50; j++) {
				struct audit_rec r = { .actor = i ? "b" : "a",
				    .event = "concurrent" };
				ok = audit_append(st, &r) == STORE_OK;
			}
			if (ok)
				store_close(st);
			_exit(ok ? 0 : 1);
		}
		assert_true(pid[i] > 0);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(store_open(fx->path, &fx->st, err, sizeof(err)), 0);
	assert_int_equal(audit_verify(fx->st, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 100);
}

/* A decision and its audit row commit together, or neither does. */
static void
test_tx_joins_audit(void **state)
{
	struct fx		*fx = *state;
	struct audit_rec	 last;

	assert_int_equal(store_tx_begin(fx->st), STORE_OK);
	assert_int_equal(store_vendor_add(fx->st, "acme-imaging"), STORE_OK);
	append(fx->st, 0, "admin", "vendor.add", "acme-imaging", NULL, NULL);
	store_tx_rollback(fx->st);
	assert_int_equal(audit_last(fx->st, &last), STORE_OK);
	assert_int_equal(last.id, 0);
	assert_int_equal(store_vendor_add(fx->st, "acme-imaging"), STORE_OK);
}

/* ---- users, TOTP, targets, sessions --------------------------------------- */

static void
test_user_lockout(void **state)
{
	struct fx		*fx = *state;
	struct store_user	 u;
	int			 i, v;

	add_user(fx->st, "jdoe");
	for (i = 1; i <= 3; i++) {
		assert_int_equal(store_user_fail(fx->st, "jdoe", &v), STORE_OK);
		assert_int_equal(v, i);
	}
	assert_int_equal(store_user_lockout(fx->st, "jdoe", 5000, 20250314,
	    &v), STORE_OK);
	assert_int_equal(v, 1);
	assert_int_equal(store_user_get(fx->st, "jdoe", &u), STORE_OK);
	assert_int_equal(u.su_failures, 0);
	assert_int_equal(u.su_locked_until, 5000);
	assert_int_equal(u.su_lockout_day, 20250314);

	assert_int_equal(store_user_lockout(fx->st, "jdoe", 6000, 20250314,
	    &v), STORE_OK);
	assert_int_equal(v, 2);				/* same day */
	assert_int_equal(store_user_lockout(fx->st, "jdoe", 7000, 20250315,
	    &v), STORE_OK);
	assert_int_equal(v, 1);				/* a new day */

	assert_int_equal(store_user_fail(fx->st, "jdoe", &v), STORE_OK);
	assert_int_equal(store_user_reset_failures(fx->st, "jdoe"), STORE_OK);
	assert_int_equal(store_user_get(fx->st, "jdoe", &u), STORE_OK);
	assert_int_equal(u.su_failures, 0);
	assert_int_equal(u.su_locked_until, 7000);
	assert_int_equal(store_user_unlock(fx->st, "jdoe"), STORE_OK);
	assert_int_equal(store_user_disable(fx->st, "jdoe", 1), STORE_OK);
	assert_int_equal(store_user_get(fx->st, "jdoe", &u), STORE_OK);
	assert_int_equal(u.su_locked_until, 0);
	assert_int_equal(u.su_disabled, 1);

	assert_int_equal(store_user_fail(fx->st, "kim", &v), STORE_NOENT);
	assert_has(store_error(fx->st), "no such user: kim");
	assert_int_equal(store_user_lockout(fx->st, "kim", 1, 1, &v),
	    STORE_NOENT);
	assert_int_equal(store_user_reset_failures(fx->st, "kim"),
	    STORE_NOENT);
}

static void
test_user_keys(void **state)
{
	struct fx	*fx = *state;
	char		 owner[STORE_NAME_MAX + 1];

	add_user(fx->st, "jdoe");
	add_user(fx->st, "kim");
	assert_int_equal(store_user_key_add(fx->st, "jdoe", "ssh-ed25519",
	    "AAAAC3Nza1", "jdoe@laptop"), STORE_OK);
	assert_int_equal(store_user_key_add(fx->st, "kim", "ssh-ed25519",
	    "AAAAC3Nza1", NULL), STORE_EXISTS);	/* one owner per key */
	assert_int_equal(store_user_key_add(fx->st, "nobody", "ssh-ed25519",
	    "AAAAC3Nza2", NULL), STORE_NOENT);
	assert_int_equal(store_user_key_find(fx->st, "ssh-ed25519",
	    "AAAAC3Nza1", owner), STORE_OK);
	assert_string_equal(owner, "jdoe");
	assert_int_equal(store_user_key_del(fx->st, "kim", "ssh-ed25519",
	    "AAAAC3Nza1"), STORE_NOENT);
	assert_int_equal(store_user_key_del(fx->st, "jdoe", "ssh-ed25519",
	    "AAAAC3Nza1"), STORE_OK);
	assert_int_equal(store_user_key_find(fx->st, "ssh-ed25519",
	    "AAAAC3Nza1", owner), STORE_NOENT);
}

static void
test_totp_replay(void **state)
{
	static const struct {
		int64_t	 step;
		int	 want;
	} steps[] = {
		{ 100, STORE_OK },
		{ 100, STORE_REFUSED },		/* the same code again */
		{ 99, STORE_REFUSED },		/* an older one */
		{ 101, STORE_OK },
		{ 50, STORE_REFUSED },
		{ 200, STORE_OK },
		{ 200, STORE_REFUSED },
	};
	struct fx		*fx = *state;
	struct store_totp	 t;
	uint8_t			 key[VAULT_KEY_LEN], *sealed;
	size_t			 sealedlen, i;

	fixture_key(key);
	add_user(fx->st, "jdoe");
	assert_int_equal(vault_seal(key, "totp:jdoe", (const uint8_t *)"seed",
	    4, &sealed, &sealedlen), 0);
	assert_int_equal(store_totp_set(fx->st, "jdoe", sealed, sealedlen),
	    STORE_OK);
	assert_int_equal(store_totp_set(fx->st, "kim", sealed, sealedlen),
	    STORE_NOENT);
	assert_int_equal(store_totp_set(fx->st, "jdoe", sealed, 10),
	    STORE_ERR);				/* too short to be sealed */
	assert_int_equal(store_totp_get(fx->st, "jdoe", &t), STORE_OK);
	assert_int_equal(t.tt_confirmed, 0);
	assert_int_equal(t.tt_last_step, 0);
	assert_int_equal(t.tt_sealedlen, sealedlen);
	assert_memory_equal(t.tt_sealed, sealed, sealedlen);
	free(t.tt_sealed);

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (store_totp_use_step(fx->st, "jdoe", steps[i].step) !=
		    steps[i].want)
			fail_msg("step %lld: want %d", (long long)steps[i].step,
			    steps[i].want);
	assert_int_equal(store_totp_use_step(fx->st, "kim", 300), STORE_NOENT);
	assert_int_equal(store_totp_confirm(fx->st, "jdoe"), STORE_OK);
	assert_int_equal(store_totp_get(fx->st, "jdoe", &t), STORE_OK);
	assert_int_equal(t.tt_confirmed, 1);
	assert_int_equal(t.tt_last_step, 200);
	free(t.tt_sealed);

	/* A new seed is a new enrolment. */
	assert_int_equal(store_totp_set(fx->st, "jdoe", sealed, sealedlen),
	    STORE_OK);
	assert_int_equal(store_totp_get(fx->st, "jdoe", &t), STORE_OK);
	assert_int_equal(t.tt_confirmed, 0);
	free(t.tt_sealed);
	assert_int_equal(store_totp_use_step(fx->st, "jdoe", 150), STORE_OK);
	assert_int_equal(store_totp_del(fx->st, "jdoe"), STORE_OK);
	assert_int_equal(store_totp_get(fx->st, "jdoe", &t), STORE_NOENT);
	free(sealed);
}

static void
test_targets(void **state)
{
	struct fx		*fx = *state;
	struct store_pin	 pin = { .sp_type = "ssh-ed25519",
	    .sp_sha256 = "SHA256:3GVCqJLu8XZTFrqxc6sZFr/IPYJ9lzYaRJeQvbmP5nM",
	    .sp_blob = "AAAAC3NzaC1lZDI1NTE5", .sp_trusted_by = "admin" };
	struct store_pin	 got;
	enum store_cred_kind	 kind;
	uint8_t			 blob[40], *sealed;
	size_t			 len;

	memset(blob, 0xa5, sizeof(blob));
	assert_int_equal(store_target_add(fx->st, "pacs-01"), STORE_OK);
	assert_int_equal(store_target_add(fx->st, "pacs-01"), STORE_EXISTS);
	assert_int_equal(store_target_pin_get(fx->st, "pacs-01", &got),
	    STORE_NOENT);
	assert_int_equal(store_target_pin_set(fx->st, "pacs-01", &pin),
	    STORE_OK);
	assert_int_equal(store_target_pin_set(fx->st, "ris-02", &pin),
	    STORE_NOENT);
	assert_int_equal(store_target_pin_get(fx->st, "pacs-01", &got),
	    STORE_OK);
	assert_string_equal(got.sp_sha256, pin.sp_sha256);
	assert_string_equal(got.sp_blob, pin.sp_blob);
	assert_string_equal(got.sp_trusted_by, "admin");
	assert_true(got.sp_trusted_at > 0);

	assert_int_equal(store_cred_set(fx->st, "ris-02", "maint",
	    STORE_CRED_PASSWORD, blob, sizeof(blob)), STORE_NOENT);
	assert_int_equal(store_cred_set(fx->st, "pacs-01", "maint",
	    STORE_CRED_PASSWORD, blob, sizeof(blob)), STORE_OK);
	blob[0] = 0x5a;
	assert_int_equal(store_cred_set(fx->st, "pacs-01", "maint",
	    STORE_CRED_KEY, blob, sizeof(blob)), STORE_OK);	/* replaced */
	assert_int_equal(store_cred_get(fx->st, "pacs-01", "maint", &kind,
	    &sealed, &len), STORE_OK);
	assert_int_equal(kind, STORE_CRED_KEY);
	assert_int_equal(len, sizeof(blob));
	assert_memory_equal(sealed, blob, len);
	free(sealed);
	assert_int_equal(store_cred_del(fx->st, "pacs-01", "maint"), STORE_OK);
	assert_int_equal(store_cred_del(fx->st, "pacs-01", "maint"),
	    STORE_NOENT);
	assert_int_equal(store_cred_get(fx->st, "pacs-01", "maint", &kind,
	    &sealed, &len), STORE_NOENT);
}

static void
test_sessions(void **state)
{
	struct fx	*fx = *state;

	assert_int_equal(store_session_count_live(fx->st), 0);
	assert_int_equal(store_session_begin(fx->st, "00112233aabbccdd",
	    "203.0.113.7:50122", 100), STORE_OK);
	assert_int_equal(store_session_begin(fx->st, "00112233aabbccde",
	    "[2001:db8::7]:50123", 101), STORE_OK);
	assert_int_equal(store_session_begin(fx->st, "00112233aabbccdd",
	    "203.0.113.7:50124", 102), STORE_EXISTS);
	assert_int_equal(store_session_begin(fx->st, "not-a-session-id",
	    "203.0.113.7:50125", 103), STORE_ERR);
	assert_int_equal(store_session_count_live(fx->st), 2);

	assert_int_equal(store_session_set(fx->st, "00112233aabbccdd", "jdoe",
	    "acme-imaging", NULL, NULL), STORE_OK);
	assert_int_equal(store_session_set(fx->st, "00112233aabbccdd", NULL,
	    NULL, "pacs-01", "/rec/00112233aabbccdd.rec"), STORE_OK);
	assert_int_equal(store_session_bytes(fx->st, "00112233aabbccdd", 10,
	    2000), STORE_OK);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM sessions "
	    "WHERE user = 'jdoe' AND target = 'pacs-01' AND bytes_out = 2000"),
	    1);
	assert_int_equal(store_session_set(fx->st, "ffffffffffffffff", "x",
	    NULL, NULL, NULL), STORE_NOENT);

	assert_int_equal(store_session_end(fx->st, "00112233aabbccdd",
	    "client closed"), STORE_OK);
	assert_int_equal(store_session_count_live(fx->st), 1);
	assert_int_equal(store_session_end(fx->st, "00112233aabbccdd",
	    "again"), STORE_NOENT);
	assert_int_equal(store_session_end_all(fx->st, "portierd restarted"),
	    1);
	assert_int_equal(store_session_count_live(fx->st), 0);
}

/* ---- vault -------------------------------------------------------------------- */

static void
test_vault_roundtrip(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 1000 };
	uint8_t		 key[VAULT_KEY_LEN], pt[1000], *a, *b, *out;
	size_t		 alen, blen, outlen, i;

	fixture_key(key);
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = i * 7;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(vault_seal(key, "target:pacs-01:maint", pt,
		    sizes[i], &a, &alen), 0);
		assert_int_equal(alen, sizes[i] + VAULT_OVERHEAD);
		assert_int_equal(a[0], VAULT_VERSION);
		assert_int_equal(vault_open(key, "target:pacs-01:maint", a,
		    alen, &out, &outlen), 0);
		assert_int_equal(outlen, sizes[i]);
		assert_memory_equal(out, pt, sizes[i]);
		assert_int_equal(out[outlen], '\0');
		freezero(out, outlen);
		/* A fresh nonce each time. */
		assert_int_equal(vault_seal(key, "target:pacs-01:maint", pt,
		    sizes[i], &b, &blen), 0);
		assert_memory_not_equal(a + 1, b + 1, VAULT_NONCE_LEN);
		free(a);
		free(b);
	}
	assert_int_equal(vault_seal(key, "", pt, 1, &a, &alen), -1);
	assert_int_equal(vault_seal(key, NULL, pt, 1, &a, &alen), -1);
}

static void
test_vault_tamper(void **state)
{
	const char	*secret = "s3cret-maint";
	uint8_t		 key[VAULT_KEY_LEN], other[VAULT_KEY_LEN];
	uint8_t		*sealed, *bad, *out;
	size_t		 len, outlen, i;
	int		 bit;

	fixture_key(key);
	memcpy(other, key, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(vault_seal(key, "target:pacs-01:maint",
	    (const uint8_t *)secret, strlen(secret), &sealed, &len), 0);

	/* The wrong owner, the wrong key. */
	assert_int_equal(vault_open(key, "target:pacs-01:root", sealed, len,
	    &out, &outlen), -1);
	assert_null(out);
	assert_int_equal(vault_open(key, "totp:jdoe", sealed, len, &out,
	    &outlen), -1);
	assert_int_equal(vault_open(other, "target:pacs-01:maint", sealed, len,
	    &out, &outlen), -1);

	/* Every bit of every byte, version, nonce, ciphertext and tag. */
	bad = malloc(len + 1);
	assert_non_null(bad);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, sealed, len);
			bad[i] ^= 1 << bit;
			if (vault_open(key, "target:pacs-01:maint", bad, len,
			    &out, &outlen) != -1)
				fail_msg("byte %zu bit %d flipped: opened",
				    i, bit);
		}
	}
	/* Every truncation, and one byte too many. */
	for (i = 0; i < len; i++)
		assert_int_equal(vault_open(key, "target:pacs-01:maint",
		    sealed, i, &out, &outlen), -1);
	memcpy(bad, sealed, len);
	bad[len] = 0;
	assert_int_equal(vault_open(key, "target:pacs-01:maint", bad, len + 1,
	    &out, &outlen), -1);
	free(bad);
	free(sealed);
}

static void
test_vault_key_file(void **state)
{
	static const struct {
		mode_t		 mode;
		size_t		 size;
		const char	*err;		/* NULL: loads */
	} cases[] = {
		{ 0600, 32, NULL },
		{ 0400, 32, NULL },
		{ 0640, 32, "readable by others; fix with: chmod 600 " },
		{ 0604, 32, "readable by others; fix with: chmod 600 " },
		{ 0620, 32, "writable by others; fix with: chmod 600 " },
		{ 0610, 32, "by others; fix with: chmod 600 " },
		{ 0600, 31, "a vault key is exactly 32" },
		{ 0600, 33, "a vault key is exactly 32" },
		{ 0600, 0, "a vault key is exactly 32" },
	};
	struct fx	*fx = *state;
	struct stat	 sb;
	uint8_t		 key[VAULT_KEY_LEN], buf[64];
	char		 path[256], err[512];
	size_t		 i;
	int		 fd;

	memset(buf, 0x42, sizeof(buf));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/key%zu", fx->dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd != -1);
		assert_int_equal(write(fd, buf, cases[i].size),
		    (ssize_t)cases[i].size);
		assert_int_equal(fchmod(fd, cases[i].mode), 0);
		close(fd);
		err[0] = '\0';
		if (cases[i].err == NULL) {
			if (vault_key_load(path, key, err, sizeof(err)) != 0)
				fail_msg("mode %04o: %s", cases[i].mode, err);
			assert_memory_equal(key, buf, VAULT_KEY_LEN);
			continue;
		}
		assert_int_equal(vault_key_load(path, key, err, sizeof(err)),
		    -1);
		assert_has(err, cases[i].err);
		assert_has(err, path);
	}
	assert_int_equal(vault_key_load(fx->dir, key, err, sizeof(err)), -1);
	assert_has(err, "not a regular file");
	snprintf(path, sizeof(path), "%s/link", fx->dir);
	assert_int_equal(symlink("key0", path), 0);
	assert_int_equal(vault_key_load(path, key, err, sizeof(err)), -1);
	assert_has(err, "symbolic link");
	snprintf(path, sizeof(path), "%s/missing", fx->dir);
	assert_int_equal(vault_key_load(path, key, err, sizeof(err)), -1);

	/* A created key is 32 bytes, 0600, and loads; it is never replaced. */
	snprintf(path, sizeof(path), "%s/vault.key", fx->dir);
	assert_int_equal(vault_key_create(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(sb.st_size, VAULT_KEY_LEN);
	assert_int_equal(vault_key_load(path, key, err, sizeof(err)), 0);
	assert_int_equal(vault_key_create(path, err, sizeof(err)), -1);
	assert_has(err, "exists");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_pragmas,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_open_refused,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_audit_chain,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_audit_append_only,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_audit_tamper,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_audit_concurrent,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_tx_joins_audit,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_user_lockout,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_user_keys,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_totp_replay,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_targets,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_sessions,
		    setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_vault_roundtrip,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_vault_tamper,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_vault_key_file,
		    setup_dir, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
