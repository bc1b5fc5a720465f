"""A small SIP client for the integration tests: messages built and parsed
as bytes, HTTP digest (RFC 7616: MD5 and SHA-256, qop=auth) computed with
hashlib, and UDP, TCP and TLS connections that frame what they receive.

Python 3 standard library only. Nothing here knows about sipwarden: it is
what a phone does, written so that a test can also send what no phone
would (the same bytes twice, a tampered nonce, a message split anywhere).
"""

import hashlib
import re
import secrets
import select
import socket
import ssl
import time

# RFC 3261 7.3.3 compact header names.
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
}

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}

RECV_TIMEOUT = 3.0


def free_port(udp_and_tcp=True, host="127.0.0.1"):
    """A port that is free for TCP (and UDP too when udp_and_tcp) now."""
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind((host, 0))
            port = t.getsockname()[1]
            if not udp_and_tcp:
                return port
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind((host, port))
            except OSError:
                continue
            finally:
                u.close()
            return port
        finally:
            t.close()
    raise AssertionError("no free port found")


def free_ports(n, udp_and_tcp=True):
    """n distinct free ports."""
    out = []
    while len(out) < n:
        p = free_port(udp_and_tcp)
        if p not in out:
            out.append(p)
    return out


def new_branch():
    return "z9hG4bK" + secrets.token_hex(8)


def new_tag():
    return secrets.token_hex(6)


def new_call_id():
    return secrets.token_hex(12) + "@test.invalid"


def canon(name):
    """The lower-case long form of a header name."""
    n = name.strip().lower()
    return COMPACT.get(n, n)


# ---- messages ----


class SipMessage:
    """A parsed message (request or response). Text is decoded as
    latin-1 so that any byte survives; raw holds the bytes received."""

    def __init__(self, raw):
        self.raw = bytes(raw)
        head, sep, body = self.raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("no end of headers in %r" % self.raw[:200])
        lines = head.decode("latin-1").split("\r\n")
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + line.strip())
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError("header line without a colon: %r" % line)
            self.headers.append((name.strip(), value.strip()))
        self.body = body
        parts = self.start.split(" ", 2)
        self.is_request = not self.start.startswith("SIP/")
        if self.is_request:
            self.method = parts[0]
            self.ruri = parts[1] if len(parts) > 1 else ""
            self.status = None
            self.reason = None
        else:
            self.method = None
            self.status = int(parts[1])
            self.reason = parts[2] if len(parts) > 2 else ""

    def all(self, name):
        """Every value of the header name (long or compact), in order; one
        per header line (values are not split at commas)."""
        c = canon(name)
        return [v for n, v in self.headers if canon(n) == c]

    def get(self, name):
        v = self.all(name)
        return v[0] if v else None

    def has(self, name):
        return bool(self.all(name))

    def cseq(self):
        num, method = self.get("CSeq").split()
        return int(num), method

    def to_tag(self):
        m = re.search(r";\s*tag=([^;>\s]+)", self.get("To") or "")
        return m.group(1) if m else None

    def contacts(self):
        """[(uri, {param: value})] of every Contact line."""
        out = []
        for v in self.all("Contact"):
            m = re.match(r"\s*(?:\"[^\"]*\"\s*)?<([^>]*)>(.*)$", v)
            if m is None:
                out.append((v, {}))
                continue
            params = {}
            for p in m.group(2).split(";"):
                p = p.strip()
                if p:
                    k, _, val = p.partition("=")
                    params[k.strip().lower()] = val.strip()
            out.append((m.group(1), params))
        return out

    def challenges(self, name="WWW-Authenticate"):
        return [parse_challenge(v) for v in self.all(name)]

    def __repr__(self):
        return "<SipMessage %r>" % self.start


class Request:
    """A request as an ordered header list; bytes() renders it with a
    Content-Length that matches the body unless the test set its own."""

    def __init__(self, method, ruri, headers=(), body=b"", version="SIP/2.0"):
        self.method = method
        self.ruri = ruri
        self.version = version
        self.headers = [list(h) for h in headers]
        self.body = body

    def copy(self):
        r = Request(self.method, self.ruri, [tuple(h) for h in self.headers], self.body, self.version)
        return r

    def get(self, name):
        c = canon(name)
        for n, v in self.headers:
            if canon(n) == c:
                return v
        return None

    def set(self, name, value):
        """Replaces the first header of name, or appends one."""
        c = canon(name)
        for h in self.headers:
            if canon(h[0]) == c:
                h[1] = value
                return self
        self.headers.append([name, value])
        return self

    def remove(self, name):
        c = canon(name)
        self.headers = [h for h in self.headers if canon(h[0]) != c]
        return self

    def add(self, name, value):
        self.headers.append([name, value])
        return self

    def new_branch(self):
        via = self.get("Via")
        self.set("Via", re.sub(r"branch=[^;]+", "branch=" + new_branch(), via))
        return self

    def bytes(self):
        out = ["%s %s %s" % (self.method, self.ruri, self.version)]
        has_cl = False
        for n, v in self.headers:
            if canon(n) == "content-length":
                has_cl = True
            out.append("%s: %s" % (n, v))
        if not has_cl:
            out.append("Content-Length: %d" % len(self.body))
        return ("\r\n".join(out) + "\r\n\r\n").encode("utf-8", "surrogateescape") + self.body


