"""13. The SIP registrar against the real daemon: SIPp and a raw Python
client (sipclient.py) over UDP, TCP and TLS; digest with MD5 and SHA-256,
replays, one answer for every bad credential, expiry and contact rules,
OPTIONS, keep-alives, UDP retransmissions, hostile input, TLS versions,
ciphers, the handshake deadline and certificate reload, and bindings kept
across a restart.

Each class runs one deployment (tenant acme, domain acme.example.com,
extensions with chosen passwords) and one daemon on free loopback ports;
its teardown stops the daemon and fails on a non-zero exit or a sanitizer
report, so a crash anywhere in the class shows.
"""

import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import sipclient
from helpers import (
    ROOT,
    TENANT,
    TENANT_DOMAIN,
    Deployment,
    SwTestCase,
    log,
    run,
    strong_password,
)
from sipclient import Closed, Phone, Tcp, Tls, Udp

SIPP_DIR = os.path.join(ROOT, "tests", "sipp")
MEDIA_LO, MEDIA_HI = 30000, 31000
APPLIED = r"changes: applied (\d+) \(seq (\d+)\.\.(\d+)\); (\d+) extensions in memory"
TO_TAG = re.compile(r";tag=([0-9A-Za-z.~!%*_+`'-]+)")
STORE_POLL_S = 2.0  # the store writer is asynchronous


# ---- deployment with SIP listeners ----


def conf_set(path, section, key, value):
    """Sets key = value in [section] of the INI file at path (the line is
    replaced in place, or added at the end of the section)."""
    with open(path) as f:
        lines = f.read().split("\n")
    cur, last_in_section, done = None, None, False
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            cur = s[1:-1].strip()
            if cur == section:
                last_in_section = i
            continue
        if cur == section:
            if s and not s.startswith((";", "#")):
                last_in_section = i
            k = s.split("=", 1)[0].strip()
            if "=" in s and k == key and not done:
                lines[i] = "%s = %s" % (key, value)
                done = True
    if not done:
        if last_in_section is None:
            lines += ["", "[%s]" % section, "%s = %s" % (key, value)]
        else:
            lines.insert(last_in_section + 1, "%s = %s" % (key, value))
    with open(path, "w") as f:  # in place: owner and mode stay
        f.write("\n".join(lines))


def free_port(udp_and_tcp=True, taken=()):
    while True:
        p = sipclient.free_port(udp_and_tcp)
        if not (MEDIA_LO <= p <= MEDIA_HI) and p not in taken:
            return p


def free_even_pair():
    """An even UDP port p with p and p + 2 free (SIPp's media ports)."""
    for _ in range(200):
        p = free_port(False)
        p -= p % 2
        ok = True
        for q in (p, p + 2):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok and not (MEDIA_LO <= p <= MEDIA_HI + 2):
            return p
    raise AssertionError("no free even port pair")


class SipServer:
    """A deployment with UDP and TCP on one port, TLS on another, and the
    daemon running. exts: extension numbers; each gets a chosen password
    (self.pw[number])."""

    def __init__(self, exts, digest="md5,sha256"):
        self.d = Deployment()
        try:
            self.d.tenant()
            # The tests need both challenges, MD5 first (SIPp answers the
            # first one only): set it, whatever the default is.
            self.d.ok("tenant", "set", TENANT, "digest=" + digest)
            self.pw = {}
            for n in exts:
                self.pw[n] = self.d.add_ext(n, password=strong_password())
            self.port = free_port(True)
            self.tls_port = free_port(False, taken=(self.port,))
            self.portal_port = free_port(False, taken=(self.port, self.tls_port))
            self.configure()
            self.daemon = None
            self.start()
        except BaseException:
            self.d.cleanup()
            raise

    def configure(self):
        c = self.d.conf
        conf_set(c, "sip", "udp", "127.0.0.1:%d" % self.port)
        conf_set(c, "sip", "tcp", "127.0.0.1:%d" % self.port)
        conf_set(c, "sip", "tls", "127.0.0.1:%d" % self.tls_port)
        conf_set(c, "media", "ports", "%d-%d" % (MEDIA_LO, MEDIA_HI))
        conf_set(c, "portal", "listen", "127.0.0.1:%d" % self.portal_port)
        # Loopback is every test's source: never banned nor rate-limited
        # (the tests make many failed authentications on purpose).
        conf_set(c, "guard", "allow", "127.0.0.0/8")

    def start(self):
        self.daemon = self.d.start_daemon()
        self.daemon.wait_for(r"SIP listening on", 60)
        return self.daemon

    def stop(self):
        """Stops the daemon; raises on a non-zero exit or a sanitizer
        report."""
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

    def ext_id(self, number):
        return self.d.query("SELECT id FROM extensions WHERE number = ?", (number,))[0][0]

    def bindings(self, number):
        rows = self.d.query(
            "SELECT contact, transport, source, user_agent, expires_us, node, "
            "call_id, cseq FROM bindings WHERE extension_id = ? ORDER BY contact",
            (self.ext_id(number),),
        )
        keys = ("contact", "transport", "source", "user_agent", "expires_us", "node", "call_id", "cseq")
        return [dict(zip(keys, r)) for r in rows]

    def poll_bindings(self, number, pred, timeout=STORE_POLL_S):
        """Polls the store until pred(bindings) holds; returns the last
        bindings seen and whether pred held."""
        deadline = time.monotonic() + timeout
        while True:
            b = self.bindings(number)
            if pred(b):
                return b, True
            if time.monotonic() >= deadline:
                return b, False
            time.sleep(0.05)


