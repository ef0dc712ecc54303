-- Every transition and revision of every order, with who did it and why.
CREATE TABLE IF NOT EXISTS order_events (
    tenant_id       text        NOT NULL,
    region_id       text        NOT NULL,
    order_id        text        NOT NULL,
    event_id        text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    kind            text        NOT NULL,
    from_state      text,
    to_state        text,
    courier_id      text,
    -- "planner", "courier:<id>", "kitchen:<id>", "support:<operator>", "system".
    actor           text        NOT NULL,
    reason          text        NOT NULL DEFAULT '',
    -- For ready-time revisions: the new ready time.
    ready_at        timestamptz,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);

SELECT create_hypertable(
    'order_events',
    by_range('occurred_at', INTERVAL '1 day'),
    create_default_indexes => false,
    if_not_exists => true
);

-- An order's history, oldest first; unique so a re-applied event is a no-op.
CREATE UNIQUE INDEX IF NOT EXISTS order_events_order_idx
    ON order_events (tenant_id, order_id, occurred_at, event_id);

-- Time-bucketed summaries per region (events per hour, cancellations per day).
CREATE INDEX IF NOT EXISTS order_events_region_time_idx
    ON order_events (tenant_id, region_id, occurred_at DESC);
