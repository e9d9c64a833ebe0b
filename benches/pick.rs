//! Picks per second for each algorithm at 8 to 10,000 members, each next to a naive O(n) scan
//! doing the same job, plus the cost of a table rebuild at 10,000 members (Maglev also with
//! weighted hashing, weights 1–4).
//!
//! Every pick goes through `Balancer::pick`, so the figures include the pipeline's per-pick work
//! (dirty check, persistence check, key hashing). Inputs are prepared outside the timed closures.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lbsim::balancer::{hash, quic, Balancer, Health, Request};
use lbsim::model::{Algorithm, Member, PoolConfig, TupleFields};
use lbsim::testkit;
use lbsim::time::SimTime;
use xxhash_rust::xxh3::xxh3_64_with_seed;

const SIZES: [usize; 4] = [8, 100, 1_000, 10_000];
const T0: SimTime = SimTime::ZERO;

/// Weights 1, 2, 3, 4, 1, 2, …: unequal so round robin is really weighted.
fn weight(i: usize) -> u32 {
    (i % 4) as u32 + 1
}

fn pool(algorithm: Algorithm, n: usize) -> PoolConfig {
    let members = (0..n)
        .map(|i| Member {
            weight: weight(i),
            ..testkit::member_at(
                &format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
                8080,
            )
        })
        .collect();
    testkit::pool(algorithm, members)
}

/// Client `k`'s request, built inside the timed loop (a few register moves) so hash picks see a
/// million distinct keys and touch the whole Maglev table. Each hash algorithm has a key field
/// that varies with `k`: the client address, the URI `/items/` + 8 hex digits, the 4-byte
/// big-endian `k` as the DCID of a short-header QUIC packet, the client port (5-tuple). `buf`
/// holds the URI and the packet; the bytes are written only for the algorithm that reads them.
fn request(algorithm: Algorithm, k: u32, buf: &mut [u8; 24]) -> Request<'_> {
    match algorithm {
        Algorithm::UriHash => {
            for (i, b) in buf[7..15].iter_mut().enumerate() {
                *b = b"0123456789abcdef"[(k >> (28 - 4 * i) & 15) as usize];
            }
        }
        Algorithm::QuicCid { .. } => buf[16..20].copy_from_slice(&k.to_be_bytes()),
        _ => {}
    }
    let (uri, packet) = buf.split_at(15);
    Request {
        client_port: 40_000 + (k & 0x3FFF) as u16,
        dst_port: 443,
        uri,
        quic_packet: Some(packet),
        ..testkit::request(IpAddr::V4(Ipv4Addr::from(0x6440_0000 + k)))
    }
}

/// A buffer for [`request`]: the URI prefix and the QUIC header byte (short header, fixed bit);
/// the packet's DCID is bytes 16..24.
fn request_buffer() -> [u8; 24] {
    let mut buf = [0u8; 24];
    buf[..7].copy_from_slice(b"/items/");
    buf[15] = 0x41;
    buf
}

/// Cheap pseudo-random client sequence (a full-period LCG over 2^20 clients).
fn next_client(k: &mut u32) -> u32 {
    *k = (k.wrapping_mul(1_664_525).wrapping_add(1_013_904_223)) & 0xF_FFFF;
    *k
}

/// A balancer with its tables built and, for least connections, uneven connection counts.
fn ready(algorithm: Algorithm, n: usize) -> Balancer {
    let mut b = Balancer::new(&pool(algorithm, n), None, 1, T0);
    // the bench's requests must spread over the pool, as real keys do
    let (mut k, mut buf) = (0u32, request_buffer());
    let reached: BTreeSet<_> = (0..4 * n)
        .filter_map(|_| b.pick(T0, &request(algorithm, next_client(&mut k), &mut buf)))
        .map(|p| p.member)
        .collect();
    assert!(
        reached.len() > n / 2,
        "{algorithm:?}: {} members",
        reached.len()
    );
    assert_eq!(
        b.counters().quic_cid_fallbacks,
        0,
        "bench packets carry a DCID"
    );
    if algorithm == Algorithm::LeastConnections {
        for i in 0..n {
            for _ in 0..(i * 7 % 5) {
                b.on_open(i as u32);
            }
        }
    }
    b
}

