//! `deckhand site deploy` against the local world (moto S3 and CloudFront over real HTTP);
//! results are read back with awscli.

use std::path::{Path, PathBuf};

use deckhand_testkit::{Run, SiteFixture, World, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

/// Writes a small Vite-like build into a new temporary directory.
fn build(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "index.html",
        &format!("<!doctype html><script src=\"/assets/index-Ab12Cd34.js\"></script>{version}"),
    );
    write(dir.path(), "assets/index-Ab12Cd34.js", "console.log('app')");
    write(dir.path(), "assets/index-Ef56Gh78.css", "body{margin:0}");
    write(dir.path(), "docs/guide/index.html", "<p>guide</p>");
    write(dir.path(), "favicon.svg", "<svg/>");
    write(dir.path(), "fonts/inter-Xy12Zw34.woff2", "woff2-bytes");
    write(dir.path(), "site.webmanifest", "{}");
    write(dir.path(), ".env", "SECRET=1");
    write(dir.path(), "my file+ü.txt", "unicode key");
    dir
}

fn write(root: &Path, key: &str, content: &str) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A copy of `src` with every file rewritten (new mtimes), as a fresh CI checkout has.
fn fresh_copy(src: &Path) -> tempfile::TempDir {
    let dst = tempfile::tempdir().unwrap();
    copy_tree(src, dst.path());
    dst
}

