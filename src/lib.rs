//! lbsim: a load-balancing simulator and algorithm engine.
//!
//! A scenario file (a Huawei Cloud ELB pool or APIG VPC channel body plus workload, backend
//! behaviour and a timeline) is parsed and validated by [`scenario`], lowered to a
//! [`model::PoolConfig`], and replayed deterministically.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod balancer;
pub mod compare;
pub mod json;
pub mod metrics;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod sweep;
pub mod table;
#[doc(hidden)]
pub mod testkit;
pub mod text;
pub mod time;
