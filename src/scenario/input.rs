//! Reading input files within their limits: only regular files (a device would be read until
//! memory runs out, a FIFO would block), at most `limit` bytes, and `-` for standard input.

use std::io::Read;
use std::path::Path;

/// The largest scenario file: far beyond 100,000 members and events.
pub const MAX_SCENARIO_BYTES: u64 = 256 << 20;

/// The bytes of `path` (`-`: standard input), or the rule it breaks, in a finding's words.
/// `what` names the kind of file in messages ("scenario", "trace").
pub fn read(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let stdin = path == Path::new("-");
    if !stdin {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => return Err(format!("is a directory, not a {what} file")),
            Ok(m) if !m.is_file() => {
                return Err("is not a regular file (a device, FIFO or socket)".into())
            }
            Ok(m) if m.len() > limit => {
                return Err(format!(
                    "has {} bytes, more than the {what} limit of {limit}",
                    m.len()
                ))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(match what {
                    "scenario" => "no such file".into(),
                    _ => format!("no such {what} file"),
                })
            }
            Err(e) => return Err(format!("cannot be read: {e}")),
        }
    }
    let mut bytes = Vec::new();
    let read = if stdin {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
    };
    match read {
        Err(e) => Err(format!("cannot be read: {e}")),
        // a file that grew since, or standard input
        Ok(n) if n as u64 > limit => {
            Err(format!("has more bytes than the {what} limit of {limit}"))
        }
        Ok(_) => Ok(bytes),
    }
}

/// The text of `path`, read as [`read`] reads it, or the rule it breaks (not UTF-8).
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    String::from_utf8(read(path, limit, what)?).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        format!("is not UTF-8 text (invalid byte at offset {at})")
    })
}
