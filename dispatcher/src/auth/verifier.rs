//! Checking a bearer token: signature, expiry, issuer and audience, then the claims' shape.

use jsonwebtoken::{DecodingKey, Validation, errors::ErrorKind};

use super::{AuthError, Caller, Claims, TokenSettings};

/// Verifies tokens with one key and one algorithm.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for `settings`; fails if the key does not suit the algorithm or does not load.
    pub fn new(settings: &TokenSettings) -> Result<Verifier, AuthError> {
        Ok(Verifier {
            key: settings.decoding_key()?,
            validation: settings.validation(),
        })
    }

    /// The caller a token names, if the token is genuine, current and well formed.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|error| AuthError::Rejected(reason(error.kind())))?;
        Caller::from_claims(data.claims)
    }
}

/// Why a token was refused, in words a client developer can act on; never the token itself.
fn reason(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".to_owned(),
        ErrorKind::InvalidAlgorithm => "the token is signed with another algorithm".to_owned(),
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not accepted".to_owned(),
        ErrorKind::InvalidAudience => "the token's audience (aud) is not this service".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the token's {claim} claim is malformed"),
        ErrorKind::Json(error) => format!("the token's claims are not valid: {error}"),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            "the token is not a well-formed JWT".to_owned()
        }
        other => format!("the token is not accepted ({other:?})"),
    }
}
