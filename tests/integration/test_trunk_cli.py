"""`sipwarden trunk add|list|show|set|remove` and `number add|list|remove`:
carrier trunks (their source networks, host, transport, a sealed password
for calls to the carrier) and inbound numbers (E.164, unique across
tenants, each pointing at an extension).

Refused: networks wider than an IPv4 /16 or an IPv6 /32 (0.0.0.0/0 and ::/0
above all: toll fraud), IPv6 networks holding IPv4-mapped addresses, and
every malformed field (exit 2, the field named, nothing written). Exit 1
for named objects missing or taken (trunk names are unique across
tenants), and for removing a trunk numbers still use. The password is
never printed and never stored in clear (raw, hex, base64). Every change
writes an audit row and a change-log row ("trunk", "number"), and a running
daemon has it in memory within a second."""

import os
import re
import time

from helpers import SwTestCase, expected_actor, log, scan_files
from sipclient import free_port
from test_sip_register import conf_set

TRUNK_KEYS = {
    "name": str,
    "tenant": (str, type(None)),
    "host": str,
    "port": int,
    "transport": str,
    "addresses": list,
    "user": (str, type(None)),
    "password_set": bool,
    "enabled": bool,
    "created": str,
    "updated": str,
}
NUMBER_KEYS = {
    "tenant": str,
    "e164": str,
    "destination": str,
    "extension": (str, type(None)),
    "trunk": (str, type(None)),
    "created": str,
    "updated": str,
}
TRUNK_PW = "Carrier-Pw-7xQ2mZr9TbWc4NyVd3"
USER_MARKER = "acct-PLANTED-Kq4marker"

APPLIED = r"changes: applied (\d+) \(seq (\d+)\.\.(\d+)\)"
IN_MEMORY = r"trunks: (\d+) trunks, (\d+) numbers in memory"


class TrunkCase(SwTestCase):
    def check_trunk(self, t):
        self.assertIsInstance(t, dict)
        self.assertEqual(set(t), set(TRUNK_KEYS), t)
        for k, ty in TRUNK_KEYS.items():
            self.assertIsInstance(t[k], ty, "%s: %r" % (k, t))
        for a in t["addresses"]:
            self.assertIsInstance(a, str)
        self.assertRFC3339(t["created"], "created")
        self.assertRFC3339(t["updated"], "updated")
        self.assertNotIn("password", t)

    def check_number(self, n):
        self.assertIsInstance(n, dict)
        self.assertEqual(set(n), set(NUMBER_KEYS), n)
        for k, ty in NUMBER_KEYS.items():
            self.assertIsInstance(n[k], ty, "%s: %r" % (k, n))
        self.assertRFC3339(n["created"], "created")
        self.assertRFC3339(n["updated"], "updated")

    def two_tenants(self):
        d = self.deploy(tenant=True)
        d.tenant("beta", "beta.example.com")
        d.add_ext("1001")
        d.add_ext("1002")
        d.add_ext("2001", tenant="beta")
        return d

    def add_carrier(self, d, name="carrier1", tenant="acme", addresses="192.0.2.0/24, 2001:db8:5::/48", pw=TRUNK_PW):
        args = ["trunk", "add", name, "--tenant", tenant, "--host", "sip.carrier.example", "--addresses", addresses]
        if pw is not None:
            args += ["--user", USER_MARKER, "--password-stdin"]
            return d.ok_json(*args, input=pw + "\n")
        return d.ok_json(*args)

    def audit(self, d, prefix):
        return d.query(
            "SELECT action, target, detail, actor, tenant_id FROM audit_log WHERE action LIKE ? ORDER BY id",
            (prefix + "%",),
        )

    def changes(self, d, kind):
        return d.query("SELECT op, object_id, tenant_id FROM changes WHERE kind = ? ORDER BY seq", (kind,))


