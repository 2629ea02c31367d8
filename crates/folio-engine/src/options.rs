//! What the caller asks of an extraction.

use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Bounds on what one extraction may consume.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: u64,
    /// Most pages processed in one document.
    pub max_pages: u32,
    /// Most pixels in one raster (an input image, or a page rendered for OCR).
    pub max_page_pixels: u64,
    /// Time one page may take before it is abandoned with a warning.
    pub page_timeout: Duration,
    /// Time the whole document may take.
    pub total_timeout: Duration,
    /// Pages of this document extracted at once (`--page-workers`), within the process's page
    /// pool (`crate::PagePool`); the pool's size when `None`.
    pub page_workers: Option<std::num::NonZeroUsize>,
    /// Bytes of figure pictures kept in one document when they are asked for
    /// ([`ExtractOptions::images`]); figures past it keep their box, with a warning.
    pub max_image_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 256 * 1024 * 1024,
            max_pages: 5000,
            max_page_pixels: 40_000_000,
            page_timeout: Duration::from_secs(60),
            total_timeout: Duration::from_secs(900),
            page_workers: None,
            max_image_bytes: 64 * 1024 * 1024,
        }
    }
}

/// When to run OCR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OcrMode {
    /// Per page: OCR when the text layer is missing or unusable.
    #[default]
    Auto,
    /// OCR every page, ignoring any text layer.
    Always,
    /// Never OCR; pages without text come out empty.
    Never,
}

impl OcrMode {
    /// Every mode, in the order `--help` lists them.
    pub const ALL: [OcrMode; 3] = [OcrMode::Auto, OcrMode::Always, OcrMode::Never];

    /// The mode's name, as [`FromStr`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            OcrMode::Auto => "auto",
            OcrMode::Always => "always",
            OcrMode::Never => "never",
        }
    }
}

impl FromStr for OcrMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(OcrMode::Auto),
            "always" => Ok(OcrMode::Always),
            "never" => Ok(OcrMode::Never),
            _ => Err(format!(
                "unknown OCR mode {s:?} (expected auto, always or never)"
            )),
        }
    }
}

/// When to run the layout and table-structure models (`--layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayoutMode {
    /// Per page, where they add something the heuristics cannot: pages read by OCR (scans,
    /// images) whose text reads like a document or holds a table, not a till receipt's strip,
    /// and born-digital pages with rows of aligned text that the table stage did not take
    /// (tables found by rules or alignment need no model).
    #[default]
    Auto,
    /// On every page.
    Model,
    /// Never: heuristic layout only.
    Fast,
}

impl LayoutMode {
    /// Every mode, in the order `--help` lists them.
    pub const ALL: [LayoutMode; 3] = [LayoutMode::Auto, LayoutMode::Model, LayoutMode::Fast];

    /// The mode's name, as [`FromStr`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            LayoutMode::Auto => "auto",
            LayoutMode::Model => "model",
            LayoutMode::Fast => "fast",
        }
    }
}

impl FromStr for LayoutMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LayoutMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown layout mode {s:?} (expected auto, model or fast)"))
    }
}

/// A set of 1-based page numbers, written like `1-3,7,10-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSelection {
    ranges: Vec<RangeInclusive<u32>>,
}

/// A page selection that does not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid page selection {input:?}: {reason}")]
pub struct PageSelectionError {
    input: String,
    reason: &'static str,
}

impl FromStr for PageSelection {
    type Err = PageSelectionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| PageSelectionError {
            input: s.to_string(),
            reason,
        };
        let mut ranges = Vec::new();
        for part in s.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(err("empty item"));
            }
            let num = |t: &str| -> Result<u32, PageSelectionError> {
                let n: u32 = t.trim().parse().map_err(|_| err("not a page number"))?;
                if n == 0 {
                    return Err(err("pages are numbered from 1"));
                }
                Ok(n)
            };
            let range = match part.split_once('-') {
                None => {
                    let n = num(part)?;
                    n..=n
                }
                Some((a, "")) => num(a)?..=u32::MAX,
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(err("range goes backwards"));
                    }
                    a..=b
                }
            };
            ranges.push(range);
        }
        Ok(PageSelection { ranges })
    }
}

/// Written back as it parses: `1-3,7,10-`.
impl std::fmt::Display for PageSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match (*r.start(), *r.end()) {
                (a, b) if a == b => write!(f, "{a}")?,
                (a, u32::MAX) => write!(f, "{a}-")?,
                (a, b) => write!(f, "{a}-{b}")?,
            }
        }
        Ok(())
    }
}

impl PageSelection {
    /// The selected pages of a document with `count` pages, in ascending order without
    /// repeats; an explicitly named page past the end is an error (`Err(first missing page)`).
    pub fn resolve(&self, count: u32) -> Result<Vec<u32>, u32> {
        let mut pages = Vec::new();
        for r in &self.ranges {
            if *r.start() > count {
                return Err(*r.start());
            }
            // An open range (`10-`) runs to the end; a closed one past the end is an error.
            if *r.end() != u32::MAX && *r.end() > count {
                return Err(*r.end());
            }
            pages.extend(*r.start()..=(*r.end()).min(count));
        }
        pages.sort_unstable();
        pages.dedup();
        Ok(pages)
    }
}

/// Everything an extraction is asked to do.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Pages to extract; all when `None`.
    pub pages: Option<PageSelection>,
    /// Password for an encrypted PDF.
    pub password: Option<String>,
    /// When to use OCR.
    pub ocr: OcrMode,
    /// When to run the layout and table models.
    pub layout: LayoutMode,
    /// Resource bounds.
    pub limits: Limits,
    /// The input's file name, for metadata and type detection.
    pub filename: Option<String>,
    /// Set to `true` from another thread to stop the extraction between pages.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Named fields to extract after the document pass (`--fields`, `--schema`).
    pub fields: Option<Arc<folio_fields::FieldRequest>>,
    /// Keep each figure's picture on its block ([`folio_doc::Image`], PNG or the embedded
    /// file's own JPEG/PNG bytes), within [`Limits::max_image_bytes`].
    pub images: bool,
    /// PPTX: each slide's speaker notes after its content (`--notes`).
    pub notes: bool,
    /// XLSX, XLS, ODS: hidden sheets too (`--hidden-sheets`).
    pub hidden_sheets: bool,
}

impl ExtractOptions {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_selection_parses_and_resolves() {
        let s: PageSelection = "1-3,7,2".parse().unwrap();
        assert_eq!(s.resolve(10).unwrap(), vec![1, 2, 3, 7]);
        assert_eq!(s.resolve(5), Err(7));
        let open: PageSelection = "4-".parse().unwrap();
        assert_eq!(open.resolve(6).unwrap(), vec![4, 5, 6]);
        for written in ["1-3,7,2", "4-", "5"] {
            let s: PageSelection = written.parse().unwrap();
            assert_eq!(s.to_string(), written);
        }
        for bad in ["", "0", "3-1", "a", "1,,2", "-2"] {
            assert!(bad.parse::<PageSelection>().is_err(), "{bad}");
        }
    }

    #[test]
    fn layout_modes_parse_by_name() {
        for mode in LayoutMode::ALL {
            assert_eq!(mode.name().parse::<LayoutMode>(), Ok(mode));
        }
        assert_eq!(LayoutMode::default(), LayoutMode::Auto);
        let err = "heuristic".parse::<LayoutMode>().unwrap_err();
        assert!(
            err.contains("\"heuristic\"") && err.contains("fast"),
            "{err}"
        );
    }
}
