"""Media: SRTP required for phones, media anchored on the relay with a key
per leg, refusals with 488, spoofed and forged packets dropped, relay
ports returned.

The SRTP call uses two real baresip phones over TLS (mediaenc=srtp-mand)
and a capture of the loopback interface (tshark, as root). The keys each
phone sent and received are read from the phones' own SIP traces (baresip
-s prints every message it sends and receives, before TLS), and every
captured packet is checked with libsrtp2 (build/tools/srtpcheck, an
implementation independent of ours): each leg's packets authenticate with
that leg's keys only; what A sends arrives at B as the same audio under
other bytes.

Other tests use a Python phone (sipclient) over TLS or UDP for what no
phone sends: a plain-RTP offer, a crypto offer over UDP. A missing tool
fails the test; nothing is skipped.
"""

import os
import random
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import sipclient
from helpers import ROOT, TENANT, TENANT_DOMAIN, SwTestCase, log
from sipclient import Request, Tls, Udp, Tcp, authorization, new_call_id, new_tag
from test_sip_calls import (
    EXTS,
    MEDIA_HI,
    MEDIA_LO,
    Baresip,
    CallServer,
    UdpCallee,
    ack_for,
    media_sockets,
    require_tool,
    wait_media_sockets,
)

SRTPCHECK = os.path.join(ROOT, "build", "tools", "srtpcheck")
MEDIA_TIMEOUT_S = 5  # [media] timeout of this deployment (the minimum)
CALLS_PER_EXT = 2  # [guard] calls_per_extension of this deployment

SAVP_SDP = (
    "v=0\r\no=py 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio %d RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
)
AVP_SDP = (
    "v=0\r\no=py 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


# ---- what the phones said: their SIP traces ----


def trace_messages(text):
    """baresip -s trace entries: [(src, dst, start line, headers text,
    body)], in order."""
    out = []
    for chunk in text.split("\x1b[36;1m#\n")[1:]:
        chunk = chunk.split("\x1b[;m")[0]
        first, _, msg = chunk.partition("\n")
        m = re.search(r"(\S+) -> (\S+)\s*$", first)
        if not m:
            continue
        head, _, body = msg.partition("\r\n\r\n")
        start = head.split("\r\n", 1)[0]
        out.append((m.group(1), m.group(2), start, head, body))
    return out


def sdp_info(body):
    """(c= address, audio port, [(tag, suite, key base64)], proto) of an
    SDP body."""
    c = re.search(r"(?m)^c=IN IP[46] (\S+)", body)
    m = re.search(r"(?m)^m=audio (\d+) (\S+)", body)
    cryptos = re.findall(r"(?m)^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)", body)
    return (c.group(1) if c else None, int(m.group(1)) if m else None, cryptos, m.group(2) if m else None)


def raw_log(phone):
    """The phone's log with its line ends as written (SIP uses CRLF)."""
    phone.logf.flush()
    with open(phone.log_path, newline="", errors="replace") as f:
        return f.read()


def invite_sdps(phone):
    """The SDP of the first INVITE with SDP in the phone's trace (sent or
    received), and of the 200 to it: (invite, 200), each (src, dst,
    sdp)."""
    msgs = trace_messages(raw_log(phone))
    inv = ok = None
    for src, dst, start, head, body in msgs:
        if start.startswith("INVITE ") and "v=0" in body and inv is None:
            inv = (src, dst, body)
        elif start.startswith("SIP/2.0 200") and re.search(r"(?im)^cseq:\s*\d+ INVITE", head) and "v=0" in body:
            if inv is not None and ok is None:
                ok = (src, dst, body)
    return inv, ok


# ---- the capture ----


class Capture:
    """tshark on the loopback interface, UDP in the media range, to a pcap
    file."""

    def __init__(self, tc, lo, hi):
        require_tool("tshark", "tshark")
        self.dir = tempfile.mkdtemp(prefix="sw-pcap-")
        tc.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "media.pcap")
        self.errf = open(os.path.join(self.dir, "tshark.err"), "wb")
        self.proc = subprocess.Popen(
            ["tshark", "-q", "-i", "lo", "-F", "pcap", "-w", self.path, "-f", "udp portrange %d-%d" % (lo, hi)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.errf,
        )
        tc.addCleanup(self.stop)
        deadline = time.monotonic() + 15
        while b"Capturing on" not in self.err():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tc.fail("tshark did not start: %r" % self.err())
            time.sleep(0.05)

    def err(self):
        self.errf.flush()
        with open(os.path.join(self.dir, "tshark.err"), "rb") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            time.sleep(0.5)  # let the last packets reach the file
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def packets(self):
        """[(src ip, src port, dst ip, dst port, payload)] of the UDP/IPv4
        datagrams captured."""
        with open(self.path, "rb") as f:
            data = f.read()
        magic = struct.unpack("<I", data[:4])[0]
        end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        linktype = struct.unpack(end + "I", data[20:24])[0]
        off, out = 24, []
        while off + 16 <= len(data):
            _, _, incl, _ = struct.unpack(end + "IIII", data[off : off + 16])
            frame = data[off + 16 : off + 16 + incl]
            off += 16 + incl
            if linktype == 1:  # Ethernet
                if frame[12:14] != b"\x08\x00":
                    continue
                ip = frame[14:]
            elif linktype == 113:  # Linux cooked
                ip = frame[16:]
            elif linktype == 276:  # Linux cooked v2
                ip = frame[20:]
            else:
                raise AssertionError("capture link type %d" % linktype)
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 15) * 4
            udp = ip[ihl:]
            sport, dport, ulen = struct.unpack("!HHH", udp[:6])
            out.append((socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport, udp[8:ulen]))
        return out


