//! A connection's life: its arrival, each request's pick, service and outcome, and its end.
//!
//! - A request slot lives while its backend holds it (queued or in service); its generation
//!   changes when it is freed, so a `Complete` event for a freed slot is stale.
//! - A request whose client is still waiting has a live connection whose `inflight` is it, and
//!   sits in the waiting list; a slot is released only once its client stopped waiting.
//! - A connection ends exactly once (`close_conn`), which is where per-connection pools call
//!   `on_close`; per-request pools call `on_open`/`on_close` around the backend's hold.
//! - Follow-up requests on a connection are always scheduled as events, never issued from inside
//!   another request's handling, so no handler re-enters a backend it is updating.

use super::config::Method;
use super::counters::Count;
use super::engine::{Engine, Ev};
use super::observe::{Observer, Outcome, RequestObs};
use super::slab::{Ix, Links};
use crate::balancer::MemberIdx;
use crate::time::SimTime;

/// A request its backend holds.
#[derive(Default)]
pub(super) struct Req {
    /// Its place in the waiting list while the client waits for it.
    pub wait: Links,
    cross: bool,
    node: u16,
    pub member: MemberIdx,
    conn: u32,
    id: u64,
    pub arrival: SimTime,
}

impl AsMut<Links> for Req {
    #[inline]
    fn as_mut(&mut self) -> &mut Links {
        &mut self.wait
    }
}

/// How the connection goes on after a request ends.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Next {
    Continue,
    End,
}

/// A finished request's facts, gathered before its slot is reused.
pub(super) struct Fin {
    id: u64,
    conn: u32,
    arrival: SimTime,
    /// `None` when no member was picked.
    member: Option<Ix>,
    node: u16,
    cross: bool,
}

impl Fin {
    #[inline]
    pub(super) fn of(r: &Req) -> Fin {
        Fin {
            id: r.id,
            conn: r.conn,
            arrival: r.arrival,
            member: Some(Ix::new(r.member)),
            node: r.node,
            cross: r.cross,
        }
    }
}

