"""Scanners (issue item 2) against the real daemon: SIPVicious (the Debian
package sipvicious: svwar, svcrack, svmap) and raw requests with a
scanner's User-Agent or for a domain that is no tenant's.

Each tool runs three times, so that a result means something:
- against LeakyPBX, a reference server in this file that leaks what a
  careless PBX leaks (404 for unknown users, a Server header): the tool
  finds what there is to find, so it works here;
- against sipwarden with the guard off and stealth off ([guard] enabled =
  off): it gets answers, and still learns nothing (one answer for every
  user, no Server header);
- against sipwarden as shipped: its requests are dropped unanswered and
  counted toward a ban.

The tools run through a small wrapper (SVRUN below) that only sets the
source address of their sockets (svcrack ignores -b), so that each run
has a loopback address of its own (127.0.6.x ...), and, for svcrack only
where said, fixes its digest nonce-count: svcrack counts nc across
nonces and writes it in decimal (nc=00000060 on a fresh nonce at the 60th
password), which sipwarden answers as stale (no state for that nonce with
nc > 1: a replay cannot be told apart), so the stock tool cannot log in
even with the right password and the guard off.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

from helpers import TENANT_DOMAIN, SwTestCase, log
from sipclient import Request, SipMessage, new_call_id, new_tag
from test_guard_policy import GuardServer, status, transact, udp_from
from test_sip_register import free_port

REAL = ["2%03d" % i for i in range(10, 20)]  # 10 real extensions
RANGE = "2000-2049"  # the range the scans try: it holds the 10
PHONE_UA = "Yealink SIP-T46U 108.86.0.20"

SVRUN = r'''
import importlib, os, socket, sys
sys.path.insert(0, "/usr/share/sipvicious")
SRC = os.environ.get("SV_SOURCE")
if SRC:
    _bind = socket.socket.bind
    def bind(self, addr):
        if isinstance(addr, tuple) and addr[0] in ("", "0.0.0.0"):
            addr = (SRC,) + tuple(addr[1:])
        return _bind(self, addr)
    socket.socket.bind = bind
from sipvicious.libs import svhelper
tool = sys.argv[1]
mod = importlib.import_module("sipvicious." + tool)
if os.environ.get("SV_NC_PER_NONCE"):
    _cr = svhelper.challengeResponse
    def challengeResponse(auth, method, uri):
        auth = dict(auth)
        auth["noncecount"] = 1  # each attempt answers a fresh nonce
        return _cr(auth, method, uri)
    svhelper.challengeResponse = challengeResponse
if os.environ.get("SV_USER_AGENT"):
    _mr = svhelper.makeRequest
    def makeRequest(*a, **kw):
        kw["useragent"] = os.environ["SV_USER_AGENT"]
        return _mr(*a, **kw)
    mod.makeRequest = makeRequest
sys.argv = [tool] + sys.argv[2:]
sys.exit(mod.main())
'''


def require_sipvicious():
    if not os.path.isfile("/usr/share/sipvicious/sipvicious/svwar.py"):
        raise AssertionError("sipvicious is missing (apt-get install sipvicious)")


class LeakyPBX:
    """A UDP SIP responder that leaks: 401/407/200 for its users, 404 for
    the others, and a Server header with a product and version."""

    SERVER = "LeakyPBX 1.2.3"

    def __init__(self, users):
        self.users = set(users)
        self.port = free_port(True)
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.raw.bind(("127.0.0.1", self.port))
        self.raw.settimeout(0.1)
        self.stopping = False
        self.answered = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                data, peer = self.raw.recvfrom(65536)
            except OSError:
                continue
            try:
                m = SipMessage(data)
            except ValueError:
                continue
            if not m.is_request or m.method == "ACK":
                continue
            uri = m.get("To") if m.method == "REGISTER" else m.ruri
            mm = re.search(r"sip:([^@;>]+)@", uri or "")
            user = mm.group(1) if mm else ""
            extra = []
            if user not in self.users:
                code, reason = 404, "Not Found"
            elif m.method == "REGISTER":
                code, reason = 401, "Unauthorized"
                extra.append('WWW-Authenticate: Digest realm="leaky", nonce="%s"' % new_tag())
            elif m.method == "INVITE":
                code, reason = 407, "Proxy Authentication Required"
                extra.append('Proxy-Authenticate: Digest realm="leaky", nonce="%s"' % new_tag())
            else:
                code, reason = 200, "OK"
            lines = ["SIP/2.0 %d %s" % (code, reason)]
            lines += ["Via: " + v for v in m.all("Via")]
            lines += ["From: " + m.get("From"), "To: %s;tag=%s" % (m.get("To"), new_tag()),
                      "Call-ID: " + m.get("Call-ID"), "CSeq: " + m.get("CSeq"),
                      "Server: " + self.SERVER] + extra + ["Content-Length: 0"]
            self.raw.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), peer)
            self.answered += 1

    def close(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.raw.close()


class SipviciousCase(SwTestCase):
    def setUp(self):
        require_sipvicious()
        self.work = tempfile.mkdtemp(prefix="sw-sv-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.work]))
        self.runner = os.path.join(self.work, "svrun.py")
        with open(self.runner, "w") as f:
            f.write(SVRUN)

    def tool(self, name, args, source, env=None, timeout=60):
        """Runs a SIPVicious tool from source; returns its output."""
        e = dict(os.environ)
        e["SV_SOURCE"] = source
        e["HOME"] = self.work  # its session files, if any
        e.update(env or {})
        p = subprocess.run(
            [sys.executable, self.runner, name] + list(args) + ["-P", str(free_port(True)), "-x", source],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, env=e, cwd=self.work,
        )
        out = p.stdout.decode("utf-8", "replace")
        self.assertNotIn("Traceback", out, out[-3000:])
        return out


def found_exts(out):
    """The extensions svwar reports (its result table)."""
    return sorted(set(re.findall(r"^\|\s*(\d+)\s*\|\s*(?:reqauth|noauth|weird)", out, re.M)))


class TestSvwar(SipviciousCase):
    METHODS = ("REGISTER", "INVITE", "OPTIONS")

    def svwar(self, port, method, source, domain=TENANT_DOMAIN):
        return self.tool("svwar", ["-m", method, "-e" + RANGE, "-p", str(port), "--domain", domain,
                                   "--force", "--debug", "--maximumtime=2", "127.0.0.1"], source)

    def test_svwar_finds_nothing(self):
        # The tool works: against a leaky server it finds the 10.
        leaky = LeakyPBX(REAL)
        self.addCleanup(leaky.close)
        for method in self.METHODS:
            out = self.svwar(leaky.port, method, "127.0.6.1")
            self.assertEqual(found_exts(out), REAL, "svwar -m %s against LeakyPBX:\n%s" % (method, out[-3000:]))

        # sipwarden with the guard and stealth off: answers, nothing found.
        off = GuardServer(exts=REAL, guard={"enabled": "off", "stealth": "off"})
        self.addCleanup(off.cleanup)
        for method in self.METHODS:
            out = self.svwar(off.port, method, "127.0.6.2")
            answers = out.count("b'SIP/2.0 ")
            log("svwar -m %s, guard off: %d answers, found %r" % (method, answers, found_exts(out)))
            self.assertGreaterEqual(answers, 2, "svwar got no answers with the guard off:\n" + out[-3000:])
            if method == "OPTIONS":
                self.assertGreaterEqual(answers, 51, out[-3000:])  # every one
            self.assertEqual(found_exts(out), [], "svwar -m %s found extensions:\n%s" % (method, out[-3000:]))
            self.assertNotIn("Server:", out)

        # As shipped: no answer at all; each run's requests are counted.
        on = GuardServer(exts=REAL)
        self.addCleanup(on.cleanup)
        for i, method in enumerate(self.METHODS):
            src = "127.0.6.%d" % (10 + i)
            out = self.svwar(on.port, method, src)
            self.assertEqual(out.count("b'SIP/2.0 "), 0, out[-3000:])
            self.assertRegex(out, r"No server response|socket error: timed out")
            self.assertEqual(found_exts(out), [])
            on.daemon.wait_for(r"security: scanner src=%s reason=user-agent ua=friendly-scanner method=%s"
                               % (re.escape(src), method), 5)


class TestSvcrack(SipviciousCase):
    def dictionary(self, password):
        words = ["Pass-%03d-word" % i for i in range(100)]
        words[59] = password  # the 60th
        path = os.path.join(self.work, "words.txt")
        with open(path, "w") as f:
            f.write("\n".join(words) + "\n")
        return path

    def svcrack(self, srv, source, env=None):
        return self.tool("svcrack", ["-u", REAL[0], "-d", self.dictionary(srv.pw[REAL[0]]), "-p", str(srv.port),
                                     "--domain", TENANT_DOMAIN, "--maximumtime=3", "127.0.0.1"], source, env)

    def cracked(self, out, srv):
        return srv.pw[REAL[0]] in out

    def test_svcrack_banned_before_the_password(self):
        fixed = {"SV_NC_PER_NONCE": "1"}
        # The control: the guard off. The stock tool reaches the 60th
        # word but cannot log in (its nonce-count, see the module text);
        # with nc fixed it finds the password.
        off = GuardServer(exts=REAL, guard={"enabled": "off", "stealth": "off"})
        self.addCleanup(off.cleanup)
        out = self.svcrack(off, "127.0.7.1")
        self.assertFalse(self.cracked(out, off), out[-2000:])
        tried = len(off.log_lines(r"security: auth-failure src=127\.0\.7\.1 user=%s@" % REAL[0]))
        log("stock svcrack, guard off: %d wrong passwords tried, password not found (nc on a fresh nonce)" % tried)
        self.assertGreaterEqual(tried, 99, "the stock svcrack did not go through the list")
        out = self.svcrack(off, "127.0.7.2", fixed)
        self.assertTrue(self.cracked(out, off), "svcrack (nc fixed) did not find the password with the guard off:\n"
                        + out[-3000:])

        # As shipped. The stock tool: its first REGISTER is dropped.
        on = GuardServer(exts=REAL)
        self.addCleanup(on.cleanup)
        out = self.svcrack(on, "127.0.7.3", fixed)
        self.assertFalse(self.cracked(out, on), out[-2000:])
        on.daemon.wait_for(r"security: scanner src=127\.0\.7\.3 reason=user-agent", 5)
        # Disguised as a phone (a phone's User-Agent): banned after 5
        # wrong passwords, long before the 60th.
        out = self.svcrack(on, "127.0.7.4", dict(fixed, SV_USER_AGENT=PHONE_UA))
        self.assertFalse(self.cracked(out, on), out[-2000:])
        on.daemon.wait_for(r"security: ban src=127\.0\.7\.4 seconds=3600 reason=auth-failures", 5)
        tried = len(on.log_lines(r"security: auth-failure src=127\.0\.7\.4 "))
        log("svcrack disguised, guard on: banned after %d wrong passwords" % tried)
        self.assertEqual(tried, 5)


class TestSvmap(SipviciousCase):
    def svmap(self, port, source):
        return self.tool("svmap", ["-p", str(port), "--debug", "127.0.0.1"], source)

    def test_svmap_learns_no_product(self):
        leaky = LeakyPBX(REAL)
        self.addCleanup(leaky.close)
        out = self.svmap(leaky.port, "127.0.8.1")
        self.assertIn(LeakyPBX.SERVER, out, "svmap did not read the leaky server's product:\n" + out[-2000:])

        # Stealth off: svmap gets an answer (403: a scanner), and no
        # product or version in it.
        loud = GuardServer(exts=REAL, guard={"stealth": "off"})
        self.addCleanup(loud.cleanup)
        out = self.svmap(loud.port, "127.0.8.2")
        self.assertRegex(out, r"\|\s*127\.0\.0\.1:%d\s*\|\s*unknown\s*\|" % loud.port, out[-2000:])
        self.assertIn("SIP/2.0 403 Forbidden", out)
        for bad in ("Server:", "User-Agent:", "sipwarden", "Sipwarden"):
            self.assertNotIn(bad, out)

        # Stealth on (the default): nothing at all.
        quiet = GuardServer(exts=REAL)
        self.addCleanup(quiet.cleanup)
        out = self.svmap(quiet.port, "127.0.8.3")
        self.assertIn("found nothing", out)
        quiet.daemon.wait_for(r"security: scanner src=127\.0\.8\.3 reason=user-agent", 5)


class TestScannerRequests(SwTestCase):
    """Raw requests: a scanner's User-Agent and domains no tenant has are
    dropped with stealth on (and counted: 5 make a ban), answered as RFC
    3261 says with it off (403, 404). Each is sent once: every message
    counts, a retransmission too."""

    def options(self, conn, ua, ruri="sip:100@127.0.0.1"):
        return Request("OPTIONS", ruri, [
            ("Via", conn.via()), ("Max-Forwards", "70"),
            ("From", "<sip:100@127.0.0.1>;tag=%s" % new_tag()), ("To", "<%s>" % ruri),
            ("Call-ID", new_call_id()), ("CSeq", "1 OPTIONS"), ("User-Agent", ua),
        ])

    def register(self, conn, domain):
        return Request("REGISTER", "sip:" + domain, [
            ("Via", conn.via()), ("Max-Forwards", "70"),
            ("From", "<sip:1001@%s>;tag=%s" % (domain, new_tag())), ("To", "<sip:1001@%s>" % domain),
            ("Call-ID", new_call_id()), ("CSeq", "1 REGISTER"),
            ("Contact", "<sip:1001@%s:%d>" % conn.local),
        ])

    def once(self, conn, req, timeout=1.0):
        """Sends req once (no retransmission: each one counts); returns
        the answer or None."""
        conn.send(req)
        return conn.recv(timeout)

    def test_stealth_on(self):
        srv = GuardServer(exts=("1001",))
        self.addCleanup(srv.cleanup)
        s = udp_from(self, srv, "127.0.9.1")
        for ua in ("sipcli/v1.8", "VaxSIPUserAgent/3.1", "iWar", "sipsak 0.9.6", "smap 0.6.0"):
            self.assertIsNone(self.once(s, self.options(s, ua)), ua)
        # Peer text in the log: letters, digits and . _ - + only.
        srv.daemon.wait_for(r"security: scanner src=127\.0\.9\.1 reason=user-agent ua=VaxSIPUserAgent\?3\.1 "
                            r"method=OPTIONS", 5)
        line = srv.daemon.wait_for(r"security: ban src=127\.0\.9\.1 seconds=3600 reason=scanner", 5)[0]
        self.assertEqual(len(srv.log_lines(r"security: scanner src=127\.0\.9\.1 ")), 5)
        self.assertIn("ua=smap", srv.daemon.text().split("\n")[line - 1])

        # A domain no tenant has: REGISTER and INVITE dropped, counted.
        s = udp_from(self, srv, "127.0.9.2")
        for i in range(4):
            self.assertIsNone(self.once(s, self.register(s, "other.example.net")))
        srv.daemon.wait_for(r"security: scanner src=127\.0\.9\.2 reason=unknown-domain domain=other\.example\.net "
                            r"method=REGISTER", 5)
        inv = Request("INVITE", "sip:1001@127.0.0.1", [
            ("Via", s.via()), ("Max-Forwards", "70"), ("From", "<sip:999@127.0.0.1>;tag=%s" % new_tag()),
            ("To", "<sip:1001@127.0.0.1>"), ("Call-ID", new_call_id()), ("CSeq", "1 INVITE"),
            ("Contact", "<sip:999@%s:%d>" % s.local),
        ])
        self.assertIsNone(self.once(s, inv))
        srv.daemon.wait_for(r"security: scanner src=127\.0\.9\.2 reason=unknown-domain domain=127\.0\.0\.1 "
                            r"method=INVITE", 5)
        srv.daemon.wait_for(r"security: ban src=127\.0\.9\.2 seconds=3600 reason=unknown-domain", 5)
        # Another source with a phone's User-Agent: answered.
        s = udp_from(self, srv, "127.0.9.3")
        self.assertEqual(status(transact(s, self.options(s, PHONE_UA, "sip:" + TENANT_DOMAIN), 2.0)), 200)

    def test_stealth_off(self):
        srv = GuardServer(exts=("1001",), guard={"stealth": "off"})
        self.addCleanup(srv.cleanup)
        s = udp_from(self, srv, "127.0.9.11")
        r = self.once(s, self.options(s, "friendly-scanner"), 2.0)
        self.assertEqual(status(r), 403)
        self.assertFalse(r.has("Server") or r.has("User-Agent"), r.raw)
        r = self.once(s, self.register(s, "other.example.net"), 2.0)
        self.assertEqual(status(r), 404)
        srv.daemon.wait_for(r"security: scanner src=127\.0\.9\.11 reason=unknown-domain", 5)
        # Counted all the same: the fifth is answered and bans.
        for i in range(3):
            self.assertEqual(status(self.once(s, self.register(s, "other.example.net"), 2.0)), 404)
        srv.daemon.wait_for(r"security: ban src=127\.0\.9\.11 seconds=3600 reason=unknown-domain", 5)
        self.assertIsNone(self.once(s, self.register(s, "other.example.net")))
        srv.daemon.wait_for(r"security: ban src=127\.0\.9\.11 seconds=3600 reason=unknown-domain", 5)
