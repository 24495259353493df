"""Unit tests of the independent evaluator and decapsulator (no root, no agent needed).

Packets are built with scapy (Debian's /usr/bin/python3), not with mirror_eval's own code.
"""

import collections
import os
import struct
import tempfile
import unittest

import mirror_eval as me

try:
    from scapy.all import (ARP, DNS, DNSQR, ICMP, IP, UDP, TCP, Dot1Q, Ether, IPv6,
                           IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, BOOTP, Raw, ICMPv6EchoRequest)
    HAVE_SCAPY = True
except ImportError:  # pyenv's python3 has no scapy
    HAVE_SCAPY = False

SRC_MAC, DST_MAC = "02:00:00:00:00:11", "02:00:00:00:00:10"
SRC, CLI, TGT, DNS_IP = "198.51.100.20", "198.51.100.10", "198.51.100.30", "198.51.100.53"


def eth(pkt, vlan=None):
    e = Ether(src=SRC_MAC, dst=DST_MAC)
    return bytes(e / Dot1Q(vlan=vlan) / pkt if vlan is not None else e / pkt)


def encap(inner, vni, sport, src=SRC, dst=TGT, ttl=255, df=False, csum=0, flags=0x08):
    """A reference VXLAN encapsulation written with struct (what a correct agent sends)."""
    vx = struct.pack("!B3sI", flags, b"\0\0\0", vni << 8) + inner
    udp = struct.pack("!HHHH", sport, 4789, 8 + len(vx), csum) + vx
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000 if df else 0, ttl, 17,
                     0, bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return b"\x02\0\0\0\0\x12" + b"\x02\0\0\0\0\x11" + b"\x08\x00" + ip + udp


def rows(frames):
    return [(float(i), f, len(f)) for i, f in enumerate(frames)]


@unittest.skipUnless(HAVE_SCAPY, "scapy is missing: run with Debian's /usr/bin/python3")
class ParseTest(unittest.TestCase):
    def test_ipv4_tcp_ports(self):
        f = me.parse_frame(eth(IP(src=SRC, dst=CLI) / TCP(sport=1234, dport=80)))
        self.assertEqual((f.family, f.proto, f.sport, f.dport), (4, 6, 1234, 80))
        self.assertFalse(f.fragment)

    def test_vlan_tag(self):
        f = me.parse_frame(eth(IP(src=SRC, dst=CLI) / UDP(sport=1, dport=2), vlan=100))
        self.assertEqual(f.vlans, [100])
        self.assertEqual((f.proto, f.dport), (17, 2))

    def test_ipv6_extension_headers_and_fragments(self):
        f = me.parse_frame(eth(IPv6(src="2001:db8::20", dst="2001:db8::10") /
                               IPv6ExtHdrHopByHop() / UDP(sport=5, dport=6)))
        self.assertEqual((f.family, f.proto, f.sport, f.dport), (6, 17, 5, 6))
        later = me.parse_frame(eth(IPv6(src="2001:db8::20", dst="2001:db8::10") /
                                   IPv6ExtHdrFragment(offset=10, nh=17) / Raw(b"x" * 16)))
        self.assertEqual((later.proto, later.sport, later.fragment, later.first_fragment),
                         (17, None, True, False))

    def test_ipv4_non_first_fragment_has_no_ports(self):
        f = me.parse_frame(eth(IP(src=SRC, dst=CLI, proto=17, frag=100) / Raw(b"\1\2\3\4" * 4)))
        self.assertTrue(f.fragment)
        self.assertIsNone(f.sport)

    def test_non_ip_and_garbage(self):
        self.assertFalse(me.parse_frame(eth(ARP())).is_ip)
        self.assertTrue(me.parse_frame(b"\0" * 9).malformed)
        self.assertTrue(me.parse_frame(b"\0" * 12 + b"\x08\x00" + b"\x45").malformed)


