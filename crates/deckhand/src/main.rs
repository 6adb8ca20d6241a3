//! The `deckhand` binary: parse, run, exit.

fn main() -> std::process::ExitCode {
    deckhand::main_entry()
}
