//! The `lbsim` command line: parse arguments, call the library, print, set the exit code.
//! Exit status: 0 success, 2 invalid input or usage error.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use clap::{CommandFactory, Parser, Subcommand};
use lbsim::compare::{self, Axis, Options};
use lbsim::output::{self, Pending};
use lbsim::pipeline::{self, Source};
use lbsim::report::html::{run_page, LatencyTimeline};
use lbsim::report::{Report, TraceWriter};
use lbsim::scenario::patch::{self, Setting};
use lbsim::scenario::{self, Finding, Severity};
use lbsim::sim::{Limits, Observer, RequestObs};
use lbsim::sweep::{self as sweeps, Plan, Shard, SweepError, SweepSummary};
use lbsim::table::{prose, Column, TextTable, Width};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Load-balancing simulator for Huawei Cloud ELB pools and APIG VPC channels.
///
/// Scenario files describe a pool in the vendor's own API shapes plus the backends' behaviour,
/// the workload and a timeline of events. Exit status: 0 on success, 2 on invalid input or a
/// usage error.
#[derive(Parser)]
#[command(
    version,
    about,
    long_about,
    after_help = "Examples:
  lbsim validate my-pool.json
  lbsim run scenarios/standby-failover.json
  lbsim compare scenarios/heterogeneous-backends.json --set pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS
  lbsim sweep scenarios/sweeps/az-threshold-x-fallback.json --out sweep-az

