"""TLS after the handshake: the daemon hands each connection's records to
its own record layer (src/transport/tlsrec.c) and frees OpenSSL's
connection state. Shown here against real clients:

- every suite the server allows (TLS 1.3: AES-128-GCM, AES-256-GCM,
  ChaCha20-Poly1305; TLS 1.2: ECDHE-ECDSA with AES-128/256-GCM and
  ChaCha20-Poly1305) carries SIP both ways (Python's ssl, i.e. OpenSSL);
- a request sent one byte per TLS record, and a 30 KB request spread
  over records, are framed and answered;
- a TLS 1.3 KeyUpdate from the client (OpenSSL s_client's "K" command,
  update requested) is answered and the connection goes on;
- a close_notify or a forged record closes the connection, and the
  daemon goes on;
- what an idle registered TLS phone costs the daemon in memory (the
  release binary: ASan's quarantine would hide it): under 4 KiB per
  connection (OpenSSL's state was ~20 KiB).
"""

import os
import socket
import ssl
import subprocess
import time

import helpers
import sipclient
from helpers import ROOT, SwTestCase, log
from sipclient import Tls
from test_sip_register import SipServer, SipTestCase

RELEASE_BIN = os.path.join(ROOT, "build", "sipwarden")
MEM_CONNS = 600  # connections held for the memory measure
MEM_PER_SOURCE = 50  # below the per-source cap (64)
MEM_MAX_PER_CONN = 4096  # bytes of PSS per idle TLS connection


def options(user="1001", domain="acme.example.com", extra=b"", conn=None):
    branch = sipclient.new_branch()
    via = conn.via(branch) if conn is not None else "SIP/2.0/TLS 127.0.0.1:5999;branch=%s;rport" % branch
    return (
        "OPTIONS sip:%s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n"
        "From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
        % (domain, via, user, domain, sipclient.new_tag(), user, domain, sipclient.new_call_id())
    ).encode() + extra + b"Content-Length: 0\r\n\r\n"


