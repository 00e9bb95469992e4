-- natter schema, version 1 (SQLite). Times are ms since the epoch.
-- Names compare byte-wise (BINARY collation): unique and case-sensitive.

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	pwhash TEXT NOT NULL,
	created INTEGER NOT NULL
);

-- Friendship is mutual: two rows, (a, b) and (b, a).
CREATE TABLE friendships (
	user_id INTEGER NOT NULL REFERENCES users(id),
	friend_id INTEGER NOT NULL REFERENCES users(id),
	created INTEGER NOT NULL,
	PRIMARY KEY (user_id, friend_id)
) WITHOUT ROWID;

-- "groups" is reserved in MySQL 8, hence chat_groups in every dialect.
CREATE TABLE chat_groups (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	descr TEXT NOT NULL DEFAULT '',
	creator INTEGER REFERENCES users(id),
	created INTEGER NOT NULL
);

-- role: 0 member, 1 creator.
CREATE TABLE group_members (
	group_id INTEGER NOT NULL REFERENCES chat_groups(id),
	user_id INTEGER NOT NULL REFERENCES users(id),
	role INTEGER NOT NULL DEFAULT 0,
	joined INTEGER NOT NULL,
	PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members(user_id);

-- id is "d:<low>:<high>" or "g:<group>"; last_seq is the newest seq.
CREATE TABLE conversations (
	id TEXT PRIMARY KEY,
	last_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Who is in which conversation, with the highest seq they acked.
CREATE TABLE conv_members (
	user_id INTEGER NOT NULL REFERENCES users(id),
	conv TEXT NOT NULL REFERENCES conversations(id),
	acked INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, conv)
) WITHOUT ROWID;

-- id is the global commit order (writers serialize on BEGIN IMMEDIATE).
CREATE TABLE messages (
	id INTEGER PRIMARY KEY,
	conv TEXT NOT NULL REFERENCES conversations(id),
	seq INTEGER NOT NULL,
	sender INTEGER NOT NULL REFERENCES users(id),
	to_user INTEGER,
	to_group INTEGER,
	body TEXT NOT NULL,
	ts INTEGER NOT NULL,
	cmid TEXT,
	UNIQUE (conv, seq),
	UNIQUE (sender, cmid)
);
