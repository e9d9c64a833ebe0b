//! The algorithm engine: given the pool's members and their state, pick the member for a new
//! connection or request.
//!
//! Pure library code: no I/O, no clock reads (time is an argument), no allocation per pick, and
//! the same calls always give the same picks. One [`Balancer`] models one load-balancer node.
//!
//! A pick runs the pipeline documented in `docs/model.md` (§ The balancer): eligibility → tier →
//! AZ affinity / all-offline forwarding → session persistence → slow-start weights → algorithm.
//! Stages 1–3 and 5 only change when a member, the pool or a slow-start step changes; they are
//! folded into a candidate list that is rebuilt lazily (a dirty flag) on the next pick, together
//! with the algorithm's own table. A pick then costs the persistence lookup plus the algorithm.

mod candidates;
pub mod hash;
mod least_conn;
mod maglev;
pub mod quic;
mod slow_start;
mod wrr;

use std::net::IpAddr;
use std::rc::Rc;

use crate::model::{
    Algorithm, AzAffinity, AzFallback, AzThreshold, Member, Persistence, PoolConfig, Tier, ZoneId,
};
use crate::time::SimTime;

pub use crate::model::MemberIdx;
pub use maglev::SharedTables;

/// A member's health as the load balancer sees it (ELB `operating_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Passed its health check: eligible.
    Online,
    /// Failing its health check: never picked (except by all-offline forwarding and the AZ
    /// fallbacks that forward to unhealthy members).
    Offline,
    /// Monitored but not yet checked: not eligible until its first ONLINE (ELB: a newly
    /// associated member becomes healthy after one successful check, huawei-semantics §9).
    Initial,
    /// No health monitor: ELB treats such members as online (huawei-semantics §8).
    NoMonitor,
}

/// How a member came to be in the pool, which decides the health it starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Joined {
    /// Present when the pool was set up (or when a health monitor appeared).
    AtStart,
    /// Added to a running pool.
    Added,
}

impl Health {
    /// ONLINE or NO_MONITOR: eligible as far as health goes.
    pub fn is_healthy(self) -> bool {
        matches!(self, Health::Online | Health::NoMonitor)
    }

    /// The health a member starts with: NO_MONITOR without a health check; with one, ONLINE
    /// when present at the start and INITIAL when added (ONLINE after one successful check).
    pub fn starting(monitored: bool, joined: Joined) -> Health {
        match (monitored, joined) {
            (false, _) => Health::NoMonitor,
            (true, Joined::AtStart) => Health::Online,
            (true, Joined::Added) => Health::Initial,
        }
    }
}

/// What the balancer may look at for one new connection or request.
pub struct Request<'a> {
    pub client_ip: IpAddr,
    pub client_port: u16,
    /// Destination address, port and IP protocol: the tuple hashes.
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    pub ip_proto: u8,
    /// Dense index of `client_ip` (< the `address_slots` given to [`Balancer::new`]); keys the
    /// source-IP persistence table so a lookup is an array read, not a map probe.
    pub addr_slot: u32,
    /// Request URI, for APIG URI hashing.
    pub uri: &'a [u8],
    /// First packet of a QUIC connection, or a later short-header packet (ELB `QUIC_CID`).
    pub quic_packet: Option<&'a [u8]>,
    /// Member named by the persistence cookie the client returned (HTTP_COOKIE / APP_COOKIE).
    pub cookie: Option<MemberIdx>,
}

/// The outcome of a pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    pub member: MemberIdx,
    /// Cookie persistence: the client now holds a cookie naming `member`, valid until this
    /// time. HTTP_COOKIE: the LB inserts its cookie in every response, so it expires `timeout`
    /// after the last one (huawei-semantics §3: a binding is dropped "when the cookie is missing
    /// or expired"); APP_COOKIE: set by the backend, no timeout (`SimTime::MAX`).
    pub cookie_until: Option<SimTime>,
    /// Chosen by an existing persistence binding rather than by the algorithm.
    pub persisted: bool,
}

