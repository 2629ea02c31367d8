//! The readiness text: why the model store cannot serve what a front door requires.

use folio_store::Health;

/// One line naming each of the store's problems and its fix, e.g. `the model store at /m
/// cannot serve: ocr-det is missing (fix: folio models install)`. `/ready` answers it and the
/// worker's fitness check reports it.
pub fn store_problems(health: &Health) -> String {
    let mut problems: Vec<String> = health
        .problems
        .iter()
        .map(|p| match &p.fix {
            Some(fix) => format!("{} (fix: {fix})", p.message),
            None => p.message.clone(),
        })
        .collect();
    if problems.is_empty() {
        problems.push("the model store reports itself unhealthy".to_string());
    }
    format!(
        "the model store at {} cannot serve: {}",
        health.root.display(),
        problems.join("; ")
    )
}
