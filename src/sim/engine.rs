//! The event loop and the state it drives.
//!
//! Invariants:
//! - A request slot lives while its backend holds it (queued or in service); `gen` changes when
//!   it is freed, so `Complete` events for a freed slot are recognised and dropped.
//! - A request whose client is still `waiting` has a live connection whose `inflight` is it, and
//!   sits in the waiting list (oldest first), which client timeouts read from its head; a slot
//!   is released only once its client stopped waiting.
//! - A connection ends exactly once (`close_conn`), which is where per-connection pools call
//!   `on_close`; per-request pools call `on_open`/`on_close` around the backend's hold.
//! - Follow-up requests on a connection are always scheduled as events, never issued from inside
//!   another request's handling, so no handler re-enters a backend it is updating.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{Action, ArrivalProcess, SimConfig, TimedEvent};
use super::observe::{Notice, NoticeKind, Observer, Outcome, RequestObs};
use super::queue::EventQueue;
use super::sample::{below, exponential, unit, Chooser, CountSampler, Sampler};
use super::{MemberOutput, RunOutput, SimError};
use crate::balancer::{Balancer, Health, MemberIdx, Request};
use crate::model::{Member, Persistence, PoolConfig, Protocol, ZoneId};
use crate::time::SimTime;

const NONE: u32 = u32::MAX;

/// The closed set of things that can happen. Arrivals are not here: the single pending arrival
/// is kept beside the heap (it is always the next one of its kind), saving a push and a pop per
/// connection.
#[derive(Clone, Copy)]
enum Ev {
    /// A backend finished serving a request.
    Complete {
        req: u32,
        gen: u32,
    },
    /// The next request on a connection (after think time or the response's trip back).
    NextRequest {
        conn: u32,
        gen: u32,
    },
    Probe {
        member: u32,
        epoch: u32,
    },
    /// A probe sent to a dead member timed out.
    ProbeFailed {
        member: u32,
        epoch: u32,
    },
    DrainDeadline {
        member: u32,
        epoch: u32,
    },
    /// `timeline[i]` is due.
    Action(u32),
    WarmupEnd,
}

struct Req {
    gen: u32,
    live: bool,
    /// The client still waits for this request's outcome.
    waiting: bool,
    /// Neighbours in the list of waiting requests, oldest first (`NONE` at the ends).
    older: u32,
    newer: u32,
    cross: bool,
    node: u16,
    member: u32,
    conn: u32,
    id: u64,
    arrival: SimTime,
}

struct Conn {
    gen: u32,
    live: bool,
    node: u16,
    port: u16,
    client: u32,
    addr_slot: u32,
    /// Member the connection is bound to (per-connection pools), else `NONE`.
    member: u32,
    /// Requests still to send after the current one.
    remaining: u32,
    /// The request the client waits for, if it holds a backend slot.
    inflight: u32,
    sent: u32,
    /// Index (1-based) of the request before which the client migrates; 0 = never.
    migrate_at: u32,
    id: u64,
    /// The trace row this connection replays, else `NONE`.
    trace_row: u32,
    dcid: [u8; 20],
    /// Index of the URI the last pick drew (per-connection pools: the connection's first).
    uri: u32,
}

struct Backend {
    capacity: u32,
    queue_limit: u32,
    sampler: Sampler,
    speed: f64,
    /// `slow factor / speed`: multiplies every service draw.
    scale: f64,
    busy: u32,
    queue: VecDeque<u32>,
    zone: Option<ZoneId>,
    /// Crashed by `member_down` (AZ failures are tracked per zone).
    down: bool,
    /// Not down and its AZ not down; cached because dispatch checks it on every request.
    alive: bool,
    removed: bool,
    health: Health,
    ok_streak: u32,
    fail_streak: u32,
    draining: bool,
    drain_epoch: u32,
    open: u32,
    peak: u32,
}

struct Node {
    balancer: Balancer,
    zone: Option<ZoneId>,
    weight: u32,
    down: bool,
}

/// How the connection goes on after a request ends.
#[derive(Clone, Copy, PartialEq)]
enum Next {
    Continue,
    End,
}

/// A finished request's facts, gathered before its slot is reused.
struct Fin {
    id: u64,
    conn: u32,
    arrival: SimTime,
    member: u32,
    node: u16,
    cross: bool,
}

pub(super) fn estimate_events(cfg: &SimConfig) -> Result<u64, SimError> {
    let rpc = CountSampler::new(&cfg.workload.requests_per_connection)
        .map_err(SimError::InvalidConfig)?;
    let max_rate = cfg
        .timeline
        .iter()
        .filter_map(|e| match e.action {
            Action::SetRate(r) => Some(r),
            _ => None,
        })
        .fold(cfg.workload.arrivals.rate_per_s, f64::max);
    if !(max_rate.is_finite() && max_rate >= 0.0) {
        return Err(SimError::InvalidConfig(format!("arrival rate {max_rate}")));
    }
    let secs = cfg.duration.as_secs_f64();
    // per request: arrival or next-request, completion, and a timeout when configured
    let per_request = 2.0 + f64::from(u8::from(cfg.workload.timeout.is_some()));
    let trace = &cfg.workload.trace;
    let requests = if trace.is_empty() {
        max_rate * secs * rpc.mean()
    } else {
        trace.iter().map(|a| f64::from(a.requests)).sum()
    };
    let probes = cfg.pool.health_check.map_or(0.0, |h| {
        2.0 * cfg.pool.members.len() as f64 * secs / h.interval.as_secs_f64().max(1e-3)
    });
    Ok((requests * per_request + probes).min(u64::MAX as f64) as u64)
}

