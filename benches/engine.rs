//! Engine throughput on `scenarios/bench/wrr-64.json`: 64 members weighted 1, 2, 3, 4
//! (repeating), ROUND_ROBIN, Poisson 50 000 req/s, exponential service with mean 4 ms,
//! capacity 8, 60 s; and on `retry-64.json`, the same behind a listener retrying the members
//! that refuse or hang. Reported as simulated requests per wall-clock second
//! (`Throughput::Elements`). The scenario is loaded and lowered outside the timed closure; the
//! timed part is what `lbsim run` does after that: the run and its metrics recording.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lbsim::pipeline::{self, Overrides, Source};
use lbsim::sim::Limits;

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for name in ["wrr-64", "retry-64"] {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/bench/{name}.json"));
        let cfg = pipeline::prepare(&Source::File(&path), &[], Overrides::default())
            .expect("the bench scenarios are valid")
            .config;
        // the run is deterministic: count its requests once, outside the timed closure
        let requests = pipeline::simulate(&cfg, Limits::default(), ())
            .expect("runs")
            .recorder
            .total
            .requests;
        g.throughput(Throughput::Elements(requests));
        g.bench_function(name, |b| {
            b.iter(|| {
                let run = pipeline::simulate(&cfg, Limits::default(), ()).expect("runs");
                black_box(run.output);
                run.recorder.total.requests
            })
        });
    }
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
