//! How tokens are checked: the algorithm, the key, and the issuer and audience to expect.

use std::{fmt, path::PathBuf};

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Validation};

use super::AuthError;

/// The shortest shared secret accepted for HMAC tokens, in bytes (RFC 7518 §3.2 asks for at least
/// the hash size: 256 bits for HS256).
pub const MIN_SECRET_BYTES: usize = 32;

/// A shared secret: compared and cloned like bytes, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Secret, AuthError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(AuthError::Key(format!(
                "a shared secret must be at least {MIN_SECRET_BYTES} bytes, got {}",
                bytes.len()
            )));
        }
        Ok(Secret(bytes))
    }

    /// A fresh random secret, for a service whose tokens are all minted in the same process (the
    /// demo).
    pub fn random() -> Secret {
        Secret((0..MIN_SECRET_BYTES).map(|_| fastrand::u8(..)).collect())
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The key tokens are verified with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKey {
    /// A secret shared with the issuer, for the HMAC algorithms (HS256, HS384, HS512).
    Secret(Secret),
    /// A shared secret being rotated: new tokens are signed with `current`, and tokens signed with
    /// `previous` are still accepted until they expire.
    Secrets {
        /// The secret tokens are signed with now.
        current: Secret,
        /// The secret before it.
        previous: Secret,
    },
    /// The issuer's public key in PEM, for RSA, ECDSA or EdDSA; the private key never comes here.
    PublicKeyPem(Vec<u8>),
    /// A file holding the issuer's JSON Web Key Set, as identity providers publish it: each
    /// token's `kid` header picks its key, so the issuer can rotate keys by publishing the new one
    /// beside the old. The file is read again while the service runs ([`super::Verifier::reload`]).
    KeySet(PathBuf),
}

/// Everything needed to verify tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// The one algorithm accepted; a token signed with any other is refused.
    pub algorithm: Algorithm,
    /// The key.
    pub key: TokenKey,
    /// The `iss` a token must carry, if set.
    pub issuer: Option<String>,
    /// The `aud` a token must carry, if set.
    pub audience: Option<String>,
}

impl TokenSettings {
    /// HS256 with a shared secret and no issuer or audience check.
    pub fn shared_secret(secret: Secret) -> TokenSettings {
        TokenSettings {
            algorithm: Algorithm::HS256,
            key: TokenKey::Secret(secret),
            issuer: None,
            audience: None,
        }
    }

    /// The keys for verifying, current first, checked against the algorithm. A key set's keys are
    /// picked by each token's id instead (see [`super::Verifier`]).
    pub(crate) fn decoding_keys(&self) -> Result<Vec<DecodingKey>, AuthError> {
        let hmac = self.algorithm.family() == AlgorithmFamily::Hmac;
        let keys = match &self.key {
            TokenKey::Secret(secret) if hmac => vec![DecodingKey::from_secret(secret.bytes())],
            TokenKey::Secrets { current, previous } if hmac => vec![
                DecodingKey::from_secret(current.bytes()),
                DecodingKey::from_secret(previous.bytes()),
            ],
            TokenKey::Secret(_) | TokenKey::Secrets { .. } => {
                return Err(AuthError::Key(format!(
                    "{:?} needs a public key, not a shared secret",
                    self.algorithm
                )));
            }
            TokenKey::PublicKeyPem(_) | TokenKey::KeySet(_) if hmac => {
                return Err(AuthError::Key(format!(
                    "{:?} needs a shared secret, not a public key",
                    self.algorithm
                )));
            }
            TokenKey::PublicKeyPem(pem) => vec![
                match self.algorithm.family() {
                    AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
                    AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
                    // HMAC was refused above.
                    AlgorithmFamily::Ed | AlgorithmFamily::Hmac => DecodingKey::from_ed_pem(pem),
                }
                .map_err(|error| {
                    AuthError::Key(format!("the public key does not load: {error}"))
                })?,
            ],
            TokenKey::KeySet(_) => {
                return Err(AuthError::Key(
                    "a key set's keys are picked by each token's kid, not fixed".to_owned(),
                ));
            }
        };
        Ok(keys)
    }

    /// The key for signing, when the service holds the secret itself (HMAC only).
    pub(crate) fn encoding_key(&self) -> Result<EncodingKey, AuthError> {
        match &self.key {
            TokenKey::Secret(secret)
            | TokenKey::Secrets {
                current: secret, ..
            } if self.algorithm.family() == AlgorithmFamily::Hmac => {
                Ok(EncodingKey::from_secret(secret.bytes()))
            }
            _ => Err(AuthError::Key(
                "tokens can be minted here only with a shared secret (HS256, HS384, HS512); \
                 with a public key, the issuer holds the private key"
                    .to_owned(),
            )),
        }
    }

    /// The checks every token must pass.
    pub(crate) fn validation(&self) -> Validation {
        let mut validation = Validation::new(self.algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        // Phones' clocks drift; a minute either way is common and harmless for expiry.
        validation.leeway = 60;
        match &self.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        validation
    }
}
