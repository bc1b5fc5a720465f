"""4. The --json shapes of every command that has --json: keys, types,
RFC 3339 UTC times, and passwords only where they are created."""

import datetime
import json
import os

from helpers import (
    DOMAIN,
    TENANT_DOMAIN,
    SwTestCase,
    assert_generated,
    run,
    strong_password,
)

SECRET_KEYS = ("password", "ha1", "ha1_md5", "ha1_sha256", "secret", "password_box", "pw_khash")


class TestJsonShapes(SwTestCase):
    def setUp(self):
        self.d = self.deploy()
        self.t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)

    def check_time(self, v, what, nullable=False):
        if nullable and v is None:
            return
        t = self.assertRFC3339(v, what)
        now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
        self.assertTrue(self.t0 <= t <= now, "%s %s is not about now" % (what, v))

    def check_keys(self, obj, want, what):
        self.assertIsInstance(obj, dict, what)
        for k, types in want.items():
            self.assertIn(k, obj, "%s: no key %r in %r" % (what, k, obj))
            self.assertIsInstance(obj[k], types, "%s: %r is %r" % (what, k, obj[k]))

    def check_tenant(self, t, name, domain):
        self.check_keys(
            t,
            {
                "name": str,
                "domain": str,
                "timezone": str,
                "currency": str,
                "extensions": int,
                "settings": dict,
                "created": str,
                "updated": str,
            },
            "tenant",
        )
        self.assertNotIsInstance(t["extensions"], bool)
        self.assertEqual(t["name"], name)
        self.assertEqual(t["domain"], domain)
        self.check_time(t["created"], "tenant created")
        self.check_time(t["updated"], "tenant updated")
        self.check_keys(t["settings"], {"srtp": str, "digest": str, "allow": str}, "tenant settings")

    def check_ext(self, e, number, name=""):
        self.check_keys(
            e,
            {
                "tenant": str,
                "extension": str,
                "name": str,
                "sip_uri": str,
                "enabled": bool,
                "settings": dict,
                "created": str,
                "password_rotated": str,
                "password_age_days": int,
                "updated": str,
            },
            "extension",
        )
        for k in ("last_registered", "last_source", "last_user_agent"):
            self.assertIn(k, e)
        self.assertEqual(e["tenant"], "acme")
        self.assertEqual(e["extension"], number)
        self.assertEqual(e["name"], name)
        self.assertEqual(e["sip_uri"], "sip:%s@%s" % (number, TENANT_DOMAIN))
        self.check_time(e["created"], "ext created")
        self.check_time(e["password_rotated"], "ext password_rotated")
        self.check_time(e["updated"], "ext updated")
        self.check_time(e["last_registered"], "ext last_registered", nullable=True)
        self.assertEqual(e["password_age_days"], 0)
        self.assertIn("srtp", e["settings"])
        for k in SECRET_KEYS:
            self.assertNotIn(k, e, "an extension's JSON carries %r" % k)

    def test_tenant_commands(self):
        d = self.d
        t = d.ok_json("tenant", "add", "acme", "--domain", TENANT_DOMAIN)
        self.check_tenant(t, "acme", TENANT_DOMAIN)
        self.assertEqual(t["timezone"], "UTC")
        self.assertEqual(t["currency"], "EUR")
        self.assertEqual(t["extensions"], 0)
        self.assertEqual(t["settings"], {"srtp": "required", "digest": "md5", "allow": ""})
        t = d.ok_json("tenant", "add", "beta-co", "--domain", "beta.example.com", "--timezone", "Europe/Paris", "--currency", "USD")
        self.check_tenant(t, "beta-co", "beta.example.com")
        self.assertEqual((t["timezone"], t["currency"]), ("Europe/Paris", "USD"))
        lst = d.ok_json("tenant", "list")
        self.assertIsInstance(lst, list)
        self.assertEqual(sorted(x["name"] for x in lst), ["acme", "beta-co"])
        for x in lst:
            self.check_tenant(x, x["name"], x["domain"])
        d.add_ext("1001")
        s = d.ok_json("tenant", "show", "acme")
        self.check_tenant(s, "acme", TENANT_DOMAIN)
        self.assertEqual(s["extensions"], 1)
        s = d.ok_json("tenant", "set", "acme", "srtp=optional", "currency=USD")
        self.check_tenant(s, "acme", TENANT_DOMAIN)
        self.assertEqual(s["settings"]["srtp"], "optional")
        self.assertEqual(s["currency"], "USD")
        # The human form of show is the same object, indented.
        r = d.ok("tenant", "show", "acme")
        self.check_tenant(json.loads(r.out), "acme", TENANT_DOMAIN)

    def test_ext_commands(self):
        d = self.d
        d.tenant()
        a = d.ok_json("ext", "add", "acme", "1001", "--name", "Alice Martin")
        self.check_keys(a, {"tenant": str, "extension": str, "name": str, "sip_uri": str, "password": str}, "ext add")
        self.assertEqual((a["tenant"], a["extension"], a["name"]), ("acme", "1001", "Alice Martin"))
        self.assertEqual(a["sip_uri"], "sip:1001@" + TENANT_DOMAIN)
        assert_generated(self, a["password"])
        b = d.ok_json("ext", "add", "acme", "1002", "--password-stdin", input=strong_password() + "\n")
        self.assertIn("password", b)
        self.assertIsNone(b["password"], "a chosen password is echoed")
        self.assertEqual(b["name"], "")

        lst = d.ok_json("ext", "list", "acme")
        self.assertIsInstance(lst, list)
        self.assertEqual([e["extension"] for e in lst], ["1001", "1002"])
        self.check_ext(lst[0], "1001", "Alice Martin")
        self.check_ext(lst[1], "1002")
        self.assertIs(lst[0]["enabled"], True)
        self.assertIsNone(lst[0]["last_registered"])
        self.assertIsNone(lst[0]["last_source"])
        self.assertIsNone(lst[0]["last_user_agent"])
        self.assertEqual(lst[0]["settings"], {"srtp": "inherit"})

        self.check_ext(d.ok_json("ext", "show", "acme", "1001"), "1001", "Alice Martin")
        s = d.ok_json("ext", "set", "acme", "1001", "name=Alice M", "srtp=optional")
        self.check_ext(s, "1001", "Alice M")
        self.assertEqual(s["settings"]["srtp"], "optional")
        s = d.ok_json("ext", "disable", "acme", "1001")
        self.check_ext(s, "1001", "Alice M")
        self.assertIs(s["enabled"], False)
        s = d.ok_json("ext", "enable", "acme", "1001")
        self.assertIs(s["enabled"], True)

        r = d.ok_json("ext", "rotate", "acme", "1001")
        self.check_keys(r, {"tenant": str, "extension": str, "password": str}, "ext rotate")
        self.assertEqual((r["tenant"], r["extension"]), ("acme", "1001"))
        assert_generated(self, r["password"])
        self.assertNotEqual(r["password"], a["password"])
        r = d.ok_json("ext", "rotate", "acme", "1001", "--password-stdin", input=strong_password() + "\n")
        self.assertIn("password", r)
        self.assertIsNone(r["password"])

        rm = d.ok_json("ext", "remove", "acme", "1002")
        self.check_keys(rm, {"tenant": str, "extension": str, "removed": bool}, "ext remove")
        self.assertEqual((rm["tenant"], rm["extension"], rm["removed"]), ("acme", "1002", True))

    def test_ext_import(self):
        d = self.d
        d.tenant()
        d.add_ext("1001")  # (an empty tenant is test_import's business)
        path = os.path.join(d.dir, "in.csv")
        chosen = strong_password()
        with open(path, "w") as f:
            f.write("extension,name,password\n2001,A,\n2002,B,%s\n2003,C,\n" % chosen)
        j = d.ok_json("ext", "import", "acme", path)
        self.check_keys(j, {"tenant": str, "imported": int, "generated": list}, "ext import")
        self.assertEqual(j["tenant"], "acme")
        self.assertEqual(j["imported"], 3)
        self.assertEqual([g["extension"] for g in j["generated"]], ["2001", "2003"])
        for g in j["generated"]:
            self.check_keys(g, {"extension": str, "password": str}, "generated")
            assert_generated(self, g["password"])
        self.assertNotIn(chosen, str(j))

    def test_init_and_audit(self):
        folder = os.path.join(self.d.dir, "sub")
        r = run(["init", folder, "--domain", DOMAIN, "--json"])
        self.assertEqual(r.rc, 0, r.describe())
        j = r.json()
        self.check_keys(
            j,
            {
                "dir": str,
                "domain": str,
                "config": str,
                "database": str,
                "secret_key": str,
                "certificate": str,
                "certificate_sha256": str,
                "schema_version": int,
                "user": str,
            },
            "init",
        )
        r = self.d.cli("audit", "--json")
        self.assertIn(r.rc, (0, 1), r.describe())
        a = r.json()
        self.check_keys(a, {"findings": list, "critical": int, "warning": int, "ok": int}, "audit")
        self.assertGreater(len(a["findings"]), 0)
        sev = {"ok": 0, "warning": 0, "critical": 0}
        for f in a["findings"]:
            self.check_keys(f, {"id": str, "severity": str, "message": str}, "finding")
            self.assertIn("fix", f)
            self.assertIn(f["severity"], sev)
            sev[f["severity"]] += 1
            if f["severity"] == "ok":
                self.assertIsNone(f["fix"])
            else:
                self.assertIsInstance(f["fix"], str)
        self.assertEqual((a["critical"], a["warning"], a["ok"]), (sev["critical"], sev["warning"], sev["ok"]))
        self.assertEqual(r.rc, 1 if a["critical"] else 0)
