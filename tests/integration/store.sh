#!/bin/bash
# store.sh: the store file, seen from outside.
#
# First version: checks that tests/data/store-v1.sql, the schema-1 store
# the unit tests migrate, loads with the sqlite3 CLI into a whole, valid
# schema-1 store.  run_daemon_checks is where the daemon part goes: start
# portierd on that store and check it migrates it, keeps its rows and
# that the audit chain still verifies (portierctl).  Skips (77) while
# portierd or portierctl is not built, or without the sqlite3 CLI.
. "$(dirname "$0")/lib.sh"

[ -x "$PORTIERD" ] || skip_all "$PORTIERD not built"
[ -x "$PORTIERCTL" ] || skip_all "$PORTIERCTL not built"
command -v sqlite3 >/dev/null || skip_all "no sqlite3 CLI (apt-get install sqlite3)"

FIXTURE="$top_srcdir/tests/data/store-v1.sql"
S=$(mktemp -d /tmp/portier-store.XXXXXX)
trap 'rm -rf "$S"' EXIT
DB="$S/portier.db"

q() { sqlite3 -batch -noheader "$DB" "$@"; }

# A schema-1 store, made the way an operator would restore one.
check "sqlite3 loads $FIXTURE" sh -c "(umask 077; sqlite3 -bail '$DB' < '$FIXTURE')"
check "the fixture is schema version 1" [ "$(q 'PRAGMA user_version')" = 1 ]
check "the fixture is a Portier store" [ "$(q 'PRAGMA application_id')" = 1349481076 ]
check "the fixture passes integrity_check" [ "$(q 'PRAGMA integrity_check')" = ok ]
check "the fixture has no dangling reference" [ -z "$(q 'PRAGMA foreign_key_check')" ]
check "the fixture holds 6 audit rows" [ "$(q 'SELECT count(*) FROM audit')" = 6 ]
check "the fixture's audit trail is append-only" \
    sh -c "! sqlite3 '$DB' \"DELETE FROM audit WHERE id = 1\" 2>/dev/null"
check "the store file is mode 600" [ "$(stat -c %a "$DB")" = 600 ]

# ---- the daemon on that store ------------------------------------------------
need_root
setup_env
trap 'cleanup; rm -rf "$S"' EXIT
mkdir -p -m 700 "$T/var"
cp "$DB" "$T/var/portier.db"
DB="$T/var/portier.db"
start_daemon
check "portierd migrates the schema-1 store to the latest version" \
    [ "$(q 'PRAGMA user_version')" = 4 ]
check "the migration keeps the users" [ "$(q "SELECT count(*) FROM users WHERE name IN ('jdoe','mroe')")" = 2 ]
check "the migration keeps the target pin and credential" \
    [ "$(q "SELECT count(*) FROM target_credentials WHERE target = 'pacs-01'")" = 1 ]
check "portierctl audit shows the rows written under schema 1" \
    sh -c "\"$PORTIERCTL\" audit | awk '\$1 == 1' | grep -q ."
out=$("$PORTIERCTL" audit verify)
check "the audit chain verifies across the migration ($out)" \
    sh -c "echo '$out' | grep -q 'hash chain intact'"

# A vendor connects; the store keeps the session over a restart.
exec 5<>/dev/tcp/127.0.0.1/"$PORT"
wait_for 5 sh -c "[ \$(sqlite3 '$DB' 'SELECT count(*) FROM sessions WHERE ended IS NULL') -ge 1 ]" || true
exec 5>&-
stop_daemon
rows=$(q 'SELECT count(*) FROM audit')
start_daemon
check "a restart keeps the store: $rows audit rows, then daemon.start" \
    wait_for 5 sh -c "[ \$(sqlite3 '$DB' 'SELECT count(*) FROM audit') -gt $rows ]"
