//! `--set PATH=VALUE`: changing a scenario's JSON before it is validated, so a variant gets the
//! same validation (and the same error messages) as a file written by hand.
//!
//! PATH is a JSON path in the file's own spelling (`pool.lb_algorithm`,
//! `backends.default.capacity`, `pool.members[2].weight`). VALUE is JSON (`60`, `true`,
//! `{"enable":true,"duration":60}`), or else taken as a string (`ROUND_ROBIN`).

use serde_json::Value;

/// One `--set`: a path and the value to put there.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub path: String,
    pub value: Value,
}

/// Parses `PATH=V1,V2,…` into the path and its values. Commas inside JSON objects, arrays and
/// strings do not split.
pub fn parse_assignment(arg: &str) -> Result<(String, Vec<Value>), String> {
    let (path, values) = arg
        .split_once('=')
        .ok_or_else(|| format!("{arg:?} is not PATH=VALUE[,VALUE…]"))?;
    let path = path.trim();
    segments(path)?;
    let parts = split_top_level(values);
    if parts == [""] {
        return Err(format!("{arg:?} gives no value"));
    }
    if let Some(i) = parts.iter().position(|p| p.is_empty()) {
        return Err(format!(
            "{arg:?}: value {} is empty (write \"\" for an empty string)",
            i + 1
        ));
    }
    let values = parts
        .into_iter()
        .map(parse_value)
        .collect::<Result<_, _>>()?;
    Ok((path.to_string(), values))
}

/// A value as JSON (keys repeated within an object refused, as in files), else a plain
/// string; a number beyond f64's range is an error rather than a string.
fn parse_value(text: &str) -> Result<Value, String> {
    match super::strict::from_str(text) {
        Ok(v) => Ok(v),
        Err(e) if e.to_string().contains("duplicate key") => Err(format!("{text}: {e}")),
        // nested beyond serde_json's limit: JSON, not a string
        Err(e) if e.to_string().contains("recursion limit") => Err(format!(
            "{}…: is nested more than 128 deep",
            text.chars().take(16).collect::<String>()
        )),
        Err(_) if text.trim().parse::<f64>().is_ok_and(|x| x.is_infinite()) => Err(format!(
            "{} is a number beyond the range of a double (about 1.8e308)",
            text.trim()
        )),
        Err(_) => Ok(Value::String(text.to_string())),
    }
}

fn split_top_level(text: &str) -> Vec<&str> {
    let (mut depth, mut in_string, mut escaped, mut start) = (0i32, false, false, 0);
    let mut parts = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' | '[' if !in_string => depth += 1,
            '}' | ']' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().map(str::trim).collect()
}

enum Step {
    Key(String),
    Index(usize),
}

/// The most keys and indices a path may have: deeper values could not be validated (or even
/// dropped) without deep recursion, and no scenario field is nested anywhere near this deep.
pub const MAX_PATH_STEPS: usize = 32;

fn segments(path: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if key.is_empty() {
            return Err(if steps.is_empty() {
                format!("path {path:?} must start with a key")
            } else {
                format!("path {path:?} has an empty key (two dots, or a dot before [)")
            });
        }
        steps.push(Step::Key(key.to_string()));
        while let Some(inner) = rest.strip_prefix('[') {
            let (index, after) = inner
                .split_once(']')
                .ok_or_else(|| format!("path {path:?} has an unclosed ["))?;
            let index = index
                .parse()
                .map_err(|_| format!("path {path:?} has index {index:?}, not a number"))?;
            steps.push(Step::Index(index));
            rest = after;
        }
        if !rest.is_empty() {
            return Err(format!("path {path:?} has {rest:?} after an index"));
        }
        if steps.len() > MAX_PATH_STEPS {
            return Err(format!(
                "path has more than {MAX_PATH_STEPS} keys and indices"
            ));
        }
    }
    Ok(steps)
}