pub(super) struct Engine<'c, O> {
    cfg: &'c SimConfig,
    obs: O,
    rng: ChaCha8Rng,
    q: EventQueue<Ev>,
    /// With a client timeout, the requests whose clients wait, in issue order (a doubly linked
    /// list through `Req::older`/`newer`). Every request gets the same timeout, so the oldest is
    /// always the next to time out: no timer per request, no heap entry, and memory in
    /// proportion to the requests in flight (a per-request timer queue at 50 k req/s and 30 s
    /// held 1.5 M mostly stale deadlines).
    oldest: u32,
    newest: u32,
    now: SimTime,
    pool: PoolConfig,
    timeline: Vec<TimedEvent>,
    nodes: Vec<Node>,
    members: Vec<Backend>,
    meta: Vec<Member>,
    zone_down: Vec<bool>,
    reqs: Vec<Req>,
    free_reqs: Vec<u32>,
    conns: Vec<Conn>,
    free_conns: Vec<u32>,
    // workload
    next_arrival: SimTime,
    /// Next row of `workload.trace` to replay.
    trace_pos: usize,
    /// Mean gap between arrivals in ns (`1e9 / rate`; infinite when the rate is 0).
    mean_gap: f64,
    clients: Chooser,
    uris: Option<Chooser>,
    uri_bytes: Vec<Box<[u8]>>,
    rpc: CountSampler,
    think: Option<Sampler>,
    per_conn: bool,
    ip_proto: u8,
    quic: bool,
    /// Per client: the member its persistence cookie names, and until when the cookie is valid.
    cookies: Vec<(u32, SimTime)>,
    packet: [u8; 32],
    next_req_id: u64,
    next_conn_id: u64,
    probe_epoch: u32,
    // statistics
    warm: bool,
    waiting: u64,
    area: u128,
    area_t: SimTime,
    events: u64,
    connections: u64,
    drain_resets: u64,
    cuts: u64,
    migrations: u64,
    migration_resets: u64,
}

fn invalid(msg: impl Into<String>) -> SimError {
    SimError::InvalidConfig(msg.into())
}

impl<'c, O: Observer> Engine<'c, O> {
    pub(super) fn new(cfg: &'c SimConfig, obs: O) -> Result<Self, SimError> {
        let w = &cfg.workload;
        let pool = cfg.pool.clone();
        if cfg.backends.len() != pool.members.len() {
            return Err(invalid(format!(
                "{} backends for {} members",
                cfg.backends.len(),
                pool.members.len()
            )));
        }
        if w.clients.addresses == 0 || w.clients.addresses > w.clients.count {
            return Err(invalid("clients.addresses must be in 1..=clients.count"));
        }
        if w.quic.dcid_len > 20 || !(0.0..=1.0).contains(&w.quic.migration_probability) {
            return Err(invalid(
                "quic.dcid_len <= 20, migration_probability in [0, 1]",
            ));
        }
        if cfg.bucket == SimTime::ZERO || cfg.warmup > cfg.duration {
            return Err(invalid(
                "bucket must be positive and warmup within duration",
            ));
        }
        let mut timeline = cfg.timeline.clone();
        timeline.sort_by_key(|e| e.at);
        check_timeline(&timeline, &pool)?;

        let mut lb_zones = cfg.lb_zones.clone();
        if lb_zones.is_empty() {
            lb_zones.push(super::LbZone {
                zone: None,
                weight: 1,
            });
        }
        if lb_zones.iter().all(|z| z.weight == 0) || lb_zones.len() > usize::from(u16::MAX) {
            return Err(invalid("lb_zones need a positive weight"));
        }
        let health = if pool.health_check.is_some() {
            Health::Online
        } else {
            Health::NoMonitor
        };
        let nodes = lb_zones
            .iter()
            .map(|z| {
                let mut balancer = Balancer::new(&pool, z.zone, w.clients.addresses, SimTime::ZERO);
                // the servers issue CIDs of this length; short headers do not carry it
                balancer.set_quic_short_dcid_len(w.quic.dcid_len);
                balancer.set_weighted_hashing(cfg.weighted_hashing);
                for m in 0..pool.members.len() as u32 {
                    balancer.set_health(SimTime::ZERO, m, health);
                }
                Node {
                    balancer,
                    zone: z.zone,
                    weight: z.weight,
                    down: false,
                }
            })
            .collect();
        let members = pool
            .members
            .iter()
            .zip(&cfg.backends)
            .map(|(m, b)| backend(m, b, health))
            .collect::<Result<_, _>>()?;
        let uris = if w.uris.is_empty() {
            None
        } else {
            Some(Chooser::new(w.uris.len() as u32, w.uri_popularity).map_err(invalid)?)
        };
        let think = w
            .think_time
            .as_ref()
            .map(Sampler::new)
            .transpose()
            .map_err(invalid)?;
        let per_conn = w.protocol.balances_per_connection();
        Ok(Engine {
            cfg,
            obs,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            q: EventQueue::with_capacity(1024),
            oldest: NONE,
            newest: NONE,
            now: SimTime::ZERO,
            zone_down: vec![false; pool.zones.len()],
            timeline,
            nodes,
            members,
            meta: pool.members.clone(),
            pool,
            reqs: Vec::with_capacity(1024),
            free_reqs: Vec::with_capacity(1024),
            conns: Vec::with_capacity(1024),
            free_conns: Vec::with_capacity(1024),
            next_arrival: SimTime::MAX,
            trace_pos: 0,
            mean_gap: mean_gap(w.arrivals.rate_per_s),
            clients: Chooser::new(w.clients.count, w.clients.popularity).map_err(invalid)?,
            uris,
            uri_bytes: w.uris.iter().map(|u| u.as_bytes().into()).collect(),
            rpc: CountSampler::new(&w.requests_per_connection).map_err(invalid)?,
            think,
            per_conn,
            ip_proto: if matches!(w.protocol, Protocol::Udp | Protocol::Quic) {
                17
            } else {
                6
            },
            quic: w.protocol == Protocol::Quic,
            cookies: vec![(NONE, SimTime::ZERO); w.clients.count as usize],
            packet: [0; 32],
            next_req_id: 0,
            next_conn_id: 0,
            probe_epoch: 0,
            warm: cfg.warmup == SimTime::ZERO,
            waiting: 0,
            area: 0,
            area_t: SimTime::ZERO,
            events: 0,
            connections: 0,
            drain_resets: 0,
            cuts: 0,
            migrations: 0,
            migration_resets: 0,
        })
    }

