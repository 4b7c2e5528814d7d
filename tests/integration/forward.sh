#!/bin/bash
# forward.sh: ssh -L, -R, -A and -X through Portier where the policy
# allows them, with the real OpenSSH client, a real target sshd, a real
# ssh-agent and a real X server (Xvfb).
#
# acme may forward everything on pacs-01; globex only ssh -L.  Refusals
# by default (no "forwarding" in the policy) are in ssh.sh.
. "$(dirname "$0")/lib.sh"
need_root
for tool in sshd oathtool ssh-agent ssh-add; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
	    skip_all "$tool is not installed"
done
PY=$(command -v /usr/bin/python3 python3 | head -n1)
[ -n "$PY" ] || skip_all "python3 is not installed"
setup_env
ECHO="/tmp/pt-tcpecho-$$.py"
trap 'cleanup; rm -f "$ECHO"' EXIT
# The target's account runs the echo client too: a copy it can read.
install -m 644 "$top_srcdir/tests/integration/tcpecho.py" "$ECHO"
ensure_accounts
setup_pam
TARGET_SSHD_EXTRA="X11Forwarding yes
XAuthLocation /usr/bin/xauth" start_target

cat > "$T/etc/policies/test.conf" <<POL
target "pacs-01" {
	address "127.0.0.1" port $TPORT
	account "ptmaint"
}
vendor "acme" {
	user "ptjdoe"
	access "pacs-01" {
		window every day 00:00-24:00
		forwarding yes
		agent yes
		x11 yes
	}
}
vendor "globex" {
	user "ptasmith"
	access "pacs-01" {
		window every day 00:00-24:00
		forwarding local
	}
}
POL
printf 'pam service "%s"\n' "$PAM_SERVICE" >> "$T/etc/portier.conf"
check "a policy granting forwarding, agent and x11 loads without a warning" \
    sh -c "! '$PORTIERD' -n -f '$T/etc/portier.conf' 2>&1 | grep -q warning"
start_daemon
known_hosts
enrol ptjdoe acme
enrol ptasmith globex
"$PORTIERCTL" target credential set pacs-01 ptmaint --key "$T/target/maint_key" >/dev/null
vssh ptjdoe ptjdoe@pacs-01@127.0.0.1 true >/dev/null 2>&1 || true
"$PORTIERCTL" target trust pacs-01 --yes >/dev/null

# A service on the target's side (an echo server), for ssh -L.
SVC=$(free_port)
"$PY" "$ECHO" serve "$SVC" &
pids="$pids $!"
wait_for 5 sh -c "'$PY' '$ECHO' client $SVC 1 >/dev/null"

