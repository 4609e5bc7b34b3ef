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

    /// Reads synchronously; `snapshot` runs this off the async threads.
    pub fn read(&self) -> Result<Snapshot, SourceError> {
        let mut files = Vec::new();
        collect(&self.root, &mut files)?;
        files.sort();
        let mut documents = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| SourceError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            let shown = path
                .strip_prefix(&self.root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let is_json = path.extension().is_some_and(|e| e == "json");
            documents.extend(parse_file(&text, &shown, is_json)?);
        }
        Ok(Snapshot { documents })
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