    pub(super) fn run(mut self) -> RunOutput {
        let end = self.cfg.duration;
        self.next_arrival = self.interarrival();
        for i in 0..self.timeline.len() {
            self.q.push(self.timeline[i].at, Ev::Action(i as u32));
        }
        if !self.warm {
            self.q.push(self.cfg.warmup, Ev::WarmupEnd);
        }
        for m in 0..self.members.len() as u32 {
            self.start_probes(m);
        }
        loop {
            // ties: the arrival goes first (it was drawn before anything now in the heap), a
            // client timeout last (a response due at the deadline still arrives)
            let deadline = self.next_deadline();
            if self.next_arrival <= self.q.peek_time() && self.next_arrival <= deadline {
                if self.next_arrival > end {
                    break;
                }
                self.now = self.next_arrival;
                self.arrival();
            } else if deadline < self.q.peek_time() {
                if deadline > end {
                    break;
                }
                self.now = deadline;
                self.time_out();
            } else {
                if self.q.peek_time() > end {
                    break;
                }
                let Some((t, ev)) = self.q.pop() else { break };
                self.now = t;
                self.dispatch(ev);
            }
            self.events += 1;
        }
        self.now = end;
        self.area_to_now();
        let window = (end - self.cfg.warmup).0;
        let mean_in_system = if window == 0 {
            0.0
        } else {
            self.area as f64 / window as f64
        };
        let members = self
            .meta
            .into_iter()
            .zip(&self.members)
            .map(|(member, b)| MemberOutput {
                member,
                removed: b.removed,
                peak_connections: b.peak,
            })
            .collect();
        RunOutput {
            members,
            events: self.events,
            connections: self.connections,
            drain_resets: self.drain_resets,
            cuts: self.cuts,
            migrations: self.migrations,
            migration_resets: self.migration_resets,
            mean_in_system,
        }
    }

    /// When the oldest waiting request times out (`SimTime::MAX` without timeouts).
    fn next_deadline(&self) -> SimTime {
        match self.cfg.workload.timeout {
            Some(t) if self.oldest != NONE => self.reqs[self.oldest as usize].arrival + t,
            _ => SimTime::MAX,
        }
    }

    /// The client of the oldest waiting request gives up.
    fn time_out(&mut self) {
        let r = self.oldest;
        self.stop_waiting(r);
        let fin = fin(&self.reqs[r as usize]);
        self.finish(fin, Outcome::Failed, self.now, Next::Continue);
    }

    /// Request `r`'s client waits for it from now (appended to the waiting list).
    fn start_waiting(&mut self, r: u32) {
        let newest = self.newest;
        let req = &mut self.reqs[r as usize];
        req.waiting = true;
        req.older = newest;
        req.newer = NONE;
        match newest {
            NONE => self.oldest = r,
            n => self.reqs[n as usize].newer = r,
        }
        self.newest = r;
    }

