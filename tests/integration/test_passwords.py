"""5. SIP passwords: printed once when created, never listed; the policy on
chosen passwords; the digest material (HA1) in the store."""

import hashlib
import re

from helpers import TENANT_DOMAIN, SwTestCase, assert_generated, strong_password

STRONG = "correct horse battery staple 9"


def ha1(alg, ext, realm, pw):
    return hashlib.new(alg, ("%s:%s:%s" % (ext, realm, pw)).encode()).hexdigest()


class TestPasswords(SwTestCase):
    def setUp(self):
        self.d = self.deploy(tenant=True)

    def test_printed_once_never_listed(self):
        d = self.d
        r = d.ok("ext", "add", "acme", "1001", "--name", "Alice")
        m = re.search(r"(?m)^password: (\S+)$", r.out)
        self.assertIsNotNone(m, "ext add printed no password:\n" + r.describe())
        pw = m.group(1)
        assert_generated(self, pw)
        self.assertEqual(r.out.count(pw), 1, "the password is printed more than once")
        self.assertNotIn(pw, r.err)
        pw2 = d.add_ext("1002")
        views = [
            d.ok("ext", "list", "acme"),
            d.ok("ext", "list", "acme", "--json"),
            d.ok("ext", "show", "acme", "1001"),
            d.ok("ext", "show", "acme", "1001", "--json"),
            d.ok("ext", "set", "acme", "1001", "name=Alice B"),
            d.ok("ext", "set", "acme", "1001", "srtp=optional", "--json"),
            d.ok("ext", "disable", "acme", "1001", "--json"),
            d.ok("ext", "enable", "acme", "1001"),
            d.ok("tenant", "show", "acme", "--json"),
            d.ok("tenant", "list"),
            d.cli("audit", "--json"),
        ]
        for v in views:
            for p in (pw, pw2):
                self.assertNotIn(p, v.out + v.err, "a password shows in: " + v.describe())
        # rotate prints a new, different one, once.
        r = d.ok("ext", "rotate", "acme", "1001")
        m = re.search(r"new password: (\S+)", r.out)
        self.assertIsNotNone(m, r.describe())
        new = m.group(1)
        assert_generated(self, new)
        self.assertNotEqual(new, pw)
        self.assertEqual(r.out.count(new), 1)
        r2 = d.ok_json("ext", "rotate", "acme", "1001")
        assert_generated(self, r2["password"])
        self.assertNotIn(r2["password"], (pw, new))
        for v in (d.ok("ext", "list", "acme", "--json"), d.ok("ext", "show", "acme", "1001")):
            for p in (pw, new, r2["password"]):
                self.assertNotIn(p, v.out)
        # A chosen password is never echoed, in any form of output.
        r = d.ok("ext", "add", "acme", "1003", "--password-stdin", input=STRONG + "\n")
        self.assertNotIn(STRONG, r.out + r.err)
        self.assertNotIn("password:", r.out)
        r = d.ok("ext", "rotate", "acme", "1003", "--password-stdin", input=strong_password() + "\n")
        self.assertIn("password replaced", r.out)

    def test_generated_passwords_differ(self):
        seen = set()
        for i in range(8):
            pw = self.d.add_ext("20%02d" % i)
            assert_generated(self, pw)
            seen.add(pw)
        self.assertEqual(len(seen), 8)

    def test_policy_refusals(self):
        d = self.d
        cases = [
            ("Zq7-short", "too short"),
            ("1001 violet tiger lamp", "contains the extension number"),
            ("1001correcthorsebattery", "contains the extension number"),
            ("violet tiger 1001 lamp", "contains the extension number"),
            ("acme violet tiger lamp", "contains the tenant name"),
            ("abcdefghijklmnop", "sequence"),
            ("qwertyuiopasdf", "keyboard"),
            ("aaaaaaaaaaaaaaaa", "repeated"),
            ("password1234", "too easy"),
            (" leading space tiger lamp", "space"),
            ("x" * 129, "too long"),
        ]
        for pw, reason in cases:
            with self.subTest(pw=pw):
                r = d.cli("ext", "add", "acme", "1001", "--password-stdin", input=pw + "\n")
                self.assertFails(r, 2, "not acceptable", reason)
                self.assertNotIn(pw.strip(), r.err + r.out, "the refused password is echoed")
        self.assertEqual(d.ok_json("ext", "list", "acme"), [])
        r = d.cli("ext", "add", "acme", "1001", "--password-stdin", input="")
        self.assertFails(r, 2, "--password-stdin")
        # Accepted: a strong one; a CRLF line ending is not part of it.
        self.assertIsNone(d.ok_json("ext", "add", "acme", "1001", "--password-stdin", input=STRONG + "\r\n")["password"])
        (md5,) = d.query(
            "SELECT s.ha1_md5 FROM ext_secrets s JOIN extensions e ON e.id = s.extension_id WHERE e.number = '1001'"
        )[0]
        self.assertEqual(md5, ha1("md5", "1001", TENANT_DOMAIN, STRONG))

    def test_in_use_and_history(self):
        d = self.d
        other = strong_password()
        d.add_ext("1001", password=other)
        d.add_ext("1002")
        # Another extension's password: in use.
        r = d.cli("ext", "add", "acme", "1003", "--password-stdin", input=other + "\n")
        self.assertFails(r, 2, "not acceptable", "in use")
        self.assertNotIn(other, r.err)
        r = d.cli("ext", "rotate", "acme", "1002", "--password-stdin", input=other + "\n")
        self.assertFails(r, 2, "in use")
        # In another tenant it is fine: uniqueness is per tenant.
        d.ok("tenant", "add", "beta", "--domain", "beta.example.com")
        d.ok("ext", "add", "beta", "1003", "--password-stdin", input=other + "\n")
        # This extension's recent passwords: the current one and the last 5.
        p1 = strong_password()
        d.ok("ext", "rotate", "acme", "1002", "--password-stdin", input=p1 + "\n")
        r = d.cli("ext", "rotate", "acme", "1002", "--password-stdin", input=p1 + "\n")
        self.assertFails(r, 2, "last 5")
        for i in range(4):
            d.ok("ext", "rotate", "acme", "1002")
            r = d.cli("ext", "rotate", "acme", "1002", "--password-stdin", input=p1 + "\n")
            self.assertFails(r, 2, "not acceptable", "last 5")
            self.assertNotIn(p1, r.err)
        d.ok("ext", "rotate", "acme", "1002")
        # Now 5 newer passwords: p1 is acceptable again.
        d.ok("ext", "rotate", "acme", "1002", "--password-stdin", input=p1 + "\n")
        # A removed extension's password is free again.
        d.ok("ext", "remove", "acme", "1001")
        d.ok("ext", "add", "acme", "1004", "--password-stdin", input=other + "\n")

    def secrets_of(self, number, tenant="acme"):
        rows = self.d.query(
            "SELECT s.ha1_md5, s.ha1_sha256, t.domain FROM ext_secrets s "
            "JOIN extensions e ON e.id = s.extension_id JOIN tenants t ON t.id = e.tenant_id "
            "WHERE e.number = ? AND t.name = ?",
            (number, tenant),
        )
        self.assertEqual(len(rows), 1, "no ext_secrets row for %s" % number)
        return rows[0]

    def test_digest_material(self):
        d = self.d
        d.add_ext("1001", password=STRONG)
        gen = d.add_ext("1002")
        md5, sha, realm = self.secrets_of("1001")
        self.assertEqual(realm, TENANT_DOMAIN)
        self.assertEqual(md5, ha1("md5", "1001", TENANT_DOMAIN, STRONG))
        self.assertEqual(sha, ha1("sha256", "1001", TENANT_DOMAIN, STRONG))
        md5, sha, _ = self.secrets_of("1002")
        self.assertEqual(md5, ha1("md5", "1002", TENANT_DOMAIN, gen))
        self.assertEqual(sha, ha1("sha256", "1002", TENANT_DOMAIN, gen))
        # rotate: new HA1s.
        new = d.ok_json("ext", "rotate", "acme", "1002")["password"]
        md5, sha, _ = self.secrets_of("1002")
        self.assertEqual(md5, ha1("md5", "1002", TENANT_DOMAIN, new))
        self.assertEqual(sha, ha1("sha256", "1002", TENANT_DOMAIN, new))
        # A new domain is a new realm: every HA1 follows it.
        d.ok("tenant", "set", "acme", "domain=new.example.com")
        md5, sha, realm = self.secrets_of("1001")
        self.assertEqual(realm, "new.example.com")
        self.assertEqual(md5, ha1("md5", "1001", "new.example.com", STRONG))
        self.assertEqual(sha, ha1("sha256", "1001", "new.example.com", STRONG))
        md5, sha, _ = self.secrets_of("1002")
        self.assertEqual(md5, ha1("md5", "1002", "new.example.com", new))
        self.assertEqual(sha, ha1("sha256", "1002", "new.example.com", new))
        self.assertEqual(d.ok_json("ext", "show", "acme", "1001")["sip_uri"], "sip:1001@new.example.com")
        # The store holds no password in clear: the sealed box is not it.
        for (box,) in d.query("SELECT password_box FROM ext_secrets"):
            self.assertIsInstance(box, bytes)
            self.assertNotIn(STRONG.encode(), box)
            self.assertNotIn(new.encode(), box)
