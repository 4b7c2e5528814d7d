#!/usr/bin/python3
"""bench.py: the parts of ssh-bench.sh that need a terminal or /proc.

  bench.py latency N WARMUP OUTFILE -- SSH-ARGV...
	Runs SSH-ARGV (an `ssh -tt ... 'stty raw -echo; echo READY; exec cat'`)
	on a pty, waits for READY, then N + WARMUP times: write one byte, wait
	until that byte comes back.  The first WARMUP round trips are dropped;
	the other N, in microseconds, go to OUTFILE, one per line.

  bench.py idle K SPECFILE WHAT -- SSH-ARGV...
	Opens K idle interactive sessions (an `ssh -tt HOST`, a login shell on
	the far end), each on its own pty, one after the other; each counts
	as open once its shell has answered `echo PB_$((40+2))`.  Then sums
	the PSS and RSS (/proc/PID/smaps_rollup) of the processes WHAT names,
	before and after, and prints one JSON object.  SPECFILE has K lines
	"LOGIN CODE": @LOGIN@ in SSH-ARGV is replaced by LOGIN and PB_CODE is
	set to CODE in the client's environment (for Portier's askpass).
	WHAT is one of
	    sshd:PID       the sshd processes under the sshd listener PID
	                   (the session's shell and its children are not sshd's);
	                   the listener itself is reported apart
	    portier:CTL    the "session" processes `CTL --json status` lists;
	                   the other portierd processes are reported apart

  bench.py stats [--line] FILE...
	p50/p90/p99/max/mean of the samples in the files, pooled, as JSON
	(--line: one line for people).

  bench.py report RESULTS [SECONDS]
	The tables and the summary, from ssh-bench.sh's results (JSON lines).

The benchmark asserts nothing: it measures and prints.
"""
import json
import os
import re
import pty
import select
import signal
import subprocess
import sys
import time


def read_until(fd, token, timeout, what):
    buf = b""
    end = time.monotonic() + timeout
    while token not in buf:
        left = end - time.monotonic()
        r = select.select([fd], [], [], max(0.0, left))[0] if left > 0 else []
        if not r:
            raise RuntimeError(f"{what}: timeout waiting for {token!r}; "
                               f"last output {buf[-300:]!r}")
        try:
            b = os.read(fd, 4096)
        except OSError:
            b = b""
        if not b:
            raise RuntimeError(f"{what}: session ended before {token!r}; "
                               f"last output {buf[-300:]!r}")
        buf += b
    return buf


def drain(fd, quiet=0.05):
    while select.select([fd], [], [], quiet)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def spawn(argv, env):
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, fd


def stop(pid, fd):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    end = time.monotonic() + 5
    while time.monotonic() < end:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    try:
        os.close(fd)
    except OSError:
        pass


def latency(argv):
    n, warm, out = int(argv[0]), int(argv[1]), argv[2]
    cmd = argv[argv.index("--") + 1:]
    pid, fd = spawn(cmd, dict(os.environ))
    try:
        read_until(fd, b"READY", 60, "latency")
        time.sleep(0.2)
        drain(fd)
        lat = []
        letters = b"abcdefghijklmnopqrstuvwxyz"
        for i in range(n + warm):
            c = letters[i % 26:i % 26 + 1]
            t0 = time.perf_counter_ns()
            os.write(fd, c)
            got = b""
            while c not in got:
                select.select([fd], [], [])
                b = os.read(fd, 64)
                if not b:
                    raise RuntimeError("latency: session ended")
                got += b
            t1 = time.perf_counter_ns()
            if i >= warm:
                lat.append((t1 - t0) / 1000.0)
    finally:
        stop(pid, fd)
    with open(out, "w") as f:
        f.write("".join(f"{x:.1f}\n" for x in lat))


# ---- memory ---------------------------------------------------------------

def children_map():
    m = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
            ppid = int(st.rsplit(")", 1)[1].split()[1])
            m.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    return m


