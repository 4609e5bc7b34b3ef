//! The default source: every `*.yaml`, `*.yml` and `*.json` file under a folder.
//!
//! Only what an editor or an export job leaves there is read: regular files (a FIFO would
//! hang the run, a device never end), never dotfiles or dot-folders (editor lock and swap
//! files, `.git`), never anything a link leads to outside the folder, and no more than
//! [`DirLimits`] allow. Anything else named like a document fails the snapshot whole,
//! naming the file: skipping it would look like its items were deleted.

use super::{Snapshot, Source, SourceError, parse_file};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Caps on one file and on the whole snapshot, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirLimits {
    pub max_file_size: u64,
    pub max_size: u64,
}

impl Default for DirLimits {
    fn default() -> Self {
        DirLimits {
            max_file_size: super::DEFAULT_MAX_FILE_SIZE,
            max_size: super::DEFAULT_MAX_SIZE,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
    limits: DirLimits,
}

impl DirSource {
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSource {
            root: root.into(),
            limits: DirLimits::default(),
        }
    }

    #[must_use]
    pub fn with_limits(mut self, limits: DirLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Reads synchronously; `snapshot` runs this off the async threads. Files are parsed
    /// on every core, and the documents keep the files' sorted order.
    pub fn read(&self) -> Result<Snapshot, SourceError> {
        let root = std::fs::canonicalize(&self.root).map_err(|e| SourceError::Io {
            path: self.root.display().to_string(),
            message: e.to_string(),
        })?;
        let mut walk = Walk {
            root: &root,
            limits: self.limits,
            files: Vec::new(),
            total: 0,
            visited: vec![root.clone()],
        };
        walk.dir(&self.root)?;
        let mut files = walk.files;
        files.sort();
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, files.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut parsed: Vec<(usize, Result<Snapshot, SourceError>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(path) = files.get(i) else { break };
                            out.push((i, self.read_file(path)));
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        check_whole(parsed.len(), files.len(), &self.root)?;
        parsed.sort_by_key(|(i, _)| *i);
        let total = parsed
            .iter()
            .map(|(_, docs)| docs.as_ref().map_or(0, |s| s.documents.len()))
            .sum();
        let mut snapshot = Snapshot {
            documents: Vec::with_capacity(total),
            unreadable: Vec::new(),
        };
        for (i, docs) in parsed {
            match docs {
                Ok(docs) => snapshot.extend(docs),
                Err(e) => {
                    let shown = files[i].strip_prefix(&self.root).unwrap_or(&files[i]);
                    match super::Unreadable::of(&shown.display().to_string(), &e) {
                        Some(u) => snapshot.unreadable.push(u),
                        None => return Err(e),
                    }
                }
            }
        }
        Ok(snapshot)
    }

    fn read_file(&self, path: &Path) -> Result<Snapshot, SourceError> {
        let io = |e: std::io::Error| SourceError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let cap = self.limits.max_file_size;
        let mut bytes = Vec::new();
        // The size was checked when listed; a file growing since is caught here.
        std::fs::File::open(path)
            .and_then(|f| f.take(cap.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(io)?;
        if bytes.len() as u64 > cap {
            return Err(too_large(path, cap));
        }
        let text = String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8 {
            file: path.display().to_string(),
            offset: e.utf8_error().valid_up_to(),
        })?;
        let shown = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string();
        let is_json = path.extension().is_some_and(|e| e == "json");
        parse_file(&text, &shown, is_json)
    }
}

/// A worker that panicked loses its files: the snapshot is then not whole.
fn check_whole(parsed: usize, files: usize, root: &Path) -> Result<(), SourceError> {
    if parsed == files {
        Ok(())
    } else {
        Err(SourceError::Io {
            path: root.display().to_string(),
            message: format!("only {parsed} of {files} files could be parsed"),
        })
    }
}

fn too_large(path: &Path, cap: u64) -> SourceError {
    SourceError::Refused {
        path: path.display().to_string(),
        message: format!(
            "larger than max_file_size = {cap} bytes; split the file or raise organization.source.max_file_size"
        ),
    }
}

/// The files of a folder, checked as they are listed.
struct Walk<'a> {
    /// The folder, links resolved: everything read must lie under it.
    root: &'a Path,
    limits: DirLimits,
    files: Vec<PathBuf>,
    total: u64,
    /// Folders entered, links resolved: a link to a parent must not loop.
    visited: Vec<PathBuf>,
}

fn is_document(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path) -> Result<(), SourceError> {
        let io = |e: std::io::Error| SourceError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            if entry.file_name().as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let path = entry.path();
            let mut meta = entry.metadata().map_err(io)?;
            if meta.file_type().is_symlink() {
                let refused = |message: String| SourceError::Refused {
                    path: path.display().to_string(),
                    message,
                };
                let target = match std::fs::canonicalize(&path) {
                    Ok(t) => t,
                    Err(_) if !is_document(&path) => continue,
                    Err(e) => {
                        return Err(refused(format!(
                            "a link that cannot be followed ({e}); remove it or make it point inside the folder"
                        )));
                    }
                };
                if !target.starts_with(self.root) {
                    if !is_document(&path) && !target.is_dir() {
                        continue;
                    }
                    return Err(refused(format!(
                        "links to {}, outside the source folder {}; copy the file into the folder instead",
                        target.display(),
                        self.root.display()
                    )));
                }
                meta = std::fs::metadata(&target).map_err(io)?;
                if meta.is_dir() {
                    if self.visited.contains(&target) {
                        continue;
                    }
                    self.visited.push(target);
                }
            }
            if meta.is_dir() {
                self.dir(&path)?;
            } else if is_document(&path) {
                self.file(path, &meta)?;
            }
        }
        Ok(())
    }

    fn file(&mut self, path: PathBuf, meta: &std::fs::Metadata) -> Result<(), SourceError> {
        if !meta.is_file() {
            return Err(SourceError::Refused {
                path: path.display().to_string(),
                message: "not a regular file (a pipe, socket or device); remove it from the source folder".into(),
            });
        }
        if meta.len() > self.limits.max_file_size {
            return Err(too_large(&path, self.limits.max_file_size));
        }
        self.total = self.total.saturating_add(meta.len());
        if self.total > self.limits.max_size {
            return Err(SourceError::Refused {
                path: self.root.display().to_string(),
                message: format!(
                    "the files add up to more than max_size = {} bytes; raise organization.source.max_size if the data really is that large",
                    self.limits.max_size
                ),
            });
        }
        self.files.push(path);
        Ok(())
    }
}

#[async_trait::async_trait]
impl Source for DirSource {
    async fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.read())
            .await
            .map_err(|e| SourceError::Io {
                path: self.root.display().to_string(),
                message: e.to_string(),
            })?
    }
    fn describe(&self) -> String {
        format!("dir {}", self.root.display())
    }
}
