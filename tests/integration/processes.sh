#!/bin/bash
# processes.sh: the process model, seen from outside.
#
# Starts portierd on 127.0.0.1, opens three TCP connections and checks in
# /proc that each session process runs as the unprivileged user, chrooted,
# with no new privileges and a seccomp filter, in each of its two threads
# (the relay and its hashing thread); that kill -9 of one session
# leaves the others and the daemon serving; that portierctl reports all of
# it and refuses a caller who is not an administrator; that what a vendor
# sends reaches its recording; and that SIGTERM stops every process.
. "$(dirname "$0")/lib.sh"
need_root
setup_env
start_daemon

nobody=$(id -u nobody)

# Three vendors connect and stay connected.
exec 5<>/dev/tcp/127.0.0.1/"$PORT"
exec 6<>/dev/tcp/127.0.0.1/"$PORT"
exec 7<>/dev/tcp/127.0.0.1/"$PORT"
wait_for 5 sh -c "[ \$(\"$PORTIERCTL\" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"])') -eq 3 ]"
check "portierctl status counts 3 live sessions" [ "$(session_pids | wc -l)" -eq 3 ]

for pid in $(session_pids); do
	check "session $pid runs as nobody (uid $nobody)" \
	    [ "$(status_field "$pid" Uid)" = "$nobody $nobody $nobody $nobody" ]
	check "session $pid has a seccomp filter (Seccomp: 2)" [ "$(status_field "$pid" Seccomp)" = 2 ]
	check "session $pid has no_new_privs" [ "$(status_field "$pid" NoNewPrivs)" = 1 ]
	check "session $pid is chrooted to the empty directory" \
	    [ "$(readlink /proc/"$pid"/root)" = "$T/empty" ]
	check "session $pid has no capabilities" [ "$(status_field "$pid" CapEff)" = 0000000000000000 ]
	# Its hashing thread too: the filter is loaded for every thread.
	tasks=$(ls /proc/"$pid"/task)
	check "session $pid has its hashing thread (tasks: $(echo $tasks))" \
	    [ "$(echo "$tasks" | wc -w)" -eq 2 ]
	for tid in $tasks; do
		check "session $pid thread $tid: seccomp filter, no_new_privs, uid $nobody" \
		    [ "$(status_field "$pid/task/$tid" Seccomp)" = 2 -a \
		    "$(status_field "$pid/task/$tid" NoNewPrivs)" = 1 -a \
		    "$(status_field "$pid/task/$tid" Uid)" = "$nobody $nobody $nobody $nobody" ]
	done
done
for p in recorder notifier control; do
	pid=$(proc_pid $p)
	check "$p runs as nobody, sandboxed" \
	    [ "$(status_field "$pid" Seccomp)" = 2 -a "$(status_field "$pid" Uid)" = "$nobody $nobody $nobody $nobody" ]
done
check "the monitor keeps root and no seccomp filter" \
    [ "$(status_field "$(proc_pid monitor)" Uid)" = "0 0 0 0" -a "$(status_field "$(proc_pid monitor)" Seccomp)" = 0 ]

# kill -9 of one session touches no other.
set -- $(session_pids)
victim=$1; others="$2 $3"
kill -KILL "$victim"
wait_for 5 sh -c "! kill -0 $victim 2>/dev/null"
wait_for 5 sh -c "[ \$(\"$PORTIERCTL\" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"])') -eq 2 ]"
check "after kill -9 of $victim, status counts 2 sessions" [ "$(session_pids | wc -l)" -eq 2 ]
for pid in $others; do
	check "session $pid survived its neighbour's death" kill -0 "$pid"
done
check "the daemon still serves: a fourth connection gets a session" bash -c "
	exec 8<>/dev/tcp/127.0.0.1/$PORT && sleep 0.5 && [ \$(\"$PORTIERCTL\" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"])') -ge 3 ]"
check "the audit trail records the killed session" \
    sh -c "\"$PORTIERCTL\" audit | grep -q 'session.end.*killed by signal 9'"

# A client that speaks garbage instead of SSH is dropped; the others stay.
read -r banner <&6 || true
check "a session greets with an SSH banner ($banner)" sh -c "echo '$banner' | grep -q '^SSH-2.0-'"
set -- $(session_pids)
printf 'GET / HTTP/1.0\r\n\r\n' >&6
wait_for 10 sh -c "[ \$(\"$PORTIERCTL\" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"])') -eq $(( $# - 1 )) ]"
check "a client speaking garbage is dropped" [ "$(session_pids | wc -l)" -eq $(( $# - 1 )) ]
check "the recorder wrote a recording for each session" \
    [ "$(find "$T/var/recordings" -name '*.cast' | wc -l)" -ge 3 ]

# A caller who is not an administrator is told so.
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$PORTIERCTL" status 2>&1 || true)
check "a non-admin caller is refused with a clear message" \
    sh -c "echo \"\$1\" | grep -q 'Only root and members of the admin group'" _ "$out"

# SIGTERM stops every process; then portierctl says there is no daemon.
everyone=$(all_pids)
stop_daemon
left=""
for pid in $everyone; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
check "after SIGTERM none of the daemon's processes is left ($(echo $everyone | wc -w) checked)" [ -z "$left" ]
out=$("$PORTIERCTL" status 2>&1 || true)
check "portierctl without a daemon says it is not running" \
    sh -c "echo \"\$1\" | grep -q 'Is portierd running'" _ "$out"
finish
