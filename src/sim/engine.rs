//! The event loop: the order in which things happen, and dispatch to the handlers.
//!
//! The state it drives lives in small parts: the workload (`workload.rs`), requests and
//! connections in slabs (`slab.rs`) with their handlers (`requests.rs`), the members' servers
//! (`server.rs`), health (`health.rs`) and standing (`members.rs`), the LB nodes (`nodes.rs`),
//! timeline actions (`timeline.rs`) and the run counters (`counters.rs`).

use crate::model::MemberIdx;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::check::check;
use super::config::{Failure, SimConfig, TimedEvent};
use super::counters::Counters;
use super::health::HealthState;
use super::members::Membership;
use super::nodes::Nodes;
use super::observe::{Notice, NoticeKind, Observer, Outcome};
use super::propagation::Propagation;
use super::queue::EventQueue;
use super::requests::{Req, MAX_ATTEMPTS};
use super::server::Server;
use super::slab::{Slab, WaitList};
use super::workload::{Conn, Workload};
use super::{MemberOutput, RunOutput, SimError};
use crate::balancer::{BalancerCounters, Health, Joined};
use crate::model::{Member, PoolConfig};
use crate::time::SimTime;

/// The closed set of things that can happen. Arrivals are not here: the single pending arrival
/// is kept beside the heap (it is always the next one of its kind), saving a push and a pop per
/// connection. Every variant but `Action` and `WarmupEnd` names a generation (or epoch) of
/// what it concerns, and is dropped as stale if that has changed ([`Engine::is_current`]).
#[derive(Clone, Copy)]
pub(super) enum Ev {
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
        member: MemberIdx,
        epoch: u32,
    },
    /// The load balancer closes an idle connection (`keepalive_timeout`).
    IdleClose {
        conn: u32,
        gen: u32,
    },
    /// A pending attempt (`seq`) of connection `conn` is over.
    AttemptEnd {
        conn: u32,
        seq: u32,
    },
    /// A probe sent to a dead member timed out.
    ProbeFailed {
        member: MemberIdx,
        epoch: u32,
    },
    DrainDeadline {
        member: MemberIdx,
        epoch: u32,
    },
    /// `timeline[i]` is due (`node` [`EVERY_NODE`]), or LB node `node` applies the API change
    /// `timeline[i]` (one variant for both keeps the event loop's dispatch as it was).
    Action {
        i: u32,
        node: u16,
    },
    WarmupEnd,
}

/// [`Ev::Action`]'s node for a timeline entry that is due.
pub(super) const EVERY_NODE: u16 = u16::MAX;

pub(super) struct Engine<'c, O> {
    pub cfg: &'c SimConfig,
    pub obs: O,
    pub rng: ChaCha8Rng,
    pub q: EventQueue<Ev>,
    pub now: SimTime,
    /// The next connection arrival (there is always exactly one).
    pub next_arrival: SimTime,
    pub work: Workload<'c>,
    /// The pool picks once per connection (TCP, UDP, IP, TLS, QUIC), not per request.
    pub per_conn: bool,
    pub pool: PoolConfig,
    pub timeline: Vec<TimedEvent>,
    pub nodes: Nodes,
    /// Boxed: its random stream is large and cold, and the hot fields stay together.
    pub propagation: Box<Propagation>,
    // per member, by index
    pub servers: Vec<Server>,
    pub health: Vec<HealthState>,
    pub membership: Vec<Membership>,
    pub meta: Vec<Member>,
    /// Bumped when the health monitor changes: probes of an earlier monitor are stale.
    pub probe_epoch: u32,
    pub zone_down: Vec<bool>,
    pub reqs: Slab<Req>,
    pub conns: Slab<Conn>,
    /// With a client timeout, the connections whose clients wait, oldest request first.
    pub waiting: WaitList,
    /// Attempts the load balancer waits on whose response timeout can expire (queued, or
    /// served for longer), oldest forwarded first, when it can expire before the client's
    /// (`timer_on`).
    pub timers: WaitList,
    pub timer_on: bool,
    /// The listener limits new connections (`cps` or `connection`).
    pub limits_on: bool,
    /// Members whose mode is not [`Failure::None`]: while there are none, an attempt does not
    /// read its member's mode (a cache line of the member's server less per request).
    pub failing: u32,
    /// The status code a client sees for each outcome ([`Outcome::index`]; 0: none) behind
    /// this front end.
    pub statuses: [u16; Outcome::ALL.len()],
    /// By connection slot, the members a retried request tried, in order.
    pub tried: Vec<[MemberIdx; MAX_ATTEMPTS]>,
    /// The last pending attempt's sequence number.
    pub attempt_seq: u32,
    pub counters: Counters,
    /// The balancers' counters at the end of warmup (zero before).
    pub warm_balancers: BalancerCounters,
}

