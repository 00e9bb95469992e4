-- natter schema, version 3 (MariaDB/MySQL): a second counter in
-- social_epoch, row 2, that every join and leave of a group bumps in its
-- own transaction. The group-commit writer keeps the member lists of the
-- groups it has sent to (they are the recipients too) and, instead of
-- reading them again for every batch, reads this one row: while it holds,
-- no group's members have changed. A group's creation needs no bump: only
-- groups with members are kept.
INSERT IGNORE INTO social_epoch (id, n) VALUES (2, 0);
