-- natter schema, version 2 (MariaDB/MySQL): a counter that every removal
-- of a friendship bumps in its own transaction. The group-commit writer
-- keeps the friendships it has read across batches and, instead of
-- reading them again for every batch (planning that read was a quarter of
-- the database's CPU at 20k messages/s), reads this one row: while it
-- holds, no friendship it knows of is gone.
CREATE TABLE IF NOT EXISTS social_epoch (
	id TINYINT NOT NULL PRIMARY KEY,
	n BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO social_epoch (id, n) VALUES (1, 0);
