/*
 * store-schema.c: the store's schema, one SQL script per version.
 *
 * store_open() runs the scripts the file has not seen yet, in order, each
 * in its own transaction, and records the version in PRAGMA user_version.
 * A released script is never edited: a change is a new script, and
 * STORE_VERSION in store.h moves with it.  Times are INTEGER seconds since
 * the epoch, UTC.  Sessions and the audit trail keep names as plain text,
 * not references: history outlives accounts and targets.
 */
#include "config.h"

#include <stddef.h>

#include "store.h"

const char *const store_schema[] = {
	/* 1: the initial tables. */
	"CREATE TABLE vendors (\n"
	"  name TEXT PRIMARY KEY NOT NULL\n"
	"    CHECK (length(name) BETWEEN 1 AND 64),\n"
	"  created INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE users (\n"
	"  name TEXT PRIMARY KEY NOT NULL\n"
	"    CHECK (length(name) BETWEEN 1 AND 64),\n"
	"  vendor TEXT NOT NULL REFERENCES vendors(name)\n"
	"    ON UPDATE CASCADE ON DELETE RESTRICT,\n"
	"  full_name TEXT CHECK (length(full_name) <= 128),\n"
	"  created INTEGER NOT NULL,\n"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),\n"
	"  locked_until INTEGER NOT NULL DEFAULT 0 CHECK (locked_until >= 0),\n"
	"  failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),\n"
	"  lockouts_today INTEGER NOT NULL DEFAULT 0\n"
	"    CHECK (lockouts_today >= 0),\n"
	"  lockout_day INTEGER NOT NULL DEFAULT 0 CHECK (lockout_day >= 0)\n"
	");\n"
	"CREATE INDEX users_vendor ON users(vendor);\n"
	"CREATE TABLE user_keys (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  user TEXT NOT NULL REFERENCES users(name)\n"
	"    ON UPDATE CASCADE ON DELETE CASCADE,\n"
	"  key_type TEXT NOT NULL CHECK (length(key_type) BETWEEN 1 AND 64),\n"
	"  key_blob TEXT NOT NULL\n"
	"    CHECK (length(key_blob) BETWEEN 1 AND 4096),\n"
	"  comment TEXT CHECK (length(comment) <= 256),\n"
	"  added INTEGER NOT NULL,\n"
	"  UNIQUE (key_type, key_blob)\n"	/* a key names one user */
	");\n"
	"CREATE INDEX user_keys_user ON user_keys(user);\n"
	"CREATE TABLE targets (\n"
	"  name TEXT PRIMARY KEY NOT NULL\n"
	"    CHECK (length(name) BETWEEN 1 AND 64),\n"
	"  created INTEGER NOT NULL,\n"
	"  hostkey_type TEXT CHECK (length(hostkey_type) BETWEEN 1 AND 64),\n"
	"  hostkey_sha256 TEXT CHECK (hostkey_sha256 GLOB 'SHA256:?*'\n"
	"    AND length(hostkey_sha256) <= 64),\n"
	"  hostkey_blob TEXT CHECK (length(hostkey_blob) BETWEEN 1 AND 4096),\n"
	"  trusted_by TEXT CHECK (length(trusted_by) BETWEEN 1 AND 64),\n"
	"  trusted_at INTEGER,\n"
	"  -- a pin is whole or absent\n"
	"  CHECK ((hostkey_type IS NULL) = (hostkey_sha256 IS NULL)\n"
	"    AND (hostkey_type IS NULL) = (hostkey_blob IS NULL)\n"
	"    AND (hostkey_type IS NULL) = (trusted_by IS NULL)\n"
	"    AND (hostkey_type IS NULL) = (trusted_at IS NULL))\n"
	");\n"
	"CREATE TABLE target_credentials (\n"
	"  target TEXT NOT NULL REFERENCES targets(name)\n"
	"    ON UPDATE CASCADE ON DELETE CASCADE,\n"
	"  account TEXT NOT NULL CHECK (length(account) BETWEEN 1 AND 64),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('password', 'key')),\n"
	"  sealed BLOB NOT NULL\n"
	"    CHECK (typeof(sealed) = 'blob' AND length(sealed) >= 29),\n"
	"  updated INTEGER NOT NULL,\n"
	"  PRIMARY KEY (target, account)\n"
	");\n"
	"CREATE TABLE totp (\n"
	"  user TEXT PRIMARY KEY NOT NULL REFERENCES users(name)\n"
	"    ON UPDATE CASCADE ON DELETE CASCADE,\n"
	"  sealed_seed BLOB NOT NULL\n"
	"    CHECK (typeof(sealed_seed) = 'blob'\n"
	"      AND length(sealed_seed) >= 29),\n"
	"  confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),\n"
	"  last_used_step INTEGER NOT NULL DEFAULT 0\n"
	"    CHECK (last_used_step >= 0),\n"
	"  created INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE requests (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  user TEXT NOT NULL REFERENCES users(name) ON UPDATE CASCADE,\n"
	"  target TEXT NOT NULL REFERENCES targets(name) ON UPDATE CASCADE,\n"
	"  reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1024),\n"
	"  duration INTEGER NOT NULL CHECK (duration > 0),\n"
	"  starts INTEGER,\n"		/* NULL: as soon as approved */
	"  emergency INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1)),\n"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
	"    ('pending', 'approved', 'denied', 'cancelled', 'expired')),\n"
	"  created INTEGER NOT NULL,\n"
	"  decided_by TEXT,\n"
	"  decided_at INTEGER,\n"
	"  decision_note TEXT CHECK (length(decision_note) <= 1024),\n"
	"  reviewed_by TEXT,\n"		/* emergencies are reviewed after */
	"  reviewed_at INTEGER,\n"
	"  CHECK ((state = 'pending') = (decided_at IS NULL)),\n"
	"  CHECK (state NOT IN ('approved', 'denied')\n"
	"    OR decided_by IS NOT NULL),\n"
	"  CHECK ((reviewed_by IS NULL) = (reviewed_at IS NULL))\n"
	");\n"
	"CREATE INDEX requests_user ON requests(user);\n"
	"CREATE TABLE grants (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  request INTEGER REFERENCES requests(id),\n"	/* NULL: scheduled */
	"  user TEXT REFERENCES users(name) ON UPDATE CASCADE,\n"
	"  vendor TEXT REFERENCES vendors(name) ON UPDATE CASCADE,\n"
	"  target TEXT NOT NULL REFERENCES targets(name) ON UPDATE CASCADE,\n"
	"  starts INTEGER NOT NULL,\n"
	"  ends INTEGER NOT NULL,\n"
	"  emergency INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1)),\n"
	"  created INTEGER NOT NULL,\n"
	"  created_by TEXT NOT NULL,\n"
	"  revoked_by TEXT,\n"
	"  revoked_at INTEGER,\n"
	"  revoke_reason TEXT CHECK (length(revoke_reason) <= 1024),\n"
	"  CHECK ((user IS NULL) <> (vendor IS NULL)),\n"
	"  CHECK (ends > starts),\n"
	"  CHECK ((revoked_by IS NULL) = (revoked_at IS NULL))\n"
	");\n"
	"CREATE INDEX grants_target ON grants(target, ends);\n"
	"CREATE INDEX grants_request ON grants(request);\n"
	"CREATE TABLE sessions (\n"
	"  sid TEXT PRIMARY KEY NOT NULL\n"
	"    CHECK (length(sid) = 16 AND sid NOT GLOB '*[^0-9a-f]*'),\n"
	"  user TEXT,\n"
	"  vendor TEXT,\n"
	"  target TEXT,\n"
	"  source TEXT NOT NULL,\n"
	"  started INTEGER NOT NULL,\n"
	"  ended INTEGER,\n"
	"  end_reason TEXT,\n"
	"  pid INTEGER,\n"
	"  recording TEXT,\n"
	"  CHECK ((ended IS NULL) = (end_reason IS NULL)),\n"
	"  CHECK (ended IS NULL OR ended >= started)\n"
	");\n"
	/*
	 * The audit trail.  AUTOINCREMENT keeps the highest id ever used in
	 * sqlite_sequence, so audit_verify() sees rows cut from the end.
	 */
	"CREATE TABLE audit (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT CHECK (id > 0),\n"
	"  time INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL CHECK (length(actor) >= 1),\n"
	"  event TEXT NOT NULL CHECK (length(event) >= 1),\n"
	"  target TEXT,\n"
	"  reason TEXT,\n"
	"  prev_hash TEXT NOT NULL UNIQUE CHECK (length(prev_hash) = 64),\n"
	"  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)\n"
	");\n"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN\n"
	"  SELECT RAISE(ABORT, 'audit is append-only');\n"
	"END;\n"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN\n"
	"  SELECT RAISE(ABORT, 'audit is append-only');\n"
	"END;\n"
	"CREATE TRIGGER audit_in_order BEFORE INSERT ON audit\n"
	"  WHEN NEW.id IS NOT (SELECT coalesce(max(id), 0) + 1 FROM audit)\n"
	"    OR NEW.prev_hash IS NOT coalesce(\n"
	"      (SELECT hash FROM audit WHERE id = NEW.id - 1),\n"
	"      hex(zeroblob(32)))\n"
	"BEGIN\n"
	"  SELECT RAISE(ABORT, 'audit rows are appended in order');\n"
	"END;\n",

	/*
	 * 2: the audit trail records the vendor's address and the session
	 * an event belongs to; sessions count their bytes; indexes for the
	 * queries the console runs (audit by time or session, live sessions,
	 * the pending queue).
	 */
	"ALTER TABLE audit ADD COLUMN source TEXT;\n"
	"ALTER TABLE audit ADD COLUMN session TEXT;\n"
	"CREATE INDEX audit_time ON audit(time);\n"
	"CREATE INDEX audit_session ON audit(session)\n"
	"  WHERE session IS NOT NULL;\n"
	"ALTER TABLE sessions ADD COLUMN bytes_in INTEGER NOT NULL DEFAULT 0\n"
	"  CHECK (bytes_in >= 0);\n"
	"ALTER TABLE sessions ADD COLUMN bytes_out INTEGER NOT NULL DEFAULT 0\n"
	"  CHECK (bytes_out >= 0);\n"
	"CREATE INDEX sessions_live ON sessions(started) WHERE ended IS NULL;\n"
	"CREATE INDEX requests_pending ON requests(created)\n"
	"  WHERE state = 'pending';\n",

	/*
	 * 3: a request remembers where it was filed from and the session
	 * waiting for it; an emergency's review keeps its note; grants are
	 * found by user and by request.
	 */
	"ALTER TABLE requests ADD COLUMN source TEXT;\n"
	"ALTER TABLE requests ADD COLUMN session TEXT;\n"
	"ALTER TABLE requests ADD COLUMN review_note TEXT\n"
	"  CHECK (length(review_note) <= 1024);\n"
	"CREATE INDEX requests_review ON requests(created)\n"
	"  WHERE emergency = 1 AND reviewed_at IS NULL;\n"
	"CREATE INDEX grants_user ON grants(user, target, ends);\n",

	/*
	 * 4: each session's recording: its seal (bytes and SHA-256 as the
	 * audit trail has them), a legal hold, and its purge at the end of
	 * the retention.
	 */
	"ALTER TABLE sessions ADD COLUMN rec_state TEXT\n"
	"  CHECK (rec_state IN ('sealed', 'failed', 'purged'));\n"
	"ALTER TABLE sessions ADD COLUMN rec_bytes INTEGER;\n"
	"ALTER TABLE sessions ADD COLUMN rec_sha256 TEXT;\n"
	"ALTER TABLE sessions ADD COLUMN rec_hold_by TEXT;\n"
	"ALTER TABLE sessions ADD COLUMN rec_hold_at INTEGER;\n"
	"ALTER TABLE sessions ADD COLUMN rec_hold_reason TEXT\n"
	"  CHECK (length(rec_hold_reason) <= 1024);\n"
	"ALTER TABLE sessions ADD COLUMN rec_purged_at INTEGER;\n"
	"CREATE INDEX sessions_recorded ON sessions(started)\n"
	"  WHERE rec_state IS NOT NULL;\n",
};
_Static_assert(sizeof(store_schema) / sizeof(store_schema[0]) ==
    STORE_VERSION, "STORE_VERSION must name the last schema step");

