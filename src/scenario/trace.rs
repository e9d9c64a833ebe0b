//! Arrival traces (`workload.arrivals.trace`): a CSV file of `t_s,client[,uri][,connection]`
//! rows replayed instead of generated arrivals. Every problem names the trace file, the line and
//! the column.

use super::diag::{Code, Findings};
use super::Finding;
use crate::sim::{Trace, TraceConnection};
use crate::time::SimTime;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The most rows a trace may hold (checked while reading, before anything runs).
pub const MAX_TRACE_ROWS: usize = 10_000_000;
/// The largest trace file read (1 GiB).
pub const MAX_TRACE_BYTES: u64 = 1 << 30;

/// Reads and checks a trace file; `Err` holds every problem found.
pub fn read(path: &Path) -> Result<Trace, Vec<Finding>> {
    let file = path.display().to_string();
    let mut f = Findings::new(&file);
    let text = match super::input::read_text(path, MAX_TRACE_BYTES, "trace") {
        Ok(t) => t,
        Err(rule) => {
            f.error("", "", rule, Code::NONE);
            return Err(f.items);
        }
    };
    parse_text(&file, &text)
}

/// A trace as read: shared, or every problem found.
pub type Read = Result<Arc<Trace>, Vec<Finding>>;

/// Reads the arrival trace at a path: [`read`], or a [`Cache`]'s.
pub type ReadTrace<'a> = &'a dyn Fn(&Path) -> Read;

/// Trace files read once each and shared by every run that replays them (a sweep's points,
/// `compare`'s variants), whatever their number.
#[derive(Default)]
pub struct Cache(Mutex<BTreeMap<PathBuf, Read>>);

impl Cache {
    pub fn read(&self, path: &Path) -> Read {
        let mut traces = self.0.lock().unwrap_or_else(|e| e.into_inner());
        traces
            .entry(path.to_path_buf())
            .or_insert_with(|| read(path).map(Arc::new))
            .clone()
    }
}

/// Parses trace text; `file` names it in findings. `Err` holds every problem found.
pub fn parse_text(file: &str, text: &str) -> Result<Trace, Vec<Finding>> {
    let mut f = Findings::new(file);
    let trace = parse(text, &mut f);
    if f.has_errors() {
        Err(f.items)
    } else {
        Ok(trace)
    }
}

/// Parses trace text, recording problems in `f` (at most 20, then one line saying how many more).
pub fn parse(text: &str, f: &mut Findings) -> Trace {
    const SHOWN: usize = 20;
    let mut rows = Rows::default();
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
        if rows.count == MAX_TRACE_ROWS {
            f.error(
                "",
                "",
                format!("has more than {MAX_TRACE_ROWS} rows, the trace limit"),
                Code::NONE,
            );
            return rows.group();
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
        let uri = cols.get(2).filter(|u| !u.is_empty()).copied();
        let connection = cols.get(3).filter(|c| !c.is_empty()).copied();
        rows.push(SimTime::from_secs_f64(t), client, uri, connection);
    }
    if problems > SHOWN {
        f.error(
            "",
            "",
            format!("has {} more problems not shown", problems - SHOWN),
            Code::NONE,
        );
    }
    if rows.count == 0 && problems == 0 {
        let rule = if text.contains('\r') && !text.contains('\n') {
            "has no rows: its lines end in CR alone (classic Mac OS); use LF or CRLF line endings"
        } else {
            "has no rows: expected t_s,client[,uri][,connection] lines"
        };
        f.error("", "", rule, Code::NONE);
    }
    rows.group()
}

/// Rows as they are read, before they are grouped into connections: per row its connection and
/// URI index, 8 bytes (the text they borrow from is held anyway while reading).
#[derive(Default)]
struct Rows<'t> {
    count: usize,
    connections: Vec<TraceConnection>,
    /// Rows sharing a `connection` value are requests of one connection.
    open: HashMap<&'t str, u32>,
    row_connection: Vec<u32>,
    /// With a URI column, a row that leaves it empty asks for "/"; without one, no URIs.
    any_uri: bool,
    row_uri: Vec<u32>,
    uris: Vec<String>,
    uri_index: HashMap<&'t str, u32>,
    largest_client: u32,
}

