"""6. No SIP password in clear anywhere under the deployment folder (store,
-wal, -shm, the daemon's log, the key file), in raw, hex or base64 form; the
scanner is shown to work on planted markers; secure_delete wipes removed
rows."""

import base64
import binascii
import os
import re
import secrets
import shutil
import sqlite3
import tempfile

from helpers import (
    SwTestCase,
    assert_generated,
    log,
    scan_files,
    secret_forms,
    strong_password,
)

MARKER = "PLANTED-Zq8xW3marker"
IMPORT_MARKER = "PLANTED-Imp0rtKq4marker"


class TestScanner(SwTestCase):
    def test_scanner_finds_every_form(self):
        """The scanner itself: every form of a secret, at any offset."""
        folder = tempfile.mkdtemp(prefix="sw-it-scan-")
        self.addCleanup(shutil.rmtree, folder, True)
        pw = "Kx7pQ2mZr9TbWc4NyVd3"
        raw = pw.encode()
        encodings = {
            "raw": raw,
            "hex": binascii.hexlify(raw),
            "HEX": binascii.hexlify(raw).upper(),
        }
        for k in range(3):
            pre = secrets.token_bytes(k)
            for pad in (True, False):
                e = base64.b64encode(pre + raw + b"!")
                encodings["b64 k=%d pad=%s" % (k, pad)] = e if pad else e.rstrip(b"=")
                u = base64.urlsafe_b64encode(pre + raw)
                encodings["b64url k=%d pad=%s" % (k, pad)] = u if pad else u.rstrip(b"=")
        for label, blob in encodings.items():
            with self.subTest(form=label):
                p = os.path.join(folder, "f")
                with open(p, "wb") as f:
                    f.write(secrets.token_bytes(1000) + blob + secrets.token_bytes(1000))
                self.assertTrue(scan_files([p], [pw]), "the scanner misses the %s form" % label)
        with open(os.path.join(folder, "f"), "wb") as f:
            f.write(secrets.token_bytes(4096))
        self.assertEqual(scan_files([os.path.join(folder, "f")], [pw]), [])
        self.assertGreaterEqual(len(secret_forms(pw)), 9)


