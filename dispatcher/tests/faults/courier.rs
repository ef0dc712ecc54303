//! A courier app as the real one behaves: one session stream, a fix every interval with a seq the
//! service acknowledges, offers accepted and carried out (picked up, delivered). Unacknowledged
//! messages are kept and re-sent after a reconnect, which backs off while the service is away.

use std::{
    collections::{HashSet, VecDeque},
    net::SocketAddr,
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeDelta, Utc};
use dispatcher::{
    bus::Backoff,
    domain::{
        RegionKey,
        convert::{latlng_to_proto, time_to_proto},
    },
};
use proto::dispatch::v1::{self as pb, courier_down::Body as Down, courier_up::Body as Up};
use router::geo::LatLng;
use tokio::sync::{mpsc, watch};
use tokio_stream::{StreamExt as _, wrappers::ReceiverStream};

use crate::{client, ledger::Ledger, load::Phase};

/// How long opening a session (Hello to Welcome) may take before the app gives up and retries.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// One courier of the load.
#[derive(Debug, Clone)]
pub(crate) struct CourierSpec {
    pub(crate) region: RegionKey,
    pub(crate) courier_id: String,
    pub(crate) home: LatLng,
    pub(crate) fix_every: Duration,
}

/// What an unacknowledged message was, for the ledger once it is acknowledged.
#[derive(Debug, Clone)]
enum What {
    Status,
    Fix(i64),
    Accept(Vec<String>),
    PickedUp(String),
    Delivered,
}

#[derive(Debug)]
struct Pending {
    seq: u64,
    body: Up,
    what: What,
    sent: Option<Instant>,
}

/// The app's memory, which outlives its connections.
struct App {
    spec: CourierSpec,
    ledger: Ledger,
    next_seq: u64,
    pending: VecDeque<Pending>,
    rejected: HashSet<u64>,
    answered: HashSet<String>,
    fixes: u64,
}

/// How a session ended.
enum Ended {
    /// The load is over and nothing is left to send.
    Done,
    /// The connection failed or the service ended it; reconnect.
    Lost,
}

/// Runs the app until the phase says stop, or it is draining and every message is acknowledged.
pub(crate) async fn run(
    spec: CourierSpec,
    addr: SocketAddr,
    ledger: Ledger,
    phase: watch::Receiver<Phase>,
) {
    let mut app = App {
        spec,
        ledger,
        next_seq: 1,
        pending: VecDeque::new(),
        rejected: HashSet::new(),
        answered: HashSet::new(),
        fixes: 0,
    };
    app.push(
        Up::Status(pb::StatusChange {
            status: pb::CourierStatus::OnShift as i32,
            shift_end: Some(time_to_proto(Utc::now() + TimeDelta::hours(8))),
        }),
        What::Status,
    );
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let mut phase = phase;
    loop {
        if *phase.borrow() == Phase::Stop {
            return;
        }
        match app.session(addr, &mut phase, &mut backoff).await {
            Ended::Done => return,
            Ended::Lost => {}
        }
        let delay = backoff.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = phase.wait_for(|p| *p == Phase::Stop) => return,
        }
    }
}

impl App {
    fn push(&mut self, body: Up, what: What) {
        self.pending.push_back(Pending {
            seq: self.next_seq,
            body,
            what,
            sent: None,
        });
        self.next_seq += 1;
    }

    fn fail(&self, code: impl std::fmt::Display, message: &str) -> Ended {
        self.ledger.error("courier stream", code, message);
        Ended::Lost
    }

