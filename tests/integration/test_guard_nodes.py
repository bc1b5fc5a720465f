"""Guard (issue 5): bans are shared live between nodes. Two daemons (nodes
a and b) on one store, each with its own SIP port: a source that node a
bans for failed authentications is dropped by node b within seconds,
while another source keeps registering at node b."""

import os
import re
import shutil
import time
import types

from helpers import Daemon, SwTestCase, strong_password
from sipclient import Phone, Udp
from test_sip_register import free_port
from test_sip_register import TENANT, conf_set

DOMAIN = "acme.example.com"


class TestBansShared(SwTestCase):
    def test_ban_reaches_the_other_node(self):
        d = self.deploy(tenant=True)
        d.ok("tenant", "set", TENANT, "digest=md5")
        pw = strong_password()
        d.add_ext("1001", password=pw)
        port_a = free_port(True)
        port_b = free_port(True, taken=(port_a,))
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "portal", "listen", "")
        conf_set(d.conf, "guard", "max_auth_failures", "3")
        conf_set(d.conf, "guard", "allow", "")
        conf_b = os.path.join(os.path.dirname(d.conf), "node-b.conf")
        shutil.copyfile(d.conf, conf_b)
        st = os.stat(d.conf)
        os.chown(conf_b, st.st_uid, st.st_gid)
        conf_set(d.conf, "daemon", "node", "node-a")
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port_a)
        conf_set(d.conf, "media", "ports", "30000-30499")
        conf_set(conf_b, "daemon", "node", "node-b")
        conf_set(conf_b, "sip", "udp", "127.0.0.1:%d" % port_b)
        conf_set(conf_b, "media", "ports", "30500-30999")
        node_a = d.start_daemon()
        node_b = Daemon(types.SimpleNamespace(conf=conf_b))
        self.addCleanup(node_b.stop)
        self.addCleanup(node_a.stop)
        node_a.wait_for(r"SIP listening on", 60)
        node_b.wait_for(r"SIP listening on", 60)

        # Before: the attacker's address is answered by node b.
        att_b = Udp(("127.0.0.1", port_b), bind_host="127.0.0.2")
        self.addCleanup(att_b.close)
        r = Phone(att_b, "1001", "wrong-password-123", DOMAIN).request("OPTIONS")
        self.assertIsNotNone(att_b.exchange(r.bytes()), "node b does not answer OPTIONS")

        # Node a bans it.
        att_a = Udp(("127.0.0.1", port_a), bind_host="127.0.0.2")
        self.addCleanup(att_a.close)
        bad = Phone(att_a, "1001", "wrong-password-123", DOMAIN)
        for _ in range(3):
            bad.register()
        node_a.wait_for(r"security: ban src=127\.0\.0\.2 \S+ reason=auth-failures", 5)
        t0 = time.monotonic()
        node_b.wait_for(r"security: ban src=127\.0\.0\.2 seconds=\d+ reason=node", 5)
        log_s = time.monotonic() - t0
        self.assertLess(log_s, 5)
        # Node a does not apply its own ban twice.
        time.sleep(1.5)  # node a has followed the change log by now
        self.assertEqual(len(re.findall(r"security: ban src=127\.0\.0\.2 ", node_a.text())), 1, node_a.text()[-3000:])

        # Node b now drops the source, and still serves the phone.
        bad_b = Phone(att_b, "1001", pw, DOMAIN)
        self.assertIsNone(bad_b.register(timeout=1.5), "node b answered a source node a banned")
        good = Udp(("127.0.0.1", port_b), bind_host="127.0.0.1")
        self.addCleanup(good.close)
        r = Phone(good, "1001", pw, DOMAIN).register()
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r.raw)
