//! A connection's life: its arrival, each request's attempts on members, their outcome, and
//! the connection's end.
//!
//! - A client request lives on its connection (`Conn::call`); a connection has at most one
//!   outstanding. It becomes one or more attempts: each picks a member the request has not
//!   tried, and a failed attempt is retried as the front end's [`RetryPolicy`] allows.
//! - An attempt the member serves holds a request slot (`Req`) while the backend holds it
//!   (queued or in service); the slot's generation changes when it is freed, so a `Complete`
//!   event for a freed slot is stale. The connection's `inflight` names the slot while the
//!   client waits for it: a slot whose client stopped waiting is released by its backend.
//! - An attempt that ends without service (refused, blackholed, hung) is `pending` on its
//!   connection until an `AttemptEnd` event carrying its sequence number.
//! - A connection ends exactly once (`close_conn`), which is where per-connection pools call
//!   `on_close`; per-request pools call `on_open`/`on_close` around each attempt.
//! - Follow-up requests and retries are always scheduled as events, never started from inside
//!   another request's handling, so no handler re-enters a backend it is updating.

use super::config::{Failure, Method, RetryPolicy};
use super::counters::Count;
use super::engine::{Engine, Ev};
use super::observe::{AttemptObs, Observer, Outcome, RequestObs};
use super::slab::{Ix, Links};
use super::workload::Conn;
use crate::balancer::MemberIdx;
use crate::time::SimTime;

/// Attempts one request may make: APIG's largest `retry_count` (10) plus the first.
pub(super) const MAX_ATTEMPTS: usize = 11;

/// ELB retries at most 4 times (elb_drawerhelp_720).
const ELB_MAX_ATTEMPTS: u8 = 5;

/// An attempt a member's backend holds.
#[derive(Default)]
pub(super) struct Req {
    /// Its place in the response-timeout list while the load balancer waits for it and the
    /// timeout can expire (`Engine::timers`).
    pub timer: Links,
    pub member: MemberIdx,
    conn: u32,
    /// When it was forwarded: its response timeout runs from here.
    pub forwarded: SimTime,
}

impl AsMut<Links> for Req {
    #[inline]
    fn as_mut(&mut self) -> &mut Links {
        &mut self.timer
    }
}

/// The client request a connection is waiting on (the members a retried one tried are in
/// `Engine::tried`, by connection slot: off the connection, which every request touches).
#[derive(Clone, Copy, Default)]
pub(super) struct Call {
    pub id: u64,
    pub arrival: SimTime,
    pub method: Method,
    attempts: u8,
    /// The current (or last) attempt's member.
    member: Option<Ix>,
    /// The current (or last) attempt's member is in another AZ than the LB node.
    cross: bool,
    /// The current attempt holds an open upstream connection (per-request pools).
    opened: bool,
}

impl Conn {
    /// The member of the request's current (or last) attempt.
    #[inline]
    fn attempt_member(&self) -> Option<MemberIdx> {
        self.call.member.map(Ix::get)
    }
}

/// How the connection goes on after a request ends.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Next {
    Continue,
    End,
}

/// A failed attempt: how, and whether the request had reached the member (POST, PATCH and
/// DELETE are not retried then).
#[derive(Clone, Copy)]
pub(super) struct Failed {
    pub outcome: Outcome,
    pub forwarded: bool,
}

impl Default for Failed {
    fn default() -> Self {
        Failed {
            outcome: Outcome::Refused,
            forwarded: false,
        }
    }
}

