"""2. Exit codes and messages: 0 success, 1 a named object missing or taken,
2 usage or malformed input, with one stderr line naming the field and the
reason. 3. Nothing half-written after an error."""

import os
import shutil

from helpers import SwTestCase, run, strong_password


class TestExitCodes(SwTestCase):
    def test_unknown_tenant(self):
        d = self.deploy(tenant=True)
        for args in (
            ["ext", "add", "nope", "1001"],
            ["ext", "list", "nope"],
            ["ext", "show", "nope", "1001"],
            ["ext", "rotate", "nope", "1001"],
            ["ext", "remove", "nope", "1001"],
            ["ext", "enable", "nope", "1001"],
            ["tenant", "show", "nope"],
            ["tenant", "set", "nope", "srtp=optional"],
        ):
            with self.subTest(args=args):
                self.assertFails(d.cli(*args), 1, "no tenant", '"nope"')

    def test_unknown_extension(self):
        d = self.deploy(tenant=True)
        for args in (
            ["ext", "show", "acme", "1999"],
            ["ext", "rotate", "acme", "1999"],
            ["ext", "remove", "acme", "1999"],
            ["ext", "disable", "acme", "1999"],
            ["ext", "set", "acme", "1999", "name=X"],
        ):
            with self.subTest(args=args):
                self.assertFails(d.cli(*args), 1, "no extension", "1999")

    def test_duplicate_extension(self):
        d = self.deploy(tenant=True)
        d.add_ext("1001")
        self.assertFails(d.cli("ext", "add", "acme", "1001"), 1, "1001", "already exists")
        self.assertFails(
            d.cli("ext", "add", "acme", "1001", "--password-stdin", input=strong_password() + "\n"),
            1,
            "already exists",
        )

    def test_extension_not_numeric(self):
        d = self.deploy(tenant=True)
        for ext in ("10a1", "abc", "-100", "1001 "):
            with self.subTest(ext=ext):
                self.assertFails(d.cli("ext", "add", "acme", ext), 2, "EXT", "not numeric")
        self.assertFails(d.cli("ext", "add", "acme", "1"), 2, "EXT", "digits")
        self.assertFails(d.cli("ext", "add", "acme", "1234567890123456"), 2, "EXT", "digits")

    def test_tenant_add_errors(self):
        d = self.deploy(tenant=True)
        self.assertFails(d.cli("tenant", "add", "beta", "--domain", "-bad..x"), 2, "--domain", "not a valid DNS name")
        self.assertFails(d.cli("tenant", "add", "beta", "--domain", "nodot"), 2, "--domain", "fully qualified")
        self.assertFails(d.cli("tenant", "add", "beta", "--domain", "Beta.Example.com"), 2, "--domain", "lower case")
        self.assertFails(d.cli("tenant", "add", "Beta", "--domain", "beta.example.com"), 2, "NAME", "a-z")
        self.assertFails(d.cli("tenant", "add", "beta"), 2, "--domain", "required")
        self.assertFails(d.cli("tenant", "add", "beta", "--domain", "beta.example.com", "--timezone", "Mars/Base"), 2, "--timezone")
        self.assertFails(d.cli("tenant", "add", "beta", "--domain", "beta.example.com", "--currency", "euro"), 2, "--currency")
        # Taken name, taken domain.
        self.assertFails(d.cli("tenant", "add", "acme", "--domain", "other.example.com"), 1, '"acme"', "already exists")
        self.assertFails(d.cli("tenant", "add", "beta", "--domain", "acme.example.com"), 1, "acme.example.com", "already belongs")
        self.assertEqual(len(d.ok_json("tenant", "list")), 1)

    def test_usage_errors(self):
        d = self.deploy(tenant=True)
        self.assertFails(d.cli("ext", "list", "acme", "--bogus"), 2, "unknown option --bogus")
        self.assertFails(d.cli("tenant", "list", "--nope"), 2, "unknown option --nope")
        self.assertFails(run(["--bogus"]), 2, "unknown option --bogus")
        self.assertFails(d.cli("ext", "add", "acme", "1001", "--name"), 2, "--name", "needs a value")
        self.assertFails(d.cli("ext", "list", "acme", "--json", "--json"), 2, "--json", "twice")
        self.assertFails(d.cli("ext", "add", "acme"), 2, "missing arguments")
        self.assertFails(d.cli("ext", "show", "acme"), 2, "missing arguments")
        self.assertFails(d.cli("tenant", "add"), 2, "missing arguments")
        self.assertFails(d.cli("ext", "import", "acme"), 2, "missing arguments")
        self.assertFails(d.cli("ext", "list", "acme", "extra"), 2, "unexpected argument", "extra")
        self.assertFails(d.cli("ext", "set", "acme", "1001"), 2, "missing arguments")
        self.assertFails(d.cli("bogus"), 2, "unknown command", "bogus")
        self.assertFails(d.cli("ext", "frobnicate"), 2, "unknown command", "frobnicate")
        self.assertFails(d.cli("tenant", "frobnicate"), 2, "unknown command", "frobnicate")
        self.assertFails(run(["-c"]), 2, "-c")
        self.assertFails(run(["init"]), 2, "DIR")
        self.assertFails(d.cli("serve", "extra"), 2, "extra")
        # No command, no subcommand: the usage on stderr, exit 2.
        for args in ([], ["-c", d.conf, "ext"], ["-c", d.conf, "tenant"]):
            r = run(args)
            self.assertEqual(r.rc, 2, r.describe())
            self.assertIn("usage:", r.err)
            self.assertEqual(r.out, "")

    def test_config_from_environment(self):
        d = self.deploy(tenant=True)
        r = run(["tenant", "list", "--json"], env={"SIPWARDEN_CONF": d.conf})
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual([t["name"] for t in r.json()], ["acme"])
        # -c wins over the environment.
        r = run(["-c", d.conf, "tenant", "list", "--json"], env={"SIPWARDEN_CONF": "/nonexistent.conf"})
        self.assertEqual(r.rc, 0, r.describe())

    def test_unreadable_config(self):
        r = run(["-c", "/nonexistent.conf", "tenant", "list"])
        self.assertFails(r, 2, "/nonexistent.conf")
        r = run(["-c", "/nonexistent.conf", "ext", "list", "acme"])
        self.assertFails(r, 2, "/nonexistent.conf")
        r = run(["-c", "/nonexistent.conf", "audit"])
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("/nonexistent.conf", r.err)
        # A folder is not a config.
        d = self.deploy()
        self.assertFails(run(["-c", d.dir, "tenant", "list"]), 2, d.dir)

    def test_config_unknown_key(self):
        d = self.deploy()
        with open(d.conf) as f:
            lines = f.read().split("\n")
        i = next(n for n, l in enumerate(lines) if l.strip() == "[daemon]")
        lines.insert(i + 1, "bogus_key = 1")
        bad = os.path.join(d.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("\n".join(lines))
        shutil.chown(bad, "sipwarden", "sipwarden")
        for args in (["tenant", "list"], ["ext", "list", "acme"], ["audit"]):
            with self.subTest(args=args):
                r = run(["-c", bad] + args)
                self.assertFails(r, 2, "%s:%d" % (bad, i + 2), "bogus_key")
        # The daemon refuses it too.
        r = run(["-c", bad, "serve"], timeout=30)
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("%s:%d" % (bad, i + 2), r.err)
        # A line that is no key = value.
        with open(bad, "w") as f:
            f.write("[daemon]\nuser = sipwarden\nthis is not ini\n")
        self.assertFails(run(["-c", bad, "tenant", "list"]), 2, "%s:3" % bad)

    def test_help_everywhere(self):
        d = self.deploy()
        helps = [
            ["--help"],
            ["-h"],
            ["help"],
            ["init", "--help"],
            ["-c", d.conf, "serve", "--help"],
            ["-c", d.conf, "tenant", "--help"],
            ["-c", d.conf, "ext", "--help"],
            ["-c", d.conf, "audit", "--help"],
        ]
        for sub in ("add", "list", "show", "set"):
            helps.append(["-c", d.conf, "tenant", sub, "--help"])
        for sub in ("add", "import", "list", "show", "set", "enable", "disable", "rotate", "remove"):
            helps.append(["-c", d.conf, "ext", sub, "--help"])
        for args in helps:
            with self.subTest(args=args):
                r = run(args)
                self.assertEqual(r.rc, 0, r.describe())
                self.assertIn("usage:", r.out)
                self.assertEqual(r.err, "")
        # Help needs no deployment.
        r = run(["-c", "/nonexistent.conf", "ext", "--help"])
        self.assertEqual(r.rc, 0, r.describe())
        r = run(["--version"])
        self.assertEqual(r.rc, 0, r.describe())
        self.assertRegex(r.out, r"^sipwarden \S+")


class TestNothingHalfWritten(SwTestCase):
    """A failing command leaves every table as it was, audit_log included."""

    def setUp(self):
        self.d = self.deploy(tenant=True)
        self.pw = self.d.add_ext("1001", name="Alice")
        self.chosen = strong_password()
        self.d.add_ext("1002", password=self.chosen)

    def check(self, code, needles, *args, input=None):
        before_counts = self.d.counts()
        before = self.d.snapshot()
        r = self.d.cli(*args, input=input)
        self.assertFails(r, code, *needles)
        self.assertEqual(self.d.counts(), before_counts, "row counts changed after a failed command")
        self.assertEqual(self.d.snapshot(), before, "rows changed after a failed command")
        return r

    def test_duplicate_ext(self):
        self.check(1, ["already exists"], "ext", "add", "acme", "1001")
        self.check(1, ["already exists"], "ext", "add", "acme", "1002", "--password-stdin", input=strong_password() + "\n")

    def test_weak_password(self):
        self.check(2, ["too short"], "ext", "add", "acme", "1003", "--password-stdin", input="Zq7-short\n")
        self.check(2, ["extension number"], "ext", "add", "acme", "1003", "--password-stdin", input="1003 violet tiger lamp\n")
        self.check(2, ["in use"], "ext", "add", "acme", "1003", "--password-stdin", input=self.chosen + "\n")
        self.check(2, ["not acceptable"], "ext", "rotate", "acme", "1001", "--password-stdin", input="password1234\n")
        self.check(2, ["no password"], "ext", "add", "acme", "1003", "--password-stdin", input="")

    def test_bad_import(self):
        path = os.path.join(self.d.dir, "bad.csv")
        rows = ["extension,name,password"] + ["%d,User %d," % (2000 + i, i) for i in range(50)]
        rows.insert(26, "20x5,Bad,")
        with open(path, "w") as f:
            f.write("\n".join(rows) + "\n")
        # (The FILE:LINE form of the message is test_import's business.)
        self.check(2, [path, "27", "20x5"], "ext", "import", "acme", path)
        # A row whose extension exists already: exit 1.
        with open(path, "w") as f:
            f.write("extension,name,password\n3001,A,\n1001,Taken,\n3002,B,\n")
        self.check(1, ["%s:3" % path, "1001", "already exists"], "ext", "import", "acme", path)
        # A chosen password that another extension has.
        with open(path, "w") as f:
            f.write("extension,name,password\n3001,A,%s\n" % self.chosen)
        r = self.check(2, [path, "in use"], "ext", "import", "acme", path)
        self.assertNotIn(self.chosen, r.err + r.out)

    def test_bad_tenant_set(self):
        self.d.ok("tenant", "add", "beta", "--domain", "beta.example.com")
        self.check(1, ["already belongs"], "tenant", "set", "beta", "domain=acme.example.com")
        self.check(2, ["timezone"], "tenant", "set", "acme", "srtp=optional", "timezone=Mars/Base")
