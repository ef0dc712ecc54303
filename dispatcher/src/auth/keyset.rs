//! The issuer's JSON Web Key Set (RFC 7517): the public keys tokens are verified with, by key id.
//!
//! Identity providers rotate signing keys by publishing the next key beside the current one before
//! signing with it, and dropping the old one once its tokens have expired. Every token names its
//! key in the `kid` header, so the service accepts exactly the keys the set holds at the moment.

use std::{collections::HashMap, path::Path, sync::Arc};

use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse},
};

use super::AuthError;

/// The largest key set file read, in bytes; a real one holds a handful of keys in a few KiB.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The keys of a set that verify `algorithm`, by key id. Shared, so that every call can take its
/// key out without copying it.
pub(crate) struct KeySet {
    by_id: HashMap<String, Arc<DecodingKey>>,
}

impl KeySet {
    /// Reads the set in `path`.
    pub(crate) fn read(path: &Path, algorithm: Algorithm) -> Result<KeySet, AuthError> {
        let fail = |problem: String| AuthError::Key(format!("{}: {problem}", path.display()));
        let size = std::fs::metadata(path)
            .map_err(|error| fail(format!("cannot read the key set ({error})")))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(fail(format!(
                "the key set is {size} bytes, more than the {MAX_FILE_BYTES} accepted"
            )));
        }
        let text = std::fs::read(path)
            .map_err(|error| fail(format!("cannot read the key set ({error})")))?;
        KeySet::parse(&text, algorithm).map_err(|error| fail(error.to_string()))
    }

    /// The keys of the JSON set `text` that verify `algorithm`. Keys for encryption or for other
    /// algorithms are left out, as identity providers often publish those in the same set; a set
    /// with no usable key, a usable key without an id or two keys with one id is refused.
    pub(crate) fn parse(text: &[u8], algorithm: Algorithm) -> Result<KeySet, AuthError> {
        let set: JwkSet = serde_json::from_slice(text)
            .map_err(|error| AuthError::Key(format!("not a JSON Web Key Set: {error}")))?;
        let mut by_id = HashMap::new();
        for (index, jwk) in set.keys.iter().enumerate() {
            if !verifies(jwk, algorithm) {
                continue;
            }
            let Some(kid) = jwk.common.key_id.clone().filter(|kid| !kid.is_empty()) else {
                return Err(AuthError::Key(format!(
                    "key {index} has no kid, so no token could name it"
                )));
            };
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|error| AuthError::Key(format!("key {kid:?} does not load: {error}")))?;
            if by_id.insert(kid.clone(), Arc::new(key)).is_some() {
                return Err(AuthError::Key(format!("two keys have the kid {kid:?}")));
            }
        }
        if by_id.is_empty() {
            return Err(AuthError::Key(format!(
                "none of its {} keys verifies {algorithm:?} signatures",
                set.keys.len()
            )));
        }
        Ok(KeySet { by_id })
    }

    /// The key with id `kid`.
    pub(crate) fn get(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.by_id.get(kid).cloned()
    }

    /// The key ids, sorted, for the log.
    pub(crate) fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<_> = self.by_id.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }
}

/// Whether `jwk` is a signing key that can verify `algorithm`.
fn verifies(jwk: &Jwk, algorithm: Algorithm) -> bool {
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return false;
    }
    // A key bound to one algorithm is used for that one only (RFC 7517 §4.4).
    if let Some(bound) = jwk.common.key_algorithm
        && bound != KeyAlgorithm::from(algorithm)
    {
        return false;
    }
    match (&jwk.algorithm, algorithm.family()) {
        (AlgorithmParameters::RSA(_), AlgorithmFamily::Rsa) => true,
        (AlgorithmParameters::EllipticCurve(params), AlgorithmFamily::Ec) => matches!(
            (&params.curve, algorithm),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        (AlgorithmParameters::OctetKeyPair(params), AlgorithmFamily::Ed) => {
            params.curve == EllipticCurve::Ed25519
        }
        // Shared secrets never come from a key set: a file of public keys is no place for them.
        _ => false,
    }
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet").field("kids", &self.ids()).finish()
    }
}
