#!/bin/bash
# ssh-bench.sh: Portier next to direct OpenSSH and OpenSSH's jump host
# (`ssh -J`), side by side in one run, everything on 127.0.0.1.
#
# A benchmark, not a test: it asserts nothing about speed.  It prints one
# table per metric, the ratios the product owner fixed with their goals,
# and a summary.  It exits 0 when every measurement could be taken, 1
# when some could not (the tables say which), 77 when it cannot run.
#
#   sudo tests/bench/ssh-bench.sh            # from the build tree
#
# Needs root (portierd drops privileges itself; the benchmark starts two
# private sshd, adds local accounts ptmaint and ptbench01.., and a PAM
# service file), OpenSSH client and server, oathtool and python3.
# Everything it starts is stopped on exit, its directory under /tmp and
# the PAM file are removed, and the bench accounts' passwords are locked
# again.  Set KEEP_TEST_DIR=1 to keep the directory (logs, recordings).
#
# Knobs (environment), with their defaults:
#   BULK_MIB=512        bytes per bulk transfer, in MiB
#   BULK_RUNS=3         runs per mode and cipher (median reported)
#   CIPHERS="chacha20-poly1305@openssh.com aes128-gcm@openssh.com"
#   TEXT_MIB=256        text (base64) transfer, for the recording figures
#   TEXT_RUNS=3
#   SFTP_RUNS=3         sftp download of BULK_MIB (Portier keeps a transfer
#                       log, not the bytes); 0 skips
#   LAT_N=1000 LAT_RUNS=5 LAT_WARMUP=50   pty echo round trips
#   CONN_RUNS=15        `ssh host true` per mode
#   MEM_K=10            idle interactive sessions per mode
#   PB_NUSERS=20        bench vendor users (each login needs a fresh TOTP
#                       time step; 20 users never wait)
#   SSHD_USEPAM=yes     UsePAM of the target and jump sshd (Debian's default)
#   HOP=yes             with socat installed, the pty metric also measures
#                       direct ssh through a bare TCP relay (socat): what one
#                       more process on the path costs on this machine
#   KEEP_RECORDINGS=    set to keep the bulk recordings (they are large:
#                       /dev/zero records as "\u0000", 6 bytes per byte)
# A count of 0 skips that measurement (BULK_RUNS=0 CONN_RUNS=0 MEM_K=0 ...).
# top_builddir=DIR runs the portierd and portierctl built in DIR.

. "$(dirname "$0")/../integration/lib.sh"
set +e			# lib.sh sets -e: a benchmark reports failures, goes on
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
HELPER="$HERE/bench.py"

BULK_MIB=${BULK_MIB:-512}
BULK_RUNS=${BULK_RUNS:-3}
CIPHERS=${CIPHERS:-chacha20-poly1305@openssh.com aes128-gcm@openssh.com}
TEXT_MIB=${TEXT_MIB:-256}
TEXT_RUNS=${TEXT_RUNS:-3}
SFTP_RUNS=${SFTP_RUNS:-3}
LAT_N=${LAT_N:-1000}
LAT_RUNS=${LAT_RUNS:-5}
LAT_WARMUP=${LAT_WARMUP:-50}
CONN_RUNS=${CONN_RUNS:-15}
MEM_K=${MEM_K:-10}
PB_NUSERS=${PB_NUSERS:-20}
SSHD_USEPAM=${SSHD_USEPAM:-yes}
KEEP_RECORDINGS=${KEEP_RECORDINGS:-}
HOP=${HOP:-yes}

MODES="direct jump portier"
TARGET=pacs-01
ACCOUNT=ptmaint
VENDOR=benchco

need_root
for c in ssh /usr/sbin/sshd ssh-keygen oathtool python3 sftp; do
	command -v "$c" >/dev/null || skip_all "needs $c"
done
[ -x "$PORTIERCTL" ] || skip_all "$PORTIERCTL not built"
"$PORTIERCTL" 2>&1 | grep -q "totp enroll" ||
    skip_all "portierctl has no 'totp enroll' yet"

