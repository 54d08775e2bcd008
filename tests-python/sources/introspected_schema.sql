-- The application's tables exactly as its open change introspects them from
-- the hosted database: "DashboardFact" mapped to dashboard_fact (as in
-- snake_case_schema.sql), and "DecisionLog" under its own name with
-- snake_case columns, task-tracking columns, and no shop_domain or
-- external_ref at all. The job cannot compute its facts from it: the tests
-- check that the preflight says which columns are missing and what needs them.

CREATE TABLE dashboard_fact (
    id           SERIAL PRIMARY KEY,
    shop_domain  TEXT NOT NULL,
    fact_type    TEXT NOT NULL,
    scope        TEXT,
    value        JSONB,
    metadata     JSONB,
    evidence_url TEXT,
    created_at   TIMESTAMPTZ(6) DEFAULT now(),
    updated_at   TIMESTAMPTZ(6) DEFAULT now()
);
CREATE INDEX dashboard_fact_shop_domain_fact_type_idx ON dashboard_fact (shop_domain, fact_type);
CREATE INDEX dashboard_fact_created_at_idx ON dashboard_fact (created_at);

CREATE TABLE "DecisionLog" (
    id           SERIAL PRIMARY KEY,
    scope        TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    rationale    TEXT,
    evidence_url TEXT,
    payload      JSONB,
    task_id      TEXT,
    status       TEXT,
    progress_pct INTEGER,
    due_date     TIMESTAMPTZ(6),
    created_at   TIMESTAMPTZ(6) DEFAULT now(),
    updated_at   TIMESTAMPTZ(6) DEFAULT now()
);
