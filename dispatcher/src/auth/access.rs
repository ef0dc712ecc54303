//! What each role may do, asked once a request's scope and subject are known.
//!
//! - A courier opens a session only as itself, in its own tenant; offers go down that session only.
//! - A kitchen creates, revises, cancels and watches only its own orders, in its own tenant.
//! - Support reads and overrides within its own tenant, in its own name.
//! - An admin may use the kitchen and support services of any tenant, but is never a courier.

use tonic::Status;

use super::{Caller, Role};

/// A request refused because its caller may not make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    caller: Caller,
    action: &'static str,
    why: String,
}

impl Denied {
    fn new(caller: &Caller, action: &'static str, why: impl Into<String>) -> Denied {
        Denied {
            caller: caller.clone(),
            action,
            why: why.into(),
        }
    }
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} may not {}: {}", self.caller, self.action, self.why)
    }
}

impl From<Denied> for Status {
    fn from(denied: Denied) -> Status {
        tracing::warn!(
            tenant = %denied.caller.tenant,
            role = %denied.caller.role,
            subject = %denied.caller.subject,
            action = denied.action,
            why = %denied.why,
            "grpc request denied"
        );
        Status::permission_denied(denied.to_string())
    }
}

impl Caller {
    /// May open a courier session for `courier_id` of `tenant`.
    pub fn may_be_courier(&self, tenant: &str, courier_id: &str) -> Result<(), Denied> {
        const ACTION: &str = "open a courier session";
        if self.role != Role::Courier {
            return Err(Denied::new(self, ACTION, "only a courier token may"));
        }
        self.in_tenant(tenant, ACTION)?;
        if self.subject != courier_id {
            return Err(Denied::new(
                self,
                ACTION,
                format!(
                    "the token is for courier {}, not {courier_id}",
                    self.subject
                ),
            ));
        }
        Ok(())
    }

    /// May act for `kitchen_id` of `tenant` (`action` names the request, for the refusal).
    pub fn may_act_for_kitchen(
        &self,
        tenant: &str,
        kitchen_id: &str,
        action: &'static str,
    ) -> Result<(), Denied> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Kitchen => {
                self.in_tenant(tenant, action)?;
                if self.subject == kitchen_id {
                    Ok(())
                } else {
                    Err(Denied::new(
                        self,
                        action,
                        format!(
                            "the order belongs to kitchen {kitchen_id}, and the token is for {}",
                            self.subject
                        ),
                    ))
                }
            }
            Role::Courier | Role::Support => Err(Denied::new(
                self,
                action,
                "only a kitchen or admin token may",
            )),
        }
    }

    /// May read or override as support in `tenant` (`action` names the request).
    pub fn may_support(&self, tenant: &str, action: &'static str) -> Result<(), Denied> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Support => self.in_tenant(tenant, action),
            Role::Courier | Role::Kitchen => Err(Denied::new(
                self,
                action,
                "only a support or admin token may",
            )),
        }
    }

    /// May record an override in the name of `operator_id`: only one's own.
    pub fn may_override_as(&self, operator_id: &str, action: &'static str) -> Result<(), Denied> {
        if self.subject == operator_id {
            Ok(())
        } else {
            Err(Denied::new(
                self,
                action,
                format!(
                    "context.operator_id is {operator_id}, and the token is for {}",
                    self.subject
                ),
            ))
        }
    }

    fn in_tenant(&self, tenant: &str, action: &'static str) -> Result<(), Denied> {
        if self.tenant == tenant {
            Ok(())
        } else {
            Err(Denied::new(
                self,
                action,
                format!("the request is for tenant {tenant}"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(tenant: &str, role: Role, subject: &str) -> Caller {
        Caller {
            tenant: tenant.into(),
            role,
            subject: subject.into(),
        }
    }

    #[test]
    fn a_courier_is_only_itself_in_its_tenant() {
        let c = caller("acme", Role::Courier, "c-1");
        assert!(c.may_be_courier("acme", "c-1").is_ok());
        assert!(c.may_be_courier("acme", "c-2").is_err());
        assert!(c.may_be_courier("bolt", "c-1").is_err());
        assert!(
            c.may_act_for_kitchen("acme", "k-1", "create an order")
                .is_err()
        );
        assert!(c.may_support("acme", "read an order").is_err());
        for role in [Role::Kitchen, Role::Support, Role::Admin] {
            assert!(
                caller("acme", role, "c-1")
                    .may_be_courier("acme", "c-1")
                    .is_err()
            );
        }
    }

    #[test]
    fn a_kitchen_acts_only_for_itself_and_an_admin_for_anyone() {
        let k = caller("acme", Role::Kitchen, "k-1");
        assert!(k.may_act_for_kitchen("acme", "k-1", "x").is_ok());
        assert!(k.may_act_for_kitchen("acme", "k-2", "x").is_err());
        assert!(k.may_act_for_kitchen("bolt", "k-1", "x").is_err());
        assert!(k.may_support("acme", "x").is_err());
        let admin = caller("platform", Role::Admin, "root");
        assert!(admin.may_act_for_kitchen("bolt", "k-9", "x").is_ok());
        assert!(admin.may_support("bolt", "x").is_ok());
    }

    #[test]
    fn support_stays_in_its_tenant_and_its_own_name() {
        let s = caller("acme", Role::Support, "op-1");
        assert!(s.may_support("acme", "x").is_ok());
        assert!(s.may_support("bolt", "x").is_err());
        assert!(s.may_override_as("op-1", "x").is_ok());
        let denied = s.may_override_as("op-2", "pin an order").unwrap_err();
        assert_eq!(
            denied.to_string(),
            "support op-1 of tenant acme may not pin an order: \
             context.operator_id is op-2, and the token is for op-1"
        );
        assert_eq!(Status::from(denied).code(), tonic::Code::PermissionDenied);
    }
}
