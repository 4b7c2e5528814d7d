#!/bin/bash
# recordings.sh: recordings auditors can trust, end to end.
#
# Real OpenSSH sessions through portierd to a real sshd; then, on the
# files the recorder wrote: asciinema replays them, portier-replay
# verifies, plays, searches and exports them, the recipe of
# recordings/FORMAT.md verifies them with sha256sum and openssl alone, a
# flipped byte or a cut is caught and located, the audit trail holds the
# same hash.  A session killed with SIGKILL still leaves a sealed file; a
# recorder killed with SIGKILL leaves one that verifies up to its last
# checkpoint.  A full or read-only recordings disk closes a live session
# and refuses new ones, with the reason.
. "$(dirname "$0")/lib.sh"
need_root
REPLAY="$top_builddir/portier-replay"
for tool in sshd oathtool openssl script; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
	    skip_all "$tool is not installed"
done
[ -x "$REPLAY" ] || skip_all "$REPLAY not built"
setup_env
ensure_accounts
setup_pam
start_target
write_ssh_policy
echo 'recording min-free 99%' >> "$T/etc/portier.conf"
start_daemon
known_hosts
PUB="$T/etc/recording.pub"
REC="$T/var/recordings"
DAY=$(date -u +%Y/%m/%d)

check "portierd created the recording key, private to root" \
    [ "$(stat -c %a "$T/etc/recording.key")" = 600 ]
check "and its public half next to it, readable by all" \
    [ "$(stat -c %a "$PUB")" = 644 ]
check "the key's fingerprint is in the log" grep -q 'signing recordings with key SHA256:' "$T/portierd.log"
check "free space below recording min-free raises an alert" \
    grep -q 'ALERT: recordings: .* below recording min-free 99%' "$T/portierd.log"

enrol ptjdoe acme
enrol ptasmith globex
enrol ptcarol acme
"$PORTIERCTL" target credential set pacs-01 ptmaint --key "$T/target/maint_key" >/dev/null
vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 true >/dev/null 2>&1 || true
"$PORTIERCTL" target trust pacs-01 --yes >/dev/null

# ---- two sessions, one command each --------------------------------------------
out=$( (sleep 2; echo 'echo rec-marker-$((6*7))'; sleep 1; echo 'exit') |
    vssh ptjdoe -tt ptjdoe@pacs-01@127.0.0.1 2>&1) || true
check "session A ran its command" sh -c "echo \"\$1\" | grep -q 'rec-marker-42'" _ "$out"
out=$( (sleep 2; echo 'echo other-$((3+4))'; sleep 1; echo 'exit') |
    vssh ptasmith -tt ptasmith@pacs-01@127.0.0.1 2>&1) || true
check "session B ran its command" sh -c "echo \"\$1\" | grep -q 'other-7'" _ "$out"
wait_for 5 sh -c "grep -lq 'rec-marker-42' \$(find '$REC' -name '*.cast') 2>/dev/null"
A=$(grep -l 'rec-marker-42' $(find "$REC" -name '*.cast') | head -n1)
B=$(grep -l 'other-7' $(find "$REC" -name '*.cast') | head -n1)
sidA=$(head -n1 "$A" | sed 's/.*"session": "\([0-9a-f]*\)".*/\1/')
sidB=$(head -n1 "$B" | sed 's/.*"session": "\([0-9a-f]*\)".*/\1/')
wait_for 5 sh -c "tail -n1 '$A' | grep -q '\"x\", \"seal '"
check "the recording is filed by day and target ($A)" \
    sh -c "case '$A' in '$REC/$DAY/pacs-01/'[0-9][0-9][0-9][0-9][0-9][0-9]-$sidA.cast) true;; *) false;; esac"
check "its header names the format, version 2" grep -q '"portier_format": 2' "$A"
check "it says who the monitor authorised" \
    grep -qF '"x", "authorized user=ptjdoe vendor=acme target=pacs-01"' "$A"
check "the input events hold what the vendor typed" \
    grep -qF '"i", "echo rec-marker-$((6*7))' "$A"
