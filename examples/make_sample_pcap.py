#!/usr/bin/python3
"""Writes examples/sample.pcapng: a short capture on the source interface of
examples/web-not-ssh.json (MAC 02:00:00:00:00:0a, 198.51.100.10 / 2001:db8::10), with
web (80/443), SSH (22), DNS to the host's resolver, ICMP, ARP and a VLAN-tagged frame,
in both directions. pcapng epb_flags carry each frame's direction.

Run: /usr/bin/python3 examples/make_sample_pcap.py  (needs python3-scapy)
"""
import os
from scapy.all import ARP, DNS, DNSQR, ICMP, IP, IPv6, TCP, UDP, Dot1Q, Ether, Raw
from scapy.utils import PcapNgWriter

ME, PEER = "02:00:00:00:00:0a", "02:00:00:00:00:01"
IP_ME, IP_PEER, RESOLVER = "198.51.100.10", "192.0.2.33", "198.51.100.53"
IP6_ME, IP6_PEER = "2001:db8::10", "2001:db8:ffff::33"


def out(pkt):  # egress: sent by the interface
    pkt.direction = 2
    return pkt


def inb(pkt):  # ingress: received by the interface
    pkt.direction = 1
    return pkt


frames = []
t = 1_700_000_000.0
for i, (sport, dport) in enumerate([(40001, 80), (40002, 443), (40003, 22)]):
    frames.append(inb(Ether(src=PEER, dst=ME) / IP(src=IP_PEER, dst=IP_ME) /
                      TCP(sport=sport, dport=dport, flags="S")))
    frames.append(out(Ether(src=ME, dst=PEER) / IP(src=IP_ME, dst=IP_PEER) /
                      TCP(sport=dport, dport=sport, flags="SA")))
    frames.append(inb(Ether(src=PEER, dst=ME) / IP(src=IP_PEER, dst=IP_ME) /
                      TCP(sport=sport, dport=dport, flags="PA") / Raw(b"x" * 1200)))
frames.append(inb(Ether(src=PEER, dst=ME) / IPv6(src=IP6_PEER, dst=IP6_ME) /
                  TCP(sport=40010, dport=443, flags="S")))
frames.append(out(Ether(src=ME, dst=PEER) / IPv6(src=IP6_ME, dst=IP6_PEER) /
                  TCP(sport=443, dport=40010, flags="SA")))
frames.append(out(Ether(src=ME, dst=PEER) / IP(src=IP_ME, dst=RESOLVER) /
                  UDP(sport=53000, dport=53) / DNS(rd=1, qd=DNSQR(qname="example.org"))))
frames.append(out(Ether(src=ME, dst=PEER) / IP(src=IP_ME, dst=IP_PEER) / ICMP(id=7)))
frames.append(inb(Ether(src=PEER, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=IP_PEER, pdst=IP_ME)))
frames.append(inb(Ether(src=PEER, dst=ME) / Dot1Q(vlan=100) / IP(src=IP_PEER, dst=IP_ME) /
                  TCP(sport=40020, dport=80, flags="S")))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample.pcapng")
w = PcapNgWriter(path)
for i, f in enumerate(frames):
    f.time = t + i * 0.001
    w.write(f)
w.close()
print(f"wrote {len(frames)} frames to {path}")
