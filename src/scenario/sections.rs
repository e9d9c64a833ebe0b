//! The simulation-side sections of a scenario: `loadbalancer`, `backends`, `workload` and
//! `events`. These are lbsim's own keys (the vendor API has no such objects).

use super::diag::{Code, Findings, MAX_NAME_CHARS};
use super::schema::{above, at_least, closed, one_of, within};
use schemars::{JsonSchema, Schema};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

const NONE: Code = Code::NONE;

/// Facts about the load balancer itself.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LoadBalancer {
    /// AZs the load balancer's nodes run in; client traffic enters through them (default: one
    /// AZ, the first member AZ or `az1`).
    #[schemars(transform = zone_list)]
    pub availability_zones: Option<Vec<String>>,
    /// Relative share of client traffic entering through each AZ (default: even).
    #[schemars(transform = traffic_weights)]
    pub traffic_weights: Option<BTreeMap<String, f64>>,
    /// Extra network latency of a request forwarded to a member in another AZ (default 0).
    #[schemars(transform = at_least(0.0))]
    pub cross_az_latency_ms: Option<f64>,
    /// Hash algorithms honour member weights, as Katran's weighted Maglev (`MaglevHashV2`) does
    /// (default false: the vendor ignores weights under hashing; weight 0 excludes either way).
    pub weighted_hashing: Option<bool>,
    /// Open connections of a member removed, set to weight 0 or found unhealthy without
    /// connection drain: `cut` at once (default) or served until `idle_timeout`.
    #[schemars(transform = one_of(UNDRAINED))]
    pub undrained_connections: Option<String>,
    /// Time a request spends in the load balancer and on the network each way within an AZ
    /// (default 0.2; 0..=10000).
    #[schemars(transform = within(FORWARDING_LATENCY_MS))]
    pub forwarding_latency_ms: Option<f64>,
    /// The longest time an API change (weight, members, pool update) takes to reach an LB node;
    /// each node applies it after a delay drawn from 0 to this (default 5 for ELB pools:
    /// elb_faq_0125 "within 5 s"; 0 for APIG channels, undocumented; 0..=60).
    #[schemars(transform = within(PROPAGATION_SECONDS))]
    pub propagation_s: Option<f64>,
}

/// `loadbalancer.propagation_s` bounds, seconds.
pub const PROPAGATION_SECONDS: std::ops::RangeInclusive<f64> = 0.0..=60.0;

/// `availability_zones`: distinct names, one to [`MAX_LB_ZONES`].
fn zone_list(s: &mut Schema) {
    s.insert("minItems".into(), 1.into());
    s.insert("maxItems".into(), MAX_LB_ZONES.into());
    s.insert("uniqueItems".into(), true.into());
    s.insert(
        "items".into(),
        json!({"type": "string", "maxLength": MAX_NAME_CHARS}),
    );
}

/// `traffic_weights`: each weight within [`TRAFFIC_WEIGHTS`].
fn traffic_weights(s: &mut Schema) {
    let (lo, hi) = (*TRAFFIC_WEIGHTS.start(), *TRAFFIC_WEIGHTS.end());
    let weight = json!({"type": "number", "minimum": lo, "maximum": hi});
    s.insert("additionalProperties".into(), weight);
}

/// How members behave: `default`, overridden per member key.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Backends {
    pub default: Option<Backend>,
    /// Keyed by member key (`name`, else address, with `:port` when ambiguous).
    pub members: Option<BTreeMap<String, Backend>>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Backend {
    /// Concurrent requests served (default 8).
    #[schemars(transform = at_least(1))]
    pub capacity: Option<u64>,
    /// Requests waiting beyond capacity before new ones are rejected (default 1000).
    pub queue_limit: Option<u64>,
    /// Service time distribution in milliseconds (default exponential, mean 4).
    pub service_time_ms: Option<ServiceTime>,
    /// Service times are divided by this (default 1).
    #[schemars(transform = above(0.0))]
    pub speed: Option<f64>,
    /// How the member is failing when the run starts (default: it is not).
    pub failure: Option<FailureMode>,
}

