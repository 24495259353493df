#!/usr/bin/env python3
"""A PostgreSQL server of the tests' own, from Debian's postgresql package.

    pg_server.py start DIR   initdb into a new directory under /tmp (the server's user must
                             reach it, which a build tree under /root does not let it), start
                             postgres on a free 127.0.0.1 port with its socket there; write the
                             port to DIR/port and that directory to DIR/server_dir; print the port
    pg_server.py stop DIR    stop it (fast shutdown) and remove both directories

As root the server runs as the `postgres` user (it refuses root). ctest starts one for the
whole run (fixture `postgres`, tests/CMakeLists.txt) and tests make a fresh database each;
`PostgresServer` in Python does the same for a test run by hand.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres; "
                           "scripts/install-deps.sh test installs it)")
    return os.path.dirname(found[-1])


def _as_server_user():
    """preexec_fn and owner ids for the server's processes: `postgres` when we are root."""
    if os.geteuid() != 0:
        return None, None
    pw = pwd.getpwnam("postgres")

    def drop():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return drop, pw


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_dir(handle):
    """Where the server of HANDLE keeps its data and socket (None before start)."""
    try:
        with open(os.path.join(handle, "server_dir")) as f:
            return f.read().strip()
    except OSError:
        return None


def start(handle, port=None, durable=False):
    """initdb (unless HANDLE's server has a cluster already) and start; the port: `port`, or a
    free one. durable: fsync as a production server does (for benchmarks next to SQLite's)."""
    bindir = bin_dir()
    drop, pw = _as_server_user()
    os.makedirs(handle, exist_ok=True)
    directory = server_dir(handle)
    if directory is None:
        directory = tempfile.mkdtemp(prefix="tmirror-pg-", dir="/tmp")
        with open(os.path.join(handle, "server_dir"), "w") as f:
            f.write(directory)
    if pw is not None:
        os.chown(directory, pw.pw_uid, pw.pw_gid)
    data = os.path.join(directory, "data")
    log = os.path.join(directory, "server.log")
    if not os.path.exists(os.path.join(data, "PG_VERSION")):
        res = subprocess.run([os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres",
                              "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                             preexec_fn=drop, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True)
        if res.returncode != 0:
            raise RuntimeError("initdb -D %s failed (%d):\n%s" % (data, res.returncode, res.stdout))
    port = port or free_port()
    # No fsync: the tests are about tmirror, and the database outlives every process they kill.
    options = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 "
               "-c max_connections=300")
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    res = subprocess.run([os.path.join(bindir, "pg_ctl"), "-D", data, "-l", log, "-o", options,
                          "-w", "-t", "60", "start"], preexec_fn=drop, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    if res.returncode != 0:
        with open(log, errors="replace") as f:
            raise RuntimeError("pg_ctl start failed (%d):\n%s\n%s"
                               % (res.returncode, res.stdout, f.read()[-3000:]))
    with open(os.path.join(handle, "port"), "w") as f:
        f.write(str(port))
    return port


def halt(handle):
    """Stops the server (fast shutdown: clients are cut off) and keeps its data."""
    directory = server_dir(handle)
    if directory is None:
        return
    data = os.path.join(directory, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        drop, _ = _as_server_user()
        subprocess.run([os.path.join(bin_dir(), "pg_ctl"), "-D", data, "-m", "fast", "-w",
                        "stop"], preexec_fn=drop, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def stop(handle):
    halt(handle)
    directory = server_dir(handle)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
    shutil.rmtree(handle, ignore_errors=True)


def url(port, database):
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def socket_url(directory, port, database):
    """Through the server's Unix socket in DIR: reachable from any network namespace."""
    return f"postgresql://postgres@/{database}?host={directory}&port={port}"


def create_database(port, name):
    """A new, empty database; its URL. psql is Debian's client (postgresql-client)."""
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url(port, "postgres"), "-c",
                    f"CREATE DATABASE {name}"], check=True, stdout=subprocess.DEVNULL)
    return url(port, name)


class PostgresServer:
    """The run's server if ctest started one (TMIRROR_TEST_POSTGRES_DIR), else one of our own,
    stopped and removed by close()."""

    def __init__(self, own=False, durable=False):
        """own: always a server of our own (a test that stops and restarts it); durable: with
        fsync (implies own)."""
        own = own or durable
        shared = None if own else os.environ.get("TMIRROR_TEST_POSTGRES_DIR")
        self._own = None
        if shared and os.path.exists(os.path.join(shared, "port")):
            self.directory = server_dir(shared)
            with open(os.path.join(shared, "port")) as f:
                self.port = int(f.read())
        else:
            self._own = tempfile.mkdtemp(prefix="tmirror-pg-handle-")
            try:
                self.port = start(self._own, durable=durable)
                self.directory = server_dir(self._own)
            except BaseException:
                stop(self._own)
                raise
        self._count = 0

    def create_database(self, socket=False):
        """A fresh database's URL: over TCP on 127.0.0.1, or (socket) over the Unix socket,
        which processes in other network namespaces reach too."""
        self._count += 1
        name = f"py{os.getpid()}_{self._count}"
        tcp = create_database(self.port, name)
        return socket_url(self.directory, self.port, name) if socket else tcp

    def halt(self):
        halt(self._own)

    def resume(self):
        start(self._own, self.port)

    def close(self):
        if self._own:
            stop(self._own)
            self._own = None


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    if sys.argv[1] == "start":
        stop(sys.argv[2])  # what a crashed run left
        print(start(sys.argv[2]))
    else:
        stop(sys.argv[2])
