#!/bin/sh
# config-check.sh: "portierd -n -f FILE" as an operator meets it.
#
# A valid configuration with a policy must pass.  Each mistake an operator
# can make must be refused (exit 1) with the message that names the file
# and line, and says what to do: an unknown keyword, a port out of range,
# a missing host key, a configuration others may write, a host key others
# may read, an access to a target no policy defines, a malformed webhook
# URL.  The demonstration configuration, when present, must pass too.  No
# root needed: portierd -n only reads.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
PORTIERD="$top_builddir/portierd"

if [ ! -x "$PORTIERD" ]; then
	echo "SKIP: $PORTIERD not built"
	exit 77
fi
if ! command -v ssh-keygen >/dev/null 2>&1; then
	echo "SKIP: ssh-keygen not found (Debian: apt-get install openssh-client)"
	exit 77
fi

umask 022
T=$(mktemp -d "${TMPDIR:-/tmp}/portier-config-check.XXXXXX")
trap 'rm -rf "$T"' EXIT
E="$T/etc"
mkdir -p "$E/policies"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

# run FILE: portierd -n -f FILE; sets rc, output in $T/err.
run() {
	if "$PORTIERD" -n -f "$1" >"$T/out" 2>"$T/err"; then
		rc=0
	else
		rc=$?
	fi
}

# accepts DESCRIPTION FILE
accepts() {
	run "$2"
	if [ "$rc" -eq 0 ]; then
		ok "$1"
	else
		not_ok "$1 (exit $rc)"
		sed 's/^/#   /' "$T/err"
	fi
}

# refuses DESCRIPTION FILE MESSAGE: exit 1 and MESSAGE, as is, on stderr.
refuses() {
	run "$2"
	if [ "$rc" -eq 1 ] && grep -qF -- "$3" "$T/err"; then
		ok "$1"
	else
		not_ok "$1 (exit $rc)"
		echo "#   wanted: $3"
		sed 's/^/#   got:    /' "$T/err"
	fi
}

ssh-keygen -q -t ed25519 -N "" -C portier-test -f "$E/ssh_host_ed25519_key" \
    >/dev/null

# portier.conf as the files below vary it: $1 is a line put on line 2.
main_conf() {
	cat <<EOF
# portier.conf for config-check.sh
${1:-lockout 5m}
$(case "${1:-}" in user*) ;; *) echo 'user "nobody"' ;; esac)
admin group "adm"
host key "ssh_host_ed25519_key"
vault key "vault.key"
store "portier.db"
recordings "recordings"
control socket "control.sock"
chroot "empty"
listen on 127.0.0.1 port 2222
listen on 127.0.0.1 port 3389 rdp
include "policies/*.conf"
EOF
}

cat >"$E/policies/pacs.conf" <<'EOF'
target "pacs-01" {
	address "127.0.0.1" port 22
	account "maint"
}
vendor "acme" {
	user "jdoe"
	source { 192.0.2.0/24, 2001:db8::/32 }
	access "pacs-01" {
		window every tue,thu 20:00-23:00
		approval max 4h
		emergency max 1h
	}
}
EOF

main_conf >"$E/portier.conf"
accepts "a valid configuration and policy pass" "$E/portier.conf"

main_conf "frobnicate yes" >"$E/keyword.conf"
refuses "an unknown keyword is refused with its file and line" \
    "$E/keyword.conf" "$E/keyword.conf:2: unknown keyword \"frobnicate\""

main_conf "listen on 127.0.0.1 port 70000" >"$E/port.conf"
refuses "port 70000 is refused with its file and line" \
    "$E/port.conf" "$E/port.conf:2: bad port 70000; use 1 to 65535"

main_conf "host key \"missing_key\"" >"$E/nokey.conf"
refuses "a missing host key is refused, with the command that makes one" \
    "$E/nokey.conf" \
    "$E/nokey.conf:2: host key \"$E/missing_key\": No such file or directory (generate one with: ssh-keygen -t ed25519 -N \"\" -f $E/missing_key)"

main_conf 'webhook "https://siem.example.org:8443/hooks/portier?t=1"' >"$E/webhook.conf"
accepts "an https webhook passes" "$E/webhook.conf"

main_conf 'webhook "htps://siem.example.org/hook"' >"$E/webhook-scheme.conf"
refuses "a webhook URL with a bad scheme is refused, with the form to use" \
    "$E/webhook-scheme.conf" \
    "$E/webhook-scheme.conf:2: bad webhook URL \"htps://siem.example.org/hook\": it must begin with https:// (or http:// for a relay on this host); write it as: webhook \"https://HOST[:PORT]/PATH\""

main_conf 'webhook "https://siem.example.org:99999/hook"' >"$E/webhook-port.conf"
refuses "a webhook URL with a bad port is refused" \
    "$E/webhook-port.conf" \
    "$E/webhook-port.conf:2: bad webhook URL \"https://siem.example.org:99999/hook\": the port must be a number from 1 to 65535"

main_conf 'webhook ca "missing-ca.pem"' >"$E/webhook-ca.conf"
refuses "a missing webhook CA file is refused" \
    "$E/webhook-ca.conf" \
    "$E/webhook-ca.conf:2: webhook ca \"missing-ca.pem\": No such file or directory"

main_conf 'webhook timeout 1h' >"$E/webhook-timeout.conf"
refuses "a webhook timeout out of range is refused" \
    "$E/webhook-timeout.conf" \
    "$E/webhook-timeout.conf:2: webhook timeout 3600s is out of range; use 1s to 5m"

main_conf >"$E/writable.conf"
chmod o+w "$E/writable.conf"
refuses "a configuration others may write is refused" \
    "$E/writable.conf" \
    "$E/writable.conf: is writable by others; fix with: chmod go-w $E/writable.conf"

cp "$E/ssh_host_ed25519_key" "$E/readable_key"
chmod 640 "$E/readable_key"
main_conf "host key \"readable_key\"" >"$E/readable.conf"
refuses "a host key the group may read is refused" \
    "$E/readable.conf" \
    "$E/readable.conf:2: host key \"$E/readable_key\" is readable by others; fix with: chmod 600 $E/readable_key"

mkdir -p "$T/other/policies"
cp "$E/ssh_host_ed25519_key" "$T/other/"
main_conf >"$T/other/portier.conf"
cat >"$T/other/policies/lab.conf" <<'EOF'
vendor "biolab" {
	user "kmuller"

	access "lab-01" {
		approval max 2h
	}
}
EOF
refuses "an access to an undefined target is refused at its line in the policy" \
    "$T/other/portier.conf" \
    "$T/other/policies/lab.conf:4: access to unknown target \"lab-01\"; define it with: target \"lab-01\" { ... }"

main_conf 'user "pt-no-such-user"' >"$E/nouser.conf"
refuses "an unprivileged user that does not exist is refused, with the command that makes it" \
    "$E/nouser.conf" 'unprivileged user "pt-no-such-user" does not exist; create it with: useradd'
main_conf 'user "root"' >"$E/rootuser.conf"
refuses "root as the unprivileged user is refused" "$E/rootuser.conf" 'user "root" is root'

demo="$top_srcdir/contrib/demo/portier.conf"
if [ -f "$demo" ]; then
	accepts "the demonstration configuration passes" "$demo"
else
	echo "ok - # SKIP $demo is absent"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
