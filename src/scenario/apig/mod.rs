//! APIG / ROMA Connect VPC channels as the API takes them (seed 001 `POST …/vpc-channels`, seed
//! 003 `PUT …/vpc-channels/{id}`, seed 004 member bodies) and their validation rules
//! (`huawei-semantics.md` §11–§14).

mod api;
mod lower;
mod rules;

mod overwrite;

pub use api::{
    lower_api, Api, BackendApi, API_METHODS, API_NOT_MODELLED, BACKEND_API_NOT_MODELLED,
};
pub use lower::{enabled_members, lower_channel, member_keys};
pub use overwrite::{ChannelDiff, ChannelState};
pub(crate) use rules::warn_duplicate_members;

use super::diag::MAX_NAME_CHARS;
use super::schema::{any_case, chars, max_chars, one_of, vendor_body, within};
use schemars::JsonSchema;
use serde::Deserialize;
use std::ops::RangeInclusive;

pub const CHANNEL_NOT_MODELLED: &[&str] = &[
    "id",
    "dict_code",
    "instance_id",
    "instance_name",
    "create_time",
    "update_time",
    "project_id",
    "project_vpc_channels",
    "status",
];

pub const MEMBER_NOT_MODELLED: &[&str] = &[
    "id",
    "ecs_name",
    "vpc_channel_id",
    "member_group_id",
    "health_status",
    "create_time",
    "update_time",
    "status_code",
];

pub const GROUP_NOT_MODELLED: &[&str] = &[
    "member_group_id",
    "member_group_remark",
    "dict_code",
    "microservice_version",
    "microservice_port",
    "microservice_labels",
    "reference_vpc_channel_id",
    "create_time",
    "update_time",
];

pub const HEALTH_NOT_MODELLED: &[&str] = &[
    "id",
    "vpc_channel_id",
    "create_time",
    "update_time",
    "method",
    "port",
    "enable_client_ssl",
];

/// A VPC channel body (`POST`/`PUT …/vpc-channels`).
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(CHANNEL_NOT_MODELLED))]
pub struct VpcChannel {
    /// 3 to 64 letters, digits, `-`, `_` and `.`, starting with a letter.
    #[schemars(required, transform = chars(NAME_CHARS))]
    pub name: Option<String>,
    #[schemars(required, transform = within(CHANNEL_PORTS))]
    pub port: Option<i64>,
    /// 1 WRR, 2 WLC, 3 source hash, 4 URI hash.
    #[schemars(required, transform = within(BALANCE_STRATEGIES))]
    pub balance_strategy: Option<i64>,
    /// `ip` or `ecs`.
    #[schemars(required, transform = one_of(MEMBER_TYPES))]
    pub member_type: Option<String>,
    /// 2 server, 3 microservice (being discarded in favour of `vpc_channel_type`).
    #[serde(rename = "type")]
    #[schemars(transform = one_of(CHANNEL_TYPES))]
    pub channel_type: Option<i64>,
    /// `builtin`, `microservice` or `reference`.
    #[schemars(transform = one_of(VPC_CHANNEL_TYPES))]
    pub vpc_channel_type: Option<String>,
    pub members: Option<Vec<VpcMember>>,
    pub member_groups: Option<Vec<MemberGroup>>,
    pub vpc_health_config: Option<VpcHealthConfig>,
    /// Not simulated; only whether it is empty matters (it decides a `type` 3 channel's kind).
    pub microservice_info: Option<serde_json::Value>,
    /// Seed 001's project-level create body: the 1 to 10 gateway instances to associate.
    #[schemars(length(min = 1, max = 10))]
    pub instance_ids: Option<Vec<String>>,
}

/// What a channel balances over (seed 003 `type` / `vpc_channel_type`); its kind never changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    Server,
    Microservice,
    Reference,
}

