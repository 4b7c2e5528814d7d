#!/bin/bash
# ssh.sh: the SSH access path, end to end, with real peers.
#
# A target sshd on 127.0.0.1 whose maintenance account's key only the
# vault holds; vendors logging in to portierd with the real OpenSSH ssh,
# scp and sftp clients, their password through real PAM (pam_unix) and
# their verification codes computed by oathtool.  What the vendor sees is
# compared with what the same command gives directly on the target.
. "$(dirname "$0")/lib.sh"
need_root
for tool in sshd oathtool sftp scp; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
	    skip_all "$tool is not installed"
done
setup_env
# Files the tests write on the target, under /tmp: gone whatever happens.
trap 'cleanup; rm -f /tmp/pt-up-$$.bin /tmp/pt-scp-$$.bin /tmp/pt-a-$$.bin /tmp/pt-j-$$.bin' EXIT
ensure_accounts
setup_pam
start_target
write_ssh_policy
start_daemon
known_hosts

# ---- the administrator's side --------------------------------------------
enrol ptjdoe acme
enrol ptasmith globex
enrol ptcarol acme
check "target credential set --key stores the vault-only key" \
    "$PORTIERCTL" target credential set pacs-01 ptmaint --key "$T/target/maint_key"
check "target credential set --password-stdin stores a password" \
    sh -c "printf '%s\n' '$PT_PASS_ptmaintpw' | '$PORTIERCTL' target credential set lab-01 ptmaintpw --password-stdin"

# Before an administrator trusts the target's key, nobody gets through.
out=$(vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "an untrusted target key refuses the session (rc $rc)" [ "$rc" -ne 0 ]
check "and says what hospital IT must do" \
    sh -c "echo \"\$1\" | grep -q 'portierctl target trust pacs-01'" _ "$out"
fp=$(ssh-keygen -lf "$T/target/host_ed25519.pub" | awk '{print $2}')
check "target trust shows the fingerprint the target has ($fp)" \
    sh -c "echo n | '$PORTIERCTL' target trust pacs-01 | grep -qF '$fp'"
check "target trust --yes pins it" "$PORTIERCTL" target trust pacs-01 --yes
vssh ptasmith ptasmith@pacs-01@127.0.0.1 true >/dev/null 2>&1 || true
vssh ptjdoe ptjdoe@lab-01@127.0.0.1 true >/dev/null 2>&1 || true
check "lab-01 (same host, another account) is trusted the same way" \
    "$PORTIERCTL" target trust lab-01 --yes

# ---- commands, exit status, signals ----------------------------------------
out=$(vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 'echo through portier; id -un' 2>&1)
check "a command runs on the target as the policy's account" \
    [ "$out" = "$(printf 'through portier\nptmaint')" ]
vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 'exit 3' >/dev/null 2>"$T/exit3.err" &&
    rc=0 || rc=$?
check "ssh ... 'exit 3' returns 3 (got $rc)" [ "$rc" = 3 ]
[ "$rc" = 3 ] || sed 's/^/#   ssh: /' "$T/exit3.err"
check "the recording names the command run" \
    grep -rqsF '"m", "exec: exit 3"' "$T/var/recordings"
direct_ssh 'kill -TERM $$' >/dev/null 2>&1 && drc=0 || drc=$?
vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 'kill -TERM $$' >/dev/null 2>&1 && rc=0 || rc=$?
check "a command killed by a signal reports like direct ssh ($rc = $drc)" [ "$rc" = "$drc" ]
out=$(vssh ptjdoe ptjdoe@lab-01@127.0.0.1 'id -un' 2>&1)
check "a password credential logs in too ($out)" [ "$out" = ptmaintpw ]
# RSA and ECDSA keys in the vault: the monitor's agent signs with them
# (RSA with SHA-2: OpenSSH 8.8 and later refuse SHA-1 signatures).
for kt in rsa ecdsa; do
	case $kt in rsa) bits=3072 ;; ecdsa) bits=384 ;; esac
	ssh-keygen -q -t "$kt" -b "$bits" -N "" -C "vault-only $kt key" \
	    -f "$T/target/maint_$kt"
	cat "$T/target/maint_$kt.pub" >> "$T/target/authorized_keys"
	"$PORTIERCTL" target credential set pacs-01 ptmaint \
	    --key "$T/target/maint_$kt" >/dev/null
	out=$(vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 'id -un' 2>&1) || true
	check "an $kt $bits key in the vault logs in to the target ($out)" \
	    [ "$out" = ptmaint ]
