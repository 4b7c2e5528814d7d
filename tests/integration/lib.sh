# lib.sh: what the integration tests share.  Source it from a test.
#
# Every test runs the real portierd on 127.0.0.1, under a private
# directory, and stops everything it started on exit.  They need root
# (portierd drops privileges itself) and skip (77) otherwise.

set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
PORTIERD="$top_builddir/portierd"
PORTIERCTL="$top_builddir/portierctl"

pass=0
fail=0
pids=""
pam_files=""

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() {
	fail=$((fail + 1)); echo "not ok - $*"
	# What the daemon said last, to tell a flaky peer from a bug.
	if [ -n "${T:-}" ] && [ -s "$T/portierd.log" ]; then
		echo "#   portierd.log, last lines:"
		tail -n 15 "$T/portierd.log" | sed 's/^/#   /'
	fi
	if [ -n "${T:-}" ] && [ -s "$T/askpass.log" ]; then
		echo "#   askpass.log, last lines:"
		tail -n 3 "$T/askpass.log" | sed 's/^/#   /'
	fi
}
check() {	# check DESCRIPTION COMMAND...
	local d="$1"; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
skip_all() { echo "SKIP: $*"; exit 77; }
finish() {
	# Whatever the test did, no process of the daemon may have crashed
	# or met a sanitizer (the ASan+UBSan build reports to this log).
	# SIGKILL is what some tests send on purpose.
	if [ -n "${T:-}" ] && [ -f "$T/portierd.log" ]; then
		check "no portierd process crashed or met a sanitizer" \
		    sh -c "! grep -E 'Sanitizer|runtime error:|process (killed by signal ([^9]|9[0-9])|exited with status [1-9])' '$T/portierd.log'"
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root: portierd drops privileges itself"
	[ -x "$PORTIERD" ] || skip_all "$PORTIERD not built"
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Make $T, a private directory removed on exit, with a host key and a
# configuration for one daemon listening on $PORT.  The unprivileged user
# is "nobody" and the admin group "adm": both exist on every Debian, so
# the tests change nothing on the machine.
setup_env() {
	T=$(mktemp -d /tmp/portier-test.XXXXXX)
	chmod 755 "$T"
	trap cleanup EXIT
	PORT=$(free_port)
	mkdir -m 755 "$T/empty" "$T/etc"
	ssh-keygen -q -t ed25519 -N "" -f "$T/etc/host_ed25519" >/dev/null
	mkdir -m 755 "$T/etc/policies"
	cat > "$T/etc/policies/test.conf" <<POL
target "pacs-01" {
	address "127.0.0.1" port 22
	protocol ssh
	account "maint"
}
vendor "acme" {
	user "jdoe"
	access "pacs-01" {
		window every day 00:00-24:00
	}
}
POL
	cat > "$T/etc/portier.conf" <<CONF
user "nobody"
admin group "adm"
chroot "$T/empty"
store "$T/var/portier.db"
vault key "$T/etc/vault.key"
control socket "$T/run/control.sock"
recordings "$T/var/recordings"
recording key "$T/etc/recording.key"
host key "$T/etc/host_ed25519"
listen on 127.0.0.1 port $PORT
include "policies/*.conf"
CONF
	export PORTIER_CONTROL="$T/run/control.sock"
}

# Start portierd in the foreground, logging to $T/portierd.log; wait for
# its control socket.
start_daemon() {
	"$PORTIERD" -d -v -f "$T/etc/portier.conf" >>"$T/portierd.log" 2>&1 &
	DAEMON=$!
	pids="$pids $DAEMON"
	local i
	for i in $(seq 1 100); do
		if [ -S "$T/run/control.sock" ] && "$PORTIERCTL" status >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$DAEMON" 2>/dev/null; then
			echo "portierd exited; its log:"; cat "$T/portierd.log"
			return 1
		fi
		sleep 0.1
	done
	echo "portierd did not start; its log:"; cat "$T/portierd.log"
	return 1
}

stop_daemon() {
	local i
	kill -TERM "$DAEMON" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$DAEMON" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON" 2>/dev/null; then
		kill -KILL "$DAEMON" 2>/dev/null || true
		not_ok "portierd stopped within 10 s of SIGTERM"
	fi
	wait "$DAEMON" 2>/dev/null || true
}

cleanup() {
	local p
	for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
	# Children of a daemon killed above, if any survived it.
	pkill -KILL -f "portierd -d -v -f $T/" 2>/dev/null || true
	[ -z "${pam_files:-}" ] || rm -f $pam_files
	if [ "${KEEP_TEST_DIR:-}" = "" ]; then rm -rf "$T"; else echo "kept $T"; fi
}

# pids of live session processes, from portierctl status --json
session_pids() {
	"$PORTIERCTL" --json status | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["name"] == "session": print(p["pid"])'
}

proc_pid() {	# proc_pid NAME: pid of a core process
	"$PORTIERCTL" --json status | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["name"] == sys.argv[1]: print(p["pid"])' "$1"
}

status_field() {	# status_field PID FIELD: a line of /proc/PID/status, blank-separated
	awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2); exit }' "/proc/$1/status"
}

