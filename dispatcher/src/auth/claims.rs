//! What a token says about its bearer: tenant, role and subject.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::domain::convert::MAX_ID_BYTES;

/// What a caller is, and so which service it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A courier app: `CourierService`, as the courier named by the subject.
    Courier,
    /// A kitchen system: `KitchenService`, for the kitchen named by the subject.
    Kitchen,
    /// A support operator: `SupportService`, within the token's tenant; the subject is the operator.
    Support,
    /// A platform operator: the kitchen and support services of any tenant. Never a courier.
    Admin,
}

impl Role {
    /// The name used in tokens and logs.
    pub fn name(self) -> &'static str {
        match self {
            Role::Courier => "courier",
            Role::Kitchen => "kitchen",
            Role::Support => "support",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "courier" => Ok(Role::Courier),
            "kitchen" => Ok(Role::Kitchen),
            "support" => Ok(Role::Support),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}; expected courier, kitchen, support or admin"
            )),
        }
    }
}

/// The claims of a dispatch token, as signed.
///
/// `exp` is required; `iss` and `aud` are checked when the service is configured with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The courier's or kitchen's id, or the operator's.
    pub sub: String,
    /// The tenant (delivery company) the bearer belongs to.
    pub tenant: String,
    /// What the bearer is.
    pub role: Role,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Who signed the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Whom the token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// The authenticated caller of one request: what its verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's tenant.
    pub tenant: String,
    /// The caller's role.
    pub role: Role,
    /// The courier, kitchen or operator id.
    pub subject: String,
}

impl Caller {
    /// The caller named by verified claims, whose ids must follow the API's id rules.
    pub(crate) fn from_claims(claims: Claims) -> Result<Caller, AuthError> {
        for (claim, value) in [("sub", &claims.sub), ("tenant", &claims.tenant)] {
            if value.is_empty() || value.len() > MAX_ID_BYTES {
                return Err(AuthError::BadClaim {
                    claim,
                    problem: format!("must be 1 to {MAX_ID_BYTES} bytes"),
                });
            }
        }
        Ok(Caller {
            tenant: claims.tenant,
            role: claims.role,
            subject: claims.sub,
        })
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} of tenant {}",
            self.role, self.subject, self.tenant
        )
    }
}