def descendants(root):
    m = children_map()
    out, todo = [], list(m.get(root, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += m.get(p, [])
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def mem(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def groups(what):
    """{group name: [pids]} for WHAT."""
    kind, arg = what.split(":", 1)
    if kind == "sshd":
        return {"session": [p for p in descendants(int(arg))
                            if cmdline(p).startswith("sshd")],
                "core": [int(arg)]}
    st = json.loads(subprocess.check_output([arg, "--json", "status"]))
    g = {"session": [], "core": []}
    for p in st["processes"]:
        g["session" if p["name"] == "session" else "core"].append(p["pid"])
    return g


def measure(what):
    res = {}
    for name, pids in groups(what).items():
        r = p = 0
        names = []
        for pid in pids:
            a, b = mem(pid)
            r += a
            p += b
            names.append(re.sub(r"pts/\d+", "pts/N", cmdline(pid).split(" -f ")[0])[:40])
        res[name] = {"n": len(pids), "rss_kib": r, "pss_kib": p,
                     "cmdlines": sorted(set(names))}
    return res


def idle(argv):
    k, specfile, what = int(argv[0]), argv[1], argv[2]
    cmd = argv[argv.index("--") + 1:]
    specs = [line.split() for line in open(specfile) if line.strip()][:k]
    before = measure(what)
    sess = []
    try:
        for i, (login, code) in enumerate(specs):
            env = dict(os.environ, PB_CODE=code)
            pid, fd = spawn([a.replace("@LOGIN@", login) for a in cmd], env)
            sess.append((pid, fd))
            # An answer only the far shell can give (the line waits in
            # the pty until ssh reads it).
            os.write(fd, b"echo PB_$((40+2))\n")
            read_until(fd, b"PB_42", 60, f"idle session {i + 1}")
            drain(fd, 0.1)
        time.sleep(2)
        for pid, fd in sess:
            drain(fd, 0.01)
        after = measure(what)
        alive = sum(1 for pid, fd in sess if os.waitpid(pid, os.WNOHANG)[0] == 0)
    finally:
        for pid, fd in sess:
            stop(pid, fd)
    print(json.dumps({"k": k, "alive": alive, "before": before, "after": after}))


def memline():
    d = json.load(sys.stdin)
    a, b, k = d["after"]["session"], d["before"]["session"], d["k"]
    print(f"{a['n'] - b['n']} session processes for {k} sessions ({d['alive']} clients alive), "
          f"PSS {(a['pss_kib'] - b['pss_kib']) / k / 1024:.2f} MiB per session; "
          f"{', '.join(a['cmdlines'])}")


def stats(files):
    line = files[:1] == ["--line"]
    files = files[1:] if line else files
    lat = []
    for fn in files:
        with open(fn) as f:
            lat += [float(x) for x in f if x.strip()]
    lat.sort()
    if not lat:
        print(json.dumps({"n": 0}))
        return
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    if line:
        print(f"n {len(lat)}  p50 {q(.5):.0f}  p90 {q(.9):.0f}  p99 {q(.99):.0f}  "
              f"max {lat[-1]:.0f} us")
        return
    print(json.dumps({"n": len(lat), "p50": q(0.50), "p90": q(0.90),
                      "p99": q(0.99), "max": lat[-1],
                      "mean": sum(lat) / len(lat)}))


# ---- the report -------------------------------------------------------------

NAMES = {"direct": "direct", "jump": "ssh -J", "jumpc": "ssh -c -J",
         "portier": "Portier", "hop": "TCP hop"}
MODES = ["direct", "jump", "portier"]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return None
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, spec=".1f", none="-"):
    return none if x is None else format(x, spec)


def ctag(c):
    return {"chacha20-poly1305@openssh.com": "chacha20",
            "aes128-gcm@openssh.com": "aes128-gcm"}.get(c, c.split("@")[0])


def verdict(r, goal, higher_better):
    if r is None:
        return "not measured"
    ok = r >= goal if higher_better else r <= goal
    return "met" if ok else "MISSED"


def report(argv):
    rows = [json.loads(l) for l in open(argv[0]) if l.strip()]
    elapsed = int(argv[1]) if len(argv) > 1 else 0
    by = lambda m: [r for r in rows if r["m"] == m]
    env = (by("env") or [{}])[0]
    kn = (by("knobs") or [{}])[0]
    summary = []

    print("=" * 78)
    print("Portier vs direct OpenSSH vs OpenSSH jump host (ssh -J), all on 127.0.0.1")
    print("=" * 78)
    print(f"machine : {env.get('cpu', '?')}, {env.get('ncpu', '?')} CPUs, Linux {env.get('kernel', '?')}")
    print(f"software: {env.get('openssh', '?')}; libssh {env.get('libssh', '?')}; "
          f"Portier {env.get('portier', '?')}")
    print(f"paths   : direct = client -> target sshd (key)")
    print(f"          ssh -J = client -> jump sshd -> target sshd (key on both, ProxyJump)")
    print(f"          Portier = client -> portierd (password + TOTP code, askpass) -> target sshd")
    print(f"          (vaulted key); target and jump sshd: UsePAM {env.get('usepam', '?')}")
    print(f"run     : {elapsed} s in all")

    # connection times first: the bulk table uses them
    conn = {m: [r["ms"] for r in by("conn") if r["mode"] == m and r["rc"] == 0] for m in MODES}
    connfail = {m: sum(1 for r in by("conn") if r["mode"] == m and r["rc"] != 0) for m in MODES}
    connmed = {m: median(conn[m]) for m in MODES}

    # 1. bulk
    print()
    print(f"1. BULK THROUGHPUT  head -c {kn.get('bulk_mib', '?')} MiB /dev/zero on the target -> client -> /dev/null")
    print(f"   MB/s = 10^6 bytes/s over the wall time of the whole `ssh` command (login included);")
    print(f"   median of {kn.get('bulk_runs', '?')} interleaved runs.  \"data only\": the same bytes over")
    print(f"   (wall time - that path's median `ssh host true` time from table 3).")
    print(f"   ssh -J: both hops use the cipher (-F reaches the jump's ssh).  ssh -c -J:")
    print(f"   `ssh -c CIPHER -J ...`, whose jump hop negotiates OpenSSH's default cipher")
    print(f"   (chacha20-poly1305): ProxyJump does not pass -c on.")
    print(f"   {'cipher':<12}{'path':<10}{'median':>7}  {'runs':<24}{'/ ssh -J':>9}{'/ direct':>9}{'data only':>11}")
    if not by("bulk"):
        print("   (skipped)")
    connmed["jumpc"] = connmed["jump"]	# the same login, through the same jump
    for c in dict.fromkeys(r["cipher"] for r in by("bulk")):
        modes = [m for m in ["direct", "jump", "jumpc", "portier"]
                 if any(r["cipher"] == c and r["mode"] == m for r in by("bulk"))]
        med = {m: median([r["mbs"] for r in by("bulk")
                          if r["cipher"] == c and r["mode"] == m and r["rc"] == 0]) for m in modes}
        for m in modes:
            rs = [r for r in by("bulk") if r["cipher"] == c and r["mode"] == m]
            ok = [r for r in rs if r["rc"] == 0]
            secs = median([r["s"] for r in ok])
            data = None
            if secs and connmed[m] is not None and secs > connmed[m] / 1000:
                data = ok[0]["bytes"] / (secs - connmed[m] / 1000) / 1e6
            runs = " ".join(f"{r['mbs']:.0f}" + ("" if r["rc"] == 0 else "!") for r in rs)
            tag = ctag(c)
            print(f"   {tag if m == 'direct' else '':<12}{NAMES[m]:<10}{fmt(med[m]):>7}  {runs:<24}"
                  f"{fmt(ratio(med[m], med.get('jump')), '.2f'):>9}{fmt(ratio(med[m], med.get('direct')), '.2f'):>9}"
                  f"{fmt(data):>11}")
        tag = ctag(c)
        for ref in [m for m in ("jump", "jumpc") if m in modes]:
            r = ratio(med.get("portier"), med[ref])
            print(f"   -> {tag}: Portier / {NAMES[ref]} = {fmt(r, '.2f')}   (goal >= 1.15: {verdict(r, 1.15, True)})")
            summary.append((f"1. bulk, {tag}", f"Portier / {NAMES[ref]}", fmt(r, ".2f"), ">= 1.15", verdict(r, 1.15, True)))

    # 2. latency
    print()
    lat = {}
    per = {}	# round -> mode -> that session's p99
    p99 = lambda xs: xs[min(len(xs) - 1, int(.99 * len(xs)))]
    lmodes = [m for m in ["direct", "hop", "jump", "portier"]
              if m in MODES or any(r["mode"] == m for r in by("lat"))]
    for m in lmodes:
        files = [r["file"] for r in by("lat") if r["mode"] == m]
        xs = []
        for fn in files:
            try:
                one = sorted(float(x) for x in open(fn) if x.strip())
            except OSError:
                continue
            if one:
                per.setdefault(fn.rsplit(".", 1)[1], {})[m] = p99(one)
            xs += one
        xs.sort()
        q = (lambda p, xs=xs: xs[min(len(xs) - 1, int(p * len(xs)))]) if xs else (lambda p: None)
        lat[m] = {"n": len(xs), "p50": q(.5), "p90": q(.9), "p99": q(.99),
                  "max": xs[-1] if xs else None, "mean": sum(xs) / len(xs) if xs else None}
    print(f"2. PTY ECHO ROUND TRIP  1 byte typed into `ssh -tt HOST 'stty raw -echo; exec cat'`, until it")
    print(f"   comes back; {kn.get('lat_runs', '?')} sessions x {kn.get('lat_n', '?')} round trips per path, pooled; microseconds")
    if not by("lat"):
        print("   (skipped)")
    print(f"   {'path':<9}{'n':>6}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'mean':>8}{'p99 / direct':>14}")
    for m in lmodes:
        L = lat[m]
        print(f"   {NAMES[m]:<9}{L['n']:>6}{fmt(L['p50'], '.0f'):>8}{fmt(L['p90'], '.0f'):>8}{fmt(L['p99'], '.0f'):>8}"
              f"{fmt(L['max'], '.0f'):>8}{fmt(L['mean'], '.0f'):>8}{fmt(ratio(L['p99'], lat['direct']['p99']), '.2f'):>14}")
    # Each session's p99 next to the direct session of the same round:
    # the tail moves from one session to the next on every path.
    for m in lmodes[1:]:
        rs = [ratio(p[m], p["direct"]) for p in per.values() if m in p and "direct" in p]
        if rs:
            print(f"   {NAMES[m]:<8} session by session, p99 / direct's: median {median(rs):.2f}"
                  f" ({min(rs):.2f} to {max(rs):.2f}, {len(rs)} sessions)")
    r = ratio(lat["portier"]["p99"], lat["direct"]["p99"])
    print(f"   -> Portier p99 / direct p99 = {fmt(r, '.2f')}   (goal <= 1.25: {verdict(r, 1.25, False)})")
    summary.append(("2. pty echo p99", "Portier / direct", fmt(r, ".2f"), "<= 1.25", verdict(r, 1.25, False)))
    if "hop" in lmodes:
        h = ratio(lat["hop"]["p99"], lat["direct"]["p99"])
        print(f"   -> TCP hop p99 / direct p99 = {fmt(h, '.2f')}   (no goal: direct ssh through socat, which decrypts nothing; the floor for any relay here)")
        summary.append(("2. pty echo p99", "TCP hop / direct", fmt(h, ".2f"), "none", "the floor"))
        # What Portier's own work (two SSH sessions, authorization,
        # recording) adds over a process that only copies bytes.
        rs = [ratio(p["portier"], p["hop"]) for p in per.values() if "portier" in p and "hop" in p]
        o = ratio(lat["portier"]["p99"], lat["hop"]["p99"])
        print(f"   -> Portier p99 / TCP hop p99 = {fmt(o, '.2f')}"
              + (f", session by session: median {median(rs):.2f} ({min(rs):.2f} to {max(rs):.2f})" if rs else "")
              + "   (no goal)")
        summary.append(("2. pty echo p99", "Portier / TCP hop", fmt(o, ".2f"), "none", "over the floor"))

    # 3. connection
    print()
    ask = median([r["ms"] for r in by("askpass")])
    print(f"3. CONNECTION TIME  `ssh HOST true`, {kn.get('conn_runs', '?')} runs per path, interleaved; milliseconds")
    if not by("conn"):
        print("   (skipped)")
    print(f"   {'path':<9}{'median':>8}{'p90':>8}{'min':>8}{'max':>8}{'failed':>8}{'/ ssh -J':>10}")
    for m in MODES:
        xs = sorted(conn[m])
        p90 = xs[min(len(xs) - 1, int(.9 * len(xs)))] if xs else None
        print(f"   {NAMES[m]:<9}{fmt(connmed[m]):>8}{fmt(p90):>8}{fmt(xs[0] if xs else None):>8}"
              f"{fmt(xs[-1] if xs else None):>8}{connfail[m]:>8}{fmt(ratio(connmed[m], connmed['jump']), '.2f'):>10}")
    r = ratio(connmed["portier"], connmed["jump"])
    print(f"   (Portier's includes askpass answering two prompts on the client: {fmt(ask, '.1f')} ms)")
    print(f"   -> Portier / ssh -J = {fmt(r, '.2f')}   (goal <= 0.75: {verdict(r, 0.75, False)})")
    summary.append(("3. ssh host true", "Portier / ssh -J", fmt(r, ".2f"), "<= 0.75", verdict(r, 0.75, False)))

    # 4. memory
    print()
    print(f"4. MEMORY PER IDLE SESSION  {kn.get('mem_k', '?')} idle interactive sessions (`ssh -tt HOST`, a login")
    print(f"   shell on the target) open at once; PSS and RSS from /proc/PID/smaps_rollup; MiB")
    print(f"   \"session procs\": the processes each session adds; \"all\": growth of every process of")
    print(f"   the server (listener, parent, monitor, recorder... included: their PSS shrinks as they")
    print(f"   share pages with more children) divided by the number of sessions.")
    if not by("mem"):
        print("   (skipped)")
    print(f"   {'path':<9}{'server':<22}{'procs/sess':>11}{'PSS session procs':>19}{'PSS all':>9}{'RSS session procs':>19}")
    mem, memall = {}, {}
    for r in by("mem"):
        d, m = r["data"], r["mode"]
        k = d["k"]
        a, b = d["after"]["session"], d["before"]["session"]
        zero = {"pss_kib": 0, "rss_kib": 0}
        ca, cb = d["after"].get("core", zero), d["before"].get("core", zero)
        pss = (a["pss_kib"] - b["pss_kib"]) / k / 1024
        rss = (a["rss_kib"] - b["rss_kib"]) / k / 1024
        tot = (a["pss_kib"] - b["pss_kib"] + ca["pss_kib"] - cb["pss_kib"]) / k / 1024
        mem[m], memall[m] = pss, tot
        where = {"direct": "target sshd", "jump": "jump sshd",
                 "portier": "portierd"}[m]
        print(f"   {NAMES[m]:<9}{where:<22}{(a['n'] - b['n']) / k:>11.1f}{pss:>19.2f}{tot:>9.2f}{rss:>19.2f}"
              + ("" if d["alive"] == k else f"   ({d['alive']}/{k} clients alive)"))
    print(f"   (ssh -J and Portier also cost a session on the target sshd, as direct does.)")
    r = ratio(mem.get("portier"), mem.get("direct"))
    print(f"   -> Portier session PSS / direct sshd PSS = {fmt(r, '.2f')}   (no goal fixed)")
    summary.append(("4. memory PSS/session", "Portier / sshd", fmt(r, ".2f"),
                    "none", f"{fmt(mem.get('portier'), '.2f')} vs {fmt(mem.get('direct'), '.2f')} MiB"))

    # 5. recording
    print()
    print(f"5. RECORDING  Portier records every session (no switch to turn it off): a shell whole,")
    print(f"   an exec's first MiB each way plus the size and SHA-256 of all of it, sftp as a transfer")
    print(f"   log (each file's size and SHA-256).  Recording size = asciicast bytes / bytes sent.")
    print(f"   {'data':<24}{'path':<9}{'median MB/s':>12}{'/ ssh -J':>10}{'/ direct':>10}{'rec. B/B':>10}{'rec. done':>11}")
    recsum, extras = [], []
    for kind, label in (("bulk", "zeros: exec head -c"), ("text", "text: exec cat base64"),
                        ("sftp", "zeros: sftp get")):
        rs = by(kind)
        if not rs:
            continue
        c0 = rs[0]["cipher"]
        med = {m: median([r["mbs"] for r in rs if r["mode"] == m and r["rc"] == 0 and r["cipher"] == c0])
               for m in MODES}
        if kind != "bulk":
            rj = ratio(med["portier"], med["jump"])
            extras.append((f"5. {'text, recorded' if kind == 'text' else 'sftp, transfer log'}",
                           "Portier / ssh -J", fmt(rj, ".2f"), "none", f"{fmt(med['portier'])} MB/s"))
        for m in MODES:
            extra = ""
            if m == "portier" and kind != "sftp":
                rr = [r for r in rs if r["mode"] == m and r.get("rec_bytes") and r["cipher"] == c0]
                bb = median([r["rec_bytes"] / r["bytes"] for r in rr])
                settle = median([r["rec_settle_s"] for r in rr])
                extra = f"{fmt(bb, '.3f'):>10}{fmt(settle, '.1f') + ' s':>11}"
                recsum.append(f"{kind if kind != 'bulk' else 'zeros'} {fmt(bb, '.2f')}")
            lab = label if m == "direct" else f"  ({ctag(c0)}, {rs[0]['bytes'] >> 20} MiB)" if m == "jump" else ""
            print(f"   {lab:<24}{NAMES[m]:<9}{fmt(med[m]):>12}{fmt(ratio(med[m], med['jump']), '.2f'):>10}"
                  f"{fmt(ratio(med[m], med['direct']), '.2f'):>10}{extra}")
    print(f"   \"rec. done\": from the client's exit to the recording's last byte.")
    summary.append(("5. recording size", "bytes / output byte", ", ".join(recsum), "none", ""))
    summary += extras

    print()
    print("SUMMARY")
    print(f"   {'metric':<24}{'ratio':<21}{'measured':<22}{'goal':<10}")
    for s in summary:
        print(f"   {s[0]:<24}{s[1]:<21}{s[2]:<22}{s[3]:<10}{s[4]}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, rest = sys.argv[1], sys.argv[2:]
    try:
        if cmd == "latency":
            latency(rest)
        elif cmd == "idle":
            idle(rest)
        elif cmd == "stats":
            stats(rest)
        elif cmd == "memline":
            memline()
        elif cmd == "report":
            report(rest)
        else:
            sys.exit(__doc__)
    except RuntimeError as e:
        sys.exit(f"bench.py: {e}")


if __name__ == "__main__":
    main()