@unittest.skipUnless(HAVE_SCAPY, "scapy is missing: run with Debian's /usr/bin/python3")
class SemanticsTest(unittest.TestCase):
    def config(self, sessions, resolvers=(DNS_IP,)):
        return me.Config(sessions, SRC, [TGT, "198.51.100.31"], resolvers)

    def test_first_match_per_direction(self):
        s = me.Session(1, 11, [
            me.Rule(1, "reject", "egress", "0.0.0.0/0", "0.0.0.0/0", 6, dst_ports=(22, 22)),
            me.Rule(2, "accept", "egress", "0.0.0.0/0", "0.0.0.0/0", 6),
            me.Rule(1, "accept", "ingress", "0.0.0.0/0", "0.0.0.0/0", 17),
        ])
        c = self.config([s])
        ssh = me.parse_frame(eth(IP(src=SRC, dst=CLI) / TCP(sport=999, dport=22)))
        web = me.parse_frame(eth(IP(src=SRC, dst=CLI) / TCP(sport=999, dport=80)))
        udp = me.parse_frame(eth(IP(src=CLI, dst=SRC) / UDP(sport=5, dport=6)))
        self.assertEqual(me.mirror_decision(c, ssh, "egress"), (None, "not-matched"))
        self.assertEqual(me.mirror_decision(c, web, "egress")[1], "accept")
        self.assertEqual(me.mirror_decision(c, web, "ingress"), (None, "not-matched"))
        self.assertEqual(me.mirror_decision(c, udp, "ingress")[0], s)
        self.assertEqual(me.mirror_decision(c, udp, "egress")[0], None)

    def test_reject_goes_to_next_session_by_number_and_accept_is_once(self):
        high = me.Session(2, 22, [me.Rule(1, "accept", "ingress")])
        low = me.Session(1, 11, [me.Rule(5, "reject", "ingress", protocol=1),
                                 me.Rule(9, "accept", "ingress")])
        c = self.config([high, low])
        icmp = me.parse_frame(eth(IP(src=CLI, dst=SRC) / ICMP()))
        tcp = me.parse_frame(eth(IP(src=CLI, dst=SRC) / TCP()))
        self.assertEqual(me.mirror_decision(c, icmp, "ingress")[0].vni, 22)
        self.assertEqual(me.mirror_decision(c, tcp, "ingress")[0].vni, 11)

    def test_no_rules_mirrors_nothing(self):
        c = self.config([me.Session(1, 5, [])])
        f = me.parse_frame(eth(IP(src=CLI, dst=SRC) / TCP()))
        self.assertEqual(me.mirror_decision(c, f, "ingress"), (None, "not-matched"))

    def test_family_must_equal_cidr_family(self):
        c = self.config([me.Session(1, 5, [me.Rule(1, "accept", "egress")])])
        v6 = me.parse_frame(eth(IPv6(src="2001:db8::20", dst="2001:db8::10") / TCP()))
        self.assertEqual(me.mirror_decision(c, v6, "egress")[0], None)
        c6 = self.config([me.Session(1, 5, [me.Rule(1, "accept", "egress", "::/0", "::/0")])])
        self.assertEqual(me.mirror_decision(c6, v6, "egress")[0].vni, 5)

    def test_port_ranges_inclusive_and_fragments(self):
        s = me.Session(1, 7, [me.Rule(1, "accept", "ingress", protocol=17,
                                      src_ports=(100, 200), dst_ports=(53, 53))])
        c = self.config([s], resolvers=())
        ok = [me.parse_frame(eth(IP(src=CLI, dst=SRC) / UDP(sport=p, dport=53)))
              for p in (100, 200)]
        bad = [me.parse_frame(eth(IP(src=CLI, dst=SRC) / UDP(sport=p, dport=53)))
               for p in (99, 201)]
        frag = me.parse_frame(eth(IP(src=CLI, dst=SRC, proto=17, frag=8) / Raw(b"x" * 20)))
        for f in ok:
            self.assertIsNotNone(me.mirror_decision(c, f, "ingress")[0])
        for f in bad + [frag]:
            self.assertIsNone(me.mirror_decision(c, f, "ingress")[0])
        # A rule without ports matches a non-first fragment.
        c2 = self.config([me.Session(1, 7, [me.Rule(1, "accept", "ingress", protocol=17)])])
        self.assertIsNotNone(me.mirror_decision(c2, frag, "ingress")[0])

    def test_exclusions(self):
        c = self.config([me.Session(1, 7, [me.Rule(1, "accept", "egress"),
                                           me.Rule(1, "accept", "ingress")])])
        dhcp = me.parse_frame(eth(IP(src="0.0.0.0", dst="255.255.255.255") /
                                  UDP(sport=68, dport=67) / BOOTP()))
        arp = me.parse_frame(eth(ARP()))
        own = me.parse_frame(eth(IP(src=SRC, dst=TGT) / UDP(sport=5555, dport=4789)))
        other_vx = me.parse_frame(eth(IP(src=SRC, dst=CLI) / UDP(sport=5555, dport=4789)))
        q = me.parse_frame(eth(IP(src=SRC, dst=DNS_IP) / UDP(sport=3333, dport=53) /
                               DNS(qd=DNSQR(qname="x.test"))))
        a = me.parse_frame(eth(IP(src=DNS_IP, dst=SRC) / UDP(sport=53, dport=3333) / DNS()))
        other_dns = me.parse_frame(eth(IP(src=SRC, dst=CLI) / UDP(sport=3333, dport=53)))
        self.assertEqual(me.mirror_decision(c, dhcp, "egress"), (None, "dhcp"))
        self.assertEqual(me.mirror_decision(c, arp, "egress"), (None, "not-ip"))
        self.assertEqual(me.mirror_decision(c, own, "egress"), (None, "own-vxlan"))
        self.assertEqual(me.mirror_decision(c, other_vx, "egress")[1], "accept")
        self.assertEqual(me.mirror_decision(c, q, "egress"), (None, "dns"))
        self.assertEqual(me.mirror_decision(c, a, "ingress"), (None, "dns"))
        self.assertEqual(me.mirror_decision(c, other_dns, "egress")[1], "accept")

    def test_icmp_errors_about_own_copies_are_not_mirrored(self):
        c = self.config([me.Session(1, 7, [me.Rule(1, "accept", "ingress")])])
        copy = IP(src=SRC, dst=TGT) / UDP(sport=50000, dport=4789) / Raw(b"\x08" + b"\0" * 15)
        err = me.parse_frame(eth(IP(src=TGT, dst=SRC) / ICMP(type=3, code=3) / copy))
        other = me.parse_frame(eth(IP(src=TGT, dst=SRC) / ICMP(type=3, code=3) /
                                   IP(src=SRC, dst=TGT) / UDP(sport=5, dport=53)))
        self.assertEqual(me.mirror_decision(c, err, "ingress"), (None, "own-vxlan"))
        self.assertEqual(me.mirror_decision(c, other, "ingress")[1], "accept")

    def test_amazon_dns_mirrors_all_resolver_dns_whatever_the_rules(self):
        s1 = me.Session(1, 1, [me.Rule(1, "reject", "egress")])
        s2 = me.Session(2, 2, [], amazon_dns=True)
        c = self.config([s1, s2])
        q = me.parse_frame(eth(IP(src=SRC, dst=DNS_IP) / UDP(sport=3333, dport=53)))
        a = me.parse_frame(eth(IP(src=DNS_IP, dst=SRC) / UDP(sport=53, dport=3333)))
        self.assertEqual(me.mirror_decision(c, q, "egress"), (s2, "amazon-dns"))
        self.assertEqual(me.mirror_decision(c, a, "ingress"), (s2, "amazon-dns"))

    def test_truncation_to_packet_length_and_path_mtu(self):
        s = me.Session(1, 3, [me.Rule(1, "accept", "egress")], packet_length=100)
        c = self.config([s])
        self.assertEqual(me.expected_length(c, s, 1514), 100)
        self.assertEqual(me.expected_length(c, s, 60), 60)
        s.packet_length = None
        self.assertEqual(me.expected_length(c, s, 1514), 1464)


