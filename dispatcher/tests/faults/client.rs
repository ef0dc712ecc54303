//! Every gRPC client of the fault tests is made here, so that what each call carries (credentials
//! included) is decided in one place.

use std::{net::SocketAddr, time::Duration};

use dispatcher::auth::{Bearer, BearerChannel, Issuer, Role, Secret, TokenSettings};
use proto::dispatch::v1::{
    courier_service_client::CourierServiceClient, kitchen_service_client::KitchenServiceClient,
};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;

/// The shared secret the dispatcher under test verifies tokens with (its `AUTH_JWT_SECRET`).
pub(crate) const SECRET: &str = "the fault tests' shared token secret, 32+ bytes";

/// How long opening a connection may take before the client backs off and tries again.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A new connection to the service. Clients open a fresh one after a failure, as an app would.
pub(crate) async fn channel(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("a loopback address is a valid uri")
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .connect()
        .await
}

/// A token for `subject` in `role` of `tenant`, valid longer than any test runs.
fn token(tenant: &str, role: Role, subject: &str) -> Bearer {
    let settings = TokenSettings::shared_secret(Secret::new(SECRET).expect("a long secret"));
    let minted = Issuer::new(&settings)
        .and_then(|issuer| issuer.mint(tenant, role, subject, Duration::from_secs(3600)))
        .expect("mint a token");
    Bearer::new(&minted).expect("a token is valid metadata")
}

/// The courier app's client, speaking as `courier_id` of `tenant`.
pub(crate) fn courier(
    channel: Channel,
    tenant: &str,
    courier_id: &str,
) -> CourierServiceClient<BearerChannel> {
    CourierServiceClient::with_interceptor(channel, token(tenant, Role::Courier, courier_id))
}

/// The kitchen planning system's client, speaking as `kitchen_id` of `tenant`.
pub(crate) fn kitchen(
    channel: Channel,
    tenant: &str,
    kitchen_id: &str,
) -> KitchenServiceClient<BearerChannel> {
    KitchenServiceClient::with_interceptor(channel, token(tenant, Role::Kitchen, kitchen_id))
}

/// The standard health client (no credentials: load balancers call it too).
pub(crate) fn health(channel: Channel) -> HealthClient<Channel> {
    HealthClient::new(channel)
}
