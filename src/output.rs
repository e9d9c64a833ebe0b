//! Output files are written whole or not at all: into a temporary file beside the destination,
//! renamed onto it when complete. The temporary files in flight are registered so that an
//! interrupted process (Ctrl-C, SIGTERM) can remove them with [`discard_pending`] before it exits.
//!
//! What is not a regular file is never replaced: a device or FIFO (`/dev/null`, `/dev/stdout`)
//! is written through, `-` is standard output, a symbolic link is followed to its file, and a
//! directory is refused.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files not yet renamed onto their destination. An output abandoned on an error
/// deletes its own file (`NamedTempFile`'s drop) and leaves a stale path here, which
/// `discard_pending` skips.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Held while outputs are renamed into place: an interrupted process waits for the renames to
/// end before it discards what is pending, so it leaves every output of a commit or none.
static COMMITTING: Mutex<()> = Mutex::new(());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // a panic while the list was held leaves it usable: it is only ever pushed and filtered
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where an output's bytes go until it is committed.
enum Sink {
    /// A registered temporary file beside the destination.
    Temp(tempfile::NamedTempFile),
    /// A device or FIFO, written through.
    Through(File),
    Stdout(io::Stdout),
}

/// An output being written.
pub struct Pending {
    sink: Sink,
    path: PathBuf,
}

impl Pending {
    /// Starts writing `path` (`-`: standard output). Errors name the path.
    pub fn new(path: &Path) -> io::Result<Pending> {
        let sink = if path == Path::new("-") {
            Sink::Stdout(io::stdout())
        } else {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => {
                    // the link's file is replaced, the link stays
                    let target = std::fs::canonicalize(path).map_err(|e| named(path, e))?;
                    return Pending::new(&target);
                }
                Ok(m) if m.is_dir() => {
                    let e = io::Error::new(io::ErrorKind::IsADirectory, "is a directory");
                    return Err(named(path, e));
                }
                Ok(m) if !m.is_file() => {
                    let file = std::fs::OpenOptions::new().write(true).open(path);
                    Sink::Through(file.map_err(|e| named(path, e))?)
                }
                _ => Sink::Temp(temporary_beside(path)?),
            }
        };
        Ok(Pending {
            sink,
            path: path.to_path_buf(),
        })
    }

    /// Whether two outputs would land on the same file (`-` and `-` are both standard output).
    pub fn same_target(a: &Path, b: &Path) -> bool {
        resolve(a) == resolve(b)
    }

    /// Renames the finished file onto its destination (or flushes what is written through).
    pub fn commit(self) -> io::Result<()> {
        let Pending { sink, path } = self;
        match sink {
            Sink::Temp(mut tmp) => {
                tmp.flush().map_err(|e| named(&path, e))?;
                let tmp_path = tmp.path().to_path_buf();
                let persisted = tmp.persist(&path).map(|_: File| ());
                pending().retain(|p| *p != tmp_path);
                persisted.map_err(|e| named(&path, e.error))
            }
            mut other => other.writer().flush().map_err(|e| named(&path, e)),
        }
    }
}

/// The file `path` names, whatever its spelling (`./x`, `d/../x`, links): the file resolved, or,
/// for one not there yet, its directory resolved and its name.
fn resolve(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        match (std::fs::canonicalize(dir), path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => path.to_path_buf(),
        }
    })
}

/// A registered temporary file beside `path`.
fn temporary_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    // a temporary file is private (0600) by default; outputs get the usual mode (0666 less
    // the umask), as a file created directly would
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    // tempfile's errors end in the temporary's own name, which means nothing to the user
    let tmp = builder.tempfile_in(dir).map_err(|e| {
        let text = e.to_string();
        let text = text.split(" at path ").next().unwrap_or_default();
        io::Error::new(e.kind(), format!("{}: {text}", path.display()))
    })?;
    pending().push(tmp.path().to_path_buf());
    Ok(tmp)
}

impl Sink {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Temp(t) => t,
            Sink::Through(f) => f,
            Sink::Stdout(o) => o,
        }
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.writer().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.writer().flush()
    }
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Writes `bytes` to `path` whole or not at all. The error names the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut out = Pending::new(path)?;
    out.write_all(bytes).map_err(|e| named(path, e))?;
    out.commit()
}

