//! The gRPC clients of the input tests (fuzz and hostile), made in one place: how a caller
//! connects and which token it sends is decided here and nowhere else.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this module.

use std::{net::SocketAddr, time::Duration};

use dispatcher::auth::{Bearer, BearerChannel, Issuer, Role, Secret, TokenSettings};
use proto::dispatch::v1::{
    courier_service_client::CourierServiceClient, kitchen_service_client::KitchenServiceClient,
    support_service_client::SupportServiceClient,
};
use tonic::transport::{Channel, Endpoint};

/// The shared secret the input tests' services verify tokens with.
const SECRET: &[u8] = b"the input tests' shared token secret, 32+ bytes";

/// The token settings to give a service the input tests call.
pub fn token_settings() -> TokenSettings {
    TokenSettings::shared_secret(Secret::new(SECRET).expect("a long enough secret"))
}

/// A bearer token of `tenant` in `role` for `subject`.
fn token(tenant: &str, role: Role, subject: &str) -> Bearer {
    let minted = Issuer::new(&token_settings())
        .expect("an issuer")
        .mint(tenant, role, subject, Duration::from_secs(3600))
        .expect("a token");
    Bearer::new(&minted).expect("a bearer header")
}

/// The subject of the admin token the kitchen and support clients send; overrides must name it
/// as their operator.
pub const ADMIN: &str = "input-tests";

/// One client of each service on one channel. Kitchen and support calls go with an admin token of
/// the tenant, so that every request reaches the checks of its fields rather than stopping at
/// "not your kitchen"; courier sessions go as the courier they open.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The kitchen planning system's service.
    pub kitchen: KitchenServiceClient<BearerChannel>,
    /// The support tooling's service.
    pub support: SupportServiceClient<BearerChannel>,
    channel: Channel,
    tenant: String,
}

impl Clients {
    /// Connects to the service at `addr`, as callers of `tenant`.
    pub async fn connect(addr: SocketAddr, tenant: &str) -> Clients {
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .expect("a valid endpoint")
            .connect()
            .await
            .expect("connect to grpc");
        let admin = token(tenant, Role::Admin, ADMIN);
        Clients {
            // The server refuses what it will not decode; the client must not refuse to send it.
            kitchen: KitchenServiceClient::with_interceptor(channel.clone(), admin.clone())
                .max_encoding_message_size(usize::MAX),
            support: SupportServiceClient::with_interceptor(channel.clone(), admin),
            channel,
            tenant: tenant.to_owned(),
        }
    }

    /// A courier client that speaks as `courier_id` of the tenant.
    pub fn courier(&self, courier_id: &str) -> CourierServiceClient<BearerChannel> {
        CourierServiceClient::with_interceptor(
            self.channel.clone(),
            token(&self.tenant, Role::Courier, courier_id),
        )
        .max_encoding_message_size(usize::MAX)
    }
}
