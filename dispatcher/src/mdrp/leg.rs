//! Which stop a simulated courier drives to next, under the benchmark's rules rather than blindly
//! from its route.
//!
//! The route is the planner's latest word, but it can be stale: a planning round may fail, or the
//! courier may have collected food since the route was drawn. The benchmark forbids picking up while
//! food is on board and counts a bundle as one pickup of every order at one restaurant, so the next
//! leg is chosen here: with food on board, a drop-off of it; otherwise the first pickup, merged with
//! the pickups right after it at the same restaurant.

use proto::dispatch::v1 as pb;

/// Where a courier goes next and what it does there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leg {
    /// Collect (at one restaurant) or hand over.
    pub(crate) pickup: bool,
    /// The orders collected or handed over.
    pub(crate) orders: Vec<String>,
    /// The route stops this leg serves, to strike from the route once done (empty when the route
    /// had no stop for food on board).
    pub(crate) stops: Vec<String>,
}

impl Leg {
    /// A move with nothing to collect or hand over: going to wait somewhere better.
    pub(crate) fn reposition() -> Self {
        Self {
            pickup: false,
            orders: Vec::new(),
            stops: Vec::new(),
        }
    }
}

/// The next leg for a courier following `route` while `carrying` the listed orders; `None` when
/// there is nothing to do. `restaurant_of` names an order's restaurant.
pub(crate) fn next_leg<'a>(
    route: &[pb::Stop],
    carrying: &[String],
    restaurant_of: impl Fn(&str) -> Option<&'a str>,
) -> Option<Leg> {
    let is_pickup = |s: &pb::Stop| s.kind == pb::StopKind::Pickup as i32;
    if let Some(first) = carrying.first() {
        // Food on board is delivered before anything is collected.
        let stop = route
            .iter()
            .filter(|s| !is_pickup(s))
            .find(|s| s.order_ids.iter().any(|o| carrying.contains(o)));
        return Some(match stop {
            Some(s) => Leg {
                pickup: false,
                orders: s
                    .order_ids
                    .iter()
                    .filter(|o| carrying.contains(o))
                    .cloned()
                    .collect(),
                stops: vec![s.stop_id.clone()],
            },
            None => Leg {
                pickup: false,
                orders: vec![first.clone()],
                stops: Vec::new(),
            },
        });
    }
    // Nothing on board: drop-offs before the first pickup are stale (their food is not here).
    let start = route.iter().position(is_pickup)?;
    let restaurant = |s: &pb::Stop| s.order_ids.first().and_then(|o| restaurant_of(o));
    let place = restaurant(&route[start]);
    let mut leg = Leg {
        pickup: true,
        orders: Vec::new(),
        stops: Vec::new(),
    };
    for s in route[start..]
        .iter()
        .take_while(|s| is_pickup(s) && restaurant(s) == place)
    {
        leg.orders.extend(s.order_ids.iter().cloned());
        leg.stops.push(s.stop_id.clone());
    }
    Some(leg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(id: &str, pickup: bool, orders: &[&str]) -> pb::Stop {
        pb::Stop {
            stop_id: id.into(),
            kind: if pickup {
                pb::StopKind::Pickup
            } else {
                pb::StopKind::Dropoff
            } as i32,
            order_ids: orders.iter().map(|o| o.to_string()).collect(),
            ..pb::Stop::default()
        }
    }

    /// Orders `a*` come from restaurant A, the rest from B.
    fn restaurant(order: &str) -> Option<&'static str> {
        Some(if order.starts_with('a') { "A" } else { "B" })
    }

    #[test]
    fn consecutive_pickups_at_one_restaurant_are_one_bundle() {
        let route = [
            stop("p1", true, &["a1"]),
            stop("p2", true, &["a2", "a3"]),
            stop("p3", true, &["b1"]),
            stop("d1", false, &["a1"]),
        ];
        let leg = next_leg(&route, &[], restaurant).unwrap();
        assert!(leg.pickup);
        assert_eq!(leg.orders, ["a1", "a2", "a3"]);
        assert_eq!(leg.stops, ["p1", "p2"]);
    }

    #[test]
    fn food_on_board_is_delivered_before_any_pickup() {
        // A stale route that would collect at B while a1 is still on board.
        let route = [stop("p3", true, &["b1"]), stop("d1", false, &["a1"])];
        let leg = next_leg(&route, &["a1".into()], restaurant).unwrap();
        assert!(!leg.pickup);
        assert_eq!(leg.orders, ["a1"]);
        assert_eq!(leg.stops, ["d1"]);
    }

    #[test]
    fn food_on_board_without_a_stop_is_still_delivered() {
        let route = [stop("p3", true, &["b1"])];
        let leg = next_leg(&route, &["a1".into()], restaurant).unwrap();
        assert_eq!(
            (leg.pickup, leg.orders, leg.stops),
            (false, vec!["a1".to_string()], vec![])
        );
    }

    #[test]
    fn stale_drop_offs_are_skipped_and_an_empty_route_is_rest() {
        let route = [stop("d9", false, &["a9"]), stop("p3", true, &["b1"])];
        let leg = next_leg(&route, &[], restaurant).unwrap();
        assert_eq!(leg.orders, ["b1"]);
        assert_eq!(next_leg(&[], &[], restaurant), None);
        assert_eq!(next_leg(&route[..1], &[], restaurant), None);
    }
}
