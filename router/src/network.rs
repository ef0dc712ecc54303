//! A road network ready to answer: graph, hierarchy, snapping index and the live traffic metric.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::error::{Result, RouterError};
use crate::geo::LatLng;
use crate::graph::{Centimetres, Millis, RoadGraph};
use crate::hierarchy::{Anchor, Hierarchy, Metric, Query, Scratch, Table, table};
use crate::profile::Profile;
use crate::reference::Reference;
use crate::route::Route;
use crate::snap::{DEFAULT_MAX_SNAP_M, Snap, SnapIndex};
use crate::traffic::{ArcCells, HourOfWeek, Traffic};

/// The traffic state queries run against, swapped whole when traffic or the hour changes so that a
/// query in flight keeps a consistent view.
#[derive(Debug)]
struct Live {
    traffic: Option<Traffic>,
    hour: HourOfWeek,
    arc_millis: Vec<Millis>,
    metric: Metric,
}

/// One profile's road network, shareable between threads. Queries take `&self`; traffic updates
/// re-customize the hierarchy and take effect for every query that starts after they return.
pub struct RoadNetwork {
    profile: Profile,
    graph: RoadGraph,
    hierarchy: Hierarchy,
    cells: ArcCells,
    snaps: SnapIndex,
    max_snap_m: f64,
    live: RwLock<Arc<Live>>,
    scratch: Mutex<Vec<Scratch>>,
}

/// A summary: graph and hierarchy arrays run to millions of entries, which no log line wants.
impl std::fmt::Debug for RoadNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoadNetwork")
            .field("profile", &self.profile)
            .field("nodes", &self.graph.node_count())
            .field("arcs", &self.graph.arc_count())
            .field("max_snap_m", &self.max_snap_m)
            .finish_non_exhaustive()
    }
}

impl RoadNetwork {
    /// Prepares a graph: orders and builds the hierarchy, locates arcs in H3 cells, indexes segments.
    pub fn prepare(profile: Profile, graph: RoadGraph) -> Self {
        let hierarchy = Hierarchy::build(&graph);
        let cells = ArcCells::of(&graph);
        Self::from_parts(profile, graph, hierarchy, cells)
    }

