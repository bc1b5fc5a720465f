"""Shared helpers of the sipwarden integration tests: the binary under test,
throw-away deployments, read-only store queries, the daemon, and the scanner
that looks for secrets in files.

Python 3 standard library only. Every test drives the real binary
($SIPWARDEN_BIN, default build/asan/sipwarden) as the CI does: as root, with
the deployment folder given to the system user `sipwarden`.
"""

import base64
import binascii
import datetime
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(
    os.environ.get("SIPWARDEN_BIN") or os.path.join(ROOT, "build/asan/sipwarden")
)
SW_USER = "sipwarden"
DOMAIN = "pbx.example.com"
TENANT = "acme"
TENANT_DOMAIN = "acme.example.com"

# The generator's alphabet (src/cred/policy.c): letters and digits without
# the look-alikes 0 O o 1 l I i; generated passwords have 20 characters.
PW_ALPHABET = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789")
PW_GEN_LEN = 20

SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error",
)

# RFC 3339, UTC ("Z"), optional fraction.
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

CLI_TIMEOUT = 300


def log(msg):
    """A note in the test output (the runner's stream is stderr)."""
    sys.stderr.write("    [note] %s\n" % msg)
    sys.stderr.flush()


def bin_env(extra=None):
    """The environment of the binary: sanitizers that stop on the first
    report; no SUDO_USER or SSH_CONNECTION (they change the audit actor and
    source) unless the test sets them; no default config."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    for k in ("SUDO_USER", "SSH_CONNECTION", "SIPWARDEN_CONF"):
        env.pop(k, None)
    if extra:
        env.update(extra)
    return env


def check_sanitizers(text, what):
    for m in SANITIZER_MARKERS:
        if m in text:
            raise AssertionError(
                "sanitizer report (%r) from %s:\n%s" % (m, what, text[-6000:])
            )


def require_binary():
    if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
        raise AssertionError(
            "binary under test %s is missing: build it with "
            "`make -j2 build/sipwarden build/asan/sipwarden` "
            "(or set SIPWARDEN_BIN)" % BIN
        )


class Run:
    def __init__(self, args, rc, out, err, seconds):
        self.args = args
        self.rc = rc
        self.out = out
        self.err = err
        self.seconds = seconds

    def describe(self):
        return "sipwarden %s -> exit %s\nstdout: %s\nstderr: %s" % (
            " ".join(self.args),
            self.rc,
            self.out[-3000:],
            self.err[-3000:],
        )

    def json(self):
        lines = self.out.strip().splitlines()
        if len(lines) != 1:
            raise AssertionError(
                "--json output is not one line:\n" + self.describe()
            )
        try:
            return json.loads(lines[0])
        except ValueError as e:
            raise AssertionError("not JSON (%s):\n%s" % (e, self.describe()))


def run(args, input=None, env=None, timeout=CLI_TIMEOUT):
    """Runs the binary with args; checks for sanitizer reports and signals."""
    require_binary()
    if isinstance(input, str):
        input = input.encode("utf-8")
    t0 = time.monotonic()
    try:
        p = subprocess.run(
            [BIN] + list(args),
            input=input if input is not None else b"",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=bin_env(env),
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(
            "sipwarden %s did not finish within %ss" % (" ".join(args), timeout)
        )
    r = Run(
        list(args),
        p.returncode,
        p.stdout.decode("utf-8", "replace"),
        p.stderr.decode("utf-8", "replace"),
        time.monotonic() - t0,
    )
    check_sanitizers(r.err, "sipwarden " + " ".join(args))
    if r.rc < 0:
        raise AssertionError("killed by signal %d:\n%s" % (-r.rc, r.describe()))
    return r


def sw_uid():
    try:
        pw = pwd.getpwnam(SW_USER)
    except KeyError:
        raise AssertionError(
            "system user %s is missing (scripts/ensure-user.sh %s)"
            % (SW_USER, SW_USER)
        )
    return pw.pw_uid, pw.pw_gid


def expected_actor():
    return "cli:" + pwd.getpwuid(os.getuid()).pw_name


def strong_password(avoid=(TENANT, "beta", "example", "pbx"), nbytes=18):
    """A random chosen password (secrets.token_urlsafe) that passes the
    policy: none of the context words, even in leet, forwards or reversed;
    no run of 3 digits (extension numbers); no 3 equal characters."""
    leet = str.maketrans("01345789@$!|+", "oleastbgasilt")
    while True:
        pw = secrets.token_urlsafe(nbytes)
        low = pw.lower()
        norm = low.translate(leet)
        bad = False
        for w in avoid:
            for s in (low, norm):
                if w in s or w[::-1] in s:
                    bad = True
        if re.search(r"\d{3}", pw) or re.search(r"(.)\1\1", pw):
            bad = True
        if pw[0] in "-_" and pw[-1] in "-_":
            bad = True
        if not bad:
            return pw


def assert_generated(tc, pw, what="password"):
    tc.assertIsInstance(pw, str, what)
    tc.assertEqual(len(pw), PW_GEN_LEN, "%s %r is not %d long" % (what, pw, PW_GEN_LEN))
    tc.assertTrue(
        set(pw) <= PW_ALPHABET,
        "%s %r has characters outside the generator's alphabet" % (what, pw),
    )


def parse_rfc3339(tc, s, what="time"):
    tc.assertIsInstance(s, str, "%s is not a string: %r" % (what, s))
    tc.assertRegex(s, RFC3339_UTC, "%s is not RFC 3339 UTC (...Z)" % what)
    base = s[:19]
    return datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc
    )


def db_connect_ro(path):
    """A read-only connection (SQLite, as root, gives any -wal/-shm it
    creates to the database file's owner)."""
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    return c


class Deployment:
    """A temporary deployment: `sipwarden init DIR --domain pbx.example.com`
    in a fresh tempfile.mkdtemp() folder, removed by cleanup()."""

    def __init__(self, domain=DOMAIN, init=True):
        self.dir = tempfile.mkdtemp(prefix="sw-it-")
        self.conf = os.path.join(self.dir, "sipwarden.conf")
        self.db = os.path.join(self.dir, "sipwarden.db")
        self.key = os.path.join(self.dir, "secret.key")
        self.daemons = []
        if init:
            r = run(["init", self.dir, "--domain", domain])
            if r.rc != 0:
                self.cleanup()
                raise AssertionError("init failed:\n" + r.describe())
            self.init_run = r

    def cleanup(self):
        for d in self.daemons:
            d.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    # The CLI.
    def cli(self, *args, input=None, env=None, timeout=CLI_TIMEOUT):
        return run(["-c", self.conf] + list(args), input=input, env=env, timeout=timeout)

    def ok(self, *args, input=None, env=None):
        r = self.cli(*args, input=input, env=env)
        if r.rc != 0:
            raise AssertionError("command failed:\n" + r.describe())
        return r

    def ok_json(self, *args, input=None):
        return self.ok(*(list(args) + ["--json"]), input=input).json()

    def tenant(self, name=TENANT, domain=TENANT_DOMAIN):
        return self.ok_json("tenant", "add", name, "--domain", domain)

    def add_ext(self, number, tenant=TENANT, name=None, password=None):
        """Adds an extension; returns its password (generated or chosen)."""
        args = ["ext", "add", tenant, number]
        if name is not None:
            args += ["--name", name]
        if password is not None:
            args.append("--password-stdin")
            self.ok_json(*args, input=password + "\n")
            return password
        return self.ok_json(*args)["password"]

    # The store, read-only.
    def query(self, sql, params=()):
        c = db_connect_ro(self.db)
        try:
            return c.execute(sql, params).fetchall()
        finally:
            c.close()

    def tables(self):
        return [
            r[0]
            for r in self.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]

    def counts(self):
        return {t: self.query('SELECT count(*) FROM "%s"' % t)[0][0] for t in self.tables()}

    def snapshot(self):
        """Every row of every table, sorted: the store's whole content."""
        snap = {}
        c = db_connect_ro(self.db)
        try:
            for t in [
                r[0]
                for r in c.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]:
                rows = c.execute('SELECT * FROM "%s"' % t).fetchall()
                snap[t] = sorted(rows, key=repr)
        finally:
            c.close()
        return snap

    def sqlite_as_owner(self, sql):
        """Runs the sqlite3 shell as the folder's owner (no root-owned
        -wal/-shm left behind). Returns the CompletedProcess."""
        if shutil.which("sqlite3") is None:
            raise AssertionError("the sqlite3 shell is missing (apt-get install sqlite3)")
        return subprocess.run(
            ["runuser", "-u", SW_USER, "--", "sqlite3", self.db, sql],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def checkpoint(self):
        p = self.sqlite_as_owner("PRAGMA wal_checkpoint(TRUNCATE);")
        if p.returncode != 0:
            raise AssertionError("checkpoint failed: %r" % p.stderr)

    def files(self):
        out = []
        for base, dirs, names in os.walk(self.dir):
            for n in names:
                out.append(os.path.join(base, n))
        return sorted(out)

    def start_daemon(self, log_path=None, env=None):
        d = Daemon(self, log_path=log_path, env=env)
        self.daemons.append(d)
        return d


class Daemon:
    """`sipwarden -c CONF serve`, its stderr read line by line (from a pipe,
    or from a file when log_path is given)."""

    def __init__(self, dep, log_path=None, env=None):
        require_binary()
        self.dep = dep
        self.log_path = log_path
        self.lines = []
        self.cond = threading.Condition()
        self.logf = None
        args = [BIN, "-c", dep.conf, "serve"]
        if log_path is not None:
            self.logf = open(log_path, "ab")
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.logf,
                env=bin_env(env),
            )
        else:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=bin_env(env),
            )
            self.reader = threading.Thread(target=self._read, daemon=True)
            self.reader.start()
        self.pid = self.proc.pid

    def _read(self):
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.lines.append((time.monotonic(), line))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _refresh(self):
        if self.log_path is None:
            return
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        got = text.split("\n")[:-1]  # the last piece: "" or a partial line
        now = time.monotonic()
        while len(self.lines) < len(got):
            self.lines.append((now, got[len(self.lines)]))

    def text(self):
        with self.cond:
            self._refresh()
            return "\n".join(l for _, l in self.lines)

    def wait_for(self, pattern, timeout, start=0):
        """Waits for a line matching pattern (regex) at index >= start.
        Returns (index, match, monotonic time seen) or raises."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                # Exited before this look at its output: nothing more comes.
                done = self.proc.poll() is not None and (self.log_path is not None or not self.reader.is_alive())
                self._refresh()
                for i in range(start, len(self.lines)):
                    m = rx.search(self.lines[i][1])
                    if m:
                        return i, m, self.lines[i][0]
                left = deadline - time.monotonic()
                if left <= 0 or done:
                    break
                self.cond.wait(min(left, 0.02))
        raise AssertionError(
            "daemon: no line matching %r within %.1fs (exit status %r); its log:\n%s"
            % (pattern, timeout, self.proc.poll(), self.text()[-6000:])
        )

    def count(self):
        with self.cond:
            self._refresh()
            return len(self.lines)

    def alive(self):
        return self.proc.poll() is None

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends sig, waits for the exit; returns the exit status and checks
        the log for sanitizer reports."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("daemon did not stop within %ss" % timeout)
        if self.log_path is None:
            self.reader.join(timeout=10)
        self._close()
        check_sanitizers(self.text(), "the daemon")
        return rc

    def wait_exit(self, timeout=60):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                "daemon kept running (it should have refused to start); log:\n"
                + self.text()[-4000:]
            )
        if self.log_path is None:
            self.reader.join(timeout=10)
        self._close()
        check_sanitizers(self.text(), "the daemon")
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close()

    def _close(self):
        if self.logf is not None:
            self.logf.close()
            self.logf = None
        if self.proc.stderr is not None and self.log_path is None:
            try:
                if not self.reader.is_alive():
                    self.proc.stderr.close()
            except Exception:
                pass


def proc_uids(pid):
    """The real, effective, saved and fs uids of a process."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:5]]
    raise AssertionError("no Uid line for pid %d" % pid)