done
check "the target saw an RSA and an ECDSA key" sh -c \
    "grep -q 'Accepted publickey for ptmaint.* RSA ' '$T/target/sshd.log' &&
     grep -q 'Accepted publickey for ptmaint.* ECDSA ' '$T/target/sshd.log'"
"$PORTIERCTL" target credential set pacs-01 ptmaint --key "$T/target/maint_key" >/dev/null
out=$(vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 'echo out; echo err >&2' 2>"$T/err")
check "stdout and stderr stay apart" [ "$out" = out -a "$(cat "$T/err")" = err ]

# ---- an interactive pty session ----------------------------------------------
out=$( (sleep 2; echo 'echo answer-$((6*7)); tty'; sleep 1; echo 'exit 5') |
    vssh ptjdoe -tt ptjdoe@pacs-01@127.0.0.1 2>&1) && rc=0 || rc=$?
check "an interactive shell computes 42" sh -c "echo \"\$1\" | grep -q 'answer-42'" _ "$out"
check "and runs on a pty" sh -c "echo \"\$1\" | grep -q '/dev/pts/'" _ "$out"
check "and exit 5 ends it with status 5 (got $rc)" [ "$rc" = 5 ]
check "the recording holds what the vendor typed" \
    grep -rqsF '"i", "echo answer-$((6*7)); tty' "$T/var/recordings"

# Without a target, a shell shows the vendor's targets and lets them pick.
out=$( (sleep 2; printf '1\r'; sleep 2; echo 'id -un; exit') |
    vssh ptjdoe -tt ptjdoe@127.0.0.1 2>&1) || true
check "the menu lists pacs-01 with its window" \
    sh -c "echo \"\$1\" | grep -q 'pacs-01.*open until'" _ "$out"
