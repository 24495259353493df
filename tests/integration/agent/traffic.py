#!/usr/bin/python3
"""Traffic for the agent lab, run inside the lab's namespaces (standard library only).

    traffic.py serve                      (client ns) HTTP :80, "SSH" :22 (echo), UDP echo :5000,
                                          UDP sink :5001, DNS responder 198.51.100.53:53;
                                          prints "ready" when every socket is bound
    traffic.py mix --peer4 A --peer6 B [--rounds N] [--dns]
                                          (source ns) TCP/UDP/ICMP over IPv4 and IPv6 both ways
    traffic.py vlan --src-ip A --dst-ip B --dst-mac M [--count N]
                                          raw 802.1Q (VLAN 100) UDP and ICMP frames out of eth0
    traffic.py stream --dst A --port P --pps R --seconds S [--size B]
                                          UDP datagrams with a sequence number, paced
    traffic.py ping --dst A --count N --interval S
                                          ICMP echo RTTs (µs) as JSON
    traffic.py tcprtt --dst A --port 22 --count N --interval S
                                          request/response RTTs (µs) on one TCP connection
    traffic.py dns --server A [--count N] DNS queries over UDP
    traffic.py sink [--port 4789]         read and discard UDP (no ICMP port unreachable)
    traffic.py garbage --dst-mac M        3 malformed IP frames and 1 non-IP frame out of eth0
"""

import argparse
import http.server
import json
import os
import select
import socket
import socketserver
import struct
import sys
import threading
import time

DNS_ADDRESS = "198.51.100.53"


