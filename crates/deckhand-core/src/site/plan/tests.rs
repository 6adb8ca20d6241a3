use super::*;
use crate::site::rules::Compression;

fn file(key: &str, content: &str) -> LocalFile {
    LocalFile {
        key: key.into(),
        sha256: format!("sha-of-{content}"),
        size: content.len() as u64,
    }
}

/// A Vite build: hashed assets, an index.html, a favicon.
fn build(version: &str) -> Vec<LocalFile> {
    vec![
        file(
            &format!("assets/index-{version}Ab12Cd.js"),
            &format!("js {version}"),
        ),
        file(
            &format!("assets/index-{version}Ef34Gh.css"),
            &format!("css {version}"),
        ),
        file("favicon.ico", "icon"),
        file("index.html", &format!("html {version}")),
    ]
}

fn remote_of(m: &Manifest) -> Vec<RemoteObject> {
    m.objects
        .iter()
        .map(|(k, e)| RemoteObject {
            key: k.clone(),
            size: e.size,
        })
        .collect()
}

/// Plans and "applies": the bucket afterwards holds the next manifest's objects.
fn deploy(
    local: &[LocalFile],
    rules: &SiteRules,
    before: &Manifest,
    opts: &SyncOptions,
) -> SitePlan {
    plan_sync(local, rules, before, &remote_of(before), opts).unwrap()
}

fn keys(uploads: &[Upload]) -> Vec<&str> {
    uploads.iter().map(|u| u.key.as_str()).collect()
}

#[test]
fn first_deploy_uploads_everything_entry_points_last_and_invalidates_nothing() {
    let plan = deploy(
        &build("v1"),
        &SiteRules::default(),
        &Manifest::new(),
        &SyncOptions::default(),
    );
    assert_eq!(
        keys(&plan.uploads),
        [
            "assets/index-v1Ab12Cd.js",
            "assets/index-v1Ef34Gh.css",
            "favicon.ico",
            "index.html"
        ]
    );
    assert!(plan.uploads.iter().all(|u| u.reason == UploadReason::New));
    assert_eq!(
        plan.uploads.iter().map(|u| u.entry).collect::<Vec<_>>(),
        [false, false, false, true]
    );
    assert!(
        plan.invalidate.is_empty(),
        "a brand-new key cannot be cached"
    );
    assert_eq!(plan.next_manifest.generation, 1);
}

#[test]
fn an_unchanged_build_from_a_fresh_checkout_uploads_nothing() {
    let rules = SiteRules::default();
    let first = deploy(
        &build("v1"),
        &rules,
        &Manifest::new(),
        &SyncOptions::default(),
    );
    // A fresh checkout has new mtimes; the plan never looks at them.
    let again = deploy(
        &build("v1"),
        &rules,
        &first.next_manifest,
        &SyncOptions::default(),
    );
    assert!(again.is_no_op());
    assert_eq!(
        (again.unchanged, again.unchanged_bytes),
        (4, build("v1").iter().map(|f| f.size).sum())
    );
    assert_eq!(again.next_manifest, first.next_manifest);
    assert!(again.invalidate.is_empty());
}

#[test]
fn a_rebuild_uploads_exactly_the_changed_keys() {
    let rules = SiteRules::default();
    let v1 = deploy(
        &build("v1"),
        &rules,
        &Manifest::new(),
        &SyncOptions::default(),
    );
    let plan = deploy(
        &build("v2"),
        &rules,
        &v1.next_manifest,
        &SyncOptions::default(),
    );
    assert_eq!(
        keys(&plan.uploads),
        [
            "assets/index-v2Ab12Cd.js",
            "assets/index-v2Ef34Gh.css",
            "index.html"
        ]
    );
    assert_eq!(plan.uploads[2].reason, UploadReason::ContentChanged);
    assert_eq!(plan.unchanged, 1);
    // Old bundles stay (no --delete): clients holding the old index.html keep working.
    assert_eq!(
        plan.retained,
        ["assets/index-v1Ab12Cd.js", "assets/index-v1Ef34Gh.css"]
    );
    assert_eq!(plan.invalidate, ["index.html"]);
}

#[test]
fn a_header_rule_change_reheaders_exactly_the_affected_objects() {
    let v1 = deploy(
        &build("v1"),
        &SiteRules::default(),
        &Manifest::new(),
        &SyncOptions::default(),
    );
    let rules = SiteRules::parse(
        std::path::Path::new("r.yml"),
        "rules:\n  - match: '*.ico'\n    cache-control: 'public, max-age=86400'\n",
    )
    .unwrap();
    let plan = deploy(
        &build("v1"),
        &rules,
        &v1.next_manifest,
        &SyncOptions::default(),
    );
    assert!(plan.uploads.is_empty());
    assert_eq!(plan.reheaders.len(), 1);
    assert_eq!(
        (
            plan.reheaders[0].key.as_str(),
            plan.reheaders[0].headers.cache_control.as_str()
        ),
        ("favicon.ico", "public, max-age=86400")
    );
    assert_eq!(plan.invalidate, ["favicon.ico"]);
    // Applied, it is stable.
    assert!(
        deploy(
            &build("v1"),
            &rules,
            &plan.next_manifest,
            &SyncOptions::default()
        )
        .is_no_op()
    );
}

