//! The image as a `docker load` archive: `manifest.json` naming the config and the layers, and
//! each blob under `blobs/sha256/`, as `docker save` writes it since Docker 25. Layers stay as
//! the registry gave them (gzip): `docker load` decompresses them itself.

use std::io::{self, Write};

use sha2::{Digest as _, Sha256};

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn append(builder: &mut tar::Builder<impl Write>, path: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, path, bytes)
}

/// Writes the archive of `config` and `layers` (lowest first) tagged `reference` to `out`.
pub fn write(
    out: impl Write,
    reference: &str,
    config: &[u8],
    layers: &[Vec<u8>],
) -> io::Result<()> {
    let mut builder = tar::Builder::new(out);
    let config_path = format!("blobs/sha256/{}", hex(config));
    let mut layer_paths: Vec<String> = Vec::new();
    for layer in layers {
        let path = format!("blobs/sha256/{}", hex(layer));
        // A layer twice in one image (an empty layer, say) is one blob.
        if !layer_paths.contains(&path) {
            append(&mut builder, &path, layer)?;
        }
        layer_paths.push(path);
    }
    append(&mut builder, &config_path, config)?;
    let manifest = serde_json::json!([{
        "Config": config_path,
        "RepoTags": [reference],
        "Layers": layer_paths,
    }]);
    append(
        &mut builder,
        "manifest.json",
        manifest.to_string().as_bytes(),
    )?;
    builder.into_inner()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_every_blob_in_order() {
        let mut out = Vec::new();
        write(
            &mut out,
            "deckhand-smoke:t",
            b"{}",
            &[b"a".to_vec(), b"b".to_vec(), b"a".to_vec()],
        )
        .unwrap();
        let mut archive = tar::Archive::new(&out[..]);
        let mut names = Vec::new();
        let mut manifest = String::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            if name == "manifest.json" {
                std::io::Read::read_to_string(&mut e, &mut manifest).unwrap();
            }
            names.push(name);
        }
        assert_eq!(names.len(), 4, "a, b, the config, the manifest: {names:?}");
        let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        let layers = m[0]["Layers"].as_array().unwrap();
        assert_eq!(layers.len(), 3);
        assert_eq!(layers[0], layers[2]);
        assert_eq!(m[0]["RepoTags"][0], "deckhand-smoke:t");
        assert!(names.contains(&m[0]["Config"].as_str().unwrap().to_string()));
    }
}
