"""An independent model of the data-plane semantics in docs/mirroring.md, for checking the agent.

Nothing here is shared with the C++ code: frames are parsed with ``struct``, rules evaluated
straight from the text of docs/mirroring.md, VXLAN decapsulated by hand.

* ``read_pcap(path)`` -> [(timestamp, bytes)]
* ``parse_frame(bytes)`` -> ``Frame`` (VLAN tags, IP family, addresses, protocol after IPv6
  extension headers, ports unless a non-first fragment, DHCP/DNS hints)
* ``Config`` / ``Session`` / ``Rule``: what the API was told, in plain Python
* ``expected_mirror(config, frames_by_direction)`` -> Counter{(vni, inner bytes): n}, each
  frame in its wire form (``wire_form``: checksums left to the NIC completed)
* ``decap_vxlan(pcap frames, ...)`` -> [Mirrored] with every outer-header check applied
* ``compare(expected, mirrored)`` -> Report (missing, extra, duplicates, port-symmetry errors)
"""

import collections
import ipaddress
import struct

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
VLAN_TPIDS = (0x8100, 0x88A8)
IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 = 6, 17, 1, 58
IPV6_EXT = {0, 43, 60, 135, 139, 140}  # hop-by-hop, routing, dest opts, mobility, HIP, shim6
IPV6_FRAG = 44
IPV6_NONE = 59
VXLAN_PORT = 4789
# Inner frame bytes that fit an IPv4 path MTU: MTU - outer IPv4 (20) - UDP (8) - VXLAN (8).
OUTER_V4_OVERHEAD = 36


# -- pcap -------------------------------------------------------------------------------------
def read_pcap(path):
    """Classic pcap (any endianness, µs or ns). Returns [(ts_seconds, frame_bytes, orig_len)]."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, want Ethernet" % (path, linktype))
    out = []
    off = 24
    div = 1e9 if nano else 1e6
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break  # truncated last record (tcpdump killed mid-write)
        out.append((sec + frac / div, data[off:off + incl], orig))
        off += incl
    return out


def write_pcap(path, frames):
    """frames: iterable of bytes or (ts, bytes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, fr in enumerate(frames):
            ts, b = (fr[0], fr[1]) if isinstance(fr, tuple) else (float(i), fr)
            f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(b), len(b)))
            f.write(b)


# -- frames -----------------------------------------------------------------------------------
class Frame:
    __slots__ = ("raw", "vlans", "ethertype", "family", "src", "dst", "proto", "sport", "dport",
                 "fragment", "first_fragment", "icmp_id", "malformed")

    def __init__(self, raw):
        self.raw = raw
        self.vlans = []
        self.ethertype = None
        self.family = None  # 4, 6 or None (not IP)
        self.src = self.dst = None  # ipaddress objects
        self.proto = None
        self.sport = self.dport = None
        self.fragment = False  # any fragment (first or not)
        self.first_fragment = True
        self.icmp_id = None
        self.malformed = False

    @property
    def is_ip(self):
        return self.family is not None and not self.malformed

    def flow_key(self):
        """A direction-independent key of the inner flow (None for non-IP)."""
        if not self.is_ip:
            return None
        a = (self.src.packed, self.sport or 0)
        b = (self.dst.packed, self.dport or 0)
        extra = self.icmp_id if self.proto in (IPPROTO_ICMP, IPPROTO_ICMPV6) else None
        return (self.family, self.proto, tuple(sorted((a, b))), extra)

    def __repr__(self):
        if not self.is_ip:
            return "Frame(non-IP 0x%04x, %d B)" % (self.ethertype or 0, len(self.raw))
        return "Frame(%s %s:%s -> %s:%s proto %s%s, %d B)" % (
            "vlan%s " % self.vlans if self.vlans else "", self.src, self.sport, self.dst,
            self.dport, self.proto, " frag" if self.fragment else "", len(self.raw))


def parse_frame(raw):
    f = Frame(bytes(raw))
    b = f.raw
    if len(b) < 14:
        f.malformed = True
        return f
    off = 12
    et = struct.unpack("!H", b[off:off + 2])[0]
    off += 2
    while et in VLAN_TPIDS:
        if len(b) < off + 4:
            f.malformed = True
            return f
        tci, et = struct.unpack("!HH", b[off:off + 4])
        f.vlans.append(tci & 0x0FFF)
        off += 4
    f.ethertype = et
    try:
        if et == ETH_P_IP:
            _parse_ipv4(f, b, off)
        elif et == ETH_P_IPV6:
            _parse_ipv6(f, b, off)
    except (struct.error, IndexError, ValueError):
        f.malformed = True
    return f


