//! Checking a bearer token: signature, expiry, issuer and audience, then the claims' shape.

use std::{
    path::PathBuf,
    sync::{Arc, PoisonError, RwLock},
};

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation, errors::ErrorKind};

use super::{AuthError, Caller, Claims, TokenKey, TokenSettings, keyset::KeySet};

/// Verifies tokens with one algorithm and the keys the settings name.
#[derive(Clone)]
pub struct Verifier {
    keys: Keys,
    validation: Validation,
}

/// Where a token's key comes from.
#[derive(Clone)]
enum Keys {
    /// Tried in order, the current key first: a rotated shared secret has two.
    Fixed(Vec<DecodingKey>),
    /// Picked by the token's `kid` from the issuer's key set, which [`Verifier::reload`] re-reads.
    Set {
        path: PathBuf,
        algorithm: Algorithm,
        keys: Arc<RwLock<KeySet>>,
    },
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for `settings`; fails if a key does not suit the algorithm or does not load.
    pub fn new(settings: &TokenSettings) -> Result<Verifier, AuthError> {
        let keys = match &settings.key {
            TokenKey::KeySet(path) if settings.algorithm.family() != AlgorithmFamily::Hmac => {
                Keys::Set {
                    path: path.clone(),
                    algorithm: settings.algorithm,
                    keys: Arc::new(RwLock::new(KeySet::read(path, settings.algorithm)?)),
                }
            }
            _ => Keys::Fixed(settings.decoding_keys()?),
        };
        Ok(Verifier {
            keys,
            validation: settings.validation(),
        })
    }

    /// The caller a token names, if the token is genuine, current and well formed.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let claims = match &self.keys {
            Keys::Fixed(keys) => self.decode_with_any(token, keys)?,
            Keys::Set { keys, .. } => {
                let header = jsonwebtoken::decode_header(token)
                    .map_err(|error| AuthError::Rejected(reason(error.kind())))?;
                let kid = header.kid.ok_or_else(|| {
                    AuthError::Rejected(
                        "the token's header has no kid; keys are picked by kid".to_owned(),
                    )
                })?;
                // Cloned out so that a reload never waits on a verification, nor the reverse.
                let key = keys
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&kid)
                    .ok_or_else(|| {
                        AuthError::Rejected(
                            "the token's kid names no key the issuer publishes now".to_owned(),
                        )
                    })?;
                self.decode(token, &key)?
            }
        };
        Caller::from_claims(claims)
    }

    /// Reads the issuer's key set again, so keys it published or withdrew take effect without a
    /// restart. Returns the key ids now in use; a set that does not load leaves the keys as they
    /// were. Nothing to do (and no ids) for fixed keys.
    pub fn reload(&self) -> Result<Vec<String>, AuthError> {
        let Keys::Set {
            path,
            algorithm,
            keys,
        } = &self.keys
        else {
            return Ok(Vec::new());
        };
        let fresh = KeySet::read(path, *algorithm)?;
        let ids = fresh.ids().into_iter().map(str::to_owned).collect();
        *keys.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(ids)
    }

    /// Whether the keys come from a key set that [`Verifier::reload`] re-reads.
    pub fn reloads(&self) -> bool {
        matches!(self.keys, Keys::Set { .. })
    }

    /// The claims of `token` under the first of `keys` whose signature matches.
    fn decode_with_any(&self, token: &str, keys: &[DecodingKey]) -> Result<Claims, AuthError> {
        for key in keys {
            match jsonwebtoken::decode::<Claims>(token, key, &self.validation) {
                Ok(data) => return Ok(data.claims),
                // Only a signature made with another key sends the token on to the next key; the
                // signature is checked before the claims, so an expired token says so.
                Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {}
                Err(error) => return Err(AuthError::Rejected(reason(error.kind()))),
            }
        }
        Err(AuthError::Rejected(reason(&ErrorKind::InvalidSignature)))
    }

    fn decode(&self, token: &str, key: &DecodingKey) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| AuthError::Rejected(reason(error.kind())))
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
