//! What `run` and `compare` print for people: tables that fit a terminal 80 or 120 columns
//! wide, the complete table when stdout is a pipe, and every story's headline figure in
//! `compare`'s table.

use std::path::Path;

use lbsim::compare::{Axis, Comparison};
use lbsim::report::Report;
use lbsim::scenario::patch;
use lbsim::table::Width;
use unicode_width::UnicodeWidthStr;

use crate::support::{lbsim, ok};

/// A story's command from scenarios/README.md: `run` or `compare`, the scenario, the `--set`s.
struct Story {
    verb: String,
    name: String,
    sets: Vec<String>,
}

fn stories() -> Vec<Story> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("scenarios/README.md")).expect("README");
    // the stories' table, before the sweeps'
    let stories_table = readme.split("\n## ").next().expect("table");
    let stories: Vec<Story> = stories_table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let command = line.split(" | ").nth(2).expect("command cell");
            let words = shell_words::split(command.trim_matches('`')).expect(command);
            let sets = words.windows(2).filter(|w| w[0] == "--set");
            let scenario = Path::new(&words[2]).file_stem().expect(command);
            Story {
                verb: words[1].clone(),
                name: scenario.to_string_lossy().into_owned(),
                sets: sets.map(|w| w[1].clone()).collect(),
            }
        })
        .collect();
    assert!(stories.len() >= 18, "{} stories", stories.len());
    stories
}

fn comparison(story: &Story) -> Comparison {
    let axes: Vec<Axis> = story
        .sets
        .iter()
        .map(|s| {
            let (path, values) = patch::parse_assignment(s).expect(s);
            Axis { path, values }
        })
        .collect();
    crate::support::compare_story(&story.name, axes)
}

/// The names real pools have: long, one of them in Chinese, on the report and its events.
fn rename(report: &mut Report) {
    report.scenario.name = format!("checkout-service-production-{}", report.scenario.name);
    let new = |i: usize, id: &str| match i {
        0 => format!("订单服务-生产环境-可用区一-{id}"),
        _ => format!("checkout-service-prod-az1-{id}"),
    };
    let names: Vec<(String, String)> = (report.members.iter().enumerate())
        .map(|(i, m)| (m.id.clone(), new(i, &m.id)))
        .collect();
    for (m, (_, name)) in report.members.iter_mut().zip(&names) {
        m.id = name.clone();
    }
    for e in &mut report.events {
        if let Some((_, name)) = names.iter().find(|(old, _)| e.member.as_ref() == Some(old)) {
            e.member = Some(name.clone());
        }
    }
}

fn assert_fits(what: &str, text: &str, columns: u16) {
    for line in text.lines() {
        assert!(
            line.width() <= usize::from(columns),
            "{what} at {columns} columns: {} columns in\n{line}\n\n{text}",
            line.width()
        );
    }
}

#[test]
fn every_story_fits_80_and_120_columns_with_long_and_cjk_names() {
    for story in stories() {
        let mut c = comparison(&story);
        for v in &mut c.variants {
            rename(&mut v.runs[0].report);
        }
        for columns in [80, 120] {
            let width = Width::Terminal(columns);
            for v in &c.variants {
                let text = v.runs[0].report.to_text(width);
                assert_fits(&format!("run {}", story.name), &text, columns);
                // what is never left out
                let header = text
                    .lines()
                    .find(|l| l.starts_with("member "))
                    .expect("table");
                for kept in ["requests", "share", "failed", "p99 ms"] {
                    assert!(header.contains(kept), "{}: {header}", story.name);
                }
            }
            if story.verb == "compare" {
                let text = c.to_text(width);
                assert_fits(&format!("compare {}", story.name), &text, columns);
                let p99 = text.lines().filter(|l| l.starts_with("p99 ms  "));
                let cells: usize = p99.map(|l| l.split_whitespace().count() - 2).sum();
                assert_eq!(cells, c.variants.len(), "every variant, in blocks\n{text}");
            }
        }
    }
}

