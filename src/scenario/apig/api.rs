//! The APIG API in front of the VPC channel: the create-API body (`POST …/apis`, the vendor
//! SDK's `ApiCreate`) or just its `backend_api`, and its rules (listener-and-logs §4.1).

use crate::scenario::diag::{Code, Findings, Show};
use crate::scenario::schema::{one_of, vendor_body, within};
use crate::sim::{FrontConfig, RetryPolicy};
use crate::time::SimTime;
use schemars::JsonSchema;
use serde::Deserialize;

/// `api`: the API's definition as the vendor writes it; only `backend_api` and the request
/// methods are simulated.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(API_NOT_MODELLED))]
pub struct Api {
    /// The method clients call the API with: GET, POST, PUT, DELETE, HEAD, PATCH, OPTIONS, ANY.
    #[schemars(transform = one_of(API_METHODS))]
    pub req_method: Option<String>,
    pub backend_api: Option<BackendApi>,
}

/// `backend_api`: how the gateway calls the channel's members.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(BACKEND_API_NOT_MODELLED))]
pub struct BackendApi {
    /// Milliseconds the gateway waits for a member, 1..=60000 (up to 600000 when the gateway
    /// feature `backend_timeout.max_timeout` is raised); default 5000.
    #[schemars(transform = within(1..=MAX_TIMEOUT_MS))]
    pub timeout: Option<i64>,
    /// `"-1"` (the default: idempotent methods retried once) or `"0"`..`"10"` retries; a
    /// number is accepted too.
    pub retry_count: Option<RetryCount>,
    /// The method the gateway calls the members with (ANY: the client's).
    #[schemars(transform = one_of(API_METHODS))]
    pub req_method: Option<String>,
}

/// The vendor's `retry_count` is a string; a number is read the same way.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged, expecting = r#"must be a retry count, "-1" to "10""#)]
pub enum RetryCount {
    Text(String),
    Number(#[schemars(transform = within(RETRIES))] i64),
}

/// `retry_count`: -1 (idempotent methods once) or 0 to 10 retries.
const RETRIES: std::ops::RangeInclusive<i64> = -1..=10;

impl Show for &RetryCount {
    /// As written: a string quoted, a number bare.
    fn show(&self) -> String {
        match self {
            RetryCount::Text(t) => serde_json::to_string(t).unwrap_or_default(),
            RetryCount::Number(n) => n.to_string(),
        }
    }
}

impl RetryCount {
    /// The count, when it is a whole number.
    fn value(&self) -> Option<i64> {
        match self {
            RetryCount::Text(t) => t.trim().parse().ok(),
            RetryCount::Number(n) => Some(*n),
        }
    }
}

/// Vendor API fields lbsim accepts and does not simulate (`ApiCreate` and the API's `GET`
/// response).
pub const API_NOT_MODELLED: &[&str] = &[
    "id",
    "name",
    "type",
    "version",
    "req_protocol",
    "req_uri",
    "auth_type",
    "auth_opt",
    "cors",
    "trace_enabled",
    "sampling_strategy",
    "sampling_param",
    "match_mode",
    "backend_type",
    "remark",
    "group_id",
    "group_name",
    "group_version",
    "body_remark",
    "result_normal_sample",
    "result_failure_sample",
    "authorizer_id",
    "tags",
    "tag",
    "response_id",
    "roma_app_id",
    "roma_app_name",
    "domain_name",
    "content_type",
    "is_send_fg_body_base64",
    "mock_info",
    "func_info",
    "req_params",
    "backend_params",
    "policy_mocks",
    "policy_functions",
    "policy_https",
    "status",
    "arrange_necessary",
    "register_time",
    "update_time",
    "run_env_id",
    "run_env_name",
    "publish_id",
    "publish_time",
    "ld_api_id",
    "api_group_info",
];

/// Vendor `backend_api` fields lbsim accepts and does not simulate.
pub const BACKEND_API_NOT_MODELLED: &[&str] = &[
    "id",
    "authorizer_id",
    "url_domain",
    "req_protocol",
    "remark",
    "version",
    "req_uri",
    "enable_client_ssl",
    "enable_sm_channel",
    "member_group_url_infos",
    "vpc_channel_info",
    "vpc_channel_status",
    "status",
    "register_time",
    "update_time",
];

pub const API_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "ANY",
];