BENCH_START=$(date +%s)
bench_users=""
errors=0

note() { printf '%s\n' "$*"; }

# quiesce: before a metric, wait (at most 20 s) for a second in which the
# CPUs are 95 % idle, after a sync: what the last metric left behind
# (sessions ending, recordings sealed, logs written back) is not measured
# as part of the next one.
cpu_ticks() {	# idle + iowait, and all ticks, of every CPU so far
	awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}
quiesce() {
	local i a b
	sync
	for i in $(seq 1 20); do
		a=$(cpu_ticks)
		sleep 1
		b=$(cpu_ticks)
		awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
		    exit !((y[2] - x[2]) > 0 && (y[1] - x[1]) / (y[2] - x[2]) >= 0.95) }' &&
		    return 0
	done
	note "# (the machine did not settle in 20 s; measuring anyway)"
}
err() { errors=$((errors + 1)); printf 'ERROR: %s\n' "$*"; }

# ---- cleanup: only what this script started, by pid -----------------------

descendants() {	# descendants PID: every process under PID
	ps -e -o pid=,ppid= | awk -v root="$1" '
	    { kids[$2] = kids[$2] " " $1 }
	    END { todo = root
	          while (todo != "") {
	              n = split(todo, a, " "); todo = ""
	              for (i = 1; i <= n; i++) if (a[i] in kids) {
	                  printf "%s", kids[a[i]]; todo = todo kids[a[i]] }
	          } }'
}

kill_tree() {	# kill_tree PID: the process and what it started
	local p kids
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
	kids=$(descendants "$1")
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	for p in "$1" $kids; do kill -KILL "$p" 2>/dev/null; done
	wait "$1" 2>/dev/null
}