impl<O: Observer> Engine<'_, O> {
    pub(super) fn arrival(&mut self) {
        let opening = self.work.open(&mut self.rng);
        self.next_arrival = self.work.interarrival(&mut self.rng, self.now);
        let node = self.nodes.draw(&mut self.rng);
        self.counters.count(Count::Connection, 1);
        let c = self.conns.alloc();
        self.work
            .connect(&mut self.rng, &mut self.conns[c], node, opening);
        self.issue(c);
    }

    /// Asks connection `c`'s node for a member. `initial` selects the QUIC long header.
    #[inline]
    fn pick(&mut self, c: u32, initial: bool) -> Option<MemberIdx> {
        let conn = &mut self.conns[c];
        let (node, client) = (conn.node, conn.client);
        let req = self.work.request(conn, &mut self.rng, self.now, initial);
        let pick = self.nodes.balancer(node).pick(self.now, &req)?;
        if let Some(until) = pick.cookie_until {
            self.work.set_cookie(client, pick.member, until);
        }
        Some(pick.member)
    }

    /// Sends connection `c`'s next request now.
    pub(super) fn issue(&mut self, c: u32) {
        let now = self.now;
        let id = self.work.next_request_id();
        self.counters.request_started(now);
        let conn = &mut self.conns[c];
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
            self.work.migrate(&mut self.rng, conn);
            self.counters.count(Count::Migration, 1);
        }
        let end_if_bound = if self.per_conn {
            Next::End
        } else {
            Next::Continue
        };
        let m = match f.member {
            Some(m) if self.per_conn => {
                let m = m.get();
                // a new path: the node has no flow state for it and balances it afresh
                if migrating && self.pick(c, false) != Some(m) {
                    self.counters.count(Count::MigrationReset, 1);
                    return self.finish(f, Outcome::Reset, now, Next::End);
                }
                m
            }
            _ => {
                let Some(m) = self.pick(c, f.member.is_none()) else {
                    return self.finish(f, Outcome::NoMember, now, end_if_bound);
                };
                f.member = Some(Ix::new(m));
                if self.per_conn {
                    self.conns[c].member = f.member;
                    self.open(node, m);
                }
                m
            }
        };
        let s = &self.servers[m as usize];
        f.cross = matches!((self.nodes.zone(node), s.zone), (Some(a), Some(z)) if a != z);
        let back = now + self.cross_latency(f.cross);
        if !s.alive {
            return self.finish(f, Outcome::Refused, back, end_if_bound);
        }
        if s.full() {
            return self.finish(f, Outcome::Rejected, back, Next::Continue);
        }
        let r = self.alloc_req(&f, m);
        self.conns[c].inflight = Some(Ix::new(r));
        if !self.per_conn {
            self.open(node, m);
        }
        let s = &mut self.servers[m as usize];
        if s.saturated() {
            s.queue.push_back(r);
        } else {
            s.busy += 1;
            self.serve(r);
        }
    }

    fn cross_latency(&self, cross: bool) -> SimTime {
        if cross {
            self.cfg.cross_az_latency
        } else {
            SimTime::ZERO
        }
    }

    fn alloc_req(&mut self, f: &Fin, member: MemberIdx) -> u32 {
        let r = self.reqs.alloc();
        let req = &mut self.reqs[r];
        req.cross = f.cross;
        req.node = f.node;
        req.member = member;
        req.conn = f.conn;
        req.id = f.id;
        req.arrival = f.arrival;
        self.waiting.push(&mut self.reqs, r);
        r
    }

    /// The backend lets go of request `r`.
    pub(super) fn release_req(&mut self, r: u32) {
        debug_assert!(
            !self.reqs[r].wait.listed(),
            "a request is released while its client waits"
        );
        self.reqs.free(r);
        let req = &self.reqs[r];
        let (node, m) = (req.node, req.member);
        if !self.per_conn {
            self.close(node, m);
        }
    }

    #[inline]
    fn serve(&mut self, r: u32) {
        let t = self.servers[self.reqs[r].member as usize].service_time(&mut self.rng);
        let gen = self.reqs.gen(r);
        self.q.push(self.now + t, Ev::Complete { req: r, gen });
    }

    /// Request `r`'s backend finished it.
    pub(super) fn complete(&mut self, r: u32) {
        let req = &self.reqs[r];
        let waiting = req.wait.listed();
        let f = Fin::of(req);
        let member = req.member;
        if waiting {
            self.waiting.remove(&mut self.reqs, r);
        }
        self.release_req(r);
        self.start_next(member);
        if waiting {
            let done = self.now + self.cross_latency(f.cross);
            match self.cfg.workload.timeout {
                Some(t) if done - f.arrival > t => {
                    let at = f.arrival + t;
                    self.finish(f, Outcome::Refused, at, Next::Continue);
                }
                _ => self.finish(f, Outcome::Ok, done, Next::Continue),
            }
        }
    }

    /// A server of member `m` is free: serve the next queued request whose client still waits
    /// (a backend drops requests whose client went away before it reads them).
    fn start_next(&mut self, m: MemberIdx) {
        while let Some(r) = self.servers[m as usize].queue.pop_front() {
            if self.reqs[r].wait.listed() {
                return self.serve(r);
            }
            self.release_req(r);
        }
        self.servers[m as usize].busy -= 1;
    }

    /// The client of the oldest waiting request gives up.
    pub(super) fn time_out(&mut self, r: u32) {
        self.waiting.remove(&mut self.reqs, r);
        let f = Fin::of(&self.reqs[r]);
        self.finish(f, Outcome::Refused, self.now, Next::Continue);
    }

    /// Reports a request's end and moves its connection on.
    pub(super) fn finish(&mut self, f: Fin, outcome: Outcome, done: SimTime, next: Next) {
        // the client waits until the outcome reaches it, its timeout or the end of the run
        let gives_up = self
            .cfg
            .workload
            .timeout
            .map_or(SimTime::MAX, |t| f.arrival + t);
        let waits_until = done.min(gives_up).min(self.cfg.duration);
        self.counters.request_ended(self.now, waits_until);
        let has_uris = self.work.has_uris();
        let conn = &mut self.conns[f.conn];
        conn.inflight = None;
        self.obs.request(&RequestObs {
            arrival: f.arrival,
            request: f.id,
            connection: conn.id,
            client: conn.client,
            lb_node: f.node,
            member: f.member.map(Ix::get),
            outcome,
            status: outcome.status(self.cfg.front.kind).unwrap_or(0),
            attempts: u8::from(f.member.is_some()),
            method: Method::Get,
            latency: done - f.arrival,
            cross_az: f.cross,
            uri: has_uris.then_some(conn.uri),
        });
        if next == Next::Continue && conn.remaining > 0 {
            conn.remaining -= 1;
            let think = self.work.think(&mut self.rng);
            let gen = self.conns.gen(f.conn);
            self.q
                .push(done + think, Ev::NextRequest { conn: f.conn, gen });
        } else {
            self.close_conn(f.conn);
        }
    }

    fn close_conn(&mut self, c: u32) {
        self.conns.free(c);
        let conn = &self.conns[c];
        if let (true, Some(m)) = (self.per_conn, conn.member) {
            self.close(conn.node, m.get());
        }
    }

    /// Ends connection `c` at once; the request it waits for ends with `outcome`.
    fn reset_conn(&mut self, c: u32, outcome: Outcome) {
        match self.conns[c].inflight {
            Some(r) => {
                let r = r.get();
                self.waiting.remove(&mut self.reqs, r);
                let f = Fin::of(&self.reqs[r]);
                self.finish(f, outcome, self.now, Next::End);
            }
            None => self.close_conn(c),
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