impl VpcChannel {
    /// Seed 003: "If vpc_channel_type is empty, the load balance channel type is determined by
    /// the type field. If the value of type is not 3 or the value of microservice_info is empty,
    /// the load balance channel type is server by default."
    pub fn kind(&self) -> ChannelKind {
        match self.vpc_channel_type.as_deref() {
            Some("microservice") => ChannelKind::Microservice,
            Some("reference") => ChannelKind::Reference,
            Some(_) => ChannelKind::Server,
            None => {
                let info = self.microservice_info.as_ref();
                let empty = info.is_none_or(|v| {
                    v.is_null() || v.as_object().is_some_and(serde_json::Map::is_empty)
                });
                if self.channel_type == Some(3) && !empty {
                    ChannelKind::Microservice
                } else {
                    ChannelKind::Server
                }
            }
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(MEMBER_NOT_MODELLED))]
pub struct VpcMember {
    /// IP address (member_type `ip`).
    pub host: Option<String>,
    /// ECS id (member_type `ecs`).
    pub ecs_id: Option<String>,
    /// 0..=10000.
    #[schemars(transform = within(MEMBER_WEIGHTS))]
    pub weight: Option<i64>,
    /// Standby node: used only when every non-standby node is faulty.
    pub is_backup: Option<bool>,
    pub member_group_name: Option<String>,
    /// 1 enabled, 2 disabled.
    #[schemars(transform = one_of(STATUSES))]
    pub status: Option<i64>,
    /// 0..=65535; 0 = the channel port.
    #[schemars(transform = within(MEMBER_PORTS))]
    pub port: Option<i64>,
    /// Simulation-side: the AZ this backend runs in (not part of the vendor body).
    #[schemars(transform = max_chars(MAX_NAME_CHARS))]
    pub availability_zone: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(GROUP_NOT_MODELLED))]
pub struct MemberGroup {
    #[schemars(required, transform = chars(NAME_CHARS))]
    pub member_group_name: Option<String>,
    /// 0..=100; applied to the group's members' weights.
    #[schemars(transform = within(GROUP_WEIGHTS))]
    pub member_group_weight: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(HEALTH_NOT_MODELLED))]
pub struct VpcHealthConfig {
    /// TCP, HTTP or HTTPS in any case.
    #[schemars(required, transform = any_case(HEALTH_PROTOCOLS))]
    pub protocol: Option<String>,
    pub path: Option<String>,
    #[schemars(required, transform = within(THRESHOLDS))]
    pub threshold_normal: Option<i64>,
    #[schemars(required, transform = within(THRESHOLDS))]
    pub threshold_abnormal: Option<i64>,
    /// Seconds between checks.
    #[schemars(required, transform = within(INTERVAL_SECONDS))]
    pub time_interval: Option<i64>,
    /// Seconds a check waits (less than `time_interval`).
    #[schemars(required, transform = within(CHECK_TIMEOUT_SECONDS))]
    pub timeout: Option<i64>,
    pub http_code: Option<String>,
    /// 1 available, 2 unavailable.
    #[schemars(transform = one_of(STATUSES))]
    pub status: Option<i64>,
}

/// Channel and member group names, characters (seed 001).
pub const NAME_CHARS: RangeInclusive<usize> = 3..=64;
pub const CHANNEL_PORTS: RangeInclusive<i64> = 1..=65535;
/// A member's port: 0 means the channel's.
pub const MEMBER_PORTS: RangeInclusive<i64> = 0..=65535;
/// 1 WRR, 2 WLC, 3 source hash, 4 URI hash.
pub const BALANCE_STRATEGIES: RangeInclusive<i64> = 1..=4;
pub const MEMBER_TYPES: &[&str] = &["ip", "ecs"];
pub const CHANNEL_TYPES: &[i64] = &[0, 2, 3];
pub const VPC_CHANNEL_TYPES: &[&str] = &["builtin", "microservice", "reference"];
pub const MEMBER_WEIGHTS: RangeInclusive<i64> = 0..=10000;
pub const GROUP_WEIGHTS: RangeInclusive<i64> = 0..=100;
/// A member's and a health check's `status`: 1 enabled, 2 disabled.
pub const STATUSES: &[i64] = &[1, 2];
pub const HEALTH_PROTOCOLS: &[&str] = &["TCP", "HTTP", "HTTPS"];
/// `threshold_normal` and `threshold_abnormal`.
pub const THRESHOLDS: RangeInclusive<i64> = 1..=10;
pub const INTERVAL_SECONDS: RangeInclusive<i64> = 1..=300;
pub const CHECK_TIMEOUT_SECONDS: RangeInclusive<i64> = 1..=30;

impl VpcMember {
    /// The `member_group_weight` of the group this member names, if that group has one.
    pub fn group_weight(&self, groups: &[MemberGroup]) -> Option<i64> {
        let name = self.member_group_name.as_deref()?;
        groups
            .iter()
            .find(|g| g.member_group_name.as_deref() == Some(name))
            .and_then(|g| g.member_group_weight)
    }

    /// The member's address: `host` for IP channels, `ecs_id` for ECS channels.
    pub fn address(&self) -> Option<&str> {
        self.host.as_deref().or(self.ecs_id.as_deref())
    }
}