class TestTrunkCli(TrunkCase):
    def test_trunk_lifecycle(self):
        d = self.two_tenants()
        (acme,) = d.query("SELECT id FROM tenants WHERE name = 'acme'")[0]
        t = self.add_carrier(d)
        self.check_trunk(t)
        self.assertEqual(
            {k: t[k] for k in ("name", "tenant", "host", "port", "transport", "addresses", "user", "password_set", "enabled")},
            {
                "name": "carrier1",
                "tenant": "acme",
                "host": "sip.carrier.example",
                "port": 5061,
                "transport": "tls",
                "addresses": ["192.0.2.0/24", "2001:db8:5::/48"],
                "user": USER_MARKER,
                "password_set": True,
                "enabled": True,
            },
        )
        # Without a password, over UDP: port 5060 by default; an address
        # alone is its /32.
        t2 = d.ok_json(
            "trunk", "add", "carrier2", "--tenant", "acme", "--host", "198.51.100.10",
            "--transport", "udp", "--addresses", "198.51.100.10",
        )
        self.check_trunk(t2)
        self.assertEqual((t2["port"], t2["transport"], t2["user"], t2["password_set"]), (5060, "udp", None, False))
        self.assertEqual(t2["addresses"], ["198.51.100.10/32"])
        t3 = d.ok_json(
            "trunk", "add", "beta-carrier", "--tenant", "beta", "--host", "2001:db8:7::1",
            "--port", "5071", "--transport", "tcp", "--addresses", "2001:db8:7::/48,203.0.113.0/24",
        )
        self.assertEqual((t3["tenant"], t3["host"], t3["port"]), ("beta", "2001:db8:7::1", 5071))
        # Text output.
        r = d.ok("trunk", "add", "carrier3", "--tenant", "acme", "--host", "sip3.carrier.example", "--addresses", "100.64.0.0/16")
        self.assertIn("carrier3", r.out)
        self.assertIn("100.64.0.0/16", r.out)

        # show: JSON equals add's; the text form too; never a password.
        self.assertEqual(d.ok_json("trunk", "show", "carrier1"), t)
        txt = d.ok("trunk", "show", "carrier1").out
        self.assertIn('"password_set": true', txt)
        # list: every trunk by name, or a tenant's.
        lst = d.ok_json("trunk", "list")
        for x in lst:
            self.check_trunk(x)
        self.assertEqual([x["name"] for x in lst], ["beta-carrier", "carrier1", "carrier2", "carrier3"])
        self.assertEqual([x["name"] for x in d.ok_json("trunk", "list", "beta")], ["beta-carrier"])
        self.assertEqual(lst[1], t)
        txt = d.ok("trunk", "list").out
        self.assertIn("NAME", txt)
        self.assertRegex(txt, r"carrier1\s+acme\s+tls\s+sip\.carrier\.example:5061\s+enabled\s+password")
        self.assertRegex(txt, r"carrier2\s+acme\s+udp\s+198\.51\.100\.10:5060\s+enabled\s+none")

        # set: each key.
        s = d.ok_json("trunk", "set", "carrier1", "addresses=192.0.2.0/25,192.0.2.128/25", "port=5062", "enabled=off")
        self.check_trunk(s)
        self.assertEqual(s["addresses"], ["192.0.2.0/25", "192.0.2.128/25"])
        self.assertEqual((s["port"], s["enabled"], s["password_set"], s["user"]), (5062, False, True, USER_MARKER))
        s = d.ok_json("trunk", "set", "carrier1", "host=sip2.carrier.example", "transport=tcp", "enabled=on")
        self.assertEqual((s["host"], s["transport"], s["enabled"]), ("sip2.carrier.example", "tcp", True))
        self.assertEqual(s["created"], t["created"])
        r = d.ok("trunk", "set", "carrier2", "enabled=off")
        self.assertIn("enabled=off", r.out)
        self.assertFalse(d.ok_json("trunk", "show", "carrier2")["enabled"])

        # remove.
        self.assertEqual(d.ok_json("trunk", "remove", "carrier2"), {"name": "carrier2", "tenant": "acme", "removed": True})
        self.assertFails(d.cli("trunk", "show", "carrier2"), 1, "no trunk", "carrier2")
        self.assertIn("removed", d.ok("trunk", "remove", "carrier3").out)

        # Audit rows and change-log rows, one per change.
        rows = self.audit(d, "trunk.")
        self.assertEqual(
            [r[:2] for r in rows],
            [
                ("trunk.add", "carrier1"),
                ("trunk.add", "carrier2"),
                ("trunk.add", "beta-carrier"),
                ("trunk.add", "carrier3"),
                ("trunk.set", "carrier1"),
                ("trunk.set", "carrier1"),
                ("trunk.set", "carrier2"),
                ("trunk.remove", "carrier2"),
                ("trunk.remove", "carrier3"),
            ],
        )
        self.assertIn("auth=password", rows[0][2])
        self.assertIn("addresses=192.0.2.0/24,2001:db8:5::/48", rows[0][2])
        self.assertIn("auth=none", rows[1][2])
        self.assertIn("enabled=off", rows[4][2])
        for r in rows:
            self.assertEqual(r[3], expected_actor())
            self.assertNotIn(TRUNK_PW, r[2])
        self.assertEqual(rows[0][4], acme)
        ch = self.changes(d, "trunk")
        self.assertEqual([c[0] for c in ch], ["add"] * 4 + ["update"] * 3 + ["remove"] * 2)
        self.assertEqual(ch[0][2], acme)

    def test_names_unique_across_tenants(self):
        d = self.two_tenants()
        self.add_carrier(d, pw=None)
        before = d.snapshot()
        r = d.cli("trunk", "add", "carrier1", "--tenant", "acme", "--host", "h.example.com", "--addresses", "192.0.2.0/24")
        self.assertFails(r, 1, "carrier1", "already exists")
        r = d.cli("trunk", "add", "carrier1", "--tenant", "beta", "--host", "h.example.com", "--addresses", "192.0.2.0/24")
        self.assertFails(r, 1, "carrier1", "already exists", "unique across tenants")
        self.assertEqual(d.snapshot(), before)

    def test_trunk_bad_input(self):
        d = self.two_tenants()
        self.add_carrier(d, pw=None)
        before = d.snapshot()
        base = ["trunk", "add", "c9", "--tenant", "acme", "--host", "sip.example.com"]
        addr = ["--addresses", "192.0.2.0/24"]
        cases = [
            (["trunk", "add", "Bad_Name", "--tenant", "acme", "--host", "h.example.com"] + addr, ["NAME", "Bad_Name"]),
            (["trunk", "add", "c9", "--host", "h.example.com"] + addr, ["--tenant", "required"]),
            (["trunk", "add", "c9", "--tenant", "Acme!", "--host", "h.example.com"] + addr, ["--tenant", "Acme!"]),
            (["trunk", "add", "c9", "--tenant", "acme"] + addr, ["--host", "required"]),
            (["trunk", "add", "c9", "--tenant", "acme", "--host", "Sip.Example.com"] + addr, ["--host", "lower case"]),
            (["trunk", "add", "c9", "--tenant", "acme", "--host", "localhost"] + addr, ["--host", "fully qualified"]),
            (["trunk", "add", "c9", "--tenant", "acme", "--host", "999.1.2.3"] + addr, ["--host", "IPv4"]),
            (["trunk", "add", "c9", "--tenant", "acme", "--host", "[2001:db8::1]"] + addr, ["--host", "brackets"]),
            (["trunk", "add", "c9", "--tenant", "acme", "--host", "0.0.0.0"] + addr, ["--host", "not a host"]),
            (["trunk", "add", "c9", "--tenant", "acme", "--host", "h x.example.com"] + addr, ["--host"]),
            (base + addr + ["--port", "0"], ["--port", "1 to 65535"]),
            (base + addr + ["--port", "65536"], ["--port", "1 to 65535"]),
            (base + addr + ["--port", "-1"], ["--port"]),
            (base + addr + ["--port", "50x"], ["--port"]),
            (base + addr + ["--transport", "ws"], ["--transport", "tls, tcp or udp"]),
            (base + addr + ["--transport", "TLS"], ["--transport"]),
            (base, ["--addresses", "required"]),
            (base + ["--addresses", ""], ["--addresses", "at least one"]),
            (base + ["--addresses", "0.0.0.0/0"], ["--addresses", "0.0.0.0/0", "toll fraud"]),
            (base + ["--addresses", "::/0"], ["--addresses", "::/0", "toll fraud"]),
            (base + ["--addresses", "192.0.2.0/24,0.0.0.0/0"], ["--addresses", "0.0.0.0/0"]),
            (base + ["--addresses", "10.0.0.0/8"], ["--addresses", "10.0.0.0/8", "/16"]),
            (base + ["--addresses", "10.0.0.0/15"], ["--addresses", "/16"]),
            (base + ["--addresses", "2001:db8::/31"], ["--addresses", "/32"]),
            (base + ["--addresses", "::ffff:0:0/96"], ["--addresses", "IPv4-mapped"]),
            (base + ["--addresses", "::ffff:192.0.2.0/120"], ["--addresses", "IPv4-mapped"]),
            (base + ["--addresses", "::/32"], ["--addresses", "IPv4-mapped"]),
            (base + ["--addresses", "192.0.2.1/24"], ["--addresses", "192.0.2.1/24"]),
            (base + ["--addresses", "sip.carrier.example"], ["--addresses", "sip.carrier.example"]),
            (base + ["--addresses", "192.0.2.0/24,192.0.2.0/24"], ["--addresses"]),
            (base + ["--addresses", ",".join("10.%d.0.0/16" % i for i in range(65))], ["--addresses"]),
            (base + addr + ["--user", "acct"], ["--password-stdin", "go together"]),
            (base + addr + ["--password-stdin"], ["--user", "go together"]),
            (base + addr + ["--user", "a b", "--password-stdin"], ["--user", "a b"]),
            (base + addr + ["--user", "x" * 65, "--password-stdin"], ["--user", "64"]),
            (base + addr + ["--bogus"], ["unknown option", "--bogus"]),
            (["trunk", "add"], ["missing arguments"]),
            (["trunk", "frob"], ["unknown command", "frob"]),
            (["trunk", "set", "carrier1", "color=red"], ["unknown key", "color"]),
            (["trunk", "set", "carrier1", "nokey"], ["not KEY=VALUE"]),
            (["trunk", "set", "carrier1", "enabled=yes"], ["enabled", "on or off"]),
            (["trunk", "set", "carrier1", "port=0"], ["port"]),
            (["trunk", "set", "carrier1", "transport=sctp"], ["transport"]),
            (["trunk", "set", "carrier1", "host=-bad.example"], ["host"]),
            (["trunk", "set", "carrier1", "addresses=0.0.0.0/0"], ["addresses", "toll fraud"]),
            (["trunk", "set", "carrier1", "addresses="], ["addresses", "at least one"]),
            (["trunk", "set", "carrier1"], ["missing arguments"]),
            (["trunk", "show"], ["missing arguments"]),
        ]
        for args, needles in cases:
            with self.subTest(args=args):
                self.assertFails(d.cli(*args), 2, *needles)
        # The password from stdin: none, empty, too long, control bytes.
        pw_args = base + addr + ["--user", "acct", "--password-stdin"]
        for data, needle in (
            ("", "no password"),
            ("\n", "empty"),
            ("x" * 129 + "\n", "longer than 128"),
            ("abc\x01def\n", "control"),
        ):
            with self.subTest(stdin=data[:10]):
                self.assertFails(d.cli(*pw_args, input=data), 2, "--password-stdin", needle)
        # Named objects: exit 1.
        for args, needles in (
            (["trunk", "add", "c9", "--tenant", "nope", "--host", "h.example.com"] + addr, ["no tenant", "nope"]),
            (["trunk", "show", "nope"], ["no trunk", "nope"]),
            (["trunk", "set", "nope", "enabled=off"], ["no trunk", "nope"]),
            (["trunk", "remove", "nope"], ["no trunk", "nope"]),
            (["trunk", "list", "nope"], ["no tenant", "nope"]),
        ):
            with self.subTest(args=args):
                self.assertFails(d.cli(*args), 1, *needles)
        self.assertFails(d.cli("trunk"), 2, "usage", one_line=False)
        self.assertEqual(d.snapshot(), before, "a refused command wrote to the store")
        self.assertIn("--addresses", d.ok("trunk", "--help").out)
        self.assertIn("trunk add", d.ok("--help").out)


