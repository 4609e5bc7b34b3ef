//! The default source: every `*.yaml`, `*.yml` and `*.json` file under a folder.

use super::{Snapshot, Source, SourceError, parse_file};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSource { root: root.into() }
    }

    /// Reads synchronously; `snapshot` runs this off the async threads. Files are parsed
    /// on every core, and the documents keep the files' sorted order.
    pub fn read(&self) -> Result<Snapshot, SourceError> {
        let mut files = Vec::new();
        collect(&self.root, &mut files)?;
        files.sort();
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, files.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut parsed: Vec<(usize, Result<Vec<super::Document>, SourceError>)> =
            std::thread::scope(|scope| {
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
            .map(|(_, docs)| docs.as_ref().map_or(0, Vec::len))
            .sum();
        let mut documents = Vec::with_capacity(total);
        for (_, docs) in parsed {
            documents.extend(docs?);
        }
        Ok(Snapshot { documents })
    }

    fn read_file(&self, path: &Path) -> Result<Vec<super::Document>, SourceError> {
        let text = std::fs::read_to_string(path).map_err(|e| SourceError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
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

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io = |e: std::io::Error| SourceError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(io)?;
        if file_type.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
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