@unittest.skipUnless(HAVE_SCAPY, "scapy is missing: run with Debian's /usr/bin/python3")
class DecapCompareTest(unittest.TestCase):
    def setUp(self):
        self.s = me.Session(1, 77, [me.Rule(1, "accept", "egress"),
                                    me.Rule(1, "accept", "ingress")], packet_length=80)
        self.c = me.Config([self.s], SRC, [TGT])
        self.out = eth(IP(src=SRC, dst=CLI) / TCP(sport=4000, dport=80) / Raw(b"a" * 200))
        self.back = bytes(Ether(src=DST_MAC, dst=SRC_MAC) /
                          IP(src=CLI, dst=SRC) / TCP(sport=80, dport=4000) / Raw(b"b" * 30))
        self.truth = {"egress": rows([self.out]), "ingress": rows([self.back])}

    def good(self):
        return [encap(self.out[:80], 77, 50000), encap(self.back[:80], 77, 50000)]

    def test_exact_match(self):
        want, _ = me.expected_mirror(self.c, self.truth)
        got = me.decap_vxlan(rows(self.good()), expect_source=SRC)
        rep = me.compare(want, got)
        self.assertTrue(rep.ok, rep.summary())
        self.assertEqual(rep.matched, 2)

    def test_missing_extra_duplicate(self):
        want, _ = me.expected_mirror(self.c, self.truth)
        g = self.good()
        self.assertEqual(sum(me.compare(want, me.decap_vxlan(rows(g[:1]))).missing.values()), 1)
        self.assertEqual(sum(me.compare(want, me.decap_vxlan(rows(g + g[:1]))).extra.values()),
                         1)
        untruncated = [encap(self.out, 77, 50000), g[1]]
        rep = me.compare(want, me.decap_vxlan(rows(untruncated)))
        self.assertFalse(rep.ok)
        wrong_vni = [encap(self.out[:80], 78, 50000), g[1]]
        self.assertFalse(me.compare(want, me.decap_vxlan(rows(wrong_vni))).ok)

    def test_header_checks(self):
        want, _ = me.expected_mirror(self.c, self.truth)
        for kw, text in ((dict(ttl=64), "TTL"), (dict(df=True), "DF"),
                         (dict(csum=0x1234), "checksum"), (dict(flags=0x0c), "VXLAN"),
                         (dict(src="198.51.100.99"), "outer source")):
            bad = [encap(self.out[:80], 77, 50000, **kw), self.good()[1]]
            rep = me.compare(want, me.decap_vxlan(rows(bad), expect_source=SRC))
            self.assertTrue(any(text in e for e in rep.header_errors), (kw, rep.summary()))

    def test_port_symmetry(self):
        want, _ = me.expected_mirror(self.c, self.truth)
        asym = [encap(self.out[:80], 77, 50000), encap(self.back[:80], 77, 50001)]
        rep = me.compare(want, me.decap_vxlan(rows(asym)))
        self.assertEqual(len(rep.port_errors), 1, rep.summary())

    def test_pcap_round_trip_and_truncated_ground_truth(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.pcap")
            me.write_pcap(p, self.good())
            frames = me.read_pcap(p)
            self.assertEqual([f[1] for f in frames], self.good())
        with self.assertRaises(ValueError):
            me.expected_mirror(self.c, {"egress": [(0.0, self.out[:50], len(self.out))]})

    def test_not_vxlan_skipped(self):
        plain = eth(IP(src=SRC, dst=TGT) / UDP(sport=1, dport=53))
        self.assertEqual(me.decap_vxlan(rows([plain])), [])


if __name__ == "__main__":
    unittest.main()
