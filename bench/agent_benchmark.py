#!/usr/bin/python3
"""Live mirror benchmark on the namespace lab: tmirror agent vs the kernel's mirror vs tcpdump.

    sudo /usr/bin/python3 bench/agent_benchmark.py [--tmirror build/bench/tmirror]
        [--generator build/bench/bench/traffic_generator] [--sizes 64,1500]
        [--peers agent,agent-nogso,mirred,tcpdump] [--trial 1.5] [--steps 7] [--cpu-rate 50000]

Traffic: ``traffic_generator`` in ``<P>-cli`` (pinned to cpu0) sends UDP frames of many flows to
the source host's MAC, addressed to 198.51.100.99 (not local, forwarding off: the source's IP
layer drops them, the same cost for every peer). Each peer copies them, VXLAN VNI 42, to the
target 198.51.100.30, whose eth0 drops everything with a cls_bpf TC_ACT_SHOT program; the
target's eth0 rx_packets counts what arrived. The mirror sees 10 ingress rules, the accepting
one last: the agent gets them through the API, the kernel mirror as ten u32 filters (nine that
never match, then ``match ip protocol 17``), each with ``action mirred egress mirror dev vxm``
to a vxlan device. tcpdump measures capture alone: ``tcpdump -w /dev/null -B 65536``.
``agent-nogso`` is the agent with ``--send-gso off`` (every copy its own skb), to show in the
same run what sending runs of copies as UDP GSO buffers saves. The source's eth0 has UDP
segmentation offload off, like a NIC without USO: the kernel cuts those buffers before veth.

Per peer and frame size:
* loss-free rate: binary search (short trials) for the highest offered rate at which ≤ 0.1 % of
  the frames that reached the source's eth0 were not delivered to the target (tcpdump: not
  "dropped by kernel"), between 0 and the generator's ceiling without any mirror;
* CPU per mirrored packet at a fixed rate (``--cpu-rate``): the mirroring process's
  utime+stime (/proc/PID/stat) and the softirq time of both CPUs (/proc/stat) above a no-mirror
  run at the same rate.
The lab MTU is raised to 9000 so 1,500-byte frames are mirrored whole by every peer.

Super-frames (``--sizes 64,1500,64k``): ``64k`` sends UDP GSO super-frames of 64,810 bytes
(``traffic_generator --gso-size 1472``: 44 wire packets of 1,514 bytes each) with the client's
and the bridge port's segmentation offloads on for those trials, so the source's eth0 receives
them whole, as a host with GRO or a local UDP_SEGMENT sender would. Rates and CPU per packet
then count wire packets: the agent cuts each super-frame into its 44 packets and copies each;
the kernel mirror's copy is segmented by the source's eth0 (offloads off there) into 44 VXLAN
packets (tunnel segmentation offload off there: a NIC with VXLAN TSO would do that in
hardware); tcpdump captures the super-frame (its loss is counted per super-frame, times 44). The
CPU trial offers ``--cpu-rate-super`` wire packets per second (600,000 by default, 13,636
super-frames/s: at 50,000 a trial holds too few super-frames to measure).
Figures on a shared 2-vCPU VM are noisy (±15-20 %); veth numbers are not NIC numbers.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "agent"))

import agentlab  # noqa: E402
import mirror_eval as me  # noqa: E402
from agentlab import lablib  # noqa: E402
from proc_cpu import thread_cpu_ns  # noqa: E402

VNI = 42
PROD_DST = "198.51.100.99"
TGT = lablib.HOSTS["tgt"][0]
SRC = lablib.HOSTS["src"][0]
CLI = lablib.HOSTS["cli"][0]
LOSS_OK = 0.001
GEN_CPU, MIRROR_CPU = 0, 1
HZ = os.sysconf("SC_CLK_TCK")
SUPER_SIZE = 64810  # "64k": Ethernet + IPv4 + UDP + 44 x 1,472 bytes of payload
GSO_SIZE = 1472     # payload per wire packet (1,514-byte frames)
AGENT = "tmirror agent"
AGENT_NO_GSO = "tmirror agent --send-gso off"


def is_super(size):
    return size > 9000


def segments(size):
    """Wire packets one frame of ``size`` bytes stands for."""
    return -(-(size - 42) // GSO_SIZE) if is_super(size) else 1


def size_label(size):
    return ("%d B (%d x %d B)" % (size, segments(size), GSO_SIZE + 42) if is_super(size)
            else "%d B" % size)

DROP_C = r"""
__attribute__((section("classifier"), used)) int drop(void *skb) { return 2; /* SHOT */ }
char _license[] __attribute__((section("license"), used)) = "GPL";
"""


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# -- measurements -------------------------------------------------------------------------------
def cpu_times():
    """{cpu: (busy_ticks, softirq_ticks)} from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                p = line.split()
                v = list(map(int, p[1:]))
                user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
                out[int(p[0][3:])] = (user + nice + system + irq + softirq + steal, softirq)
    return out


