//! Cancellation. GitHub cancels a job's step with SIGINT, then SIGTERM, then SIGKILL. The
//! commands that watch a deployment listen for the first two ([`listen`]): they stop watching
//! within a second, start nothing more (no registration, no update, no rollback), and report
//! where the deployment stands with the command that resumes watching (`cancelled`, exit 5).
//! Commands that do not listen keep the default: the signal ends the process.

use std::sync::OnceLock;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

static RECEIVED: OnceLock<watch::Receiver<Option<&'static str>>> = OnceLock::new();

/// Starts listening for SIGINT and SIGTERM (the first call; later calls do nothing). Must be
/// called inside the runtime.
pub(crate) fn listen() {
    RECEIVED.get_or_init(|| {
        let (tx, rx) = watch::channel(None);
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::spawn(async move {
                    let name = tokio::select! {
                        _ = int.recv() => "SIGINT",
                        _ = term.recv() => "SIGTERM",
                    };
                    // Later signals are ignored: the runner's SIGKILL ends the process if the
                    // report cannot be written in time.
                    let _ = tx.send(Some(name));
                    std::future::pending::<()>().await;
                });
            }
            // No handler could be installed: the signals keep their default (end the process).
            _ => drop(tx),
        }
        rx
    });
}

/// The signal received, if one was.
pub(crate) fn received() -> Option<&'static str> {
    RECEIVED.get().and_then(|rx| *rx.borrow())
}

/// Resolves with the signal's name when one arrives; never, when not listening.
pub(crate) async fn requested() -> &'static str {
    let Some(rx) = RECEIVED.get() else {
        return std::future::pending().await;
    };
    let mut rx = rx.clone();
    loop {
        if let Some(name) = *rx.borrow_and_update() {
            return name;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}