    /// Assembles a network from parts prepared earlier (see [`crate::file`]), customizing free flow.
    pub fn from_parts(
        profile: Profile,
        graph: RoadGraph,
        hierarchy: Hierarchy,
        cells: ArcCells,
    ) -> Self {
        let arc_millis: Vec<Millis> = graph.arcs().map(|(_, a)| graph.millis(a)).collect();
        let metric = Metric::customize(&hierarchy, &graph, &arc_millis);
        let snaps = SnapIndex::new(&graph);
        let live = Live {
            traffic: None,
            hour: HourOfWeek::new(0).expect("0 is an hour"),
            arc_millis,
            metric,
        };
        Self {
            profile,
            graph,
            hierarchy,
            cells,
            snaps,
            max_snap_m: DEFAULT_MAX_SNAP_M,
            live: RwLock::new(Arc::new(live)),
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// The vehicle profile the graph was built for.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The road graph.
    pub fn graph(&self) -> &RoadGraph {
        &self.graph
    }

    /// The hierarchy's shape.
    pub fn hierarchy(&self) -> &Hierarchy {
        &self.hierarchy
    }

    /// Each arc's H3 cell.
    pub fn cells(&self) -> &ArcCells {
        &self.cells
    }

    /// Sets how far from a road a coordinate may be and still be routed (metres).
    pub fn with_max_snap_m(mut self, max_snap_m: f64) -> Self {
        self.max_snap_m = max_snap_m;
        self
    }

    /// The nearest point on a usable road, refused beyond the snapping radius.
    pub fn snap(&self, point: LatLng) -> Result<Snap> {
        self.snaps.snap(&self.graph, point, self.max_snap_m)
    }

    /// Installs a traffic table and the hour it is read at. Returns once every later query sees it.
    pub fn set_traffic(&self, traffic: Traffic, hour: HourOfWeek) {
        self.install(Some(traffic), hour);
    }

    /// Moves the traffic clock to another hour of the week.
    pub fn set_hour(&self, hour: HourOfWeek) {
        let traffic = self.live().traffic.clone();
        self.install(traffic, hour);
    }

    /// Back to free flow.
    pub fn clear_traffic(&self) {
        let hour = self.live().hour;
        self.install(None, hour);
    }

    fn install(&self, traffic: Option<Traffic>, hour: HourOfWeek) {
        let arc_millis = match &traffic {
            Some(t) => t.arc_millis(&self.graph, &self.cells, hour),
            None => self
                .graph
                .arcs()
                .map(|(_, a)| self.graph.millis(a))
                .collect(),
        };
        let metric = Metric::customize(&self.hierarchy, &self.graph, &arc_millis);
        let live = Arc::new(Live {
            traffic,
            hour,
            arc_millis,
            metric,
        });
        *self.live.write().unwrap_or_else(PoisonError::into_inner) = live;
    }

    fn live(&self) -> Arc<Live> {
        Arc::clone(&self.live.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `f` with a query object on the current metric and pooled scratch memory.
    pub fn with_query<T>(&self, f: impl FnOnce(&mut Query<'_>) -> T) -> T {
        self.query_on(&self.live(), f)
    }

    fn query_on<T>(&self, live: &Live, f: impl FnOnce(&mut Query<'_>) -> T) -> T {
        let mut scratch = self
            .scratch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_else(|| Scratch::new(self.graph.node_count()));
        let answer = f(&mut Query::new(&self.hierarchy, &live.metric, &mut scratch));
        self.scratch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(scratch);
        answer
    }

    /// Fastest travel time and length between two coordinates, without the path.
    pub fn travel(&self, from: LatLng, to: LatLng) -> Result<(Millis, Centimetres)> {
        let live = self.live();
        let ends = self.ends(&live, from, to)?;
        let via_network = self
            .query_on(&live, |q| q.between(&ends.depart, &ends.arrive))
            .map(|f| (f.millis, f.centimetres));
        ends.direct
            .into_iter()
            .chain(via_network)
            .min()
            .ok_or(RouterError::NoRoute { from, to })
    }

    /// Fastest route between two coordinates, with its geometry.
    pub fn route(&self, from: LatLng, to: LatLng) -> Result<Route> {
        let live = self.live();
        let ends = self.ends(&live, from, to)?;
        let via_network = self
            .query_on(&live, |q| q.path(&ends.depart, &ends.arrive))
            .map(|(f, nodes)| (f.millis, f.centimetres, nodes));
        self.assemble(ends, via_network)
            .ok_or(RouterError::NoRoute { from, to })
    }

    /// The same as [`route`](Self::route) by plain Dijkstra on petgraph: slow, for checking.
    pub fn route_by_dijkstra(&self, from: LatLng, to: LatLng) -> Result<Route> {
        let live = self.live();
        let ends = self.ends(&live, from, to)?;
        let via_network = Reference::new(&self.graph, &live.arc_millis)
            .between(&ends.depart, &ends.arrive)
            .map(|p| (p.millis, p.centimetres, p.nodes));
        self.assemble(ends, via_network)
            .ok_or(RouterError::NoRoute { from, to })
    }

    /// Current travel time of every graph arc (free flow or with traffic), in graph arc order.
    pub fn arc_millis(&self) -> Vec<Millis> {
        self.live().arc_millis.clone()
    }

    fn ends(&self, live: &Live, from: LatLng, to: LatLng) -> Result<Ends> {
        let (a, b) = (self.snap(from)?, self.snap(to)?);
        Ok(Ends {
            depart: departing(&self.graph, &live.arc_millis, &a),
            arrive: arriving(&self.graph, &live.arc_millis, &b),
            direct: along_segment(&self.graph, &live.arc_millis, &a, &b),
            from: a,
            to: b,
        })
    }

    fn assemble(
        &self,
        ends: Ends,
        via_network: Option<(Millis, Centimetres, Vec<u32>)>,
    ) -> Option<Route> {
        let Ends {
            from: a,
            to: b,
            direct,
            ..
        } = ends;
        match (direct, via_network) {
            (Some((ms, cm)), network) if network.as_ref().is_none_or(|n| ms <= n.0) => {
                Some(Route::snapped(ms, cm, vec![a.point, b.point], &a, &b))
            }
            (_, Some((ms, cm, nodes))) => {
                let mut geometry = Vec::with_capacity(nodes.len() + 2);
                geometry.push(a.point);
                geometry.extend(nodes.iter().map(|&v| self.graph.coord(v)));
                geometry.push(b.point);
                Some(Route::snapped(ms, cm, geometry, &a, &b))
            }
            _ => None,
        }
    }

    /// Travel times and lengths from every source to every target coordinate. Fails, naming the
    /// point, if one is too far from a road; unreachable pairs hold [`INFINITY`](crate::graph::INFINITY).
    pub fn table(&self, sources: &[LatLng], targets: &[LatLng]) -> Result<Table> {
        let source_snaps = sources
            .iter()
            .map(|&p| self.snap(p))
            .collect::<Result<Vec<_>>>()?;
        let target_snaps = targets
            .iter()
            .map(|&p| self.snap(p))
            .collect::<Result<Vec<_>>>()?;
        let live = self.live();
        let departs: Vec<Anchor> = source_snaps
            .iter()
            .map(|s| departing(&self.graph, &live.arc_millis, s))
            .collect();
        let arrives: Vec<Anchor> = target_snaps
            .iter()
            .map(|s| arriving(&self.graph, &live.arc_millis, s))
            .collect();
        let mut answer = table(&self.hierarchy, &live.metric, &departs, &arrives);
        // Places on the same segment may be joined along it without touching a node.
        let mut by_segment: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
        for (j, s) in target_snaps.iter().enumerate() {
            by_segment.entry((s.from, s.to)).or_default().push(j);
        }
        for (i, a) in source_snaps.iter().enumerate() {
            for &j in by_segment.get(&(a.from, a.to)).into_iter().flatten() {
                if let Some((ms, cm)) =
                    along_segment(&self.graph, &live.arc_millis, a, &target_snaps[j])
                {
                    let k = i * answer.columns + j;
                    if ms < answer.millis[k] {
                        answer.millis[k] = ms;
                        answer.centimetres[k] = cm;
                    }
                }
            }
        }
        Ok(answer)
    }
}

/// Both ends of a trip, snapped and anchored.
struct Ends {
    from: Snap,
    to: Snap,
    depart: Anchor,
    arrive: Anchor,
    direct: Option<(Millis, Centimetres)>,
}

/// Time and length of arc `tail → head` under the live times, if the arc exists.
fn arc(
    graph: &RoadGraph,
    arc_millis: &[Millis],
    tail: u32,
    head: u32,
) -> Option<(Millis, Centimetres)> {
    graph
        .find_arc(tail, head)
        .map(|a| (arc_millis[a], graph.centimetres(a)))
}

fn part((ms, cm): (Millis, Centimetres), share: f64) -> (Millis, Centimetres) {
    (
        (f64::from(ms) * share).round() as Millis,
        (f64::from(cm) * share).round() as Centimetres,
    )
}

/// Leaving a snapped point: forward along the segment to `to`, or backward to `from`, as the arcs allow.
fn departing(graph: &RoadGraph, arc_millis: &[Millis], s: &Snap) -> Anchor {
    let mut entries = Vec::with_capacity(2);
    if let Some(w) = arc(graph, arc_millis, s.from, s.to) {
        let (ms, cm) = part(w, 1.0 - s.fraction);
        entries.push((s.to, ms, cm));
    }
    if let Some(w) = arc(graph, arc_millis, s.to, s.from) {
        let (ms, cm) = part(w, s.fraction);
        entries.push((s.from, ms, cm));
    }
    Anchor::nodes(&entries)
}

/// Arriving at a snapped point: coming from `from` along the segment, or from `to` against it.
fn arriving(graph: &RoadGraph, arc_millis: &[Millis], s: &Snap) -> Anchor {
    let mut entries = Vec::with_capacity(2);
    if let Some(w) = arc(graph, arc_millis, s.from, s.to) {
        let (ms, cm) = part(w, s.fraction);
        entries.push((s.from, ms, cm));
    }
    if let Some(w) = arc(graph, arc_millis, s.to, s.from) {
        let (ms, cm) = part(w, 1.0 - s.fraction);
        entries.push((s.to, ms, cm));
    }
    Anchor::nodes(&entries)
}

/// Travel from `a` to `b` without leaving their common segment, if they share one and an arc runs the
/// right way.
fn along_segment(
    graph: &RoadGraph,
    arc_millis: &[Millis],
    a: &Snap,
    b: &Snap,
) -> Option<(Millis, Centimetres)> {
    if (a.from, a.to) != (b.from, b.to) {
        return None;
    }
    let forward = (a.fraction <= b.fraction)
        .then(|| arc(graph, arc_millis, a.from, a.to))
        .flatten()
        .map(|w| part(w, b.fraction - a.fraction));
    let backward = (a.fraction >= b.fraction)
        .then(|| arc(graph, arc_millis, a.to, a.from))
        .flatten()
        .map(|w| part(w, a.fraction - b.fraction));
    forward.into_iter().chain(backward).min()
}
