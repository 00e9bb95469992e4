-- natter schema, version 1 (MariaDB/MySQL, InnoDB). Times are ms since the
-- epoch. The same tables and versions as schema/sqlite/.
-- Text is utf8mb4; names use utf8mb4_bin, so they are unique and compare
-- case-sensitively, code point by code point (names hold no spaces, so
-- PAD SPACE never matters). cmid is VARBINARY: byte-exact, trailing
-- spaces included. IF NOT EXISTS: DDL commits on its own in MySQL, so a
-- migration interrupted half-way must be able to run again.

CREATE TABLE IF NOT EXISTS users (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	pwhash VARCHAR(255) NOT NULL,
	created BIGINT NOT NULL,
	UNIQUE KEY users_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Friendship is mutual: two rows, (a, b) and (b, a).
CREATE TABLE IF NOT EXISTS friendships (
	user_id BIGINT NOT NULL,
	friend_id BIGINT NOT NULL,
	created BIGINT NOT NULL,
	PRIMARY KEY (user_id, friend_id),
	CONSTRAINT friendships_user FOREIGN KEY (user_id) REFERENCES users(id),
	CONSTRAINT friendships_friend FOREIGN KEY (friend_id)
	    REFERENCES users(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- "groups" is reserved in MySQL 8, hence chat_groups in every dialect.
CREATE TABLE IF NOT EXISTS chat_groups (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	descr VARCHAR(1024) NOT NULL DEFAULT '',
	creator BIGINT NULL,
	created BIGINT NOT NULL,
	UNIQUE KEY chat_groups_name (name),
	CONSTRAINT chat_groups_creator FOREIGN KEY (creator) REFERENCES users(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- role: 0 member, 1 creator.
CREATE TABLE IF NOT EXISTS group_members (
	group_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	role INT NOT NULL DEFAULT 0,
	joined BIGINT NOT NULL,
	PRIMARY KEY (group_id, user_id),
	KEY group_members_user (user_id),
	CONSTRAINT group_members_group FOREIGN KEY (group_id)
	    REFERENCES chat_groups(id),
	CONSTRAINT group_members_member FOREIGN KEY (user_id)
	    REFERENCES users(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- id is "d:<low>:<high>" or "g:<group>"; last_seq is the newest seq. A
-- writer allocates a seq by updating this row, so writers to one
-- conversation serialize on its row lock until they commit.
CREATE TABLE IF NOT EXISTS conversations (
	id VARCHAR(48) NOT NULL PRIMARY KEY,
	last_seq BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Who is in which conversation, with the highest seq they acked.
CREATE TABLE IF NOT EXISTS conv_members (
	user_id BIGINT NOT NULL,
	conv VARCHAR(48) NOT NULL,
	acked BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, conv),
	KEY conv_members_conv (conv),
	CONSTRAINT conv_members_user FOREIGN KEY (user_id) REFERENCES users(id),
	CONSTRAINT conv_members_conv FOREIGN KEY (conv)
	    REFERENCES conversations(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- (conv, seq) is the index sync and history read: a range above a cursor
-- or below a seq. Within a conversation id order is seq order (the seq is
-- taken under the conversation's row lock, before the insert).
CREATE TABLE IF NOT EXISTS messages (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	conv VARCHAR(48) NOT NULL,
	seq BIGINT NOT NULL,
	sender BIGINT NOT NULL,
	to_user BIGINT NULL,
	to_group BIGINT NULL,
	body TEXT NOT NULL,
	ts BIGINT NOT NULL,
	cmid VARBINARY(128) NULL,
	UNIQUE KEY messages_conv_seq (conv, seq),
	UNIQUE KEY messages_sender_cmid (sender, cmid),
	CONSTRAINT messages_conv FOREIGN KEY (conv) REFERENCES conversations(id),
	CONSTRAINT messages_sender FOREIGN KEY (sender) REFERENCES users(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