impl<'t> Rows<'t> {
    /// A row opens a connection at its time, or (sharing a `connection` value) is the next
    /// request of one opened before.
    fn push(
        &mut self,
        at: SimTime,
        client: u32,
        uri: Option<&'t str>,
        connection: Option<&'t str>,
    ) {
        self.count += 1;
        self.largest_client = self.largest_client.max(client);
        self.any_uri |= uri.is_some();
        let uris = &mut self.uris;
        let u = *self.uri_index.entry(uri.unwrap_or("/")).or_insert_with(|| {
            uris.push(uri.unwrap_or("/").to_string());
            uris.len() as u32 - 1
        });
        self.row_uri.push(u);
        let existing = connection.and_then(|c| self.open.get(c).copied());
        let c = existing.unwrap_or_else(|| {
            self.connections.push(TraceConnection {
                at,
                client,
                requests: 0,
                first_uri: 0,
            });
            let c = self.connections.len() as u32 - 1;
            if let Some(name) = connection {
                self.open.insert(name, c);
            }
            c
        });
        self.connections[c as usize].requests += 1;
        self.row_connection.push(c);
    }

    /// The rows grouped: each connection's URIs made contiguous, in row order.
    fn group(self) -> Trace {
        let mut connections = self.connections;
        let mut request_uris = Vec::new();
        let mut uris = Vec::new();
        if self.any_uri {
            let mut next = Vec::with_capacity(connections.len());
            let mut first = 0;
            for c in &mut connections {
                c.first_uri = first;
                next.push(first);
                first += c.requests;
            }
            request_uris = vec![0; self.count];
            for (c, u) in self.row_connection.iter().zip(&self.row_uri) {
                let slot = &mut next[*c as usize];
                request_uris[*slot as usize] = *u;
                *slot += 1;
            }
            uris = self.uris;
        }
        Trace {
            connections,
            request_uris,
            uris,
            largest_client: self.largest_client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Trace, Vec<String>) {
        let mut f = Findings::new("t.csv");
        let trace = parse(text, &mut f);
        (trace, f.items.iter().map(ToString::to_string).collect())
    }

    /// Rows sharing a connection value are one connection, its URIs in row order; a row without
    /// a URI asks for "/".
    #[test]
    fn groups_rows_into_connections_with_their_uris() {
        let (t, errors) =
            check("t_s,client,uri,connection\n0.5,3,/a,c1\n0.5,4,/b\n1.25,3,,c1\n2,7,/b,c1\n");
        assert!(errors.is_empty(), "{errors:?}");
        let at = |ms| SimTime::from_millis(ms);
        assert_eq!(
            t.connections,
            vec![
                TraceConnection {
                    at: at(500),
                    client: 3,
                    requests: 3,
                    first_uri: 0
                },
                TraceConnection {
                    at: at(500),
                    client: 4,
                    requests: 1,
                    first_uri: 3
                },
            ]
        );
        assert_eq!(t.uris, ["/a", "/b", "/"]);
        assert_eq!(t.request_uris, [0, 2, 1, 1]);
        assert_eq!(t.uri(&t.connections[0], 1), Some(2));
        assert_eq!(
            t.uri(&t.connections[0], 9),
            Some(1),
            "past the last: the last"
        );
        assert_eq!(t.largest_client, 7);
    }

    #[test]
    fn without_a_uri_column_requests_have_no_uris() {
        let (t, errors) = check("0.5,3\n0.75,1,,c\n0.8,1,,c\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(t.connections.len(), 2);
        assert_eq!(t.connections[1].requests, 2);
        assert!(t.uris.is_empty() && t.request_uris.is_empty());
        assert_eq!(t.uri(&t.connections[1], 0), None);
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
