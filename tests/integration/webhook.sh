#!/bin/bash
# webhook.sh: notifications reach hospital IT's webhook, end to end.
#
# A small HTTP receiver on 127.0.0.1 (Python's http.server, written and
# stopped by this test) records every POST.  Vendors lock their accounts
# with three wrong passwords through the real OpenSSH client and real
# PAM; the receiver must get one JSON document per lockout, with the
# user, the vendor and the bastion's name, and the log an ALERT line.
# When the receiver answers 500 the notifier retries (on a 1-second
# schedule here: "webhook retry 1s") until the document is taken.  Then
# over https: a certificate that does not name the URL's host is refused,
# one that does, signed by the CA "webhook ca" names, is used.  The
# notifier runs unprivileged and sandboxed, stops with the daemon, and
# takes the daemon down if it dies.
. "$(dirname "$0")/lib.sh"
need_root
for tool in sshd openssl python3; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
	    skip_all "$tool is not installed"
done
setup_env
ensure_accounts
setup_pam
TPORT=$(free_port)	# the target is never reached: logins fail first
write_ssh_policy
HPORT=$(free_port)
H="$T/hook"
mkdir -p "$H"

# The receiver: every request in $H/attempts, accepted bodies in
# $H/bodies; while $H/fail holds N > 0 it answers 500 and counts down.
cat > "$T/receiver.py" <<'PY'
import http.server, json, os, ssl, sys
port, d = int(sys.argv[1]), sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(d, "attempts"), "a") as f:
            f.write(json.dumps({"path": self.path,
                "type": self.headers.get("Content-Type"),
                "body": body.decode("utf-8", "replace")}) + "\n")
        fail = 0
        try:
            fail = int(open(os.path.join(d, "fail")).read() or 0)
        except OSError:
            pass
        if fail > 0:
            open(os.path.join(d, "fail"), "w").write(str(fail - 1))
            code = 500
        else:
            code = 204
            with open(os.path.join(d, "bodies"), "a") as f:
                f.write(body.decode("utf-8") + "\n")
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", port), Hook)
if len(sys.argv) > 3:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(os.path.join(d, "ready"), "w").close()
srv.serve_forever()
PY

hook_start() {	# hook_start [CERT KEY]
	rm -f "$H/ready"
	python3 "$T/receiver.py" "$HPORT" "$H" "$@" 2>>"$H/stderr" &
	HOOK=$!
	pids="$pids $HOOK"
	wait_for 5 test -e "$H/ready"
}

hook_stop() {
	kill "$HOOK" 2>/dev/null || true
	wait "$HOOK" 2>/dev/null || true
}

# lock USER: three wrong passwords through the vendor's ssh client.
lock() {
	local i
	for i in 1 2 3; do
		eval "PT_PASS_$1=wrong-password" vssh "$1" "$1@pacs-01@127.0.0.1" true \
		    >/dev/null 2>&1 || true
	done
}

# body_of USER: the accepted document naming USER, checked by Python's
# strict JSON reader; prints "field=value" lines.
body_of() {
	python3 - "$H/bodies" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    doc = json.loads(line)
    if doc.get("user") == sys.argv[2]:
        for k, v in sorted(doc.items()):
            print("%s=%s" % (k, json.dumps(v) if not isinstance(v, str) else v))
        break
PY
}

attempts_for() {	# attempts_for USER: how many POSTs named USER
	python3 - "$H/attempts" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    a = json.loads(line)
    n += json.loads(a["body"]).get("user") == sys.argv[2]
print(n)
PY
}

delivered() {	# delivered USER
	[ -s "$H/bodies" ] && [ -n "$(body_of "$1")" ]
}

# ---- plain http, as to a relay on this host -----------------------------------
cat >> "$T/etc/portier.conf" <<CONF
webhook "http://127.0.0.1:$HPORT/hook?source=portier"
webhook retry 1s
webhook timeout 5s
CONF
hook_start
start_daemon
known_hosts
enrol ptcarol acme
enrol ptasmith globex
enrol ptjdoe acme

nobody=$(id -u nobody)
npid=$(proc_pid notifier)
check "portierctl status lists the notifier ($npid)" [ -n "$npid" ]
check "the notifier runs as nobody, with a seccomp filter" \
    [ "$(status_field "$npid" Seccomp)" = 2 -a "$(status_field "$npid" Uid)" = "$nobody $nobody $nobody $nobody" ]
check "the notifier is chrooted to the empty directory" \
    [ "$(readlink /proc/"$npid"/root)" = "$T/empty" ]
check "the notifier has no capabilities" [ "$(status_field "$npid" CapEff)" = 0000000000000000 ]

