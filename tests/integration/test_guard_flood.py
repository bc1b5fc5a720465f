"""A brute-force flood does not take the service down (issue item 2/5):
while SIPp floods failing REGISTERs from 127.0.0.2 at no less than the
daemon's own maximum REGISTER rate, a phone at 127.0.0.1 keeps
registering and calling (>= 99% of its operations succeed).

1. The maximum: SIPp registers as fast as it can (tests/sipp/
   register_once.xml: REGISTER, 401, REGISTER with credentials, 200; 64
   at a time) for MEASURE_S from 127.0.0.3, which is allow-listed (no ban,
   no rate limit). REGISTER requests per second = 2 x registrations.
2. The flood: two SIPp processes from 127.0.0.2 run tests/sipp/
   register_flood.xml (a wrong password) for about FLOOD_S, each asked
   for 3/4 of the measured REGISTER requests per second in calls per
   second (after the ban each call is one REGISTER). What they reached
   (SIPp's own CallRate(C), summed) must be at least the measured
   REGISTER rate. The source is banned after [guard] max_auth_failures;
   every later packet is dropped before parsing.
3. Meanwhile the phone (ext 1001, the extension under attack) registers
   and calls ext 1002 (a Python callee at 127.0.0.4) in a loop, with UDP
   retransmissions as a phone does, at a phone's pace (a few operations
   a second: [guard] rate applies to it as to anyone).

The whole test takes about 30 s.
"""

import os
import shutil
import subprocess
import tempfile
import time

from helpers import ROOT, TENANT_DOMAIN, SwTestCase, log
from sipclient import Udp
from test_guard_policy import Callee, GuardServer, Phone, call, status
from test_sip_register import free_port

SIPP_DIR = os.path.join(ROOT, "tests", "sipp")
MEASURE_S = 4
FLOOD_S = 14
FLOODERS = 2
PACE_S = 0.1  # the phone's pause between two iterations


def sipp_stats(path):
    """The last line of a SIPp -trace_stat file, as a dict."""
    with open(path) as f:
        lines = f.read().strip().split("\n")
    return dict(zip(lines[0].split(";"), lines[-1].split(";")))


class TestFlood(SwTestCase):
    def sipp(self, work, name, scenario, users, source, args):
        if shutil.which("sipp") is None:
            raise AssertionError("sipp is missing (apt-get install sip-tester)")
        csv = os.path.join(work, name + ".csv")
        with open(csv, "w") as f:
            f.write("SEQUENTIAL\n%s;%s;%s\n" % users)
        stat = os.path.join(work, name + "-stat.csv")
        cmd = [
            "sipp", "127.0.0.1:%d" % self.srv.port,
            "-sf", os.path.join(SIPP_DIR, scenario), "-inf", csv,
            "-t", "u1", "-i", source, "-p", str(free_port(True)),
            "-nostdin", "-trace_stat", "-stf", stat, "-fd", "1",
        ] + args
        p = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p, stat

    def test_phone_keeps_working_during_flood(self):
        self.srv = srv = GuardServer(exts=("1001", "1002", "1003"), guard={"allow": "127.0.0.3/32"})
        self.addCleanup(srv.cleanup)
        work = tempfile.mkdtemp(prefix="sw-flood-")
        self.addCleanup(shutil.rmtree, work, True)

        # 1. The daemon's maximum REGISTER rate.
        t0 = time.monotonic()
        p, stat = self.sipp(work, "measure", "register_once.xml", ("1003", TENANT_DOMAIN, srv.pw["1003"]),
                            "127.0.0.3", ["-r", "100000", "-l", "64", "-m", "10000000",
                                          "-timeout", "%ds" % MEASURE_S])
        p.communicate(timeout=MEASURE_S + 30)
        took = time.monotonic() - t0
        st = sipp_stats(stat)
        regs = int(st["SuccessfulCall(C)"])
        reg_per_s = regs / took
        requests_per_s = 2 * reg_per_s
        log("maximum: %d registrations in %.2f s = %.0f registrations/s = %.0f REGISTER requests/s "
            "(%s failed)" % (regs, took, reg_per_s, requests_per_s, st["FailedCall(C)"]))
        self.assertGreater(regs, 100, "the measurement did not register: %r" % st)

        # The callee, and the phone registered before the flood.
        callee = Callee(srv, "1002", host="127.0.0.4")
        self.addCleanup(callee.close)
        conn = Udp(srv.addr, bind_host="127.0.0.1")
        self.addCleanup(conn.close)
        phone = Phone(conn, "1001", srv.pw["1001"], TENANT_DOMAIN)
        self.assertEqual(status(phone.register(expires=600)), 200)

        # 2. The flood.
        rate = max(int(requests_per_s * 0.75 + 0.5), 500)
        floods = []
        t0 = time.monotonic()
        for i in range(FLOODERS):
            floods.append(self.sipp(work, "flood%d" % i, "register_flood.xml",
                                    ("1001", TENANT_DOMAIN, "Wrong-Password-%d" % i), "127.0.0.2",
                                    ["-r", str(rate), "-l", str(2 * rate + 1000), "-m", str(rate * (FLOOD_S - 2)),
                                     "-timeout", "%ds" % (FLOOD_S + 2), "-max_socket", "100"]))
        srv.daemon.wait_for(r"security: ban src=127\.0\.0\.2 seconds=3600 reason=auth-failures", 10)

        # 3. The phone, while the flood lasts.
        ok = bad = 0
        failures = []
        deadline = t0 + FLOOD_S - 1
        while time.monotonic() < deadline:
            r = phone.register(expires=600)
            if status(r) == 200:
                ok += 1
            else:
                bad += 1
                failures.append("REGISTER: %r" % (r and r.start))
            good, why = call(conn, "1001", srv.pw["1001"], "1002")
            if good:
                ok += 1
            else:
                bad += 1
                failures.append("call: " + why)
            time.sleep(PACE_S)
        phone_done = time.monotonic() - t0

        sent, flood_rate = 0, 0.0
        for p, stat in floods:
            try:
                p.communicate(timeout=FLOOD_S + 30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
            st = sipp_stats(stat)
            sent += int(st["OutgoingCall(C)"])
            flood_rate += float(st["CallRate(C)"])
        flood_s = time.monotonic() - t0
        total = ok + bad
        log("flood: %d REGISTERs from 127.0.0.2 in %.1f s at %.0f/s (%.2fx the measured REGISTER rate); "
            "phone during %.1f s: %d of %d operations succeeded (%.2f%%)"
            % (sent, flood_s, flood_rate, flood_rate / requests_per_s, phone_done, ok, total,
               100.0 * ok / max(total, 1)))
        self.assertGreaterEqual(flood_rate, requests_per_s,
                                "the flood was slower than the daemon's measured REGISTER rate")
        self.assertGreaterEqual(total, 100, "too few phone operations to measure 99%")
        self.assertGreaterEqual(ok / total, 0.99, "phone failures: %r" % failures[:20])
        # The attacker got nothing past its ban, and nobody else was banned.
        self.assertEqual(srv.log_lines(r"security: ban src=127\.0\.0\.[^2] "), [])
        self.assertLessEqual(len(srv.log_lines(r"security: auth-failure src=127\.0\.0\.2 ")), 10)
        self.assertTrue(srv.daemon.alive())
