#!/usr/bin/env python3
"""The sipwarden integration test runner (`make integration`).

Discovers tests/integration/test_*.py, runs them with unittest (verbosity 2)
against the real binary ($SIPWARDEN_BIN, default build/asan/sipwarden) and
prints, as its last line, `integration: N passed, M failed`. Errors, skips
and expected failures count as failed: a test that cannot run fails loudly.
Exit status 0 only when nothing failed.

Usage: python3 tests/integration/run.py [PATTERN...]
  PATTERN: run only the tests whose id contains one of these strings
  (e.g. test_import or TestDaemon.test_follow).
"""

import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import helpers  # noqa: E402


class Result(unittest.TextTestResult):
    """Counts skips and expected failures as failures."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ran_ids = []

    def startTest(self, test):
        super().startTest(test)
        self.ran_ids.append(test.id())

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.failures.append((test, "skipped (%s): a skipped test must not exist" % reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.failures.append((test, "marked expectedFailure: a known failure is a failure\n" + self._exc_info_to_string(err, test)))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failures.append((test, "marked expectedFailure but passed"))


def setup():
    """The system user the deployments are given to, and the binary."""
    ok = True
    if os.geteuid() == 0:
        try:
            p = subprocess.run(
                [os.path.join(ROOT, "scripts/ensure-user.sh"), helpers.SW_USER],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as e:
            print("integration: cannot run scripts/ensure-user.sh: %s" % e, file=sys.stderr)
            return False
        out = p.stdout.decode("utf-8", "replace").strip()
        if out:
            print(out, file=sys.stderr)
        if p.returncode != 0:
            print("integration: ensure-user.sh failed; tests will fail", file=sys.stderr)
            ok = False
    else:
        print(
            "integration: not running as root: the tests expect root (CI runs "
            "them as root); they will fail",
            file=sys.stderr,
        )
    if not os.access(helpers.BIN, os.X_OK):
        print("integration: %s is missing; every test will fail" % helpers.BIN, file=sys.stderr)
        ok = False
    return ok


def select(suite, patterns):
    out = unittest.TestSuite()
    for t in iter_tests(suite):
        if any(p in t.id() for p in patterns):
            out.addTest(t)
    return out


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main(argv):
    setup()
    print("integration: binary under test %s" % helpers.BIN, file=sys.stderr)
    loader = unittest.TestLoader()
    suite = loader.discover(start_dir=HERE, pattern="test_*.py", top_level_dir=HERE)
    if argv:
        suite = select(suite, argv)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Result)
    t0 = time.monotonic()
    result = runner.run(suite)
    # One count per test: a test with several failing subtests fails once;
    # an error outside any test (module import, setUpClass) is one more.
    bad = set()
    for test, _ in result.failures + result.errors:
        case = getattr(test, "test_case", test)  # a subtest's test
        bad.add(case.id())
    ran = set(result.ran_ids)
    failed = len(bad)
    passed = len(ran - bad)
    sys.stderr.flush()
    print("integration: wall time %.1fs" % (time.monotonic() - t0), flush=True)
    if result.testsRun == 0:
        print("integration: no test found", flush=True)
        failed = max(failed, 1)
    print("integration: %d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
