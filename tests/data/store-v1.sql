-- store-v1.sql: a Portier store at schema version 1, for the migration
-- tests.  It is `sqlite3 FILE .dump` of a store built by schema script 1
-- (src/store-schema.c) with a few rows, then the two pragmas .dump leaves
-- out.  Do not edit the rows: the audit chain (6 rows) verifies as is.
--
-- The sealed secrets open with the test vault key bytes 0x01 .. 0x20:
--   target_credentials pacs-01/maint, aad "target:pacs-01:maint": "s3cret-maint"
--   totp jdoe, aad "totp:jdoe": "JBSWY3DPEHPK3PXP"
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE vendors (
  name TEXT PRIMARY KEY NOT NULL
    CHECK (length(name) BETWEEN 1 AND 64),
  created INTEGER NOT NULL
);
INSERT INTO vendors VALUES('acme-imaging',1735725600);
CREATE TABLE users (
  name TEXT PRIMARY KEY NOT NULL
    CHECK (length(name) BETWEEN 1 AND 64),
  vendor TEXT NOT NULL REFERENCES vendors(name)
    ON UPDATE CASCADE ON DELETE RESTRICT,
  full_name TEXT CHECK (length(full_name) <= 128),
  created INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  locked_until INTEGER NOT NULL DEFAULT 0 CHECK (locked_until >= 0),
  failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  lockouts_today INTEGER NOT NULL DEFAULT 0
    CHECK (lockouts_today >= 0),
  lockout_day INTEGER NOT NULL DEFAULT 0 CHECK (lockout_day >= 0)
);
INSERT INTO users VALUES('jdoe','acme-imaging','Jane Doe',1735725660,0,0,1,0,0);
INSERT INTO users VALUES('mroe','acme-imaging','Max Roe',1735725720,1,0,0,0,0);
CREATE TABLE user_keys (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name)
    ON UPDATE CASCADE ON DELETE CASCADE,
  key_type TEXT NOT NULL CHECK (length(key_type) BETWEEN 1 AND 64),
  key_blob TEXT NOT NULL
    CHECK (length(key_blob) BETWEEN 1 AND 4096),
  comment TEXT CHECK (length(comment) <= 256),
  added INTEGER NOT NULL,
  UNIQUE (key_type, key_blob)
);
INSERT INTO user_keys VALUES(1,'jdoe','ssh-ed25519','AAAAC3NzaC1lZDI1NTE5AAAAIBFcSwcV87nskve9/bxKowIzODY31bIdIyYruW9+H0jO','jdoe@laptop',1735725680);
CREATE TABLE targets (
  name TEXT PRIMARY KEY NOT NULL
    CHECK (length(name) BETWEEN 1 AND 64),
  created INTEGER NOT NULL,
  hostkey_type TEXT CHECK (length(hostkey_type) BETWEEN 1 AND 64),
  hostkey_sha256 TEXT CHECK (hostkey_sha256 GLOB 'SHA256:?*'
    AND length(hostkey_sha256) <= 64),
  hostkey_blob TEXT CHECK (length(hostkey_blob) BETWEEN 1 AND 4096),
  trusted_by TEXT CHECK (length(trusted_by) BETWEEN 1 AND 64),
  trusted_at INTEGER,
  -- a pin is whole or absent
  CHECK ((hostkey_type IS NULL) = (hostkey_sha256 IS NULL)
    AND (hostkey_type IS NULL) = (hostkey_blob IS NULL)
    AND (hostkey_type IS NULL) = (trusted_by IS NULL)
    AND (hostkey_type IS NULL) = (trusted_at IS NULL))
);
INSERT INTO targets VALUES('pacs-01',1735725600,'ssh-ed25519','SHA256:3GVCqJLu8XZTFrqxc6sZFr/IPYJ9lzYaRJeQvbmP5nM','AAAAC3NzaC1lZDI1NTE5AAAAICz+EUygAb8ph3+TUxihJy1ldk8TSmhyqt1ji3an0dxT','admin',1735725700);
INSERT INTO targets VALUES('ris-02',1735725600,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE target_credentials (
  target TEXT NOT NULL REFERENCES targets(name)
    ON UPDATE CASCADE ON DELETE CASCADE,
  account TEXT NOT NULL CHECK (length(account) BETWEEN 1 AND 64),
  kind TEXT NOT NULL CHECK (kind IN ('password', 'key')),
  sealed BLOB NOT NULL
    CHECK (typeof(sealed) = 'blob' AND length(sealed) >= 29),
  updated INTEGER NOT NULL,
  PRIMARY KEY (target, account)
);
INSERT INTO target_credentials VALUES('pacs-01','maint','password',X'01eb4a0fc31e90de41704b238d08a2bd8024b88382d1a2fc067743a86e4fdcde7ee5c3e320f049b8af',1735725710);
CREATE TABLE totp (
  user TEXT PRIMARY KEY NOT NULL REFERENCES users(name)
    ON UPDATE CASCADE ON DELETE CASCADE,
  sealed_seed BLOB NOT NULL
    CHECK (typeof(sealed_seed) = 'blob'
      AND length(sealed_seed) >= 29),
  confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
  last_used_step INTEGER NOT NULL DEFAULT 0
    CHECK (last_used_step >= 0),
  created INTEGER NOT NULL
);
INSERT INTO totp VALUES('jdoe',X'0170a8aa364e1bdc83e273f68f91203fe30bebce9398335c713630d9d1861f854e2ed6b4575acf79cf1222119d',1,57857520,1735725690);
CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name) ON UPDATE CASCADE,
  target TEXT NOT NULL REFERENCES targets(name) ON UPDATE CASCADE,
  reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1024),
  duration INTEGER NOT NULL CHECK (duration > 0),
  starts INTEGER,
  emergency INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1)),
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
    ('pending', 'approved', 'denied', 'cancelled', 'expired')),
  created INTEGER NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  decision_note TEXT CHECK (length(decision_note) <= 1024),
  reviewed_by TEXT,
  reviewed_at INTEGER,
  CHECK ((state = 'pending') = (decided_at IS NULL)),
  CHECK (state NOT IN ('approved', 'denied')
    OR decided_by IS NOT NULL),
  CHECK ((reviewed_by IS NULL) = (reviewed_at IS NULL))
);
INSERT INTO requests VALUES(1,'jdoe','pacs-01','monthly PACS update',7200,1735812000,0,'approved',1735790000,'it-oncall',1735791000,'ok, call the PACS admin first',NULL,NULL);
CREATE TABLE grants (
  id INTEGER PRIMARY KEY,
  request INTEGER REFERENCES requests(id),
  user TEXT REFERENCES users(name) ON UPDATE CASCADE,
  vendor TEXT REFERENCES vendors(name) ON UPDATE CASCADE,
  target TEXT NOT NULL REFERENCES targets(name) ON UPDATE CASCADE,
  starts INTEGER NOT NULL,
  ends INTEGER NOT NULL,
  emergency INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1)),
  created INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_by TEXT,
  revoked_at INTEGER,
  revoke_reason TEXT CHECK (length(revoke_reason) <= 1024),
  CHECK ((user IS NULL) <> (vendor IS NULL)),
  CHECK (ends > starts),
  CHECK ((revoked_by IS NULL) = (revoked_at IS NULL))
);
INSERT INTO grants VALUES(1,1,'jdoe',NULL,'pacs-01',1735812000,1735819200,0,1735791000,'it-oncall',NULL,NULL,NULL);
CREATE TABLE sessions (
  sid TEXT PRIMARY KEY NOT NULL
    CHECK (length(sid) = 16 AND sid NOT GLOB '*[^0-9a-f]*'),
  user TEXT,
  vendor TEXT,
  target TEXT,
  source TEXT NOT NULL,
  started INTEGER NOT NULL,
  ended INTEGER,
  end_reason TEXT,
  pid INTEGER,
  recording TEXT,
  CHECK ((ended IS NULL) = (end_reason IS NULL)),
  CHECK (ended IS NULL OR ended >= started)
);
INSERT INTO sessions VALUES('0123456789abcdef','jdoe','acme-imaging','pacs-01','203.0.113.7:50122',1735812060,1735819200,'window closed',4242,'/var/lib/portier/recordings/0123456789abcdef.rec');
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT CHECK (id > 0),
  time INTEGER NOT NULL,
  actor TEXT NOT NULL CHECK (length(actor) >= 1),
  event TEXT NOT NULL CHECK (length(event) >= 1),
  target TEXT,
  reason TEXT,
  prev_hash TEXT NOT NULL UNIQUE CHECK (length(prev_hash) = 64),
  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
);
INSERT INTO audit VALUES(1,1735725600,'portierd','store.create',NULL,NULL,'0000000000000000000000000000000000000000000000000000000000000000','a1738e007170e72ac04b93aae927ed6a870a6b1934f9a26dbe01dd5d6d895342');
INSERT INTO audit VALUES(2,1735725660,'admin','user.add','jdoe','vendor technician for PACS','a1738e007170e72ac04b93aae927ed6a870a6b1934f9a26dbe01dd5d6d895342','c32515f07708ec17805fdb8a97fae1bd55ebda9db06d6c37732c56943b93ca37');
INSERT INTO audit VALUES(3,1735725700,'admin','target.trust','pacs-01',NULL,'c32515f07708ec17805fdb8a97fae1bd55ebda9db06d6c37732c56943b93ca37','bf8aef096cec01825ab745f8ecbb13e7a2dc2e5ee9f3b479ef5404e143fddac5');
INSERT INTO audit VALUES(4,1735790000,'jdoe','request.create','pacs-01','monthly PACS update','bf8aef096cec01825ab745f8ecbb13e7a2dc2e5ee9f3b479ef5404e143fddac5','7d0abef9ed63c29f62d6cacc9ce052ebd2fced43bec8dfa7eedc90f5030683f9');
INSERT INTO audit VALUES(5,1735791000,'it-oncall','request.approve','pacs-01','','7d0abef9ed63c29f62d6cacc9ce052ebd2fced43bec8dfa7eedc90f5030683f9','836ad36497f2faf5e2ff225155f14a49e47bf88f99b705494e47b500834bb54b');
INSERT INTO audit VALUES(6,1735812060,'jdoe','session.start','pacs-01',NULL,'836ad36497f2faf5e2ff225155f14a49e47bf88f99b705494e47b500834bb54b','4702379d1a5fd21187e0fdbdbfbc4d321c30dd64bdc2ea4d5f6a0205850aa276');
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('audit',6);
CREATE INDEX users_vendor ON users(vendor);
CREATE INDEX user_keys_user ON user_keys(user);
CREATE INDEX requests_user ON requests(user);
CREATE INDEX grants_target ON grants(target, ends);
CREATE INDEX grants_request ON grants(request);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN
  SELECT RAISE(ABORT, 'audit is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN
  SELECT RAISE(ABORT, 'audit is append-only');
END;
CREATE TRIGGER audit_in_order BEFORE INSERT ON audit
  WHEN NEW.id IS NOT (SELECT coalesce(max(id), 0) + 1 FROM audit)
    OR NEW.prev_hash IS NOT coalesce(
      (SELECT hash FROM audit WHERE id = NEW.id - 1),
      hex(zeroblob(32)))
BEGIN
  SELECT RAISE(ABORT, 'audit rows are appended in order');
END;
COMMIT;
PRAGMA application_id = 1349481076;
PRAGMA user_version = 1;
