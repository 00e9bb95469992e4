"""natterd's MariaDB migrations on a database that holds data (issue 7):
schema 4 clusters messages by (conv, seq), and their id becomes ord, an
order value without an index. A database at schema 3, as earlier
natterd left it, with users, a friendship, a group and messages in both,
is migrated when natterd starts on it; nothing is lost, sync returns
each conversation in seq order and all in the order stored, history
reads it, and the next send takes the next seq. Schema 5 drops
conversations.last_seq (seqs come from the messages' key); it and schema
4 run again harmlessly on a node stopped before recording them. Starts
its own MariaDB in a temporary folder on loopback.
"""

import glob
import os
import re
import subprocess
import time

from natlib import *
import mariadb

db = mariadb.script_db  # this script's MariaDB
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "..", "db", "schema", "mysql")
# The tables schema 3 has besides messages, in foreign key order.
TABLES = ["users", "friendships", "chat_groups", "group_members",
          "conversations", "conv_members"]
MSG_COLS = "conv, seq, sender, to_user, to_group, body, ts, cmid"
ID_COLUMN = "`id` bigint(20) NOT NULL AUTO_INCREMENT"
HOLD_S = 4  # another node's migration, as long as this


def dbname(url):
    return url.rsplit("/", 1)[1]


def has_last_seq(name):
    """Whether conversations still has schema 1's counter column."""
    return any(r[0] == "last_seq" for r in
               db().sql("SHOW COLUMNS FROM conversations", db=name))


def messages_table(name):
    """SHOW CREATE TABLE messages, without its AUTO_INCREMENT counter."""
    text = db().sql("SHOW CREATE TABLE messages", db=name)[0][1]
    return re.sub(r" AUTO_INCREMENT=\d+", "", text)


def fill(url):
    """ann and bob, friends, in a group; three messages from ann to bob
    and two in the group, none acked by bob. Returns bob's name and the
    group's id."""
    srv = start_natterd(["--store", url])
    ann, bob = new_user(srv), new_user(srv)
    make_friends(ann, bob)
    gid = ann.call("group_create", name=uniq("mg"))["group"]["id"]
    bob.call("group_join", group=gid)
    for body in ("one", "two", "three"):
        ann.call("send", to={"user": bob.uid}, body=body)
    for body in ("g-one", "g-two"):
        ann.call("send", to={"group": gid}, body=body)
    name = bob.name
    ann.close()
    bob.close()
    srv.stop()
    return name, gid


def make_schema3(src, dst):
    """dst as schema 3 left it (migrations 001-003, recorded in
    schema_version), holding src's rows (src is at the latest schema);
    messages get ids in ts order."""
    steps = sorted(glob.glob(os.path.join(SCHEMA, "*.sql")))[:3]
    for path in steps:
        with open(path) as f:
            db().sql(f.read(), db=dst)
    db().sql("CREATE TABLE schema_version (version INT NOT NULL PRIMARY "
             "KEY, name VARCHAR(255) NOT NULL, applied BIGINT NOT NULL)",
             db=dst)
    for i, path in enumerate(steps, 1):
        name = os.path.basename(path)[:-4]
        db().sql("INSERT INTO schema_version VALUES (%d, '%s', 0)"
                 % (i, name), db=dst)
    for t in TABLES:
        if t == "conversations":  # schema 3 kept each one's last seq
            db().sql("INSERT INTO `%s`.conversations SELECT v.id, (SELECT "
                     "MAX(seq) FROM `%s`.messages m WHERE m.conv = v.id) "
                     "FROM `%s`.conversations v" % (dst, src, src))
            continue
        db().sql("INSERT INTO `%s`.%s SELECT * FROM `%s`.%s"
                 % (dst, t, src, t))
    db().sql("REPLACE INTO `%s`.social_epoch SELECT * FROM "
             "`%s`.social_epoch" % (dst, src))
    db().sql("INSERT INTO `%s`.messages (%s) SELECT %s FROM `%s`.messages "
             "ORDER BY ts, conv, seq" % (dst, MSG_COLS, MSG_COLS, src))


def check_sync(c, gid, want_direct, want_group, want_all):
    """c's sync: each conversation's bodies in seq order, seqs from 1, and
    all of them in the order they were stored."""
    msgs = c.call("sync", limit=100)["msgs"]
    check_eq([m["body"] for m in msgs], want_all, "the order stored")
    direct = [m for m in msgs if "user" in m["to"]]
    group = [m for m in msgs if m["to"].get("group") == gid]
    check_eq([m["body"] for m in direct], want_direct, "direct bodies")
    check_eq([m["seq"] for m in direct], list(range(1, len(direct) + 1)))
    check_eq([m["body"] for m in group], want_group, "group bodies")
    check_eq([m["seq"] for m in group], list(range(1, len(group) + 1)))
    return direct[0]["conv"]