/// The ways a member fails (`backends.*.failure`, `member_fail` events).
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(
    rename_all = "snake_case",
    expecting = r#""refuse", "blackhole", "hang", "health_only" or {"error_rate": share}"#
)]
pub enum FailureMode {
    /// Connects and probes are refused at once (the process is gone).
    Refuse,
    /// Packets are dropped: connects and probes wait their timeouts (the host is gone).
    Blackhole,
    /// Connections are accepted and never answered.
    Hang,
    /// The health endpoint fails while traffic is served.
    HealthOnly,
    /// This share of requests, (0, 1], is answered with a quick 500.
    ErrorRate(#[schemars(transform = share)] f64),
}

/// A share in (0, 1].
fn share(s: &mut Schema) {
    s.insert("exclusiveMinimum".into(), 0.into());
    s.insert("maximum".into(), 1.into());
}

/// Service-time distributions (milliseconds).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ServiceTime {
    Constant {
        #[schemars(transform = at_least(0.0))]
        value: f64,
    },
    Exponential {
        #[schemars(transform = above(0.0))]
        mean: f64,
    },
    /// `p99` above the mean (and within the tail a lognormal can have).
    Lognormal {
        #[schemars(transform = above(0.0))]
        mean: f64,
        #[schemars(transform = above(0.0))]
        p99: f64,
    },
    Pareto {
        #[schemars(transform = above(0.0))]
        mean: f64,
        /// Above 1 (the mean is infinite otherwise).
        #[schemars(transform = above(1.0))]
        shape: f64,
    },
    /// `min` at most `max`.
    Uniform {
        #[schemars(transform = at_least(0.0))]
        min: f64,
        #[schemars(transform = at_least(0.0))]
        max: f64,
    },
}

/// The client population and what it sends.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Workload {
    pub clients: Option<Clients>,
    pub arrivals: Option<Arrivals>,
    /// Requests per connection: a number (default 1) or `{"geometric": mean}`.
    pub requests_per_connection: Option<RequestsPerConnection>,
    /// Pause between a response and the next request on the same connection (default 0).
    #[schemars(transform = at_least(0.0))]
    pub think_time_ms: Option<f64>,
    /// Client protocol (default: the pool's).
    #[schemars(transform = one_of(super::elb::PROTOCOLS))]
    pub protocol: Option<String>,
    /// Clients give up after this long (default 30000).
    #[schemars(transform = above(0.0))]
    pub timeout_ms: Option<f64>,
    /// URI set for HTTP requests (URI hash).
    pub uris: Option<Uris>,
    /// QUIC connection behaviour.
    pub quic: Option<QuicWorkload>,
    /// Request methods and their shares, summing to 1 (default: every request is a GET).
    #[schemars(transform = method_shares)]
    pub methods: Option<BTreeMap<String, f64>>,
}

