//! Runs the built-in rules on documents saved with `folio extract --format json`, printing the
//! flat fields of each: for tuning the rules without running OCR again.
//!
//! `cargo run -p folio-fields --example fields_of_json -- company,date,address,total DOC.json...`
#![allow(clippy::print_stdout, clippy::print_stderr)]

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(names) = args.next() else {
        eprintln!("usage: fields_of_json NAMES DOC.json...");
        return std::process::ExitCode::from(2);
    };
    let request = match folio_fields::FieldRequest::from_names(&names) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    for path in args {
        let doc: Result<folio_doc::Document, String> = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()));
        match doc {
            Ok(mut doc) => {
                folio_fields::extract(&mut doc, &request, None);
                println!("{}\t{}", path, doc.fields.flat_json().replace('\n', ""));
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
    std::process::ExitCode::SUCCESS
}