check "it ends with a seal" sh -c "tail -n1 '$A' | grep -q '\"x\", \"seal seq=[0-9]* bytes=[0-9]* sha256=[0-9a-f]\{64\} sig='"
if command -v asciinema >/dev/null; then
	script -qc "asciinema cat '$A'" /dev/null > "$T/cat.out" 2>&1 || true
	check "asciinema cat reproduces the output (checkpoint lines ignored)" \
	    grep -q 'rec-marker-42' "$T/cat.out"
	check "and shows none of the recorder's own lines" \
	    sh -c "! grep -q 'checkpoint\|seal seq' '$T/cat.out'"
else
	ok "# SKIP asciinema is not installed"
fi

# ---- verify -------------------------------------------------------------------------------
out=$("$REPLAY" verify "$A" --key "$PUB") && rc=0 || rc=$?
echo "$out"
check "portier-replay verify: verified (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'verified: [0-9]* bytes, [0-9]* checkpoints\\?, signed by key SHA256:'" _ "$out"
fp=$(grep -o 'signing recordings with key SHA256:[^ ]*' "$T/portierd.log" | head -n1 | sed 's/.*key //')
check "signed by the key portierd announced ($fp)" sh -c "echo \"\$1\" | grep -qF '$fp'" _ "$out"

cp "$A" "$T/flip.cast"
off=$(( $(stat -c %s "$A") / 2 ))
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1)[0]; f.seek(o); f.write(bytes([b ^ 1]))' "$T/flip.cast" "$off"
out=$("$REPLAY" verify "$T/flip.cast" --key "$PUB") && rc=0 || rc=$?
echo "$out"
check "one flipped byte is caught (rc $rc = 3) and located" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'FAILED at line [0-9]*, byte [0-9]*: .*altered between byte'" _ "$out"
head -c -25 "$A" > "$T/cut.cast"
out=$("$REPLAY" verify "$T/cut.cast" --key "$PUB") && rc=0 || rc=$?
echo "$out"
check "a truncated file is caught (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'truncated'" _ "$out"
head -n -1 "$A" > "$T/noseal.cast"
out=$("$REPLAY" verify "$T/noseal.cast" --key "$PUB") && rc=0 || rc=$?
check "a file cut before its seal says so (rc $rc = 2)" \
    sh -c "[ $rc = 2 ] && echo \"\$1\" | grep -q 'not sealed'" _ "$out"
out=$("$REPLAY" verify "$A" --key "$PUB" --store "$T/var/portier.db") && rc=0 || rc=$?
check "verify --store: the file matches the audit trail's seal (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'audit trail: matches recording.sealed'" _ "$out"
out=$("$REPLAY" verify "$T/noseal.cast" --key "$PUB" --store "$T/var/portier.db") && rc=0 || rc=$?
echo "$out"
check "verify --store: a file cut to look like a crash is caught by the audit trail (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'FAILED: audit row [0-9]* says the sealed file had .*: it was cut'" _ "$out"
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout > "$T/other.pub"
out=$("$REPLAY" verify "$A" --key "$T/other.pub") && rc=0 || rc=$?
check "another key does not verify it (rc $rc = 3)" [ "$rc" = 3 ]

# ---- the recipe of FORMAT.md, as written there ----------------------------------------
mkdir "$T/byhand"
cp "$A" "$PUB" "$T/byhand/"
awk '/^## Verifying by hand/ { on = 1; next } on && /^    / { sub(/^    /, ""); print } on && /^If / { exit }' \
    "$top_srcdir/recordings/FORMAT.md" |
    sed "s|^f=.*|f=$(basename "$A")|" > "$T/byhand/recipe.sh"
check "FORMAT.md has a recipe to run" grep -q 'openssl pkeyutl -verify' "$T/byhand/recipe.sh"
(cd "$T/byhand" && bash -e recipe.sh) > "$T/byhand/out" 2>&1 && rc=0 || rc=$?
cat "$T/byhand/out"
H=$(tail -n1 "$A" | sed 's/.* sha256=\([0-9a-f]*\) .*/\1/')
check "by hand: head -c | sha256sum gives the sealed hash" grep -q "^$H  -" "$T/byhand/out"
check "by hand: openssl verifies the seal's signature (rc $rc)" \
    sh -c "[ $rc = 0 ] && grep -q 'Signature Verified Successfully' '$T/byhand/out'"
