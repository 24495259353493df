#!/usr/bin/python3
"""tmirror's namespace lab: one bridged subnet of network namespaces, no route out.

Layout (P = prefix, default ``tml<pid>``)::

    P-net   bridge br0 with one veth port per host (p-cli, p-src, p-tgt, p-tg2)
    P-cli   client          eth0 198.51.100.10/24 2001:db8::10/64, 198.51.100.53/32 ("DNS")
                            eth0.100 (VLAN 100) 198.51.100.201/29 (*)
    P-src   source host     eth0 198.51.100.20/24 2001:db8::20/64
                            eth0.100 (VLAN 100) 198.51.100.202/29 (*)
    P-tgt   target          eth0 198.51.100.30/24 2001:db8::30/64
    P-tg2   second target   eth0 198.51.100.31/24 2001:db8::31/64

(*) only when the kernel has CONFIG_VLAN_8021Q (``Lab.vlan_devices``); otherwise VLAN-100
traffic between these addresses is sent as raw tagged frames (see tests/integration/agent).

Every host has permanent neighbour entries for every other host (no ARP/ND chatter), the
bridge has static FDB entries (no flooding), TSO/GSO/GRO are off on eth0 (MTU-sized frames on
the wire), there are no default routes and nothing is attached to the root namespace.
``/etc/netns/P-src/resolv.conf`` says ``nameserver 198.51.100.53``.

Library use::

    with Lab() as lab:
        lab.run("src", ["ip", "addr"])
        p = lab.popen("cli", ["/usr/bin/python3", "-m", "http.server", "80"])
        cap = lab.tcpdump("src", "eth0", "in", "/tmp/in.pcap")
        ...
        cap.stop()

CLI: ``/usr/bin/python3 tools/lab/lab.py up|down|status [--prefix P]``. ``down`` without
``--prefix`` removes the leftovers of every crashed lab run (``tml<pid>`` whose pid is gone).
Teardown always happens: context-manager exit, atexit and SIGINT/SIGTERM/SIGHUP; it kills every
process still running in the lab's namespaces.
"""

import argparse
import atexit
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HOSTS = {
    # role: (IPv4, IPv6, VLAN-100 IPv4 or None)
    "cli": ("198.51.100.10", "2001:db8::10", "198.51.100.201"),
    "src": ("198.51.100.20", "2001:db8::20", "198.51.100.202"),
    "tgt": ("198.51.100.30", "2001:db8::30", None),
    "tg2": ("198.51.100.31", "2001:db8::31", None),
}
DNS_ADDRESS = "198.51.100.53"
VLAN_ID = 100
ROLES = ("net",) + tuple(HOSTS)
_PREFIX_RE = re.compile(r"^(tml(\d+))-(net|cli|src|tgt|tg2)$")

_LIVE_LABS = []


