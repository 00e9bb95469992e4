-- natter schema, version 4 (SQLite): a counter that every removal of a
-- friendship bumps, by a trigger, so whatever deletes the row does (as
-- MariaDB's version 2, which natterd bumps itself). The writer keeps the
-- friendships its sends found across batches and, instead of reading the
-- pair again for every message (a twelfth of what storing one cost), reads
-- this row once a batch, and not even that while no other connection has
-- committed (store-sqlite.c).
CREATE TABLE social_epoch (
	id INTEGER PRIMARY KEY,
	n INTEGER NOT NULL
);
INSERT INTO social_epoch (id, n) VALUES (1, 0);
CREATE TRIGGER friendships_gone AFTER DELETE ON friendships
BEGIN
	UPDATE social_epoch SET n = n + 1 WHERE id = 1;
END;
