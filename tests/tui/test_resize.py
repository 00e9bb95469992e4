#!/usr/bin/env python3
"""Resizing: 100x30 to 40x12 and back redraws without a crash; below the
minimum size the client says "terminal too small"; ^L redraws."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403
from tuilib import Client, kill_server  # noqa: E402


@test
def resize_small_and_back_redraws():
    srv = start_natterd()
    a = Client(srv.port)
    try:
        name = uniq("宽")
        a.register(name)
        a.line("/help")
        a.wait(r"/group members NAME")
        a.line("这是一条很长的中文消息，用来测试换行是否正确 😀😀😀 "
               "and some ASCII words to wrap around the narrow screen")
        a.wait("this is the console")
        a.resize(40, 12)
        a.wait(r"^ natter \S+ - console")
        a.wait(r"\[%s\] \[connected\]" % name)
        check(not a.dead(), "alive after shrinking")
        a.check_widths()
        for row in a.rows():
            check("│" not in row, "no roster panel at 40 columns")
        a.resize(15, 4)
        a.wait(r"^terminal\s+too\s+small")
        a.resize(100, 30)
        a.wait(r"\[%s\] \[connected\]" % name)
        a.wait(r"│Friends")
        a.check_widths()
        a.key("C-l")
        a.wait(r"\[%s\] \[connected\]" % name)
        a.line("/roster")
        a.wait(r"│Friends", absent=True)
        check(not a.dead(), "alive")
    finally:
        kill_server()


run()
