//! Stages: the named steps between a backend's pages and the finished document.
//!
//! **Page stages** ([`PageStage`]) run on each page in the page pool, in the order of
//! [`PAGE_STAGES`], over one [`PageState`]:
//!
//! 1. [`decide`]: text layer or OCR, and why (kept in the page's provenance);
//! 2. [`ocr`]: reads the page's raster when the decision asks for it;
//! 3. [`layout`]'s `Words`: glyphs (or OCR lines) grouped into words and lines;
//! 4. [`tables`]: tables taken out of the running text (rules, alignment);
//! 5. [`layout_model`]: regions from the layout model (tables read by the table model,
//!    figures and their captions, formulas, titles, running heads) on the pages `--layout`
//!    sends to it;
//! 6. [`layout`]'s `Blocks`: reading order and block roles;
//! 7. [`pictures`]: under `--ocr auto`, the text inside the pictures of a page kept on its
//!    text layer, read by OCR into their figure blocks (within the picture pixel budget);
//! 8. [`figures`]: each figure's picture cropped from the page, when the request asks for
//!    pictures (`--images`, `images=inline`).
//!
//! **Document stages** ([`DocumentStage`]) run once every page is done, in the order of
//! [`DOCUMENT_STAGES`]: [`document`]'s running headers/footers and heading levels (paged
//! inputs only; a flow format's structure comes from the file), then [`fields`]: the named
//! fields a request asks for (`folio-fields`), over paged and flow documents alike.
//!
//! A stage reports whether it changed the page; the names of those that did are kept in
//! `PageProvenance::stages`, after the decision. Adding a step is a module here with a type that
//! implements the trait, and one line in the list.

pub(crate) mod decide;
pub(crate) mod document;
pub(crate) mod fields;
pub(crate) mod figures;
pub(crate) mod layout;
pub(crate) mod layout_model;
pub(crate) mod ocr;
pub(crate) mod pictures;
pub(crate) mod tables;

use std::time::Duration;

use folio_content::{Cancel, PageContent};
use folio_doc::{Block, Document, Page, PageProvenance, Source, Warning};
use folio_vision::RgbImage;

use crate::backends::{PagedInput, SourcePage};
use crate::layout_models::LayoutRuntime;
use crate::ocr::OcrRuntime;
use crate::{LayoutMode, OcrMode};

