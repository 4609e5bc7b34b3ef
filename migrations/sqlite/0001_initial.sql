-- ptv-sync state store, SQLite flavour. Keep in step with migrations/postgres/0001_initial.sql:
-- same file names, tables and columns; only the column types differ.
--
-- Timestamps are TEXT in RFC 3339 UTC with exactly six fractional digits
-- ("2026-11-22T04:05:06.123456Z"), so text order is time order.
-- JSON columns hold JSON text. Enumerations hold their snake_case names; the Rust code is
-- the authority on the allowed values (no CHECK lists, which SQLite cannot alter in place).

CREATE TABLE items (
    org              TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    source_id        TEXT    NOT NULL,
    -- PTV sourceId namespace: 'organization' | 'service' | 'channel'; NULL for connections.
    ptv_scope        TEXT,
    ptv_source_id    TEXT    NOT NULL,
    generation       INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0),
    ptv_id           TEXT,
    remote           TEXT    NOT NULL,
    fingerprint      TEXT,
    payload          TEXT    CHECK (payload IS NULL OR json_valid(payload)),
    status           TEXT    NOT NULL,
    last_error       TEXT    CHECK (last_error IS NULL OR json_valid(last_error)),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    protected        INTEGER NOT NULL DEFAULT 0 CHECK (protected IN (0, 1)),
    first_pushed_at  TEXT,
    last_pushed_at   TEXT,
    last_touched_at  TEXT    NOT NULL,
    PRIMARY KEY (org, kind, source_id)
);

-- One PTV sourceId is held by at most one row per organisation and namespace.
CREATE UNIQUE INDEX items_ptv_source_id
    ON items (org, ptv_scope, ptv_source_id)
    WHERE ptv_scope IS NOT NULL;

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    org          TEXT    NOT NULL,
    trigger      TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    started_at   TEXT    NOT NULL,
    finished_at  TEXT,
    outcome      TEXT    NOT NULL,
    counts       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(counts)),
    dry_run      INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1))
);

CREATE INDEX runs_org_id ON runs (org, id);

CREATE TABLE run_items (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    error      TEXT
);

CREATE INDEX run_items_run_id ON run_items (run_id, id);

-- Append-only, hash-chained per organisation (see src/store/audit.rs).
CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT    NOT NULL,
    org          TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    source_id    TEXT    NOT NULL,
    ptv_id       TEXT,
    http_status  INTEGER CHECK (http_status IS NULL OR http_status BETWEEN 0 AND 65535),
    body_sha256  TEXT,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
);

CREATE INDEX audit_org_seq ON audit (org, seq);
CREATE INDEX audit_at ON audit (at);

-- Entries are never changed; only retention (prune_audit) deletes them.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;

CREATE TABLE org_state (
    org               TEXT    PRIMARY KEY NOT NULL,
    last_run_id       INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    last_success_at   TEXT,
    last_run_at       TEXT,
    guard_trips       INTEGER NOT NULL DEFAULT 0 CHECK (guard_trips >= 0),
    token_expires_at  TEXT,
    next_run_at       TEXT
);