@test
def test_seq_key_migration():
    src_url, dst_url = db().new_database(), db().new_database()
    src, dst = dbname(src_url), dbname(dst_url)
    bob_name, gid = fill(src_url)
    make_schema3(src, dst)
    check(ID_COLUMN in messages_table(dst), "schema 3's messages have ids")

    srv = start_natterd(["--store", dst_url])
    check("applied schema 004-conv-seq-key" in srv.log_text(),
          "natterd applies schema 4")
    check("applied schema 005-seqs-from-messages" in srv.log_text(),
          "natterd applies schema 5")
    check(not has_last_seq(dst) and not has_last_seq(src),
          "schema 5 leaves no last_seq column")
    check_eq(messages_table(dst), messages_table(src),
             "the migrated table is the one a fresh database gets")
    check(ID_COLUMN not in messages_table(dst), "no id column left")
    bob = Conn(srv)
    bob.login(bob_name)
    conv = check_sync(bob, gid, ["one", "two", "three"], ["g-one", "g-two"],
                      ["one", "two", "three", "g-one", "g-two"])
    r = bob.call("send", to={"user": bob.call("friends")["friends"][0]["id"]},
                 body="four")
    check_eq(r["msg"]["seq"], 4, "the next seq after the migrated ones")
    hist = bob.call("history", conv=conv, limit=10)["msgs"]
    check_eq([m["body"] for m in hist], ["one", "two", "three", "four"])
    srv.stop()

    # Started again, natterd finds schema 4 recorded and applies nothing.
    srv = start_natterd(["--store", dst_url])
    check("applied schema" not in srv.log_text(), "no migration twice")
    srv.stop()

    # A node stopped after the ALTERs but before schema_version's rows:
    # the steps run again, find no id or last_seq column, change nothing.
    db().sql("DELETE FROM schema_version WHERE version >= 4", db=dst)
    srv = start_natterd(["--store", dst_url])
    check("applied schema 004-conv-seq-key" in srv.log_text(),
          "schema 4 recorded again")
    check("applied schema 005-seqs-from-messages" in srv.log_text(),
          "schema 5 recorded again")
    check_eq(messages_table(dst), messages_table(src), "table unchanged")
    bob = Conn(srv)
    bob.login(bob_name)
    check_sync(bob, gid, ["one", "two", "three", "four"], ["g-one", "g-two"],
               ["one", "two", "three", "g-one", "g-two", "four"])


def index_reads():
    """Rows mariadbd has read so far by walking an index (all sessions)."""
    rows = db().sql("SHOW GLOBAL STATUS WHERE Variable_name IN "
                    "('Handler_read_next', 'Handler_read_prev')")
    return sum(int(v) for _, v in rows)


def reads_of(what, fn, most=2000):
    """Runs fn; checks that mariadbd walked at most `most` index rows."""
    before = index_reads()
    out = fn()
    n = index_reads() - before
    check(n <= most, "%s read %d index rows" % (what, n))
    return out


@test
def test_long_conversation_reads():
    """Schema 5 takes a conversation's last seq from the end of its key
    range. A send, an ack, a sync and a new member's cursor each walk a
    few index rows however long the conversation (MAX(seq) or EXISTS
    correlated to an outer row walked all of it: 20,000 rows here),
    counted by mariadbd's Handler_read_next and _prev."""
    url = db().new_database()
    srv = start_natterd(["--store", url])
    ann, bob = new_user(srv), new_user(srv)
    make_friends(ann, bob)
    gid = ann.call("group_create", name=uniq("lg"))["group"]["id"]
    bob.call("group_join", group=gid)
    conv = ann.call("send", to={"user": bob.uid}, body="first")["msg"]["conv"]
    gconv = ann.call("send", to={"group": gid}, body="g-first")["msg"]["conv"]
    names = (ann.name, bob.name)
    ann_uid, bob_uid = ann.uid, bob.uid
    ann.close()
    bob.close()
    srv.stop()
    for c, to_user, to_group in ((conv, bob_uid, "NULL"),
                                 (gconv, "NULL", gid)):
        db().sql("INSERT INTO messages (conv, seq, sender, to_user, "
                 "to_group, body, ts, ord) SELECT '%s', seq, %d, %s, %s, "
                 "'x', 0, seq FROM seq_2_to_20001"
                 % (c, ann_uid, to_user, to_group), db=dbname(url))
    # A new natterd: its writer knows no seq yet, so it reads them.
    srv = start_natterd(["--store", url])
    ann, bob = Conn(srv), Conn(srv)
    ann.login(names[0])
    bob.login(names[1])
    r = reads_of("a send", lambda: ann.call(
        "send", to={"user": bob_uid}, body="last"))
    check_eq(r["msg"]["seq"], 20002, "the next seq after 20,001")
    reads_of("a group send", lambda: ann.call(
        "send", to={"group": gid}, body="g-last"))
    reads_of("an ack", lambda: bob.call("ack", conv=conv, seq=20001))
    reads_of("an ack", lambda: bob.call("ack", conv=gconv, seq=20002))
    msgs = reads_of("a sync", lambda: bob.call("sync", limit=10))["msgs"]
    check_eq([m["body"] for m in msgs], ["last"], "only the unacked one")
    carl = new_user(srv)
    reads_of("a join", lambda: carl.call("group_join", group=gid))
    check_eq(carl.call("sync", limit=10)["msgs"], [],
             "a new member's cursor is at the end")
    srv.stop()

@test
def test_migration_waits_for_lock():
    """A node that starts while another holds the migration lock waits
    for it (up to an hour: a big table's rebuild takes minutes), then
    migrates."""
    url = db().new_database()
    holder = subprocess.Popen(
        ["mariadb", "--no-defaults", "-S", db().sock, "-uroot", "-N", "-B",
         "-n", "-e", "SELECT GET_LOCK('natter-migrate', 5); SELECT SLEEP(%d)"
         % HOLD_S], stdout=subprocess.PIPE)
    try:
        check_eq(holder.stdout.readline().strip(), b"1", "lock taken")
        t0 = time.monotonic()
        srv = start_natterd(["--store", url])
        waited = time.monotonic() - t0
        check(waited > HOLD_S - 2, "natterd waited %.1f s" % waited)
        check("applied schema 004-conv-seq-key" in srv.log_text())
        new_user(srv)
    finally:
        holder.wait()


if __name__ == "__main__":
    run()
