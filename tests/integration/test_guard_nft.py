"""Guard (issue 5), kernel enforcement: with [guard] nft = on the daemon
(started as root) keeps a root supervisor that mirrors bans into the
nftables set of its table `inet sipwarden_bans`, so the kernel drops a banned
source before the daemon sees it.

Everything runs inside a network namespace of its own (ip netns): the
daemon, the phones and nft, so the host's firewall is never touched. A
machine that cannot make one fails the test loudly."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

from helpers import BIN, HERE, SwTestCase, bin_env, check_sanitizers, strong_password
from test_sip_register import TENANT, conf_set, free_port

DOMAIN = "acme.example.com"

# Run inside the namespace: REGISTERs from one source address, the
# statuses printed as JSON (None: no answer).
CLIENT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from sipclient import Phone, Udp
port, src, user, pw, n, timeout = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), float(sys.argv[7])
c = Udp(("127.0.0.1", port), bind_host=src)
out = []
for _ in range(n):
    r = Phone(c, user, pw, "acme.example.com").register(timeout=timeout)
    out.append(r.status if r is not None else None)
print(json.dumps(out))
"""


class NetNs:
    def __init__(self, tc):
        if shutil.which("ip") is None:
            raise AssertionError("ip (iproute2) is missing: cannot make a network namespace")
        self.name = "swtest-%d" % os.getpid()
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
        p = subprocess.run(["ip", "netns", "add", self.name], stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise AssertionError("cannot make a network namespace: %s" % p.stderr)
        tc.addCleanup(subprocess.run, ["ip", "netns", "del", self.name])
        self.run(["ip", "link", "set", "lo", "up"])

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + argv

    def run(self, argv, check=True):
        p = subprocess.run(self.argv(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("%r failed: %s%s" % (argv, p.stdout, p.stderr))
        return p


class TestNft(SwTestCase):
    def test_bans_reach_the_kernel(self):
        if os.geteuid() != 0:
            raise AssertionError("this test needs root (nftables, network namespaces)")
        ns = NetNs(self)
        d = self.deploy(tenant=True)
        d.ok("tenant", "set", TENANT, "digest=md5")
        pw = strong_password()
        d.add_ext("1001", password=pw)
        port = free_port(True)
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "portal", "listen", "")
        conf_set(d.conf, "media", "ports", "30000-30099")
        conf_set(d.conf, "guard", "max_auth_failures", "3")
        conf_set(d.conf, "guard", "allow", "")
        conf_set(d.conf, "guard", "nft", "on")
        log_path = os.path.join(d.dir, "daemon.log")
        logf = open(log_path, "wb")
        self.addCleanup(logf.close)
        proc = subprocess.Popen(ns.argv([BIN, "-c", d.conf, "serve"]), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=logf, env=bin_env())

        def text():
            with open(log_path, errors="replace") as f:
                return f.read()

        def stop():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

        self.addCleanup(stop)

        def wait_log(pattern, timeout):
            deadline = time.monotonic() + timeout
            while not re.search(pattern, text()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.fail("no %r in the daemon's log:\n%s" % (pattern, text()[-3000:]))
                time.sleep(0.05)

        wait_log(r"SIP listening on", 60)
        wait_log(r"bans are mirrored into nftables", 1)
        p = ns.run(["nft", "list", "table", "inet", "sipwarden_bans"])
        self.assertIn("set banned4", p.stdout)
        self.assertIn("hook prerouting", p.stdout)

        def registers(src, password, n, timeout=1.0):
            p = ns.run([sys.executable, "-c", CLIENT, HERE, str(port), src, "1001", password, str(n), str(timeout)])
            return json.loads(p.stdout)

        def set_elems(name):
            return ns.run(["nft", "list", "set", "inet", "sipwarden_bans", name]).stdout

        def drops():
            out = ns.run(["nft", "list", "chain", "inet", "sipwarden_bans", "drop_banned"]).stdout
            m = re.search(r"ip saddr @banned4 counter packets (\d+)", out)
            return int(m.group(1)) if m else -1

        # The guard bans 127.0.0.2: the kernel then drops it.
        got = registers("127.0.0.2", "wrong-password-123", 3)
        self.assertEqual(got, [403, 403, 403], got)
        wait_log(r"security: ban src=127\.0\.0\.2 ", 5)
        deadline = time.monotonic() + 3
        while "127.0.0.2" not in set_elems("banned4"):
            self.assertLess(time.monotonic(), deadline, "127.0.0.2 not in the nftables set:\n" + set_elems("banned4"))
            time.sleep(0.1)
        self.assertRegex(set_elems("banned4"), r"127\.0\.0\.2 timeout \d+")
        before = drops()
        self.assertEqual(registers("127.0.0.2", pw, 1), [None])
        self.assertGreater(drops(), before, "the kernel did not drop the banned source")
        # Another source still registers.
        self.assertEqual(registers("127.0.0.1", pw, 1), [200])

        # A manual ban and its removal reach the kernel too.
        d.ok("ban", "add", "127.0.0.3", "--for", "10m")
        deadline = time.monotonic() + 3
        while "127.0.0.3" not in set_elems("banned4"):
            self.assertLess(time.monotonic(), deadline, "the manual ban did not reach nftables")
            time.sleep(0.1)
        d.ok("ban", "remove", "127.0.0.3")
        deadline = time.monotonic() + 3
        while "127.0.0.3" in set_elems("banned4"):
            self.assertLess(time.monotonic(), deadline, "the lifted ban stayed in nftables")
            time.sleep(0.1)
        self.assertEqual(registers("127.0.0.3", pw, 1), [200])

        # A clean stop removes the table.
        stop()
        self.assertEqual(proc.returncode, 0, text()[-3000:])
        check_sanitizers(text(), "the daemon")
        p = ns.run(["nft", "list", "tables"])
        self.assertNotIn("sipwarden_bans", p.stdout)

    def test_nft_needs_root(self):
        """Started as the daemon user with nft on: refused, clearly."""
        d = self.deploy(tenant=True)
        conf_set(d.conf, "guard", "nft", "on")
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % free_port(True))
        conf_set(d.conf, "portal", "listen", "")
        st = os.stat(d.dir)
        p = subprocess.run(
            ["setpriv", "--reuid=%d" % st.st_uid, "--regid=%d" % st.st_gid, "--clear-groups", BIN, "-c", d.conf, "serve"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30, env=bin_env())
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn("[guard] nft = on", p.stderr)
        self.assertIn("root", p.stderr)
