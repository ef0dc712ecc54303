//! Vehicle profiles: which roads each kind of courier may use and how fast it moves on them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::RouterError;
use crate::osm::maxspeed::MaxSpeed;

/// How a courier travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    /// A car or van.
    Car,
    /// A bicycle (or e-bike).
    Bicycle,
    /// A moped or motor scooter: public roads but no motorways, at most 45 km/h.
    Scooter,
    /// On foot.
    Foot,
}

impl Profile {
    /// Every profile, in a fixed order.
    pub const ALL: [Profile; 4] = [
        Profile::Car,
        Profile::Bicycle,
        Profile::Scooter,
        Profile::Foot,
    ];

    /// The lowercase name used on command lines and in files.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Car => "car",
            Profile::Bicycle => "bicycle",
            Profile::Scooter => "scooter",
            Profile::Foot => "foot",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = RouterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| RouterError::UnknownProfile(s.to_owned()))
    }
}

/// What one profile may do on one way: its speed in each direction, `None` where that direction is
/// closed. "Forward" is the order of the way's nodes in OSM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WayRule {
    /// Speed along the node order, km/h.
    pub forward_kmh: Option<f64>,
    /// Speed against the node order, km/h.
    pub backward_kmh: Option<f64>,
}

/// Slowest speed a usable way gets, so that times stay finite and comparable.
const MIN_SPEED_KMH: f64 = 2.0;

/// Cars rarely drive at the limit (junctions, traffic lights, other traffic), so a tagged limit is
/// scaled by this, as OSRM's car profile does. Untagged roads use class speeds that are already
/// typical travel speeds.
const CAR_SHARE_OF_LIMIT: f64 = 0.8;

/// A car's limit on `maxspeed=none`: the German advisory speed, the only common case.
const CAR_UNLIMITED_KMH: f64 = 130.0;

/// A moped's design speed (EU class L1e), the cap on every scooter speed.
const SCOOTER_TOP_KMH: f64 = 45.0;

/// Walking pace, also a cyclist's pushing pace where signs say `bicycle=dismount`.
const WALK_KMH: f64 = 5.0;

/// Access values that close a way to the profile. `delivery`, `destination` and `customers` stay
/// open: a courier is just who those signs let in. `discouraged` stays open too (legal, only advised
/// against), as in OSRM.
const CLOSED: &[&str] = &[
    "no",
    "private",
    "agricultural",
    "forestry",
    "emergency",
    "psv",
    "bus",
    "military",
    "permit",
    "use_sidepath",
];

/// Values of the profile's own access key that open a way not open to it by default (a footway to
/// bicycles, a cycleway to walkers).
const PERMITTED: &[&str] = &["yes", "designated", "permissive"];

/// `highway` values never routed on, even with access tags: not built yet, gone, or not a way to
/// travel along (platforms are areas beside the track).
const NOT_A_ROAD: &[&str] = &[
    "construction",
    "proposed",
    "abandoned",
    "platform",
    "disused",
];

/// How a road class stands for a profile: its default speed, and whether the profile may use it only
/// where its own access tag says so (bicycles on footways, walkers on cycleways).
#[derive(Debug, Clone, Copy)]
struct Class {
    kmh: f64,
    needs_permission: bool,
}

/// A direction restriction read from a `oneway`-style value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Oneway {
    Both,
    Forward,
    Backward,
    /// Direction changes with time of day or signals (`reversible`, `alternating`).
    Varies,
}

fn parse_oneway(value: &str) -> Option<Oneway> {
    match value {
        "yes" | "true" | "1" => Some(Oneway::Forward),
        "-1" | "reverse" => Some(Oneway::Backward),
        "no" | "false" | "0" => Some(Oneway::Both),
        "reversible" | "alternating" => Some(Oneway::Varies),
        _ => None,
    }
}

/// Tag lookup shared by the rule helpers; `'t` is the lifetime of the tag values.
struct Tags<'f, 't>(&'f dyn Fn(&str) -> Option<&'t str>);

