"""1. `sipwarden init DIR`: the files, their modes and owner, refusing a
second init, --force, a bad --domain, --json, the certificate."""

import datetime
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile

from helpers import DOMAIN, SwTestCase, run, sw_uid

FILES = ["sipwarden.conf", "sipwarden.db", "secret.key", "tls/cert.pem", "tls/key.pem"]


def tree_digest(d):
    """{relative path: sha256} of every file, plus the folders."""
    out = {}
    for base, dirs, names in os.walk(d):
        for n in dirs:
            out[os.path.relpath(os.path.join(base, n), d) + "/"] = "dir"
        for n in names:
            p = os.path.join(base, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = hashlib.sha256(f.read()).hexdigest()
    return out


class TestInit(SwTestCase):
    def test_files_modes_owner(self):
        d = self.deploy()
        uid, gid = sw_uid()
        for f in FILES:
            p = os.path.join(d.dir, f)
            self.assertTrue(os.path.isfile(p), "init did not create %s" % f)
        for f in ("secret.key", "tls/key.pem"):
            mode = stat.S_IMODE(os.stat(os.path.join(d.dir, f)).st_mode)
            self.assertEqual(mode, 0o600, "%s has mode %04o, want 0600" % (f, mode))
        # Nothing else may read the database either.
        mode = stat.S_IMODE(os.stat(d.db).st_mode)
        self.assertEqual(mode & 0o077, 0, "sipwarden.db has mode %04o" % mode)
        for p in [d.dir] + [os.path.join(base, n) for base, ds, ns in os.walk(d.dir) for n in ds + ns]:
            st = os.stat(p)
            self.assertEqual(
                (st.st_uid, st.st_gid), (uid, gid), "%s is owned by %d:%d, not sipwarden" % (p, st.st_uid, st.st_gid)
            )
        # The key file holds a key line; the config names the user.
        with open(d.key) as f:
            self.assertRegex(f.read(), r"(?m)^[a-z0-9]{1,16} [0-9a-f]{64}$")
        with open(d.conf) as f:
            self.assertRegex(f.read(), r"(?m)^user\s*=\s*sipwarden\s*$")
        # The human output names the folder and the next step.
        self.assertIn(d.dir, d.init_run.out)

    def test_second_init_refused(self):
        d = self.deploy(tenant=True)
        before = tree_digest(d.dir)
        r = run(["init", d.dir, "--domain", DOMAIN])
        self.assertFails(r, 1, "already exists", "--force")
        self.assertRegex(r.err, r"%s/(sipwarden\.conf|sipwarden\.db|secret\.key|tls/cert\.pem|tls/key\.pem)" % re.escape(d.dir))
        self.assertEqual(tree_digest(d.dir), before, "a refused init changed files")
        # Each file alone is enough to refuse.
        for f in FILES:
            scratch = tempfile.mkdtemp(prefix="sw-it-one-")
            self.addCleanup(shutil.rmtree, scratch, True)
            os.makedirs(os.path.join(scratch, "tls"))
            with open(os.path.join(scratch, f), "w") as fh:
                fh.write("keep me\n")
            snap = tree_digest(scratch)
            r = run(["init", scratch, "--domain", DOMAIN])
            self.assertFails(r, 1, os.path.join(scratch, f), "already exists")
            self.assertEqual(tree_digest(scratch), snap, "refused init over %s changed files" % f)

    def test_force_recreates(self):
        d = self.deploy(tenant=True)
        d.add_ext("1001")
        with open(d.key, "rb") as f:
            old_key = f.read()
        with open(os.path.join(d.dir, "tls/cert.pem"), "rb") as f:
            old_cert = f.read()
        r = run(["init", d.dir, "--domain", DOMAIN, "--force"])
        self.assertEqual(r.rc, 0, r.describe())
        with open(d.key, "rb") as f:
            self.assertNotEqual(f.read(), old_key, "--force kept the old key")
        with open(os.path.join(d.dir, "tls/cert.pem"), "rb") as f:
            self.assertNotEqual(f.read(), old_cert, "--force kept the old certificate")
        self.assertEqual(d.ok_json("tenant", "list"), [], "--force kept the old database")
        uid, _ = sw_uid()
        for f in FILES:
            self.assertEqual(os.stat(os.path.join(d.dir, f)).st_uid, uid, f)
        self.assertEqual(stat.S_IMODE(os.stat(d.key).st_mode), 0o600)

    def test_bad_domain_new_folder(self):
        parent = tempfile.mkdtemp(prefix="sw-it-bad-")
        self.addCleanup(shutil.rmtree, parent, True)
        target = os.path.join(parent, "dep")
        r = run(["init", target, "--domain", "-bad..x"])
        self.assertFails(r, 2, "--domain", "-bad..x")
        self.assertFalse(os.path.exists(target), "a failed init left %s behind" % target)
        self.assertEqual(os.listdir(parent), [])

    def test_bad_domain_existing_empty_folder(self):
        folder = tempfile.mkdtemp(prefix="sw-it-bad-")
        self.addCleanup(shutil.rmtree, folder, True)
        r = run(["init", folder, "--domain", "-bad..x"])
        self.assertFails(r, 2, "--domain", "-bad..x")
        left = sorted(os.path.relpath(os.path.join(b, n), folder) for b, ds, ns in os.walk(folder) for n in ds + ns)
        self.assertEqual(left, [], "a failed init left entries behind in the (empty) folder it was given")

    def test_init_json(self):
        folder = tempfile.mkdtemp(prefix="sw-it-json-")
        self.addCleanup(shutil.rmtree, folder, True)
        r = run(["init", folder, "--domain", DOMAIN, "--json"])
        self.assertEqual(r.rc, 0, r.describe())
        j = r.json()
        want = {
            "dir": str,
            "domain": str,
            "config": str,
            "database": str,
            "secret_key": str,
            "certificate": str,
            "certificate_sha256": str,
            "schema_version": int,
            "user": str,
        }
        for k, t in want.items():
            self.assertIn(k, j)
            self.assertIsInstance(j[k], t, k)
        real = os.path.realpath(folder)
        self.assertEqual(j["dir"], real)
        self.assertEqual(j["domain"], DOMAIN)
        self.assertEqual(j["config"], os.path.join(real, "sipwarden.conf"))
        self.assertEqual(j["database"], os.path.join(real, "sipwarden.db"))
        self.assertEqual(j["secret_key"], os.path.join(real, "secret.key"))
        self.assertEqual(j["certificate"], os.path.join(real, "tls/cert.pem"))
        self.assertEqual(j["user"], "sipwarden")
        self.assertGreaterEqual(j["schema_version"], 1)
        self.assertRegex(j["certificate_sha256"], r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        # The fingerprint is the certificate's.
        der = subprocess.run(
            ["openssl", "x509", "-in", j["certificate"], "-outform", "DER"], stdout=subprocess.PIPE, check=True
        ).stdout
        fp = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
        self.assertEqual(j["certificate_sha256"], fp)

    def test_certificate(self):
        d = self.deploy()
        cert = os.path.join(d.dir, "tls/cert.pem")
        if shutil.which("openssl") is None:
            self.fail("openssl is missing: it is needed to check the certificate")
        text = subprocess.run(
            ["openssl", "x509", "-in", cert, "-noout", "-text"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.assertEqual(text.returncode, 0, text.stderr)
        t = text.stdout.decode()
        self.assertIn("id-ecPublicKey", t)
        self.assertRegex(t, r"prime256v1|P-256")
        self.assertIn("DNS:%s" % DOMAIN, t)
        dates = subprocess.run(
            ["openssl", "x509", "-in", cert, "-noout", "-startdate", "-enddate"], stdout=subprocess.PIPE, check=True
        ).stdout.decode()
        fmt = "%b %d %H:%M:%S %Y %Z"
        nb = re.search(r"notBefore=(.*)", dates).group(1).strip()
        na = re.search(r"notAfter=(.*)", dates).group(1).strip()
        nb = datetime.datetime.strptime(re.sub(r"\s+", " ", nb), fmt)
        na = datetime.datetime.strptime(re.sub(r"\s+", " ", na), fmt)
        days = (na - nb).total_seconds() / 86400
        self.assertGreaterEqual(days, 364, "validity %.1f days" % days)
        self.assertLessEqual(days, 367, "validity %.1f days" % days)
        now = datetime.datetime.utcnow()
        self.assertLessEqual(nb, now + datetime.timedelta(minutes=5), "notBefore is in the future")
        # The key matches the certificate and is EC P-256 too.
        k = subprocess.run(
            ["openssl", "pkey", "-in", os.path.join(d.dir, "tls/key.pem"), "-noout", "-text"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.assertEqual(k.returncode, 0, k.stderr)
        self.assertRegex(k.stdout.decode(), r"prime256v1|P-256")
        pub_c = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], stdout=subprocess.PIPE).stdout
        pub_k = subprocess.run(["openssl", "pkey", "-in", os.path.join(d.dir, "tls/key.pem"), "-pubout"], stdout=subprocess.PIPE).stdout
        self.assertEqual(pub_c, pub_k, "tls/key.pem is not the certificate's key")