# The secret scanner.

def secret_forms(secret):
    """Every form of secret that the scanner looks for, as (label, bytes):
    raw; hex lower and upper; base64 standard and urlsafe at each of the 3
    alignments (the stable middle part of base64(prefix + secret) for
    prefixes of 0, 1 and 2 bytes, so padding does not matter)."""
    raw = secret.encode("utf-8")
    forms = [("raw", raw)]
    h = binascii.hexlify(raw)
    forms.append(("hex", h.lower()))
    forms.append(("HEX", h.upper()))
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw)
        full = (k + len(raw)) // 3
        first = 1 if k > 0 else 0
        mid = enc[4 * first : 4 * full]
        if len(mid) < 8:
            continue  # too short to mean anything
        forms.append(("base64@%d" % k, mid))
        forms.append(("base64url@%d" % k, mid.translate(bytes.maketrans(b"+/", b"-_"))))
    return forms


def scan_files(paths, secrets_):
    """Returns [(path, secret, form label)] for every form of every secret
    found in the files."""
    forms = [(s, label, b) for s in secrets_ for label, b in secret_forms(s)]
    found = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue  # a -wal or -shm that went away meanwhile
        for s, label, b in forms:
            if b in data:
                found.append((p, s, label))
    return found


class SwTestCase(unittest.TestCase):
    maxDiff = None

    def deploy(self, tenant=False, domain=DOMAIN):
        d = Deployment(domain=domain)
        self.addCleanup(d.cleanup)
        if tenant:
            d.tenant()
        return d

    def assertFails(self, r, code, *needles, one_line=True):
        """Exit code code, and one stderr line holding every needle."""
        self.assertEqual(r.rc, code, r.describe())
        err = r.err.strip()
        self.assertTrue(err, "no message on stderr:\n" + r.describe())
        if one_line:
            self.assertEqual(len(err.splitlines()), 1, "stderr is not one line:\n" + r.describe())
        for n in needles:
            self.assertIn(n, err, r.describe())

    def assertRFC3339(self, s, what="time"):
        return parse_rfc3339(self, s, what)
