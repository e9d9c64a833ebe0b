//! The workload: connection arrivals (generated or replayed from a trace), the clients and their
//! persistence cookies, and what each pick sees of a request (address, URI, QUIC packet).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::check::invalid;
use super::config::{ArrivalProcess, Method, SimConfig, Trace, TraceConnection, WorkloadConfig};
use super::observe::Outcome;
use super::requests::{Call, Failed};
use super::sample::{below, exponential, unit, Chooser, CountSampler, Sampler};
use super::slab::{Ix, Links};
use super::SimError;
use crate::balancer::{MemberIdx, Request};
use crate::model::{Persistence, Protocol};
use crate::time::SimTime;

/// A client connection, from its arrival until it ends.
#[derive(Default)]
pub(super) struct Conn {
    /// The LB node it entered through.
    pub node: u16,
    pub port: u16,
    pub client: u32,
    pub addr_slot: u32,
    /// Member the connection is bound to (per-connection pools, once picked).
    pub member: Option<Ix>,
    /// Requests still to send after the current one.
    pub remaining: u32,
    /// The current request, while `outstanding`.
    pub call: Call,
    pub outstanding: bool,
    /// Its place in the client-timeout list while a request is outstanding.
    pub wait: Links,
    /// The attempt the client waits for, if a backend holds it.
    pub inflight: Option<Ix>,
    /// Sequence number of the attempt's pending end (0: none), and how it will fail.
    pub pending: u32,
    pub pending_failure: Failed,
    /// How the request's last failed attempt ended, if one did.
    pub last_failure: Option<Outcome>,
    /// Its node counts it against the listener's limits.
    pub admitted: bool,
    /// The load balancer closed it while idle: the next request opens a new connection.
    pub reopen: bool,
    pub sent: u32,
    /// Index (1-based) of the request before which the client migrates; 0 = never.
    pub migrate_at: u32,
    pub id: u64,
    /// The trace row this connection replays.
    trace_row: Option<Ix>,
    dcid: [u8; 20],
    /// Index of the URI the last pick drew (per-connection pools: the connection's first).
    pub uri: u32,
}

impl AsMut<Links> for Conn {
    #[inline]
    fn as_mut(&mut self) -> &mut Links {
        &mut self.wait
    }
}

/// What a new connection carries: its client and how many requests.
pub(super) struct Opening {
    client: u32,
    requests: u32,
    trace_row: Option<Ix>,
}

pub(super) struct Workload<'c> {
    cfg: &'c WorkloadConfig,
    listener: (IpAddr, u16),
    /// The replayed trace, if any, and its connections (empty without one).
    trace: Option<&'c Trace>,
    replayed: &'c [TraceConnection],
    /// Next of `replayed`.
    trace_pos: usize,
    /// Mean gap between arrivals in ns (`1e9 / rate`; infinite when the rate is 0).
    mean_gap: f64,
    clients: Chooser,
    uris: Option<Chooser>,
    /// The URIs requests name (by index).
    uri_table: &'c [String],
    rpc: CountSampler,
    think: Option<Sampler>,
    ip_proto: u8,
    quic: bool,
    /// Per client: the member its persistence cookie names, and until when the cookie is valid.
    cookies: Vec<(Option<Ix>, SimTime)>,
    /// The pool's persistence is a cookie: only then is `cookies` read (a random access per
    /// request otherwise spent for nothing).
    cookie_pool: bool,
    packet: [u8; 32],
    /// Methods with their cumulative shares.
    methods: Vec<(Method, f64)>,
    next_req_id: u64,
    next_conn_id: u64,
}

