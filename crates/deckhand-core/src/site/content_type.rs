//! Content-Type from the file name, from a table compiled into deckhand: the same answer on
//! every OS (aws-cli takes Python's `mimetypes`, which gives `.js` as `text/plain` on Windows:
//! aws/aws-cli#3367; `.woff` and `.webp` were missing: #1249, #3303).

/// `(extension, media type, compressible)`. Text types get `; charset=utf-8` when served.
const TABLE: &[(&str, &str, bool)] = &[
    // documents and code
    ("html", "text/html", true),
    ("htm", "text/html", true),
    ("css", "text/css", true),
    ("js", "text/javascript", true),
    ("mjs", "text/javascript", true),
    ("cjs", "text/javascript", true),
    ("map", "application/json", true),
    ("json", "application/json", true),
    ("webmanifest", "application/manifest+json", true),
    ("xml", "application/xml", true),
    ("rss", "application/rss+xml", true),
    ("atom", "application/atom+xml", true),
    ("txt", "text/plain", true),
    ("md", "text/markdown", true),
    ("csv", "text/csv", true),
    ("ics", "text/calendar", true),
    ("wasm", "application/wasm", true),
    ("pdf", "application/pdf", false),
    // images
    ("svg", "image/svg+xml", true),
    ("png", "image/png", false),
    ("jpg", "image/jpeg", false),
    ("jpeg", "image/jpeg", false),
    ("gif", "image/gif", false),
    ("webp", "image/webp", false),
    ("avif", "image/avif", false),
    ("ico", "image/vnd.microsoft.icon", true),
    ("bmp", "image/bmp", true),
    // fonts
    ("woff2", "font/woff2", false),
    ("woff", "font/woff", false),
    ("ttf", "font/ttf", true),
    ("otf", "font/otf", true),
    ("eot", "application/vnd.ms-fontobject", true),
    // media
    ("mp4", "video/mp4", false),
    ("webm", "video/webm", false),
    ("mp3", "audio/mpeg", false),
    ("ogg", "audio/ogg", false),
    ("wav", "audio/wav", true),
    // archives and already-compressed payloads
    ("zip", "application/zip", false),
    ("gz", "application/gzip", false),
    ("br", "application/octet-stream", false),
];

/// The media type and whether precompressing it helps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// The Content-Type header value, with `; charset=utf-8` for text.
    pub content_type: String,
    /// gzip/brotli make it smaller (false for images, fonts and archives that are compressed
    /// already).
    pub compressible: bool,
}

/// The media type of `file_name` (a key or path; only the last extension counts, compared
/// case-insensitively). Unknown extensions are `application/octet-stream`, not compressed.
pub fn media_type(file_name: &str) -> MediaType {
    let name = file_name.rsplit('/').next().unwrap_or(file_name);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match TABLE.iter().find(|(e, _, _)| *e == ext) {
        Some((_, mime, compressible)) => MediaType {
            content_type: with_charset(mime),
            compressible: *compressible,
        },
        None => MediaType {
            content_type: "application/octet-stream".into(),
            compressible: false,
        },
    }
}

/// Text types are UTF-8 in every modern build tool's output.
fn with_charset(mime: &str) -> String {
    let textual = mime.starts_with("text/")
        || matches!(
            mime,
            "application/json"
                | "application/manifest+json"
                | "application/xml"
                | "application/rss+xml"
                | "application/atom+xml"
                | "image/svg+xml"
        );
    if textual {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_types_are_fixed_whatever_the_os() {
        let cases = [
            ("index.html", "text/html; charset=utf-8", true),
            (
                "assets/index-4f2a9c.js",
                "text/javascript; charset=utf-8",
                true,
            ),
            ("assets/chunk.MJS", "text/javascript; charset=utf-8", true),
            ("assets/app.css", "text/css; charset=utf-8", true),
            (
                "site.webmanifest",
                "application/manifest+json; charset=utf-8",
                true,
            ),
            ("manifest.json", "application/json; charset=utf-8", true),
            ("assets/app.js.map", "application/json; charset=utf-8", true),
            ("pkg/engine_bg.wasm", "application/wasm", true),
            ("fonts/inter.woff2", "font/woff2", false),
            ("fonts/inter.woff", "font/woff", false),
            ("img/hero.avif", "image/avif", false),
            ("img/hero.webp", "image/webp", false),
            ("logo.svg", "image/svg+xml; charset=utf-8", true),
            ("favicon.ico", "image/vnd.microsoft.icon", true),
            ("robots.txt", "text/plain; charset=utf-8", true),
            ("bundle.js.gz", "application/gzip", false),
            ("LICENSE", "application/octet-stream", false),
            ("archive.tar.unknown", "application/octet-stream", false),
        ];
        for (name, content_type, compressible) in cases {
            assert_eq!(
                media_type(name),
                MediaType {
                    content_type: content_type.into(),
                    compressible
                },
                "{name}"
            );
        }
    }

    #[test]
    fn every_extension_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (ext, _, _) in TABLE {
            assert!(seen.insert(*ext), "{ext} listed twice");
            assert_eq!(*ext, ext.to_ascii_lowercase());
        }
    }
}
