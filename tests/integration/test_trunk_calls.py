"""Calls from carriers (issue 3: "challenged unless it comes from the
address of a trunk"; issue 5: per-trunk source checks).

A trunk of tenant acme whose network is 127.0.0.1/32 and a number
+4930123456 pointing at extension 2201 (a Python phone over UDP, plain RTP
allowed). An INVITE from 127.0.0.1 to the number is not challenged: it
rings the extension, is answered, media is anchored (the carrier sees the
relay, plain RTP; the phone's own address never), and the call record says
inbound, with a trunk leg. The same INVITE from 127.0.0.2 (not the
trunk's network) is challenged like any stranger's, and a number the
carrier does not have gets the same. A call to the number while the trunk
is disabled is challenged too."""

import re
import threading
import time

from helpers import TENANT, TENANT_DOMAIN, SwTestCase, log
from sipclient import Request, Udp, new_call_id, new_tag
from test_media import AVP_SDP, answer_bye
from test_sip_calls import EXTS, CallServer, UdpCallee, ack_for

NUMBER = "+4930123456"


class TrunkServer(CallServer):
    def configure(self, conf_set, conf):
        pass


class TestTrunkCalls(SwTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = TrunkServer()
        d = cls.srv.d
        d.ok("trunk", "add", "carrier", "--tenant", TENANT, "--host", "127.0.0.1", "--transport", "udp",
             "--addresses", "127.0.0.1/32")
        d.ok("number", "add", TENANT, NUMBER, "--to", EXTS["tr_b"], "--trunk", "carrier")
        cls.srv.daemon.wait_for(r"trunks: 1 trunks, 1 numbers in memory", 5)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            super().tearDownClass()

    def carrier_invite(self, conn, ruri_user):
        """An INVITE as a carrier sends it: no credentials, a From of its
        own domain."""
        ruri = "sip:%s@%s" % (ruri_user, TENANT_DOMAIN)
        h = [
            ("Via", conn.via()),
            ("Max-Forwards", "70"),
            ("From", "<sip:+4915112345678@carrier.example>;tag=%s" % new_tag()),
            ("To", "<%s>" % ruri),
            ("Call-ID", new_call_id()),
            ("CSeq", "1 INVITE"),
            ("Contact", "<sip:+4915112345678@%s:%d>" % conn.local),
            ("Content-Type", "application/sdp"),
        ]
        req = Request("INVITE", ruri, h, (AVP_SDP % 41000).encode())
        conn.send(req)
        return req

    def final(self, conn, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = conn.recv(max(0.01, deadline - time.monotonic()))
            if m is None:
                return None
            if m.status is not None and m.status >= 200:
                return m
        return None

    def test_inbound_call_from_the_trunk(self):
        callee = UdpCallee(self.srv, EXTS["tr_b"])
        self.addCleanup(callee.close)
        conn = Udp(self.srv.addr, bind_host="127.0.0.1")
        self.addCleanup(conn.close)
        th = threading.Thread(target=callee.answer, kwargs={"timeout": 5.0})
        th.start()
        req = self.carrier_invite(conn, NUMBER)
        ans = self.final(conn)
        th.join()
        self.assertIsNotNone(ans, "no answer to the carrier's INVITE")
        self.assertEqual(ans.status, 200, ans.raw)
        # The relay's address and port, plain RTP; nothing of the phone's.
        self.assertRegex(ans.body.decode(), r"m=audio \d+ RTP/AVP 0")
        self.assertNotIn(b"40002", ans.body)
        self.assertNotIn(b"o=callee", ans.body)
        inv = [m for m in callee.got if m.method == "INVITE"][0]
        self.assertIn("+4915112345678", inv.get("From"))
        h = [("Via", conn.via()), ("Max-Forwards", "70"), ("From", req.get("From")), ("To", ans.get("To")),
             ("Call-ID", req.get("Call-ID")), ("CSeq", "1 ACK")]
        conn.send(Request("ACK", req.ruri, h))
        h = [("Via", conn.via()), ("Max-Forwards", "70"), ("From", req.get("From")), ("To", ans.get("To")),
             ("Call-ID", req.get("Call-ID")), ("CSeq", "2 BYE")]
        conn.send(Request("BYE", req.ruri, h))
        got = callee.drain(2.0)
        byes = [m for m in got if m.method == "BYE"]
        self.assertTrue(byes, "the phone got no BYE")
        answer_bye(callee.conn, byes[0])
        self.srv.daemon.wait_for(r"call from trunk carrier \(127\.0\.0\.1\) to \+4930123456: extension %s" % EXTS["tr_b"], 5)
        rows = self.srv.poll_calls(EXTS["tr_b"], 1)
        self.assertEqual(len(rows), 1, rows)
        c = rows[0]
        self.assertEqual((c["direction"], c["caller"], c["disposition"]), ("inbound", "+4915112345678", "answered"), c)
        self.assertEqual([l["kind"] for l in c["legs"]], ["trunk", "callee"], c["legs"])
        (trunk_id,) = self.srv.d.query("SELECT trunk_id FROM call_legs WHERE call_id = ? AND leg = 0", (c["id"],))[0]
        self.assertIsNotNone(trunk_id)
        # The call is gone; our BYE retransmitted (its 200 "lost") gets
        # 200 again, a BYE for a dialog that never was gets 481.
        conn.drain(0.3)
        bye = Request("BYE", req.ruri, h)
        for call_id, want in ((req.get("Call-ID"), 200), (new_call_id(), 481)):
            bye.set("Call-ID", call_id)
            bye.set("Via", conn.via())
            r = conn.exchange(bye.bytes())
            self.assertIsNotNone(r, "no answer to a late BYE")
            self.assertEqual(r.status, want, r.raw)

    def test_not_from_the_trunk_is_challenged(self):
        # Another source claiming the same call.
        conn = Udp(self.srv.addr, bind_host="127.0.0.2")
        self.addCleanup(conn.close)
        req = self.carrier_invite(conn, NUMBER)
        ans = self.final(conn)
        self.assertIsNotNone(ans)
        self.assertEqual(ans.status, 407, ans.raw)
        ack_for(conn, req, ans)
        # The trunk's address, a number that is not ours: challenged.
        conn2 = Udp(self.srv.addr, bind_host="127.0.0.1")
        self.addCleanup(conn2.close)
        req = self.carrier_invite(conn2, "+4930999999")
        ans = self.final(conn2)
        self.assertIsNotNone(ans)
        self.assertEqual(ans.status, 407, ans.raw)
        ack_for(conn2, req, ans)
        # A disabled trunk lets nothing in.
        self.srv.d.ok("trunk", "set", "carrier", "enabled=off")
        self.addCleanup(self.srv.d.ok, "trunk", "set", "carrier", "enabled=on")
        self.srv.daemon.wait_for(r"trunks: 0 trunks, 1 numbers in memory", 5)
        req = self.carrier_invite(conn2, NUMBER)
        ans = self.final(conn2)
        self.assertIsNotNone(ans)
        self.assertEqual(ans.status, 407, ans.raw)
        ack_for(conn2, req, ans)
        self.srv.d.ok("trunk", "set", "carrier", "enabled=on")
        self.srv.daemon.wait_for(r"trunks: 1 trunks, 1 numbers in memory", 5)
