//! The legal speed limit of a way, from its `maxspeed` tag.
//!
//! Accepts what mappers actually write: `50`, `50 km/h`, `30 mph`, `10 knots`, `none`, `walk`,
//! country-coded zones such as `FR:urban`, `DE:rural`, `GB:nsl_single` or `DE:zone30`, and several
//! values separated by `;`, of which the lowest counts (they are usually per-lane or time-dependent
//! limits, and the lowest is the safe guess). Anything else (`signals`, `variable`, typos) reads as no
//! tag, so the profile falls back to the road class's speed.

/// A parsed `maxspeed` value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MaxSpeed {
    /// A limit in km/h.
    Limit(f64),
    /// `none`: no legal limit (German autobahns, Isle of Man).
    Unlimited,
}

/// Speed of "walking pace" (`walk`, `DE:walk`, living streets in Germany and Austria). The law says
/// 4–7 km/h depending on the court; 6 is the middle of that.
const WALK_KMH: f64 = 6.0;

/// Limits above this are typing errors (or racetracks); they read as no tag.
const IMPLAUSIBLE_KMH: f64 = 300.0;

const KMH_PER_MPH: f64 = 1.609_344;
const KMH_PER_KNOT: f64 = 1.852;

/// Parses a `maxspeed` value; `None` when nothing in it is understood.
pub(crate) fn parse(value: &str) -> Option<MaxSpeed> {
    value
        .split(';')
        .filter_map(|part| parse_one(part.trim()))
        .reduce(|a, b| match (a, b) {
            (MaxSpeed::Limit(x), MaxSpeed::Limit(y)) => MaxSpeed::Limit(x.min(y)),
            (MaxSpeed::Limit(x), MaxSpeed::Unlimited)
            | (MaxSpeed::Unlimited, MaxSpeed::Limit(x)) => MaxSpeed::Limit(x),
            (MaxSpeed::Unlimited, MaxSpeed::Unlimited) => MaxSpeed::Unlimited,
        })
}

fn parse_one(value: &str) -> Option<MaxSpeed> {
    match value {
        "none" | "unlimited" => return Some(MaxSpeed::Unlimited),
        "walk" => return Some(MaxSpeed::Limit(WALK_KMH)),
        _ => {}
    }
    if let Some((country, zone)) = value.split_once(':')
        && !country.is_empty()
        && country.chars().all(|c| c.is_ascii_uppercase() || c == '-')
    {
        return zone_kmh(country, zone).map(MaxSpeed::Limit);
    }
    number_kmh(value).map(MaxSpeed::Limit)
}

/// A number with an optional unit: none or `km/h`, `kmh`, `kph` mean km/h; `mph`; `knots`.
fn number_kmh(value: &str) -> Option<f64> {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "" | "km/h" | "kmh" | "kph" => 1.0,
        "mph" => KMH_PER_MPH,
        "knots" => KMH_PER_KNOT,
        _ => return None,
    };
    let kmh = number * factor;
    (kmh > 0.0 && kmh <= IMPLAUSIBLE_KMH).then_some(kmh)
}

/// The limit a country's zone code stands for (see the OSM wiki's "Default speed limits"). Countries
/// not listed get the most common European value for the zone, which is right for most of them.
fn zone_kmh(country: &str, zone: &str) -> Option<f64> {
    let mph = |v: f64| v * KMH_PER_MPH;
    // `zone30`, `zone:30` and `zone20` are traffic-calmed areas named after their limit.
    if let Some(n) = zone.strip_prefix("zone") {
        return number_kmh(n.trim_start_matches(':'));
    }
    let kmh = match (country, zone) {
        ("GB" | "IE", "nsl_restricted") => mph(30.0),
        ("GB", "nsl_single") => mph(60.0),
        ("GB", "nsl_dual" | "motorway") => mph(70.0),
        ("GB", "urban") => mph(30.0),
        ("GB", "rural") => mph(60.0),
        ("DE" | "AT", "rural") => 100.0,
        ("FR" | "CH" | "NL", "rural") => 80.0,
        ("BE-VLG", "rural") => 70.0,
        ("RU", "urban") => 60.0,
        ("DE", "motorway") => 130.0, // the advisory speed: there is no limit
        ("CH" | "ES" | "BE" | "BE-VLG" | "BE-WAL", "motorway") => 120.0,
        ("NL", "motorway") => 100.0,
        ("RU", "motorway") => 110.0,
        ("PL", "motorway") => 140.0,
        (_, "urban") => 50.0,
        (_, "rural") => 90.0,
        (_, "trunk" | "expressway") => 110.0,
        (_, "motorway") => 130.0,
        (_, "living_street" | "walk" | "pedestrian_zone") => WALK_KMH,
        (_, "bicycle_road" | "cyclestreet" | "school") => 30.0,
        _ => return None,
    };
    Some(kmh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kmh(value: &str) -> Option<f64> {
        match parse(value) {
            Some(MaxSpeed::Limit(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn numbers_and_units() {
        assert_eq!(kmh("50"), Some(50.0));
        assert_eq!(kmh(" 30 km/h"), Some(30.0));
        assert!((kmh("30 mph").unwrap() - 48.28).abs() < 0.01);
        assert!((kmh("20mph").unwrap() - 32.19).abs() < 0.01);
        assert!((kmh("10 knots").unwrap() - 18.52).abs() < 0.01);
    }

    #[test]
    fn words_and_zones() {
        assert_eq!(parse("none"), Some(MaxSpeed::Unlimited));
        assert_eq!(kmh("walk"), Some(WALK_KMH));
        assert_eq!(kmh("FR:urban"), Some(50.0));
        assert_eq!(kmh("FR:rural"), Some(80.0));
        assert_eq!(kmh("DE:rural"), Some(100.0));
        assert_eq!(kmh("IT:rural"), Some(90.0));
        assert_eq!(kmh("FR:motorway"), Some(130.0));
        assert_eq!(kmh("DE:zone30"), Some(30.0));
        assert_eq!(kmh("DE:zone:20"), Some(20.0));
        assert_eq!(kmh("DE:living_street"), Some(WALK_KMH));
        assert!((kmh("GB:nsl_single").unwrap() - 96.56).abs() < 0.01);
    }

    #[test]
    fn lowest_of_several_values() {
        assert_eq!(kmh("50;30"), Some(30.0));
        assert_eq!(kmh("none;80"), Some(80.0));
        assert_eq!(kmh("signals;70"), Some(70.0));
    }

    #[test]
    fn garbage_is_no_tag() {
        for value in [
            "",
            "signals",
            "variable",
            "fast",
            "0",
            "-30",
            "999",
            "50 furlongs",
            "FR:moon",
            "fr:urban",
            ":50",
        ] {
            assert_eq!(parse(value), None, "{value:?}");
        }
    }
}
