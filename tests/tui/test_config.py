#!/usr/bin/env python3
"""The config file ($XDG_CONFIG_HOME/natter/config): the user is asked
for a password at start (never echoed), the time format and the roster
setting apply, and a command-line flag overrides the file."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403
import tuilib  # noqa: E402
from tuilib import Client, kill_server  # noqa: E402


@test
def config_user_prompt_and_settings():
    srv = start_natterd()
    u = new_user(srv, uniq("配"), password="sekrit-pw1")
    u.close()
    home = tuilib.tempfile.mkdtemp(prefix="nattercfg-")
    tuilib._tmpdirs.append(home)
    os.makedirs(os.path.join(home, "natter"))
    with open(os.path.join(home, "natter", "config"), "w") as f:
        f.write("# test\nserver 127.0.0.1:1\nuser %s\n"
                "time_format [%%H:%%M:%%S]\nroster off\n" % u.name)
    # --server on the command line beats the file's unreachable one.
    a = Client(srv.port, config_home=home)
    try:
        a.wait_prompt("Password for %s:" % u.name)
        a.send("sekrit-pw1")
        check("sekrit-pw1" not in "\n".join(a.all_rows()), "no echo")
        a.key("Enter")
        a.wait(r"^\[\d\d:\d\d:\d\d\] -!- logged in as %s" % u.name)
        for row in a.rows():
            check("│" not in row, "roster off from the config")
        a.line("/roster")
        a.wait(r"│Friends")
        a.line("/quit")
        tuilib.wait_until(a.dead, what="natter to exit")
    finally:
        kill_server()


run()
