#!/usr/bin/env python3
"""The PROXY protocol v1 on natterd (--proxy-from): behind nginx with
proxy_protocol on, every connection comes from the proxy, and the header
it sends first names the real client. Limits and logs must see the
client, so that one abusive client behind the proxy does not lock out the
others, and a header from anyone but a configured proxy is not trusted.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403


def proxied(srv, src, sport=40000):
    """A connection from the proxy (127.0.0.1) on behalf of src."""
    c = Conn(srv)
    c.send_raw("PROXY TCP4 %s 127.0.0.1 %d %d\r\n" % (src, sport, srv.port))
    return c


@test
def header_names_the_client():
    srv = start_natterd(["--proxy-from", "127.0.0.1", "--log-level", "debug"])
    c = proxied(srv, "203.0.113.7", 41234)
    name = uniq("px")
    c.register(name)
    c.login(name)
    wait_until(lambda: "from 203.0.113.7:41234" in srv.log_text(),
               what="the login is logged with the client's address")
    check("127.0.0.1:" not in "".join(
        l for l in srv.log_text().splitlines() if "logged in" in l),
        "the proxy's address is not logged as the client's")


@test
def bad_header_closes():
    srv = start_natterd(["--proxy-from", "127.0.0.1"])
    for bad in (b'{"type":"ping","req":1}\n', b"PROXY TCP4 1.2.3.4\r\n",
                b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n"):
        c = Conn(srv)
        c.send_raw(bad)
        c.expect_closed(10)
    # PROXY UNKNOWN (a health check) keeps the proxy's own address
    c = Conn(srv)
    c.send_raw(b"PROXY UNKNOWN\r\n")
    check_eq(c.call("ping")["ok"], True)


@test
def header_not_trusted_from_others():
    """Without --proxy-from, a PROXY line is just a bad frame."""
    srv = start_natterd()
    c = Conn(srv)
    c.send_raw(b"PROXY TCP4 10.0.0.1 127.0.0.1 1 2\r\n")
    e = c.wait_event("error")
    check_eq(e["error"]["code"], "bad_request")
    check_eq(c.call("ping")["ok"], True, "the connection stays open")


@test
def per_address_limits_use_the_client():
    """Connections per address count real clients, not the proxy."""
    srv = start_natterd(["--proxy-from", "127.0.0.1",
                         "--max-clients-per-addr", "2"])
    a1 = proxied(srv, "198.51.100.1")
    a2 = proxied(srv, "198.51.100.1")
    check_eq(a1.call("ping")["ok"], True)
    check_eq(a2.call("ping")["ok"], True)
    a3 = proxied(srv, "198.51.100.1")
    a3.expect_closed(10)
    # others behind the same proxy are not affected
    b = [proxied(srv, "198.51.100.%d" % i) for i in range(2, 6)]
    for c in b:
        check_eq(c.call("ping")["ok"], True)
    # a freed slot can be used again (once natterd has seen the close)
    a1.close()

    def reusable():
        try:
            return proxied(srv, "198.51.100.1").call("ping")["ok"]
        except (Closed, OSError):
            return False
    wait_until(reusable, what="a freed slot is reusable", timeout=10)


@test
def brute_force_lock_is_per_client():
    """One client guessing passwords behind the proxy locks itself out,
    not the other clients of the same proxy."""
    srv = start_natterd(["--proxy-from", "127.0.0.1",
                         "--login-max-failures-addr", "5",
                         "--login-max-failures", "1000"])
    victim = uniq("v")
    other = uniq("o")
    proxied(srv, "192.0.2.1").register(victim)
    proxied(srv, "192.0.2.2").register(other)
    bad = proxied(srv, "192.0.2.66")
    for i in range(5):
        bad.fail("bad_credentials", "login", name=uniq("guess"),
                 password="wrongpass%d" % i)
    bad.fail("rate_limited", "login", name=victim, password=PASSWORD)
    good = proxied(srv, "192.0.2.10")
    check_eq(good.login(other) > 0, True,
             "another client behind the proxy still logs in")


if __name__ == "__main__":
    run()