class SipTestCase(SwTestCase):
    """One SipServer per class; every answer any connection receives is
    checked after each test (no Server or User-Agent header)."""

    EXTS = ("1001",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = SipServer(cls.EXTS)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            super().tearDownClass()

    def setUp(self):
        self.answers = []
        self.conns = []
        self.addCleanup(self._check_answers)
        self.addCleanup(self._close_conns)

    def _close_conns(self):
        for c in self.conns:
            c.close()

    def _check_answers(self):
        for m in self.answers:
            for h in ("Server", "User-Agent"):
                self.assertFalse(m.has(h), "an answer carries %s:\n%r" % (h, m.raw))
        if self.srv.daemon is not None:
            self.assertTrue(
                self.srv.daemon.alive(),
                "the daemon died; its log:\n" + self.srv.daemon.text()[-6000:],
            )

    def _keep(self, c):
        c.on_message = self.answers.append
        self.conns.append(c)
        return c

    def udp(self):
        return self._keep(Udp(self.srv.addr))

    def tcp(self):
        return self._keep(Tcp(self.srv.addr))

    def tls(self, **kw):
        return self._keep(Tls(self.srv.tls_addr, **kw))

    def conn(self, transport):
        return {"udp": self.udp, "tcp": self.tcp, "tls": self.tls}[transport]()

    def phone(self, conn, number, password=None, **kw):
        if password is None:
            password = self.srv.pw[number]
        return Phone(conn, number, password, TENANT_DOMAIN, **kw)

    def assertStatus(self, msg, status, what=""):
        self.assertIsNotNone(msg, "%s: no answer" % what)
        self.assertEqual(msg.status, status, "%s: answer\n%s" % (what, msg.raw.decode("latin-1")))

    def assertToTag(self, msg, req=None):
        """The To header of msg is the request's plus a tag."""
        tag = msg.to_tag()
        self.assertTrue(tag, "no To tag in\n%s" % msg.raw.decode("latin-1"))
        if req is not None:
            self.assertEqual(msg.get("To"), req.get("To") + ";tag=" + tag)

    def options_ok(self, what=""):
        """A good OPTIONS over UDP and over a new TCP connection: 200."""
        for conn in (self.udp(), self.tcp()):
            p = self.phone(conn, self.EXTS[0])
            r = p.send(p.request("OPTIONS"))
            self.assertStatus(r, 200, "OPTIONS over %s after %s" % (conn.transport, what))
            conn.close()


def contact_expires(resp, uri):
    for u, params in resp.contacts():
        if u == uri:
            return int(params["expires"])
    return None


# ---- 1, 2: SIPp ----


class TestSipp(SipTestCase):
    EXTS = ("1001", "1002", "1003")

    def sipp(self, scenario, transport, number, password, pause_after_200_ms=None):
        """Runs SIPp once (one call) with scenario; returns (Popen, its
        work folder). pause_after_200_ms inserts a pause after the first
        200 of the scenario (a copy of it), to look at the store between
        the registration and the un-registration."""
        work = tempfile.mkdtemp(prefix="sw-sipp-")
        self.addCleanup(shutil.rmtree, work, True)
        src = os.path.join(SIPP_DIR, scenario)
        if pause_after_200_ms is not None:
            with open(src) as f:
                xml = f.read()
            i = xml.index('<recv response="200">')
            j = xml.index("<send", i)
            xml = xml[:j] + '<pause milliseconds="%d"/>\n  ' % pause_after_200_ms + xml[j:]
            src = os.path.join(work, "scenario.xml")
            with open(src, "w") as f:
                f.write(xml)
        with open(os.path.join(work, "users.csv"), "w") as f:
            f.write("SEQUENTIAL\n%s;%s;%s\n" % (number, TENANT_DOMAIN, password))
        self.sipp_port = free_port(True, taken=(self.srv.port,))
        mp = free_even_pair()
        cp = free_port(False)
        args = [
            "sipp",
            "127.0.0.1:%d" % self.srv.port,
            "-sf", src,
            "-inf", os.path.join(work, "users.csv"),
            "-m", "1", "-l", "1",
            "-nostdin",
            "-t", {"udp": "u1", "tcp": "t1"}[transport],
            "-i", "127.0.0.1",
            "-p", str(self.sipp_port),
            "-mp", str(mp),
            "-cp", str(cp),
            "-timeout", "20s", "-timeout_error",
            "-trace_msg", "-message_file", os.path.join(work, "messages.log"),
            "-trace_err", "-error_file", os.path.join(work, "errors.log"),
        ]
        if shutil.which("sipp") is None:
            self.fail("sipp is missing (apt-get install sip-tester)")
        p = subprocess.Popen(args, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return p, work

    def sipp_wait(self, p, work):
        try:
            _, err = p.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            self.fail("sipp did not finish within 40s")
        logs = ""
        for name in ("messages.log", "errors.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    logs += "--- %s\n%s\n" % (name, f.read()[-6000:])
        return p.returncode, err.decode("utf-8", "replace") + logs

    def register_with_sipp(self, transport, number):
        pw = self.srv.pw[number]
        # The repository's scenario as it is: passes.
        rc, out = self.sipp_wait(*self.sipp("register.xml", transport, number, pw))
        self.assertEqual(rc, 0, "sipp register.xml over %s failed:\n%s" % (transport, out))
        b, ok = self.srv.poll_bindings(number, lambda b: b == [])
        self.assertTrue(ok, "bindings left after the un-registration: %r" % b)

        # The same with a pause after the 200: the binding is in the store
        # meanwhile, and gone after the un-registration.
        t0 = time.time()
        p, work = self.sipp("register.xml", transport, number, pw, pause_after_200_ms=2500)
        contact = "sip:%s@127.0.0.1:%d;transport=%s" % (number, self.sipp_port, transport.upper())
        b, ok = self.srv.poll_bindings(number, lambda b: len(b) == 1, timeout=2.4)
        rc, out = self.sipp_wait(p, work)
        self.assertTrue(ok, "no binding in the store while registered: %r\n%s" % (b, out))
        row = b[0]
        self.assertEqual(row["transport"], transport)
        self.assertEqual(row["contact"], contact)
        self.assertEqual(row["source"], "127.0.0.1:%d" % self.sipp_port)
        self.assertEqual(row["user_agent"], "sipp-test")
        self.assertAlmostEqual(row["expires_us"] / 1e6, t0 + 300, delta=10)
        self.assertEqual(rc, 0, "sipp (with a pause) over %s failed:\n%s" % (transport, out))
        b, ok = self.srv.poll_bindings(number, lambda b: b == [])
        self.assertTrue(ok, "the binding is still in the store after the un-registration: %r" % b)

        # What `ext show` says about it.
        deadline = time.monotonic() + STORE_POLL_S
        while True:
            e = self.srv.d.ok_json("ext", "show", TENANT, number)
            if e.get("last_source") == "127.0.0.1:%d" % self.sipp_port or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(e["last_source"], "127.0.0.1:%d" % self.sipp_port, e)
        self.assertEqual(e["last_user_agent"], "sipp-test", e)
        seen = self.assertRFC3339(e["last_registered"], "last_registered")
        self.assertLess(abs(seen.timestamp() - time.time()), 30, e)

    def test_register_udp(self):
        self.register_with_sipp("udp", "1001")

    def test_register_tcp(self):
        self.register_with_sipp("tcp", "1002")

    def test_register_wrong_password(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                wrong = strong_password()
                rc, out = self.sipp_wait(*self.sipp("register_wrong.xml", transport, "1003", wrong))
                self.assertEqual(rc, 0, "register_wrong.xml over %s did not get its 403:\n%s" % (transport, out))
                self.assertIn("403", out)
        self.assertEqual(self.srv.bindings("1003"), [])
        e = self.srv.d.ok_json("ext", "show", TENANT, "1003")
        self.assertIsNone(e["last_registered"], e)


# ---- 3-7: the registrar with a raw client ----


class TestRegistrar(SipTestCase):
    EXTS = ("1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009", "1010", "1011", "1012")

    def test_refresh_written_only_when_needed(self):
        """A refresh that changes only the expiry (same Call-ID, source,
        transport) is not written to the store while the stored expiry
        covers 3/4 of the interval; the answer still shows the new expiry.
        From another source it is written at once."""
        conn = self.udp()
        p = self.phone(conn, "1012")
        self.assertStatus(p.register(expires=300), 200)
        b, ok = self.srv.poll_bindings("1012", lambda b: len(b) == 1)
        self.assertTrue(ok, b)
        first = b[0]
        time.sleep(1.2)
        r = p.register(expires=300)
        self.assertStatus(r, 200)
        self.assertGreaterEqual(contact_expires(r, conn.contact_uri("1012")), 299)
        time.sleep(0.5)  # what the store writer would have written by now
        b = self.srv.bindings("1012")
        self.assertEqual((b[0]["expires_us"], b[0]["cseq"]), (first["expires_us"], first["cseq"]),
                         "a pure refresh was written")
        # The same phone from another port (NAT rebinding): written.
        conn2 = self.udp()
        p.conn = conn2
        self.assertStatus(p.register(expires=300, contacts=["<%s>" % conn.contact_uri("1012")]), 200)
        b, ok = self.srv.poll_bindings("1012", lambda b: b and b[0]["expires_us"] > first["expires_us"])
        self.assertTrue(ok, "a refresh from another source was not written: %r" % b)
        self.assertEqual(b[0]["source"], "127.0.0.1:%d" % conn2.local[1])
        self.assertStatus(p.register(expires=0, contacts=["<%s>" % conn.contact_uri("1012")]), 200)

    def test_challenge_then_sha256_and_md5(self):
        for transport, number in (("udp", "1001"), ("tcp", "1002")):
            with self.subTest(transport=transport):
                conn = self.conn(transport)
                p = self.phone(conn, number)
                req = p.request(expires=300)
                r = p.send(req)
                self.assertStatus(r, 401, "REGISTER without credentials")
                self.assertEqual(r.reason, "Unauthorized")
                self.assertToTag(r, req)
                self.assertEqual((r.get("Call-ID"), r.get("CSeq")), (req.get("Call-ID"), req.get("CSeq")))
                self.assertEqual(r.get("From"), req.get("From"))
                chs = r.challenges()
                self.assertEqual([c.get("algorithm") for c in chs], ["MD5", "SHA-256"], r.raw)
                for c, line in zip(chs, r.all("WWW-Authenticate")):
                    self.assertEqual(c["scheme"], "Digest")
                    self.assertEqual(c["realm"], TENANT_DOMAIN)
                    self.assertIn('qop="auth"', line)
                    self.assertIn('realm="%s"' % TENANT_DOMAIN, line)
                    self.assertTrue(c.get("nonce"), line)
                    self.assertNotIn("stale", c)
                contact = conn.contact_uri(number)

                # SHA-256, computed here with hashlib.
                p.take_challenge(r, "SHA-256")
                req = p.authorize(p.request(expires=300))
                self.assertIn("algorithm=SHA-256", req.get("Authorization"))
                r = p.send(req)
                self.assertStatus(r, 200, "REGISTER with a SHA-256 digest")
                self.assertToTag(r, req)
                exp = contact_expires(r, contact)
                self.assertIsNotNone(exp, "our Contact is not in the 200:\n%r" % r.raw)
                self.assertTrue(295 <= exp <= 300, exp)
                b, ok = self.srv.poll_bindings(number, lambda b: len(b) == 1)
                self.assertTrue(ok, b)
                self.assertEqual((b[0]["contact"], b[0]["transport"]), (contact, transport))

                # MD5, from a fresh challenge (another Call-ID).
                p2 = self.phone(conn, number)
                r = p2.send(p2.request(expires=600))
                self.assertStatus(r, 401)
                p2.take_challenge(r, "MD5")
                req = p2.authorize(p2.request(expires=600))
                self.assertIn("algorithm=MD5", req.get("Authorization"))
                r = p2.send(req)
                self.assertStatus(r, 200, "REGISTER with an MD5 digest")
                self.assertTrue(595 <= contact_expires(r, contact) <= 600, r.raw)

    def test_replay_and_tampered_nonce(self):
        for transport, number in (("udp", "1003"), ("tcp", "1004")):
            with self.subTest(transport=transport):
                conn = self.conn(transport)
                p = self.phone(conn, number)
                r = p.send(p.request())
                self.assertStatus(r, 401)
                first_nonce = p.take_challenge(r, "MD5")["nonce"]
                good = p.authorize(p.request())
                self.assertStatus(p.send(good), 200, "the first use of nc=1")

                # The same credentials again: the same bytes with a new Via
                # branch, and with CSeq + 1.
                again = good.copy().new_branch()
                r = p.send(again)
                self.assertStatus(r, 401, "a replay (same bytes, new branch)")
                self.assertNotIn("stale", r.challenges()[0])
                again = good.copy().new_branch()
                num, method = again.get("CSeq").split()
                again.set("CSeq", "%d %s" % (int(num) + 1, method))
                p.cseq = int(num) + 1
                r = p.send(again)
                self.assertStatus(r, 401, "a replay (CSeq + 1)")
                self.assertNotEqual(r.challenges()[0]["nonce"], first_nonce)

                # nc=2 with its own response: accepted, once.
                req = p.authorize(p.request())
                self.assertIn("nc=00000002", req.get("Authorization"))
                self.assertStatus(p.send(req), 200, "nc=2 with a fresh response")
                self.assertStatus(p.send(req.copy().new_branch()), 401, "nc=2 replayed")

                # One byte of the nonce changed (a valid digest over it).
                n = list(first_nonce)
                i = len(n) // 2
                n[i] = "A" if n[i] != "A" else "B"
                p.nonce = "".join(n)
                p.nc = 0
                req = p.authorize(p.request())
                r = p.send(req)
                self.assertStatus(r, 401, "a tampered nonce")
                chs = r.challenges()
                self.assertTrue(chs, "no fresh challenge")
                for c in chs:
                    self.assertNotIn(c["nonce"], (p.nonce, first_nonce))
                    self.assertNotIn("stale", c)
                # A stale nonce takes SIPD_NONCE_MAX_AGE (300 s) to make:
                # not tested here (the digest unit tests cover it).

    def test_one_answer_for_every_bad_credential(self):
        """Unknown user, disabled extension (right password), wrong
        password, another extension's credentials: 403, and the answers
        differ only in the To header (the AOR asked for and a random
        tag). Nothing here measures time."""
        d = self.srv.d
        # 1006 can register with its password before it is disabled.
        conn = self.tcp()
        p = self.phone(conn, "1006")
        self.assertStatus(p.register(), 200, "1006 before ext disable")
        mark = self.srv.daemon.count()
        d.ok("ext", "disable", TENANT, "1006")
        self.srv.daemon.wait_for(APPLIED, 10, start=mark)

        cases = [
            ("unknown user", "1999", None, strong_password()),
            ("disabled", "1006", None, self.srv.pw["1006"]),
            ("wrong password", "1005", None, strong_password()),
            # Right credentials of another extension: not for this AOR.
            ("another extension's credentials", "1005", "1001", self.srv.pw["1001"]),
        ]
        branch = sipclient.new_branch()
        call_id = sipclient.new_call_id()
        from_tag = sipclient.new_tag()
        answers = []
        conn = self.tcp()  # no retransmission cache on TCP
        for what, user, auth_user, pw in cases:
            p = Phone(conn, user, pw, TENANT_DOMAIN, auth_user=auth_user)
            r = p.send(p.request())
            self.assertStatus(r, 401, what + ": the challenge")
            p.take_challenge(r, "MD5")
            # Every header the answer echoes is the same for the three,
            # but the To (it names the user).
            p.call_id, p.from_tag = call_id, from_tag
            req = p.authorize(p.request(cseq=7, branch=branch))
            req.set("From", "<sip:1001@%s>;tag=%s" % (TENANT_DOMAIN, from_tag))
            r = p.send(req)
            self.assertStatus(r, 403, what)
            self.assertToTag(r, req)
            answers.append((what, r))
        stripped = []
        for what, r in answers:
            text = r.raw.decode("latin-1")
            # The To line of each (checked above) is the only one removed.
            lines = [l for l in text.split("\r\n") if not re.match(r"(?i)(to|t)\s*:", l)]
            self.assertEqual(len(lines), len(text.split("\r\n")) - 1, text)
            stripped.append("\r\n".join(lines))
        for (what, _), s in zip(answers[1:], stripped[1:]):
            self.assertEqual(s, stripped[0], "the %s answer differs from the unknown-user one" % what)
        tags = [r.to_tag() for _, r in answers]
        self.assertEqual(len(set(tags)), len(tags), "To tags repeat: %r" % tags)
        # Nothing registered for any of them.
        self.assertEqual(self.srv.bindings("1005"), [])
        d.ok("ext", "enable", TENANT, "1006")

    def test_expires_contacts_star_query_cseq(self):
        number = "1007"
        conn = self.udp()
        p = self.phone(conn, number)
        own = conn.contact_uri(number)

        r = p.register(expires=30)
        self.assertStatus(r, 423, "Expires: 30")
        self.assertEqual(r.get("Min-Expires"), "60")
        self.assertEqual(r.contacts(), [])
        self.assertEqual(self.srv.bindings(number), [])

        r = p.register(expires=99999)
        self.assertStatus(r, 200, "Expires: 99999")
        self.assertEqual(r.contacts(), [(own, {"expires": "3600"})])

        # Contact: * with Expires: 300 is refused; with Expires: 0 it
        # removes every binding.
        r = p.register(contacts=["*"], expires=300)
        self.assertStatus(r, 400, "Contact: * with Expires: 300")
        r = p.register(contacts=[], expires=None)
        self.assertEqual(r.contacts(), [(own, {"expires": "3600"})], "the refused Contact: * removed something")
        r = p.register(contacts=["*"], expires=0)
        self.assertStatus(r, 200, "Contact: *, Expires: 0")
        self.assertEqual(r.contacts(), [])
        b, ok = self.srv.poll_bindings(number, lambda b: b == [])
        self.assertTrue(ok, b)

        # Ten contacts in one REGISTER: all bound, all returned.
        ten = ["sip:%s@127.0.0.1:%d;transport=udp" % (number, 40000 + i) for i in range(10)]
        r = p.register(contacts=["<%s>" % c for c in ten], expires=120)
        self.assertStatus(r, 200, "ten contacts")
        got = sorted(u for u, _ in r.contacts())
        self.assertEqual(got, sorted(ten))
        for u, params in r.contacts():
            self.assertTrue(115 <= int(params["expires"]) <= 120, params)
        b, ok = self.srv.poll_bindings(number, lambda b: len(b) == 10)
        self.assertTrue(ok, "the store holds %d bindings, not 10" % len(b))

        # An eleventh, later: 403, and the ten stay.
        r = p.register(contacts=["<sip:%s@127.0.0.1:41000>" % number], expires=120)
        self.assertStatus(r, 403, "an 11th contact")
        r = p.register(contacts=[])
        self.assertStatus(r, 200, "a query")
        self.assertEqual(sorted(u for u, _ in r.contacts()), sorted(ten), "a query lists the bindings")

        # Refreshing one of the ten is no eleventh.
        r = p.register(contacts=["<%s>" % ten[0]], expires=200)
        self.assertStatus(r, 200, "a refresh at the limit")
        self.assertEqual(len(r.contacts()), 10)
        self.assertTrue(195 <= contact_expires(r, ten[0]) <= 200)

        # Out of order: the same Call-ID with a lower CSeq.
        cseq = p.cseq
        r = p.register(contacts=["<%s>" % ten[1]], expires=300)
        self.assertStatus(r, 200)
        p.cseq = cseq - 5
        r = p.send(p.authorize(p.request(contacts=["<%s>" % ten[1]], expires=400)))
        self.assertStatus(r, 500, "a lower CSeq with the same Call-ID")
        p.cseq = cseq + 10
        r = p.register(contacts=[])
        self.assertTrue(295 <= contact_expires(r, ten[1]) <= 300, "the out-of-order REGISTER changed the binding")

        # Contact: * with Expires: 0 and a lower CSeq: 500 too.
        p.cseq = cseq - 4
        r = p.send(p.authorize(p.request(contacts=["*"], expires=0)))
        self.assertStatus(r, 500, "Contact: * with a lower CSeq")
        p.cseq = cseq + 20
        r = p.register(contacts=["*"], expires=0)
        self.assertStatus(r, 200)
        self.assertEqual(r.contacts(), [])
        r = p.register(contacts=[])
        self.assertEqual(r.contacts(), [], "bindings left after Contact: *")
        b, ok = self.srv.poll_bindings(number, lambda b: b == [])
        self.assertTrue(ok, b)

    def test_too_many_contacts_in_one_register(self):
        """RFC 3261 10.3 step 7: a REGISTER's binding changes are made all
        or none. Eleven contacts in one REGISTER are refused, and none of
        them is bound."""
        number = "1009"
        conn = self.udp()
        p = self.phone(conn, number)
        eleven = ["<sip:%s@127.0.0.1:%d>" % (number, 42000 + i) for i in range(11)]
        r = p.register(contacts=eleven, expires=120)
        self.assertIsNotNone(r, "no answer to eleven contacts")
        self.assertNotEqual(r.status, 200, "eleven contacts accepted")
        self.assertIn(r.status, (400, 403), r.raw)
        r = p.register(contacts=[])
        self.assertStatus(r, 200, "a query")
        self.assertEqual(
            r.contacts(),
            [],
            "a refused REGISTER left %d bindings: its changes must be all or none" % len(r.contacts()),
        )

    def test_out_of_order_register_changes_nothing(self):
        """RFC 3261 10.3 step 7 again: a REGISTER that fails on an
        out-of-order CSeq for one of its contacts (500) adds none of the
        others."""
        number = "1010"
        conn = self.udp()
        p = self.phone(conn, number)
        a = "sip:%s@127.0.0.1:43001" % number
        b = "sip:%s@127.0.0.1:43002" % number
        p.cseq = 10
        self.assertStatus(p.register(contacts=["<%s>" % a], expires=300), 200)
        # The same Call-ID, a lower CSeq: b is new, a is out of order.
        p.cseq = 3
        r = p.send(p.authorize(p.request(contacts=["<%s>" % b, "<%s>" % a], expires=600)))
        self.assertStatus(r, 500, "a lower CSeq for a bound contact")
        p.cseq = 40
        r = p.register(contacts=[])
        self.assertStatus(r, 200, "a query")
        self.assertEqual(
            [u for u, _ in r.contacts()],
            [a],
            "the refused REGISTER (500) still bound its other contact",
        )
        self.assertTrue(295 <= contact_expires(r, a) <= 300, r.raw)

    def test_instance_refresh_at_the_limit(self):
        """A phone with +sip.instance and reg-id (RFC 5626) that comes back
        from a new address replaces its binding: at the limit of ten this
        is no eleventh binding."""
        number = "1011"
        conn = self.udp()
        p = self.phone(conn, number)
        inst = '+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000a011>";reg-id=1'
        nine = ["<sip:%s@127.0.0.1:%d>" % (number, 44000 + i) for i in range(9)]
        moved_from = "sip:%s@127.0.0.1:44100" % number
        moved_to = "sip:%s@127.0.0.1:44200" % number
        r = p.register(contacts=nine + ["<%s>;%s" % (moved_from, inst)], expires=300)
        self.assertStatus(r, 200, "ten contacts, one with an instance")
        self.assertEqual(len(r.contacts()), 10)
        r = p.register(contacts=["<%s>;%s" % (moved_to, inst)], expires=300)
        self.assertStatus(r, 200, "the instance from a new address, at the limit")
        uris = sorted(u for u, _ in r.contacts())
        self.assertEqual(len(uris), 10, r.raw)
        self.assertIn(moved_to, uris)
        self.assertNotIn(moved_from, uris)

    def test_options_ping_retransmission(self):
        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                conn = self.conn(transport)
                p = self.phone(conn, "1008")
                req = p.request("OPTIONS")
                r = p.send(req)
                self.assertStatus(r, 200, "OPTIONS")
                self.assertToTag(r, req)
                allow = [m.strip() for m in (r.get("Allow") or "").split(",")]
                for m in ("REGISTER", "OPTIONS"):
                    self.assertIn(m, allow, r.raw)

        # TCP: a double-CRLF ping gets one CRLF; the connection goes on.
        conn = self.tcp()
        conn.send(b"\r\n\r\n")
        self.assertEqual(conn.recv_raw(2, 2.0), b"\r\n", "no CRLF pong")
        self.assertEqual(conn.recv_raw(1, 0.3), b"", "more than one CRLF for one ping")
        p = self.phone(conn, "1008")
        self.assertStatus(p.send(p.request("OPTIONS")), 200, "OPTIONS after a ping")

        # UDP: a retransmission (same branch) gets the same bytes again,
        # for a 401 and for a 200; the 200 is not processed twice (the
        # nc was used once: a new branch would get a 401).
        conn = self.udp()
        p = self.phone(conn, "1008")
        data = p.request().bytes()
        r1 = conn.exchange(data)
        self.assertStatus(r1, 401)
        r2 = conn.exchange(data)
        self.assertEqual(r2.raw, r1.raw, "a retransmitted REGISTER got another 401")
        p.take_challenge(r1, "MD5")
        req = p.authorize(p.request())
        data = req.bytes()
        r1 = conn.exchange(data)
        self.assertStatus(r1, 200)
        r2 = conn.exchange(data)
        self.assertIsNotNone(r2)
        self.assertEqual(r2.raw, r1.raw, "a retransmitted authenticated REGISTER got another answer")
        self.assertStatus(conn.exchange(req.copy().new_branch().bytes()), 401, "the same nc, new branch")


# ---- 8: hostile input ----


class TestHostile(SipTestCase):
    EXTS = ("1001", "1002")

    def base(self, conn, method="OPTIONS", **kw):
        p = self.phone(conn, "1001")
        return p.request(method, **kw)

    def outcome(self, conn, data, timeout=1.5):
        """Sends data; returns the answer's status, "none" (nothing within
        timeout) or "closed" (TCP: closed without an answer)."""
        try:
            conn.send(data)
        except (BrokenPipeError, ConnectionResetError):
            return "closed"
        try:
            m = conn.recv(timeout)
        except Closed:
            return "closed"
        return "none" if m is None else m.status

    def hostile(self, name, make, udp, tcp, tcp_same_conn=True, timeout=1.0):
        """make(conn) -> bytes. udp, tcp: the accepted outcomes. Then a
        good OPTIONS must get 200 (UDP and a new TCP connection; and the
        same TCP connection when it is still open and tcp_same_conn)."""
        for transport, accepted in (("udp", udp), ("tcp", tcp)):
            if accepted is None:
                continue
            with self.subTest(case=name, transport=transport):
                conn = self.conn(transport)
                data = make(conn)
                got = self.outcome(conn, data, timeout)
                if os.environ.get("SW_SIP_VERBOSE"):
                    log("%s over %s: %r" % (name, transport, got))
                self.assertIn(got, accepted, "%s over %s: got %r" % (name, transport, got))
                if got == 400:
                    # A 400 copies what it could find of the request.
                    m = self.answers[-1]
                    for h in ("Via", "From", "To", "Call-ID", "CSeq"):
                        self.assertTrue(m.has(h), "the 400 lacks %s:\n%r" % (h, m.raw[:2000]))
                    cid = re.search(rb"\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]*)", data, re.I)
                    if cid is not None:
                        self.assertEqual(m.get("Call-ID"), cid.group(1).decode("latin-1").strip())
                if transport == "tcp" and tcp_same_conn and got not in ("closed", "none"):
                    p = self.phone(conn, "1001")
                    self.assertStatus(p.send(p.request("OPTIONS")), 200, "OPTIONS on the same connection after %s" % name)
                conn.close()
                self.options_ok(name)

    def test_truncated(self):
        def cut_before_cseq(conn):
            b = self.base(conn).bytes()
            return b[: b.index(b"CSeq")]

        def cut_at_half(conn):
            b = self.base(conn).bytes()
            return b[: len(b) // 2]

        def no_blank_line(conn):
            return self.base(conn).bytes()[:-2]

        # Without all of Via/From/To/Call-ID/CSeq: never answered. Over TCP
        # the rest may still come: the connection waits (and is closed
        # here by the client).
        self.hostile("cut at half", cut_at_half, ("none",), ("none",), False)
        self.hostile("cut before CSeq", cut_before_cseq, ("none",), ("none",), False)
        self.hostile("no blank line", no_blank_line, (400, "none"), ("none",), False)

    def test_oversized(self):
        def dgram_65000(conn):
            # A well-formed OPTIONS: header lines under 4,096 bytes each.
            r = self.base(conn)
            for i in range(17):
                r.add("X-Pad-%d" % i, "p" * 3700)
            b = r.bytes()
            fill = 65000 - len(b) - len("X-Fill: \r\n")
            self.assertTrue(0 < fill < 4000, fill)
            b = b[:-2] + b"X-Fill: " + b"f" * fill + b"\r\n\r\n"
            self.assertEqual(len(b), 65000)
            return b

        def dgram_65000_body(conn):
            r = self.base(conn)
            r.set("Content-Type", "text/plain")
            r.body = b""
            while len(r.bytes()) != 65000:
                r.body = b"b" * (len(r.body) + 65000 - len(r.bytes()))
            b = r.bytes()
            self.assertEqual(len(b), 65000)
            return b

        def stream_70000(conn):
            r = self.base(conn)
            b = r.bytes()
            pad = b"X-Pad: " + b"p" * 4000 + b"\r\n"
            return b[:-2] + pad * (70000 // len(pad) + 1) + b"\r\n"

        def body_70000(conn):
            r = self.base(conn)
            r.set("Content-Type", "text/plain")
            r.body = b"b" * 70000
            return r.bytes()

        self.hostile("65,000-byte datagram", dgram_65000, (200, 400, 413, 513, "none"), None)
        self.hostile("65,000-byte datagram, body", dgram_65000_body, (200, 400, 413, 513, "none"), None)
        self.hostile("70,000 bytes of headers", stream_70000, None, ("closed", 400, 413, 513), False)
        self.hostile("70,000-byte body", body_70000, None, ("closed", 400, 413, 513), False)

    def test_bad_content_length(self):
        def larger(conn):
            r = self.base(conn)
            r.set("Content-Type", "text/plain")
            r.set("Content-Length", "50")
            r.body = b"0123456789"
            return r.bytes()

        def non_numeric(conn):
            return self.base(conn).set("Content-Length", "abc").bytes()

        def negative(conn):
            return self.base(conn).set("Content-Length", "-1").bytes()

        def two_values(conn):
            return self.base(conn).set("Content-Length", "0").add("Content-Length", "5").bytes() + b"hello"

        # Over TCP a Content-Length that cannot be read loses the framing:
        # the connection is closed (after a 400 at best).
        self.hostile("Content-Length larger than the body", larger, (400, "none"), None)
        self.hostile("Content-Length: abc", non_numeric, (400,), (400, "closed"), False)
        self.hostile("Content-Length: -1", negative, (400,), (400, "closed"), False)
        self.hostile("two Content-Length values", two_values, (400,), (400, "closed"), False)

    def test_nul_bytes_and_control_characters(self):
        def nul_in_subject(conn):
            return self.base(conn, extra=[("Subject", "a\x00b")]).bytes()

        def nul_in_call_id(conn):
            r = self.base(conn)
            return r.set("Call-ID", "abc\x00def").bytes()

        def esc_in_header(conn):
            return self.base(conn, extra=[("Subject", "\x1b[31mred")]).bytes()

        self.hostile("NUL in a Subject", nul_in_subject, (400,), (400, "closed"), False)
        # The Call-ID cannot be copied as it is: no answer, or a 400.
        self.hostile("NUL in the Call-ID", nul_in_call_id, (400, "none"), (400, "closed", "none"), False)
        self.hostile("ESC in a header", esc_in_header, (400,), (400, "closed"), False)

    def test_many_headers_and_vias(self):
        def headers_10000(conn):
            return self.base(conn, extra=[("X", "y")] * 10000).bytes()

        def via_lines_1000(conn):
            r = self.base(conn)
            for i in range(999):
                r.add("Via", "SIP/2.0/UDP 10.0.%d.%d:5060;branch=z9hG4bK%d" % (i // 250, i % 250, i))
            return r.bytes()

        def via_values_1000(conn):
            r = self.base(conn)
            more = ",".join("SIP/2.0/UDP 10.0.%d.%d:5060;branch=z9hG4bK%d" % (i // 250, i % 250, i) for i in range(999))
            r.add("Via", more)
            return r.bytes()

        # 10,000 headers: past the parser's limit, the five can be found.
        self.hostile("10,000 headers", headers_10000, (400,), (400,))
        # A 400 must carry every Via: it may not fit; no answer is fine.
        self.hostile("1,000 Via lines", via_lines_1000, (400, "none"), (400, "none", "closed"))
        self.hostile("1,000 Via values in one line", via_values_1000, (400, "none"), (400, "none", "closed"))

    def test_invalid_utf8_and_versions(self):
        def display_name(conn):
            r = self.base(conn)
            r.set("From", '"Bad \udcff\udcfe\udcc3 Name" <sip:1001@%s>;tag=%s' % (TENANT_DOMAIN, sipclient.new_tag()))
            return r.bytes()

        def register_display_name(conn):
            r = self.base(conn, method="REGISTER")
            r.set("To", '"\udcc3(\udcff" <sip:1001@%s>' % TENANT_DOMAIN)
            return r.bytes()

        def response_reason(conn):
            return (
                b"SIP/2.0 200 \xff\xfe\xc3(\r\nVia: SIP/2.0/%s %s:%d;branch=z9hG4bKx\r\n"
                b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: r\r\n"
                b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                % (conn.transport.encode(), conn.local[0].encode(), conn.local[1])
            )

        def sip3(conn):
            r = self.base(conn)
            r.version = "SIP/3.0"
            return r.bytes()

        def garbage_no_headers(conn):
            return b"\x16\x03\x01 hello there\r\nnot: sip\r\n\r\n"

        def bad_request_line(conn):
            r = self.base(conn)
            b = r.bytes()
            return b"OPTIONS\r\n" + b[b.index(b"\r\n") + 2 :]

        self.hostile("invalid UTF-8 in a display name", display_name, (200, 400), (200, 400))
        self.hostile("invalid UTF-8 in the To display name", register_display_name, (401, 400), (401, 400))
        self.hostile("invalid UTF-8 in a reason phrase", response_reason, ("none",), ("none",))
        self.hostile("SIP/3.0", sip3, (505,), (505,))
        self.hostile("garbage without headers", garbage_no_headers, ("none",), ("none", "closed"), False)
        self.hostile("a broken request line", bad_request_line, (400,), (400, "closed"))

    def test_sip3_answer(self):
        conn = self.udp()
        req = self.base(conn)
        req.version = "SIP/3.0"
        r = conn.exchange(req.bytes())
        self.assertStatus(r, 505)
        self.assertToTag(r, req)
        self.assertEqual(r.get("Call-ID"), req.get("Call-ID"))

    def test_invalid_utf8_user_agent(self):
        """A phone's User-Agent that is not UTF-8 must not break what the
        store's readers print: `ext show --json` and `ext list --json`
        still show the extension (the registrar may drop, replace or
        refuse such a value)."""
        conn = self.udp()
        p = self.phone(conn, "1002")
        ua = "Phone \udcff\udcfe\udcc3( 1.0"
        r = p.register(extra=[("User-Agent", ua)])
        self.assertIsNotNone(r)
        self.assertIn(r.status, (200, 400), r.raw)
        deadline = time.monotonic() + STORE_POLL_S
        while time.monotonic() < deadline:
            (last,) = self.srv.d.query("SELECT last_registered_us FROM extensions WHERE number = '1002'")[0]
            if last or r.status != 200:
                break
            time.sleep(0.05)
        show = self.srv.d.cli("ext", "show", TENANT, "1002", "--json")
        self.assertEqual(show.rc, 0, show.describe())
        self.assertTrue(show.out.strip(), "`ext show --json` printed nothing:\n" + show.describe())
        e = show.json()
        self.assertEqual(e["extension"], "1002")
        self.assertTrue(e["last_user_agent"] is None or isinstance(e["last_user_agent"], str))
        lst = self.srv.d.cli("ext", "list", TENANT, "--json")
        self.assertEqual(lst.rc, 0, lst.describe())
        numbers = [x["extension"] for x in lst.json()]
        self.assertEqual(sorted(numbers), ["1001", "1002"], "`ext list --json` lost an extension:\n" + lst.describe())
        text = self.srv.d.cli("ext", "show", TENANT, "1002")
        self.assertEqual(text.rc, 0, text.describe())
        self.assertIn("1002", text.out, "`ext show` printed nothing:\n" + text.describe())

    def test_pipelined_tcp(self):
        conn0 = self.tcp()
        p = self.phone(conn0, "1001")
        a = p.request("REGISTER").bytes()
        b = p.request("OPTIONS").bytes()
        both = a + b
        conn0.close()

        def answers(conn, what):
            r1 = conn.recv(3.0)
            r2 = conn.recv(3.0)
            self.assertIsNotNone(r1, what + ": no first answer")
            self.assertIsNotNone(r2, what + ": no second answer")
            self.assertEqual((r1.status, r1.cseq()), (401, (1, "REGISTER")), what)
            self.assertEqual((r2.status, r2.cseq()), (200, (2, "OPTIONS")), what)
            self.assertEqual(conn.recv(0.1), None, what + ": a third answer")

        # One write.
        conn = self.tcp()
        conn.send(both)
        answers(conn, "one write")
        conn.close()

        # Byte by byte on one connection.
        conn = self.tcp()
        for i in range(len(both)):
            conn.send(both[i : i + 1])
            if i % 4 == 3:
                time.sleep(0.001)
        answers(conn, "byte by byte")
        conn.close()

        # Split at one position, on fresh connections: the edges of the
        # two messages and a sample of the rest.
        rnd = random.Random(13)
        n = len(a)
        fixed = [1, 2, n - 4, n - 3, n - 2, n - 1, n, n + 1, n + 2, len(both) - 1]
        sample = sorted(set(fixed + rnd.sample(range(3, len(both) - 1), 20 - len(fixed))))
        for pos in sample:
            conn = self.tcp()
            conn.send(both[:pos])
            time.sleep(0.02)
            conn.send(both[pos:])
            answers(conn, "split at %d of %d" % (pos, len(both)))
            conn.close()


# ---- 9: TLS ----


class TestTls(SipTestCase):
    EXTS = ("1001", "1002")

    def cafile(self):
        return os.path.join(self.srv.d.dir, "tls", "cert.pem")

    def verified(self):
        """A TLS connection that checks the deployment's certificate and
        its name."""
        ctx = sipclient.tls_context(cafile=self.cafile())
        return self.tls(ctx=ctx, server_hostname="pbx.example.com")

    def test_register_over_tls(self):
        conn = self.verified()
        self.assertIn(conn.sock.version(), ("TLSv1.2", "TLSv1.3"))
        p = self.phone(conn, "1001")
        r = p.register(expires=300)
        self.assertStatus(r, 200, "REGISTER over TLS")
        contact = conn.contact_uri("1001")
        self.assertIsNotNone(contact_expires(r, contact), r.raw)
        b, ok = self.srv.poll_bindings("1001", lambda b: len(b) == 1)
        self.assertTrue(ok, b)
        self.assertEqual((b[0]["transport"], b[0]["contact"]), ("tls", contact))
        self.assertStatus(p.send(p.request("OPTIONS")), 200)
        conn.send(b"\r\n\r\n")
        self.assertEqual(conn.recv_raw(2, 2.0), b"\r\n", "no CRLF pong over TLS")
        r = p.register(expires=0)
        self.assertStatus(r, 200, "un-REGISTER over TLS")

    def test_old_versions_and_ciphers_refused(self):
        old = "DEFAULT:@SECLEVEL=0"  # lets this client offer them at all
        for name, maxv in (("TLS 1.1", ssl.TLSVersion.TLSv1_1), ("TLS 1.0", ssl.TLSVersion.TLSv1)):
            with self.subTest(version=name):
                ctx = sipclient.tls_context(minimum=ssl.TLSVersion.TLSv1, maximum=maxv, ciphers=old)
                with self.assertRaises(ssl.SSLError) as cm:
                    Tls(self.srv.tls_addr, ctx).close()
                self.assertNotIn("NO_PROTOCOLS_AVAILABLE", str(cm.exception), "the client refused, not the server")
                self.assertRegex(str(cm.exception), r"PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION")
        # The same client, up to TLS 1.2: accepted (the refusal above is
        # the version's).
        ctx = sipclient.tls_context(minimum=ssl.TLSVersion.TLSv1, maximum=ssl.TLSVersion.TLSv1_2, ciphers=old)
        c = Tls(self.srv.tls_addr, ctx)
        self.assertEqual(c.sock.version(), "TLSv1.2")
        c.close()

        for suite in ("AES128-GCM-SHA256", "AES256-SHA256", "AES128-SHA"):
            with self.subTest(cipher=suite):
                ctx = sipclient.tls_context(maximum=ssl.TLSVersion.TLSv1_2, ciphers=suite + ":@SECLEVEL=0")
                with self.assertRaises(ssl.SSLError) as cm:
                    Tls(self.srv.tls_addr, ctx).close()
                self.assertIn("HANDSHAKE_FAILURE", str(cm.exception))
        ctx = sipclient.tls_context(maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
        c = Tls(self.srv.tls_addr, ctx)
        self.assertEqual(c.sock.cipher()[0], "ECDHE-ECDSA-AES128-GCM-SHA256")
        c.close()

    def test_silent_client_closed_at_handshake_deadline(self):
        """A client that connects and sends nothing is closed within the
        handshake deadline (10 s; 15 s allowed here)."""
        s = socket.create_connection(self.srv.tls_addr, timeout=5)
        self.addCleanup(s.close)
        t0 = time.monotonic()
        s.settimeout(15.0)
        try:
            data = s.recv(1)
        except socket.timeout:
            self.fail("the server kept a silent connection open for 15 s")
        except ConnectionResetError:
            data = b""
        took = time.monotonic() - t0
        log("a silent TLS client was closed after %.1fs" % took)
        self.assertEqual(data, b"", "the server sent something to a silent client")
        self.assertLessEqual(took, 15.0)

    def test_sighup_new_certificate(self):
        old_der = ssl.PEM_cert_to_DER_cert(open(self.cafile()).read())
        before = self.verified()
        self.assertEqual(before.peer_cert(), old_der)
        p = self.phone(before, "1002")
        self.assertStatus(p.send(p.request("OPTIONS")), 200)

        # A new certificate and key from another `sipwarden init`.
        other = tempfile.mkdtemp(prefix="sw-it-cert-")
        self.addCleanup(shutil.rmtree, other, True)
        r = run(["init", other, "--domain", "pbx.example.com"])
        self.assertEqual(r.rc, 0, r.describe())
        for name in ("cert.pem", "key.pem"):
            shutil.copyfile(os.path.join(other, "tls", name), os.path.join(self.srv.d.dir, "tls", name))
        new_der = ssl.PEM_cert_to_DER_cert(open(self.cafile()).read())
        self.assertNotEqual(new_der, old_der)
        mark = self.srv.daemon.count()
        self.srv.daemon.send(signal.SIGHUP)
        self.srv.daemon.wait_for(r"reload: config and keys reloaded", 10, start=mark)

        # A new connection gets the new certificate (and verifies with it).
        after = self.verified()
        self.assertEqual(after.peer_cert(), new_der, "a new connection still gets the old certificate")
        p2 = self.phone(after, "1002")
        self.assertStatus(p2.register(), 200, "REGISTER on a connection made after the reload")
        # The connection made before keeps working, on its old certificate.
        self.assertStatus(p.send(p.request("OPTIONS")), 200, "OPTIONS on a connection older than the reload")
        self.assertEqual(before.peer_cert(), old_der)


# ---- 10: restart ----


class TestRestart(SipTestCase):
    EXTS = ("1001", "1002")

    def test_bindings_survive_restart(self):
        conn = self.udp()
        p1 = self.phone(conn, "1001")
        self.assertStatus(p1.register(expires=3600), 200)
        p2 = self.phone(conn, "1002")
        two = ["sip:1002@127.0.0.1:%d;transport=udp" % port for port in (45001, 45002)]
        self.assertStatus(p2.register(contacts=["<%s>" % c for c in two], expires=1800), 200)
        b1, ok1 = self.srv.poll_bindings("1001", lambda b: len(b) == 1)
        b2, ok2 = self.srv.poll_bindings("1002", lambda b: len(b) == 2)
        self.assertTrue(ok1 and ok2, (b1, b2))

        first = self.srv.daemon
        self.srv.stop()
        self.assertRegex(first.text(), r"clean exit")
        # In the store while the daemon is down.
        self.assertEqual(len(self.srv.bindings("1001")) + len(self.srv.bindings("1002")), 3)

        daemon = self.srv.start()
        i, m, _ = daemon.wait_for(r"registrar: (\d+) bindings restored", 30)
        self.assertEqual(int(m.group(1)), 3, daemon.lines[i][1])

        # The registrar answers from what it restored.
        conn = self.udp()
        q = self.phone(conn, "1002")
        r = q.register(contacts=[])
        self.assertStatus(r, 200, "a query after the restart")
        self.assertEqual(sorted(u for u, _ in r.contacts()), sorted(two))
        for u, params in r.contacts():
            self.assertTrue(1700 <= int(params["expires"]) <= 1800, params)
        q1 = self.phone(conn, "1001")
        r = q1.register(contacts=[])
        self.assertEqual([u for u, _ in r.contacts()], [b1[0]["contact"]])


if __name__ == "__main__":
    unittest.main()
