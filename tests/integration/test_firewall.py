"""`sipwarden firewall render`: a host firewall ruleset from the config.

Rendered from a config with every kind of key set ([guard] phones, deny and
allow, a tenant's allow list, [media] allow, [portal] allow, TLS on IPv4
and IPv6, plain TCP on one address), the nftables ruleset is checked by
`nft -c -f` and then loaded with `nft -f` inside a fresh network namespace
(`unshare -n`: the host's own firewall is never touched; a test that
cannot make a namespace fails), and its content is checked: deny first,
the TLS port open only to the phone networks, the RTP range only to
[media] allow, the portal only to [portal] allow, a drop policy. The
iptables output goes through `iptables-restore --test` and
`ip6tables-restore --test` in a namespace the same way. A last test sends
real packets through the loaded ruleset between two namespaces."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time

from helpers import SwTestCase
from test_sip_register import TENANT, conf_set


def netns_run(argv, input=None, timeout=60):
    """Runs argv in a new network namespace (unshare -n); fails the test
    loudly when no namespace can be made."""
    if shutil.which("unshare") is None:
        raise AssertionError("unshare (util-linux) is missing: cannot make a network namespace")
    for opts in (["--net"], ["--user", "--map-root-user", "--net"]):
        p = subprocess.run(
            ["unshare"] + opts + ["--"] + argv,
            input=input,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode == 0 or "unshare failed" not in err:
            return p
    raise AssertionError("cannot make a network namespace (unshare -n, unshare -rn): %s" % err)


def need(tool, package):
    path = shutil.which(tool)
    if path is None:
        raise AssertionError("%s is missing: install the Debian package %s (scripts/deps.sh)" % (tool, package))
    return path


class FirewallCase(SwTestCase):
    def full_deploy(self):
        d = self.deploy(tenant=True)
        c = d.conf
        conf_set(c, "sip", "tls", "0.0.0.0:5061, [::]:5061")
        conf_set(c, "sip", "tcp", "198.51.100.10:5060")
        conf_set(c, "sip", "udp", "")
        conf_set(c, "media", "ports", "20000-21000")
        conf_set(c, "media", "allow", "203.0.113.0/24, 2001:db8:100::/48")
        conf_set(c, "portal", "listen", "0.0.0.0:8443")
        conf_set(c, "portal", "allow", "192.0.2.0/28")
        # 198.51.100.64/26 lies inside 198.51.100.0/24: merged away.
        conf_set(c, "guard", "phones", "198.51.100.0/24, 2001:db8:200::/48, 198.51.100.64/26")
        conf_set(c, "guard", "deny", "192.0.2.128/25, 2001:db8:bad::/48")
        conf_set(c, "guard", "allow", "10.9.0.0/16")
        t = d.ok_json("tenant", "set", TENANT, "allow=172.16.5.0/24, 2001:db8:300::/48")
        self.assertEqual(t["settings"]["allow"], "172.16.5.0/24, 2001:db8:300::/48")
        return d

    def render(self, d, *args):
        r = d.ok("firewall", "render", *args)
        return r.out, r.err

    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".rules", delete=False)
        self.addCleanup(os.unlink, f.name)
        f.write(text)
        f.close()
        return f.name

    def nft_valid(self, text):
        need("nft", "nftables")
        path = self.write(text)
        p = netns_run(["nft", "-c", "-f", path])
        self.assertEqual(p.returncode, 0, "nft -c refused the ruleset: %s\n%s" % (p.stderr.decode(), text))
        # Loaded for real in the namespace, then listed back.
        p = netns_run(["sh", "-c", 'nft -f "$1" && nft list table inet sipwarden', "sh", path])
        self.assertEqual(p.returncode, 0, "nft -f refused the ruleset: %s" % p.stderr.decode())
        return p.stdout.decode()

    def set_elements(self, text, name):
        m = re.search(r"set %s \{(.*?)\n\t\}" % re.escape(name), text, re.S)
        if m is None:
            return None
        e = re.search(r"elements = \{(.*?)\}", m.group(1), re.S)
        return sorted(x.strip() for x in e.group(1).split(",")) if e else []

    def chain_lines(self, text):
        m = re.search(r"chain input \{(.*?)\n\t\}", text, re.S)
        self.assertIsNotNone(m, text)
        return [l.strip() for l in m.group(1).split("\n") if l.strip() and not l.strip().startswith("#")]


class TestFirewallRender(FirewallCase):
    def test_nftables_full_config(self):
        d = self.full_deploy()
        out, err = self.render(d)
        self.assertIn("no --ssh", err)
        self.assertEqual(out, self.render(d, "--format", "nftables")[0])
        listed = self.nft_valid(out)
        self.assertIn("policy drop", listed)

        # The sets.
        self.assertEqual(
            self.set_elements(out, "phones_v4"),
            sorted(["198.51.100.0/24", "172.16.5.0/24", "10.9.0.0/16"]),
        )
        self.assertEqual(self.set_elements(out, "phones_v6"), sorted(["2001:db8:200::/48", "2001:db8:300::/48"]))
        self.assertEqual(self.set_elements(out, "media_v4"), ["203.0.113.0/24"])
        self.assertEqual(self.set_elements(out, "media_v6"), ["2001:db8:100::/48"])
        self.assertEqual(self.set_elements(out, "portal_v4"), ["192.0.2.0/28"])
        self.assertIsNone(self.set_elements(out, "portal_v6"))
        self.assertEqual(self.set_elements(out, "deny_v4"), ["192.0.2.128/25"])
        self.assertEqual(self.set_elements(out, "deny_v6"), ["2001:db8:bad::/48"])

        lines = self.chain_lines(out)
        self.assertEqual(lines[0], "type filter hook input priority filter; policy drop;")
        # Deny first, before any accept.
        self.assertEqual(lines[1:3], ["ip saddr @deny_v4 counter drop", "ip6 saddr @deny_v6 counter drop"])
        first_accept = min(i for i, l in enumerate(lines) if l.endswith("accept"))
        self.assertGreater(first_accept, 2)
        self.assertEqual(lines[3], "ct state established,related accept")
        self.assertIn('iif "lo" accept', lines)
        # TLS on both families, only from the phone networks.
        self.assertIn("ip saddr @phones_v4 tcp dport 5061 accept", lines)
        self.assertIn("ip6 saddr @phones_v6 tcp dport 5061 accept", lines)
        # Plain TCP on one address: that address only.
        self.assertIn("ip daddr 198.51.100.10 ip saddr @phones_v4 tcp dport 5060 accept", lines)
        # RTP range from [media] allow only.
        self.assertIn("ip saddr @media_v4 udp dport 20000-21000 accept", lines)
        self.assertIn("ip6 saddr @media_v6 udp dport 20000-21000 accept", lines)
        # The portal from [portal] allow only (it listens on IPv4 only).
        self.assertIn("ip saddr @portal_v4 tcp dport 8443 accept", lines)
        # Nothing is opened to everyone, and plain UDP SIP is closed.
        for l in lines:
            if "dport" in l and "accept" in l and "547" not in l:
                self.assertIn("saddr @", l, "a port is open to everyone: %s" % l)
        self.assertFalse(any("5060" in l and "udp" in l for l in lines), lines)
        self.assertFalse(any(" 22 " in l for l in lines), "SSH opened without --ssh")

    def test_defaults_open_sip_to_everyone_portal_on_loopback(self):
        d = self.deploy()
        out, _ = self.render(d)
        self.nft_valid(out)
        lines = self.chain_lines(out)
        self.assertIn("meta nfproto ipv4 tcp dport 5061 accept", lines)
        self.assertIn("meta nfproto ipv4 udp dport 10000-20000 accept", lines)
        self.assertIn("meta nfproto ipv6 udp dport 10000-20000 accept", lines)
        # Portal on 127.0.0.1: loopback is accepted whole; no rule.
        self.assertFalse(any("8443" in l for l in lines), lines)
        self.assertFalse(any("deny" in l for l in lines), lines)
        self.assertIn("SIP phone networks: everyone", out)

    def test_tenant_allow_lists_restrict_only_when_all_known(self):
        d = self.deploy(tenant=True)
        d.ok("tenant", "set", TENANT, "allow=172.16.5.0/24")
        out, _ = self.render(d)
        self.nft_valid(out)
        self.assertEqual(self.set_elements(out, "phones_v4"), ["172.16.5.0/24"])
        self.assertIn("ip saddr @phones_v4 tcp dport 5061 accept", self.chain_lines(out))
        # A tenant whose phones may come from anywhere opens SIP to all.
        d.ok_json("tenant", "add", "beta", "--domain", "beta.example.com")
        out, _ = self.render(d)
        self.nft_valid(out)
        self.assertIsNone(self.set_elements(out, "phones_v4"))
        self.assertIn("meta nfproto ipv4 tcp dport 5061 accept", self.chain_lines(out))
        self.assertIn("some tenant has no allow list", out)
        # Unless [guard] phones says where phones are.
        conf_set(d.conf, "guard", "phones", "198.51.100.0/24")
        out, _ = self.render(d)
        self.assertEqual(self.set_elements(out, "phones_v4"), ["172.16.5.0/24", "198.51.100.0/24"])
        # IPv6 phones: none listed, so TLS over IPv6 would be closed.
        conf_set(d.conf, "sip", "tls", "0.0.0.0:5061, [::]:5061")
        out, _ = self.render(d)
        self.nft_valid(out)
        self.assertNotIn("ip6 saddr @phones_v6", out)
        self.assertIn("closed: no IPv6 network", out)

    def test_ssh_option(self):
        d = self.deploy()
        out, err = self.render(d, "--ssh", "192.0.2.0/24, 2001:db8::/32", "--ssh-port", "2222")
        self.assertNotIn("no --ssh", err)
        self.nft_valid(out)
        lines = self.chain_lines(out)
        self.assertIn("ip saddr @ssh_v4 tcp dport 2222 accept", lines)
        self.assertIn("ip6 saddr @ssh_v6 tcp dport 2222 accept", lines)
        out, _ = self.render(d, "--ssh", "any")
        self.assertIn("meta nfproto ipv4 tcp dport 22 accept", self.chain_lines(out))

    def test_iptables_format(self):
        d = self.full_deploy()
        both, _ = self.render(d, "--format", "iptables")
        v4, _ = self.render(d, "--format", "iptables", "--family", "ipv4")
        v6, _ = self.render(d, "--format", "iptables", "--family", "ipv6")
        self.assertEqual(both, v4 + "\n" + v6)
        for text, tool in ((v4, "iptables-restore"), (v6, "ip6tables-restore")):
            need(tool, "iptables")
            p = netns_run([tool, "--test"], input=text.encode())
            self.assertEqual(p.returncode, 0, "%s --test refused it: %s\n%s" % (tool, p.stderr.decode(), text))
        rules = [l for l in v4.splitlines() if l.startswith("-A ")]
        self.assertIn(":INPUT DROP [0:0]", v4)
        self.assertEqual(rules[0], "-A INPUT -s 192.0.2.128/25 -j DROP")
        self.assertEqual(rules[1], "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        tls = sorted(l for l in rules if "--dport 5061 " in l)
        self.assertEqual(
            tls,
            sorted(
                "-A INPUT -s %s -p tcp -m tcp --dport 5061 -j ACCEPT" % n
                for n in ("198.51.100.0/24", "172.16.5.0/24", "10.9.0.0/16")
            ),
        )
        self.assertIn("-A INPUT -s 203.0.113.0/24 -p udp -m udp --dport 20000:21000 -j ACCEPT", rules)
        self.assertIn("-A INPUT -s 192.0.2.0/28 -p tcp -m tcp --dport 8443 -j ACCEPT", rules)
        self.assertIn("-A INPUT -s 198.51.100.0/24 -d 198.51.100.10 -p tcp -m tcp --dport 5060 -j ACCEPT", rules)
        rules6 = [l for l in v6.splitlines() if l.startswith("-A ")]
        self.assertEqual(rules6[0], "-A INPUT -s 2001:db8:bad::/48 -j DROP")
        self.assertIn("-A INPUT -s 2001:db8:200::/48 -p tcp -m tcp --dport 5061 -j ACCEPT", rules6)
        self.assertIn("-A INPUT -s 2001:db8:100::/48 -p udp -m udp --dport 20000:21000 -j ACCEPT", rules6)
        self.assertFalse(any("8443" in l for l in rules6), rules6)
        for l in rules + rules6:
            if "--dport" in l and "547" not in l:
                self.assertIn("-s ", l, "open to everyone: %s" % l)

    def test_bad_input(self):
        d = self.deploy(tenant=True)
        self.assertFails(d.cli("firewall", "render", "--format", "pf"), 2, "--format", "pf")
        self.assertFails(d.cli("firewall", "render", "--family", "ipv4"), 2, "--family")
        self.assertFails(
            d.cli("firewall", "render", "--format", "iptables", "--family", "ipx"), 2, "--family", "ipx"
        )
        self.assertFails(d.cli("firewall", "render", "--ssh", "10.0.0.1/8"), 2, "--ssh", "host bits")
        self.assertFails(d.cli("firewall", "render", "--ssh", "any", "--ssh-port", "0"), 2, "--ssh-port")
        self.assertFails(d.cli("firewall", "render", "--ssh-port", "22"), 2, "--ssh-port", "--ssh")
        self.assertFails(d.cli("firewall", "frob"), 2, "unknown command")
        self.assertFails(d.cli("firewall", "render", "extra"), 2, "unexpected argument")
        self.assertFails(d.cli("tenant", "set", TENANT, "allow=10.0.0.1/8"), 2, "allow", "host bits")
        self.assertFails(d.cli("tenant", "set", TENANT, "allow=10.0.0.0/8,,"), 2, "allow", "empty entry")
        self.assertFails(d.cli("tenant", "set", TENANT, "allow=example.com"), 2, "allow", "not a CIDR")
        # Config keys: each names its key and the reason.
        for section, key, value, needle in (
            ("guard", "deny", "0.0.0.0/0", "every address"),
            ("guard", "deny", "::/0", "every address"),
            ("guard", "phones", "198.51.100.1/24", "host bits"),
            ("media", "allow", "nope", "not a CIDR"),
            ("portal", "allow", "192.0.2.0/24, 192.0.2.0/24", "listed twice"),
        ):
            with self.subTest(key=key, value=value):
                saved = open(d.conf).read()
                try:
                    conf_set(d.conf, section, key, value)
                    self.assertFails(d.cli("firewall", "render"), 2, "[%s] %s" % (section, key), needle)
                finally:
                    with open(d.conf, "w") as f:
                        f.write(saved)
        many = ", ".join("10.%d.0.0/16" % i for i in range(65))
        conf_set(d.conf, "guard", "phones", many)
        self.assertFails(d.cli("firewall", "render"), 2, "[guard] phones", "more than 64")


NS_SCRIPT = textwrap.dedent(
    """\
    set -e
    ip netns add "$SRV"
    ip netns add "$CLI"
    ip link add "$VS" netns "$SRV" type veth peer name "$VC" netns "$CLI"
    ip -n "$SRV" link set lo up
    ip -n "$CLI" link set lo up
    ip -n "$SRV" addr add 198.51.100.1/24 dev "$VS"
    ip -n "$SRV" addr add 192.0.2.1/24 dev "$VS"
    ip -n "$CLI" addr add 198.51.100.2/24 dev "$VC"
    ip -n "$CLI" addr add 198.51.100.200/24 dev "$VC"
    ip -n "$CLI" addr add 192.0.2.2/24 dev "$VC"
    ip -n "$SRV" link set "$VS" up
    ip -n "$CLI" link set "$VC" up
    ip netns exec "$SRV" nft -f "$RULES"
    """
)

PROBE = textwrap.dedent(
    """\
    import socket, sys
    ok = []
    for src in sys.argv[2:]:
        s = socket.socket()
        s.settimeout(1.0)
        s.bind((src, 0))
        try:
            s.connect((sys.argv[1], 5061))
            ok.append(src)
        except OSError:
            pass
        s.close()
    print(" ".join(ok))
    """
)

LISTEN = textwrap.dedent(
    """\
    import socket, sys, time
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 5061))
    s.listen(16)
    print("ready", flush=True)
    s.settimeout(30)
    try:
        while True:
            c, _ = s.accept()
            c.close()
    except OSError:
        pass
    """
)


class TestFirewallPackets(FirewallCase):
    def test_tls_port_reachable_only_from_phone_networks(self):
        """Two namespaces joined by a veth pair; the server loads the
        rendered ruleset and listens on 5061; a client connects from a
        phone network (accepted), from a denied network inside it
        (dropped) and from elsewhere (dropped)."""
        need("ip", "iproute2")
        need("nft", "nftables")
        d = self.deploy()
        conf_set(d.conf, "sip", "tls", "0.0.0.0:5061")
        # 198.51.100.128/25 is denied although the /24 holds phones.
        conf_set(d.conf, "guard", "phones", "198.51.100.0/24")
        conf_set(d.conf, "guard", "deny", "198.51.100.128/25")
        out, _ = self.render(d)
        rules = self.write(out)
        tag = "%d" % os.getpid()
        env = dict(
            os.environ,
            SRV="swfw-s" + tag,
            CLI="swfw-c" + tag,
            VS="swfs" + tag,
            VC="swfc" + tag,
            RULES=rules,
        )

        def cleanup():
            for ns in (env["SRV"], env["CLI"]):
                subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)

        self.addCleanup(cleanup)
        p = subprocess.run(["sh", "-c", NS_SCRIPT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, "cannot set up the namespaces: %s" % p.stderr.decode())
        srv = subprocess.Popen(
            ["ip", "netns", "exec", env["SRV"], "python3", "-c", LISTEN],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.addCleanup(srv.kill)
        self.assertEqual(srv.stdout.readline().strip(), b"ready")
        time.sleep(0.2)  # the veth pair comes up
        p = subprocess.run(
            ["ip", "netns", "exec", env["CLI"], "python3", "-c", PROBE, "198.51.100.1",
             "198.51.100.2", "198.51.100.200", "192.0.2.2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=60,
        )
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(p.stdout.decode().split(), ["198.51.100.2"], "sources that reached the TLS port")
        # The counter of the deny rule saw the denied source.
        p = subprocess.run(
            ["ip", "netns", "exec", env["SRV"], "nft", "list", "chain", "inet", "sipwarden", "input"],
            stdout=subprocess.PIPE,
            timeout=60,
        )
        m = re.search(r"ip saddr @deny_v4 counter packets (\d+)", p.stdout.decode())
        self.assertIsNotNone(m, p.stdout.decode())
        self.assertGreater(int(m.group(1)), 0)