fn copy_tree(src: &Path, dst: &Path) {
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            copy_tree(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

fn deploy(w: &World, site: &SiteFixture, dir: &Path, extra: &[&str]) -> Run {
    let mut cmd = w.command(BIN);
    cmd.args([
        "--output",
        "json",
        "site",
        "deploy",
        "--bucket",
        &site.bucket,
        "--dir",
    ])
    .arg(dir);
    if let Some(d) = &site.distribution {
        cmd.args(["--distribution-id", d]);
    }
    Run::from_output(&cmd.args(extra).output().unwrap())
}

#[track_caller]
fn assert_exit(run: &Run, code: i32, verdict: &str) {
    run.assert_exit(code, verdict);
}

fn calls(run: &Run, op: &str) -> u64 {
    run.api_calls(op)
}

fn paths(run: &Run) -> Vec<String> {
    run.json["invalidations"][0]["paths"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn first_deploy_then_fresh_checkout_redeploy_uploads_nothing() {
    let w = world();
    let site = SiteFixture::create(w, "fresh", Some(""));
    let v1 = build("v1");
    let run = deploy(w, &site, v1.path(), &[]);
    assert_exit(&run, 0, "succeeded");
    assert_eq!(run.json["uploaded"], 8, "{}", run.stdout);
    assert!(
        run.json["invalidations"].as_array().unwrap().is_empty(),
        "new keys cannot be cached"
    );
    assert!(
        !site.keys(w).contains(&".env".to_string()),
        ".env is never uploaded"
    );
    // No HeadBucket (a prefix-scoped ListBucket policy denies it), and no manifest read before
    // the listing shows one.
    assert_eq!(
        calls(&run, "S3.HeadBucket") + calls(&run, "S3.GetObject"),
        0
    );
    // Entry points go last: index.html, the guide's index.html and the webmanifest are the last uploads planned.
    let order: Vec<&str> = run.json["plan"]["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        &order[order.len() - 3..],
        ["docs/guide/index.html", "index.html", "site.webmanifest"]
    );

    let copy = fresh_copy(v1.path());
    let again = deploy(w, &site, copy.path(), &[]);
    assert_exit(&again, 0, "no-change");
    assert_eq!(
        calls(&again, "S3.PutObject")
            + calls(&again, "S3.CopyObject")
            + calls(&again, "CloudFront.CreateInvalidation"),
        0
    );
    assert_eq!(again.json["plan"]["unchanged"], 8);
}

#[test]
fn headers_are_served_as_a_web_build_needs() {
    let w = world();
    let site = SiteFixture::create(w, "headers", None);
    assert_exit(&deploy(w, &site, build("v1").path(), &[]), 0, "succeeded");
    let cases = [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        (
            "assets/index-Ab12Cd34.js",
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "assets/index-Ef56Gh78.css",
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        ("fonts/inter-Xy12Zw34.woff2", "font/woff2", "no-cache"),
        (
            "site.webmanifest",
            "application/manifest+json; charset=utf-8",
            "no-cache",
        ),
        ("favicon.svg", "image/svg+xml; charset=utf-8", "no-cache"),
        ("my file+ü.txt", "text/plain; charset=utf-8", "no-cache"),
    ];
    for (key, content_type, cache_control) in cases {
        let head = site.head(w, key);
        assert_eq!(
            (head["ContentType"].as_str(), head["CacheControl"].as_str()),
            (Some(content_type), Some(cache_control)),
            "{key}"
        );
    }
}

#[test]
fn a_content_change_uploads_exactly_those_keys_and_invalidates_narrowly() {
    let w = world();
    let site = SiteFixture::create(w, "change", Some(""));
    let dir = build("v1");
    assert_exit(&deploy(w, &site, dir.path(), &[]), 0, "succeeded");
    write(dir.path(), "index.html", "<!doctype html>v2");
    write(dir.path(), "docs/guide/index.html", "<p>guide v2</p>");
    let run = deploy(w, &site, dir.path(), &["--wait"]);
    assert_exit(&run, 0, "succeeded");
    assert_eq!(run.json["uploaded"], 2);
    assert_eq!(calls(&run, "S3.PutObject"), 3, "two files and the manifest");
    assert_eq!(paths(&run), ["/", "/docs/guide*", "/index.html"]);
    assert_eq!(site.invalidations(w).len(), 1);
    let out = tempfile::NamedTempFile::new().unwrap();
    let out_path = out.path().to_str().unwrap();
    w.aws(&[
        "s3api",
        "get-object",
        "--bucket",
        "change",
        "--key",
        "index.html",
        out_path,
    ]);
    assert_eq!(
        std::fs::read_to_string(out.path()).unwrap(),
        "<!doctype html>v2"
    );
}

#[test]
fn a_header_rule_change_reheaders_exactly_the_matching_objects() {
    let w = world();
    let site = SiteFixture::create(w, "rehead", None);
    let dir = build("v1");
    assert_exit(&deploy(w, &site, dir.path(), &[]), 0, "succeeded");
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        rules.path(),
        "rules:\n  - match: ['*.svg', '*.txt']\n    cache-control: 'public, max-age=600'\n",
    )
    .unwrap();
    let run = deploy(
        w,
        &site,
        dir.path(),
        &["--config", rules.path().to_str().unwrap()],
    );
    assert_exit(&run, 0, "succeeded");
    assert_eq!(
        calls(&run, "S3.CopyObject"),
        2,
        "favicon.svg and my file+ü.txt"
    );
    assert_eq!(calls(&run, "S3.PutObject"), 1, "only the manifest");
    assert_eq!(
        calls(&run, "S3.HeadObject"),
        0,
        "header drift is seen without a HEAD per object"
    );
    assert_eq!(
        site.head(w, "favicon.svg")["CacheControl"],
        "public, max-age=600"
    );
    assert_eq!(
        site.head(w, "favicon.svg")["ContentType"],
        "image/svg+xml; charset=utf-8"
    );
    assert_eq!(site.head(w, "index.html")["CacheControl"], "no-cache");
    // The copy source of a key with a space, `+` and `ü` is encoded right.
    assert_eq!(
        site.head(w, "my file+ü.txt")["CacheControl"],
        "public, max-age=600"
    );
}

#[test]
fn multipart_objects_with_non_md5_etags_are_not_reuploaded() {
    let w = world();
    let site = SiteFixture::create(w, "multipart", None);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("video-1a2b3c4d.mp4"),
        vec![7u8; 20 * 1024 * 1024],
    )
    .unwrap();
    write(dir.path(), "index.html", "<video>");
    let run = deploy(w, &site, dir.path(), &[]);
    assert_exit(&run, 0, "succeeded");
    assert_eq!(calls(&run, "S3.UploadPart"), 3, "20 MiB in 8 MiB parts");
    let etag = site.head(w, "video-1a2b3c4d.mp4")["ETag"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        etag.ends_with("-3\""),
        "a multipart ETag is not an MD5: {etag}"
    );
    assert_eq!(
        site.head(w, "video-1a2b3c4d.mp4")["ContentLength"],
        20 * 1024 * 1024
    );
    let again = deploy(w, &site, fresh_copy(dir.path()).path(), &[]);
    assert_exit(&again, 0, "no-change");
    assert_eq!(
        calls(&again, "S3.UploadPart") + calls(&again, "S3.PutObject"),
        0
    );
}

#[test]
fn gzip_precompression_is_stored_with_its_encoding_and_stays_stable() {
    let w = world();
    let site = SiteFixture::create(w, "gzip", None);
    let dir = build("v1");
    write(
        dir.path(),
        "assets/app-9f8e7d6c.js",
        &"let x = 1;\n".repeat(2000),
    );
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        rules.path(),
        "rules:\n  - match: '*.js'\n    compress: gzip\n  - match: '*.woff2'\n    compress: gzip\n",
    )
    .unwrap();
    let cfg = rules.path().to_str().unwrap();
    assert_exit(
        &deploy(w, &site, dir.path(), &["--config", cfg]),
        0,
        "succeeded",
    );
    let head = site.head(w, "assets/app-9f8e7d6c.js");
    assert_eq!(head["ContentEncoding"], "gzip");
    assert!(head["ContentLength"].as_u64().unwrap() < 2000, "{head}");
    assert!(
        site.head(w, "fonts/inter-Xy12Zw34.woff2")
            .get("ContentEncoding")
            .is_none(),
        "never on compressed types"
    );
    let again = deploy(w, &site, fresh_copy(dir.path()).path(), &["--config", cfg]);
    assert_exit(&again, 0, "no-change");
}

#[test]
fn deletes_need_delete_spare_foreign_objects_and_respect_the_guard() {
    let w = world();
    let site = SiteFixture::create(w, "deletes", Some(""));
    let dir = build("v1");
    assert_exit(&deploy(w, &site, dir.path(), &[]), 0, "succeeded");
    let by_hand = tempfile::NamedTempFile::new().unwrap();
    let by_hand_path = by_hand.path().to_str().unwrap();
    w.aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "deletes",
        "--key",
        "uploaded-by-hand.txt",
        "--body",
        by_hand_path,
    ]);
    std::fs::remove_file(dir.path().join("favicon.svg")).unwrap();
    // Without --delete the stale object stays.
    assert_exit(&deploy(w, &site, dir.path(), &[]), 0, "no-change");
    assert!(site.keys(w).contains(&"favicon.svg".to_string()));
    let run = deploy(w, &site, dir.path(), &["--delete", "--keep-previous", "0"]);
    assert_exit(&run, 0, "succeeded");
    let keys = site.keys(w);
    assert!(!keys.contains(&"favicon.svg".to_string()), "{keys:?}");
    assert!(
        keys.contains(&"uploaded-by-hand.txt".to_string()),
        "objects deckhand did not upload are never deleted"
    );
    assert_eq!(
        paths(&run),
        ["/favicon.svg"],
        "deleted keys are invalidated"
    );

    // The guard: a build that lost most of its files.
    let before = site.keys(w);
    let nearly_empty = tempfile::tempdir().unwrap();
    write(nearly_empty.path(), "index.html", "oops");
    let run = deploy(
        w,
        &site,
        nearly_empty.path(),
        &["--delete", "--keep-previous", "0"],
    );
    assert_exit(&run, 2, "invalid-input");
    assert!(
        run.json["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the deploy would delete 6 of 7 managed objects"),
        "{}",
        run.stdout
    );
    assert_eq!(site.keys(w), before, "the guard changed nothing");
}

