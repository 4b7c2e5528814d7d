#!/bin/sh
# quickstart.sh: install what Portier needs, build it, and start it in
# the foreground on 127.0.0.1:2222 with an embedded default: a generated
# host key, an SQLite store and recordings under ./run, the demo policy
# from policies/.  Stop it with Ctrl-C.  Debian 12, as root (or sudo).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "quickstart: portierd separates privileges itself and must start as root; run: sudo $0" >&2
	exit 1
fi

echo "quickstart: installing build dependencies (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
grep -v '^#' contrib/debian-packages | xargs apt-get install -y -qq >/dev/null

echo "quickstart: building"
[ -x configure ] || autoreconf -fi >/dev/null
[ -f Makefile ] || ./configure --quiet
make -s -j"$(nproc)" portierd portierctl

# The unprivileged user sessions run as, and the administrators' group.
getent group portier-admin >/dev/null || groupadd --system portier-admin
id portier >/dev/null 2>&1 || useradd --system --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin portier

run="$top/run"
mkdir -p -m 755 "$run" "$run/etc" "$run/etc/policies"
chown root:root "$run" "$run/etc" "$run/etc/policies"
[ -f "$run/etc/ssh_host_ed25519_key" ] ||
	ssh-keygen -q -t ed25519 -N "" -C portier-demo -f "$run/etc/ssh_host_ed25519_key"
install -m 644 -o root -g root policies/*.conf "$run/etc/policies/"
cat > "$run/etc/portier.conf" <<CONF
# Written by contrib/quickstart.sh: a local demonstration.
user "portier"
admin group "portier-admin"
store "$run/var/portier.db"
vault key "$run/etc/vault.key"
control socket "$run/control.sock"
recordings "$run/var/recordings"
recording key "$run/etc/recording.key"
host key "$run/etc/ssh_host_ed25519_key"
listen on 127.0.0.1 port 2222
listen on ::1 port 2222
include "policies/*.conf"
CONF
chmod 644 "$run/etc/portier.conf"
./portierd -n -f "$run/etc/portier.conf"

cat <<MSG
quickstart: starting portierd on 127.0.0.1:2222 and [::1]:2222 (Ctrl-C stops it)
  in another terminal:  sudo ./portierctl -s $run/control.sock status
                        sudo ./portierctl -s $run/control.sock audit
MSG
echo "  to let a technician in: declare them in run/etc/policies/, then see README.md, \"A vendor's session\""
exec ./portierd -d -f "$run/etc/portier.conf"