impl<'t> Tags<'_, 't> {
    fn get(&self, key: &str) -> Option<&'t str> {
        (self.0)(key)
    }

    fn is(&self, key: &str, values: &[&str]) -> bool {
        self.get(key).is_some_and(|v| values.contains(&v))
    }
}

impl Profile {
    /// Typical door-to-door speed, km/h, to turn a straight-line (great-circle) distance into a time
    /// when no road graph answers. These are crow-flies-equivalent city speeds, lower than road speeds
    /// because real paths are longer than the straight line and include junctions: car 25, bicycle 15,
    /// scooter 22, foot 5.
    pub fn fallback_speed_kmh(self) -> f64 {
        match self {
            Profile::Car => 25.0,
            Profile::Bicycle => 15.0,
            Profile::Scooter => 22.0,
            Profile::Foot => 5.0,
        }
    }

    /// The least and greatest speed, km/h, that [`way_rule`](Self::way_rule) ever gives.
    pub fn speed_bounds_kmh(self) -> (f64, f64) {
        let top = match self {
            Profile::Car => 130.0,
            Profile::Scooter => SCOOTER_TOP_KMH,
            Profile::Bicycle => 18.0,
            Profile::Foot => WALK_KMH,
        };
        (MIN_SPEED_KMH, top)
    }