#[test]
fn origin_path_maps_keys_to_paths() {
    let w = world();
    let site = SiteFixture::create(w, "originpath", Some("/www"));
    let dir = build("v1");
    assert_exit(
        &deploy(w, &site, dir.path(), &["--prefix", "www"]),
        0,
        "succeeded",
    );
    assert!(site.keys(w).contains(&"www/index.html".to_string()));
    write(dir.path(), "index.html", "v2");
    let run = deploy(w, &site, dir.path(), &["--prefix", "/www/"]);
    assert_exit(&run, 0, "succeeded");
    assert_eq!(paths(&run), ["/", "/index.html"]);
}

#[test]
fn bad_inputs_exit_2_and_change_nothing() {
    let w = world();
    let site = SiteFixture::create(w, "badsite", None);
    let dir = build("v1");
    let escape_dir = build("v1");
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", escape_dir.path().join("leak.txt")).unwrap();
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        rules.path(),
        "rules:\n  - match: '*.js'\n    cache_control: x\n",
    )
    .unwrap();
    let missing: PathBuf = dir.path().join("no-such-dist");
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (missing.clone(), vec![], "cannot be read"),
        (
            dir.path().into(),
            vec!["--config", rules.path().to_str().unwrap()],
            ":3:5: rules[0]: unknown field `cache_control`",
        ),
        (
            escape_dir.path().into(),
            vec![],
            "symlink `leak.txt` leads outside",
        ),
        (
            dir.path().into(),
            vec!["--max-delete", "lots"],
            "invalid `--max-delete lots`",
        ),
    ];
    for (d, extra, message) in cases {
        let run = deploy(w, &site, &d, &extra);
        assert_exit(&run, 2, "invalid-input");
        let error = run.json["error"]["message"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{extra:?}: {error}");
    }
    let bad_bucket = SiteFixture {
        bucket: "Bad_Bucket".into(),
        distribution: None,
    };
    let run = deploy(w, &bad_bucket, dir.path(), &[]);
    assert_exit(&run, 2, "invalid-input");
    assert!(
        run.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid bucket name `Bad_Bucket`")
    );
    let no_bucket = SiteFixture {
        bucket: "no-such-bucket".into(),
        distribution: None,
    };
    let run = deploy(w, &no_bucket, dir.path(), &[]);
    assert_exit(&run, 2, "invalid-input");
    assert_eq!(
        run.json["error"]["message"],
        "bucket `no-such-bucket` not found"
    );
    assert!(
        site.keys(w).is_empty(),
        "bad input changed the bucket: {:?}",
        site.keys(w)
    );
    let _: Value = run.json;
}