# fwd_up PORT: until the vendor's ssh listens on PORT.
fwd_up() { wait_for 30 sh -c "'$PY' '$ECHO' client $1 1 >/dev/null 2>&1"; }
# echoes PORT NBYTES: NBYTES there and back through PORT, intact.
echoes() { "$PY" "$ECHO" client "$1" "$2" | grep -q "^echo $2 "; }
# stop_bg PID: a vssh started with &: its ssh, then the subshell.
stop_bg() {
	pkill -TERM -P "$1" 2>/dev/null || true
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# ---- ssh -L ------------------------------------------------------------------
LPORT=$(free_port)
vssh ptjdoe -o ExitOnForwardFailure=yes -L "$LPORT:127.0.0.1:$SVC" \
    ptjdoe@pacs-01@127.0.0.1 'sleep 20' >"$T/L.out" 2>&1 &
L=$!
pids="$pids $L"
check "ssh -L: the forwarded port answers" fwd_up "$LPORT"
check "ssh -L: 20 MB go to the target's service and back intact" echoes "$LPORT" 20000000
# Three at once, each whole.
for i in 1 2 3; do "$PY" "$ECHO" client "$LPORT" 3000000 >"$T/L$i.out" 2>&1 & done
wait_for 60 sh -c "[ \$(cat '$T'/L[123].out 2>/dev/null | grep -c '^echo 3000000 ') -eq 3 ]" || true
check "ssh -L: three connections at once, each intact ($(cat "$T"/L[123].out | tr '\n' ' '))" \
    sh -c "[ \$(cat '$T'/L[123].out | grep -c '^echo 3000000 ') -eq 3 ]"
stop_bg "$L"
wait_for 10 sh -c "grep -rqs 'forward #2 closed' '$T/var/recordings'" || true
check "the recording has each forward, where it went and its byte counts" \
    sh -c "grep -rqs 'forward #1 opened: ssh -L to 127.0.0.1:$SVC' '$T/var/recordings' &&
        grep -rqs 'forward #2 closed: 20000000 bytes to the target, 20000000 back' '$T/var/recordings'"
check "but not what went through it" \
    sh -c "! grep -rqs 'ping' '$T/var/recordings'"

# A port the target cannot reach: the vendor's connection is closed.
DEAD=$(free_port)
LPORT=$(free_port)
vssh ptjdoe -L "$LPORT:127.0.0.1:$DEAD" ptjdoe@pacs-01@127.0.0.1 'sleep 8' >"$T/L-dead.out" 2>&1 &
L=$!
pids="$pids $L"
fwd_up "$LPORT" || true
out=$(timeout 10 "$PY" "$ECHO" client "$LPORT" 1000 2>&1) && rc=0 || rc=$?
check "ssh -L to a closed port: the connection ends, nothing echoes (rc $rc)" [ "$rc" -ne 0 ]
wait_for 10 sh -c "grep -rqs 'to 127.0.0.1:$DEAD refused by the target' '$T/var/recordings'" || true
check "and the recording says the target refused it" \
    grep -rqs "to 127.0.0.1:$DEAD refused by the target" "$T/var/recordings"
stop_bg "$L"

# ---- ssh -R ------------------------------------------------------------------
# The vendor's own service (an echo server on the vendor's side), reached
# from a command on the target through the port the target's sshd opens.
VSVC=$(free_port)
"$PY" "$ECHO" serve "$VSVC" &
pids="$pids $!"
RPORT=$(free_port)
out=$(vssh ptjdoe -o ExitOnForwardFailure=yes -R "$RPORT:127.0.0.1:$VSVC" \
    ptjdoe@pacs-01@127.0.0.1 "id -un; python3 '$ECHO' client $RPORT 2000000" 2>&1)
check "ssh -R: a command on the target reaches the vendor's service ($out)" \
    sh -c "echo \"\$1\" | grep -q '^ptmaint' && echo \"\$1\" | grep -q '^echo 2000000 '" _ "$out"
check "the recording says the target listened for it" \
    grep -rqs "ssh -R: the target listens on localhost:$RPORT" "$T/var/recordings"
out=$(vssh ptasmith -o ExitOnForwardFailure=yes -R "$RPORT:127.0.0.1:$VSVC" \
    ptasmith@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "ssh -R under \"forwarding local\" is refused (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'remote port forwarding failed'" _ "$out"
out=$(vssh ptasmith -o ExitOnForwardFailure=yes -R "$RPORT:127.0.0.1:$VSVC" \
    ptasmith@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "ssh -R with no target in the login is refused (rc $rc)" [ "$rc" -ne 0 ]
LPORT2=$(free_port)
vssh ptasmith -o ExitOnForwardFailure=yes -L "$LPORT2:127.0.0.1:$SVC" \
    ptasmith@pacs-01@127.0.0.1 'sleep 10' >"$T/L2.out" 2>&1 &
L=$!
pids="$pids $L"
fwd_up "$LPORT2" || true
check "ssh -L under \"forwarding local\" works" echoes "$LPORT2" 100000
stop_bg "$L"

# ---- ssh -N: forwarding only, no shell ---------------------------------------
LPORT=$(free_port)
RPORT=$(free_port)
vssh ptjdoe -N -o ExitOnForwardFailure=yes -L "$LPORT:127.0.0.1:$SVC" \
    -R "$RPORT:127.0.0.1:$VSVC" ptjdoe@pacs-01@127.0.0.1 >"$T/N.out" 2>&1 &
L=$!
pids="$pids $L"
check "ssh -N -L: the forwarded port answers" fwd_up "$LPORT"
check "ssh -N -L: 5 MB there and back intact" echoes "$LPORT" 5000000
# The target's sshd listens on 127.0.0.1 here: the test can dial it.
check "ssh -N -R: the port on the target leads to the vendor's side" echoes "$RPORT" 100000
check "portierctl sessions lists the forwarding-only session" \
    sh -c "'$PORTIERCTL' sessions | grep -q ptjdoe"
stop_bg "$L"
wait_for 10 sh -c "grep -rqs 'forwarding only (ssh -N)' '$T/var/recordings'" || true
check "its recording says it was for forwarding only" \
    grep -rqs 'forwarding only (ssh -N)' "$T/var/recordings"

# ssh -N -R alone opens no channel: Portier waits a few seconds for one.
RPORT=$(free_port)
vssh ptjdoe -N -o ExitOnForwardFailure=yes -R "$RPORT:127.0.0.1:$VSVC" \
    ptjdoe@pacs-01@127.0.0.1 >"$T/NR.out" 2>&1 &
L=$!
pids="$pids $L"
check "ssh -N -R alone: the target's port opens" fwd_up "$RPORT"
check "ssh -N -R alone: it leads to the vendor's side" echoes "$RPORT" 100000
stop_bg "$L"

# ---- ssh -A -------------------------------------------------------------------
eval "$(ssh-agent -s)" >/dev/null
pids="$pids $SSH_AGENT_PID"
ssh-keygen -q -t ed25519 -N "" -C "vendor-key" -f "$T/vendor_key"
ssh-add -q "$T/vendor_key" 2>/dev/null
vfp=$(ssh-keygen -lf "$T/vendor_key.pub" | awk '{print $2}')
out=$(vssh ptjdoe -A ptjdoe@pacs-01@127.0.0.1 'ssh-add -l' 2>&1)
check "ssh -A: the target sees the vendor's agent and key ($out)" \
    sh -c "echo \"\$1\" | grep -qF '$vfp'" _ "$out"
check "and never the key Portier logs in with" \
    sh -c "! echo \"\$1\" | grep -q 'vault-only key'" _ "$out"
out=$(vssh ptasmith -A ptasmith@pacs-01@127.0.0.1 'echo "agent=[$SSH_AUTH_SOCK]"' 2>&1)
check "ssh -A where the policy does not say \"agent yes\": no agent ($out)" \
    sh -c "echo \"\$1\" | grep -q 'agent=\[\]'" _ "$out"
kill "$SSH_AGENT_PID" 2>/dev/null || true
unset SSH_AUTH_SOCK SSH_AGENT_PID

# ---- ssh -X -------------------------------------------------------------------
if command -v Xvfb >/dev/null && command -v xdpyinfo >/dev/null; then
	XD=$((90 + $$ % 9))
	Xvfb ":$XD" -screen 0 640x480x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
	pids="$pids $!"
	wait_for 10 test -S "/tmp/.X11-unix/X$XD"
	out=$(DISPLAY=":$XD" vssh ptjdoe -X ptjdoe@pacs-01@127.0.0.1 \
	    'echo "display=[$DISPLAY]"; xdpyinfo 2>&1 | grep -m1 "vendor string"' 2>&1) || true
	check "ssh -X: an X client on the target draws on the vendor's X server ($out)" \
	    sh -c "echo \"\$1\" | grep -q 'display=\[localhost:' && echo \"\$1\" | grep -q 'vendor string'" _ "$out"
	check "the recording has the X11 channel" \
	    grep -rqs "opened: X11 channel from the target" "$T/var/recordings"
	out=$(DISPLAY=":$XD" vssh ptasmith -X ptasmith@pacs-01@127.0.0.1 'echo "display=[$DISPLAY]"' 2>&1)
	check "ssh -X where the policy does not say \"x11 yes\": no display ($out)" \
	    sh -c "echo \"\$1\" | grep -q 'display=\[\]'" _ "$out"
else
	echo "# Xvfb or xdpyinfo missing: ssh -X not tried"
fi

# ---- a reload that withdraws forwarding --------------------------------------
# globex may no longer forward: its open forward closes, its session goes on.
LPORT=$(free_port)
vssh ptasmith -L "$LPORT:127.0.0.1:$SVC" ptasmith@pacs-01@127.0.0.1 'sleep 40' \
    >"$T/W.out" 2>&1 &
W=$!
pids="$pids $W"
fwd_up "$LPORT" || true
"$PY" "$ECHO" hold "$LPORT" >"$T/hold.out" 2>&1 &
pids="$pids $!"
wait_for 10 grep -q '^open' "$T/hold.out" || true
check "before the reload, a connection through ssh -L is open" grep -q '^open' "$T/hold.out"
sed -i '/forwarding local/d' "$T/etc/policies/test.conf"
out=$("$PORTIERCTL" reload 2>&1)
check "a reload withdraws globex's forwarding, no session ends ($out)" \
    sh -c "echo \"\$1\" | grep -q '0 live sessions ended'" _ "$out"
check "the open forwarded connection is closed" wait_for 10 grep -q '^closed' "$T/hold.out"
out=$(timeout 10 "$PY" "$ECHO" client "$LPORT" 1000 2>&1) && rc=0 || rc=$?
check "a new connection through the same ssh -L gets nothing (rc $rc)" [ "$rc" -ne 0 ]
check "the session itself goes on" kill -0 "$W"
check "the vendor is told" wait_for 5 grep -q \
    'no longer allows this forwarding: 1 forwarded connection was closed' "$T/W.out"
check "the recording says the forward was withdrawn" \
    grep -rqs 'withdrawn by the policy' "$T/var/recordings"
check "the audit says what was withdrawn, from which session" \
    sh -c "'$PORTIERCTL' audit | grep -q 'session.forwarding.*ptasmith.*withdrawn: ssh -L'"
stop_bg "$W"

check "no target credential reached a recording" \
    sh -c "! grep -rqsF \"\$(sed -n 2p '$T/target/maint_key')\" '$T/var/recordings'"
check "the daemon is still up" kill -0 "$DAEMON"
finish
