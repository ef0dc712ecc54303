//! The demo end to end on a small city: the embedded map loads for every vehicle, every order placed
//! over gRPC is delivered by couriers driving the router's paths, and the figures add up.

use dispatcher::{
    config::Config,
    demo::{self, DemoOptions, map::CityMap},
};
use router::geo::haversine_m;

#[test]
fn the_embedded_map_loads_for_every_vehicle_with_places_on_its_roads() {
    use dispatcher::domain::Vehicle;
    let city = CityMap::load(&[Vehicle::Bicycle, Vehicle::Scooter, Vehicle::Car]).unwrap();
    assert_eq!(city.networks.len(), 3);
    assert!(city.streets.len() > 5_000, "{}", city.streets.len());
    assert!(city.places.len() > 1_000, "{}", city.places.len());
    // Every place is a road point each vehicle can route from and to.
    let (a, b) = (city.places[0], city.places[city.places.len() / 2]);
    for (profile, network) in &city.networks {
        let route = network
            .route(a, b)
            .unwrap_or_else(|e| panic!("{profile:?}: {e}"));
        assert!(route.geometry.len() >= 2, "{profile:?}");
        // Roads are longer than the straight line.
        assert!(route.centimetres as f64 / 100.0 >= haversine_m(a, b) * 0.99);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_city_delivers_every_order() {
    let mut config = Config::defaults();
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = "127.0.0.1:0".parse().unwrap();
    config.planner_tick = std::time::Duration::from_millis(500);
    config.planner_urgent_gap = std::time::Duration::from_millis(100);
    config.planner_budget = std::time::Duration::from_millis(100);
    config.offer_expiry = std::time::Duration::from_secs(60);
    let options = DemoOptions {
        couriers: 6,
        orders: 12,
        kitchens: 3,
        minutes: 6,
        speed_up: 60.0,
        accept: 1.0,
        seed: 3,
        report: Some(
            std::env::temp_dir().join(format!("dispatcher-demo-test-{}.html", std::process::id())),
        ),
        ..DemoOptions::default()
    };
    let outcome = demo::run(&config, &options).await.unwrap();
    let k = &outcome.kpis;
    assert_eq!(k.placed, 12, "{k:?}");
    assert_eq!(k.delivered, 12, "{k:?}");
    assert_eq!(k.open, 0);
    assert!(
        k.click_to_door_min.0 > 0.0 && k.click_to_door_min.0 < 90.0,
        "{k:?}"
    );
    assert!(k.orders_per_bundle >= 1.0);
    assert!(k.utilization.0 > 0.0 && k.utilization.0 <= 1.0, "{k:?}");
    assert_eq!(k.couriers.delivered, 12);

    // The report shows the run: Monaco's streets, twelve drop-offs, the attribution.
    let path = options.report.as_ref().unwrap();
    let page = std::fs::read_to_string(path).unwrap();
    let _ = std::fs::remove_file(path);
    assert!(page.contains("<svg"), "no map");
    assert!(page.contains("OpenStreetMap contributors"));
    for delivery in 0..12 {
        assert!(
            page.contains(&format!("order-3-{delivery}")),
            "order-3-{delivery}"
        );
    }
}
