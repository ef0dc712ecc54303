//! The page as a whole: empty data, hostile text, no external references, size.

use chrono::{TimeDelta, TimeZone, Utc};

use super::*;

fn p(lat: f64, lng: f64) -> LatLng {
    LatLng::new(lat, lng).expect("valid test coordinate")
}

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 11, 0, 0).unwrap() + TimeDelta::minutes(minute)
}

fn delivery(id: &str, placed: i64, delivered: i64, promised: i64) -> ReportDelivery {
    ReportDelivery {
        order_id: id.into(),
        at: p(43.735 + placed as f64 * 1e-4, 7.42),
        kitchen_id: "k1".into(),
        placed_at: at(placed),
        delivered_at: at(delivered),
        promised_end: at(promised),
    }
}

/// Every attribute value in `page` of the elements the drawings use, as text.
fn attribute_values(page: &str) -> Vec<&str> {
    page.split('"').skip(1).step_by(2).collect()
}

#[test]
fn minutes_and_lateness() {
    let d = delivery("o", 0, 35, 30);
    assert_eq!(d.click_to_door_min(), 35.0);
    assert_eq!(d.late_min(), 5.0);
    assert_eq!(delivery("o", 0, 20, 30).late_min(), 0.0);
    let mut precise = delivery("o", 0, 0, 0);
    precise.delivered_at += TimeDelta::seconds(90);
    assert_eq!(precise.click_to_door_min(), 1.5);
}

#[test]
fn empty_data_renders_a_page_saying_so() {
    let page = render(&ReportData::default());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    assert!(page.contains("<title>Dispatch report</title>"));
    assert!(page.contains("Nothing to show"));
    assert!(page.contains("Nothing to draw on the map."));
    assert!(page.contains("No deliveries to chart."));
    assert!(!page.contains("<svg"));
}

#[test]
fn streets_alone_still_say_nothing_to_show_but_draw_the_map() {
    let data = ReportData {
        streets: vec![[p(43.73, 7.41), p(43.74, 7.42)]],
        ..ReportData::default()
    };
    let page = render(&data);
    assert!(page.contains("Nothing to show"));
    assert!(page.contains("<path class=\"streets\""));
}

#[test]
fn ids_and_text_are_escaped() {
    let nasty = r#"<o&"1'>"#;
    let data = ReportData {
        title: nasty.into(),
        kitchens: vec![ReportKitchen {
            id: nasty.into(),
            at: p(43.73, 7.41),
        }],
        tracks: vec![ReportTrack {
            courier_id: nasty.into(),
            vehicle: nasty.into(),
            fixes: vec![(at(0), p(43.73, 7.41)), (at(5), p(43.74, 7.42))],
        }],
        deliveries: vec![ReportDelivery {
            order_id: nasty.into(),
            kitchen_id: nasty.into(),
            ..delivery("x", 0, 20, 30)
        }],
        kpis: vec![(nasty.into(), nasty.into())],
        attribution: nasty.into(),
        ..ReportData::default()
    };
    let page = render(&data);
    assert!(!page.contains(nasty));
    assert!(!page.contains("<o&"));
    let escaped = "&lt;o&amp;&quot;1&#39;&gt;";
    // Title (twice), KPI label and value, attribution, kitchen tooltip, track attribute and
    // tooltip (id and vehicle), drop-off and dot attributes and tooltips (order and kitchen).
    assert!(
        page.matches(escaped).count() >= 14,
        "{}",
        page.matches(escaped).count()
    );
    assert!(page.contains(&format!("data-order=\"{escaped}\"")));
    assert!(page.contains(&format!("data-courier=\"{escaped}\"")));
    // An unknown vehicle is drawn, in the "other" colour.
    assert!(page.contains("class=\"track veh-other\""));
}

