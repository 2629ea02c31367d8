//! The reader's bounds on hostile PDFs built here: a decompression bomb and a page that never
//! ends come back as pages with a [`LimitHit`], in bounded time and memory.

#[path = "common/hostile.rs"]
mod hostile;
#[path = "common/pdf_writer.rs"]
mod pdf_writer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_content::Cancel;
use folio_pdf::{LimitHit, PdfDocument, ReadLimits};
use hostile::{flate_bomb_pdf, nested_forms_pdf};

fn text(content: &folio_content::PageContent) -> String {
    content.glyphs.iter().map(|g| g.text.as_str()).collect()
}

#[test]
fn a_decompression_bomb_is_refused_per_stream_and_the_page_keeps_its_text() {
    // 64 MiB named 16 times (1 GiB decoded) under limits scaled down to match the real ones'
    // proportions: refused stream by stream, and charged so the repeats stop early.
    let bytes = flate_bomb_pdf(64, 16);
    assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
    let limits = ReadLimits {
        max_stream_bytes: 16 << 20,
        max_page_bytes: 64 << 20,
        ..ReadLimits::default()
    };
    let doc = PdfDocument::open_with_limits(Arc::new(bytes), None, limits).unwrap();
    let started = Instant::now();
    let (content, hit) = doc.page_content_bounded(0, &Cancel::new()).unwrap();
    let elapsed = started.elapsed();
    assert!(
        text(&content).contains("Before the bomb"),
        "{}",
        text(&content)
    );
    match hit {
        Some(LimitHit::DecodedSize { streams, .. }) => {
            // Four attempts use up the page's 64 MiB; the other twelve are refused unread.
            assert!((1..=16).contains(&streams), "{streams}");
        }
        other => panic!("expected a decoded-size limit, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn the_document_limit_applies_across_reads() {
    // 8 MiB decoded twice: within the stream and page limits, over the document's 12 MiB.
    let bytes = flate_bomb_pdf(8, 2);
    let limits = ReadLimits {
        max_document_bytes: 12 << 20,
        ..ReadLimits::default()
    };
    let doc = PdfDocument::open_with_limits(Arc::new(bytes.clone()), None, limits).unwrap();
    let (_, hit) = doc.page_content_bounded(0, &Cancel::new()).unwrap();
    assert!(
        matches!(hit, Some(LimitHit::DecodedSize { streams: 1, .. })),
        "{hit:?}"
    );
    // With room for both, nothing is left out.
    let doc = PdfDocument::open(Arc::new(bytes), None).unwrap();
    assert_eq!(doc.page_content_bounded(0, &Cancel::new()).unwrap().1, None);
}

#[test]
fn a_page_that_never_ends_is_cut_at_the_operator_limit() {
    let bytes = nested_forms_pdf(10, 10);
    assert!(bytes.len() < 10_000, "{} bytes", bytes.len());
    let limits = ReadLimits {
        max_operations: 200_000,
        ..ReadLimits::default()
    };
    let doc = PdfDocument::open_with_limits(Arc::new(bytes), None, limits).unwrap();
    let started = Instant::now();
    let (content, hit) = doc.page_content_bounded(0, &Cancel::new()).unwrap();
    assert!(
        matches!(hit, Some(LimitHit::Operations(200_000))),
        "{hit:?}"
    );
    assert!(text(&content).starts_with("Start of an endless page"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_left_out() {
    let bytes = nested_forms_pdf(8, 1);
    let limits = ReadLimits {
        max_nesting: 4,
        ..ReadLimits::default()
    };
    let doc = PdfDocument::open_with_limits(Arc::new(bytes.clone()), None, limits).unwrap();
    let (content, hit) = doc.page_content_bounded(0, &Cancel::new()).unwrap();
    assert_eq!(hit, Some(LimitHit::Nesting(4)));
    assert!(!text(&content).contains('x'), "{}", text(&content));
    // Within the default depth the innermost form is drawn.
    let doc = PdfDocument::open(Arc::new(bytes), None).unwrap();
    let (content, hit) = doc.page_content_bounded(0, &Cancel::new()).unwrap();
    assert_eq!(hit, None);
    assert!(text(&content).ends_with('x'), "{}", text(&content));
}

#[test]
fn a_cancelled_page_stops_within_a_moment() {
    // Unlimited operators: only the cancel flag can stop this page.
    let limits = ReadLimits {
        max_operations: u64::MAX,
        ..ReadLimits::default()
    };
    let doc =
        PdfDocument::open_with_limits(Arc::new(nested_forms_pdf(10, 10)), None, limits).unwrap();
    let cancel = Cancel::new();
    let reader = {
        let (doc, cancel) = (doc.clone(), cancel.clone());
        std::thread::spawn(move || doc.page_content_bounded(0, &cancel))
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(!reader.is_finished(), "the page should still be running");
    let raised = Instant::now();
    cancel.cancel();
    let (_, hit) = reader.join().unwrap().unwrap();
    let stopped = raised.elapsed();
    assert_eq!(hit, Some(LimitHit::Cancelled));
    assert!(
        stopped < Duration::from_millis(500),
        "stopped after {stopped:?}"
    );
}