/// Event counts a report needs to explain a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BalancerCounters {
    /// `QUIC_CID` picks whose DCID was absent or shorter than `offset + len`, hashed on the
    /// source IP instead (huawei-semantics §6, inferred).
    pub quic_cid_fallbacks: u64,
    /// Picks decided by a live persistence binding.
    pub persistence_hits: u64,
    /// Bindings dropped because their member was no longer eligible, then re-picked.
    pub persistence_rebinds: u64,
    /// Picks made by all-offline forwarding (`minimum_healthy_member_count` = 1).
    pub fail_open_picks: u64,
    /// Picks made by the AZ-affinity fallback strategy (local AZ below its threshold).
    pub az_fallbacks: u64,
    /// Times the candidate list and the algorithm's table were rebuilt.
    pub rebuilds: u64,
}

/// Slow-start weights are recomputed once per this much simulated time (on the first pick at or
/// after each boundary), so a pick never recomputes weights and tables change at most once a
/// step. One second is 1/30 of the shortest vendor duration (30 s).
pub const SLOW_START_STEP: SimTime = SimTime::from_secs(1);

/// Effective weights are configured weights × this, so a slow-start ramp has percent resolution
/// even for weight-1 members. Scaling all weights alike changes no algorithm's choices.
const WEIGHT_SCALE: u32 = 100;

/// A member as an algorithm sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    idx: MemberIdx,
    /// Effective weight (> 0).
    weight: u32,
    active: u32,
    /// XXH64 of the member key with seeds 0 and 1 (Maglev offset and skip).
    key_hash: (u64, u64),
}

impl Candidate {
    pub(crate) fn new(idx: MemberIdx, weight: u32, active: u32, key_hash: (u64, u64)) -> Self {
        Candidate {
            idx,
            weight,
            active,
            key_hash,
        }
    }
}

/// One algorithm over a fixed candidate list (one file each: `wrr`, `least_conn`, `maglev`).
pub(crate) trait Picker {
    /// Rebuilds the algorithm's tables for `candidates` (sorted by index, non-empty or empty);
    /// `pool_size` is the number of member indices issued so far.
    fn rebuild(&mut self, candidates: &[Candidate], pool_size: usize);
    /// Picks among the candidates of the last rebuild, which must be non-empty. `key` is the
    /// request's routing hash; pickers that do not hash ignore it.
    fn pick(&mut self, key: u64) -> MemberIdx;
    /// Picks a candidate not in `tried` for a retry, or `None` when this picker gives up (the
    /// balancer then scans). By default the algorithm's own next choices: round robin moves on
    /// through its sequence, each tried member using its turn as nginx's round robin does
    /// (`ngx_http_upstream_get_peer` skips tried peers); a hash re-hashes the key with the
    /// attempt number as nginx's `hash` does, giving up after 20 draws as nginx does.
    fn pick_excluding(&mut self, key: u64, tried: &[MemberIdx]) -> Option<MemberIdx> {
        (1..=RETRY_DRAWS)
            .map(|i| self.pick(retry_key(key, i)))
            .find(|m| !tried.contains(m))
    }
    /// A candidate's open-connection count changed.
    fn on_active(&mut self, _m: MemberIdx, _active: u32) {}
}

/// Under cookie persistence, until when the cookie a response sets is valid: HTTP_COOKIE
/// expires `timeout` after it, an APP_COOKIE (set by the backend) does not expire.
fn cookie_until(p: &Persistence, now: SimTime) -> Option<SimTime> {
    match *p {
        Persistence::HttpCookie { timeout } => Some(now + timeout),
        Persistence::AppCookie { .. } => Some(SimTime::MAX),
        Persistence::SourceIp { .. } => None,
    }
}

/// Draws a retry makes through the algorithm before scanning the candidates (nginx's `hash`
/// falls back to round robin after 20).
const RETRY_DRAWS: u64 = 20;

