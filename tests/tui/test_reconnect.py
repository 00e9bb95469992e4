#!/usr/bin/env python3
"""A server restart: the status bar shows "reconnecting", the messages
typed meanwhile are sent once, and those sent to us meanwhile appear
once."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403
from tuilib import Client, kill_server  # noqa: E402


@test
def restart_shows_reconnecting_and_messages_once():
    srv = start_natterd()
    port, data = srv.port, srv.data_dir
    a = Client(srv.port)
    try:
        name = uniq("重")
        a.register(name)
        peer = new_user(srv)
        a.line("/add %s" % peer.name)
        a.wait("%s is now your friend" % peer.name)
        a.line("/msg %s before 之前" % peer.name)
        a.wait(r"<%s> before 之前" % name)
        peer.close()
        srv.kill()
        a.wait(r"reconnecting in \d+s")
        # Typed while the server is down: pending, sent after re-login.
        a.line("while down 断线 😀")
        a.wait(r"~<%s> while down 断线 😀" % name)
        srv2 = start_natterd(["--listen", "127.0.0.1:%d" % port],
                             data_dir=data)
        # The peer writes before our client is back: sync brings it.
        p2 = Conn(srv2)
        p2.login(peer.name)
        p2.call("send", to={"user": a_id(p2, name)}, body="meanwhile 期间",
                cmid="m1")
        a.wait(r"\[connected\]", timeout=30)
        a.wait(r"^\S+ <%s> while down 断线 😀" % name)
        a.key("M-2")
        a.wait(r"<%s> meanwhile 期间" % peer.name)
        check_eq(a.count("meanwhile 期间"), 1, "peer's message once")
        check_eq(a.count("while down 断线"), 1, "own message once")
        check_eq(a.count("before 之前"), 1, "old message once")
        msgs = []
        def got():
            r = p2.call("sync")
            msgs.extend(m["body"] for m in r["msgs"])
            for m in r["msgs"]:
                p2.call("ack", conv=m["conv"], seq=m["seq"])
            return "while down 断线 😀" in msgs
        wait_until(got, what="the queued message at the peer")
        check_eq(msgs.count("while down 断线 😀"), 1, "stored once")
        a.check_widths()
    finally:
        kill_server()


def a_id(conn, name):
    """The id of friend name, from conn's friends list."""
    for f in conn.call("friends")["friends"]:
        if f["name"] == name:
            return f["id"]
    raise AssertionError("%s is not a friend" % name)


run()
