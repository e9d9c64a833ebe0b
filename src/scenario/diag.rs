//! Validation findings: every problem names the JSON path, the value, the rule and, where the
//! vendor API has one, the error code it would answer.

use crate::text::printable;
use serde::Serialize;
use std::fmt;
use std::ops::RangeInclusive;

/// How bad a finding is: errors make a scenario invalid, warnings and notes do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// A vendor field lbsim accepts but does not simulate (shown by `validate --verbose`).
    Note,
}

/// One problem (or remark) about one value of a scenario file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The scenario file as the user named it.
    pub file: String,
    /// JSON path in the user's own spelling, e.g. `pool.members[1].weight`.
    pub path: String,
    /// The offending value as compact JSON; empty when the value is missing.
    pub value: String,
    /// The rule, phrased to follow the value: `is outside 30..=1200 seconds`.
    pub rule: String,
    /// The vendor error code the real API would answer (`APIG.2004`, `ELB.8902`), if any.
    pub code: Option<&'static str>,
    pub severity: Severity,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // file, path, value and rule all come from the input: none reaches a terminal raw
        write!(f, "{}: ", printable(&self.file))?;
        match self.severity {
            Severity::Error => {}
            Severity::Warning => write!(f, "warning: ")?,
            Severity::Note => write!(f, "note: ")?,
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", printable(&self.path))?;
        }
        if !self.value.is_empty() {
            write!(f, "{} ", printable(&self.value))?;
        }
        write!(f, "{}", printable(&self.rule))?;
        if let Some(code) = self.code {
            write!(f, " [{code}]")?;
        }
        Ok(())
    }
}

/// Collects findings for one file while validation walks it.
///
/// Paths are given relative to the scenario root in the canonical (wrapped) form; `prefix_map`
/// rewrites them to the user's spelling when the file was a bare API body.
#[derive(Debug, Default)]
pub struct Findings {
    pub items: Vec<Finding>,
    file: String,
    /// Canonical path prefixes and the file's own spelling of them: a bare APIG body is
    /// validated as `vpc_channel.…` and a wrapped listener body as `listener.…`, but both are
    /// reported as the user wrote them.
    renames: Vec<(String, String)>,
}

impl Findings {
    pub fn new(file: &str) -> Findings {
        Findings {
            items: Vec::new(),
            file: file.to_string(),
            renames: Vec::new(),
        }
    }

    /// Paths at or below canonical `from` are reported at `to` (empty: at the top level).
    pub fn rename(&mut self, from: &str, to: &str) {
        self.renames.push((from.to_string(), to.to_string()));
    }