def proc_ticks(pid, split=False):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    u, s = int(rest[11]), int(rest[12])  # utime, stime (all threads)
    return (u, s) if split else u + s


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                k, v = line.split(":")
                out[k] = int(v.split()[0])  # KiB
    return out


def ksoftirqd_ticks():
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                if not f.read().startswith("ksoftirqd/"):
                    continue
            total += proc_ticks(int(d))
        except OSError:
            pass
    return total


def pin(pid, cpu):
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:
            pass


class Bench:
    def __init__(self, a):
        self.a = a
        self.lab = lablib.Lab()
        self.tmp = tempfile.mkdtemp(prefix="tmirror-agentbench-")
        self.results = []
        self.own = []
        self.unselected_rows = []
        self.gen_ceiling = {}
        self.baseline = {}
        self.offloads_on = False

    # -- lab -------------------------------------------------------------------------------------
    def setup(self):
        self.lab.up()
        for role in lablib.HOSTS:
            self.lab.run("net", ["ip", "link", "set", "p-" + role, "mtu", "9000"])
            self.lab.run(role, ["ip", "link", "set", "eth0", "mtu", "9000"])
        self.lab.run("net", ["ip", "link", "set", "br0", "mtu", "9000"])
        self.src_mac = self.lab.mac("src")
        # The kernel mirror's copy of a super-frame is one VXLAN super-frame; veth would carry
        # it whole to the target. Without tunnel segmentation offload the source's eth0 cuts it
        # into wire packets in software, as a NIC without VXLAN TSO needs (one with it would do
        # that work in hardware): every peer's copies then reach the target as wire packets.
        self.lab.run("src", ["ethtool", "-K", "eth0", "tx-udp_tnl-segmentation", "off",
                             "tx-udp_tnl-csum-segmentation", "off"], check=False)
        # Likewise UDP segmentation: the agent's runs of copies (one UDP GSO buffer each) are
        # cut into packets by the source's kernel before veth, as for a NIC without USO (one
        # with it would cut them in hardware), and the agent's --send-gso auto sees that.
        self.lab.run("src", ["ethtool", "-K", "eth0", "tx-udp-segmentation", "off"])
        self.sink_kind = self.install_sink()
        log("lab %s up; target sink: %s" % (self.lab.prefix, self.sink_kind))

    def install_sink(self):
        obj = os.path.join(self.tmp, "drop.o")
        src = os.path.join(self.tmp, "drop.c")
        with open(src, "w") as f:
            f.write(DROP_C)
        try:
            subprocess.run(["clang", "-O2", "-target", "bpf", "-c", src, "-o", obj], check=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.lab.run("tgt", ["tc", "qdisc", "add", "dev", "eth0", "clsact"])
            self.lab.run("tgt", ["tc", "filter", "add", "dev", "eth0", "ingress", "bpf", "da",
                                 "obj", obj, "sec", "classifier"])
            return "cls_bpf TC_ACT_SHOT"
        except (subprocess.CalledProcessError, lablib.LabError, FileNotFoundError) as e:
            log("no BPF sink (%s); the target's UDP layer drops instead" % e)
            self.lab.popen("tgt", ["/usr/bin/python3", os.path.join(
                REPO, "tests", "integration", "agent", "traffic.py"), "sink"],
                stdout=subprocess.DEVNULL)
            return "UDP socket sink"

    def teardown(self):
        try:
            self.lab.down()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def set_offloads(self, on):
        """Segmentation offloads on the client's eth0 and the bridge's port to the source, so
        that super-frames reach the source whole (on) or as the lab has them (off)."""
        if on == self.offloads_on:
            return
        state = "on" if on else "off"
        features = ["tso", state, "gso", state, "tx-udp-segmentation", state]
        self.lab.run("cli", ["ethtool", "-K", "eth0"] + features)
        self.lab.run("net", ["ethtool", "-K", "p-src"] + features)
        self.offloads_on = on

    def wire_cpu_rate(self, size):
        """Wire packets per second of the CPU trial: ``--cpu-rate``, or for super-frames
        ``--cpu-rate-super`` (at 50 kpps a 3 s trial has too few super-frames to measure)."""
        return self.a.cpu_rate_super if is_super(size) else self.a.cpu_rate

    def cpu_rate(self, size):
        """Frames per second of the CPU trial."""
        return max(1, self.wire_cpu_rate(size) // segments(size))

    # -- one trial ------------------------------------------------------------------------------
    def trial(self, size, rate, seconds, proc_pid=None, tcpdump=False):
        """Offers ``rate`` frames/s for ``seconds``. Returns a dict of counts (in wire
        packets: a super-frame counts as the packets it stands for) and CPU deltas."""
        self.set_offloads(is_super(size))
        cap = None
        if tcpdump:
            cap = self.lab.popen("src", ["tcpdump", "-i", "eth0", "-n", "-w", "/dev/null",
                                         "-B", "65536"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            line = cap.stderr.readline()
            if b"listening" not in line:
                raise RuntimeError("tcpdump: %r" % line)
            pin(cap.pid, MIRROR_CPU)
            proc_pid = cap.pid
        src0, tgt0 = self.lab.if_stats("src"), self.lab.if_stats("tgt")
        cpu0 = cpu_times()
        p0 = thread_cpu_ns(proc_pid) / 1e9 if proc_pid else 0
        u0 = proc_ticks(proc_pid, split=True)[0] if proc_pid else 0
        k0 = ksoftirqd_ticks()
        gen = self.lab.popen("cli", [self.a.generator, "--interface", "eth0", "--dst-mac",
                                     self.src_mac, "--src-ip", CLI, "--dst-ip", PROD_DST,
                                     "--size", size, "--rate", rate, "--duration", seconds,
                                     "--flows", self.a.flows, "--cpu", GEN_CPU] +
                             (["--gso-size", GSO_SIZE] if is_super(size) else []),
                             stdout=subprocess.PIPE)
        out = gen.stdout.read()
        # rusage of the generator: its system time includes the receive path (veth, bridge,
        # the source's stack, and the kernel mirror) that runs in its context.
        _, status, ru = os.wait4(gen.pid, 0)
        gen.returncode = os.waitstatus_to_exitcode(status)
        gen.stdout.close()
        time.sleep(0.3)  # let the mirror drain its ring (block timeouts) before counting
        p1 = thread_cpu_ns(proc_pid) / 1e9 if proc_pid else 0
        u1 = proc_ticks(proc_pid, split=True)[0] if proc_pid else 0
        k1 = ksoftirqd_ticks()
        cpu1 = cpu_times()
        src1, tgt1 = self.lab.if_stats("src"), self.lab.if_stats("tgt")
        g = json.loads(out)
        segs = segments(size)
        seen_frames = src1["rx_packets"] - src0["rx_packets"]
        r = {"rate": rate, "size": size, "sent": g["sent"], "gen_pps": g["pps"],
             "seen_frames": seen_frames, "seen": seen_frames * segs,
             "delivered": tgt1["rx_packets"] - tgt0["rx_packets"],
             "proc_s": p1 - p0,
             "proc_user_s": (u1 - u0) / HZ,
             "gen_s": ru.ru_utime + ru.ru_stime,
             "ksoftirqd_s": (k1 - k0) / HZ,
             "softirq_s": sum(cpu1[c][1] - cpu0[c][1] for c in cpu1) / HZ,
             "busy_s": sum(cpu1[c][0] - cpu0[c][0] for c in cpu1) / HZ,
             "seconds": g["seconds"]}
        if cap is not None:
            cap.send_signal(signal.SIGINT)
            _, err = cap.communicate(timeout=10)
            stats = {}
            for ln in err.decode("utf-8", "replace").splitlines():
                parts = ln.split()
                if len(parts) >= 3 and parts[0].isdigit():
                    stats[" ".join(parts[1:])] = int(parts[0])
            # "received by filter" is the socket's tp_packets, which includes its drops;
            # "captured" misses the last, unretired ring block when tcpdump is stopped.
            received = stats.get("packets received by filter", 0)
            r["kernel_drops"] = stats.get("packets dropped by kernel", 0)
            r["delivered"] = max(0, received - r["kernel_drops"]) * segs
            r["seen"] = received * segs
        r["loss"] = 1.0 - r["delivered"] / r["seen"] if r["seen"] else 1.0
        return r

    def search(self, size, ceiling, **kw):
        """The trial with the highest rate *seen* by the source (the generator shares cpu0 with
        the receive path, so it may not reach the offered rate) with loss ≤ 0.1 %; binary
        search over the offered rate in [0, ceiling]."""
        lo, hi, best = 0.0, float(ceiling), None

        def run(rate):
            nonlocal best
            r = self.trial(size, int(rate), self.a.trial, **kw)
            r["pps"] = r["seen"] / r["seconds"]
            log("  offered %7d frames/s, seen %7.0f wire pps, delivered %d of %d, loss %.3f%%"
                % (rate, r["pps"], r["delivered"], r["seen"], 100 * r["loss"]))
            if r["loss"] <= LOSS_OK and (best is None or r["pps"] > best["pps"]):
                best = r
            return r["loss"] <= LOSS_OK

        if run(hi):
            return best
        for _ in range(self.a.steps):
            mid = (lo + hi) / 2
            if run(mid):
                lo = mid
            else:
                hi = mid
        return best

    # -- peers ----------------------------------------------------------------------------------
    def measure_generator(self):
        for size in self.a.sizes:
            r = self.trial(size, 0, self.a.trial)
            # The rate the source's eth0 actually saw, a little under what was sent.
            # Frames per second (the generator's unit) the source's eth0 actually saw.
            self.gen_ceiling[size] = int(r["seen_frames"] / r["seconds"])
            b = self.trial(size, self.cpu_rate(size), self.a.cpu_seconds)
            self.baseline[size] = b
            log("generator ceiling %d B: %d frames/s (sent %.0f/s); no mirror at %d wire pps: "
                "generator %.3f µs/pkt, softirq (/proc/stat) %.3f µs/pkt"
                % (size, self.gen_ceiling[size], r["gen_pps"], self.wire_cpu_rate(size),
                   1e6 * b["gen_s"] / max(1, b["seen"]), 1e6 * b["softirq_s"] / max(1, b["seen"])))

    def run_peer(self, name, size, **kw):
        log("%s, %s frames" % (name, size_label(size)))
        best = self.search(size, self.gen_ceiling[size], **kw)
        cpu = self.trial(size, self.cpu_rate(size), self.a.cpu_seconds, **kw)
        base = self.baseline[size]
        mirrored = max(1, cpu["delivered"])
        scale = cpu["seen"] / max(1, base["seen"])
        extra_softirq = cpu["softirq_s"] - base["softirq_s"] * scale
        # Whole cost of mirroring: our processes (generator incl. the receive softirq it
        # drives, the mirroring process, ksoftirqd) over the generator alone at the same rate.
        ours = cpu["gen_s"] + cpu["proc_s"] + cpu["ksoftirqd_s"]
        ours_base = (base["gen_s"] + base["ksoftirqd_s"]) * scale
        row = {"peer": name, "size": size,
               "lossfree_pps": best["pps"] if best else 0,
               "cpu_rate": self.wire_cpu_rate(size), "cpu_loss": cpu["loss"],
               "proc_us": 1e6 * cpu["proc_s"] / mirrored,
               "proc_user_us": 1e6 * cpu["proc_user_s"] / mirrored,
               "softirq_us": 1e6 * extra_softirq / mirrored,
               "total_us": 1e6 * (ours - ours_base) / mirrored}
        self.results.append(row)
        log("  -> loss-free %.0f pps; at %d pps (loss %.3f%%): process %.3f µs/pkt (user %.3f), "
            "softirq %+.3f µs/pkt, all ours over no mirror %.3f µs/pkt"
            % (row["lossfree_pps"], self.wire_cpu_rate(size), 100 * cpu["loss"], row["proc_us"],
               row["proc_user_us"], row["softirq_us"], row["total_us"]))

    def peer_tcpdump(self):
        for size in self.a.sizes:
            self.run_peer("tcpdump -w /dev/null", size, tcpdump=True)

    def peer_mirred(self):
        lab = self.lab
        lab.run("src", ["ip", "link", "add", "vxm", "type", "vxlan", "id", VNI, "remote", TGT,
                        "local", SRC, "dstport", 4789, "dev", "eth0", "ttl", 255, "noudpcsum"])
        lab.run("src", ["ip", "link", "set", "vxm", "addrgenmode", "none"])  # no ND/MLD of its own
        lab.run("src", ["ip", "link", "set", "vxm", "up"])
        lab.run("src", ["tc", "qdisc", "add", "dev", "eth0", "clsact"])
        for i in range(1, 10):
            lab.run("src", ["tc", "filter", "add", "dev", "eth0", "ingress", "protocol", "ip",
                            "prio", i, "u32", "match", "ip", "dst", "10.%d.0.0/16" % i,
                            "action", "mirred", "egress", "mirror", "dev", "vxm"])
        lab.run("src", ["tc", "filter", "add", "dev", "eth0", "ingress", "protocol", "ip",
                        "prio", 10, "u32", "match", "ip", "protocol", 17, "0xff",
                        "action", "mirred", "egress", "mirror", "dev", "vxm"])
        try:
            # Prove the copy is right once: VNI, outer addresses.
            self.check_copies("tc mirred")
            for size in self.a.sizes:
                self.run_peer("tc u32+mirred -> vxlan", size)
        finally:
            lab.run("src", ["tc", "qdisc", "del", "dev", "eth0", "clsact"], check=False)
            lab.run("src", ["ip", "link", "del", "vxm"], check=False)

    def agent_rules(self):
        rules = [me.Rule(i, "accept", "ingress", "0.0.0.0/0", "10.%d.0.0/16" % i)
                 for i in range(1, 10)]
        rules.append(me.Rule(10, "accept", "ingress", "0.0.0.0/0", "0.0.0.0/0", protocol=17))
        return rules

    def peer_agent(self, gso=True):
        """The agent; ``gso=False``: with --send-gso off (one skb per copy), for comparison."""
        binary = self.a.tmirror
        name = AGENT if gso else AGENT_NO_GSO
        if not agentlab.has_agent(binary):
            log("%s has no 'agent' subcommand: skipping the agent" % binary)
            self.results.append({"peer": name, "skipped": "no agent in %s" % binary})
            return
        server = agentlab.NsServer(self.lab, binary)
        api = agent = None
        try:
            server.start()
            api = agentlab.NsApi(self.lab, server)
            agent = agentlab.NsAgent(self.lab, binary, server, block_timeout_ms=None, cpu=MIRROR_CPU,
                                     **({} if gso else {"send_gso": "off"}))
            agent.start()
            pin(agent.pid, MIRROR_CPU)
            target = api.target_for(TGT)
            fid = api.filter_with(self.agent_rules())
            mark = agent.mark()
            api.session(agent.enis["eth0"], target, fid, 1, VNI)
            agent.wait_applied(mark, timeout=10)
            time.sleep(0.5)
            pin(agent.pid, MIRROR_CPU)  # threads started since
            self.check_copies(name)
            for size in self.a.sizes:
                self.run_peer(name, size, proc_pid=agent.pid)
            if not gso:
                return
            if not self.a.no_steer:
                for size in self.a.sizes:
                    self.agent_own_cost(size, agent.pid)
            if not self.a.no_unselected:
                agent = self.unselected(api, agent, binary, server)
            mem = proc_mem(agent.pid)
            try:
                c = agentlab.interface_counters(agent.counters(api.thread))
                log("agent counters: %s" % json.dumps(
                    {k: v for k, v in c.items() if k in ("Frames", "KernelPackets", "KernelDrops",
                                                         "SkippedSendFailed", "NotMatched",
                                                         "GsoCopiesSent", "LastSendError")}))
            except Exception as e:  # counters are informative here
                log("agent counters unavailable: %s" % e)
            self.mem = mem
        finally:
            if agent:
                agent.cleanup()
            if api:
                api.close()
            server.cleanup()

    def steer_copies(self, on):
        """RPS on the bridge's port of the source (p-src rx = what the source transmits): the
        receive of the copies (bridge, target) then runs in the generator's core's softirq, not
        in the context of the process that sent them."""
        mask = "%x" % (1 << GEN_CPU) if on else "0"
        self.lab.run("net", "echo %s > /sys/class/net/p-src/queues/rx-0/rps_cpus" % mask)

    def agent_own_cost(self, size, pid):
        """The agent's CPU per copy without the lab's receive of its copies. On veth, the
        sender's context runs the peer's whole receive path (bridge, target namespace) when it
        re-enables softirqs; a NIC would not charge that to the sender. Steered away with RPS,
        what stays is the agent's own work: ring, engine, and the kernel's transmit path."""
        self.steer_copies(True)
        try:
            cpu = self.trial(size, self.cpu_rate(size), self.a.cpu_seconds, proc_pid=pid)
        finally:
            self.steer_copies(False)
        mirrored = max(1, cpu["delivered"])
        row = {"size": size, "proc_us": 1e6 * cpu["proc_s"] / mirrored,
               "proc_user_us": 1e6 * cpu["proc_user_s"] / mirrored, "loss": cpu["loss"]}
        self.own.append(row)
        log("  agent's own cost, %d B at %d pps with the copies' receive steered to cpu%d "
            "(loss %.3f%%): process %.3f µs/pkt (user %.3f)"
            % (size, self.wire_cpu_rate(size), GEN_CPU, 100 * cpu["loss"], row["proc_us"],
               row["proc_user_us"]))

    def unselected_rules(self):
        """The same ten rules, but the last accepts TCP: the generator's UDP matches none."""
        rules = self.agent_rules()
        rules[-1] = me.Rule(10, "accept", "ingress", "0.0.0.0/0", "0.0.0.0/0", protocol=6)
        return rules

    def unselected(self, api, agent, binary, server):
        """CPU per offered packet when no rule selects the traffic, with the kernel prefilter
        (default) and without it: what the agent costs a host for traffic it does not mirror."""
        sid = api.describe_traffic_mirror_sessions()["TrafficMirrorSessions"][0][
            "TrafficMirrorSessionId"]
        fid = api.filter_with(self.unselected_rules())
        mark = agent.mark()
        api.modify_traffic_mirror_session(TrafficMirrorSessionId=sid, TrafficMirrorFilterId=fid)
        agent.wait_applied(mark, timeout=10)
        size = self.a.sizes[0]
        for prefilter in (True, False):
            if not prefilter:
                # The same host identity (state dir), so the same interfaces and session.
                state_dir = agent.state_dir
                agent.stop()
                agent = agentlab.NsAgent(self.lab, binary, server, state_dir=state_dir,
                                         block_timeout_ms=None, cpu=MIRROR_CPU,
                                         no_kernel_prefilter=True)
                agent.start()
                agent.wait_applied(0, timeout=10)
                time.sleep(0.5)
                pin(agent.pid, MIRROR_CPU)
            cpu = self.trial(size, self.a.cpu_rate, self.a.cpu_seconds, proc_pid=agent.pid)
            offered = max(1, cpu["seen"])
            row = {"prefilter": prefilter, "size": size, "delivered": cpu["delivered"],
                   "proc_us": 1e6 * cpu["proc_s"] / offered}
            self.unselected_rows.append(row)
            log("  unselected traffic, %d B at %d pps, kernel prefilter %s: %d copies, agent "
                "%.3f µs per offered packet" % (size, self.a.cpu_rate,
                                                "on" if prefilter else "off",
                                                cpu["delivered"], row["proc_us"]))
        return agent

    def check_copies(self, name):
        """A few copies, decapsulated: the right VNI and outer addresses, the frame whole."""
        path = os.path.join(self.tmp, "check.pcap")
        cap = self.lab.tcpdump("tgt", "eth0", "in", path, bpf="udp dst port 4789")
        self.lab.run("cli", [self.a.generator, "--interface", "eth0", "--dst-mac", self.src_mac,
                             "--src-ip", CLI, "--dst-ip", PROD_DST, "--size", 200, "--rate",
                             100, "--duration", 0.2, "--flows", 4])
        time.sleep(0.5)
        cap.stop()
        got = me.decap_vxlan(me.read_pcap(path))
        errs = sorted({e for m in got for e in m.errors})
        ok = got and all(m.vni == VNI and len(m.inner) == 200 and str(m.outer_dst) == TGT
                         for m in got)
        log("%s: %d copies checked, VNI %s, header notes: %s" % (
            name, len(got), sorted({m.vni for m in got}), errs or "none"))
        if not ok:
            raise RuntimeError("%s does not mirror as configured: %s" % (name, [
                (m.vni, len(m.inner), str(m.outer_dst), me.parse_frame(m.inner)) for m in got]))

    # -- report ---------------------------------------------------------------------------------
    def table(self):
        lines = ["", "Mirror benchmark on the namespace lab (kernel %s, %d CPUs; generator on "
                 "cpu%d, mirror on cpu%d; sink: %s)" % (os.uname().release, os.cpu_count(),
                                                       GEN_CPU, MIRROR_CPU, self.sink_kind),
                 "10 ingress rules, accepting rule last; loss-free = ≤%.1f%% loss; CPU at %d "
                 "pps offered (super-frames: %d wire pps); /proc/stat is tick-sampled "
                 "(no IRQ_TIME_ACCOUNTING)" % (100 * LOSS_OK, self.a.cpu_rate,
                                               self.a.cpu_rate_super),
                 "",
                 "| peer | frame | loss-free pps | mirroring process µs/pkt (user) | softirq µs/pkt "
                 "(/proc/stat over no mirror; noisy) | CPU µs/pkt (generator+mirror+ksoftirqd "
                 "over no mirror) |",
                 "|---|---:|---:|---:|---:|---:|"]
        for r in self.results:
            if "skipped" in r:
                lines.append("| %s | — | skipped: %s | | | |" % (r["peer"], r["skipped"]))
                continue
            lines.append("| %s | %s | %.0f | %.3f (%.3f) | %.3f | %.3f |" % (
                r["peer"], size_label(r["size"]), r["lossfree_pps"], r["proc_us"], r["proc_user_us"],
                r["softirq_us"], r["total_us"]))
        agent = {r["size"]: r for r in self.results if r["peer"] == "tmirror agent" and
                 "size" in r}
        if agent:
            lines += ["", "| ratio agent / peer | frame | loss-free rate | total CPU/pkt |",
                      "|---|---:|---:|---:|"]
            for r in self.results:
                if "size" not in r or r["peer"] == "tmirror agent" or r["size"] not in agent:
                    continue
                a = agent[r["size"]]
                lines.append("| agent / %s | %s | %.2f | %.2f |" % (
                    r["peer"], size_label(r["size"]),
                    a["lossfree_pps"] / r["lossfree_pps"] if r["lossfree_pps"] else 0,
                    a["total_us"] / r["total_us"] if r["total_us"] > 0 else float("nan")))
        if self.own:
            lines += ["", "Agent's own CPU per mirrored packet (the lab's receive of the copies, "
                      "which veth runs in the sender's context, steered to cpu%d by RPS; goal "
                      "≤ 0.9 µs, stretch 0.3 µs):" % GEN_CPU, "",
                      "| frame | agent process µs/pkt (user) | goal 0.9 µs |", "|---:|---:|---|"]
            for o in self.own:
                lines.append("| %s | %.3f (%.3f) | %s |" % (
                    size_label(o["size"]), o["proc_us"], o["proc_user_us"],
                    "met" if o["proc_us"] <= 0.9 else "not met"))
        if self.unselected_rows:
            lines += ["", "Traffic no rule selects (10 rules, none matching), agent CPU per "
                      "offered packet:", "", "| kernel prefilter | frame | copies | agent "
                      "process µs/pkt |", "|---|---:|---:|---:|"]
            for u in self.unselected_rows:
                lines.append("| %s | %d B | %d | %.3f |" % (
                    "on" if u["prefilter"] else "off (--no-kernel-prefilter)", u["size"],
                    u["delivered"], u["proc_us"]))
        if getattr(self, "mem", None):
            lines.append("")
            lines.append("agent memory with default ring settings: VmRSS %.1f MiB, VmHWM %.1f MiB"
                         % (self.mem["VmRSS"] / 1024, self.mem["VmHWM"] / 1024))
        lines.append("")
        lines.append("Generator ceilings (no mirror): " + ", ".join(
            "%d B %d frames/s" % kv for kv in sorted(self.gen_ceiling.items())))
        lines.append("Caveat: veth on a shared 2-vCPU VM; ±15-20 % run to run.")
        return "\n".join(lines)


def default_path(*cands):
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    return cands[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tmirror", default=default_path(
        os.environ.get("TMIRROR_BINARY"), os.path.join(REPO, "build/bench/tmirror"),
        os.path.join(REPO, "build/release/tmirror"), agentlab.find_binary()))
    ap.add_argument("--generator", default=default_path(
        os.path.join(REPO, "build/bench/bench/traffic_generator"),
        os.path.join(REPO, "build/release/bench/traffic_generator")))
    ap.add_argument("--sizes", default="64,1500,64k",
                    help="frame sizes; 64k = UDP GSO super-frames of 44 wire packets")
    ap.add_argument("--peers", default="agent,agent-nogso,mirred,tcpdump",
                    help="agent, agent-nogso (every copy its own skb), mirred, tcpdump")
    ap.add_argument("--trial", type=float, default=1.5, help="seconds per search trial")
    ap.add_argument("--steps", type=int, default=7, help="binary-search steps")
    ap.add_argument("--cpu-rate", type=int, default=50000, help="pps of the CPU measurement")
    ap.add_argument("--cpu-rate-super", type=int, default=600000,
                    help="wire pps of the CPU measurement with super-frames")
    ap.add_argument("--cpu-seconds", type=float, default=3.0)
    ap.add_argument("--flows", type=int, default=256)
    ap.add_argument("--json", help="also write the rows here")
    ap.add_argument("--no-unselected", action="store_true",
                    help="skip the trial of traffic no rule selects (prefilter on and off)")
    ap.add_argument("--no-steer", action="store_true",
                    help="skip the agent's own-cost trial (copies' receive steered by RPS)")
    a = ap.parse_args()
    a.sizes = [SUPER_SIZE if s.strip().lower() == "64k" else int(s) for s in a.sizes.split(",")]
    peers = a.peers.split(",")
    skip = agentlab.lab_skip_reason(need_agent=False)
    if skip:
        sys.exit("agent_benchmark: " + skip)
    if not os.access(a.generator, os.X_OK):
        sys.exit("agent_benchmark: no traffic generator at %s (make bench-agent builds it)"
                 % a.generator)
    if os.cpu_count() < 2:
        global MIRROR_CPU
        MIRROR_CPU = 0
    b = Bench(a)
    try:
        b.setup()
        b.measure_generator()
        if "agent" in peers:
            b.peer_agent()
        if "agent-nogso" in peers:
            b.peer_agent(gso=False)
        if "mirred" in peers:
            b.peer_mirred()
        if "tcpdump" in peers:
            b.peer_tcpdump()
    finally:
        b.teardown()
    print(b.table())
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": b.results, "agent_own": b.own, "unselected": b.unselected_rows,
                       "ceilings": b.gen_ceiling}, f,
                      indent=1)


if __name__ == "__main__":
    main()
