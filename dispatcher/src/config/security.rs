//! The variables of who may call and how the gRPC port is protected: token verification and TLS.

use std::path::PathBuf;

use crate::auth::{Algorithm, MIN_SECRET_BYTES, Secret, TokenKey, TokenSettings, Verifier};

use super::{ConfigError, Raw, Sources, Variable, invalid};

pub(super) const AUTH_JWT_SECRET: Variable = Variable {
    name: "AUTH_JWT_SECRET",
    default: "",
    help: "shared secret for HMAC tokens, at least 32 bytes (or a *_FILE key below)",
};
pub(super) const AUTH_JWT_SECRET_PREVIOUS: Variable = Variable {
    name: "AUTH_JWT_SECRET_PREVIOUS",
    default: "",
    help: "the secret before AUTH_JWT_SECRET, still accepted while a rotation's old tokens expire",
};
pub(super) const AUTH_JWT_PUBLIC_KEY_FILE: Variable = Variable {
    name: "AUTH_JWT_PUBLIC_KEY_FILE",
    default: "",
    help: "PEM public key of the token issuer, for RS*/PS*/ES*/EdDSA tokens",
};
pub(super) const AUTH_JWT_JWKS_FILE: Variable = Variable {
    name: "AUTH_JWT_JWKS_FILE",
    default: "",
    help: "JSON Web Key Set of the token issuer; each token's kid picks its key (RS*/PS*/ES*/EdDSA)",
};
pub(super) const AUTH_JWT_JWKS_REFRESH_S: Variable = Variable {
    name: "AUTH_JWT_JWKS_REFRESH_S",
    default: "60",
    help: "seconds between reads of AUTH_JWT_JWKS_FILE, so rotated keys apply without a restart",
};
pub(super) const AUTH_JWT_ALGORITHM: Variable = Variable {
    name: "AUTH_JWT_ALGORITHM",
    default: "HS256",
    help: "the one signing algorithm accepted: HS256/384/512, RS*, PS*, ES256/384, EdDSA",
};
pub(super) const AUTH_JWT_ISSUER: Variable = Variable {
    name: "AUTH_JWT_ISSUER",
    default: "",
    help: "iss claim every token must carry (unset: not checked)",
};
pub(super) const AUTH_JWT_AUDIENCE: Variable = Variable {
    name: "AUTH_JWT_AUDIENCE",
    default: "",
    help: "aud claim every token must carry (unset: not checked)",
};
pub(super) const GRPC_TLS_CERT_FILE: Variable = Variable {
    name: "GRPC_TLS_CERT_FILE",
    default: "",
    help: "PEM certificate chain for TLS on the gRPC port (with GRPC_TLS_KEY_FILE)",
};
pub(super) const GRPC_TLS_KEY_FILE: Variable = Variable {
    name: "GRPC_TLS_KEY_FILE",
    default: "",
    help: "PEM private key for TLS on the gRPC port (with GRPC_TLS_CERT_FILE)",
};

/// The certificate and key the gRPC port serves TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key of the leaf.
    pub key: PathBuf,
}

