//! What the integration tests share: running the built binary and reading what it printed,
//! and comparing a shipped story's variants through the library.

use std::path::Path;
use std::process::{Command, Output};

use lbsim::compare::{self, Axis, Comparison, Options};
use lbsim::sim::Limits;

/// The built binary with `args`, run from the crate root, without the batch schedulers' index
/// variables (a sweep would read its shard from them).
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lbsim"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID");
    cmd
}

/// Runs the binary with `args` to completion.
pub fn lbsim(args: &[&str]) -> Output {
    command(args).output().expect("run lbsim")
}

/// `out`, which must have exited 0 (its stderr shows otherwise).
pub fn ok(out: Output) -> Output {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON document a successful run printed.
pub fn json(out: Output) -> serde_json::Value {
    serde_json::from_slice(&ok(out).stdout).expect("JSON on stdout")
}

/// `compare` on `scenarios/NAME.json` over the cartesian product of `axes` (the first varies
/// slowest), one replication, as `lbsim compare` runs it.
pub fn compare_story(name: &str, axes: Vec<Axis>) -> Comparison {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.json"));
    let opts = Options {
        seed: None,
        duration_s: None,
        replications: 1,
        limits: Limits::default(),
    };
    compare::compare(&file, &axes, opts, &|_, _| ()).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}
