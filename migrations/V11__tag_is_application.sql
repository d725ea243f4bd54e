-- The 0.17 clients mark tags that name an application (`is_application`).
ALTER TABLE tags ADD COLUMN is_application INTEGER NOT NULL DEFAULT 0 CHECK (is_application IN (0, 1));
