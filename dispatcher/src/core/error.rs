//! The service's error codes. Every failure a caller can see is one [`CoreError`], which the gRPC layer
//! maps to a status code and the bus layer to "dead-letter" or "retry".

use crate::{domain::ValidationError, store::StoreError};

/// What went wrong with a request or message.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The input breaks the API's rules; re-sending it will not help.
    #[error("invalid argument: {0}")]
    Invalid(#[from] ValidationError),
    /// An id names nothing this service knows in the caller's scope.
    #[error("{what} {id} not found")]
    NotFound {
        /// "order", "courier", "offer", ...
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The id exists with different content.
    #[error("{what} {id} already exists with different content")]
    AlreadyExists {
        /// "order".
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The request is well-formed but the entity is not in a state that allows it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The region is not planned by this instance.
    #[error("region {0} is not served by this instance")]
    UnknownRegion(String),
    /// Storage failed; the request may be retried.
    #[error("storage unavailable: {0}")]
    Store(#[from] StoreError),
    /// The service is shutting down or overloaded; retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl CoreError {
    /// A short machine-readable code, for logs, `Rejected.code` and dead-letter reasons.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Invalid(_) => "invalid_argument",
            CoreError::NotFound { .. } => "not_found",
            CoreError::AlreadyExists { .. } => "already_exists",
            CoreError::FailedPrecondition(_) => "failed_precondition",
            CoreError::UnknownRegion(_) => "unknown_region",
            CoreError::Store(_) => "storage_unavailable",
            CoreError::Unavailable(_) => "unavailable",
        }
    }

    /// True if the same input can succeed later (storage trouble, shutdown); false if it never will.
    pub fn is_transient(&self) -> bool {
        matches!(self, CoreError::Store(_) | CoreError::Unavailable(_))
    }

    pub(crate) fn not_found(what: &'static str, id: &str) -> Self {
        CoreError::NotFound {
            what,
            id: id.to_owned(),
        }
    }

    pub(crate) fn precondition(message: impl Into<String>) -> Self {
        CoreError::FailedPrecondition(message.into())
    }
}

impl From<CoreError> for tonic::Status {
    fn from(error: CoreError) -> Self {
        use tonic::Code;
        let code = match &error {
            CoreError::Invalid(_) => Code::InvalidArgument,
            CoreError::NotFound { .. } => Code::NotFound,
            CoreError::AlreadyExists { .. } => Code::AlreadyExists,
            CoreError::FailedPrecondition(_) | CoreError::UnknownRegion(_) => {
                Code::FailedPrecondition
            }
            CoreError::Store(_) | CoreError::Unavailable(_) => Code::Unavailable,
        };
        // The code already says "invalid argument"; the message names the field and the problem.
        let message = match &error {
            CoreError::Invalid(invalid) => invalid.to_string(),
            other => other.to_string(),
        };
        tonic::Status::new(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_is_named_once_in_the_status_without_repeating_the_code() {
        let error = CoreError::Invalid(ValidationError {
            field: "order.pickup.location.lat".into(),
            problem: "must be between -90 and 90".into(),
        });
        assert!(error.to_string().starts_with("invalid argument: "));
        let status = tonic::Status::from(error);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "order.pickup.location.lat: must be between -90 and 90"
        );
    }
}
