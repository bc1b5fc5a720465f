"""`sipwarden ban list|add|remove`: the guard's bans in the store, by hand.

A ban covers an IPv4 address or the /64 of an IPv6 address; add refuses
[guard] allow networks and bad input (exit 2, the field named), a second
ban of a source (exit 1); remove exits 1 when there is no ban. Ended bans
are not listed. Every change writes an audit row, and a running daemon
applies it within a second: a banned source gets silence, a lifted one
answers again. The daemon purges bans that ended over a day ago."""

import datetime
import socket
import time

from helpers import SwTestCase, expected_actor, strong_password
from sipclient import Phone, Udp, free_port, new_branch
from test_sip_ipv6 import free_port6
from test_sip_register import TENANT, conf_set

BAN_KEYS = {
    "source": str,
    "prefix": int,
    "until": str,
    "created": str,
    "offences": int,
    "reason": str,
    "manual": bool,
    "node": str,
}


class Udp6(Udp):
    """Udp over IPv6: the local address in brackets (RFC 5118)."""

    def __init__(self, server, bind_host="::1"):
        self.server = server
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.bind((bind_host, 0))
        self.local = self.sock.getsockname()[:2]

    def via(self, branch=None, rport=True):
        host, port = self.local
        return "SIP/2.0/UDP [%s]:%d;branch=%s%s" % (host, port, branch or new_branch(), ";rport" if rport else "")

    def contact_uri(self, user):
        host, port = self.local
        return "sip:%s@[%s]:%d;transport=udp" % (user, host, port)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


class BanCase(SwTestCase):
    def check_ban(self, b):
        self.assertIsInstance(b, dict)
        self.assertEqual(set(b), set(BAN_KEYS), b)
        for k, t in BAN_KEYS.items():
            self.assertIsInstance(b[k], t, "%s: %r" % (k, b))
        self.assertRFC3339(b["until"], "until")
        self.assertRFC3339(b["created"], "created")

    def audit_rows(self, d):
        return d.query(
            "SELECT action, target, detail, actor, tenant_id FROM audit_log "
            "WHERE action LIKE 'ban.%' ORDER BY id"
        )