fn bench_picks(c: &mut Criterion) {
    for (name, algorithm) in [
        ("wrr", Algorithm::RoundRobin),
        ("least_conn", Algorithm::LeastConnections),
        ("source_ip", Algorithm::SourceIp),
        ("uri_hash", Algorithm::UriHash),
        ("quic_cid", Algorithm::QuicCid { offset: 0, len: 8 }),
        ("5_tuple_hash", Algorithm::TupleHash(TupleFields::Five)),
    ] {
        let mut group = c.benchmark_group(format!("pick/{name}"));
        group.throughput(Throughput::Elements(1));
        for n in SIZES {
            let mut b = ready(algorithm, n);
            let (mut k, mut buf) = (0u32, request_buffer());
            group.bench_function(BenchmarkId::new("balancer", n), |bench| {
                bench.iter(|| {
                    black_box(b.pick(T0, &request(algorithm, next_client(&mut k), &mut buf)))
                })
            });
            if name == "least_conn" {
                // Steady state as in a run: each pick opens a connection on its member and the
                // pick n picks earlier closes, so about one request per member is in flight.
                let mut in_flight = std::collections::VecDeque::with_capacity(n + 1);
                let mut b = ready(algorithm, n);
                group.bench_function(BenchmarkId::new("balancer_open_close", n), |bench| {
                    bench.iter(|| {
                        let m = b
                            .pick(T0, &request(algorithm, 0, &mut buf))
                            .map_or(0, |p| p.member);
                        b.on_open(m);
                        in_flight.push_back(m);
                        if in_flight.len() > n {
                            b.on_close(in_flight.pop_front().unwrap_or(m));
                        }
                        black_box(m)
                    })
                });
            }
            if name == "source_ip" {
                // 4096 recurring clients: the Maglev lines they hit stay in cache.
                group.bench_function(BenchmarkId::new("balancer_4096_clients", n), |bench| {
                    bench.iter(|| {
                        black_box(b.pick(
                            T0,
                            &request(algorithm, next_client(&mut k) & 4095, &mut buf),
                        ))
                    })
                });
            }
            let weights: Vec<i64> = (0..n).map(|i| i64::from(weight(i))).collect();
            let active: Vec<u64> = (0..n).map(|i| (i * 7 % 5) as u64).collect();
            let mut naive = Naive {
                current: vec![0; n],
            };
            group.bench_function(BenchmarkId::new("naive_scan", n), |bench| {
                bench.iter(|| {
                    black_box(match algorithm {
                        Algorithm::RoundRobin => naive.nginx(&weights),
                        Algorithm::LeastConnections => naive.wlc(&weights, &active),
                        _ => {
                            let req = request(algorithm, next_client(&mut k), &mut buf);
                            Naive::rendezvous(n, routing_key(algorithm, &req))
                        }
                    })
                })
            });
        }
        group.finish();
    }
}

/// The key a hash algorithm routes `req` by, as the balancer derives it.
fn routing_key(algorithm: Algorithm, req: &Request<'_>) -> u64 {
    match algorithm {
        Algorithm::UriHash => hash::bytes_key(req.uri),
        Algorithm::QuicCid { .. } => {
            let packet = req.quic_packet.unwrap_or_default();
            quic::dcid(packet, 8).map_or(0, hash::bytes_key)
        }
        Algorithm::TupleHash(fields) => hash::tuple_key(fields, req),
        _ => hash::source_ip_key(req.client_ip),
    }
}

/// The O(n) scans the indexed pickers replace.
struct Naive {
    current: Vec<i64>,
}

impl Naive {
    /// nginx `ngx_http_upstream_get_peer`.
    fn nginx(&mut self, weights: &[i64]) -> usize {
        let mut total = 0;
        let mut best = 0;
        for (i, &w) in weights.iter().enumerate() {
            self.current[i] += w;
            total += w;
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= total;
        best
    }

    /// nginx `ngx_http_upstream_get_least_conn_peer`: the lowest `conns / weight`, ties by
    /// weighted round robin.
    fn wlc(&mut self, weights: &[i64], active: &[u64]) -> usize {
        let (mut first, mut many) = (0, false);
        for i in 1..weights.len() {
            let (lhs, rhs) = (
                active[i] * weights[first] as u64,
                active[first] * weights[i] as u64,
            );
            if lhs < rhs {
                (first, many) = (i, false);
            } else if lhs == rhs {
                many = true;
            }
        }
        if !many {
            return first;
        }
        let (mut best, mut total) = (first, 0);
        for i in first..weights.len() {
            if active[i] * weights[first] as u64 != active[first] * weights[i] as u64 {
                continue;
            }
            self.current[i] += weights[i];
            total += weights[i];
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= total;
        best
    }

    /// Rendezvous hashing of the routing key: the consistent hash that needs no table.
    fn rendezvous(n: usize, key: u64) -> usize {
        let key = key.to_le_bytes();
        (0..n)
            .max_by_key(|&i| xxh3_64_with_seed(&key, i as u64))
            .unwrap_or(0)
    }
}

fn bench_rebuild(c: &mut Criterion) {
    let mut group = c.benchmark_group("rebuild");
    group.sample_size(10);
    for (name, algorithm, weighted_hashing) in [
        ("wrr", Algorithm::RoundRobin, false),
        ("least_conn", Algorithm::LeastConnections, false),
        ("maglev", Algorithm::SourceIp, false),
        ("maglev_weighted", Algorithm::SourceIp, true),
    ] {
        let n = 10_000;
        let mut b = ready(algorithm, n);
        b.set_weighted_hashing(weighted_hashing);
        let mut down = false;
        group.bench_function(BenchmarkId::new(name, n), |bench| {
            bench.iter(|| {
                // One health change, then the pick that rebuilds the tables.
                down = !down;
                let h = if down {
                    Health::Offline
                } else {
                    Health::NoMonitor
                };
                b.set_health(T0, 1234, h);
                black_box(b.pick(T0, &request(algorithm, 0, &mut request_buffer())))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_picks, bench_rebuild);
criterion_main!(benches);
