//! The per-request trace: `t_s,request,connection,client,az,member,outcome,latency_ms`.

use std::io::{self, Write};

use crate::balancer::MemberIdx;
use crate::model::Member;
use crate::sim::{Observer, RequestObs, SimConfig};

/// An [`Observer`] writing one CSV row per finished request (warmup included: a trace is raw
/// data). `t_s` is the arrival time, `az` the AZ of the LB node that took the request, `member`
/// empty when none was eligible. The first write error stops the trace and is returned by
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
        let error = out
            .write_all(b"t_s,request,connection,client,az,member,outcome,latency_ms\n")
            .err();
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

impl<W: Write> Observer for TraceWriter<W> {
    fn request(&mut self, o: &RequestObs) {
        if self.error.is_some() {
            return;
        }
        let member = o.member.map_or("", |m| self.members[m as usize].as_str());
        let r = writeln!(
            self.out,
            "{:.6},{},{},{},{},{},{},{:.3}",
            o.arrival.as_secs_f64(),
            o.request,
            o.connection,
            o.client,
            self.node_zones[usize::from(o.lb_node)],
            member,
            o.outcome.as_str(),
            o.latency.as_millis_f64()
        );
        self.error = r.err();
    }

    fn member_added(&mut self, _idx: MemberIdx, member: &Member) {
        self.members.push(member.key.clone());
    }
}