    /// One connection: Hello, Welcome, re-send what is unacknowledged, then load until it fails.
    async fn session(
        &mut self,
        addr: SocketAddr,
        phase: &mut watch::Receiver<Phase>,
        backoff: &mut Backoff,
    ) -> Ended {
        let channel = match client::channel(addr).await {
            Ok(channel) => channel,
            Err(error) => return self.fail("connect", &error.to_string()),
        };
        let (up, rx) = mpsc::channel(4096);
        let hello = pb::CourierUp {
            seq: 0,
            sent_at: Some(time_to_proto(Utc::now())),
            body: Some(Up::Hello(pb::Hello {
                scope: Some(self.spec.region.to_scope()),
                courier_id: self.spec.courier_id.clone(),
                vehicle: pb::VehicleType::Bicycle as i32,
                capacity: Some(pb::Load {
                    weight_grams: 20_000,
                    volume_ml: 40_000,
                }),
                equipment: Vec::new(),
                app_version: "faults".into(),
            })),
        };
        if up.send(hello).await.is_err() {
            return Ended::Lost;
        }
        let mut courier =
            client::courier(channel, &self.spec.region.tenant_id, &self.spec.courier_id);
        let call = courier.session(ReceiverStream::new(rx));
        let mut down = match tokio::time::timeout(OPEN_TIMEOUT, call).await {
            Ok(Ok(response)) => response.into_inner(),
            Ok(Err(status)) => {
                return self.fail(format_args!("{:?}", status.code()), status.message());
            }
            Err(_) => return self.fail("timeout", "no session within the open timeout"),
        };
        let welcome = match tokio::time::timeout(OPEN_TIMEOUT, down.next()).await {
            Ok(Some(Ok(pb::CourierDown {
                body: Some(Down::Welcome(welcome)),
                ..
            }))) => welcome,
            Ok(Some(Err(status))) => {
                return self.fail(format_args!("{:?}", status.code()), status.message());
            }
            Ok(other) => return self.fail("protocol", &format!("no welcome: {other:?}")),
            Err(_) => return self.fail("timeout", "no welcome within the open timeout"),
        };
        backoff.reset();
        self.welcomed(&welcome);
        let mut out = Vec::new();
        for offer in &welcome.open_offers {
            self.offer(offer, *phase.borrow(), &mut out);
        }
        for message in self.pending.iter_mut() {
            message.sent = Some(Instant::now());
            out.push(pb::CourierUp {
                seq: message.seq,
                sent_at: Some(time_to_proto(Utc::now())),
                body: Some(message.body.clone()),
            });
        }
        let mut tick = tokio::time::interval(self.spec.fix_every);
        loop {
            for message in out.drain(..) {
                if up.send(message).await.is_err() {
                    return Ended::Lost;
                }
            }
            let now = *phase.borrow();
            if now == Phase::Stop || (now == Phase::Drain && self.pending.is_empty()) {
                return Ended::Done;
            }
            tokio::select! {
                _ = tick.tick(), if now == Phase::Load => {
                    let message = self.fix();
                    out.push(message);
                }
                next = down.next() => match next {
                    Some(Ok(message)) => self.handle(message, now, &mut out),
                    Some(Err(status)) => return self.fail(format_args!("{:?}", status.code()), status.message()),
                    None => return self.fail("ended", "the service ended the stream quietly"),
                },
                _ = phase.changed() => {}
            }
        }
    }

    /// Drops what the service already holds: fixes up to `last_durable_seq` are acknowledged by
    /// it; other messages' outcome is unknown and not counted.
    fn welcomed(&mut self, welcome: &pb::Welcome) {
        let durable = welcome.last_durable_seq;
        while self.pending.front().is_some_and(|p| p.seq <= durable) {
            if let Some(Pending {
                what: What::Fix(at),
                ..
            }) = self.pending.pop_front()
            {
                self.ledger
                    .book()
                    .fixes_acked
                    .insert((self.spec.courier_id.clone(), at));
            }
        }
        self.next_seq = self.next_seq.max(durable + 1);
    }

