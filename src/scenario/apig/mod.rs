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

use schemars::JsonSchema;
use serde::Deserialize;

pub const CHANNEL_NOT_MODELLED: &[&str] = &[
    "id",
    "dict_code",
    "microservice_info",
    "instance_ids",
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
pub struct VpcChannel {
    pub name: Option<String>,
    pub port: Option<i64>,
    /// 1 WRR, 2 WLC, 3 source hash, 4 URI hash.
    pub balance_strategy: Option<i64>,
    /// `ip` or `ecs`.
    pub member_type: Option<String>,
    /// 2 server, 3 microservice (being discarded in favour of `vpc_channel_type`).
    #[serde(rename = "type")]
    pub channel_type: Option<i64>,
    /// `builtin`, `microservice` or `reference`.
    pub vpc_channel_type: Option<String>,
    pub members: Option<Vec<VpcMember>>,
    pub member_groups: Option<Vec<MemberGroup>>,
    pub vpc_health_config: Option<VpcHealthConfig>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct VpcMember {
    /// IP address (member_type `ip`).
    pub host: Option<String>,
    /// ECS id (member_type `ecs`).
    pub ecs_id: Option<String>,
    /// 0..=10000.
    pub weight: Option<i64>,
    /// Standby node: used only when every non-standby node is faulty.
    pub is_backup: Option<bool>,
    pub member_group_name: Option<String>,
    /// 1 enabled, 2 disabled.
    pub status: Option<i64>,
    /// 0..=65535; 0 = the channel port.
    pub port: Option<i64>,
    /// Simulation-side: the AZ this backend runs in (not part of the vendor body).
    pub availability_zone: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct MemberGroup {
    pub member_group_name: Option<String>,
    /// 0..=100; applied to the group's members' weights.
    pub member_group_weight: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct VpcHealthConfig {
    /// TCP, HTTP or HTTPS in any case.
    pub protocol: Option<String>,
    pub path: Option<String>,
    pub threshold_normal: Option<i64>,
    pub threshold_abnormal: Option<i64>,
    pub time_interval: Option<i64>,
    pub timeout: Option<i64>,
    pub http_code: Option<String>,
    /// 1 available, 2 unavailable.
    pub status: Option<i64>,
}

impl VpcMember {
    /// The member's address: `host` for IP channels, `ecs_id` for ECS channels.
    pub fn address(&self) -> Option<&str> {
        self.host.as_deref().or(self.ecs_id.as_deref())
    }
}
