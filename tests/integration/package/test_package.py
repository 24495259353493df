"""The Debian package and its systemd units, checked as Debian's tools and an operator would.

`cpack -G DEB` runs on this build tree (the rules of cmake/packaging.cmake, which `make package`
runs on the release tree), then:

* the package holds the binary, the four units, the settings files (as conffiles), the man page,
  the copyright and changelog, and a postinst that adds the `tmirror` system user;
* its Depends name the package of every library the binary loads, and apt resolves them;
* lintian reports no error (its warnings are printed);
* `systemd-analyze verify` accepts each unit and `systemd-analyze security` scores each one
  (the scores are printed; each must stay in systemd's "OK" band, below 4.0);
* the daemons speak the units' Type=notify: READY=1 once they serve, STOPPING=1 on SIGTERM,
  exit 0.

Needs: TMIRROR_CPACK_CONFIG (the build tree's CPackConfig.cmake), TMIRROR_BINARY; cpack,
dpkg-deb, lintian, systemd-analyze.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

UNITS = ["tmirror-server.service", "tmirror-agent.service", "tmirror-collector.service",
         "tmirror-up.service"]
CONFFILES = ["/etc/tmirror/server.conf", "/etc/tmirror/agent.conf",
             "/etc/tmirror/collector.conf", "/etc/tmirror/up.conf"]
SECURITY_OK = 4.0  # systemd-analyze security calls up to 3.9 "OK"


def run(*args, **kw):
    kw.setdefault("timeout", 600)
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="tmirror-package-")
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        made = run(os.environ.get("TMIRROR_CPACK", "cpack"), "-G", "DEB", "--config",
                   os.environ["TMIRROR_CPACK_CONFIG"], "-B", cls.work)
        if made.returncode != 0:
            raise AssertionError("cpack failed:\n" + made.stdout + made.stderr)
        debs = glob.glob(os.path.join(cls.work, "*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.root = os.path.join(cls.work, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)
        fields = run("dpkg-deb", "-f", cls.deb).stdout
        cls.control = dict(re.findall(r"^(\S+): (.*)$", fields, re.M))

    def control_file(self, name):
        return run("dpkg-deb", "--info", self.deb, name).stdout

    def test_it_holds_the_binary_units_settings_and_docs(self):
        self.assertEqual(self.control["Package"], "tmirror")
        self.assertRegex(os.path.basename(self.deb), r"^tmirror_[0-9.]+_amd64\.deb$")
        binary = os.path.join(self.root, "usr/bin/tmirror")
        self.assertTrue(os.access(binary, os.X_OK))
        version = run(binary, "version")
        self.assertEqual(version.returncode, 0, version.stderr)
        for unit in UNITS:
            self.assertTrue(os.path.isfile(os.path.join(self.root, "lib/systemd/system", unit)),
                            unit)
        for conf in CONFFILES:
            self.assertTrue(os.path.isfile(self.root + conf), conf)
        self.assertEqual(sorted(self.control_file("conffiles").split()), sorted(CONFFILES))
        for doc in ("usr/share/doc/tmirror/copyright", "usr/share/doc/tmirror/changelog.gz",
                    "usr/share/man/man1/tmirror.1.gz",
                    "usr/share/doc/tmirror/examples/prometheus/tmirror-rules.yml"):
            self.assertTrue(os.path.isfile(os.path.join(self.root, doc)), doc)
        man = run("zcat", os.path.join(self.root, "usr/share/man/man1/tmirror.1.gz")).stdout
        self.assertIn(".TH TMIRROR", man)
        for daemon in ("server", "agent", "collect", "up"):
            self.assertIn('.SS "tmirror %s"' % daemon, man)
        self.assertIn("useradd --system", self.control_file("postinst"))

    def test_the_default_settings_files_are_valid_settings(self):
        # Every line of the shipped files, uncommented, must be a setting its daemon takes.
        binary = os.path.join(self.root, "usr/bin/tmirror")
        for conf, daemon in zip(CONFFILES, ("server", "agent", "collect", "up")):
            with open(self.root + conf) as f:
                lines = [re.sub(r"^#(?=[a-z])", "", line) for line in f]
            uncommented = os.path.join(self.work, os.path.basename(conf))
            with open(uncommented, "w") as f:
                f.writelines(line for line in lines if not line.startswith("# "))
            # --help parses the settings before it answers: an unknown key would be an error.
            res = run(binary, daemon, "--config", uncommented, "--help")
            self.assertEqual(res.returncode, 0, "%s: %s" % (conf, res.stdout + res.stderr))

    def test_depends_name_the_package_of_every_library_it_loads(self):
        depends = {d.strip().split()[0] for d in self.control["Depends"].split(",")}
        binary = os.path.join(self.root, "usr/bin/tmirror")
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                            run("readelf", "-d", binary).stdout)
        self.assertIn("libpq.so.5", needed)
        paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", run("ldd", binary).stdout, re.M))
        missing = []
        for lib in needed:
            owner = run("dpkg", "-S", os.path.realpath(paths[lib]))
            if owner.returncode != 0:  # /usr-merged paths: ask for the /lib spelling too
                owner = run("dpkg", "-S", paths[lib])
            self.assertEqual(owner.returncode, 0, "%s: %s" % (lib, owner.stderr))
            package = owner.stdout.split(":")[0]
            # Or a name it provides: libspdlog1.10 provides libspdlog1.10-fmt9, its ABI's name.
            provides = run("dpkg-query", "-W", "-f=${Provides}", package).stdout
            names = {package} | {p.strip().split()[0] for p in provides.split(",") if p.strip()}
            if not names & depends:
                missing.append("%s (%s)" % (lib, package))
        self.assertEqual(missing, [], "Depends: " + self.control["Depends"])

    def test_apt_resolves_its_dependencies(self):
        res = run("apt-get", "install", "--simulate", "--no-install-recommends", self.deb)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"Inst tmirror|tmirror is already")

    def test_lintian_finds_no_error(self):
        res = run("lintian", "--no-tag-display-limit", self.deb)
        tags = [line for line in (res.stdout + res.stderr).splitlines()
                if re.match(r"^[EWIP]: ", line)]
        print("\n  lintian: " + ("\n  lintian: ".join(tags) if tags else "no tags"))
        self.assertEqual([t for t in tags if t.startswith("E: ")], [])

    def test_the_units_verify_and_score_ok_for_security(self):
        # Both tools read the units as they would be installed: a root holding the package and
        # systemd's own units (the targets the units are ordered after).
        root = os.path.join(self.work, "verify-root")
        shutil.copytree(self.root, root, symlinks=True)
        shutil.copytree("/lib/systemd/system", os.path.join(root, "lib/systemd/system"),
                        symlinks=True, dirs_exist_ok=True)
        scores = {}
        for unit in UNITS:
            path = os.path.join(root, "lib/systemd/system", unit)
            verify = run("systemd-analyze", "verify", "--man=no", "--root=" + root, path)
            self.assertEqual((verify.returncode, verify.stderr.strip()), (0, ""), unit)
            security = run("systemd-analyze", "security", "--offline=yes", "--root=" + root,
                           path)
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", security.stdout)
            self.assertTrue(m, security.stdout + security.stderr)
            scores[unit] = float(m.group(1))
        print("\n  systemd-analyze security: " +
              ", ".join("%s %.1f" % (u, s) for u, s in scores.items()))
        for unit, score in scores.items():
            self.assertLess(score, SECURITY_OK, unit)


class Notify(unittest.TestCase):
    """What systemd's Type=notify sees (sd_notify(3)): a datagram socket in NOTIFY_SOCKET."""

    def test_a_daemon_says_ready_once_it_serves_and_stopping_on_sigterm(self):
        work = tempfile.mkdtemp(prefix="tmirror-notify-")
        self.addCleanup(shutil.rmtree, work, True)
        path = os.path.join(work, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        proc = subprocess.Popen([os.environ["TMIRROR_BINARY"], "server", "--config", "",
                                 "--data-dir", os.path.join(work, "data"), "--listen",
                                 "127.0.0.1:0"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        ready = sock.recv(4096).decode()
        self.assertIn("READY=1", ready.split("\n"))
        status = [v for v in ready.split("\n") if v.startswith("STATUS=")]
        self.assertTrue(status and "listening on http://127.0.0.1:" in status[0], ready)
        # Ready means serving: the address in the status answers.
        port = int(re.search(r"127\.0\.0\.1:(\d+)", status[0]).group(1))
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
        proc.send_signal(signal.SIGTERM)
        self.assertIn("STOPPING=1", sock.recv(4096).decode().split("\n"))
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertIn("server: stopped", proc.stdout.read())


if __name__ == "__main__":
    unittest.main()
