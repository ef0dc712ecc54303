//! The support CLI's conversation with `SupportService`: one channel, one scope, one method per
//! RPC, each request built with the scope and, for overrides, who and why.

use std::time::Duration;

use chrono::{DateTime, Utc};
use proto::dispatch::v1::{self as pb, support_service_client::SupportServiceClient};
use tonic::{
    service::interceptor::InterceptedService,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

use super::error::{CtlError, chain};
use crate::{auth::Bearer, domain::convert::time_to_proto};

/// How long to wait for the connection before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Who overrides the planner and why, recorded in the order's history.
#[derive(Debug, Clone)]
pub(crate) struct Operator {
    /// The operator's id.
    pub(crate) id: String,
    /// Why.
    pub(crate) reason: String,
}

/// A connected support client for one tenant and region.
#[derive(Debug, Clone)]
pub(crate) struct Support {
    client: SupportServiceClient<InterceptedService<Channel, Bearer>>,
    scope: pb::Scope,
}

/// The URL for `addr`: as given if it has a scheme, else `http://` in front ("127.0.0.1:50051").
pub(crate) fn url_of(addr: &str) -> String {
    if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    }
}

impl Support {
    /// Connects to the dispatcher at `addr` for requests in `tenant`/`region`, sending `token`
    /// with each; over TLS trusting `ca_cert` if given.
    pub(crate) async fn connect(
        addr: &str,
        tenant: &str,
        region: &str,
        token: &str,
        ca_cert: Option<&std::path::Path>,
    ) -> Result<Self, CtlError> {
        let bearer = Bearer::new(token).map_err(|_| {
            CtlError::BadCredentials("the token has characters a header cannot carry".to_owned())
        })?;
        let url = match ca_cert {
            Some(_) => url_of(addr).replacen("http://", "https://", 1),
            None => url_of(addr),
        };
        let mut endpoint = Endpoint::from_shared(url.clone())
            .map_err(|error| CtlError::BadAddress {
                addr: addr.to_owned(),
                reason: chain(&error),
            })?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT);
        if let Some(path) = ca_cert {
            let pem = std::fs::read(path).map_err(|error| {
                CtlError::BadCredentials(format!("cannot read {}: {error}", path.display()))
            })?;
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
                .map_err(|error| CtlError::BadCredentials(chain(&error)))?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|error| CtlError::Unreachable {
                addr: url,
                reason: chain(&error),
            })?;
        Ok(Self {
            client: SupportServiceClient::with_interceptor(channel, bearer),
            scope: pb::Scope {
                tenant_id: tenant.to_owned(),
                region_id: region.to_owned(),
            },
        })
    }

    fn scope(&self) -> Option<pb::Scope> {
        Some(self.scope.clone())
    }

    /// `GetOrder`.
    pub(crate) async fn order(&mut self, order_id: &str) -> Result<pb::OrderStatus, CtlError> {
        let request = pb::GetOrderRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
        };
        Ok(self.client.get_order(request).await?.into_inner())
    }

    /// `GetOrderHistory`.
    pub(crate) async fn history(
        &mut self,
        order_id: &str,
    ) -> Result<Vec<pb::OrderEvent>, CtlError> {
        let request = pb::GetOrderHistoryRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
        };
        Ok(self
            .client
            .get_order_history(request)
            .await?
            .into_inner()
            .events)
    }

    /// `GetCourier`.
    pub(crate) async fn courier(&mut self, courier_id: &str) -> Result<pb::CourierState, CtlError> {
        let request = pb::GetCourierRequest {
            scope: self.scope(),
            courier_id: courier_id.to_owned(),
        };
        Ok(self.client.get_courier(request).await?.into_inner())
    }

    /// `GetCourierTrack` from `from` (inclusive) to `to` (exclusive); `max_points` 0 is the
    /// server's limit.
    pub(crate) async fn track(
        &mut self,
        courier_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        max_points: u32,
    ) -> Result<pb::GetCourierTrackResponse, CtlError> {
        let request = pb::GetCourierTrackRequest {
            scope: self.scope(),
            courier_id: courier_id.to_owned(),
            from: Some(time_to_proto(from)),
            to: Some(time_to_proto(to)),
            max_points,
        };
        Ok(self.client.get_courier_track(request).await?.into_inner())
    }

    /// `ExplainOrder`.
    pub(crate) async fn explain(
        &mut self,
        order_id: &str,
    ) -> Result<pb::ExplainOrderResponse, CtlError> {
        let request = pb::ExplainOrderRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
        };
        Ok(self.client.explain_order(request).await?.into_inner())
    }

    /// `ReassignOrder` to `to_courier_id`.
    pub(crate) async fn reassign(
        &mut self,
        order_id: &str,
        to_courier_id: &str,
        by: &Operator,
    ) -> Result<pb::OrderStatus, CtlError> {
        let request = pb::ReassignOrderRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
            to_courier_id: to_courier_id.to_owned(),
            context: context(by),
        };
        Ok(self.client.reassign_order(request).await?.into_inner())
    }

    /// `PinOrder` to `courier_id`, or to its current courier if `None`.
    pub(crate) async fn pin(
        &mut self,
        order_id: &str,
        courier_id: Option<&str>,
        by: &Operator,
    ) -> Result<pb::OrderStatus, CtlError> {
        let request = pb::PinOrderRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
            courier_id: courier_id.unwrap_or_default().to_owned(),
            context: context(by),
        };
        Ok(self.client.pin_order(request).await?.into_inner())
    }

    /// `HoldOrder` until released, or until `until`.
    pub(crate) async fn hold(
        &mut self,
        order_id: &str,
        until: Option<DateTime<Utc>>,
        by: &Operator,
    ) -> Result<pb::OrderStatus, CtlError> {
        let request = pb::HoldOrderRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
            until: until.map(time_to_proto),
            context: context(by),
        };
        Ok(self.client.hold_order(request).await?.into_inner())
    }

    /// `ReleaseOrder`.
    pub(crate) async fn release(
        &mut self,
        order_id: &str,
        by: &Operator,
    ) -> Result<pb::OrderStatus, CtlError> {
        let request = pb::ReleaseOrderRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
            context: context(by),
        };
        Ok(self.client.release_order(request).await?.into_inner())
    }

    /// `CancelOrder`.
    pub(crate) async fn cancel(
        &mut self,
        order_id: &str,
        by: &Operator,
    ) -> Result<pb::OrderStatus, CtlError> {
        let request = pb::SupportCancelOrderRequest {
            scope: self.scope(),
            order_id: order_id.to_owned(),
            context: context(by),
        };
        Ok(self.client.cancel_order(request).await?.into_inner())
    }
}

fn context(by: &Operator) -> Option<pb::OverrideContext> {
    Some(pb::OverrideContext {
        operator_id: by.id.clone(),
        reason: by.reason.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_without_a_scheme_is_plain_http() {
        assert_eq!(url_of("127.0.0.1:50051"), "http://127.0.0.1:50051");
        assert_eq!(url_of("http://[::1]:50051"), "http://[::1]:50051");
    }
}
