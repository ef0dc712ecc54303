//! Tag rules on plain tag lists.
use super::*;
use Profile::{Bicycle, Car, Foot, Scooter};

fn rule(profile: Profile, tags: &[(&str, &str)]) -> Option<WayRule> {
    profile.way_rule_for_tags(tags)
}

/// (forward open, backward open) for the profile, `None` when the way is unusable.
fn dirs(profile: Profile, tags: &[(&str, &str)]) -> Option<(bool, bool)> {
    rule(profile, tags).map(|r| (r.forward_kmh.is_some(), r.backward_kmh.is_some()))
}

fn speed(profile: Profile, tags: &[(&str, &str)]) -> f64 {
    rule(profile, tags)
        .and_then(|r| r.forward_kmh)
        .expect("usable forward")
}

const BOTH: Option<(bool, bool)> = Some((true, true));
const FORWARD: Option<(bool, bool)> = Some((true, false));
const BACKWARD: Option<(bool, bool)> = Some((false, true));

#[test]
fn oneway_values() {
    let road = |v| [("highway", "residential"), ("oneway", v)];
    for v in ["yes", "true", "1"] {
        assert_eq!(dirs(Car, &road(v)), FORWARD, "{v}");
    }
    for v in ["-1", "reverse"] {
        assert_eq!(dirs(Car, &road(v)), BACKWARD, "{v}");
    }
    for v in ["no", "false", "0", "unknown-value"] {
        assert_eq!(dirs(Car, &road(v)), BOTH, "{v}");
    }
    for v in ["reversible", "alternating"] {
        assert_eq!(dirs(Car, &road(v)), None, "{v}");
        assert_eq!(dirs(Scooter, &road(v)), None, "{v}");
        assert_eq!(dirs(Bicycle, &road(v)), BOTH, "{v}");
    }
}

#[test]
fn roundabouts_and_motorways_are_one_way_unless_tagged_otherwise() {
    let roundabout = [("highway", "primary"), ("junction", "roundabout")];
    for profile in [Car, Scooter, Bicycle] {
        assert_eq!(dirs(profile, &roundabout), FORWARD, "{profile}");
    }
    let circular = [("highway", "tertiary"), ("junction", "circular")];
    assert_eq!(dirs(Car, &circular), FORWARD);
    let two_way = [
        ("highway", "primary"),
        ("junction", "roundabout"),
        ("oneway", "no"),
    ];
    assert_eq!(dirs(Car, &two_way), BOTH);
    assert_eq!(dirs(Car, &[("highway", "motorway")]), FORWARD);
    assert_eq!(dirs(Car, &[("highway", "motorway_link")]), BOTH);
}

#[test]
fn bicycle_contraflow() {
    let oneway = |extra: (&'static str, &'static str)| {
        [("highway", "residential"), ("oneway", "yes"), extra]
    };
    for extra in [
        ("oneway:bicycle", "no"),
        ("cycleway", "opposite"),
        ("cycleway", "opposite_lane"),
        ("cycleway:left", "opposite_lane"),
        ("cycleway:right", "opposite_track"),
        ("cycleway:left:oneway", "-1"),
    ] {
        assert_eq!(dirs(Bicycle, &oneway(extra)), BOTH, "{extra:?}");
        assert_eq!(dirs(Car, &oneway(extra)), FORWARD, "{extra:?}");
    }
    assert_eq!(dirs(Bicycle, &oneway(("cycleway", "lane"))), FORWARD);
    let bike_only_oneway = [("highway", "residential"), ("oneway:bicycle", "yes")];
    assert_eq!(dirs(Bicycle, &bike_only_oneway), FORWARD);
    assert_eq!(dirs(Car, &bike_only_oneway), BOTH);
}

#[test]
fn walkers_ignore_oneway_except_their_own() {
    let oneway = [("highway", "residential"), ("oneway", "yes")];
    assert_eq!(dirs(Foot, &oneway), BOTH);
    assert_eq!(
        dirs(Foot, &[("highway", "primary_link"), ("oneway", "-1")]),
        BOTH
    );
    let roundabout = [("highway", "residential"), ("junction", "roundabout")];
    assert_eq!(dirs(Foot, &roundabout), BOTH);
    let foot_oneway = [("highway", "footway"), ("oneway:foot", "yes")];
    assert_eq!(dirs(Foot, &foot_oneway), FORWARD);
}

#[test]
fn access_private_closes_unless_the_profile_is_let_in() {
    let private = [("highway", "service"), ("access", "private")];
    for profile in Profile::ALL {
        assert_eq!(dirs(profile, &private), None, "{profile}");
    }
    let cars_let_in = [
        ("highway", "service"),
        ("access", "private"),
        ("motor_vehicle", "yes"),
    ];
    assert_eq!(dirs(Car, &cars_let_in), BOTH);
    assert_eq!(dirs(Scooter, &cars_let_in), BOTH);
    assert_eq!(dirs(Bicycle, &cars_let_in), None);
    assert_eq!(dirs(Foot, &cars_let_in), None);
    let walkers_let_in = [("highway", "track"), ("access", "no"), ("foot", "yes")];
    assert_eq!(dirs(Foot, &walkers_let_in), BOTH);
    assert_eq!(dirs(Bicycle, &walkers_let_in), None);
    // The most specific key wins, both ways round.
    let no_cars = [
        ("highway", "residential"),
        ("motorcar", "no"),
        ("motor_vehicle", "yes"),
    ];
    assert_eq!(dirs(Car, &no_cars), None);
    assert_eq!(dirs(Scooter, &no_cars), BOTH);
    let no_mopeds = [("highway", "residential"), ("moped", "no")];
    assert_eq!(dirs(Scooter, &no_mopeds), None);
    assert_eq!(dirs(Car, &no_mopeds), BOTH);
}