def _parse_l4(f, b, off):
    if not f.first_fragment:
        return
    if f.proto in (IPPROTO_TCP, IPPROTO_UDP) and len(b) >= off + 4:
        f.sport, f.dport = struct.unpack("!HH", b[off:off + 4])
    elif f.proto in (IPPROTO_ICMP, IPPROTO_ICMPV6) and len(b) >= off + 8:
        if b[off] in ((8, 0) if f.proto == IPPROTO_ICMP else (128, 129)):
            f.icmp_id = struct.unpack("!H", b[off + 4:off + 6])[0]


def _parse_ipv4(f, b, off):
    vihl = b[off]
    if vihl >> 4 != 4 or (vihl & 15) < 5 or len(b) < off + 20:
        f.malformed = True
        return
    ihl = (vihl & 15) * 4
    frag = struct.unpack("!H", b[off + 6:off + 8])[0]
    f.family = 4
    f.proto = b[off + 9]
    f.src = ipaddress.IPv4Address(b[off + 12:off + 16])
    f.dst = ipaddress.IPv4Address(b[off + 16:off + 20])
    mf, offset = frag & 0x2000, frag & 0x1FFF
    f.fragment = bool(mf or offset)
    f.first_fragment = offset == 0
    _parse_l4(f, b, off + ihl)


def _parse_ipv6(f, b, off):
    if len(b) < off + 40 or b[off] >> 4 != 6:
        f.malformed = True
        return
    f.family = 6
    nh = b[off + 6]
    f.src = ipaddress.IPv6Address(b[off + 8:off + 24])
    f.dst = ipaddress.IPv6Address(b[off + 24:off + 40])
    off += 40
    while True:
        if nh in IPV6_EXT:
            nh, hlen = b[off], (b[off + 1] + 1) * 8
            off += hlen
        elif nh == 51:  # AH: length in 4-octet units minus 2
            nh, hlen = b[off], (b[off + 1] + 2) * 4
            off += hlen
        elif nh == IPV6_FRAG:
            fo = struct.unpack("!H", b[off + 2:off + 4])[0]
            f.fragment = True
            f.first_fragment = (fo >> 3) == 0
            nh = b[off]
            off += 8
        else:
            break
    f.proto = nh
    _parse_l4(f, b, off)


# -- configuration --------------------------------------------------------------------------
class Rule:
    def __init__(self, number, action, direction="ingress", src="0.0.0.0/0", dst="0.0.0.0/0",
                 protocol=None, src_ports=None, dst_ports=None):
        self.number = int(number)
        self.action = action
        self.direction = direction
        self.src = ipaddress.ip_network(src, strict=False)
        self.dst = ipaddress.ip_network(dst, strict=False)
        self.protocol = None if protocol in (None, -1, 0, "-1") else int(protocol)
        self.src_ports = tuple(src_ports) if src_ports else None
        self.dst_ports = tuple(dst_ports) if dst_ports else None

    def matches(self, fr):
        # docs/mirroring.md point 3.
        if fr.family != self.src.version or fr.family != self.dst.version:
            return False
        if fr.src not in self.src or fr.dst not in self.dst:
            return False
        if self.protocol is not None and fr.proto != self.protocol:
            return False
        if self.src_ports or self.dst_ports:
            if fr.proto not in (IPPROTO_TCP, IPPROTO_UDP) or fr.sport is None:
                return False  # includes non-first fragments: they have no ports
            if self.src_ports and not self.src_ports[0] <= fr.sport <= self.src_ports[1]:
                return False
            if self.dst_ports and not self.dst_ports[0] <= fr.dport <= self.dst_ports[1]:
                return False
        return True

    def api_kwargs(self):
        """boto3 create_traffic_mirror_filter_rule keyword arguments (without the filter id)."""
        kw = dict(TrafficDirection=self.direction, RuleNumber=self.number,
                  RuleAction=self.action, SourceCidrBlock=str(self.src),
                  DestinationCidrBlock=str(self.dst))
        if self.protocol is not None:
            kw["Protocol"] = self.protocol
        if self.src_ports:
            kw["SourcePortRange"] = {"FromPort": self.src_ports[0], "ToPort": self.src_ports[1]}
        if self.dst_ports:
            kw["DestinationPortRange"] = {"FromPort": self.dst_ports[0],
                                          "ToPort": self.dst_ports[1]}
        return kw

    def __repr__(self):
        return "Rule(%d %s %s %s->%s p=%s %s %s)" % (self.number, self.direction, self.action,
                                                    self.src, self.dst, self.protocol,
                                                    self.src_ports, self.dst_ports)


