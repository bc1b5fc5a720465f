"""11. `sipwarden audit`: the security posture. 13. The audit log: one row
per successful administrative action, append-only."""

import os

from helpers import SwTestCase, expected_actor, strong_password


def findings(a):
    return {f["id"]: f for f in a["findings"]}


class TestAuditCommand(SwTestCase):
    def test_fresh_deployment(self):
        d = self.deploy()
        r = d.cli("audit")
        self.assertEqual(r.rc, 0, "a fresh deployment has no critical finding:\n" + r.describe())
        self.assertNotIn("CRITICAL", r.out)
        self.assertIn("media.relay", r.out)
        self.assertRegex(r.out, r"0 critical, \d+ warnings, \d+ ok")
        r = d.cli("audit", "--json")
        self.assertEqual(r.rc, 0, r.describe())
        a = r.json()
        self.assertIsInstance(a["findings"], list)
        for f in a["findings"]:
            for k in ("id", "severity", "message"):
                self.assertIsInstance(f.get(k), str, "finding %r: %s" % (f, k))
            self.assertIn(f["severity"], ("ok", "warning", "critical"))
        f = findings(a)
        self.assertEqual(f["media.relay"]["severity"], "ok")
        self.assertEqual(f["guard.enabled"]["severity"], "ok")
        self.assertEqual(f["guard.nft"]["severity"], "warning")
        self.assertEqual(f["secret_key"]["severity"], "ok")
        self.assertEqual(f["database"]["severity"], "ok")
        self.assertEqual(f["tls.key"]["severity"], "ok")
        self.assertNotIn("tenant.srtp", f)
        self.assertEqual(a["critical"], 0)

    def test_key_mode_and_srtp(self):
        d = self.deploy(tenant=True)
        base = d.cli("audit", "--json").json()
        self.assertNotIn("tenant.srtp", findings(base), "srtp=required by default: no warning")
        os.chmod(d.key, 0o644)
        r = d.cli("audit", "--json")
        self.assertEqual(r.rc, 1)
        a = r.json()
        f = findings(a)["secret_key"]
        self.assertEqual(f["severity"], "critical")
        self.assertIn("0644", f["message"])
        self.assertIn(d.key, f["message"])
        self.assertIn("chmod", f["fix"])
        self.assertEqual(a["critical"], base["critical"] + 1)
        r = d.cli("audit")
        self.assertRegex(r.out, r"CRITICAL\s+secret_key")
        os.chmod(d.key, 0o600)
        self.assertEqual(findings(d.cli("audit", "--json").json())["secret_key"]["severity"], "ok")
        d.ok("tenant", "set", "acme", "srtp=optional")
        a = d.cli("audit", "--json").json()
        f = findings(a)
        self.assertIn("tenant.srtp", f)
        self.assertEqual(f["tenant.srtp"]["severity"], "warning")
        self.assertIn("acme", f["tenant.srtp"]["message"])
        self.assertEqual(a["warning"], base["warning"] + 1)
        d.ok("tenant", "set", "acme", "srtp=required")
        self.assertNotIn("tenant.srtp", findings(d.cli("audit", "--json").json()))
        # Per-extension plain RTP is a warning too.
        d.add_ext("1001")
        d.ok("ext", "set", "acme", "1001", "srtp=optional")
        f = findings(d.cli("audit", "--json").json())
        self.assertEqual(f["ext.srtp"]["severity"], "warning")

    def test_guard_off_is_critical(self):
        d = self.deploy()
        from test_sip_register import conf_set
        conf_set(d.conf, "guard", "enabled", "off")
        r = d.cli("audit", "--json")
        self.assertEqual(r.rc, 1, r.describe())
        f = findings(r.json())
        self.assertEqual(f["guard.enabled"]["severity"], "critical")
        self.assertIn("enabled = on", f["guard.enabled"]["fix"])

    def test_plain_sip_and_portal(self):
        d = self.deploy()
        with open(d.conf) as fh:
            text = fh.read()
        text = text.replace("\nudp =\n", "\nudp = 0.0.0.0:5060\n").replace(
            "\nlisten = 127.0.0.1:8443\n", "\nlisten = 0.0.0.0:8443\n"
        )
        with open(d.conf, "w") as fh:
            fh.write(text)
        f = findings(d.cli("audit", "--json").json())
        self.assertEqual(f["sip.plain"]["severity"], "warning")
        self.assertEqual(f["portal.listen"]["severity"], "critical")