cp "$T/flip.cast" "$T/byhand/$(basename "$A")"
(cd "$T/byhand" && bash -e recipe.sh) > "$T/byhand/out2" 2>&1 || true
check "by hand: the flipped copy no longer gives the sealed hash" \
    sh -c "! grep -q '^$H  -' '$T/byhand/out2'"

# ---- the audit trail ---------------------------------------------------------------------------
sum=$(sha256sum < "$A" | cut -d' ' -f1)
"$PORTIERCTL" audit > "$T/audit.txt"
check "the audit trail has recording.sealed for session A with the file's sha256" \
    sh -c "grep 'recording.sealed' '$T/audit.txt' | grep '$sidA' | grep -q 'bytes=$(stat -c %s "$A") sha256=$sum'"
check "and the file's path" sh -c "grep 'recording.sealed' '$T/audit.txt' | grep '$sidA' | grep -qF '$A'"

# ---- search, play ------------------------------------------------------------------------------
out=$("$REPLAY" search 'rec-marker' --dir "$REC") && rc=0 || rc=$?
echo "$out"
check "search finds the command typed in session A (rc $rc)" \
    sh -c "echo \"\$1\" | grep '^$sidA ' | grep -qF ' typed: echo rec-marker-\$((6*7))'" _ "$out"
check "and what it printed" sh -c "echo \"\$1\" | grep '^$sidA ' | grep -qF ' output: rec-marker-42'" _ "$out"
check "and nothing in session B" sh -c "! echo \"\$1\" | grep -q '$sidB'" _ "$out"
out=$("$REPLAY" search 'other-' --dir "$REC" --vendor globex --json)
check "search --vendor --json: valid JSON, session B only" \
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r and all(h["session"]==sys.argv[2] and h["vendor"]=="globex" for h in r)' "$out" "$sidB"
"$REPLAY" search 'rec-marker' --dir "$REC" --vendor globex >/dev/null && rc=0 || rc=$?
check "search --vendor leaves out other vendors' sessions (rc $rc = 1)" [ "$rc" = 1 ]
"$REPLAY" search 'rec-marker' --dir "$REC" --target pacs-01 --since "$(date -u +%Y-%m-%d)" >/dev/null && rc=0 || rc=$?
check "search --target --since (rc $rc)" [ "$rc" = 0 ]
# --since is a UTC day, as the directories are, whatever TZ says.
TZ=XYZ+12 "$REPLAY" search 'rec-marker' --dir "$REC" --since "$(date -u +%Y-%m-%d)" >/dev/null && rc=0 || rc=$?
check "search --since today (UTC) finds it 12 hours west of UTC (rc $rc)" [ "$rc" = 0 ]
TZ=KIR-14 "$REPLAY" search 'rec-marker' --dir "$REC" --since "$(date -u -d tomorrow +%Y-%m-%d)" >/dev/null && rc=0 || rc=$?
check "search --since tomorrow (UTC) does not, 14 hours east (rc $rc = 1)" [ "$rc" = 1 ]
vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 'echo exec-$((5*5)) >/dev/null' >/dev/null 2>&1 || true
wait_for 10 sh -c "grep -rqsF '\"m\", \"exec: echo exec-' '$REC'"
out=$("$REPLAY" search 'exec-\$' --dir "$REC") && rc=0 || rc=$?
echo "$out"
check "search finds the command an exec session ran, in its events (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -qF ' event: exec: echo exec-\$((5*5))'" _ "$out"
out=$(runuser -u nobody -- "$REPLAY" search 'rec-marker' --dir "$REC" 2>&1) && rc=0 || rc=$?
echo "$out"
check "search says when it cannot read the recordings (rc $rc = 1)" \
    sh -c "[ $rc = 1 ] && echo \"\$1\" | grep -q 'cannot read.*Permission denied'" _ "$out"
t=$("$REPLAY" search 'rec-marker' --dir "$REC" | awk '/typed/ { sub(/^\+/, "", $3); print $3; exit }')
out=$("$REPLAY" play "$A" --speed 100 --max-idle 0.1 --from "$t" 2>"$T/play.err")
check "play --from the time search gave shows the output from there" \
    sh -c "echo \"\$1\" | grep -q 'rec-marker-42'" _ "$out"
cat "$T/play.err"
check "play says on stderr whose session it is, before" \
    grep -q "^portier-replay: $(basename "$A"): user=ptjdoe vendor=acme target=pacs-01" "$T/play.err"