/// `methods`: known method names, each share above 0.
fn method_shares(s: &mut Schema) {
    let names = crate::sim::Method::ALL.map(crate::sim::Method::as_str);
    s.insert("propertyNames".into(), json!({"enum": names}));
    let share = json!({"type": "number", "exclusiveMinimum": 0});
    s.insert("additionalProperties".into(), share);
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Clients {
    /// Distinct clients (default 1000).
    #[schemars(transform = within(CLIENTS))]
    pub count: Option<u64>,
    /// `"uniform"` (default) or `{"zipf": s}`.
    pub popularity: Option<Popularity>,
    /// Client addresses are drawn from this block (default `100.64.0.0/10`).
    pub cidr: Option<String>,
    /// Clients share this many source addresses (NAT); default: one address each.
    #[schemars(transform = at_least(1))]
    pub nat_addresses: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", expecting = r#""uniform" or {"zipf": s}"#)]
pub enum Popularity {
    Uniform,
    Zipf(#[schemars(transform = above(0.0))] f64),
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Arrivals {
    /// `poisson` (default) or `constant`.
    #[schemars(transform = one_of(PROCESSES))]
    pub process: Option<String>,
    /// New connections (TCP/UDP/QUIC) or requests (HTTP) per second (default 1000).
    #[schemars(transform = above(0.0))]
    pub rate_per_s: Option<f64>,
    /// Rate changes over time.
    pub schedule: Option<Vec<RateStep>>,
    /// Replay arrivals from a CSV file (`t_s,client[,uri][,connection]`), relative to the scenario.
    pub trace: Option<String>,
    /// `trace` as read when the scenario file is loaded.
    #[serde(skip)]
    #[schemars(skip)]
    pub replayed: Option<std::sync::Arc<crate::sim::Trace>>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RateStep {
    #[schemars(transform = at_least(0.0))]
    pub at_s: f64,
    #[schemars(transform = at_least(0.0))]
    pub rate_per_s: f64,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = r#"must be a whole number of requests or {"geometric": mean}"#
)]
pub enum RequestsPerConnection {
    Fixed(#[schemars(transform = at_least(1))] u64),
    #[schemars(transform = closed)]
    Geometric {
        #[schemars(transform = at_least(1.0))]
        geometric: f64,
    },
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Uris {
    /// Distinct paths (default 1000).
    #[schemars(transform = within(URIS))]
    pub count: Option<u64>,
    /// `"uniform"` (default) or `{"zipf": s}`.
    pub popularity: Option<Popularity>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct QuicWorkload {
    /// Destination connection ID length in bytes (default 8, RFC 9000 §7.2 minimum; 0..=20).
    #[schemars(transform = within(DCID_LEN))]
    pub dcid_len: Option<u64>,
    /// Probability that a connection changes client address mid-way (NAT rebinding).
    #[schemars(transform = within(0.0..=1.0))]
    pub migration_probability: Option<f64>,
}

/// One timeline entry: `at_s` plus exactly one action.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Event {
    #[schemars(required, transform = at_least(0.0))]
    pub at_s: Option<f64>,
    pub member_down: Option<String>,
    pub member_up: Option<String>,
    pub member_slow: Option<MemberFactor>,
    /// The member starts failing in this way.
    pub member_fail: Option<MemberFailure>,
    pub az_down: Option<String>,
    pub az_up: Option<String>,
    pub set_weight: Option<MemberWeight>,
    /// An add-members body (seed 004: `{"members": [...]}`), ELB or APIG members per dialect.
    #[schemars(default, schema_with = "super::events::add_members_schema")]
    pub add_members: Option<serde_json::Value>,
    pub remove_member: Option<String>,
    /// An ELB `PUT /v3/{project_id}/elb/pools/{pool_id}` body (seed 000), applied live.
    #[schemars(with = "Option<super::events::PoolBody>")]
    pub update_pool: Option<serde_json::Value>,
    /// A VPC channel `PUT` body (seed 003), with its overwrite semantics.
    #[schemars(with = "Option<super::apig::VpcChannel>")]
    pub update_vpc_channel: Option<serde_json::Value>,
    #[schemars(transform = above(0.0))]
    pub set_rate: Option<f64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MemberFactor {
    pub member: String,
    /// Service times are multiplied by this.
    #[schemars(transform = above(0.0))]
    pub factor: f64,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MemberFailure {
    pub member: String,
    pub failure: FailureMode,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MemberWeight {
    pub member: String,
    /// 0..=100 in a pool, 0..=10000 in a VPC channel.
    #[schemars(transform = within(super::apig::MEMBER_WEIGHTS))]
    pub weight: i64,
}

impl Event {
    /// The names of the actions this event carries (exactly one is valid).
    pub fn actions(&self) -> Vec<&'static str> {
        [
            ("member_down", self.member_down.is_some()),
            ("member_up", self.member_up.is_some()),
            ("member_slow", self.member_slow.is_some()),
            ("member_fail", self.member_fail.is_some()),
            ("az_down", self.az_down.is_some()),
            ("az_up", self.az_up.is_some()),
            ("set_weight", self.set_weight.is_some()),
            ("add_members", self.add_members.is_some()),
            ("remove_member", self.remove_member.is_some()),
            ("update_pool", self.update_pool.is_some()),
            ("update_vpc_channel", self.update_vpc_channel.is_some()),
            ("set_rate", self.set_rate.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }
}

/// `value` must be a finite number above zero.
pub fn positive(f: &mut Findings, path: &str, value: Option<f64>) {
    if let Some(v) = value {
        if !(v.is_finite() && v > 0.0) {
            f.error(path, v, "must be a finite number above 0", NONE);
        }
    }
}

/// `value` must be a finite number at or above zero.
pub fn non_negative(f: &mut Findings, path: &str, value: Option<f64>) {
    if let Some(v) = value {
        if !(v.is_finite() && v >= 0.0) {
            f.error(path, v, "must be a finite number, 0 or above", NONE);
        }
    }
}

/// `loadbalancer.undrained_connections`: the newer and the older reading of elb_faq_0125.
pub const UNDRAINED: &[&str] = &["cut", "idle_timeout"];
/// `loadbalancer.forwarding_latency_ms`.
pub const FORWARDING_LATENCY_MS: RangeInclusive<f64> = 0.0..=10_000.0;

/// `loadbalancer.traffic_weights` values: relative weights; the bound keeps their sum in
/// thousandths within 32 bits.
pub const TRAFFIC_WEIGHTS: RangeInclusive<f64> = 0.0..=1000.0;

/// `workload.arrivals.process`.
pub const PROCESSES: &[&str] = &["poisson", "constant"];
/// `workload.quic.dcid_len`, bytes (RFC 9000 §17.2).
pub const DCID_LEN: RangeInclusive<u64> = 0..=20;

/// Most LB nodes (`loadbalancer.availability_zones`): far more than any region has, and small
/// enough that the nodes' weights in thousandths (at most 1000 each) sum within 32 bits.
pub const MAX_LB_ZONES: usize = 1000;

impl LoadBalancer {
    pub fn validate(&self, f: &mut Findings) {
        if let Some(zones) = &self.availability_zones {
            if zones.len() > MAX_LB_ZONES {
                let rule = format!("lists more than {MAX_LB_ZONES} AZs");
                f.error(
                    "loadbalancer.availability_zones",
                    zones.len() as u64,
                    rule,
                    NONE,
                );
                return;
            }
            if zones.is_empty() {
                f.error(
                    "loadbalancer.availability_zones",
                    "[]",
                    "must name at least one AZ",
                    NONE,
                );
            }
            for (i, z) in zones.iter().enumerate() {
                f.name_length(&format!("loadbalancer.availability_zones[{i}]"), z, NONE);
                if zones[..i].contains(z) {
                    f.error(
                        &format!("loadbalancer.availability_zones[{i}]"),
                        z,
                        "is listed twice",
                        NONE,
                    );
                }
            }
        }
        for (zone, w) in self.traffic_weights.iter().flatten() {
            let path = format!("loadbalancer.traffic_weights.{zone}");
            non_negative(f, &path, Some(*w));
            let max = *TRAFFIC_WEIGHTS.end();
            if *w > max {
                let rule = format!("is above {max} (weights are relative)");
                f.error(&path, *w, rule, NONE);
            }
            let known = self.availability_zones.as_deref().unwrap_or_default();
            if !known.contains(zone) {
                f.error(
                    &path,
                    zone,
                    "is not one of loadbalancer.availability_zones",
                    NONE,
                );
            }
        }
        // the run keeps weights to 3 decimals (integer thousandths) and needs one node to send to
        if let Some(weights) = &self.traffic_weights {
            if weights.values().all(|w| (w * 1000.0).round() < 1.0) {
                f.error(
                    "loadbalancer.traffic_weights",
                    "",
                    "needs a weight of at least 0.0005 for some zone (weights count in thousandths)",
                    NONE,
                );
            }
        }
        non_negative(
            f,
            "loadbalancer.cross_az_latency_ms",
            self.cross_az_latency_ms,
        );
        if let Some(u) = &self.undrained_connections {
            f.one_of("loadbalancer.undrained_connections", u, UNDRAINED, NONE);
        }
        if let Some(p) = self.propagation_s {
            let path = "loadbalancer.propagation_s";
            if !(p.is_finite() && PROPAGATION_SECONDS.contains(&p)) {
                let max = PROPAGATION_SECONDS.end();
                f.error(path, p, format!("is outside 0..={max} seconds"), NONE);
            }
        }
        if let Some(l) = self.forwarding_latency_ms {
            let path = "loadbalancer.forwarding_latency_ms";
            if !(l.is_finite() && FORWARDING_LATENCY_MS.contains(&l)) {
                let max = FORWARDING_LATENCY_MS.end();
                let rule = format!("is outside 0..={max} ms");
                f.error(path, l, rule, NONE);
            }
        }
    }
}

impl Backends {
    pub fn validate(&self, member_keys: &[String], f: &mut Findings) {
        if let Some(b) = &self.default {
            b.validate("backends.default", f);
        }
        let keys: std::collections::BTreeSet<&str> =
            member_keys.iter().map(String::as_str).collect();
        let mut named = BTreeMap::new();
        for (key, b) in self.members.iter().flatten() {
            let path = format!("backends.members.{key}");
            let canonical = super::keys::canonical_reference(key);
            if let Some(first) = named.insert(canonical.clone(), key) {
                let rule = format!("names the member backends.members.{first} names");
                f.error(&path, key, rule, NONE);
            }
            if !keys.contains(canonical.as_ref()) {
                let mut rule = String::from("names no member of the pool");
                if let Some(s) =
                    super::suggest::closest(key, member_keys.iter().map(String::as_str))
                {
                    rule.push_str(&format!(" (did you mean {s}?)"));
                }
                f.error(&path, key, rule, NONE);
            }
            b.validate(&path, f);
        }
    }

    /// `members` keyed as member keys are written: addresses in their canonical text.
    pub fn canonical(mut self) -> Backends {
        self.members = self.members.map(|members| {
            let canonical = |k: String| super::keys::canonical_reference(&k).into_owned();
            members
                .into_iter()
                .map(|(k, b)| (canonical(k), b))
                .collect()
        });
        self
    }
}

impl Backend {
    fn validate(&self, p: &str, f: &mut Findings) {
        if self.capacity == Some(0) {
            f.error(&format!("{p}.capacity"), 0u64, "must be at least 1", NONE);
        }
        positive(f, &format!("{p}.speed"), self.speed);
        if let Some(mode) = &self.failure {
            mode.validate(&format!("{p}.failure"), f);
        }
        let sp = format!("{p}.service_time_ms");
        match &self.service_time_ms {
            Some(ServiceTime::Constant { value }) => {
                non_negative(f, &format!("{sp}.constant.value"), Some(*value))
            }
            Some(ServiceTime::Exponential { mean }) => {
                positive(f, &format!("{sp}.exponential.mean"), Some(*mean))
            }
            Some(ServiceTime::Lognormal { mean, p99 }) => {
                positive(f, &format!("{sp}.lognormal.mean"), Some(*mean));
                positive(f, &format!("{sp}.lognormal.p99"), Some(*p99));
                let max_ratio = crate::sim::sample::lognormal_max_p99_ratio();
                if p99 <= mean {
                    f.error(
                        &format!("{sp}.lognormal.p99"),
                        *p99,
                        "must exceed the mean",
                        NONE,
                    );
                } else if *p99 > mean * max_ratio {
                    let rule = format!(
                        "is more than {max_ratio:.2} times the mean: no lognormal has that tail"
                    );
                    f.error(&format!("{sp}.lognormal.p99"), *p99, rule, NONE);
                }
            }
            Some(ServiceTime::Pareto { mean, shape }) => {
                positive(f, &format!("{sp}.pareto.mean"), Some(*mean));
                if !(shape.is_finite() && *shape > 1.0) {
                    f.error(
                        &format!("{sp}.pareto.shape"),
                        *shape,
                        "must exceed 1 (the mean is infinite otherwise)",
                        NONE,
                    );
                }
            }
            Some(ServiceTime::Uniform { min, max }) => {
                non_negative(f, &format!("{sp}.uniform.min"), Some(*min));
                non_negative(f, &format!("{sp}.uniform.max"), Some(*max));
                if min > max {
                    f.error(
                        &format!("{sp}.uniform.min"),
                        *min,
                        format!("exceeds max {max}"),
                        NONE,
                    );
                }
            }
            None => {}
        }
    }
}

impl Workload {
    pub fn validate(&self, f: &mut Findings) {
        if let Some(c) = &self.clients {
            if let Some(n) = c.count {
                f.range("workload.clients.count", n, CLIENTS, "", NONE);
            }
            if c.nat_addresses == Some(0) {
                f.error(
                    "workload.clients.nat_addresses",
                    0u64,
                    "must be at least 1",
                    NONE,
                );
            }
            check_popularity(f, "workload.clients.popularity", &c.popularity);
            let cidr = c.cidr.as_deref().unwrap_or(DEFAULT_CIDR);
            match parse_cidr(cidr) {
                Err(why) => f.error("workload.clients.cidr", cidr, why, NONE),
                Ok((_, prefix)) => {
                    let needed = c.nat_addresses.or(c.count).unwrap_or(DEFAULT_CLIENTS);
                    let holds = usable_hosts(prefix);
                    if needed > holds {
                        let rule = format!(
                            "holds {holds} addresses, fewer than the {needed} clients need"
                        );
                        f.error("workload.clients.cidr", cidr, rule, NONE);
                    }
                }
            }
        }
        if let Some(a) = &self.arrivals {
            if let Some(p) = &a.process {
                f.one_of("workload.arrivals.process", p, PROCESSES, NONE);
            }
            positive(f, "workload.arrivals.rate_per_s", a.rate_per_s);
            if a.trace.is_some() {
                let generated = [
                    ("workload.arrivals.process", a.process.is_some()),
                    ("workload.arrivals.rate_per_s", a.rate_per_s.is_some()),
                    ("workload.arrivals.schedule", a.schedule.is_some()),
                    (
                        "workload.requests_per_connection",
                        self.requests_per_connection.is_some(),
                    ),
                ];
                for (path, given) in generated {
                    if given {
                        f.warn(
                            path,
                            "",
                            "is ignored: arrivals come from workload.arrivals.trace",
                        );
                    }
                }
            }
            for (i, step) in a.schedule.iter().flatten().enumerate() {
                non_negative(
                    f,
                    &format!("workload.arrivals.schedule[{i}].at_s"),
                    Some(step.at_s),
                );
                non_negative(
                    f,
                    &format!("workload.arrivals.schedule[{i}].rate_per_s"),
                    Some(step.rate_per_s),
                );
            }
        }
        match &self.requests_per_connection {
            Some(RequestsPerConnection::Fixed(0)) => f.error(
                "workload.requests_per_connection",
                0u64,
                "must be at least 1",
                NONE,
            ),
            Some(RequestsPerConnection::Geometric { geometric })
                if !(geometric.is_finite() && *geometric >= 1.0) =>
            {
                f.error(
                    "workload.requests_per_connection.geometric",
                    *geometric,
                    "must be a finite mean of at least 1",
                    NONE,
                )
            }
            _ => {}
        }
        non_negative(f, "workload.think_time_ms", self.think_time_ms);
        positive(f, "workload.timeout_ms", self.timeout_ms);
        if let Some(p) = &self.protocol {
            f.one_of("workload.protocol", p, super::elb::PROTOCOLS, NONE);
        }
        if let Some(u) = &self.uris {
            if let Some(n) = u.count {
                f.range("workload.uris.count", n, URIS, "", NONE);
            }
            check_popularity(f, "workload.uris.popularity", &u.popularity);
        }
        if let Some(m) = &self.methods {
            check_methods(f, m);
        }
        if let Some(q) = &self.quic {
            if let Some(len) = q.dcid_len {
                f.range(
                    "workload.quic.dcid_len",
                    len,
                    DCID_LEN,
                    "bytes (RFC 9000 §17.2)",
                    NONE,
                );
            }
            if let Some(p) = q.migration_probability {
                if !(0.0..=1.0).contains(&p) {
                    f.error(
                        "workload.quic.migration_probability",
                        p,
                        "is outside 0..=1",
                        NONE,
                    );
                }
            }
        }
    }
}

impl FailureMode {
    pub fn validate(&self, p: &str, f: &mut Findings) {
        if let FailureMode::ErrorRate(r) = self {
            if !(r.is_finite() && *r > 0.0 && *r <= 1.0) {
                f.error(&format!("{p}.error_rate"), *r, "is outside (0, 1]", NONE);
            }
        }
    }
}

/// `workload.methods`: known names, shares above 0 summing to 1.
fn check_methods(f: &mut Findings, methods: &BTreeMap<String, f64>) {
    let names = crate::sim::Method::ALL.map(crate::sim::Method::as_str);
    let mut shares_ok = true;
    for (name, share) in methods {
        let path = format!("workload.methods.{name}");
        f.one_of(&path, name, &names, NONE);
        shares_ok &= share.is_finite() && *share > 0.0;
        positive(f, &path, Some(*share));
    }
    let sum: f64 = methods.values().sum();
    if shares_ok && (sum - 1.0).abs() > 1e-9 {
        let rule = format!("shares sum to {}, not 1", crate::text::number(sum));
        f.error("workload.methods", "", rule, NONE);
    }
}

fn check_popularity(f: &mut Findings, path: &str, p: &Option<Popularity>) {
    if let Some(Popularity::Zipf(s)) = p {
        if !(s.is_finite() && *s > 0.0) {
            f.error(
                &format!("{path}.zipf"),
                *s,
                "must be a finite exponent above 0",
                NONE,
            );
        }
    }
}

/// The largest client population (each client keeps per-node state in the simulator).
pub const MAX_CLIENTS: u64 = 10_000_000;
/// The largest URI set (each member keeps a bit per URI).
pub const MAX_URIS: u64 = 1_000_000;
/// `workload.clients.count` and `workload.uris.count`.
pub const CLIENTS: RangeInclusive<u64> = 1..=MAX_CLIENTS;
pub const URIS: RangeInclusive<u64> = 1..=MAX_URIS;

/// Default client population and address block.
pub const DEFAULT_CLIENTS: u64 = 1000;
pub const DEFAULT_CIDR: &str = "100.64.0.0/10";

/// Addresses usable by clients in a block of this prefix length: the network and broadcast
/// addresses are skipped except in /31 and /32 blocks.
pub fn usable_hosts(prefix: u8) -> u64 {
    let size = 1u64 << (32 - u32::from(prefix.min(32)));
    if size > 2 {
        size - 2
    } else {
        size
    }
}

/// Parses `a.b.c.d/len` (IPv4) into the network address and prefix length.
pub fn parse_cidr(text: &str) -> Result<(std::net::Ipv4Addr, u8), String> {
    let (addr, len) = text
        .split_once('/')
        .ok_or_else(|| "is not an IPv4 CIDR block like 100.64.0.0/10".to_string())?;
    let addr: std::net::Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("has {addr:?}, not an IPv4 address"))?;
    let len: u8 = len
        .parse()
        .ok()
        .filter(|l| *l <= 32)
        .ok_or_else(|| format!("has prefix length {len:?}; 0..=32 allowed"))?;
    Ok((addr, len))
}
