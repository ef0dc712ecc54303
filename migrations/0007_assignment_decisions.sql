-- Every planning decision about every order: which courier, when, and why. Support reads the latest
-- to explain where an order is; analytics reads them all.
CREATE TABLE IF NOT EXISTS assignment_decisions (
    tenant_id               text             NOT NULL,
    region_id               text             NOT NULL,
    decision_id             text             NOT NULL,
    order_id                text             NOT NULL,
    decided_at              timestamptz      NOT NULL,
    plan_version            bigint           NOT NULL,
    courier_id              text,
    previous_courier_id     text,
    unassigned_reason       text,
    reason_code             text             NOT NULL,
    pickup_eta              timestamptz,
    dropoff_eta             timestamptz,
    expected_lateness_s     integer          NOT NULL DEFAULT 0,
    cost_delta              double precision NOT NULL DEFAULT 0,
    detail                  text             NOT NULL DEFAULT ''
);

SELECT create_hypertable(
    'assignment_decisions',
    by_range('decided_at', INTERVAL '1 day'),
    create_default_indexes => false,
    if_not_exists => true
);

-- The decisions for one order, newest first (ExplainOrder reads the first row).
CREATE UNIQUE INDEX IF NOT EXISTS assignment_decisions_order_idx
    ON assignment_decisions (tenant_id, order_id, decided_at DESC, decision_id);

-- One planning round's decisions, for replaying what the planner did in a region.
CREATE INDEX IF NOT EXISTS assignment_decisions_region_time_idx
    ON assignment_decisions (tenant_id, region_id, decided_at DESC);
