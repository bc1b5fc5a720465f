"""Guard (issue 5), allowlists in the daemon: a tenant's `allow` setting
(the networks its phones may come from) and `[guard] deny`.

A tenant with allow = 127.0.0.1/32: its phone registers and calls from
127.0.0.1; the right password from 127.0.0.2 gets the same 403 as a wrong
one (REGISTER and INVITE), with an `allowlist` security event; widening
the setting with `tenant set` lets 127.0.0.2 in within a second. A source
in `[guard] deny` gets no answer at all (dropped before parsing)."""

import re
import signal
import time

from helpers import SwTestCase, strong_password
from sipclient import Phone, Udp, authorization
from test_sip_register import TENANT, conf_set, free_port

DOMAIN = "acme.example.com"


class TestAllowlists(SwTestCase):
    def test_tenant_allow_and_global_deny(self):
        d = self.deploy(tenant=True)
        d.ok("tenant", "set", TENANT, "digest=md5", "allow=127.0.0.1/32")
        pw = strong_password()
        d.add_ext("1001", password=pw)
        port = free_port(True)
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "portal", "listen", "")
        conf_set(d.conf, "media", "ports", "30000-30099")
        conf_set(d.conf, "guard", "allow", "")
        conf_set(d.conf, "guard", "max_auth_failures", "20")
        conf_set(d.conf, "guard", "deny", "127.0.0.9/32")
        daemon = d.start_daemon()
        self.addCleanup(daemon.stop)
        daemon.wait_for(r"SIP listening on", 60)
        server = ("127.0.0.1", port)

        def register(src, password):
            c = Udp(server, bind_host=src)
            try:
                return Phone(c, "1001", password, DOMAIN).register(timeout=1.5)
            finally:
                c.close()

        r = register("127.0.0.1", pw)
        self.assertEqual(r.status, 200, r.raw)
        inside_wrong = register("127.0.0.2", "wrong-password-123")
        outside_right = register("127.0.0.2", pw)
        self.assertEqual(outside_right.status, 403, outside_right.raw)
        # The same answer as a wrong password: nothing tells them apart.
        strip = lambda m: re.sub(rb"(?m)^(Via|From|To|Call-ID|CSeq):.*\r\n", b"", m.raw)
        self.assertEqual(strip(outside_right), strip(inside_wrong))
        daemon.wait_for(r"security: allowlist src=127\.0\.0\.2 user=1001@acme\.example\.com scope=tenant", 5)

        # An INVITE from outside, with the right password: 403 too.
        c = Udp(server, bind_host="127.0.0.2")
        self.addCleanup(c.close)
        ph = Phone(c, "1001", pw, DOMAIN)
        req = ph.request("INVITE")
        req.ruri = "sip:1001@" + DOMAIN
        resp = ph.send(req)
        self.assertEqual(resp.status, 407, resp.raw)
        ch = resp.challenges("Proxy-Authenticate")[0]
        req = ph.request("INVITE")
        req.ruri = "sip:1001@" + DOMAIN
        req.set("Proxy-Authorization", authorization("MD5", "1001", ch["realm"], pw, "INVITE", req.ruri, ch["nonce"], 1))
        resp = c.exchange(req.bytes())
        while resp is not None and resp.status is not None and resp.status < 200:
            resp = c.recv(2.0)
        self.assertIsNotNone(resp)
        self.assertEqual(resp.status, 403, resp.raw)

        # Widened: 127.0.0.2 is let in within a second or so.
        d.ok("tenant", "set", TENANT, "allow=127.0.0.1/32,127.0.0.2/32")
        deadline = time.monotonic() + 3
        while True:
            r = register("127.0.0.2", pw)
            if r is not None and r.status == 200:
                break
            self.assertLess(time.monotonic(), deadline, "the widened allow list was not applied: %r" % (r and r.raw))
            time.sleep(0.2)

        # [guard] deny: not even an answer.
        self.assertIsNone(register("127.0.0.9", pw))
        self.assertIsNone(register("127.0.0.9", "wrong-password-123"))

        # SIGHUP with another [guard] deny: 127.0.0.9 is answered again,
        # 127.0.0.3 is dropped; the running guard took the new settings.
        conf_set(d.conf, "guard", "deny", "127.0.0.3/32")
        daemon.send(signal.SIGHUP)
        daemon.wait_for(r"reload: config and keys reloaded", 10)
        r = register("127.0.0.9", pw)
        self.assertIsNotNone(r, "[guard] deny was not reloaded: 127.0.0.9 still dropped")
        self.assertEqual(r.status, 403, r.raw)  # outside the tenant's allow list
        self.assertIsNone(register("127.0.0.3", pw), "the new [guard] deny was not applied")
        self.assertEqual(register("127.0.0.1", pw).status, 200)