check "a restart keeps the sessions" [ "$(q 'SELECT count(*) FROM sessions')" -ge 2 ]
check "the chain still verifies after a restart" "$PORTIERCTL" audit verify
anc0=$(grep -o 'audit: [a-z.]* row=[0-9]*:[0-9a-f]*' "$T/portierd.log" | head -n1 | sed 's/.*row=//')
rc=0; out=$("$PORTIERCTL" audit verify --anchor "$anc0") || rc=$?
check "audit verify --anchor with a row the log gave holds (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'anchor row $anc0'" _ "$out"
check "audit --json is valid JSON with every row" sh -c \
    "[ \$(\"$PORTIERCTL\" --json audit | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -eq \$(sqlite3 '$DB' 'SELECT count(*) FROM audit') ]"
check "audit --since keeps only recent rows" sh -c \
    "! \"$PORTIERCTL\" audit --since 1h | awk '\$1 <= 6' | grep -q ."

# Someone with the sqlite3 CLI rewrites row 3: verify names the row.
sqlite3 "$DB" "DROP TRIGGER audit_no_update; UPDATE audit SET reason = 'nothing happened' WHERE id = 3;"
rc=0; out=$("$PORTIERCTL" audit verify) || rc=$?
check "a changed row makes audit verify fail (exit 3)" [ "$rc" = 3 ]
check "audit verify names the changed row ($out)" sh -c "echo '$out' | grep -q 'row 3'"
rc=0; "$PORTIERCTL" --json audit verify > "$T/verify.json" || rc=$?
check "audit verify --json reports the bad row" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["ok"] is False and d["bad_row"] == 3))' "$T/verify.json"

# The same writer recomputes every hash from row 3 on: the chain alone
# holds again, and only an anchor kept off the store shows the rewrite.
anc=$(grep -o 'audit: [a-z.]* row=[0-9]*:[0-9a-f]*' "$T/portierd.log" | tail -n1 | sed 's/.*row=//')
check "portierd logs each audit row with its number and hash ($anc)" \
    sh -c "echo '$anc' | grep -q '^[0-9]*:[0-9a-f]\{16\}$'"
python3 - "$DB" <<'PY'
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT id, time, actor, event, target, reason, source, "
                  "session, prev_hash FROM audit ORDER BY id").fetchall()
prev = None
for r in rows:
    if r[0] < 3:
        prev = db.execute("SELECT hash FROM audit WHERE id = ?", (r[0],)).fetchone()[0]
        continue
    h = hashlib.sha256(prev.encode())
    h.update(bytes([1]) + struct.pack(">I", 8) + struct.pack(">q", r[0]))
    h.update(bytes([2]) + struct.pack(">I", 8) + struct.pack(">q", r[1]))
    for tag, v in zip((3, 4, 5, 6, 7, 8), r[2:8]):
        if v is not None:
            b = v.encode()
            h.update(bytes([tag]) + struct.pack(">I", len(b)) + b)
    db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?",
               (prev, h.hexdigest(), r[0]))
    prev = h.hexdigest()
db.commit()
PY
rc=0; out=$("$PORTIERCTL" audit verify) || rc=$?
check "rehashed from row 3 on, the chain alone verifies again (rc $rc): what anchors are for" [ "$rc" = 0 ]
rc=0; out=$("$PORTIERCTL" audit verify --anchor "$anc") || rc=$?
echo "$out"
check "audit verify --anchor with the logged hash finds the rewrite (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'BROKEN at row ${anc%%:*}: .*was rewritten'" _ "$out"
rc=0; "$PORTIERCTL" audit verify --anchor 99999:0123456789abcdef >/dev/null || rc=$?
check "an anchor past the end of the trail fails (rc $rc = 3)" [ "$rc" = 3 ]
rc=0; out=$("$PORTIERCTL" audit verify --anchor 3:xyz 2>&1) || rc=$?
check "a malformed anchor is refused with what to give (rc $rc = 2)" \
    sh -c "[ $rc = 2 ] && echo \"\$1\" | grep -q 'give ROW:HASH'" _ "$out"
stop_daemon

# A store from a newer Portier is refused, and the daemon says why.
q 'PRAGMA user_version = 99'
if timeout 20 "$PORTIERD" -d -f "$T/etc/portier.conf" > "$T/newer.log" 2>&1; then rc=0; else rc=$?; fi
check "a store with a newer schema stops portierd (exit $rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
check "and the log says the schema is newer" grep -q 'newer' "$T/newer.log"

finish
