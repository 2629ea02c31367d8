//! `folio extract --layout`, end to end with the real binary and the installed models: the
//! layout-model stage runs on a receipt with `--layout model` and not with `--layout fast`, a
//! receipt gets no heading either way, and a bad value is refused with the choices.
//!
//! What the stage finds (tables, figures, captions) is tested in
//! `folio-engine/tests/layout_model.rs`; each run here is a process loading its own models.

mod cli_common;

use std::path::{Path, PathBuf};

use cli_common::*;

fn receipt() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/receipts/sroie_005.jpg")
}

fn stages(doc: &serde_json::Value) -> Vec<String> {
    doc["pages"][0]["provenance"]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn layout_fast_leaves_the_model_stage_out_and_model_runs_it_on_a_scan() {
    let path = receipt();
    let path = path.to_str().unwrap();
    let run = |layout: &str| {
        // A debug build on a loaded machine can pass the default page limit; the limit is not
        // what this test is about.
        let o = folio(&[
            "extract",
            path,
            "--format",
            "json",
            "--layout",
            layout,
            "--page-timeout",
            "600",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("JSON")
    };
    let fast = run("fast");
    assert!(
        !stages(&fast).iter().any(|s| s == "layout_model"),
        "{:?}",
        stages(&fast)
    );
    let model = run("model");
    assert!(
        stages(&model).iter().any(|s| s == "layout_model"),
        "{:?}",
        stages(&model)
    );
    let decision = model["pages"][0]["provenance"]["decision"]
        .as_str()
        .unwrap_or_default();
    assert!(
        decision.contains("layout model (--layout model)"),
        "{decision}"
    );
    // The receipt's handwritten scrawl is no heading, with the models or without.
    for doc in [&fast, &model] {
        let headings = doc["pages"][0]["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .filter(|b| b["type"] == "heading")
            .count();
        assert_eq!(headings, 0, "{doc}");
    }
}

#[test]
fn an_unknown_layout_mode_is_refused_with_the_choices() {
    let o = folio(&["extract", "-", "--layout", "heuristic"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("heuristic") && err.contains("auto") && err.contains("fast"),
        "{err}"
    );
}
