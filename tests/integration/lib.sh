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

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {	# check DESCRIPTION COMMAND...
	local d="$1"; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
skip_all() { echo "SKIP: $*"; exit 77; }
finish() {
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
