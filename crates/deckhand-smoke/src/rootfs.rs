//! An image's root filesystem from its layers, applied in order as a container runtime applies
//! them: whiteouts (`.wh.NAME`) delete what lower layers put there, an opaque whiteout
//! (`.wh..wh..opq`) empties its directory of lower content, and a file replaces a directory of
//! the same path (and the other way round).

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// A layer's tar, uncompressed: gzip is undone, zstd is refused (not built in).
fn tar_bytes(layer: &[u8]) -> io::Result<std::borrow::Cow<'_, [u8]>> {
    match layer {
        [0x1f, 0x8b, ..] => {
            let mut out = Vec::with_capacity(layer.len() * 3);
            flate2::read::GzDecoder::new(layer).read_to_end(&mut out)?;
            Ok(out.into())
        }
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a zstd-compressed layer: the smoke run unpacks gzip and plain tar layers",
        )),
        _ => Ok(layer.into()),
    }
}

/// `path` inside the layer as a relative path without `.` and `..` (`None`: it climbs out).
fn inside(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Applies one layer (gzip or plain tar) on top of `root`.
pub fn apply_layer(root: &Path, layer: &[u8]) -> io::Result<()> {
    let tar = tar_bytes(layer)?;
    // First the whiteouts and type changes against what lower layers left (a layer's own
    // entries are never hidden by its own whiteouts, whatever their order in the tar).
    let mut markers = Vec::new();
    for entry in tar::Archive::new(&tar[..]).entries()? {
        let entry = entry?;
        let Some(rel) = inside(&entry.path()?) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a layer entry climbs out of the root: {:?}", entry.path()?),
            ));
        };
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        if name == OPAQUE {
            let dir = root.join(&parent);
            if dir.is_dir() {
                for child in fs::read_dir(&dir)? {
                    remove_any(&child?.path())?;
                }
            }
            markers.push(rel);
        } else if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            remove_any(&root.join(&parent).join(hidden))?;
            markers.push(rel);
        } else {
            let target = root.join(&rel);
            if let Ok(existing) = fs::symlink_metadata(&target)
                && existing.is_dir() != entry.header().entry_type().is_dir()
            {
                remove_any(&target)?;
            }
        }
    }
    let mut archive = tar::Archive::new(&tar[..]);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_overwrite(true);
    archive.set_unpack_xattrs(false);
    archive.unpack(root)?;
    // The markers were unpacked as empty files; they are not part of the filesystem.
    for m in markers {
        remove_any(&root.join(m))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, content) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1);
            match content {
                Some(text) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(text.len() as u64);
                    h.set_mode(0o644);
                    b.append_data(&mut h, path, text.as_bytes()).unwrap();
                }
                None => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    h.set_mode(0o755);
                    b.append_data(&mut h, path, &[][..]).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn whiteouts_hide_lower_layers_and_not_their_own() {
        let root = tempfile::tempdir().unwrap();
        let lower = layer(&[
            ("etc/", None),
            ("etc/keep", Some("k")),
            ("etc/gone", Some("g")),
            ("www/", None),
            ("www/old.html", Some("old")),
            ("swap", Some("a file that becomes a directory")),
        ]);
        apply_layer(root.path(), &gzip(&lower)).unwrap();
        // The opaque marker comes after the layer's own file: that file stays.
        let upper = layer(&[
            ("etc/.wh.gone", Some("")),
            ("www/", None),
            ("www/new.html", Some("new")),
            ("www/.wh..wh..opq", Some("")),
            ("swap/", None),
            ("swap/inner", Some("i")),
        ]);
        apply_layer(root.path(), &upper).unwrap();
        let r = root.path();
        assert!(r.join("etc/keep").is_file());
        assert!(!r.join("etc/gone").exists());
        assert!(!r.join("etc/.wh.gone").exists(), "markers are not files");
        assert!(
            !r.join("www/old.html").exists(),
            "the opaque dir hides the lower file"
        );
        assert_eq!(fs::read_to_string(r.join("www/new.html")).unwrap(), "new");
        assert!(!r.join("www/.wh..wh..opq").exists());
        assert_eq!(fs::read_to_string(r.join("swap/inner")).unwrap(), "i");
    }

    #[test]
    fn a_layer_that_climbs_out_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        // Written raw: the builder refuses `..` in paths it is given.
        h.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../escape");
        h.set_cksum();
        b.append(&h, &b"x"[..]).unwrap();
        let err = apply_layer(root.path(), &b.into_inner().unwrap()).unwrap_err();
        assert!(err.to_string().contains("climbs out"), "{err}");
    }

    #[test]
    fn zstd_layers_are_refused_with_the_reason() {
        let err = apply_layer(Path::new("/nonexistent"), &[0x28, 0xb5, 0x2f, 0xfd, 0]).unwrap_err();
        assert!(err.to_string().contains("zstd"), "{err}");
    }
}
