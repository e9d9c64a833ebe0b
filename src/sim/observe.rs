//! What the engine tells the outside world while it runs.
//!
//! The event loop pushes plain observations into one [`Observer`] (ripgrep's `Sink` idea):
//! recorders, the trace writer and anything else implement it, so the engine never formats or
//! aggregates. The engine is generic over the observer, so the calls inline away.

use crate::balancer::MemberIdx;
use crate::model::{Member, Tier, ZoneId};
use crate::time::SimTime;

/// How a request ended, from the client's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A response arrived in time.
    Ok,
    /// No eligible member, the member was down, or the client timed out.
    Failed,
    /// The member's queue was full.
    Rejected,
    /// The connection was reset (drain timeout, drain disabled, lost affinity after migration).
    Reset,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
            Outcome::Reset => "reset",
        }
    }
}

/// One finished request. Requests still in flight when the run ends produce none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestObs {
    /// Arrival at the load balancer; warmup and timeline buckets are judged by it.
    pub arrival: SimTime,
    /// Arrival order, from 0.
    pub request: u64,
    pub connection: u64,
    pub client: u32,
    /// Index into `SimConfig::lb_zones` of the node that handled it.
    pub lb_node: u16,
    /// `None` when no member was eligible.
    pub member: Option<MemberIdx>,
    pub outcome: Outcome,
    /// Arrival to response (or to failure), including queueing and cross-AZ latency.
    pub latency: SimTime,
    /// The LB node and the member are in different AZs.
    pub cross_az: bool,
    /// Index into `WorkloadConfig::uris` (per-connection pools: the URI of the connection's
    /// first request); `None` when the workload has no URI set.
    pub uri: Option<u32>,
}

/// A notable change during the run: timeline actions as applied, health transitions, drains.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub at: SimTime,
    pub member: Option<MemberIdx>,
    pub kind: NoticeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NoticeKind {
    MemberDown,
    MemberUp,
    Slow(f64),
    AzDown(ZoneId),
    AzUp(ZoneId),
    SetWeight(u32),
    MemberAdded,
    MemberRemoved,
    /// Removal refused: the pool has deletion protection.
    RemoveRefused,
    PoolUpdated,
    SetRate(f64),
    SetEnabled(bool),
    SetTier(Tier),
    /// Health checks marked the member ONLINE.
    HealthOnline,
    /// Health checks marked the member OFFLINE.
    HealthOffline,
    /// The member stopped taking new connections; this many stay open until the drain timeout.
    DrainStarted(u32),
    /// The drain timeout reset this many connections still open.
    DrainReset(u32),
    /// No connection drain: this many connections were reset at once.
    Cut(u32),
}

/// Receives observations. All methods but [`Observer::request`] have empty defaults.
pub trait Observer {
    fn request(&mut self, obs: &RequestObs);

    fn notice(&mut self, _notice: &Notice) {}

    /// A member joined (after the initial ones): observers keyed by member learn its index.
    fn member_added(&mut self, _idx: MemberIdx, _member: &Member) {}
}

impl<A: Observer, B: Observer> Observer for (A, B) {
    #[inline]
    fn request(&mut self, obs: &RequestObs) {
        self.0.request(obs);
        self.1.request(obs);
    }

    fn notice(&mut self, notice: &Notice) {
        self.0.notice(notice);
        self.1.notice(notice);
    }

    fn member_added(&mut self, idx: MemberIdx, member: &Member) {
        self.0.member_added(idx, member);
        self.1.member_added(idx, member);
    }
}

impl<O: Observer + ?Sized> Observer for &mut O {
    #[inline]
    fn request(&mut self, obs: &RequestObs) {
        (**self).request(obs);
    }

    fn notice(&mut self, notice: &Notice) {
        (**self).notice(notice);
    }

    fn member_added(&mut self, idx: MemberIdx, member: &Member) {
        (**self).member_added(idx, member);
    }
}

/// No observer besides the ones a caller pairs it with.
impl Observer for () {
    #[inline]
    fn request(&mut self, _obs: &RequestObs) {}
}

/// An observer only some runs have (`lbsim run --trace`).
impl<O: Observer> Observer for Option<O> {
    #[inline]
    fn request(&mut self, obs: &RequestObs) {
        if let Some(o) = self {
            o.request(obs);
        }
    }

    fn notice(&mut self, notice: &Notice) {
        if let Some(o) = self {
            o.notice(notice);
        }
    }

    fn member_added(&mut self, idx: MemberIdx, member: &Member) {
        if let Some(o) = self {
            o.member_added(idx, member);
        }
    }
}
