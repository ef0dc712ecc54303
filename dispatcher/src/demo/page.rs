//! The demo's report page: what the run did, gathered into the report's terms.

use crate::{
    demo::{kpi::Kpis, map},
    domain::OrderState,
    fleet::{Journal, Restaurant},
    report::{ReportData, ReportDelivery, ReportKitchen, ReportTrack},
    world::RegionState,
};

/// The report of one run: the streets, kitchens, courier tracks, deliveries and figures.
pub fn gather(
    title: String,
    streets: &[[router::geo::LatLng; 2]],
    kitchens: &[Restaurant],
    region: &RegionState,
    journal: &Journal,
    kpis: &Kpis,
) -> ReportData {
    let mut tracks: Vec<ReportTrack> = journal
        .tracks
        .iter()
        .map(|(courier_id, track)| ReportTrack {
            courier_id: courier_id.clone(),
            vehicle: track.vehicle.clone(),
            fixes: track.fixes.clone(),
        })
        .collect();
    tracks.sort_by(|a, b| a.courier_id.cmp(&b.courier_id));
    let mut deliveries: Vec<ReportDelivery> = region
        .orders
        .values()
        .map(|e| &e.order)
        .filter(|o| o.state == OrderState::Delivered)
        .map(|o| ReportDelivery {
            order_id: o.id().to_owned(),
            at: o.spec.dropoff.location,
            kitchen_id: o.spec.kitchen_id.clone(),
            placed_at: o.spec.placed_at,
            delivered_at: o.state_changed_at,
            promised_end: o.spec.promised_end,
        })
        .collect();
    deliveries.sort_by_key(|d| d.delivered_at);
    ReportData {
        title,
        streets: streets.to_vec(),
        kitchens: kitchens
            .iter()
            .map(|k| ReportKitchen {
                id: k.kitchen_id.clone(),
                at: k.location,
            })
            .collect(),
        tracks,
        deliveries,
        kpis: kpis.rows(),
        attribution: map::ATTRIBUTION.to_owned(),
    }
}
