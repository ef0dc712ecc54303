//! `dispatcher ctl`: the support CLI, a thin client of the gRPC `SupportService` with readable
//! output.
//!
//! Look-ups (`order`, `order-history`, `courier`, `courier-track`, `explain`) print what the service
//! knows; overrides (`reassign`, `pin`, `hold`, `release`, `cancel`) record who did it and why and
//! print the order's status afterwards. Every request is scoped to `--tenant`/`--region`, which
//! default to the first region of the built-in configuration, as `--addr` defaults to its gRPC
//! address, so the commands work against `dispatcher serve` on the embedded default as they are.
//!
//! [`run`] does the work and returns the text to print, so tests call it as the binary does:
//!
//! ```no_run
//! use clap::Parser as _;
//! use dispatcher::ctl::{CtlArgs, run};
//!
//! #[derive(clap::Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     ctl: CtlArgs,
//! }
//!
//! # async fn example() -> Result<(), dispatcher::ctl::CtlError> {
//! let cli = Cli::parse_from(["ctl", "--addr", "http://127.0.0.1:50051", "order", "o-1"]);
//! print!("{}", run(cli.ctl).await?);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod render;
mod text;

use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Subcommand};

pub use error::CtlError;

use client::{Operator, Support};
use text::Clock;

/// Where to connect, in which scope, how to show times, and the command.
#[derive(Debug, Clone, Args)]
pub struct CtlArgs {
    /// The dispatcher's gRPC address, as a URL (`http://HOST:PORT`) or `HOST:PORT`.
    #[arg(long, global = true, default_value_t = default_addr())]
    pub addr: String,
    /// The tenant of the orders and couriers asked about.
    #[arg(long, global = true, default_value_t = default_scope().0)]
    pub tenant: String,
    /// The region of the orders and couriers asked about.
    #[arg(long, global = true, default_value_t = default_scope().1)]
    pub region: String,
    /// Show times in UTC instead of the local time zone.
    #[arg(long, global = true)]
    pub utc: bool,
    /// The support (or admin) bearer token; `dispatcher token --role support ...` mints one with
    /// a shared secret.
    #[arg(long, global = true, env = "DISPATCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM certificate of the authority that signed the server's certificate; turns TLS on.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: CtlCommand,
}

/// One support command.
#[derive(Debug, Clone, Subcommand)]
pub enum CtlCommand {
    /// An order's status: state, courier, pin and hold, ETAs, and what was ordered.
    Order {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
    },
    /// Every event of an order, oldest first: time, kind, state change, actor and details.
    OrderHistory {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
    },
    /// A courier's state: status, vehicle, last fix, orders on board and the current route.
    Courier {
        /// The courier id.
        #[arg(value_name = "COURIER_ID")]
        id: String,
    },
    /// A courier's recorded positions between two times (at most 24 hours apart), one per line.
    CourierTrack {
        /// The courier id.
        #[arg(value_name = "COURIER_ID")]
        id: String,
        /// Start, RFC 3339 (e.g. 2025-03-01T12:00:00Z); default: one hour before --to.
        #[arg(long, value_parser = parse_time)]
        from: Option<DateTime<Utc>>,
        /// End, RFC 3339, exclusive; default: now.
        #[arg(long, value_parser = parse_time)]
        to: Option<DateTime<Utc>>,
        /// At most this many fixes, evenly thinned; 0 is the server's limit.
        #[arg(long, default_value_t = 0)]
        max_points: u32,
    },
    /// Why an order is where it is: the planner's last decision about it and its reason.
    Explain {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
    },
    /// Moves an order that is not picked up yet to another courier, pinned there.
    Reassign {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
        /// The courier to take it.
        #[arg(long = "to", value_name = "COURIER_ID")]
        to: String,
        /// Who and why.
        #[command(flatten)]
        by: OverrideArgs,
    },
    /// Keeps an order with its current courier, or the one named: the planner never moves it.
    Pin {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
        /// The courier to pin it to; default: its current courier.
        #[arg(long, value_name = "COURIER_ID")]
        courier: Option<String>,
        /// Who and why.
        #[command(flatten)]
        by: OverrideArgs,
    },
    /// Takes an order out of planning until released (or until --until).
    Hold {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
        /// Release the hold by itself at this time, RFC 3339.
        #[arg(long, value_parser = parse_time)]
        until: Option<DateTime<Utc>>,
        /// Who and why.
        #[command(flatten)]
        by: OverrideArgs,
    },
    /// Undoes a pin or a hold: the planner may place the order again.
    Release {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
        /// Who and why.
        #[command(flatten)]
        by: OverrideArgs,
    },
    /// Cancels an order that has not been delivered.
    Cancel {
        /// The order id.
        #[arg(value_name = "ORDER_ID")]
        id: String,
        /// Who and why.
        #[command(flatten)]
        by: OverrideArgs,
    },
}

