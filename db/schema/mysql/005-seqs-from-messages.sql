-- natter schema, version 5 (MariaDB/MySQL): a conversation's last seq is
-- the end of its range of the messages table's key (conv, seq), no longer
-- a counter in conversations. Upserting that counter in every batch took
-- a sixth of mariadbd's time at 20k msg/s and held a lock on the
-- conversation's row until the commit; the key already refuses a seq
-- taken twice (store-mysql.c says how writers take seqs now). The column
-- goes, so that nothing reads a counter no one keeps, and so that a node
-- of an older natterd still running against this database fails its
-- sends loudly (and refuses to start again) instead of taking stale seqs.
-- It runs only while the column exists: a node stopped between this and
-- schema_version's row runs it again harmlessly.
SET @natter_step = (SELECT IF(COUNT(*) = 0, 'DO 0',
	'ALTER TABLE conversations DROP COLUMN last_seq')
	FROM information_schema.columns WHERE table_schema = DATABASE()
	AND table_name = 'conversations' AND column_name = 'last_seq');
PREPARE natter_step FROM @natter_step;
EXECUTE natter_step;
DEALLOCATE PREPARE natter_step;
