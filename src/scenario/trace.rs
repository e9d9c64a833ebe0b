//! Arrival traces (`workload.arrivals.trace`): a CSV file of `t_s,client[,uri][,connection]`
//! rows replayed instead of generated arrivals. Every problem names the trace file, the line and
//! the column.

use super::diag::{Code, Findings};
use super::Finding;
use crate::time::SimTime;
use std::path::Path;

/// The most rows a trace may hold (checked while reading, before anything runs).
pub const MAX_TRACE_ROWS: usize = 10_000_000;
/// The largest trace file read (1 GiB).
pub const MAX_TRACE_BYTES: u64 = 1 << 30;

/// One row of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow {
    pub at: SimTime,
    /// Client id (0-based); ids index the client population.
    pub client: u32,
    pub uri: Option<String>,
    /// Rows sharing a connection value are requests of one connection.
    pub connection: Option<String>,
}

/// Reads and checks a trace file; `Err` holds every problem found.
pub fn read(path: &Path) -> Result<Vec<TraceRow>, Vec<Finding>> {
    let file = path.display().to_string();
    let mut f = Findings::new(&file);
    let bytes = match super::input::read(path, MAX_TRACE_BYTES, "trace") {
        Ok(b) => b,
        Err(rule) => {
            f.error("", "", rule, Code::NONE);
            return Err(f.items);
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            f.error(
                "",
                "",
                format!("is not UTF-8 text (invalid byte at offset {at})"),
                Code::NONE,
            );
            return Err(f.items);
        }
    };
    parse_text(&file, &text)
}

/// Parses trace text; `file` names it in findings. `Err` holds every problem found.
pub fn parse_text(file: &str, text: &str) -> Result<Vec<TraceRow>, Vec<Finding>> {
    let mut f = Findings::new(file);
    let rows = parse(text, &mut f);
    if f.has_errors() {
        Err(f.items)
    } else {
        Ok(rows)
    }
}

/// Parses trace text, recording problems in `f` (at most 20, then one line saying how many more).
pub fn parse(text: &str, f: &mut Findings) -> Vec<TraceRow> {
    const SHOWN: usize = 20;
    let mut rows = Vec::new();
    let mut problems = 0usize;
    let mut last = 0.0f64;
    let mut report = |f: &mut Findings, line: usize, column: &str, value: &str, rule: String| {
        problems += 1;
        if problems <= SHOWN {
            f.error(&format!("line {line}, {column}"), value, rule, Code::NONE);
        }
    };
    for (i, raw) in text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .enumerate()
    {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() || (line == 1 && raw.starts_with("t_s")) {
            continue;
        }
        if rows.len() == MAX_TRACE_ROWS {
            f.error(
                "",
                "",
                format!("has more than {MAX_TRACE_ROWS} rows, the trace limit"),
                Code::NONE,
            );
            return rows;
        }
        let cols: Vec<&str> = raw.split(',').map(str::trim).collect();
        if !(2..=4).contains(&cols.len()) {
            let rule = format!(
                "has {} columns; expected t_s,client[,uri][,connection]",
                cols.len()
            );
            report(f, line, "row", raw, rule);
            continue;
        }
        let t = match cols[0].parse::<f64>() {
            Ok(t) if t.is_finite() && t >= 0.0 => t,
            _ => {
                report(
                    f,
                    line,
                    "t_s",
                    cols[0],
                    "is not a finite time in seconds at or after 0".into(),
                );
                continue;
            }
        };
        if t < last {
            report(
                f,
                line,
                "t_s",
                cols[0],
                format!("goes back in time (the row before is at {last})"),
            );
            continue;
        }
        last = t;
        let Some(client) = cols[1]
            .parse::<u32>()
            .ok()
            .filter(|c| u64::from(*c) < super::sections::MAX_CLIENTS)
        else {
            let rule = format!(
                "is not a client id (an integer 0..={})",
                super::sections::MAX_CLIENTS - 1
            );
            report(f, line, "client", cols[1], rule);
            continue;
        };
        let uri = cols.get(2).filter(|u| !u.is_empty()).map(|u| u.to_string());
        let connection = cols.get(3).filter(|c| !c.is_empty()).map(|c| c.to_string());
        rows.push(TraceRow {
            at: SimTime::from_secs_f64(t),
            client,
            uri,
            connection,
        });
    }
    if problems > SHOWN {
        f.error(
            "",
            "",
            format!("has {} more problems not shown", problems - SHOWN),
            Code::NONE,
        );
    }
    if rows.is_empty() && problems == 0 {
        let rule = if text.contains('\r') && !text.contains('\n') {
            "has no rows: its lines end in CR alone (classic Mac OS); use LF or CRLF line endings"
        } else {
            "has no rows: expected t_s,client[,uri][,connection] lines"
        };
        f.error("", "", rule, Code::NONE);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Vec<TraceRow>, Vec<String>) {
        let mut f = Findings::new("t.csv");
        let rows = parse(text, &mut f);
        (rows, f.items.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn reads_rows_with_optional_columns_and_header() {
        let (rows, errors) = check("t_s,client,uri,connection\n0.5,3,/a,c1\n0.5,4\n1.25,3,,c1\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].at, SimTime::from_millis(500));
        assert_eq!(rows[0].uri.as_deref(), Some("/a"));
        assert_eq!(rows[2].uri, None);
        assert_eq!(rows[2].connection.as_deref(), Some("c1"));
    }

    #[test]
    fn names_line_and_column_of_each_problem() {
        let (_, errors) = check("1.0,1\n0.5,2\nx,3\n2.0,-1\n3.0\n");
        assert_eq!(
            errors,
            vec![
                "t.csv: line 2, t_s: \"0.5\" goes back in time (the row before is at 1)",
                "t.csv: line 3, t_s: \"x\" is not a finite time in seconds at or after 0",
                "t.csv: line 4, client: \"-1\" is not a client id (an integer 0..=9999999)",
                "t.csv: line 5, row: \"3.0\" has 1 columns; expected t_s,client[,uri][,connection]",
            ]
        );
        let (_, errors) = check("t_s,client\n");
        assert_eq!(
            errors,
            vec!["t.csv: has no rows: expected t_s,client[,uri][,connection] lines"]
        );
    }

    /// A trace whose lines end in CR alone said only "has no rows".
    #[test]
    fn cr_only_line_endings_are_named() {
        let err = parse_text("t.csv", "t_s,client\r0.1,1\r0.2,2\r").unwrap_err();
        assert!(err[0].to_string().contains("end in CR alone"), "{err:?}");
    }
}
