//! One vehicle's route during the search, with its schedule cached so that an insertion can be judged
//! without replaying the whole route.

use super::prepared::{NodeId, Prepared, delivery_node, is_pickup, job_of};
use crate::problem::{LOAD_DIMS, Load};

/// One trip of a route under [`TripRule::OnePickupPlace`](crate::problem::TripRule): its pickups
/// are `nodes[pickups..deliveries]`, all at `place`, and its deliveries `nodes[deliveries..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trip {
    pub(crate) place: usize,
    pub(crate) pickups: usize,
    pub(crate) deliveries: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct RouteState {
    pub(crate) vehicle: usize,
    pub(crate) nodes: Vec<NodeId>,
    /// Departure from `nodes[k]`.
    pub(crate) departure: Vec<f64>,
    /// Load after serving `nodes[k]`.
    pub(crate) load: Vec<Load>,
    /// Highest load from the start up to and including `nodes[k]`.
    pub(crate) peak: Vec<Load>,
    /// Latest service start at `nodes[k]` that keeps every later stop and the shift end feasible.
    pub(crate) latest: Vec<f64>,
    /// Load when leaving the start place (deliveries carried from the start).
    pub(crate) start_load: Load,
    /// Under the one-pickup-place trip rule only (otherwise 0 and empty): how many deliveries of
    /// loads carried from the start open the route, and the trips after them, in order.
    pub(crate) lead: usize,
    pub(crate) trips: Vec<Trip>,
    /// This route's share of the objective.
    pub(crate) cost: f64,
}