check "and how it ended, after" grep -q '^portier-replay: +[0-9.]*s end: ' "$T/play.err"
"$REPLAY" play "$A" --speed nan >/dev/null 2>&1 && rc=0 || rc=$?
check "play --speed nan is refused (rc $rc = 1)" [ "$rc" = 1 ]
"$REPLAY" play "$A" --from 99:99 >/dev/null 2>&1 && rc=0 || rc=$?
check "play --from 99:99 is refused (rc $rc = 1)" [ "$rc" = 1 ]

# ---- export --------------------------------------------------------------------------------------
out=$("$REPLAY" export "$A" -o "$T/bundle.tar" --key "$PUB" --store "$T/var/portier.db") && rc=0 || rc=$?
echo "$out"
check "export writes a bundle (rc $rc)" [ "$rc" = 0 -a -s "$T/bundle.tar" ]
out=$("$REPLAY" verify "$T/bundle.tar") && rc=0 || rc=$?
echo "$out"
check "portier-replay verify BUNDLE.tar: manifest and recording verify (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'manifest: [0-9]* files match' && echo \"\$1\" | grep -q 'verified:'" _ "$out"
"$REPLAY" verify "$T/bundle.tar" --key "$T/other.pub" >/dev/null && rc=0 || rc=$?
check "and refuses it against another key (rc $rc = 3)" [ "$rc" = 3 ]
mkdir "$T/bundle" && tar -C "$T/bundle" -xf "$T/bundle.tar"
bd="$T/bundle/portier-$sidA"
check "tar extracts it: recording, key, audit rows, README, manifest" \
    test -f "$bd/$(basename "$A")" -a -f "$bd/recording.pub" -a -f "$bd/audit.txt" -a -f "$bd/README" -a -f "$bd/MANIFEST.sha256"
check "sha256sum -c MANIFEST.sha256 passes" sh -c "cd '$bd' && sha256sum -c --quiet MANIFEST.sha256"
check "the bundle's audit rows include the seal" grep -q "recording.sealed.*sha256=$sum" "$bd/audit.txt"
awk '/^## Verifying by hand/ { on = 1; next } on && /^    / { sub(/^    /, ""); print } on && /^If / { exit }' \
    "$top_srcdir/recordings/FORMAT.md" | sed "s|^f=.*|f=$(basename "$A")|" > "$bd/recipe.sh"
(cd "$bd" && bash -e recipe.sh) > "$T/bundle.out" 2>&1 && rc=0 || rc=$?
check "openssl pkeyutl -verify on the bundle's own files (rc $rc)" grep -q 'Signature Verified Successfully' "$T/bundle.out"
cp "$T/bundle.tar" "$T/bad.tar"
boff=$(grep -abo 'rec-marker-42' "$T/bad.tar" | head -n1 | cut -d: -f1)
printf 'X' | dd of="$T/bad.tar" bs=1 seek="$boff" conv=notrunc 2>/dev/null
"$REPLAY" verify "$T/bad.tar" >/dev/null && rc=0 || rc=$?
check "a bundle altered in one byte fails (rc $rc = 3)" [ "$rc" = 3 ]

# Bundles remade by someone who can rewrite the manifest (it is not
# signed): only the recording's signature, its name, the bundle's shape
# and its audit rows stand in the way.
cat > "$T/rebundle.py" <<'PY'
import hashlib, io, sys, tarfile
src, dst, how = sys.argv[1], sys.argv[2], sys.argv[3]
extra = sys.argv[4] if len(sys.argv) > 4 else None
with tarfile.open(src) as t:
    files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
d = next(iter(files)).split("/")[0]
cast = next(n for n in files if n.endswith(".cast"))
if how == "twocast":
    files[d + "/zz-extra.cast"] = open(extra, "rb").read()
elif how == "swapcast":
    files[cast] = open(extra, "rb").read()
elif how == "many":
    for i in range(17):
        files["%s/note%02d.txt" % (d, i)] = b"x"
elif how == "auditrow":
    a = files[d + "/audit.txt"].decode()
    i = a.index("sha256=") + 7
    files[d + "/audit.txt"] = (a[:i] + ("1" if a[i] == "0" else "0") + a[i + 1:]).encode()
