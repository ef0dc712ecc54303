//! Every gRPC client of the fault tests is made here, so that what each call carries (credentials
//! included) is decided in one place.

use std::{net::SocketAddr, time::Duration};

use proto::dispatch::v1::{
    courier_service_client::CourierServiceClient, kitchen_service_client::KitchenServiceClient,
};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;

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

/// The courier app's client, speaking as `courier_id`.
pub(crate) fn courier(channel: Channel, _courier_id: &str) -> CourierServiceClient<Channel> {
    CourierServiceClient::new(channel)
}

/// The kitchen planning system's client, speaking as `kitchen_id`.
pub(crate) fn kitchen(channel: Channel, _kitchen_id: &str) -> KitchenServiceClient<Channel> {
    KitchenServiceClient::new(channel)
}

/// The standard health client (no credentials: load balancers call it too).
pub(crate) fn health(channel: Channel) -> HealthClient<Channel> {
    HealthClient::new(channel)
}
