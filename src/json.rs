//! JSON text of lbsim's own output types (reports, sweep records, API bodies).

use serde::Serialize;

// Serialising plain data — numbers, strings, vectors, options and maps keyed by strings — cannot
// fail: serde_json's only errors for such values are non-string map keys and custom `Serialize`
// impls that fail, and lbsim's output types have neither. One place states it instead of an
// `expect` at every writer.

/// Pretty JSON with a trailing newline.
#[allow(clippy::expect_used)]
pub fn pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("plain data serialises");
    s.push('\n');
    s
}

/// One JSON line with its newline (JSON Lines).
#[allow(clippy::expect_used)]
pub fn line<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string(value).expect("plain data serialises");
    s.push('\n');
    s
}

/// The JSON value of plain data.
#[allow(clippy::expect_used)]
pub fn value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("plain data serialises")
}