class TestAuditLog(SwTestCase):
    def test_one_row_per_action(self):
        d = self.deploy()
        path = os.path.join(d.dir, "in.csv")
        chosen = strong_password()
        steps = [
            (("tenant", "add", "acme", "--domain", "acme.example.com"), None, "tenant.add", "acme"),
            (("ext", "add", "acme", "1001"), None, "ext.add", "1001"),
            (("ext", "add", "acme", "1002", "--password-stdin"), chosen + "\n", "ext.add", "1002"),
            (("ext", "import", "acme", path), None, "ext.import", ""),
            (("ext", "rotate", "acme", "1001"), None, "ext.rotate", "1001"),
            (("ext", "set", "acme", "1001", "name=Alice"), None, "ext.set", "1001"),
            (("ext", "disable", "acme", "1001"), None, "ext.disable", "1001"),
            (("ext", "enable", "acme", "1001"), None, "ext.enable", "1001"),
            (("tenant", "set", "acme", "srtp=optional"), None, "tenant.set", "acme"),
            (("ext", "remove", "acme", "1002"), None, "ext.remove", "1002"),
        ]
        with open(path, "w") as f:
            f.write("extension,name,password\n1101,A,\n1102,B,%s\n" % strong_password())
        expected = []
        for args, inp, action, target in steps:
            d.ok(*args, input=inp)
            expected.append((action, target))
            # Reads and failures add nothing.
            d.ok("ext", "list", "acme")
            d.ok("tenant", "list", "--json")
            d.cli("audit")
            self.assertEqual(d.cli("tenant", "add", "acme", "--domain", "x.example.com").rc, 1)
            self.assertEqual(d.cli("ext", "add", "nope", "1001").rc, 1)
            self.assertEqual(d.cli("ext", "add", "acme", "1009", "--password-stdin", input="weak\n").rc, 2)
            self.assertEqual(d.cli("ext", "rotate", "acme", "1009").rc, 1)
        os.unlink(path)
        rows = d.query("SELECT actor, source, action, target, detail, at_us, tenant_id FROM audit_log ORDER BY id")
        self.assertEqual([(r[2], r[3]) for r in rows], expected)
        (acme_id,) = d.query("SELECT id FROM tenants WHERE name = 'acme'")[0]
        for actor, source, action, target, detail, at_us, tenant_id in rows:
            self.assertEqual(actor, expected_actor())
            self.assertEqual(actor, "cli:root")
            self.assertEqual(source, "local")
            self.assertEqual(tenant_id, acme_id)
            self.assertGreater(at_us, 1_600_000_000_000_000)
            self.assertNotIn(chosen, detail)
        details = {r[2]: r[4] for r in rows}
        self.assertIn("name=Alice", details["ext.set"])
        self.assertIn("srtp=optional", details["tenant.set"])
        self.assertIn("2 extensions", details["ext.import"])
        self.assertEqual([r[4] for r in rows if r[2] == "ext.add"], ["password generated", "password chosen"])
        ats = [r[5] for r in rows]
        self.assertEqual(ats, sorted(ats))

    def test_sudo_user_and_ssh(self):
        d = self.deploy()
        env = {"SUDO_USER": "alice", "SSH_CONNECTION": "203.0.113.7 50022 198.51.100.1 22"}
        d.ok("tenant", "add", "acme", "--domain", "acme.example.com", env=env)
        d.ok("ext", "add", "acme", "1001", env={"SUDO_USER": "bob"})
        rows = d.query("SELECT actor, source, action FROM audit_log ORDER BY id")
        self.assertEqual(rows, [("cli:alice", "ssh:203.0.113.7", "tenant.add"), ("cli:bob", "local", "ext.add")])

    def test_append_only(self):
        d = self.deploy(tenant=True)
        d.add_ext("1001")
        before = d.query("SELECT * FROM audit_log ORDER BY id")
        self.assertEqual(len(before), 2)
        for sql in (
            "UPDATE audit_log SET actor = 'someone-else';",
            "DELETE FROM audit_log;",
            "DELETE FROM audit_log WHERE action = 'ext.add';",
        ):
            with self.subTest(sql=sql):
                p = d.sqlite_as_owner(sql)
                self.assertNotEqual(p.returncode, 0, "%s succeeded" % sql)
                self.assertIn(b"append-only", p.stderr)
        self.assertEqual(d.query("SELECT * FROM audit_log ORDER BY id"), before)
        # INSERT still works (append).
        p = d.sqlite_as_owner(
            "INSERT INTO audit_log (at_us, actor, source, action) VALUES (1, 'test', 'local', 'test.append');"
        )
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(d.query("SELECT * FROM audit_log")), 3)
        for p in d.files():
            self.assertNotEqual(os.stat(p).st_uid, 0, "%s is root's" % p)