class Session:
    def __init__(self, number, vni, rules, amazon_dns=False, packet_length=None,
                 target_ip=None):
        self.number = int(number)
        self.vni = int(vni)
        self.rules = list(rules)
        self.amazon_dns = amazon_dns
        self.packet_length = packet_length
        self.target_ip = target_ip

    def decide(self, fr, direction):
        """'accept', 'reject' or None (no rule matched) for a frame in ``direction``."""
        for r in sorted((r for r in self.rules if r.direction == direction),
                        key=lambda r: r.number):
            if r.matches(fr):
                return r.action
        return None


class Config:
    def __init__(self, sessions, source_ip, target_ips, resolvers=(), path_mtu=1500):
        self.sessions = sorted(sessions, key=lambda s: s.number)
        self.source_ip = ipaddress.ip_address(source_ip)
        self.target_ips = {ipaddress.ip_address(t) for t in target_ips}
        self.resolvers = {ipaddress.ip_address(r) for r in resolvers}
        self.path_mtu = path_mtu


# -- the semantics ----------------------------------------------------------------------------
def exclusion(config, fr, direction):
    """Why a frame is never mirrored (docs/mirroring.md point 4), or None. 'dns' is conditional."""
    if not fr.is_ip:
        return "not-ip" if not fr.malformed else "malformed"
    if fr.proto == IPPROTO_UDP and fr.sport is not None:
        if {fr.sport, fr.dport} <= {67, 68} or {fr.sport, fr.dport} <= {546, 547}:
            return "dhcp"
        if (direction == "egress" and fr.dport == VXLAN_PORT and fr.src == config.source_ip
                and fr.dst in config.target_ips):
            return "own-vxlan"
    if _icmp_error_about_own_copy(config, fr):
        return "own-vxlan"
    if fr.proto in (IPPROTO_UDP, IPPROTO_TCP) and fr.sport is not None:
        if direction == "egress" and fr.dport == 53 and fr.dst in config.resolvers:
            return "dns"
        if direction == "ingress" and fr.sport == 53 and fr.src in config.resolvers:
            return "dns"
    # A later fragment has no ports; with a resolver it is the rest of a DNS datagram (a large
    # answer), which goes where its first fragment goes.
    if (fr.proto in (IPPROTO_UDP, IPPROTO_TCP) and not fr.first_fragment
            and (fr.src in config.resolvers or fr.dst in config.resolvers)):
        return "dns"
    if fr.is_ip and (fr.src.is_loopback or fr.dst.is_loopback):
        return "control-channel"
    return None


def _icmp_error_about_own_copy(config, fr):
    """An ICMP/ICMPv6 error quoting one of our own VXLAN copies (e.g. port unreachable from a
    target with no listener) belongs to the loop guard too."""
    if fr.proto not in (IPPROTO_ICMP, IPPROTO_ICMPV6) or not fr.first_fragment:
        return False
    b = fr.raw
    off = 14 + 4 * len(fr.vlans)
    if fr.family == 4:
        off += (b[off] & 15) * 4
        errors = (3, 4, 5, 11, 12)
    else:
        off += 40  # quoted-packet check only for IPv6 without extension headers
        errors = (1, 2, 3, 4)
    if len(b) < off + 8 + 28 or b[off] not in errors:
        return False
    q = off + 8  # the quoted IPv4 header (our copies are IPv4)
    if b[q] >> 4 != 4 or b[q + 9] != IPPROTO_UDP:
        return False
    qsrc = ipaddress.IPv4Address(b[q + 12:q + 16])
    qdst = ipaddress.IPv4Address(b[q + 16:q + 20])
    udp = q + (b[q] & 15) * 4
    if len(b) < udp + 4:
        return False
    dport = struct.unpack("!H", b[udp + 2:udp + 4])[0]
    return dport == VXLAN_PORT and qsrc == config.source_ip and qdst in config.target_ips


def mirror_decision(config, fr, direction):
    """(session or None, reason). Reason is 'accept', 'amazon-dns' or why not mirrored."""
    why = exclusion(config, fr, direction)
    if why == "dns":
        for s in config.sessions:
            if s.amazon_dns:
                return s, "amazon-dns"
        return None, "dns"
    if why:
        return None, why
    for s in config.sessions:
        if s.decide(fr, direction) == "accept":
            return s, "accept"
    return None, "not-matched"


