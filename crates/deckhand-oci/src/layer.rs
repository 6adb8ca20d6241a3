//! The appended layer, written deterministically: entries in the order given (the core sorts
//! them), GNU headers with uid/gid 0, empty owner names, the mode the core chose and one fixed
//! mtime; gzip with no timestamp or name, level 6, on the pure-Rust deflate backend the
//! workspace pins. The tar's sha256 (diff_id) and the gzip's sha256 (digest) are computed in
//! the same pass that writes it.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use deckhand_core::oci::Digest;
use deckhand_core::oci::derive::LayerBlob;
use sha2::{Digest as _, Sha256};

use crate::OciError;

/// One file of the layer.
#[derive(Debug, Clone)]
pub struct LayerFile {
    /// Tar name, without a leading `/`.
    pub name: String,
    pub mode: u32,
    /// Where its bytes are on this machine.
    pub path: PathBuf,
}

/// The default mtime of every entry without `SOURCE_DATE_EPOCH`: 1980-01-01, a fixed time
/// that tools showing it do not mistake for "no time" (0) and zip-based tooling accepts.
pub const DEFAULT_MTIME: u64 = 315_532_800;

/// A built layer: its gzip bytes and identity.
#[derive(Debug, Clone)]
pub struct BuiltLayer {
    pub blob: LayerBlob,
    pub bytes: Vec<u8>,
    /// Size of the uncompressed tar.
    pub tar_size: u64,
}

struct Hashing<W> {
    inner: W,
    hash: Sha256,
    count: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hashing<W>(inner: W) -> Hashing<W> {
    Hashing {
        inner,
        hash: Sha256::new(),
        count: 0,
    }
}

/// Writes the layer. Files are read once, streamed through tar and gzip.
pub fn build_layer(files: &[LayerFile], mtime: u64) -> Result<BuiltLayer, OciError> {
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(hashing(Vec::new()), flate2::Compression::new(6));
    let mut tar = tar::Builder::new(hashing(gzip));
    tar.mode(tar::HeaderMode::Deterministic);
    let io_err = |path: &PathBuf| {
        let path = path.display().to_string();
        move |source| OciError::Io {
            path: path.clone(),
            source,
        }
    };
    for file in files {
        let mut source = File::open(&file.path).map_err(io_err(&file.path))?;
        let size = source.metadata().map_err(io_err(&file.path))?.len();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(file.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        tar.append_data(&mut header, &file.name, &mut source)
            .map_err(io_err(&file.path))?;
    }
    let tar_writer = tar.into_inner().map_err(|source| OciError::Io {
        path: "layer".into(),
        source,
    })?;
    let diff_id = Digest::from_hash(&tar_writer.hash.finalize());
    let tar_size = tar_writer.count;
    let gz = tar_writer.inner.finish().map_err(|source| OciError::Io {
        path: "layer".into(),
        source,
    })?;
    let digest = Digest::from_hash(&gz.hash.finalize());
    Ok(BuiltLayer {
        blob: LayerBlob {
            digest,
            diff_id,
            size: gz.count,
        },
        bytes: gz.inner,
        tar_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn files(dir: &std::path::Path) -> Vec<LayerFile> {
        std::fs::write(dir.join("index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(dir.join("default.conf"), "server {}").unwrap();
        let long = format!("usr/share/nginx/html/{}/deep.txt", "d".repeat(120));
        std::fs::write(dir.join("deep.txt"), "deep").unwrap();
        vec![
            LayerFile {
                name: "etc/nginx/conf.d/default.conf".into(),
                mode: 0o644,
                path: dir.join("default.conf"),
            },
            LayerFile {
                name: long,
                mode: 0o755,
                path: dir.join("deep.txt"),
            },
            LayerFile {
                name: "usr/share/nginx/html/index.html".into(),
                mode: 0o644,
                path: dir.join("index.html"),
            },
        ]
    }

    #[test]
    fn the_same_files_give_the_same_digests_whatever_their_mtimes() {
        let dir = tempfile::tempdir().unwrap();
        let list = files(dir.path());
        let first = build_layer(&list, DEFAULT_MTIME).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        for f in &list {
            let content = std::fs::read(&f.path).unwrap();
            std::fs::write(&f.path, content).unwrap(); // new mtime, same bytes
        }
        let second = build_layer(&list, DEFAULT_MTIME).unwrap();
        assert_eq!(first.blob, second.blob);
        assert_eq!(first.blob.digest, Digest::of(&first.bytes));
        assert_eq!(first.blob.size, first.bytes.len() as u64);
        let other_time = build_layer(&list, 1_700_000_000).unwrap();
        assert_ne!(other_time.blob.diff_id, first.blob.diff_id);
    }

    #[test]
    fn entries_are_owned_by_root_with_fixed_modes_and_times() {
        let dir = tempfile::tempdir().unwrap();
        let built = build_layer(&files(dir.path()), DEFAULT_MTIME).unwrap();
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(&built.bytes[..])
            .read_to_end(&mut tar_bytes)
            .unwrap();
        assert_eq!(Digest::of(&tar_bytes), built.blob.diff_id);
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let seen: Vec<(String, u32, u64, u64, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(seen.len(), 3, "no directory entries: {seen:?}");
        assert_eq!(
            seen[0],
            (
                "etc/nginx/conf.d/default.conf".into(),
                0o644,
                0,
                0,
                DEFAULT_MTIME
            )
        );
        assert!(
            seen[1].0.ends_with("/deep.txt") && seen[1].0.len() > 100,
            "long names survive"
        );
        assert_eq!(seen[1].1, 0o755);
        // gzip header: no mtime, OS byte 255.
        assert_eq!(&built.bytes[4..8], &[0, 0, 0, 0]);
        assert_eq!(built.bytes[9], 255);
    }
}