Scenario stories with the question each answers: scenarios/README.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Draw no progress bar on stderr (none is drawn when stderr is not a terminal either).
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files against the vendor's rules and lbsim's own.
    ///
    /// Every error of every file is reported with its JSON path, value and rule, and the vendor
    /// error code where the real API has one. A sweep spec (a file with `base`, `parameters`, …)
    /// is checked as `lbsim sweep` checks it: the spec, its base and every point. Exit 0 when
    /// all files are valid, 2 otherwise.
    #[command(after_help = "Examples:
  lbsim validate scenarios/api-examples/*.json
  lbsim validate --json --verbose my-pool.json
  lbsim validate scenarios/sweeps/health-check-timing.json")]
    Validate {
        /// Scenario files or sweep specs.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the findings as a JSON array (file, path, value, rule, code, severity).
        #[arg(long)]
        json: bool,
        /// Also list vendor fields that are accepted but not simulated.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Simulate a scenario and print its report.
    ///
    /// The same scenario and seed give a byte-identical report on any machine.
    #[command(after_help = "Examples:
  lbsim run scenarios/standby-failover.json
  lbsim run scenarios/standby-failover.json --json --seed 7 > report.json
  lbsim run scenarios/heterogeneous-backends.json --set pool.lb_algorithm=LEAST_CONNECTIONS \\
      --html run.html --trace requests.csv")]
    Run {
        /// Scenario file.
        scenario: PathBuf,
        /// Print the JSON report instead of the readable one.
        #[arg(long)]
        json: bool,
        /// Write one CSV row per request to FILE
        /// (`t_s,request,connection,client,az,member,outcome,latency_ms,status,attempts,method`).
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
        /// Change the scenario before it is validated: PATH=VALUE, PATH a JSON path such as
        /// `pool.lb_algorithm` or `pool.members[2].weight`, VALUE JSON or a plain string.
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_setting)]
        sets: Vec<Setting>,
        /// Also write a self-contained HTML report to FILE (per-member rates and latency over
        /// time, events marked).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Overwrite the --trace and --html files if they exist.
        #[arg(long)]
        force: bool,
    },
    /// Run variants of a scenario side by side, with the same random numbers.
    ///
    /// The variants are the cartesian product of the --set value lists (the first --set varies
    /// slowest). Every variant runs with the same seed, so differences come from the
    /// configuration, not from noise. Any invalid variant stops everything before it runs.
    #[command(after_help = "Examples:
  lbsim compare scenarios/heterogeneous-backends.json \\
      --set pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS
  lbsim compare scenarios/health-check-tuning.json --set pool.healthmonitor.delay=2,5,10 \\
      --set listener.enable_member_retry=true,false --replications 10")]
    Compare {
        /// Scenario file.
        scenario: PathBuf,
        /// PATH=V1,V2,…: a JSON path (`pool.lb_algorithm`, `pool.members[2].weight`) and the
        /// values it takes, each JSON or a plain string; commas inside JSON do not split.
        #[arg(long = "set", value_name = "PATH=V1,V2,…", value_parser = parse_axis)]
        axes: Vec<Axis>,
        /// Runs per variant on independent random streams (the same streams for every
        /// variant); metrics are then shown as mean ± 95 % confidence half-width.
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=10_000))]
        replications: u32,
        /// Print every variant's JSON report instead of the table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Run every variant of a sweep spec in parallel, rank them and recommend the API calls.
    ///
    /// Writes DIR/results.jsonl (each run appended as it ends), DIR/summary.json, DIR/report.md
    /// and DIR/report.html. With --shard only that shard's runs and results.jsonl; combine the
    /// shards with `lbsim sweep merge`. The spec format is in docs/sweep-format.md.
    #[command(after_help = "Examples:
  lbsim sweep scenarios/sweeps/az-threshold-x-fallback.json --out sweep-az
  lbsim sweep spec.json --shard 0/8 --resume --out shard-0
  lbsim sweep merge shard-* --out merged")]
    Sweep(SweepArgs),
    /// Print a JSON Schema (draft 2020-12) of scenario files, or with --sweep of sweep specs.
    ///
    /// For editors and CI: it checks field names, types, enumerations, ranges and which fields
    /// go together; `lbsim validate` also checks the rules between values (docs/scenario-format.md).
    #[command(after_help = "Examples:
  lbsim schema > lbsim-scenario.schema.json
  lbsim schema --sweep > lbsim-sweep.schema.json")]
    Schema {
        /// The schema of sweep specs instead of scenario files.
        #[arg(long)]
        sweep: bool,
    },
    /// Print a shell completion script.
    ///
    /// Generated from the command definitions, so it always matches this binary.
    #[command(after_help = "Examples:
  lbsim completions bash > ~/.local/share/bash-completion/completions/lbsim
  lbsim completions zsh > ~/.zfunc/_lbsim     # with fpath+=~/.zfunc before compinit
  lbsim completions fish > ~/.config/fish/completions/lbsim.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page lbsim(1), or write a page for every command into DIR.
    ///
    /// Generated from the command definitions, so it always matches this binary.
    #[command(after_help = "Examples:
  lbsim man | man -l -
  lbsim man ~/.local/share/man/man1     # lbsim.1, lbsim-run.1, lbsim-compare.1, …")]
    Man {
        /// Write lbsim.1 and lbsim-COMMAND.1 for every command into this directory.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// What `run` and `compare` may override in the scenario, and the work limit of each run.
#[derive(clap::Args)]
struct Overrides {
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the scenario's duration_s (seconds).
    #[arg(long, value_name = "S")]
    duration: Option<f64>,
    /// Raise the limit on estimated events of a run (default 1e9).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCommand>,
    /// Sweep spec file.
    #[arg(required = true)]
    spec: Option<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR", required = true)]
    out: Option<PathBuf>,
    /// Run only runs with `run % COUNT == INDEX`; `env/COUNT` reads INDEX from
    /// JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or AWS_BATCH_JOB_ARRAY_INDEX.
    #[arg(long, value_name = "INDEX/COUNT", value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Keep the runs DIR/results.jsonl already holds and run the rest.
    #[arg(long)]
    resume: bool,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Combine shard directories into one: checks that every run is present exactly once and
    /// that all shards ran the same plan, then writes the same files an unsharded sweep writes.
    #[command(after_help = "Example:
  lbsim sweep merge shard-0 shard-1 shard-2 --out merged")]
    Merge {
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    // Ctrl-C, SIGTERM (timeout, Kubernetes, Slurm) or SIGHUP: remove the output files still
    // being written, so only complete files remain
    let _ = ctrlc::set_handler(|| {
        clear_progress();
        output::discard_pending();
        std::process::exit(130);
    });
    let cli = Cli::parse();
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Validate {
            files,
            json,
            verbose,
        } => validate(&files, json, verbose),
        Command::Run {
            scenario,
            json,
            trace,
            overrides,
            sets,
            html,
            force,
        } => run(
            &scenario,
            &sets,
            json,
            Files {
                trace: trace.as_deref(),
                html: html.as_deref(),
                force,
            },
            &overrides,
            quiet,
        ),
        Command::Compare {
            scenario,
            axes,
            replications,
            json,
            overrides,
        } => run_compare(
            &scenario,
            &axes,
            json,
            Options {
                seed: overrides.seed,
                duration_s: overrides.duration,
                replications,
                limits: Limits {
                    max_events: overrides.max_events,
                },
            },
            quiet,
        ),
        Command::Sweep(args) => sweep(args, quiet),
        Command::Schema { sweep: false } => print(&(scenario::json_schema() + "\n")),
        Command::Schema { sweep: true } => print(&(sweeps::json_schema() + "\n")),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "lbsim", &mut script);
            print(&String::from_utf8_lossy(&script))
        }
        Command::Man { dir } => man(dir.as_deref()),
    };
    match result {
        Ok(code) => code,
        // stdout closed early (e.g. piped into `head`): not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lbsim: {e}");
            ExitCode::from(2)
        }
    }
}

/// How wide text tables may be: the terminal's width when stdout is one (80 columns when it
/// cannot be read), no limit in a file or a pipe, so those get the full, deterministic table.
fn stdout_width() -> Width {
    if !std::io::stdout().is_terminal() {
        return Width::Full;
    }
    let columns = console::Term::stdout().size_checked().map(|(_, c)| c);
    Width::Terminal(columns.unwrap_or(80))
}

/// Prints lbsim(1), or writes it and a page per command into `dir`.
fn man(dir: Option<&Path>) -> std::io::Result<ExitCode> {
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command()).render(&mut page)?;
        return print(&String::from_utf8_lossy(&page));
    };
    match clap_mangen::generate_to(Cli::command(), dir) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => refuse([format!(
            "{}: cannot write the manual pages: {e}",
            dir.display()
        )]),
    }
}

fn print(text: &str) -> std::io::Result<ExitCode> {
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn validate(files: &[PathBuf], json: bool, verbose: bool) -> std::io::Result<ExitCode> {
    let mut all: Vec<Finding> = Vec::new();
    let mut out = std::io::stdout().lock();
    let mut ok = true;
    for path in files {
        if sweeps::is_spec(path) {
            ok &= validate_spec(path, json, &mut all, &mut out)?;
            continue;
        }
        let findings = pipeline::validate(&Source::File(path), &[]);
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        ok &= errors == 0;
        let shown = findings
            .into_iter()
            .filter(|f| verbose || f.severity != Severity::Note);
        if json {
            all.extend(shown);
            continue;
        }
        for f in shown {
            writeln!(out, "{f}")?;
        }
        match errors {
            0 => writeln!(out, "{}: valid", path.display())?,
            1 => writeln!(out, "{}: invalid (1 error)", path.display())?,
            n => writeln!(out, "{}: invalid ({n} errors)", path.display())?,
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&all).map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Validates a sweep spec as `lbsim sweep` would; prints (or collects) its errors and whether it
/// is valid.
fn validate_spec(
    path: &Path,
    json: bool,
    all: &mut Vec<Finding>,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    let findings = match sweeps::validate_spec(path) {
        Ok(plan) => {
            if !json {
                writeln!(
                    out,
                    "{}: valid sweep spec ({} points x {} replications = {} runs)",
                    path.display(),
                    plan.points.len(),
                    plan.spec.replications,
                    plan.runs()
                )?;
            }
            return Ok(true);
        }
        Err(findings) => findings,
    };
    if json {
        all.extend(findings);
        return Ok(false);
    }
    for f in &findings {
        writeln!(out, "{f}")?;
    }
    let n = findings.len();
    let errors = if n == 1 { "error" } else { "errors" };
    writeln!(out, "{}: invalid sweep spec ({n} {errors})", path.display())?;
    Ok(false)
}

/// A problem that stops `run` before it writes anything: printed once, exit status 2.
fn refuse(lines: impl IntoIterator<Item = String>) -> std::io::Result<ExitCode> {
    let mut err = std::io::stderr().lock();
    for line in lines {
        writeln!(err, "{line}")?;
    }
    Ok(ExitCode::from(2))
}

/// One `--set` of `lbsim run`: exactly one value.
fn parse_setting(arg: &str) -> Result<Setting, String> {
    let (path, mut values) = patch::parse_assignment(arg)?;
    if values.len() != 1 {
        return Err(format!(
            "{path} is given {} values; `run` takes one (compare takes several)",
            values.len()
        ));
    }
    Ok(Setting {
        path,
        value: values.remove(0),
    })
}

/// One `--set` of `lbsim compare`: a path and its values.
fn parse_axis(arg: &str) -> Result<Axis, String> {
    let (path, values) = patch::parse_assignment(arg)?;
    Ok(Axis { path, values })
}

/// `--duration` must be a duration a scenario file could give.
fn check_duration(duration: Option<f64>) -> Result<(), String> {
    match duration {
        Some(d) if !(d.is_finite() && d > 0.0 && d <= scenario::MAX_DURATION_S) => Err(format!(
            "--duration: {} is outside (0, {}] seconds",
            lbsim::text::number(d),
            scenario::MAX_DURATION_S
        )),
        _ => Ok(()),
    }
}

fn run_compare(
    path: &Path,
    axes: &[Axis],
    json: bool,
    opts: Options,
    quiet: bool,
) -> std::io::Result<ExitCode> {
    if let Err(e) = check_duration(opts.duration_s) {
        return refuse([e]);
    }
    let bar = Progress::new(
        quiet,
        "{spinner} comparing [{bar:30}] {pos}/{len} runs  {elapsed}",
    );
    let compared = compare::compare(path, axes, opts, &|done, total| bar.show(done, total));
    drop(bar);
    let comparison = match compared {
        Ok(c) => c,
        Err(compare::Refused(lines)) => return refuse(lines),
    };
    for w in &comparison.warnings {
        eprintln!("{w}");
    }
    print(&if json {
        comparison.to_json()
    } else {
        comparison.to_text(stdout_width())
    })
}

/// Files `lbsim run` writes besides its report.
struct Files<'a> {
    trace: Option<&'a Path>,
    html: Option<&'a Path>,
    /// Existing files may be replaced.
    force: bool,
}

fn run(
    path: &Path,
    sets: &[Setting],
    json: bool,
    Files { trace, html, force }: Files,
    overrides: &Overrides,
    quiet: bool,
) -> std::io::Result<ExitCode> {
    let Overrides {
        seed,
        duration,
        max_events,
    } = *overrides;
    let file = path.display();
    if let Err(e) = check_duration(duration) {
        return refuse([e]);
    }
    // checked before anything runs: a refused output costs no simulation and writes nothing
    if let (Some(t), Some(h)) = (trace, html) {
        if Pending::same_target(t, h) {
            return refuse([format!(
                "{}: is both the --trace and the --html file",
                t.display()
            )]);
        }
    }
    for out in [trace, html].into_iter().flatten() {
        // a device, FIFO or `-` is written through, never replaced
        if out.is_file() && !force {
            return refuse([format!(
                "{}: exists; pass --force to overwrite it",
                out.display()
            )]);
        }
    }
    let overrides = pipeline::Overrides {
        seed,
        duration_s: duration,
    };
    let prepared = match pipeline::prepare(&Source::File(path), sets, overrides) {
        Ok(p) => p,
        Err(refusal) => {
            for w in refusal.warnings() {
                eprintln!("{w}");
            }
            return refuse(refusal.lines());
        }
    };
    for w in prepared.warnings() {
        eprintln!("{w}");
    }
    let config = prepared.config;
    let limits = Limits { max_events };
    // Both output files are opened before the run, so a bad path fails at once, and renamed
    // into place together after it: never one without the other, never a partial file.
    let html_file = match html.map(Pending::new).transpose() {
        Ok(f) => f,
        Err(e) => return refuse([format!("cannot write the HTML report: {e}")]),
    };
    let writer = match trace.map(Pending::new).transpose() {
        Ok(t) => t.map(|tmp| TraceWriter::new(std::io::BufWriter::new(tmp), &config)),
        Err(e) => return refuse([format!("cannot write the trace: {e}")]),
    };
    let progress = RunProgress::new(quiet, config.duration.as_secs_f64());
    let latency = LatencyTimeline::new(&config, html.is_some());
    let mut observer = ((progress, latency), writer);
    let ran = pipeline::simulate(&config, limits, &mut observer).map(|r| (r.output, r.recorder));
    let ((progress, latency), writer) = observer;
    // clears the progress line before anything else is printed
    drop(progress);
    // a trace that cannot be written is reported before the run's own error
    let trace_file = match (writer, trace) {
        (Some(writer), Some(trace_path)) => {
            let written = writer
                .finish()
                .and_then(|buf| buf.into_inner().map_err(|e| e.into_error()));
            match written {
                Ok(file) => Some(file),
                // the reader of `-` or a FIFO closed it early (`| head`): not an error, and
                // the other outputs still follow
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => None,
                Err(e) => {
                    let at = trace_path.display();
                    return refuse([format!("{at}: cannot write the trace: {e}")]);
                }
            }
        }
        _ => None,
    };
    let (output, recorder) = match ran {
        Ok(o) => o,
        Err(e) => return refuse([format!("{file}: {e}")]),
    };
    let report = Report::new(&config, &output, &recorder);
    let mut outputs = Vec::new();
    if let Some(mut page) = html_file {
        match page.write_all(run_page(&report, &latency, config.front.kind).as_bytes()) {
            Ok(()) => outputs.push(page),
            // a reader of `-` or a FIFO that left early: nothing more to give it
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return refuse([format!("cannot write the HTML report: {e}")]),
        }
    }
    outputs.extend(trace_file);
    // the HTML report and the trace land together or not at all
    match output::commit_all(outputs) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return refuse([format!("cannot write the outputs: {e}")]);
        }
        _ => {}
    }
    print(&if json {
        report.to_json()
    } else {
        report.to_text(stdout_width())
    })
}

fn parse_shard(arg: &str) -> Result<Shard, String> {
    Shard::parse(arg, |name| std::env::var(name).ok())
}

fn sweep(args: SweepArgs, quiet: bool) -> std::io::Result<ExitCode> {
    let (result, dir) = match (args.merge, args.spec, args.out) {
        (Some(SweepCommand::Merge { dirs, out }), _, _) => {
            (sweeps::merge(&dirs, &out).map(Some), out)
        }
        (None, Some(spec), Some(out)) => (
            run_sweep(&spec, &out, args.shard, args.resume, args.threads, quiet),
            out,
        ),
        _ => unreachable!("clap requires SPEC and --out without a subcommand"),
    };
    match result {
        Ok(Some(summary)) => print(&terminal_summary(&summary, &dir, stdout_width())),
        Ok(None) => Ok(ExitCode::SUCCESS),
        Err(e) => refuse([format!("lbsim sweep: {e}")]),
    }
}

/// Runs the sweep; `None` when a shard finished (its reports come from the merge).
fn run_sweep(
    spec: &Path,
    out: &Path,
    shard: Option<Shard>,
    resume: bool,
    threads: Option<u16>,
    quiet: bool,
) -> Result<Option<SweepSummary>, SweepError> {
    let plan = Plan::load(spec)?;
    let inputs = sweeps::prepare(&plan)?;
    let shard = shard.unwrap_or(Shard::ALL);
    let bar = Progress::new(quiet, "[{bar:30}] {pos}/{len} runs  ETA {eta}");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.map_or(0, usize::from))
        .build()
        .map_err(|e| SweepError::Run(e.to_string()))?;
    let records = pool.install(|| {
        sweeps::results::execute(&plan, &inputs, out, shard, resume, &|done, total| {
            bar.show(done, total)
        })
    })?;
    drop(bar);
    if shard != Shard::ALL {
        eprintln!(
            "shard {}/{}: {} runs in {}; combine the shards with `lbsim sweep merge DIR… --out DIR`",
            shard.index,
            shard.count,
            records.len(),
            out.join("results.jsonl").display()
        );
        return Ok(None);
    }
    sweeps::finish(&plan, &records, out).map(Some)
}

fn terminal_summary(s: &SweepSummary, dir: &Path, width: Width) -> String {
    let mut o = prose(
        &format!(
            "sweep {}: {} points x {} replications = {} runs, {} {}",
            s.sweep,
            s.points.len(),
            s.replications,
            s.runs,
            s.objective.goal,
            s.objective.metric
        ),
        width,
    );
    let mut top = TextTable::new(vec![
        Column::number("rank"),
        Column::number("point"),
        Column::number(&format!("{} ± 95 % CI", s.objective.metric)),
        Column::text("configuration"),
    ]);
    for &i in s.ranking.iter().take(5) {
        let p = &s.points[i];
        top.push(vec![
            p.rank.to_string(),
            p.point.to_string(),
            format!("{:.4} ± {:.4}", p.objective.mean, p.objective.ci95),
            match p.feasible {
                true => p.label.clone(),
                false => format!("{}  (breaks a constraint)", p.label),
            },
        ]);
    }
    o.push_str(&top.render(width).text);
    for line in sweeps::headline(s) {
        o.push_str(&format!("{line}\n"));
    }
    match &s.recommendation {
        Some(r) => o.push_str(&format!(
            "best: point {} ({} API call{}); reports in {}\n",
            r.point,
            r.calls.len(),
            if r.calls.len() == 1 { "" } else { "s" },
            dir.display()
        )),
        None => o.push_str(&format!(
            "no point satisfies every constraint; reports in {}\n",
            dir.display()
        )),
    }
    o
}

/// The progress bar on stderr while one is drawn, for the Ctrl-C handler to clear.
static DRAWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A progress bar on stderr drawn with `template`, hidden with `--quiet` or when stderr is not a
/// terminal, so neither stdout nor the output files ever hold any of it. Dropped, it clears
/// its line.
struct Progress(ProgressBar);

impl Progress {
    fn new(quiet: bool, template: &str) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        // the templates are constants: a mistake shows as the default bar
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>.");
        bar.set_style(style);
        // keeps the spinner and the elapsed time moving while a long run makes no progress
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut drawn) = DRAWN.lock() {
            *drawn = Some(bar.clone());
        }
        Progress(bar)
    }

    /// `done` of `total`; a report that arrives after a later one leaves the bar where it is.
    fn show(&self, done: u64, total: u64) {
        self.0.set_length(total);
        let first = self.0.position() == 0;
        self.0.set_position(done.max(self.0.position()));
        if first {
            // runs a resumed sweep found done do not count towards the speed
            self.0.reset_eta();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
        if let Ok(mut drawn) = DRAWN.lock() {
            *drawn = None;
        }
    }
}

/// Clears the progress bar of an interrupted process, so the shell's prompt starts on a clean
/// line.
fn clear_progress() {
    if let Some(bar) = DRAWN.lock().ok().and_then(|mut drawn| drawn.take()) {
        bar.finish_and_clear();
        eprintln!("lbsim: interrupted");
    }
}

/// How far `lbsim run` has simulated, once it has taken more than two seconds (a short run
/// draws nothing). Checks the clock once every 65,536 requests.
struct RunProgress {
    quiet: bool,
    duration_s: f64,
    started: Instant,
    bar: Option<Progress>,
    count: u32,
}

impl RunProgress {
    fn new(quiet: bool, duration_s: f64) -> RunProgress {
        RunProgress {
            quiet,
            duration_s,
            started: Instant::now(),
            bar: None,
            count: 0,
        }
    }
}

impl Observer for RunProgress {
    #[inline]
    fn request(&mut self, obs: &RequestObs) {
        self.count = self.count.wrapping_add(1);
        if !self.count.is_multiple_of(65_536) || self.started.elapsed() < Duration::from_secs(2) {
            return;
        }
        let (quiet, duration_s) = (self.quiet, self.duration_s);
        // the template is made once, with the bar
        let bar = self.bar.get_or_insert_with(|| {
            let template = format!(
                "{{spinner}} simulating [{{bar:30}}] {{percent:>3}} % of {duration_s} s  {{elapsed}}"
            );
            Progress::new(quiet, &template)
        });
        // in milliseconds of simulated time
        bar.show(
            (obs.arrival.as_secs_f64() * 1e3) as u64,
            (self.duration_s * 1e3) as u64,
        );
    }
}