class TestNumberCli(TrunkCase):
    def test_number_lifecycle(self):
        d = self.two_tenants()
        self.add_carrier(d, pw=None)
        d.ok("trunk", "add", "shared-name", "--tenant", "beta", "--host", "h.example.com", "--addresses", "203.0.113.0/24")
        n = d.ok_json("number", "add", "acme", "+4930123456", "--to", "1001", "--trunk", "carrier1")
        self.check_number(n)
        self.assertEqual(
            {k: n[k] for k in ("tenant", "e164", "destination", "extension", "trunk")},
            {"tenant": "acme", "e164": "+4930123456", "destination": "ext:1001", "extension": "1001", "trunk": "carrier1"},
        )
        n2 = d.ok_json("number", "add", "acme", "+14155550100", "--to", "1002")
        self.assertEqual((n2["trunk"], n2["extension"]), (None, "1002"))
        r = d.ok("number", "add", "beta", "+442071234567", "--to", "2001")
        self.assertIn("+442071234567", r.out)

        lst = d.ok_json("number", "list", "acme")
        for x in lst:
            self.check_number(x)
        self.assertEqual([x["e164"] for x in lst], ["+14155550100", "+4930123456"])
        self.assertEqual(lst[1], n)
        self.assertEqual([x["e164"] for x in d.ok_json("number", "list", "beta")], ["+442071234567"])
        txt = d.ok("number", "list", "acme").out
        self.assertRegex(txt, r"\+4930123456\s+ext:1001\s+carrier1")
        self.assertRegex(txt, r"\+14155550100\s+ext:1002\s+any")

        # A trunk numbers use cannot be removed.
        before = d.snapshot()
        self.assertFails(d.cli("trunk", "remove", "carrier1"), 1, "carrier1", "+4930123456", "number remove")
        self.assertEqual(d.snapshot(), before)

        self.assertEqual(
            d.ok_json("number", "remove", "acme", "+4930123456"),
            {"tenant": "acme", "e164": "+4930123456", "removed": True},
        )
        self.assertIn("removed", d.ok("number", "remove", "acme", "+14155550100").out)
        self.assertEqual(d.ok_json("number", "list", "acme"), [])
        d.ok("trunk", "remove", "carrier1")

        rows = self.audit(d, "number.")
        self.assertEqual(
            [r[:2] for r in rows],
            [
                ("number.add", "+4930123456"),
                ("number.add", "+14155550100"),
                ("number.add", "+442071234567"),
                ("number.remove", "+4930123456"),
                ("number.remove", "+14155550100"),
            ],
        )
        self.assertIn("ext:1001", rows[0][2])
        self.assertIn("trunk=carrier1", rows[0][2])
        self.assertIn("trunk=any", rows[1][2])
        for r in rows:
            self.assertEqual(r[3], expected_actor())
        self.assertEqual([c[0] for c in self.changes(d, "number")], ["add"] * 3 + ["remove"] * 2)

    def test_number_bad_input(self):
        d = self.two_tenants()
        self.add_carrier(d, pw=None)
        d.ok("trunk", "add", "beta-trunk", "--tenant", "beta", "--host", "h.example.com", "--addresses", "203.0.113.0/24")
        d.ok("number", "add", "acme", "+4930123456", "--to", "1001")
        before = d.snapshot()
        usage = [
            (["number", "add", "acme", "4930123456", "--to", "1001"], ["E164", "4930123456"]),
            (["number", "add", "acme", "+123456", "--to", "1001"], ["E164", "+123456"]),
            (["number", "add", "acme", "+1234567890123456", "--to", "1001"], ["E164"]),
            (["number", "add", "acme", "+0301234567", "--to", "1001"], ["E164"]),
            (["number", "add", "acme", "+49 30 1234567", "--to", "1001"], ["E164"]),
            (["number", "add", "acme", "+49-30-1234567", "--to", "1001"], ["E164"]),
            (["number", "add", "acme", "tel:+4930555", "--to", "1001"], ["E164"]),
            (["number", "add", "acme", "+4930555000"], ["--to", "required"]),
            (["number", "add", "acme", "+4930555000", "--to", "1"], ["--to", "\"1\""]),
            (["number", "add", "acme", "+4930555000", "--to", "ext:1001"], ["--to"]),
            (["number", "add", "acme", "+4930555000", "--to", "1001", "--trunk", "Bad Trunk"], ["--trunk"]),
            (["number", "add", "ACME", "+4930555000", "--to", "1001"], ["TENANT"]),
            (["number", "add", "acme"], ["missing arguments"]),
            (["number", "remove", "acme", "4930123456"], ["E164"]),
            (["number", "list"], ["missing arguments"]),
            (["number", "frob"], ["unknown command"]),
        ]
        for args, needles in usage:
            with self.subTest(args=args):
                self.assertFails(d.cli(*args), 2, *needles)
        failed = [
            (["number", "add", "nope", "+4930555000", "--to", "1001"], ["no tenant", "nope"]),
            (["number", "add", "acme", "+4930555000", "--to", "1999"], ["--to", "no extension 1999"]),
            (["number", "add", "acme", "+4930555000", "--to", "2001"], ["--to", "no extension 2001"]),
            (["number", "add", "acme", "+4930555000", "--to", "1001", "--trunk", "nope"], ["--trunk", "no trunk"]),
            (["number", "add", "acme", "+4930555000", "--to", "1001", "--trunk", "beta-trunk"], ["--trunk", "not tenant acme's"]),
            (["number", "add", "acme", "+4930123456", "--to", "1002"], ["+4930123456", "already exists"]),
            (["number", "add", "beta", "+4930123456", "--to", "2001"], ["+4930123456", "already exists"]),
            (["number", "remove", "acme", "+4930999999"], ["no number", "+4930999999"]),
            (["number", "remove", "beta", "+4930123456"], ["no number", "+4930123456", "beta"]),
            (["number", "list", "nope"], ["no tenant"]),
        ]
        for args, needles in failed:
            with self.subTest(args=args):
                self.assertFails(d.cli(*args), 1, *needles)
        self.assertEqual(d.snapshot(), before, "a refused command wrote to the store")
        self.assertIn("E164", d.ok("number", "--help").out)