/// `backend_api.timeout` when the body has none (the API-design extension's default).
pub const DEFAULT_TIMEOUT_MS: i64 = 5_000;
/// The most `backend_api.timeout` takes unless the gateway's maximum is raised.
const DEFAULT_MAX_TIMEOUT_MS: i64 = 60_000;
/// The most the gateway feature `backend_timeout.max_timeout` can raise it to.
const MAX_TIMEOUT_MS: i64 = 600_000;

impl Api {
    /// The API's rules; `enabled` counts the channel's enabled members.
    pub fn validate(&self, p: &str, enabled: usize, f: &mut Findings) {
        if let Some(m) = &self.req_method {
            f.one_of(
                &format!("{p}.req_method"),
                m,
                API_METHODS,
                Code::APIG_INVALID,
            );
        }
        let Some(b) = &self.backend_api else { return };
        let bp = format!("{p}.backend_api");
        if let Some(m) = &b.req_method {
            f.one_of(
                &format!("{bp}.req_method"),
                m,
                API_METHODS,
                Code::APIG_INVALID,
            );
        }
        if let Some(t) = b.timeout {
            let path = format!("{bp}.timeout");
            if f.range(&path, t, 1..=MAX_TIMEOUT_MS, "ms", Code::APIG_RANGE)
                && t > DEFAULT_MAX_TIMEOUT_MS
            {
                let rule = format!("ms is above {DEFAULT_MAX_TIMEOUT_MS} ms, the default maximum: the gateway feature backend_timeout.max_timeout must be raised (up to {MAX_TIMEOUT_MS})");
                f.warn(&path, t, rule);
            }
        }
        let Some(count) = &b.retry_count else { return };
        let path = format!("{bp}.retry_count");
        match count.value() {
            None => f.error(
                &path,
                count,
                "is not a whole number from -1 to 10",
                Code::APIG_INVALID,
            ),
            Some(n) if !RETRIES.contains(&n) => {
                f.error(&path, count, "is outside -1..=10", Code::APIG_RANGE)
            }
            // listener-and-logs §4.1: with a load-balance channel, retries must be fewer than
            // the channel's enabled members (each retry goes to another member)
            Some(n) if n > 0 && n as usize >= enabled => {
                let rule = format!("is not below the channel's {enabled} enabled members: retries must be fewer than the enabled members");
                f.error(&path, count, rule, Code::NONE)
            }
            Some(_) => {}
        }
    }

    /// The single method the members see, if the API fixes one: the backend's own, else
    /// (ANY or absent) the client's.
    pub fn method(&self) -> Option<&str> {
        let backend = self
            .backend_api
            .as_ref()
            .and_then(|b| b.req_method.as_deref());
        [backend, self.req_method.as_deref()]
            .into_iter()
            .flatten()
            .find(|m| *m != "ANY")
    }
}

/// The API as the engine's front: [`FrontConfig::apig_default`] when the scenario has none.
/// The timeout bounds the connect and the response alike.
pub fn lower_api(api: Option<&Api>) -> FrontConfig {
    let backend = api.and_then(|a| a.backend_api.as_ref());
    let timeout = backend.and_then(|b| b.timeout);
    let retry = backend.and_then(|b| b.retry_count.as_ref()?.value());
    let wait = SimTime::from_millis(timeout.unwrap_or(DEFAULT_TIMEOUT_MS).max(1) as u64);
    FrontConfig {
        retry: RetryPolicy::Apig(retry.unwrap_or(-1).clamp(*RETRIES.start(), *RETRIES.end()) as i8),
        connect_timeout: wait,
        member_timeout: Some(wait),
        ..FrontConfig::apig_default()
    }
}
