#!/usr/bin/env python3
"""TLS: natterd's --tls-listen and natter --tls.

A CA and server certificates are made at test time with the openssl CLI in
a temporary directory: one for 127.0.0.1 and localhost, one valid only for
"otherhost". natterd is started with both listeners; its TLS port is read
from the "listening (TLS) on" line of its log.

Environment: NATTERD and NATTER are the binaries (ctest sets both); without
them the newest build*/server/natterd and build*/tui/natter are used.
"""

import atexit
import glob
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403
from natlib import SRC_ROOT, START_TIMEOUT  # noqa: E402

PW = "password1"
TIMEOUT = 20.0

_pki = None


def _openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s" %
                             (" ".join(args), r.stderr.decode()))


def _leaf(d, name, cn, san):
    """name.pem/name.key: a server certificate signed by the test CA."""
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=%s\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n" % san)
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + cn, cwd=d)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
             "-CAkey", "ca.key", "-set_serial",
             str(int(time.time() * 1000) + len(name)), "-days", "2",
             "-sha256", "-out", name + ".pem", "-extfile", name + ".ext",
             cwd=d)


def pki():
    """The test PKI (made once): a dict of file paths."""
    global _pki
    if _pki is not None:
        return _pki
    d = tempfile.mkdtemp(prefix="nattls-")
    atexit.register(shutil.rmtree, d, True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-sha256", "-subj", "/CN=natter test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _leaf(d, "server", "localhost", "IP:127.0.0.1,DNS:localhost")
    _leaf(d, "other", "otherhost", "DNS:otherhost")
    # A key that belongs to no certificate here.
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
             "rsa_keygen_bits:2048", "-out", "stray.key", cwd=d)
    _pki = {k: os.path.join(d, v) for k, v in (
        ("dir", ""), ("ca", "ca.pem"), ("cert", "server.pem"),
        ("key", "server.key"), ("other_cert", "other.pem"),
        ("other_key", "other.key"), ("stray_key", "stray.key"))}
    return _pki


def tls_port(srv):
    """The port of the "listening (TLS) on 127.0.0.1:N" log line."""
    rx = re.compile(r"listening \(TLS\) on 127\.0\.0\.1:(\d+)")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        m = rx.search(srv.log_text())
        if m:
            return int(m.group(1))
        time.sleep(0.05)
    raise AssertionError("no 'listening (TLS)' line; log:\n" +
                         srv.log_tail())


def tls_server(cert="cert", key="key"):
    """A natterd with a TLS listener too; .tls_port is set."""
    p = pki()
    srv = start_natterd(["--rate-limit", "0",
                         "--tls-listen", "127.0.0.1:0",
                         "--tls-cert", p[cert], "--tls-key", p[key]])
    srv.tls_port = tls_port(srv)
    return srv


def tls_conn(srv, hostname="localhost"):
    """A natlib Conn over TLS, verifying against the test CA."""
    ctx = ssl.create_default_context(cafile=pki()["ca"])
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    c = Conn(srv.tls_port)
    c.sock = ctx.wrap_socket(c.sock, server_hostname=hostname)
    c.srv = srv
    return c


def batch(srv_port, script, *extra, host="127.0.0.1", timeout=TIMEOUT):
    """Runs natter --batch with script on stdin; (status, stdout, stderr)."""
    args = [natter_path(), "--batch", "--server",
            "%s:%d" % (host, srv_port)] + list(extra)
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = pki()["dir"]  # no user config file there
    r = subprocess.run(args, input=script.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=env)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def show(out, err):
    return "stdout:\n%s\nstderr:\n%s" % (out, err)


@test
def python_tls_client_chats():
    srv = tls_server()
    a, b = tls_conn(srv), tls_conn(srv, hostname="127.0.0.1")
    for c in (a, b):
        c.call("hello", proto=1, client="test_tls")
    an, bn = uniq("ta"), uniq("tb")
    a.register(an)
    a.login(an)
    b.register(bn)
    b.login(bn)
    make_friends(a, b)
    a.call("send", to={"user": b.uid}, body="over tls")
    ev = b.wait_event("msg")
    check_eq(ev["body"], "over tls", "body")
    check(a.sock.version() in ("TLSv1.2", "TLSv1.3"), a.sock.version())
    # The plain listener still works next to it.
    p = Conn(srv)
    p.call("hello", proto=1, client="plain")


@test
def plain_client_on_tls_port_gets_nothing():
    srv = tls_server()
    s = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    s.sendall(b'{"type":"hello","req":1,"proto":1,"client":"x"}\n')
    got = b""
    try:
        while True:
            data = s.recv(4096)
            if not data:
                break
            got += data
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    check(b'"ok"' not in got and b"hello" not in got,
          "plain text on the TLS port got a reply: %r" % got[:200])
    check(srv.alive(), "natterd died")
    c = tls_conn(srv)
    c.call("hello", proto=1, client="after")


