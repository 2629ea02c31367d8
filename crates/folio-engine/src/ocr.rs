//! OCR inside the engine: models loaded once from the model store on first need, and the
//! conversion of recognised words into the glyphs layout analysis reads.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use folio_doc::BBox;
use folio_layout::{FontInfo, Glyph, PageContent};
use folio_store::ModelId;
use folio_vision::{BackendKind, Ocr, OcrModelPaths, OcrPage, OcrParams, RgbImage};

use crate::ExtractError;

/// Pages are scaled down to at most this many pixels before any model sees them. Detection
/// works at about 2000 pixels on the long side and recognition at 48 pixels per line, so more
/// only costs memory and time.
pub const OCR_PIXEL_BUDGET: u64 = 12_000_000;

/// PDF pages without a usable text layer are rendered at this resolution for OCR.
pub const OCR_RENDER_DPI: f32 = 200.0;

/// How OCR runs.
#[derive(Debug, Clone)]
pub struct OcrSettings {
    /// Inference backend.
    pub backend: BackendKind,
    /// Threads each model may use.
    pub threads: usize,
    /// Pipeline tuning.
    pub params: OcrParams,
}

impl Default for OcrSettings {
    fn default() -> Self {
        OcrSettings {
            backend: BackendKind::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            params: OcrParams::default(),
        }
    }
}

/// Finds a verified model file, or says why it cannot (naming the command that fixes it).
/// Usually [`folio_store::Store::model_path`]; called only when a page needs OCR.
pub type ModelLocator = Arc<dyn Fn(ModelId) -> Result<PathBuf, String> + Send + Sync>;

/// OCR models, located and loaded on first use, then shared by every page and thread. A
/// document that needs no OCR never loads (or needs) a model.
pub(crate) struct OcrRuntime {
    locate: ModelLocator,
    settings: OcrSettings,
    loaded: OnceLock<Result<Arc<Ocr>, String>>,
}

impl std::fmt::Debug for OcrRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrRuntime")
            .field("settings", &self.settings)
            .field("loaded", &self.loaded.get().map(|r| r.is_ok()))
            .finish_non_exhaustive()
    }
}

impl OcrRuntime {
    pub(crate) fn new(locate: ModelLocator, settings: OcrSettings) -> OcrRuntime {
        OcrRuntime {
            locate,
            settings,
            loaded: OnceLock::new(),
        }
    }

    /// The loaded models, or why they cannot be loaded (a missing or corrupt model names the
    /// command that installs it).
    pub(crate) fn models(&self) -> Result<Arc<Ocr>, ExtractError> {
        self.loaded
            .get_or_init(|| self.load().map(Arc::new))
            .clone()
            .map_err(ExtractError::ModelsUnavailable)
    }

    fn load(&self) -> Result<Ocr, String> {
        let path = |id: ModelId| (self.locate)(id);
        let det = path(ModelId::TextDetection)?;
        let rec = path(ModelId::TextRecognition)?;
        let cls = path(ModelId::TextLineClassifier)?;
        let orientation = path(ModelId::PageOrientation)?;
        let started = std::time::Instant::now();
        let ocr = Ocr::load(
            &OcrModelPaths {
                det: &det,
                rec: &rec,
                cls: Some(&cls),
                orientation: Some(&orientation),
            },
            self.settings.backend,
            self.settings.threads,
        )
        .map_err(|e| e.to_string())?;
        tracing::info!(
            backend = self.settings.backend.name(),
            ms = started.elapsed().as_millis() as u64,
            "OCR models loaded"
        );
        Ok(ocr)
    }

    /// Recognises `img`, scaled down to the pixel budget first.
    pub(crate) fn recognize(&self, img: RgbImage) -> Result<(OcrPage, f32), ExtractError> {
        let models = self.models()?;
        let (img, scale) = img.fit_pixels(OCR_PIXEL_BUDGET);
        let page = models
            .recognize(&img, &self.settings.params)
            .map_err(|e| ExtractError::ModelsUnavailable(format!("OCR failed: {e}")))?;
        Ok((page, scale))
    }
}

/// The words of an OCR page as glyphs in page units: image pixels divided by `px_per_unit`.
pub(crate) fn page_content(page: &OcrPage, px_per_unit: f32) -> PageContent {
    let font = Arc::new(FontInfo {
        name: "OCR".to_string(),
        bold: false,
        italic: false,
        monospace: false,
    });
    let k = 1.0 / px_per_unit.max(f32::MIN_POSITIVE);
    let mut glyphs = Vec::new();
    for line in &page.lines {
        // Detection boxes carry some margin around the letters: their height is about 1.3 times
        // the font size, which word spacing and heading detection are measured against.
        let size = line.height * k / 1.3;
        for (i, w) in line.words.iter().enumerate() {
            let [x0, y0, x1, y1] = w.bbox;
            if i > 0 {
                // The recogniser read a space here: say so with a space glyph, since word
                // boxes placed from character positions can nearly touch.
                let at = glyphs
                    .last()
                    .map_or(x0 * k, |g: &Glyph| g.bbox.x1.min(x0 * k));
                glyphs.push(Glyph {
                    text: " ".to_string(),
                    bbox: BBox::new(at, y0 * k, at, y1 * k),
                    size,
                    angle: 0.0,
                    font: Arc::clone(&font),
                    seq: glyphs.len() as u32,
                });
            }
            glyphs.push(Glyph {
                text: w.text.clone(),
                bbox: BBox::new(x0 * k, y0 * k, x1 * k, y1 * k),
                size,
                angle: 0.0,
                font: Arc::clone(&font),
                seq: glyphs.len() as u32,
            });
        }
    }
    PageContent {
        width: page.width as f32 * k,
        height: page.height as f32 * k,
        rotation: 0,
        glyphs,
        segments: Vec::new(),
        images: Vec::new(),
        warnings: Vec::new(),
    }
}
