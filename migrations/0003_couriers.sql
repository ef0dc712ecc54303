-- Couriers as they are now. Their history lives in courier_positions and order_events.
CREATE TABLE IF NOT EXISTS couriers (
    tenant_id           text        NOT NULL,
    courier_id          text        NOT NULL CHECK (octet_length(courier_id) BETWEEN 1 AND 128),
    region_id           text        NOT NULL,
    vehicle             text        NOT NULL CHECK (vehicle IN ('car', 'bicycle', 'scooter', 'foot')),
    capacity_weight_g   integer     NOT NULL CHECK (capacity_weight_g >= 0),
    capacity_volume_ml  integer     NOT NULL CHECK (capacity_volume_ml >= 0),
    equipment           text[]      NOT NULL DEFAULT '{}',
    status              text        NOT NULL DEFAULT 'off_shift'
                                    CHECK (status IN ('on_shift', 'paused', 'off_shift')),
    shift_end           timestamptz,
    last_lat            double precision,
    last_lng            double precision,
    last_fix_at         timestamptz,
    -- Highest message seq from the courier's app whose effect is durable (see courier.proto).
    last_durable_seq    bigint      NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, courier_id),
    FOREIGN KEY (tenant_id, region_id) REFERENCES regions (tenant_id, region_id)
);

-- Start-up rebuild of the world state: couriers on shift in a region.
CREATE INDEX IF NOT EXISTS couriers_working_idx
    ON couriers (tenant_id, region_id)
    WHERE status <> 'off_shift';