/// Piped, the table is whole: every column, every name on one line, and a CJK name (two
/// columns per character) aligned with the rest; the same bytes on every run.
#[test]
fn piped_output_is_the_complete_table_every_time() {
    let name = "订单服务-checkout-service-production-az1-legacy-pool-member";
    let set = format!("pool.members[0].name={name}");
    let args = [
        "run",
        "scenarios/heterogeneous-backends.json",
        "--duration",
        "5",
        "--set",
        &set,
    ];
    let first = ok(lbsim(&args)).stdout;
    assert_eq!(first, ok(lbsim(&args)).stdout, "deterministic");
    let text = String::from_utf8(first).expect("UTF-8");
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("member "))
        .take_while(|l| !l.is_empty())
        .collect();
    let header = table[0];
    for column in [
        "az",
        "tier",
        "weight",
        "requests",
        "share",
        "attempts",
        "completed",
        "failed",
        "rejected",
        "reset",
        "peak",
        "p50 ms",
        "p99 ms",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(table.len(), 5, "a line per member:\n{text}");
    assert!(table[1].starts_with(&format!("{name}  ")), "{}", table[1]);
    // the last column is right-aligned: every row ends where the header does
    let ends: Vec<usize> = table.iter().map(|l| l.width()).collect();
    assert!(ends.iter().all(|&e| e == ends[0]), "{ends:?}\n{text}");
    assert!(!text.contains("left out"));
}

/// The row of `label` in a compare table, its cells.
fn row<'a>(text: &'a str, label: &str) -> Option<Vec<&'a str>> {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{label}  ")))?;
    Some(line[label.len()..].split_whitespace().collect())
}

/// Each story's headline figure, as scenarios/README.md states its outcome, is a row of the
/// compare table.
#[test]
fn every_compare_story_shows_its_headline_figure() {
    let headline = |name: &str| -> &[&str] {
        match name {
            "cold-server-no-slow-start" => &["failed", "p99 ms"],
            "az-outage-fallback" => &["client error share", "cross-AZ fraction"],
            "master-slave-failover" => &["failover s"],
            "quic-migration" => &["migrated", "migration resets"],
            "rolling-deploy-drain" | "weight-zero-drain" => &["connections cut", "drain resets"],
            "hot-clients-source-ip" => &["max member share", "p99 ms"],
            "heterogeneous-backends" => &["min member share", "p99 ms"],
            "nat-sticky-sessions" => &["max member share", "min member share", "p99 ms"],
            "mixed-fleet-source-ip" => &["rejected", "max member share", "min member share"],
            "uri-hash-cache" => &["URIs held (sum)"],
            "health-check-tuning" => &["detection s", "retries", "HTTP 502"],
            "retry-crash-vs-hang" => &["detection s", "HTTP 502", "HTTP 504", "p99 ms"],
            "post-rolling-deploy" => &["HTTP 502", "client error share"],
            "gray-failure" => &["HTTP 500", "HTTP 503"],
            other => panic!("{other}: which figure tells its outcome?"),
        }
    };
    for story in stories().iter().filter(|s| s.verb == "compare") {
        let c = comparison(story);
        let text = c.to_text(Width::Full);
        for label in headline(&story.name) {
            let cells = row(&text, label).unwrap_or_else(|| panic!("{}: {label}", story.name));
            assert_eq!(cells.len(), c.variants.len(), "{}: {label}", story.name);
        }
    }
}

/// `weight-zero-drain`: the table shows the connections cut without drain against the drain
/// resets with it, the figures of the reports.
#[test]
fn weight_zero_drain_shows_cuts_against_drain_resets() {
    let story = stories()
        .into_iter()
        .find(|s| s.name == "weight-zero-drain")
        .expect("story");
    let c = comparison(&story);
    let text = c.to_text(Width::Full);
    let counts = |f: fn(&Report) -> u64| -> Vec<String> {
        c.variants
            .iter()
            .map(|v| f(&v.runs[0].report).to_string())
            .collect()
    };
    let cuts = counts(|r| r.summary.connections.cuts);
    let drain_resets = counts(|r| r.summary.connections.drain_resets);
    assert_eq!(row(&text, "connections cut").expect("cuts"), cuts);
    assert_eq!(row(&text, "drain resets").expect("resets"), drain_resets);
    // drain first, no drain second: the cut is several times the resets
    let n = |s: &str| s.parse::<u64>().expect("count");
    assert!(n(&cuts[1]) > 5 * n(&drain_resets[0]), "{text}");
}
