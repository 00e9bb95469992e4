#!/usr/bin/env python3
"""Hostile and odd input: framing edge cases, bad bytes, forged identity,
id bombs, deep nesting, names full of SQL and non-ASCII."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403


def pair(srv=None):
    srv = srv or shared_server()
    a = new_user(srv)
    b = new_user(srv)
    make_friends(a, b)
    return a, b


def expect_bad_request_event(c, what):
    """The next frame is an error event bad_request without req."""
    f = c.read_frame()
    check(f is not None, "an error for %s" % what)
    check_eq(f.get("type"), "error", "frame type for %s" % what)
    check("req" not in f, "no req in the error for %s: %r" % (what, f))
    check_eq(f.get("error", {}).get("code"), "bad_request", "code for %s"
             % what)


def check_bad(f, what):
    """f is a bad_request error, as a reply (ok false) or as an event."""
    check(f is not None, "an answer for %s" % what)
    check(f.get("ok") is not True, "%s: not ok: %r" % (what, f))
    err = f.get("error")
    check(isinstance(err, dict) and err.get("code") == "bad_request",
          "%s: expected bad_request, got %r" % (what, f))


def still_works(srv):
    """natterd still serves a new connection."""
    c = Conn(srv)
    c.call("ping")
    c.close()


# ------------------------------------------------------------ framing

@test
def frame_byte_by_byte():
    srv = shared_server()
    c = Conn(srv)
    name = uniq()
    data = ('{"type":"register","req":1,"name":"%s","password":"%s"}\n'
            '{"type":"login","req":2,"name":"%s","password":"%s"}\r\n'
            '{"type":"friends","req":3}\n' % (name, PASSWORD, name, PASSWORD)
            ).encode()
    for i in range(len(data)):
        c.send_raw(data[i:i + 1])
        if i % 8 == 0:
            time.sleep(0.002)
    for req, t in ((1, "register"), (2, "login"), (3, "friends")):
        r = c.wait_reply(req)
        check_eq(r["type"], t)
        check_ok(r, t)
    check_eq(c.events, type(c.events)(), "no stray frames")


@test
def frame_split_inside_utf8():
    a, b = pair()
    body = "\u5f20\u4e09\U0001F600"
    frame = ('{"type":"send","req":7,"to":{"user":%d},"body":"%s",'
             '"cmid":"u8"}\n' % (b.uid, body)).encode()
    # cut in the middle of the 4-byte emoji, then of a 3-byte character
    cut1 = frame.index(body.encode()) + 8
    cut2 = frame.index(body.encode()) + 1
    a.send_raw(frame[:cut2])
    time.sleep(0.05)
    a.send_raw(frame[cut2:cut1])
    time.sleep(0.05)
    a.send_raw(frame[cut1:])
    check_ok(a.wait_reply(7))
    e = b.wait_event("msg")
    check_eq(e["body"], body)


@test
def many_frames_in_one_send():
    c = new_user(shared_server())
    n = 300
    data = b"".join(b'{"type":"ping","req":%d}\n' % (1000 + i)
                    for i in range(n))
    data += b'{"type":"friends","req":5000}\n{"type":"groups","req":5001}\n'
    c.send_raw(data)
    got = []
    while len(got) < n + 2:
        f = c.read_frame()
        check(f is not None, "reply %d of %d" % (len(got), n + 2))
        got.append(f)
    check_eq([f["req"] for f in got], [1000 + i for i in range(n)] +
             [5000, 5001], "every reply, in order")
    check(all(f["ok"] for f in got), "all ok")


@test
def garbage_between_good_frames():
    c = Conn(shared_server())
    c.send_raw(b'{"type":"ping","req":1}\n{not json}\n{"type":"ping","req":2}'
               b'\n')
    f = c.read_frame()
    check_eq((f["req"], f["ok"]), (1, True))
    expect_bad_request_event(c, "garbage")
    f = c.read_frame()
    check_eq((f["req"], f["ok"]), (2, True))


@test
def malformed_json_keeps_connection():
    c = Conn(shared_server())
    for bad in [b'{"type":"ping",', b'{"type":"ping","req":1}}',
                b'{"type":"ping" "req":1}', b"{'type':'ping'}",
                b'{"type":"ping","req":01}', b'{"type":"ping"} {"a":1}',
                b'{"type":"p\\x41"}', b'{"type":"ping","req":1,}',
                b'\x00\x01\x02', b'NaN', b'{"a":NaN}', b'{"a":Infinity}']:
        c.send_raw(bad + b"\n")
        expect_bad_request_event(c, repr(bad))
    c.call("ping")


@test
def non_object_json():
    c = Conn(shared_server())
    for bad in [b"[1,2]", b"42", b'"str"', b"null", b"true", b"[]",
                b'[{"type":"ping","req":1}]', b"  3.5  "]:
        c.send_raw(bad + b"\n")
        expect_bad_request_event(c, repr(bad))
    c.call("ping")


@test
def empty_lines_are_harmless():
    c = Conn(shared_server())
    c.send_raw(b"\n\r\n   \n")
    r = c.call("ping")
    check_eq(r["type"], "ping")
    for e in c.events:
        check_eq(e.get("error", {}).get("code"), "bad_request",
                 "only bad_request for empty lines")


@test
def invalid_utf8():
    c = Conn(shared_server())
    cases = {
        "lone continuation": b"\x80",
        "0xff": b"\xff",
        "overlong slash": b"\xc0\xaf",
        "overlong nul": b"\xc0\x80",
        "overlong 3-byte": b"\xe0\x80\xaf",
        "surrogate d800": b"\xed\xa0\x80",
        "surrogate pair (cesu)": b"\xed\xa0\xbd\xed\xb8\x80",
        "above 10ffff": b"\xf4\x90\x80\x80",
        "f5": b"\xf5\x80\x80\x80",
        "truncated": b"\xe5\xbc",
    }
    for what, bad in cases.items():
        c.send_raw(b'{"type":"ping","req":9,"x":"a' + bad + b'b"}\n')
        expect_bad_request_event(c, what)
        # outside a string too
        c.send_raw(bad + b'{"type":"ping","req":9}\n')
        expect_bad_request_event(c, what + " outside a string")
    c.call("ping")


@test
def invalid_utf8_in_names_and_bodies():
    a, b = pair()
    # lone surrogate escapes decode to invalid UTF-8
    a.send_raw(('{"type":"send","req":3,"to":{"user":%d},"body":"x\\ud800y",'
                '"cmid":"s1"}\n' % b.uid).encode())
    f = a.read_frame()
    check_bad(f, "lone surrogate in body")
    x = Conn(shared_server())
    x.send_raw(b'{"type":"register","req":4,"name":"n\\udc00",'
               b'"password":"12345678"}\n')
    f = x.read_frame()
    check(f is not None and f.get("ok") is not True and
          f.get("error", {}).get("code") in ("bad_request", "invalid_name"),
          "lone surrogate in name: %r" % f)
    # a correct surrogate pair is fine
    a.send_raw(('{"type":"send","req":5,"to":{"user":%d},"body":'
                '"\\ud83d\\ude00","cmid":"s2"}\n' % b.uid).encode())
    check_ok(a.wait_reply(5))
    check_eq([m["body"] for m in b.call("sync")["msgs"]], ["\U0001F600"],
             "only the valid message stored")


@test
def frame_70k_too_large_and_closed():
    srv = shared_server()
    bystander = new_user(srv)
    c = Conn(srv)
    c.send_raw(b'{"type":"ping","req":1,"x":"' + b"y" * 70 * 1024 + b'"}\n')
    e = c.wait_event("error")
    check_eq(e["error"]["code"], "frame_too_large")
    c.expect_closed()
    bystander.call("ping")
    still_works(srv)


@test
def frame_just_under_limit():
    # Logged in: before login the cap is max-frame-login (4 KiB).
    c = new_user(shared_server())
    pad = 65536 - len(b'{"type":"ping","req":1,"x":""}') - 100
    r = c.call("ping", x="y" * pad)
    check_eq(r["req"] > 0, True)


@test
def no_newline_ever():
    srv = shared_server()
    c = Conn(srv)
    t0 = time.monotonic()
    sent = 0
    try:
        while sent < 200 * 1024 and time.monotonic() - t0 < 10:
            c.send_raw(b"a" * 4096)
            sent += 4096
    except (BrokenPipeError, ConnectionResetError):
        pass
    c.expect_closed(10)
    for e in c.events:
        if e.get("type") == "error":
            check_eq(e["error"]["code"], "frame_too_large")
    still_works(srv)


@test
def half_frame_then_vanish():
    srv = shared_server()
    a, b = pair(srv)
    for how in ("close", "reset", "shutdown"):
        v = Conn(srv)
        v.send_raw(b'{"type":"login","req":1,"name":"')
        if how == "close":
            v.close()
        elif how == "reset":
            v.reset()
        else:
            v.sock.shutdown(socket.SHUT_WR)
            v.expect_closed()
    # a logged-in user vanishing mid-frame
    v = new_user(srv)
    make_friends(a, v)
    v.send_raw(('{"type":"send","req":5,"to":{"user":%d},"bo' % a.uid
                ).encode())
    v.reset()
    e = a.wait_event("presence", lambda e: e["user"]["id"] == v.uid)
    check_eq(e["online"], False)
    a.call("send", to={"user": b.uid}, body="still here", cmid=uniq("m"))
    b.wait_event("msg", lambda e: e["body"] == "still here")
    still_works(srv)


@test
def vanish_with_requests_in_flight():
    """Peers that drop while their requests run on the DB pool: natterd
    survives, stores consistently and nobody is left online."""
    srv = shared_server()
    a, b = pair(srv)
    for k in range(30):
        v = Conn(srv)
        v.login(b.name, b.password)
        v.send_raw(b"".join(
            ('{"type":"send","req":%d,"to":{"user":%d},"body":"v%d-%d",'
             '"cmid":"v%d-%d"}\n' % (i, a.uid, k, i, k, i)).encode()
            for i in range(20)) + b'{"type":"sync","req":99}\n')
        v.reset()
    for k in range(30):
        v = Conn(srv)
        v.send_raw(('{"type":"login","req":1,"name":"%s","password":"%s"}\n'
                    % (b.name, b.password)).encode())
        if k % 2:
            v.reset()
        else:
            v.close()
    b.close()
    still_works(srv)
    # b has no session left: a must see b offline (no stuck presence)
    wait_until(lambda: not {f["id"]: f["online"] for f in
                            a.call("friends")["friends"]}[b.uid],
               timeout=10, what="b offline after all its sessions dropped")
    msgs = [m for m in a.call("sync", limit=500)["msgs"]]
    seqs = [m["seq"] for m in msgs]
    check_eq(seqs, list(range(1, len(seqs) + 1)), "gapless after drops")
    a.call("send", to={"user": b.uid}, body="end", cmid="end")


@test
def deep_nesting():
    srv = shared_server()
    c = new_user(srv)
    for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
        deep = opener * 10000 + b"1" + closer * 10000
        c.send_raw(b'{"type":"ping","req":77,"x":' + deep + b"}\n")
        f = c.read_frame()
        check_bad(f, "10000 levels")
        check(f.get("type") in ("error", "ping"), "type %r" % f.get("type"))
    # moderately nested unknown fields within limits are ignored
    c.call("ping", x=[[[{"a": [1]}]]])
    still_works(srv)


# ------------------------------------------------------------ identity

@test
def forged_sender_fields_ignored():
    srv = shared_server()
    a, b = pair(srv)
    victim = new_user(srv)
    make_friends(victim, b)
    forged = {"from": {"id": victim.uid, "name": victim.name},
              "sender": victim.uid, "user_id": victim.uid,
              "user": {"id": victim.uid}, "name": victim.name,
              "session": "x", "uid": victim.uid, "seq": 99, "ts": 1,
              "conv": "d:%d:%d" % tuple(sorted((victim.uid, b.uid)))}
    r = a.call("send", dict(forged, to={"user": b.uid}, body="it's me",
                            cmid="forge"))
    lo, hi = sorted((a.uid, b.uid))
    check_eq(r["msg"]["conv"], "d:%d:%d" % (lo, hi), "conv of real sender")
    check_eq(r["msg"]["seq"], 1)
    check(r["msg"]["ts"] > 10 ** 12, "server time, not the forged ts")
    e = b.wait_event("msg")
    check_eq(e["from"], {"id": a.uid, "name": a.name}, "real sender")
    check_eq(e["conv"], "d:%d:%d" % (lo, hi))
    check_eq(victim.pending("msg"), [], "victim sees nothing")
    vb = "d:%d:%d" % tuple(sorted((victim.uid, b.uid)))
    check_eq(b.call("history", conv=vb)["msgs"], [],
             "nothing in victim's conversation")
    # friend_add and group_create with a forged owner
    g = a.call("group_create", {"name": uniq("g"), "owner": victim.uid,
                                "creator": victim.uid, "user": victim.uid})
    check_eq(g["group"]["role"], "creator")
    check_eq(victim.call("groups")["groups"], [], "victim not in a's group")
    # ack with a forged user does not move the victim's cursor
    a.call("ack", {"conv": "d:%d:%d" % (lo, hi), "seq": 1,
                   "user": b.uid, "from": {"id": b.uid}})
    check_eq([m["body"] for m in b.call("sync")["msgs"]], ["it's me"],
             "b's cursor untouched")
    # login fields do not pick the user either
    x = Conn(srv)
    x.fail("not_authenticated", "friends", user=a.uid, session="x")


@test
def id_bombs():
    srv = shared_server()
    a, b = pair(srv)
    gid = a.call("group_create", name=uniq("g"))["group"]["id"]
    b.call("group_join", group=gid)
    bombs = ["-1", "0", "9007199254740992", "9223372036854775808",
             "9223372036854775807", "18446744073709551616", "-9223372036854775809",
             "1e309", "-1e309", "1e3", '"%d"' % b.uid, '"12"', "null", "1.5",
             "%d.0" % b.uid, "true", "false", "[]", "[%d]" % b.uid, "{}",
             '{"id":%d}' % b.uid, "1" + "0" * 400]
    req = 100
    for kind in ("user", "group"):
        for bomb in bombs:
            req += 1
            raw = ('{"type":"send","req":%d,"to":{"%s":%s},"body":"bomb",'
                   '"cmid":"b%d"}\n' % (req, kind, bomb, req)).encode()
            a.send_raw(raw)
            r = a.wait_reply(req)
            check_err(r, "bad_request", raw.decode()[:120])
    for t, field in (("group_join", "group"), ("group_leave", "group"),
                     ("group_members", "group"), ("friend_remove", "user")):
        for bomb in bombs:
            req += 1
            a.send_raw(('{"type":"%s","req":%d,"%s":%s}\n' %
                        (t, req, field, bomb)).encode())
            r = a.wait_reply(req)
            check_err(r, "bad_request", "%s %s=%s" % (t, field, bomb[:40]))
    # nothing was stored, a's group and friendship are intact
    check_eq(b.call("sync")["msgs"], [], "no message stored")
    check_eq([f["id"] for f in a.call("friends")["friends"]], [b.uid])
    check_eq([g["id"] for g in b.call("groups")["groups"]], [gid])
    # the largest valid id is well-formed, just unknown
    a.fail("not_found", "send", to={"user": 2 ** 53 - 1}, body="x",
           cmid="big")
    r = a.call("send", to={"user": b.uid}, body="real", cmid="real")
    check_eq(r["msg"]["seq"], 1)


@test
def send_frames_in_every_shape():
    """natterd reads ordinary sends without json-c and the rest with it:
    both ways give the same messages and the same errors."""
    srv = shared_server()
    a, b = pair(srv)
    to = '"to":{"user":%d}' % b.uid
    good = [  # (frame text after the req, body b must see)
        (to + ',"body":"plain"', "plain"),
        (' ' + to + ' , "body" : "a\\nb\\"c\\\\d\\/e\\t" ', 'a\nb"c\\d/e\t'),
        (to + ',"body":"\u00e9\u5f20\U0001F389"', "\u00e9\u5f20\U0001F389"),
        (to + ',"body":"\\u00e9\\ud83c\\udf89"', "\u00e9\U0001F389"),
        (to + ',"body":"first","body":"last"', "last"),
        ('"to":{"user":1},"to":{"user":%d},"body":"to twice"' % b.uid,
         "to twice"),
        (to + ',"body":"x","unknown":[1,{"a":null}]', "x"),
        (to + ',"body":"with cmid","cmid":"c\\n1"', "with cmid"),
    ]
    req = 500
    for tail, body in good:
        req += 1
        raw = '{"type":"send","req":%d,%s}\n' % (req, tail)
        a.send_raw(raw.encode())
        r = a.wait_reply(req)
        check(r.get("ok") is True, "sent: %s -> %r" % (raw.strip(), r))
        e = b.wait_event("msg")
        check_eq(e["body"], body, "body of %s" % raw.strip())
        check_eq(e["from"]["id"], a.uid)
    bad = [
        to + ',"body":""', to + ',"body":null', to + ',"body":7',
        '"to":{"user":%d,"group":1},"body":"x"' % b.uid, '"to":{},"body":"x"',
        '"to":{"user":0},"body":"x"', to + ',"body":"x","cmid":""',
        to + ',"body":"x","cmid":"%s"' % ("c" * 129), '"body":"no to"',
        to + ',"body":"' + "x" * 4097 + '"',
    ]
    for tail in bad:
        req += 1
        a.send_raw(('{"type":"send","req":%d,%s}\n' % (req, tail)).encode())
        r = a.wait_reply(req)
        check(r.get("ok") is False, "refused: %s -> %r" % (tail[:60], r))
    check_eq(b.pending("msg"), [], "nothing more delivered")
    check_eq(len(b.call("sync")["msgs"]), len(good), "all stored, once")


@test
def req_field_bombs():
    c = Conn(shared_server())
    for bad in ["-1", "4294967296", "1.5", '"1"', "null", "[]", "1e309"]:
        c.send_raw(('{"type":"ping","req":%s}\n' % bad).encode())
        f = c.read_frame()
        check_bad(f, "req=%s" % bad)
        check("req" not in f, "no req echoed for req=%s: %r" % (bad, f))
    c.call("ping")


# ------------------------------------------------------------ names

SQL_NAMES = ["o'brien;--", 'x"_OR_1=1', "';DROP/**/TABLE/**/users;--",
             "%_\\%", "a'||'b", "\\x00'", "Robert');--"]
INTL_NAMES = ["\u5f20\u4e09", "\u674e\u56db\U0001F409", "\U0001F600\U0001F389",
              "caf\u00e9", "\u0645\u0631\u062d\u0628\u0627", "\u0928\u092e\u0938\u094d\u0924\u0947",
              "\U0001F468\u200d\U0001F469\u200d\U0001F467"]


@test
def sql_and_intl_names_end_to_end():
    srv = start_natterd([])
    conns = {}
    names = SQL_NAMES + INTL_NAMES + ['x" OR 1=1']
    for n in names:
        if " " in n:
            c = Conn(srv)
            c.fail("invalid_name", "register", name=n, password=PASSWORD)
            continue
        c = new_user(srv, name=n, password="p'; --\"" + n)
        conns[n] = c
    names = list(conns)
    hub = conns[names[0]]
    for n in names[1:]:
        r = hub.call("friend_add", name=n)
        check_eq(r["friend"]["name"], n)
        conns[n].wait_event("friend_added")
    fl = sorted(f["name"] for f in hub.call("friends")["friends"])
    check_eq(fl, sorted(names[1:]), "friend names intact")
    # groups named like that too
    gname = "g';--\u7fa4"
    gid = hub.call("group_create", name=gname, desc="'); DELETE FROM "
                   "messages; -- \u7fa4")["group"]["id"]
    for n in names[1:]:
        r = conns[n].call("group_join", name=gname)
        check_eq(r["group"]["id"], gid)
    bodies = {}
    for n in names[1:]:
        body = "from %s: '); DELETE FROM messages; -- %s \\ \"" % (n, n)
        conns[n].call("send", to={"user": hub.uid}, body=body,
                      cmid="c'" + n)
        conns[n].call("send", to={"group": gid}, body=body, cmid="g'" + n)
        bodies[n] = body
    msgs = hub.call("sync", limit=500)["msgs"]
    got = [(m["from"]["name"], m["body"]) for m in msgs
           if m["to"] == {"user": hub.uid}]
    check_eq(sorted(got), sorted(bodies.items()), "direct bodies intact")
    got = [(m["from"]["name"], m["body"], m["cmid"]) for m in msgs
           if m["to"] == {"group": gid}]
    check_eq(sorted(got), sorted((n, b, "g'" + n) for n, b in
                                 bodies.items()), "group bodies intact")
    members = sorted(m["name"] for m in
                     hub.call("group_members", group=gid)["members"])
    check_eq(members, sorted(names), "member names intact")
    gl = hub.call("groups")["groups"]
    check_eq([(g["name"], g["desc"]) for g in gl],
             [(gname, "'); DELETE FROM messages; -- \u7fa4")])
    # the users table survived: everyone can log in again by name
    srv.stop()
    srv2 = start_natterd([], data_dir=srv.data_dir)
    for n in names:
        c = Conn(srv2)
        c.login(n, "p'; --\"" + n)
    c = Conn(srv2)
    c.fail("bad_credentials", "login", name="' OR '1'='1",
           password="' OR '1'='1")
    c.fail("bad_credentials", "login", name=names[0],
           password="' OR '1'='1")


@test
def name_limits_in_code_points():
    srv = shared_server()
    c = Conn(srv)
    tag = uniq()[-4:]
    n32 = "\U0001F600" * (32 - len(tag)) + tag
    check_eq(len(n32), 32, "test name")
    c.register(n32)
    c.fail("invalid_name", "register", name="\U0001F600" + n32,
           password=PASSWORD)
    c.login(n32)
    check_eq(c.call("friends")["friends"], [])
    # name case-sensitivity and unicode lookalikes are different names
    base = uniq("Case")
    for n in (base, base.lower(), base.upper()):
        c2 = Conn(srv)
        c2.register(n)


if __name__ == "__main__":
    run()