impl<'c, O: Observer> Engine<'c, O> {
    pub(super) fn new(cfg: &'c SimConfig, obs: O) -> Result<Self, SimError> {
        let checked = check(cfg)?;
        let pool = cfg.pool.clone();
        let nodes = Nodes::new(cfg, &checked.lb_zones);
        let propagation = Box::new(Propagation::new(cfg, nodes.len(), checked.timeline.len()));
        let servers = pool
            .members
            .iter()
            .zip(&cfg.backends)
            .map(|(m, b)| Server::new(m, b))
            .collect::<Result<Vec<_>, _>>()?;
        let failing = servers.iter().filter(|s| s.mode != Failure::None).count() as u32;
        let health = Health::starting(pool.health_check.is_some(), Joined::AtStart);
        Ok(Engine {
            cfg,
            obs,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            q: EventQueue::with_capacity(1024),
            now: SimTime::ZERO,
            next_arrival: SimTime::MAX,
            work: Workload::new(cfg)?,
            per_conn: cfg.workload.protocol.balances_per_connection(),
            timeline: checked.timeline,
            nodes,
            propagation,
            health: vec![HealthState::new(health); servers.len()],
            membership: cfg
                .backends
                .iter()
                .map(|b| Membership {
                    failure: b.failure,
                    ..Membership::default()
                })
                .collect(),
            servers,
            meta: pool.members.clone(),
            probe_epoch: 0,
            zone_down: vec![false; pool.zones.len()],
            pool,
            reqs: Slab::with_capacity(1024),
            conns: Slab::with_capacity(1024),
            waiting: WaitList::default(),
            timers: WaitList::default(),
            // the client gives up first when its timeout is no longer than the LB's
            timer_on: match (cfg.front.member_timeout, cfg.workload.timeout) {
                (Some(lb), Some(client)) => lb < client,
                (lb, _) => lb.is_some(),
            },
            attempt_seq: 0,
            tried: Vec::new(),
            failing,
            statuses: Outcome::ALL.map(|o| o.status(cfg.front.kind).unwrap_or(0)),
            limits_on: cfg.front.cps > 0 || cfg.front.max_connections > 0,
            counters: Counters::new(cfg.warmup == SimTime::ZERO),
            warm_balancers: BalancerCounters::default(),
        })
    }