cleanup() {
	local p u kids=""
	trap - EXIT INT TERM
	if [ -n "${DAEMON:-}" ] && kill -0 "$DAEMON" 2>/dev/null; then
		kids=$(descendants "$DAEMON")
		kill -TERM "$DAEMON" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$DAEMON" 2>/dev/null || break
			sleep 0.1
		done
		for p in "$DAEMON" $kids; do kill -KILL "$p" 2>/dev/null; done
		wait "$DAEMON" 2>/dev/null
	fi
	for f in "$T/target/sshd.pid" "$T/jump/sshd.pid"; do
		[ -f "$f" ] && kill_tree "$(cat "$f")"
	done
	kill_tree "${HOP_PID:-}"
	for u in $bench_users; do usermod -p '!' "$u" 2>/dev/null; done
	[ -z "${pam_files:-}" ] || rm -f "$pam_files"	# one file, from setup_pam
	if [ -n "${KEEP_TEST_DIR:-}" ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap 'exit 130' INT TERM

# ---- setup -----------------------------------------------------------------

setup_env			# $T, $PORT, portierd's host key and configuration
chmod 755 "$T"
RES="$T/results.jsonl"
: > "$RES"
result() { printf '%s\n' "$1" >> "$RES"; }	# one JSON object a line

# The target account, with a key only (Portier's vault holds it).
id "$ACCOUNT" >/dev/null 2>&1 || useradd -m -s /bin/bash "$ACCOUNT"
usermod -p '*' "$ACCOUNT"
mkdir -m 755 "$T/keys"
ssh-keygen -q -t ed25519 -N "" -C "ssh-bench maint key" -f "$T/keys/maint_key"
cp "$T/keys/maint_key.pub" "$T/keys/authorized_keys"
chmod 644 "$T/keys/authorized_keys"

# Two private OpenSSH servers: the target and, for `ssh -J`, a jump host.
# The same configuration for both, close to Debian's stock sshd.
start_sshd() {	# start_sshd NAME PORT
	mkdir -m 755 "$T/$1"
	ssh-keygen -q -t ed25519 -N "" -f "$T/$1/host_ed25519"
	cat > "$T/$1/sshd_config" <<SSHD
Port $2
ListenAddress 127.0.0.1
HostKey $T/$1/host_ed25519
PidFile $T/$1/sshd.pid
UsePAM $SSHD_USEPAM
PermitRootLogin no
AuthorizedKeysFile $T/keys/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $ACCOUNT
AllowTcpForwarding yes
PermitTTY yes
X11Forwarding no
PrintMotd no
StrictModes no
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
SSHD
	mkdir -p /run/sshd
	/usr/sbin/sshd -f "$T/$1/sshd_config" -E "$T/$1/sshd.log" || return 1
	wait_for 5 test -s "$T/$1/sshd.pid"
}
TPORT=$(free_port)
start_sshd target "$TPORT" || { echo "target sshd did not start"; exit 1; }
JPORT=$(free_port)
start_sshd jump "$JPORT" || { echo "jump sshd did not start"; exit 1; }
TARGET_SSHD=$(cat "$T/target/sshd.pid")
JUMP_SSHD=$(cat "$T/jump/sshd.pid")

# A bare TCP relay in front of the target: socat copies bytes, decrypts
# nothing, holds no SSH session.  Through it, direct ssh measures the
# least that one more process on the path costs here, the floor under
# any relay's round trip (Portier's, or a jump host's).
LAT_MODES=$MODES
HPORT=
if [ "$HOP" = yes ] && command -v socat >/dev/null; then
	HPORT=$(free_port)
	socat "TCP-LISTEN:$HPORT,bind=127.0.0.1,reuseaddr,fork,nodelay" \
	    "TCP:127.0.0.1:$TPORT,nodelay" </dev/null >/dev/null 2>&1 &
	HOP_PID=$!
	if wait_for 5 sh -c "ss -Htln 'sport = :$HPORT' | grep -q ."; then
		LAT_MODES="direct hop jump portier"
	else
		note "# socat did not listen on :$HPORT; the pty metric goes without it"
	fi
fi

# Portier: one target, one vendor with PB_NUSERS users, PAM (pam_unix).
setup_pam
BENCH_USERS=()
for i in $(seq 1 "$PB_NUSERS"); do BENCH_USERS+=("$(printf 'ptbench%02d' "$i")"); done
{
	cat <<POL
target "$TARGET" {
	address "127.0.0.1" port $TPORT
	protocol ssh
	account "$ACCOUNT"
}
vendor "$VENDOR" {
POL
	for u in "${BENCH_USERS[@]}"; do printf '\tuser "%s"\n' "$u"; done
	cat <<POL
	access "$TARGET" {
		window every day 00:00-24:00
	}
}
POL
} > "$T/etc/policies/test.conf"
printf 'pam service "%s"\nlockout 1m\n' "$PAM_SERVICE" >> "$T/etc/portier.conf"

PB_PASSWORD="Bench-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
for u in "${BENCH_USERS[@]}"; do
	id "$u" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$u"
	bench_users="$bench_users $u"
	printf '%s:%s\n' "$u" "$PB_PASSWORD"
done | chpasswd

start_daemon || exit 1
sleep 0.2

declare -A SECRET LAST
for u in "${BENCH_USERS[@]}"; do
	out=$("$PORTIERCTL" user add "$u" --vendor "$VENDOR" 2>&1) ||
	    { echo "portierctl user add $u: $out"; exit 1; }
	out=$("$PORTIERCTL" totp enroll "$u" 2>&1) ||
	    { echo "portierctl totp enroll $u: $out"; exit 1; }
	SECRET[$u]=$(printf '%s\n' "$out" | sed -n 's/^otpauth:.*[?&]secret=\([A-Z2-7]*\).*/\1/p' | head -n1)
	[ -n "${SECRET[$u]}" ] || { echo "no TOTP secret for $u in: $out"; exit 1; }
	LAST[$u]=0
done
out=$("$PORTIERCTL" target credential set "$TARGET" "$ACCOUNT" --key "$T/keys/maint_key" 2>&1) ||
    { echo "portierctl target credential set: $out"; exit 1; }

# The vendor's answers: the password, and a code the benchmark computed
# beforehand (PB_CODE), so that oathtool is not in the timings.
cat > "$T/askpass.sh" <<'ASK'
#!/bin/sh
case "$1" in
*assword*)	printf '%s\n' "$PB_PASSWORD" ;;
*code*)		printf '%s\n' "$PB_CODE" ;;
*)		echo "askpass: unexpected prompt: $1" >&2; exit 1 ;;
esac
ASK
chmod 755 "$T/askpass.sh"
export PB_PASSWORD SSH_ASKPASS="$T/askpass.sh" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
export PB_CODE=000000

