"""The guard's policy against the real daemon (issue items 1, 3 and 5):
decoy extensions, the trust of an address where a phone authenticated
(an office behind one NAT is not locked out by one misconfigured phone),
the lock of an extension under attack while its own phone keeps working,
transport pinning (TLS once, TLS always, until `ext set ... pin=reset`),
and the per-source rate limit before parsing.

Every source is a loopback address of its own (127.0.0.0/8 is all
loopback on Linux): 127.0.N.x for test N, so that a ban in one test
reaches no other. Nothing is allow-listed unless a test says so.

This module also holds what the other test_guard_* files share: the
deployment (GuardServer), a phone that retransmits over UDP as RFC 3261
says (Phone), a callee that answers calls (Callee) and one call (call).
"""

import re
import select
import signal
import threading
import time

import sipclient
from helpers import TENANT, TENANT_DOMAIN, Deployment, SwTestCase, log
from sipclient import Request, SipMessage, Tls, Udp, authorization, new_branch, new_call_id, new_tag
from test_sip_register import MEDIA_HI, MEDIA_LO, conf_set, free_port

STORE_POLL_S = 5.0
T1 = 0.5  # RFC 3261 timer T1: the first retransmission interval


class GuardServer:
    """A deployment (tenant acme, digest md5, srtp optional: the test
    phones offer plain RTP) with UDP and TCP on one port and TLS on
    another, extensions with generated passwords (self.pw), [guard] keys
    from guard (allow is empty unless given), and the daemon running."""

    def __init__(self, exts=(), guard=None):
        self.d = Deployment()
        try:
            self.d.tenant()
            self.d.ok("tenant", "set", TENANT, "digest=md5", "srtp=optional")
            self.pw = self.import_exts(exts) if exts else {}
            self.port = free_port(True)
            self.tls_port = free_port(False, taken=(self.port,))
            c = self.d.conf
            conf_set(c, "sip", "udp", "127.0.0.1:%d" % self.port)
            conf_set(c, "sip", "tcp", "127.0.0.1:%d" % self.port)
            conf_set(c, "sip", "tls", "127.0.0.1:%d" % self.tls_port)
            conf_set(c, "media", "ports", "%d-%d" % (MEDIA_LO, MEDIA_HI))
            conf_set(c, "portal", "listen", "")
            conf_set(c, "guard", "allow", "")
            for k, v in (guard or {}).items():
                conf_set(c, "guard", k, v)
            self.daemon = None
            self.start()
        except BaseException:
            self.d.cleanup()
            raise

    def import_exts(self, numbers):
        path = self.d.dir + "/exts.csv"
        with open(path, "w") as f:
            f.write("extension,name,password\n")
            for n in numbers:
                f.write("%s,Phone %s,\n" % (n, n))
        j = self.d.ok_json("ext", "import", TENANT, path)
        return {g["extension"]: g["password"] for g in j["generated"]}

    def start(self):
        self.daemon = self.d.start_daemon()
        self.daemon.wait_for(r"SIP listening on", 60)
        return self.daemon

    def stop(self):
        d, self.daemon = self.daemon, None
        if d is None:
            return
        rc = d.stop(signal.SIGTERM)
        if rc != 0:
            raise AssertionError("daemon exit status %r; log:\n%s" % (rc, d.text()[-6000:]))

    def cleanup(self):
        try:
            self.stop()
        finally:
            self.d.cleanup()

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    @property
    def tls_addr(self):
        return ("127.0.0.1", self.tls_port)

    def log_lines(self, pattern):
        rx = re.compile(pattern)
        return [l for l in self.daemon.text().split("\n") if rx.search(l)]

    def poll(self, fn, timeout=STORE_POLL_S):
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(0.05)


# ---- a phone over UDP that retransmits ----


