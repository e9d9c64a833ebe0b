//! Classifying the keys serde skipped: a vendor field lbsim does not model (a note), or a key
//! neither the vendor API nor lbsim knows (an error with a "did you mean …" suggestion).

use super::{apig, elb, sections, Scenario};
use serde::de::{self, Deserialize, Deserializer, Visitor};

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Renders segments as `pool.members[1].weight`.
pub fn render(segs: &[Seg]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Converts a `serde_ignored` path into segments.
pub fn segments(path: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path;
    let mut out = Vec::new();
    fn walk(p: &Path<'_>, out: &mut Vec<Seg>) {
        match p {
            Path::Root => {}
            Path::Seq { parent, index } => {
                walk(parent, out);
                out.push(Seg::Index(*index));
            }
            Path::Map { parent, key } => {
                walk(parent, out);
                out.push(Seg::Key(key.clone()));
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => walk(parent, out),
        }
    }
    walk(path, &mut out);
    out
}

/// The object kinds a scenario contains: what lbsim models and what the vendor also defines.
pub struct Kind {
    pub modelled: &'static [&'static str],
    pub vendor: &'static [&'static str],
}

/// The field names serde knows for `T`, read from its derived `Deserialize` impl.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("probe"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

fn kind<'de, T: Deserialize<'de>>(vendor: &'static [&'static str]) -> Option<Kind> {
    Some(Kind {
        modelled: fields_of::<T>(),
        vendor,
    })
}

/// What kind of object sits at `parent` (a canonical path: `pool…`, `vpc_channel…`, …).
pub fn kind_at(parent: &[Seg]) -> Option<Kind> {
    let keys: Vec<&str> = parent
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.as_str(),
            Seg::Index(_) => "[]",
        })
        .collect();
    match keys.as_slice() {
        [] => kind::<Scenario>(super::NOT_MODELLED),
        ["pool"] => kind::<elb::Pool>(elb::POOL_NOT_MODELLED),
        ["pool", "members", "[]"] => kind::<elb::Member>(elb::MEMBER_NOT_MODELLED),
        ["pool", "healthmonitor"] => kind::<elb::HealthMonitor>(elb::MONITOR_NOT_MODELLED),
        ["pool", "session_persistence"] => kind::<elb::SessionPersistence>(&[]),
        ["pool", "slow_start"] => kind::<elb::SlowStart>(&[]),
        ["pool", "connection_drain"] => kind::<elb::ConnectionDrain>(&[]),
        ["pool", "pool_health"] => kind::<elb::PoolHealth>(&[]),
        ["pool", "quic_cid_hash_strategy"] => kind::<elb::QuicCidHashStrategy>(&[]),
        ["pool", "az_affinity"] => kind::<elb::AzAffinity>(&[]),
        ["vpc_channel"] => kind::<apig::VpcChannel>(apig::CHANNEL_NOT_MODELLED),
        ["vpc_channel", "members", "[]"] => kind::<apig::VpcMember>(apig::MEMBER_NOT_MODELLED),
        ["vpc_channel", "member_groups", "[]"] => {
            kind::<apig::MemberGroup>(apig::GROUP_NOT_MODELLED)
        }
        ["vpc_channel", "vpc_health_config"] => {
            kind::<apig::VpcHealthConfig>(apig::HEALTH_NOT_MODELLED)
        }
        ["listener"] => kind::<elb::Listener>(elb::LISTENER_NOT_MODELLED),
        ["api"] => kind::<apig::Api>(apig::API_NOT_MODELLED),
        ["api", "backend_api"] => kind::<apig::BackendApi>(apig::BACKEND_API_NOT_MODELLED),
        ["loadbalancer"] => kind::<sections::LoadBalancer>(&[]),
        ["backends"] => kind::<sections::Backends>(&[]),
        ["backends", "default"] | ["backends", "members", _] => kind::<sections::Backend>(&[]),
        ["workload"] => kind::<sections::Workload>(&[]),
        ["workload", "clients"] => kind::<sections::Clients>(&[]),
        ["workload", "arrivals"] => kind::<sections::Arrivals>(&[]),
        ["workload", "arrivals", "schedule", "[]"] => kind::<sections::RateStep>(&[]),
        ["workload", "uris"] => kind::<sections::Uris>(&[]),
        ["workload", "quic"] => kind::<sections::QuicWorkload>(&[]),
        ["events", "[]"] => kind::<sections::Event>(&[]),
        ["events", "[]", "member_slow"] => kind::<sections::MemberFactor>(&[]),
        ["events", "[]", "member_fail"] => kind::<sections::MemberFailure>(&[]),
        ["events", "[]", "set_weight"] => kind::<sections::MemberWeight>(&[]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_come_from_the_derived_impl() {
        let fields = fields_of::<elb::SlowStart>();
        assert_eq!(fields, &["enable", "duration"]);
        assert!(fields_of::<elb::Pool>().contains(&"type"));
    }

    #[test]
    fn kinds_resolve_through_indices() {
        let path = [
            Seg::Key("pool".into()),
            Seg::Key("members".into()),
            Seg::Index(3),
        ];
        let k = kind_at(&path).expect("member kind");
        assert!(k.modelled.contains(&"address"));
        assert!(k.vendor.contains(&"subnet_cidr_id"));
        assert_eq!(render(&path), "pool.members[3]");
    }
}