    /// How this profile may use a way with the given tags (`tag(key)` is the value of `key`), or
    /// `None` when it may not use it at all.
    ///
    /// The rules are a simplified OSRM/Valhalla profile:
    /// - Only `highway` ways, and not `area=yes` (an area's outline is not a path across it),
    ///   `route=ferry`, nor ways under construction, proposed, abandoned or platforms.
    /// - Classes and default speeds, km/h: car motorway 90, trunk 80, primary 60, secondary 50,
    ///   tertiary 40, unclassified and residential 30, road 25, service 15, living street 10, each link
    ///   somewhat slower than its road. Scooter: the same without motorways, at most 45. Bicycle:
    ///   cycleway 18, roads 16, service 14, living street, track and path 12; trunks (16), footways and
    ///   pedestrian streets (10) only where `bicycle=yes|designated|permissive`, and anything with
    ///   `bicycle=dismount` at walking pace. Foot: every walkable class at 5, steps 3, cycleways only
    ///   with `foot=yes|designated|permissive`. Motorways and `motorroad=yes` are for cars only.
    /// - Access: the most specific of the profile's keys decides (car: `motorcar`, `motor_vehicle`,
    ///   `vehicle`, `access`; scooter: `moped`, `motor_vehicle`, `vehicle`, `access`; bicycle:
    ///   `bicycle`, `vehicle`, `access`; foot: `foot`, `access`). `no`, `private`, `agricultural`,
    ///   `forestry`, `emergency`, `psv`, `bus`, `military`, `permit` and `use_sidepath` close;
    ///   `delivery`, `destination` and `customers` stay open, a courier being who they let in.
    /// - Speed: the class default, replaced for cars by 80 % of a tagged `maxspeed` (traffic rarely
    ///   flows at the limit), for scooters by the limit itself up to 45 (they filter through traffic);
    ///   bicycles and walkers only take the limit as a cap (`maxspeed=walk`). `maxspeed:forward` and
    ///   `:backward` win over `maxspeed`. Every speed is clamped to
    ///   [`speed_bounds_kmh`](Self::speed_bounds_kmh).
    /// - Direction: `oneway=yes|true|1`, `-1|reverse`, and implied one way on roundabouts and
    ///   motorways; `oneway=no` opens both. Cars and scooters skip `reversible` and `alternating` ways,
    ///   whose direction at a given time we cannot know; bicycles have contraflow exceptions and
    ///   walkers ignore `oneway` (details on the private `oneway` method).
    pub fn way_rule<'t>(self, tag: impl Fn(&str) -> Option<&'t str>) -> Option<WayRule> {
        let tags = Tags(&tag);
        let highway = tags.get("highway")?;
        if tags.is("area", &["yes"])
            || tags.is("route", &["ferry"])
            || NOT_A_ROAD.contains(&highway)
        {
            return None;
        }
        let motor = matches!(self, Profile::Car | Profile::Scooter);
        if (self != Profile::Car && tags.is("motorroad", &["yes"]))
            || (motor && tags.is("service", &["emergency_access"]))
        {
            return None;
        }
        let class = self.class(highway)?;
        let access = self.access_keys().iter().find_map(|k| tags.get(k));
        let own = tags.get(self.access_keys()[0]);
        let dismount = self == Profile::Bicycle && own == Some("dismount");
        if class.needs_permission && !own.is_some_and(|v| PERMITTED.contains(&v)) && !dismount {
            return None;
        }
        if access.is_some_and(|v| CLOSED.contains(&v)) {
            return None;
        }
        let (forward, backward) = match self.oneway(highway, &tags) {
            Oneway::Both => (true, true),
            Oneway::Forward => (true, false),
            Oneway::Backward => (false, true),
            Oneway::Varies => return None,
        };
        let class_kmh = if dismount { WALK_KMH } else { class.kmh };
        let limit = |key| tags.get(key).and_then(crate::osm::maxspeed::parse);
        let general = limit("maxspeed");
        let speed = |directed| self.speed(class_kmh, limit(directed).or(general));
        Some(WayRule {
            forward_kmh: forward.then(|| speed("maxspeed:forward")),
            backward_kmh: backward.then(|| speed("maxspeed:backward")),
        })
    }

    /// [`way_rule`](Self::way_rule) on a plain tag list, for tests and tools.
    pub fn way_rule_for_tags(self, tags: &[(&str, &str)]) -> Option<WayRule> {
        self.way_rule(|key| tags.iter().find(|(k, _)| *k == key).map(|&(_, v)| v))
    }

    /// The access keys that speak for this profile, most specific first.
    fn access_keys(self) -> &'static [&'static str] {
        match self {
            Profile::Car => &["motorcar", "motor_vehicle", "vehicle", "access"],
            Profile::Scooter => &["moped", "motor_vehicle", "vehicle", "access"],
            Profile::Bicycle => &["bicycle", "vehicle", "access"],
            Profile::Foot => &["foot", "access"],
        }
    }

    /// The class table: which `highway` values the profile uses and how fast.
    ///
    /// Cars follow OSRM's car speeds rounded, links a bit slower than their road; tracks are left out
    /// (mostly farm and forest roads). Scooters take the car table without motorways, capped at
    /// 45 km/h. Trunks stay open to them unless `motorroad=yes` (checked in `way_rule`): mopeds are
    /// banned from motorways and motorroads, not from ordinary trunk roads, which in mountain
    /// countries are often the only road between valleys (without them, half of Andorra is
    /// unreachable by scooter). Bicycles ride 16 km/h on roads, 18 on cycleways, slower on tracks, paths and
    /// shared spaces, and use trunks, pedestrian streets and footways only where `bicycle=yes` (or
    /// designated, permissive) says so. Walkers go 5 km/h everywhere they may walk, 3 on steps.
    fn class(self, highway: &str) -> Option<Class> {
        let open = |kmh| {
            Some(Class {
                kmh,
                needs_permission: false,
            })
        };
        let permitted = |kmh| {
            Some(Class {
                kmh,
                needs_permission: true,
            })
        };
        let car = match highway {
            "motorway" => Some(90.0),
            "motorway_link" => Some(60.0),
            "trunk" => Some(80.0),
            "trunk_link" => Some(55.0),
            "primary" => Some(60.0),
            "primary_link" => Some(45.0),
            "secondary" => Some(50.0),
            "secondary_link" => Some(40.0),
            "tertiary" => Some(40.0),
            "tertiary_link" => Some(30.0),
            "unclassified" | "residential" => Some(30.0),
            "road" => Some(25.0),
            "living_street" => Some(10.0),
            "service" => Some(15.0),
            _ => None,
        };
        match self {
            Profile::Car => car.and_then(open),
            Profile::Scooter => match highway {
                "motorway" | "motorway_link" => None,
                _ => car.and_then(|kmh: f64| open(kmh.min(SCOOTER_TOP_KMH))),
            },
            Profile::Bicycle => match highway {
                "cycleway" => open(18.0),
                "primary" | "primary_link" | "secondary" | "secondary_link" | "tertiary"
                | "tertiary_link" | "unclassified" | "residential" | "road" => open(16.0),
                "service" => open(14.0),
                "living_street" | "track" | "path" => open(12.0),
                "trunk" | "trunk_link" => permitted(16.0),
                "pedestrian" | "footway" => permitted(10.0),
                _ => None,
            },
            Profile::Foot => match highway {
                "steps" => open(3.0),
                "cycleway" => permitted(WALK_KMH),
                "primary" | "primary_link" | "secondary" | "secondary_link" | "tertiary"
                | "tertiary_link" | "unclassified" | "residential" | "road" | "living_street"
                | "service" | "track" | "path" | "footway" | "pedestrian" | "bridleway" => {
                    open(WALK_KMH)
                }
                _ => None,
            },
        }
    }

    /// Which directions are open.
    ///
    /// `oneway=yes|true|1` and `-1|reverse` restrict, `no|false|0` opens both ways even on a
    /// roundabout; without a tag, roundabouts (`junction=roundabout|circular`) and motorways are one
    /// way along the node order. Bicycles obey that too unless `oneway:bicycle` says otherwise or a
    /// contraflow lane is tagged (`cycleway=opposite*`, `cycleway:left|right|both=opposite_*`, or a
    /// side lane whose own `oneway` is `no` or `-1`); reversible and alternating ways are two-way for
    /// them (in practice single-lane stretches they can pass). Walkers ignore `oneway` (it binds
    /// vehicles) except `oneway:foot`.
    fn oneway(self, highway: &str, tags: &Tags<'_, '_>) -> Oneway {
        let own = |key| tags.get(key).and_then(parse_oneway);
        let vehicle = || {
            own("oneway").unwrap_or(
                if tags.is("junction", &["roundabout", "circular"]) || highway == "motorway" {
                    Oneway::Forward
                } else {
                    Oneway::Both
                },
            )
        };
        match self {
            Profile::Car | Profile::Scooter => vehicle(),
            Profile::Foot => match own("oneway:foot") {
                Some(Oneway::Forward) => Oneway::Forward,
                Some(Oneway::Backward) => Oneway::Backward,
                _ => Oneway::Both,
            },
            Profile::Bicycle => {
                let contraflow = tags
                    .get("cycleway")
                    .is_some_and(|v| v.starts_with("opposite"))
                    || ["cycleway:left", "cycleway:right", "cycleway:both"]
                        .iter()
                        .any(|k| tags.get(k).is_some_and(|v| v.starts_with("opposite")))
                    || [
                        "cycleway:left:oneway",
                        "cycleway:right:oneway",
                        "cycleway:both:oneway",
                    ]
                    .iter()
                    .any(|k| tags.is(k, &["no", "-1"]));
                match own("oneway:bicycle") {
                    Some(Oneway::Varies) => Oneway::Both,
                    Some(d) => d,
                    None if contraflow => Oneway::Both,
                    None => match vehicle() {
                        Oneway::Varies => Oneway::Both,
                        d => d,
                    },
                }
            }
        }
    }

    /// The speed on a way of class speed `class_kmh` under the tagged limit, if any.
    fn speed(self, class_kmh: f64, limit: Option<MaxSpeed>) -> f64 {
        let kmh = match (self, limit) {
            (Profile::Car, Some(MaxSpeed::Limit(l))) => l * CAR_SHARE_OF_LIMIT,
            (Profile::Car, Some(MaxSpeed::Unlimited)) => CAR_UNLIMITED_KMH * CAR_SHARE_OF_LIMIT,
            (Profile::Scooter, Some(MaxSpeed::Limit(l))) => l,
            (Profile::Scooter, Some(MaxSpeed::Unlimited)) => SCOOTER_TOP_KMH,
            (Profile::Bicycle | Profile::Foot, Some(MaxSpeed::Limit(l))) => class_kmh.min(l),
            _ => class_kmh,
        };
        let (low, high) = self.speed_bounds_kmh();
        kmh.clamp(low, high)
    }
}

#[cfg(test)]
mod tests;