#[test]
fn couriers_may_deliver_but_not_farm() {
    for open in ["delivery", "destination", "customers", "yes", "permissive"] {
        assert_eq!(
            dirs(Car, &[("highway", "residential"), ("access", open)]),
            BOTH,
            "{open}"
        );
    }
    for closed in ["no", "agricultural", "forestry", "emergency", "psv"] {
        let tags = [("highway", "residential"), ("access", closed)];
        assert_eq!(dirs(Car, &tags), None, "{closed}");
    }
}

#[test]
fn maxspeed_sets_car_and_scooter_speeds() {
    let road = |v| [("highway", "residential"), ("maxspeed", v)];
    assert_eq!(speed(Car, &road("50")), 40.0);
    assert!((speed(Car, &road("30 mph")) - 30.0 * 1.609_344 * 0.8).abs() < 1e-9);
    assert_eq!(speed(Car, &road("FR:urban")), 40.0);
    assert_eq!(speed(Car, &road("DE:rural")), 80.0);
    assert_eq!(speed(Car, &road("50;30")), 24.0);
    assert_eq!(speed(Car, &road("none")), 104.0);
    for garbage in ["fast", "signals", "", "1000"] {
        assert_eq!(speed(Car, &road(garbage)), 30.0, "{garbage:?}");
    }
    assert_eq!(speed(Car, &[("highway", "motorway")]), 90.0);
    assert_eq!(speed(Scooter, &road("70")), 45.0);
    assert_eq!(speed(Scooter, &road("30")), 30.0);
    assert_eq!(speed(Scooter, &[("highway", "primary")]), 45.0);
    let directed = [
        ("highway", "primary"),
        ("maxspeed", "50"),
        ("maxspeed:backward", "30"),
    ];
    let r = rule(Car, &directed).unwrap();
    assert_eq!((r.forward_kmh, r.backward_kmh), (Some(40.0), Some(24.0)));
}

#[test]
fn cyclists_and_walkers_take_maxspeed_only_as_a_cap() {
    assert_eq!(
        speed(Bicycle, &[("highway", "primary"), ("maxspeed", "90")]),
        16.0
    );
    let walk = [("highway", "living_street"), ("maxspeed", "walk")];
    assert_eq!(speed(Bicycle, &walk), 6.0);
    assert_eq!(
        speed(Foot, &[("highway", "primary"), ("maxspeed", "90")]),
        5.0
    );
}

#[test]
fn motorways_and_motorroads_are_for_cars() {
    for highway in ["motorway", "motorway_link"] {
        assert!(rule(Car, &[("highway", highway)]).is_some());
        for profile in [Scooter, Bicycle, Foot] {
            assert_eq!(
                rule(profile, &[("highway", highway)]),
                None,
                "{profile} {highway}"
            );
        }
    }
    let motorroad = [("highway", "trunk"), ("motorroad", "yes")];
    assert!(rule(Car, &motorroad).is_some());
    for profile in [Scooter, Bicycle, Foot] {
        assert_eq!(rule(profile, &motorroad), None, "{profile}");
    }
    assert!(rule(Scooter, &[("highway", "trunk")]).is_some());
    assert_eq!(rule(Bicycle, &[("highway", "trunk")]), None);
    assert!(rule(Bicycle, &[("highway", "trunk"), ("bicycle", "yes")]).is_some());
    assert_eq!(rule(Foot, &[("highway", "trunk")]), None);
}

#[test]
fn steps_and_footways_by_profile() {
    let steps = [("highway", "steps")];
    assert_eq!(speed(Foot, &steps), 3.0);
    for profile in [Car, Scooter, Bicycle] {
        assert_eq!(rule(profile, &steps), None, "{profile}");
    }
    let footway = [("highway", "footway")];
    assert_eq!(speed(Foot, &footway), 5.0);
    assert_eq!(rule(Bicycle, &footway), None);
    assert_eq!(rule(Car, &footway), None);
    assert_eq!(
        speed(
            Bicycle,
            &[("highway", "footway"), ("bicycle", "designated")]
        ),
        10.0
    );
    assert_eq!(
        speed(
            Bicycle,
            &[("highway", "pedestrian"), ("bicycle", "dismount")]
        ),
        5.0
    );
    assert_eq!(rule(Bicycle, &[("highway", "pedestrian")]), None);
    assert_eq!(rule(Foot, &[("highway", "cycleway")]), None);
    assert!(rule(Foot, &[("highway", "cycleway"), ("foot", "designated")]).is_some());
}

#[test]
fn ways_that_are_not_roads_are_skipped() {
    for tags in [
        &[("highway", "pedestrian"), ("area", "yes")][..],
        &[("highway", "service"), ("route", "ferry")],
        &[("highway", "construction")],
        &[("highway", "proposed")],
        &[("highway", "platform")],
        &[("highway", "raceway")],
        &[("route", "ferry")],
        &[("name", "Rue sans highway")],
    ] {
        for profile in Profile::ALL {
            assert_eq!(rule(profile, tags), None, "{profile} {tags:?}");
        }
    }
}

#[test]
fn speeds_stay_within_bounds_and_fallbacks_are_slower_than_roads() {
    for profile in Profile::ALL {
        let (low, high) = profile.speed_bounds_kmh();
        assert!(low > 0.0 && low < high);
        assert!(profile.fallback_speed_kmh() <= high);
    }
    assert_eq!(
        speed(Car, &[("highway", "primary"), ("maxspeed", "250")]),
        130.0
    );
    assert_eq!(
        speed(Car, &[("highway", "service"), ("maxspeed", "1")]),
        2.0
    );
}