    /// Request `r`'s client no longer waits for it (answered, timed out or reset).
    fn stop_waiting(&mut self, r: u32) {
        let req = &mut self.reqs[r as usize];
        req.waiting = false;
        let (older, newer) = (req.older, req.newer);
        match older {
            NONE => self.oldest = newer,
            o => self.reqs[o as usize].newer = newer,
        }
        match newer {
            NONE => self.newest = older,
            n => self.reqs[n as usize].older = older,
        }
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Complete { req, gen } => self.complete(req, gen),
            Ev::NextRequest { conn, gen } => {
                if self.conns[conn as usize].gen == gen {
                    self.issue(conn);
                }
            }
            Ev::Probe { member, epoch } => self.probe(member, epoch),
            Ev::ProbeFailed { member, epoch } => {
                if epoch == self.probe_epoch && !self.members[member as usize].removed {
                    self.probe_result(member, false);
                }
            }
            Ev::DrainDeadline { member, epoch } => {
                let b = &self.members[member as usize];
                if b.draining && b.drain_epoch == epoch {
                    let n = self.reset_bound(member, Outcome::Reset);
                    if self.warm {
                        self.drain_resets += u64::from(n);
                    }
                    self.set_draining(member, false);
                    self.notice(Some(member), NoticeKind::DrainReset(n));
                }
            }
            Ev::Action(i) => self.apply(i as usize),
            Ev::WarmupEnd => {
                self.area_to_now();
                self.area = 0;
                self.warm = true;
                for b in &mut self.members {
                    b.peak = b.open;
                }
            }
        }
    }

    // === workload ===

    fn interarrival(&mut self) -> SimTime {
        let trace = &self.cfg.workload.trace;
        if !trace.is_empty() {
            return trace.get(self.trace_pos).map_or(SimTime::MAX, |a| a.at);
        }
        let mean = self.mean_gap;
        if mean.is_infinite() {
            return SimTime::MAX;
        }
        let gap = match self.cfg.workload.arrivals.process {
            ArrivalProcess::Poisson => exponential(&mut self.rng, mean),
            ArrivalProcess::Constant => mean,
        };
        self.now + SimTime(gap as u64)
    }

    fn arrival(&mut self) {
        let (client, requests, trace_row) = match self.cfg.workload.trace.get(self.trace_pos) {
            Some(a) => {
                self.trace_pos += 1;
                (a.client, a.requests, self.trace_pos as u32 - 1)
            }
            None => {
                let client = self.clients.pick(&mut self.rng);
                (client, self.rpc.sample(&mut self.rng), NONE)
            }
        };
        self.next_arrival = self.interarrival();
        let node = self.pick_node();
        let q = self.cfg.workload.quic;
        let migrate_at = if q.migration_probability > 0.0
            && requests > 1
            && unit(&mut self.rng) < q.migration_probability
        {
            2 + below(&mut self.rng, requests - 1)
        } else {
            0
        };
        let id = self.next_conn_id;
        self.next_conn_id += 1;
        if self.warm {
            self.connections += 1;
        }
        let c = match self.free_conns.pop() {
            Some(c) => c,
            None => {
                self.conns.push(Conn {
                    gen: 0,
                    live: false,
                    node: 0,
                    port: 0,
                    client: 0,
                    addr_slot: 0,
                    member: NONE,
                    remaining: 0,
                    inflight: NONE,
                    sent: 0,
                    migrate_at: 0,
                    id: 0,
                    trace_row: NONE,
                    dcid: [0; 20],
                    uri: 0,
                });
                self.conns.len() as u32 - 1
            }
        };
        let conn = &mut self.conns[c as usize];
        conn.live = true;
        conn.node = node;
        conn.port = 1024 + (id % 64512) as u16;
        conn.client = client;
        conn.addr_slot = client % self.cfg.workload.clients.addresses;
        conn.member = NONE;
        conn.remaining = requests - 1;
        conn.inflight = NONE;
        conn.sent = 0;
        conn.migrate_at = migrate_at;
        conn.id = id;
        conn.trace_row = trace_row;
        if self.quic {
            for chunk in conn.dcid[..usize::from(q.dcid_len)].chunks_mut(8) {
                let bytes = self.rng.next_u64().to_be_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
        }
        self.issue(c);
    }

    fn pick_node(&mut self) -> u16 {
        if self.nodes.len() == 1 {
            return 0;
        }
        let any_up = self.nodes.iter().any(|n| !n.down && n.weight > 0);
        let usable = |n: &Node| n.weight > 0 && (!n.down || !any_up);
        let total: u32 = self
            .nodes
            .iter()
            .filter(|n| usable(n))
            .map(|n| n.weight)
            .sum();
        let mut r = below(&mut self.rng, total);
        for (i, n) in self.nodes.iter().enumerate() {
            if usable(n) {
                if r < n.weight {
                    return i as u16;
                }
                r -= n.weight;
            }
        }
        unreachable!("r < total")
    }

    fn client_ip(&self, slot: u32) -> IpAddr {
        match self.cfg.workload.clients.first_address {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a).wrapping_add(slot))),
            IpAddr::V6(a) => {
                IpAddr::V6(Ipv6Addr::from(u128::from(a).wrapping_add(u128::from(slot))))
            }
        }
    }

    /// Asks connection `c`'s node for a member. `initial` selects the QUIC long header.
    fn pick(&mut self, c: u32, initial: bool) -> Option<MemberIdx> {
        let traced = self
            .cfg
            .workload
            .trace
            .get(self.conns[c as usize].trace_row as usize);
        match (&self.uris, traced) {
            (_, Some(a)) if !a.uris.is_empty() => {
                let conn = &mut self.conns[c as usize];
                let k = (conn.sent as usize).saturating_sub(1).min(a.uris.len() - 1);
                conn.uri = a.uris[k];
            }
            (Some(ch), None) => self.conns[c as usize].uri = ch.pick(&mut self.rng),
            _ => {}
        }
        let conn = &self.conns[c as usize];
        let uri: &[u8] = match self.uri_bytes.get(conn.uri as usize) {
            Some(bytes) => bytes,
            None => b"/",
        };
        let quic_packet = if self.quic {
            let cid = &conn.dcid[..usize::from(self.cfg.workload.quic.dcid_len)];
            let n = if initial {
                // long header, Initial, QUIC v1, DCID length and DCID, empty SCID
                self.packet[..6].copy_from_slice(&[0xc0, 0, 0, 0, 1, cid.len() as u8]);
                self.packet[6..6 + cid.len()].copy_from_slice(cid);
                self.packet[6 + cid.len()] = 0;
                7 + cid.len()
            } else {
                self.packet[0] = 0x40;
                self.packet[1..1 + cid.len()].copy_from_slice(cid);
                1 + cid.len()
            };
            Some(&self.packet[..n])
        } else {
            None
        };
        let client = conn.client as usize;
        let (cookie, cookie_until) = self.cookies[client];
        let req = Request {
            client_ip: self.client_ip(conn.addr_slot),
            client_port: conn.port,
            dst_ip: self.cfg.listener.0,
            dst_port: self.cfg.listener.1,
            ip_proto: self.ip_proto,
            addr_slot: conn.addr_slot,
            uri,
            quic_packet,
            cookie: (cookie != NONE && self.now < cookie_until).then_some(cookie),
        };
        let pick = self.nodes[usize::from(conn.node)]
            .balancer
            .pick(self.now, &req)?;
        if let Some(until) = pick.cookie_until {
            self.cookies[client] = (pick.member, until);
        }
        Some(pick.member)
    }

    /// Sends connection `c`'s next request now.
    fn issue(&mut self, c: u32) {
        let now = self.now;
        let id = self.next_req_id;
        self.next_req_id += 1;
        self.area_to_now();
        self.waiting += 1;
        let conn = &mut self.conns[c as usize];
        conn.sent += 1;
        let node = conn.node;
        let migrating = conn.sent == conn.migrate_at;
        let mut f = Fin {
            id,
            conn: c,
            arrival: now,
            member: conn.member,
            node,
            cross: false,
        };
        if migrating {
            conn.port = 1024 + below(&mut self.rng, 64512) as u16;
            conn.addr_slot = below(&mut self.rng, self.cfg.workload.clients.addresses);
            if self.warm {
                self.migrations += 1;
            }
        }
        if !self.per_conn || f.member == NONE {
            let Some(m) = self.pick(c, f.member == NONE) else {
                let next = if self.per_conn {
                    Next::End
                } else {
                    Next::Continue
                };
                return self.finish(f, Outcome::Failed, now, next);
            };
            f.member = m;
            if self.per_conn {
                self.conns[c as usize].member = m;
                self.open(node, m);
            }
        } else if migrating {
            // a new path: the node has no flow state for it and balances it afresh
            if self.pick(c, false) != Some(f.member) {
                if self.warm {
                    self.migration_resets += 1;
                }
                return self.finish(f, Outcome::Reset, now, Next::End);
            }
        }
        let m = f.member;
        let b = &self.members[m as usize];
        f.cross =
            matches!((self.nodes[usize::from(node)].zone, b.zone), (Some(a), Some(z)) if a != z);
        let back = now + self.cross_latency(f.cross);
        if !b.alive {
            let next = if self.per_conn {
                Next::End
            } else {
                Next::Continue
            };
            return self.finish(f, Outcome::Failed, back, next);
        }
        if b.busy >= b.capacity && b.queue.len() >= b.queue_limit as usize {
            return self.finish(f, Outcome::Rejected, back, Next::Continue);
        }
        let r = self.alloc_req(&f);
        self.conns[c as usize].inflight = r;
        if !self.per_conn {
            self.open(node, m);
        }
        let b = &mut self.members[m as usize];
        if b.busy < b.capacity {
            b.busy += 1;
            self.serve(r);
        } else {
            b.queue.push_back(r);
        }
    }

    fn cross_latency(&self, cross: bool) -> SimTime {
        if cross {
            self.cfg.cross_az_latency
        } else {
            SimTime::ZERO
        }
    }

    fn alloc_req(&mut self, f: &Fin) -> u32 {
        let r = match self.free_reqs.pop() {
            Some(r) => r,
            None => {
                self.reqs.push(Req {
                    gen: 0,
                    live: false,
                    waiting: false,
                    older: NONE,
                    newer: NONE,
                    cross: false,
                    node: 0,
                    member: 0,
                    conn: 0,
                    id: 0,
                    arrival: SimTime::ZERO,
                });
                self.reqs.len() as u32 - 1
            }
        };
        let req = &mut self.reqs[r as usize];
        req.live = true;
        req.cross = f.cross;
        req.node = f.node;
        req.member = f.member;
        req.conn = f.conn;
        req.id = f.id;
        req.arrival = f.arrival;
        self.start_waiting(r);
        r
    }

    /// The backend lets go of request `r`.
    fn release_req(&mut self, r: u32) {
        let req = &mut self.reqs[r as usize];
        debug_assert!(!req.waiting, "a request is released while its client waits");
        req.live = false;
        req.gen = req.gen.wrapping_add(1);
        let (node, m) = (req.node, req.member);
        self.free_reqs.push(r);
        if !self.per_conn {
            self.close(node, m);
        }
    }

    fn serve(&mut self, r: u32) {
        let req = &self.reqs[r as usize];
        let b = &self.members[req.member as usize];
        let t = b.sampler.sample(&mut self.rng) * b.scale;
        let gen = req.gen;
        self.q
            .push(self.now + SimTime(t as u64), Ev::Complete { req: r, gen });
    }

    fn complete(&mut self, r: u32, gen: u32) {
        let req = &self.reqs[r as usize];
        if req.gen != gen {
            return;
        }
        let waiting = req.waiting;
        let f = fin(req);
        if waiting {
            self.stop_waiting(r);
        }
        self.release_req(r);
        self.start_next(f.member);
        if waiting {
            let done = self.now + self.cross_latency(f.cross);
            match self.cfg.workload.timeout {
                Some(t) if done - f.arrival > t => {
                    let at = f.arrival + t;
                    self.finish(f, Outcome::Failed, at, Next::Continue);
                }
                _ => self.finish(f, Outcome::Ok, done, Next::Continue),
            }
        }
    }

    /// A server of member `m` is free: serve the next queued request whose client still waits
    /// (a backend drops requests whose client went away before it reads them).
    fn start_next(&mut self, m: u32) {
        while let Some(r) = self.members[m as usize].queue.pop_front() {
            if self.reqs[r as usize].waiting {
                return self.serve(r);
            }
            self.release_req(r);
        }
        self.members[m as usize].busy -= 1;
    }

    /// Reports a request's end and moves its connection on.
    fn finish(&mut self, f: Fin, outcome: Outcome, done: SimTime, next: Next) {
        self.area_to_now();
        self.waiting -= 1;
        if self.warm {
            // the client keeps waiting until `done`, which may lie ahead of the engine's clock
            self.area += u128::from(done.saturating_sub(self.now).0);
        }
        let has_uris = self.uris.is_some();
        let conn = &mut self.conns[f.conn as usize];
        conn.inflight = NONE;
        self.obs.request(&RequestObs {
            arrival: f.arrival,
            request: f.id,
            connection: conn.id,
            client: conn.client,
            lb_node: f.node,
            member: (f.member != NONE).then_some(f.member),
            outcome,
            latency: done - f.arrival,
            cross_az: f.cross,
            uri: has_uris.then_some(conn.uri),
        });
        if next == Next::Continue && conn.remaining > 0 {
            conn.remaining -= 1;
            let think = match &self.think {
                Some(s) => SimTime(s.sample(&mut self.rng) as u64),
                None => SimTime::ZERO,
            };
            let gen = conn.gen;
            self.q
                .push(done + think, Ev::NextRequest { conn: f.conn, gen });
        } else {
            self.close_conn(f.conn);
        }
    }

    fn close_conn(&mut self, c: u32) {
        let conn = &mut self.conns[c as usize];
        conn.live = false;
        conn.gen = conn.gen.wrapping_add(1);
        let (node, m) = (conn.node, conn.member);
        self.free_conns.push(c);
        if self.per_conn && m != NONE {
            self.close(node, m);
        }
    }

    /// Ends connection `c` at once; the request it waits for ends with `outcome`.
    fn reset_conn(&mut self, c: u32, outcome: Outcome) {
        let r = self.conns[c as usize].inflight;
        if r != NONE {
            self.stop_waiting(r);
            let f = fin(&self.reqs[r as usize]);
            self.finish(f, outcome, self.now, Next::End);
        } else {
            self.close_conn(c);
        }
    }

    /// Resets every connection bound to `m`; returns how many.
    fn reset_bound(&mut self, m: u32, outcome: Outcome) -> u32 {
        let mut n = 0;
        for c in 0..self.conns.len() as u32 {
            let conn = &self.conns[c as usize];
            if conn.live && conn.member == m {
                self.reset_conn(c, outcome);
                n += 1;
            }
        }
        n
    }

    fn open(&mut self, node: u16, m: u32) {
        self.nodes[usize::from(node)].balancer.on_open(m);
        let b = &mut self.members[m as usize];
        b.open += 1;
        b.peak = b.peak.max(b.open);
    }

    fn close(&mut self, node: u16, m: u32) {
        self.nodes[usize::from(node)].balancer.on_close(m);
        self.members[m as usize].open -= 1;
    }

    fn area_to_now(&mut self) {
        if self.warm {
            self.area += u128::from(self.waiting) * u128::from((self.now - self.area_t).0);
        }
        self.area_t = self.now;
    }

    // === members, health, drain ===

    fn notice(&mut self, member: Option<u32>, kind: NoticeKind) {
        self.obs.notice(&Notice {
            at: self.now,
            member,
            kind,
        });
    }

    /// Would a balancer consider `m` for new traffic (as far as the engine tracks it)?
    fn eligible(&self, m: u32) -> bool {
        let b = &self.members[m as usize];
        let meta = &self.meta[m as usize];
        !b.removed
            && meta.enabled
            && meta.weight > 0
            && matches!(b.health, Health::Online | Health::NoMonitor)
    }

    /// Starts or cancels connection drain after a change to `m` that may have altered
    /// [`Self::eligible`].
    fn after_change(&mut self, m: u32, was_eligible: bool) {
        let now_eligible = self.eligible(m);
        if was_eligible && !now_eligible {
            self.unavailable(m);
        } else if !was_eligible && now_eligible && self.members[m as usize].draining {
            self.set_draining(m, false);
        }
    }

    /// `m` takes no new traffic: drain its connections (TCP/UDP/QUIC pools with drain) or cut
    /// them. Per-request pools have no bound connections.
    fn unavailable(&mut self, m: u32) {
        if !self.per_conn {
            return;
        }
        let bound = self
            .conns
            .iter()
            .filter(|c| c.live && c.member == m)
            .count() as u32;
        if bound == 0 {
            return;
        }
        match self.pool.drain_timeout {
            Some(t) if self.pool.protocol.supports_drain() => {
                if !self.members[m as usize].draining {
                    self.set_draining(m, true);
                    let epoch = self.members[m as usize].drain_epoch;
                    self.q
                        .push(self.now + t, Ev::DrainDeadline { member: m, epoch });
                }
                self.notice(Some(m), NoticeKind::DrainStarted(bound));
            }
            _ => {
                let n = self.reset_bound(m, Outcome::Reset);
                if self.warm {
                    self.cuts += u64::from(n);
                }
                self.notice(Some(m), NoticeKind::Cut(n));
            }
        }
    }

    /// Connection drain concerns `m`'s open connections only: the member is already out of the
    /// balancer's candidates for whatever made it unavailable (weight 0, health, disabled,
    /// removed), and stays counted as the pool's for AZ affinity as it would without drain.
    fn set_draining(&mut self, m: u32, draining: bool) {
        let b = &mut self.members[m as usize];
        b.draining = draining;
        b.drain_epoch = b.drain_epoch.wrapping_add(1);
    }

    fn set_health(&mut self, m: u32, h: Health) {
        let was = self.eligible(m);
        self.members[m as usize].health = h;
        for n in &mut self.nodes {
            n.balancer.set_health(self.now, m, h);
        }
        match h {
            Health::Online => self.notice(Some(m), NoticeKind::HealthOnline),
            Health::Offline => self.notice(Some(m), NoticeKind::HealthOffline),
            Health::Initial | Health::NoMonitor => {}
        }
        self.after_change(m, was);
    }

    /// Starts `m`'s probe chain at a random phase, as probes of different members are not
    /// synchronised (this also makes detection delay uniform, as in the closed form).
    fn start_probes(&mut self, m: u32) {
        if let Some(h) = self.pool.health_check {
            let offset = SimTime((unit(&mut self.rng) * h.interval.0 as f64) as u64);
            let epoch = self.probe_epoch;
            self.q
                .push(self.now + offset, Ev::Probe { member: m, epoch });
        }
    }

    fn probe(&mut self, m: u32, epoch: u32) {
        let Some(h) = self.pool.health_check else {
            return;
        };
        if epoch != self.probe_epoch || self.members[m as usize].removed {
            return;
        }
        self.q
            .push(self.now + h.interval, Ev::Probe { member: m, epoch });
        if self.members[m as usize].alive {
            self.probe_result(m, true);
        } else {
            self.q
                .push(self.now + h.timeout, Ev::ProbeFailed { member: m, epoch });
        }
    }

    fn probe_result(&mut self, m: u32, ok: bool) {
        let Some(h) = self.pool.health_check else {
            return;
        };
        let b = &mut self.members[m as usize];
        let next = if ok {
            b.fail_streak = 0;
            b.ok_streak += 1;
            match b.health {
                // a new member goes ONLINE after one successful probe
                Health::Initial => Health::Online,
                Health::Offline if b.ok_streak >= h.rise => Health::Online,
                other => other,
            }
        } else {
            b.ok_streak = 0;
            b.fail_streak += 1;
            match b.health {
                Health::Online | Health::Initial if b.fail_streak >= h.fall => Health::Offline,
                other => other,
            }
        };
        if next != b.health {
            self.set_health(m, next);
        }
    }

    fn refresh_alive(&mut self, m: u32) {
        let b = &self.members[m as usize];
        let alive = !b.down && !b.zone.is_some_and(|z| self.zone_down[usize::from(z)]);
        let was = b.alive;
        self.members[m as usize].alive = alive;
        if was && !alive {
            self.crash(m);
        }
    }

    /// `m` dies: its connections break and everything it holds fails now.
    fn crash(&mut self, m: u32) {
        if self.per_conn {
            self.reset_bound(m, Outcome::Failed);
        }
        for r in 0..self.reqs.len() as u32 {
            let req = &self.reqs[r as usize];
            if req.live && req.member == m {
                if req.waiting {
                    self.stop_waiting(r);
                    let f = fin(&self.reqs[r as usize]);
                    self.finish(f, Outcome::Failed, self.now, Next::Continue);
                }
                self.release_req(r);
            }
        }
        let b = &mut self.members[m as usize];
        b.queue.clear();
        b.busy = 0;
    }

    // === timeline ===

    fn apply(&mut self, i: usize) {
        let now = self.now;
        // take the action out: AddMembers and UpdatePool move their contents into the run
        let action = std::mem::replace(&mut self.timeline[i].action, Action::SetRate(0.0));
        match action {
            Action::MemberDown(m) => {
                self.members[m as usize].down = true;
                self.notice(Some(m), NoticeKind::MemberDown);
                self.refresh_alive(m);
            }
            Action::MemberUp(m) => {
                self.members[m as usize].down = false;
                self.notice(Some(m), NoticeKind::MemberUp);
                self.refresh_alive(m);
            }
            Action::Slow { member, factor } => {
                let b = &mut self.members[member as usize];
                b.scale = factor / b.speed;
                self.notice(Some(member), NoticeKind::Slow(factor));
            }
            Action::AzDown(z) | Action::AzUp(z) => {
                let down = matches!(action, Action::AzDown(_));
                self.zone_down[usize::from(z)] = down;
                for n in &mut self.nodes {
                    n.down = n.zone.is_some_and(|nz| self.zone_down[usize::from(nz)]);
                }
                let kind = if down {
                    NoticeKind::AzDown(z)
                } else {
                    NoticeKind::AzUp(z)
                };
                self.notice(None, kind);
                for m in 0..self.members.len() as u32 {
                    if self.members[m as usize].zone == Some(z) {
                        self.refresh_alive(m);
                    }
                }
            }
            Action::SetWeight { member, weight } => {
                let was = self.eligible(member);
                self.meta[member as usize].weight = weight;
                for n in &mut self.nodes {
                    n.balancer.set_weight(now, member, weight);
                }
                self.notice(Some(member), NoticeKind::SetWeight(weight));
                self.after_change(member, was);
            }
            Action::SetEnabled { member, enabled } => {
                let was = self.eligible(member);
                self.meta[member as usize].enabled = enabled;
                for n in &mut self.nodes {
                    n.balancer.set_enabled(member, enabled);
                }
                self.notice(Some(member), NoticeKind::SetEnabled(enabled));
                self.after_change(member, was);
            }
            Action::SetTier { member, tier } => {
                self.meta[member as usize].tier = tier;
                for n in &mut self.nodes {
                    n.balancer.set_tier(member, tier);
                }
                self.notice(Some(member), NoticeKind::SetTier(tier));
            }
            Action::AddMembers(list) => {
                for (member, backend_cfg) in list {
                    self.add_member(member, &backend_cfg);
                }
            }
            Action::RemoveMember(m) => {
                if self.pool.deletion_protection {
                    self.notice(Some(m), NoticeKind::RemoveRefused);
                    return;
                }
                let was = self.eligible(m);
                self.members[m as usize].removed = true;
                for n in &mut self.nodes {
                    n.balancer.set_enabled(m, false);
                }
                self.notice(Some(m), NoticeKind::MemberRemoved);
                self.after_change(m, was);
            }
            Action::UpdatePool(pool) => {
                let monitor_changed = pool.health_check != self.pool.health_check;
                // clients' cookies name members only for the same kind of cookie (and name)
                let cookies_hold = match (&self.pool.persistence, &pool.persistence) {
                    (
                        Some(Persistence::HttpCookie { .. }),
                        Some(Persistence::HttpCookie { .. }),
                    ) => true,
                    (
                        Some(Persistence::AppCookie { cookie_name: a }),
                        Some(Persistence::AppCookie { cookie_name: b }),
                    ) => a == b,
                    _ => false,
                };
                if !cookies_hold {
                    self.cookies.fill((NONE, SimTime::ZERO));
                }
                for n in &mut self.nodes {
                    n.balancer.update_pool(now, &pool);
                }
                self.pool = *pool;
                self.notice(None, NoticeKind::PoolUpdated);
                if monitor_changed {
                    self.restart_monitoring();
                }
            }
            Action::SetRate(rate) => {
                self.mean_gap = mean_gap(rate);
                // Poisson is memoryless and a constant stream restarts: redraw from now
                self.next_arrival = self.interarrival();
                self.notice(None, NoticeKind::SetRate(rate));
            }
        }
    }

    /// `cfg` comes from an `AddMembers` action, whose backends `check_timeline` validated
    /// before the run started, so building the backend cannot fail here.
    #[allow(clippy::expect_used)]
    fn add_member(&mut self, member: Member, cfg: &super::BackendConfig) {
        let health = if self.pool.health_check.is_some() {
            Health::Initial
        } else {
            Health::NoMonitor
        };
        let b = backend(&member, cfg, health).expect("checked by check_timeline");
        let m = self.members.len() as u32;
        for n in &mut self.nodes {
            let idx = n.balancer.add_member(self.now, member.clone());
            debug_assert_eq!(idx, m, "balancers index members in the order added");
            n.balancer.set_health(self.now, m, health);
        }
        self.members.push(b);
        self.obs.member_added(m, &member);
        self.meta.push(member);
        self.refresh_alive(m);
        self.notice(Some(m), NoticeKind::MemberAdded);
        self.start_probes(m);
    }

    /// The health monitor was created, removed or changed: restart every probe chain. Members
    /// are assumed healthy when a monitor appears (the next probes correct that).
    fn restart_monitoring(&mut self) {
        self.probe_epoch += 1;
        let health = if self.pool.health_check.is_some() {
            Health::Online
        } else {
            Health::NoMonitor
        };
        for m in 0..self.members.len() as u32 {
            if self.members[m as usize].removed {
                continue;
            }
            let b = &mut self.members[m as usize];
            b.ok_streak = 0;
            b.fail_streak = 0;
            if b.health != health {
                self.set_health(m, health);
            }
            self.start_probes(m);
        }
    }
}