all_pids() {	# every process of the daemon, from portierctl status --json
	"$PORTIERCTL" --json status | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]: print(p["pid"])'
}

wait_for() {	# wait_for SECONDS COMMAND...: poll until it succeeds
	local n=$(( $1 * 10 )); shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# ---- SSH: a real target sshd, real PAM, real OpenSSH clients ---------------

PT_PASS_ptjdoe='Acme-vendor-pw1'
PT_PASS_ptasmith='Globex-vendor-pw2'
PT_PASS_ptmaintpw='Lab-maint-pw3'
PT_PASS_ptcarol='Acme-vendor-pw4'
PT_PASS_ptdave='Acme-vendor-pw5'
PT_PASS_pterin='Initech-vendor-pw6'

# Local accounts: the vendors log in to Portier through PAM (pam_unix),
# the target accounts are what Portier logs in as.  Created once; their
# passwords are reset on each run.
ensure_accounts() {
	local u
	for u in ptjdoe ptasmith ptcarol ptdave pterin; do
		id "$u" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$u"
	done
	for u in ptmaint ptmaintpw; do
		id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
	done
	usermod -p '*' ptmaint	# no password: a key only
	printf 'ptjdoe:%s\nptasmith:%s\nptmaintpw:%s\nptcarol:%s\nptdave:%s\npterin:%s\n' \
	    "$PT_PASS_ptjdoe" "$PT_PASS_ptasmith" "$PT_PASS_ptmaintpw" \
	    "$PT_PASS_ptcarol" "$PT_PASS_ptdave" "$PT_PASS_pterin" | chpasswd
}

# The PAM service portierd uses in the tests: pam_unix, as in pam/portier.
setup_pam() {
	PAM_SERVICE="portier-test-$$"
	cat > "/etc/pam.d/$PAM_SERVICE" <<PAM
auth required pam_unix.so
account required pam_unix.so
PAM
	pam_files="/etc/pam.d/$PAM_SERVICE"
}

# An OpenSSH server as the target, on 127.0.0.1:$TPORT.  ptmaint logs in
# with a key that only Portier's vault holds; ptmaintpw with a password.
start_target() {
	start_target_on "$(free_port)"
}

start_target_on() {	# start_target_on PORT
	TPORT=$1
	mkdir -p -m 755 "$T/target"
	[ -f "$T/target/host_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N "" -f "$T/target/host_ed25519"
	[ -f "$T/target/maint_key" ] ||
		ssh-keygen -q -t ed25519 -N "" -C "vault-only key" -f "$T/target/maint_key"
	cp "$T/target/maint_key.pub" "$T/target/authorized_keys"
	chmod 644 "$T/target/authorized_keys"
	cat > "$T/target/sshd_config" <<SSHD
Port $TPORT
ListenAddress 127.0.0.1
HostKey ${TARGET_HOSTKEY:-$T/target/host_ed25519}
PidFile $T/target/sshd.pid
UsePAM no
PermitRootLogin no
AuthorizedKeysFile $T/target/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication no
AllowUsers ptmaint ptmaintpw
Subsystem sftp internal-sftp
StrictModes no
AcceptEnv LANG LC_*
${TARGET_SSHD_EXTRA:-}
SSHD
	mkdir -p /run/sshd
	/usr/sbin/sshd -f "$T/target/sshd_config" -E "$T/target/sshd.log"
	wait_for 5 test -s "$T/target/sshd.pid"
	TARGET_PID=$(cat "$T/target/sshd.pid")
	pids="$pids $TARGET_PID"
}

stop_target() {
	kill "$TARGET_PID" 2>/dev/null || true
	wait_for 5 sh -c "! kill -0 $TARGET_PID 2>/dev/null"
	rm -f "$T/target/sshd.pid"
}

# The policy for the SSH tests: two vendors, two targets.
write_ssh_policy() {
	cat > "$T/etc/policies/test.conf" <<POL
target "pacs-01" {
	address "127.0.0.1" port $TPORT
	protocol ssh
	account "ptmaint"
}
target "lab-01" {
	address "127.0.0.1" port $TPORT
	protocol ssh
	account "ptmaintpw"
}
vendor "acme" {
	user "ptjdoe"
	user "ptcarol"
	access "pacs-01" {
		window every day 00:00-24:00
	}
	access "lab-01" {
		window every day 00:00-24:00
		sftp no
	}
}
vendor "globex" {
	user "ptasmith"
	access "pacs-01" {
		window every day 00:00-24:00
	}
}
POL
	printf 'pam service "%s"\nlockout 1m\n' "$PAM_SERVICE" >> "$T/etc/portier.conf"
}

# Enrol a vendor: account, TOTP; sets PT_TOTP_SECRET_<user>.
enrol() {	# enrol USER VENDOR
	"$PORTIERCTL" user add "$1" --vendor "$2" >/dev/null
	local secret
	secret=$("$PORTIERCTL" totp enroll "$1" | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' | head -n1)
	[ -n "$secret" ] || { echo "no TOTP secret for $1"; return 1; }
	eval "PT_TOTP_SECRET_$1=$secret"
	: > "$T/totp-$1"
}

# vssh USER [ssh args...]: the vendor's real OpenSSH client, its answers
# from askpass.sh; stdout and stderr as ssh leaves them.
vssh() {
	local u="$1"; shift
	PT_PASSWORD=$(eval echo "\${PT_PASS_$u}") \
	PT_TOTP_SECRET=$(eval echo "\${PT_TOTP_SECRET_$u}") \
	PT_TOTP_STATE="$T/totp-$u" PT_ASKPASS_LOG="$T/askpass.log" \
	SSH_ASKPASS="$top_srcdir/tests/integration/askpass.sh" \
	SSH_ASKPASS_REQUIRE=force DISPLAY="${DISPLAY:-:0}" \
	ssh -F /dev/null -o UserKnownHostsFile="$T/known_hosts" \
	    -o BatchMode=no -o NumberOfPasswordPrompts=1 -p "$PORT" "$@"
}

# Clients know Portier's host key, as a vendor's would after first use.
known_hosts() {
	printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$T/etc/host_ed25519.pub")" \
	    > "$T/known_hosts"
}

# vclient TOOL USER ARGS...: sftp or scp as USER, answers from askpass.sh.
vclient() {
	local tool="$1" u="$2"; shift 2
	PT_PASSWORD=$(eval echo "\${PT_PASS_$u}") \
	PT_TOTP_SECRET=$(eval echo "\${PT_TOTP_SECRET_$u}") \
	PT_TOTP_STATE="$T/totp-$u" PT_ASKPASS_LOG="$T/askpass.log" \
	SSH_ASKPASS="$top_srcdir/tests/integration/askpass.sh" \
	SSH_ASKPASS_REQUIRE=force DISPLAY="${DISPLAY:-:0}" \
	"$tool" -F /dev/null -o UserKnownHostsFile="$T/known_hosts" \
	    -o NumberOfPasswordPrompts=1 -P "$PORT" "$@"
}

# The same command run directly on the target, for comparison.
direct_ssh() {
	ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o LogLevel=error -o BatchMode=yes -i "$T/target/maint_key" \
	    -p "$TPORT" ptmaint@127.0.0.1 "$@"
}
