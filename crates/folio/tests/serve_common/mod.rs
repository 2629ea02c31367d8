//! Starting `folio serve` as a real process, shared by the tests that need one.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A `folio serve` command on a free loopback port, with none of the caller's `FOLIO_*` or
/// proxy settings.
pub fn serve_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
    cmd.args(["serve", "--addr", "127.0.0.1:0"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("FOLIO_") || k.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Spawns `cmd` (from [`serve_command`]) and returns it with the base URL it announces on
/// stderr.
pub fn spawn_serve(mut cmd: Command) -> (Child, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start folio serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    // Keeps draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if let Some(url) = line.strip_prefix("folio serve: listening on ") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("folio serve announces its address");
    (child, base)
}
