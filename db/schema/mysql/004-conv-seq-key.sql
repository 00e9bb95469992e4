-- natter schema, version 4 (MariaDB/MySQL): messages clustered by
-- (conv, seq). Each insert then updates two B-trees instead of three,
-- and the rows that sync and history read sit together: a row costs
-- mariadbd 0.84x (tests/bench/db-cost, seq-key against no-fk; the writer
-- has foreign key checks off). The foreign keys stay, on the primary
-- key's prefix. id, which sync ordered by, becomes ord, without an
-- index: the order sync returns messages in (store-mysql.c, syncorder.h).
-- Old rows keep their ids there; new ones get the storing node's clock
-- in microseconds, far above any id, so they sort after the old.
-- One ALTER, which MariaDB 10.6+ and MySQL 8 apply whole or not at all,
-- rebuilding the table: some 4 s a million messages. It runs only while
-- the table still has its id column, so that a node stopped between it
-- and schema_version's row can run it again.
SET @natter_step = (SELECT IF(COUNT(*) = 0, 'DO 0',
	'ALTER TABLE messages CHANGE id ord BIGINT NOT NULL, '
	'DROP PRIMARY KEY, DROP KEY messages_conv_seq, '
	'ADD PRIMARY KEY (conv, seq)')
	FROM information_schema.columns WHERE table_schema = DATABASE()
	AND table_name = 'messages' AND column_name = 'id');
PREPARE natter_step FROM @natter_step;
EXECUTE natter_step;
DEALLOCATE PREPARE natter_step;