#[test]
fn dry_run_changes_nothing() {
    let w = world();
    let site = SiteFixture::create(w, "dry", None);
    let out_dir = tempfile::tempdir().unwrap();
    let outputs = out_dir.path().join("output");
    let dir = build("v1");
    let out = w
        .command(BIN)
        .args([
            "--output",
            "json",
            "site",
            "deploy",
            "--bucket",
            "dry",
            "--dry-run",
            "--dir",
        ])
        .arg(dir.path())
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    let run = Run::from_output(&out);
    assert_exit(&run, 0, "dry-run");
    assert_eq!(run.json["plan"]["uploads"].as_array().unwrap().len(), 8);
    assert!(site.keys(w).is_empty());
    // The `plan` output (what deploy.yml posts on a pull request) is the plan as printed.
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    let plan = outputs
        .split_once("plan<<")
        .map(|(_, p)| p)
        .unwrap_or_default();
    assert!(
        plan.contains("plan for s3://dry/:\n  upload 8 files, re-header 0, 0 unchanged, delete 0"),
        "{outputs}"
    );
}

/// aws/aws-cli#4809, #1417: a reader must never get an index.html whose assets are missing.
/// A reader loops over index.html and every asset it references while v2 (new hashed names)
/// replaces v1 with `--delete`.
#[test]
fn a_reader_never_sees_an_index_whose_assets_are_missing() {
    let w = world();
    let site = SiteFixture::create(w, "reader", None);
    // Readers are anonymous, as a website bucket's are.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::reader/*"}]}"#;
    w.aws(&[
        "s3api",
        "put-bucket-policy",
        "--bucket",
        "reader",
        "--policy",
        policy,
    ]);
    let version = |v: &str| {
        let dir = tempfile::tempdir().unwrap();
        let assets: Vec<String> = (0..30)
            .map(|i| format!("assets/chunk{i}-{v}a1b2c3d4.js"))
            .collect();
        for a in &assets {
            // Half a megabyte each, so the asset phase lasts long enough for the reader to
            // look at the bucket many times while it runs.
            write(
                dir.path(),
                a,
                &format!("// {a}\n{}", "x".repeat(512 * 1024)),
            );
        }
        let scripts: String = assets
            .iter()
            .map(|a| format!("<script src=\"/{a}\"></script>"))
            .collect();
        write(
            dir.path(),
            "index.html",
            &format!("<!doctype html>{scripts}"),
        );
        dir
    };
    let (v1, v2) = (version("v1"), version("v2"));
    assert_exit(&deploy(w, &site, v1.path(), &[]), 0, "succeeded");

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            // Polls index.html cheaply; each time it changes, fetches every asset it names,
            // last uploaded first, so a new index.html is checked the moment it appears.
            let (mut versions_seen, mut missing, mut last) = (0, Vec::new(), Vec::new());
            while !done.load(std::sync::atomic::Ordering::SeqCst) || versions_seen < 2 {
                let (status, body) = world().get("/reader/index.html").unwrap();
                assert_eq!(status, 200);
                if body == last {
                    if done.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    continue;
                }
                versions_seen += 1;
                let html = String::from_utf8(body.clone()).unwrap();
                let srcs: Vec<&str> = html
                    .split("src=\"")
                    .skip(1)
                    .filter_map(|s| s.split('"').next())
                    .collect();
                for src in srcs.into_iter().rev() {
                    let (status, _) = world().get(&format!("/reader{src}")).unwrap();
                    if status != 200 {
                        missing.push(format!("{src}: {status}"));
                    }
                }
                last = body;
            }
            (versions_seen, missing)
        })
    };
    let run = deploy(w, &site, v2.path(), &["--delete", "--concurrency", "1"]);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (versions_seen, missing) = reader.join().unwrap();
    assert_exit(&run, 0, "succeeded");
    assert!(missing.is_empty(), "missing assets: {missing:?}");
    assert_eq!(versions_seen, 2, "the reader saw v1 and then v2");
    // v1's assets are kept for clients holding the old index.html (keep-previous 1).
    assert!(
        site.keys(w)
            .contains(&"assets/chunk0-v1a1b2c3d4.js".to_string())
    );
}