@test
def natter_batch_tls_messages_plain_peer():
    srv = tls_server()
    bob = new_user(srv)
    alice = uniq("na")
    code, out, err = batch(srv.tls_port,
                           "/register %s %s\n/login %s %s\n/add %s\n"
                           "/msg %s hello over tls\n" %
                           (alice, PW, alice, PW, bob.name, bob.name),
                           "--tls", "--ca", pki()["ca"])
    check_eq(code, 0, "natter exit status; " + show(out, err))
    check(re.search(r"^ok msg d:\d+:\d+ 1$", out, re.M), show(out, err))
    ev = bob.wait_event("msg")
    check_eq(ev["body"], "hello over tls", "body")


@test
def natter_batch_tls_by_name_with_tls_peer():
    srv = tls_server()
    bob = tls_conn(srv)
    bname = uniq("nb")
    bob.register(bname)
    bob.login(bname)
    alice = uniq("na")
    code, out, err = batch(srv.tls_port,
                           "/register %s %s\n/login %s %s\n/add %s\n"
                           "/msg %s by name\n" %
                           (alice, PW, alice, PW, bname, bname),
                           "--ca", pki()["ca"], host="localhost")
    check_eq(code, 0, "natter exit status; " + show(out, err))
    ev = bob.wait_event("msg")
    check_eq(ev["body"], "by name", "body")


@test
def natter_batch_tls_config_keys():
    srv = tls_server()
    d = tempfile.mkdtemp(prefix="nattlscfg-")
    try:
        cfg = os.path.join(d, "config")
        with open(cfg, "w") as f:
            f.write("tls on\nca %s\n" % pki()["ca"])
        code, out, err = batch(srv.tls_port, "/register %s %s\n" %
                               (uniq("nc"), PW), "--config", cfg)
        check_eq(code, 0, "with tls on, ca FILE; " + show(out, err))
        check(re.search(r"^ok register ", out, re.M), show(out, err))
        # --no-tls wins over the file: plain text to the plain port works.
        code, out, err = batch(srv.port, "/register %s %s\n" %
                               (uniq("nc"), PW), "--config", cfg,
                               "--no-tls")
        check_eq(code, 0, "--no-tls over tls on; " + show(out, err))
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def natter_batch_tls_untrusted_fails():
    srv = tls_server()
    code, out, err = batch(srv.tls_port, "/register %s %s\n" %
                           (uniq("nu"), PW), "--tls")
    check_eq(code, 1, "exit status without the CA; " + show(out, err))
    check("certificate verify failed" in err + out, show(out, err))
    check("ok register" not in out, show(out, err))
    check(srv.alive(), "natterd died")


@test
def natter_batch_tls_wrong_name_fails():
    srv = tls_server("other_cert", "other_key")
    code, out, err = batch(srv.tls_port, "/register %s %s\n" %
                           (uniq("nw"), PW), "--tls", "--ca", pki()["ca"],
                           host="localhost")
    check_eq(code, 1, "exit status for a cert of otherhost; " +
             show(out, err))
    check(re.search(r"certificate verify failed: [Hh]ostname mismatch",
                    err + out), show(out, err))
    # An IP literal is checked against the certificate's IP addresses.
    code, out, err = batch(srv.tls_port, "/register %s %s\n" %
                           (uniq("nw"), PW), "--tls", "--ca", pki()["ca"])
    check_eq(code, 1, "exit status for 127.0.0.1; " + show(out, err))
    check(re.search(r"certificate verify failed: IP address mismatch",
                    err + out), show(out, err))


@test
def natter_tls_to_plain_port_fails():
    srv = tls_server()
    code, out, err = batch(srv.port, "/register %s %s\n" % (uniq("np"), PW),
                           "--tls", "--ca", pki()["ca"])
    check_eq(code, 1, "TLS to the plain port; " + show(out, err))
    check("ok register" not in out, show(out, err))


@test
def natter_bad_ca_file_fails():
    code, out, err = batch(1, "/quit\n", "--tls", "--ca",
                           os.path.join(pki()["dir"], "missing.pem"))
    check_eq(code, 1, show(out, err))
    check("CA file" in err, show(out, err))


@test
def natterd_refuses_mismatched_key():
    p = pki()
    try:
        start_natterd(["--tls-listen", "127.0.0.1:0", "--tls-cert",
                       p["cert"], "--tls-key", p["stray_key"]])
    except AssertionError as e:
        msg = str(e)
        check("exited with 1 " in msg, msg)
        check(re.search(r"key does not match|key values mismatch", msg),
              msg)
        return
    raise AssertionError("natterd started with a key of another cert")


run()