def _die_with_parent():
    """Child side: SIGKILL when the lab's process dies (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


class LabError(RuntimeError):
    pass


def _sh(cmd, check=True, timeout=30, **kw):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=timeout, **kw)
    if check and res.returncode != 0:
        raise LabError("%s exited %d: %s" % (" ".join(cmd), res.returncode, res.stderr.strip()))
    return res


def netns_usable():
    """(ok, reason): whether this process can create network namespaces."""
    if os.geteuid() != 0:
        return False, "the namespace lab needs root (euid %d)" % os.geteuid()
    if shutil.which("ip") is None:
        return False, "iproute2's ip is not installed"
    name = "tmlprobe%d" % os.getpid()
    res = _sh(["ip", "netns", "add", name], check=False)
    if res.returncode != 0:
        return False, "ip netns add failed: %s" % res.stderr.strip()
    _sh(["ip", "netns", "del", name], check=False)
    return True, ""


def list_namespaces():
    res = _sh(["ip", "-j", "netns", "list"], check=False)
    try:
        return [n["name"] for n in json.loads(res.stdout or "[]")]
    except ValueError:
        return [line.split()[0] for line in res.stdout.splitlines() if line.strip()]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _kill_ns_processes(ns):
    """SIGTERM, then SIGKILL, every process in namespace ``ns`` (they are all the lab's)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        res = _sh(["ip", "netns", "pids", ns], check=False)
        pids = [int(p) for p in res.stdout.split() if p.isdigit() and int(p) != os.getpid()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + 3
        while time.time() < deadline and any(_pid_alive(p) for p in pids):
            time.sleep(0.05)


def destroy_prefix(prefix):
    """Removes every namespace and /etc/netns dir of ``prefix`` (idempotent)."""
    names = [n for n in list_namespaces() if n.startswith(prefix + "-") and
             n[len(prefix) + 1:] in ROLES]
    for ns in names:
        _kill_ns_processes(ns)
    for ns in names:
        _sh(["ip", "netns", "del", ns], check=False)
    for role in ROLES:
        d = "/etc/netns/%s-%s" % (prefix, role)
        if os.path.isdir(d):
            shutil.rmtree(d, ignore_errors=True)
    return names


def stale_prefixes(include_live=False):
    """Prefixes of default-named labs whose creating process is gone."""
    found = set()
    candidates = list_namespaces()
    if os.path.isdir("/etc/netns"):
        candidates += os.listdir("/etc/netns")
    for n in candidates:
        m = _PREFIX_RE.match(n)
        if m and (include_live or not _pid_alive(int(m.group(2)))):
            found.add(m.group(1))
    return sorted(found)


def vlan_supported():
    """Whether the kernel can create 802.1Q devices (CONFIG_VLAN_8021Q)."""
    try:
        import gzip
        with gzip.open("/proc/config.gz", "rt") as f:
            for line in f:
                if line.startswith("CONFIG_VLAN_8021Q="):
                    return True
        return False
    except OSError:
        return os.path.isdir("/proc/net/vlan")


class Capture:
    """A tcpdump writing a pcap; ``stop()`` flushes it and returns the path."""

    def __init__(self, lab, ns, ifname, direction, path, bpf, snaplen, buffer_kib, immediate):
        self.lab, self.ns, self.ifname, self.path = lab, ns, ifname, path
        cmd = ["tcpdump", "-i", ifname, "-n", "-U", "-s", str(snaplen), "-B", str(buffer_kib),
               "-w", path]
        # Without immediate mode libpcap uses TPACKET_V3 with a 1 s block timeout and a
        # SIGINT can lose the last, unretired block.
        if immediate:
            cmd.append("--immediate-mode")
        if direction in ("in", "out", "inout"):
            cmd += ["-Q", direction]
        elif direction is not None:
            raise ValueError("direction must be in, out, inout or None")
        cmd += list(bpf) if isinstance(bpf, (list, tuple)) else (bpf.split() if bpf else [])
        self.proc = lab.popen(ns, cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # tcpdump prints "listening on IF, ..." on stderr once the socket is bound.
        self.stderr_lines = []
        deadline = time.time() + 10
        line = b""
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line.decode("utf-8", "replace").rstrip())
            if b"listening on" in line:
                break
        if not self.stderr_lines or "listening on" not in self.stderr_lines[-1]:
            self.proc.kill()
            raise LabError("tcpdump on %s/%s did not start: %s"
                           % (ns, ifname, "\n".join(self.stderr_lines)))
        # The socket is bound and the filter attached before that line is printed.
        time.sleep(0.05)

    def stop(self, settle=0.2):
        if self.proc.poll() is None:
            time.sleep(settle)
            self.proc.send_signal(signal.SIGINT)
            try:
                _, err = self.proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            self.stderr_lines += err.decode("utf-8", "replace").splitlines()
        return self.path

    def kernel_drops(self):
        for line in self.stderr_lines:
            m = re.match(r"(\d+) packets? dropped by kernel", line.strip())
            if m:
                return int(m.group(1))
        return None


class Lab:
    def __init__(self, prefix=None, resolv=True, offloads_off=True):
        self.prefix = prefix or "tml%d" % os.getpid()
        if not re.match(r"^[A-Za-z0-9_.]{1,40}$", self.prefix):
            raise ValueError("bad lab prefix %r" % self.prefix)
        self.resolv = resolv
        self.offloads_off = offloads_off
        # CONFIG_VLAN_8021Q is off on some kernels (the project's VMs): then there is no
        # eth0.100 and VLAN-tagged traffic is sent as raw frames (traffic.py vlan-*).
        self.vlan_devices = vlan_supported()
        self.procs = []
        self.is_up = False
        self._old_handlers = {}

    # -- names -------------------------------------------------------------------------------
    def ns(self, role):
        """Namespace name of a role ('cli', 'src', 'tgt', 'tg2', 'net') or a full name."""
        return "%s-%s" % (self.prefix, role) if role in ROLES else role

    @staticmethod
    def ip4(role):
        return HOSTS[role][0]

    @staticmethod
    def ip6(role):
        return HOSTS[role][1]

    @staticmethod
    def vlan_ip4(role):
        return HOSTS[role][2]

    # -- commands ----------------------------------------------------------------------------
    def _wrap(self, ns, cmd):
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        return ["ip", "netns", "exec", self.ns(ns)] + [str(c) for c in cmd]

    def run(self, ns, cmd, check=True, timeout=60, input=None, env=None):
        """Runs ``cmd`` (list, or str for sh -c) in namespace ``ns``; CompletedProcess."""
        res = subprocess.run(self._wrap(ns, cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=timeout, input=input, env=env)
        if check and res.returncode != 0:
            raise LabError("[%s] %s exited %d: %s%s" % (ns, cmd, res.returncode,
                                                       res.stderr.strip(), res.stdout.strip()))
        return res

    def popen(self, ns, cmd, **kw):
        """Starts ``cmd`` in namespace ``ns``; killed at teardown at the latest."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("preexec_fn", _die_with_parent)
        p = subprocess.Popen(self._wrap(ns, cmd), **kw)
        self.procs.append(p)
        return p

    def tcpdump(self, ns, ifname, direction, path, bpf=None, snaplen=65535, buffer_kib=65536,
                immediate=True):
        """Starts tcpdump (``-Q direction`` when given) and waits until it is listening."""
        return Capture(self, ns, ifname, direction, path, bpf, snaplen, buffer_kib, immediate)

    def link(self, ns, ifname="eth0"):
        res = self.run(ns, ["ip", "-j", "link", "show", "dev", ifname])
        return json.loads(res.stdout)[0]

    def mac(self, ns, ifname="eth0"):
        return self.link(ns, ifname)["address"]

    def ifindex(self, ns, ifname="eth0"):
        return int(self.link(ns, ifname)["ifindex"])

    def if_stats(self, ns, ifname="eth0"):
        """{'rx_packets':…, 'tx_packets':…, 'rx_bytes':…, 'tx_bytes':…, 'rx_dropped':…}."""
        res = self.run(ns, ["sh", "-c", "cd /sys/class/net/%s/statistics && grep . rx_packets "
                            "tx_packets rx_bytes tx_bytes rx_dropped tx_dropped" % ifname])
        out = {}
        for line in res.stdout.split():
            k, v = line.split(":")
            out[k] = int(v)
        return out

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def _install_teardown_hooks(self):
        _LIVE_LABS.append(self)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                self._old_handlers[sig] = signal.signal(sig, _signal_teardown)
            except (ValueError, OSError):  # not the main thread
                pass

    def _remove_teardown_hooks(self):
        if self in _LIVE_LABS:
            _LIVE_LABS.remove(self)
        for sig, old in self._old_handlers.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError):
                pass
        self._old_handlers = {}

    def up(self):
        ok, why = netns_usable()
        if not ok:
            raise LabError(why)
        existing = [n for n in list_namespaces() if n.startswith(self.prefix + "-")]
        if existing:
            raise LabError("namespaces of prefix %s exist already: %s (run 'lab.py down "
                           "--prefix %s')" % (self.prefix, existing, self.prefix))
        self._install_teardown_hooks()
        try:
            self._build()
        except BaseException:
            self.down()
            raise
        self.is_up = True
        return self

    def _ip(self, ns, *args):
        _sh(["ip", "-n", self.ns(ns)] + [str(a) for a in args])

    def _build(self):
        for role in ROLES:
            _sh(["ip", "netns", "add", self.ns(role)])
            self._ip(role, "link", "set", "lo", "up")
        net = "net"
        self._ip(net, "link", "add", "br0", "type", "bridge", "stp_state", "0",
                 "forward_delay", "0", "mcast_snooping", "0")
        self.run(net, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        # A plain bridge: no iptables/conntrack on bridged frames (br_netfilter, per netns).
        for k in ("iptables", "ip6tables", "arptables"):
            self.run(net, ["sysctl", "-qw", "net.bridge.bridge-nf-call-%s=0" % k], check=False)
        self._ip(net, "link", "set", "br0", "up")
        macs = {}
        for i, role in enumerate(HOSTS):
            v4, v6, vlan4 = HOSTS[role]
            ns = self.ns(role)
            for k in ("net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0",
                      "net.ipv6.conf.all.router_solicitations=0",
                      "net.ipv6.conf.default.router_solicitations=0",
                      "net.ipv4.ping_group_range=0 2147483647",
                      # No DAD and MLD reports right at link-up, not over the next ~2 s: the
                      # lab is quiet once up() returns (tests compare exact frame sets).
                      "net.ipv6.conf.default.accept_dad=0",
                      "net.ipv6.conf.default.dad_transmits=0",
                      "net.ipv6.conf.default.mldv1_unsolicited_report_interval=1",
                      "net.ipv6.conf.default.mldv2_unsolicited_report_interval=1"):
                self.run(role, ["sysctl", "-qw", k])
            mac = "02:00:00:00:00:%02x" % (0x10 + i)
            macs[role] = mac
            self._ip(net, "link", "add", "p-" + role, "type", "veth", "peer", "name", "eth0",
                     "netns", ns)
            self._ip(net, "link", "set", "p-" + role, "master", "br0", "up")
            self._ip(role, "link", "set", "eth0", "address", mac)
            self._ip(role, "addr", "add", v4 + "/24", "dev", "eth0")
            self._ip(role, "addr", "add", v6 + "/64", "dev", "eth0", "nodad")
            if role == "cli":
                self._ip(role, "addr", "add", DNS_ADDRESS + "/32", "dev", "eth0")
            self._ip(role, "link", "set", "eth0", "up")
            if vlan4 and self.vlan_devices:
                self._ip(role, "link", "add", "link", "eth0", "name", "eth0.%d" % VLAN_ID,
                         "type", "vlan", "id", VLAN_ID)
                self._ip(role, "addr", "add", vlan4 + "/29", "dev", "eth0.%d" % VLAN_ID)
                self.run(role, ["sysctl", "-qw",
                                "net.ipv6.conf.eth0/%d.disable_ipv6=1" % VLAN_ID])
                self._ip(role, "link", "set", "eth0.%d" % VLAN_ID, "up")
            if self.offloads_off:
                if shutil.which("ethtool") is None:
                    raise LabError("ethtool is not installed (scripts/install-deps.sh)")
                self.run(role, ["ethtool", "-K", "eth0", "tso", "off", "gso", "off",
                                "gro", "off"])
                self._ip(net, "link", "set", "p-" + role, "up")
                _sh(["ip", "netns", "exec", self.ns(net), "ethtool", "-K", "p-" + role,
                     "tso", "off", "gso", "off", "gro", "off"])
        # Static bridge FDB (no flooding of unicast to other hosts) and permanent neighbours.
        for role, mac in macs.items():
            _sh(["ip", "netns", "exec", self.ns(net), "bridge", "fdb", "replace", mac,
                 "dev", "p-" + role, "master", "static"])
        for role in HOSTS:
            for other in HOSTS:
                if other == role:
                    continue
                v4, v6, vlan4 = HOSTS[other]
                self._ip(role, "neigh", "replace", v4, "lladdr", macs[other], "dev", "eth0",
                         "nud", "permanent")
                self._ip(role, "neigh", "replace", v6, "lladdr", macs[other], "dev", "eth0",
                         "nud", "permanent")
                if other == "cli":
                    self._ip(role, "neigh", "replace", DNS_ADDRESS, "lladdr", macs[other],
                             "dev", "eth0", "nud", "permanent")
                if vlan4 and HOSTS[role][2] and self.vlan_devices:
                    self._ip(role, "neigh", "replace", vlan4, "lladdr", macs[other], "dev",
                             "eth0.%d" % VLAN_ID, "nud", "permanent")
        time.sleep(0.3)  # the last link-up MLD reports
        if self.resolv:
            d = "/etc/netns/%s" % self.ns("src")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "resolv.conf"), "w") as f:
                f.write("nameserver %s\n" % DNS_ADDRESS)
        self.macs = macs

    def stop_processes(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.terminate()
                except ProcessLookupError:
                    pass
        deadline = time.time() + 3
        for p in self.procs:
            try:
                p.wait(timeout=max(0.05, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
        for p in self.procs:
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
        self.procs = []

    def down(self):
        try:
            self.stop_processes()
        finally:
            destroy_prefix(self.prefix)
            self.is_up = False
            self._remove_teardown_hooks()

    def status(self):
        out = {}
        for ns in list_namespaces():
            if ns.startswith(self.prefix + "-"):
                res = _sh(["ip", "-n", ns, "-br", "addr"], check=False)
                pids = _sh(["ip", "netns", "pids", ns], check=False).stdout.split()
                out[ns] = {"addresses": res.stdout.strip().splitlines(), "pids": pids}
        return out


def _signal_teardown(signum, frame):
    _teardown_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@atexit.register
def _teardown_all():
    for lab in list(_LIVE_LABS):
        try:
            lab.down()
        except Exception as e:  # keep tearing down the others
            sys.stderr.write("lab teardown of %s: %s\n" % (lab.prefix, e))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["up", "down", "status"])
    ap.add_argument("--prefix", help="namespace prefix (default for up: tml<pid>; for down: "
                    "every crashed default-named lab)")
    ap.add_argument("--all", action="store_true", help="down: also labs of live processes")
    a = ap.parse_args(argv)
    if a.command == "up":
        lab = Lab(a.prefix or "tmlcli")
        lab.up()
        _remove = lab._remove_teardown_hooks  # keep it up after this process exits
        _remove()
        print("lab %s is up: %s" % (lab.prefix, ", ".join(lab.ns(r) for r in ROLES)))
        print("tear down with: %s down --prefix %s" % (sys.argv[0], lab.prefix))
        return 0
    if a.command == "down":
        prefixes = [a.prefix] if a.prefix else stale_prefixes(include_live=a.all) + ["tmlcli"]
        for p in prefixes:
            gone = destroy_prefix(p)
            if gone:
                print("removed %s" % " ".join(gone))
        return 0
    prefixes = [a.prefix] if a.prefix else sorted({m.group(1) for m in
                                                    map(_PREFIX_RE.match, list_namespaces()) if m}
                                                   | ({"tmlcli"} if any(
                                                       n.startswith("tmlcli-")
                                                       for n in list_namespaces()) else set()))
    for p in prefixes:
        print(json.dumps(Lab(p).status(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
