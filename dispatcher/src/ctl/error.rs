//! What can go wrong in a `dispatcher ctl` command, each as one readable line.

use tonic::Code;

/// A failed support CLI command. Its `Display` is the one line to print after "error: ".
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// `--addr` is not a URL a gRPC channel can use.
    #[error("invalid address {addr:?}: {reason}")]
    BadAddress {
        /// The address as given.
        addr: String,
        /// Why it is not usable.
        reason: String,
    },
    /// No connection could be made to the dispatcher.
    #[error("cannot reach dispatcher at {addr}: {reason}")]
    Unreachable {
        /// The URL tried.
        addr: String,
        /// The transport's reason, causes included (e.g. "connection refused").
        reason: String,
    },
    /// No bearer token was given.
    #[error(
        "no token: pass --token or set DISPATCH_TOKEN (`dispatcher token --role support \
         --tenant T --subject YOU` mints one where AUTH_JWT_SECRET is known)"
    )]
    NoToken,
    /// The token or CA file cannot be used.
    #[error("{0}")]
    BadCredentials(String),
    /// The dispatcher answered the request with an error status.
    #[error("{}", status_line(*code, message))]
    Status {
        /// The gRPC status code.
        code: Code,
        /// The status message, as the service wrote it.
        message: String,
    },
}

impl CtlError {
    /// The gRPC status code, if the service answered with an error.
    pub fn code(&self) -> Option<Code> {
        match self {
            CtlError::Status { code, .. } => Some(*code),
            CtlError::BadAddress { .. }
            | CtlError::Unreachable { .. }
            | CtlError::NoToken
            | CtlError::BadCredentials(_) => None,
        }
    }
}

impl From<tonic::Status> for CtlError {
    fn from(status: tonic::Status) -> Self {
        CtlError::Status {
            code: status.code(),
            message: status.message().to_owned(),
        }
    }
}

/// "not found: order o-9 not found": the code in words, then the message if there is one. A
/// message that already starts with the code's words (the service's "invalid argument: ...")
/// does not repeat them.
fn status_line(code: Code, message: &str) -> String {
    let words = code_words(code);
    let message = message
        .strip_prefix(words)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message);
    if message.is_empty() {
        words.to_owned()
    } else {
        format!("{words}: {message}")
    }
}

/// A status code in lower-case words, as in the gRPC specification's names.
pub(crate) fn code_words(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid argument",
        Code::DeadlineExceeded => "deadline exceeded",
        Code::NotFound => "not found",
        Code::AlreadyExists => "already exists",
        Code::PermissionDenied => "permission denied",
        Code::ResourceExhausted => "resource exhausted",
        Code::FailedPrecondition => "failed precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out of range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// An error and its causes as one line, "outer: inner: innermost", skipping a cause whose text
/// its parent already shows.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_its_code_in_words_and_its_message() {
        let error = CtlError::from(tonic::Status::not_found("order o-9 not found"));
        assert_eq!(error.to_string(), "not found: order o-9 not found");
        assert_eq!(error.code(), Some(Code::NotFound));
        let bare = CtlError::from(tonic::Status::new(Code::Unavailable, ""));
        assert_eq!(bare.to_string(), "unavailable");
        let invalid = CtlError::from(tonic::Status::invalid_argument(
            "invalid argument: to: must be after from",
        ));
        assert_eq!(
            invalid.to_string(),
            "invalid argument: to: must be after from"
        );
    }

    #[test]
    fn a_chain_names_every_distinct_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        #[derive(Debug, thiserror::Error)]
        #[error("tcp connect error")]
        struct Outer(#[source] std::io::Error);
        assert_eq!(chain(&Outer(io)), "tcp connect error: refused");
    }
}