    pub(super) fn run(mut self) -> RunOutput {
        let end = self.cfg.duration;
        self.next_arrival = self.work.interarrival(&mut self.rng, self.now);
        for i in 0..self.timeline.len() {
            let due = Ev::Action {
                i: i as u32,
                node: EVERY_NODE,
            };
            self.q.push(self.timeline[i].at, due);
        }
        if !self.counters.warm() {
            self.q.push(self.cfg.warmup, Ev::WarmupEnd);
        }
        for m in 0..self.servers.len() as u32 {
            self.start_probes(m);
        }
        loop {
            // ties: the arrival goes first (it was drawn before anything now in the heap), the
            // timeouts last (a response due at the deadline still arrives), the load balancer's
            // before the client's
            let (deadline, oldest) = self.next_deadline();
            let (lb_deadline, oldest_attempt) = if self.timer_on {
                self.next_response_deadline()
            } else {
                (SimTime::MAX, 0)
            };
            let timeout_at = deadline.min(lb_deadline);
            if self.next_arrival <= self.q.peek_time() && self.next_arrival <= timeout_at {
                if self.next_arrival > end {
                    break;
                }
                self.now = self.next_arrival;
                self.arrival();
            } else if timeout_at < self.q.peek_time() {
                if timeout_at > end {
                    break;
                }
                self.now = timeout_at;
                if lb_deadline <= deadline {
                    self.response_timeout(oldest_attempt);
                } else {
                    self.time_out(oldest);
                }
            } else {
                if self.q.peek_time() > end {
                    break;
                }
                let Some((t, ev)) = self.q.pop() else { break };
                self.now = t;
                if self.is_current(ev) {
                    self.dispatch(ev);
                }
            }
            self.counters.event();
        }
        self.obs.end();
        let members = self
            .meta
            .into_iter()
            .zip(&self.membership)
            .zip(&self.servers)
            .map(|((member, s), server)| MemberOutput {
                member,
                removed: s.removed,
                peak_connections: server.peak,
            })
            .collect();
        let balancer = self.nodes.counters().since(self.warm_balancers);
        self.counters
            .output(end, self.cfg.warmup, members, balancer)
    }

    /// When the oldest waiting request times out, and which it is (`SimTime::MAX` when none
    /// waits or there is no timeout).
    #[inline]
    fn next_deadline(&self) -> (SimTime, u32) {
        match (self.cfg.workload.timeout, self.waiting.oldest()) {
            (Some(t), Some(c)) => (self.conns[c].call.arrival + t, c),
            _ => (SimTime::MAX, 0),
        }
    }

    /// When the load balancer's response timeout expires for the oldest attempt it waits on,
    /// and which it is (`SimTime::MAX` when none).
    #[inline]
    fn next_response_deadline(&self) -> (SimTime, u32) {
        match (self.cfg.front.member_timeout, self.timers.oldest()) {
            (Some(t), Some(r)) => (self.reqs[r].forwarded + t, r),
            _ => (SimTime::MAX, 0),
        }
    }

    /// The one staleness check: an event about a request or connection slot freed since, a
    /// probe of a removed member or an earlier monitor, or the deadline of an ended drain, is
    /// dropped before dispatch.
    #[inline]
    fn is_current(&self, ev: Ev) -> bool {
        match ev {
            Ev::Complete { req, gen } => self.reqs.gen(req) == gen,
            Ev::NextRequest { conn, gen } | Ev::IdleClose { conn, gen } => {
                self.conns.gen(conn) == gen
            }
            Ev::AttemptEnd { conn, seq } => self.conns.live(conn).is_some_and(|c| c.pending == seq),
            Ev::Probe { member, epoch } | Ev::ProbeFailed { member, epoch } => {
                epoch == self.probe_epoch && !self.membership[member as usize].removed
            }
            Ev::DrainDeadline { member, epoch } => {
                let s = &self.membership[member as usize];
                s.draining && s.drain_epoch == epoch
            }
            Ev::Action { .. } | Ev::WarmupEnd => true,
        }
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Complete { req, .. } => self.complete(req),
            Ev::NextRequest { conn, .. } => self.next_request(conn),
            Ev::IdleClose { conn, .. } => self.idle_close(conn),
            Ev::AttemptEnd { conn, .. } => self.attempt_end(conn),
            Ev::Probe { member, epoch } => self.probe(member, epoch),
            Ev::ProbeFailed { member, .. } => self.probe_result(member, false),
            Ev::DrainDeadline { member, .. } => self.drain_deadline(member),
            Ev::Action {
                i,
                node: EVERY_NODE,
            } => self.apply(i as usize),
            Ev::Action { i, node } => self.node_applies(i as usize, node),
            Ev::WarmupEnd => {
                self.counters.end_warmup(self.now);
                self.warm_balancers = self.nodes.counters();
                for s in &mut self.servers {
                    s.reset_peak();
                }
            }
        }
    }

    pub(super) fn notice(&mut self, member: Option<MemberIdx>, kind: NoticeKind) {
        self.obs.notice(&Notice {
            at: self.now,
            member,
            kind,
        });
    }
}
