//! What the engine tells the outside world while it runs.
//!
//! The event loop pushes plain observations into one [`Observer`] (ripgrep's `Sink` idea):
//! recorders, the trace writer and anything else implement it, so the engine never formats or
//! aggregates. The engine is generic over the observer, so the calls inline away.

use super::config::{Failure, FrontKind, Method};
use crate::balancer::MemberIdx;
use crate::model::{Member, Tier, ZoneId};
use crate::time::SimTime;

/// How a request (or one attempt of it on a member) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The member's response arrived in time.
    Ok,
    /// The member answered with a server error (its `error_rate`); passed through, not retried.
    ServerError,
    /// The member's queue was full: it answered 503 itself.
    Rejected,
    /// No member was eligible.
    NoMember,
    /// The member refused the connection (or reset it while serving).
    Refused,
    /// The member did not accept the connection within the connect timeout.
    ConnectTimeout,
    /// The member did not answer within the response timeout (`member_timeout`).
    ResponseTimeout,
    /// The client gave up first (`workload.timeout_ms`).
    ClientTimeout,
    /// The connection was reset (drain timeout, drain disabled, lost affinity after migration).
    Reset,
    /// The LB node dropped the new connection (listener `cps` or `connection` limit).
    Dropped,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Ok,
        Outcome::ServerError,
        Outcome::Rejected,
        Outcome::NoMember,
        Outcome::Refused,
        Outcome::ConnectTimeout,
        Outcome::ResponseTimeout,
        Outcome::ClientTimeout,
        Outcome::Reset,
        Outcome::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ServerError => "server_error",
            Outcome::Rejected => "rejected",
            Outcome::NoMember => "no_member",
            Outcome::Refused => "refused",
            Outcome::ConnectTimeout => "connect_timeout",
            Outcome::ResponseTimeout => "response_timeout",
            Outcome::ClientTimeout => "client_timeout",
            Outcome::Reset => "reset",
            Outcome::Dropped => "dropped",
        }
    }

    /// Position in [`Outcome::ALL`], for counting by outcome in an array.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    /// The status code the client sees for this ending behind `front`; `None` where no HTTP
    /// response exists (an L4 listener, a reset or dropped connection).
    pub fn status(self, front: FrontKind) -> Option<u16> {
        use FrontKind::*;
        match (self, front) {
            (Outcome::Ok, _) => Some(200),
            (Outcome::ServerError, _) => Some(500),
            (Outcome::Rejected, _) => Some(503),
            (Outcome::Reset | Outcome::Dropped, _) | (_, ElbL4) => None,
            // x-router-code 50000 with 503 (listener-and-logs §1.3, inferred); APIG.0610
            (Outcome::NoMember, ElbL7) => Some(503),
            (Outcome::NoMember | Outcome::Refused, Apig | ElbL7) => Some(502),
            (Outcome::ConnectTimeout | Outcome::ResponseTimeout, Apig | ElbL7) => Some(504),
            // what the vendor's access log writes for a client that closed first (elb_faq_0087)
            (Outcome::ClientTimeout, Apig | ElbL7) => Some(499),
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
    /// What the client saw (see [`Outcome::status`]); 0 when no HTTP response exists.
    pub status: u16,
    /// Attempts made on members (0 when none was tried; more than 1 after retries).
    pub attempts: u8,
    pub method: Method,
    /// Arrival to response (or to failure), including queueing and cross-AZ latency.
    pub latency: SimTime,
    /// The LB node and the member are in different AZs.
    pub cross_az: bool,
    /// Index into `WorkloadConfig::uris` (per-connection pools: the URI of the connection's
    /// first request); `None` when the workload has no URI set.
    pub uri: Option<u32>,
}

/// An attempt on a member that failed and was retried on another (the last attempt of a
/// request is described by its [`RequestObs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptObs {
    /// The request's arrival at the load balancer.
    pub arrival: SimTime,
    pub request: u64,
    pub member: MemberIdx,
    /// One of the retryable endings: refused, connect or response timeout.
    pub outcome: Outcome,
    /// When the attempt ended.
    pub ended: SimTime,
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
    /// The member started failing in this way, or recovered ([`Failure::None`]).
    Failing(Failure),
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

    /// A failed attempt the load balancer retried elsewhere.
    fn attempt(&mut self, _obs: &AttemptObs) {}

    /// A member joined (after the initial ones): observers keyed by member learn its index.
    fn member_added(&mut self, _idx: MemberIdx, _member: &Member) {}

    /// The run is over: observers settle what they kept aside while it ran.
    fn end(&mut self) {}
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

    fn attempt(&mut self, obs: &AttemptObs) {
        self.0.attempt(obs);
        self.1.attempt(obs);
    }

    fn member_added(&mut self, idx: MemberIdx, member: &Member) {
        self.0.member_added(idx, member);
        self.1.member_added(idx, member);
    }

    fn end(&mut self) {
        self.0.end();
        self.1.end();
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

    fn attempt(&mut self, obs: &AttemptObs) {
        (**self).attempt(obs);
    }

    fn member_added(&mut self, idx: MemberIdx, member: &Member) {
        (**self).member_added(idx, member);
    }

    fn end(&mut self) {
        (**self).end();
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

    fn attempt(&mut self, obs: &AttemptObs) {
        if let Some(o) = self {
            o.attempt(obs);
        }
    }

    fn member_added(&mut self, idx: MemberIdx, member: &Member) {
        if let Some(o) = self {
            o.member_added(idx, member);
        }
    }

    fn end(&mut self) {
        if let Some(o) = self {
            o.end();
        }
    }
}