class TestTrunkSecret(TrunkCase):
    def test_password_never_printed_nor_stored_in_clear(self):
        d = self.two_tenants()
        outputs = []

        def keep(r):
            outputs.append(r.out + r.err)
            return r

        t = self.add_carrier(d)
        self.assertTrue(t["password_set"])
        r = keep(d.ok("trunk", "add", "carrier-text", "--tenant", "acme", "--host", "h.example.com",
                      "--addresses", "198.51.100.0/24", "--user", "acct2", "--password-stdin", input=TRUNK_PW + "2\n"))
        self.assertIn("sealed", r.out)
        for args in (
            ("trunk", "show", "carrier1"),
            ("trunk", "show", "carrier1", "--json"),
            ("trunk", "list"),
            ("trunk", "list", "--json"),
            ("trunk", "set", "carrier1", "port=5070"),
            ("trunk", "set", "carrier1", "enabled=off", "--json"),
            ("audit",),
        ):
            keep(d.cli(*args))
        secrets_ = [TRUNK_PW, TRUNK_PW + "2"]
        for out in outputs:
            for s in secrets_:
                self.assertNotIn(s, out)

        # At rest: sealed with the key, the key id beside it (secretbox:
        # 24-byte nonce, 16-byte tag).
        rows = d.query("SELECT name, key_id, auth_box, auth_user FROM trunks ORDER BY name")
        by = {r[0]: r for r in rows}
        self.assertTrue(by["carrier1"][1])
        self.assertEqual(len(by["carrier1"][2]), len(TRUNK_PW) + 40)
        self.assertEqual(by["carrier1"][3], USER_MARKER)
        self.assertNotEqual(by["carrier1"][2], by["carrier-text"][2])

        # A running daemon too (its log and the -wal).
        port = free_port()
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "media", "ports", "31000-32000")
        conf_set(d.conf, "portal", "listen", "")
        logp = os.path.join(d.dir, "daemon.log")
        open(logp, "w").close()
        os.chown(logp, os.stat(d.dir).st_uid, os.stat(d.dir).st_gid)
        daemon = d.start_daemon(log_path=logp)
        daemon.wait_for(r"started", 60)
        mark = daemon.count()
        d.ok("trunk", "set", "carrier1", "enabled=on")
        daemon.wait_for(APPLIED, 10, start=mark)
        found = scan_files(d.files(), secrets_)
        self.assertEqual(found, [], "a trunk password in clear while the daemon runs")
        self.assertEqual(daemon.stop(), 0)
        d.checkpoint()
        files = d.files()
        self.assertIn(d.db, files)
        self.assertIn(logp, files)
        self.assertEqual(scan_files(files, secrets_), [], "a trunk password in clear under %s" % d.dir)
        # Positive control: the scanner sees the planted auth user.
        hits = {(os.path.basename(p), label) for p, s, label in scan_files(files, [USER_MARKER])}
        self.assertIn(("sipwarden.db", "raw"), hits)