class TestBanCli(BanCase):
    def test_add_list_remove_ipv4(self):
        d = self.deploy()
        t0 = now_utc()
        b = d.ok_json("ban", "add", "192.0.2.7")
        self.check_ban(b)
        self.assertEqual((b["source"], b["prefix"], b["manual"]), ("192.0.2.7", 32, True))
        self.assertEqual((b["offences"], b["reason"]), (1, "manual ban"))
        # Default length: [guard] ban, 1h.
        until = self.assertRFC3339(b["until"])
        left = (until - t0).total_seconds()
        self.assertTrue(3590 <= left <= 3610, "until %s is not now + 1h" % b["until"])

        lst = d.ok_json("ban", "list")
        self.assertIsInstance(lst, list)
        self.assertEqual(len(lst), 1, lst)
        self.check_ban(lst[0])
        self.assertEqual(lst[0], b)
        text = d.ok("ban", "list").out
        self.assertIn("192.0.2.7/32", text)
        self.assertIn("manual", text)

        r = d.ok_json("ban", "remove", "192.0.2.7")
        self.assertEqual(r, {"source": "192.0.2.7", "prefix": 32, "removed": True})
        self.assertEqual(d.ok_json("ban", "list"), [])
        self.assertFails(d.cli("ban", "remove", "192.0.2.7"), 1, "192.0.2.7", "not banned")

        rows = self.audit_rows(d)
        self.assertEqual([r[:2] for r in rows], [("ban.add", "192.0.2.7/32"), ("ban.remove", "192.0.2.7/32")])
        self.assertIn("(1h): manual ban", rows[0][2])
        for r in rows:
            self.assertEqual(r[3], expected_actor())
            self.assertIsNone(r[4])
        # The daemon's change log got both.
        ch = d.query("SELECT kind, op FROM changes WHERE kind = 'ban' ORDER BY seq")
        self.assertEqual(ch, [("ban", "add"), ("ban", "remove")])

    def test_ipv6_covers_its_64(self):
        d = self.deploy()
        t0 = now_utc()
        b = d.ok_json("ban", "add", "2001:db8:1:2:aaaa::5", "--for", "2h", "--reason", "scanner seen at 09:00")
        self.check_ban(b)
        self.assertEqual((b["source"], b["prefix"]), ("2001:db8:1:2::", 64))
        self.assertEqual(b["reason"], "scanner seen at 09:00")
        left = (self.assertRFC3339(b["until"]) - t0).total_seconds()
        self.assertTrue(7190 <= left <= 7210, b)
        # Another address of the /64 is the same source.
        self.assertFails(d.cli("ban", "add", "2001:db8:1:2::99"), 1, "already banned")
        self.assertFails(d.cli("ban", "add", "2001:db8:1:2::/64"), 1, "already banned")
        self.assertEqual(
            d.ok_json("ban", "remove", "2001:db8:1:2:ffff::1"),
            {"source": "2001:db8:1:2::", "prefix": 64, "removed": True},
        )
        # ADDRESS/64 and an IPv4-mapped address are accepted.
        self.assertEqual(d.ok_json("ban", "add", "2001:db8:9:9::/64")["source"], "2001:db8:9:9::")
        self.assertEqual(d.ok_json("ban", "add", "::ffff:198.51.100.4")["source"], "198.51.100.4")
        got = sorted((x["source"], x["prefix"]) for x in d.ok_json("ban", "list"))
        self.assertEqual(got, [("198.51.100.4", 32), ("2001:db8:9:9::", 64)])

    def test_bad_input_refused_nothing_written(self):
        d = self.deploy()
        conf_set(d.conf, "guard", "allow", "10.0.0.0/8, 2001:db8:aa::/48")
        before = d.snapshot()
        cases = [
            (["ban", "add", "300.1.1.1"], 2, ["ADDRESS", "300.1.1.1", "not an IPv4 or IPv6 address"]),
            (["ban", "add", "pbx.example.com"], 2, ["ADDRESS", "not an IPv4 or IPv6 address"]),
            (["ban", "add", "192.0.2.0/24"], 2, ["ADDRESS", "/32"]),
            (["ban", "add", "2001:db8::/48"], 2, ["ADDRESS", "/64"]),
            (["ban", "add", "0.0.0.0"], 2, ["ADDRESS"]),
            (["ban", "add", "::"], 2, ["ADDRESS", "unspecified"]),
            (["ban", "add", "224.0.0.1"], 2, ["ADDRESS", "multicast"]),
            (["ban", "add", "192.0.2.1", "--for", "10x"], 2, ["--for", "10x", "not a duration"]),
            (["ban", "add", "192.0.2.1", "--for", "0s"], 2, ["--for", "out of range"]),
            (["ban", "add", "192.0.2.1", "--for", "366d"], 2, ["--for", "out of range"]),
            (["ban", "add", "192.0.2.1", "--for"], 2, ["--for", "needs a value"]),
            (["ban", "add", "192.0.2.1", "--reason", "x" * 64], 2, ["--reason", "1 to 63 bytes"]),
            (["ban", "add", "192.0.2.1", "--reason", "a\tb"], 2, ["--reason", "control"]),
            (["ban", "add", "10.1.2.3"], 2, ["10.1.2.3", "[guard] allow", "10.0.0.0/8"]),
            # The /64 holds an allow-listed network.
            (["ban", "add", "2001:db8:aa:1::7"], 2, ["[guard] allow", "2001:db8:aa::/48"]),
            (["ban", "add"], 2, ["missing arguments"]),
            (["ban", "add", "192.0.2.1", "192.0.2.2"], 2, ["unexpected argument"]),
            (["ban", "remove", "nope"], 2, ["ADDRESS", "nope"]),
            (["ban", "frob"], 2, ["unknown command", "frob"]),
            (["ban", "list", "--bogus"], 2, ["unknown option", "--bogus"]),
        ]
        for args, code, needles in cases:
            with self.subTest(args=args):
                self.assertFails(d.cli(*args), code, *needles)
        self.assertFails(d.cli("ban"), 2, "usage", one_line=False)
        self.assertEqual(d.snapshot(), before, "a refused command wrote to the store")
        r = d.ok("ban", "--help")
        self.assertIn("remove ADDRESS", r.out)

    def test_already_banned_and_ended_bans(self):
        d = self.deploy()
        d.ok("ban", "add", "192.0.2.8", "--for", "2s")
        self.assertFails(d.cli("ban", "add", "192.0.2.8", "--for", "1h"), 1, "192.0.2.8", "already banned")
        self.assertEqual(len(d.ok_json("ban", "list")), 1)
        time.sleep(2.3)
        # Ended: not listed, nothing to remove, and it may be banned again
        # (a repeat offence: the stored row counts it).
        self.assertEqual(d.ok_json("ban", "list"), [])
        self.assertFails(d.cli("ban", "remove", "192.0.2.8"), 1, "not banned")
        b = d.ok_json("ban", "add", "192.0.2.8", "--for", "1m")
        self.assertEqual(b["offences"], 2)
        self.assertEqual([x["source"] for x in d.ok_json("ban", "list")], ["192.0.2.8"])


