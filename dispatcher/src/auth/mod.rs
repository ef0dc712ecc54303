//! Who is calling, and what they may do: a signed bearer token on every gRPC call.
//!
//! Every request to the courier, kitchen and support services carries
//! `authorization: Bearer <JWT>`. The token is signed by the platform's identity service with a
//! private key (the service holds the public key) or, in a small deployment, with a shared secret,
//! and names the bearer's tenant, [`Role`] and subject (a courier's or kitchen's id, or an
//! operator's). [`Authenticate`] refuses a missing, forged, expired or malformed token with
//! `UNAUTHENTICATED`; each handler then asks the [`Caller`] whether it may do what it asks
//! (`PERMISSION_DENIED` otherwise, logged with the caller). Health and reflection stay open, so
//! load balancers and tooling can probe without credentials.
//!
//! ```
//! use std::time::Duration;
//! use dispatcher::auth::{Issuer, Role, Secret, TokenSettings, Verifier};
//!
//! let settings = TokenSettings::shared_secret(Secret::new(*b"a secret of at least 32 bytes...")?);
//! let token = Issuer::new(&settings)?.mint("acme", Role::Courier, "c-1", Duration::from_secs(60))?;
//! let caller = Verifier::new(&settings)?.verify(&token)?;
//! assert_eq!((caller.tenant.as_str(), caller.subject.as_str()), ("acme", "c-1"));
//! assert!(caller.may_be_courier("acme", "c-2").is_err());
//! # Ok::<(), dispatcher::auth::AuthError>(())
//! ```

mod access;
mod bearer;
mod claims;
mod issuer;
mod key;
mod keyset;
mod verifier;

pub use access::Denied;
pub(crate) use bearer::caller_of;
pub use bearer::{Authenticate, Bearer};
pub use claims::{Caller, Claims, Role};
pub use issuer::Issuer;
pub use jsonwebtoken::Algorithm;
pub use key::{MIN_SECRET_BYTES, Secret, TokenKey, TokenSettings};
pub use verifier::Verifier;

/// A client channel that sends one bearer token with every call.
pub type BearerChannel =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

/// Why a request is not authenticated, or a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` metadata.
    #[error("missing bearer token: send `authorization: Bearer <token>`")]
    Missing,
    /// `authorization` is not `Bearer <token>`.
    #[error("the authorization metadata must be `Bearer <token>`")]
    NotBearer,
    /// The token failed verification.
    #[error("{0}")]
    Rejected(String),
    /// A verified token whose claims break the API's rules.
    #[error("the token's {claim} claim {problem}")]
    BadClaim {
        /// The claim.
        claim: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A key that cannot be used as configured.
    #[error("{0}")]
    Key(String),
}
