-- Orders as they are now (one row per order). Every change is also an order_events row.
CREATE TABLE IF NOT EXISTS orders (
    tenant_id               text        NOT NULL,
    order_id                text        NOT NULL CHECK (octet_length(order_id) BETWEEN 1 AND 128),
    region_id               text        NOT NULL,
    kitchen_id              text        NOT NULL CHECK (octet_length(kitchen_id) BETWEEN 1 AND 128),
    placed_at               timestamptz NOT NULL,
    pickup_lat              double precision NOT NULL CHECK (pickup_lat BETWEEN -90 AND 90),
    pickup_lng              double precision NOT NULL CHECK (pickup_lng BETWEEN -180 AND 180),
    pickup_address          text        NOT NULL DEFAULT '',
    pickup_instructions     text        NOT NULL DEFAULT '',
    ready_at                timestamptz NOT NULL,
    ready_revision          bigint      NOT NULL DEFAULT 0,
    pickup_service_s        integer     NOT NULL CHECK (pickup_service_s >= 0),
    dropoff_lat             double precision NOT NULL CHECK (dropoff_lat BETWEEN -90 AND 90),
    dropoff_lng             double precision NOT NULL CHECK (dropoff_lng BETWEEN -180 AND 180),
    dropoff_address         text        NOT NULL DEFAULT '',
    dropoff_instructions    text        NOT NULL DEFAULT '',
    promised_start          timestamptz NOT NULL,
    promised_end            timestamptz NOT NULL,
    dropoff_service_s       integer     NOT NULL CHECK (dropoff_service_s >= 0),
    weight_g                integer     NOT NULL CHECK (weight_g >= 0),
    volume_ml               integer     NOT NULL CHECK (volume_ml >= 0),
    allowed_vehicles        text[]      NOT NULL DEFAULT '{}',
    required_equipment      text[]      NOT NULL DEFAULT '{}',
    hard_window             boolean     NOT NULL DEFAULT false,
    state                   text        NOT NULL DEFAULT 'placed'
                                        CHECK (state IN ('placed', 'offered', 'accepted', 'picked_up',
                                                         'delivered', 'cancelled', 'failed')),
    courier_id              text,
    pinned                  boolean     NOT NULL DEFAULT false,
    held                    boolean     NOT NULL DEFAULT false,
    held_until              timestamptz,
    unassigned_reason       text,
    state_changed_at        timestamptz NOT NULL DEFAULT now(),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id),
    FOREIGN KEY (tenant_id, region_id) REFERENCES regions (tenant_id, region_id),
    CHECK (promised_end >= promised_start),
    CHECK (NOT pinned OR courier_id IS NOT NULL)
);

-- Start-up rebuild of the world state: the open orders of a region. Partial, so it stays small while
-- delivered orders pile up.
CREATE INDEX IF NOT EXISTS orders_open_idx
    ON orders (tenant_id, region_id)
    WHERE state IN ('placed', 'offered', 'accepted', 'picked_up');

-- A kitchen's pickup ETA stream starts from its open orders.
CREATE INDEX IF NOT EXISTS orders_kitchen_open_idx
    ON orders (tenant_id, kitchen_id)
    WHERE state IN ('placed', 'offered', 'accepted', 'picked_up');

-- A courier's current work, for support and for rebuilding assignments.
CREATE INDEX IF NOT EXISTS orders_courier_open_idx
    ON orders (tenant_id, courier_id)
    WHERE courier_id IS NOT NULL AND state IN ('offered', 'accepted', 'picked_up');
