//! The report page in a real browser: a hand-made day rendered to a file and loaded in headless
//! Chromium, which must log nothing (no uncaught error, no failed load), run the page's script to
//! its end, and hold the map and both charts in the DOM it parsed.
//!
//! Chromium is Debian's `chromium` package, installed by `scripts/services.sh up DIR`; `CHROMIUM`
//! names another binary. A missing browser fails the test: it is the only check that the page
//! parses and runs as a browser sees it.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use dispatcher::report::{ReportData, ReportDelivery, ReportKitchen, ReportTrack, write};
use router::geo::LatLng;

/// An order id that HTML would choke on if it were not escaped.
const NASTY_ID: &str = r#"o-<7>&"x'"#;

fn p(lat: f64, lng: f64) -> LatLng {
    LatLng::new(lat, lng).expect("valid test coordinate")
}

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 11, 0, 0).unwrap() + TimeDelta::minutes(minute)
}

/// A 12 × 12 street grid in Monaco, 3 kitchens, a bicycle and a car riding along the streets, and
/// 30 deliveries between 0 and 15 minutes late or early.
fn day() -> ReportData {
    let (lat0, lng0, step) = (43.728, 7.410, 0.0012);
    let node = |i: i64, j: i64| p(lat0 + i as f64 * step, lng0 + j as f64 * step);
    let mut streets = Vec::new();
    for i in 0..12 {
        for j in 0..12 {
            if j + 1 < 12 {
                streets.push([node(i, j), node(i, j + 1)]);
            }
            if i + 1 < 12 {
                streets.push([node(i, j), node(i + 1, j)]);
            }
        }
    }
    let kitchens = [(2, 3), (8, 8), (5, 10)]
        .iter()
        .enumerate()
        .map(|(k, &(i, j))| ReportKitchen {
            id: format!("k{k}"),
            at: node(i, j),
        })
        .collect();
    let track = |courier: &str, vehicle: &str, row: i64| ReportTrack {
        courier_id: courier.into(),
        vehicle: vehicle.into(),
        fixes: (0..40)
            .map(|m| (at(m * 3), node(row + (m / 12) % 2, m % 12)))
            .collect(),
    };
    let tracks = vec![track("c-bike", "bicycle", 2), track("c-car", "car", 7)];
    let deliveries = (0..30)
        .map(|n: i64| {
            let placed = n * 6;
            ReportDelivery {
                order_id: if n == 7 {
                    NASTY_ID.into()
                } else {
                    format!("o-{n}")
                },
                at: node((n * 5) % 12, (n * 7) % 12),
                kitchen_id: format!("k{}", n % 3),
                placed_at: at(placed),
                // 15 to 45 minutes after placing, against a promise of 30.
                delivered_at: at(placed + 15 + (n * 11) % 31),
                promised_end: at(placed + 30),
            }
        })
        .collect();
    ReportData {
        title: "Dispatch demo, test grid, seed 7".into(),
        streets,
        kitchens,
        tracks,
        deliveries,
        kpis: vec![
            ("orders delivered".into(), "30".into()),
            ("mean click-to-door".into(), "30.2 min".into()),
        ],
        attribution: "© OpenStreetMap contributors, ODbL 1.0".into(),
    }
}

/// A folder of its own under the system's temporary directory, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("dispatcher-report-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary folder");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The browser to run: `$CHROMIUM`, or `chromium` on PATH. Fails when it does not start.
fn chromium() -> String {
    let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let version = Command::new(&bin).arg("--version").output();
    match version {
        Ok(out) if out.status.success() => bin,
        other => panic!(
            "headless Chromium is needed for this test and `{bin}` does not run ({other:?}): \
             run the test-services script (`bash scripts/services.sh up .services`), which \
             installs Debian's `chromium` package, or set CHROMIUM to a Chromium binary"
        ),
    }
}

/// Loads `page` in headless Chromium: the DOM after load and the browser's log.
fn load(page: &Path, profile: &Path) -> (String, String) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "chromium failed: {}\n{log}",
        out.status
    );
    (dom, log)
}

#[test]
fn the_page_loads_in_chromium_and_draws_map_and_charts() {
    let dir = TempDir::new("page");
    let page = dir.0.join("report.html");
    write(&day(), &page).expect("write the report");
    let profile = dir.0.join("chromium-profile");
    let (dom, log) = load(&page, &profile);

    // Chromium logs every console message, uncaught errors and failed loads included, as
    // "...:CONSOLE..." lines; the page logs nothing.
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        console.is_empty(),
        "console output:\n{}",
        console.join("\n")
    );

    let count = |needle: &str| dom.matches(needle).count();
    assert!(
        dom.contains("<body data-ready=\"1\">"),
        "the page's script did not run to its end:\n{}",
        &dom[..dom.len().min(2000)]
    );
    assert_eq!(count("<svg class=\"map\""), 1);
    assert!(count("<path class=\"streets\"") >= 1);
    assert_eq!(count("<polyline class=\"track veh-bicycle\""), 1);
    assert_eq!(count("<polyline class=\"track veh-car\""), 1);
    assert_eq!(count("<rect class=\"kitchen\""), 3);
    // Every drop-off and every dot, the one with the unescaped-looking id included: had its
    // markup broken, the parser would have dropped or nested elements.
    assert_eq!(count("<circle class=\"drop "), 30);
    assert_eq!(count("<circle class=\"dot "), 30);
    assert_eq!(count("</circle>"), 60);
    assert!(count("<circle class=\"drop late\"") >= 1);
    assert!(count("<circle class=\"drop slight\"") >= 1);
    assert!(count("<circle class=\"drop on-time\"") >= 1);
    assert_eq!(count("<svg class=\"chart timeline\""), 1);
    assert_eq!(count("<polyline class=\"mean\""), 1);
    assert_eq!(count("<svg class=\"chart histogram\""), 1);
    assert!(count("<rect class=\"bar\"") >= 5);
    assert!(dom.contains("click-to-door (min), 2-minute bins"));
    assert!(dom.contains("© OpenStreetMap contributors, ODbL 1.0"));
    assert!(!dom.contains("Nothing to show"));
}

#[test]
fn an_empty_day_loads_in_chromium_and_says_so() {
    let dir = TempDir::new("empty");
    let page = dir.0.join("report.html");
    write(&ReportData::default(), &page).expect("write the report");
    let (dom, log) = load(&page, &dir.0.join("chromium-profile"));
    assert!(!log.contains(":CONSOLE"), "{log}");
    assert!(dom.contains("<body data-ready=\"1\">"));
    assert!(dom.contains("Nothing to show"));
}