# -- servers (client namespace) ---------------------------------------------------------------
class _Http(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        body = b"tmirror lab " + self.path.encode() + b"\n" * 64
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class _Http6(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class _Ssh(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"SSH-2.0-tmirror-lab\r\n")
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)


class _Tcp6(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def _udp_loop(socks, echo):
    while True:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            data, addr = s.recvfrom(65535)
            if echo.get(s) == "echo":
                s.sendto(data, addr)
            elif echo.get(s) == "dns" and len(data) >= 12:
                # Answer: same ID and question, QR set, no answers (NXDOMAIN-less empty reply).
                s.sendto(data[:2] + b"\x81\x80" + data[4:6] + b"\0\0\0\0\0\0" + data[12:], addr)


def serve(args):
    httpd = _Http6(("::", 80), _Http)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    sshd = _Tcp6(("::", 22), _Ssh)
    threading.Thread(target=sshd.serve_forever, daemon=True).start()
    socks, roles = [], {}
    udp = [(socket.AF_INET6, "::", 5000, "echo"), (socket.AF_INET6, "::", 5001, "sink")]
    if args.dns != "none":
        udp.append((socket.AF_INET, args.dns, 53, "dns"))
    for fam, addr, port, role in udp:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((addr, port))
        socks.append(s)
        roles[s] = role
    print("ready", flush=True)
    _udp_loop(socks, roles)


# -- clients ----------------------------------------------------------------------------------
def _family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def http_get(addr, path="/"):
    s = socket.create_connection((addr, 80), timeout=5)
    s.sendall(("GET %s HTTP/1.0\r\nHost: lab\r\n\r\n" % path).encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return data


def ssh_exchange(addr, lines=2):
    s = socket.create_connection((addr, 22), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    banner = s.recv(100)
    for i in range(lines):
        s.sendall(b"line %d\n" % i)
        s.recv(100)
    s.close()
    return banner


def udp_echo(addr, payload=b"udp-echo", port=5000):
    s = socket.socket(_family(addr), socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(payload, (addr, port))
    try:
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def _ping_socket(addr):
    fam = _family(addr)
    proto = socket.IPPROTO_ICMPV6 if fam == socket.AF_INET6 else socket.IPPROTO_ICMP
    return socket.socket(fam, socket.SOCK_DGRAM, proto)


def ping(addr, count=1, interval=0.0, payload=56, timeout=2.0):
    """ICMP echo via a ping socket; returns RTTs in µs (None for a lost reply)."""
    s = _ping_socket(addr)
    s.settimeout(timeout)
    echo = 128 if ":" in addr else 8
    rtts = []
    for seq in range(count):
        pkt = struct.pack("!BBHHH", echo, 0, 0, 0, seq & 0xFFFF) + b"\xa5" * payload
        t0 = time.perf_counter()
        s.sendto(pkt, (addr, 0))
        rtt = None
        while True:
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            if len(data) >= 8 and struct.unpack("!H", data[6:8])[0] == seq & 0xFFFF:
                rtt = (time.perf_counter() - t0) * 1e6
                break
        rtts.append(rtt)
        if interval:
            time.sleep(interval)
    s.close()
    return rtts


def tcp_rtt(addr, port=22, count=100, interval=0.0, size=64):
    s = socket.create_connection((addr, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.recv(100)  # banner
    msg = b"x" * size
    rtts = []
    for _ in range(count):
        t0 = time.perf_counter()
        s.sendall(msg)
        got = 0
        while got < size:
            d = s.recv(size - got)
            if not d:
                raise RuntimeError("connection closed")
            got += len(d)
        rtts.append((time.perf_counter() - t0) * 1e6)
        if interval:
            time.sleep(interval)
    s.close()
    return rtts


def dns_query(server, name="example.test", qid=0x1234):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(q, (server, 53))
    try:
        return s.recvfrom(512)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def mix(args):
    done = {"http": 0, "ssh": 0, "udp": 0, "icmp": 0, "dns": 0, "lost": 0}
    for r in range(args.rounds):
        for addr in (args.peer4, args.peer6):
            if http_get(addr, "/r%d" % r):
                done["http"] += 1
            if ssh_exchange(addr):
                done["ssh"] += 1
            if udp_echo(addr, b"udp %d %s" % (r, addr.encode())):
                done["udp"] += 1
            else:
                done["lost"] += 1
            rt = ping(addr, 1)
            done["icmp"] += 1 if rt[0] is not None else 0
        if args.dns:
            if dns_query(DNS_ADDRESS, "r%d.example.test" % r, qid=r & 0xFFFF):
                done["dns"] += 1
            else:
                done["lost"] += 1
    print(json.dumps(done), flush=True)


# -- raw VLAN frames --------------------------------------------------------------------------
def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_frame(dst_mac, src_mac, src_ip, dst_ip, proto, l4, vlan=None, ident=0):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, 0, 64, proto, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", ""))
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + struct.pack("!H", 0x0800) + ip + l4


def udp_segment(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp_echo(ident, seq, payload=b"vlan-ping"):
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return h[:2] + struct.pack("!H", _csum(h)) + h[4:]


def vlan(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.ifname, 0))
    src_mac = open("/sys/class/net/%s/address" % args.ifname).read().strip()
    n = 0
    for i in range(args.count):
        for proto, l4 in ((17, udp_segment(40000 + i % 4, 6000, b"vlan udp %d" % i)),
                          (1, icmp_echo(0x4242, i))):
            s.send(ipv4_frame(args.dst_mac, src_mac, args.src_ip, args.dst_ip, proto, l4,
                              vlan=args.vlan, ident=i))
            n += 1
        time.sleep(args.interval)
    s.close()
    print(json.dumps({"sent": n}), flush=True)


# -- paced streams ----------------------------------------------------------------------------
def stream(args):
    s = socket.socket(_family(args.dst), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    payload = bytearray(max(args.size, 8))
    sent = 0
    errors = 0
    t0 = time.perf_counter()
    end = t0 + args.seconds
    period = 1.0 / args.pps
    nxt = t0
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        if now < nxt:
            time.sleep(min(nxt - now, 0.002))
            continue
        struct.pack_into("!Q", payload, 0, sent)
        try:
            s.sendto(payload, (args.dst, args.port))
            sent += 1
        except OSError:
            errors += 1
        nxt += period
        if now - nxt > 0.1:  # fell behind: do not burst to catch up
            nxt = now
    print(json.dumps({"sent": sent, "errors": errors,
                      "seconds": time.perf_counter() - t0}), flush=True)


def garbage(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.ifname, 0))
    src = open("/sys/class/net/%s/address" % args.ifname).read().strip()
    head = bytes.fromhex(args.dst_mac.replace(":", "") + src.replace(":", ""))
    frames = [
        head + b"\x08\x00" + b"\x45\x00\x00\x30" + b"\0" * 6,          # IPv4 cut at 10 bytes
        head + b"\x08\x00" + b"\x44" + b"\0" * 45,                       # IPv4 IHL 4
        head + b"\x86\xdd" + b"\x60" + b"\0" * 19,                       # IPv6 cut at 20 bytes
        head + b"\x88\xb5" + b"tmirror lab: not IP" + b"\0" * 27,        # local experimental
    ]
    for f in frames:
        s.send(f)
    print(json.dumps({"malformed": 3, "not_ip": 1}), flush=True)


def random_frames(args):
    """Random IPv4/IPv6 frames out of this interface to --dst-mac: TCP, UDP, ICMP, ICMPv6 and GRE,
    ports from a set that touches every exclusion (53 to the resolver, DHCP's, SSH, web) and
    random ones, random lengths, some IPv4 fragments; TCP/UDP checksums complete."""
    import random
    rnd = random.Random(args.seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.ifname, 0))
    src_mac = open("/sys/class/net/%s/address" % args.ifname).read().strip()
    head = bytes.fromhex(args.dst_mac.replace(":", "") + src_mac.replace(":", ""))
    ports = (22, 53, 67, 68, 80, 443, 546, 547, 8080)
    dst4 = args.dst4 + [DNS_ADDRESS, "203.0.113.9"]
    dst6 = args.dst6 + ["2001:db8:ffff::9"]
    port = lambda: rnd.choice(ports) if rnd.random() < 0.6 else rnd.randrange(1, 65536)  # noqa
    sent = 0
    for i in range(args.count):
        v6 = rnd.random() < 0.35
        proto = rnd.choice((6, 17, 17, 58 if v6 else 1, 47))
        payload = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 400)))
        src_ip = args.src6 if v6 else args.src4
        dst_ip = rnd.choice(dst6 if v6 else dst4)
        if rnd.random() < 0.5:  # the other way round: ingress-like addresses, same wire
            src_ip, dst_ip = dst_ip, src_ip
        family = socket.AF_INET6 if v6 else socket.AF_INET
        srcb, dstb = socket.inet_pton(family, src_ip), socket.inet_pton(family, dst_ip)
        if proto in (6, 17):
            sp, dp = port(), port()
            if proto == 6:
                l4 = struct.pack("!HHIIBBHHH", sp, dp, i, 0, 0x50, 0x18, 65535, 0, 0) + payload
                field = 16
            else:
                l4 = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
                field = 6
            pseudo = srcb + dstb + struct.pack("!BBH", 0, proto, len(l4)) if not v6 else \
                srcb + dstb + struct.pack("!IxxxB", len(l4), proto)
            check = _csum(pseudo + l4) or 0xFFFF
            l4 = l4[:field] + struct.pack("!H", check) + l4[field + 2:]
        elif proto in (1, 58):
            l4 = struct.pack("!BBHHH", 8 if proto == 1 else 128, 0, 0, i & 0xFFFF, 1) + payload
            pseudo = b"" if proto == 1 else srcb + dstb + struct.pack("!IxxxB", len(l4), proto)
            l4 = l4[:2] + struct.pack("!H", _csum(pseudo + l4)) + l4[4:]
        else:
            l4 = struct.pack("!HH", 0, 0x0800) + payload
        if v6:
            ip = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + srcb + dstb
            frame = head + b"\x86\xdd" + ip + l4
        else:
            frag = 0
            if rnd.random() < 0.1:  # a later fragment: offset in 8-byte units
                frag = rnd.randrange(1, 100)
            elif rnd.random() < 0.1:
                frag = 0x2000  # a first fragment (more fragments)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), i & 0xFFFF, frag, 64,
                             proto, 0, srcb, dstb)
            ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
            frame = head + b"\x08\x00" + ip + l4
        s.send(frame)
        sent += 1
        time.sleep(args.interval)
    s.close()
    print(json.dumps({"sent": sent}), flush=True)


def sink(args):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("::", args.port))
    print("ready", flush=True)
    while True:
        s.recv(65535)


def main(argv=None):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--dns", default=DNS_ADDRESS, help="DNS responder address, or none")
    p = sub.add_parser("mix")
    p.add_argument("--peer4", default="198.51.100.10")
    p.add_argument("--peer6", default="2001:db8::10")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--dns", action="store_true")
    p = sub.add_parser("vlan")
    p.add_argument("--ifname", default="eth0")
    p.add_argument("--src-ip", required=True)
    p.add_argument("--dst-ip", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--vlan", type=int, default=100)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=0.01)
    p = sub.add_parser("stream")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=5001)
    p.add_argument("--pps", type=float, default=200)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--size", type=int, default=100)
    p = sub.add_parser("ping")
    p.add_argument("--dst", required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--interval", type=float, default=0.01)
    p = sub.add_parser("tcprtt")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=22)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--interval", type=float, default=0.01)
    p = sub.add_parser("dns")
    p.add_argument("--server", default=DNS_ADDRESS)
    p.add_argument("--count", type=int, default=3)
    p = sub.add_parser("garbage")
    p.add_argument("--ifname", default="eth0")
    p.add_argument("--dst-mac", required=True)
    p = sub.add_parser("random")
    p.add_argument("--ifname", default="eth0")
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--src4", required=True)
    p.add_argument("--src6", required=True)
    p.add_argument("--dst4", action="append", default=[])
    p.add_argument("--dst6", action="append", default=[])
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.002)
    p = sub.add_parser("sink")
    p.add_argument("--port", type=int, default=4789)
    a = ap.parse_args(argv)
    if a.cmd == "serve":
        serve(a)
    elif a.cmd == "mix":
        mix(a)
    elif a.cmd == "vlan":
        vlan(a)
    elif a.cmd == "stream":
        stream(a)
    elif a.cmd == "ping":
        print(json.dumps(ping(a.dst, a.count, a.interval)), flush=True)
    elif a.cmd == "tcprtt":
        print(json.dumps(tcp_rtt(a.dst, a.port, a.count, a.interval)), flush=True)
    elif a.cmd == "garbage":
        garbage(a)
    elif a.cmd == "sink":
        sink(a)
    elif a.cmd == "random":
        random_frames(a)
    elif a.cmd == "dns":
        answered = sum(1 for i in range(a.count) if dns_query(a.server, qid=i))
        print(json.dumps({"answered": answered}), flush=True)


if __name__ == "__main__":
    main()
