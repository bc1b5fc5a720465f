"""Late offer (RFC 3261 13.2.1, 13.3.1.1; RFC 3264 delayed offer) through
the B2BUA with media anchored: an INVITE or re-INVITE without SDP, the
offer in the 2xx, the answer in the ACK.

Python phones (sipclient) on both sides, so every message can be read and
timed: over TLS with SRTP (srtp=required: each side gets keys of its own,
never the other side's), and over UDP with plain RTP (packets sent through
the relay both ways after the answer). What happens when the ACK brings no
answer (both sides are hung up), and when the callee's 2xx is
retransmitted before and after the answer (no ACK before the answer; the
same ACK, with the answer, after it). The SIPp late-offer call is in
test_sip_calls.py (TestCalls.test_late_offer).
"""

import re
import socket
import time

import sipclient
from helpers import TENANT_DOMAIN, SwTestCase, log
from sipclient import Request, Tls, Udp, authorization, new_call_id, new_tag
from test_sip_calls import EXTS, MEDIA_HI, MEDIA_LO, CallServer, ack_for, wait_media_sockets

SAVP = (
    "v=0\r\no=%s 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio %d RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n"
)
AVP = (
    "v=0\r\no=%s 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
KEY_A = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
KEY_B = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
KEY_B2 = "Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0ND"
KEY_A2 = "RERERERERERERERERERERERERERERERERERERERE"


def sdp_media(body):
    """(port, proto, [(tag, suite, key)]) of an SDP's audio line."""
    text = body.decode("latin-1")
    m = re.search(r"(?m)^m=audio (\d+) (\S+)", text)
    cr = re.findall(r"(?m)^a=crypto:(\d+) (\S+) inline:([^|\s]+)", text)
    if m is None:
        raise AssertionError("no audio line in %r" % body)
    return int(m.group(1)), m.group(2), cr


class Dialog:
    """One side of a dialog as a phone keeps it: Call-ID, tags, URIs, the
    remote target, CSeq; builds in-dialog requests and answers."""

    def __init__(self, conn, call_id, local, remote, ltag, rtag, target, cseq, number):
        self.conn, self.call_id, self.local, self.remote = conn, call_id, local, remote
        self.ltag, self.rtag, self.target, self.cseq, self.number = ltag, rtag, target, cseq, number

    def request(self, method, cseq=None, body=b"", ctype="application/sdp"):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        h = [
            ("Via", self.conn.via()),
            ("Max-Forwards", "70"),
            ("From", "<%s>;tag=%s" % (self.local, self.ltag)),
            ("To", "<%s>;tag=%s" % (self.remote, self.rtag)),
            ("Call-ID", self.call_id),
            ("CSeq", "%d %s" % (cseq, method)),
            ("Contact", "<%s>" % self.conn.contact_uri(self.number)),
        ]
        if body:
            h.append(("Content-Type", ctype))
        return Request(method, self.target, h, body)

    def answer(self, m, code, reason="OK", body=b"", to_tag=None):
        """Bytes of a response to request m."""
        to = m.get("To")
        if to_tag is not None and ";tag=" not in to:
            to += ";tag=" + to_tag
        lines = ["SIP/2.0 %d %s" % (code, reason)] + ["Via: " + v for v in m.all("Via")]
        lines += ["From: " + m.get("From"), "To: " + to, "Call-ID: " + m.get("Call-ID"), "CSeq: " + m.get("CSeq")]
        lines.append("Contact: <%s>" % self.conn.contact_uri(self.number))
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def uri_of(value):
    m = re.search(r"<([^>]+)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def tag_of(value):
    m = re.search(r";tag=([^;>\s]+)", value)
    return m.group(1) if m else None


class TestLateOffer(SwTestCase):
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
        self.addCleanup(self._check_daemon)

    def _check_daemon(self):
        d = self.srv.daemon
        if d is not None:
            self.assertTrue(d.alive(), "the daemon died; its log:\n" + d.text()[-6000:])

    # -- phones --

    def conn(self, kind):
        c = Tls(("127.0.0.1", self.srv.tls_port)) if kind == "tls" else Udp(self.srv.addr)
        self.addCleanup(c.close)
        return c

    def callee(self, kind, role):
        c = self.conn(kind)
        num = EXTS[role]
        r = sipclient.Phone(c, num, self.srv.pw[num], TENANT_DOMAIN).register(expires=300)
        self.assertTrue(r is not None and r.status == 200, "%s did not register: %r" % (num, r and r.raw))
        return c

    def next(self, conn, pred, what, timeout=5.0):
        """The next message on conn that pred accepts (others are
        dropped; a BYE or request we do not wait for is logged)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = conn.recv(max(0.01, deadline - time.monotonic()))
            if m is None:
                break
            if pred(m):
                return m
        raise AssertionError("no %s within %ss" % (what, timeout))

    def call(self, conn, role, callee_role, body=b"", ctype=None):
        """An authenticated INVITE from role to callee_role, without SDP
        unless body (of type ctype) is given; returns (the INVITE as sent,
        the caller's Dialog (target not yet known))."""
        num, callee = EXTS[role], EXTS[callee_role]
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
            ]
            if ctype:
                h.append(("Content-Type", ctype))
            if auth:
                h.append(("Proxy-Authorization", auth))
            return Request("INVITE", ruri, h, body)

        r1 = req(1)
        conn.send(r1)
        a1 = self.next(conn, lambda m: m.status is not None and m.status >= 200, "407")
        self.assertEqual(a1.status, 407, a1.raw)
        ack_for(conn, r1, a1)
        ch = a1.challenges("Proxy-Authenticate")[0]
        auth = authorization("MD5", num, ch["realm"], self.srv.pw[num], "INVITE", ruri, ch["nonce"], 1)
        r2 = req(2, auth)
        conn.send(r2)
        return r2, Dialog(conn, call_id, aor, ruri, tag, None, ruri, 2, num)

    def ringing_invite(self, conn):
        """The INVITE reaching a callee on conn, and the callee's Dialog."""
        inv = self.next(conn, lambda m: m.method == "INVITE", "INVITE at the callee")
        num = uri_of(inv.get("To")).split(":")[1].split("@")[0]
        d = Dialog(conn, inv.get("Call-ID"), uri_of(inv.get("To")), uri_of(inv.get("From")), new_tag(),
                   tag_of(inv.get("From")), uri_of(inv.get("Contact")), 0, num)
        return inv, d

    def ok_at_caller(self, conn, d):
        """The caller's 200 to its INVITE; completes the caller's Dialog."""
        ok = self.next(conn, lambda m: m.status is not None and m.status >= 200 and m.cseq()[1] == "INVITE", "200 at the caller")
        self.assertEqual(ok.status, 200, ok.raw)
        d.rtag = tag_of(ok.get("To"))
        d.target = uri_of(ok.get("Contact"))
        return ok

    def ack(self, d, cseq, body=b""):
        d.conn.send(d.request("ACK", cseq=cseq, body=body))

    # -- TLS, SRTP --

    def test_late_offer_srtp_over_tls(self):
        """Caller and callee over TLS with SRTP required. The caller's
        INVITE has no SDP; the callee's 200 offers SRTP with key KB; the
        caller gets an SRTP offer from the relay with a key of the
        server's (not KB); the caller's ACK answers with KA; the callee's
        ACK carries an answer with another server key (not KA, not KB).
        Then the callee sends a re-INVITE without SDP: the same the other
        way round, new keys from both phones reach neither phone. BYE ends
        it; the call is recorded as answered."""
        b = self.callee("tls", "lo_tb")
        a = self.conn("tls")
        inv_a, da = self.call(a, "lo_ta", "lo_tb")
        inv_b, db = self.ringing_invite(b)
        self.assertEqual(inv_b.body, b"", inv_b.raw)
        offer_b = (SAVP % ("callee", 1, 41000, KEY_B)).encode()
        b.send(db.answer(inv_b, 180, "Ringing", to_tag=db.ltag))
        b.send(db.answer(inv_b, 200, body=offer_b, to_tag=db.ltag))
        ok_a = self.ok_at_caller(a, da)
        port_ra, proto, cr = sdp_media(ok_a.body)
        self.assertEqual(proto, "RTP/SAVP", ok_a.body)
        self.assertTrue(MEDIA_LO <= port_ra <= MEDIA_HI, ok_a.body)
        self.assertEqual(len(cr), 1, ok_a.body)
        key_ra = cr[0][2]
        self.assertNotIn(KEY_B, ok_a.body.decode(), "the callee's key reached the caller")
        self.assertNotIn(b"o=callee", ok_a.body)
        # The callee gets no ACK until the caller's answer is in.
        time.sleep(0.3)
        self.assertIsNone(b.recv(0.2), "the callee got something before the caller's answer")
        answer_a = (SAVP % ("caller", 1, 42000, KEY_A)).replace("crypto:1", "crypto:%s" % cr[0][0]).encode()
        self.ack(da, 2, answer_a)
        ack_b = self.next(b, lambda m: m.method == "ACK", "ACK at the callee")
        self.assertEqual(ack_b.cseq(), (1, "ACK"), ack_b.raw)
        port_rb, proto_b, cr_b = sdp_media(ack_b.body)
        self.assertEqual(proto_b, "RTP/SAVP", ack_b.body)
        self.assertTrue(MEDIA_LO <= port_rb <= MEDIA_HI and port_rb != port_ra, (port_ra, port_rb))
        self.assertEqual(len(cr_b), 1, ack_b.body)
        self.assertEqual(cr_b[0][:2], ("1", "AES_CM_128_HMAC_SHA1_80"), ack_b.body)
        key_rb = cr_b[0][2]
        self.assertEqual(len({KEY_A, KEY_B, key_ra, key_rb}), 4, (key_ra, key_rb))
        self.assertNotIn(b"o=caller", ack_b.body)
        pid = self.srv.daemon.proc.pid
        self.assertGreaterEqual(wait_media_sockets(pid, 4), 4, "the relay does not hold the call's ports")

        # A re-INVITE without SDP from the callee.
        db.cseq = 1
        re_b = db.request("INVITE")
        b.send(re_b)
        re_a = self.next(a, lambda m: m.method == "INVITE", "re-INVITE at the caller")
        self.assertEqual(re_a.body, b"", re_a.raw)
        offer_a2 = (SAVP % ("caller", 2, 42002, KEY_A2)).encode()
        a.send(da.answer(re_a, 200, body=offer_a2))
        ok_b = self.next(b, lambda m: m.status is not None and m.status >= 200, "200 to the re-INVITE")
        self.assertEqual(ok_b.status, 200, ok_b.raw)
        port_rb2, proto, cr2 = sdp_media(ok_b.body)
        self.assertEqual((port_rb2, proto), (port_rb, "RTP/SAVP"), ok_b.body)
        self.assertEqual(len(cr2), 1, ok_b.body)
        self.assertNotIn(KEY_A2, ok_b.body.decode())
        self.assertIsNone(a.recv(0.3), "the caller got its ACK before the callee's answer")
        answer_b2 = (SAVP % ("callee", 2, 41002, KEY_B2)).replace("crypto:1", "crypto:%s" % cr2[0][0]).encode()
        self.ack(db, db.cseq, answer_b2)
        ack_a = self.next(a, lambda m: m.method == "ACK", "ACK at the caller")
        self.assertEqual(ack_a.cseq(), (re_a.cseq()[0], "ACK"), ack_a.raw)
        port_ra2, proto, cr3 = sdp_media(ack_a.body)
        self.assertEqual((port_ra2, proto), (port_ra, "RTP/SAVP"), ack_a.body)
        self.assertNotIn(KEY_B2, ack_a.body.decode())
        self.assertNotIn(KEY_B, ack_a.body.decode())

        # BYE from the caller.
        a.send(da.request("BYE"))
        bye_b = self.next(b, lambda m: m.method == "BYE", "BYE at the callee")
        b.send(db.answer(bye_b, 200))
        self.next(a, lambda m: m.status == 200 and m.cseq()[1] == "BYE", "200 to the BYE")
        rows = self.srv.poll_calls(EXTS["lo_tb"], 1)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["disposition"], "answered", rows[0])
        self.assertEqual(wait_media_sockets(pid, 0), 0, "relay ports still open after the call")

    # -- UDP, plain RTP, media through the relay --

    def test_late_offer_media_flows_and_2xx_retransmissions(self):
        """Over UDP with plain RTP: the callee retransmits its 200 before
        the caller has answered (it gets no ACK: an ACK without the answer
        would be wrong) and after (it gets the same ACK again, answer
        included). RTP then flows through the relay both ways, between the
        ports the phones announced in the 200 and the ACK."""
        rtp_a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp_b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (rtp_a, rtp_b):
            self.addCleanup(s.close)
            s.bind(("127.0.0.1", 0))
            s.settimeout(2.0)
        pa, pb = rtp_a.getsockname()[1], rtp_b.getsockname()[1]
        b = self.callee("udp", "lo_ub")
        a = self.conn("udp")
        inv_a, da = self.call(a, "lo_ua", "lo_ub")
        inv_b, db = self.ringing_invite(b)
        self.assertEqual(inv_b.body, b"", inv_b.raw)
        ok200 = db.answer(inv_b, 200, body=(AVP % ("callee", 1, pb)).encode(), to_tag=db.ltag)
        b.send(ok200)
        ok_a = self.ok_at_caller(a, da)
        port_ra, proto, _ = sdp_media(ok_a.body)
        self.assertEqual(proto, "RTP/AVP", ok_a.body)
        b.send(ok200)  # retransmitted before the answer
        self.assertIsNone(b.recv(0.5), "the callee got an ACK (or more) before the caller's answer")
        self.ack(da, 2, (AVP % ("caller", 1, pa)).encode())
        ack1 = self.next(b, lambda m: m.method == "ACK", "ACK at the callee")
        port_rb, proto, _ = sdp_media(ack1.body)
        self.assertEqual(proto, "RTP/AVP", ack1.body)
        b.send(ok200)  # retransmitted after it: the same ACK
        ack2 = self.next(b, lambda m: m.method == "ACK", "the ACK again")
        self.assertEqual(ack2.raw, ack1.raw)
        # RTP both ways through the relay.
        pkt_a = bytes([0x80, 0, 0, 1]) + b"\x00\x00\x00\x01" + b"\x11\x22\x33\x44" + b"A" * 160
        pkt_b = bytes([0x80, 0, 0, 1]) + b"\x00\x00\x00\x02" + b"\x55\x66\x77\x88" + b"B" * 160
        got_b = got_a = None
        for _ in range(10):
            rtp_a.sendto(pkt_a, ("127.0.0.1", port_ra))
            rtp_b.sendto(pkt_b, ("127.0.0.1", port_rb))
            try:
                if got_b is None:
                    got_b = rtp_b.recvfrom(2048)
                if got_a is None:
                    got_a = rtp_a.recvfrom(2048)
                break
            except socket.timeout:
                continue
        self.assertIsNotNone(got_b, "the caller's RTP did not reach the callee")
        self.assertIsNotNone(got_a, "the callee's RTP did not reach the caller")
        self.assertEqual(got_b[0][12:], pkt_a[12:])
        self.assertEqual(got_b[1], ("127.0.0.1", port_rb))
        self.assertEqual(got_a[0][12:], pkt_b[12:])
        self.assertEqual(got_a[1], ("127.0.0.1", port_ra))
        a.send(da.request("BYE"))
        bye_b = self.next(b, lambda m: m.method == "BYE", "BYE at the callee")
        b.send(db.answer(bye_b, 200))

    def test_ack_without_answer_ends_the_call(self):
        """The caller's ACK brings no SDP (an offer in a 2xx must be
        answered in the ACK): the callee gets its ACK and a BYE, the
        caller a BYE, and the call is recorded with disposition 488."""
        b = self.callee("udp", "lo_nb")
        a = self.conn("udp")
        inv_a, da = self.call(a, "lo_na", "lo_nb")
        inv_b, db = self.ringing_invite(b)
        b.send(db.answer(inv_b, 200, body=(AVP % ("callee", 1, 41010)).encode(), to_tag=db.ltag))
        self.ok_at_caller(a, da)
        self.ack(da, 2)
        ack_b = self.next(b, lambda m: m.method == "ACK", "ACK at the callee")
        self.assertEqual(ack_b.body, b"")
        bye_b = self.next(b, lambda m: m.method == "BYE", "BYE at the callee")
        b.send(db.answer(bye_b, 200))
        bye_a = self.next(a, lambda m: m.method == "BYE", "BYE at the caller")
        a.send(da.answer(bye_a, 200))
        self.srv.daemon.wait_for(r"answer in the ACK from leg 0 refused: the ACK carried no SDP answer", 5)
        rows = self.srv.poll_calls(EXTS["lo_nb"], 1)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["disposition"], "488", rows[0])
        log("call without an answer: %r" % rows[0]["disposition"])

    def test_invite_with_a_body_other_than_sdp_refused(self):
        """An INVITE whose body is not SDP (here multipart/mixed, which
        could hide an offer from the anchor) gets 488 with a Warning; it
        never reaches the callee."""
        b = self.callee("udp", "lo_nb")
        a = self.conn("udp")
        body = (b"--xx\r\nContent-Type: application/sdp\r\n\r\n" + (AVP % ("caller", 1, 41020)).encode() + b"\r\n--xx--\r\n")
        r2, _ = self.call(a, "lo_na", "lo_nb", body, "multipart/mixed;boundary=xx")
        a2 = self.next(a, lambda m: m.status is not None and m.status >= 200, "final answer")
        ack_for(a, r2, a2)
        self.assertEqual(a2.status, 488, a2.raw)
        self.assertRegex(a2.get("Warning") or "", r'^399 \S+ "an INVITE\'s body must be SDP')
        self.assertIsNone(b.recv(0.5), "the INVITE reached the callee")
