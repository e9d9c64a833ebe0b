//! The one way from a scenario to a report: [`prepare`] (load, `--set`, validate, lower),
//! [`simulate`] (run with a [`Recorder`] and the caller's observer), then
//! [`Run::report`]. `run`, `compare`, `sweep`, the tests, the fuzz targets and the benches all
//! go through here, so this is the only module outside `scenario/` that knows how a scenario
//! is loaded and lowered.

use std::path::Path;
use std::sync::Arc;

use crate::metrics::Recorder;
use crate::report::Report;
use crate::scenario::patch::Setting;
use crate::scenario::trace::{self, ReadTrace};
use crate::scenario::{self, Finding, Loaded, Severity};
use crate::sim::{self, Limits, Observer, RunOutput, SimConfig, SimError};

/// Where a scenario comes from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// A scenario file; a trace it names is read relative to its directory.
    File(&'a Path),
    /// A scenario file whose trace is read through a cache shared with other preparations.
    Shared(&'a Path, &'a trace::Cache),
    /// Scenario text. `file` names it in findings and its stem is the default scenario name;
    /// a trace it names is read relative to `trace`'s directory, or not at all (then the
    /// scenario does not lower).
    Text {
        file: &'a str,
        text: &'a str,
        trace: Option<(&'a Path, ReadTrace<'a>)>,
    },
}

impl Source<'_> {
    /// How findings and refusals name the scenario.
    fn name(&self) -> String {
        match self {
            Source::File(path) | Source::Shared(path, _) => path.display().to_string(),
            Source::Text { file, .. } => (*file).to_string(),
        }
    }

    fn load(&self, sets: &[Setting]) -> Result<Loaded, Vec<Finding>> {
        match *self {
            Source::File(path) => scenario::load(path, sets, &|p| trace::read(p).map(Arc::new)),
            Source::Shared(path, cache) => scenario::load(path, sets, &|p| cache.read(p)),
            Source::Text { file, text, trace } => {
                let default_name = Path::new(file)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned());
                let mut loaded = scenario::parse(file, text, default_name, sets)?;
                if let Some((dir, read)) = trace {
                    if let Some(path) = scenario::trace_path(&loaded, dir) {
                        scenario::attach_trace(&mut loaded, file, read(&path));
                    }
                }
                Ok(loaded)
            }
        }
    }
}

/// What the caller overrides in the scenario (`--seed`, `--duration`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub duration_s: Option<f64>,
}

/// A scenario ready to run.
#[derive(Debug)]
pub struct Prepared {
    pub config: SimConfig,
    /// Validation's warnings and notes, in order.
    pub findings: Vec<Finding>,
}

impl Prepared {
    /// The warnings, which `run` and `compare` print (notes only show in `validate -v`).
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        warnings(&self.findings)
    }
}

fn warnings(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(|f| f.severity == Severity::Warning)
}

/// Why a scenario cannot run.
#[derive(Debug)]
pub enum Refusal {
    /// It could not be read or parsed: everything found until then, notes included.
    Unreadable(Vec<Finding>),
    /// It parsed but breaks rules: every finding, in validation order.
    Invalid(Vec<Finding>),
    /// It is valid but cannot be simulated (no members, say): its findings and why.
    NotRunnable {
        file: String,
        findings: Vec<Finding>,
        why: String,
    },
}

impl Refusal {
    /// The lines `run` and `compare` print: an unreadable file's findings, an invalid one's
    /// errors, or `FILE: why`.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Refusal::Unreadable(findings) => findings.iter().map(Finding::to_string).collect(),
            Refusal::Invalid(findings) => errors(findings),
            Refusal::NotRunnable { file, why, .. } => vec![format!("{file}: {why}")],
        }
    }

    /// The lines a sweep point reports (the sweep names the point itself): the errors alone, or
    /// why the point cannot run.
    pub fn errors(&self) -> Vec<String> {
        match self {
            Refusal::Unreadable(findings) | Refusal::Invalid(findings) => errors(findings),
            Refusal::NotRunnable { why, .. } => vec![why.clone()],
        }
    }

    /// Warnings of a valid scenario that still cannot run; `run` prints them before the
    /// refusal, as it would before a run.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        let findings = match self {
            Refusal::NotRunnable { findings, .. } => findings.as_slice(),
            _ => &[],
        };
        warnings(findings)
    }
}

fn errors(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(Finding::to_string)
        .collect()
}

/// Every finding of loading and validating `source` with `sets` applied, whether or not it
/// parsed: what `lbsim validate` prints. Nothing is lowered.
pub fn validate(source: &Source, sets: &[Setting]) -> Vec<Finding> {
    match source.load(sets) {
        Ok(loaded) => loaded.findings,
        Err(findings) => findings,
    }
}

/// Loads `source`, applies `sets` to its JSON, validates it and lowers it with `overrides`.
pub fn prepare(
    source: &Source,
    sets: &[Setting],
    overrides: Overrides,
) -> Result<Prepared, Refusal> {
    let loaded = source.load(sets).map_err(Refusal::Unreadable)?;
    let Some(valid) = &loaded.scenario else {
        return Err(Refusal::Invalid(loaded.findings));
    };
    match scenario::lower(valid, overrides.seed, overrides.duration_s) {
        Ok(config) => Ok(Prepared {
            config,
            findings: loaded.findings,
        }),
        Err(e) => Err(Refusal::NotRunnable {
            file: source.name(),
            findings: loaded.findings,
            why: e.to_string(),
        }),
    }
}

/// One finished run: the engine's output, the recorder's aggregates and the caller's observer.
pub struct Run<O> {
    pub output: RunOutput,
    pub recorder: Recorder,
    pub observer: O,
}

impl<O> Run<O> {
    /// The run's report.
    pub fn report(&self, config: &SimConfig) -> Report {
        Report::new(config, &self.output, &self.recorder)
    }
}

/// Runs `config` with a [`Recorder`] and `observer` (`()` for none) watching.
pub fn simulate<O: Observer>(
    config: &SimConfig,
    limits: Limits,
    observer: O,
) -> Result<Run<O>, SimError> {
    let mut both = (Recorder::new(config), observer);
    let output = sim::run(config, limits, &mut both)?;
    let (recorder, observer) = both;
    Ok(Run {
        output,
        recorder,
        observer,
    })
}
