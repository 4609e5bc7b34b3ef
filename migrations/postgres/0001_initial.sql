-- ptv-sync state store, PostgreSQL flavour. Keep in step with migrations/sqlite/0001_initial.sql:
-- same file names, tables and columns; only the column types differ.
--
-- JSON columns are `json`, not `jsonb`: the stored text (including key order) comes back
-- exactly as written, as it does on SQLite. Enumerations hold their snake_case names; the
-- Rust code is the authority on the allowed values, as on SQLite.

CREATE TABLE items (
    org              TEXT        NOT NULL,
    kind             TEXT        NOT NULL,
    source_id        TEXT        NOT NULL,
    -- PTV sourceId namespace: 'organization' | 'service' | 'channel'; NULL for connections.
    ptv_scope        TEXT,
    ptv_source_id    TEXT        NOT NULL,
    generation       INTEGER     NOT NULL DEFAULT 0 CHECK (generation >= 0),
    ptv_id           TEXT,
    remote           TEXT        NOT NULL,
    fingerprint      TEXT,
    payload          JSON,
    status           TEXT        NOT NULL,
    last_error       JSON,
    attempts         INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    protected        BOOLEAN     NOT NULL DEFAULT FALSE,
    first_pushed_at  TIMESTAMPTZ,
    last_pushed_at   TIMESTAMPTZ,
    last_touched_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org, kind, source_id)
);

-- One PTV sourceId is held by at most one row per organisation and namespace.
CREATE UNIQUE INDEX items_ptv_source_id
    ON items (org, ptv_scope, ptv_source_id)
    WHERE ptv_scope IS NOT NULL;

CREATE TABLE runs (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org          TEXT        NOT NULL,
    trigger      TEXT        NOT NULL,
    actor        TEXT        NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    outcome      TEXT        NOT NULL,
    counts       JSON        NOT NULL DEFAULT '{}',
    dry_run      BOOLEAN     NOT NULL DEFAULT FALSE
);

CREATE INDEX runs_org_id ON runs (org, id);

CREATE TABLE run_items (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    source_id  TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    outcome    TEXT   NOT NULL,
    error      TEXT
);

CREATE INDEX run_items_run_id ON run_items (run_id, id);

-- Append-only, hash-chained per organisation (see src/store/audit.rs).
CREATE TABLE audit (
    seq          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    org          TEXT        NOT NULL,
    actor        TEXT        NOT NULL,
    action       TEXT        NOT NULL,
    kind         TEXT        NOT NULL,
    source_id    TEXT        NOT NULL,
    ptv_id       TEXT,
    http_status  INTEGER     CHECK (http_status IS NULL OR http_status BETWEEN 0 AND 65535),
    body_sha256  TEXT,
    prev_hash    TEXT        NOT NULL,
    hash         TEXT        NOT NULL
);

CREATE INDEX audit_org_seq ON audit (org, seq);
CREATE INDEX audit_at ON audit (at);

-- Entries are never changed; only retention (prune_audit) deletes them.
CREATE FUNCTION audit_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only';
END;
$$;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_no_update();

CREATE TABLE org_state (
    org               TEXT        PRIMARY KEY,
    last_run_id       BIGINT      REFERENCES runs (id) ON DELETE SET NULL,
    last_success_at   TIMESTAMPTZ,
    last_run_at       TIMESTAMPTZ,
    guard_trips       INTEGER     NOT NULL DEFAULT 0 CHECK (guard_trips >= 0),
    token_expires_at  TIMESTAMPTZ,
    next_run_at       TIMESTAMPTZ
);
