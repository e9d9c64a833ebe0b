//! Text for a terminal: names and keys from input files may hold control characters (an
//! escape sequence would recolour or rewrite the user's terminal); they are shown escaped.

use std::borrow::Cow;

/// `s` with every control character escaped (`\u{1b}`, `\n`), unchanged when it has none.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let escaped = s.chars().map(|c| match c.is_control() {
        true => c.escape_default().to_string(),
        false => c.to_string(),
    });
    Cow::Owned(escaped.collect())
}

/// At most the first `max` characters of `s`, then `…`: a message quotes a value, not a file's
/// worth of it.
pub fn excerpt(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((end, _)) => Cow::Owned(format!("{}…", &s[..end])),
        None => Cow::Borrowed(s),
    }
}

/// A number as messages show it: plain, but in exponent notation where a reader would have to
/// count digits (`1e300`, `1e-300`, not hundreds of zeros).
pub fn number(x: f64) -> String {
    if x.abs() >= 1e15 || (x != 0.0 && x.abs() < 1e-6) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// A count with thousands separated by commas: `9,812`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_numbers_short() {
        assert_eq!(printable("web-a"), "web-a");
        assert_eq!(printable("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(number(1e-300), "1e-300");
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(9812), "9,812");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