man = "".join("%s  %s\n" % (hashlib.sha256(v).hexdigest(), n.split("/")[-1])
              for n, v in files.items() if not n.endswith("MANIFEST.sha256"))
files[d + "/MANIFEST.sha256"] = man.encode()
with tarfile.open(dst, "w", format=tarfile.USTAR_FORMAT) as t:
    for n, v in files.items():
        i = tarfile.TarInfo(n)
        i.size = len(v)
        t.addfile(i, io.BytesIO(v))
    if how == "symlink":
        i = tarfile.TarInfo(d + "/link")
        i.type = tarfile.SYMTYPE
        i.linkname = "/etc/shadow"
        t.addfile(i)
PY
python3 "$T/rebundle.py" "$T/bundle.tar" "$T/same.tar" same
"$REPLAY" verify "$T/same.tar" >/dev/null && rc=0 || rc=$?
check "a bundle remade as it was still verifies (rc $rc = 0): the checks below are not about the remaking" [ "$rc" = 0 ]
python3 "$T/rebundle.py" "$T/bundle.tar" "$T/two.tar" twocast "$B"
out=$("$REPLAY" verify "$T/two.tar") && rc=0 || rc=$?
check "a bundle with a second recording in it fails (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'more than one file ending in .cast'" _ "$out"
python3 "$T/rebundle.py" "$T/bundle.tar" "$T/swap.tar" swapcast "$B"
out=$("$REPLAY" verify "$T/swap.tar") && rc=0 || rc=$?
echo "$out"
check "a bundle whose recording was replaced by another session's fails (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'named for session $sidA but holds session $sidB'" _ "$out"
python3 "$T/rebundle.py" "$T/bundle.tar" "$T/many.tar" many
out=$("$REPLAY" verify "$T/many.tar") && rc=0 || rc=$?
check "a bundle of more files than an export writes fails (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'more than 16 files'" _ "$out"
python3 "$T/rebundle.py" "$T/bundle.tar" "$T/row.tar" auditrow
out=$("$REPLAY" verify "$T/row.tar") && rc=0 || rc=$?
echo "$out"
check "a bundle whose audit.txt seal disagrees with its recording fails (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'audit.txt row [0-9]* says the sealed file had'" _ "$out"
python3 "$T/rebundle.py" "$T/bundle.tar" "$T/link.tar" symlink
"$REPLAY" verify "$T/link.tar" >/dev/null && rc=0 || rc=$?
check "a bundle with a symbolic link in it fails (rc $rc = 3)" [ "$rc" = 3 ]
out=$("$REPLAY" verify "$T/bundle.tar" --store "$T/var/portier.db") && rc=0 || rc=$?
check "verify BUNDLE --store checks the store too (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'audit trail: matches recording.sealed'" _ "$out"
out=$("$REPLAY" export "$A" -o "$T/bundle.tar" --key "$PUB" 2>&1) && rc=0 || rc=$?
check "export never overwrites a file (rc $rc = 1)" \
    sh -c "[ $rc = 1 ] && echo \"\$1\" | grep -q 'never overwritten'" _ "$out"

# A recording swapped whole with another session's, under its name.
mkdir "$T/swap"
cp "$B" "$T/swap/$(basename "$A")"
out=$("$REPLAY" verify "$T/swap/$(basename "$A")" --key "$PUB" --store "$T/var/portier.db") && rc=0 || rc=$?
echo "$out"
check "a recording copied over another session's file fails (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'named for session $sidA but holds session $sidB'" _ "$out"
# A recording written by hand: no signature, a session nobody opened.
head -n1 "$A" | sed "s/$sidA/0123456789abcdef/" > "$T/fake.cast"
printf '[0.5, "o", "rm -rf /srv/pacs\\r\\n"]\n' >> "$T/fake.cast"
out=$("$REPLAY" verify "$T/fake.cast" --key "$PUB") && rc=0 || rc=$?
echo "$out"
check "an unsigned file is NOT VERIFIED (rc $rc = 2)" \
    sh -c "[ $rc = 2 ] && echo \"\$1\" | grep -q 'NOT VERIFIED: not sealed, and no checkpoint'" _ "$out"