/// Why a page could not be extracted. The page is left out of the document and a warning
/// says why; a document none of whose pages could be extracted is an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// The PDF page cannot be read.
    #[error("{0}")]
    Pdf(#[source] folio_pdf::PdfError),
    /// The PDF page cannot be rendered for OCR.
    #[error("cannot render for OCR: {0}")]
    Render(#[source] folio_pdf::PdfError),
    /// A rendered raster has the wrong size.
    #[error("{0}")]
    Raster(#[source] folio_vision::ImageSizeError),
    /// The image page cannot be decoded.
    #[error("{0}")]
    Image(#[source] Box<crate::ExtractError>),
    /// The page needs OCR and the engine has none.
    #[error("OCR needed but this engine has no OCR models")]
    NoModels,
    /// The OCR models cannot be loaded.
    #[error("{0}")]
    Models(#[source] crate::ModelError),
    /// The page's backend has no raster to give OCR.
    #[error("the page has no image to read")]
    NoRaster,
    /// OCR ran and failed (an inference error, not missing models).
    #[error("OCR failed: {0}")]
    Ocr(#[source] folio_vision::BackendError),
    /// The page was cancelled (its time limit, the document's, or the caller).
    #[error("cancelled")]
    Cancelled,
    /// The page ran past its time limit.
    #[error("abandoned after the page time limit of {0:?}")]
    Timeout(Duration),
    /// The page's code panicked (a bug, caught so that the document goes on).
    #[error("internal error: {0}")]
    Panic(String),
}

impl From<folio_content::Cancelled> for PageError {
    fn from(_: folio_content::Cancelled) -> Self {
        PageError::Cancelled
    }
}

/// What every page stage can see besides the page: the page's backend, the caller's options
/// and the engine's shared parts.
pub(crate) struct PageCx<'a> {
    /// The opened document, to render the page for OCR.
    pub input: &'a dyn PagedInput,
    /// When to use OCR.
    pub mode: OcrMode,
    /// The engine's OCR, when it has one.
    pub ocr: Option<&'a OcrRuntime>,
    /// When to run the layout models.
    pub layout_mode: LayoutMode,
    /// The engine's layout and table models, when it has them.
    pub layout: Option<&'a LayoutRuntime>,
    /// Most pixels in one raster.
    pub max_pixels: u64,
    /// The document's budget for figure pictures, when the request asks for them.
    pub images: Option<&'a figures::ImageBudget>,
    /// The document's pixels for reading text inside pictures (`--ocr auto`); none, none read.
    pub pictures: Option<&'a pictures::PictureBudget>,
    /// Set when the page must stop.
    pub cancel: &'a Cancel,
}

/// The decision stage's verdict on one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OcrChoice {
    /// Keep the text layer.
    TextLayer,
    /// Read the page with OCR.
    Ocr,
}

/// One page on its way through the stages.
pub(crate) struct PageState {
    /// 1-based page number.
    pub number: u32,
    /// The page's content: its text layer, replaced by OCR's lines when OCR runs.
    pub content: PageContent,
    /// Whether the page's format has a text layer.
    pub has_text_layer: bool,
    /// The page's own image, for an image input; after OCR, the image OCR read (upright), which
    /// the layout model reads too.
    pub raster: Option<RgbImage>,
    /// Pixels of `raster` per page unit.
    pub px_per_point: f32,
    /// OCR's words with their boxes in page units (the page's glyphs are OCR's whole lines),
    /// to fill the cells of a table the table model finds.
    pub ocr_words: Vec<(String, folio_doc::BBox)>,
    /// Where the page's text comes from.
    pub source: Source,
    /// The decision and its reasons, for provenance.
    pub decision: String,
    /// What the decision stage chose.
    pub choice: OcrChoice,
    /// Words, lines and tables between the layout stages.
    pub layout: Option<folio_layout::PageLayout>,
    /// The page's blocks, once laid out.
    pub blocks: Vec<Block>,
    /// Names of the stages that changed the page.
    pub stages: Vec<String>,
    /// Problems met on this page (content dropped, OCR unavailable).
    pub warnings: Vec<Warning>,
}

impl PageState {
    fn new(number: u32, page: SourcePage, has_text_layer: bool) -> PageState {
        PageState {
            number,
            content: page.content,
            has_text_layer,
            raster: page.raster,
            px_per_point: page.px_per_point,
            ocr_words: Vec::new(),
            source: Source::TextLayer,
            decision: String::new(),
            choice: OcrChoice::TextLayer,
            layout: None,
            blocks: Vec::new(),
            stages: Vec::new(),
            warnings: page.warnings,
        }
    }

    fn into_page(self) -> (Page, Vec<Warning>) {
        let partial = !self.warnings.is_empty();
        let page = Page {
            number: self.number,
            width: self.content.width,
            height: self.content.height,
            rotation: self.content.rotation,
            blocks: self.blocks,
            provenance: PageProvenance {
                source: self.source,
                decision: self.decision,
                stages: self.stages,
                partial,
            },
        };
        (page, self.warnings)
    }
}

/// One step of a page's extraction.
pub(crate) trait PageStage: Sync {
    /// The stage's name, as provenance lists it.
    fn name(&self) -> &'static str;

    /// Runs the stage on `page`; returns whether it changed the page.
    fn run(&self, page: &mut PageState, cx: &PageCx<'_>) -> Result<bool, PageError>;
}

/// The page stages, in order (see the module documentation).
pub(crate) const PAGE_STAGES: &[&dyn PageStage] = &[
    &decide::Decide,
    &ocr::OcrStage,
    &layout::Words,
    &tables::Tables,
    &layout_model::LayoutModelStage,
    &layout::Blocks,
    &pictures::PictureText,
    &figures::FigureImages,
];

/// Reads page `number` from its backend and runs every page stage on it. Returns the finished
/// page and the warnings about it.
pub(crate) fn run_page(number: u32, cx: &PageCx<'_>) -> Result<(Page, Vec<Warning>), PageError> {
    cx.cancel.check()?;
    let source = cx.input.read_page(number, cx.cancel)?;
    let mut page = PageState::new(number, source, cx.input.has_text_layer());
    for warning in std::mem::take(&mut page.content.warnings) {
        page.warnings.push(content_warning(number, warning));
    }
    for stage in PAGE_STAGES {
        cx.cancel.check()?;
        if stage.run(&mut page, cx)? {
            page.stages.push(stage.name().to_string());
        }
    }
    Ok(page.into_page())
}

/// A reader's warning as a document warning: the page lost content.
pub(crate) fn content_warning(number: u32, w: folio_content::ContentWarning) -> Warning {
    Warning::new(
        folio_doc::WarningKind::ContentDropped,
        Some(number),
        format!("page {number}: {}", w.message),
    )
}

/// What document stages can see besides the document.
pub(crate) struct DocCx<'a> {
    /// The document came from a paged backend (its pages went through the page stages).
    pub paged: bool,
    /// The fields the request asks for, if any.
    pub fields: Option<&'a folio_fields::FieldRequest>,
    /// The engine's model endpoint for fields, if the operator configured one.
    pub llm: Option<&'a folio_fields::LlmClient>,
}

impl DocCx<'_> {
    /// A context that asks for no fields.
    #[cfg(test)]
    pub(crate) fn plain(paged: bool) -> DocCx<'static> {
        DocCx {
            paged,
            fields: None,
            llm: None,
        }
    }
}

/// One step over the whole document, once every page is done.
pub(crate) trait DocumentStage: Sync {
    /// The stage's name, as provenance lists it.
    fn name(&self) -> &'static str;

    /// Runs the stage; returns the numbers of the pages it changed.
    fn run(&self, doc: &mut Document, cx: &DocCx<'_>) -> Vec<u32>;
}

/// The document stages, in order (see the module documentation).
pub(crate) const DOCUMENT_STAGES: &[&dyn DocumentStage] =
    &[&document::Furniture, &document::Headings, &fields::Fields];

/// Runs every document stage on `doc`, recording in each page's provenance which changed it.
pub(crate) fn run_document(doc: &mut Document, cx: &DocCx<'_>) {
    for stage in DOCUMENT_STAGES {
        let changed = stage.run(doc, cx);
        for page in doc.pages.iter_mut().filter(|p| changed.contains(&p.number)) {
            page.provenance.stages.push(stage.name().to_string());
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A paged input made of given pages, for the stages' tests.

    use super::*;

    pub(crate) struct FakeInput {
        pub raster: Option<RgbImage>,
    }

    impl PagedInput for FakeInput {
        fn metadata(&self) -> folio_doc::Metadata {
            folio_doc::Metadata::default()
        }
        fn has_text_layer(&self) -> bool {
            true
        }
        fn read_page(&self, _: u32, _: &Cancel) -> Result<SourcePage, PageError> {
            Err(PageError::NoRaster)
        }
        fn render_page(&self, _: u32, _: f32, _: u64, _: &Cancel) -> Result<RgbImage, PageError> {
            self.raster.clone().ok_or(PageError::NoRaster)
        }
    }

    /// A page state holding `content` from a PDF (text layer) or an image.
    pub(crate) fn state(content: PageContent, has_text_layer: bool) -> PageState {
        PageState::new(
            1,
            SourcePage {
                content,
                raster: None,
                px_per_point: 1.0,
                warnings: Vec::new(),
            },
            has_text_layer,
        )
    }

    pub(crate) fn cx<'a>(input: &'a FakeInput, mode: OcrMode, cancel: &'a Cancel) -> PageCx<'a> {
        PageCx {
            input,
            mode,
            ocr: None,
            layout_mode: LayoutMode::Fast,
            layout: None,
            max_pixels: 40_000_000,
            images: None,
            pictures: None,
            cancel,
        }
    }
}