def srtp_check(suite, key, pkts):
    """libsrtp2's verdict on each packet (in order) for one key: a list of
    decrypted packets (bytes) or None where it failed."""
    lines = []
    for p in pkts:
        rtcp = len(p) >= 2 and 192 <= p[1] <= 223
        lines.append("%s %s\n" % ("rtcp" if rtcp else "rtp", p.hex()))
    r = subprocess.run([SRTPCHECK, suite, key], input="".join(lines).encode(), stdout=subprocess.PIPE, timeout=60)
    if r.returncode != 0:
        raise AssertionError("srtpcheck %s failed: %r" % (suite, r))
    out = []
    for line in r.stdout.decode().splitlines():
        word, _, rest = line.partition(" ")
        out.append(bytes.fromhex(rest) if word == "ok" else None)
    if len(out) != len(pkts):
        raise AssertionError("srtpcheck answered %d lines for %d packets" % (len(out), len(pkts)))
    return out


def plain_rtcp(p):
    """Whether p is a plain (not SRTCP) RTCP compound packet: its length
    fields add up to exactly its size (SRTCP carries 14 more bytes).
    baresip sends a few in clear: an APP "PING" keep-alive and a BYE as the
    call ends; the relay drops them (they cannot authenticate)."""
    off = 0
    while off + 4 <= len(p):
        if p[off] >> 6 != 2 or not 192 <= p[off + 1] <= 223:
            return False
        off += (struct.unpack("!H", p[off + 2 : off + 4])[0] + 1) * 4
    return off == len(p) and len(p) > 0