/// Objects as awscli sees them: key, ETag, Content-Type, Cache-Control.
fn snapshot(w: &World, site: &SiteFixture) -> Vec<(String, String, String, String)> {
    site.keys(w)
        .into_iter()
        .map(|k| {
            let h = site.head(w, &k);
            let field = |f: &str| h[f].as_str().unwrap_or_default().to_string();
            (
                k,
                field("ETag"),
                field("ContentType"),
                field("CacheControl"),
            )
        })
        .collect()
}

#[test]
fn throttling_and_503s_are_retried_and_the_deploy_completes() {
    let w = world();
    let site = SiteFixture::create(w, "faults", Some(""));
    let dir = build("v1");
    assert_exit(&deploy(w, &site, dir.path(), &[]), 0, "succeeded");
    write(
        dir.path(),
        "assets/index-Ab12Cd34.js",
        "console.log('changed in place')",
    );
    write(dir.path(), "index.html", "v2");
    let rules = r#"{"rules": [
        {"service": "s3", "method": "PUT", "path_regex": "^/faults/assets/", "status": 503, "code": "SlowDown", "message": "Please reduce your request rate.", "count": 2},
        {"service": "cloudfront", "operation": "CreateInvalidation", "status": 400, "code": "TooManyInvalidationsInProgress", "message": "Processing your request", "count": 2}
    ]}"#;
    let faults = w.faults(rules);
    let run = deploy(w, &site, dir.path(), &[]);
    let failed: Vec<Value> = faults.rules().iter().map(|r| r["failed"].clone()).collect();
    drop(faults);
    assert_eq!(failed, [json!(2), json!(2)], "every injected fault was met");
    assert_exit(&run, 0, "succeeded");
    assert!(
        run.stderr
            .contains("TooManyInvalidationsInProgress (attempt 1); retrying"),
        "{}",
        run.stderr
    );
    assert_eq!(
        calls(&run, "CloudFront.CreateInvalidation"),
        3,
        "two refused, one created"
    );
    assert!(
        calls(&run, "S3.PutObject") >= 2 + 3,
        "the 503s were retried: {}",
        run.stdout
    );
    assert_eq!(site.invalidations(w).len(), 1);
}

