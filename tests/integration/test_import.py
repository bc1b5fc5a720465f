"""9. Bulk import: 10,000 rows (half generated passwords, half chosen), in
JSON and in CSV output; one bad row refuses the whole file, naming
FILE:LINE, and imports nothing."""

import csv
import hashlib
import io
import os
import random
import time

from helpers import (
    TENANT_DOMAIN,
    SwTestCase,
    assert_generated,
    expected_actor,
    log,
    strong_password,
)

ROWS = 10000
FIRST = 30000
FANCY_NAMES = [
    "Müller, Jürgen",
    "Zoë Ångström",
    "O'Brien, Siobhán",
    "北京, 办公室",
    "Émilie Dupont-Lefèvre",
    "Reception, front desk, 2nd floor",
]


def ha1(alg, ext, pw):
    return hashlib.new(alg, ("%s:%s:%s" % (ext, TENANT_DOMAIN, pw)).encode()).hexdigest()


def make_rows(n=ROWS, first=FIRST):
    """[(extension, name, password or "")]: odd rows get a chosen password."""
    rows = []
    for i in range(n):
        name = "%s %d" % (FANCY_NAMES[i % len(FANCY_NAMES)], i) if i % 7 == 0 else "User %d" % i
        rows.append((str(first + i), name, strong_password() if i % 2 else ""))
    return rows


def write_csv(path, rows, header=("extension", "name", "password"), crlf=False):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL)
    if header is not None:
        w.writerow(header)
    for r in rows:
        w.writerow(r)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


