-- Tenants (delivery companies) and their regions (the unit of planning and of scale-out).
-- Ids are opaque strings chosen by the tenant's own systems; the service never rewrites them.
CREATE TABLE IF NOT EXISTS tenants (
    tenant_id   text        PRIMARY KEY CHECK (octet_length(tenant_id) BETWEEN 1 AND 128),
    name        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS regions (
    tenant_id   text        NOT NULL REFERENCES tenants (tenant_id),
    region_id   text        NOT NULL CHECK (octet_length(region_id) BETWEEN 1 AND 128),
    name        text        NOT NULL DEFAULT '',
    -- IANA time zone, for reports by local hour; all stored times are UTC regardless.
    time_zone   text        NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, region_id)
);