/// The routing key of retry draw `i`: SplitMix64 of the key and the draw, so each draw lands
/// on an independent table slot while staying a pure function of the request.
fn retry_key(key: u64, i: u64) -> u64 {
    let mut z = key ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `weighted_hashing`: hash algorithms honour member weights
/// (see [`Balancer::set_weighted_hashing`]).
/// `tables`: Maglev tables shared with other balancers.
fn picker_for(
    algorithm: Algorithm,
    weighted_hashing: bool,
    tables: &Rc<SharedTables>,
) -> Box<dyn Picker> {
    match algorithm {
        Algorithm::RoundRobin => Box::new(wrr::Wrr::new()),
        Algorithm::LeastConnections => Box::<least_conn::LeastConn>::default(),
        Algorithm::SourceIp
        | Algorithm::UriHash
        | Algorithm::QuicCid { .. }
        | Algorithm::TupleHash(_) => {
            Box::new(maglev::Maglev::new(weighted_hashing, tables.clone()))
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ramp {
    /// No slow start (present at the start, added to an empty pool, or the ramp is over).
    Warm,
    /// Added to a non-empty pool with slow start on; the ramp starts at its first ONLINE.
    Waiting,
    /// Ramping since this time.
    Since(SimTime),
}

struct MemberState {
    key_hash: (u64, u64),
    weight: u32,
    /// Slow-start weight as of the last step, `weight × WEIGHT_SCALE` once warm.
    ramp_weight: u32,
    ramp: Ramp,
    zone: Option<ZoneId>,
    tier: Tier,
    enabled: bool,
    health: Health,
    active: u32,
}

impl MemberState {
    /// Still part of the pool: administratively enabled (a removed member is disabled for good).
    fn in_pool(&self) -> bool {
        self.enabled
    }

    fn eligible(&self) -> bool {
        self.in_pool() && self.health.is_healthy() && self.weight > 0
    }

    /// Second tier: APIG standby nodes and the ELB slave.
    fn is_backup(&self) -> bool {
        matches!(self.tier, Tier::Standby | Tier::Slave)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Normal,
    AzFallback,
    FailOpen,
}

#[derive(Clone, Copy)]
struct Binding {
    member: MemberIdx,
    expires: SimTime,
}

const UNBOUND: Binding = Binding {
    member: MemberIdx::MAX,
    expires: SimTime::ZERO,
};

/// The balancer of one load-balancer node (one per AZ the load balancer runs in).
pub struct Balancer {
    algorithm: Algorithm,
    persistence: Option<Persistence>,
    slow_start: Option<SimTime>,
    az_affinity: Option<AzAffinity>,
    all_offline_forwarding: bool,
    has_health_check: bool,
    local_zone: Option<ZoneId>,
    short_dcid_len: usize,
    weighted_hashing: bool,

    members: Vec<MemberState>,
    picker: Box<dyn Picker>,
    /// Hash tables shared with the other balancers of a run ([`Balancer::share_tables`]).
    tables: Rc<SharedTables>,
    candidates: Vec<Candidate>,
    is_candidate: Vec<bool>,
    route: Route,
    dirty: bool,
    /// Members in `Ramp::Since`, and the next slow-start step.
    ramping: Vec<MemberIdx>,
    next_step: SimTime,
    /// Source-IP persistence bindings by `Request::addr_slot`.
    bindings: Vec<Binding>,
    counters: BalancerCounters,
}

impl Balancer {
    /// A node with `pool`'s members, all warm (a scenario's initial members do not slow-start)
    /// and ONLINE when the pool has a health check (NO_MONITOR otherwise). `local_zone` is the
    /// node's AZ for AZ affinity; `address_slots` bounds [`Request::addr_slot`].
    pub fn new(
        pool: &PoolConfig,
        local_zone: Option<ZoneId>,
        address_slots: u32,
        now: SimTime,
    ) -> Balancer {
        let tables = Rc::<SharedTables>::default();
        let mut b = Balancer {
            algorithm: pool.algorithm,
            persistence: pool.persistence.clone(),
            slow_start: pool.slow_start,
            az_affinity: pool.az_affinity,
            all_offline_forwarding: pool.all_offline_forwarding,
            has_health_check: pool.health_check.is_some(),
            local_zone,
            short_dcid_len: usize::from(quic::DEFAULT_SHORT_DCID_LEN),
            weighted_hashing: false,
            members: Vec::with_capacity(pool.members.len()),
            picker: picker_for(pool.algorithm, false, &tables),
            tables,
            candidates: Vec::new(),
            is_candidate: Vec::new(),
            route: Route::Normal,
            dirty: true,
            ramping: Vec::new(),
            next_step: now,
            bindings: vec![UNBOUND; address_slots as usize],
            counters: BalancerCounters::default(),
        };
        let health = Health::starting(pool.health_check.is_some(), Joined::AtStart);
        for m in &pool.members {
            b.push_member(m, health, Ramp::Warm);
        }
        b
    }

    fn push_member(&mut self, m: &Member, health: Health, ramp: Ramp) -> MemberIdx {
        let idx = self.members.len() as MemberIdx;
        self.members.push(MemberState {
            key_hash: hash::member_hashes(&m.key),
            weight: m.weight,
            ramp_weight: m.weight * WEIGHT_SCALE,
            ramp,
            zone: m.zone,
            tier: m.tier,
            enabled: m.enabled,
            health,
            active: 0,
        });
        self.is_candidate.push(false);
        self.dirty = true;
        idx
    }

    /// Server CID length of short-header QUIC packets (not on the wire, RFC 9000 §17.3); the
    /// default is [`quic::DEFAULT_SHORT_DCID_LEN`].
    pub fn set_quic_short_dcid_len(&mut self, len: u8) {
        self.short_dcid_len = usize::from(len);
    }

    /// Hash algorithms honour member weights as Katran's weighted Maglev (`MaglevHashV2`) does,
    /// instead of ignoring them as the vendor does (an lbsim option for what-if comparisons).
    pub fn set_weighted_hashing(&mut self, weighted: bool) {
        self.weighted_hashing = weighted;
        self.picker = picker_for(self.algorithm, weighted, &self.tables);
        self.dirty = true;
    }

    /// Shares hash tables with the other balancers given `tables` (the LB nodes of a run): a
    /// node whose candidates equal another's takes its table instead of filling one.
    pub fn share_tables(&mut self, tables: Rc<SharedTables>) {
        self.tables = tables;
        self.picker = picker_for(self.algorithm, self.weighted_hashing, &self.tables);
        self.dirty = true;
    }

    /// Picks the member for a new connection (per-connection pools) or request (HTTP pools).
    /// `None` means no member is eligible: the load balancer has nowhere to send it.
    pub fn pick(&mut self, now: SimTime, req: &Request<'_>) -> Option<Pick> {
        if !self.refresh(now) {
            return None;
        }
        self.count_route();
        match self.persistence_for(req) {
            None => Some(Pick {
                member: self.algorithm_pick(req),
                cookie_until: None,
                persisted: false,
            }),
            Some(&Persistence::SourceIp { timeout }) => {
                let slot = req.addr_slot as usize;
                let b = self.bindings[slot];
                if b.member != UNBOUND.member && now < b.expires {
                    if self.is_candidate[b.member as usize] {
                        self.bindings[slot].expires = now + timeout;
                        self.counters.persistence_hits += 1;
                        return Some(Pick {
                            member: b.member,
                            cookie_until: None,
                            persisted: true,
                        });
                    }
                    self.counters.persistence_rebinds += 1;
                }
                let member = self.algorithm_pick(req);
                self.bindings[slot] = Binding {
                    member,
                    expires: now + timeout,
                };
                Some(Pick {
                    member,
                    cookie_until: None,
                    persisted: false,
                })
            }
            Some(p @ (Persistence::HttpCookie { .. } | Persistence::AppCookie { .. })) => {
                let cookie_until = cookie_until(p, now);
                if let Some(m) = req.cookie {
                    if self.is_candidate.get(m as usize).copied().unwrap_or(false) {
                        self.counters.persistence_hits += 1;
                        return Some(Pick {
                            member: m,
                            cookie_until,
                            persisted: true,
                        });
                    }
                    self.counters.persistence_rebinds += 1;
                }
                Some(Pick {
                    member: self.algorithm_pick(req),
                    cookie_until,
                    persisted: false,
                })
            }
        }
    }

    /// Picks a member for a retry of a request that already tried `tried`: the algorithm's
    /// choice among the candidates not tried, ignoring persistence (the bound member is the one
    /// that failed). `None` when every candidate was tried. A cookie pool's response still sets
    /// its cookie, now naming the member that answered.
    pub fn pick_other(
        &mut self,
        now: SimTime,
        req: &Request<'_>,
        tried: &[MemberIdx],
    ) -> Option<Pick> {
        self.refresh(now);
        let untried = |c: &Candidate| !tried.contains(&c.idx);
        let first = self.candidates.iter().position(untried)?;
        self.count_route();
        let key = self.routing_key(req);
        let member = match self.picker.pick_excluding(key, tried) {
            Some(m) => m,
            None => {
                // a deterministic scan from the key's position
                let n = self.candidates.len();
                let start = (key % n as u64) as usize;
                (start..n)
                    .chain(0..start)
                    .map(|i| self.candidates[i])
                    .find(untried)
                    .map_or(self.candidates[first].idx, |c| c.idx)
            }
        };
        let cookie_until = self.persistence_for(req).and_then(|p| cookie_until(p, now));
        Some(Pick {
            member,
            cookie_until,
            persisted: false,
        })
    }

    /// Brings the candidates up to date for a pick at `now` (a slow-start step, a rebuild);
    /// false when there is none.
    #[inline(always)]
    fn refresh(&mut self, now: SimTime) -> bool {
        if !self.ramping.is_empty() && now >= self.next_step {
            self.slow_start_step(now);
        }
        if self.dirty {
            self.rebuild();
        }
        !self.candidates.is_empty()
    }

    #[inline(always)]
    fn count_route(&mut self) {
        match self.route {
            Route::Normal => {}
            Route::AzFallback => self.counters.az_fallbacks += 1,
            Route::FailOpen => self.counters.fail_open_picks += 1,
        }
    }

    /// The persistence in force for `req`. Vendor (huawei-semantics §2): persistence stops
    /// working when slow start is on. Under QUIC_CID a packet whose connection ID is readable
    /// is routed by it: the source-IP persistence QUIC pools must carry only covers packets
    /// without one (§6), otherwise a migrated connection would follow its new address's
    /// binding.
    #[inline(always)]
    fn persistence_for(&self, req: &Request<'_>) -> Option<&Persistence> {
        if self.slow_start.is_some() || self.cid_key(req).is_some() {
            None
        } else {
            self.persistence.as_ref()
        }
    }

    fn algorithm_pick(&mut self, req: &Request<'_>) -> MemberIdx {
        let key = self.routing_key(req);
        self.picker.pick(key)
    }

    /// The request's hash under this pool's algorithm (0 for the algorithms that do not hash).
    fn routing_key(&mut self, req: &Request<'_>) -> u64 {
        match self.algorithm {
            Algorithm::RoundRobin | Algorithm::LeastConnections => 0,
            Algorithm::SourceIp => hash::source_ip_key(req.client_ip),
            Algorithm::UriHash => hash::bytes_key(req.uri),
            Algorithm::TupleHash(fields) => hash::tuple_key(fields, req),
            Algorithm::QuicCid { .. } => match self.cid_key(req) {
                Some(key) => key,
                None => {
                    self.counters.quic_cid_fallbacks += 1;
                    hash::source_ip_key(req.client_ip)
                }
            },
        }
    }

    /// Under QUIC_CID, the hash of the DCID bytes `[offset, offset+len)` when the packet has
    /// them; `None` for any other algorithm or an absent, malformed or too short DCID.
    fn cid_key(&self, req: &Request<'_>) -> Option<u64> {
        let Algorithm::QuicCid { offset, len } = self.algorithm else {
            return None;
        };
        let range = usize::from(offset)..usize::from(offset) + usize::from(len);
        req.quic_packet
            .and_then(|p| quic::dcid(p, self.short_dcid_len))
            .and_then(|dcid| dcid.get(range))
            .map(hash::bytes_key)
    }

    /// A connection to `m` opened (least connections counts these).
    pub fn on_open(&mut self, m: MemberIdx) {
        let s = &mut self.members[m as usize];
        s.active += 1;
        self.picker.on_active(m, s.active);
    }

    /// A connection to `m` closed.
    pub fn on_close(&mut self, m: MemberIdx) {
        let s = &mut self.members[m as usize];
        s.active = s.active.saturating_sub(1);
        self.picker.on_active(m, s.active);
    }

    /// A health-check verdict. The first ONLINE of a member added with slow start begins its
    /// ramp; OFFLINE during a ramp ends it for good (huawei-semantics §2).
    pub fn set_health(&mut self, now: SimTime, m: MemberIdx, h: Health) {
        let s = &mut self.members[m as usize];
        if s.health == h {
            return;
        }
        s.health = h;
        match (s.ramp, h) {
            (Ramp::Waiting, Health::Online) => self.start_ramp(now, m),
            (Ramp::Since(_), Health::Offline) => self.end_ramp(m),
            _ => {}
        }
        self.dirty = true;
    }

    /// A new configured weight; it applies from the next pick. Round robin keeps every member's
    /// smooth-WRR state, so nobody else's turn is reset.
    pub fn set_weight(&mut self, now: SimTime, m: MemberIdx, weight: u32) {
        let old = self.members[m as usize].weight;
        self.members[m as usize].weight = weight;
        let ramp_weight = match self.members[m as usize].ramp {
            Ramp::Since(start) => self.ramp_weight(now, m, start),
            Ramp::Warm | Ramp::Waiting => weight * WEIGHT_SCALE,
        };
        self.members[m as usize].ramp_weight = ramp_weight;
        // an unweighted hash table depends on which members are candidates, not on their
        // weights: a change between non-zero weights leaves it as it is
        if !(self.algorithm.hashes() && !self.weighted_hashing && old > 0 && weight > 0) {
            self.dirty = true;
        }
    }

    /// A new traffic tier (APIG `is_backup` changed by a channel update).
    pub fn set_tier(&mut self, m: MemberIdx, tier: Tier) {
        self.members[m as usize].tier = tier;
        self.dirty = true;
    }

    /// The administrative switch (APIG member `status`).
    pub fn set_enabled(&mut self, m: MemberIdx, enabled: bool) {
        self.members[m as usize].enabled = enabled;
        self.dirty = true;
    }

    /// Adds a member with the next index. It starts INITIAL (NO_MONITOR without a health check)
    /// and, when the pool has slow start and other members, ramps from its first ONLINE (at once
    /// without a health check; huawei-semantics §2).
    pub fn add_member(&mut self, now: SimTime, member: Member) -> MemberIdx {
        let non_empty = self.members.iter().any(MemberState::in_pool);
        let ramp = if self.slow_start.is_some() && non_empty {
            Ramp::Waiting
        } else {
            Ramp::Warm
        };
        let health = Health::starting(self.has_health_check, Joined::Added);
        let idx = self.push_member(&member, health, ramp);
        if ramp == Ramp::Waiting && health == Health::NoMonitor {
            self.start_ramp(now, idx);
        }
        idx
    }

    /// A live API update of the pool's settings: algorithm, persistence, slow start, AZ
    /// affinity and all-offline forwarding. Members are changed through the member calls, so
    /// `pool.members` is not read.
    pub fn update_pool(&mut self, now: SimTime, pool: &PoolConfig) {
        if pool.algorithm != self.algorithm {
            self.algorithm = pool.algorithm;
            self.picker = picker_for(pool.algorithm, self.weighted_hashing, &self.tables);
        }
        let kind = |p: &Option<Persistence>| p.as_ref().map(std::mem::discriminant);
        if kind(&pool.persistence) != kind(&self.persistence) {
            self.bindings.fill(UNBOUND);
        }
        self.persistence = pool.persistence.clone();
        if pool.slow_start.is_none() {
            for m in std::mem::take(&mut self.ramping) {
                self.end_ramp(m);
            }
            for s in &mut self.members {
                if s.ramp == Ramp::Waiting {
                    s.ramp = Ramp::Warm;
                }
            }
        }
        self.slow_start = pool.slow_start;
        self.az_affinity = pool.az_affinity;
        self.all_offline_forwarding = pool.all_offline_forwarding;
        self.has_health_check = pool.health_check.is_some();
        self.next_step = now;
        self.dirty = true;
    }

    /// Counters since the balancer was created.
    pub fn counters(&self) -> BalancerCounters {
        self.counters
    }
}

impl BalancerCounters {
    /// Each count plus `other`'s.
    pub fn plus(self, other: BalancerCounters) -> BalancerCounters {
        self.zip(other, u64::wrapping_add)
    }

    /// Each count since `earlier` (an earlier reading of the same counters).
    pub fn since(self, earlier: BalancerCounters) -> BalancerCounters {
        self.zip(earlier, u64::wrapping_sub)
    }

    fn zip(self, o: BalancerCounters, f: fn(u64, u64) -> u64) -> BalancerCounters {
        BalancerCounters {
            quic_cid_fallbacks: f(self.quic_cid_fallbacks, o.quic_cid_fallbacks),
            persistence_hits: f(self.persistence_hits, o.persistence_hits),
            persistence_rebinds: f(self.persistence_rebinds, o.persistence_rebinds),
            fail_open_picks: f(self.fail_open_picks, o.fail_open_picks),
            az_fallbacks: f(self.az_fallbacks, o.az_fallbacks),
            rebuilds: f(self.rebuilds, o.rebuilds),
        }
    }
}

#[cfg(test)]
mod tests;