#[test]
fn drop_offs_are_coloured_by_lateness() {
    let data = ReportData {
        deliveries: vec![
            delivery("early", 0, 25, 30),
            delivery("exact", 0, 30, 30),
            delivery("a-bit", 0, 34, 30),
            delivery("five", 0, 35, 30),
            delivery("six", 0, 36, 30),
        ],
        ..ReportData::default()
    };
    let page = render(&data);
    let class_of = |id: &str| {
        let tail = &page[..page.find(&format!("data-order=\"{id}\"")).unwrap()];
        let start = tail.rfind("class=\"drop ").unwrap() + "class=\"drop ".len();
        tail[start..].split('"').next().unwrap().to_owned()
    };
    assert_eq!(class_of("early"), "on-time");
    assert_eq!(class_of("exact"), "on-time");
    assert_eq!(class_of("a-bit"), "slight");
    assert_eq!(class_of("five"), "slight");
    assert_eq!(class_of("six"), "late");
    assert!(page.contains("2 on time, 2 up to 5 min late, 1 more than 5 min late"));
}

#[test]
fn no_external_references_and_no_nan() {
    let data = ReportData {
        title: "t".into(),
        streets: vec![[p(43.73, 7.41), p(43.74, 7.42)]],
        kitchens: vec![ReportKitchen {
            id: "k1".into(),
            at: p(43.735, 7.415),
        }],
        tracks: vec![ReportTrack {
            courier_id: "c1".into(),
            vehicle: "bicycle".into(),
            // Out of time order, and one fix only once: drawn sorted.
            fixes: vec![(at(9), p(43.74, 7.42)), (at(1), p(43.73, 7.41))],
        }],
        // Every delivery at the same moment, and one delivered before it was placed.
        deliveries: vec![delivery("a", 10, 10, 30), delivery("b", 20, 10, 30)],
        kpis: vec![("orders".into(), "2".into())],
        attribution: "© OpenStreetMap contributors, ODbL 1.0".into(),
    };
    let page = render(&data);
    for needle in [
        "http:", "https:", "src=", "href=", "url(", "@import", "NaN", "inf",
    ] {
        assert!(!page.contains(needle), "{needle} in the page");
    }
    assert!(
        page.contains("points=\"0,"),
        "track starts at its earliest fix"
    );
    for value in attribute_values(&page) {
        assert!(!value.contains("NaN") && !value.contains("inf"), "{value}");
    }
    assert!(page.contains("© OpenStreetMap contributors, ODbL 1.0"));
    assert!(page.contains("class=\"bar\""));
    assert!(page.contains("class=\"mean\""));
}

/// 30,000 street segments, as a road graph gives them (each two-way street both ways), must stay a
/// page of reasonable size. Prints the sizes; `--nocapture` shows them.
#[test]
fn thirty_thousand_streets_stay_small() {
    // A 123 × 123 grid has 2 · 122 · 123 = 30,012 streets, listed twice as in a road graph.
    let graph = router::synthetic::grid(123, 123, 0.0, 7);
    let streets: Vec<[LatLng; 2]> = graph
        .arcs()
        .map(|(tail, arc)| [graph.coord(tail), graph.coord(graph.head(arc))])
        .collect();
    assert_eq!(streets.len(), 2 * 30_012);
    let grid_page = render(&ReportData {
        streets,
        ..ReportData::default()
    });
    // 30,000 segments that share no ends at all: the worst case for joining.
    let mut rng = fastrand::Rng::with_seed(7);
    let scattered: Vec<[LatLng; 2]> = (0..30_000)
        .map(|_| {
            let (lat, lng) = (43.72 + rng.f64() * 0.03, 7.40 + rng.f64() * 0.04);
            [p(lat, lng), p(lat + 0.0005, lng + 0.0004)]
        })
        .collect();
    let scattered_page = render(&ReportData {
        streets: scattered,
        ..ReportData::default()
    });
    println!(
        "30,000 streets: grid {} bytes, scattered {} bytes",
        grid_page.len(),
        scattered_page.len()
    );
    assert!(grid_page.len() < 400_000, "{}", grid_page.len());
    assert!(scattered_page.len() < 800_000, "{}", scattered_page.len());
    assert!(grid_page.matches("<path class=\"streets\"").count() <= 8);
}