    /// A new fix, now, near home; the time is whole microseconds, as the database keeps it.
    fn fix(&mut self) -> pb::CourierUp {
        let now = Utc::now();
        let at = now.timestamp_micros();
        let recorded = DateTime::from_timestamp_micros(at).unwrap_or(now);
        self.fixes += 1;
        let step = (self.fixes % 100) as f64 * 1e-5;
        let location = LatLng::new(self.spec.home.lat() + step, self.spec.home.lng())
            .unwrap_or(self.spec.home);
        self.push(
            Up::Positions(pb::PositionUpdate {
                fixes: vec![pb::PositionFix {
                    location: Some(latlng_to_proto(location)),
                    recorded_at: Some(time_to_proto(recorded)),
                    accuracy_m: 5.0,
                    speed_mps: 4.0,
                    heading_deg: 90.0,
                }],
            }),
            What::Fix(at),
        );
        self.ledger.book().fixes_sent += 1;
        let last = self.pending.back_mut().expect("just pushed");
        last.sent = Some(Instant::now());
        pb::CourierUp {
            seq: last.seq,
            sent_at: Some(time_to_proto(now)),
            body: Some(last.body.clone()),
        }
    }

    fn handle(&mut self, message: pb::CourierDown, phase: Phase, out: &mut Vec<pb::CourierUp>) {
        match message.body {
            Some(Down::Ack(ack)) => {
                while self.pending.front().is_some_and(|p| p.seq <= ack.seq) {
                    let Some(done) = self.pending.pop_front() else {
                        break;
                    };
                    self.acknowledged(done, out);
                }
            }
            Some(Down::Rejected(rejected)) => {
                self.rejected.insert(rejected.seq);
                *self
                    .ledger
                    .book()
                    .rejected
                    .entry(rejected.code.clone())
                    .or_default() += 1;
            }
            Some(Down::Offer(offer)) => self.offer(&offer, phase, out),
            _ => {}
        }
    }

    fn acknowledged(&mut self, done: Pending, out: &mut Vec<pb::CourierUp>) {
        if let Some(sent) = done.sent {
            let mut book = self.ledger.book();
            book.slowest_ack = book.slowest_ack.max(sent.elapsed());
        }
        if self.rejected.remove(&done.seq) {
            return;
        }
        let courier = self.spec.courier_id.clone();
        let next = match done.what {
            What::Fix(at) => {
                self.ledger.book().fixes_acked.insert((courier, at));
                return;
            }
            What::Status | What::Delivered => return,
            What::Accept(orders) => {
                let mut book = self.ledger.book();
                for order in &orders {
                    book.accepted.push((order.clone(), courier.clone()));
                }
                drop(book);
                orders
                    .into_iter()
                    .map(|order_id| {
                        (
                            Up::PickedUp(pb::PickedUp {
                                order_id: order_id.clone(),
                                picked_up_at: Some(time_to_proto(Utc::now())),
                            }),
                            What::PickedUp(order_id),
                        )
                    })
                    .collect::<Vec<_>>()
            }
            What::PickedUp(order_id) => vec![(
                Up::Delivered(pb::Delivered {
                    order_id,
                    delivered_at: Some(time_to_proto(Utc::now())),
                }),
                What::Delivered,
            )],
        };
        for (body, what) in next {
            self.send_new(body, what, out);
        }
    }

    /// Accepts an offer not answered before, while the load runs.
    fn offer(&mut self, offer: &pb::Offer, phase: Phase, out: &mut Vec<pb::CourierUp>) {
        if phase != Phase::Load || !self.answered.insert(offer.offer_id.clone()) {
            return;
        }
        let orders = offer.orders.iter().map(|o| o.order_id.clone()).collect();
        self.send_new(
            Up::Accept(pb::AcceptOffer {
                offer_id: offer.offer_id.clone(),
            }),
            What::Accept(orders),
            out,
        );
    }

    fn send_new(&mut self, body: Up, what: What, out: &mut Vec<pb::CourierUp>) {
        self.push(body, what);
        let last = self.pending.back_mut().expect("just pushed");
        last.sent = Some(Instant::now());
        out.push(pb::CourierUp {
            seq: last.seq,
            sent_at: Some(time_to_proto(Utc::now())),
            body: Some(last.body.clone()),
        });
    }
}
