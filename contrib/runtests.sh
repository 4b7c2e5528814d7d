#!/bin/sh
# runtests.sh: the whole test suite, as CI runs it.
#
# Installs what the build and the tests need (Debian 12, apt-get), then:
#   1. builds with -Werror and runs every test (unit, integration against
#      the real daemon, real sshd/PAM/SQLite peers) with `make check`;
#   2. checks that a release tarball builds and passes (`make distcheck`);
#   3. rebuilds with ASan+UBSan and runs the unit and integration tests
#      again;
#   4. builds the libFuzzer harnesses with clang and runs each briefly.
# Integration tests need root; run it as root (or with sudo).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

if [ "$(id -u)" -ne 0 ]; then
	echo "runtests: the integration tests start portierd, which must start as root; run: sudo $0" >&2
	exit 1
fi

echo "== installing dependencies"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Build dependencies, then what the tests run against.
{ grep -v '^#' contrib/debian-packages; cat <<PKGS
clang
libclang-rt-14-dev
openssh-server
oathtool
asciinema
openssl
ssh-audit
util-linux
procps
python3
xvfb
xauth
x11-utils
PKGS
} | xargs apt-get install -y -qq >/dev/null

echo "== autoreconf"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

total_pass=0
total_fail=0
count() {	# count LOGDIR: add a build's automake results to the totals
	local f p n
	for f in $(find "$1" -name '*.trs'); do
		p=$(sed -n 's/^:test-result: //p' "$f")
		case "$p" in
		PASS|SKIP|XFAIL) total_pass=$((total_pass + 1)) ;;
		*) total_fail=$((total_fail + 1)) ;;
		esac
	done
}
check_failed() {
	echo "== FAILED in $1; the logs:"
	for f in $(find "$top/build/$1" -name '*.log' ! -name config.log); do
		if grep -q '^:test-result: \(FAIL\|ERROR\)' "${f%.log}.trs" 2>/dev/null; then
			echo "---- $f"; tail -n 150 "$f"
		fi
	done
	exit 1
}

echo "== 1. -Werror build and make check"
rm -rf build && mkdir -p build/werror build/asan build/fuzz
(cd build/werror && ../../configure --quiet --enable-werror &&
    make -s -j"$jobs" && make -s -j"$jobs" check) || check_failed werror
count build/werror

echo "== 2. make distcheck"
(cd build/werror && make -s distcheck \
    DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.log 2>&1) || {
	tail -n 80 build/werror/distcheck.log; exit 1; }
echo "distcheck: $(grep -o 'portier-[0-9.]*\.tar\.gz' build/werror/distcheck.log | head -n1) ready for distribution"

echo "== 3. ASan+UBSan build and make check"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# ASan intercepts crypt(3), but pam_unix loads libcrypt with dlopen after
# ASan resolved its interceptors: the call lands on a NULL pointer.
# Linking libcrypt from the start avoids that (sanitizer builds only).
(cd build/asan && ../../configure --quiet --enable-werror \
    CFLAGS="-g -O1 $san" LDFLAGS="$san" LIBS="-Wl,--no-as-needed -lcrypt" &&
    make -s -j"$jobs" &&
    ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    make -s -j"$jobs" check) || check_failed asan
count build/asan

echo "== 4. fuzz harnesses, ${FUZZ_SECONDS}s each"
(cd build/fuzz && ../../configure --quiet --enable-fuzzing CC=clang \
    CFLAGS="-g -O1 -fsanitize=address,undefined,fuzzer-no-link" \
    LDFLAGS="-fsanitize=address,undefined" &&
    make -s -j"$jobs" tests/fuzz/msg-fuzzer tests/fuzz/config-fuzzer \
    tests/fuzz/vendor-fuzzer tests/fuzz/recording-fuzzer \
    tests/fuzz/sftplog-fuzzer) || exit 1
for f in msg config vendor recording sftplog; do
	mkdir -p "build/fuzz/corpus-$f"
	if build/fuzz/tests/fuzz/$f-fuzzer -max_total_time="$FUZZ_SECONDS" \
	    -print_final_stats=1 "build/fuzz/corpus-$f" "tests/fuzz/corpus/$f" \
	    >"build/fuzz/$f.log" 2>&1; then
		echo "fuzz $f: $(grep -o 'stat::number_of_executed_units: *[0-9]*' build/fuzz/$f.log | grep -o '[0-9]*$') runs, no crash"
		total_pass=$((total_pass + 1))
	else
		echo "fuzz $f: FAILED"; tail -n 40 "build/fuzz/$f.log"
		total_fail=$((total_fail + 1))
	fi
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
