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
stop_daemon

# A store from a newer Portier is refused, and the daemon says why.
q 'PRAGMA user_version = 99'
if timeout 20 "$PORTIERD" -d -f "$T/etc/portier.conf" > "$T/newer.log" 2>&1; then rc=0; else rc=$?; fi
check "a store with a newer schema stops portierd (exit $rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
check "and the log says the schema is newer" grep -q 'newer' "$T/newer.log"

finish