/// Who overrides the planner and why; both are recorded in the order's history.
#[derive(Debug, Clone, Args)]
pub struct OverrideArgs {
    /// Why, free text, at most 512 bytes.
    #[arg(long, default_value = "via dispatcher ctl")]
    pub reason: String,
    /// Who: the support operator's id, which the service requires to be the token's subject;
    /// default: the token's subject.
    #[arg(long)]
    pub operator: Option<String>,
}

impl OverrideArgs {
    fn operator(&self, token: &str) -> Operator {
        Operator {
            id: self
                .operator
                .clone()
                .unwrap_or_else(|| token_subject(token).unwrap_or_default()),
            reason: self.reason.clone(),
        }
    }
}

/// Runs one support command against the dispatcher and returns the text to print.
///
/// Errors are one line each: the service's status (code and message) or why it could not be
/// reached.
pub async fn run(args: CtlArgs) -> Result<String, CtlError> {
    let now = Utc::now();
    let clock = Clock::new(now, args.utc);
    let token = args
        .token
        .as_deref()
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(CtlError::NoToken)?;
    let mut support = Support::connect(
        &args.addr,
        &args.tenant,
        &args.region,
        token,
        args.ca_cert.as_deref(),
    )
    .await?;
    let text = match &args.command {
        CtlCommand::Order { id } => render::order_status(&support.order(id).await?, &clock),
        CtlCommand::OrderHistory { id } => render::history(id, &support.history(id).await?, &clock),
        CtlCommand::Courier { id } => render::courier(&support.courier(id).await?, &clock),
        CtlCommand::CourierTrack {
            id,
            from,
            to,
            max_points,
        } => {
            let to = to.unwrap_or(now);
            let from = from.unwrap_or(to - TimeDelta::hours(1));
            let track = support.track(id, from, to, *max_points).await?;
            render::track(id, from, to, &track, &clock)
        }
        CtlCommand::Explain { id } => render::explain(&support.explain(id).await?, &clock),
        CtlCommand::Reassign { id, to, by } => {
            let status = support.reassign(id, to, &by.operator(token)).await?;
            render::overridden(&format!("reassigned to {to}"), &status, &clock)
        }
        CtlCommand::Pin { id, courier, by } => {
            let status = support
                .pin(id, courier.as_deref(), &by.operator(token))
                .await?;
            render::overridden("pinned", &status, &clock)
        }
        CtlCommand::Hold { id, until, by } => {
            let status = support.hold(id, *until, &by.operator(token)).await?;
            render::overridden("held", &status, &clock)
        }
        CtlCommand::Release { id, by } => {
            let status = support.release(id, &by.operator(token)).await?;
            render::overridden("released", &status, &clock)
        }
        CtlCommand::Cancel { id, by } => {
            let status = support.cancel(id, &by.operator(token)).await?;
            render::overridden("cancelled", &status, &clock)
        }
    };
    Ok(text)
}

/// The built-in configuration's gRPC address as a URL.
fn default_addr() -> String {
    format!("http://{}", crate::config::Config::defaults().grpc_addr)
}

/// The built-in configuration's first region, as (tenant, region).
fn default_scope() -> (String, String) {
    crate::config::Config::defaults()
        .dispatch_regions
        .first()
        .map_or_else(
            || ("demo".to_owned(), "city".to_owned()),
            |r| (r.tenant_id.clone(), r.region_id.clone()),
        )
}