/// Mean gap between arrivals in ns at `rate` per second; infinite (no arrivals) at rate 0.
fn mean_gap(rate: f64) -> f64 {
    if rate > 0.0 {
        1e9 / rate
    } else {
        f64::INFINITY
    }
}

fn fin(r: &Req) -> Fin {
    Fin {
        id: r.id,
        conn: r.conn,
        arrival: r.arrival,
        member: r.member,
        node: r.node,
        cross: r.cross,
    }
}

fn backend(m: &Member, b: &super::BackendConfig, health: Health) -> Result<Backend, SimError> {
    let sampler =
        Sampler::new(&b.service_time).map_err(|e| invalid(format!("member {}: {e}", m.key)))?;
    if !(b.speed.is_finite() && b.speed > 0.0) || b.capacity == 0 {
        return Err(invalid(format!(
            "member {}: speed must be positive and capacity at least 1",
            m.key
        )));
    }
    Ok(Backend {
        capacity: b.capacity,
        queue_limit: b.queue_limit,
        sampler,
        speed: b.speed,
        scale: 1.0 / b.speed,
        busy: 0,
        queue: VecDeque::new(),
        zone: m.zone,
        down: false,
        alive: true,
        removed: false,
        health,
        ok_streak: 0,
        fail_streak: 0,
        draining: false,
        drain_epoch: 0,
        open: 0,
        peak: 0,
    })
}

