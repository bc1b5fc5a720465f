"""10. The daemon: runs as the [daemon] user when started as root, follows
the change log within one second, applies a 10,000-row import as changes,
reloads on SIGHUP (and keeps running on a broken config), stops cleanly on
SIGTERM."""

import os
import re
import shutil
import signal
import time

from helpers import SwTestCase, log, proc_uids, strong_password, sw_uid

APPLIED = r"changes: applied (\d+) \(seq (\d+)\.\.(\d+)\); (\d+) extensions in memory"


class TestDaemon(SwTestCase):
    def test_follow_reload_stop(self):
        d = self.deploy(tenant=True)
        uid, _ = sw_uid()
        d.add_ext("1001")
        daemon = d.start_daemon()
        i, m, _ = daemon.wait_for(r"started", 60)
        self.assertIn("1 extensions loaded", daemon.lines[i][1])
        # Started as root, it runs as sipwarden.
        self.assertEqual(proc_uids(daemon.pid), [uid] * 4, "the daemon's uids")

        # One extension: applied within one second of the command's end.
        mark = daemon.count()
        d.ok("ext", "add", "acme", "1002")
        done = time.monotonic()
        (seq,) = d.query("SELECT max(seq) FROM changes")[0]
        i, m, seen = daemon.wait_for(APPLIED, 5.0, start=mark)
        lag = seen - done
        log("ext add applied by the daemon after %.3fs" % lag)
        self.assertLessEqual(lag, 1.0, "the daemon took %.2fs to apply the change" % lag)
        self.assertLessEqual(int(m.group(2)), seq)
        self.assertGreaterEqual(int(m.group(3)), seq, "the applied range does not hold seq %d" % seq)
        self.assertEqual(int(m.group(4)), 2)

        # Other changes are followed too: rotate, disable, remove.
        for args, count in (
            (("ext", "rotate", "acme", "1001"), 2),
            (("ext", "disable", "acme", "1001"), None),
            (("ext", "remove", "acme", "1002"), 1),
        ):
            mark = daemon.count()
            d.ok(*args)
            done = time.monotonic()
            (seq,) = d.query("SELECT max(seq) FROM changes")[0]
            i, m, seen = daemon.wait_for(APPLIED, 5.0, start=mark)
            self.assertLessEqual(seen - done, 1.0, "%s applied after %.2fs" % (args, seen - done))
            self.assertGreaterEqual(int(m.group(3)), seq)
            if count is not None:
                self.assertEqual(int(m.group(4)), count, "extensions in memory after %s" % (args,))

        # 10,000 rows: applied as changes, not as a reload.
        path = os.path.join(d.dir, "bulk.csv")
        with open(path, "w") as f:
            f.write("extension,name,password\n")
            for i in range(10000):
                f.write("%d,User %d,%s\n" % (50000 + i, i, strong_password() if i % 2 else ""))
        (before_seq,) = d.query("SELECT max(seq) FROM changes")[0]
        mark = daemon.count()
        t0 = time.monotonic()
        r = d.cli("ext", "import", "acme", path, "--json")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.json()["imported"], 10000)
        os.unlink(path)  # the test's own (root-owned) file
        n_ext_changes = d.query(
            "SELECT count(*) FROM changes WHERE seq > ? AND kind = 'extension'", (before_seq,)
        )[0][0]
        self.assertGreaterEqual(n_ext_changes, 10000, "the import did not log 10,000 extension changes")
        total = 0
        deadline = time.monotonic() + 30
        in_memory = 0
        start = mark
        while total < n_ext_changes or in_memory < 10001:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(
                    "after 30s the daemon applied %d of %d changes (%d in memory):\n%s"
                    % (total, n_ext_changes, in_memory, daemon.text()[-3000:])
                )
            i, m, _ = daemon.wait_for(APPLIED, left, start=start)
            start = i + 1
            total += int(m.group(1))
            in_memory = int(m.group(4))
        log(
            "10,000-row import: command and daemon done after %.2fs (%d changes applied)"
            % (time.monotonic() - t0, total)
        )
        self.assertGreaterEqual(in_memory, 10001)

        # SIGHUP: reload.
        mark = daemon.count()
        daemon.send(signal.SIGHUP)
        daemon.wait_for(r"reload: config and keys reloaded", 10, start=mark)
        self.assertTrue(daemon.alive())
        # A broken config on SIGHUP: it keeps running on the old one.
        good = os.path.join(d.dir, "good.conf")
        shutil.copy2(d.conf, good)
        with open(d.conf, "a") as f:
            f.write("\n[daemon]\nthis line is broken\n")
        mark = daemon.count()
        daemon.send(signal.SIGHUP)
        daemon.wait_for(r"keeping the running config", 10, start=mark)
        time.sleep(0.3)
        self.assertTrue(daemon.alive(), "a broken config on SIGHUP stopped the daemon")
        shutil.copy2(good, d.conf)
        os.unlink(good)
        # Still following changes after the failed reload.
        mark = daemon.count()
        d.ok("ext", "add", "acme", "1003")
        done = time.monotonic()
        i, m, seen = daemon.wait_for(APPLIED, 5.0, start=mark)
        self.assertLessEqual(seen - done, 1.0)
        mark = daemon.count()
        daemon.send(signal.SIGHUP)
        daemon.wait_for(r"reload: config and keys reloaded", 10, start=mark)

        # SIGTERM: exit status 0 and a clean-exit line.
        rc = daemon.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, daemon.text()[-3000:])
        self.assertRegex(daemon.text(), r"clean exit")
        for p in d.files():
            self.assertNotEqual(os.stat(p).st_uid, 0, "%s is root's" % p)

    def test_starts_with_existing_extensions(self):
        d = self.deploy(tenant=True)
        for n in ("1001", "1002", "1003"):
            d.add_ext(n)
        daemon = d.start_daemon()
        i, m, _ = daemon.wait_for(r"started", 60)
        self.assertIn("3 extensions loaded", daemon.lines[i][1])
        (seq,) = d.query("SELECT max(seq) FROM changes")[0]
        self.assertRegex(daemon.lines[i][1], r"seq %d\b" % seq)
        self.assertEqual(daemon.stop(signal.SIGINT), 0)
        self.assertIn("clean exit", daemon.text())

    def test_broken_config_at_start(self):
        d = self.deploy()
        with open(d.conf, "a") as f:
            f.write("\n[sip]\nworkers = lots\n")
        daemon = d.start_daemon()
        rc = daemon.wait_exit(30)
        self.assertEqual(rc, 2, daemon.text())
        self.assertRegex(daemon.text(), re.escape(d.conf) + r":\d+")
