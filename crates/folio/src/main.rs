//! `folio`: the command-line front door. Flags and glue only; the work is in the library crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod logging;

/// Document extraction: PDFs, scans and images to Markdown, JSON, HTML, text and CSV.
#[derive(Debug, Parser)]
#[command(name = "folio", version, about, max_term_width = 100)]
struct Cli {
    /// Log verbosity: -v for info, -vv for debug (or set RUST_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log as JSON lines on stderr (for services and log collectors).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Extract a document to Markdown, JSON, HTML, text or CSV.
    Extract(cmd::extract::Args),
    /// Manage the model store: list, install, verify, path, gc.
    Models(cmd::models::Args),
    /// Check the model store and say what is wrong and how to fix it.
    Doctor(cmd::doctor::Args),
    /// Run the HTTP service.
    // Boxed: its many flags make it several times the size of the other variants.
    Serve(Box<cmd::serve::Args>),
    /// Run as a RunPod serverless worker.
    Worker(cmd::worker::Args),
    /// An extraction process of `serve` or `worker` (internal: documents on stdin, answers on
    /// stdout).
    #[command(name = "__extract-child", hide = true)]
    ExtractChild(cmd::isolate::ChildArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose, cli.log_json);
    // Panics are caught per page and reported as warnings; keep the default hook's backtrace
    // text off stderr, where it would read as a crash, and log it instead.
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!("internal error: {payload}{at}");
    }));
    let result = match cli.command {
        Command::Extract(args) => cmd::extract::run(args),
        Command::Models(args) => cmd::models::run(args),
        Command::Doctor(args) => cmd::doctor::run(args),
        Command::Serve(args) => cmd::serve::run(*args),
        Command::Worker(args) => cmd::worker::run(args),
        Command::ExtractChild(args) => cmd::isolate::run_child(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`folio extract x.pdf | head`) is not a failure.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            report(&err);
            ExitCode::from(2)
        }
    }
}

/// Prints the error once, on one line: `error: outer: cause: root cause`. A standard error
/// that cannot be written (closed, a full disk) leaves only the exit code to say it.
fn report(err: &anyhow::Error) {
    use std::io::Write;
    // Library errors quote their cause in their own message (an HTTP answer is built from it)
    // and keep it as their `source()` too: a cause that its context already ends with is not
    // repeated.
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    // Some decoders end their messages with line breaks; the error stays one line regardless.
    let one_line: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let _ = writeln!(std::io::stderr(), "error: {}", one_line.join(" "));
}
