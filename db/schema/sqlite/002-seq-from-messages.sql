-- natter schema, version 2 (SQLite): a conversation's newest seq is the
-- largest seq of its messages, read from the (conv, seq) key in one seek.
-- A counter in conversations cost the writer an UPSERT and a SELECT per
-- message (a fifth of natterd's CPU in the relay benchmark). Messages are
-- never deleted, so the largest seq never goes back.
ALTER TABLE conversations DROP COLUMN last_seq;
