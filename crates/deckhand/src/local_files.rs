//! Reading local files for upload (a site build, the files of an image layer): walk, skip,
//! refuse escapes, hash; and precompress.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use deckhand_core::oci::layer::{AddSpec, Found, plan_layer};
use deckhand_core::site::manifest::hex;
use deckhand_core::site::rules::{Compression, SiteRules, skipped_by_default};
use deckhand_oci::layer::LayerFile;
use sha2::{Digest, Sha256};

use crate::error::CommandError;

/// A file of the build, ready to plan and upload.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// Key relative to the prefix.
    pub(crate) key: String,
    /// Where its bytes are (a symlink's target inside the root).
    pub(crate) path: PathBuf,
    /// sha256 of its bytes.
    pub(crate) sha256: String,
    /// Its size.
    pub(crate) size: u64,
    /// Any execute bit set (image layers keep it).
    pub(crate) executable: bool,
}

/// Walks a site build, skipping what the rules skip.
pub(crate) fn walk(root: &Path, rules: &SiteRules) -> Result<Vec<SourceFile>, String> {
    walk_with(root, &|key| rules.is_skipped(key))
}

/// Walks `root` in a stable order; `skipped` sees each key (directories with a trailing `/`).
/// Symlinks are followed when they stay inside `root`. Errors name the file and say what is
/// wrong.
pub(crate) fn walk_with(
    root: &Path,
    skipped: &dyn Fn(&str) -> bool,
) -> Result<Vec<SourceFile>, String> {
    let shown = root.display();
    let meta = std::fs::metadata(root)
        .map_err(|e| format!("site directory `{shown}` cannot be read: {e}"))?;
    if !meta.is_dir() {
        return Err(format!("`{shown}` is not a directory"));
    }
    let canonical_root = root
        .canonicalize()
        .map_err(|e| format!("site directory `{shown}`: {e}"))?;
    let mut out = Vec::new();
    let mut stack = vec![(canonical_root.clone(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        // Reverse, so the stack yields directories in name order.
        for entry in entries.into_iter().rev() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(format!(
                    "file name `{}` in `{}` is not UTF-8; S3 keys must be",
                    name.to_string_lossy(),
                    dir.display()
                ));
            };
            let key = format!("{prefix}{name}");
            let mut path = entry.path();
            let mut meta = entry.metadata().map_err(|e| format!("`{key}`: {e}"))?;
            if meta.file_type().is_symlink() {
                let target = path
                    .canonicalize()
                    .map_err(|e| format!("symlink `{key}` is broken: {e}"))?;
                if !target.starts_with(&canonical_root) {
                    return Err(format!(
                        "symlink `{key}` leads outside `{shown}` (to `{}`)",
                        target.display()
                    ));
                }
                meta = std::fs::metadata(&target).map_err(|e| format!("`{key}`: {e}"))?;
                path = target;
            }
            if meta.is_dir() {
                if !skipped(&format!("{key}/")) {
                    stack.push((path, format!("{key}/")));
                }
            } else if meta.is_file() && !skipped(&key) {
                let sha256 = hash_file(&path).map_err(|e| format!("cannot read `{key}`: {e}"))?;
                out.push(SourceFile {
                    key,
                    path,
                    sha256,
                    size: meta.len(),
                    executable: is_executable(&meta),
                });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

#[cfg(unix)]
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub(crate) fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Compresses deterministically (no timestamp, no file name, fixed settings), so an unchanged
/// file compresses to the same bytes on every deploy.
pub(crate) fn compress(bytes: &[u8], how: Compression) -> std::io::Result<Vec<u8>> {
    match how {
        Compression::None => Ok(bytes.to_vec()),
        Compression::Gzip => {
            let mut enc = flate2::GzBuilder::new()
                .mtime(0)
                .write(Vec::new(), flate2::Compression::best());
            enc.write_all(bytes)?;
            enc.finish()
        }
        Compression::Br => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
                w.write_all(bytes)?;
            }
            Ok(out)
        }
    }
}

/// Reads what each `--add SRC:DEST` names and plans the layer's files (core decides where
/// each lands and refuses what may not go in).
pub(crate) fn layer_files(adds: &[AddSpec]) -> Result<Vec<LayerFile>, CommandError> {
    let mut found = Vec::new();
    let mut roots = Vec::new();
    for add in adds {
        let src = PathBuf::from(&add.src);
        let flag = format!("`--add {}:{}`", add.src, add.dest);
        let meta = std::fs::metadata(&src).map_err(|e| {
            CommandError::invalid(format!("{flag}: cannot read `{}`: {e}", add.src))
        })?;
        if meta.is_dir() {
            let files = walk_with(&src, &skipped_by_default)
                .map_err(|m| CommandError::invalid(format!("{flag}: {m}")))?;
            let listed = files
                .iter()
                .map(|f| (f.key.clone(), f.executable))
                .collect();
            found.push((add.clone(), Found::Dir(listed)));
            roots.push(
                files
                    .into_iter()
                    .map(|f| (f.key, f.path))
                    .collect::<HashMap<_, _>>(),
            );
        } else {
            let executable = is_executable(&meta);
            found.push((add.clone(), Found::File { executable }));
            roots.push(HashMap::from([(String::new(), src)]));
        }
    }
    let entries = plan_layer(&found).map_err(CommandError::invalid)?;
    Ok(entries
        .into_iter()
        .map(|e| LayerFile {
            path: roots[e.add][&e.rel].clone(),
            name: e.name,
            mode: e.mode,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_deterministic_and_round_trips() {
        let text = b"<html>".repeat(500);
        for how in [Compression::Gzip, Compression::Br] {
            let a = compress(&text, how).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1100));
            assert_eq!(
                a,
                compress(&text, how).unwrap(),
                "{how:?} output changed between runs"
            );
            assert!(a.len() < text.len() / 10);
        }
        let gz = compress(&text, Compression::Gzip).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        let br = compress(&text, Compression::Br).unwrap();
        let mut back = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }
}
