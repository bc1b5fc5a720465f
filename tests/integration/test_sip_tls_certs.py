"""TLS certificates: one per tenant domain chosen by SNI ([sip] certs),
the default one otherwise; client certificates verified against [sip]
client_ca, and required with client_cert_required = on."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile

from helpers import SwTestCase, run
from sipclient import Request, free_port, new_branch, new_call_id, new_tag
from test_sip_register import conf_set


def peer_names(port, server_hostname):
    """The DNS names of the certificate the server shows for a name."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=server_hostname) as t:
            der = t.getpeercert(binary_form=True)
    out = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-noout", "-ext", "subjectAltName"],
        input=der, capture_output=True, check=True,
    ).stdout.decode()
    return out


def options_over(port, ctx):
    """Sends OPTIONS over a TLS connection made with ctx; the answer's
    status line, or the error."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="pbx.example.com") as t:
            t.sendall(
                Request(
                    "OPTIONS",
                    "sip:127.0.0.1:%d" % port,
                    [
                        ("Via", "SIP/2.0/TLS 127.0.0.1:5099;branch=%s" % new_branch()),
                        ("From", "<sip:probe@127.0.0.1>;tag=%s" % new_tag()),
                        ("To", "<sip:127.0.0.1:%d>" % port),
                        ("Call-ID", new_call_id()),
                        ("CSeq", "1 OPTIONS"),
                    ],
                ).bytes()
            )
            data = t.recv(4096)
            return data.split(b"\r\n", 1)[0].decode()


class TestTlsCerts(SwTestCase):
    def start(self, d):
        daemon = d.start_daemon()
        daemon.wait_for(r"SIP listening on", 60)
        self.addCleanup(daemon.stop)
        return daemon

    def setUp(self):
        self.d = self.deploy(tenant=True)
        self.port = free_port(False)
        c = self.d.conf
        conf_set(c, "sip", "tls", "127.0.0.1:%d" % self.port)
        conf_set(c, "media", "ports", "30000-31000")
        conf_set(c, "portal", "listen", "")

    def test_sni_picks_the_tenant_certificate(self):
        other = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, other, True)
        r = run(["init", os.path.join(other, "d"), "--domain", "acme.example.com"])
        self.assertEqual(r.rc, 0, r.describe())
        dst = os.path.join(self.d.dir, "tls", "domains", "acme.example.com")
        os.makedirs(dst)
        for f in ("cert.pem", "key.pem"):
            shutil.copy(os.path.join(other, "d", "tls", f), os.path.join(dst, f))
        st = os.stat(self.d.dir)
        for root, dirs, files in os.walk(os.path.join(self.d.dir, "tls")):
            for n in dirs + files:
                os.chown(os.path.join(root, n), st.st_uid, st.st_gid)
        os.chmod(os.path.join(dst, "key.pem"), 0o600)
        self.start(self.d)
        self.assertIn("DNS:acme.example.com", peer_names(self.port, "acme.example.com"))
        self.assertIn("DNS:acme.example.com", peer_names(self.port, "ACME.example.com"))
        self.assertIn("DNS:pbx.example.com", peer_names(self.port, "pbx.example.com"))
        self.assertIn("DNS:pbx.example.com", peer_names(self.port, "unknown.example.org"))

    def make_ca(self):
        """A CA and a client certificate it signed (EC P-256)."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        p = lambda n: os.path.join(tmp, n)

        def ossl(*args):
            subprocess.run(["openssl"] + list(args), check=True, capture_output=True)

        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=test phones CA")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", p("phone.key"), "-out", p("phone.csr"), "-subj", "/CN=phone 1001")
        ossl("x509", "-req", "-in", p("phone.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
             "-CAcreateserial", "-out", p("phone.pem"), "-days", "2")
        ca_in_dir = os.path.join(self.d.dir, "tls", "phones-ca.pem")
        shutil.copy(p("ca.pem"), ca_in_dir)
        st = os.stat(self.d.dir)
        os.chown(ca_in_dir, st.st_uid, st.st_gid)
        return p("phone.pem"), p("phone.key"), ca_in_dir

    def test_client_certificate_required(self):
        cert, key, ca = self.make_ca()
        conf_set(self.d.conf, "sip", "client_ca", "tls/phones-ca.pem")
        conf_set(self.d.conf, "sip", "client_cert_required", "on")
        self.start(self.d)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        # Without a certificate: refused (TLS 1.3 reports it at the first read).
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            line = options_over(self.port, ctx)
            if not line:
                raise ConnectionError("closed without an answer")
        # With the CA's certificate: served.
        ctx.load_cert_chain(cert, key)
        self.assertEqual(options_over(self.port, ctx), "SIP/2.0 200 OK")

    def test_client_certificate_optional(self):
        cert, key, ca = self.make_ca()
        conf_set(self.d.conf, "sip", "client_ca", "tls/phones-ca.pem")
        self.start(self.d)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.assertEqual(options_over(self.port, ctx), "SIP/2.0 200 OK")
        ctx.load_cert_chain(cert, key)
        self.assertEqual(options_over(self.port, ctx), "SIP/2.0 200 OK")
