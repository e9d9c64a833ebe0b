//! The `lbsim` command line: parse arguments, call the library, print, set the exit code.
//! Exit status: 0 success, 2 invalid input or usage error.

use clap::{Parser, Subcommand};
use lbsim::scenario::{self, Finding, Severity};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Print a JSON Schema of the scenario format (for editors).
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate {
            files,
            json,
            verbose,
        } => validate(&files, json, verbose),
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
        let findings = match scenario::load(path) {
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
