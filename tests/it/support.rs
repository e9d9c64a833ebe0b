//! What the CLI tests share: running the built binary and reading what it printed.

use std::process::{Command, Output};

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