class TestNoPasswordAtRest(SwTestCase):
    def test_no_password_in_clear(self):
        d = self.deploy(tenant=True)
        known = []  # every password printed or chosen

        def gen_add(n, **kw):
            pw = d.add_ext(n, **kw)
            assert_generated(self, pw)
            known.append(pw)

        # Generated, plain and --json output.
        for n in ("2001", "2002", "2003"):
            r = d.ok("ext", "add", "acme", n)
            known.append(re.search(r"(?m)^password: (\S+)$", r.out).group(1))
        gen_add("2004", name=MARKER)
        gen_add("2005")
        gen_add("2006")
        # Chosen.
        for n in ("2007", "2008", "2009", "2010"):
            pw = strong_password()
            d.add_ext(n, password=pw)
            known.append(pw)
        # Refused ones (never stored, never printed).
        for n, pw in (("2011", "Zq7short"), ("2011", "2011 Zebra Quill Mantra")):
            r = d.cli("ext", "add", "acme", n, "--password-stdin", input=pw + "\n")
            self.assertEqual(r.rc, 2, r.describe())
            known.append(pw)
        # Rotations, several times, generated and chosen.
        for i in range(3):
            known.append(d.ok_json("ext", "rotate", "acme", "2001")["password"])
            pw = strong_password()
            d.ok("ext", "rotate", "acme", "2007", "--password-stdin", input=pw + "\n")
            known.append(pw)
        r = d.ok("ext", "rotate", "acme", "2002")
        known.append(re.search(r"new password: (\S+)", r.out).group(1))
        # An import with generated and chosen passwords.
        path = os.path.join(d.dir, "import.csv")
        chosen = [strong_password() for _ in range(4)]
        known += chosen
        rows = ["extension,name,password"]
        for i in range(8):
            name = IMPORT_MARKER if i == 0 else "Imported %d" % i
            rows.append("%d,%s,%s" % (2100 + i, name, chosen[i // 2] if i % 2 else ""))
        with open(path, "w") as f:
            f.write("\n".join(rows) + "\n")
        j = d.ok_json("ext", "import", "acme", path)
        self.assertEqual(len(j["generated"]), 4)
        known += [g["password"] for g in j["generated"]]
        os.unlink(path)  # the operator's own file, not the deployment's
        # Some removed.
        for n in ("2003", "2009", "2101"):
            d.ok("ext", "remove", "acme", n)

        # The daemon runs, its log in the folder; more changes meanwhile
        # (so a -wal holds them while it runs).
        logp = os.path.join(d.dir, "daemon.log")
        open(logp, "w").close()
        shutil.chown(logp, "sipwarden", "sipwarden")
        daemon = d.start_daemon(log_path=logp)
        daemon.wait_for(r"started", 60)
        mark = daemon.count()
        for n in ("2201", "2202"):
            known.append(d.add_ext(n))
        pw = strong_password()
        d.add_ext("2203", password=pw)
        known.append(pw)
        known.append(d.ok_json("ext", "rotate", "acme", "2005")["password"])
        d.ok("ext", "remove", "acme", "2006")
        daemon.wait_for(r"changes: applied", 10, start=mark)
        total = len(d.ok_json("ext", "list", "acme"))
        added = (d.query("SELECT max(id) FROM extensions")[0][0] or 0)
        self.assertGreaterEqual(added, 20, "fewer than 20 extensions were added")
        self.assertEqual(total, added - 4)
        self.assertGreaterEqual(len(known), 30)
        log("%d extensions added, %d left, %d passwords looked for" % (added, total, len(known)))

        files_running = d.files()
        wal = d.db + "-wal"
        self.assertIn(wal, files_running, "no -wal while the daemon runs")
        self.assertGreater(os.path.getsize(wal), 0, "the -wal is empty: the scan would not cover it")
        found = scan_files(files_running, known)
        self.assertEqual(found, [], "passwords in clear while the daemon runs")
        # Positive control: the same scanner finds the planted names.
        hits = scan_files(files_running, [MARKER, IMPORT_MARKER])
        self.assertIn(MARKER, {s for _, s, _ in hits}, "the scanner cannot see the planted display name")
        self.assertIn(IMPORT_MARKER, {s for _, s, _ in hits}, "the scanner cannot see the planted import name")

        self.assertEqual(daemon.stop(), 0)
        files = d.files()
        self.assertIn(logp, files)
        self.assertIn(d.key, files)
        self.assertIn(d.db, files)
        found = scan_files(files, known)
        self.assertEqual(found, [], "passwords in clear under %s" % d.dir)
        hits = {(os.path.basename(p), s) for p, s, label in scan_files(files, [MARKER, IMPORT_MARKER]) if label == "raw"}
        self.assertIn(("sipwarden.db", MARKER), hits)
        self.assertIn(("sipwarden.db", IMPORT_MARKER), hits)
        # The log exists and says something, so scanning it means something.
        with open(logp) as f:
            self.assertIn("changes: applied", f.read())

    def test_secure_delete(self):
        """PRAGMA secure_delete is on: a removed extension's name is gone
        from the files once the WAL is checkpointed."""
        if sqlite3.connect(":memory:").execute("PRAGMA secure_delete").fetchone()[0]:
            log(
                "this libsqlite3 turns secure_delete on by default (SQLITE_SECURE_DELETE): "
                "the check shows the property, not that sipwarden sets the pragma"
            )
        d = self.deploy(tenant=True)
        gone = "DELETED-Mk7marker-Qz4"
        kept = "KEPT-Wq2marker-Rz8"
        d.add_ext("4001", name=gone)
        d.add_ext("4002", name=kept)
        d.add_ext("4003")
        d.checkpoint()
        files = d.files()
        self.assertTrue(scan_files([d.db], [gone]), "positive control: the name is not in the db file")
        d.ok("ext", "remove", "acme", "4001")
        d.checkpoint()
        files = d.files()
        self.assertEqual(
            [(p, s) for p, s, label in scan_files(files, [gone]) if label == "raw"],
            [],
            "a removed extension's name is still in the files: secure_delete is off",
        )
        self.assertTrue(scan_files([d.db], [kept]), "the kept extension's name is not in the db file")
        # And for a password change: the old sealed box and HA1 are wiped.
        (old_md5,) = d.query(
            "SELECT s.ha1_md5 FROM ext_secrets s JOIN extensions e ON e.id = s.extension_id WHERE e.number = '4003'"
        )[0]
        d.ok("ext", "rotate", "acme", "4003")
        d.checkpoint()
        self.assertEqual(
            [p for p, s, label in scan_files(d.files(), [old_md5]) if label == "raw"],
            [],
            "the replaced HA1 is still in the files",
        )
        uid = os.stat(d.dir).st_uid
        for p in d.files():
            self.assertEqual(os.stat(p).st_uid, uid, "%s is not the folder owner's" % p)