#[test]
fn a_failed_deploy_rerun_ends_identical_to_an_uninterrupted_one() {
    let w = world();
    let (broken, clean) = (
        SiteFixture::create(w, "rerun-broken", None),
        SiteFixture::create(w, "rerun-clean", None),
    );
    let (v1, v2) = (build("v1"), build("v2"));
    for site in [&broken, &clean] {
        assert_exit(&deploy(w, site, v1.path(), &[]), 0, "succeeded");
    }
    write(v2.path(), "assets/index-Zz99Yy88.js", "console.log('v2')");
    // index.html fails more often than the SDK retries (5 attempts): the deploy stops there.
    let rules = r#"{"rules": [{"service": "s3", "method": "PUT", "path_regex": "^/rerun-broken/index\\.html$", "status": 500, "code": "InternalError", "count": 5}]}"#;
    let faults = w.faults(rules);
    let failed = deploy(w, &broken, v2.path(), &["--delete", "--keep-previous", "0"]);
    drop(faults);
    assert_exit(&failed, 1, "error");
    assert!(
        failed.json["error"]["hint"]
            .as_str()
            .unwrap()
            .starts_with("re-run the deploy"),
        "{}",
        failed.stdout
    );
    // Nothing half-done is visible: the old index.html is still served, with its assets.
    let out = tempfile::NamedTempFile::new().unwrap();
    w.aws(&[
        "s3api",
        "get-object",
        "--bucket",
        "rerun-broken",
        "--key",
        "index.html",
        out.path().to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(out.path()).unwrap().ends_with("v1"));
    assert_exit(
        &deploy(w, &broken, v2.path(), &["--delete", "--keep-previous", "0"]),
        0,
        "succeeded",
    );
    assert_exit(
        &deploy(w, &clean, v2.path(), &["--delete", "--keep-previous", "0"]),
        0,
        "succeeded",
    );
    assert_eq!(snapshot(w, &broken), snapshot(w, &clean));
}

#[test]
fn listing_pages_are_followed() {
    // A world of its own whose ListObjectsV2 pages hold 2 keys.
    let w = World::start_isolated(&["--s3-max-keys", "2"]);
    let site = SiteFixture::create(&w, "paged", None);
    let dir = build("v1");
    assert_exit(&deploy(&w, &site, dir.path(), &[]), 0, "succeeded");
    let again = deploy(&w, &site, fresh_copy(dir.path()).path(), &[]);
    assert_exit(&again, 0, "no-change");
    assert_eq!(calls(&again, "S3.ListObjectsV2"), 5, "9 keys in pages of 2");
}

/// A deploy killed (SIGKILL) midway, then re-run, ends exactly as an uninterrupted one.
#[test]
fn a_killed_deploy_rerun_ends_identical_to_an_uninterrupted_one() {
    let w = world();
    let (killed, clean) = (
        SiteFixture::create(w, "killed", None),
        SiteFixture::create(w, "unkilled", None),
    );
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        // Large enough that the deploy is still uploading when it is killed.
        write(
            dir.path(),
            &format!("assets/part{i}-{i:02}a1b2c3d4.js"),
            &"y".repeat(512 * 1024),
        );
    }
    write(dir.path(), "index.html", "<!doctype html>");
    // Every upload to this bucket is held 300 ms, so the deploy is surely mid-way when killed.
    let slow = w.faults(
        r#"{"rules": [{"service": "s3", "operation": "PutObject", "path_regex": "^/killed/", "delay_ms": 300, "count": 1000}]}"#,
    );
    let mut child = w
        .command(BIN)
        .args([
            "site",
            "deploy",
            "--bucket",
            "killed",
            "--concurrency",
            "1",
            "--dir",
        ])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once its first object has landed: one upload at a time, so the second PutObject
    // reaching the world means the first one is stored.
    while slow.rules()[0]["matched"].as_u64() < Some(2) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the deploy ended before its second upload"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(slow);
    assert!(!killed.keys(w).is_empty(), "some objects landed");
    assert!(
        !site_has_manifest(w, &killed),
        "killed before the end: no manifest yet"
    );
    assert_exit(&deploy(w, &killed, dir.path(), &[]), 0, "succeeded");
    assert_exit(&deploy(w, &clean, dir.path(), &[]), 0, "succeeded");
    assert_eq!(snapshot(w, &killed), snapshot(w, &clean));
    let again = deploy(w, &killed, dir.path(), &[]);
    assert_exit(&again, 0, "no-change");
}

fn site_has_manifest(w: &World, site: &SiteFixture) -> bool {
    site.keys(w).iter().any(|k| k == ".deckhand/manifest.json")
}

#[cfg(unix)]
#[test]
fn a_non_utf8_file_name_is_an_error_naming_it() {
    use std::os::unix::ffi::OsStrExt;
    let w = world();
    let site = SiteFixture::create(w, "nonutf8", None);
    let dir = build("v1");
    std::fs::write(
        dir.path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9.html")),
        "latin-1 name",
    )
    .unwrap();
    let run = deploy(w, &site, dir.path(), &[]);
    assert_exit(&run, 2, "invalid-input");
    let error = run.json["error"]["message"].as_str().unwrap();
    assert!(
        error.contains("file name `caf\u{fffd}.html`") && error.contains("is not UTF-8"),
        "{error}"
    );
    assert!(site.keys(w).is_empty());
}