def transact(conn, req, timeout=8.0, invite=False):
    """Sends req (a Request) over conn and returns its final answer (or
    None): over UDP the request is sent again after T1, 2*T1, ... (RFC
    3261 17.1.1.2, 17.1.2.2) until an answer comes; for an INVITE a
    provisional answer stops the retransmissions. Messages for other
    transactions are left aside (returned in conn.aside)."""
    data = req.bytes()
    cid, cseq = req.get("Call-ID"), req.get("CSeq")
    deadline = time.monotonic() + timeout
    interval, next_send = T1, 0.0
    provisional = False
    while True:
        now = time.monotonic()
        if now >= deadline:
            return None
        if not provisional and now >= next_send and (conn.transport == "UDP" or next_send == 0.0):
            conn.send(data)
            next_send = now + interval
            interval = min(interval * 2, 4.0)
        wait = max(0.005, min(deadline, next_send if not provisional else deadline) - now)
        m = conn.recv(wait)
        if m is None:
            continue
        if m.is_request or m.get("Call-ID") != cid or m.get("CSeq") != cseq:
            aside = getattr(conn, "aside", None)
            if aside is None:
                conn.aside = aside = []
            aside.append(m)
            continue
        if m.status < 200:
            provisional = provisional or invite
            continue
        return m


class Phone(sipclient.Phone):
    """sipclient.Phone with UDP retransmissions (a real phone's)."""

    def send(self, req, timeout=8.0):
        return transact(self.conn, req, timeout, invite=req.method == "INVITE")


def sdp(user, port):
    return (
        "v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (user, port)
    ).encode()


def call(conn, caller, password, callee, timeout=8.0):
    """One call from caller (over conn) to callee: INVITE, 407, INVITE
    with credentials, 200, ACK, BYE, 200. Returns (True, "") or (False,
    what went wrong)."""
    ruri = "sip:%s@%s" % (callee, TENANT_DOMAIN)
    frm = "<sip:%s@%s>;tag=%s" % (caller, TENANT_DOMAIN, new_tag())
    cid = new_call_id()

    def invite(cseq, auth=None):
        h = [
            ("Via", conn.via()),
            ("Max-Forwards", "70"),
            ("From", frm),
            ("To", "<%s>" % ruri),
            ("Call-ID", cid),
            ("CSeq", "%d INVITE" % cseq),
            ("Contact", "<sip:%s@%s:%d>" % ((caller,) + tuple(conn.local))),
            ("Content-Type", "application/sdp"),
        ]
        if auth:
            h.append(("Proxy-Authorization", auth))
        return Request("INVITE", ruri, h, sdp(caller, 40000))

    def ack(req, resp, target):
        conn.send(Request("ACK", target, [
            ("Via", req.get("Via") if resp.status >= 300 else conn.via()),
            ("Max-Forwards", "70"),
            ("From", frm),
            ("To", resp.get("To")),
            ("Call-ID", cid),
            ("CSeq", "%d ACK" % resp.cseq()[0]),
        ]))

    req = invite(1)
    r = transact(conn, req, timeout, invite=True)
    if r is None or r.status != 407:
        return False, "first INVITE: %r" % (r and r.start)
    ack(req, r, ruri)
    ch = r.challenges("Proxy-Authenticate")[0]
    auth = authorization("MD5", caller, ch["realm"], password, "INVITE", ruri, ch["nonce"], 1)
    req = invite(2, auth)
    r = transact(conn, req, timeout, invite=True)
    if r is None or r.status != 200:
        if r is not None:
            ack(req, r, ruri)
        return False, "INVITE with credentials: %r" % (r and r.start)
    target = r.contacts()[0][0] if r.contacts() else ruri
    ack(req, r, target)
    bye = Request("BYE", target, [
        ("Via", conn.via()),
        ("Max-Forwards", "70"),
        ("From", frm),
        ("To", r.get("To")),
        ("Call-ID", cid),
        ("CSeq", "3 BYE"),
    ])
    r = transact(conn, bye, timeout)
    if r is None or r.status != 200:
        return False, "BYE: %r" % (r and r.start)
    return True, ""


