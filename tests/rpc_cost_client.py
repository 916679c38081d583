"""N JSON-RPC requests of one body over C kept-alive connections, each
sending its next request when the answer to the last is read (as wrk does).
Used by tests/rpc-cost.sh. Exits non-zero when any answer is not HTTP 200
with a "result".

Usage: python3 rpc_cost_client.py HOST PORT N C BODY"""
import socket
import sys
import threading


def read_answer(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").lower().split("\r\n")
    status = lines[0]
    length = [int(l.split(":", 1)[1]) for l in lines[1:] if l.startswith("content-length:")]
    if length:
        while len(rest) < length[0]:
            d = s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            rest += d
        return status, rest[:length[0]], rest[length[0]:]
    # chunked (an answer from a worker): read to the last chunk
    body = b""
    while True:
        while b"\r\n" not in rest:
            rest += s.recv(65536)
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        while len(rest) < size + 2:
            rest += s.recv(65536)
        body += rest[:size]
        rest = rest[size + 2:]
        if size == 0:
            return status, body, rest


def main():
    host, port, n, conns, body = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    req = (b"POST / HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
           % (host.encode(), port, len(body)) + body.encode())
    errors = []

    def run(k):
        try:
            s = socket.create_connection((host, port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = b""
            for _ in range(k):
                s.sendall(req)
                status, answer, buf = read_answer(s, buf)
                if " 200 " not in status or b'"result"' not in answer:
                    errors.append("%s %r" % (status, answer[:100]))
            s.close()
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(n // conns + (1 if i < n % conns else 0),)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("rpc-cost: %d bad answers, the first: %s" % (len(errors), errors[0]))
        sys.exit(1)


main()