# Client configurations, one per cipher: -F reaches the jump host's ssh
# too (ProxyJump passes it on), so both of its hops use the cipher.  One
# more without a cipher, for `ssh -c CIPHER -J`: ProxyJump does not pass
# -c on, so the jump hop negotiates OpenSSH's default cipher.
mkdir -m 755 "$T/client"
tkey=$(cut -d' ' -f1,2 "$T/target/host_ed25519.pub")
{
	printf '[127.0.0.1]:%s %s\n' "$TPORT" "$tkey"
	[ -z "$HPORT" ] || printf '[127.0.0.1]:%s %s\n' "$HPORT" "$tkey"
	printf '[127.0.0.1]:%s %s\n' "$JPORT" "$(cut -d' ' -f1,2 "$T/jump/host_ed25519.pub")"
	printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$T/etc/host_ed25519.pub")"
} > "$T/client/known_hosts"
cipher_tag() { case "$1" in chacha20*) echo chacha20 ;; aes128-gcm*) echo aes128gcm ;; *) echo "$1" | tr -c 'a-z0-9\n' _ ;; esac; }
for c in $CIPHERS default; do
	cat > "$T/client/ssh_config.$(cipher_tag "$c")" <<CFG
Host *
  User $ACCOUNT
  IdentityFile $T/keys/maint_key
  IdentitiesOnly yes
  UserKnownHostsFile $T/client/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  ControlMaster no
  ControlPath none
  BatchMode yes
  LogLevel ERROR
$([ "$c" = default ] || echo "  Ciphers $c")
CFG
done
FIRST_CIPHER=${CIPHERS%% *}
CFG="$T/client/ssh_config.$(cipher_tag "$FIRST_CIPHER")"

# ssh_argv MODE: the client command line for MODE (CFG as set), in ARGV.
# Portier's needs LOGIN (next_login).
ssh_argv() {
	case "$1" in
	direct)  ARGV=(ssh -F "$CFG" -p "$TPORT" 127.0.0.1) ;;
	hop)     ARGV=(ssh -F "$CFG" -p "$HPORT" 127.0.0.1) ;;
	jump)    ARGV=(ssh -F "$CFG" -J "$ACCOUNT@127.0.0.1:$JPORT" -p "$TPORT" 127.0.0.1) ;;
	jumpc)   ARGV=(ssh -F "$T/client/ssh_config.default" -c "$BULK_CIPHER"
	             -J "$ACCOUNT@127.0.0.1:$JPORT" -p "$TPORT" 127.0.0.1) ;;
	portier) ARGV=(ssh -F "$CFG" -o BatchMode=no -o PubkeyAuthentication=no
	             -o NumberOfPasswordPrompts=1 -l "$LOGIN@$TARGET" -p "$PORT" 127.0.0.1) ;;
	esac
}

# next_login: a bench user whose next TOTP step Portier will take now
# (steps only go forward, per user; the current and the next one are
# accepted), in LOGIN, and its code in PB_CODE.  Waits if none is free.
next_login() {
	local u s cur best="" bests=0
	while :; do
		cur=$(( $(date +%s) / 30 ))
		for u in "${BENCH_USERS[@]}"; do
			s=$(( LAST[$u] + 1 ))
			[ "$s" -ge "$cur" ] || s=$cur
			if [ "$s" -le $((cur + 1)) ] && { [ -z "$best" ] || [ "$s" -lt "$bests" ]; }; then
				best=$u; bests=$s
			fi
		done
		[ -n "$best" ] && break
		sleep 1
	done
	LAST[$best]=$bests
	LOGIN=$best
	PB_CODE=$(oathtool --totp -b --now "@$((bests * 30))" "${SECRET[$best]}")
}

