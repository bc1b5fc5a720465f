"""Linphone (linphonec 5.1, Debian's linphone-cli) registers over TLS:
it answers the first challenge it supports (md5 and md5,sha256: MD5;
sha256,md5: SHA-256); the binding is stored with transport tls.
README "Digest algorithms and peers" rests on this."""

import os
import re
import shutil
import subprocess
import tempfile
import time

from helpers import SwTestCase, strong_password
from sipclient import free_port
from test_sip_register import TENANT, conf_set

RC = """[sip]
sip_port=-1
sip_tcp_port=-1
sip_tls_port=-1
verify_server_certs=0
verify_server_cn=0
default_proxy=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:%(port)d;transport=tls>
reg_identity=sip:1001@acme.example.com
reg_expires=300
reg_sendregister=1
publish=0
[auth_info_0]
username=1001
passwd=%(pw)s
realm=acme.example.com
domain=acme.example.com
[sound]
playback_dev_id=
capture_dev_id=
"""


class TestLinphone(SwTestCase):
    def setUp(self):
        if shutil.which("linphonec") is None:
            self.fail("linphonec is missing (Debian package linphone-cli; scripts/deps.sh test installs it)")
        self.d = self.deploy(tenant=True)
        self.pw = strong_password()
        self.d.add_ext("1001", password=self.pw)
        self.port = free_port(False)
        c = self.d.conf
        conf_set(c, "sip", "tls", "127.0.0.1:%d" % self.port)
        conf_set(c, "media", "ports", "30000-31000")
        conf_set(c, "portal", "listen", "")
        daemon = self.d.start_daemon()
        daemon.wait_for(r"SIP listening on", 60)
        self.addCleanup(daemon.stop)

    def register(self, digest):
        """Runs linphonec with a fresh config; returns the algorithm of its
        Authorization header and whether it reached RegistrationOk."""
        self.d.ok("tenant", "set", TENANT, "digest=" + digest)
        time.sleep(1.2)  # the daemon applies the change within a second
        home = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, home, True)
        # PEERS.md: it never registers unless this folder exists.
        os.makedirs(os.path.join(home, ".local", "share", "linphone"))
        rc = os.path.join(home, "rc")
        with open(rc, "w") as f:
            f.write(RC % {"port": self.port, "pw": self.pw})
        logpath = os.path.join(home, "out.log")
        logf = open(logpath, "wb")
        p = subprocess.Popen(
            ["linphonec", "-c", rc, "-d", "6"],
            stdin=subprocess.PIPE, stdout=logf, stderr=subprocess.STDOUT,
            env=dict(os.environ, HOME=home), cwd=home,
        )
        try:
            # Wait for the registration's outcome (up to 30 s: a loaded
            # CI machine is slow), then quit.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.3)
                with open(logpath, "rb") as f:
                    t = f.read()
                if b"to [LinphoneRegistrationOk]" in t or b"to [LinphoneRegistrationFailed]" in t:
                    break
            time.sleep(0.5)
            try:
                p.stdin.write(b"quit\n")
                p.stdin.flush()
            except BrokenPipeError:
                pass
            p.wait(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            logf.close()
        with open(logpath, "rb") as f:
            out = f.read()
        text = out.decode(errors="replace")
        algs = re.findall(r"^Authorization:.*algorithm=([A-Za-z0-9-]+)", text, re.M)
        ok = "to [LinphoneRegistrationOk]" in text
        return algs[0] if algs else None, ok

    def test_digest_choices(self):
        for digest, want in (("md5", "MD5"), ("sha256,md5", "SHA-256"), ("md5,sha256", "MD5")):
            with self.subTest(digest=digest):
                alg, ok = self.register(digest)
                self.assertEqual(alg, want, "digest=%s" % digest)
                self.assertTrue(ok, "linphonec did not register with digest=%s" % digest)
        rows = self.d.query("SELECT transport FROM bindings")
        # linphonec un-registers on quit: no binding is left, but its last
        # registration is recorded.
        self.assertEqual(rows, [])
        (ua,) = self.d.query("SELECT last_user_agent FROM extensions WHERE number = '1001'")[0]
        self.assertIn("inphone", ua or "")
