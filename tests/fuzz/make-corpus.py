#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds are real protocol frames (PROTOCOL.md), frames split across reads and
hostile ones. Run it again after changing it; libFuzzer adds what it finds
to a copy, never to these folders (see tests/stages/30-fuzz).
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def j(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# Requests of every type in PROTOCOL.md, as a client sends them.
REQUESTS = [
    {"type": "hello", "req": 1, "proto": 1, "client": "natter/0.1"},
    {"type": "ping", "req": 2},
    {"type": "register", "req": 3, "name": "alice", "password": "correct horse"},
    {"type": "login", "req": 4, "name": "alice", "password": "correct horse"},
    {"type": "friend_add", "req": 5, "name": "bob"},
    {"type": "friends", "req": 6},
    {"type": "friend_remove", "req": 7, "user": 2},
    {"type": "group_create", "req": 8, "name": "ops", "desc": "on call"},
    {"type": "group_join", "req": 9, "name": "ops"},
    {"type": "group_join", "req": 10, "group": 1},
    {"type": "groups", "req": 11},
    {"type": "group_members", "req": 12, "group": 1},
    {"type": "send", "req": 13, "to": {"user": 2}, "body": "hi bob",
     "cmid": "c-1"},
    {"type": "send", "req": 14, "to": {"group": 1}, "body": "h\u00e9llo \u2603 \U0001f600",
     "cmid": "c-2"},
    {"type": "sync", "req": 15, "limit": 10},
    {"type": "ack", "req": 16, "conv": "d:1:2", "seq": 1},
    {"type": "history", "req": 17, "conv": "g:1", "before": 5, "limit": 3},
    {"type": "group_leave", "req": 18, "group": 1},
    {"type": "logout", "req": 19},
]

# Frames a hostile or broken client sends.
HOSTILE = [
    b'{"type":"ping","req":4294967296}',
    b'{"type":"ping","req":-1}',
    b'{"type":"ping","req":1.5}',
    b'{"type":"ping","req":"1"}',
    b'{"type":"send","req":1,"to":{"user":9007199254740992},"body":"x","cmid":"a"}',
    b'{"type":"send","req":1,"to":{"user":0},"body":"","cmid":""}',
    b'{"type":"send","req":1,"to":{"user":1,"group":1},"body":"x","cmid":"b"}',
    b'{"type":"send","req":1,"to":[],"body":null,"cmid":1}',
    b'{"type":"register","req":1,"name":"a b","password":"short"}',
    b'{"type":"register","req":1,"name":"\\u0000","password":"12345678\\u0000"}',
    b'{"type":"register","req":1,"name":"\\ud800","password":"xxxxxxxx"}',
    b'{"type":"register","req":1,"name":"\\ud83d\\ude00","password":"xxxxxxxx"}',
    b'{"type":"login","req":1,"name":"\xe2\x80\xa8","password":"xxxxxxxx"}',
    b'{"type":"login","req":1,"name":"\xc0\xaf","password":"xxxxxxxx"}',
    b'{"type":"history","req":1,"conv":"d:1:1","before":0,"limit":0}',
    b'{"type":"history","req":1,"conv":"g:99999999999999999999","limit":100000}',
    b'{"type":"ack","req":1,"conv":"d:2:1","seq":18446744073709551615}',
    b'{"type":"sync","req":1,"limit":1e3}',
    b'{"type":"nope","req":1}',
    b'{"req":1}',
    b'{"type":["ping"]}',
    b'{"type":"ping","type":"hello"}',
    b'{"type":"ping"} {"type":"ping"}',
    b'{"type":"ping",}',
    b'[1,2,3]',
    b'"ping"',
    b'{"a":' * 20 + b'1' + b'}' * 20,
    b'{"type":"ping","x":' + b'[' * 15 + b']' * 15 + b'}',
    b'{"type":"ping","x":"' + b'\\"' * 40 + b'"}',
    b'{"type":"ping","big":123456789012345678901234567890,"f":-0.0,"e":1e308}',
    b'\xef\xbb\xbf{"type":"ping"}',
    b'{"type":"ping"}\x00',
]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def codec():
    for i, r in enumerate(REQUESTS):
        write("fuzz-codec", "req-%02d-%s" % (i, r["type"]), j(r))
    for i, h in enumerate(HOSTILE):
        write("fuzz-codec", "hostile-%02d" % i, h)


def frame():
    # Header: cap (2 bytes, 1 + n % 512) and four chunk sizes (1 + b % 64).
    stream = "".join(j(r) + "\n" for r in REQUESTS[:6]).encode()
    write("fuzz-frame", "stream-bytewise", b"\x01\xff\x00\x00\x00\x00" + stream)
    write("fuzz-frame", "stream-chunks", b"\x01\xff\x07\x1f\x02\x3f" + stream)
    write("fuzz-frame", "crlf", b"\x00\x80\x10\x10\x10\x10" +
          b'{"type":"ping"}\r\n{"type":"ping","req":2}\r\n')
    write("fuzz-frame", "empty-lines", b"\x00\x40\x05\x01\x09\x02" +
          b'\n\r\n\n{"type":"ping"}\n\r\r\n\n')
    write("fuzz-frame", "exact-cap", b"\x00\x0f\x03\x03\x03\x03" +
          b'{"type":"pin"}\n' + b'{"type":"ping"}\r\n')
    write("fuzz-frame", "over-cap", b"\x00\x0f\x03\x03\x03\x03" +
          b'{"type":"ping"}\n' + b'{"type":"pi"}\n')
    write("fuzz-frame", "partial-at-cap-cr", b"\x00\x0f\x3f\x3f\x3f\x3f" +
          b'{"type":"ping"}\r')
    write("fuzz-frame", "partial-over-cap", b"\x00\x0f\x00\x00\x00\x00" +
          b"x" * 40)
    write("fuzz-frame", "no-newline", b"\x01\xff\x20\x20\x20\x20" +
          j(REQUESTS[12]).encode())
    write("fuzz-frame", "bare-cr-inside", b"\x00\xff\x01\x02\x03\x04" +
          b'{"a":"\r"}\r\r\n{"b":1}\n')
    write("fuzz-frame", "many-small", b"\x00\x08\x3f\x3f\x3f\x3f" +
          b"ab\ncd\n\nef\r\n" * 20)
    write("fuzz-frame", "binary", b"\x00\x20\x05\x06\x07\x08" +
          bytes(range(256)))
    write("fuzz-frame", "cap-one", b"\x00\x00\x00\x01\x00\x01" +
          b"a\nb\r\n\r\ncc\n")


def dispatch():
    # Byte 0: bit 0 logs in as "fuzzer" first, bit 1 adds a friend, a group
    # and a message (see fuzz-dispatch.c).
    lines = lambda rs: "".join(j(r) + "\n" for r in rs).encode()
    write("fuzz-dispatch", "anon-all", b"\x00" + lines(REQUESTS))
    write("fuzz-dispatch", "login-all", b"\x01" + lines(REQUESTS[4:]))
    write("fuzz-dispatch", "social-all", b"\x03" + lines(REQUESTS[4:]))
    write("fuzz-dispatch", "register-login", b"\x00" + lines([
        {"type": "register", "req": 1, "name": "zed", "password": "zedzedzed"},
        {"type": "login", "req": 2, "name": "zed", "password": "zedzedzed"},
        {"type": "login", "req": 3, "name": "zed", "password": "zedzedzed"},
        {"type": "logout", "req": 4},
        {"type": "login", "req": 5, "name": "zed", "password": "wrongwrong"},
    ]))
    write("fuzz-dispatch", "friend-dm", b"\x03" + lines([
        {"type": "friend_add", "req": 1, "name": "fuzzfriend"},
        {"type": "friends", "req": 2},
        {"type": "send", "req": 3, "to": {"user": 2}, "body": "x", "cmid": "k"},
        {"type": "send", "req": 4, "to": {"user": 2}, "body": "x", "cmid": "k"},
        {"type": "history", "req": 5, "conv": "d:1:2"},
        {"type": "ack", "req": 6, "conv": "d:1:2", "seq": 1},
        {"type": "sync", "req": 7},
        {"type": "friend_remove", "req": 8, "user": 2},
        {"type": "send", "req": 9, "to": {"user": 2}, "body": "y", "cmid": "l"},
    ]))
    write("fuzz-dispatch", "group", b"\x03" + lines([
        {"type": "group_create", "req": 1, "name": "g2", "desc": "d"},
        {"type": "group_join", "req": 2, "name": "fuzzgroup"},
        {"type": "groups", "req": 3},
        {"type": "group_members", "req": 4, "group": 1},
        {"type": "send", "req": 5, "to": {"group": 1}, "body": "all",
         "cmid": "g"},
        {"type": "history", "req": 6, "conv": "g:1", "before": 2},
        {"type": "group_leave", "req": 7, "group": 1},
        {"type": "group_leave", "req": 8, "group": 1},
    ]))
    write("fuzz-dispatch", "pipelined-split", b"\x01" +
          lines(REQUESTS[5:12]).replace(b"\n", b"\r\n"))
    write("fuzz-dispatch", "not-logged-in", b"\x00" + lines(REQUESTS[4:]))
    write("fuzz-dispatch", "hostile", b"\x01" + b"\n".join(HOSTILE) + b"\n")
    write("fuzz-dispatch", "too-large", b"\x01" + b'{"type":"ping","x":"' +
          b"a" * 3000 + b'"}\n{"type":"ping"}\n')
    write("fuzz-dispatch", "no-newline", b"\x01" + j(REQUESTS[12]).encode())
    write("fuzz-dispatch", "bad-utf8", b"\x01" +
          b'{"type":"send","req":1,"to":{"user":2},"body":"\xff\xfe","cmid":"z"}\n'
          b'{"type":"ping","req":2}\n')
    write("fuzz-dispatch", "long-body", b"\x03" + lines([
        {"type": "send", "req": 1, "to": {"user": 2}, "body": "b" * 300,
         "cmid": "long"},
        {"type": "send", "req": 2, "to": {"group": 1}, "body": "\u00e9" * 128,
         "cmid": "long2"},
    ]))


def relay_ms():
    # Batches of deliveries as a node publishes them (server/relay-ms.h:
    # magic, node, epoch, count, items; integers little-endian), then
    # broken ones.
    def head(node, epoch, count):
        n = node.encode()
        return (b"\0nb1" + struct.pack("<I", len(n)) + n +
                struct.pack("<QI", epoch, count))

    def item(uids, frame):
        f = frame.encode() if isinstance(frame, str) else frame
        return (struct.pack("<I%dQ" % len(uids), len(uids), *uids) +
                struct.pack("<I", len(f)) + f)

    frames = [j({"ev": "msg", "conv": "u:1:2", "seq": 1, "from": 1,
                 "body": "hi \"there\" C:\\tmp", "ts": 1}) + "\n",
              j({"ev": "msg", "body": "\u4f60\u597d \U0001f600"}) + "\n",
              j({"ev": "on", "user": 3}) + "\n"]
    items = [item([1, 101], frames[0]), item([2], frames[1]),
             item([3, 123456789012345678, 5], frames[2])]
    batch = head("node-1", 1733400000000, 3) + b"".join(items)
    write("fuzz-relay-ms", "batch", batch)
    write("fuzz-relay-ms", "one", head("a", 1, 1) + item([7], frames[0]))
    # Left out and counted: a uid 0, a negative uid, no "\n", bad UTF-8.
    write("fuzz-relay-ms", "bad-items", head("n\u0153ud", 2**63 - 1, 6) +
          items[0] + item([0], "x\n") + item([2**63], "x\n") +
          item([4], "x") + item([5], b"\xff\n") + items[2])
    write("fuzz-relay-ms", "no-users", head("a", 1, 1) + item([], "x\n"))
    write("fuzz-relay-ms", "cut", batch[:len(batch) // 2])
    write("fuzz-relay-ms", "json", '{"n":"a","e":1,"k":"ms","m":[%s]}' %
          j({"u": [7], "f": frames[0]}))


codec()
frame()
dispatch()
relay_ms()
