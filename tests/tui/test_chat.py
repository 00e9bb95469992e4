#!/usr/bin/env python3
"""Two full-screen clients chat through a real natterd: Chinese and emoji,
the password prompt, unread marks, window switching, Tab completion, and
no row wider than the pane."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403
from tuilib import Client, kill_server  # noqa: E402


@test
def two_clients_chat_in_chinese_and_emoji():
    srv = start_natterd()
    a, b = Client(srv.port), Client(srv.port)
    try:
        na, nb = uniq("甲"), uniq("bob")
        a.register(na)
        b.register(nb)
        a.line("/add %s" % nb)
        a.wait("%s is now your friend" % nb)
        b.wait("%s is now your friend" % na)
        # /msg NAME TEXT opens window 2 and sends; pending, then plain.
        a.line("/msg %s 你好，世界 😀 café" % nb)
        a.wait(r"^\S+ <%s> 你好，世界 😀 café" % na)
        a.wait(r"\[2:%s\]" % nb)
        # bob is on his console: the hotlist marks a direct message.
        b.wait(r"\[Act: 2:%s\(1\)!\]" % na)
        b.key("M-2")
        b.wait(r"<%s> 你好，世界 😀 café" % na)
        b.wait(r"\[Act:", absent=True)
        b.wait(r"^ %s - online" % na)
        # Plain text in a conversation window goes to it, once.
        b.line("收到 👍 e\u0301 ok")
        a.wait(r"<%s> 收到 👍 e\u0301 ok" % nb)
        check_eq(a.count("收到 👍"), 1, "shown once")
        a.check_widths()
        b.check_widths()
        # Window switching: console and back, by number, name and keys.
        a.key("M-1")
        a.wait(r"\[1:console\]")
        a.key("C-n")
        a.wait(r"\[2:%s\]" % nb)
        a.line("/win 1")
        a.wait(r"\[1:console\]")
        a.line("/win %s" % nb)
        a.wait(r"\[2:%s\]" % nb)
        # A message while a is elsewhere: unread, then Alt-a clears it.
        a.key("M-1")
        a.wait(r"\[1:console\]")
        b.line("第二条")
        a.wait(r"\[Act: 2:%s\(1\)!\]" % nb)
        a.key("M-a")
        a.wait(r"new messages")
        a.wait(r"<%s> 第二条" % nb)
        a.wait(r"\[Act:", absent=True)
        # Tab completes the command and the friend's name.
        a.key("M-1")
        a.wait(r"\[1:console\]")
        a.send("/ms")
        a.key("Tab")
        a.send(nb[:3])
        a.key("Tab")
        a.send("completed 😀")
        a.key("Enter")
        b.wait(r"<%s> completed 😀" % na)
        a.check_widths()
        b.check_widths()
    finally:
        kill_server()


run()