# run_mode MODE REMOTE-ARGS...: one ssh; Portier's logs in with a fresh step.
run_mode() {
	local m="$1"; shift
	[ "$m" = portier ] && next_login
	ssh_argv "$m"
	"${ARGV[@]}" "$@"
}

now_ns() { date +%s%N; }

# ---- host key pin, then a check of every path ------------------------------

note "# setup: target sshd :$TPORT, jump sshd :$JPORT, portierd :$PORT, in $T"
next_login; ssh_argv portier	# not in $(...): next_login must update LAST here
out=$("${ARGV[@]}" true 2>&1 </dev/null)
if printf '%s' "$out" | grep -q "not trusted yet"; then
	tout=$("$PORTIERCTL" target trust "$TARGET" --yes 2>&1) ||
	    note "# portierctl target trust failed: $tout"
fi
if ! "$PORTIERCTL" target trust "$TARGET" </dev/null 2>&1 | grep -q "already trusted"; then
	# By hand, as the tests do, if the command is not there yet.
	command -v sqlite3 >/dev/null || { echo "cannot pin the target's host key: $out"; exit 1; }
	fp=$(ssh-keygen -l -E sha256 -f "$T/target/host_ed25519.pub" | awk '{print $2}')
	blob=$(cut -d' ' -f2 "$T/target/host_ed25519.pub")
	sqlite3 "$T/var/portier.db" "INSERT OR IGNORE INTO targets(name, created) VALUES('$TARGET', strftime('%s','now'));
	    UPDATE targets SET hostkey_type = 'ssh-ed25519', hostkey_sha256 = '$fp', hostkey_blob = '$blob',
	    trusted_by = 'admin:root', trusted_at = strftime('%s','now') WHERE name = '$TARGET'"
	note "# host key pinned with sqlite3 (portierctl target trust: ${tout:-$out})"
fi

# Each path: bytes intact, exit status relayed.
want=$(seq 1 200000 | md5sum | cut -d' ' -f1)
for m in $MODES; do
	run_mode "$m" 'seq 1 200000; exit 3' </dev/null >"$T/check.out" 2>"$T/check.err"
	rc=$?
	got=$(md5sum < "$T/check.out" | cut -d' ' -f1)
	if [ "$got" = "$want" ] && [ "$rc" = 3 ]; then
		note "# check $m: 1.3 MB intact, exit status 3 relayed"
	else
		echo "check $m failed: rc $rc (want 3), md5 $got (want $want): $(cat "$T/check.err")"
		[ "$m" = portier ] && { echo "portierd log:"; tail -n 30 "$T/portierd.log"; }
		exit 1
	fi
done

# ---- environment -----------------------------------------------------------

git_rev=$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo "?")
git --no-optional-locks -C "$top_srcdir" diff --quiet HEAD -- src 2>/dev/null || git_rev="$git_rev + uncommitted changes in src/"
result "$(python3 - "$git_rev" "$SSHD_USEPAM" <<'PY'
import json, os, platform, subprocess, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
def out(*a):
    try: return subprocess.run(a, capture_output=True, text=True).stderr.strip() or "?"
    except OSError: return "?"
libssh = subprocess.run(["sh", "-c", "dpkg-query -W -f '${Version}' libssh-4 2>/dev/null"], capture_output=True, text=True).stdout or "?"
print(json.dumps({"m": "env", "kernel": platform.release(), "cpu": cpu, "ncpu": os.cpu_count(),
    "openssh": out("ssh", "-V"), "libssh": libssh, "portier": sys.argv[1], "usepam": sys.argv[2]}))
PY
)"
result "{\"m\":\"knobs\",\"bulk_mib\":$BULK_MIB,\"bulk_runs\":$BULK_RUNS,\"text_mib\":$TEXT_MIB,\"text_runs\":$TEXT_RUNS,\"sftp_runs\":$SFTP_RUNS,\"lat_n\":$LAT_N,\"lat_runs\":$LAT_RUNS,\"conn_runs\":$CONN_RUNS,\"mem_k\":$MEM_K,\"users\":$PB_NUSERS}"