/// Checks member indices, zones and added members' backends before the run, walking the
/// timeline in order so members added later count only from their addition on.
fn check_timeline(timeline: &[TimedEvent], pool: &PoolConfig) -> Result<(), SimError> {
    let mut members = pool.members.len() as u32;
    let zones = pool.zones.len();
    for e in timeline {
        let bad_member =
            |m: u32| (m >= members).then(|| invalid(format!("event at {}: no member {m}", e.at)));
        let err = match &e.action {
            Action::MemberDown(m)
            | Action::MemberUp(m)
            | Action::RemoveMember(m)
            | Action::SetWeight { member: m, .. }
            | Action::SetEnabled { member: m, .. }
            | Action::SetTier { member: m, .. } => bad_member(*m),
            Action::AzDown(z) | Action::AzUp(z) => (usize::from(*z) >= zones)
                .then(|| invalid(format!("event at {}: no zone {z}", e.at))),
            Action::AddMembers(list) => {
                for (m, b) in list {
                    backend(m, b, Health::Initial)?;
                    if m.zone.is_some_and(|z| usize::from(z) >= zones) {
                        return Err(invalid(format!("member {}: unknown zone", m.key)));
                    }
                }
                members += list.len() as u32;
                None
            }
            Action::SetRate(r) => (!(r.is_finite() && *r >= 0.0))
                .then(|| invalid(format!("event at {}: rate {r}", e.at))),
            Action::Slow { member, factor } => bad_member(*member).or_else(|| {
                (!(factor.is_finite() && *factor > 0.0))
                    .then(|| invalid(format!("event at {}: slow factor {factor}", e.at)))
            }),
            Action::UpdatePool(_) => None,
        };
        if let Some(err) = err {
            return Err(err);
        }
    }
    Ok(())
}
