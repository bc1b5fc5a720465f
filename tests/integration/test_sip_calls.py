"""14. Calls between extensions through the B2BUA, against the real daemon:
SIPp callers and callees over UDP (and the basic call over TCP), a raw
Python client for what no phone sends, and two baresip phones over TLS.

One deployment and one daemon for the class (tenant acme, domain
acme.example.com, digest md5: the only algorithm SIPp and baresip answer;
a second tenant beta), on free loopback ports; every test uses extensions
of its own, so a binding or a call left by one test cannot reach another.
The teardown stops the daemon and fails on a non-zero exit or a sanitizer
report. The CDR (tables calls and call_legs) is written behind by the
store writer: the tests poll for it.

Beyond the calls themselves: the CANCEL and the ACK of a non-2xx must
carry the INVITE's Request-URI (RFC 3261 9.1, 17.1.1.3); a final failure
answer is retransmitted until its ACK and answers a retransmitted INVITE
(17.2.1); a SIGTERM with a call up stops cleanly and records the call
(TestStopDuringCall, with a daemon of its own).

What each test needs (sipp, baresip and its modules) must be installed:
a missing tool fails the test, it is never skipped.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import sipclient
from helpers import TENANT, TENANT_DOMAIN, ROOT, Deployment, SwTestCase, log
from sipclient import Request, SipMessage, Udp, authorization, new_branch, new_call_id, new_tag
from test_sip_register import conf_set, free_even_pair, free_port

SIPP_DIR = os.path.join(ROOT, "tests", "sipp")
MEDIA_LO, MEDIA_HI = 30000, 31000
NODE = "node-calls"
BETA, BETA_DOMAIN = "beta", "beta.example.com"
CDR_POLL_S = 5.0  # the store writer is asynchronous
SIPP_TIMEOUT_S = 15  # SIPp's own -timeout: every scenario ends by then
WAIT_S = 25  # what a test waits for a SIPp process at most
HOLD_MS = 1000  # call hold time of the answered calls (-d)
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

BARESIP_MODULE_DIR = "/usr/lib/baresip/modules"
BARESIP_MODULES = ("g711", "ausine", "aubridge", "srtp", "account", "menu", "ctrl_tcp")

# Extensions of tenant acme, by role (one set per test).
EXTS = {
    "caller": "1001",
    "udp": "1002",
    "tcp": "1003",
    "cancel": "1004",
    "busy": "1005",
    "noanswer": "1006",
    "unregistered": "1007",
    "unregister": "1008",
    "guarded": "1009",
    "cancel_uri": "1010",
    "bs_a": "2001",
    "bs_b": "2002",
    # test_media.py
    "md_a": "2101",
    "md_b": "2102",
    "md_plain": "2103",
    "md_udp": "2104",
    "md_py": "2105",
    "md_to_a": "2106",
    "md_to_b": "2107",
    "md_tcp_a": "2108",
    "md_tcp_b": "2109",
    "load": "1011",
    "late": "1012",
    "lim_a": "2110",
    "lim_b": "2111",
    "tr_b": "2201",
    # test_late_offer.py
    "lo_ta": "2301",
    "lo_tb": "2302",
    "lo_ua": "2303",
    "lo_ub": "2304",
    "lo_na": "2305",
    "lo_nb": "2306",
}
# Extensions that keep the default srtp=required (the tenant is set to
# optional for SIPp, which does not do SRTP): the baresip phones and the
# media tests' own.
SRTP_REQUIRED = ("bs_a", "bs_b", "md_a", "md_b", "md_plain", "md_udp", "md_py", "lo_ta", "lo_tb")
BETA_EXT = "3001"
UNKNOWN_EXT = "1999"  # no such extension
UNKNOWN_EXT_2 = "1990"  # another one


def require_tool(name, package):
    if shutil.which(name) is None:
        raise AssertionError("%s is missing (apt-get install %s)" % (name, package))


# ---- the deployment ----


class CallServer:
    """A deployment with UDP and TCP on one port, TLS on another, both
    tenants and their extensions (generated passwords: self.pw), and the
    daemon running."""

    def __init__(self):
        self.d = Deployment()
        try:
            self.d.tenant()
            self.d.ok("tenant", "set", TENANT, "digest=md5", "srtp=optional")
            self.d.ok("tenant", "add", BETA, "--domain", BETA_DOMAIN)
            self.d.ok("tenant", "set", BETA, "digest=md5")
            self.pw = self.import_exts(TENANT, sorted(EXTS.values()))
            self.pw.update({(BETA, n): p for n, p in self.import_exts(BETA, [BETA_EXT]).items()})
            for role in SRTP_REQUIRED:
                self.d.ok("ext", "set", TENANT, EXTS[role], "srtp=required")
            self.port = free_port(True)
            self.tls_port = free_port(False, taken=(self.port,))
            self.portal_port = free_port(False, taken=(self.port, self.tls_port))
            c = self.d.conf
            conf_set(c, "daemon", "node", NODE)
            conf_set(c, "sip", "udp", "127.0.0.1:%d" % self.port)
            conf_set(c, "sip", "tcp", "127.0.0.1:%d" % self.port)
            conf_set(c, "sip", "tls", "127.0.0.1:%d" % self.tls_port)
            conf_set(c, "media", "ports", "%d-%d" % (MEDIA_LO, MEDIA_HI))
            conf_set(c, "portal", "listen", "127.0.0.1:%d" % self.portal_port)
            conf_set(c, "guard", "allow", "127.0.0.0/8")
            # SIPp calls from one extension 100 at a time (the load test).
            conf_set(c, "guard", "calls_per_extension", "200")
            self.configure(conf_set, c)
            self.daemon = self.d.start_daemon()
            self.daemon.wait_for(r"SIP listening on", 60)
        except BaseException:
            self.d.cleanup()
            raise

    def configure(self, conf_set, conf):
        """More settings, for a subclass."""

    def import_exts(self, tenant, numbers):
        """Adds the extensions in one `ext import` (generated passwords);
        returns {number: password}."""
        path = os.path.join(self.d.dir, "exts-%s.csv" % tenant)
        with open(path, "w") as f:
            f.write("extension,name,password\n")
            for n in numbers:
                f.write("%s,Phone %s,\n" % (n, n))
        try:
            j = self.d.ok_json("ext", "import", tenant, path)
        finally:
            os.unlink(path)
        pw = {g["extension"]: g["password"] for g in j["generated"]}
        if sorted(pw) != sorted(numbers):
            raise AssertionError("import generated %r for %r" % (sorted(pw), numbers))
        return pw

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

    def tenant_id(self, name=TENANT):
        return self.d.query("SELECT id FROM tenants WHERE name = ?", (name,))[0][0]

    def ext_id(self, number, tenant=TENANT):
        return self.d.query(
            "SELECT e.id FROM extensions e JOIN tenants t ON t.id = e.tenant_id "
            "WHERE e.number = ? AND t.name = ?",
            (number, tenant),
        )[0][0]

    def bindings(self, number):
        rows = self.d.query(
            "SELECT contact, transport, source, user_agent FROM bindings WHERE extension_id = ? ORDER BY contact",
            (self.ext_id(number),),
        )
        return [dict(zip(("contact", "transport", "source", "user_agent"), r)) for r in rows]

    def poll_bindings(self, number, pred, timeout=CDR_POLL_S):
        deadline = time.monotonic() + timeout
        while True:
            b = self.bindings(number)
            if pred(b) or time.monotonic() >= deadline:
                return b, pred(b)
            time.sleep(0.05)

    CALL_COLS = (
        "id", "tenant_id", "uuid", "node", "caller", "callee", "direction", "start_us",
        "answer_us", "end_us", "disposition", "duration_ms", "source", "user_agent", "transport",
    )
    LEG_COLS = ("leg", "kind", "peer", "transport", "start_us", "answer_us", "end_us", "disposition")

    def calls(self, callee, tenant=TENANT):
        rows = self.d.query(
            "SELECT %s FROM calls WHERE callee = ? AND tenant_id = ? ORDER BY id" % ", ".join(self.CALL_COLS),
            (callee, self.tenant_id(tenant)),
        )
        out = []
        for r in rows:
            c = dict(zip(self.CALL_COLS, r))
            legs = self.d.query(
                "SELECT %s FROM call_legs WHERE call_id = ? ORDER BY leg" % ", ".join(self.LEG_COLS),
                (c["id"],),
            )
            c["legs"] = [dict(zip(self.LEG_COLS, l)) for l in legs]
            out.append(c)
        return out

    def poll_calls(self, callee, n, tenant=TENANT, timeout=CDR_POLL_S):
        """Polls until n call rows (with their legs) exist for callee."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.calls(callee, tenant)
            if len(rows) >= n or time.monotonic() >= deadline:
                return rows
            time.sleep(0.05)