# ---- 3. connection time ------------------------------------------------------

# What askpass itself costs the Portier client (two prompts): not Portier's.
for i in 1 2 3 4 5 6 7 8 9 10; do
	t0=$(now_ns)
	"$SSH_ASKPASS" "Password: " >/dev/null; "$SSH_ASKPASS" "Verification code: " >/dev/null
	t1=$(now_ns)
	result "{\"m\":\"askpass\",\"ms\":$(( (t1 - t0) / 1000 )).0e-3}"
done

quiesce
note "# 3. connection time: \`ssh host true\`, $CONN_RUNS runs per mode, interleaved"
CFG="$T/client/ssh_config.$(cipher_tag "$FIRST_CIPHER")"
for i in $(seq 1 "$CONN_RUNS"); do
	line="run $i:"
	for m in $MODES; do
		[ "$m" = portier ] && next_login
		ssh_argv "$m"
		t0=$(now_ns); "${ARGV[@]}" true </dev/null 2>"$T/conn.err"; rc=$?; t1=$(now_ns)
		us=$(( (t1 - t0) / 1000 ))
		result "{\"m\":\"conn\",\"mode\":\"$m\",\"rc\":$rc,\"ms\":$us.0e-3}"
		[ "$rc" = 0 ] || err "connection $m run $i: rc $rc: $(head -c 300 "$T/conn.err")"
		line="$line $m $((us / 1000)) ms"
	done
	note "#   $line"
done

# ---- 2. pty round trip -------------------------------------------------------

quiesce
note "# 2. pty echo round trip: $LAT_RUNS x $LAT_N round trips per mode"
REMOTE='stty raw -echo; echo READY; exec cat'
for r in $(seq 1 "$LAT_RUNS"); do
	for m in $LAT_MODES; do
		[ "$m" = portier ] && next_login
		ssh_argv "$m"
		f="$T/lat.$m.$r"
		if python3 "$HELPER" latency "$LAT_N" "$LAT_WARMUP" "$f" -- \
		    "${ARGV[@]}" -tt -e none "$REMOTE" 2>"$T/lat.err"; then
			result "{\"m\":\"lat\",\"mode\":\"$m\",\"file\":\"$f\"}"
			note "#   run $r $m: $(python3 "$HELPER" stats --line "$f")"
		else
			err "latency $m run $r: $(cat "$T/lat.err")"
		fi
	done
done

# ---- 1. bulk throughput, and 5. what the recording costs -----------------------

rec_list() { find "$T/var/recordings" -name '*.cast' 2>/dev/null | sort; }

live_sessions() {	# how many session processes portierd has
	"$PORTIERCTL" --json status | python3 -c '
import json, sys
print(sum(1 for p in json.load(sys.stdin)["processes"] if p["name"] == "session"))'
}

# rec_settle BEFORE-LIST: wait for the session to end and its recording to
# stop growing; print "FILE SIZE SECONDS", SECONDS from the client's end
# to the last byte of the recording.
rec_settle() {
	local t0 t_last f s prev=-1 n=0 i
	t0=$(now_ns); t_last=$t0
	for i in $(seq 1 600); do
		[ "$(live_sessions)" = 0 ] && break
		sleep 0.1
	done
	f=$(rec_list | comm -13 "$1" - | tail -n1)
	[ -n "$f" ] || { echo "- 0 0"; return; }
	while [ "$n" -lt 5 ]; do
		s=$(stat -c %s "$f" 2>/dev/null || echo 0)
		if [ "$s" = "$prev" ]; then
			n=$((n + 1))
		else
			n=0; prev=$s; t_last=$(now_ns)
		fi
		sleep 0.1
	done
	echo "$f $s $(( (t_last - t0) / 1000000 ))e-3"
}