impl<'c> Workload<'c> {
    pub(super) fn new(cfg: &'c SimConfig) -> Result<Self, SimError> {
        let w = &cfg.workload;
        let table = w.uri_table();
        let uris = if table.is_empty() {
            None
        } else {
            Some(Chooser::new(table.len() as u32, w.uri_popularity).map_err(invalid)?)
        };
        let think = w
            .think_time
            .as_ref()
            .map(Sampler::new)
            .transpose()
            .map_err(invalid)?;
        Ok(Workload {
            cfg: w,
            listener: cfg.listener,
            trace: w.trace.as_deref(),
            replayed: w.trace.as_ref().map_or(&[], |t| &t.connections),
            trace_pos: 0,
            mean_gap: mean_gap(w.arrivals.rate_per_s),
            clients: Chooser::new(w.clients.count, w.clients.popularity).map_err(invalid)?,
            uris,
            uri_table: table,
            rpc: CountSampler::new(&w.requests_per_connection).map_err(invalid)?,
            think,
            ip_proto: if matches!(w.protocol, Protocol::Udp | Protocol::Quic) {
                17
            } else {
                6
            },
            quic: w.protocol == Protocol::Quic,
            cookies: vec![(None, SimTime::ZERO); w.clients.count as usize],
            cookie_pool: is_cookie(&cfg.pool.persistence),
            packet: [0; 32],
            methods: w
                .methods
                .iter()
                .scan(0.0, |cum, &(m, share)| {
                    *cum += share;
                    Some((m, *cum))
                })
                .collect(),
            next_req_id: 0,
            next_conn_id: 0,
        })
    }

    /// When the next connection arrives, drawn at `now` (`SimTime::MAX`: none).
    #[inline]
    pub(super) fn interarrival(&mut self, rng: &mut ChaCha8Rng, now: SimTime) -> SimTime {
        if self.trace.is_some() {
            return self
                .replayed
                .get(self.trace_pos)
                .map_or(SimTime::MAX, |a| a.at);
        }
        let mean = self.mean_gap;
        if mean.is_infinite() {
            return SimTime::MAX;
        }
        let gap = match self.cfg.arrivals.process {
            ArrivalProcess::Poisson => exponential(rng, mean),
            ArrivalProcess::Constant => mean,
        };
        now + SimTime(gap as u64)
    }

    pub(super) fn set_rate(&mut self, rate: f64) {
        self.mean_gap = mean_gap(rate);
    }

    /// The arriving connection's client and request count: the next trace row, or drawn.
    #[inline(always)]
    pub(super) fn open(&mut self, rng: &mut ChaCha8Rng) -> Opening {
        match self.replayed.get(self.trace_pos) {
            Some(a) => {
                self.trace_pos += 1;
                Opening {
                    client: a.client,
                    requests: a.requests,
                    trace_row: Some(Ix::new(self.trace_pos as u32 - 1)),
                }
            }
            None => Opening {
                client: self.clients.pick(rng),
                requests: self.rpc.sample(rng),
                trace_row: None,
            },
        }
    }