/// Puts `value` at `path` inside `root`, creating missing objects on the way.
pub fn apply(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let steps = segments(path)?;
    let mut at = root;
    for step in steps {
        at = match step {
            Step::Key(k) => {
                if at.is_null() {
                    *at = Value::Object(serde_json::Map::new());
                }
                match at {
                    Value::Object(map) => map.entry(k).or_insert(Value::Null),
                    _ => return Err(format!("cannot set {path}: {k:?} is inside a non-object")),
                }
            }
            Step::Index(i) => match at {
                Value::Array(items) => {
                    let len = items.len();
                    items.get_mut(i).ok_or_else(|| {
                        format!("cannot set {path}: index {i} is past the end ({len} items)")
                    })?
                }
                _ => return Err(format!("cannot set {path}: [{i}] indexes a non-array")),
            },
        };
    }
    *at = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `--set duration_s=1e400` was taken for the string "1e400" ("wrong type: string"), and
    /// JSON values took the last of repeated keys where files refuse them.
    #[test]
    fn values_beyond_a_double_and_repeated_keys_are_errors() {
        let err = parse_assignment("duration_s=1e400").unwrap_err();
        assert!(err.contains("beyond the range of a double"), "{err}");
        let err = parse_assignment(r#"loadbalancer={"a":1,"a":2}"#).unwrap_err();
        assert!(err.contains("duplicate key \"a\""), "{err}");
        assert_eq!(parse_assignment("name=web").unwrap().1, [json!("web")]);
    }

    #[test]
    fn values_are_json_or_strings_and_split_at_top_level_commas() {
        let (path, values) =
            parse_assignment(r#"pool.slow_start={"enable":true,"duration":60},null"#).unwrap();
        assert_eq!(path, "pool.slow_start");
        assert_eq!(
            values,
            vec![json!({"enable": true, "duration": 60}), Value::Null]
        );
        let (_, values) =
            parse_assignment("pool.lb_algorithm=ROUND_ROBIN, LEAST_CONNECTIONS").unwrap();
        assert_eq!(
            values,
            vec![json!("ROUND_ROBIN"), json!("LEAST_CONNECTIONS")]
        );
        assert!(parse_assignment("no-equals").is_err());
        assert!(parse_assignment("pool.members[x]=1").is_err());
        assert!(parse_assignment("pool.x= ")
            .unwrap_err()
            .contains("gives no value"));
        let empty = parse_assignment("pool.x=a,,b").unwrap_err();
        assert!(empty.contains("value 2 is empty"), "{empty}");
        assert!(parse_assignment("pool.x=a,").is_err());
        let (_, values) = parse_assignment(r#"pool.x="",b"#).unwrap();
        assert_eq!(values, vec![json!(""), json!("b")]);
        let mut v = json!({});
        assert!(apply(&mut v, "pool..x", json!(1))
            .unwrap_err()
            .contains("empty key"));
        assert!(apply(&mut v, "pool.[0]", json!(1))
            .unwrap_err()
            .contains("empty key"));
    }

    #[test]
    fn apply_creates_objects_and_indexes_arrays() {
        let mut v = json!({"pool": {"members": [{"weight": 1}, {"weight": 2}]}});
        apply(&mut v, "pool.members[1].weight", json!(7)).unwrap();
        apply(&mut v, "backends.default.capacity", json!(4)).unwrap();
        assert_eq!(v["pool"]["members"][1]["weight"], 7);
        assert_eq!(v["backends"]["default"]["capacity"], 4);
        assert!(apply(&mut v, "pool.members[5].weight", json!(1))
            .unwrap_err()
            .contains("past the end"));
        assert!(apply(&mut v, "pool.members.weight", json!(1)).is_err());
    }

    /// JSON nested beyond serde_json's limit fell back to a string ("has the wrong type").
    #[test]
    fn deeply_nested_values_are_refused_as_json() {
        let deep = format!("a={}{}", "[".repeat(200), "]".repeat(200));
        let err = parse_assignment(&deep).unwrap_err();
        assert_eq!(err, "[[[[[[[[[[[[[[[[…: is nested more than 128 deep");
    }
}
