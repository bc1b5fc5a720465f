-- 0003_bans_manual: whether a ban was set by an operator (`sipwarden ban
-- add`, 1) or by the guard after failed authentications (0).
ALTER TABLE bans ADD COLUMN manual INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1));
