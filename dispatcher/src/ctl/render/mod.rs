//! The support CLI's responses as plain text: aligned `key: value` lines for one thing, one line
//! per event or fix for a list. Every function takes the [`Clock`](super::text::Clock) that says
//! how times are shown, so the same response always reads the same for a given "now".

mod courier;
mod order;

pub(crate) use courier::{courier, track};
pub(crate) use order::{explain, history, order_status, overridden};