def _inet_sum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def wire_form(raw):
    """The frame as a NIC would send it: a TCP or UDP checksum the capture shows unfinished
    (checksum offload: the kernel leaves it to the NIC, so tcpdump on the host sees it
    partial) completed, as the agent's copies carry it (docs/mirroring.md point 5). Anything that is
    not a whole, unfragmented TCP/UDP packet over IPv4 or IPv6 without extension headers is
    returned as it is; so is a UDP/IPv4 datagram sent without a checksum (0)."""
    off = 12
    etype = struct.unpack_from("!H", raw, off)[0] if len(raw) >= 14 else 0
    while etype in VLAN_TPIDS and len(raw) >= off + 6:
        off += 4
        etype = struct.unpack_from("!H", raw, off)[0]
    l3 = off + 2
    if etype == ETH_P_IP and len(raw) >= l3 + 20:
        ihl = (raw[l3] & 0x0F) * 4
        total = struct.unpack_from("!H", raw, l3 + 2)[0]
        frag = struct.unpack_from("!H", raw, l3 + 6)[0]
        proto = raw[l3 + 9]
        if frag & 0x3FFF or ihl < 20 or total < ihl or len(raw) < l3 + total:
            return raw
        l4, end = l3 + ihl, l3 + total
        pseudo = raw[l3 + 12:l3 + 20]
    elif etype == ETH_P_IPV6 and len(raw) >= l3 + 40:
        proto = raw[l3 + 6]
        end = l3 + 40 + struct.unpack_from("!H", raw, l3 + 4)[0]
        if len(raw) < end:
            return raw
        l4 = l3 + 40
        pseudo = raw[l3 + 8:l3 + 40]
    else:
        return raw
    field = {IPPROTO_TCP: 16, IPPROTO_UDP: 6}.get(proto)
    if field is None or end - l4 < field + 2:
        return raw
    if proto == IPPROTO_UDP and etype == ETH_P_IP and raw[l4 + 6:l4 + 8] == b"\x00\x00":
        return raw
    seg = bytearray(raw[l4:end])
    seg[field:field + 2] = b"\x00\x00"
    header = pseudo + struct.pack("!BBH", 0, proto, len(seg))
    check = 0xFFFF ^ _inet_sum(header + bytes(seg))
    if proto == IPPROTO_UDP and check == 0:
        check = 0xFFFF
    out = bytearray(raw)
    struct.pack_into("!H", out, l4 + field, check)
    return bytes(out)


def expected_length(config, session, n):
    limit = config.path_mtu - OUTER_V4_OVERHEAD
    if session.packet_length:
        limit = min(limit, session.packet_length)
    return min(n, limit)


def expected_mirror(config, frames_by_direction):
    """frames_by_direction: {'ingress': [(ts, bytes, orig_len)], 'egress': [...]}.
    Returns (Counter{(vni, inner bytes): n}, [(ts, direction, Frame, session)])."""
    want = collections.Counter()
    detail = []
    for direction, frames in frames_by_direction.items():
        for ts, raw, orig in frames:
            if len(raw) != orig:
                raise ValueError("ground-truth capture truncated a frame (%d of %d B): use "
                                 "-s 0" % (len(raw), orig))
            fr = parse_frame(raw)
            s, _ = mirror_decision(config, fr, direction)
            if s is not None:
                n = expected_length(config, s, len(raw))
                want[(s.vni, wire_form(raw)[:n])] += 1
                detail.append((ts, direction, fr, s))
    return want, detail


# -- decapsulation ----------------------------------------------------------------------------
class Mirrored:
    __slots__ = ("ts", "outer_src", "outer_dst", "sport", "vni", "inner", "errors")

    def __init__(self):
        self.errors = []