#[test]
fn a_compression_change_reuploads_because_the_bytes_change() {
    let v1 = deploy(
        &build("v1"),
        &SiteRules::default(),
        &Manifest::new(),
        &SyncOptions::default(),
    );
    let rules = SiteRules::parse(
        std::path::Path::new("r.yml"),
        "rules:\n  - match: '*.html'\n    compress: gzip\n",
    )
    .unwrap();
    let plan = deploy(
        &build("v1"),
        &rules,
        &v1.next_manifest,
        &SyncOptions::default(),
    );
    assert_eq!(keys(&plan.uploads), ["index.html"]);
    assert_eq!(plan.uploads[0].reason, UploadReason::EncodingChanged);
    assert_eq!(plan.uploads[0].headers.compression, Compression::Gzip);
    assert!(plan.reheaders.is_empty());
}

#[test]
fn objects_missing_from_the_bucket_or_not_ours_are_uploaded() {
    let rules = SiteRules::default();
    let v1 = deploy(
        &build("v1"),
        &rules,
        &Manifest::new(),
        &SyncOptions::default(),
    );
    // Someone deleted favicon.ico by hand, and put an unmanaged robots.txt there.
    let mut remote: Vec<RemoteObject> = remote_of(&v1.next_manifest)
        .into_iter()
        .filter(|o| o.key != "favicon.ico")
        .collect();
    remote.push(RemoteObject {
        key: "robots.txt".into(),
        size: 3,
    });
    remote.push(RemoteObject {
        key: "legacy/page.html".into(),
        size: 9,
    });
    let mut local = build("v1");
    local.push(file("robots.txt", "bots"));
    let plan = plan_sync(
        &local,
        &rules,
        &v1.next_manifest,
        &remote,
        &SyncOptions {
            delete: true,
            ..Default::default()
        },
    )
    .unwrap();
    let reasons: Vec<(&str, UploadReason)> = plan
        .uploads
        .iter()
        .map(|u| (u.key.as_str(), u.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("favicon.ico", UploadReason::Missing),
            ("robots.txt", UploadReason::Unmanaged)
        ]
    );
    assert_eq!(plan.invalidate, ["favicon.ico", "robots.txt"]);
    // Objects deckhand never uploaded are never deleted, even with --delete.
    assert!(plan.deletes.is_empty());
}

#[test]
fn stale_objects_are_deleted_only_with_delete_and_after_keep_previous_deploys() {
    let rules = SiteRules::default();
    let v1 = deploy(
        &build("v1"),
        &rules,
        &Manifest::new(),
        &SyncOptions::default(),
    );
    let keep_one = SyncOptions {
        delete: true,
        keep_previous: 1,
        ..Default::default()
    };
    let v2 = deploy(&build("v2"), &rules, &v1.next_manifest, &keep_one);
    assert!(
        v2.deletes.is_empty(),
        "v1's bundles are kept for one deploy"
    );
    assert_eq!(v2.retained.len(), 2);
    let v3 = deploy(&build("v3"), &rules, &v2.next_manifest, &keep_one);
    assert_eq!(
        v3.deletes,
        ["assets/index-v1Ab12Cd.js", "assets/index-v1Ef34Gh.css"]
    );
    assert_eq!(
        v3.retained,
        ["assets/index-v2Ab12Cd.js", "assets/index-v2Ef34Gh.css"]
    );
    assert!(
        v3.invalidate
            .contains(&"assets/index-v1Ab12Cd.js".to_string()),
        "deleted keys are invalidated"
    );
    assert!(
        !v3.next_manifest
            .objects
            .contains_key("assets/index-v1Ab12Cd.js")
    );
    let no_delete = deploy(
        &build("v3"),
        &rules,
        &v2.next_manifest,
        &SyncOptions {
            keep_previous: 0,
            ..Default::default()
        },
    );
    assert!(no_delete.deletes.is_empty());
    assert_eq!(no_delete.retained.len(), 4);
}

#[test]
fn the_delete_guard_refuses_and_says_why() {
    let rules = SiteRules::default();
    let v1 = deploy(
        &build("v1"),
        &rules,
        &Manifest::new(),
        &SyncOptions::default(),
    );
    // `--dir` pointed at the wrong folder: one file left of four.
    let wrong = vec![file("index.html", "html v1")];
    let opts = SyncOptions {
        delete: true,
        ..Default::default()
    };
    let err = plan_sync(
        &wrong,
        &rules,
        &v1.next_manifest,
        &remote_of(&v1.next_manifest),
        &opts,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the deploy would delete 3 of 4 managed objects, over the limit of 1000 (50%)"
    );
    assert!(err.hint().unwrap().contains("--max-delete"));
    let count = SyncOptions {
        delete: true,
        max_delete: DeleteLimit {
            count: 2,
            percent: 100.0,
        },
        keep_previous: 0,
    };
    assert!(
        plan_sync(
            &wrong,
            &rules,
            &v1.next_manifest,
            &remote_of(&v1.next_manifest),
            &count
        )
        .is_err()
    );
    let roomy = SyncOptions {
        delete: true,
        max_delete: DeleteLimit {
            count: 3,
            percent: 75.0,
        },
        keep_previous: 0,
    };
    assert_eq!(
        plan_sync(
            &wrong,
            &rules,
            &v1.next_manifest,
            &remote_of(&v1.next_manifest),
            &roomy
        )
        .unwrap()
        .deletes
        .len(),
        3
    );
}

#[test]
fn duplicate_keys_are_an_error() {
    let local = vec![file("a.txt", "1"), file("a.txt", "2")];
    assert_eq!(
        plan_sync(
            &local,
            &SiteRules::default(),
            &Manifest::new(),
            &[],
            &SyncOptions::default()
        )
        .unwrap_err(),
        SyncError::DuplicateKey("a.txt".into())
    );
}
