"""A bulk TCP exchange for the offload lab test: the client sends N bytes, the server reads
them all and sends N other bytes back. Both sides' bytes come from a seeded generator, so the
test knows them without reading them back.

    bulk_tcp.py serve PORT BYTES      (prints "ready", then "done <received>")
    bulk_tcp.py send HOST PORT BYTES  (prints "done <received>")
"""

import random
import socket
import sys

CLIENT_SEED, SERVER_SEED = 1, 2


def data(seed, n):
    return random.Random(seed).randbytes(n)


def receive(sock, n):
    got = 0
    while got < n:
        chunk = sock.recv(min(1 << 20, n - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def main(argv):
    if argv[1] == "serve":
        port, n = int(argv[2]), int(argv[3])
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", port))
        listener.listen(1)
        listener.settimeout(60)
        print("ready", flush=True)
        conn, _ = listener.accept()
        conn.settimeout(60)
        got = receive(conn, n)
        conn.sendall(data(SERVER_SEED, n))
        conn.shutdown(socket.SHUT_WR)
        receive(conn, 1)
        conn.close()
        print("done %d" % got, flush=True)
    else:
        host, port, n = argv[2], int(argv[3]), int(argv[4])
        conn = socket.create_connection((host, port), timeout=60)
        conn.sendall(data(CLIENT_SEED, n))
        got = receive(conn, n)
        conn.close()
        print("done %d" % got, flush=True)


if __name__ == "__main__":
    main(sys.argv)