# bulk KIND CIPHER MODE BYTES REMOTE-COMMAND
bulk() {
	local kind="$1" c="$2" m="$3" bytes="$4" cmd="$5" t0 t1 rc rs="" ns mbs
	CFG="$T/client/ssh_config.$(cipher_tag "$c")"
	BULK_CIPHER=$c
	[ "$m" = portier ] && { rec_list > "$T/rec.before"; next_login; }
	ssh_argv "$m"
	t0=$(now_ns); "${ARGV[@]}" "$cmd" </dev/null >/dev/null 2>"$T/bulk.err"; rc=$?; t1=$(now_ns)
	ns=$((t1 - t0))
	mbs=$(awk -v n="$bytes" -v ns="$ns" 'BEGIN { printf "%.1f", n / (ns / 1e9) / 1e6 }')
	[ "$rc" = 0 ] || err "$kind $c $m: rc $rc: $(head -c 300 "$T/bulk.err")"
	if [ "$m" = portier ]; then
		read -r rf rsize rsecs <<<"$(rec_settle "$T/rec.before")"
		rs=",\"rec_bytes\":$rsize,\"rec_settle_s\":$rsecs"
		[ -n "$KEEP_RECORDINGS" ] || [ "$rf" = - ] || rm -f "$rf"
	fi
	result "{\"m\":\"$kind\",\"cipher\":\"$c\",\"mode\":\"$m\",\"rc\":$rc,\"bytes\":$bytes,\"s\":$ns.0e-9,\"mbs\":$mbs$rs}"
	printf ' %s %s MB/s' "$m" "$mbs"
	[ -z "$rs" ] || printf ' (recording %s B, %s B/B)' "$rsize" \
	    "$(awk -v a="$rsize" -v b="$bytes" 'BEGIN { printf "%.3f", a / b }')"
}

BYTES=$((BULK_MIB * 1048576))
# One transfer first, not counted: the first one of a run is slower.
[ "$BULK_RUNS" -gt 0 ] && { ssh_argv direct; "${ARGV[@]}" "head -c $BYTES /dev/zero" </dev/null >/dev/null 2>&1; }
quiesce
note "# 1. bulk: head -c $BYTES /dev/zero on the target, to /dev/null; $BULK_RUNS runs per mode and cipher"
for c in $CIPHERS; do
	# `ssh -c C -J` differs from `ssh -J` only when C is not the default.
	case "$c" in chacha20-poly1305@openssh.com) bm=$MODES ;; *) bm="direct jump jumpc portier" ;; esac
	for r in $(seq 1 "$BULK_RUNS"); do
		printf '#   %s run %s:' "$(cipher_tag "$c")" "$r"
		for m in $bm; do bulk bulk "$c" "$m" "$BYTES" "head -c $BYTES /dev/zero"; done
		echo
	done
done

if [ "$TEXT_RUNS" -gt 0 ]; then
	TBYTES=$((TEXT_MIB * 1048576))
	head -c $((TBYTES * 3 / 4 + 4096)) /dev/urandom | base64 -w 118 | head -c "$TBYTES" > "$T/text.dat"
	chmod 644 "$T/text.dat"
	quiesce
	note "# 5. text: cat of $TEXT_MIB MiB of base64 lines on the target; $TEXT_RUNS runs per mode ($(cipher_tag "$FIRST_CIPHER"))"
	for r in $(seq 1 "$TEXT_RUNS"); do
		printf '#   run %s:' "$r"
		for m in $MODES; do bulk text "$FIRST_CIPHER" "$m" "$TBYTES" "cat $T/text.dat"; done
		echo
	done
	rm -f "$T/text.dat"
fi

