//! The `lbsim` command line: parse arguments, call the library, print, set the exit code.
//! Exit status: 0 success, 2 invalid input or usage error.

use clap::{Parser, Subcommand};
use lbsim::compare::{self, Axis, Options};
use lbsim::metrics::Recorder;
use lbsim::report::{Report, TraceWriter};
use lbsim::scenario::patch::{self, Setting};
use lbsim::scenario::{self, Finding, Severity};
use lbsim::sim::{self, Limits, Observer, RequestObs};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Load-balancing simulator for Huawei Cloud ELB pools and APIG VPC channels.
///
/// Scenario files describe a pool in the vendor's own API shapes plus the backends' behaviour,
/// the workload and a timeline of events. Exit status: 0 on success, 2 on invalid input or a
/// usage error.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files against the vendor's rules and lbsim's own.
    ///
    /// Every error of every file is reported with its JSON path, value and rule, and the vendor
    /// error code where the real API has one. Exit 0 when all files are valid, 2 otherwise.
    Validate {
        /// Scenario files.
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
    Run {
        /// Scenario file.
        scenario: PathBuf,
        /// Print the JSON report instead of the readable one.
        #[arg(long)]
        json: bool,
        /// Write one CSV row per request to FILE
        /// (`t_s,request,connection,client,az,member,outcome,latency_ms`).
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
        /// Change the scenario before it is validated: PATH=VALUE, PATH a JSON path such as
        /// `pool.lb_algorithm` or `pool.members[2].weight`, VALUE JSON or a plain string.
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_setting)]
        sets: Vec<Setting>,
    },
    /// Run variants of a scenario side by side, with the same random numbers.
    ///
    /// The variants are the cartesian product of the --set value lists (the first --set varies
    /// slowest). Every variant runs with the same seed, so differences come from the
    /// configuration, not from noise. Any invalid variant stops everything before it runs.
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
    /// Print a JSON Schema of the scenario format (for editors).
    Schema,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        } => run(&scenario, &sets, json, trace.as_deref(), &overrides),
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
        ),
        Command::Schema => print(&(scenario::json_schema() + "\n")),
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

fn print(text: &str) -> std::io::Result<ExitCode> {
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn validate(files: &[PathBuf], json: bool, verbose: bool) -> std::io::Result<ExitCode> {
    let mut all: Vec<Finding> = Vec::new();
    let mut out = std::io::stdout().lock();
    let mut ok = true;
    for path in files {
        let findings = match scenario::load(path, &[]) {
            Ok(loaded) => loaded.findings,
            Err(findings) => findings,
        };
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
            "--duration: {d} is outside (0, {}] seconds",
            scenario::MAX_DURATION_S
        )),
        _ => Ok(()),
    }
}

fn run_compare(path: &Path, axes: &[Axis], json: bool, opts: Options) -> std::io::Result<ExitCode> {
    if let Err(e) = check_duration(opts.duration_s) {
        return refuse([e]);
    }
    let comparison = match compare::compare(path, axes, opts) {
        Ok(c) => c,
        Err(compare::Refused(lines)) => return refuse(lines),
    };
    for w in &comparison.warnings {
        eprintln!("{w}");
    }
    print(&if json {
        comparison.to_json()
    } else {
        comparison.to_text()
    })
}

fn run(
    path: &Path,
    sets: &[Setting],
    json: bool,
    trace: Option<&Path>,
    overrides: &Overrides,
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
    let loaded = match scenario::load(path, sets) {
        Ok(loaded) if loaded.is_valid() => loaded,
        Ok(loaded) => {
            return refuse(
                loaded
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(Finding::to_string),
            )
        }
        Err(findings) => return refuse(findings.iter().map(Finding::to_string)),
    };
    let warnings = loaded
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning);
    for w in warnings {
        eprintln!("{w}");
    }
    let config = match scenario::simulate::lower(&loaded.scenario, seed, duration) {
        Ok(c) => c,
        Err(e) => return refuse([format!("{file}: {e}")]),
    };
    let limits = Limits { max_events };
    let recorder = Recorder::new(&config);
    let progress = Progress::new(config.duration.as_secs_f64());
    let (output, recorder) = match trace {
        None => {
            let mut observer = (recorder, progress);
            let out = sim::run(&config, limits, &mut observer);
            (out, observer.0)
        }
        Some(trace_path) => {
            // Written next to its destination and renamed at the end: never a partial file.
            let dir = trace_path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = match tempfile::NamedTempFile::new_in(dir) {
                Ok(t) => t,
                Err(e) => {
                    return refuse([format!(
                        "{}: cannot write the trace: {e}",
                        trace_path.display()
                    )])
                }
            };
            let writer = TraceWriter::new(std::io::BufWriter::new(tmp), &config);
            let mut observer = ((recorder, progress), writer);
            let out = sim::run(&config, limits, &mut observer);
            let ((recorder, _), writer) = observer;
            if out.is_ok() {
                let persisted = writer
                    .finish()
                    .and_then(|buf| buf.into_inner().map_err(|e| e.into_error()))
                    .and_then(|tmp| tmp.persist(trace_path).map_err(|e| e.error));
                if let Err(e) = persisted {
                    return refuse([format!(
                        "{}: cannot write the trace: {e}",
                        trace_path.display()
                    )]);
                }
            }
            (out, recorder)
        }
    };
    let output = match output {
        Ok(o) => o,
        Err(e) => return refuse([format!("{file}: {e}")]),
    };
    let report = Report::new(&config, &output, &recorder);
    print(&if json {
        report.to_json()
    } else {
        report.to_text()
    })
}

/// Shows how far a run has got on stderr, once it has taken more than two seconds and only when
/// stderr is a terminal. Checks the clock once every 65,536 requests.
struct Progress {
    duration_s: f64,
    started: Instant,
    enabled: bool,
    shown: bool,
    count: u32,
}

impl Progress {
    fn new(duration_s: f64) -> Progress {
        Progress {
            duration_s,
            started: Instant::now(),
            enabled: std::io::stderr().is_terminal(),
            shown: false,
            count: 0,
        }
    }
}

impl Observer for Progress {
    #[inline]
    fn request(&mut self, obs: &RequestObs) {
        self.count = self.count.wrapping_add(1);
        if !self.enabled || !self.count.is_multiple_of(65_536) {
            return;
        }
        if self.started.elapsed() > Duration::from_secs(2) {
            let done = obs.arrival.as_secs_f64() / self.duration_s;
            eprint!(
                "\rsimulating: {:5.1} % of {} s",
                100.0 * done.min(1.0),
                self.duration_s
            );
            self.shown = true;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}
