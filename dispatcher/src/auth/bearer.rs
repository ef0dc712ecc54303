//! The `authorization: Bearer <token>` header on both sides of a gRPC call.

use std::sync::Arc;

use tonic::{
    Request, Status,
    metadata::{AsciiMetadataValue, MetadataMap},
    service::Interceptor,
};

use super::{AuthError, Caller, Verifier};

/// The metadata key of the token.
const AUTHORIZATION: &str = "authorization";

/// The server side: refuses a request without a genuine token with `UNAUTHENTICATED`, and hands the
/// [`Caller`] to the handler in the request's extensions.
#[derive(Debug, Clone)]
pub struct Authenticate(Arc<Verifier>);

impl Authenticate {
    /// Checks tokens with `verifier`.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self(verifier)
    }
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let caller = token_of(request.metadata()).and_then(|token| self.0.verify(token));
        match caller {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                Ok(request)
            }
            Err(error) => {
                let peer = request.remote_addr().map(|addr| addr.to_string());
                tracing::info!(peer = peer.as_deref().unwrap_or("unknown"), %error, "grpc request not authenticated");
                Err(Status::unauthenticated(error.to_string()))
            }
        }
    }
}

/// The bearer token in `metadata`.
fn token_of(metadata: &MetadataMap) -> Result<&str, AuthError> {
    let value = metadata.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::NotBearer)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(token.trim())
}

/// The authenticated caller of a request that passed [`Authenticate`].
pub(crate) fn caller_of<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| {
            // Every dispatch service is wrapped in `Authenticate`; reaching here is a wiring bug.
            tracing::error!("grpc request reached a handler without an authenticated caller");
            Status::unauthenticated(AuthError::Missing.to_string())
        })
}

/// The client side: sends one token with every request.
#[derive(Debug, Clone)]
pub struct Bearer(AsciiMetadataValue);

impl Bearer {
    /// Sends `token` (a JWT, without the "Bearer " prefix).
    pub fn new(token: &str) -> Result<Self, AuthError> {
        format!("Bearer {token}")
            .parse()
            .map(Self)
            .map_err(|_| AuthError::NotBearer)
    }

    /// Puts the token on one request, for a client that speaks for several subjects.
    pub fn authorize<T>(&self, request: &mut Request<T>) {
        request.metadata_mut().insert(AUTHORIZATION, self.0.clone());
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        self.authorize(&mut request);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(value: &str) -> MetadataMap {
        let mut map = MetadataMap::new();
        map.insert(AUTHORIZATION, value.parse().unwrap());
        map
    }

    #[test]
    fn the_token_follows_the_bearer_scheme() {
        assert_eq!(
            token_of(&metadata("Bearer abc.def.ghi")).unwrap(),
            "abc.def.ghi"
        );
        assert_eq!(token_of(&metadata("bearer  abc")).unwrap(), "abc");
        assert!(matches!(
            token_of(&MetadataMap::new()),
            Err(AuthError::Missing)
        ));
        for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "abc"] {
            assert!(
                matches!(token_of(&metadata(bad)), Err(AuthError::NotBearer)),
                "{bad}"
            );
        }
    }
}