    /// Sets up `conn` for `o` through `node`: identity, address, migration point and DCID.
    #[inline(always)]
    pub(super) fn connect(&mut self, rng: &mut ChaCha8Rng, conn: &mut Conn, node: u16, o: Opening) {
        let q = self.cfg.quic;
        let migrate_at = if q.migration_probability > 0.0
            && o.requests > 1
            && unit(rng) < q.migration_probability
        {
            2 + below(rng, o.requests - 1)
        } else {
            0
        };
        conn.node = node;
        self.new_identity(conn);
        conn.client = o.client;
        conn.addr_slot = o.client % self.cfg.clients.addresses;
        conn.member = None;
        conn.remaining = o.requests - 1;
        conn.outstanding = false;
        conn.inflight = None;
        conn.pending = 0;
        conn.last_failure = None;
        conn.admitted = false;
        conn.reopen = false;
        conn.sent = 0;
        conn.migrate_at = migrate_at;
        conn.trace_row = o.trace_row;
        if self.quic {
            for chunk in conn.dcid[..usize::from(q.dcid_len)].chunks_mut(8) {
                let bytes = rng.next_u64().to_be_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
        }
    }

    /// A new connection of the same client: the next id, and the port that goes with it.
    pub(super) fn new_identity(&mut self, conn: &mut Conn) {
        let id = self.next_conn_id;
        self.next_conn_id += 1;
        conn.id = id;
        conn.port = 1024 + (id % 64512) as u16;
    }

    /// The client moves to another address and port (NAT rebinding, network change).
    #[inline]
    pub(super) fn migrate(&self, rng: &mut ChaCha8Rng, conn: &mut Conn) {
        conn.port = 1024 + below(rng, 64512) as u16;
        conn.addr_slot = below(rng, self.cfg.clients.addresses);
    }

    #[inline]
    pub(super) fn next_request_id(&mut self) -> u64 {
        let id = self.next_req_id;
        self.next_req_id += 1;
        id
    }

    /// Pause before the connection's next request.
    #[inline]
    pub(super) fn think(&self, rng: &mut ChaCha8Rng) -> SimTime {
        match &self.think {
            Some(s) => SimTime(s.sample(rng) as u64),
            None => SimTime::ZERO,
        }
    }

    #[inline]
    pub(super) fn has_uris(&self) -> bool {
        self.uris.is_some()
    }

    /// Draws the URI of `conn`'s next request (or takes it from its trace row).
    #[inline(always)]
    pub(super) fn draw_uri(&self, conn: &mut Conn, rng: &mut ChaCha8Rng) {
        let traced = conn.trace_row.zip(self.trace).map(|(row, trace)| {
            trace.uri(
                &self.replayed[row.get() as usize],
                conn.sent.saturating_sub(1),
            )
        });
        match (&self.uris, traced) {
            (_, Some(Some(uri))) => conn.uri = uri,
            (Some(ch), None) => conn.uri = ch.pick(rng),
            _ => {}
        }
    }

    /// The next request's method: drawn from the workload's mix, or GET.
    #[inline]
    pub(super) fn method(&self, rng: &mut ChaCha8Rng) -> Method {
        if self.methods.is_empty() {
            return Method::Get;
        }
        let u = unit(rng);
        self.methods
            .iter()
            .find(|(_, cum)| u < *cum)
            .map_or(self.methods[self.methods.len() - 1].0, |(m, _)| *m)
    }

    /// What the balancer sees of `conn`'s current request. `initial` selects the QUIC long
    /// header.
    #[inline(always)]
    pub(super) fn request(&mut self, conn: &Conn, now: SimTime, initial: bool) -> Request<'_> {
        let uri: &[u8] = match self.uri_table.get(conn.uri as usize) {
            Some(uri) => uri.as_bytes(),
            None => b"/",
        };
        let quic_packet = if self.quic {
            let cid = &conn.dcid[..usize::from(self.cfg.quic.dcid_len)];
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
        let (cookie, cookie_until) = if self.cookie_pool {
            self.cookies[conn.client as usize]
        } else {
            (None, SimTime::ZERO)
        };
        Request {
            client_ip: self.client_ip(conn.addr_slot),
            client_port: conn.port,
            dst_ip: self.listener.0,
            dst_port: self.listener.1,
            ip_proto: self.ip_proto,
            addr_slot: conn.addr_slot,
            uri,
            quic_packet,
            cookie: cookie.filter(|_| now < cookie_until).map(Ix::get),
        }
    }

    /// The client now holds a persistence cookie naming `member`, valid until `until`.
    #[inline]
    pub(super) fn set_cookie(&mut self, client: u32, member: MemberIdx, until: SimTime) {
        self.cookies[client as usize] = (Some(Ix::new(member)), until);
    }

    /// A pool update: clients' cookies keep naming members only under the same kind of cookie
    /// (and the same APP_COOKIE name).
    pub(super) fn persistence_changed(
        &mut self,
        old: &Option<Persistence>,
        new: &Option<Persistence>,
    ) {
        let cookies_hold = match (old, new) {
            (Some(Persistence::HttpCookie { .. }), Some(Persistence::HttpCookie { .. })) => true,
            (
                Some(Persistence::AppCookie { cookie_name: a }),
                Some(Persistence::AppCookie { cookie_name: b }),
            ) => a == b,
            _ => false,
        };
        if !cookies_hold {
            self.cookies.fill((None, SimTime::ZERO));
        }
        self.cookie_pool = is_cookie(new);
    }

    fn client_ip(&self, slot: u32) -> IpAddr {
        match self.cfg.clients.first_address {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a).wrapping_add(slot))),
            IpAddr::V6(a) => {
                IpAddr::V6(Ipv6Addr::from(u128::from(a).wrapping_add(u128::from(slot))))
            }
        }
    }
}

fn is_cookie(p: &Option<Persistence>) -> bool {
    matches!(
        p,
        Some(Persistence::HttpCookie { .. } | Persistence::AppCookie { .. })
    )
}

/// Mean gap between arrivals in ns at `rate` per second; infinite (no arrivals) at rate 0.
fn mean_gap(rate: f64) -> f64 {
    if rate > 0.0 {
        1e9 / rate
    } else {
        f64::INFINITY
    }
}