    /// `path` in the file's own spelling.
    fn spelt(&self, path: &str) -> String {
        for (from, to) in &self.renames {
            let Some(rest) = path.strip_prefix(from.as_str()) else {
                continue;
            };
            if rest.is_empty() {
                return to.clone();
            }
            if rest.starts_with('.') || rest.starts_with('[') {
                let rest = if to.is_empty() {
                    rest.strip_prefix('.').unwrap_or(rest)
                } else {
                    rest
                };
                return format!("{to}{rest}");
            }
        }
        path.to_string()
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn push(
        &mut self,
        severity: Severity,
        path: &str,
        value: String,
        rule: String,
        code: Option<&'static str>,
    ) {
        let path = self.spelt(path);
        self.items.push(Finding {
            file: self.file.clone(),
            path,
            value,
            rule,
            code,
            severity,
        });
    }

    pub fn error(&mut self, path: &str, value: impl Show, rule: impl Into<String>, code: Code) {
        self.push(Severity::Error, path, value.show(), rule.into(), code.0);
    }

    pub fn warn(&mut self, path: &str, value: impl Show, rule: impl Into<String>) {
        self.push(Severity::Warning, path, value.show(), rule.into(), None);
    }

    pub fn note(&mut self, path: &str, rule: impl Into<String>) {
        self.push(Severity::Note, path, String::new(), rule.into(), None);
    }

    /// `value` must lie in `bounds` (a constant the JSON Schema states too); `unit` completes
    /// the rule (`seconds`, or empty).
    pub fn range<T>(
        &mut self,
        path: &str,
        value: T,
        bounds: RangeInclusive<T>,
        unit: &str,
        code: Code,
    ) -> bool
    where
        T: PartialOrd + fmt::Display + Copy,
    {
        let (lo, hi) = (*bounds.start(), *bounds.end());
        if value < lo || value > hi {
            let unit = if unit.is_empty() {
                String::new()
            } else {
                format!(" {unit}")
            };
            let rule = format!("is outside {lo}..={hi}{unit}");
            self.push(Severity::Error, path, value.to_string(), rule, code.0);
            false
        } else {
            true
        }
    }

    /// An optional field that must lie in `lo..=hi` when present.
    pub fn opt_range<T>(
        &mut self,
        path: &str,
        value: Option<T>,
        bounds: RangeInclusive<T>,
        unit: &str,
        code: Code,
    ) where
        T: PartialOrd + fmt::Display + Copy,
    {
        if let Some(v) = value {
            self.range(path, v, bounds, unit, code);
        }
    }

    /// `value` must be one of `allowed`; suggests the closest spelling when there is one.
    pub fn one_of(&mut self, path: &str, value: &str, allowed: &[&str], code: Code) -> bool {
        if allowed.contains(&value) {
            return true;
        }
        let mut rule = format!("is not one of {}", allowed.join(", "));
        if let Some(s) = crate::scenario::suggest::closest(value, allowed.iter().copied()) {
            rule.push_str(&format!(" (did you mean {s}?)"));
        }
        self.error(path, value, rule, code);
        false
    }

    /// An integer enumeration (APIG `status`, `type`).
    pub fn one_of_int(&mut self, path: &str, value: i64, allowed: &[i64], code: Code) {
        if !allowed.contains(&value) {
            let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
            self.error(
                path,
                value,
                format!("is not one of {}", list.join(", ")),
                code,
            );
        }
    }

    /// A required field is absent.
    pub fn missing(&mut self, path: &str, why: &str, code: Code) {
        self.error(path, "", format!("is required{why}"), code);
    }

    /// A name at most [`MAX_NAME_CHARS`] characters long (ELB's limit for names).
    pub fn name_length(&mut self, path: &str, name: &str, code: Code) {
        let n = name.chars().count();
        if n > MAX_NAME_CHARS {
            let rule = format!("is {n} characters long; at most {MAX_NAME_CHARS} are allowed");
            self.error(path, name.chars().take(32).collect::<String>(), rule, code);
        }
    }
}

/// The longest name: ELB v3 names (pools, members, monitors) are 0–255 characters; lbsim's own
/// names (AZs, the scenario) keep the same limit.
pub const MAX_NAME_CHARS: usize = 255;

/// The vendor error code a rule maps to: the code the seeds' examples or the vendor's error-code
/// table give for that rule, and `Code::NONE` where the vendor documents none (every ELB rule
/// but one, and lbsim's own rules): no code is better than a guessed one.
#[derive(Clone, Copy, Debug)]
pub struct Code(pub Option<&'static str>);

impl Code {
    pub const NONE: Code = Code(None);
    /// ELB v3 drain without a timeout: the one message ELB.8902 is observed with ("Connection
    /// drain timeout must be explict defined.", huawei-semantics §4 and §14). The vendor's
    /// table documents no ELB.89xx code, so ELB.8902 is not used for any other rule.
    pub const ELB_DRAIN_TIMEOUT: Code = Code(Some("ELB.8902"));
    /// APIG: a required parameter is missing (APIG error table; seed 003's example for a
    /// missing `members`).
    pub const APIG_MISSING: Code = Code(Some("APIG.2001"));
    /// APIG: a VPC channel without `name` (seed 001's own example answers APIG.2011, "The
    /// request parameters must be specified,parameterName:name").
    pub const APIG_MISSING_NAME: Code = Code(Some("APIG.2011"));
    /// APIG: the parameter value is outside the allowable range.
    pub const APIG_RANGE: Code = Code(Some("APIG.2004"));
    /// APIG: invalid parameter value (does not match the rule).
    pub const APIG_INVALID: Code = Code(Some("APIG.2011"));
}

/// How a value is shown in a finding: strings quoted as JSON, numbers bare.
pub trait Show {
    fn show(&self) -> String;
}

impl Show for &str {
    fn show(&self) -> String {
        if self.is_empty() {
            String::new()
        } else {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

impl Show for String {
    fn show(&self) -> String {
        self.as_str().show()
    }
}

impl Show for &String {
    fn show(&self) -> String {
        self.as_str().show()
    }
}

macro_rules! show_display {
    ($($t:ty),*) => {$(
        impl Show for $t {
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
show_display!(i64, u64, u32, bool);

impl Show for f64 {
    /// Plain notation, but exponent notation for magnitudes a reader would have to count
    /// digits in (`1e300`, not three hundred zeros).
    fn show(&self) -> String {
        crate::text::number(*self)
    }
}