lock ptcarol
check "a lockout reaches the webhook" wait_for 10 delivered ptcarol
doc=$(body_of ptcarol)
echo "$doc" | sed 's/^/#   /'
has() { echo "$doc" | grep -qxF -- "$1"; }
check "the document says event user.lockout" has "event=user.lockout"
check "version 1" has "version=1"
check "the vendor is named" has "vendor=acme"
check "the actor is portierd" has "actor=portierd"
check "it is not an emergency" has "emergency=false"
check "it names the bastion ($(hostname))" has "bastion=$(hostname)"
check "the time is ISO 8601 UTC" sh -c "echo \"\$1\" | grep -qE '^time=20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'" _ "$doc"
check "it says until when the account is locked" sh -c "echo \"\$1\" | grep -qE '^ends=20.*Z$'" _ "$doc"
check "the reason is in the text" sh -c "echo \"\$1\" | grep -q '^text=3 failures; locked for 60 s; last from 127.0.0.1:'" _ "$doc"
check "no null field is sent (no request, grant, target, starts)" \
    sh -c "! echo \"\$1\" | grep -qE '^(request|grant|target|starts)='" _ "$doc"
check "it was POSTed to the URL's path, as application/json" \
    python3 -c 'import json,sys; a=json.loads(open(sys.argv[1]).readline()); sys.exit(not (a["path"] == "/hook?source=portier" and a["type"] == "application/json"))' "$H/attempts"
check "the monitor logged an ALERT for it" \
    grep -q 'monitor\[[0-9]*\]: ALERT: notice: user.lockout user=ptcarol vendor=acme actor=portierd' "$T/portierd.log"
check "the notifier logged the delivery" \
    grep -q "notifier\[[0-9]*\]: webhook http://127.0.0.1:$HPORT: delivered user.lockout" "$T/portierd.log"
check "no vendor password in what the webhook got" \
    sh -c "! grep -qF -e wrong-password -e '$PT_PASS_ptcarol' '$H/attempts'"

# ---- the webhook fails: retried, then delivered -----------------------------------
echo 2 > "$H/fail"
lock ptasmith
check "refused twice (500), the lockout is delivered at the third attempt" \
    wait_for 20 delivered ptasmith
check "the receiver saw exactly 3 attempts for it ($(attempts_for ptasmith))" \
    [ "$(attempts_for ptasmith)" = 3 ]
check "each failure is logged with the next delay" \
    sh -c "grep -q 'webhook http://127.0.0.1:$HPORT: user.lockout, attempt 1: answered 500; next in 1 s' '$T/portierd.log' &&
	grep -q 'webhook http://127.0.0.1:$HPORT: user.lockout, attempt 2: answered 500; next in 6 s' '$T/portierd.log'"
check "the delivery says it came after retrying" \
    grep -q "delivered user.lockout after retrying" "$T/portierd.log"

# ---- the webhook is down: logins are not held up ----------------------------------
hook_stop
start=$(date +%s)
lock ptjdoe
took=$(( $(date +%s) - start ))
check "with the webhook down, three failed logins still take normal time (${took}s)" [ "$took" -lt 20 ]
check "the connection failure is logged and retried" \
    wait_for 5 grep -q "webhook http://127.0.0.1:$HPORT: user.lockout, attempt 1: .*; next in 1 s" "$T/portierd.log"
hook_start
check "when the webhook is back, the waiting lockout is delivered" wait_for 15 delivered ptjdoe

everyone=$(all_pids)
stop_daemon
left=""
for pid in $everyone; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
check "SIGTERM stops the notifier with the rest ($(echo $everyone | wc -w) processes)" [ -z "$left" ]
hook_stop

# ---- https: the certificate must name the host --------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Portier test CA" \
    -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$T/hook.key" -out "$T/hook.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost\n' > "$T/san.ext"
openssl x509 -req -in "$T/hook.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
    -CAcreateserial -days 2 -extfile "$T/san.ext" -out "$T/hook.pem" >/dev/null 2>&1
hook_start "$T/hook.pem" "$T/hook.key"

https_conf() {	# https_conf HOST
	sed -i '/^webhook /d' "$T/etc/portier.conf"
	cat >> "$T/etc/portier.conf" <<CONF
webhook "https://$1:$HPORT/hook"
webhook ca "$T/ca.pem"
webhook retry 1s
webhook timeout 5s
CONF
}

# By address: the certificate names localhost only.
https_conf 127.0.0.1
: > "$T/portierd.log"
start_daemon
lock nosuchvendor
check "https to an address the certificate does not name is refused" \
    wait_for 10 grep -q "webhook https://127.0.0.1:$HPORT: user.lockout, attempt 1: TLS: certificate verify failed" "$T/portierd.log"
check "and nothing was delivered" sh -c "! grep -q nosuchvendor '$H/bodies'"
stop_daemon

# By name, with the test CA: delivered (localhost may resolve to ::1 first,
# where nothing listens: the next address is tried).
https_conf localhost
start_daemon
lock ptjdoe2
check "https with a certificate that names the host: delivered" wait_for 10 delivered ptjdoe2
doc=$(body_of ptjdoe2)
check "an unknown login's lockout names no vendor" sh -c "! echo \"\$1\" | grep -q '^vendor='" _ "$doc"

# A notifier that dies is a core process lost: the daemon stops, loudly.
kill -KILL "$(proc_pid notifier)"
check "kill -9 of the notifier stops the daemon" \
    wait_for 10 sh -c "! kill -0 $DAEMON 2>/dev/null"
check "and says why" grep -q 'notifier process killed by signal 9; shutting down\|lost the notifier process' "$T/portierd.log"
stop_daemon
hook_stop
finish