impl RouteState {
    pub(crate) fn empty(vehicle: usize) -> Self {
        Self {
            vehicle,
            nodes: Vec::new(),
            departure: Vec::new(),
            load: Vec::new(),
            peak: Vec::new(),
            latest: Vec::new(),
            start_load: [0; LOAD_DIMS],
            lead: 0,
            trips: Vec::new(),
            cost: 0.0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Jobs on the route, each once.
    pub(crate) fn jobs(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes
            .iter()
            .filter(|&&n| !is_pickup(n))
            .map(|&n| job_of(n))
    }

    /// Recomputes every cache after the node list changed.
    pub(crate) fn refresh(&mut self, p: &Prepared<'_>) {
        let n = self.nodes.len();
        let fleet = p.fleet[self.vehicle];
        let m = p.matrix(self.vehicle);
        self.start_load = start_load(p, &self.nodes);
        self.departure.resize(n, 0.0);
        self.load.resize(n, [0; LOAD_DIMS]);
        self.peak.resize(n, [0; LOAD_DIMS]);
        self.latest.resize(n, 0.0);
        let (mut at, mut time, mut load, mut peak) = (
            fleet.start,
            fleet.start_time,
            self.start_load,
            self.start_load,
        );
        for (k, &node) in self.nodes.iter().enumerate() {
            let s = &p.nodes[node];
            let previous = (k > 0).then_some(at);
            let start = (time + m.duration(at, s.location) + s.setup_after(previous)).max(s.ready);
            time = start + s.service;
            at = s.location;
            // A delivery's delta is -size whether the load came from a pickup or from the start.
            for d in 0..LOAD_DIMS {
                load[d] += s.delta[d];
                peak[d] = peak[d].max(load[d]);
            }
            self.departure[k] = time;
            self.load[k] = load;
            self.peak[k] = peak;
        }
        let mut limit = fleet.shift_end;
        for k in (0..n).rev() {
            let node = self.nodes[k];
            let s = &p.nodes[node];
            let next = if k + 1 < n {
                let after = &p.nodes[self.nodes[k + 1]];
                m.duration(s.location, after.location) + after.setup_after(Some(s.location))
            } else {
                fleet.end.map_or(0.0, |e| m.duration(s.location, e))
            };
            limit = s.hard_end.min(limit - next - s.service);
            if is_pickup(node) {
                limit = limit.min(fleet.latest_pickup);
            }
            self.latest[k] = limit;
        }
        if p.trips {
            self.split_trips(p);
        }
        self.cost = evaluate(p, self.vehicle, &self.nodes).unwrap_or(f64::INFINITY);
    }

    /// Finds the lead deliveries and the trips: in a route that keeps the trip rule, the first run
    /// of deliveries carries loads from the start, and each later run of pickups with the run of
    /// deliveries after it is one trip.
    fn split_trips(&mut self, p: &Prepared<'_>) {
        let n = self.nodes.len();
        let run = |from: usize, pickups: bool| {
            from + self.nodes[from..]
                .iter()
                .take_while(|&&node| is_pickup(node) == pickups)
                .count()
        };
        self.trips.clear();
        self.lead = run(0, false);
        let mut k = self.lead;
        while k < n {
            let deliveries = run(k, true);
            let end = run(deliveries, false);
            self.trips.push(Trip {
                place: p.nodes[self.nodes[k]].location,
                pickups: k,
                deliveries,
                end,
            });
            k = end;
        }
    }
}

/// Whether `nodes` keep the one-pickup-place trip rule, precedence granted: deliveries of loads
/// carried from the start come before any pickup, and a pickup either starts a trip (nothing picked
/// up is still on board) or follows the trip's pickups at their place.
pub(crate) fn trips_hold(p: &Prepared<'_>, nodes: &[NodeId]) -> bool {
    let (mut picked, mut on_board, mut delivering, mut place) = (false, 0usize, false, 0usize);
    for &node in nodes {
        if is_pickup(node) {
            let at = p.nodes[node].location;
            if on_board == 0 {
                (place, delivering) = (at, false);
            } else if delivering || at != place {
                return false;
            }
            picked = true;
            on_board += 1;
        } else if p.has_pickup(job_of(node)) {
            on_board = on_board.saturating_sub(1);
            delivering = true;
        } else if picked {
            return false;
        }
    }
    true
}

/// The load leaving the start: every delivery-only job on the route rides from there.
fn start_load(p: &Prepared<'_>, nodes: &[NodeId]) -> Load {
    let mut load = [0; LOAD_DIMS];
    for &node in nodes.iter().filter(|&&n| !is_pickup(n)) {
        for (l, s) in load.iter_mut().zip(p.start_load(job_of(node))) {
            *l += s;
        }
    }
    load
}

/// Cost of visiting `nodes` with `vehicle`, or `None` if a hard rule breaks (hard window, latest
/// pickup, capacity, shift end, unreachable place). Precedence and the trip rule ([`trips_hold`])
/// are the caller's responsibility: the insertion only tries positions that keep both.
pub(crate) fn evaluate(p: &Prepared<'_>, vehicle: usize, nodes: &[NodeId]) -> Option<f64> {
    // The latest-pickup test costs a few percent of the dispatch search; most vehicles have none.
    if p.fleet[vehicle].latest_pickup < f64::INFINITY {
        evaluate_as::<true>(p, vehicle, nodes)
    } else {
        evaluate_as::<false>(p, vehicle, nodes)
    }
}

/// [`evaluate`], testing pickups against the vehicle's latest pickup if `LATEST_PICKUP`.
fn evaluate_as<const LATEST_PICKUP: bool>(
    p: &Prepared<'_>,
    vehicle: usize,
    nodes: &[NodeId],
) -> Option<f64> {
    if nodes.is_empty() {
        return Some(0.0);
    }
    let fleet = p.fleet[vehicle];
    let m = p.matrix(vehicle);
    let w = &p.scalar;
    let mut load = start_load(p, nodes);
    if (0..LOAD_DIMS).any(|d| load[d] > fleet.capacity[d]) {
        return None;
    }
    let previous = p.problem.previous.as_ref();
    let (mut at, mut time) = (fleet.start, fleet.start_time);
    let (mut distance, mut travel, mut waiting, mut c2d, mut late, mut moved) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
    for (k, &node) in nodes.iter().enumerate() {
        let s = &p.nodes[node];
        let leg = m.duration(at, s.location);
        distance += m.distance(at, s.location);
        travel += leg;
        // Waiting for the window runs alongside the setup, and only what is left counts.
        let ready_to_serve = time + leg + s.setup_after((k > 0).then_some(at));
        let start = ready_to_serve.max(s.ready);
        let end = if LATEST_PICKUP && is_pickup(node) {
            s.hard_end.min(fleet.latest_pickup)
        } else {
            s.hard_end
        };
        if start > end + 1e-9 || !start.is_finite() {
            return None;
        }
        waiting += start - ready_to_serve;
        late += (start - s.soft_end).max(0.0);
        time = start + s.service;
        at = s.location;
        let job = job_of(node);
        for ((l, delta), cap) in load.iter_mut().zip(s.delta).zip(fleet.capacity) {
            *l += delta;
            if *l > cap {
                return None;
            }
        }
        if node == delivery_node(job) {
            if let Some(placed) = p.problem.jobs[job].placed_at {
                c2d += start - placed;
            }
            if previous
                .and_then(|prev| prev.vehicle_of_job.get(job).copied().flatten())
                .is_some_and(|v| v != vehicle)
            {
                moved += 1;
            }
        }
    }
    let finish = match fleet.end {
        Some(end) => {
            distance += m.distance(at, end);
            travel += m.duration(at, end);
            time + m.duration(at, end)
        }
        None => time,
    };
    if finish > fleet.shift_end + 1e-9 || !finish.is_finite() {
        return None;
    }
    Some(
        w.vehicle
            + w.distance * distance
            + w.travel_time * travel
            + w.waiting * waiting
            + w.click_to_door * c2d
            + w.lateness * late
            + w.reassignment * moved as f64,
    )
}