out=$("$REPLAY" verify "$T/fake.cast" --key "$PUB" --store "$T/var/portier.db") && rc=0 || rc=$?
check "and with --store, a session the audit trail never saw fails (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep -q 'has no row of session 0123456789abcdef'" _ "$out"
"$REPLAY" export "$T/fake.cast" -o "$T/fake.tar" --key "$PUB" --store "$T/var/portier.db" >/dev/null 2>&1 && rc=0 || rc=$?
check "export --store refuses it (rc $rc = 3), and writes nothing" [ "$rc" = 3 -a ! -e "$T/fake.tar" ]

# ---- portierctl recordings: the list, a legal hold, the retention ----------------------------------
out=$("$PORTIERCTL" recordings --verify) && rc=0 || rc=$?
check "portierctl recordings --verify lists session A, verified (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep '^$sidA ' | grep -q 'ptjdoe.*acme.*pacs-01.*verified'" _ "$out"
out=$("$PORTIERCTL" --json recordings --vendor globex)
check "recordings --vendor --json: session B only, with its sealed sha256" \
    sh -c "echo \"\$1\" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert [x[\"session\"] for x in r] == [\"$sidB\"] and len(r[0][\"sha256\"]) == 64'" _ "$out"
cp "$B" "$T/B.orig"
printf 'x' >> "$B"
out=$("$PORTIERCTL" recordings) && rc=0 || rc=$?
check "a recording changed on disk shows CHANGED (rc $rc = 3)" \
    sh -c "[ $rc = 3 ] && echo \"\$1\" | grep '^$sidB ' | grep -q 'CHANGED'" _ "$out"
cp "$T/B.orig" "$B"
out=$("$PORTIERCTL" recordings hold "$sidA" 2>&1) && rc=0 || rc=$?
check "a hold needs a reason (rc $rc)" [ "$rc" != 0 ]
check "recordings hold puts A under legal hold" \
    "$PORTIERCTL" recordings hold "$sidA" --reason "dispute with acme, case 2026-17"
check "and says who holds it and why" \
    sh -c "'$PORTIERCTL' recordings | grep -A1 '^$sidA ' | grep -q 'held by admin:root: dispute with acme'"
printf 'recording retention 1s\n' >> "$T/etc/portier.conf"
sleep 2		# B ended more than the retention ago
check "a shorter retention applies at reload" "$PORTIERCTL" reload
check "past its retention, B's file is purged" wait_for 10 sh -c "[ ! -e '$B' ]"
check "the held recording A stays" test -s "$A"
check "the purge is an audit row with the seal the file had" \
    sh -c "'$PORTIERCTL' audit | grep 'recording.purge' | grep -q '$sidB'"
check "B stays listed, as purged" \
    sh -c "'$PORTIERCTL' recordings | grep '^$sidB ' | grep -q purged"
check "the hold is audited" sh -c "'$PORTIERCTL' audit | grep -q 'recording.hold'"
sed -i '/^recording retention 1s$/d' "$T/etc/portier.conf"
"$PORTIERCTL" reload >/dev/null

# ---- a session process killed with SIGKILL -------------------------------------------------------
(sleep 2; echo 'echo killed-$((2*21))'; sleep 40) |
    vssh ptcarol -tt ptcarol@pacs-01@127.0.0.1 >"$T/kill.out" 2>&1 &
client=$!
pids="$pids $client"
wait_for 40 sh -c "grep -lq 'killed-42' \$(find '$REC' -name '*.cast') 2>/dev/null"
K=$(grep -l 'killed-42' $(find "$REC" -name '*.cast') | head -n1)
# A checkpoint after the command's output, then the kill.
wait_for 10 sh -c "sed -n '/killed-42/,\$p' '$K' | grep -q '\"x\", \"checkpoint '"
check "a live session writes checkpoints every few seconds" \
    sh -c "sed -n '/killed-42/,\$p' '$K' | grep -q '\"x\", \"checkpoint '"
spid=$(session_pids | head -n1)
kill -KILL "$spid"
wait_for 10 sh -c "tail -n1 '$K' | grep -q '\"x\", \"seal '"
kill "$client" 2>/dev/null || true
out=$("$REPLAY" verify "$K" --key "$PUB") && rc=0 || rc=$?
echo "$out"
check "kill -9 of the session: the recorder still seals the file, which verifies (rc $rc)" [ "$rc" = 0 ]
check "and says the session process was lost" grep -q '"m", "end: session process lost"' "$K"

