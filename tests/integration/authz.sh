#!/bin/bash
# authz.sh: windows, the approval queue and their enforcement on live
# sessions, with the real OpenSSH client and portierctl.
#
# Vendors ask hospital IT for a window from their session and wait there;
# an administrator approves, denies, revokes, kills or reloads the policy
# with portierctl, and what the vendor's ssh prints shows the effect.
. "$(dirname "$0")/lib.sh"
need_root
for tool in sshd oathtool setpriv; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
	    skip_all "$tool is not installed"
done
setup_env
ensure_accounts
setup_pam
start_target

# Four eyes: ptjdoe is a vendor's technician and, for this test, also an
# administrator (a member of the admin group): they must not decide their
# own requests.
getent group ptadmins >/dev/null || groupadd ptadmins
usermod -a -G ptadmins ptjdoe
sed -i 's/^admin group "adm"/admin group "ptadmins"/' "$T/etc/portier.conf"

write_policy() {	# write_policy [lab]: with or without acme's lab-01 access
	cat > "$T/etc/policies/test.conf" <<POL
target "pacs-01" {
	address "127.0.0.1" port $TPORT
	account "ptmaint"
}
target "lab-01" {
	address "127.0.0.1" port $TPORT
	account "ptmaintpw"
}
vendor "acme" {
	user "ptjdoe"
	user "ptcarol"
	user "ptdave"
	access "pacs-01" {
		approval max 4h
		emergency max 1h
	}
$( [ "${1:-}" = lab ] && printf '\taccess "lab-01" {\n\t\twindow every day 00:00-24:00\n\t}\n' )
}
vendor "globex" {
	user "ptasmith"
	source 127.0.0.2/32
	access "pacs-01" {
		window every day 00:00-24:00
	}
}
vendor "initech" {
	user "pterin"
	access "pacs-01" {
		approval max 5m
	}
}
POL
}
write_policy lab
printf 'pam service "%s"\nlockout 1m\n' "$PAM_SERVICE" >> "$T/etc/portier.conf"

# Hospital IT's webhook: a receiver on 127.0.0.1 keeps every document.
HPORT=$(free_port)
cat > "$T/hook.py" <<'PY'
import http.server, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
PY
python3 "$T/hook.py" "$HPORT" "$T/hook.jsonl" &
pids="$pids $!"
printf 'webhook "http://127.0.0.1:%s/portier"\nwebhook retry 1s\n' "$HPORT" >> "$T/etc/portier.conf"
start_daemon
known_hosts

for u in ptjdoe:acme ptcarol:acme ptdave:acme ptasmith:globex pterin:initech; do
	enrol "${u%%:*}" "${u#*:}"
done
"$PORTIERCTL" target credential set pacs-01 ptmaint --key "$T/target/maint_key" >/dev/null
printf '%s\n' "$PT_PASS_ptmaintpw" |
    "$PORTIERCTL" target credential set lab-01 ptmaintpw --password-stdin >/dev/null

