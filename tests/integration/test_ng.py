"""The ng control listener ([media] ng): rtpengine's "ng" protocol (bencode
over UDP on loopback) as Kamailio's and OpenSIPS's rtpengine modules speak
it, against the real daemon, from the outside: the bencode codec here is
the test's own (no project code is imported).

One deployment and one daemon for the class, with [media] ng on a free
loopback UDP port, a media port range of its own and SIP on free loopback
ports. Two Python UDP sockets play the phones: A on 127.0.0.2, B on
127.0.0.3 (so an address of one in the SDP the other gets would show), and
real RTP goes both ways through the relay. SRTP is checked with libsrtp2
(build/tools/srtpcheck, independent of our SRTP): it protects what A sends
with A's key and checks what A receives with the key the relay announced.
The relay's ports are counted with `ss` for the daemon's pid; they must be
closed after delete.

Hostile input: datagrams that are not ng requests, offers and answers the
anchor refuses, Call-IDs and tags of any length or bytes; each gets an
error reply (or nothing, without a cookie) and the listener goes on.

Not tested here: a datagram from a non-loopback source (nothing but
loopback is reachable from the test; the config refuses a non-loopback
listener, which is tested).
"""

import base64
import os
import re
import signal
import socket
import struct
import subprocess
import time

import sipclient
from helpers import ROOT, Deployment, SwTestCase, log
from test_sip_register import conf_set

SRTPCHECK = os.path.join(ROOT, "build", "tools", "srtpcheck")
MEDIA_LO, MEDIA_HI = 33000, 33999
A_HOST, B_HOST = "127.0.0.2", "127.0.0.3"
NG_TIMEOUT_S = 3.0  # what a request waits for its reply
SUITE = "AES_CM_128_HMAC_SHA1_80"


def free_port(udp_and_tcp=True, taken=()):
    """A free loopback port outside this test's media range."""
    while True:
        p = sipclient.free_port(udp_and_tcp)
        if not (MEDIA_LO <= p <= MEDIA_HI + 1) and p not in taken:
            return p


# ---- bencode, the test's own ----


