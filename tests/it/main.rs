//! All integration tests compile into this one binary.

mod cli;
mod validate;
