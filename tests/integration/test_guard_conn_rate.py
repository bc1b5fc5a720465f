"""Guard (issue 5), rate of new connections: [guard] conn_rate new TCP/TLS
connections per second per source, conn_burst at once. A source that opens
more is refused (the connection is closed at once) and logged as a
`rate-limit` event with kind=connections; another source is not affected,
and the source gets new connections again once its bucket refills."""

import socket
import time

from helpers import SwTestCase
from test_sip_register import conf_set, free_port

BURST = 10


def open_conns(port, src, n):
    """Opens n TCP connections from src; returns (kept open, closed by the
    server) after a short wait."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.5)
    kept = closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(1)
            closed += data == b""
            kept += data != b""
        except BlockingIOError:
            kept += 1
        except (ConnectionResetError, OSError):
            closed += 1
    for s in socks:
        s.close()
    return kept, closed


class TestConnRate(SwTestCase):
    def test_new_connections_per_source(self):
        d = self.deploy(tenant=True)
        port = free_port(True)
        conf_set(d.conf, "sip", "tcp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "portal", "listen", "")
        conf_set(d.conf, "media", "ports", "30000-30099")
        conf_set(d.conf, "guard", "allow", "")
        conf_set(d.conf, "guard", "conn_rate", "2")
        conf_set(d.conf, "guard", "conn_burst", str(BURST))
        daemon = d.start_daemon()
        self.addCleanup(daemon.stop)
        daemon.wait_for(r"SIP listening on", 60)

        kept, closed = open_conns(port, "127.0.0.2", BURST + 10)
        self.assertEqual(kept, BURST, (kept, closed))
        self.assertEqual(closed, 10, (kept, closed))
        daemon.wait_for(r"security: rate-limit src=127\.0\.0\.2 kind=connections dropped=\d+", 5)
        # Another source is not affected.
        self.assertEqual(open_conns(port, "127.0.0.3", 5), (5, 0))
        # Refilled at 2 per second (about 3 s since the burst): some new
        # connections again, not a whole burst.
        time.sleep(2.0)
        kept, closed = open_conns(port, "127.0.0.2", 12)
        self.assertGreaterEqual(kept, 4, (kept, closed))
        self.assertLessEqual(kept, 8, (kept, closed))
        self.assertGreaterEqual(closed, 4, (kept, closed))
