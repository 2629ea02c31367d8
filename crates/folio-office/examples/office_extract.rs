//! Reads one file with folio-office and prints it as Markdown (or `--json`), for development
//! and scoring before the engine wires the readers in: `cargo run --example office_extract FILE`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: office_extract FILE [--json]");
        return ExitCode::from(2);
    };
    let json = args.next().as_deref() == Some("--json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(format) = folio_office::sniff(&bytes, Some(&path)) else {
        eprintln!("error: {path}: not an office, web or text format");
        return ExitCode::from(2);
    };
    let options = folio_office::OfficeOptions::default();
    match folio_office::read(&bytes, format, &options) {
        Ok(doc) => {
            let f = if json {
                folio_doc::Format::Json
            } else {
                folio_doc::Format::Markdown
            };
            print!(
                "{}",
                folio_doc::render(&doc, f, folio_doc::RenderOptions::default())
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut msg = format!("error: {path}: {e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}
