#!/bin/bash
# syslog.sh: without -d, every process logs to syslog, sandboxed ones too.
#
# A stand-in syslogd (a Python datagram socket at /dev/log, only where no
# real one is there) collects what portierd sends while it runs as a
# daemon.  The session, recorder and control processes write from inside
# their empty chroot, where /dev/log does not exist: their lines must
# still arrive, through the socket the parent opened before forking.
. "$(dirname "$0")/lib.sh"
need_root
[ -e /dev/log ] && skip_all "/dev/log exists: this test does not replace a real syslogd"
setup_env
LOG="$T/syslog.txt"
cat > "$T/syslogd.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
PY
python3 "$T/syslogd.py" "$LOG" &
SYSLOGD=$!
pids="$pids $SYSLOGD"
trap 'cleanup; rm -f /dev/log' EXIT
wait_for 5 test -e "$LOG.ready"

"$PORTIERD" -f "$T/etc/portier.conf" >"$T/portierd.out" 2>&1
check "portierd starts as a daemon" wait_for 10 "$PORTIERCTL" status
PARENT=$(proc_pid parent)
check "the parent logs to syslog with the daemon facility" \
    wait_for 5 grep -q '^<30>.* portierd\[[0-9]*\]: parent: ' "$LOG"

# A connection: the sandboxed session process logs when it ends.
timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; head -c 10 <&3 >/dev/null" || true
check "a session, in its chroot, still reaches syslog" \
    wait_for 10 grep -q ': session: session [0-9a-f]*: ' "$LOG"
check "the monitor's audit lines arrive" \
    wait_for 5 grep -q ': monitor: audit: session.connect' "$LOG"
kill -TERM "$PARENT"
check "portierd stops on SIGTERM" wait_for 10 sh -c "! kill -0 $PARENT 2>/dev/null"
check "the processes' ends are logged" wait_for 5 grep -q 'shutting down' "$LOG"
check "nothing went to the old stderr" [ ! -s "$T/portierd.out" ]
finish