# ---- digest ----


def parse_challenge(value):
    """'Digest realm="r", nonce="n", algorithm=MD5, qop="auth"' ->
    {'scheme': 'Digest', 'realm': 'r', ...} (parameter names lower-case,
    quotes removed, backslash escapes undone)."""
    scheme, _, rest = value.strip().partition(" ")
    out = {"scheme": scheme}
    pos = 0
    rx = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(,|$)')
    while pos < len(rest):
        m = rx.match(rest, pos)
        if m is None:
            raise ValueError("bad challenge %r at %d" % (value, pos))
        v = m.group(2)
        if v.startswith('"'):
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        out[m.group(1).lower()] = v
        pos = m.end()
    return out


def H(alg, text):
    return HASHES[alg](text.encode("utf-8")).hexdigest()


def digest_response(alg, user, realm, password, method, uri, nonce, nc, cnonce, qop="auth"):
    """RFC 7616 3.4.1 with qop=auth: response = H(HA1:nonce:nc:cnonce:qop:HA2)."""
    ha1 = H(alg, "%s:%s:%s" % (user, realm, password))
    ha2 = H(alg, "%s:%s" % (method, uri))
    return H(alg, "%s:%s:%08x:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))


def authorization(alg, user, realm, password, method, uri, nonce, nc, cnonce=None, response=None):
    """An Authorization header value; response computed unless given."""
    cnonce = cnonce or secrets.token_hex(8)
    if response is None:
        response = digest_response(alg, user, realm, password, method, uri, nonce, nc, cnonce)
    return (
        'Digest username="%s", realm="%s", nonce="%s", uri="%s", '
        'response="%s", algorithm=%s, qop=auth, nc=%08x, cnonce="%s"'
        % (user, realm, nonce, uri, response, alg, nc, cnonce)
    )


# ---- connections ----


class Closed(Exception):
    """The peer closed the stream."""


class Conn:
    """What every connection has: a local address for Via and Contact,
    a hook called with each message received (tests use it to check
    every answer)."""

    transport = "UDP"
    on_message = None

    def via(self, branch=None, rport=True):
        host, port = self.local
        return "SIP/2.0/%s %s:%d;branch=%s%s" % (
            self.transport,
            host,
            port,
            branch or new_branch(),
            ";rport" if rport else "",
        )

    def contact_uri(self, user):
        host, port = self.local
        return "sip:%s@%s:%d;transport=%s" % (user, host, port, self.transport.lower())

    def _seen(self, msg):
        if self.on_message is not None:
            self.on_message(msg)
        return msg

    def exchange(self, data, timeout=RECV_TIMEOUT):
        """Sends data, returns the next message (or None)."""
        self.send(data)
        return self.recv(timeout)


class Udp(Conn):
    transport = "UDP"

    def __init__(self, server, bind_host="127.0.0.1"):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.sock.bind((bind_host, 0))
        self.local = self.sock.getsockname()

    def send(self, data):
        if isinstance(data, Request):
            data = data.bytes()
        self.sock.sendto(data, self.server)

    def recv_raw(self, timeout=RECV_TIMEOUT):
        """The next datagram's bytes, or None."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data, _ = self.sock.recvfrom(70000)
        return data

    def recv(self, timeout=RECV_TIMEOUT):
        data = self.recv_raw(timeout)
        if data is None:
            return None
        return self._seen(SipMessage(data))

    def drain(self, timeout=0.2):
        """Reads and returns whatever arrives within timeout."""
        out = []
        while True:
            m = self.recv(timeout)
            if m is None:
                return out
            out.append(m)

    def close(self):
        self.sock.close()


class Tcp(Conn):
    transport = "TCP"

    def __init__(self, server, timeout=5.0):
        self.server = server
        self.buf = b""
        self.sock = self._connect(server, timeout)
        self.local = self.sock.getsockname()

    def _connect(self, server, timeout):
        s = socket.create_connection(server, timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def send(self, data):
        if isinstance(data, Request):
            data = data.bytes()
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Reads more bytes into buf; False on timeout; raises Closed."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        pending = getattr(self.sock, "pending", None)
        if not (pending and pending()):
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
        self.sock.settimeout(max(left, 0.01))
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
            raise Closed()
        except ssl.SSLError:
            raise Closed()
        if not data:
            raise Closed()
        self.buf += data
        return True

    def recv_raw(self, n, timeout=RECV_TIMEOUT):
        """Exactly n bytes (or fewer at timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self._fill(deadline):
                break
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=RECV_TIMEOUT):
        """The next framed message (leading CRLFs skipped), or None at
        timeout; raises Closed when the peer closed before a whole one."""
        deadline = time.monotonic() + timeout
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[: end + 4]
                m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
                clen = int(m.group(1)) if m else 0
                total = end + 4 + clen
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return self._seen(SipMessage(msg))
            if not self._fill(deadline):
                return None

    def wait_closed(self, timeout=RECV_TIMEOUT):
        """True when the peer closes within timeout (what it sent before
        is kept in buf)."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except Closed:
            return True
        except OSError:
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tls_context(cafile=None, minimum=None, maximum=None, ciphers=None):
    """A client context: verification against cafile (host name checked)
    or none at all."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(cafile)
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


class Tls(Tcp):
    transport = "TLS"

    def __init__(self, server, ctx=None, server_hostname=None, timeout=5.0):
        self.ctx = ctx or tls_context()
        self.server_hostname = server_hostname
        super().__init__(server, timeout)

    def _connect(self, server, timeout):
        raw = super()._connect(server, timeout)
        try:
            s = self.ctx.wrap_socket(raw, server_hostname=self.server_hostname)
        except BaseException:
            raw.close()
            raise
        return s

    def peer_cert(self):
        """The server certificate, DER."""
        return self.sock.getpeercert(binary_form=True)


# ---- a phone ----


class Phone:
    """One user agent registering user@domain over conn: keeps its Call-ID,
    From tag, CSeq, and the last challenge (nonce, nc) like a phone does."""

    def __init__(self, conn, user, password, domain, auth_user=None):
        self.conn = conn
        self.user = user
        self.auth_user = auth_user or user
        self.password = password
        self.domain = domain
        self.call_id = new_call_id()
        self.from_tag = new_tag()
        self.cseq = 0
        self.nonce = None
        self.realm = None
        self.alg = None
        self.nc = 0

    @property
    def ruri(self):
        return "sip:" + self.domain

    def request(self, method="REGISTER", contacts=None, expires=None, extra=(), cseq=None, branch=None):
        """A request with the next CSeq (or cseq). contacts: None for this
        connection's contact, [] for none, or a list of Contact values."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        aor = "<sip:%s@%s>" % (self.user, self.domain)
        h = [
            ("Via", self.conn.via(branch)),
            ("Max-Forwards", "70"),
            ("From", aor + ";tag=" + self.from_tag),
            ("To", aor),
            ("Call-ID", self.call_id),
            ("CSeq", "%d %s" % (cseq, method)),
        ]
        if method == "REGISTER":
            if contacts is None:
                contacts = ["<%s>" % self.conn.contact_uri(self.user)]
            for c in contacts:
                h.append(("Contact", c))
            if expires is not None:
                h.append(("Expires", str(expires)))
        h.extend(extra)
        return Request(method, self.ruri, h)

    def take_challenge(self, resp, alg="MD5"):
        """Keeps the nonce of resp's challenge for alg (nc restarts)."""
        for ch in resp.challenges():
            if ch.get("algorithm", "MD5").upper() == alg.upper():
                self.nonce = ch["nonce"]
                self.realm = ch["realm"]
                self.alg = alg
                self.nc = 0
                return ch
        raise AssertionError("no %s challenge in %r" % (alg, resp.raw))

    def authorize(self, req, cnonce=None):
        """Adds an Authorization for the kept nonce with the next nc."""
        self.nc += 1
        req.set(
            "Authorization",
            authorization(
                self.alg,
                self.auth_user,
                self.realm,
                self.password,
                req.method,
                req.ruri,
                self.nonce,
                self.nc,
                cnonce,
            ),
        )
        return req

    def send(self, req, timeout=RECV_TIMEOUT):
        return self.conn.exchange(req.bytes(), timeout)

    def register(self, contacts=None, expires=None, extra=(), alg="MD5", timeout=RECV_TIMEOUT):
        """REGISTER; on a 401 (or with no nonce yet) takes the challenge of
        alg and sends it again with credentials. Returns the last answer."""
        if self.nonce is not None and self.alg == alg:
            req = self.authorize(self.request("REGISTER", contacts, expires, extra))
            resp = self.send(req, timeout)
            if resp is None or resp.status != 401:
                return resp
        else:
            resp = self.send(self.request("REGISTER", contacts, expires, extra), timeout)
            if resp is None or resp.status != 401:
                return resp
        self.take_challenge(resp, alg)
        req = self.authorize(self.request("REGISTER", contacts, expires, extra))
        return self.send(req, timeout)
