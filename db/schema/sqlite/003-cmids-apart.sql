-- natter schema, version 3 (SQLite): a sender's cmids are found through
-- msg_cmids, which the writer fills a sender at a time, instead of a
-- UNIQUE (sender, cmid) key on messages. That key dirtied a page of its
-- own for nearly every message (a leaf per sender per group commit), half
-- of what each message wrote to the WAL; written 32 a sender at a time,
-- msg_cmids costs a page per ~30 messages. Every message up to
-- msg_cmids_floor.id has its cmid in msg_cmids; the writer reads those of
-- later messages back from messages (store-sqlite.c, cmidtab.h).
-- SQLite cannot drop a table constraint: messages is built again.
CREATE TABLE messages_v3 (
	id INTEGER PRIMARY KEY,
	conv TEXT NOT NULL REFERENCES conversations(id),
	seq INTEGER NOT NULL,
	sender INTEGER NOT NULL REFERENCES users(id),
	to_user INTEGER,
	to_group INTEGER,
	body TEXT NOT NULL,
	ts INTEGER NOT NULL,
	cmid TEXT,
	UNIQUE (conv, seq)
);
INSERT INTO messages_v3(id, conv, seq, sender, to_user, to_group, body, ts,
                        cmid)
	SELECT id, conv, seq, sender, to_user, to_group, body, ts, cmid
	FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v3 RENAME TO messages;

CREATE TABLE msg_cmids (
	sender INTEGER NOT NULL,
	cmid TEXT NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (sender, cmid)
) WITHOUT ROWID;
INSERT INTO msg_cmids(sender, cmid, id)
	SELECT sender, cmid, id FROM messages WHERE cmid IS NOT NULL;

CREATE TABLE msg_cmids_floor (
	id INTEGER NOT NULL
);
INSERT INTO msg_cmids_floor(id) SELECT COALESCE(MAX(id), 0) FROM messages;