class TestTrunkDaemon(TrunkCase):
    def test_daemon_follows_trunks_and_numbers(self):
        d = self.two_tenants()
        self.add_carrier(d, name="early", pw=None, addresses="100.64.0.0/16")
        port = free_port()
        conf_set(d.conf, "sip", "udp", "127.0.0.1:%d" % port)
        conf_set(d.conf, "sip", "tls", "")
        conf_set(d.conf, "media", "ports", "32000-33000")
        conf_set(d.conf, "portal", "listen", "")
        daemon = d.start_daemon()
        i, m, _ = daemon.wait_for(IN_MEMORY, 60)
        self.assertEqual((int(m.group(1)), int(m.group(2))), (1, 0))
        daemon.wait_for(r"started", 60)

        steps = [
            (("trunk", "add", "carrier1", "--tenant", "acme", "--host", "sip.carrier.example", "--addresses", "192.0.2.0/24"), (2, 0)),
            (("number", "add", "acme", "+4930123456", "--to", "1001", "--trunk", "carrier1"), (2, 1)),
            (("number", "add", "acme", "+4930123457", "--to", "1002"), (2, 2)),
            (("trunk", "set", "carrier1", "enabled=off"), (1, 2)),
            (("trunk", "set", "carrier1", "enabled=on", "addresses=192.0.2.0/25"), (2, 2)),
            (("number", "remove", "acme", "+4930123456"), (2, 1)),
            (("trunk", "remove", "carrier1"), (1, 1)),
            (("trunk", "remove", "early"), (0, 1)),
        ]
        for args, (ntrunks, nnumbers) in steps:
            with self.subTest(args=args):
                mark = daemon.count()
                d.ok(*args)
                done = time.monotonic()
                (seq,) = d.query("SELECT max(seq) FROM changes")[0]
                _, m, seen = daemon.wait_for(APPLIED, 5.0, start=mark)
                self.assertGreaterEqual(int(m.group(3)), seq)
                lag = seen - done
                self.assertLessEqual(lag, 1.0, "%s applied after %.2fs" % (args, lag))
                _, m, _ = daemon.wait_for(IN_MEMORY, 5.0, start=mark)
                self.assertEqual((int(m.group(1)), int(m.group(2))), (ntrunks, nnumbers), args)
        log("trunk and number changes applied within a second each")
        # A restart loads what the store holds.
        self.assertEqual(daemon.stop(), 0)
        d.ok("trunk", "add", "late", "--tenant", "beta", "--host", "h.example.com", "--addresses", "203.0.113.0/24")
        daemon = d.start_daemon()
        _, m, _ = daemon.wait_for(IN_MEMORY, 60)
        self.assertEqual((int(m.group(1)), int(m.group(2))), (1, 1))
        daemon.wait_for(r"started", 60)
        self.assertEqual(daemon.stop(), 0)
        self.assertNotRegex(daemon.text(), re.escape(TRUNK_PW))
