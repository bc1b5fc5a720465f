"""Guard, first part (issue 5): a source that fails authentication
[guard] max_auth_failures times within the window is banned: its next
request gets no answer at all (dropped before parsing), while another
source keeps registering. The ban is logged as a security event."""

import time

from helpers import SwTestCase, strong_password
from sipclient import Phone, Udp, free_port
from test_sip_register import TENANT, conf_set


class TestBans(SwTestCase):
    def test_brute_force_banned_other_source_unaffected(self):
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
        daemon = d.start_daemon()
        daemon.wait_for(r"SIP listening on", 60)
        self.addCleanup(daemon.stop)
        server = ("127.0.0.1", port)

        attacker = Udp(server, bind_host="127.0.0.2")
        self.addCleanup(attacker.close)
        bad = Phone(attacker, "1001", "wrong-password-123", "acme.example.com")
        for i in range(5):
            r = bad.register()
            self.assertIsNotNone(r, "attempt %d got no answer" % (i + 1))
            self.assertEqual(r.status, 403, r.raw)
        # Banned: not even a challenge any more, and not for OPTIONS.
        r = bad.register(timeout=1.5)
        self.assertIsNone(r, "a banned source got an answer: %r" % (r.raw if r else None))
        daemon.wait_for(r"security: ban src=127\.0\.0\.2 ", 5)

        # The phone at 127.0.0.1 still registers.
        good_conn = Udp(server, bind_host="127.0.0.1")
        self.addCleanup(good_conn.close)
        good = Phone(good_conn, "1001", pw, "acme.example.com")
        r = good.register()
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r.raw)

        # Even the right password from the banned source gets nothing.
        right = Phone(attacker, "1001", pw, "acme.example.com")
        self.assertIsNone(right.register(timeout=1.5))

        # The ban is stored (the store writer is asynchronous) and survives
        # a restart.
        deadline = time.monotonic() + 3
        rows = []
        while time.monotonic() < deadline and not rows:
            rows = d.query("SELECT source, reason FROM bans")
            time.sleep(0.05)
        self.assertEqual(rows, [("127.0.0.2", "failed authentications")])
        daemon.stop()
        daemon = d.start_daemon()
        self.addCleanup(daemon.stop)
        daemon.wait_for(r"guard: 1 bans restored", 60)
        daemon.wait_for(r"SIP listening on", 60)
        again = Phone(attacker, "1001", pw, "acme.example.com")
        self.assertIsNone(again.register(timeout=1.5), "the ban did not survive the restart")
        r = Phone(good_conn, "1001", pw, "acme.example.com").register()
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r.raw)