# ---- the recordings disk full, then read-only ------------------------------------------------------
mkdir -p "$REC/$DAY"
mount -t tmpfs -o size=512k,mode=0700 tmpfs "$REC/$DAY"
mounted="$REC/$DAY"
trap 'umount "$mounted" 2>/dev/null || true; cleanup' EXIT
(sleep 3; echo 'echo before-full'; sleep 4; echo 'seq 1 20000'; sleep 3; echo 'echo after-full') |
    vssh ptasmith -tt ptasmith@pacs-01@127.0.0.1 >"$T/full.out" 2>&1 &
client=$!
pids="$pids $client"
wait_for 40 sh -c "grep -rqs 'before-full' '$REC/$DAY'"
dd if=/dev/zero of="$REC/$DAY/fill" bs=64k 2>/dev/null || true
wait "$client" && rc=0 || rc=$?
cat "$T/full.out" | tail -n 3
check "a full disk closes the live session (rc $rc), saying why" \
    sh -c "[ $rc != 0 ] && grep -q 'recording unavailable' '$T/full.out'"
check "the recorder logged why" grep -q 'recording failed: No space left on device' "$T/portierd.log"
out=$(vssh ptasmith ptasmith@pacs-01@127.0.0.1 'echo should-not-run' 2>&1) && rc=0 || rc=$?
echo "$out"
check "a new session is refused while the disk is full (rc $rc)" \
    sh -c "[ $rc != 0 ] && ! echo \"\$1\" | grep -q should-not-run" _ "$out"
check "with the reason: recording unavailable: session refused" \
    sh -c "echo \"\$1\" | grep -q 'recording unavailable: session refused'" _ "$out"
rm -f "$REC/$DAY/fill"
mount -o remount,ro "$REC/$DAY"
out=$(vssh ptcarol ptcarol@pacs-01@127.0.0.1 'echo should-not-run' 2>&1) && rc=0 || rc=$?
echo "$out"
check "a read-only recordings directory refuses new sessions (rc $rc), saying why" \
    sh -c "[ $rc != 0 ] && echo \"\$1\" | grep -q 'recording unavailable: session refused'" _ "$out"
check "the refusals are audited as recording.failed" \
    sh -c "'$PORTIERCTL' audit | grep -q 'recording.failed'"
check "the daemon is still up" "$PORTIERCTL" status
umount "$REC/$DAY"
mounted=""

# ---- the recorder killed with SIGKILL: a cut recording -------------------------------------------
(sleep 2; echo 'echo cut-$((5*5))'; sleep 40) |
    vssh ptjdoe -tt ptjdoe@pacs-01@127.0.0.1 >"$T/cut.out" 2>&1 &
client=$!
pids="$pids $client"
wait_for 60 sh -c "grep -lq 'cut-25' \$(find '$REC' -name '*.cast') 2>/dev/null"
C=$(grep -l 'cut-25' $(find "$REC" -name '*.cast') | head -n1)
wait_for 10 sh -c "sed -n '/cut-25/,\$p' '$C' | grep -q '\"x\", \"checkpoint '"
kill -KILL "$(proc_pid recorder)"
wait_for 10 sh -c "! kill -0 $DAEMON 2>/dev/null"
kill "$client" 2>/dev/null || true
out=$("$REPLAY" verify "$C" --key "$PUB") && rc=0 || rc=$?
echo "$out"
check "kill -9 of the recorder: the file verifies up to its last checkpoint (rc $rc = 2)" \
    sh -c "[ $rc = 2 ] && echo \"\$1\" | grep -q 'not sealed: verified up to checkpoint [1-9]'" _ "$out"
check "and its last checkpoint covers the command's output" \
    sh -c "sed -n '/cut-25/,\$p' '$C' | grep -q checkpoint"

# ---- no secret in a recording or the log --------------------------------------------------------------
check "no private key in the log or any recording" \
    sh -c "! grep -rqs 'PRIVATE KEY' '$T/portierd.log' '$REC'"
check "no vendor password either" \
    sh -c "! grep -rqsF -e '$PT_PASS_ptjdoe' -e '$PT_PASS_ptasmith' -e '$PT_PASS_ptcarol' '$T/portierd.log' '$REC'"

stop_daemon
finish