class TestBulkImport(SwTestCase):
    def store_secrets(self, d):
        return {
            n: (m, s)
            for n, m, s in d.query(
                "SELECT e.number, s.ha1_md5, s.ha1_sha256 FROM extensions e JOIN ext_secrets s ON s.extension_id = e.id"
            )
        }

    def check_store(self, d, rows, generated):
        lst = d.ok_json("ext", "list", "acme")
        self.assertEqual(len(lst), ROWS)
        got = {e["extension"]: e for e in lst}
        for number, name, _ in rows:
            self.assertIn(number, got)
            self.assertEqual(got[number]["name"], name)
            self.assertIs(got[number]["enabled"], True)
        # Every password, generated or chosen, matches its HA1s (a sample).
        sec = self.store_secrets(d)
        self.assertEqual(len(sec), ROWS)
        chosen = {n: p for n, _, p in rows if p}
        rnd = random.Random(7)
        for n in rnd.sample(sorted(generated), 200) + rnd.sample(sorted(chosen), 200):
            pw = generated.get(n) or chosen[n]
            self.assertEqual(sec[n], (ha1("md5", n, pw), ha1("sha256", n, pw)), "HA1 of %s" % n)
        audit = d.query("SELECT actor, action, detail FROM audit_log WHERE action = 'ext.import'")
        self.assertEqual(len(audit), 1, "one audit row for the whole import")
        self.assertEqual(audit[0][0], expected_actor())
        self.assertIn("10000", audit[0][2])

    def test_import_10000_json(self):
        d = self.deploy(tenant=True)
        rows = make_rows()
        path = os.path.join(d.dir, "bulk.csv")
        write_csv(path, rows)
        t0 = time.monotonic()
        r = d.cli("ext", "import", "acme", path, "--json")
        log("10,000-row import (--json) took %.2fs" % (time.monotonic() - t0))
        self.assertEqual(r.rc, 0, r.describe())
        j = r.json()
        self.assertEqual(j["imported"], ROWS)
        gen = {g["extension"]: g["password"] for g in j["generated"]}
        self.assertEqual(len(j["generated"]), ROWS // 2)
        self.assertEqual(len(gen), ROWS // 2)
        self.assertEqual(set(gen), {n for n, _, p in rows if not p})
        for pw in gen.values():
            assert_generated(self, pw)
        self.assertEqual(len(set(gen.values())), ROWS // 2, "generated passwords repeat")
        for _, _, p in rows[1:200:2]:
            self.assertNotIn(p, r.out, "a chosen password is echoed")
        self.check_store(d, rows, gen)

    def test_import_10000_plain(self):
        d = self.deploy(tenant=True)
        rows = make_rows()
        path = os.path.join(d.dir, "bulk.csv")
        write_csv(path, rows, crlf=True)
        t0 = time.monotonic()
        r = d.cli("ext", "import", "acme", path)
        log("10,000-row import (CSV out, CRLF in) took %.2fs" % (time.monotonic() - t0))
        self.assertEqual(r.rc, 0, r.describe())
        lines = r.out.strip().split("\n")
        self.assertEqual(lines[0], "extension,password")
        gen = {}
        for l in lines[1:]:
            n, pw = l.split(",")
            gen[n] = pw
        self.assertEqual(len(lines) - 1, ROWS // 2)
        self.assertEqual(set(gen), {n for n, _, p in rows if not p})
        for pw in gen.values():
            assert_generated(self, pw)
        self.assertIn("10000", r.err)
        self.check_store(d, rows, gen)

    def test_import_into_empty_tenant(self):
        d = self.deploy(tenant=True)
        path = os.path.join(d.dir, "small.csv")
        write_csv(path, [("1001", "A", ""), ("1002", "B", strong_password())])
        j = d.ok_json("ext", "import", "acme", path)
        self.assertEqual(j["imported"], 2)
        self.assertEqual(len(d.ok_json("ext", "list", "acme")), 2)

    def test_import_into_populated_tenant(self):
        d = self.deploy(tenant=True)
        d.add_ext("1000")
        path = os.path.join(d.dir, "small.csv")
        rows = [("1001", FANCY_NAMES[0], ""), ("1002", FANCY_NAMES[3], strong_password()), ("1003", FANCY_NAMES[5], "")]
        write_csv(path, rows)
        with open(path, encoding="utf-8") as f:
            self.assertIn('"Müller, Jürgen"', f.read(), "the file does not exercise quoting")
        j = d.ok_json("ext", "import", "acme", path)
        self.assertEqual(j["imported"], 3)
        names = {e["extension"]: e["name"] for e in d.ok_json("ext", "list", "acme")}
        self.assertEqual(names, {"1000": "", "1001": FANCY_NAMES[0], "1002": FANCY_NAMES[3], "1003": FANCY_NAMES[5]})
        # The names come back intact in the human output too.
        self.assertIn(FANCY_NAMES[3], d.ok("ext", "list", "acme").out)


class TestBadImport(SwTestCase):
    """A bad file imports nothing: no extension, no audit row, no change."""

    def refused(self, d, path, code, line, *needles, secret=None):
        before = d.snapshot()
        r = d.cli("ext", "import", "acme", path)
        self.assertEqual(r.rc, code, r.describe())
        self.assertEqual(d.snapshot(), before, "a refused import changed the store")
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.describe())
        self.assertEqual(r.out, "", "a refused import printed passwords")
        if secret is not None:
            self.assertNotIn(secret, r.err + r.out, "the refused password is echoed")
        for n in needles:
            self.assertIn(n, r.err, r.describe())
        self.assertIn("%s:%d" % (path, line), r.err, "the message does not name FILE:LINE:\n" + r.describe())
        return r

    def test_bad_row_in_10000(self):
        d = self.deploy(tenant=True)
        rows = make_rows()
        rows[5000] = ("12a4", "Bad Row", "")
        path = os.path.join(d.dir, "bulk-bad.csv")
        write_csv(path, rows)
        self.refused(d, path, 2, 5002, "12a4", "not numeric", "nothing imported")
        self.assertEqual(d.query("SELECT count(*) FROM extensions")[0][0], 0)
        self.assertEqual(d.query("SELECT count(*) FROM audit_log WHERE action = 'ext.import'")[0][0], 0)

    def test_bad_files(self):
        d = self.deploy(tenant=True)
        d.add_ext("1000")
        taken = strong_password()
        d.add_ext("999", password=taken)
        path = os.path.join(d.dir, "bad.csv")

        def rows_(n=40):
            return [(str(2000 + i), "User %d" % i, strong_password() if i % 3 == 0 else "") for i in range(n)]

        with self.subTest("duplicate extension in the file"):
            rows = rows_(1000)
            rows[699] = (rows[9][0], "Again", "")
            write_csv(path, rows)
            self.refused(d, path, 2, 701, rows[9][0], "also on line 11")
        with self.subTest("duplicate chosen password in the file"):
            rows = rows_()
            rows[7] = (rows[7][0], "Same", rows[3][2])
            write_csv(path, rows)
            self.refused(d, path, 2, 9, "same password", secret=rows[3][2])
        with self.subTest("weak chosen password"):
            rows = rows_()
            rows[4] = (rows[4][0], "Weak", "password1234")
            write_csv(path, rows)
            self.refused(d, path, 2, 6, "not acceptable", "too easy", secret="password1234")
        with self.subTest("password with the extension number"):
            rows = rows_()
            rows[5] = ("2005", "Own number", "2005 violet tiger lamp")
            write_csv(path, rows)
            self.refused(d, path, 2, 7, "extension number", secret="2005 violet tiger lamp")
        with self.subTest("chosen password of an existing extension"):
            rows = rows_()
            rows[2] = (rows[2][0], "Taken", taken)
            write_csv(path, rows)
            self.refused(d, path, 2, 4, "in use", secret=taken)
        with self.subTest("wrong header"):
            write_csv(path, rows_(), header=("ext", "name", "password"))
            self.refused(d, path, 2, 1, "header")
        with self.subTest("no header"):
            write_csv(path, rows_(), header=None)
            self.refused(d, path, 2, 1, "header")
        with self.subTest("unterminated quote"):
            with open(path, "w") as f:
                f.write('extension,name,password\n2001,Alice,\n2002,"Bob, the,\n2003,Carol,\n')
            self.refused(d, path, 2, 3, "quote")
        with self.subTest("wrong number of fields"):
            with open(path, "w") as f:
                f.write("extension,name,password\n2001,Alice,\n2002,Bob\n")
            self.refused(d, path, 2, 3, "fields")
        with self.subTest("extension that exists"):
            rows = rows_()
            rows[20] = ("1000", "Exists", "")
            write_csv(path, rows)
            self.refused(d, path, 1, 22, "1000", "already exists")
        with self.subTest("empty file"):
            with open(path, "w") as f:
                f.write("")
            self.refused(d, path, 2, 1, "empty")
        with self.subTest("header only"):
            with open(path, "w") as f:
                f.write("extension,name,password\n")
            self.refused(d, path, 2, 2, "no extension rows")
        with self.subTest("bad name"):
            with open(path, "w") as f:
                f.write('extension,name,password\n2001,Alice,\n2002,"Bob <bad>",\n')
            self.refused(d, path, 2, 3, "name")
        self.assertEqual(len(d.ok_json("ext", "list", "acme")), 2)
        r = d.cli("ext", "import", "acme", os.path.join(d.dir, "missing.csv"))
        self.assertFails(r, 2, "missing.csv")
        r = d.cli("ext", "import", "nope", path)
        self.assertEqual(r.rc, 1, r.describe())
