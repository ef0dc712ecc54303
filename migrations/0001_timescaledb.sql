-- TimescaleDB provides the hypertables for tracks, order events and decisions.
-- Only Apache-licensed features are used anywhere in these migrations (no compression, continuous
-- aggregates or policies): the build this project runs against has no TSL module.
CREATE EXTENSION IF NOT EXISTS timescaledb;