class TestBanDaemon(BanCase):
    def start(self, d, **guard):
        port = free_port(True)
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "media", "ports", "30000-31000")
        conf_set(d.conf, "portal", "listen", "")
        for k, v in guard.items():
            conf_set(d.conf, "guard", k, v)
        daemon = d.start_daemon()
        daemon.wait_for(r"SIP listening on", 60)
        self.addCleanup(daemon.stop)
        return daemon, ("127.0.0.1", port)

    def phone(self, server, host, pw, user="1001"):
        conn = Udp(server, bind_host=host)
        self.addCleanup(conn.close)
        return Phone(conn, user, pw, "acme.example.com")

    def wait_answer(self, phone, want, limit):
        """Sends REGISTERs until an answer comes (want True) or none does
        (want False); returns the seconds it took, or fails after limit."""
        t0 = time.monotonic()
        while True:
            r = phone.register(timeout=0.25)
            if (r is not None) == want:
                return time.monotonic() - t0
            if time.monotonic() - t0 > limit:
                self.fail("source still %s after %.1fs" % ("silenced" if want else "answered", limit))

    def test_add_and_remove_reach_running_daemon(self):
        d = self.deploy(tenant=True)
        pw = strong_password()
        d.add_ext("1001", password=pw)
        daemon, server = self.start(d, allow="")
        p = self.phone(server, "127.0.0.2", pw)
        r = p.register()
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r.raw)

        start = daemon.count()
        d.ok("ban", "add", "127.0.0.2", "--for", "10m", "--reason", "operator test")
        t_cli = time.monotonic()
        _, _, seen = daemon.wait_for(r"security: ban src=127\.0\.0\.2 seconds=\d+ reason=manual", 3, start)
        self.assertLess(seen - t_cli, 1.0, "the daemon took more than a second to apply the ban")
        self.assertIsNone(p.register(timeout=1.0), "a banned source got an answer")
        # Another source is not affected.
        r = self.phone(server, "127.0.0.1", pw).register()
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r.raw)

        start = daemon.count()
        d.ok("ban", "remove", "127.0.0.2")
        t_cli = time.monotonic()
        _, _, seen = daemon.wait_for(r"security: unban src=127\.0\.0\.2 ", 3, start)
        self.assertLess(seen - t_cli, 1.0, "the daemon took more than a second to lift the ban")
        self.assertLess(self.wait_answer(p, True, 2.0), 1.0)
        r = p.register()
        self.assertEqual(r.status, 200, r.raw)

        # A manual ban survives a restart.
        d.ok("ban", "add", "127.0.0.2")
        daemon.stop()
        daemon2 = d.start_daemon()
        self.addCleanup(daemon2.stop)
        daemon2.wait_for(r"guard: 1 bans restored", 60)
        daemon2.wait_for(r"SIP listening on", 60)
        self.assertIsNone(p.register(timeout=1.0), "the manual ban did not survive the restart")

    def test_automatic_ban_listed_then_lifted(self):
        d = self.deploy(tenant=True)
        d.ok("tenant", "set", TENANT, "digest=md5")
        pw = strong_password()
        d.add_ext("1001", password=pw)
        daemon, server = self.start(d, allow="", max_auth_failures="3")
        bad = self.phone(server, "127.0.0.2", "wrong-password-123")
        for i in range(3):
            r = bad.register()
            self.assertIsNotNone(r, "attempt %d got no answer" % (i + 1))
            self.assertEqual(r.status, 403, r.raw)
        daemon.wait_for(r"security: ban src=127\.0\.0\.2 seconds=\d+ reason=auth-failures", 5)
        deadline = time.monotonic() + 3
        lst = []
        while time.monotonic() < deadline and not lst:
            lst = d.ok_json("ban", "list")
            time.sleep(0.05)
        self.assertEqual(len(lst), 1, lst)
        self.check_ban(lst[0])
        self.assertEqual((lst[0]["source"], lst[0]["prefix"], lst[0]["manual"]), ("127.0.0.2", 32, False))
        self.assertEqual((lst[0]["offences"], lst[0]["reason"]), (1, "failed authentications"))
        self.assertIn("automatic", d.ok("ban", "list").out)

        good = self.phone(server, "127.0.0.2", pw)
        self.assertIsNone(good.register(timeout=1.0))
        d.ok("ban", "remove", "127.0.0.2")
        self.assertLess(self.wait_answer(good, True, 2.0), 1.2)
        r = good.register()
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(d.ok_json("ban", "list"), [])

    def test_ipv6_ban_reaches_daemon(self):
        d = self.deploy(tenant=True)
        pw = strong_password()
        d.add_ext("1001", password=pw)
        port = free_port6()
        conf_set(d.conf, "sip", "udp", "[::1]:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "media", "ports", "30000-31000")
        conf_set(d.conf, "portal", "listen", "")
        daemon = d.start_daemon()
        daemon.wait_for(r"SIP listening on", 60)
        self.addCleanup(daemon.stop)
        conn = Udp6(("::1", port))
        self.addCleanup(conn.close)
        p = Phone(conn, "1001", pw, "acme.example.com")
        r = p.register()
        self.assertIsNotNone(r, "no answer over IPv6")
        self.assertEqual(r.status, 200, r.raw)
        start = daemon.count()
        # ::1's /64 is ::/64.
        self.assertEqual(d.ok_json("ban", "add", "::2")["source"], "::")
        daemon.wait_for(r"security: ban src=:: seconds=", 3, start)
        self.assertIsNone(p.register(timeout=1.0), "the /64 ban did not cover ::1")
        d.ok("ban", "remove", "::1")
        self.assertLess(self.wait_answer(p, True, 2.0), 1.2)

    def test_daemon_purges_bans_ended_a_day_ago(self):
        d = self.deploy()
        now = int(time.time() * 1e6)
        day = 86400 * 10**6
        rows = [
            ("192.0.2.50", now - 3 * day, now - 2 * day),  # ended 2 days ago: purged
            ("192.0.2.51", now - day, now - 3600 * 10**6),  # ended 1 h ago: kept
            ("192.0.2.52", now, now + day),  # in force: kept
        ]
        sql = ";".join(
            "INSERT INTO bans (source, reason, offences, node, created_us, expires_us, manual) "
            "VALUES ('%s', 'test', 1, 'n1', %d, %d, 0)" % r
            for r in rows
        )
        p = d.sqlite_as_owner(sql + ";")
        self.assertEqual(p.returncode, 0, p.stderr)
        port = free_port(True)
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "media", "ports", "30000-31000")
        conf_set(d.conf, "portal", "listen", "")
        daemon = d.start_daemon()
        self.addCleanup(daemon.stop)
        daemon.wait_for(r"guard: 1 ended bans purged from the store", 60)
        left = sorted(r[0] for r in d.query("SELECT source FROM bans"))
        self.assertEqual(left, ["192.0.2.51", "192.0.2.52"])
        self.assertEqual([b["source"] for b in d.ok_json("ban", "list")], ["192.0.2.52"])