/// Commits every output or none: all are flushed before any is renamed, and when a rename fails
/// the ones already renamed are taken back: the file an output replaced is restored from a link
/// to it kept beside it until the end, a file that did not exist is removed. What is written
/// through (a device, standard output) cannot be taken back and is only flushed.
pub fn commit_all(mut outputs: Vec<Pending>) -> io::Result<()> {
    for o in &mut outputs {
        o.flush().map_err(|e| named(&o.path, e))?;
    }
    let _committing = COMMITTING.lock().unwrap_or_else(|e| e.into_inner());
    // each renamed destination, and its former file kept aside (None: there was none)
    let mut renamed: Vec<(PathBuf, Option<tempfile::TempPath>)> = Vec::new();
    for o in outputs {
        let path = o.path.clone();
        let temp = matches!(o.sink, Sink::Temp(_));
        let kept = match std::fs::symlink_metadata(&path) {
            Ok(m) if temp && m.is_file() => Some(keep_aside(&path)?),
            _ => None,
        };
        if let Err(e) = o.commit() {
            for (path, kept) in renamed.into_iter().rev() {
                let _ = match kept {
                    Some(kept) => std::fs::rename(&kept, &path),
                    None => std::fs::remove_file(&path),
                };
            }
            return Err(e);
        }
        if temp {
            renamed.push((path, kept));
        }
    }
    // the kept files go when their `TempPath`s drop
    Ok(())
}

/// A second name for the file at `path`, beside it (a hard link, or a copy where the file
/// system has none), removed when the returned path drops: before an interrupted process
/// discards what is pending, which therefore need not list it.
fn keep_aside(path: &Path) -> io::Result<tempfile::TempPath> {
    let kept = temporary_beside(path)?.into_temp_path();
    pending().retain(|p| *p != *kept);
    std::fs::remove_file(&kept).map_err(|e| named(path, e))?;
    if std::fs::hard_link(path, &kept).is_err() {
        std::fs::copy(path, &kept).map_err(|e| named(path, e))?;
    }
    Ok(kept)
}

/// Removes every temporary output file still in flight; for an interrupted process. Outputs
/// being renamed into place are let finish first.
pub fn discard_pending() {
    let _committing = COMMITTING.lock().unwrap_or_else(|e| e.into_inner());
    for p in pending().drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the second output cannot be renamed into place (its destination became a
    /// directory), the first is taken back: a replaced file is restored, a new one removed.
    #[test]
    fn outputs_are_committed_all_or_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("old.txt");
        std::fs::write(&old, b"before").expect("old file");
        let new = dir.path().join("new.txt");
        let blocked = dir.path().join("blocked");
        let mut outputs = Vec::new();
        for path in [&old, &new, &blocked] {
            let mut out = Pending::new(path).expect("pending");
            out.write_all(b"after").expect("write");
            outputs.push(out);
        }
        std::fs::create_dir(&blocked).expect("dir");
        std::fs::write(blocked.join("x"), b"x").expect("file in dir");
        assert!(commit_all(outputs).is_err());
        assert_eq!(std::fs::read_to_string(&old).expect("read"), "before");
        assert!(!new.exists());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary or kept file left: {names:?}");
        // without the obstacle every output lands
        std::fs::remove_dir_all(&blocked).expect("rm");
        let mut outputs = Vec::new();
        for path in [&old, &new, &blocked] {
            let mut out = Pending::new(path).expect("pending");
            out.write_all(b"after").expect("write");
            outputs.push(out);
        }
        commit_all(outputs).expect("committed");
        for path in [&old, &new, &blocked] {
            assert_eq!(std::fs::read_to_string(path).expect("read"), "after");
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 3);
        let stale: Vec<PathBuf> = pending()
            .iter()
            .filter(|p| p.starts_with(dir.path()))
            .cloned()
            .collect();
        assert!(
            stale.is_empty(),
            "nothing left for an interruption to remove: {stale:?}"
        );
    }

    /// Two spellings of a file not there yet were two targets: both outputs were written and
    /// one was lost.
    #[test]
    fn one_target_is_recognised_however_it_is_spelled() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("sub");
        let x = dir.path().join("x");
        for other in [dir.path().join("sub/../x"), dir.path().join("./x")] {
            assert!(Pending::same_target(&x, &other), "{}", other.display());
        }
        assert!(!Pending::same_target(&x, &dir.path().join("sub/x")));
        assert!(Pending::same_target(Path::new("-"), Path::new("-")));
    }

    #[test]
    fn outputs_appear_only_when_committed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("out.txt");
        let mut out = Pending::new(&target).expect("pending");
        out.write_all(b"partial").expect("write");
        assert!(
            !target.exists(),
            "nothing under the final name before commit"
        );
        let files = || std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(files(), 1, "one temporary file");
        out.commit().expect("commit");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "partial");
        assert_eq!(files(), 1, "the temporary file became the output");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain.txt");
            std::fs::write(&plain, b"x").expect("plain file");
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode();
            assert_eq!(
                mode(&target),
                mode(&plain),
                "the mode a plain new file gets"
            );
        }
    }
}