impl Sources<'_> {
    /// How tokens are verified; `None` when no secret, public key or key set is given, which
    /// `serve` refuses (the demo and tests bring their own).
    pub(super) fn token_settings(&self) -> Result<Option<TokenSettings>, ConfigError> {
        let secret = self.optional(&AUTH_JWT_SECRET);
        let previous = self.optional(&AUTH_JWT_SECRET_PREVIOUS);
        let public_key = self.optional(&AUTH_JWT_PUBLIC_KEY_FILE);
        let key_set = self.optional(&AUTH_JWT_JWKS_FILE);
        let algorithm_raw = self.get(&AUTH_JWT_ALGORITHM);
        let algorithm: Algorithm = algorithm_raw.text.trim().parse().map_err(|_| {
            invalid(
                &AUTH_JWT_ALGORITHM,
                &algorithm_raw,
                "one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, \
                 ES384, EdDSA",
            )
        })?;
        let issuer = self.optional(&AUTH_JWT_ISSUER).map(|raw| raw.text);
        let audience = self.optional(&AUTH_JWT_AUDIENCE).map(|raw| raw.text);
        if let (None, Some(raw)) = (&secret, &previous) {
            return Err(invalid(
                &AUTH_JWT_SECRET_PREVIOUS,
                &masked(raw),
                "unset unless AUTH_JWT_SECRET is set: it only keeps a rotated secret's tokens valid",
            ));
        }
        let (key, key_var, key_raw) = match (secret, public_key, key_set) {
            (None, None, None) => return Ok(None),
            (Some(raw), None, None) => {
                let current = shared_secret(&AUTH_JWT_SECRET, &raw)?;
                let key = match previous {
                    None => TokenKey::Secret(current),
                    Some(previous) => TokenKey::Secrets {
                        current,
                        previous: shared_secret(&AUTH_JWT_SECRET_PREVIOUS, &previous)?,
                    },
                };
                (key, &AUTH_JWT_SECRET, masked(&raw))
            }
            (None, Some(raw), None) => {
                let pem = std::fs::read(raw.text.trim()).map_err(|error| {
                    invalid(
                        &AUTH_JWT_PUBLIC_KEY_FILE,
                        &raw,
                        format!("a readable PEM file ({error})"),
                    )
                })?;
                (TokenKey::PublicKeyPem(pem), &AUTH_JWT_PUBLIC_KEY_FILE, raw)
            }
            (None, None, Some(raw)) => {
                let path = readable_file(&AUTH_JWT_JWKS_FILE, &raw)?;
                (TokenKey::KeySet(path), &AUTH_JWT_JWKS_FILE, raw)
            }
            // More than one given: tokens are checked with one kind of key.
            (_, _, Some(raw)) => return Err(one_key_only(&AUTH_JWT_JWKS_FILE, &raw)),
            (_, Some(raw), None) => return Err(one_key_only(&AUTH_JWT_PUBLIC_KEY_FILE, &raw)),
        };
        let settings = TokenSettings {
            algorithm,
            key,
            issuer,
            audience,
        };
        // Loading the key now turns a wrong key or algorithm into a start-up error naming it.
        Verifier::new(&settings).map_err(|error| {
            invalid(
                key_var,
                &key_raw,
                format!("a key for {algorithm:?}: {error}"),
            )
        })?;
        Ok(Some(settings))
    }

    /// The TLS files, both or neither.
    pub(super) fn grpc_tls(&self) -> Result<Option<TlsFiles>, ConfigError> {
        match (
            self.optional(&GRPC_TLS_CERT_FILE),
            self.optional(&GRPC_TLS_KEY_FILE),
        ) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: readable_file(&GRPC_TLS_CERT_FILE, &cert)?,
                key: readable_file(&GRPC_TLS_KEY_FILE, &key)?,
            })),
            (Some(cert), None) => Err(invalid(
                &GRPC_TLS_CERT_FILE,
                &cert,
                "set together with GRPC_TLS_KEY_FILE",
            )),
            (None, Some(key)) => Err(invalid(
                &GRPC_TLS_KEY_FILE,
                &key,
                "set together with GRPC_TLS_CERT_FILE",
            )),
        }
    }

    /// A value given and not blank.
    fn optional(&self, var: &Variable) -> Option<Raw> {
        self.given(var).filter(|raw| !raw.text.trim().is_empty())
    }
}

/// The refusal of a second kind of key.
fn one_key_only(var: &Variable, raw: &Raw) -> ConfigError {
    invalid(
        var,
        raw,
        "unset: tokens are checked with one key; give one of AUTH_JWT_SECRET, \
         AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWT_JWKS_FILE",
    )
}

/// A secret's value as errors show it.
fn masked(raw: &Raw) -> Raw {
    Raw {
        text: "***".to_owned(),
        origin: raw.origin,
    }
}

/// The shared secret `raw` of `var`, long enough.
fn shared_secret(var: &Variable, raw: &Raw) -> Result<Secret, ConfigError> {
    Secret::new(raw.text.clone().into_bytes()).map_err(|_| {
        invalid(
            var,
            &masked(raw),
            format!("a secret of at least {MIN_SECRET_BYTES} bytes"),
        )
    })
}

fn readable_file(var: &Variable, raw: &Raw) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(raw.text.trim());
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err(invalid(var, raw, "a file, not a directory")),
        Err(error) => Err(invalid(var, raw, format!("a readable file ({error})"))),
    }
}