check "picking 1 lands on pacs-01" sh -c "echo \"\$1\" | grep -q 'ptmaint'" _ "$out"
out=$(vssh ptjdoe ptjdoe@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "a command without a target says how to name one (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'LOGIN@TARGET'" _ "$out"
out=$(vssh ptasmith ptasmith@lab-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "a target outside the vendor's policy is refused (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'not a target you may use'" _ "$out"

# ---- files ---------------------------------------------------------------------
head -c 50000000 /dev/urandom > "$T/big.bin"
sum=$(sha256sum < "$T/big.bin")
rm -f /tmp/pt-up-$$.bin /tmp/pt-scp-$$.bin
# sftp -b would set BatchMode, which rules out any prompt: commands on stdin.
vclient sftp ptjdoe ptjdoe@pacs-01@127.0.0.1 >"$T/sftp.out" 2>&1 <<SFTP || true
put $T/big.bin /tmp/pt-up-$$.bin
get /tmp/pt-up-$$.bin $T/big.sftp
SFTP
check "sftp: 50 MB up and down, same SHA-256" [ "$(sha256sum < "$T/big.sftp" 2>/dev/null)" = "$sum" ]
check "the recording's transfer log has the upload, its size and SHA-256" \
    grep -rqsF "sftp upload /tmp/pt-up-$$.bin: 50000000 bytes, sha256 ${sum%% *}" "$T/var/recordings"
check "and the download" \
    grep -rqsF "sftp download /tmp/pt-up-$$.bin: 50000000 bytes, sha256 ${sum%% *}" "$T/var/recordings"
check "and not the file's bytes: the sftp recording stays small" \
    sh -c "[ \$(du -sk '$T/var/recordings' | cut -f1) -lt 20000 ]"
vclient scp ptjdoe "$T/big.bin" ptjdoe@pacs-01@127.0.0.1:/tmp/pt-scp-$$.bin >"$T/scp.out" 2>&1 || true
check "scp (SFTP protocol): 50 MB up, same SHA-256 on the target" \
    [ "$(sha256sum < /tmp/pt-scp-$$.bin 2>/dev/null)" = "$sum" ]
check "scp's upload is in the transfer log too" \
    grep -rqsF "sftp upload /tmp/pt-scp-$$.bin: 50000000 bytes, sha256 ${sum%% *}" "$T/var/recordings"
rm -f "$T/big.down"
vclient scp ptjdoe -O ptjdoe@pacs-01@127.0.0.1:/tmp/pt-scp-$$.bin "$T/big.down" >"$T/scp-O.out" 2>&1 || true
check "scp -O (the old scp protocol, an exec): 50 MB down, same SHA-256" \
    [ "$(sha256sum < "$T/big.down" 2>/dev/null)" = "$sum" ]
# An exec without a terminal carrying data: the recording keeps its first
# MiB, and the size and SHA-256 of all of it.
chmod 644 "$T/big.bin"
vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 "cat $T/big.bin" > "$T/big.cat" 2>/dev/null || true
check "a 50 MB exec output arrives whole" [ "$(sha256sum < "$T/big.cat")" = "$sum" ]
rec=$(grep -rlsF "cat $T/big.bin" "$T/var/recordings" | head -n1)
check "its recording holds the size and SHA-256 of the output" \
    grep -qF "exec output: 50000000 bytes, sha256 ${sum%% *} (the first 1 MiB is recorded)" "$rec"
check "and stays small ($(stat -c %s "$rec" 2>/dev/null) bytes)" \
    [ "$(stat -c %s "$rec" 2>/dev/null || echo 99999999)" -lt 8000000 ]
rm -f /tmp/pt-up-$$.bin /tmp/pt-scp-$$.bin "$T/big.sftp" "$T/big.down" "$T/big.cat"
echo "ls /" | vclient sftp ptjdoe ptjdoe@lab-01@127.0.0.1 >"$T/sftp-no.out" 2>&1 || true
check "sftp to a target whose policy says \"sftp no\" is refused, and says why" \
    grep -q 'SFTP.*not allowed' "$T/sftp-no.out"

# ---- forwarding is refused without a policy --------------------------------------
LPORT=$(free_port)
vssh ptasmith -L "$LPORT:127.0.0.1:$TPORT" ptasmith@pacs-01@127.0.0.1 'sleep 4' >"$T/fwd-L.out" 2>&1 &
fwd=$!
sleep 3
banner=$(timeout 2 bash -c "exec 9<>/dev/tcp/127.0.0.1/$LPORT; head -c 7 <&9" 2>/dev/null || true)
wait "$fwd" || true
check "ssh -L: the forwarded port reaches nothing (got '$banner')" [ -z "$banner" ]
check "ssh -L: the client is told it is prohibited" grep -q 'administratively prohibited\|open failed' "$T/fwd-L.out"
vssh ptasmith -o ExitOnForwardFailure=yes -R "0:127.0.0.1:$TPORT" ptasmith@pacs-01@127.0.0.1 true >"$T/fwd-R.out" 2>&1 && rc=0 || rc=$?
check "ssh -R is refused (rc $rc)" grep -q 'remote port forwarding failed' "$T/fwd-R.out"
eval "$(ssh-agent -s)" >/dev/null
pids="$pids $SSH_AGENT_PID"
out=$(vssh ptasmith -A ptasmith@pacs-01@127.0.0.1 'echo "agent=[$SSH_AUTH_SOCK]"' 2>&1)
check "ssh -A gives the target no agent ($out)" sh -c "echo \"\$1\" | grep -q 'agent=\[\]'" _ "$out"
kill "$SSH_AGENT_PID" 2>/dev/null || true
out=$(DISPLAY=:99 vssh ptasmith -X ptasmith@pacs-01@127.0.0.1 'echo "display=[$DISPLAY]"' 2>&1)
check "ssh -X gives the target no display ($out)" sh -c "echo \"\$1\" | grep -q 'display=\[\]'" _ "$out"
check "the refusals are in the recordings" sh -c "grep -rqs 'refused: ' '$T/var/recordings'"

# ---- wrong answers, replays, lockout ----------------------------------------------
out=$(PT_PASS_ptcarol=wrong vssh ptcarol ptcarol@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "a wrong password is refused, attempts left shown" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'Password incorrect (2 attempts left)'" _ "$out"
out=$(vssh ptcarol ptcarol@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "the right answers then log in (rc $rc), the count is reset" [ "$rc" = 0 ]
out=$(PT_TOTP_STEP=replay vssh ptcarol ptcarol@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "a code already used is refused" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'already used'" _ "$out"
out=$(PT_TOTP_STEP=old vssh ptcarol ptcarol@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "an expired code is refused" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'Verification code incorrect (1 attempt left)'" _ "$out"
out=$(PT_PASS_ptcarol=wrong vssh ptcarol ptcarol@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "the third failure locks the account and says until when" \
    sh -c "echo \"\$1\" | grep -q 'account locked until [0-9][0-9]:[0-9][0-9]'" _ "$out"
out=$(vssh ptcarol ptcarol@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "while locked, even the right answers are refused" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'Account locked'" _ "$out"
check "the lockout is audited" sh -c "'$PORTIERCTL' audit | grep -q 'auth.lockout.*ptcarol'"
out=$(PT_PASSWORD=x vssh ptcarol nosuchuser@pacs-01@127.0.0.1 true 2>&1) || true
check "an unknown login reads like a wrong password" \
    sh -c "echo \"\$1\" | grep -q 'Password incorrect (2 attempts left)'" _ "$out"
# Time passes: the lock ends by itself (1 minute in this configuration).
sqlite3 "$T/var/portier.db" "UPDATE users SET locked_until = strftime('%s','now') - 1 WHERE name = 'ptcarol'"
out=$(vssh ptcarol ptcarol@pacs-01@127.0.0.1 'echo back' 2>&1) && rc=0 || rc=$?
check "once the lockout expires the vendor logs in again ($out)" [ "$out" = back ]

# ---- the vault's secrets never reach the vendor's side ----------------------------
keyline=$(sed -n 2p "$T/target/maint_key")
"$PORTIERCTL" audit > "$T/audit.txt"
for f in "$T/portierd.log" "$T/audit.txt" $(find "$T/var/recordings" -type f); do
	if grep -aqF -e "$keyline" -e "$PT_PASS_ptmaintpw" "$f"; then
		not_ok "a target credential leaked into $f"
	fi
done
check "no target credential in the log, the audit trail or any recording" true
check "nor any vendor password" sh -c "! grep -raqF -e '$PT_PASS_ptjdoe' -e '$PT_PASS_ptasmith' '$T/portierd.log' '$T/audit.txt' '$T/var/recordings'"
check "the store holds the credentials sealed, not in clear" \
    sh -c "! grep -aqF -e '$keyline' -e '$PT_PASS_ptmaintpw' '$T/var/portier.db'"

# ---- two vendors at once; one drops mid-transfer ---------------------------------
vclient scp ptasmith "$T/big.bin" ptasmith@pacs-01@127.0.0.1:/tmp/pt-a-$$.bin >"$T/scp-a.out" 2>&1 &
a=$!
vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 "cat > /tmp/pt-j-$$.bin" < /dev/urandom >/dev/null 2>&1 &
j=$!
# Kill the ssh client itself (the job is a subshell running it) once its
# data reaches the target: the relay must drop it, the other go on.
wait_for 60 sh -c "[ \$(stat -c %s /tmp/pt-j-$$.bin 2>/dev/null || echo 0) -gt 1000000 ]" || true
pkill -KILL -P "$j" 2>/dev/null || true
kill -KILL "$j" 2>/dev/null || true
wait "$a" && rc=0 || rc=$?
check "the other vendor's transfer completes (rc $rc)" \
    [ "$rc" = 0 -a "$(sha256sum < /tmp/pt-a-$$.bin 2>/dev/null)" = "$sum" ]
check "the daemon still serves after a client vanished" "$PORTIERCTL" status
s1=$(stat -c %s /tmp/pt-j-$$.bin 2>/dev/null || echo 0); sleep 2
s2=$(stat -c %s /tmp/pt-j-$$.bin 2>/dev/null || echo 0)
check "the vanished client's transfer stopped on the target ($s1 = $s2 bytes)" \
    [ "$s1" -gt 0 -a "$s1" = "$s2" ]
rm -f /tmp/pt-a-$$.bin /tmp/pt-j-$$.bin

# ---- the target's key changes: refused, alerted --------------------------------------
stop_target
ssh-keygen -q -t ed25519 -N "" -f "$T/target/other_host_key"
TARGET_HOSTKEY="$T/target/other_host_key" start_target_on "$TPORT"
out=$(vssh ptasmith ptasmith@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "a changed target host key refuses the session (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'does not match'" _ "$out"
check "and raises an alert in the log" grep -q 'ALERT: host key of target pacs-01 changed' "$T/portierd.log"
check "and is audited" sh -c "'$PORTIERCTL' audit | grep -q 'target.hostkey.mismatch'"
check "the session's end is audited with why it ended, not just \"closed\"" \
    sh -c "'$PORTIERCTL' audit | grep 'session.end' | grep -q 'host key'"

# ---- a target whose only host key is ECDSA: pinned like any other ---------------------
stop_target
ssh-keygen -q -t ecdsa -b 256 -N "" -f "$T/target/ecdsa_host_key"
TARGET_HOSTKEY="$T/target/ecdsa_host_key" start_target_on "$TPORT"
out=$(vssh ptasmith ptasmith@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "a target now keyed with ECDSA only is refused as changed (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'does not match'" _ "$out"
check "hospital IT pins its ECDSA key" "$PORTIERCTL" target trust pacs-01 --yes
out=$(vssh ptasmith ptasmith@pacs-01@127.0.0.1 'echo ecdsa-$((2*3))' 2>&1) && rc=0 || rc=$?
check "and the vendor reaches it (rc $rc)" \
    sh -c "[ $rc = 0 ] && echo \"\$1\" | grep -q 'ecdsa-6'" _ "$out"

# ---- algorithms ------------------------------------------------------------------------
if command -v ssh-audit >/dev/null; then
	ssh-audit -n -p "$PORT" 127.0.0.1 > "$T/ssh-audit.out" 2>&1 && rc=0 || rc=$?
	# Debian 12's ssh-audit predates strict key exchange (the Terrapin
	# counter-measure) and flags its marker as unknown: that one may stay.
	# (Its exit status counts that marker too, so the lines are read.)
	grep -E '\[(fail|warn)\]|^\(cve\)' "$T/ssh-audit.out" |
	    grep -v 'kex-strict-s-v00@openssh.com' > "$T/ssh-audit.bad" || true
	check "ssh-audit finds no failure, warning or CVE (rc $rc)" \
	    [ ! -s "$T/ssh-audit.bad" ]
	cat "$T/ssh-audit.bad"
	check "ssh-audit saw the modern algorithms offered" \
	    grep -q 'curve25519-sha256' "$T/ssh-audit.out"
else
	ok "# SKIP ssh-audit is not installed"
fi
check "the audit chain verifies after all this" "$PORTIERCTL" audit verify

stop_daemon
finish