def pss_kb(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise AssertionError("no Pss for %d" % pid)


class TestTlsRecords(SipTestCase):
    EXTS = ("1001",)

    def ctx(self, maximum=None, ciphers=None):
        return sipclient.tls_context(maximum=maximum, ciphers=ciphers)

    def test_every_suite_carries_sip(self):
        cases = [
            ("TLSv1.3", None, None),
            ("TLSv1.2", ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256"),
            ("TLSv1.2", ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES256-GCM-SHA384"),
            ("TLSv1.2", ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-CHACHA20-POLY1305"),
        ]
        for version, maxv, suite in cases:
            with self.subTest(version=version, suite=suite):
                conn = self.tls(ctx=self.ctx(maximum=maxv, ciphers=suite))
                self.assertEqual(conn.sock.version(), version)
                if suite is not None:
                    self.assertEqual(conn.sock.cipher()[0], suite)
                for _ in range(3):
                    conn.send(options(conn=conn))
                    r = conn.recv(3.0)
                    self.assertIsNotNone(r, "no answer over %s %s" % (version, conn.sock.cipher()[0]))
                    self.assertEqual(r.status, 200, r.raw)
                p = self.phone(conn, "1001")
                self.assertStatus(p.register(expires=300), 200, "REGISTER")
                self.assertStatus(p.register(expires=0), 200, "un-REGISTER")
        # TLS 1.3 with each suite the server allows: s_client picks them.
        for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"):
            with self.subTest(suite=suite):
                out = self.s_client(["-ciphersuites", suite], [options(), options()])
                self.assertIn("Cipher is %s" % suite, out)
                self.assertEqual(out.count("SIP/2.0 200 OK"), 2, out[-3000:])

    def s_client(self, args, messages, between=None):
        """Runs openssl s_client against the daemon, writes messages (with
        `between` lines, s_client commands, after the first), and returns
        what it printed once the answers are in."""
        # Not -ign_eof nor -quiet: they turn s_client's commands off.
        cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.srv.tls_port, "-tls1_3"] + args
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        try:
            time.sleep(0.5)
            for i, m in enumerate(messages):
                if i > 0 and between:
                    p.stdin.write(between)
                    p.stdin.flush()
                    time.sleep(0.3)
                p.stdin.write(m)
                p.stdin.flush()
                time.sleep(0.3)
            time.sleep(0.5)
            out, _ = p.communicate(timeout=10)  # closes stdin: s_client ends
        finally:
            if p.poll() is None:
                p.kill()
        return out.decode("latin-1")

    def test_key_update_from_the_client(self):
        """s_client's K command: a KeyUpdate asking for one back. The
        daemon's record layer takes the new read key, sends its own
        KeyUpdate, and answers the next request under the new keys."""
        out = self.s_client(["-msg"], [options(), options(), options()], between=b"K\n")
        self.assertEqual(out.count(">>> TLS 1.3, Handshake [length 0005], KeyUpdate"), 2, out[-3000:])
        # The daemon's own, update_not_requested, once per request.
        self.assertEqual(out.count("<<< TLS 1.3, Handshake [length 0005], KeyUpdate\n    18 00 00 01 00"), 2,
                         out[-4000:])
        self.assertEqual(out.count("SIP/2.0 200 OK"), 3, out[-3000:])

    def test_records_of_one_byte_and_a_long_message(self):
        conn = self.tls()
        msg = options(conn=conn)
        for i in range(len(msg)):
            conn.sock.send(msg[i:i + 1])  # one TLS record per byte
        r = conn.recv(3.0)
        self.assertIsNotNone(r, "no answer to a request sent a byte per record")
        self.assertEqual(r.status, 200, r.raw)
        # About 30 KB of headers: two records and more on the wire.
        filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000) for i in range(30))
        big = options(conn=conn, extra=filler)
        self.assertGreater(len(big), 30000)
        conn.sock.sendall(big)
        r = conn.recv(5.0)
        self.assertIsNotNone(r, "no answer to a 30 KB request")
        self.assertEqual(r.status, 200, r.raw)

    def test_close_notify_and_forged_record(self):
        conn = self.tls()
        conn.send(options(conn=conn))
        self.assertEqual(conn.recv(3.0).status, 200)
        raw = conn.sock.unwrap()  # close_notify: the daemon closes
        raw.settimeout(3.0)
        try:
            rest = raw.recv(100)
        except (ConnectionResetError, socket.timeout) as e:
            rest = repr(e).encode()
        self.assertEqual(rest, b"", "the daemon did not close after close_notify: %r" % rest)
        raw.close()
        # A record that cannot authenticate: closed, nothing answered.
        conn = self.tls()
        conn.send(options(conn=conn))
        self.assertEqual(conn.recv(3.0).status, 200)
        s = conn.sock.fileno()
        forged = bytes([23, 3, 3, 0, 40]) + os.urandom(40)
        os.write(s, forged)
        deadline = time.monotonic() + 3
        closed = False
        while time.monotonic() < deadline:
            try:
                d = os.read(s, 100)
            except BlockingIOError:
                time.sleep(0.05)
                continue
            except ConnectionResetError:
                closed = True
                break
            if d == b"":
                closed = True
                break
        self.assertTrue(closed, "a forged record did not close the connection")
        # The daemon goes on.
        conn = self.tls()
        conn.send(options(conn=conn))
        self.assertEqual(conn.recv(3.0).status, 200)


class ReleaseServer(SipServer):
    """SipServer running the release binary."""

    def start(self):
        if not os.path.exists(RELEASE_BIN):
            raise AssertionError("%s is missing (make build/sipwarden)" % RELEASE_BIN)
        saved, helpers.BIN = helpers.BIN, RELEASE_BIN
        try:
            return super().start()
        finally:
            helpers.BIN = saved


class TestTlsMemory(SwTestCase):
    def test_idle_tls_connection_memory(self):
        srv = ReleaseServer(("1001",))
        self.addCleanup(srv.cleanup)
        pid = srv.daemon.proc.pid
        conns = []

        def open_some(n, first_source):
            for i in range(n):
                src = "127.0.0.%d" % (first_source + i // MEM_PER_SOURCE)
                raw = socket.create_connection(srv.tls_addr, timeout=5, source_address=(src, 0))
                s = sipclient.tls_context().wrap_socket(raw)
                s.sendall(options())
                s.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise AssertionError("connection %d closed" % i)
                    data += chunk
                if not data.startswith(b"SIP/2.0 200"):
                    raise AssertionError(data[:200])
                conns.append(s)

        try:
            open_some(40, 2)  # the first connections warm up what is lazy
            time.sleep(0.5)
            before = pss_kb(pid)
            open_some(MEM_CONNS, 10)
            time.sleep(0.5)
            after = pss_kb(pid)
        finally:
            for s in conns:
                s.close()
        per_conn = (after - before) * 1024 / MEM_CONNS
        log("daemon PSS %d kB -> %d kB with %d more idle TLS connections: %.0f bytes each"
            % (before, after, MEM_CONNS, per_conn))
        self.assertLess(per_conn, MEM_MAX_PER_CONN, "an idle TLS connection costs %.0f bytes" % per_conn)


class TestSlowClients(SipTestCase):
    """Slowloris: clients that start a message (or a TLS record) and never
    finish it tie up nothing: other clients are answered meanwhile, and
    each slow connection is closed once its message has been pending for
    30 s (TP_HEADER_S); an idle connection with nothing pending stays."""

    EXTS = ("1001",)

    def closed_within(self, sock, seconds):
        """Waits until the peer closes sock; returns the seconds it took,
        or None."""
        t0 = time.monotonic()
        sock.setblocking(False)
        while time.monotonic() - t0 < seconds:
            try:
                d = os.read(sock.fileno(), 4096)
            except BlockingIOError:
                time.sleep(0.2)
                continue
            except ConnectionResetError:
                return time.monotonic() - t0
            if d == b"":
                return time.monotonic() - t0
        return None

    def test_slow_clients_closed_and_others_served(self):
        partial = options()[:60]
        # TCP: half a request.
        tcp = socket.create_connection(self.srv.addr, timeout=5)
        self.addCleanup(tcp.close)
        tcp.sendall(partial)
        # TLS: half a request inside whole records.
        tls_plain = self.tls()
        tls_plain.sock.send(partial)
        # TLS: half a record (a header announcing 100 bytes, 10 sent).
        tls_rec = self.tls()
        os.write(tls_rec.sock.fileno(), bytes([23, 3, 3, 0, 100]) + os.urandom(10))
        # An idle TLS phone with nothing pending: stays open.
        idle = self.tls()
        idle.send(options(conn=idle))
        self.assertEqual(idle.recv(3.0).status, 200)
        t0 = time.monotonic()
        # Meanwhile everybody else is served, over every transport.
        for i in range(10):
            for conn in (self.udp(), self.tcp(), self.tls()):
                conn.send(options(conn=conn))
                r = conn.recv(3.0)
                self.assertIsNotNone(r, "a client got no answer while slow ones hold connections")
                self.assertEqual(r.status, 200)
                conn.close()
        left = 45 - (time.monotonic() - t0)
        for name, s in (("tcp", tcp), ("tls (partial message)", tls_plain.sock), ("tls (partial record)", tls_rec.sock)):
            took = self.closed_within(s, max(left, 1))
            self.assertIsNotNone(took, "the slow %s connection is still open after 45 s" % name)
            left -= took
            log("slow %s connection closed" % name)
        # The idle one is still served.
        idle.send(options(conn=idle))
        r = idle.recv(3.0)
        self.assertIsNotNone(r, "the idle TLS connection was closed")
        self.assertEqual(r.status, 200)
