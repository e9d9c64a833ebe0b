//! Engine throughput on `scenarios/bench/wrr-64.json`: 64 members weighted 1, 2, 3, 4
//! (repeating), ROUND_ROBIN, Poisson 50 000 req/s, exponential service with mean 4 ms,
//! capacity 8, 60 s. Reported as simulated requests per wall-clock second
//! (`Throughput::Elements`). The scenario is loaded and lowered outside the timed closure; the
//! timed part is what `lbsim run` does after that: the run and its metrics recording.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lbsim::metrics::Recorder;
use lbsim::scenario;
use lbsim::sim::{run, Limits};

fn engine(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench/wrr-64.json");
    let loaded = scenario::load(&path, &[]).expect("wrr-64 loads");
    assert!(loaded.is_valid(), "{:?}", loaded.findings);
    let cfg = scenario::lower(
        loaded.scenario.as_ref().expect("wrr-64 is valid"),
        None,
        None,
    )
    .expect("wrr-64 lowers");
    // the run is deterministic: count its requests once, outside the timed closure
    let mut rec = Recorder::new(&cfg);
    run(&cfg, Limits::default(), &mut rec).expect("wrr-64 runs");
    let requests = rec.total.requests;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(requests));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("wrr-64", |b| {
        b.iter(|| {
            let mut rec = Recorder::new(&cfg);
            black_box(run(&cfg, Limits::default(), &mut rec).expect("runs"));
            rec.total.requests
        })
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
