//! The constraint language of sweep specs, kept tiny on purpose: arithmetic (`+ - * /`,
//! parentheses) over report metrics and numbers, one comparison (`<= < >= >`). Enough for
//! ratios such as `summary.failed / summary.requests <= 0.001` without a dependency.

use std::collections::BTreeMap;

use crate::text::excerpt;

/// `LHS OP RHS`, evaluated on a point's mean metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// The text as written in the spec; reports quote it.
    pub text: String,
    lhs: Expr,
    op: Cmp,
    rhs: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Le,
    Lt,
    Ge,
    Gt,
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Number(f64),
    Metric(String),
    Binary(Box<Expr>, char, Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Metric(String),
    Op(char),
    Cmp(Cmp),
    Open,
    Close,
}

impl std::fmt::Display for Token {
    /// As the constraint's text spells it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Number(n) => write!(f, "`{}`", crate::text::number(*n)),
            Token::Metric(m) => write!(f, "`{}`", excerpt(m, 40)),
            Token::Op(c) => write!(f, "`{c}`"),
            Token::Cmp(c) => write!(
                f,
                "`{}`",
                match c {
                    Cmp::Le => "<=",
                    Cmp::Lt => "<",
                    Cmp::Ge => ">=",
                    Cmp::Gt => ">",
                }
            ),
            Token::Open => write!(f, "`(`"),
            Token::Close => write!(f, "`)`"),
        }
    }
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        match c {
            ' ' | '\t' => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            '+' | '-' | '*' | '/' => out.push(Token::Op(c)),
            '<' | '>' => {
                let eq = chars.get(i) == Some(&'=');
                i += usize::from(eq);
                out.push(Token::Cmp(match (c, eq) {
                    ('<', true) => Cmp::Le,
                    ('<', false) => Cmp::Lt,
                    ('>', true) => Cmp::Ge,
                    _ => Cmp::Gt,
                }));
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || chars[i] == '.'
                        || matches!(chars[i], 'e' | 'E')
                        || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let n = word
                    .parse()
                    .map_err(|_| format!("{:?} is not a number", excerpt(&word, 40)))?;
                out.push(Token::Number(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.'))
                {
                    i += 1;
                }
                out.push(Token::Metric(chars[start..i].iter().collect()));
            }
            c => return Err(format!("unexpected {c:?}")),
        }
    }
    Ok(out)
}

/// The most tokens a constraint may have, and how deep parentheses and unary minus signs may
/// nest: parsing and evaluation recurse, so both bound the stack they use.
pub const MAX_TOKENS: usize = 1000;
pub const MAX_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// sum := product (('+' | '-') product)*
    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(Token::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.product()?));
        }
        Ok(left)
    }

    /// product := atom (('*' | '/') atom)*
    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.atom()?;
        while let Some(Token::Op(op @ ('*' | '/'))) = self.peek().cloned() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        if !matches!(self.peek(), Some(Token::Open | Token::Op('-'))) {
            return self.atom_within();
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "nests parentheses or minus signs more than {MAX_DEPTH} deep"
            ));
        }
        let e = self.atom_within();
        self.depth -= 1;
        e
    }

    fn atom_within(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Number(n)) => Ok(Expr::Number(n)),
            Some(Token::Metric(m)) => Ok(Expr::Metric(m)),
            Some(Token::Op('-')) => Ok(Expr::Binary(
                Box::new(Expr::Number(0.0)),
                '-',
                Box::new(self.atom()?),
            )),
            Some(Token::Open) => {
                let e = self.sum()?;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err("a `(` is not closed".into()),
                }
            }
            Some(t) => Err(format!("expected a number or a metric, found {t}")),
            None => Err("ends where a number or a metric is expected".into()),
        }
    }
}

impl Expr {
    fn eval(&self, metrics: &BTreeMap<String, f64>) -> Result<f64, String> {
        Ok(match self {
            Expr::Number(n) => *n,
            Expr::Metric(m) => *metrics
                .get(m)
                .ok_or_else(|| format!("{} is not a report metric", excerpt(m, 40)))?,
            Expr::Binary(a, op, b) => {
                let (a, b) = (a.eval(metrics)?, b.eval(metrics)?);
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    // no requests and no failures is a ratio of 0, not a violation
                    _ if b == 0.0 && a == 0.0 => 0.0,
                    _ => a / b,
                }
            }
        })
    }

    fn metrics<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Number(_) => {}
            Expr::Metric(m) => out.push(m),
            Expr::Binary(a, _, b) => {
                a.metrics(out);
                b.metrics(out);
            }
        }
    }
}