# ---- sources --------------------------------------------------------------------
out=$(vssh ptasmith ptasmith@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "a connection from an undeclared source is refused (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'not declared for globex'" _ "$out"
check "and audited with its reason" \
    sh -c "'$PORTIERCTL' audit | grep 'access.deny' | grep -q 'undeclared source address'"
vssh ptasmith -b 127.0.0.2 ptasmith@pacs-01@127.0.0.1 true >/dev/null 2>&1 || true
"$PORTIERCTL" target trust pacs-01 --yes >/dev/null
vssh ptjdoe ptjdoe@lab-01@127.0.0.1 true >/dev/null 2>&1 || true
"$PORTIERCTL" target trust lab-01 --yes >/dev/null
out=$(vssh ptasmith -b 127.0.0.2 ptasmith@pacs-01@127.0.0.1 'id -un' 2>&1) || true
check "the declared source (127.0.0.2) gets through ($out)" [ "$out" = ptmaint ]

# ---- no window ----------------------------------------------------------------------
out=$(vssh pterin pterin@pacs-01@127.0.0.1 true 2>&1) && rc=0 || rc=$?
check "no window: refused (rc $rc), saying how to ask for one" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'No window is open' &&
        echo \"\$1\" | grep -q 'request pacs-01 --for'" _ "$out"

# An interactive session fed through a fifo, as a technician types.
tty_start() {	# tty_start NAME USER SSH-ARGS...
	local name=$1 u=$2 fd; shift 2
	rm -f "$T/$name.in"; mkfifo "$T/$name.in"
	vssh "$u" -tt "$@" <"$T/$name.in" >"$T/$name.out" 2>&1 &
	eval "${name}_pid=$!"
	pids="$pids $!"
	exec {fd}>"$T/$name.in"
	eval "${name}_fd=$fd"
}
tty_type() {	# tty_type NAME TEXT: TEXT and Enter
	local fd; eval "fd=\$${1}_fd"
	printf '%s\r' "$2" >&"$fd"
}
tty_wait() {	# tty_wait NAME SECONDS PATTERN
	wait_for "$2" grep -q -- "$3" "$T/$1.out"
}
tty_end() {	# tty_end NAME: close its input, wait for ssh to end
	local fd pid; eval "fd=\$${1}_fd; pid=\$${1}_pid"
	exec {fd}>&-
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" || kill "$pid" 2>/dev/null || true
}
request_id() {	# request_id NAME: the number in "Request #N sent"
	sed -n 's/.*Request #\([0-9]*\) sent.*/\1/p' "$T/$1.out" | head -n1
}

# ---- ask, wait, approve: the same session goes on --------------------------------------
tty_start jd ptjdoe ptjdoe@pacs-01@127.0.0.1
check "no window: the session offers to ask hospital IT" tty_wait jd 30 'Reason (required'
tty_type jd 'replace the failing disk of the archive'
tty_wait jd 10 'Duration, at most 4h' || true
tty_type jd '2h'
tty_wait jd 10 'emergency' || true
tty_type jd 'no'
check "the request is filed and the vendor waits" tty_wait jd 10 'Waiting for hospital IT'
rq=$(request_id jd)
check "the vendor is told its number (#$rq)" [ -n "$rq" ]
out=$("$PORTIERCTL" requests --pending)
check "portierctl requests --pending lists it with its reason" \
    sh -c "echo \"\$1\" | grep -q \"#$rq .*pending.*ptjdoe.*pacs-01.*replace the failing disk\"" _ "$out"
out=$(setpriv --reuid=ptjdoe --regid=ptjdoe --init-groups "$PORTIERCTL" approve "$rq" 2>&1) && rc=0 || rc=$?
check "four eyes: ptjdoe, an administrator too, cannot approve their own request (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'filed by you'" _ "$out"
check "and the attempt is audited" \
    sh -c "'$PORTIERCTL' audit | grep ' request.self_decision ' | grep -q ptjdoe"
out=$("$PORTIERCTL" approve "$rq" --for 8h --note "ticket 4711" 2>&1)
check "another administrator approves; the duration is cut to the policy's 4h" \
    sh -c "echo \"\$1\" | grep -q 'approved' && echo \"\$1\" | grep -q 'maximum of 4h'" _ "$out"
check "the waiting session goes on to the target by itself" tty_wait jd 20 "^\[portier\]\|ptmaint@\|\\$ "
tty_type jd 'echo through-$((40+2)); id -un'
check "and runs commands there as the policy's account" tty_wait jd 20 'through-42'
out=$("$PORTIERCTL" sessions)
check "portierctl sessions shows it relaying, with its window end" \
    sh -c "echo \"\$1\" | grep -q 'ptjdoe.*acme.*pacs-01.*relaying'" _ "$out"
out=$("$PORTIERCTL" --json grants)
gid=$(echo "$out" | python3 -c "import json,sys; print([g['id'] for g in json.load(sys.stdin) if g['request'] == $rq][0])")
check "the approval is grant #$gid, for 4h" \
    sh -c "echo \"\$1\" | python3 -c 'import json,sys; g=[g for g in json.load(sys.stdin) if g[\"id\"] == $gid][0]; assert g[\"ends\"] - g[\"starts\"] == 4*3600'" _ "$out"

# ---- revoke cuts at once ----------------------------------------------------------------------
out=$("$PORTIERCTL" revoke "$gid" --reason "work moved to tomorrow")
check "revoke reports the session it cut ($out)" sh -c "echo \"\$1\" | grep -q '1 live session cut'" _ "$out"
check "the vendor reads why, at once" tty_wait jd 10 'revoked your access: work moved to tomorrow'
tty_end jd

# ---- deny ----------------------------------------------------------------------------------------
tty_start cd ptcarol ptcarol@pacs-01@127.0.0.1
tty_wait cd 30 'Reason (required' || true
tty_type cd 'update the viewer'
tty_wait cd 10 'Duration' || true
tty_type cd ''
tty_wait cd 10 'emergency' || true
tty_type cd ''
tty_wait cd 10 'Waiting for hospital IT' || true
rq2=$(request_id cd)
out=$("$PORTIERCTL" deny "$rq2" 2>&1) && rc=0 || rc=$?
check "deny without a reason is refused (rc $rc)" [ "$rc" -ne 0 ]
"$PORTIERCTL" deny "$rq2" --reason "not during the audit week" >/dev/null
check "a denial ends the waiting session with the approver's reason" \
    tty_wait cd 10 "denied by hospital IT: not during the audit week"
tty_end cd

# ---- Ctrl-C while waiting withdraws the request ----------------------------------------------
tty_start cc ptcarol ptcarol@pacs-01@127.0.0.1
tty_wait cc 40 'Reason (required' || true
tty_type cc 'check the logs'
tty_wait cc 10 'Duration' || true
tty_type cc '30m'
tty_wait cc 10 'emergency' || true
tty_type cc 'n'
tty_wait cc 10 'Waiting for hospital IT' || true
rq3=$(request_id cc)
eval "printf '\\003' >&\$cc_fd"
check "Ctrl-C while waiting says the request is withdrawn" tty_wait cc 10 'withdrawn'
tty_end cc
check "and the request is cancelled (#$rq3)" \
    sh -c "'$PORTIERCTL' requests | grep -q '#$rq3 .*cancelled'"

# ---- kill while waiting: the request is cancelled in the killer's name -----------------------------
tty_start kw ptcarol ptcarol@pacs-01@127.0.0.1
tty_wait kw 40 'Reason (required' || true
tty_type kw 'look at the archive'
tty_wait kw 10 'Duration' || true
tty_type kw '30m'
tty_wait kw 10 'emergency' || true
tty_type kw 'n'
tty_wait kw 10 'Waiting for hospital IT' || true
rqk=$(request_id kw)
sidk=$("$PORTIERCTL" --json sessions | python3 -c 'import json,sys; print([s["session"] for s in json.load(sys.stdin) if s["user"] == "ptcarol"][0])')
"$PORTIERCTL" kill "$sidk" --reason "unexpected request" >/dev/null
check "a killed waiting session is told why" tty_wait kw 10 'closed this session: unexpected request'
tty_end kw
check "its request is cancelled by the administrator, not the vendor (#$rqk)" \
    sh -c "'$PORTIERCTL' audit | grep ' request.cancel ' | grep -v ptcarol | grep -q 'session killed: unexpected request'"

# ---- an emergency --------------------------------------------------------------------------------
tty_start em ptdave ptdave@pacs-01@127.0.0.1
tty_wait em 30 'Reason (required' || true
tty_type em 'PACS down, radiology stopped'
tty_wait em 10 'Duration' || true
tty_type em '5h'
check "a duration over the policy's maximum is asked again" \
    tty_wait em 10 'longer than your policy allows: at most 4h'
tty_type em '2h'
tty_wait em 10 'emergency' || true
tty_type em 'yes'
check "emergency access opens at once, and says it is reviewed" \
    tty_wait em 10 'Emergency access #[0-9]* is open'
check "for at most the policy's emergency maximum (1h)" \
    sh -c "'$PORTIERCTL' --json grants | python3 -c 'import json,sys; g=[g for g in json.load(sys.stdin) if g[\"emergency\"]][0]; assert g[\"ends\"] - g[\"starts\"] == 3600'"
tty_type em 'echo emergency-$((6*7))'
check "the emergency session reaches the target" tty_wait em 20 'emergency-42'
tty_end em
out=$("$PORTIERCTL" requests --needs-review)
check "it is listed for review" sh -c "echo \"\$1\" | grep -q 'ptdave.*pacs-01' && echo \"\$1\" | grep -q 'NEEDS REVIEW'" _ "$out"
check "and audited as access.emergency" sh -c "'$PORTIERCTL' audit | grep -q 'access.emergency'"
rq4=$("$PORTIERCTL" --json requests --needs-review | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
check "portierctl review closes the review" "$PORTIERCTL" review "$rq4" --note "called the vendor, disk replaced"
check "and it leaves the review list" sh -c "'$PORTIERCTL' requests --needs-review | grep -q 'no emergency'"

# ---- ahead of time, from the vendor's command line ----------------------------------------------
when=$(TZ=Europe/Paris date -d 'tomorrow 20:00' '+%Y-%m-%d %H:%M')
out=$(vssh ptjdoe ptjdoe@127.0.0.1 "request pacs-01 --from '$when' --for 2h --reason 'firmware update'" 2>&1) && rc=0 || rc=$?
check "ssh ... request files a request ahead of time (rc $rc)" \
    sh -c "[ $rc -eq 0 ] && echo \"\$1\" | grep -q 'Request #[0-9]* sent'" _ "$out"
rq5=$(echo "$out" | sed -n 's/.*Request #\([0-9]*\) sent.*/\1/p')
out=$(vssh ptjdoe ptjdoe@127.0.0.1 requests 2>&1) || true
check "ssh ... requests lists the vendor's own, with what became of them" \
    sh -c "echo \"\$1\" | grep -q \"#$rq5 .*pending\" && echo \"\$1\" | grep -q 'approved'" _ "$out"
out=$("$PORTIERCTL" approve "$rq5" 2>&1)
check "an approval for a future time gives a grant to come" \
    sh -c "'$PORTIERCTL' grants | grep -q 'to come'"

# ---- a 2-minute window: the 1-minute warning, then the cut --------------------------------------
tty_start er pterin pterin@pacs-01@127.0.0.1
tty_wait er 40 'Reason (required' || true
tty_type er 'quick check'
tty_wait er 10 'Duration' || true
tty_type er '2m'
tty_wait er 10 'Waiting for hospital IT' || true
"$PORTIERCTL" approve "$(request_id er)" >/dev/null
tty_wait er 20 'id\|\$ ' || true

# ---- kill, while that window runs ----------------------------------------------------------------
tty_start as ptasmith -b 127.0.0.2 ptasmith@pacs-01@127.0.0.1
tty_type as 'echo in-$((1+1))'
tty_wait as 30 'in-2' || true
sid=$("$PORTIERCTL" --json sessions | python3 -c 'import json,sys; print([s["session"] for s in json.load(sys.stdin) if s["user"] == "ptasmith"][0])')
out=$("$PORTIERCTL" kill "${sid:0:6}" --reason "suspicious activity" 2>&1)
check "portierctl kill ends a session by its id ($out)" sh -c "echo \"\$1\" | grep -q 'closed'" _ "$out"
check "the vendor reads why" tty_wait as 10 'closed this session: suspicious activity'
tty_end as

# ---- reload: a withdrawn access ends its live sessions ----------------------------------------
tty_start lb ptjdoe ptjdoe@lab-01@127.0.0.1
tty_type lb 'echo on-lab-$((2+3))'
tty_wait lb 40 'on-lab-5' || true
echo 'vendor "broken" {' >> "$T/etc/policies/test.conf"
out=$("$PORTIERCTL" reload 2>&1) && rc=0 || rc=$?
check "a policy that does not parse is refused with file:line (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'test.conf:[0-9]*:'" _ "$out"
check "and the lab session goes on" sh -c "! grep -q 'no longer allows' '$T/lb.out'"
write_policy
# Settings the other processes were started with: refused, not half-applied.
cp "$T/etc/portier.conf" "$T/portier.conf.orig"
sed -i "s|^recordings .*|recordings \"$T/var/elsewhere\"|" "$T/etc/portier.conf"
mkdir -p -m 700 "$T/var/elsewhere"
out=$("$PORTIERCTL" reload 2>&1) && rc=0 || rc=$?
check "a reload that moves the recordings is refused, saying so (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'recordings changed in .*restart portierd'" _ "$out"
check "and the recordings list still finds the files" \
    sh -c "'$PORTIERCTL' recordings | grep -q 'ptjdoe' && ! '$PORTIERCTL' recordings | grep -q MISSING"
cp "$T/portier.conf.orig" "$T/etc/portier.conf"
chmod 666 "$T/etc/policies/test.conf"
out=$("$PORTIERCTL" reload 2>&1) && rc=0 || rc=$?
check "a reload of a policy file others can write is refused with the fix (rc $rc)" \
    sh -c "[ $rc -ne 0 ] && echo \"\$1\" | grep -q 'chmod go-w'" _ "$out"
chmod 644 "$T/etc/policies/test.conf"
check "refused reloads are audited" \
    sh -c "[ \$('$PORTIERCTL' audit | grep -c 'policy.reload.refused') -ge 3 ]"
out=$("$PORTIERCTL" reload 2>&1)
check "reload applies the new policy and ends 1 session ($out)" \
    sh -c "echo \"\$1\" | grep -q '1 live session ended'" _ "$out"
check "the lab session is told why" tty_wait lb 10 'policy changed and no longer allows'
tty_end lb

check "the 2-minute window warns a minute before its end" \
    tty_wait er 120 'ends in 1 minute'
check "and then closes the session" tty_wait er 75 'maintenance window has ended'
tty_end er

# ---- the trail ---------------------------------------------------------------------------------------
audit=$("$PORTIERCTL" audit)
for ev in request.new request.approve request.deny request.cancel request.review \
    access.emergency grant.revoke session.kill session.cut policy.reload; do
	check "audit has $ev" sh -c "echo \"\$1\" | grep -q ' $ev '" _ "$audit"
done
check "the audit chain verifies" "$PORTIERCTL" audit verify

# ---- hospital IT was told -----------------------------------------------------------------------
for ev in request.new request.approve request.deny request.cancel access.emergency \
    grant.revoke session.kill; do
	check "the webhook received $ev" wait_for 10 grep -q "\"event\":\"$ev\"" "$T/hook.jsonl"
done
check "the emergency is flagged in its document" \
    grep -q '"event":"access.emergency".*"emergency":true' "$T/hook.jsonl"
check "the denial carries its reason" \
    grep -q '"event":"request.deny".*not during the audit week' "$T/hook.jsonl"
check "history: every request stays listed, decided or not" \
    sh -c "[ \$('$PORTIERCTL' --json requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -ge 6 ]"

stop_daemon
finish
