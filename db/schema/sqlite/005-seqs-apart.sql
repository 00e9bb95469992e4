-- natter schema, version 5 (SQLite): a conversation's messages are found
-- by seq through msg_seqs, which the writer fills many messages at a time,
-- instead of a UNIQUE (conv, seq) key on messages. That key dirtied a page
-- for nearly every message (each send of a group commit lands in its own
-- conversation's leaf): 60 % of what a message wrote to the WAL. Written a
-- thousand messages at a time, a conversation's new rows share a leaf.
-- Every message up to msg_seqs_floor.id is in msg_seqs; later ones are
-- found by a scan of the rowid range after it (store-sqlite.c).
-- SQLite cannot drop a table constraint: messages is built again.
CREATE TABLE messages_v5 (
	id INTEGER PRIMARY KEY,
	conv TEXT NOT NULL REFERENCES conversations(id),
	seq INTEGER NOT NULL,
	sender INTEGER NOT NULL REFERENCES users(id),
	to_user INTEGER,
	to_group INTEGER,
	body TEXT NOT NULL,
	ts INTEGER NOT NULL,
	cmid TEXT
);
INSERT INTO messages_v5(id, conv, seq, sender, to_user, to_group, body, ts,
                        cmid)
	SELECT id, conv, seq, sender, to_user, to_group, body, ts, cmid
	FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v5 RENAME TO messages;

CREATE TABLE msg_seqs (
	conv TEXT NOT NULL,
	seq INTEGER NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (conv, seq)
) WITHOUT ROWID;
INSERT INTO msg_seqs(conv, seq, id) SELECT conv, seq, id FROM messages;

CREATE TABLE msg_seqs_floor (
	id INTEGER NOT NULL
);
INSERT INTO msg_seqs_floor(id) SELECT COALESCE(MAX(id), 0) FROM messages;
