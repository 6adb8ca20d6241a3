//! Which values must never be printed.

/// Name fragments that mark an environment variable as secret. Matched against the upper-cased
/// name split on `_`, `-` and `.`, and, for the long ones, anywhere in the name
/// (`GITHUBTOKEN`, `DBPASSWORD`).
const SECRET_WORDS: &[&str] = &[
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "TOKEN",
    "KEY",
    "APIKEY",
    "PRIVATE",
    "CREDENTIAL",
    "CREDENTIALS",
    "AUTH",
    "DSN",
    "SIGNATURE",
    "SALT",
    "COOKIE",
    "SESSION",
    "CERT",
];
const SECRET_SUBSTRINGS: &[&str] = &[
    "SECRET",
    "PASSWORD",
    "TOKEN",
    "APIKEY",
    "PRIVATE",
    "CREDENTIAL",
];
/// Connection strings usually embed a password.
const SECRET_SUFFIXES: &[&str] = &["DATABASE_URL", "DB_URL", "CONNECTION_STRING", "_URI"];

/// The text shown in place of a redacted value.
pub const REDACTED: &str = "(redacted)";

/// Markers shown in a plan's task definition diff in place of environment variable values,
/// which plans hide by default (plans reach logs and pull request comments). They say whether
/// the value changed between the live and the new task definition: an unchanged variable is a
/// context line of the diff, a changed one a changed line.
pub mod env_marker {
    /// Both sides, when the value is the same.
    pub const UNCHANGED: &str = "(unchanged)";
    /// The new side, when the value differs from the live one.
    pub const CHANGED: &str = "(changed)";
    /// The new side, for a variable the live container does not have.
    pub const NEW: &str = "(new)";
    /// The live side, for a value that changed or a variable that is removed.
    pub const HIDDEN: &str = "(hidden)";
}

/// True when an environment variable called `name` probably holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if SECRET_SUBSTRINGS.iter().any(|s| upper.contains(s)) {
        return true;
    }
    if SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s)) {
        return true;
    }
    upper
        .split(['_', '-', '.'])
        .any(|word| SECRET_WORDS.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_names() {
        for name in [
            "DB_PASSWORD",
            "api_key",
            "GITHUBTOKEN",
            "STRIPE_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "DATABASE_URL",
            "MONGO_URI",
            "SENTRY_DSN",
            "SESSION_KEY",
        ] {
            assert!(looks_secret(name), "{name} should look secret");
        }
    }

    #[test]
    fn ordinary_names() {
        for name in [
            "PORT",
            "LOG_LEVEL",
            "MONKEY_MODE",
            "KEYBOARD",
            "RUST_LOG",
            "NODE_ENV",
            "BASE_URL",
        ] {
            assert!(!looks_secret(name), "{name} should not look secret");
        }
    }
}
