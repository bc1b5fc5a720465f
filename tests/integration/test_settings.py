"""12. tenant set and ext set: every key, bad values, enable/disable,
remove."""

from helpers import TENANT_DOMAIN, SwTestCase


class TestTenantSet(SwTestCase):
    def test_every_key(self):
        d = self.deploy(tenant=True)
        t = d.ok_json("tenant", "set", "acme", "timezone=Europe/Paris")
        self.assertEqual(t["timezone"], "Europe/Paris")
        t = d.ok_json("tenant", "set", "acme", "currency=USD")
        self.assertEqual(t["currency"], "USD")
        t = d.ok_json("tenant", "set", "acme", "srtp=optional")
        self.assertEqual(t["settings"]["srtp"], "optional")
        t = d.ok_json("tenant", "set", "acme", "digest=md5,sha256")
        self.assertEqual(t["settings"]["digest"], "md5,sha256")
        t = d.ok_json("tenant", "set", "acme", "digest=sha256")
        self.assertEqual(t["settings"]["digest"], "sha256")
        t = d.ok_json("tenant", "set", "acme", "domain=new.example.com")
        self.assertEqual(t["domain"], "new.example.com")
        # Several at once; each persists.
        d.ok("tenant", "set", "acme", "srtp=required", "digest=sha256,md5", "timezone=UTC", "currency=EUR")
        t = d.ok_json("tenant", "show", "acme")
        self.assertEqual(
            (t["timezone"], t["currency"], t["settings"], t["domain"]),
            ("UTC", "EUR", {"srtp": "required", "digest": "sha256,md5", "allow": ""}, "new.example.com"),
        )
        r = d.ok("tenant", "set", "acme", "timezone=America/New_York")
        self.assertIn("timezone=America/New_York", r.out)
        (tz,) = d.query("SELECT timezone FROM tenants WHERE name = 'acme'")[0]
        self.assertEqual(tz, "America/New_York")

    def test_bad_values(self):
        d = self.deploy(tenant=True)
        before = d.snapshot()
        cases = [
            (["timezone=Mars/Base"], "timezone"),
            (["timezone=../../etc/passwd"], "timezone"),
            (["currency=euro"], "currency"),
            (["currency=EU"], "currency"),
            (["digest=sha1"], "digest"),
            (["digest=md5,md5"], "digest"),
            (["digest="], "digest"),
            (["digest=sha256,"], "digest"),
            (["srtp=maybe"], "srtp"),
            (["domain=-bad..x"], "domain"),
            (["domain=UPPER.example.com"], "domain"),
            (["colour=blue"], "unknown key"),
            (["srtp"], "KEY=VALUE"),
            (["=x"], "KEY=VALUE"),
            (["srtp=optional", "currency=euro"], "currency"),
        ]
        for kv, needle in cases:
            with self.subTest(kv=kv):
                self.assertFails(d.cli("tenant", "set", "acme", *kv), 2, needle)
        self.assertEqual(d.snapshot(), before, "a refused tenant set changed the store")
        self.assertFails(d.cli("tenant", "set", "acme"), 2, "missing arguments")
        self.assertFails(d.cli("tenant", "set", "nope", "srtp=optional"), 1, "no tenant")


class TestExtSet(SwTestCase):
    def test_ext_set_enable_remove(self):
        d = self.deploy(tenant=True)
        d.add_ext("1001")
        d.add_ext("1002")
        e = d.ok_json("ext", "set", "acme", "1001", "name=Alice Martin")
        self.assertEqual(e["name"], "Alice Martin")
        e = d.ok_json("ext", "set", "acme", "1001", "srtp=optional")
        self.assertEqual(e["settings"]["srtp"], "optional")
        self.assertEqual(e["name"], "Alice Martin", "setting srtp lost the name")
        e = d.ok_json("ext", "set", "acme", "1001", "srtp=required")
        self.assertEqual(e["settings"]["srtp"], "required")
        e = d.ok_json("ext", "set", "acme", "1001", "srtp=inherit")
        self.assertEqual(e["settings"]["srtp"], "inherit")
        (settings,) = d.query("SELECT settings FROM extensions WHERE number = '1001'")[0]
        self.assertNotIn("srtp", settings, "inherit should drop the override")
        e = d.ok_json("ext", "set", "acme", "1001", "name=Zoë Ångström", "srtp=optional")
        self.assertEqual((e["name"], e["settings"]["srtp"]), ("Zoë Ångström", "optional"))
        e = d.ok_json("ext", "set", "acme", "1001", "name=")
        self.assertEqual(e["name"], "")
        for kv, needle in (
            ("srtp=maybe", "srtp"),
            ("colour=blue", "unknown key"),
            ('name=Bad "quote"', "name"),
            ("name=<script>", "name"),
            ("name=" + "x" * 200, "name"),
            ("novalue", "KEY=VALUE"),
        ):
            with self.subTest(kv=kv):
                self.assertFails(d.cli("ext", "set", "acme", "1001", kv), 2, needle)

        def enabled():
            return {e["extension"]: e["enabled"] for e in d.ok_json("ext", "list", "acme")}

        self.assertEqual(enabled(), {"1001": True, "1002": True})
        d.ok("ext", "disable", "acme", "1001")
        self.assertEqual(enabled(), {"1001": False, "1002": True})
        d.ok("ext", "disable", "acme", "1001")  # idempotent
        self.assertEqual(enabled(), {"1001": False, "1002": True})
        self.assertIn("disabled", d.ok("ext", "list", "acme").out)
        d.ok("ext", "enable", "acme", "1001")
        self.assertEqual(enabled(), {"1001": True, "1002": True})

        r = d.ok("ext", "remove", "acme", "1002")
        self.assertIn("1002", r.out)
        self.assertFails(d.cli("ext", "show", "acme", "1002"), 1, "no extension", "1002")
        self.assertFails(d.cli("ext", "remove", "acme", "1002"), 1, "no extension")
        self.assertEqual(list(enabled()), ["1001"])
        # Its secrets and history went with it.
        self.assertEqual(
            d.query("SELECT count(*) FROM ext_secrets s LEFT JOIN extensions e ON e.id = s.extension_id WHERE e.id IS NULL")[0][0],
            0,
        )
        self.assertEqual(d.query("SELECT count(*) FROM ext_secrets")[0][0], 1)
        self.assertEqual(
            d.query(
                "SELECT count(*) FROM password_history h LEFT JOIN extensions e ON e.id = h.extension_id WHERE e.id IS NULL"
            )[0][0],
            0,
        )
        # The number can be used again.
        d.add_ext("1002")
        self.assertEqual(d.ok_json("ext", "show", "acme", "1002")["sip_uri"], "sip:1002@" + TENANT_DOMAIN)
        self.assertEqual(d.ok_json("tenant", "show", "acme")["extensions"], 2)
