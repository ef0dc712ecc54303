//! Checks shared by every RPC: the request's scope (tenant and region, which this instance must plan)
//! and the operator context of support overrides. A refusal is a [`Status`] that names the field.

use chrono::{DateTime, TimeDelta, Utc};
use proto::dispatch::v1 as pb;
use tonic::Status;

use crate::{
    core::{Core, CoreError, support::Override},
    domain::{
        RegionKey, ValidationError,
        check::MAX_PLAN_AHEAD,
        convert::{Horizon, MAX_ID_BYTES, check_id, check_text, optional_time_near},
    },
};

/// The longest free-text reason accepted from a kitchen or an operator, in bytes.
pub(crate) const MAX_REASON_BYTES: usize = crate::domain::check::MAX_NOTE_BYTES;

/// The region a request is scoped to, if this instance plans it.
///
/// A missing scope or an empty or over-long id is `INVALID_ARGUMENT` naming the field; a region
/// this instance does not plan is `FAILED_PRECONDITION` ("region t/r is not served by this
/// instance"), so the caller knows to go elsewhere rather than to fix the request.
pub(crate) fn region_of(scope: Option<&pb::Scope>, core: &Core) -> Result<RegionKey, Status> {
    region_served(scope, |region| core.serves(region))
}

/// [`region_of`] with the "is it served here" question asked of `serves`.
fn region_served(
    scope: Option<&pb::Scope>,
    serves: impl FnOnce(&RegionKey) -> bool,
) -> Result<RegionKey, Status> {
    let region = region_key(scope).map_err(invalid)?;
    if serves(&region) {
        Ok(region)
    } else {
        Err(CoreError::UnknownRegion(region.to_string()).into())
    }
}

/// The region named by a scope, checked for shape only.
fn region_key(scope: Option<&pb::Scope>) -> Result<RegionKey, ValidationError> {
    let scope = scope.ok_or_else(|| ValidationError::new("scope", "is required"))?;
    check_id("scope.tenant_id", &scope.tenant_id)?;
    check_id("scope.region_id", &scope.region_id)?;
    Ok(RegionKey::new(&scope.tenant_id, &scope.region_id))
}

/// Who overrides a decision and why, from a support request's `context`.
///
/// The context is required; `operator_id` must be 1 to 128 bytes and `reason` at most 512.
pub(crate) fn override_of(context: Option<&pb::OverrideContext>) -> Result<Override, Status> {
    let context = context.ok_or_else(|| invalid(ValidationError::new("context", "is required")))?;
    check_id("context.operator_id", &context.operator_id).map_err(invalid)?;
    check_text("context.reason", &context.reason, MAX_REASON_BYTES).map_err(invalid)?;
    Ok(Override {
        operator_id: context.operator_id.clone(),
        reason: context.reason.clone(),
    })
}

/// Checks a required id field (1 to 128 bytes).
pub(crate) fn required_id(field: &str, id: &str) -> Result<(), Status> {
    check_id(field, id).map_err(invalid)
}

/// Checks an optional id field: empty, or 1 to 128 bytes. Returns `None` for empty.
pub(crate) fn optional_id<'a>(field: &str, id: &'a str) -> Result<Option<&'a str>, Status> {
    if id.is_empty() {
        return Ok(None);
    }
    if id.len() > MAX_ID_BYTES {
        return Err(invalid(ValidationError::new(
            field,
            format!("at most {MAX_ID_BYTES} bytes, got {}", id.len()),
        )));
    }
    Ok(Some(id))
}

/// When a hold ends by itself: unset (until released), or a time after `now` and at most
/// [`MAX_PLAN_AHEAD`] after it.
pub(crate) fn hold_until(
    until: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Status> {
    let until = optional_time_near(
        "until",
        until,
        Horizon {
            past: TimeDelta::zero(),
            future: MAX_PLAN_AHEAD,
        },
        now,
    )
    .map_err(invalid)?;
    if until.is_some_and(|until| until <= now) {
        return Err(invalid(ValidationError::new(
            "until",
            "must be in the future",
        )));
    }
    Ok(until)
}

/// An `INVALID_ARGUMENT` status for a field that breaks the API's rules.
pub(crate) fn invalid(error: ValidationError) -> Status {
    CoreError::Invalid(error).into()
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    fn scope(tenant: &str, region: &str) -> pb::Scope {
        pb::Scope {
            tenant_id: tenant.into(),
            region_id: region.into(),
        }
    }

    #[test]
    fn a_served_scope_names_its_region() {
        let key = region_served(Some(&scope("acme", "berlin")), |_| true).unwrap();
        assert_eq!(key, RegionKey::new("acme", "berlin"));
    }

    #[test]
    fn a_missing_scope_is_invalid_and_named() {
        let status = region_served(None, |_| true).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("scope"), "{}", status.message());
    }

    #[test]
    fn empty_or_long_ids_are_invalid_and_named() {
        let long = "x".repeat(MAX_ID_BYTES + 1);
        for (s, field) in [
            (scope("", "berlin"), "scope.tenant_id"),
            (scope("acme", ""), "scope.region_id"),
            (scope(&long, "berlin"), "scope.tenant_id"),
            (scope("acme", &long), "scope.region_id"),
        ] {
            let status = region_served(Some(&s), |_| true).unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{field}");
            assert!(status.message().contains(field), "{}", status.message());
        }
        let longest = "x".repeat(MAX_ID_BYTES);
        assert!(region_served(Some(&scope(&longest, &longest)), |_| true).is_ok());
    }

    #[test]
    fn a_region_planned_elsewhere_is_a_failed_precondition() {
        let status = region_served(Some(&scope("acme", "paris")), |r| {
            *r == RegionKey::new("acme", "berlin")
        })
        .unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(
            status.message(),
            "region acme/paris is not served by this instance"
        );
    }

    #[test]
    fn the_shape_is_checked_before_the_region() {
        let status = region_served(Some(&scope("", "paris")), |_| false).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }

    fn context(operator: &str, reason: &str) -> pb::OverrideContext {
        pb::OverrideContext {
            operator_id: operator.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn an_override_needs_an_operator_and_a_short_reason() {
        let ok = override_of(Some(&context("op-1", "customer called"))).unwrap();
        assert_eq!(ok.operator_id, "op-1");
        assert_eq!(ok.reason, "customer called");
        assert!(override_of(Some(&context("op-1", ""))).is_ok());

        for (ctx, field) in [
            (None, "context"),
            (Some(context("", "why")), "context.operator_id"),
            (
                Some(context(&"o".repeat(MAX_ID_BYTES + 1), "why")),
                "context.operator_id",
            ),
            (
                Some(context("op-1", &"r".repeat(MAX_REASON_BYTES + 1))),
                "context.reason",
            ),
        ] {
            let status = override_of(ctx.as_ref()).unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{field}");
            assert!(status.message().contains(field), "{}", status.message());
        }
    }

    #[test]
    fn optional_ids_may_be_empty_but_not_long() {
        assert_eq!(optional_id("courier_id", "").unwrap(), None);
        assert_eq!(optional_id("courier_id", "c-1").unwrap(), Some("c-1"));
        let status = optional_id("courier_id", &"c".repeat(MAX_ID_BYTES + 1)).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("courier_id"));
        assert_eq!(
            required_id("order_id", "").unwrap_err().code(),
            Code::InvalidArgument
        );
    }
}
