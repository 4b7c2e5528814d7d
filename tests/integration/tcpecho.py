#!/usr/bin/env python3
"""tcpecho.py: the two ends of a forwarded TCP connection, for the tests.

  tcpecho.py serve PORT          echo every byte back, any number of
                                 connections, until killed
  tcpecho.py client PORT NBYTES  send NBYTES (a fixed pseudo-random
                                 stream) while reading the echo; print
                                 "echo NBYTES SHA256" when all came back
                                 as sent, or why not; exit 0 or 1
  tcpecho.py hold PORT           one byte there and back, print "open",
                                 then wait: print "closed" when the far
                                 side closes (exit 0), "timeout" after
                                 60 seconds (exit 1)

Both on 127.0.0.1; the client gives up after 60 seconds.
"""
import hashlib
import random
import socket
import sys
import threading


def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)

    def echo(c):
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)

    while True:
        c, _ = ls.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def client(port, n):
    data = random.Random(1234).randbytes(n)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)

    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=send, daemon=True)
    t.start()
    got = bytearray()
    try:
        while len(got) < n:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError as e:
        print("error after %d bytes: %s" % (len(got), e))
        return 1
    if bytes(got) != data:
        print("got %d bytes of %d, not the same" % (len(got), n))
        return 1
    print("echo %d %s" % (n, hashlib.sha256(got).hexdigest()))
    return 0


def hold(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            print("no echo")
            return 1
        print("open", flush=True)
        while s.recv(65536):
            pass
    except socket.timeout:
        print("timeout")
        return 1
    except OSError as e:
        print("closed (%s)" % e)
        return 0
    print("closed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "client":
        sys.exit(client(int(sys.argv[2]), int(sys.argv[3])))
    elif len(sys.argv) == 3 and sys.argv[1] == "hold":
        sys.exit(hold(int(sys.argv[2])))
    else:
        sys.exit(__doc__)
