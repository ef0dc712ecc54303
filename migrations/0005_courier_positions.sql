-- Courier tracks: the highest-volume table. Written only with binary COPY in batches.
CREATE TABLE IF NOT EXISTS courier_positions (
    tenant_id       text             NOT NULL,
    region_id       text             NOT NULL,
    courier_id      text             NOT NULL,
    -- GPS time of the fix, UTC: the hypertable's time dimension.
    recorded_at     timestamptz      NOT NULL,
    lat             double precision NOT NULL,
    lng             double precision NOT NULL,
    -- Metres; 0 if unknown.
    accuracy_m      real             NOT NULL DEFAULT 0,
    -- Metres per second; negative if unknown.
    speed_mps       real             NOT NULL DEFAULT -1,
    -- Degrees clockwise from north; negative if unknown.
    heading_deg     real             NOT NULL DEFAULT -1
);

-- Six-hour chunks keep each chunk's index small enough to stay in memory at city scale, and let
-- retention drop whole chunks. No default (recorded_at) index: nothing queries all couriers by time
-- alone, and every extra index halves the COPY rate.
SELECT create_hypertable(
    'courier_positions',
    by_range('recorded_at', INTERVAL '6 hours'),
    create_default_indexes => false,
    if_not_exists => true
);

-- Serves a courier's track between two times, and makes a redelivered fix a no-op
-- (INSERT ... ON CONFLICT DO NOTHING): one index for both keeps ingest fast.
CREATE UNIQUE INDEX IF NOT EXISTS courier_positions_track_idx
    ON courier_positions (tenant_id, courier_id, recorded_at);
