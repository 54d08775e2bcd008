-- The two source tables as the schema introspected from the application's
-- hosted database maps them (`@@map`, `@map`): snake_case names, timestamptz
-- columns defaulting to now(), and `value` and `created_at` nullable. The
-- tests create it to run the job under NIGHTLY_METRICS_SOURCE_NAMING=snake_case.

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

CREATE TABLE decision_log (
    id           SERIAL PRIMARY KEY,
    scope        TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    rationale    TEXT,
    evidence_url TEXT,
    shop_domain  TEXT,
    external_ref TEXT,
    payload      JSONB,
    created_at   TIMESTAMPTZ(6) DEFAULT now()
);
CREATE INDEX decision_log_scope_created_at_idx ON decision_log (scope, created_at);
