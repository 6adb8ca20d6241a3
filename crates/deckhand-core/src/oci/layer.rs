//! What goes into the appended layer: `--add SRC:DEST` specs, where each file lands in the
//! image, and the rules that keep the layer safe and reproducible (sorted names, no `..`, no
//! absolute names, no directory entries that would override the base's, fixed modes).

use std::collections::BTreeMap;

/// One `--add SRC:DEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddSpec {
    /// A file or directory on the build machine.
    pub src: String,
    /// An absolute path in the image, normalized (`/usr/share/nginx/html`); a trailing `/` is
    /// kept in `dest_is_dir`.
    pub dest: String,
    /// DEST ended with `/`: a file SRC lands inside it under its own name.
    pub dest_is_dir: bool,
}

impl AddSpec {
    /// Parses `SRC:DEST` (split at the last `:`, so SRC may contain one).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (src, dest) = text.rsplit_once(':').ok_or_else(|| {
            format!("`--add {text}` is not `SRC:DEST` (e.g. `dist:/usr/share/nginx/html/`)")
        })?;
        if src.is_empty() {
            return Err(format!("`--add {text}`: SRC is empty"));
        }
        if !dest.starts_with('/') {
            return Err(format!(
                "`--add {text}`: DEST `{dest}` must be an absolute path in the image (start with `/`)"
            ));
        }
        let normalized = normalize_image_path(dest).map_err(|e| format!("`--add {text}`: {e}"))?;
        Ok(Self {
            src: src.to_string(),
            dest: normalized,
            dest_is_dir: dest.ends_with('/'),
        })
    }
}

/// `/a//b/./c/` -> `/a/b/c`; `..` is refused rather than resolved: a layer never writes
/// anywhere but where it says.
pub fn normalize_image_path(path: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("`{path}` contains `..`")),
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// What the build machine found at one SRC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// SRC is a file.
    File { executable: bool },
    /// SRC is a directory; its files (paths relative to SRC, `/`-separated, symlinks already
    /// resolved and checked to stay inside SRC).
    Dir(Vec<(String, bool)>),
}

/// One file of the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerEntry {
    /// The tar name: the image path without its leading `/`.
    pub name: String,
    /// 0644, or 0755 for a file executable on the build machine.
    pub mode: u32,
    /// Which add it comes from.
    pub add: usize,
    /// Its path relative to that add's SRC (empty for a file SRC).
    pub rel: String,
}