def raw_udp(src, dst, payload):
    """Sends one UDP/IPv4 datagram with any source address and port (a
    raw socket: root only)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, socket.inet_aton(src[0]), socket.inet_aton(dst[0])
    )
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.sendto(ip + udp, (dst[0], 0))
    finally:
        s.close()


def rtp_like(nbytes=160, tag=10):
    """An RTP header, a payload and a tag-sized tail: random bytes that
    cannot authenticate."""
    hdr = struct.pack("!BBHII", 0x80, 0, random.randrange(65536), random.randrange(1 << 32), random.randrange(1 << 32))
    return hdr + os.urandom(nbytes + tag)


def answer_bye(conn, m):
    """200 to a BYE received on conn."""
    lines = ["SIP/2.0 200 OK"] + ["Via: " + v for v in m.all("Via")]
    lines += ["From: " + m.get("From"), "To: " + m.get("To"), "Call-ID: " + m.get("Call-ID"), "CSeq: " + m.get("CSeq")]
    lines.append("Content-Length: 0")
    conn.send(("\r\n".join(lines) + "\r\n\r\n").encode())


class MediaServer(CallServer):
    """CallServer with the shortest media timeout, so a silent call ends
    within the test."""

    def configure(self, conf_set, conf):
        conf_set(conf, "media", "timeout", "%ds" % MEDIA_TIMEOUT_S)
        conf_set(conf, "guard", "calls_per_extension", str(CALLS_PER_EXT))


class TestMedia(SwTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        require_tool("tshark", "tshark")
        if not os.path.exists(SRTPCHECK):
            raise AssertionError("%s is missing (make build/tools/srtpcheck)" % SRTPCHECK)
        cls.srv = MediaServer()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            super().tearDownClass()

    def setUp(self):
        self.addCleanup(self._check_daemon)

    def _check_daemon(self):
        d = self.srv.daemon
        if d is not None:
            self.assertTrue(d.alive(), "the daemon died; its log:\n" + d.text()[-6000:])

    # -- a Python caller --

    def invite(self, conn, role, callee, sdp, final=True):
        """An authenticated INVITE from role's extension to callee with the
        SDP given; returns (request, final answer). final=False: returns
        once the INVITE is sent (the answer is the caller's to read)."""
        num = EXTS[role]
        ruri = "sip:%s@%s" % (callee, TENANT_DOMAIN)
        aor = "sip:%s@%s" % (num, TENANT_DOMAIN)
        call_id, tag = new_call_id(), new_tag()

        def req(cseq, auth=None):
            h = [
                ("Via", conn.via()),
                ("Max-Forwards", "70"),
                ("From", "<%s>;tag=%s" % (aor, tag)),
                ("To", "<%s>" % ruri),
                ("Call-ID", call_id),
                ("CSeq", "%d INVITE" % cseq),
                ("Contact", "<%s>" % conn.contact_uri(num)),
                ("Content-Type", "application/sdp"),
            ]
            if auth:
                h.append(("Proxy-Authorization", auth))
            return Request("INVITE", ruri, h, sdp.encode())

        r1 = req(1)
        conn.send(r1)
        a1 = self.final(conn)
        self.assertIsNotNone(a1, "no answer to the INVITE")
        self.assertEqual(a1.status, 407, a1.raw)
        ack_for(conn, r1, a1)
        ch = a1.challenges("Proxy-Authenticate")[0]
        auth = authorization("MD5", num, ch["realm"], self.srv.pw[num], "INVITE", ruri, ch["nonce"], 1)
        r2 = req(2, auth)
        conn.send(r2)
        if not final:
            return r2, None
        a2 = self.final(conn)
        self.assertIsNotNone(a2, "no answer to the authenticated INVITE")
        if a2.status >= 500:
            log("daemon log after a %d:\n%s" % (a2.status, self.srv.daemon.text()[-2000:]))
        return r2, a2

    def final(self, conn, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = conn.recv(max(0.01, deadline - time.monotonic()))
            if m is None:
                return None
            if m.status is not None and m.status >= 200:
                return m
        return None

    # -- 488 --

    def test_plain_offer_over_tls_refused(self):
        conn = Tls(("127.0.0.1", self.srv.tls_port))
        self.addCleanup(conn.close)
        req, ans = self.invite(conn, "md_plain", EXTS["md_b"], AVP_SDP % 40000)
        ack_for(conn, req, ans)
        self.assertEqual(ans.status, 488, ans.raw)
        w = ans.get("Warning") or ""
        self.assertRegex(w, r'^399 \S+ "SRTP required', ans.raw)
        self.assertNotIn("sipwarden", ans.raw.decode("latin-1").lower())
        self.srv.daemon.wait_for(r"offer from .* refused: SRTP required", 5)

    def test_crypto_over_udp_refused(self):
        conn = Udp(self.srv.addr)
        self.addCleanup(conn.close)
        req, ans = self.invite(conn, "md_udp", EXTS["md_b"], SAVP_SDP % 40000)
        ack_for(conn, req, ans)
        self.assertEqual(ans.status, 488, ans.raw)
        self.assertRegex(ans.get("Warning") or "", r'^399 \S+ "SRTP keys \(a=crypto\) are refused on unencrypted SIP')
        # And a plain offer from the same srtp=required extension over UDP.
        req, ans = self.invite(conn, "md_udp", EXTS["md_b"], AVP_SDP % 40000)
        ack_for(conn, req, ans)
        self.assertEqual(ans.status, 488, ans.raw)

    # -- the SRTP call --

    def test_srtp_call_keys_per_leg(self):
        a_num, b_num = EXTS["md_a"], EXTS["md_b"]
        pid = self.srv.daemon.proc.pid
        params = ";mediaenc=srtp-mand"
        cap = Capture(self, MEDIA_LO, 65535)
        a = Baresip(self, "ma", a_num, self.srv.pw[a_num], self.srv.tls_port, params)
        b = Baresip(self, "mb", b_num, self.srv.pw[b_num], self.srv.tls_port, params + ";answermode=auto")
        for num, phone in ((a_num, a), (b_num, b)):
            rows, ok = self.srv.poll_bindings(num, lambda r: len(r) == 1, timeout=10)
            self.assertTrue(ok, "%s did not register: %r\n%s" % (num, rows, phone.text()[-4000:]))
        a.command("dial", "sip:%s@%s" % (b_num, TENANT_DOMAIN))
        b.event("CALL_ESTABLISHED")
        a.event("CALL_ESTABLISHED")
        self.assertEqual(wait_media_sockets(pid, 4), 4, "the relay does not hold 2 port pairs for the call")
        time.sleep(2.0)

        def rcvd(phone):
            d = phone.command("audio_debug")["data"]
            m = re.search(r"rcvd=(\d+)", d)
            return (int(m.group(1)) if m else 0), "secure=yes" in d

        before = {p.name: rcvd(p) for p in (a, b)}
        # What each phone sent and got (from its own trace).
        a_inv, a_ok = invite_sdps(a)
        b_inv, b_ok = invite_sdps(b)
        for what, x in (("A's INVITE", a_inv), ("A's 200", a_ok), ("B's INVITE", b_inv), ("B's 200", b_ok)):
            self.assertIsNotNone(x, "no %s with SDP in the traces:\n%s\n%s" % (what, a.text()[-3000:], b.text()[-3000:]))
        a_addr, a_port, a_cr, _ = sdp_info(a_inv[2])
        ra_addr, ra_port, ra_cr, ra_proto = sdp_info(a_ok[2])
        rb_addr, rb_port, rb_cr, rb_proto = sdp_info(b_inv[2])
        b_addr, b_port, b_cr, _ = sdp_info(b_ok[2])
        log("leg A: phone %s:%s <-> relay %s:%s; leg B: relay %s:%s <-> phone %s:%s"
            % (a_addr, a_port, ra_addr, ra_port, rb_addr, rb_port, b_addr, b_port))
        self.assertEqual((ra_proto, rb_proto), ("RTP/SAVP", "RTP/SAVP"))
        self.assertTrue(MEDIA_LO <= ra_port <= MEDIA_HI and MEDIA_LO <= rb_port <= MEDIA_HI, (ra_port, rb_port))
        self.assertNotEqual(ra_port, rb_port)
        # No address of one phone reaches the other: B sees only the relay.
        self.assertNotIn(str(a_port), re.sub(r"(?m)^a=crypto.*$", "", b_inv[2]).replace(str(rb_port), ""))
        self.assertNotIn("a=candidate", b_inv[2])
        self.assertEqual(len(ra_cr), 1, a_ok[2])
        self.assertEqual(len(b_cr), 1, b_ok[2])
        tag_a, suite_a, key_ra = ra_cr[0]
        tag_b, suite_b, key_b = b_cr[0]
        key_a = [k for t, s, k in a_cr if t == tag_a and s == suite_a]
        key_rb = [k for t, s, k in rb_cr if t == tag_b and s == suite_b]
        self.assertEqual((len(key_a), len(key_rb)), (1, 1), (a_cr, rb_cr))
        key_a, key_rb = key_a[0], key_rb[0]
        # Four keys, all different: each leg its own, each direction its own.
        self.assertEqual(len({key_a, key_ra, key_b, key_rb}), 4, (key_a, key_ra, key_b, key_rb))
        self.assertNotIn(key_a, b_inv[2])
        self.assertNotIn(key_b, a_ok[2])

        # A spoofed packet (another source) and a forged one (A's source,
        # a tag that cannot authenticate) to the relay's port for A.
        relay_a = ("127.0.0.1", ra_port)
        s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s2.bind(("127.0.0.2", 0))
        s2.sendto(rtp_like(), relay_a)
        s2.close()
        raw_udp(("127.0.0.1", a_port), relay_a, rtp_like())
        time.sleep(1.5)
        after = {p.name: rcvd(p) for p in (a, b)}
        log("baresip packets received before/after the injection: %r %r" % (before, after))
        for name in before:
            self.assertTrue(after[name][1], "baresip %s: the call is not SRTP" % name)
            self.assertGreater(before[name][0], 20, "baresip %s received little RTP: %r" % (name, before))
            self.assertGreater(after[name][0], before[name][0] + 20, "baresip %s: media stopped after the injection" % name)
        a.command("hangup")
        a.event("CALL_CLOSED")
        b.event("CALL_CLOSED")
        self.srv.daemon.wait_for(r"media side A dropped spoofed=[1-9]\d* auth-failed=[1-9]", 5)
        self.assertEqual(wait_media_sockets(pid, 0), 0, "relay ports still open after the call")
        for phone in (a, b):
            self.assertEqual(phone.quit(), 0, phone.text()[-3000:])
        cap.stop()

        # The wire: sort the captured packets by leg and direction.
        flows = {"a_in": [], "a_out": [], "b_in": [], "b_out": []}
        for sip, sport, dip, dport, payload in cap.packets():
            if dport in (ra_port, ra_port + 1) and sport in (a_port, a_port + 1) and sip == "127.0.0.1":
                flows["a_in"].append(payload)
            elif sport in (ra_port, ra_port + 1) and dport in (a_port, a_port + 1):
                flows["a_out"].append(payload)
            elif dport in (rb_port, rb_port + 1) and sport in (b_port, b_port + 1):
                flows["b_in"].append(payload)
            elif sport in (rb_port, rb_port + 1) and dport in (b_port, b_port + 1):
                flows["b_out"].append(payload)
        log("captured packets per flow: %r" % {k: len(v) for k, v in flows.items()})
        for k, v in flows.items():
            self.assertGreater(len(v), 50, "too few packets captured on %s" % k)
        keys = {"a_in": (suite_a, key_a), "a_out": (suite_a, key_ra), "b_in": (suite_b, key_b), "b_out": (suite_b, key_rb)}
        plain = {}
        for flow, pkts in flows.items():
            for kflow, (suite, key) in keys.items():
                res = srtp_check(suite, key, pkts)
                ok = sum(1 for r in res if r is not None)
                if kflow == flow:
                    # All authenticate with the key, but the forged packet
                    # and the phone's own plain RTCP.
                    bad = [p[:16].hex() + "..(%d)" % len(p) for p, r in zip(pkts, res) if r is None and not plain_rtcp(p)]
                    self.assertLessEqual(len(bad), 1 if flow == "a_in" else 0, "%s: packets that fail with its own key: %r" % (flow, bad))
                    if flow.endswith("_out"):
                        self.assertFalse([p for p in pkts if plain_rtcp(p)], "the relay sent plain RTCP on %s" % flow)
                    plain[flow] = [r for r in res if r is not None]
                else:
                    self.assertEqual(ok, 0, "%s: %d packets authenticate with the key of %s" % (flow, ok, kflow))
        # The payload on the wire is not the audio; the audio A sent is
        # what B got, under other bytes.
        def rtp_payloads(pkts):
            return [p[12:] for p in pkts if len(p) > 12 and not 192 <= p[1] <= 223]

        wire_a = set(rtp_payloads(flows["a_in"]))
        audio_a = set(rtp_payloads(plain["a_in"]))
        audio_b = set(rtp_payloads(plain["b_out"]))
        self.assertFalse(wire_a & audio_a, "SRTP payload equal to the audio it carries")
        self.assertGreater(len(audio_a & audio_b), len(audio_a) // 2, "the audio A sent did not reach B")
        self.assertFalse(wire_a & set(p[12:] for p in flows["b_out"]), "the same ciphertext on both legs")

        # The server's counters, in the call record.
        deadline = time.monotonic() + 5
        while True:
            rows = [r for r in self.srv.calls(b_num) if r["caller"] == a_num]
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(rows), 1, rows)
        legs = self.srv.d.query(
            "SELECT leg, packets, bytes FROM call_legs WHERE call_id = ? ORDER BY leg", (rows[0]["id"],)
        )
        log("call record media counters: %r" % (legs,))
        self.assertEqual(len(legs), 2, legs)
        for leg, packets, nbytes in legs:
            self.assertGreater(packets, 50, legs)
            self.assertGreater(nbytes, packets * 100, legs)

    # -- calls at once --

    def test_calls_per_extension(self):
        """[guard] calls_per_extension = 2: a third call at once from the
        same extension gets 486 with a Warning and a security event; when
        one ends, a new one goes through."""
        callee = UdpCallee(self.srv, EXTS["lim_b"])
        self.addCleanup(callee.close)
        conns, reqs = [], []
        for i in range(CALLS_PER_EXT):
            c = Udp(self.srv.addr)
            self.addCleanup(c.close)
            r, _ = self.invite(c, "lim_a", EXTS["lim_b"], AVP_SDP % (40010 + 2 * i), final=False)
            conns.append(c)
            reqs.append(r)
        # Both ring at the callee (it never answers).
        deadline = time.monotonic() + 5
        while len({m.get("Call-ID") for m in callee.got if m.method == "INVITE"}) < CALLS_PER_EXT:
            self.assertLess(time.monotonic(), deadline, "the first calls did not reach the callee")
            callee.drain(0.2)
        c3 = Udp(self.srv.addr)
        self.addCleanup(c3.close)
        r3, a3 = self.invite(c3, "lim_a", EXTS["lim_b"], AVP_SDP % 40020)
        ack_for(c3, r3, a3)
        self.assertEqual(a3.status, 486, a3.raw)
        self.assertRegex(a3.get("Warning") or "", r'^399 \S+ "too many calls at once for this extension"')
        self.srv.daemon.wait_for(r"security: call-limit src=127\.0\.0\.1 user=%s@\S+ scope=extension limit=2" % EXTS["lim_a"], 5)
        # CANCEL the first; a new call is let through (it rings).
        for c, r in zip(conns, reqs):
            h = [("Via", r.get("Via")), ("Max-Forwards", "70"), ("From", r.get("From")), ("To", r.get("To")),
                 ("Call-ID", r.get("Call-ID")), ("CSeq", "2 CANCEL")]
            c.send(Request("CANCEL", r.ruri, h))
            a = self.final(c)
            while a is not None and a.cseq()[1] == "CANCEL":
                a = self.final(c)
            self.assertIsNotNone(a, "no 487 after CANCEL")
            self.assertEqual(a.status, 487, a.raw)
            ack_for(c, r, a)
        c4 = Udp(self.srv.addr)
        self.addCleanup(c4.close)
        r4, _ = self.invite(c4, "lim_a", EXTS["lim_b"], AVP_SDP % 40030, final=False)
        got = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            m = c4.recv(0.2)
            if m is not None and m.status is not None:
                got.append(m.status)
                if m.status >= 180:
                    break
        self.assertNotIn(486, got, got)
        h = [("Via", r4.get("Via")), ("Max-Forwards", "70"), ("From", r4.get("From")), ("To", r4.get("To")),
             ("Call-ID", r4.get("Call-ID")), ("CSeq", "2 CANCEL")]
        c4.send(Request("CANCEL", r4.ruri, h))
        a = self.final(c4)
        while a is not None and a.cseq()[1] == "CANCEL":
            a = self.final(c4)
        self.assertIsNotNone(a)
        ack_for(c4, r4, a)
        self.assertEqual(wait_media_sockets(self.srv.daemon.proc.pid, 0), 0, "relay ports still open")

    # -- ports come back --

    def test_media_timeout_and_ports_returned(self):
        """A call whose media never flows ends after [media] timeout with
        BYE on both legs; its ports return to the pool."""
        pid = self.srv.daemon.proc.pid
        callee = UdpCallee(self.srv, EXTS["md_to_b"])
        self.addCleanup(callee.close)
        conn = Udp(self.srv.addr)
        self.addCleanup(conn.close)
        t0 = time.monotonic()
        th = threading.Thread(target=callee.answer, kwargs={"timeout": 8.0})
        th.start()
        req, ans = self.invite(conn, "md_to_a", EXTS["md_to_b"], AVP_SDP % 40000)
        th.join()
        self.assertEqual(ans.status, 200, ans.raw)
        self.assertEqual(wait_media_sockets(pid, 4), 4)
        h = [
            ("Via", conn.via()),
            ("Max-Forwards", "70"),
            ("From", req.get("From")),
            ("To", ans.get("To")),
            ("Call-ID", req.get("Call-ID")),
            ("CSeq", "2 ACK"),
        ]
        conn.send(Request("ACK", req.ruri, h))
        bye = None
        deadline = time.monotonic() + MEDIA_TIMEOUT_S + 5
        while bye is None and time.monotonic() < deadline:
            m = conn.recv(0.5)
            if m is not None and m.method == "BYE":
                bye = m
        self.assertIsNotNone(bye, "no BYE after the media timeout; daemon log:\n" + self.srv.daemon.text()[-3000:])
        answer_bye(conn, bye)
        self.assertGreaterEqual(time.monotonic() - t0, MEDIA_TIMEOUT_S - 1)
        got = callee.drain(2.0)
        byes = [m for m in got if m.method == "BYE"]
        self.assertTrue(byes, "the callee got no BYE")
        answer_bye(callee.conn, byes[0])
        self.assertEqual(wait_media_sockets(pid, 0), 0, "relay ports still open")
        rows = self.srv.poll_calls(EXTS["md_to_b"], 1)
        self.assertEqual(rows[-1]["disposition"], "media-timeout", rows)

    def test_tcp_loss_returns_ports(self):
        """A caller whose TCP connection drops: BYE to the callee, ports
        back."""
        pid = self.srv.daemon.proc.pid
        callee = UdpCallee(self.srv, EXTS["md_tcp_b"])
        self.addCleanup(callee.close)
        conn = Tcp(self.srv.addr)
        th = threading.Thread(target=callee.answer, kwargs={"timeout": 8.0})
        th.start()
        req, ans = self.invite(conn, "md_tcp_a", EXTS["md_tcp_b"], AVP_SDP % 40000)
        th.join()
        self.assertEqual(ans.status, 200, ans.raw)
        self.assertEqual(wait_media_sockets(pid, 4), 4)
        conn.close()
        got = callee.drain(3.0)
        byes = [m for m in got if m.method == "BYE"]
        self.assertTrue(byes, "the callee got no BYE")
        answer_bye(callee.conn, byes[0])
        self.assertEqual(wait_media_sockets(pid, 0), 0, "relay ports still open")
