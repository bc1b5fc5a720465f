"""SIP over IPv6 (RFC 5118): listeners on [::1], a REGISTER with digest
over UDP and TCP, the answer's Via carrying received/rport for an IPv6
source, the binding stored with its [::1] source, and OPTIONS."""

import socket
import time

from helpers import SwTestCase, strong_password
from sipclient import Request, SipMessage, authorization, new_branch, new_call_id, new_tag, parse_challenge
from test_sip_register import TENANT, conf_set

DOMAIN = "acme.example.com"


def free_port6():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind(("::1", 0))
    port = s.getsockname()[1]
    s.close()
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        u.bind(("::1", port))
    finally:
        u.close()
    return port


class TestIpv6(SwTestCase):
    def setUp(self):
        self.d = self.deploy(tenant=True)
        self.d.ok("tenant", "set", TENANT, "digest=md5")
        self.pw = strong_password()
        self.d.add_ext("1001", password=self.pw)
        self.port = free_port6()
        c = self.d.conf
        conf_set(c, "sip", "udp", "[::1]:%d" % self.port)
        conf_set(c, "sip", "tcp", "[::1]:%d" % self.port)
        conf_set(c, "sip", "tls", "")
        conf_set(c, "media", "ports", "30000-31000")
        conf_set(c, "portal", "listen", "")
        self.daemon = self.d.start_daemon()
        self.daemon.wait_for(r"SIP listening on", 60)
        self.addCleanup(self.daemon.stop)

    def register(self, send, recv, local, transport):
        host, port = local[0], local[1]
        call_id, tag = new_call_id(), new_tag()

        def req(cseq, auth=None):
            h = [
                ("Via", "SIP/2.0/%s [%s]:%d;branch=%s;rport" % (transport, host, port, new_branch())),
                ("Max-Forwards", "70"),
                ("From", "<sip:1001@%s>;tag=%s" % (DOMAIN, tag)),
                ("To", "<sip:1001@%s>" % DOMAIN),
                ("Call-ID", call_id),
                ("CSeq", "%d REGISTER" % cseq),
                ("Contact", "<sip:1001@[%s]:%d;transport=%s>" % (host, port, transport.lower())),
                ("Expires", "300"),
            ]
            if auth:
                h.append(("Authorization", auth))
            return Request("REGISTER", "sip:" + DOMAIN, h).bytes()

        send(req(1))
        r = recv()
        self.assertIsNotNone(r, "no answer over IPv6")
        self.assertEqual(r.status, 401, r.raw)
        via = r.get("Via")
        self.assertIn("received=::1", via.replace("[", "").replace("]", ""), via)
        self.assertIn("rport=%d" % port, via)
        ch = parse_challenge(r.get("WWW-Authenticate"))
        auth = authorization("MD5", "1001", DOMAIN, self.pw, "REGISTER", "sip:" + DOMAIN, ch["nonce"], 1)
        send(req(2, auth))
        r = recv()
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r.raw)
        self.assertTrue(
            any("[%s]:%d" % (host, port) in c for c in r.all("Contact")), r.raw
        )

    def test_udp_and_tcp(self):
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.bind(("::1", 0))
        u.settimeout(5)
        self.addCleanup(u.close)
        self.register(
            lambda b: u.sendto(b, ("::1", self.port)),
            lambda: SipMessage(u.recvfrom(65536)[0]),
            u.getsockname(),
            "UDP",
        )
        deadline = time.monotonic() + 3
        rows = []
        while time.monotonic() < deadline and not rows:
            rows = self.d.query("SELECT source, transport FROM bindings")
            time.sleep(0.05)
        self.assertEqual(rows, [("[::1]:%d" % u.getsockname()[1], "udp")])

        t = socket.create_connection(("::1", self.port), timeout=5)
        self.addCleanup(t.close)
        buf = [b""]

        def recv_tcp():
            while b"\r\n\r\n" not in buf[0]:
                data = t.recv(65536)
                if not data:
                    return None
                buf[0] += data
            head, rest = buf[0].split(b"\r\n\r\n", 1)
            buf[0] = rest
            return SipMessage(head + b"\r\n\r\n")

        self.register(t.sendall, recv_tcp, t.getsockname(), "TCP")
        # OPTIONS over IPv6 too.
        t.sendall(
            Request(
                "OPTIONS",
                "sip:[::1]:%d" % self.port,
                [
                    ("Via", "SIP/2.0/TCP [::1]:%d;branch=%s" % (t.getsockname()[1], new_branch())),
                    ("From", "<sip:probe@[::1]>;tag=%s" % new_tag()),
                    ("To", "<sip:[::1]:%d>" % self.port),
                    ("Call-ID", new_call_id()),
                    ("CSeq", "1 OPTIONS"),
                ],
            ).bytes()
        )
        r = recv_tcp()
        self.assertEqual(r.status, 200, r.raw)
