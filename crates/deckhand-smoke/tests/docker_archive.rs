//! The `docker load` archive read by an independent implementation of the format:
//! containers/image (skopeo's `docker-archive:` transport), then unpacked by umoci.

use std::io::Write;
use std::process::Command;

use sha2::{Digest as _, Sha256};

fn sha(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn layer(path: &str, content: &[u8]) -> (Vec<u8>, String) {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, content).unwrap();
    let tar = b.into_inner().unwrap();
    let diff_id = sha(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), diff_id)
}

#[test]
fn skopeo_reads_the_archive_and_umoci_unpacks_its_files() {
    let (base, base_id) = layer("etc/os-release", b"ID=smoke\n");
    let (site, site_id) = layer("usr/share/nginx/html/index.html", b"<h1>archive</h1>\n");
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["nginx", "-g", "daemon off;"], "ExposedPorts": {"80/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": [base_id, site_id]},
        "history": [{"created_by": "base"}, {"created_by": "site"}]
    }))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    deckhand_smoke::docker_archive::write(
        std::fs::File::create(&archive).unwrap(),
        "deckhand-smoke:test",
        &config,
        &[base, site],
    )
    .unwrap();
    let layout = dir.path().join("layout");
    let copy = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("oci:{}:t", layout.display()))
        .output()
        .expect("skopeo");
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    let bundle = dir.path().join("bundle");
    let unpack = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:t", layout.display()))
        .arg(&bundle)
        .output()
        .expect("umoci");
    assert!(
        unpack.status.success(),
        "{}",
        String::from_utf8_lossy(&unpack.stderr)
    );
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read_to_string(rootfs.join("usr/share/nginx/html/index.html")).unwrap(),
        "<h1>archive</h1>\n"
    );
    assert!(rootfs.join("etc/os-release").is_file());
}
