"""contrib/fail2ban: the filter matches the daemon's real security lines.

The real daemon writes its stderr to a file while a source fails to
register with a wrong password until its guard bans it, and another
source fails with an unknown user name that tries to forge a field
("x src=6.6.6.6 y"). fail2ban-regex, with the shipped filter, must match
exactly the auth-failure lines, with the real sources; never the ban line,
never the forged address. Synthetic lines then check the events to come
(scanner, decoy, rate-limit, allowlist-refused), IPv6, a journal line,
and that the anchor holds even if a forged field reached the log."""

import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter

from helpers import ROOT, SwTestCase, strong_password
from sipclient import Phone, Udp, free_port
from test_sip_register import TENANT, conf_set

FILTER = os.path.join(ROOT, "contrib/fail2ban/filter.d/sipwarden.conf")
JAIL = os.path.join(ROOT, "contrib/fail2ban/jail.d/sipwarden.conf")


def fail2ban_regex(log_path):
    """Runs fail2ban-regex over the file with the shipped filter. Returns
    the matched addresses (one per matched line, in order) and the
    number of lines matched from its summary."""
    tool = shutil.which("fail2ban-regex")
    if tool is None:
        raise AssertionError("fail2ban-regex is missing: install the Debian package fail2ban")
    p = subprocess.run(
        [tool, "-o", "ip", log_path, FILTER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    if p.returncode != 0:
        raise AssertionError("fail2ban-regex -o ip failed: %s" % p.stderr.decode())
    ips = p.stdout.decode().split()
    p = subprocess.run([tool, log_path, FILTER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise AssertionError("fail2ban-regex failed: %s" % p.stderr.decode())
    m = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", p.stdout.decode())
    if m is None:
        raise AssertionError("no summary in fail2ban-regex output:\n" + p.stdout.decode())
    return ips, int(m.group(3)), p.stdout.decode()


class TestFail2ban(SwTestCase):
    def test_real_daemon_log(self):
        d = self.deploy(tenant=True)
        d.ok("tenant", "set", TENANT, "digest=md5")
        pw = strong_password()
        d.add_ext("1001", password=pw)
        port = free_port(True)
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "media", "ports", "30000-31000")
        conf_set(d.conf, "portal", "listen", "")
        conf_set(d.conf, "guard", "max_auth_failures", "5")
        conf_set(d.conf, "guard", "allow", "")
        logdir = tempfile.mkdtemp(prefix="sw-f2b-")
        self.addCleanup(shutil.rmtree, logdir, True)
        log_path = os.path.join(logdir, "sipwarden.log")
        daemon = d.start_daemon(log_path=log_path)
        self.addCleanup(daemon.stop)
        daemon.wait_for(r"SIP listening on", 60)
        server = ("127.0.0.1", port)

        # 5 wrong passwords from 127.0.0.2: the fifth bans it.
        c2 = Udp(server, bind_host="127.0.0.2")
        self.addCleanup(c2.close)
        bad = Phone(c2, "1001", "wrong-password-123", "acme.example.com")
        for i in range(5):
            r = bad.register()
            self.assertIsNotNone(r, "attempt %d got no answer" % (i + 1))
            self.assertEqual(r.status, 403, r.raw)
        daemon.wait_for(r"security: ban src=127\.0\.0\.2 ", 5)
        # Banned: more attempts are dropped unseen, and not logged.
        self.assertIsNone(bad.register(timeout=1.0))

        # 3 unknown users from 127.0.0.3, the name forging a src= field.
        c3 = Udp(server, bind_host="127.0.0.3")
        self.addCleanup(c3.close)
        forged = "x src=6.6.6.6 y"
        for i in range(3):
            p = Phone(c3, "1001", "whatever-password-1", "acme.example.com", auth_user=forged)
            r = p.register()
            self.assertIsNotNone(r, "attempt %d got no answer" % (i + 1))
            self.assertEqual(r.status, 403, r.raw)
        # A good login from 127.0.0.1 logs no security event.
        c1 = Udp(server, bind_host="127.0.0.1")
        self.addCleanup(c1.close)
        r = Phone(c1, "1001", pw, "acme.example.com").register()
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(daemon.stop(), 0)

        with open(log_path) as f:
            text = f.read()
        lines = text.splitlines()
        fails2 = [l for l in lines if "security: auth-failure src=127.0.0.2 " in l]
        fails3 = [l for l in lines if "security: auth-failure src=127.0.0.3 " in l]
        self.assertEqual(len(fails2), 5, text)
        self.assertEqual(len(fails3), 3, text)
        for l in fails2:
            self.assertRegex(
                l,
                r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ sipwarden\[info\]: security: auth-failure "
                r"src=127\.0\.0\.2 user=1001@acme\.example\.com reason=wrong-password$",
            )
        for l in fails3:
            # The forged name reached the log reduced to safe bytes.
            self.assertIn("user=x?src?6.6.6.6?y@acme.example.com reason=unknown-user", l)
        self.assertEqual(len([l for l in lines if "security: ban src=127.0.0.2 " in l]), 1, text)

        ips, matched, report = fail2ban_regex(log_path)
        self.assertEqual(matched, 8, report)
        self.assertEqual(Counter(ips), Counter({"127.0.0.2": 5, "127.0.0.3": 3}), report)
        self.assertNotIn("6.6.6.6", ips)

    def test_synthetic_lines(self):
        ts = "2026-11-26T09:00:%02dZ"
        lines = [
            # matched: every event, IPv4 and IPv6, each level
            (ts % 1) + " sipwarden[info]: security: auth-failure src=192.0.2.1 user=1001@acme.example.com reason=wrong-password",
            (ts % 2) + " sipwarden[info]: security: auth-failure src=2001:db8::5 user=1002@acme.example.com reason=disabled",
            (ts % 3) + " sipwarden[warn]: security: scanner src=192.0.2.3 ua=friendly-scanner",
            (ts % 4) + " sipwarden[info]: security: decoy src=192.0.2.4 user=100@acme.example.com",
            (ts % 5) + " sipwarden[warn]: security: rate-limit src=192.0.2.5 rate=200",
            (ts % 6) + " sipwarden[info]: security: allowlist-refused src=192.0.2.6 user=1001@acme.example.com",
            (ts % 7) + " sipwarden[info]: security: allowlist src=192.0.2.7 tenant=acme",
            (ts % 8) + " sipwarden[info]: security: auth-failure src=192.0.2.8",
            # as fail2ban's journal backend writes it (host, unit, message)
            (ts % 9) + " pbx1 sipwarden[4242]: " + (ts % 9) + " sipwarden[info]: security: scanner src=192.0.2.9 ua=sipvicious",
            # not matched: ban, unban and replay lines; other messages
            (ts % 10) + " sipwarden[warn]: security: ban src=192.0.2.1 seconds=3600 reason=auth-failures",
            (ts % 11) + " sipwarden[info]: security: unban src=192.0.2.1 reason=manual",
            (ts % 12) + " sipwarden[info]: security: replay src=192.0.2.12 user=1001@acme.example.com",
            (ts % 13) + " sipwarden[info]: changes: applied 1 (seq 4..4); 2 extensions in memory",
            # forged: even if a src= field from a peer reached a line, the
            # anchor reads only the daemon's own first field
            (ts % 14) + " sipwarden[info]: security: auth-failure src=192.0.2.14 user=a src=6.6.6.6 b reason=unknown-user",
            (ts % 15) + " sipwarden[info]: security: auth-failure src=192.0.2.15 user=x?src?6.6.6.6?y@d reason=unknown-user",
            (ts % 16) + " sipwarden[info]: reload: security: auth-failure src=6.6.6.6 user=x",
            (ts % 17) + " sipwarden[info]: security: auth-failure user=security: auth-failure src=6.6.6.6",
            (ts % 18) + " sipwarden[info]: security: auth-failure src=6.6.6.6.6 user=x",
            (ts % 19) + " sipwarden[info]: security: auth-failures src=6.6.6.6 user=x",
            (ts % 20) + " other[info]: security: auth-failure src=6.6.6.6 user=x",
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            f.write("\n".join(lines) + "\n")
        self.addCleanup(os.unlink, f.name)
        ips, matched, report = fail2ban_regex(f.name)
        want = [
            "192.0.2.1",
            "2001:db8::5",
            "192.0.2.3",
            "192.0.2.4",
            "192.0.2.5",
            "192.0.2.6",
            "192.0.2.7",
            "192.0.2.8",
            "192.0.2.9",
            "192.0.2.14",
            "192.0.2.15",
        ]
        self.assertEqual(ips, want, report)
        self.assertEqual(matched, len(want), report)

    def test_jail_example_parses(self):
        """The example jail with the filter loads in fail2ban's own
        configuration reader (fail2ban-client -d), file backend."""
        tool = shutil.which("fail2ban-client")
        if tool is None:
            raise AssertionError("fail2ban-client is missing: install the Debian package fail2ban")
        if not os.path.isdir("/etc/fail2ban"):
            raise AssertionError("/etc/fail2ban is missing (package fail2ban)")
        cfg = tempfile.mkdtemp(prefix="sw-f2b-cfg-")
        self.addCleanup(shutil.rmtree, cfg, True)
        shutil.copytree("/etc/fail2ban", cfg, dirs_exist_ok=True, symlinks=True)
        # Only our jail: the system's own jails may need logs that are not
        # here.
        for n in os.listdir(os.path.join(cfg, "jail.d")):
            os.unlink(os.path.join(cfg, "jail.d", n))
        with open(os.path.join(cfg, "jail.local"), "w") as f:
            f.write("[DEFAULT]\nenabled = false\n")
        shutil.copy(FILTER, os.path.join(cfg, "filter.d", "sipwarden.conf"))
        logf = os.path.join(cfg, "sipwarden.log")
        open(logf, "w").close()
        with open(JAIL) as f:
            jail = f.read()
        # The file jail, enabled, on our empty log.
        jail = jail.replace("enabled   = true", "enabled   = false")
        jail = jail.replace("[sipwarden-file]\nenabled   = false", "[sipwarden-file]\nenabled   = true")
        jail = jail.replace("/var/log/sipwarden/sipwarden.log", logf)
        with open(os.path.join(cfg, "jail.d", "sipwarden.conf"), "w") as f:
            f.write(jail)
        p = subprocess.run([tool, "-c", cfg, "-d"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        out = p.stdout.decode() + p.stderr.decode()
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("['add', 'sipwarden-file', ", out)
        self.assertIn("security: (?:auth-failure|", out)
        self.assertIn("'blocktype', 'drop'", out)
        self.assertNotIn("ERROR", out)
