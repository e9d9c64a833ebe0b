//! Engine throughput on the wrr-64 scenario: 64 members weighted 1, 2, 3, 4 (repeating),
//! ROUND_ROBIN, Poisson 50 000 req/s, exponential service with mean 4 ms, capacity 8, 60 s.
//! Reported as simulated requests per wall-clock second (`Throughput::Elements`).
//!
//! The config is built here until `scenarios/bench/wrr-64.json` exists; then load that instead.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lbsim::metrics::Recorder;
use lbsim::model::{Algorithm, Dialect, Member, PoolConfig, Protocol, Tier};
use lbsim::sim::{
    run, ArrivalProcess, ArrivalsConfig, BackendConfig, ClientsConfig, Distribution, LbZone,
    Limits, Popularity, QuicConfig, RequestsPerConnection, SimConfig, WorkloadConfig,
};
use lbsim::time::SimTime;

fn wrr64() -> SimConfig {
    let members = (0..64)
        .map(|i| Member {
            key: format!("10.0.{}.{}", i / 256, i % 256 + 1),
            address: format!("10.0.{}.{}", i / 256, i % 256 + 1),
            port: 80,
            weight: 1 + i % 4,
            zone: None,
            tier: Tier::Primary,
            enabled: true,
            group: None,
        })
        .collect();
    SimConfig {
        name: "wrr-64".into(),
        seed: 1,
        duration: SimTime::from_secs(60),
        warmup: SimTime::ZERO,
        pool: PoolConfig {
            dialect: Dialect::Elb,
            protocol: Protocol::Http,
            algorithm: Algorithm::RoundRobin,
            members,
            zones: vec![],
            slow_start: None,
            persistence: None,
            drain_timeout: None,
            az_affinity: None,
            all_offline_forwarding: false,
            health_check: None,
            deletion_protection: false,
        },
        lb_zones: vec![LbZone {
            zone: None,
            weight: 1,
        }],
        cross_az_latency: SimTime::ZERO,
        listener: (IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)), 80),
        workload: WorkloadConfig {
            clients: ClientsConfig {
                count: 10_000,
                popularity: Popularity::Uniform,
                first_address: IpAddr::V4(Ipv4Addr::new(100, 64, 0, 0)),
                addresses: 10_000,
            },
            arrivals: ArrivalsConfig {
                process: ArrivalProcess::Poisson,
                rate_per_s: 50_000.0,
            },
            requests_per_connection: RequestsPerConnection::Fixed(1),
            think_time: None,
            protocol: Protocol::Http,
            timeout: None,
            uris: vec![],
            uri_popularity: Popularity::Uniform,
            quic: QuicConfig {
                dcid_len: 8,
                migration_probability: 0.0,
            },
        },
        backends: vec![
            BackendConfig {
                capacity: 8,
                queue_limit: 1_000_000,
                service_time: Distribution::Exponential { mean_ms: 4.0 },
                speed: 1.0,
            };
            64
        ],
        timeline: vec![],
        bucket: SimTime::from_secs(1),
    }
}

fn engine(c: &mut Criterion) {
    let cfg = wrr64();
    // the run is deterministic: count its requests once, outside the timed closure
    let mut rec = Recorder::new(&cfg);
    run(&cfg, Limits::default(), &mut rec).unwrap();
    let requests = rec.total.requests;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(requests));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("wrr-64", |b| {
        b.iter(|| {
            let mut rec = Recorder::new(&cfg);
            black_box(run(&cfg, Limits::default(), &mut rec).unwrap());
            rec.total.requests
        })
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
