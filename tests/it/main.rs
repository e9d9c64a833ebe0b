//! All integration tests compile into this one binary.

mod balancer;
mod cli;
mod compare;
mod scenarios;
mod sim;
mod sweep;
mod validate;
