//! Minting tokens where the service holds the shared secret: the demo's simulated apps, tests, and
//! `dispatcher token` for operators of a deployment that uses HS256.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header};

use super::{AuthError, Claims, Role, TokenSettings};

/// Signs tokens with a shared secret.
#[derive(Clone)]
pub struct Issuer {
    key: EncodingKey,
    header: Header,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("algorithm", &self.header.alg)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer of tokens that `settings` accepts; only HMAC settings hold a signing key.
    pub fn new(settings: &TokenSettings) -> Result<Issuer, AuthError> {
        Ok(Issuer {
            key: settings.encoding_key()?,
            header: Header::new(settings.algorithm),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        })
    }

    /// A token for `subject` of `tenant` in `role`, valid for `valid_for` from now.
    pub fn mint(
        &self,
        tenant: &str,
        role: Role,
        subject: &str,
        valid_for: Duration,
    ) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            sub: subject.to_owned(),
            tenant: tenant.to_owned(),
            role,
            exp: now.saturating_add(valid_for.as_secs()),
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        self.sign(&claims)
    }

    /// Signs claims exactly as given (tests use it for expired or odd tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&self.header, claims, &self.key)
            .map_err(|error| AuthError::Key(format!("cannot sign a token: {error}")))
    }
}
