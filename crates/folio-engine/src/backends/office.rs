//! The flow formats (DOCX, PPTX, XLSX/XLS/ODS, HTML, Markdown, CSV/TSV, text): a thin adapter
//! over `folio-office`, which builds the whole document; the engine applies the page selection
//! (a page is a slide or a sheet; other flow formats are one logical page) and its limits.

use folio_office::{OfficeError, OfficeOptions};

use super::{Backend, Input, Opened};
use crate::engine::select_pages;
use crate::{ExtractError, InputKind};

/// The flow-format backend.
pub(crate) struct Office;

impl Backend for Office {
    fn open(&self, input: Input<'_>) -> Result<Opened, ExtractError> {
        let InputKind::Flow(format) = input.kind else {
            // `crate::sniff::backend` sends only flow formats here.
            return Err(ExtractError::Unsupported(format!(
                "{} is not a flow format",
                input.kind.name()
            )));
        };
        let opts = input.opts;
        if opts.cancelled() {
            return Err(ExtractError::Cancelled);
        }
        let options = OfficeOptions {
            filename: opts.filename.clone(),
            images: opts.images,
            limits: folio_office::OfficeLimits {
                max_image_bytes: opts.limits.max_image_bytes,
                ..folio_office::OfficeLimits::default()
            },
            notes: opts.notes,
            hidden_sheets: opts.hidden_sheets,
            // The reader runs on this thread, not in the page pool: it watches the caller's
            // cancel flag and the document's time limit itself, between paragraphs, rows and
            // slides, as the page stages watch theirs.
            cancel: opts.cancel.clone(),
            deadline: input.started.checked_add(opts.limits.total_timeout),
        };
        let mut doc = folio_office::read(input.bytes, format, &options).map_err(|e| match e {
            OfficeError::Cancelled { .. } => ExtractError::Cancelled,
            OfficeError::TimedOut { .. } => ExtractError::Timeout(opts.limits.total_timeout),
            e => ExtractError::Office(e),
        })?;
        let pages = select_pages(doc.pages.len() as u32, opts)?;
        if pages.len() != doc.pages.len() {
            doc.pages.retain(|p| pages.contains(&p.number));
        }
        Ok(Opened::Flow(doc))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use crate::{Engine, ExtractError, ExtractOptions, Limits};

    /// A CSV long enough that its reading can be stopped midway.
    fn long_csv() -> Vec<u8> {
        let mut csv = String::from("id,name,amount\n");
        for i in 0..60_000 {
            csv.push_str(&format!("{i},item {i},{}.{:02}\n", i * 3, i % 100));
        }
        csv.into_bytes()
    }

    /// The engine's document time limit and the caller's cancel flag reach the office reader,
    /// which stops midway with the engine's own errors (the first look, before any reading,
    /// passes: only the reader's loop can stop it).
    #[test]
    fn the_document_deadline_and_cancel_flag_stop_a_flow_reader() {
        let engine = Engine::new();
        let bytes = long_csv();
        let started = Instant::now();
        engine
            .extract(&bytes, &ExtractOptions::default())
            .expect("a full read");
        let budget = (started.elapsed() / 5).max(Duration::from_millis(1));

        let opts = ExtractOptions {
            limits: Limits {
                total_timeout: budget,
                ..Limits::default()
            },
            ..ExtractOptions::default()
        };
        let e = engine
            .extract(&bytes, &opts)
            .expect_err("past its time limit");
        assert!(matches!(e, ExtractError::Timeout(d) if d == budget), "{e}");
        assert_eq!(e.code(), "timeout");

        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let setter = std::thread::spawn(move || {
            std::thread::sleep(budget);
            flag.store(true, Ordering::Relaxed);
        });
        let opts = ExtractOptions {
            cancel: Some(cancel),
            ..ExtractOptions::default()
        };
        let e = engine.extract(&bytes, &opts).expect_err("cancelled");
        assert!(matches!(e, ExtractError::Cancelled), "{e}");
        setter.join().expect("setter");
    }
}