# ---- SIPp ----


def sipp_messages(text):
    """The messages of a SIPp -trace_msg file: [(direction 'sent' or
    'received', SipMessage)]."""
    out = []
    for chunk in re.split(r"\n-{20,}[^\n]*\n", "\n" + text):
        m = re.match(r"\s*(UDP|TCP|TLS) message (sent|received)[^\n]*\n", chunk)
        if m is None:
            continue
        body = chunk[m.end():].strip("\n")
        if not body:
            continue
        head, sep, rest = body.partition("\n\n")
        raw = head.replace("\n", "\r\n") + "\r\n\r\n" + (rest.replace("\n", "\r\n") if sep else "")
        try:
            out.append((m.group(2), SipMessage(raw.encode("latin-1", "replace"))))
        except ValueError:
            continue
    return out


class Sipp:
    """One SIPp process (one call, -m 1) with its work folder and traces."""

    def __init__(self, tc, scenario, transport="udp", remote=True, port=None, user=None, keys=(), extra=()):
        require_tool("sipp", "sip-tester")
        self.tc = tc
        self.name = scenario
        self.work = tempfile.mkdtemp(prefix="sw-sipp-")
        tc.addCleanup(shutil.rmtree, self.work, True)
        self.port = port or free_port(True, taken=(tc.srv.port, tc.srv.tls_port))
        args = ["sipp"]
        if remote:
            args.append("127.0.0.1:%d" % tc.srv.port)
        args += ["-sf", os.path.join(SIPP_DIR, scenario)]
        if user is not None:
            number, domain, password = user
            path = os.path.join(self.work, "users.csv")
            with open(path, "w") as f:
                f.write("SEQUENTIAL\n%s;%s;%s\n" % (number, domain, password))
            args += ["-inf", path]
        for k, v in keys:
            args += ["-key", k, str(v)]
        args += [
            "-m", "1",
            "-nostdin",
            "-t", {"udp": "u1", "tcp": "t1"}[transport],
            "-i", "127.0.0.1",
            "-p", str(self.port),
            "-mp", str(free_even_pair()),
            "-cp", str(free_port(False)),
            "-timeout", "%ds" % SIPP_TIMEOUT_S, "-timeout_error",
            "-trace_msg", "-message_file", os.path.join(self.work, "messages.log"),
            "-trace_err", "-error_file", os.path.join(self.work, "errors.log"),
            "-trace_logs", "-log_file", os.path.join(self.work, "logs.log"),
        ]
        args += list(extra)
        self.args = args
        self.proc = subprocess.Popen(
            args, cwd=self.work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        tc.addCleanup(self.kill)
        self.rc = None
        self.err = ""

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def wait(self, timeout=WAIT_S):
        if self.rc is not None:
            return self.rc
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.tc.fail("sipp %s did not finish within %ss:\n%s" % (self.name, timeout, self.describe()))
        self.rc = self.proc.returncode
        self.err = err.decode("utf-8", "replace")
        return self.rc

    def file(self, name):
        path = os.path.join(self.work, name)
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as f:
            return f.read()

    def messages(self):
        return sipp_messages(self.file("messages.log"))

    def received(self, method=None, status=None):
        """Messages this SIPp received: requests of method, or responses
        with status."""
        out = []
        for d, m in self.messages():
            if d != "received":
                continue
            if method is not None and m.method == method:
                out.append(m)
            elif status is not None and m.status == status:
                out.append(m)
        return out

    def describe(self):
        return "sipp %s (exit %r): %s\n%s--- errors.log\n%s\n--- logs.log\n%s\n--- messages.log (end)\n%s" % (
            self.name,
            self.rc,
            " ".join(self.args),
            self.err[-2000:],
            self.file("errors.log")[-3000:],
            self.file("logs.log")[-2000:],
            self.file("messages.log")[-8000:],
        )

    def ok(self):
        """Waits; fails the test unless SIPp exited 0."""
        rc = self.wait()
        self.tc.assertEqual(rc, 0, "sipp %s failed:\n%s" % (self.name, self.describe()))


def media_sockets(pid):
    """The UDP sockets of process pid bound in the media range."""
    out = subprocess.run(["ss", "-H", "-u", "-a", "-n", "-p"], stdout=subprocess.PIPE, text=True).stdout
    n = 0
    for line in out.splitlines():
        if "pid=%d," % pid not in line:
            continue
        m = re.search(r":(\d+)\s+\S+:\S+", line)
        if m and MEDIA_LO <= int(m.group(1)) <= MEDIA_HI:
            n += 1
    return n


def wait_media_sockets(pid, n, timeout=5.0):
    """Polls until pid holds n media sockets; returns the last count."""
    deadline = time.monotonic() + timeout
    while True:
        got = media_sockets(pid)
        if got == n or time.monotonic() >= deadline:
            return got
        time.sleep(0.1)


def udp_bound(port):
    """Whether a socket is bound to UDP 127.0.0.1:port (or *:port), from
    /proc/net/udp: looking does not take the port from its owner."""
    want = {"0100007F:%04X" % port, "00000000:%04X" % port}
    with open("/proc/net/udp") as f:
        next(f)
        return any(line.split()[1] in want for line in f)


def wait_udp_bound(port, timeout=5.0):
    """Waits until a SIPp UAS is bound to its UDP port."""
    deadline = time.monotonic() + timeout
    while not udp_bound(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


# ---- a raw caller ----


def raw_invite(conn, ruri, from_uri, via=None, contact=None, auth=None, call_id=None, tag=None, cseq=1):
    """An INVITE with an SDP offer, as a phone sends it (or not)."""
    sdp = b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
    h = [
        ("Via", via or conn.via()),
        ("Max-Forwards", "70"),
        ("From", "<%s>;tag=%s" % (from_uri, tag or new_tag())),
        ("To", "<%s>" % ruri),
        ("Call-ID", call_id or new_call_id()),
        ("CSeq", "%d INVITE" % cseq),
        ("Contact", contact or "<sip:caller@%s:%d>" % conn.local),
        ("Content-Type", "application/sdp"),
    ]
    if auth is not None:
        h.append(("Proxy-Authorization", auth))
    return Request("INVITE", ruri, h, sdp)

def final_answer(conn, timeout=3.0):
    """The next final answer on conn (skips 100)."""
    deadline = time.monotonic() + timeout
    while True:
        m = conn.recv(max(0.01, deadline - time.monotonic()))
        if m is None or m.status is None or m.status >= 200:
            return m
        if time.monotonic() >= deadline:
            return None

def ack_for(conn, req, resp):
    """The ACK of a final non-2xx answer resp to req."""
    h = [
        ("Via", req.get("Via")),
        ("Max-Forwards", "70"),
        ("From", req.get("From")),
        ("To", resp.get("To")),
        ("Call-ID", req.get("Call-ID")),
        ("CSeq", "%d ACK" % resp.cseq()[0]),
    ]
    conn.send(Request("ACK", req.ruri, h))


# ---- baresip ----


def netstring(data):
    return b"%d:%s," % (len(data), data)


class Baresip:
    """A baresip 1.0 phone driven over ctrl_tcp (netstring JSON), with one
    account registering over TLS through the daemon (outbound proxy). Its
    audio comes from ausine (48 kHz stereo only, resampled by baresip) and
    goes to an aubridge device nobody reads: headless, no sound card."""

    def __init__(self, tc, name, number, password, tls_port, account_params=""):
        require_tool("baresip", "baresip")
        for m in BARESIP_MODULES:
            if not os.path.exists(os.path.join(BARESIP_MODULE_DIR, m + ".so")):
                raise AssertionError("baresip module %s.so is missing in %s" % (m, BARESIP_MODULE_DIR))
        self.tc = tc
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="sw-baresip-%s-" % name)
        tc.addCleanup(shutil.rmtree, self.dir, True)
        self.ctrl_port = free_port(False, taken=(tc.srv.port, tls_port))
        config = "\n".join(
            [
                "poll_method epoll",
                "sip_listen 127.0.0.1:0",
                "net_interface 127.0.0.1",
                "call_local_timeout 30",
                "call_max_calls 2",
                "audio_player aubridge,%s" % name,
                "audio_alert aubridge,%s" % name,
                "audio_source ausine,440",
                "ausrc_srate 48000",
                "ausrc_channels 2",
                "module_path %s" % BARESIP_MODULE_DIR,
                "module g711.so",
                "module ausine.so",
                "module aubridge.so",
                "module srtp.so",
                "module_tmp account.so",
                "module_app menu.so",
                "module_app ctrl_tcp.so",
                "ctrl_tcp_listen 127.0.0.1:%d" % self.ctrl_port,
                "",
            ]
        )
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(config)
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(
                '<sip:%s@%s;transport=tls>;auth_pass=%s;outbound="sip:127.0.0.1:%d;transport=tls";regint=300%s\n'
                % (number, TENANT_DOMAIN, password, tls_port, account_params)
            )
        self.log_path = os.path.join(self.dir, "baresip.log")
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["baresip", "-s", "-f", self.dir],
            stdin=subprocess.DEVNULL,
            stdout=self.logf,
            stderr=subprocess.STDOUT,
        )
        tc.addCleanup(self.kill)
        self.buf = b""
        self.seen = []
        self.sock = None
        deadline = time.monotonic() + 10
        while self.sock is None:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tc.fail("baresip %s: no ctrl_tcp on port %d:\n%s" % (name, self.ctrl_port, self.text()))
                time.sleep(0.05)
        self.tokens = 0

    def text(self):
        self.logf.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def kill(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if not self.logf.closed:
            self.logf.close()

    def _read(self, timeout):
        """Reads what arrives within timeout; returns the new messages."""
        new = []
        deadline = time.monotonic() + timeout
        while not new:
            while True:
                i = self.buf.find(b":")
                if i < 0:
                    break
                n = int(self.buf[:i])
                if len(self.buf) < i + n + 2:
                    break
                new.append(json.loads(self.buf[i + 1 : i + 1 + n]))
                self.buf = self.buf[i + n + 2 :]
            if new:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buf += data
        self.seen += new
        return new

    def wait(self, what, pred, timeout=10.0):
        """The first message (event or response) matching pred, seen before
        or arriving within timeout; fails the test otherwise."""
        for m in self.seen:
            if pred(m):
                return m
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self._read(deadline - time.monotonic()):
                if pred(m):
                    return m
        self.tc.fail(
            "baresip %s: no %s within %.0fs; its messages: %r\nits log:\n%s"
            % (self.name, what, timeout, self.seen[-20:], self.text()[-6000:])
        )

    def event(self, kind, timeout=10.0):
        return self.wait("event " + kind, lambda m: m.get("event") and m.get("type") == kind, timeout)

    def command(self, command, params=None, timeout=10.0):
        """Sends a command; returns its response (fails unless ok)."""
        self.tokens += 1
        token = "%s-%d" % (self.name, self.tokens)
        msg = {"command": command, "token": token}
        if params is not None:
            msg["params"] = params
        self.sock.sendall(netstring(json.dumps(msg).encode()))
        r = self.wait("response to " + command, lambda m: m.get("response") and m.get("token") == token, timeout)
        self.tc.assertTrue(r.get("ok"), "baresip %s: %s failed: %r" % (self.name, command, r))
        return r

    def quit(self, timeout=10.0):
        """Asks baresip to quit (it un-registers first); returns its exit
        status."""
        self.tokens += 1
        self.sock.sendall(netstring(json.dumps({"command": "quit", "token": "quit"}).encode()))
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.tc.fail("baresip %s did not quit within %ss:\n%s" % (self.name, timeout, self.text()[-4000:]))


# ---- the tests ----


class TestCalls(SwTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = CallServer()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            super().tearDownClass()

    def setUp(self):
        self.conns = []
        self.addCleanup(self._check_daemon)
        self.addCleanup(self._close_conns)

    def _close_conns(self):
        for c in self.conns:
            c.close()

    def _check_daemon(self):
        d = self.srv.daemon
        if d is not None:
            self.assertTrue(d.alive(), "the daemon died; its log:\n" + d.text()[-6000:])

    # -- helpers --

    def user(self, role):
        n = EXTS[role]
        return (n, TENANT_DOMAIN, self.srv.pw[n])

    def register_contact(self, role, contact_port, expires=300, transport="udp"):
        """Registers extension role with the contact 127.0.0.1:contact_port
        (register_contact.xml); returns the binding's contact."""
        r = Sipp(
            self,
            "register_contact.xml",
            transport=transport,
            user=self.user(role),
            keys=(("expires", expires), ("contact_port", contact_port)),
        )
        r.ok()
        return "sip:%s@127.0.0.1:%d;transport=%s" % (EXTS[role], contact_port, transport.upper())

    def uas(self, scenario, port, extra=()):
        """Starts a SIPp callee (server mode, UDP) on port and waits until
        it listens."""
        u = Sipp(self, scenario, remote=False, port=port, extra=extra)
        self.assertTrue(wait_udp_bound(port), "the SIPp UAS did not bind its port:\n" + u.describe())
        return u

    def uac(self, scenario, callee, expect=None, transport="udp", extra=()):
        keys = [("callee", callee)]
        if expect is not None:
            keys.append(("expect", expect))
            extra = ("-nd",) + tuple(extra)
        return Sipp(self, scenario, transport=transport, user=self.user("caller"), keys=keys, extra=extra)

    def final_status(self, uac):
        """The final answers the UAC received to its authenticated INVITE
        (CSeq 2), in order."""
        return [m.status for d, m in uac.messages() if d == "received" and m.status is not None
                and m.status >= 200 and m.cseq() == (2, "INVITE")]

    def assertCdr(self, c, callee, disposition, transport, source, answered):
        self.assertEqual(c["tenant_id"], self.srv.tenant_id(), c)
        self.assertRegex(c["uuid"], UUID4, c)
        self.assertEqual(c["node"], NODE, c)
        self.assertEqual(c["caller"], EXTS["caller"], c)
        self.assertEqual(c["callee"], callee, c)
        self.assertEqual(c["direction"], "internal", c)
        self.assertEqual(c["disposition"], disposition, c)
        self.assertEqual(c["source"], source, c)
        self.assertEqual(c["user_agent"], "sipp-bench", c)
        self.assertEqual(c["transport"], transport, c)
        self.assertIsNotNone(c["end_us"], c)
        self.assertLessEqual(c["start_us"], c["end_us"], c)
        self.assertLess(abs(c["start_us"] / 1e6 - time.time()), 60, c)
        if answered:
            self.assertIsNotNone(c["answer_us"], c)
            self.assertLessEqual(c["start_us"], c["answer_us"], c)
            self.assertLessEqual(c["answer_us"], c["end_us"], c)
        else:
            self.assertIn(c["answer_us"], (None, 0), c)
            self.assertEqual(c["duration_ms"], 0, c)

    def one_call(self, callee, n=1):
        rows = self.srv.poll_calls(callee, n)
        self.assertEqual(len(rows), n, "calls rows for %s: %r" % (callee, rows))
        return rows[-1]

    # -- 1: the basic call --

    def basic_call(self, transport, role):
        callee = EXTS[role]
        uas_port = free_port(True, taken=(self.srv.port, self.srv.tls_port))
        if transport == "udp":
            contact = self.register_contact(role, uas_port)
            b, ok = self.srv.poll_bindings(callee, lambda b: len(b) == 1)
            self.assertTrue(ok, "the callee's binding: %r" % b)
            self.assertEqual((b[0]["contact"], b[0]["transport"]), (contact, "udp"))
            uas = self.uas("call_uas.xml", uas_port)
            contact_uri = contact
        else:
            # A stream callee is reached over the connection it registered
            # on: one SIPp registers, holds the connection while the call
            # comes (out-of-call scenario call_uas.xml) and un-registers.
            uas = Sipp(
                self,
                "register_hold.xml",
                transport="tcp",
                user=self.user(role),
                port=uas_port,
                extra=("-oocsf", os.path.join(SIPP_DIR, "call_uas.xml"), "-d", "3000"),
            )
            b, ok = self.srv.poll_bindings(callee, lambda b: len(b) == 1)
            self.assertTrue(ok, "the TCP callee's binding: %r\n%s" % (b, uas.describe()))
            self.assertEqual(b[0]["transport"], "tcp", b)
            contact_uri = "sip:%s@127.0.0.1:%d;transport=TCP" % (callee, uas_port)
            self.assertEqual(b[0]["contact"], contact_uri, b)
            callee_source = b[0]["source"]

        t0 = time.time()
        uac = self.uac("call_uac.xml", callee, transport=transport, extra=("-d", str(HOLD_MS)))
        uac.ok()
        uas.ok()
        t1 = time.time()

        # The caller's side: 407, then 180 and 200 with the callee's SDP.
        got = [m.status for d, m in uac.messages() if d == "received" and m.status is not None]
        self.assertIn(407, got, uac.describe())
        self.assertIn(180, got, uac.describe())
        ok200 = [m for m in uac.received(status=200) if m.cseq() == (2, "INVITE")]
        self.assertTrue(ok200, uac.describe())
        # The callee's answer, anchored on the relay: its codec, our
        # address and port, nothing of the callee's.
        body = ok200[0].body
        self.assertIn(b"o=- ", body, "the answer's origin is not ours")
        self.assertNotIn(b"o=callee ", body, "the callee's origin reached the caller")
        self.assertIn(b"c=IN IP4 127.0.0.1\r\n", body)
        m = re.search(rb"m=audio (\d+) RTP/AVP 0", body)
        self.assertTrue(m and MEDIA_LO <= int(m.group(1)) <= MEDIA_HI, body)
        self.assertTrue(ok200[0].to_tag(), "no To tag in the 200")
        for d, m in uac.messages():
            if d == "received":
                for h in ("Server", "User-Agent"):
                    self.assertFalse(m.has(h), "an answer carries %s:\n%r" % (h, m.raw))

        # The callee's side: an INVITE to its registered contact, with the
        # caller's SDP, then ACK and BYE in the B2BUA's own dialog.
        inv = uas.received(method="INVITE")
        self.assertEqual(len(inv), 1, uas.describe())
        inv = inv[0]
        self.assertEqual(inv.ruri, contact_uri)
        self.assertEqual(inv.get("Max-Forwards"), "69")
        self.assertIn(b"o=- ", inv.body, "the caller's SDP was not anchored")
        self.assertNotIn(b"o=1001 ", inv.body, "the caller's origin reached the callee")
        m = re.search(rb"m=audio (\d+) RTP/AVP 0", inv.body)
        self.assertTrue(m and MEDIA_LO <= int(m.group(1)) <= MEDIA_HI, inv.body)
        self.assertIn("sip:1001@" + TENANT_DOMAIN, inv.get("From"))
        self.assertIn("sip:%s@%s" % (callee, TENANT_DOMAIN), inv.get("To"))
        self.assertNotEqual(inv.get("Call-ID"), ok200[0].get("Call-ID"), "the B2BUA reused the caller's Call-ID")
        self.assertTrue(uas.received(method="ACK"), uas.describe())
        self.assertTrue(uas.received(method="BYE"), uas.describe())

        # The CDR.
        c = self.one_call(callee)
        log("%s call: duration_ms %d (hold %d ms)" % (transport, c["duration_ms"], HOLD_MS))
        self.assertCdr(c, callee, "answered", transport, "127.0.0.1:%d" % uac.port, answered=True)
        self.assertGreaterEqual(c["start_us"] / 1e6, t0 - 1, c)
        self.assertLessEqual(c["end_us"] / 1e6, t1 + 1, c)
        self.assertAlmostEqual(c["duration_ms"], HOLD_MS, delta=400, msg=c)
        self.assertAlmostEqual(c["duration_ms"], (c["end_us"] - c["answer_us"]) / 1000, delta=2, msg=c)
        legs = c["legs"]
        self.assertEqual([(l["leg"], l["kind"]) for l in legs], [(0, "caller"), (1, "callee")], legs)
        a, bl = legs
        self.assertEqual((a["peer"], a["transport"], a["disposition"]), (c["source"], transport, "answered"), legs)
        if transport == "udp":
            self.assertEqual(bl["peer"], "127.0.0.1:%d" % uas_port, legs)
        else:
            self.assertEqual(bl["peer"], callee_source, legs)
        self.assertEqual((bl["transport"], bl["disposition"]), (transport, "answered"), legs)
        for l in legs:
            self.assertEqual((l["start_us"], l["answer_us"], l["end_us"]), (c["start_us"], c["answer_us"], c["end_us"]), legs)

    def test_call_udp(self):
        self.basic_call("udp", "udp")

    def test_call_tcp(self):
        self.basic_call("tcp", "tcp")

    # -- 2: cancel --

    def ringing_then_cancel(self, role):
        callee = EXTS[role]
        uas_port = free_port(True, taken=(self.srv.port, self.srv.tls_port))
        self.register_contact(role, uas_port)
        uas = self.uas("uas_ring.xml", uas_port)
        uac = self.uac("uac_cancel.xml", callee)
        uac.ok()
        uas.ok()
        return uac, uas

    def test_cancel(self):
        callee = EXTS["cancel"]
        uac, uas = self.ringing_then_cancel("cancel")
        # The caller: 180, its CANCEL answered 200, the INVITE 487.
        self.assertEqual(self.final_status(uac), [487], uac.describe())
        self.assertTrue([m for m in uac.received(status=200) if m.cseq() == (2, "CANCEL")], uac.describe())
        # The callee: INVITE, CANCEL, ACK of its 487.
        self.assertEqual(len(uas.received(method="CANCEL")), 1, uas.describe())
        self.assertTrue(uas.received(method="ACK"), uas.describe())
        c = self.one_call(callee)
        self.assertCdr(c, callee, "cancelled", "udp", "127.0.0.1:%d" % uac.port, answered=False)
        legs = c["legs"]
        self.assertEqual([(l["leg"], l["kind"]) for l in legs], [(0, "caller"), (1, "callee")], legs)
        self.assertEqual(legs[0]["disposition"], "cancelled", legs)
        self.assertEqual(legs[1]["disposition"], "487", legs)

    def test_cancel_and_ack_match_the_invite(self):
        """RFC 3261 9.1: a CANCEL's Request-URI, Call-ID, From, To and CSeq
        number are the INVITE's; 17.1.1.3: so are the Request-URI, Call-ID,
        From and top Via of the ACK of a non-2xx. The 180 carries the
        callee's Contact: it must not become the Request-URI of either."""
        uac, uas = self.ringing_then_cancel("cancel_uri")
        inv = uas.received(method="INVITE")[0]
        cancel = uas.received(method="CANCEL")[0]
        ack = uas.received(method="ACK")[0]
        for name, m in (("CANCEL", cancel), ("ACK", ack)):
            with self.subTest(request=name):
                self.assertEqual(m.get("Call-ID"), inv.get("Call-ID"))
                self.assertEqual(m.get("From"), inv.get("From"))
                self.assertEqual(m.get("Via"), inv.get("Via"))
                self.assertEqual(m.cseq()[0], inv.cseq()[0])
                self.assertEqual(
                    m.ruri, inv.ruri, "the %s's Request-URI is not the INVITE's (it is the 180's Contact?)" % name
                )
        self.assertEqual(cancel.get("To"), inv.get("To"))

    # -- 3, 4: busy, no answer --

    def failed_call(self, role, scenario, code, disposition, uas_extra=()):
        callee = EXTS[role]
        uas_port = free_port(True, taken=(self.srv.port, self.srv.tls_port))
        self.register_contact(role, uas_port)
        uas = self.uas(scenario, uas_port, extra=uas_extra)
        uac = self.uac("uac_expect.xml", callee, expect=code)
        uac.ok()
        uas.ok()
        self.assertEqual(self.final_status(uac), [code], uac.describe())
        self.assertTrue(uas.received(method="ACK"), "the callee's %d was not acknowledged:\n%s" % (code, uas.describe()))
        c = self.one_call(callee)
        self.assertCdr(c, callee, disposition, "udp", "127.0.0.1:%d" % uac.port, answered=False)
        legs = c["legs"]
        self.assertEqual([(l["leg"], l["kind"]) for l in legs], [(0, "caller"), (1, "callee")], legs)
        self.assertEqual(legs[0]["disposition"], disposition, legs)
        self.assertEqual(legs[1]["disposition"], str(code), legs)
        self.assertEqual(legs[1]["peer"], "127.0.0.1:%d" % uas_port, legs)

    def test_busy(self):
        self.failed_call("busy", "uas_busy.xml", 486, "busy")

    def test_no_answer(self):
        # The callee rings 0.5 s and answers 480 itself.
        self.failed_call("noanswer", "uas_noanswer.xml", 480, "no-answer", uas_extra=("-d", "500"))

    # -- 5: not registered, unknown number --

    def test_not_registered_and_unknown_number(self):
        callee = EXTS["unregistered"]
        self.assertEqual(self.srv.bindings(callee), [])
        uac = self.uac("uac_expect.xml", callee, expect=480)
        uac.ok()
        self.assertEqual(self.final_status(uac), [480], uac.describe())
        c = self.one_call(callee)
        self.assertCdr(c, callee, "not-registered", "udp", "127.0.0.1:%d" % uac.port, answered=False)
        self.assertEqual([l["kind"] for l in c["legs"]], ["caller"], c["legs"])

        uac = self.uac("uac_expect.xml", UNKNOWN_EXT, expect=404)
        uac.ok()
        self.assertEqual(self.final_status(uac), [404], uac.describe())
        c = self.one_call(UNKNOWN_EXT)
        self.assertCdr(c, UNKNOWN_EXT, "404", "udp", "127.0.0.1:%d" % uac.port, answered=False)
        self.assertEqual([l["kind"] for l in c["legs"]], ["caller"], c["legs"])

    # -- 6: un-registered --

    def test_call_after_unregister(self):
        callee = EXTS["unregister"]
        port = free_port(True, taken=(self.srv.port, self.srv.tls_port))
        contact = self.register_contact("unregister", port)
        b, ok = self.srv.poll_bindings(callee, lambda b: len(b) == 1)
        self.assertTrue(ok, b)
        self.assertEqual(b[0]["contact"], contact)
        self.register_contact("unregister", port, expires=0)
        b, ok = self.srv.poll_bindings(callee, lambda b: b == [])
        self.assertTrue(ok, "the binding is still there after Expires: 0: %r" % b)
        # Nothing may be sent to the old contact.
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sink.close)
        sink.bind(("127.0.0.1", port))
        uac = self.uac("uac_expect.xml", callee, expect=480)
        uac.ok()
        self.assertEqual(self.final_status(uac), [480], uac.describe())
        r, _, _ = select.select([sink], [], [], 0.3)
        self.assertFalse(r, "the B2BUA sent to an un-registered contact: %r" % (sink.recv(4096) if r else b""))
        c = self.one_call(callee)
        self.assertCdr(c, callee, "not-registered", "udp", "127.0.0.1:%d" % uac.port, answered=False)

    # -- 7: INVITEs that must not get through --

    def test_invites_without_credentials_challenged(self):
        callee = EXTS["guarded"]
        phone_conn = Udp(self.srv.addr)
        self.conns.append(phone_conn)
        p = sipclient.Phone(phone_conn, callee, self.srv.pw[callee], TENANT_DOMAIN)
        r = p.register(expires=300)
        self.assertEqual(r.status if r else None, 200, r and r.raw)
        b, ok = self.srv.poll_bindings(callee, lambda b: len(b) == 1)
        self.assertTrue(ok, b)

        conn = Udp(self.srv.addr)
        self.conns.append(conn)
        ip, port = self.srv.addr
        aor = "sip:%s@%s" % (callee, TENANT_DOMAIN)
        cases = [
            ("an existing extension", aor, "sip:1001@" + TENANT_DOMAIN, TENANT_DOMAIN, {}),
            ("the callee itself", aor, aor, TENANT_DOMAIN, {}),
            ("another tenant's extension", aor, "sip:%s@%s" % (BETA_EXT, BETA_DOMAIN), BETA_DOMAIN, {}),
            ("acme's number in another tenant's domain", aor, "sip:1001@" + BETA_DOMAIN, BETA_DOMAIN, {}),
            ("a domain no tenant has", aor, "sip:1001@unknown.example.net", "unknown.example.net", {}),
            ("the server's address with its port", "sip:%s@%s:%d" % (callee, ip, port),
             "sip:1001@%s:%d" % (ip, port), ip, {}),
            ("the server's address without a port", "sip:%s@%s" % (callee, ip), "sip:1001@%s" % ip, ip, {}),
            ("Via and Contact without a port", aor, "sip:1001@" + TENANT_DOMAIN, TENANT_DOMAIN,
             {"via": "SIP/2.0/UDP 127.0.0.1;branch=%s;rport" % new_branch(), "contact": "<sip:1001@127.0.0.1>"}),
            ("credentials for another realm", aor, "sip:1001@" + TENANT_DOMAIN, TENANT_DOMAIN,
             {"auth": authorization("MD5", "1001", "evil.example", "x" * 20, "INVITE", aor, "bm9uY2U", 1)}),
            ("a forged nonce", aor, "sip:1001@" + TENANT_DOMAIN, TENANT_DOMAIN,
             {"auth": authorization("MD5", "1001", TENANT_DOMAIN, self.srv.pw["1001"], "INVITE", aor,
                                    "AAAAAGsH3EZNFky7YGWtlR52fp8NsMPx0Q7TptvqCJ4", 1)}),
        ]
        for what, ruri, from_uri, realm, kw in cases:
            with self.subTest(what):
                req = raw_invite(conn, ruri, from_uri, **kw)
                r = conn.exchange(req.bytes())
                self.assertIsNotNone(r, "no answer")
                self.assertEqual(r.status, 407, r.raw.decode("latin-1"))
                chs = r.challenges("Proxy-Authenticate")
                self.assertTrue(chs, r.raw)
                self.assertEqual({c["realm"] for c in chs}, {realm}, r.raw)
                self.assertEqual({c.get("algorithm", "MD5") for c in chs}, {"MD5"}, r.raw)
                self.assertFalse(r.has("Server") or r.has("User-Agent"), r.raw)
                ack_for(conn, req, r)
        # Nothing reached the callee, and no call was recorded.
        got = phone_conn.drain(0.5)
        self.assertEqual([m.start for m in got], [], "an unauthenticated INVITE was forwarded")
        self.assertEqual(self.srv.calls(callee), [])

        # The right challenge answered with a wrong password: 403; an
        # unknown user: the same 403.
        for what, user, password in (("a wrong password", "1001", "Wr0ng-" + self.srv.pw["1001"][:10]),
                                     ("an unknown user", "1998", self.srv.pw["1001"])):
            with self.subTest(what):
                cid, tag = new_call_id(), new_tag()
                frm = "sip:%s@%s" % (user, TENANT_DOMAIN)
                r = conn.exchange(raw_invite(conn, aor, frm, call_id=cid, tag=tag).bytes())
                self.assertEqual(r.status if r else None, 407)
                ch = r.challenges("Proxy-Authenticate")[0]
                auth = authorization("MD5", user, ch["realm"], password, "INVITE", aor, ch["nonce"], 1)
                req = raw_invite(conn, aor, frm, auth=auth, call_id=cid, tag=tag, cseq=2)
                conn.send(req.bytes())
                r = final_answer(conn)
                self.assertIsNotNone(r, "no answer")
                self.assertEqual(r.status, 403, r.raw.decode("latin-1"))
                ack_for(conn, req, r)

        # Another tenant's extension, authenticated, dialling acme's
        # number: the number is looked up in its own tenant (none): 404.
        beta_pw = self.srv.pw[(BETA, BETA_EXT)]
        frm = "sip:%s@%s" % (BETA_EXT, BETA_DOMAIN)
        cid, tag = new_call_id(), new_tag()
        r = conn.exchange(raw_invite(conn, aor, frm, call_id=cid, tag=tag).bytes())
        self.assertEqual(r.status if r else None, 407)
        ch = r.challenges("Proxy-Authenticate")[0]
        self.assertEqual(ch["realm"], BETA_DOMAIN)
        auth = authorization("MD5", BETA_EXT, BETA_DOMAIN, beta_pw, "INVITE", aor, ch["nonce"], 1)
        req = raw_invite(conn, aor, frm, auth=auth, call_id=cid, tag=tag, cseq=2)
        conn.send(req.bytes())
        r = final_answer(conn)
        self.assertIsNotNone(r, "no final answer to beta's call")
        self.assertEqual(r.status, 404, r.raw.decode("latin-1"))
        ack_for(conn, req, r)

        got = phone_conn.drain(0.5)
        self.assertEqual([m.start for m in got], [], "a call crossed tenants or an INVITE got through")
        self.assertEqual(self.srv.calls(callee), [], "a call row in acme for the callee")
        rows = self.srv.poll_calls(callee, 1, tenant=BETA)
        self.assertEqual([(c["caller"], c["disposition"]) for c in rows], [(BETA_EXT, "404")], rows)

    # -- a final failure answer and its ACK (RFC 3261 17.2.1) --

    def test_failure_answer_kept_until_ack(self):
        """Over UDP the final non-2xx answer to an INVITE is retransmitted
        (Timer G, from T1 = 500 ms) until the ACK; a retransmitted INVITE
        gets that answer again, not a new challenge."""
        conn = Udp(self.srv.addr)
        self.conns.append(conn)
        ruri = "sip:%s@%s" % (UNKNOWN_EXT_2, TENANT_DOMAIN)
        frm = "sip:1001@" + TENANT_DOMAIN
        cid, tag = new_call_id(), new_tag()
        r = conn.exchange(raw_invite(conn, ruri, frm, call_id=cid, tag=tag).bytes())
        self.assertEqual(r.status if r else None, 407)
        ch = r.challenges("Proxy-Authenticate")[0]
        auth = authorization("MD5", "1001", ch["realm"], self.srv.pw["1001"], "INVITE", ruri, ch["nonce"], 1)
        req = raw_invite(conn, ruri, frm, auth=auth, call_id=cid, tag=tag, cseq=2)
        data = req.bytes()
        conn.send(data)
        r = final_answer(conn)
        self.assertEqual(r.status if r else None, 404, r and r.raw)
        # No ACK: the 404 comes again within 1.5 s (500 ms, then 1 s).
        again = [m.status for m in conn.drain(1.6)]
        # The INVITE retransmitted (its ACK lost, say): the same 404.
        conn.send(data)
        retx = [m.status for m in conn.drain(0.5)]
        ack_for(conn, req, r)
        with self.subTest("Timer G"):
            self.assertIn(404, again, "the 404 was not retransmitted without an ACK (got %r)" % again)
        with self.subTest("INVITE retransmitted"):
            self.assertEqual(set(retx) - {100}, {404}, "a retransmitted INVITE got %r, not its 404 again" % retx)

    # -- RFC 4475 intmeth --

    def test_intmeth_answered(self):
        """RFC 4475 3.1.1.2 (intmeth): an unknown method whose To display
        name escapes BEL, NUL and DEL as quoted-pairs is valid: it gets
        501 (with the escaped bytes copied back as they came), not 400."""
        with open(os.path.join(ROOT, "tests", "data", "rfc4475", "intmeth.sip"), "rb") as f:
            raw = f.read()
        conn = Udp(self.srv.addr)
        self.conns.append(conn)
        conn.send(raw)
        r = conn.recv(3.0)
        self.assertIsNotNone(r, "no answer to intmeth")
        self.assertEqual(r.status, 501, r.raw)
        self.assertIn(b'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f"', r.raw)

    # -- late offer --

    def test_late_offer(self):
        """Late offer (RFC 3261 13.2.1), SIPp on both sides: the caller's
        INVITE has no SDP, so the callee's INVITE has none; the callee's
        200 carries the offer, which reaches the caller anchored (our
        address and a relay port, the callee's codecs, nothing else of the
        callee's); the caller's ACK carries the answer, which reaches the
        callee in its ACK, anchored. The same for a re-INVITE without SDP.
        The call is recorded as answered."""
        callee = EXTS["late"]
        uas_port = free_port(True, taken=(self.srv.port, self.srv.tls_port))
        self.register_contact("late", uas_port)
        b, ok = self.srv.poll_bindings(callee, lambda b: len(b) == 1)
        self.assertTrue(ok, "the callee's binding: %r" % b)
        uas = self.uas("uas_late.xml", uas_port)
        uac = self.uac("uac_late.xml", callee, extra=("-d", "500"))
        uac.ok()
        uas.ok()

        invites = uas.received(method="INVITE")
        self.assertEqual(len(invites), 2, uas.describe())
        for inv in invites:
            self.assertEqual(inv.body, b"", "an INVITE without SDP reached the callee with a body:\n%r" % inv.raw)
            self.assertEqual(inv.get("Content-Length"), "0", inv.raw)
        oks = [m for m in uac.received(status=200) if m.cseq()[1] == "INVITE"]
        acks = uas.received(method="ACK")
        self.assertEqual((len(oks), len(acks)), (2, 2), uac.describe() + uas.describe())
        ports = set()
        for ok200, ack in zip(oks, acks):
            # The offer the caller got: ours, with the callee's codecs.
            self.assertIn(b"o=- ", ok200.body, ok200.raw)
            self.assertNotIn(b"o=callee", ok200.body, ok200.raw)
            self.assertIn(b"c=IN IP4 127.0.0.1\r\n", ok200.body)
            m = re.search(rb"m=audio (\d+) RTP/AVP ([0-9 ]+)\r\n", ok200.body)
            self.assertTrue(m and MEDIA_LO <= int(m.group(1)) <= MEDIA_HI, ok200.body)
            ports.add(int(m.group(1)))
            # The answer the callee got, in the ACK of its 200.
            self.assertEqual(ack.get("Content-Type"), "application/sdp", ack.raw)
            self.assertIn(b"o=- ", ack.body, ack.raw)
            self.assertNotIn(b"o=1001", ack.body, ack.raw)
            m2 = re.search(rb"m=audio (\d+) RTP/AVP 0\r\n", ack.body)
            self.assertTrue(m2 and MEDIA_LO <= int(m2.group(1)) <= MEDIA_HI, ack.body)
            self.assertNotEqual(m.group(1), m2.group(1), "one relay port for both sides")
        self.assertEqual(re.search(rb"m=audio \d+ RTP/AVP ([0-9 ]+)\r\n", oks[0].body).group(1), b"0 8")
        self.assertEqual(len(ports), 1, "the caller's relay port moved on the re-INVITE: %r" % ports)
        c = self.one_call(callee)
        self.assertEqual(c["disposition"], "answered", c)
        self.assertIsNotNone(c["answer_us"], c)

    # -- loops --

    def test_loop_detected(self):
        """An INVITE that carries one of our own Vias (for the address it
        arrives on) is a request of ours come back: 482 Loop Detected,
        before any authentication (RFC 3261 16.3)."""
        conn = Udp(self.srv.addr)
        self.conns.append(conn)
        ours = "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKsW0011223344556677;rport" % self.srv.port
        req = raw_invite(conn, "sip:%s@%s" % (EXTS["udp"], TENANT_DOMAIN), "sip:1001@" + TENANT_DOMAIN)
        req.headers.insert(1, ["Via", ours])
        conn.send(req)
        r = final_answer(conn)
        self.assertIsNotNone(r, "no answer to a looped INVITE")
        self.assertEqual(r.status, 482, r.raw)
        ack_for(conn, req, r)
        # Our branch prefix with another address is no loop: challenged.
        req = raw_invite(conn, "sip:%s@%s" % (EXTS["udp"], TENANT_DOMAIN), "sip:1001@" + TENANT_DOMAIN)
        req.headers.insert(1, ["Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsW0011223344556677"])
        conn.send(req)
        r = final_answer(conn)
        self.assertEqual(r.status, 407, r.raw)
        ack_for(conn, req, r)

    # -- the relay's ports under load --

    def test_thousand_calls_leave_no_port(self):
        """1,000 calls (SIPp, 100 at a time, plain RTP: this tenant allows
        it) each take two relay port pairs; when they are over, every port
        is back (no socket of the daemon in the media range) and every
        call is in the CDR. Memory: LeakSanitizer at the daemon's exit
        (the class teardown fails on any report)."""
        callee = EXTS["load"]
        pid = self.srv.daemon.proc.pid
        uas_port = free_port(True, taken=(self.srv.port, self.srv.tls_port))
        self.register_contact("load", uas_port)
        uas = self.uas("call_uas.xml", uas_port, extra=("-m", "1000"))
        uac = self.uac("call_uac.xml", callee, extra=("-m", "1000", "-r", "250", "-l", "100", "-d", "100"))
        peak, deadline = 0, time.monotonic() + 5
        while peak == 0 and time.monotonic() < deadline:
            peak = max(peak, media_sockets(pid))
            time.sleep(0.05)
        log("relay sockets seen during the load: %d" % peak)
        self.assertGreater(peak, 0, "the calls did not go through the relay")
        uac.ok()
        uas.ok()
        self.assertEqual(wait_media_sockets(pid, 0), 0, "relay ports still open after 1,000 calls")
        rows = self.srv.poll_calls(callee, 1000, timeout=15)
        disp = {}
        for r in rows:
            disp[r["disposition"]] = disp.get(r["disposition"], 0) + 1
        self.assertEqual(disp, {"answered": 1000}, disp)

    # -- 8: two baresip phones over TLS --

    def test_baresip_call_over_tls(self):
        a_num, b_num = EXTS["bs_a"], EXTS["bs_b"]
        # SRTP (SDES) mandatory on both phones: the media is anchored on
        # the relay with a key per leg (test_media.py looks closer).
        params = ";mediaenc=srtp-mand"
        a = Baresip(self, "a", a_num, self.srv.pw[a_num], self.srv.tls_port, params)
        b = Baresip(self, "b", b_num, self.srv.pw[b_num], self.srv.tls_port, params + ";answermode=auto")
        bind = {}
        for num, phone in ((a_num, a), (b_num, b)):
            rows, ok = self.srv.poll_bindings(num, lambda r: len(r) == 1, timeout=10)
            self.assertTrue(ok, "%s did not register: %r\n%s" % (num, rows, phone.text()[-4000:]))
            row = rows[0]
            self.assertEqual(row["transport"], "tls", row)
            self.assertIn(";transport=tls", row["contact"], row)
            self.assertTrue(row["user_agent"].startswith("baresip"), row)
            self.assertTrue(row["source"].startswith("127.0.0.1:"), row)
            bind[num] = row

        t0 = time.time()
        a.command("dial", "sip:%s@%s" % (b_num, TENANT_DOMAIN))
        b.event("CALL_ESTABLISHED")
        a.event("CALL_ESTABLISHED")
        time.sleep(2.5)
        stats = {}
        for phone in (a, b):
            d = phone.command("audio_debug")["data"]
            m = re.search(r"rcvd=(\d+)", d)
            stats[phone.name] = (int(m.group(1)) if m else 0, "secure=yes" in d)
        log("baresip media (packets received, SRTP on): %r" % stats)
        a.command("hangup")
        a.event("CALL_CLOSED")
        b.event("CALL_CLOSED")
        t1 = time.time()
        for phone in (a, b):
            rc = phone.quit()
            self.assertEqual(rc, 0, "baresip %s exit status %r:\n%s" % (phone.name, rc, phone.text()[-4000:]))
        # Both un-registered on the way out.
        for num in (a_num, b_num):
            rows, ok = self.srv.poll_bindings(num, lambda r: r == [])
            self.assertTrue(ok, "%s still bound after quitting: %r" % (num, rows))
        for name, (rcvd, secure) in stats.items():
            self.assertTrue(secure, "baresip %s: the call was not SRTP" % name)
            self.assertGreater(rcvd, 0, "baresip %s received no RTP" % name)

        rows = self.srv.poll_calls(b_num, 1)
        self.assertEqual(len(rows), 1, rows)
        c = rows[0]
        self.assertEqual((c["caller"], c["callee"], c["direction"]), (a_num, b_num, "internal"), c)
        self.assertEqual((c["disposition"], c["transport"]), ("answered", "tls"), c)
        self.assertEqual(c["source"], bind[a_num]["source"], "the call did not come over A's registered connection")
        self.assertTrue(c["user_agent"].startswith("baresip"), c)
        self.assertTrue(c["start_us"] <= c["answer_us"] <= c["end_us"], c)
        self.assertGreaterEqual(c["start_us"] / 1e6, t0 - 1, c)
        self.assertLessEqual(c["end_us"] / 1e6, t1 + 1, c)
        self.assertAlmostEqual(c["duration_ms"], 2500, delta=1500, msg=c)
        legs = c["legs"]
        self.assertEqual([(l["kind"], l["transport"]) for l in legs], [("caller", "tls"), ("callee", "tls")], legs)
        # The server reached B over the connection B opened (B accepts none).
        self.assertEqual(legs[1]["peer"], bind[b_num]["source"], legs)


# ---- a stop while a call is up ----


class UdpCallee:
    """A phone over UDP (Python) that registers and answers one INVITE
    with 200 and an SDP answer."""

    def __init__(self, srv, number):
        self.conn = Udp(srv.addr)
        self.number = number
        r = sipclient.Phone(self.conn, number, srv.pw[number], TENANT_DOMAIN).register(expires=300)
        if r is None or r.status != 200:
            raise AssertionError("%s did not register: %r" % (number, r and r.raw))
        self.got = []

    def answer(self, timeout=3.0):
        """Waits for the INVITE; answers 180 and 200; returns the INVITE."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.conn.recv(max(0.01, deadline - time.monotonic()))
            if m is None:
                break
            self.got.append(m)
            if m.method != "INVITE":
                continue
            tag = new_tag()
            sdp = b"v=0\r\no=callee 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n"
            for code, reason, body in ((180, "Ringing", b""), (200, "OK", sdp)):
                lines = ["SIP/2.0 %d %s" % (code, reason)]
                lines += ["Via: " + v for v in m.all("Via")]
                lines += [
                    "From: " + m.get("From"),
                    "To: %s;tag=%s" % (m.get("To"), tag),
                    "Call-ID: " + m.get("Call-ID"),
                    "CSeq: " + m.get("CSeq"),
                    "Contact: <sip:%s@%s:%d>" % ((self.number,) + tuple(self.conn.local)),
                ]
                if body:
                    lines.append("Content-Type: application/sdp")
                lines.append("Content-Length: %d" % len(body))
                self.conn.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            return m
        raise AssertionError("no INVITE reached %s (got %r)" % (self.number, [x.start for x in self.got]))

    def drain(self, timeout):
        self.got += self.conn.drain(timeout)
        return self.got

    def close(self):
        self.conn.close()


class TestStopDuringCall(SwTestCase):
    """A clean stop (SIGTERM) while a call is up: exit 0, no sanitizer
    report, and the call is in the CDR like any other (it was answered:
    it is billable). Its own daemon: this test stops it."""

    def test_sigterm_with_a_call_up(self):
        srv = CallServer()
        self.addCleanup(srv.cleanup)
        caller, callee = EXTS["caller"], EXTS["udp"]
        phone = UdpCallee(srv, callee)
        self.addCleanup(phone.close)
        conn = Udp(srv.addr)
        self.addCleanup(conn.close)
        ruri = "sip:%s@%s" % (callee, TENANT_DOMAIN)
        frm = "sip:%s@%s" % (caller, TENANT_DOMAIN)
        cid, tag = new_call_id(), new_tag()
        r = conn.exchange(raw_invite(conn, ruri, frm, call_id=cid, tag=tag).bytes())
        self.assertEqual(r.status if r else None, 407)
        ch = r.challenges("Proxy-Authenticate")[0]
        auth = authorization("MD5", caller, ch["realm"], srv.pw[caller], "INVITE", ruri, ch["nonce"], 1)
        conn.send(raw_invite(conn, ruri, frm, auth=auth, call_id=cid, tag=tag, cseq=2).bytes())
        phone.answer()
        ok = final_answer(conn)
        self.assertEqual(ok.status if ok else None, 200, ok and ok.raw)
        target = ok.contacts()[0][0]
        conn.send(Request("ACK", target, [
            ("Via", conn.via()),
            ("Max-Forwards", "70"),
            ("From", "<%s>;tag=%s" % (frm, tag)),
            ("To", ok.get("To")),
            ("Call-ID", cid),
            ("CSeq", "2 ACK"),
        ]))
        got = phone.drain(0.5)
        self.assertIn("ACK", [m.method for m in got], "the ACK did not reach the callee")

        # The call is up: stop the daemon.
        problems = []
        d, srv.daemon = srv.daemon, None
        try:
            rc = d.stop(signal.SIGTERM)
            if rc != 0:
                problems.append("exit status %r" % rc)
        except AssertionError as e:
            problems.append(str(e)[:4000])
        rows = srv.calls(callee)
        if len(rows) != 1:
            problems.append("the call up at the stop is not in the CDR (calls rows: %r)" % rows)
        elif rows[0]["answer_us"] is None or rows[0]["end_us"] is None:
            problems.append("the CDR of the call up at the stop is incomplete: %r" % rows[0])
        after = [m.method or m.status for m in phone.drain(0.3)]
        log("the callee got %r at the stop; the caller got %r" % (after[-3:], [m.method or m.status for m in conn.drain(0.1)]))
        if problems:
            self.fail("a stop with a call up:\n" + "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