def decap_vxlan(frames, expect_source=None):
    """Decapsulates captured UDP 4789 frames; every deviation from docs/mirroring.md point 6 is put in
    ``Mirrored.errors``. Non-VXLAN frames are skipped."""
    out = []
    for ts, raw, orig in frames:
        b = raw
        if len(b) < 14 + 20 + 8 + 8 or struct.unpack("!H", b[12:14])[0] != ETH_P_IP:
            continue
        ip = 14
        ihl = (b[ip] & 15) * 4
        if b[ip + 9] != IPPROTO_UDP:
            continue
        udp = ip + ihl
        sport, dport, ulen, csum = struct.unpack("!HHHH", b[udp:udp + 8])
        if dport != VXLAN_PORT:
            continue
        m = Mirrored()
        m.ts = ts
        m.outer_src = ipaddress.IPv4Address(b[ip + 12:ip + 16])
        m.outer_dst = ipaddress.IPv4Address(b[ip + 16:ip + 20])
        m.sport = sport
        ttl = b[ip + 8]
        frag = struct.unpack("!H", b[ip + 6:ip + 8])[0]
        total = struct.unpack("!H", b[ip + 2:ip + 4])[0]
        if ttl != 255:
            m.errors.append("outer TTL %d, want 255" % ttl)
        if frag & 0x4000:
            m.errors.append("outer DF set")
        if frag & 0x3FFF:
            m.errors.append("outer packet is a fragment")
        if csum != 0:
            m.errors.append("outer UDP checksum 0x%04x, want 0" % csum)
        if total != len(b) - ip:
            m.errors.append("outer IP total length %d, frame has %d" % (total, len(b) - ip))
        if ulen != total - ihl:
            m.errors.append("UDP length %d, want %d" % (ulen, total - ihl))
        vx = udp + 8
        flags = b[vx]
        if flags != 0x08 or b[vx + 1:vx + 4] != b"\0\0\0" or b[vx + 7] != 0:
            m.errors.append("VXLAN header %s, want flags 0x08 and zero reserved bits"
                            % b[vx:vx + 8].hex())
        m.vni = int.from_bytes(b[vx + 4:vx + 7], "big")
        if expect_source is not None and str(m.outer_src) != str(expect_source):
            m.errors.append("outer source %s, want %s" % (m.outer_src, expect_source))
        m.inner = bytes(b[vx + 8:])
        out.append(m)
    return out


# -- comparison -------------------------------------------------------------------------------
class Report:
    def __init__(self):
        self.missing = collections.Counter()
        self.extra = collections.Counter()
        self.header_errors = []
        self.port_errors = []
        self.matched = 0
        self.edge = 0  # unmatched copies at the window's edges (see compare)

    @property
    def ok(self):
        return not (self.missing or self.extra or self.header_errors or self.port_errors)

    def summary(self, limit=8):
        lines = ["matched %d, missing %d, extra %d, header errors %d, port-symmetry errors %d, "
                 "edge %d" % (self.matched, sum(self.missing.values()), sum(self.extra.values()),
                              len(self.header_errors), len(self.port_errors), self.edge)]
        for title, ctr in (("missing", self.missing), ("extra", self.extra)):
            for (vni, inner), n in list(ctr.items())[:limit]:
                lines.append("  %s x%d vni=%d %r" % (title, n, vni, parse_frame(inner)))
        lines += ["  " + e for e in self.header_errors[:limit]]
        lines += ["  " + e for e in self.port_errors[:limit]]
        return "\n".join(lines)


def compare(expected, mirrored, check_ports=True, window=None, latency=0.1):
    """expected: Counter{(vni, inner): n}; mirrored: [Mirrored].

    window: (start, end) of the ground-truth capture. A copy that reached the target before
    start + latency or after end may be of a frame the ground truth could not see; when it
    matches no expected frame it is counted in ``edge``, not in ``extra``."""
    rep = Report()
    if window is not None:
        start, end = window
        inside = [m for m in mirrored if start + latency <= m.ts <= end]
        edge = [m for m in mirrored if not start + latency <= m.ts <= end]
        got_inside = collections.Counter((m.vni, m.inner) for m in inside)
        spare = collections.Counter()
        for key, n in expected.items():
            spare[key] = max(0, n - got_inside.get(key, 0))
        kept = list(inside)
        for m in edge:
            key = (m.vni, m.inner)
            if spare.get(key, 0) > 0:
                spare[key] -= 1
                kept.append(m)
            else:
                rep.edge += 1
        mirrored = kept
    got = collections.Counter((m.vni, m.inner) for m in mirrored)
    for key, n in expected.items():
        g = got.get(key, 0)
        rep.matched += min(n, g)
        if g < n:
            rep.missing[key] = n - g
    for key, n in got.items():
        if n > expected.get(key, 0):
            rep.extra[key] = n - expected.get(key, 0)
    for m in mirrored:
        for e in m.errors:
            rep.header_errors.append("%s: %s" % (parse_frame(m.inner), e))
    if check_ports:
        rep.port_errors = port_symmetry_errors(mirrored)
    return rep


def port_symmetry_errors(mirrored):
    """Both directions of a flow (same VNI, same target) must use one outer source port."""
    ports = collections.defaultdict(set)
    for m in mirrored:
        fr = parse_frame(m.inner)
        if not fr.is_ip or fr.fragment:
            continue
        ports[(m.vni, m.outer_dst, fr.flow_key())].add(m.sport)
    return ["flow %s vni %d: outer source ports %s" % (k[2], k[0], sorted(v))
            for k, v in ports.items() if len(v) != 1]