impl Constraint {
    /// Parses `EXPR CMP EXPR`; the message says what is wrong.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let tokens = tokens(text)?;
        if tokens.len() > MAX_TOKENS {
            return Err(format!(
                "has {} numbers, metrics and operators; at most {MAX_TOKENS}",
                tokens.len()
            ));
        }
        let split = tokens
            .iter()
            .position(|t| matches!(t, Token::Cmp(_)))
            .ok_or("has no comparison (<=, <, >=, >)")?;
        let Token::Cmp(op) = tokens[split] else {
            unreachable!("position found a comparison")
        };
        let side = |part: &[Token]| -> Result<Expr, String> {
            let mut p = Parser {
                tokens: part.to_vec(),
                at: 0,
                depth: 0,
            };
            let e = p.sum()?;
            match p.peek() {
                None => Ok(e),
                Some(t) => Err(format!("unexpected {t}")),
            }
        };
        Ok(Constraint {
            text: text.to_string(),
            lhs: side(&tokens[..split])?,
            op,
            rhs: side(&tokens[split + 1..])?,
        })
    }

    /// Every metric the constraint reads, so a typo is caught before anything runs.
    pub fn metrics(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.lhs.metrics(&mut out);
        self.rhs.metrics(&mut out);
        out
    }

    /// Whether `metrics` satisfy the constraint (NaN never does).
    pub fn holds(&self, metrics: &BTreeMap<String, f64>) -> Result<bool, String> {
        let (a, b) = (self.lhs.eval(metrics)?, self.rhs.eval(metrics)?);
        Ok(match self.op {
            Cmp::Le => a <= b,
            Cmp::Lt => a < b,
            Cmp::Ge => a >= b,
            Cmp::Gt => a > b,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(text: &str, pairs: &[(&str, f64)]) -> bool {
        let m = pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        Constraint::parse(text).unwrap().holds(&m).unwrap()
    }

    #[test]
    fn ratios_precedence_and_comparisons() {
        let m = [("summary.failed", 2.0), ("summary.requests", 1000.0)];
        assert!(!holds("summary.failed / summary.requests <= 0.001", &m));
        assert!(holds("summary.failed / summary.requests <= 2e-3", &m));
        assert!(holds("summary.failed / summary.requests < 0.0021", &m));
        assert!(holds("1 + 2 * 3 >= 7", &[]));
        assert!(!holds("(1 + 2) * 3 < 9", &[]));
        assert!(holds("-1 > -2", &[]));
        assert!(holds("summary.failed / 0 > 1e300", &m));
        assert!(holds("0 / 0 <= 0", &[]));
    }

    #[test]
    fn malformed_text_and_unknown_metrics_are_errors() {
        assert!(Constraint::parse("summary.failed").is_err());
        assert!(Constraint::parse("(1 + 2 <= 3").is_err());
        assert!(Constraint::parse("1 + <= 3").is_err());
        assert!(Constraint::parse("1 # 2 <= 3").is_err());
        // errors spell tokens as the text does, not as Rust's debug output
        let e = Constraint::parse("a <= )").unwrap_err();
        assert_eq!(e, "expected a number or a metric, found `)`");
        assert_eq!(Constraint::parse("a <= 1 3").unwrap_err(), "unexpected `3`");
        let c = Constraint::parse("a.b / c <= 1").unwrap();
        assert_eq!(c.metrics(), ["a.b", "c"]);
        assert!(c.holds(&BTreeMap::new()).is_err());
    }

    /// A message quotes the first 40 characters of a long word, not all of it.
    #[test]
    fn messages_quote_long_words_in_part() {
        let x = "x".repeat(10_000);
        let part = format!("`{}…`", &x[..40]);
        assert_eq!(
            Constraint::parse(&format!("1 <= 2 {x}")).unwrap_err(),
            format!("unexpected {part}")
        );
        let unknown = Constraint::parse(&format!("{x} <= 2")).unwrap();
        assert_eq!(
            unknown.holds(&BTreeMap::new()).unwrap_err(),
            format!("{}… is not a report metric", &x[..40])
        );
        let dots = "1.".repeat(5_000);
        assert_eq!(
            Constraint::parse(&format!("{dots} <= 2")).unwrap_err(),
            format!("{:?} is not a number", format!("{}…", &dots[..40]))
        );
    }

    /// 20,000 nested parentheses or a million minus signs overflowed the stack.
    #[test]
    fn nesting_and_length_are_bounded() {
        let nested = format!("{}1{} <= 2", "(".repeat(20_000), ")".repeat(20_000));
        assert!(Constraint::parse(&nested)
            .unwrap_err()
            .contains("at most 1000"));
        let minus = format!("{}1 <= 2", "-".repeat(500));
        assert!(Constraint::parse(&minus)
            .unwrap_err()
            .contains("more than 64 deep"));
        let deep = format!("{}a{} <= 2", "(a + ".repeat(65), ")".repeat(65));
        assert!(Constraint::parse(&deep)
            .unwrap_err()
            .contains("more than 64 deep"));
        let fine = format!("{}a{} <= 2", "(a + ".repeat(64), ")".repeat(64));
        assert!(Constraint::parse(&fine).is_ok());
        let long = format!("{} <= 1", vec!["a"; 400].join(" + "));
        assert!(Constraint::parse(&long).is_ok());
    }
}