if [ "$SFTP_RUNS" -gt 0 ]; then
	truncate -s "$BYTES" "$T/zero.dat"
	chmod 644 "$T/zero.dat"
	cat "$T/zero.dat" > /dev/null	# in the page cache before the first run
	quiesce
	note "# 5. sftp: get of a $BULK_MIB MiB file to /dev/null (Portier keeps its transfer log); $SFTP_RUNS runs per mode ($(cipher_tag "$FIRST_CIPHER"))"
	CFG="$T/client/ssh_config.$(cipher_tag "$FIRST_CIPHER")"
	for r in $(seq 1 "$SFTP_RUNS"); do
		printf '#   run %s:' "$r"
		for m in $MODES; do
			case $m in
			direct)  SARGV=(sftp -F "$CFG" -P "$TPORT" 127.0.0.1) ;;
			jump)    SARGV=(sftp -F "$CFG" -J "$ACCOUNT@127.0.0.1:$JPORT" -P "$TPORT" 127.0.0.1) ;;
			portier) next_login
			         SARGV=(sftp -F "$CFG" -o BatchMode=no -o PubkeyAuthentication=no
			             -o NumberOfPasswordPrompts=1 -P "$PORT" "$LOGIN@$TARGET@127.0.0.1") ;;
			esac
			t0=$(now_ns)
			printf 'get %s /dev/null\n' "$T/zero.dat" | "${SARGV[@]}" >/dev/null 2>"$T/sftp.err"
			rc=$?; t1=$(now_ns)
			ns=$((t1 - t0))
			mbs=$(awk -v n="$BYTES" -v ns="$ns" 'BEGIN { printf "%.1f", n / (ns / 1e9) / 1e6 }')
			[ "$rc" = 0 ] || err "sftp $m: rc $rc: $(head -c 300 "$T/sftp.err")"
			result "{\"m\":\"sftp\",\"cipher\":\"$FIRST_CIPHER\",\"mode\":\"$m\",\"rc\":$rc,\"bytes\":$BYTES,\"s\":$ns.0e-9,\"mbs\":$mbs}"
			printf ' %s %s MB/s' "$m" "$mbs"
		done
		echo
	done
	rm -f "$T/zero.dat"
fi

# ---- 4. memory per idle session ---------------------------------------------

[ "$MEM_K" -gt 0 ] && note "# 4. memory: $MEM_K idle interactive sessions per mode"
CFG="$T/client/ssh_config.$(cipher_tag "$FIRST_CIPHER")"
[ "$MEM_K" -gt 0 ] && for m in $MODES; do
	: > "$T/mem.spec"
	for i in $(seq 1 "$MEM_K"); do
		if [ "$m" = portier ]; then
			next_login
			echo "$LOGIN $PB_CODE" >> "$T/mem.spec"
		else
			echo "- 000000" >> "$T/mem.spec"
		fi
	done
	case $m in
	direct)  what="sshd:$TARGET_SSHD" ;;
	jump)    what="sshd:$JUMP_SSHD" ;;
	portier) what="portier:$PORTIERCTL" ;;
	esac
	LOGIN=@LOGIN@
	ssh_argv "$m"
	if out=$(python3 "$HELPER" idle "$MEM_K" "$T/mem.spec" "$what" -- "${ARGV[@]}" -tt -e none 2>"$T/mem.err"); then
		result "{\"m\":\"mem\",\"mode\":\"$m\",\"data\":$out}"
		note "#   $m: $(printf '%s' "$out" | python3 "$HELPER" memline)"
	else
		err "memory $m: $(cat "$T/mem.err")"
	fi
	wait_for 20 sh -c "[ -z \"\$(ps -o pid= --ppid $TARGET_SSHD)\" ]"
done

# ---- the report ----------------------------------------------------------------

elapsed=$(( $(date +%s) - BENCH_START ))
echo
python3 "$HELPER" report "$RES" "$elapsed"
# What portierd said that was not routine, once per kind of line.
echo
echo "portierd log: $(wc -l < "$T/portierd.log") lines; warnings and errors (at most 10 kinds):"
grep -iE 'error|fail|warn|fatal|denied|refused|alert' "$T/portierd.log" |
    grep -v 'audit: auth\.\(password\.\)\?ok' |
    sed -E 's/\[[0-9]+\]/[PID]/; s/session [0-9a-f]{16}/session SID/g; s/pid [0-9]+/pid PID/g' |
    sort | uniq -c | sort -rn | head -n 10 | sed 's/^/   /'
grep -qiE 'error|fail|warn|fatal|denied|refused|alert' "$T/portierd.log" || echo "   (none)"
[ "$errors" -eq 0 ] || { echo "$errors measurement(s) failed: see ERROR lines above"; exit 1; }
exit 0