/// The layer's files in tar order, from what each add found. Two adds writing one path is an
/// error naming both, since the layer could hold only one of them.
pub fn plan_layer(adds: &[(AddSpec, Found)]) -> Result<Vec<LayerEntry>, String> {
    let mut by_name: BTreeMap<String, LayerEntry> = BTreeMap::new();
    for (index, (spec, found)) in adds.iter().enumerate() {
        let files: Vec<(String, String, bool)> = match found {
            Found::File { executable } => {
                let target = if spec.dest_is_dir || spec.dest == "/" {
                    let base = spec
                        .src
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(&spec.src);
                    format!("{}/{base}", spec.dest.trim_end_matches('/'))
                } else {
                    spec.dest.clone()
                };
                vec![(target, String::new(), *executable)]
            }
            Found::Dir(entries) => entries
                .iter()
                .map(|(rel, executable)| {
                    (
                        format!("{}/{rel}", spec.dest.trim_end_matches('/')),
                        rel.clone(),
                        *executable,
                    )
                })
                .collect(),
        };
        if files.is_empty() {
            return Err(format!(
                "`--add {}:{}`: `{}` holds no files",
                spec.src, spec.dest, spec.src
            ));
        }
        for (path, rel, executable) in files {
            let name = normalize_image_path(&path)
                .map_err(|e| format!("`--add {}:{}`: {e}", spec.src, spec.dest))?
                .trim_start_matches('/')
                .to_string();
            if name.is_empty() {
                return Err(format!(
                    "`--add {}:{}` would write the image root itself",
                    spec.src, spec.dest
                ));
            }
            let entry = LayerEntry {
                name: name.clone(),
                mode: if executable { 0o755 } else { 0o644 },
                add: index,
                rel,
            };
            if let Some(previous) = by_name.insert(name.clone(), entry) {
                let first = &adds[previous.add].0;
                return Err(format!(
                    "`/{name}` is written by both `--add {}:{}` and `--add {}:{}`; a layer holds one file per path",
                    first.src, first.dest, spec.src, spec.dest
                ));
            }
        }
    }
    // A file that sits where another add puts a directory would make an unextractable tar.
    for name in by_name.keys() {
        for (i, _) in name.match_indices('/') {
            if by_name.contains_key(&name[..i]) {
                return Err(format!(
                    "`/{}` is a file in the layer but also the directory of `/{name}`",
                    &name[..i]
                ));
            }
        }
    }
    Ok(by_name.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(text: &str) -> AddSpec {
        AddSpec::parse(text).unwrap()
    }

    #[test]
    fn add_specs_parse_and_normalize() {
        assert_eq!(
            add("site/dist:/usr/share/nginx//html/"),
            AddSpec {
                src: "site/dist".into(),
                dest: "/usr/share/nginx/html".into(),
                dest_is_dir: true
            }
        );
        assert_eq!(add("C:x:/a").src, "C:x");
        for (bad, why) in [
            ("nodest", "not `SRC:DEST`"),
            (":/a", "SRC is empty"),
            ("a:rel/path", "must be an absolute path"),
            ("a:/etc/../root", "contains `..`"),
        ] {
            let err = AddSpec::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn files_land_where_docker_copy_would_put_them_sorted() {
        let plan = plan_layer(&[
            (
                add("html:/usr/share/nginx/html/"),
                Found::Dir(vec![("index.html".into(), false), ("a/b.js".into(), false)]),
            ),
            (
                add("conf/site.conf:/etc/nginx/conf.d/default.conf"),
                Found::File { executable: false },
            ),
            (
                add("bin/run:/usr/local/bin/"),
                Found::File { executable: true },
            ),
        ])
        .unwrap();
        let names: Vec<(&str, u32)> = plan.iter().map(|e| (e.name.as_str(), e.mode)).collect();
        assert_eq!(
            names,
            [
                ("etc/nginx/conf.d/default.conf", 0o644),
                ("usr/local/bin/run", 0o755),
                ("usr/share/nginx/html/a/b.js", 0o644),
                ("usr/share/nginx/html/index.html", 0o644),
            ]
        );
        assert_eq!(plan[2].rel, "a/b.js");
    }

    #[test]
    fn escapes_collisions_and_empty_sources_are_refused() {
        let err = plan_layer(&[(
            add("x:/srv/"),
            Found::Dir(vec![("../etc/passwd".into(), false)]),
        )])
        .unwrap_err();
        assert!(err.contains("contains `..`"), "{err}");
        let err = plan_layer(&[
            (
                add("a.conf:/etc/app.conf"),
                Found::File { executable: false },
            ),
            (
                add("b.conf:/etc/app.conf"),
                Found::File { executable: false },
            ),
        ])
        .unwrap_err();
        assert!(
            err.contains(
                "written by both `--add a.conf:/etc/app.conf` and `--add b.conf:/etc/app.conf`"
            ),
            "{err}"
        );
        let err = plan_layer(&[(add("empty:/srv"), Found::Dir(vec![]))]).unwrap_err();
        assert!(err.contains("holds no files"), "{err}");
        let err = plan_layer(&[
            (add("a:/srv/app"), Found::File { executable: false }),
            (add("b:/srv/app-2"), Found::File { executable: false }),
            (add("d:/srv/app/"), Found::Dir(vec![("x".into(), false)])),
        ])
        .unwrap_err();
        assert!(err.contains("also the directory"), "{err}");
    }
}
