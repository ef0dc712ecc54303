//! Where the tenant of an inbound RabbitMQ message is vouched for.
//!
//! An envelope names its tenant in `scope.tenant_id`, but anyone who may publish to the exchange
//! can write any tenant there. The consumer therefore checks it against something the broker
//! itself enforces, chosen by `BUS_TENANT_SOURCE`:
//!
//! - `routing-key` (the default): the envelope's tenant must be the first word of the routing key.
//!   This is authentication only if the broker's topic permissions limit each tenant's broker user
//!   to its own keys, e.g. `rabbitmqctl set_topic_permissions -p / acme-kitchen dispatch.orders
//!   '^acme\.' '^$'` (and the same for `dispatch.positions`); without them any user can publish
//!   any key.
//! - `user-id`: the message must carry the AMQP `user_id` property, which RabbitMQ refuses unless it
//!   equals the publishing connection's user name, and that name must belong to the tenant: its
//!   first dot-separated word must be the tenant id as written in routing keys (percent-encoded,
//!   see [`super::routing::encode_word`]). So broker user `acme` or `acme.kitchen-7` publishes for
//!   tenant `acme`, and since an encoded word never holds a dot, no user name can pass for two
//!   tenants.

use std::{fmt, str::FromStr};

use super::routing::encode_word;

/// How the consumer authenticates the tenant of an inbound message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TenantSource {
    /// The routing key's tenant word, restricted per broker user by topic permissions.
    #[default]
    RoutingKey,
    /// The AMQP `user_id` property, verified by the broker against the connection's user.
    UserId,
}

impl TenantSource {
    /// Every source, as named in the configuration.
    pub const ALL: [TenantSource; 2] = [TenantSource::RoutingKey, TenantSource::UserId];

    /// The name used in the configuration: `routing-key` or `user-id`.
    pub fn name(self) -> &'static str {
        match self {
            TenantSource::RoutingKey => "routing-key",
            TenantSource::UserId => "user-id",
        }
    }
}

impl fmt::Display for TenantSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`TenantSource`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a tenant source (routing-key or user-id)")]
pub struct UnknownTenantSource(pub String);

impl FromStr for TenantSource {
    type Err = UnknownTenantSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|source| source.name() == s)
            .ok_or_else(|| UnknownTenantSource(s.to_owned()))
    }
}

/// True if the broker user `user_id` may publish for `tenant_id` under the `user-id` rule: the
/// user's first dot-separated word is the tenant's encoded routing-key word.
pub fn user_belongs_to_tenant(user_id: &str, tenant_id: &str) -> bool {
    let first_word = user_id.split('.').next().unwrap_or_default();
    !tenant_id.is_empty() && first_word == encode_word(tenant_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for source in TenantSource::ALL {
            assert_eq!(source.name().parse::<TenantSource>(), Ok(source));
        }
        assert_eq!(TenantSource::default(), TenantSource::RoutingKey);
        assert!("user_id".parse::<TenantSource>().is_err());
    }

    #[test]
    fn a_user_belongs_to_the_tenant_of_its_first_word() {
        assert!(user_belongs_to_tenant("acme", "acme"));
        assert!(user_belongs_to_tenant("acme.kitchen-7", "acme"));
        assert!(!user_belongs_to_tenant("guest", "acme"));
        assert!(!user_belongs_to_tenant("acmex", "acme"));
        assert!(!user_belongs_to_tenant("acme", "acme.x"));
        assert!(!user_belongs_to_tenant("", ""));
        // A tenant id with a dot is written encoded, so it cannot be mistaken for "acme".
        assert!(user_belongs_to_tenant("acme%2Ex.k", "acme.x"));
        assert!(!user_belongs_to_tenant("acme%2Ex.k", "acme"));
    }
}