impl<O: Observer> Engine<'_, O> {
    pub(super) fn arrival(&mut self) {
        let opening = self.work.open(&mut self.rng);
        self.next_arrival = self.work.interarrival(&mut self.rng, self.now);
        let node = self.nodes.draw(&mut self.rng);
        let c = self.conns.alloc();
        self.work
            .connect(&mut self.rng, &mut self.conns[c], node, opening);
        self.connect(c);
    }

    /// Client connection `c` opens at its node now and sends its first request. A node over
    /// its listener's `cps` or `connection` limit drops it: the request fails, the client's
    /// connection with it.
    fn connect(&mut self, c: u32) {
        self.counters.count(Count::Connection, 1);
        if self.limits_on {
            let front = &self.cfg.front;
            let node = self.conns[c].node;
            if !self
                .nodes
                .admit(node, self.now, front.cps, front.max_connections)
            {
                self.counters.count(Count::Dropped, 1);
                self.start_call(c);
                return self.finish(c, Outcome::Dropped, self.now, Next::End);
            }
            self.conns[c].admitted = true;
        }
        self.issue(c);
    }

    /// Connection `c`'s next request is due: on a connection the load balancer closed while
    /// it was idle, the client first opens a new one.
    pub(super) fn next_request(&mut self, c: u32) {
        let conn = &mut self.conns[c];
        if std::mem::take(&mut conn.reopen) {
            self.work.new_identity(conn);
            return self.connect(c);
        }
        self.issue(c);
    }

    /// The load balancer closes idle connection `c` (`keepalive_timeout`).
    pub(super) fn idle_close(&mut self, c: u32) {
        self.counters.count(Count::IdleClose, 1);
        self.conns[c].reopen = true;
        self.release_conn(c);
    }

    /// Asks connection `c`'s node for a member for its request's next attempt. `initial`
    /// selects the QUIC long header.
    #[inline(always)]
    fn pick(&mut self, c: u32, initial: bool) -> Option<MemberIdx> {
        let conn = &self.conns[c];
        let (node, client) = (conn.node, conn.client);
        let retry = conn.call.attempts > 0;
        let req = self.work.request(conn, self.now, initial);
        let b = self.nodes.balancer(node);
        let pick = if retry {
            let tried = &self.tried[c as usize][..usize::from(self.conns[c].call.attempts)];
            b.pick_other(self.now, &req, tried)?
        } else {
            b.pick(self.now, &req)?
        };
        if let Some(until) = pick.cookie_until {
            self.work.set_cookie(client, pick.member, until);
        }
        Some(pick.member)
    }

    /// Connection `c`'s client starts waiting for a new request now.
    #[inline(always)]
    fn start_call(&mut self, c: u32) {
        let now = self.now;
        let id = self.work.next_request_id();
        self.counters.request_started(now);
        let method = self.work.method(&mut self.rng);
        let conn = &mut self.conns[c];
        conn.sent += 1;
        conn.call = Call {
            id,
            arrival: now,
            method,
            ..Call::default()
        };
        conn.outstanding = true;
        if self.cfg.workload.timeout.is_some() {
            self.waiting.push(&mut self.conns, c);
        }
    }

    /// Sends connection `c`'s next request now.
    #[inline]
    pub(super) fn issue(&mut self, c: u32) {
        let now = self.now;
        self.start_call(c);
        let conn = &mut self.conns[c];
        let migrating = conn.sent == conn.migrate_at;
        if migrating {
            self.work.migrate(&mut self.rng, conn);
            self.counters.count(Count::Migration, 1);
        }
        if let (true, Some(m)) = (self.per_conn, self.conns[c].member) {
            let m = m.get();
            // a new path: the node has no flow state for it and balances it afresh
            if migrating {
                self.work.draw_uri(&mut self.conns[c], &mut self.rng);
            }
            if migrating && self.pick(c, false) != Some(m) {
                self.counters.count(Count::MigrationReset, 1);
                return self.finish(c, Outcome::Reset, now, Next::End);
            }
            return self.forward(c, m);
        }
        self.attempt(c);
    }

    /// Connection `c`'s request makes its next attempt now: a pick, then the member.
    #[inline(always)]
    pub(super) fn attempt(&mut self, c: u32) {
        let conn = &mut self.conns[c];
        let first = conn.call.attempts == 0;
        if first {
            self.work.draw_uri(conn, &mut self.rng);
        } else if let Some(m) = conn.call.member {
            // a retry: the members tried so far are recorded off the connection
            let i = usize::from(conn.call.attempts) - 1;
            if self.tried.len() <= c as usize {
                self.tried.resize(c as usize + 1, [0; MAX_ATTEMPTS]);
            }
            self.tried[c as usize][i] = m.get();
        }
        let initial = first && self.conns[c].member.is_none();
        let Some(m) = self.pick(c, initial) else {
            // nowhere to send it: the last failure stands, or no member was ever eligible
            let outcome = self.conns[c].last_failure.unwrap_or(Outcome::NoMember);
            let next = if self.per_conn {
                Next::End
            } else {
                Next::Continue
            };
            return self.finish(c, outcome, self.now, next);
        };
        if self.per_conn {
            let conn = &mut self.conns[c];
            let node = conn.node;
            let old = conn.member.replace(Ix::new(m));
            if let Some(old) = old {
                self.close(node, old.get());
            }
            self.open(node, m);
        }
        self.forward(c, m);
    }

    /// The attempt on member `m` starts now.
    #[inline(always)]
    fn forward(&mut self, c: u32, m: MemberIdx) {
        let now = self.now;
        let node = self.conns[c].node;
        let s = &self.servers[m as usize];
        let cross = matches!((self.nodes.zone(node), s.zone), (Some(a), Some(z)) if a != z);
        let trip = self.trip(cross);
        let call = &mut self.conns[c].call;
        call.member = Some(Ix::new(m));
        call.attempts += 1;
        call.cross = cross;
        call.opened = false;
        let front = &self.cfg.front;
        let failure = if self.failing > 0 {
            s.mode
        } else {
            Failure::None
        };
        match failure {
            Failure::Refuse => {
                let fail = Failed {
                    outcome: Outcome::Refused,
                    forwarded: false,
                };
                return self.end_attempt_at(c, fail, now + trip);
            }
            Failure::Blackhole | Failure::Hang => {
                // the load balancer holds a connection to the member while it waits
                if !self.per_conn {
                    self.open(node, m);
                    self.conns[c].call.opened = true;
                }
                let (outcome, wait) = if failure == Failure::Blackhole {
                    (Outcome::ConnectTimeout, Some(front.connect_timeout))
                } else {
                    (Outcome::ResponseTimeout, front.member_timeout)
                };
                let fail = Failed {
                    outcome,
                    forwarded: failure == Failure::Hang,
                };
                // an L4 listener has no timeout of its own: the client's rules
                return match wait {
                    Some(wait) => self.end_attempt_at(c, fail, now + wait),
                    None => self.conns[c].pending = 0,
                };
            }
            Failure::ErrorRate(p) if super::sample::unit(&mut self.rng) < p => {
                return self.finish(c, Outcome::ServerError, now + trip, Next::Continue);
            }
            _ => {}
        }
        if s.full() {
            return self.finish(c, Outcome::Rejected, now + trip, Next::Continue);
        }
        let r = self.reqs.alloc();
        let req = &mut self.reqs[r];
        req.member = m;
        req.conn = c;
        req.forwarded = now;
        self.conns[c].inflight = Some(Ix::new(r));
        if !self.per_conn {
            self.open(node, m);
            self.conns[c].call.opened = true;
        }
        let s = &mut self.servers[m as usize];
        // the response timeout can expire only for an attempt that waits in the member's queue
        // or whose service outlasts it: only those are listed (listing every attempt made
        // `engine/retry-64` 4–12 % slower)
        let timed = if s.saturated() {
            s.queue.push_back(r);
            true
        } else {
            s.busy += 1;
            let done = self.serve(r);
            self.cfg
                .front
                .member_timeout
                .is_some_and(|t| done > now + t)
        };
        if timed && self.timer_on {
            self.timers.push(&mut self.reqs, r);
        }
    }

    /// The time a request spends on the network and in the load balancer, there and back.
    #[inline]
    fn trip(&self, cross: bool) -> SimTime {
        let t = self.cfg.front.forwarding_latency;
        if cross {
            t + self.cfg.cross_az_latency
        } else {
            t
        }
    }

    /// Connection `c`'s current attempt fails at `at` (now or later).
    fn end_attempt_at(&mut self, c: u32, fail: Failed, at: SimTime) {
        let seq = self.attempt_seq.wrapping_add(1).max(1);
        self.attempt_seq = seq;
        let conn = &mut self.conns[c];
        conn.pending = seq;
        conn.pending_failure = fail;
        self.q.push(at, Ev::AttemptEnd { conn: c, seq });
    }

    /// A pending attempt's time is up.
    pub(super) fn attempt_end(&mut self, c: u32) {
        let conn = &mut self.conns[c];
        conn.pending = 0;
        let fail = conn.pending_failure;
        self.attempt_failed(c, fail);
    }

    /// Connection `c`'s current attempt failed now: retry it elsewhere or end the request.
    pub(super) fn attempt_failed(&mut self, c: u32, fail: Failed) {
        self.release_upstream(c);
        let conn = &mut self.conns[c];
        conn.last_failure = Some(fail.outcome);
        let call = conn.call;
        if self.may_retry(&call, fail) {
            if let Some(m) = self.conns[c].attempt_member() {
                self.obs.attempt(&AttemptObs {
                    arrival: call.arrival,
                    request: call.id,
                    member: m,
                    outcome: fail.outcome,
                    ended: self.now,
                });
            }
            return self.attempt(c);
        }
        let next = if self.per_conn && fail.outcome != Outcome::ResponseTimeout {
            Next::End
        } else {
            Next::Continue
        };
        self.finish(c, fail.outcome, self.now, next);
    }

    /// The front end's retry rules (listener-and-logs §1.2, §4.1): connection errors and
    /// timeouts only, never a member's own response; ELB at most 4 retries, not for POST,
    /// PATCH or DELETE once forwarded, and not for a response timeout under session
    /// persistence; APIG `retry_count` −1 retries all but POST and PATCH once.
    fn may_retry(&self, call: &Call, fail: Failed) -> bool {
        let retryable = matches!(
            fail.outcome,
            Outcome::Refused | Outcome::ConnectTimeout | Outcome::ResponseTimeout
        );
        if !retryable || usize::from(call.attempts) >= MAX_ATTEMPTS {
            return false;
        }
        match self.cfg.front.retry {
            RetryPolicy::Never => false,
            RetryPolicy::Elb => {
                call.attempts < ELB_MAX_ATTEMPTS
                    && (!fail.forwarded || call.method.elb_idempotent())
                    && !(fail.outcome == Outcome::ResponseTimeout
                        && self.pool.persistence.is_some())
            }
            RetryPolicy::Apig(-1) => call.attempts < 2 && call.method.apig_idempotent(),
            RetryPolicy::Apig(n) => i16::from(call.attempts) <= i16::from(n),
        }
    }

    /// The load balancer lets go of the current attempt's upstream connection.
    #[inline]
    fn release_upstream(&mut self, c: u32) {
        let conn = &mut self.conns[c];
        if std::mem::take(&mut conn.call.opened) {
            if let Some(m) = conn.attempt_member() {
                let node = conn.node;
                self.close(node, m);
            }
        }
    }

    /// The backend lets go of request `r`.
    pub(super) fn release_req(&mut self, r: u32) {
        if self.reqs[r].timer.listed() {
            self.timers.remove(&mut self.reqs, r);
        }
        self.reqs.free(r);
    }

    /// Does a client still wait for attempt `r`?
    #[inline]
    fn awaited(&self, r: u32) -> Option<u32> {
        let c = self.reqs[r].conn;
        (self.conns[c].inflight == Some(Ix::new(r))).then_some(c)
    }

    /// Member's server starts serving request `r` now; returns when it will be done.
    #[inline]
    fn serve(&mut self, r: u32) -> SimTime {
        let t = self.servers[self.reqs[r].member as usize].service_time(&mut self.rng);
        let gen = self.reqs.gen(r);
        let done = self.now + t;
        self.q.push(done, Ev::Complete { req: r, gen });
        done
    }

    /// Request `r`'s backend finished it.
    #[inline(always)]
    pub(super) fn complete(&mut self, r: u32) {
        let member = self.reqs[r].member;
        let waiting = self.awaited(r);
        self.release_req(r);
        self.start_next(member);
        if let Some(c) = waiting {
            let call = &self.conns[c].call;
            let (arrival, done) = (call.arrival, self.now + self.trip(call.cross));
            match self.cfg.workload.timeout {
                Some(t) if done - arrival > t => {
                    self.finish(c, Outcome::ClientTimeout, arrival + t, Next::Continue);
                }
                _ => self.finish(c, Outcome::Ok, done, Next::Continue),
            }
        }
    }

    /// A server of member `m` is free: serve the next queued request whose client still waits
    /// (a backend drops requests whose client went away before it reads them).
    fn start_next(&mut self, m: MemberIdx) {
        while let Some(r) = self.servers[m as usize].queue.pop_front() {
            if self.awaited(r).is_some() {
                self.serve(r);
                return;
            }
            self.release_req(r);
        }
        self.servers[m as usize].busy -= 1;
    }

    /// The client of the oldest waiting request gives up.
    pub(super) fn time_out(&mut self, c: u32) {
        self.finish(c, Outcome::ClientTimeout, self.now, Next::Continue);
    }

    /// The load balancer's response timeout for the oldest forwarded attempt expired; the
    /// backend keeps the request until it is done with it.
    pub(super) fn response_timeout(&mut self, r: u32) {
        self.timers.remove(&mut self.reqs, r);
        if let Some(c) = self.awaited(r) {
            self.conns[c].inflight = None;
            let fail = Failed {
                outcome: Outcome::ResponseTimeout,
                forwarded: true,
            };
            self.attempt_failed(c, fail);
        }
    }

    /// Member `m` went silent (blackhole, hang): the attempts it holds will never be answered;
    /// they end at their response timeout, or, on an L4 listener, by the client's.
    pub(super) fn silence(&mut self, m: MemberIdx) {
        self.drop_held(m, |e, c, forwarded| {
            let fail = Failed {
                outcome: Outcome::ResponseTimeout,
                forwarded: true,
            };
            match e.cfg.front.member_timeout {
                Some(t) => e.end_attempt_at(c, fail, forwarded + t),
                None => e.conns[c].pending = 0,
            }
        });
    }

    /// Member `m`'s process died: the attempts it holds fail now (their connections reset).
    pub(super) fn refuse_held(&mut self, m: MemberIdx) {
        self.drop_held(m, |e, c, _| {
            let fail = Failed {
                outcome: Outcome::Refused,
                forwarded: true,
            };
            e.end_attempt_at(c, fail, e.now);
        });
    }

    /// The backend of `m` drops everything it holds; `then` decides the fate of each attempt
    /// whose client still waits (given its connection and forwarding time).
    fn drop_held(&mut self, m: MemberIdx, mut then: impl FnMut(&mut Self, u32, SimTime)) {
        for r in 0..self.reqs.len() {
            let Some(req) = self.reqs.live(r) else {
                continue;
            };
            if req.member != m {
                continue;
            }
            let forwarded = req.forwarded;
            let waiting = self.awaited(r);
            self.release_req(r);
            if let Some(c) = waiting {
                self.conns[c].inflight = None;
                then(self, c, forwarded);
            }
        }
        let s = &mut self.servers[m as usize];
        s.queue.clear();
        s.busy = 0;
    }

    /// Reports a request's end and moves its connection on.
    #[inline]
    pub(super) fn finish(&mut self, c: u32, outcome: Outcome, done: SimTime, next: Next) {
        if self.conns[c].wait.listed() {
            self.waiting.remove(&mut self.conns, c);
        }
        self.release_upstream(c);
        let conn = &mut self.conns[c];
        conn.outstanding = false;
        conn.pending = 0;
        conn.last_failure = None;
        // the backend keeps an attempt it holds; nobody waits for it any more
        conn.inflight = None;
        let call = conn.call;
        // the client waits until the outcome reaches it, its timeout or the end of the run
        let gives_up = self
            .cfg
            .workload
            .timeout
            .map_or(SimTime::MAX, |t| call.arrival + t);
        let waits_until = done.min(gives_up).min(self.cfg.duration);
        self.counters.request_ended(self.now, waits_until);
        let has_uris = self.work.has_uris();
        let conn = &mut self.conns[c];
        self.obs.request(&RequestObs {
            arrival: call.arrival,
            request: call.id,
            connection: conn.id,
            client: conn.client,
            lb_node: conn.node,
            member: conn.attempt_member(),
            outcome,
            status: self.statuses[outcome.index()],
            attempts: call.attempts,
            method: call.method,
            latency: done - call.arrival,
            cross_az: call.cross,
            uri: has_uris.then_some(conn.uri),
        });
        if next == Next::Continue && conn.remaining > 0 {
            conn.remaining -= 1;
            let think = self.work.think(&mut self.rng);
            let gen = self.conns.gen(c);
            // idle longer than the listener's keep-alive (0: none at all), the load balancer
            // closes it first
            let keepalive = self.cfg.front.keepalive_timeout;
            if let Some(k) = keepalive.filter(|&k| think > k || k == SimTime::ZERO) {
                self.q.push(done + k, Ev::IdleClose { conn: c, gen });
            }
            self.q.push(done + think, Ev::NextRequest { conn: c, gen });
        } else {
            self.close_conn(c);
        }
    }

    #[inline]
    fn close_conn(&mut self, c: u32) {
        self.release_conn(c);
        self.conns.free(c);
    }

    /// The load balancer's side of connection `c` closes: its member and its node let go.
    /// (Inlined for its test: without listener limits or a per-connection pick, the common
    /// case, there is nothing to let go, and the call cost 1 % of the engine benchmark's
    /// instructions.)
    #[inline(always)]
    fn release_conn(&mut self, c: u32) {
        if self.per_conn || self.limits_on {
            self.let_go(c);
        }
    }

    fn let_go(&mut self, c: u32) {
        let conn = &mut self.conns[c];
        let node = conn.node;
        let admitted = std::mem::take(&mut conn.admitted);
        if let (true, Some(m)) = (self.per_conn, conn.member.take()) {
            self.close(node, m.get());
        }
        if admitted {
            self.nodes.release(node);
        }
    }

    /// Ends connection `c` at once; the request it waits for ends with `outcome`.
    fn reset_conn(&mut self, c: u32, outcome: Outcome) {
        if self.conns[c].outstanding {
            self.finish(c, outcome, self.now, Next::End);
        } else {
            self.close_conn(c);
        }
    }

    /// Resets every connection bound to `m`; returns how many.
    pub(super) fn reset_bound(&mut self, m: MemberIdx, outcome: Outcome) -> u32 {
        let bound = Some(Ix::new(m));
        let mut n = 0;
        for c in 0..self.conns.len() {
            if self.conns.live(c).is_some_and(|conn| conn.member == bound) {
                self.reset_conn(c, outcome);
                n += 1;
            }
        }
        n
    }

    fn open(&mut self, node: u16, m: MemberIdx) {
        self.nodes.balancer(node).on_open(m);
        self.servers[m as usize].opened();
    }

    fn close(&mut self, node: u16, m: MemberIdx) {
        self.nodes.balancer(node).on_close(m);
        self.servers[m as usize].closed();
    }
}