def benc(v):
    """bencode of v: int, bytes, str (UTF-8), list, dict (keys sorted as
    raw byte strings, as the format requires)."""
    if isinstance(v, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode("utf-8")
    if isinstance(v, (bytes, bytearray)):
        return b"%d:%s" % (len(v), bytes(v))
    if isinstance(v, (list, tuple)):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted(((k.encode("utf-8") if isinstance(k, str) else k), x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError("cannot bencode %r" % type(v))


class BencodeError(ValueError):
    pass


def bdec(data):
    """The value of a whole bencoded document (strict: canonical integers,
    sorted unique dict keys, nothing after it). Strings come back as bytes;
    dict keys as str."""

    def one(i):
        if i >= len(data):
            raise BencodeError("truncated at %d" % i)
        c = data[i : i + 1]
        if c == b"i":
            j = data.index(b"e", i)
            s = data[i + 1 : j]
            if not re.fullmatch(rb"0|-?[1-9][0-9]*", s):
                raise BencodeError("bad integer %r" % s)
            return int(s), j + 1
        if c.isdigit():
            j = data.index(b":", i)
            s = data[i:j]
            if not re.fullmatch(rb"0|[1-9][0-9]*", s):
                raise BencodeError("bad string length %r" % s)
            n = int(s)
            if j + 1 + n > len(data):
                raise BencodeError("string past the end")
            return data[j + 1 : j + 1 + n], j + 1 + n
        if c == b"l":
            out, i = [], i + 1
            while data[i : i + 1] != b"e":
                v, i = one(i)
                out.append(v)
            return out, i + 1
        if c == b"d":
            out, i, last = {}, i + 1, None
            while data[i : i + 1] != b"e":
                k, i = one(i)
                if not isinstance(k, bytes):
                    raise BencodeError("dict key is not a string")
                if last is not None and k <= last:
                    raise BencodeError("dict keys not sorted: %r after %r" % (k, last))
                last = k
                v, i = one(i)
                out[k.decode("utf-8")] = v
            return out, i + 1
        raise BencodeError("unexpected %r at %d" % (c, i))

    try:
        v, end = one(0)
    except (IndexError, ValueError) as e:
        if isinstance(e, BencodeError):
            raise
        raise BencodeError(str(e))
    if end != len(data):
        raise BencodeError("%d bytes after the value" % (len(data) - end))
    return v


class BencodeSelfTest(SwTestCase):
    """The test's codec, against known encodings (so a failure below is
    the daemon's, not the codec's)."""

    def test_codec(self):
        self.assertEqual(benc({"b": 1, "a": [b"x", "yz"]}), b"d1:al1:x2:yze1:bi1ee")
        self.assertEqual(benc(-5), b"i-5e")
        self.assertEqual(bdec(b"d1:al1:x2:yze1:bi1ee"), {"a": [b"x", b"yz"], "b": 1})
        self.assertEqual(bdec(b"0:"), b"")
        for bad in (b"i01e", b"i-0e", b"d1:bi1e1:ai2ee", b"l", b"3:ab", b"i1ei2e", b"d1:a1:be1:c", b"x"):
            with self.assertRaises(BencodeError, msg=bad):
                bdec(bad)


# ---- SDP and RTP ----


def avp_sdp(host, port, proto="RTP/AVP", crypto=None, sess="4711"):
    """An offer or answer of a phone at host:port (PCMU and events), with
    an a=rtcp naming its address, an ICE candidate and, for SRTP, one
    a=crypto line."""
    lines = [
        "v=0",
        "o=phone %s 1 IN IP4 %s" % (sess, host),
        "s=call",
        "c=IN IP4 %s" % host,
        "t=0 0",
        "m=audio %d %s 0 101" % (port, proto),
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=rtcp:%d IN IP4 %s" % (port + 1, host),
        "a=candidate:1 1 UDP 2130706431 %s %d typ host" % (host, port),
        "a=sendrecv",
    ]
    if crypto is not None:
        lines.append("a=crypto:1 %s inline:%s" % crypto)
    return "\r\n".join(lines) + "\r\n"


def sdp_fields(sdp):
    """(c= address, audio port, proto, [(tag, suite, key)]) of an SDP."""
    c = re.search(r"(?m)^c=IN IP[46] (\S+?)\r?$", sdp)
    m = re.search(r"(?m)^m=audio (\d+) (\S+)", sdp)
    cr = re.findall(r"(?m)^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)", sdp)
    return (c.group(1) if c else None, int(m.group(1)) if m else None, m.group(2) if m else None, cr)


def rtp(seq, payload, ssrc=0x11223344, pt=0):
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, seq * 160, ssrc) + payload


def srtp_run(mode, key, pkts):
    """libsrtp2 on packets: mode "check" (unprotect) or "protect"; one
    session for all. Returns bytes or None (failed) per packet."""
    args = [SRTPCHECK] + (["--protect"] if mode == "protect" else []) + [SUITE, key]
    lines = "".join("rtp %s\n" % p.hex() for p in pkts)
    r = subprocess.run(args, input=lines.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if r.returncode != 0:
        raise AssertionError("%s failed: %r" % (" ".join(args[:-1]), r))
    out = []
    for line in r.stdout.decode().splitlines():
        word, _, rest = line.partition(" ")
        out.append(bytes.fromhex(rest) if word == "ok" else None)
    if len(out) != len(pkts):
        raise AssertionError("srtpcheck answered %d lines for %d packets" % (len(out), len(pkts)))
    return out


def media_sockets(pid):
    """The UDP sockets of process pid bound in this test's media range."""
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
    deadline = time.monotonic() + timeout
    while True:
        got = media_sockets(pid)
        if got == n or time.monotonic() >= deadline:
            return got
        time.sleep(0.1)


class Phone:
    """A UDP socket on a loopback address: one side's media."""

    def __init__(self, tc, host):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((host, 0))
        tc.addCleanup(self.s.close)
        self.host, self.port = self.s.getsockname()

    def send(self, pkt, to):
        self.s.sendto(pkt, to)

    def recv_all(self, n, timeout=3.0):
        """Up to n datagrams, as [(data, (ip, port))], within timeout."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.s.settimeout(left)
            try:
                out.append(self.s.recvfrom(4096))
            except socket.timeout:
                break
        return out

    def drain(self):
        self.s.settimeout(0.2)
        try:
            while True:
                self.s.recvfrom(4096)
        except socket.timeout:
            pass


# ---- the daemon ----


class NgServer:
    """A deployment with [media] ng on a free loopback UDP port, SIP on free
    loopback ports, its own media range, and the daemon running."""

    def __init__(self):
        self.d = Deployment()
        try:
            sip = free_port(True)
            tls = free_port(False, taken=(sip,))
            self.ng_port = free_port(True, taken=(sip, tls))
            c = self.d.conf
            conf_set(c, "sip", "udp", "127.0.0.1:%d" % sip)
            conf_set(c, "sip", "tcp", "127.0.0.1:%d" % sip)
            conf_set(c, "sip", "tls", "127.0.0.1:%d" % tls)
            conf_set(c, "media", "ports", "%d-%d" % (MEDIA_LO, MEDIA_HI))
            conf_set(c, "media", "ng", "127.0.0.1:%d" % self.ng_port)
            conf_set(c, "portal", "listen", "")
            conf_set(c, "guard", "allow", "127.0.0.0/8")
            self.daemon = self.d.start_daemon()
            self.daemon.wait_for(r"ng control listener on", 60)
            self.daemon.wait_for(r"SIP listening on", 60)
        except BaseException:
            self.d.cleanup()
            raise

    @property
    def ng(self):
        return ("127.0.0.1", self.ng_port)

    @property
    def pid(self):
        return self.daemon.proc.pid

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


class NgClient:
    """A control client: one UDP socket; requests with fresh cookies."""

    seq = 0

    def __init__(self, tc, srv):
        self.srv = srv
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        tc.addCleanup(self.s.close)

    @classmethod
    def cookie(cls):
        NgClient.seq += 1
        return "%d_%d" % (os.getpid(), NgClient.seq)

    def raw(self, data, timeout=NG_TIMEOUT_S):
        """Sends one datagram; returns the reply datagram or None."""
        self.s.sendto(data, self.srv.ng)
        self.s.settimeout(timeout)
        try:
            reply, src = self.s.recvfrom(65536)
        except socket.timeout:
            return None
        if src != self.srv.ng:
            raise AssertionError("reply from %r, not the listener" % (src,))
        return reply

    def request(self, d, cookie=None):
        """Sends dict d; returns (cookie, decoded reply dict, raw reply)."""
        cookie = cookie or self.cookie()
        reply = self.raw(cookie.encode() + b" " + benc(d))
        if reply is None:
            raise AssertionError("no reply to %r" % (d,))
        return cookie, parse_reply(cookie, reply), reply


def parse_reply(cookie, reply):
    """The dictionary of a reply "<cookie> <bencode>", checking its cookie."""
    head, sp, body = reply.partition(b" ")
    if not sp or head != cookie.encode():
        raise AssertionError("reply %r does not start with cookie %r" % (reply[:80], cookie))
    d = bdec(body)
    if not isinstance(d, dict):
        raise AssertionError("reply is not a dictionary: %r" % reply[:200])
    return d


class TestNg(SwTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.path.exists(SRTPCHECK):
            raise AssertionError("%s is missing (make build/tools/srtpcheck)" % SRTPCHECK)
        cls.srv = NgServer()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            super().tearDownClass()

    def setUp(self):
        self.addCleanup(self._check_daemon)
        self.ngc = NgClient(self, self.srv)
        # Ports a test before left held (a failed test) are not this one's.
        self.base = wait_media_sockets(self.srv.pid, 0, timeout=1.0)
        if self.base:
            log("%d relay sockets held before this test" % self.base)

    def _check_daemon(self):
        d = self.srv.daemon
        self.assertTrue(d is not None and d.alive(), "the daemon died; its log:\n" + (d.text()[-6000:] if d else ""))

    # -- helpers --

    def sockets(self):
        """The daemon's relay sockets, beyond those held before the test."""
        return media_sockets(self.srv.pid) - self.base

    def wait_sockets(self, n, timeout=5.0):
        return wait_media_sockets(self.srv.pid, self.base + n, timeout) - self.base

    def ok(self, d, cookie=None):
        """A request that must succeed; returns the reply dict."""
        _, r, raw = self.ngc.request(d, cookie)
        self.assertEqual(r.get("result"), b"ok", "%r -> %r" % (d.get("command"), raw[:400]))
        return r

    def error(self, d, reason=None):
        _, r, raw = self.ngc.request(d)
        self.assertEqual(r.get("result"), b"error", raw[:400])
        self.assertIsInstance(r.get("error-reason"), bytes, raw[:400])
        if reason is not None:
            self.assertEqual(r["error-reason"].decode(), reason, raw[:400])
        return r

    def ping_ok(self):
        cookie, r, raw = self.ngc.request({"command": "ping"})
        self.assertEqual(r, {"result": b"pong"}, raw)

    def offer(self, call_id, from_tag, sdp, **extra):
        d = {"command": "offer", "call-id": call_id, "from-tag": from_tag, "sdp": sdp}
        d.update(extra)
        return self.ok(d)

    def answer(self, call_id, from_tag, to_tag, sdp, **extra):
        d = {"command": "answer", "call-id": call_id, "from-tag": from_tag, "to-tag": to_tag, "sdp": sdp}
        d.update(extra)
        return self.ok(d)

    def delete(self, call_id, from_tag):
        return self.ok({"command": "delete", "call-id": call_id, "from-tag": from_tag})

    def query_packets(self, call_id):
        r = self.ok({"command": "query", "call-id": call_id})
        rtp_ = r.get("totals", {}).get("RTP", {})
        self.assertIsInstance(rtp_.get("packets"), int, r)
        return rtp_

    def wait_packets(self, call_id, n, timeout=3.0):
        """Polls query until totals.RTP.packets >= n; returns the totals."""
        deadline = time.monotonic() + timeout
        while True:
            t = self.query_packets(call_id)
            if t["packets"] >= n or time.monotonic() >= deadline:
                return t
            time.sleep(0.05)

    def relay_sdp(self, sdp, phone, other):
        """Checks an SDP the relay wrote for one side: c= and o= name
        127.0.0.1, the audio port is in the media range, and nothing of
        the other phone (its address, its ports, its candidate) is in it.
        Returns (port, proto, cryptos)."""
        text = sdp.decode()
        addr, port, proto, cr = sdp_fields(text)
        self.assertEqual(addr, "127.0.0.1", text)
        self.assertRegex(text, r"(?m)^o=\S+ \d+ \d+ IN IP4 127\.0\.0\.1\r$", text)
        self.assertTrue(MEDIA_LO <= port <= MEDIA_HI, text)
        self.assertNotIn(other.host, text)
        self.assertNotIn(phone.host, text)
        numbers = set(re.findall(r"\d+", text))
        for p in (other.port, other.port + 1):
            self.assertNotIn(str(p), numbers, "port %d of the other side in:\n%s" % (p, text))
        self.assertNotIn("a=candidate", text)
        self.assertNotIn("a=rtcp:", text)
        return port, proto, cr

    def exchange(self, src, src_to, dst, dst_from, first_seq, n=5, protect=None, dst_srtp=False):
        """src sends n RTP packets to the relay at src_to; dst must receive
        n datagrams from the relay port dst_from: the same packets, unless
        dst_srtp (dst gets SRTP: the caller checks). protect: src's SRTP
        key (src sends SRTP). Returns (datagrams dst got, plain packets
        src sent)."""
        pkts = [rtp(first_seq + i, os.urandom(160), ssrc=0xA0000000 | first_seq) for i in range(n)]
        wire = srtp_run("protect", protect, pkts) if protect else pkts
        for w in wire:
            self.assertIsNotNone(w, "srtpcheck --protect failed")
            src.send(w, src_to)
            time.sleep(0.005)
        got = dst.recv_all(n)
        self.assertEqual(len(got), n, "%d of %d packets through the relay" % (len(got), n))
        for (data, frm), p in zip(got, pkts):
            self.assertEqual(frm[1], dst_from, "not from the relay's port for this side")
            self.assertTrue(frm[0].startswith("127."), frm)
            if not dst_srtp:
                self.assertEqual(data, p, "RTP changed on its way")
        return got, pkts

    # -- the tests --

    def test_ping(self):
        cookie, r, raw = self.ngc.request({"command": "ping"})
        self.assertEqual(r, {"result": b"pong"})
        self.assertTrue(raw.startswith(cookie.encode() + b" d"), raw)
        # rtpengine's own client sends a decimal cookie
        _, r, _ = self.ngc.request({"command": "ping"}, cookie="0.5489157")
        self.assertEqual(r, {"result": b"pong"})

    def test_rtp_call(self):
        a, b = Phone(self, A_HOST), Phone(self, B_HOST)
        call_id, ftag, ttag = "ng-rtp-%d@test" % os.getpid(), "ftag-a", "ttag-b"

        r = self.offer(call_id, ftag, avp_sdp(a.host, a.port), **{"transport-protocol": "RTP/AVP"})
        port_b, proto, cr = self.relay_sdp(r["sdp"], b, a)
        self.assertEqual((proto, cr), ("RTP/AVP", []))
        self.assertEqual(self.wait_sockets(4), 4, "the offer did not take 2 port pairs")

        r = self.answer(call_id, ftag, ttag, avp_sdp(b.host, b.port, sess="99"))
        port_a, proto, cr = self.relay_sdp(r["sdp"], a, b)
        self.assertEqual((proto, cr), ("RTP/AVP", []))
        self.assertNotEqual(port_a, port_b)
        self.assertIn("a=rtpmap:101 telephone-event/8000", r["sdp"].decode())

        self.assertEqual(self.query_packets(call_id)["packets"], 0)
        relay_a, relay_b = ("127.0.0.1", port_a), ("127.0.0.1", port_b)
        self.exchange(a, relay_a, b, port_b, 100)
        self.exchange(b, relay_b, a, port_a, 200)
        t1 = self.wait_packets(call_id, 10)
        self.assertEqual(t1["packets"], 10, t1)
        self.assertGreaterEqual(t1["bytes"], 10 * 172, t1)
        self.exchange(a, relay_a, b, port_b, 105)
        self.exchange(b, relay_b, a, port_a, 205)
        t2 = self.wait_packets(call_id, 20)
        self.assertEqual(t2["packets"], 20, t2)
        self.assertGreater(t2["bytes"], t1["bytes"])
        self.assertEqual(t2.get("errors"), 0, t2)

        # A packet from another source to A's relay port: dropped, counted.
        c = Phone(self, "127.0.0.4")
        c.send(rtp(300, os.urandom(160)), relay_a)
        self.assertEqual(b.recv_all(1, timeout=1.0), [], "the relay forwarded a spoofed packet")
        t3 = self.query_packets(call_id)
        self.assertEqual(t3["packets"], 20, t3)
        self.assertEqual(t3["errors"], 1, t3)

        self.delete(call_id, ftag)
        self.assertEqual(self.wait_sockets(0), 0, "relay ports still open after delete")
        a.send(rtp(400, b"x" * 160), relay_a)
        self.assertEqual(b.recv_all(1, timeout=0.5), [])
        self.error({"command": "delete", "call-id": call_id, "from-tag": ftag}, "Unknown call-id")
        self.error({"command": "query", "call-id": call_id}, "Unknown call-id")

    def test_offer_retransmitted(self):
        a = Phone(self, A_HOST)
        call_id = "ng-rtx-%d@test" % os.getpid()
        d = {"command": "offer", "call-id": call_id, "from-tag": "t1", "sdp": avp_sdp(a.host, a.port)}
        cookie = NgClient.cookie()
        _, r1, raw1 = self.ngc.request(d, cookie)
        self.assertEqual(r1.get("result"), b"ok", raw1)
        self.assertEqual(self.wait_sockets(4), 4)
        _, r2, raw2 = self.ngc.request(d, cookie)
        self.assertEqual(raw2, raw1, "a retransmitted offer got another reply")
        time.sleep(0.3)
        self.assertEqual(self.sockets(), 4, "a retransmitted offer took more ports")
        # The same offer under a new cookie is a new request on the same
        # call: still one call, the same relay port.
        r3 = self.offer(call_id, "t1", avp_sdp(a.host, a.port))
        self.assertEqual(sdp_fields(r3["sdp"].decode())[1], sdp_fields(r1["sdp"].decode())[1])
        self.assertEqual(self.sockets(), 4)
        self.delete(call_id, "t1")
        self.assertEqual(self.wait_sockets(0), 0)

    def test_srtp_to_rtp_bridge(self):
        a, b = Phone(self, A_HOST), Phone(self, B_HOST)
        call_id, ftag, ttag = "ng-srtp-%d@test" % os.getpid(), "fa", "tb"
        key_a = base64.b64encode(os.urandom(30)).decode()

        offer = avp_sdp(a.host, a.port, "RTP/SAVP", (SUITE, key_a))
        r = self.offer(call_id, ftag, offer, **{"transport-protocol": "RTP/AVP"})
        sdp_b = r["sdp"].decode()
        port_b, proto, cr = self.relay_sdp(r["sdp"], b, a)
        self.assertEqual(proto, "RTP/AVP", sdp_b)
        self.assertEqual(cr, [], sdp_b)
        self.assertNotIn("a=crypto", sdp_b)
        self.assertNotIn(key_a, sdp_b)

        r = self.answer(call_id, ftag, ttag, avp_sdp(b.host, b.port))
        sdp_a = r["sdp"].decode()
        port_a, proto, cr = self.relay_sdp(r["sdp"], a, b)
        self.assertEqual(proto, "RTP/SAVP", sdp_a)
        self.assertEqual(len(cr), 1, sdp_a)
        self.assertEqual(sdp_a.count("a=crypto"), 1, sdp_a)
        tag, suite, key_r = cr[0]
        self.assertEqual((tag, suite), ("1", SUITE))
        self.assertEqual(len(base64.b64decode(key_r)), 30)
        self.assertNotEqual(key_r, key_a)
        self.assertEqual(self.wait_sockets(4), 4)
        relay_a, relay_b = ("127.0.0.1", port_a), ("127.0.0.1", port_b)

        # B -> A: B's plain RTP arrives at A as SRTP under the relay's key.
        got, pkts = self.exchange(b, relay_b, a, port_a, 500, dst_srtp=True)
        wire = [g[0] for g in got]
        for w, p in zip(wire, pkts):
            self.assertNotEqual(w, p)
            self.assertNotIn(p[12:44], w, "B's payload in clear on A's leg")
        dec = srtp_run("check", key_r, wire)
        self.assertEqual(dec, pkts, "A's SRTP does not authenticate with the relay's key or decrypt to B's RTP")
        self.assertEqual(srtp_run("check", key_a, wire), [None] * len(wire), "A's own key opens what A gets")

        # A -> B: SRTP under A's key arrives at B as the plain RTP.
        got, pkts = self.exchange(a, relay_a, b, port_b, 600, protect=key_a)
        self.assertEqual([g[0] for g in got], pkts, "B did not get A's RTP decrypted")
        t = self.wait_packets(call_id, 10)
        self.assertEqual((t["packets"], t["errors"]), (10, 0), t)

        # From A's address, SRTP under another key (the relay's own): it
        # fails authentication, B gets nothing.
        forged = srtp_run("protect", key_r, [rtp(700, os.urandom(160))])[0]
        a.send(forged, relay_a)
        self.assertEqual(b.recv_all(1, timeout=1.0), [], "the relay forwarded a packet that cannot authenticate")
        deadline = time.monotonic() + 3
        while self.query_packets(call_id)["errors"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        t = self.query_packets(call_id)
        self.assertEqual((t["packets"], t["errors"]), (10, 1), t)

        self.delete(call_id, ftag)
        self.assertEqual(self.wait_sockets(0), 0)

    def test_refused_offers(self):
        """Offers the anchor refuses get an error reply; the listener
        keeps working."""
        a = Phone(self, A_HOST)
        call_id = "ng-bad-%d@test" % os.getpid()
        cases = [
            ("not SDP", "hello"),
            ("no audio", avp_sdp(a.host, a.port).replace("m=audio", "m=video")),
            ("DTLS", avp_sdp(a.host, a.port, "UDP/TLS/RTP/SAVP") + "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n"),
            ("unknown suite", avp_sdp(a.host, a.port, "RTP/SAVP", ("NO_SUCH_SUITE", "QUJD"))),
        ]
        for what, sdp in cases:
            with self.subTest(what):
                r = self.error({"command": "offer", "call-id": call_id, "from-tag": "t", "sdp": sdp})
                log("offer with %s: %r" % (what, r["error-reason"]))
                self.ping_ok()
        self.error({"command": "answer", "call-id": "ng-none@test", "from-tag": "t", "to-tag": "u",
                    "sdp": avp_sdp(a.host, a.port)}, "Unknown call-id")
        # Clean up whatever the refused offers left (see
        # test_refused_offer_holds_no_ports).
        self.ngc.request({"command": "delete", "call-id": call_id, "from-tag": "t"})
        self.assertEqual(self.wait_sockets(0), 0)

    def test_refused_answers(self):
        """Answers the anchor refuses get an error reply and leave the
        offer pending: a good answer after them still connects."""
        a, b = Phone(self, A_HOST), Phone(self, B_HOST)
        call_id = "ng-badans-%d@test" % os.getpid()
        self.addCleanup(self.ngc.request, {"command": "delete", "call-id": call_id, "from-tag": "fa"})
        self.offer(call_id, "fa", avp_sdp(a.host, a.port))
        good = avp_sdp(b.host, b.port)
        cases = [
            ("not SDP", "hello"),
            ("DTLS", good.replace("RTP/AVP", "UDP/TLS/RTP/SAVP") + "a=setup:active\r\n"),
            ("not RTP", good.replace("RTP/AVP 0 101", "RTP/SAVPx 4000 RTP/AVP 0")),
            ("two m= lines", good + "m=video 0 RTP/AVP 96\r\n"),
            ("SRTP to a plain offer", avp_sdp(b.host, b.port, "RTP/SAVP", (SUITE, base64.b64encode(os.urandom(30)).decode()))),
        ]
        for what, sdp in cases:
            with self.subTest(what):
                r = self.error({"command": "answer", "call-id": call_id, "from-tag": "fa", "to-tag": "tb", "sdp": sdp})
                log("answer with %s: %r" % (what, r["error-reason"]))
        r = self.answer(call_id, "fa", "tb", good)
        port_a = self.relay_sdp(r["sdp"], a, b)[0]
        self.ok({"command": "delete", "call-id": call_id, "from-tag": "fa"})
        self.assertEqual(self.wait_sockets(0), 0)
        self.assertTrue(MEDIA_LO <= port_a <= MEDIA_HI)

    def test_refused_offer_holds_no_ports(self):
        """A first offer that is refused creates no call: it holds no relay
        ports (a call that was never answered never times out)."""
        call_id = "ng-leak-%d@test" % os.getpid()
        self.addCleanup(self.ngc.request, {"command": "delete", "call-id": call_id, "from-tag": "t"})
        self.error({"command": "offer", "call-id": call_id, "from-tag": "t", "sdp": "v=0\r\n"})
        time.sleep(0.3)
        self.assertEqual(self.sockets(), 0, "a refused offer left relay ports open")
        self.error({"command": "delete", "call-id": call_id, "from-tag": "t"}, "Unknown call-id")

    def test_any_call_id_reachable(self):
        """A call made by an offer can be found again by its Call-ID,
        whatever its length or bytes (or the offer is refused, holding no
        ports): else it holds its ports for good."""
        a = Phone(self, A_HOST)
        for call_id in ("c" * 255, "c" * 256, "c" * 1000, "ab\0cd@test"):
            with self.subTest(len=len(call_id), nul="\0" in call_id):
                base = self.sockets()
                d = {"command": "offer", "call-id": call_id, "from-tag": "t", "sdp": avp_sdp(a.host, a.port)}
                _, r, raw = self.ngc.request(d)
                if r.get("result") == b"error":
                    log("offer with a Call-ID of %d bytes refused: %r" % (len(call_id), r.get("error-reason")))
                    time.sleep(0.3)
                    self.assertEqual(self.sockets(), base, "a refused offer holds ports")
                    continue
                self.assertEqual(r.get("result"), b"ok", raw)
                _, q, raw = self.ngc.request({"command": "query", "call-id": call_id})
                self.assertEqual(q.get("result"), b"ok", "query cannot find the call: %r" % raw)
                _, r, raw = self.ngc.request({"command": "delete", "call-id": call_id, "from-tag": "t"})
                self.assertEqual(r.get("result"), b"ok", "delete cannot find the call: %r" % raw)
                self.assertEqual(self.wait_sockets(base), base)

    def test_reoffer_long_from_tag(self):
        """A re-offer from the same from-tag is from the same side (tags up
        to 255 bytes; longer ones are refused): the other side keeps its
        relay port."""
        a = Phone(self, A_HOST)
        call_id = "ng-tag-%d@test" % os.getpid()
        self.addCleanup(self.ngc.request, {"command": "delete", "call-id": call_id, "from-tag": "x"})
        # A tag the listener cannot keep whole is refused at once.
        before = self.sockets()
        _, r, raw = self.ngc.request({"command": "offer", "call-id": call_id + "-long", "from-tag": "g" * 300,
                                      "sdp": avp_sdp(a.host, a.port)})
        self.assertEqual((r.get("result"), r.get("error-reason")), (b"error", b"Call-ID or tag too long or with a NUL"), raw)
        self.assertEqual(self.sockets(), before)
        for ftag in ("f" * 40, "g" * 255):
            with self.subTest(len=len(ftag)):
                cid = "%s-%d" % (call_id, len(ftag))
                self.addCleanup(self.ngc.request, {"command": "delete", "call-id": cid, "from-tag": ftag})
                r1 = self.offer(cid, ftag, avp_sdp(a.host, a.port))
                r2 = self.offer(cid, ftag, avp_sdp(a.host, a.port))
                self.assertEqual(
                    sdp_fields(r2["sdp"].decode())[1], sdp_fields(r1["sdp"].decode())[1],
                    "a re-offer from the same from-tag was taken as from the other side",
                )

    def test_malformed_datagrams(self):
        """Garbage gets an error reply (a valid cookie) or nothing (no
        cookie to answer to); the listener keeps working."""
        silent = [
            b"",
            b"hello",
            b"d7:command4:pinge",  # no cookie
            b"bad!cookie d7:command4:pinge",
            b"x" * 65 + b" d7:command4:pinge",  # cookie too long
            b"\xff\xfe\x00 d7:command4:pinge",
        ]
        for data in silent:
            with self.subTest(data=data[:40]):
                self.assertIsNone(self.ngc.raw(data, timeout=0.5), "a reply to %r" % data[:40])
                self.ping_ok()
        erroneous = [
            (b'c1 {"command": "ping"}', "JSON is not supported"),
            (b"c2 d7:command4:pin", None),  # truncated
            (b"c3 l7:command4:pinge", "Message is not a dictionary"),
            (b"c4 i5e", "Message is not a dictionary"),
            (b"c5 de", "No command in message"),
            (b"c6 d7:command5:dancee", "Unrecognized command"),
            (b"c7 d7:command5:offere", None),
            (b"c8 " + benc({"command": "offer", "call-id": "x", "from-tag": "y"}), "No SDP body in message"),
            (b"c9 " + benc({"command": "answer", "call-id": "x", "from-tag": "y", "sdp": "v=0"}), "No to-tag in message"),
            (b"c10 " + benc({"command": "delete"}), "No call-id in message"),
            (b"c11 " + benc({"command": 5}), None),
            (b"c12 d7:command4:ping7:command4:pinge", None),  # key twice
            (b"c13 d7:command4:pinge trailing", None),
            (b"c14 " + b"l" * 5000 + b"e" * 5000, None),  # deep
        ]
        for data, reason in erroneous:
            with self.subTest(data=data[:40]):
                reply = self.ngc.raw(data)
                self.assertIsNotNone(reply, "no reply to %r" % data[:40])
                cookie = data.split(b" ", 1)[0].decode()
                r = parse_reply(cookie, reply)
                self.assertEqual(r.get("result"), b"error", reply)
                self.assertIsInstance(r.get("error-reason"), bytes, reply)
                if reason is not None:
                    self.assertEqual(r["error-reason"].decode(), reason, reply)
                self.ping_ok()
        # The largest datagram UDP carries, with an unknown key: read whole.
        n = 65507 - len(b"c15 " + benc({"command": "ping", "pad": ""}))
        while len(b"c15 " + benc({"command": "ping", "pad": "x" * n})) > 65507:
            n -= 1
        data = b"c15 " + benc({"command": "ping", "pad": "x" * n})
        reply = self.ngc.raw(data)
        self.assertIsNotNone(reply, "no reply to a %d-byte ping" % len(data))
        self.assertEqual(parse_reply("c15", reply), {"result": b"pong"})
        self.assertTrue(self.srv.daemon.alive())


class TestNgConfig(SwTestCase):
    def test_non_loopback_ng_refused(self):
        """[media] ng on a non-loopback address: the config is refused by
        serve and by any command that reads it (exit 2, naming [media] ng)."""
        d = self.deploy()
        for addr in ("0.0.0.0:2223", "[::]:2223", "192.0.2.1:2223"):
            with self.subTest(addr):
                conf_set(d.conf, "media", "ng", addr)
                conf_set(d.conf, "media", "ports", "%d-%d" % (MEDIA_LO, MEDIA_HI))
                for args in (["serve"], ["tenant", "list"]):
                    r = d.cli(*args, timeout=60)
                    self.assertEqual(r.rc, 2, r.describe())
                    self.assertIn("[media] ng", r.err, r.describe())
                    self.assertIn("loopback", r.err, r.describe())
        conf_set(d.conf, "media", "ng", "127.0.0.1:%d" % free_port(True))
        r = d.cli("tenant", "list")
        self.assertEqual(r.rc, 0, r.describe())
