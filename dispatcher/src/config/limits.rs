//! The variables that bound what one gRPC client may take.

use std::time::Duration;

use crate::grpc::Limits;

use super::{ConfigError, Sources, Variable};

pub(super) const GRPC_MAX_STREAMS: Variable = Variable {
    name: "GRPC_MAX_STREAMS",
    default: "20000",
    help: "courier sessions and pickup-ETA watches open at once, 1 to 1000000",
};
pub(super) const COURIER_MAX_MESSAGES_PER_S: Variable = Variable {
    name: "COURIER_MAX_MESSAGES_PER_S",
    default: "20",
    help: "messages per second one courier may send, sustained (5 s of it at once), 1 to 10000",
};
pub(super) const GRPC_REQUEST_TIMEOUT_MS: Variable = Variable {
    name: "GRPC_REQUEST_TIMEOUT_MS",
    default: "10000",
    help: "deadline of every gRPC call until its answer (a stream: until it opens), 100 to 600000",
};

impl Sources<'_> {
    pub(super) fn limits(&self) -> Result<Limits, ConfigError> {
        Ok(Limits {
            max_streams: self.whole(&GRPC_MAX_STREAMS, 1, Some(1_000_000), "")?,
            courier_messages_per_s: self.whole(&COURIER_MAX_MESSAGES_PER_S, 1, Some(10_000), "")?,
            request_timeout: Duration::from_millis(self.whole(
                &GRPC_REQUEST_TIMEOUT_MS,
                100,
                Some(600_000),
                " of milliseconds",
            )?),
        })
    }
}