/// The `sub` claim of a token, read without checking the signature: only a default for
/// `--operator`, which the service checks against the verified token anyway.
fn token_subject(token: &str) -> Option<String> {
    jsonwebtoken::dangerous::insecure_decode_claims::<crate::auth::Claims>(token)
        .ok()
        .map(|claims| claims.sub)
}

/// An RFC 3339 time, e.g. "2025-03-01T12:00:00Z" or "2025-03-01T13:00:00+01:00", as UTC.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|error| format!("{error}; expected RFC 3339, e.g. 2025-03-01T12:00:00Z"))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        ctl: CtlArgs,
    }

    #[test]
    fn defaults_match_the_embedded_service() {
        let cli = Cli::try_parse_from(["ctl", "order", "o-1"]).unwrap();
        assert_eq!(cli.ctl.addr, "http://127.0.0.1:50051");
        assert_eq!(
            (cli.ctl.tenant.as_str(), cli.ctl.region.as_str()),
            ("demo", "city")
        );
        assert!(!cli.ctl.utc);
    }

    #[test]
    fn scope_flags_go_before_or_after_the_command() {
        let cli = Cli::try_parse_from([
            "ctl", "--tenant", "acme", "hold", "o-1", "--region", "berlin",
        ])
        .unwrap();
        assert_eq!(
            (cli.ctl.tenant.as_str(), cli.ctl.region.as_str()),
            ("acme", "berlin")
        );
        let CtlCommand::Hold { id, until, by } = cli.ctl.command else {
            panic!("not hold: {:?}", cli.ctl.command);
        };
        assert_eq!(id, "o-1");
        assert_eq!(until, None);
        assert_eq!(by.operator, None);
        assert_eq!(by.reason, "via dispatcher ctl");
    }

    #[test]
    fn the_operator_defaults_to_the_tokens_subject() {
        let settings = crate::auth::TokenSettings::shared_secret(
            crate::auth::Secret::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
        );
        let token = crate::auth::Issuer::new(&settings)
            .unwrap()
            .mint(
                "acme",
                crate::auth::Role::Support,
                "op-7",
                std::time::Duration::from_secs(60),
            )
            .unwrap();
        let by = OverrideArgs {
            reason: "r".into(),
            operator: None,
        };
        assert_eq!(by.operator(&token).id, "op-7");
        let named = OverrideArgs {
            reason: "r".into(),
            operator: Some("ann".into()),
        };
        assert_eq!(named.operator(&token).id, "ann");
    }

    #[test]
    fn track_times_are_rfc_3339() {
        let cli = Cli::try_parse_from([
            "ctl",
            "courier-track",
            "c-1",
            "--from",
            "2025-03-01T13:00:00+01:00",
        ])
        .unwrap();
        let CtlCommand::CourierTrack { from, to, .. } = cli.ctl.command else {
            panic!("not courier-track");
        };
        assert_eq!(from, Some(parse_time("2025-03-01T12:00:00Z").unwrap()));
        assert_eq!(to, None);
        let error =
            Cli::try_parse_from(["ctl", "courier-track", "c-1", "--to", "noon"]).unwrap_err();
        assert!(error.to_string().contains("RFC 3339"), "{error}");
    }

    #[test]
    fn overrides_take_an_operator_and_a_reason() {
        let cli = Cli::try_parse_from([
            "ctl",
            "reassign",
            "o-1",
            "--to",
            "c-2",
            "--operator",
            "ann",
            "--reason",
            "closer",
        ])
        .unwrap();
        let CtlCommand::Reassign { to, by, .. } = cli.ctl.command else {
            panic!("not reassign");
        };
        assert_eq!(to, "c-2");
        assert_eq!(
            (by.operator.as_deref(), by.reason.as_str()),
            (Some("ann"), "closer")
        );
        assert!(Cli::try_parse_from(["ctl", "reassign", "o-1"]).is_err());
    }
}
