"""7. A CLI command run as root switches to the deployment folder's owner
before it opens the store: nothing under the folder ends up root's.
8. The secret key file must be private (0600), or nothing uses it."""

import os
import stat
import subprocess
import time

from helpers import (
    BIN,
    SwTestCase,
    bin_env,
    check_sanitizers,
    proc_uids,
    strong_password,
    sw_uid,
)


class TestRootSwitchesUser(SwTestCase):
    def test_runs_as_root(self):
        self.assertEqual(os.geteuid(), 0, "the integration tests must run as root (as in CI)")

    def test_no_root_owned_file(self):
        d = self.deploy(tenant=True)
        uid, gid = sw_uid()
        d.add_ext("1001")
        d.add_ext("1002", password=strong_password())
        path = os.path.join(d.dir, "in.csv")
        with open(path, "w") as f:
            f.write("extension,name,password\n1101,A,\n1102,B,%s\n" % strong_password())
        d.ok("ext", "import", "acme", path)
        os.unlink(path)
        d.ok("ext", "rotate", "acme", "1001")
        d.ok("ext", "set", "acme", "1001", "name=Alice")
        d.ok("ext", "disable", "acme", "1002")
        d.ok("ext", "remove", "acme", "1101")
        d.ok("tenant", "set", "acme", "domain=acme2.example.com")
        d.ok("ext", "list", "acme")
        d.cli("audit")
        # While a daemon holds the store open, -wal and -shm exist.
        daemon = d.start_daemon()
        daemon.wait_for(r"started", 60)
        d.ok("ext", "add", "acme", "1003")
        daemon.wait_for(r"changes: applied", 10)
        during = d.files()
        self.assertIn(d.db + "-wal", during)
        owners = {p: os.stat(p).st_uid for p in during if os.path.exists(p)}
        self.assertEqual(daemon.stop(), 0)
        owners.update({p: os.stat(p).st_uid for p in d.files()})
        owners[d.dir] = os.stat(d.dir).st_uid
        root_owned = sorted(p for p, u in owners.items() if u == 0)
        self.assertEqual(root_owned, [], "root-owned files under the deployment folder")
        for p, u in owners.items():
            self.assertEqual(u, uid, "%s is owned by uid %d, not sipwarden" % (p, u))

    def test_cli_process_uid(self):
        """A command waiting for its password on stdin has already switched:
        its uids, seen in /proc, are all sipwarden's."""
        d = self.deploy(tenant=True)
        uid, _ = sw_uid()
        p = subprocess.Popen(
            [BIN, "-c", d.conf, "ext", "add", "acme", "1001", "--password-stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=bin_env(),
        )
        try:
            # It reads stdin after opening the store: wait for the switch.
            deadline = time.monotonic() + 20
            uids = None
            while time.monotonic() < deadline:
                uids = proc_uids(p.pid)
                if uids[0] != 0 and os.path.exists(d.db + "-wal"):
                    break
                time.sleep(0.02)
            time.sleep(0.2)
            uids = proc_uids(p.pid)
            self.assertIsNone(p.poll(), "the command exited before reading its password")
            self.assertEqual(uids, [uid] * 4, "real/effective/saved/fs uid of the CLI as root")
            out, err = p.communicate(strong_password().encode() + b"\n", timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check_sanitizers(err.decode(), "ext add")
        self.assertEqual(p.returncode, 0, err.decode())


class TestSecretKeyMode(SwTestCase):
    def test_world_readable_key_refused(self):
        d = self.deploy(tenant=True)
        d.add_ext("1001")
        os.chmod(d.key, 0o644)
        r = d.cli("ext", "add", "acme", "1002")
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn(d.key, r.err)
        self.assertIn("0644", r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.describe())
        r = d.cli("ext", "rotate", "acme", "1001")
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn(d.key, r.err)
        self.assertEqual([e["extension"] for e in d.ok_json("ext", "list", "acme")], ["1001"])
        for mode in (0o640, 0o604, 0o660):
            os.chmod(d.key, mode)
            r = d.cli("ext", "add", "acme", "1002")
            self.assertNotEqual(r.rc, 0, "mode %04o accepted" % mode)
            self.assertIn("%04o" % mode, r.err)
        # The daemon refuses to start.
        os.chmod(d.key, 0o644)
        daemon = d.start_daemon()
        rc = daemon.wait_exit(timeout=30)
        self.assertNotEqual(rc, 0, "serve started with a world-readable key")
        text = daemon.text()
        self.assertIn(d.key, text)
        self.assertIn("0644", text)
        # 0600 again: everything works.
        os.chmod(d.key, 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(d.key).st_mode), 0o600)
        d.add_ext("1002")
        daemon = d.start_daemon()
        daemon.wait_for(r"started", 60)
        self.assertEqual(daemon.stop(), 0)
        # A key file that is not ours to read at all.
        os.chmod(d.key, 0o000)
        r = d.cli("ext", "add", "acme", "1003")
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertIn(d.key, r.err)
        os.chmod(d.key, 0o600)
