//! The algorithm engine: given the pool's members and their state, pick the member for a new
//! connection or request.
//!
//! Pure library code: no I/O, no clock reads (time is an argument), no allocation per pick, and
//! the same calls always give the same picks. One [`Balancer`] models one load-balancer node.
//!
//! A pick runs the pipeline documented in `ARCHITECTURE.md` (§ Balancer): eligibility → tier →
//! AZ affinity / all-offline forwarding → session persistence → slow-start weights → algorithm.
//! Stages 1–3 and 5 only change when a member, the pool or a slow-start step changes; they are
//! folded into a candidate list that is rebuilt lazily (a dirty flag) on the next pick, together
//! with the algorithm's own table. A pick then costs the persistence lookup plus the algorithm.

pub mod hash;
mod least_conn;
mod maglev;
pub mod quic;
mod wrr;

use std::net::IpAddr;

use crate::model::{
    Algorithm, AzAffinity, AzFallback, AzThreshold, Member, Persistence, PoolConfig, Tier, ZoneId,
};
use crate::time::SimTime;

pub use crate::model::MemberIdx;

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
    /// A candidate's open-connection count changed.
    fn on_active(&mut self, _m: MemberIdx, _active: u32) {}
}

/// `weighted_hashing`: hash algorithms honour member weights
/// (see [`Balancer::set_weighted_hashing`]).
fn picker_for(algorithm: Algorithm, weighted_hashing: bool) -> Box<dyn Picker> {
    match algorithm {
        Algorithm::RoundRobin => Box::new(wrr::Wrr::new()),
        Algorithm::LeastConnections => Box::<least_conn::LeastConn>::default(),
        Algorithm::SourceIp
        | Algorithm::UriHash
        | Algorithm::QuicCid { .. }
        | Algorithm::TupleHash(_) => Box::new(maglev::Maglev::new(weighted_hashing)),
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
            picker: picker_for(pool.algorithm, false),
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
        self.picker = picker_for(self.algorithm, weighted);
        self.dirty = true;
    }

    /// Picks the member for a new connection (per-connection pools) or request (HTTP pools).
    /// `None` means no member is eligible: the load balancer has nowhere to send it.
    pub fn pick(&mut self, now: SimTime, req: &Request<'_>) -> Option<Pick> {
        if !self.ramping.is_empty() && now >= self.next_step {
            self.slow_start_step(now);
        }
        if self.dirty {
            self.rebuild();
        }
        if self.candidates.is_empty() {
            return None;
        }
        match self.route {
            Route::Normal => {}
            Route::AzFallback => self.counters.az_fallbacks += 1,
            Route::FailOpen => self.counters.fail_open_picks += 1,
        }
        // Vendor (huawei-semantics §2): persistence stops working when slow start is on.
        // Under QUIC_CID a packet whose connection ID is readable is routed by it: the
        // source-IP persistence QUIC pools must carry only covers packets without one (§6),
        // otherwise a migrated connection would follow its new address's binding.
        let persistence = if self.slow_start.is_some() || self.cid_key(req).is_some() {
            None
        } else {
            self.persistence.as_ref()
        };
        match persistence {
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
                let cookie_until = Some(match *p {
                    Persistence::HttpCookie { timeout } => now + timeout,
                    _ => SimTime::MAX,
                });
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

    fn algorithm_pick(&mut self, req: &Request<'_>) -> MemberIdx {
        let key = match self.algorithm {
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
        };
        self.picker.pick(key)
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
        self.members[m as usize].weight = weight;
        let ramp_weight = match self.members[m as usize].ramp {
            Ramp::Since(start) => self.ramp_weight(now, m, start),
            Ramp::Warm | Ramp::Waiting => weight * WEIGHT_SCALE,
        };
        self.members[m as usize].ramp_weight = ramp_weight;
        self.dirty = true;
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
            self.picker = picker_for(pool.algorithm, self.weighted_hashing);
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

    fn start_ramp(&mut self, now: SimTime, m: MemberIdx) {
        let s = &mut self.members[m as usize];
        s.ramp = Ramp::Since(now);
        s.ramp_weight = 0;
        if self.ramping.is_empty() {
            self.next_step = now;
        }
        self.ramping.push(m);
    }

    fn end_ramp(&mut self, m: MemberIdx) {
        let s = &mut self.members[m as usize];
        s.ramp = Ramp::Warm;
        s.ramp_weight = s.weight * WEIGHT_SCALE;
        self.ramping.retain(|&r| r != m);
    }

    /// Linear ramp from 0 to the full weight over the slow-start duration, evaluated at the
    /// start of the current [`SLOW_START_STEP`].
    fn ramp_weight(&self, now: SimTime, m: MemberIdx, start: SimTime) -> u32 {
        let full = u64::from(self.members[m as usize].weight * WEIGHT_SCALE);
        let Some(duration) = self.slow_start else {
            return full as u32;
        };
        let step_start = now.0 - now.0 % SLOW_START_STEP.0;
        let elapsed = step_start.saturating_sub(start.0);
        if elapsed >= duration.0 {
            return full as u32;
        }
        (u128::from(full) * u128::from(elapsed) / u128::from(duration.0)) as u32
    }

    fn slow_start_step(&mut self, now: SimTime) {
        let duration = self.slow_start.unwrap_or(SimTime::ZERO);
        for i in (0..self.ramping.len()).rev() {
            let m = self.ramping[i];
            let Ramp::Since(start) = self.members[m as usize].ramp else {
                unreachable!("only ramping members are listed")
            };
            let w = self.ramp_weight(now, m, start);
            let s = &mut self.members[m as usize];
            if w != s.ramp_weight {
                s.ramp_weight = w;
                self.dirty = true;
            }
            if now.0 - now.0 % SLOW_START_STEP.0 >= start.0 + duration.0 {
                s.ramp = Ramp::Warm;
                self.ramping.swap_remove(i);
            }
        }
        self.next_step = SimTime(now.0 - now.0 % SLOW_START_STEP.0) + SLOW_START_STEP;
    }

    /// Folds stages 1–3 and 5 of the pipeline into the candidate list and rebuilds the
    /// algorithm's tables.
    fn rebuild(&mut self) {
        self.dirty = false;
        let members = &self.members;
        // 2. Tier: the backup tier only while no first-tier member is eligible (APIG `is_backup`:
        //    "only when all non-standby nodes are faulty"; ELB slave while the master is down).
        let backup_tier = !members.iter().any(|s| s.eligible() && !s.is_backup());
        let in_tier = |s: &MemberState| s.in_pool() && s.is_backup() == backup_tier;

        // 3. AZ affinity (huawei-semantics §7), else all-offline forwarding (§5; ignored under AZ
        //    affinity). Each arm says which members may take traffic.
        let mut route = Route::Normal;
        let select: Box<dyn Fn(&MemberState) -> bool> = match (self.az_affinity, self.local_zone) {
            (Some(az), Some(local)) => {
                let local_members = members
                    .iter()
                    .filter(|s| in_tier(s) && s.zone == Some(local));
                let total = local_members.clone().count() as u64;
                let healthy = local_members.filter(|s| s.health.is_healthy()).count() as u64;
                if healthy >= az_threshold(az.threshold, total) {
                    Box::new(move |s| s.eligible() && s.zone == Some(local))
                } else {
                    route = Route::AzFallback;
                    match az.fallback {
                        AzFallback::AllMembersOfLocalAz => {
                            Box::new(move |s| in_tier(s) && s.zone == Some(local))
                        }
                        AzFallback::HealthyMembersOfRemoteAz => {
                            Box::new(move |s| s.eligible() && s.zone != Some(local))
                        }
                        AzFallback::AllHealthyMembers => Box::new(|s| s.eligible()),
                        AzFallback::AllMembers => Box::new(in_tier),
                    }
                }
            }
            _ if self.all_offline_forwarding
                && !members.iter().any(|s| s.in_pool() && s.health.is_healthy()) =>
            {
                route = Route::FailOpen;
                Box::new(MemberState::in_pool)
            }
            _ => Box::new(|s| s.eligible()),
        };

        // 1 and 5: weight > 0 under every route; round robin uses slow-start weights.
        let ramped = self.algorithm == Algorithm::RoundRobin && self.slow_start.is_some();
        self.candidates.clear();
        for (i, s) in members.iter().enumerate() {
            let weight = if ramped {
                s.ramp_weight
            } else {
                s.weight * WEIGHT_SCALE
            };
            let chosen = s.weight > 0
                && weight > 0
                && (s.is_backup() == backup_tier || route == Route::FailOpen)
                && select(s);
            self.is_candidate[i] = chosen;
            if chosen {
                self.candidates
                    .push(Candidate::new(i as MemberIdx, weight, s.active, s.key_hash));
            }
        }
        self.route = route;
        self.picker.rebuild(&self.candidates, self.members.len());
    }
}

/// Healthy members the local AZ needs to keep affinity: ceil(members × pct / 100) in integers
/// (seed 000: 3 members × 66 % → 2, × 67 % → 3), or the absolute count.
fn az_threshold(threshold: AzThreshold, members_in_az: u64) -> u64 {
    match threshold {
        AzThreshold::Percentage(pct) => (members_in_az * u64::from(pct)).div_ceil(100),
        AzThreshold::Count(n) => u64::from(n),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::testkit;

    fn member(key: &str, weight: u32, zone: Option<ZoneId>, tier: Tier) -> Member {
        Member {
            weight,
            zone,
            tier,
            ..testkit::member(key)
        }
    }

    fn pool(algorithm: Algorithm, members: Vec<Member>) -> PoolConfig {
        PoolConfig {
            zones: vec!["az1".into(), "az2".into()],
            health_check: Some(testkit::health_check(5, 3, 3, 3)),
            ..testkit::pool(algorithm, members)
        }
    }

    fn req(slot: u32) -> Request<'static> {
        Request {
            client_port: 40000,
            dst_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
            dst_port: 443,
            addr_slot: slot,
            ..testkit::request(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + slot)))
        }
    }

    fn picks(b: &mut Balancer, now: SimTime, n: usize) -> Vec<MemberIdx> {
        (0..n)
            .map(|_| b.pick(now, &req(0)).map_or(99, |p| p.member))
            .collect()
    }

    fn rr(weights: &[u32]) -> PoolConfig {
        let ms = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| member(&format!("m{i}"), w, None, Tier::Primary))
            .collect();
        pool(Algorithm::RoundRobin, ms)
    }

    const T0: SimTime = SimTime::ZERO;

    #[test]
    fn nginx_sequence_through_the_pipeline() {
        let mut b = Balancer::new(&rr(&[5, 1, 1]), None, 1, T0);
        assert_eq!(picks(&mut b, T0, 7), [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn eligibility() {
        let mut b = Balancer::new(&rr(&[1, 1, 1, 1, 0]), None, 1, T0);
        b.set_health(T0, 0, Health::Offline);
        b.set_enabled(1, false);
        b.set_enabled(2, false);
        assert_eq!(picks(&mut b, T0, 3), [3, 3, 3]);
        b.set_weight(T0, 3, 0);
        assert_eq!(b.pick(T0, &req(0)), None);
        let added = b.add_member(T0, member("new", 1, None, Tier::Primary));
        assert_eq!(b.pick(T0, &req(0)), None, "INITIAL is not eligible");
        b.set_health(T0, added, Health::Online);
        assert_eq!(picks(&mut b, T0, 2), [added, added]);
    }

    #[test]
    fn standby_and_master_slave_tiers() {
        let ms = vec![
            member("p", 1, None, Tier::Primary),
            member("s1", 1, None, Tier::Standby),
            member("s2", 1, None, Tier::Standby),
        ];
        let mut b = Balancer::new(&pool(Algorithm::RoundRobin, ms), None, 1, T0);
        assert_eq!(picks(&mut b, T0, 3), [0, 0, 0]);
        b.set_health(T0, 0, Health::Offline);
        assert_eq!(picks(&mut b, T0, 4), [1, 2, 1, 2]);
        b.set_health(T0, 0, Health::Online);
        assert_eq!(picks(&mut b, T0, 2), [0, 0]);

        let ms = vec![
            member("master", 1, None, Tier::Master),
            member("slave", 1, None, Tier::Slave),
        ];
        let mut b = Balancer::new(&pool(Algorithm::LeastConnections, ms), None, 1, T0);
        assert_eq!(picks(&mut b, T0, 2), [0, 0]);
        b.set_health(T0, 0, Health::Offline);
        assert_eq!(picks(&mut b, T0, 2), [1, 1]);
    }

    #[test]
    fn az_threshold_rounding_from_seed_000() {
        assert_eq!(az_threshold(AzThreshold::Percentage(66), 3), 2);
        assert_eq!(az_threshold(AzThreshold::Percentage(67), 3), 3);
        assert_eq!(az_threshold(AzThreshold::Percentage(0), 3), 0);
        assert_eq!(az_threshold(AzThreshold::Percentage(100), 3), 3);
        assert_eq!(az_threshold(AzThreshold::Count(2), 3), 2);
    }

    fn az_pool(pct: u8, fallback: AzFallback) -> PoolConfig {
        // Members 0..3 in az 0 (local), 3..5 in az 1.
        let ms = (0..5)
            .map(|i| {
                member(
                    &format!("m{i}"),
                    1,
                    Some(if i < 3 { 0 } else { 1 }),
                    Tier::Primary,
                )
            })
            .collect();
        let mut p = pool(Algorithm::RoundRobin, ms);
        p.az_affinity = Some(AzAffinity {
            threshold: AzThreshold::Percentage(pct),
            fallback,
        });
        p
    }

    fn sorted_set(b: &mut Balancer) -> Vec<MemberIdx> {
        let mut v = picks(b, T0, 30);
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn az_affinity_and_fallbacks() {
        // 66 %: two healthy local members keep affinity; 67 % needs all three.
        let mut b = Balancer::new(&az_pool(66, AzFallback::AllMembers), Some(0), 1, T0);
        b.set_health(T0, 0, Health::Offline);
        assert_eq!(sorted_set(&mut b), [1, 2]);
        assert_eq!(b.counters().az_fallbacks, 0);
        for (fallback, want) in [
            (AzFallback::AllMembersOfLocalAz, vec![0, 1, 2]),
            (AzFallback::HealthyMembersOfRemoteAz, vec![3, 4]),
            (AzFallback::AllHealthyMembers, vec![1, 2, 3, 4]),
            (AzFallback::AllMembers, vec![0, 1, 2, 3, 4]),
        ] {
            let mut b = Balancer::new(&az_pool(67, fallback), Some(0), 1, T0);
            b.set_health(T0, 0, Health::Offline);
            assert_eq!(sorted_set(&mut b), want, "{fallback:?}");
            assert_eq!(b.counters().az_fallbacks, 30);
        }
    }

    #[test]
    fn all_offline_forwarding() {
        let mut p = rr(&[1, 1, 0]);
        p.all_offline_forwarding = true;
        let mut b = Balancer::new(&p, None, 1, T0);
        for m in 0..3 {
            b.set_health(T0, m, Health::Offline);
        }
        assert_eq!(sorted_set(&mut b), [0, 1], "weight 0 still excluded");
        assert_eq!(b.counters().fail_open_picks, 30);
        b.set_health(T0, 1, Health::Online);
        assert_eq!(sorted_set(&mut b), [1]);
        // Ignored under AZ affinity.
        let mut p = az_pool(0, AzFallback::AllHealthyMembers);
        p.all_offline_forwarding = true;
        let mut b = Balancer::new(&p, Some(0), 1, T0);
        for m in 0..5 {
            b.set_health(T0, m, Health::Offline);
        }
        assert_eq!(b.pick(T0, &req(0)), None);
    }

    #[test]
    fn source_ip_persistence_times_out_and_rebinds() {
        let mut p = rr(&[1, 1, 1]);
        let minute = SimTime::from_secs(60);
        p.persistence = Some(Persistence::SourceIp { timeout: minute });
        let mut b = Balancer::new(&p, None, 4, T0);
        let first = b.pick(T0, &req(1)).unwrap();
        assert!(!first.persisted);
        // Another client moves the round robin on; client 1 stays bound.
        b.pick(T0, &req(2)).unwrap();
        let again = b.pick(SimTime::from_secs(59), &req(1)).unwrap();
        assert_eq!((again.member, again.persisted), (first.member, true));
        // Refreshed on use: still bound 59 s after the last use, expired after 60 s.
        assert!(b.pick(SimTime::from_secs(118), &req(1)).unwrap().persisted);
        assert!(!b.pick(SimTime::from_secs(178), &req(1)).unwrap().persisted);
        let bound = b.pick(SimTime::from_secs(179), &req(1)).unwrap().member;
        b.set_health(T0, bound, Health::Offline);
        let moved = b.pick(SimTime::from_secs(180), &req(1)).unwrap();
        assert_ne!(moved.member, bound);
        assert!(!moved.persisted);
        let c = b.counters();
        assert_eq!((c.persistence_hits, c.persistence_rebinds), (3, 1));
    }

    #[test]
    fn cookie_persistence_and_slow_start_override() {
        let mut p = rr(&[1, 1]);
        p.persistence = Some(Persistence::HttpCookie {
            timeout: SimTime::from_secs(60),
        });
        let mut b = Balancer::new(&p, None, 1, T0);
        let fresh = b.pick(T0, &req(0)).unwrap();
        let until = Some(SimTime::from_secs(60));
        assert_eq!((fresh.cookie_until, fresh.persisted), (until, false));
        let with_cookie = Request {
            cookie: Some(1),
            ..req(0)
        };
        for _ in 0..3 {
            assert_eq!(
                b.pick(T0, &with_cookie),
                Some(Pick {
                    member: 1,
                    cookie_until: until,
                    persisted: true
                })
            );
        }
        b.set_health(T0, 1, Health::Offline);
        assert_eq!(
            b.pick(T0, &with_cookie),
            Some(Pick {
                member: 0,
                cookie_until: until,
                persisted: false
            })
        );
        assert_eq!(b.counters().persistence_rebinds, 1);
        // With slow start on, persistence is ignored (huawei-semantics §2).
        p.slow_start = Some(SimTime::from_secs(30));
        b.update_pool(T0, &p);
        b.set_health(T0, 1, Health::Online);
        assert!(!b.pick(T0, &with_cookie).unwrap().persisted);
    }

    #[test]
    fn slow_start_ramps_linearly_once() {
        let mut p = rr(&[1, 1]);
        p.slow_start = Some(SimTime::from_secs(100));
        let mut b = Balancer::new(&p, None, 1, T0);
        let new = b.add_member(T0, member("new", 1, None, Tier::Primary));
        let share = |b: &mut Balancer, t: u64| {
            let now = SimTime::from_secs(t);
            let got = picks(b, now, 2100);
            got.iter().filter(|&&m| m == new).count()
        };
        assert_eq!(share(&mut b, 5), 0, "waits for the first ONLINE");
        b.set_health(SimTime::from_secs(10), new, Health::Online);
        assert_eq!(share(&mut b, 10), 0, "ramp starts at 0");
        // 50 s into the ramp: weight 0.5 against 1 + 1 → 1/5 of 2100 picks.
        assert_eq!(share(&mut b, 60), 420);
        b.set_health(SimTime::from_secs(61), new, Health::Offline);
        b.set_health(SimTime::from_secs(62), new, Health::Online);
        assert_eq!(
            share(&mut b, 62),
            700,
            "an unhealthy member leaves the ramp for good"
        );
        // Initial members never ramp, nor do members added to an empty pool.
        let mut b = Balancer::new(&rr(&[]), None, 1, T0);
        let mut p2 = rr(&[]);
        p2.slow_start = Some(SimTime::from_secs(100));
        b.update_pool(T0, &p2);
        let first = b.add_member(T0, member("first", 1, None, Tier::Primary));
        b.set_health(T0, first, Health::Online);
        assert_eq!(picks(&mut b, SimTime::from_secs(1), 2), [first, first]);
    }

    #[test]
    fn quic_cid_hash_and_fallback() {
        let ms = (0..8)
            .map(|i| member(&format!("m{i}"), 1, None, Tier::Primary))
            .collect();
        let mut b = Balancer::new(
            &pool(Algorithm::QuicCid { offset: 1, len: 3 }, ms),
            None,
            1,
            T0,
        );
        let initial = [
            0xc3, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0,
        ];
        let short = [0x41, 0x00, 0x94, 0xc8, 0xf0, 0xff, 0xff, 0xff, 0xff, 0x01];
        let r = |p: &'static [u8]| Request {
            quic_packet: Some(p),
            ..req(0)
        };
        // Same DCID bytes 1..4 → same member, whatever the header form.
        let a = b.pick(T0, &r(Box::leak(Box::new(initial)))).unwrap().member;
        let s = b.pick(T0, &r(Box::leak(Box::new(short)))).unwrap().member;
        assert_eq!(a, s);
        assert_eq!(b.counters().quic_cid_fallbacks, 0);
        let by_ip = b.pick(T0, &req(0)).unwrap().member;
        let truncated = r(Box::leak(Box::new([0xc3, 0, 0, 0, 1, 2, 0x83, 0x94])));
        assert_eq!(b.pick(T0, &truncated).unwrap().member, by_ip);
        assert_eq!(b.counters().quic_cid_fallbacks, 2);
    }
}