class Callee:
    """A registered phone over UDP that answers every INVITE with 200 (and
    an SDP answer) and every BYE with 200, in a thread."""

    def __init__(self, srv, number, host="127.0.0.1"):
        self.conn = Udp(srv.addr, bind_host=host)
        self.number = number
        r = Phone(self.conn, number, srv.pw[number], TENANT_DOMAIN).register(expires=3600)
        if r is None or r.status != 200:
            raise AssertionError("%s did not register: %r" % (number, r and r.raw))
        self.invites = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _answer(self, m, code, reason, body=b"", tag=None):
        lines = ["SIP/2.0 %d %s" % (code, reason)]
        lines += ["Via: " + v for v in m.all("Via")]
        to = m.get("To")
        if tag and ";tag=" not in to:
            to += ";tag=" + tag
        lines += [
            "From: " + m.get("From"),
            "To: " + to,
            "Call-ID: " + m.get("Call-ID"),
            "CSeq: " + m.get("CSeq"),
            "Contact: <sip:%s@%s:%d>" % ((self.number,) + tuple(self.conn.local)),
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body))
        self.conn.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _run(self):
        tags = {}
        while not self.stopping:
            try:
                m = self.conn.recv(0.1)
            except (OSError, ValueError):
                continue
            if m is None or not m.is_request:
                continue
            if m.method == "INVITE":
                tag = tags.setdefault(m.get("Call-ID"), new_tag())
                self.invites += 1
                self._answer(m, 200, "OK", sdp(self.number, 40002), tag)
            elif m.method in ("BYE", "CANCEL", "OPTIONS"):
                self._answer(m, 200, "OK")

    def close(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.conn.close()


def udp_from(tc, srv, host):
    c = Udp(srv.addr, bind_host=host)
    tc.addCleanup(c.close)
    return c


def status(r):
    return r.status if r is not None else None


def without_to(r):
    """The answer's text without its To line (the AOR and a random tag)."""
    text = r.raw.decode("latin-1")
    return "\r\n".join(l for l in text.split("\r\n") if not re.match(r"(?i)(to|t)\s*:", l))


# ---- the tests ----


class TestDecoys(SwTestCase):
    """[guard] decoys (default 100,1000,admin,test,1234,0000,101,200)."""

    def test_decoys(self):
        srv = GuardServer(exts=("1001", "200"))
        self.addCleanup(srv.cleanup)

        # The first REGISTER for decoy 100: no answer, and the source is
        # banned at once (not even OPTIONS gets through).
        s1 = udp_from(self, srv, "127.0.1.1")
        p = Phone(s1, "100", "any-password-at-all", TENANT_DOMAIN)
        self.assertIsNone(p.send(p.request("REGISTER"), timeout=1.5), "a decoy REGISTER got an answer")
        srv.daemon.wait_for(r"security: decoy src=127\.0\.1\.1 user=100@acme\.example\.com method=REGISTER", 5)
        srv.daemon.wait_for(r"security: ban src=127\.0\.1\.1 seconds=3600 reason=decoy", 5)
        self.assertIsNone(p.send(p.request("OPTIONS"), timeout=1.5), "a source banned by a decoy got an answer")
        rows = srv.poll(lambda: srv.d.query("SELECT source, reason FROM bans WHERE source = '127.0.1.1'"))
        self.assertEqual(rows, [("127.0.1.1", "decoy extension")])

        # An INVITE for decoy admin from another stranger: the same.
        s2 = udp_from(self, srv, "127.0.1.2")
        req = Request("INVITE", "sip:admin@" + TENANT_DOMAIN, [
            ("Via", s2.via()), ("Max-Forwards", "70"),
            ("From", "<sip:1001@%s>;tag=%s" % (TENANT_DOMAIN, new_tag())),
            ("To", "<sip:admin@%s>" % TENANT_DOMAIN), ("Call-ID", new_call_id()),
            ("CSeq", "1 INVITE"), ("Contact", "<sip:1001@%s:%d>" % s2.local),
        ])
        self.assertIsNone(transact(s2, req, 1.5, invite=True))
        srv.daemon.wait_for(r"security: ban src=127\.0\.1\.2 .*reason=decoy", 5)

        # 200 is a decoy name but a real extension here: no decoy.
        s3 = udp_from(self, srv, "127.0.1.3")
        p = Phone(s3, "200", srv.pw["200"], TENANT_DOMAIN)
        self.assertEqual(status(p.register()), 200)
        self.assertEqual(srv.log_lines(r"security: (decoy|ban) src=127\.0\.1\.3 "), [])

        # A source where a phone authenticated (trusted) dialling decoy
        # 1234: one failure, answered as usual, no ban.
        ok = call(s3, "200", srv.pw["200"], "1234")
        self.assertFalse(ok[0])
        self.assertIn("404", ok[1] + "".join(l for l in srv.log_lines("x^")))  # 404: no such callee
        srv.daemon.wait_for(r"security: decoy src=127\.0\.1\.3 user=1234@acme\.example\.com method=INVITE trusted=yes", 5)
        self.assertEqual(status(p.register()), 200, "a trusted source was banned by a decoy")


class TestTrustedNat(SwTestCase):
    """An office behind one NAT address: one phone with a wrong password
    does not lock the others out (the address is trusted after a success
    and never banned), while its failures still lock its own extension."""

    def test_office_not_locked_out(self):
        srv = GuardServer(exts=("1001", "1002", "1003"))
        self.addCleanup(srv.cleanup)
        office = "127.0.2.1"
        good = Phone(udp_from(self, srv, office), "1001", srv.pw["1001"], TENANT_DOMAIN)
        self.assertEqual(status(good.register()), 200)

        # A misconfigured phone of 1002 in the same office: 20 failures.
        bad = Phone(udp_from(self, srv, office), "1002", "an-old-password-2024", TENANT_DOMAIN)
        for i in range(20):
            self.assertEqual(status(bad.register()), 403, "attempt %d" % (i + 1))
        self.assertEqual(srv.log_lines(r"security: ban src=127\.0\.2\.1 "), [], "the office address was banned")
        # 1002 is locked: failures from an address that cannot be banned.
        srv.daemon.wait_for(
            r"security: lock src=127\.0\.2\.1 user=1002@acme\.example\.com seconds=900 .*reason=unbannable-sources", 5)

        # The office's other phones still register, old and new ones.
        self.assertEqual(status(good.register()), 200)
        new = Phone(udp_from(self, srv, office), "1003", srv.pw["1003"], TENANT_DOMAIN)
        self.assertEqual(status(new.register()), 200)

        # A stranger doing the same is banned after 5 (the control).
        stranger = Phone(udp_from(self, srv, "127.0.2.9"), "1002", "an-old-password-2024", TENANT_DOMAIN)
        for i in range(5):
            self.assertEqual(status(stranger.register()), 403)
        self.assertIsNone(stranger.send(stranger.request("OPTIONS"), timeout=1.5))
        srv.daemon.wait_for(r"security: ban src=127\.0\.2\.9 seconds=3600 reason=auth-failures", 5)


class TestLock(SwTestCase):
    """An extension attacked from many addresses (each too few failures to
    be banned) is locked: the right password from a new flow is refused
    exactly as a wrong one; its own phone (the flow of its binding) keeps
    registering and calling."""

    def test_lock_spares_own_phone(self):
        srv = GuardServer(exts=("1004", "1005"))
        self.addCleanup(srv.cleanup)
        callee = Callee(srv, "1005", host="127.0.3.50")
        self.addCleanup(callee.close)
        own_conn = udp_from(self, srv, "127.0.3.1")
        own = Phone(own_conn, "1004", srv.pw["1004"], TENANT_DOMAIN)
        self.assertEqual(status(own.register(expires=3600)), 200)

        # Five addresses, one wrong password each: nobody banned; locked.
        wrong_answer = None
        for i in range(5):
            a = Phone(udp_from(self, srv, "127.0.3.%d" % (10 + i)), "1004", "guess-%d-Password" % i, TENANT_DOMAIN)
            r = a.register()
            self.assertEqual(status(r), 403)
            wrong_answer = r
        line = srv.daemon.wait_for(
            r"security: lock src=127\.0\.3\.14 user=1004@acme\.example\.com seconds=900 failures=5 sources=\d+ "
            r"reason=many-sources", 5)[1].group(0)
        log("lock line: %s" % line)
        self.assertEqual(srv.log_lines(r"security: ban src=127\.0\.3\."), [])

        # The right password from a new address: 403, the same answer as
        # a wrong password but for the To line; the reason in the log only.
        thief = Phone(udp_from(self, srv, "127.0.3.20"), "1004", srv.pw["1004"], TENANT_DOMAIN)
        r = thief.register()
        self.assertEqual(status(r), 403)
        self.assertNotIn("lock", r.raw.decode("latin-1").lower())
        self.assertEqual(
            re.sub(r"(Call-ID|CSeq|Via|From): .*", "", without_to(r)),
            re.sub(r"(Call-ID|CSeq|Via|From): .*", "", without_to(wrong_answer)),
        )
        srv.daemon.wait_for(r"security: auth-failure src=127\.0\.3\.20 user=1004@acme\.example\.com reason=locked", 5)
        # ... and from the phone's address but another port (another flow).
        other = Phone(udp_from(self, srv, "127.0.3.1"), "1004", srv.pw["1004"], TENANT_DOMAIN)
        self.assertEqual(status(other.register()), 403)

        # The phone itself: registers and calls.
        self.assertEqual(status(own.register(expires=3600)), 200)
        ok, why = call(own_conn, "1004", srv.pw["1004"], "1005")
        self.assertTrue(ok, why)
        self.assertGreaterEqual(callee.invites, 1)
        # A call from another flow: refused like a wrong password.
        ok, why = call(thief.conn, "1004", srv.pw["1004"], "1005")
        self.assertFalse(ok)
        self.assertIn("403", why)


class TestPinning(SwTestCase):
    """An extension that registered over TLS is refused on UDP and TCP
    (answered like a wrong password) until `ext set ... pin=reset`; the pin
    survives a restart (settings "pin": "tls", set by the store)."""

    def test_pin_and_reset(self):
        srv = GuardServer(exts=("1006", "1007"))
        self.addCleanup(srv.cleanup)
        pw = srv.pw["1006"]

        # UDP first: fine, nothing pinned.
        udp = Phone(udp_from(self, srv, "127.0.4.1"), "1006", pw, TENANT_DOMAIN)
        self.assertEqual(status(udp.register()), 200)
        self.assertIsNone(srv.d.ok_json("ext", "show", TENANT, "1006")["pin"])

        # Over TLS: pinned, in memory and in the store.
        tls = Tls(srv.tls_addr)
        self.addCleanup(tls.close)
        t = Phone(tls, "1006", pw, TENANT_DOMAIN)
        self.assertEqual(status(t.register()), 200)
        srv.daemon.wait_for(r"registrar: 1006@acme\.example\.com registered over TLS: pinned", 5)
        self.assertTrue(srv.poll(lambda: srv.d.ok_json("ext", "show", TENANT, "1006")["pin"] == "tls"))
        (settings,) = srv.d.query("SELECT settings FROM extensions WHERE number = '1006'")[0]
        self.assertIn('"pin":"tls"', settings)

        # UDP and TCP now: 403, as for a wrong password.
        wrong = Phone(udp_from(self, srv, "127.0.4.2"), "1006", "not-the-password-1", TENANT_DOMAIN)
        w = wrong.register()
        self.assertEqual(status(w), 403)
        r = Phone(udp_from(self, srv, "127.0.4.3"), "1006", pw, TENANT_DOMAIN).register()
        self.assertEqual(status(r), 403)
        self.assertEqual(re.sub(r"(Call-ID|CSeq|Via|From): .*", "", without_to(r)),
                         re.sub(r"(Call-ID|CSeq|Via|From): .*", "", without_to(w)))
        srv.daemon.wait_for(r"security: pinned src=127\.0\.4\.3 user=1006@acme\.example\.com transport=udp", 5)
        tcp = sipclient.Tcp(srv.addr)
        self.addCleanup(tcp.close)
        self.assertEqual(status(Phone(tcp, "1006", pw, TENANT_DOMAIN).register()), 403)
        srv.daemon.wait_for(r"security: pinned src=127\.0\.0\.1 user=1006@acme\.example\.com transport=tcp", 5)
        # TLS still works; another extension is not pinned.
        self.assertEqual(status(t.register()), 200)
        self.assertEqual(status(Phone(udp_from(self, srv, "127.0.4.4"), "1007", srv.pw["1007"],
                                      TENANT_DOMAIN).register()), 200)

        # A restart keeps the pin.
        tls.close()
        srv.stop()
        srv.start()
        self.assertEqual(status(Phone(udp_from(self, srv, "127.0.4.5"), "1006", pw, TENANT_DOMAIN).register()), 403)

        # The operator resets it: UDP registers again.
        mark = srv.daemon.count()
        j = srv.d.ok_json("ext", "set", TENANT, "1006", "pin=reset")
        self.assertIsNone(j["pin"])
        srv.daemon.wait_for(r"changes: applied", 5, start=mark)
        self.assertEqual(status(Phone(udp_from(self, srv, "127.0.4.6"), "1006", pw, TENANT_DOMAIN).register()), 200)
        r = srv.d.cli("ext", "set", TENANT, "1006", "pin=maybe")
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("must be reset or tls", r.err)


class TestRateLimit(SwTestCase):
    """[guard] rate and rate_burst: a burst over the limit is dropped
    before parsing and logged (once a second per source); allow-listed
    sources have no limit."""

    def burst(self, srv, host, n):
        """Sends n OPTIONS at once from host; returns how many answers."""
        c = Udp(srv.addr, bind_host=host)
        self.addCleanup(c.close)
        for i in range(n):
            req = Request("OPTIONS", "sip:" + TENANT_DOMAIN, [
                ("Via", c.via()), ("Max-Forwards", "70"),
                ("From", "<sip:probe@%s>;tag=%s" % (TENANT_DOMAIN, new_tag())),
                ("To", "<sip:%s>" % TENANT_DOMAIN), ("Call-ID", new_call_id()),
                ("CSeq", "1 OPTIONS"),
            ])
            c.send(req)
        got = 0
        while c.recv(1.0) is not None:
            got += 1
        return got

    def test_burst_dropped_allowed_not(self):
        srv = GuardServer(guard={"rate": "20", "rate_burst": "40", "allow": "127.0.5.9/32"})
        self.addCleanup(srv.cleanup)
        got = self.burst(srv, "127.0.5.1", 300)
        log("rate 20/s, burst 40: %d of 300 OPTIONS answered" % got)
        self.assertGreaterEqual(got, 40)
        self.assertLess(got, 100)
        line = srv.daemon.wait_for(r"security: rate-limit src=127\.0\.5\.1 dropped=(\d+)", 5)[1]
        self.assertGreaterEqual(int(line.group(1)), 1)
        # The allow-listed source: every one answered.
        self.assertEqual(self.burst(srv, "127.0.5.9", 300), 300)
        self.assertEqual(srv.log_lines(r"security: rate-limit src=127\.0\.5\.9 "), [])
        # Not a ban: a second later the source is answered again.
        time.sleep(1.0)
        self.assertGreaterEqual(self.burst(srv, "127.0.5.1", 10), 10)
        self.assertEqual(srv.log_lines(r"security: ban src=127\.0\.5\.1 "), [])
