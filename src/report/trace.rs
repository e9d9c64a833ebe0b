//! The per-request trace:
//! `t_s,request,connection,client,az,member,outcome,latency_ms,status,attempts,method`.

use std::io::{self, Write};

use crate::balancer::MemberIdx;
use crate::model::Member;
use crate::sim::{Observer, RequestObs, SimConfig};

/// The trace's first line.
pub const HEADER: &[u8] =
    b"t_s,request,connection,client,az,member,outcome,latency_ms,status,attempts,method\n";

/// An [`Observer`] writing one CSV row per finished request (warmup included: a trace is raw
/// data). `t_s` is the arrival time, `az` the AZ of the LB node that took the request, `member`
/// the member of its last attempt (empty when none was eligible), `status` the code the client
/// saw (empty without an HTTP response), `attempts` the members tried. The first write error stops the trace and is returned by
/// [`TraceWriter::finish`]; the run itself is not interrupted.
pub struct TraceWriter<W: Write> {
    out: W,
    members: Vec<String>,
    node_zones: Vec<String>,
    error: Option<io::Error>,
}

impl<W: Write> TraceWriter<W> {
    /// Writes the header. Wrap `out` in a `BufWriter` when it is a file.
    pub fn new(mut out: W, config: &SimConfig) -> TraceWriter<W> {
        let error = out.write_all(HEADER).err();
        let zone = |z: Option<u16>| {
            z.and_then(|z| config.pool.zones.get(usize::from(z)))
                .cloned()
                .unwrap_or_default()
        };
        let mut node_zones: Vec<String> = config.lb_zones.iter().map(|z| zone(z.zone)).collect();
        if node_zones.is_empty() {
            node_zones.push(String::new());
        }
        TraceWriter {
            out,
            members: config.pool.members.iter().map(|m| m.key.clone()).collect(),
            node_zones,
            error,
        }
    }

    /// Flushes and hands back the writer, or the first error met.
    pub fn finish(mut self) -> io::Result<W> {
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush().map(|()| self.out),
        }
    }
}

/// A status code as the trace writes it: empty for none (0), without allocating.
struct Status(u16);

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            0 => Ok(()),
            code => write!(f, "{code}"),
        }
    }
}

impl<W: Write> Observer for TraceWriter<W> {
    fn request(&mut self, o: &RequestObs) {
        if self.error.is_some() {
            return;
        }
        let member = o.member.map_or("", |m| self.members[m as usize].as_str());
        let status = Status(o.status);
        let r = writeln!(
            self.out,
            "{:.6},{},{},{},{},{},{},{:.3},{status},{},{}",
            o.arrival.as_secs_f64(),
            o.request,
            o.connection,
            o.client,
            self.node_zones[usize::from(o.lb_node)],
            member,
            o.outcome.as_str(),
            o.latency.as_millis_f64(),
            o.attempts,
            o.method.as_str()
        );
        self.error = r.err();
    }

    fn member_added(&mut self, _idx: MemberIdx, member: &Member) {
        self.members.push(member.key.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Algorithm;
    use crate::sim::{Method, Outcome};
    use crate::testkit;
    use crate::time::SimTime;

    #[test]
    fn header_names_every_column_and_rows_fill_them() {
        let pool = testkit::pool(Algorithm::RoundRobin, vec![testkit::member("a")]);
        let c = testkit::sim_config(pool, testkit::backend(1, 1.0), 1.0, SimTime::from_secs(1));
        let mut t = TraceWriter::new(Vec::new(), &c);
        let obs = |member, outcome, status, attempts| RequestObs {
            arrival: SimTime::from_millis(1500),
            request: 7,
            connection: 3,
            client: 2,
            lb_node: 0,
            member,
            outcome,
            status,
            attempts,
            method: Method::Post,
            latency: SimTime::from_millis(2),
            cross_az: false,
            uri: None,
        };
        t.request(&obs(Some(0), Outcome::ResponseTimeout, 504, 2));
        t.request(&obs(None, Outcome::Dropped, 0, 0));
        let text = String::from_utf8(t.finish().expect("no error")).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "t_s,request,connection,client,az,member,outcome,latency_ms,status,attempts,method"
        );
        assert_eq!(
            lines[1],
            "1.500000,7,3,2,,a,response_timeout,2.000,504,2,POST"
        );
        assert_eq!(lines[2], "1.500000,7,3,2,,,dropped,2.000,,0,POST");
        let columns = lines[0].split(',').count();
        assert!(lines.iter().all(|l| l.split(',').count() == columns));
    }
}
