//! All integration tests compile into this one binary.

mod bad_inputs;
mod balancer;
mod cli;
mod compare;
mod degenerate;
mod fidelity;
mod front;
mod invariants;
mod listener;
mod propagation;
mod regressions;
mod scenarios;
mod schema;
mod sim;
mod support;
mod sweep;
mod text;
mod validate;
