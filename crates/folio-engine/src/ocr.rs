//! OCR inside the engine: models loaded once from the model store on first need, and the
//! conversion of recognised words into the glyphs layout analysis reads.

use std::sync::Arc;

use folio_content::{Cancel, FontInfo, Glyph, PageContent};
use folio_doc::BBox;
use folio_store::ModelId;
use folio_vision::{BackendKind, Ocr, OcrLine, OcrModelPaths, OcrPage, OcrParams, RgbImage};

use crate::models::{locate, LazyModels, ModelLocator, ModelState};
use crate::ModelError;

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

/// OCR models, located and loaded on first use, then shared by every page and thread (see
/// [`LazyModels`]).
pub(crate) struct OcrRuntime {
    settings: OcrSettings,
    models: LazyModels<Ocr>,
}

impl std::fmt::Debug for OcrRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrRuntime")
            .field("settings", &self.settings)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Why OCR of one page did not give its text.
#[derive(Debug)]
pub(crate) enum OcrFailure {
    /// The models cannot be loaded.
    Models(ModelError),
    /// Inference failed, or was cancelled.
    Run(folio_vision::BackendError),
}

/// What OCR read on a page, with the image it read (upright, scaled to the pixel budget) for
/// the stages after it.
pub(crate) struct OcrRead {
    /// Lines and words, in the pixels of `image`.
    pub page: OcrPage,
    /// The page image as OCR saw it once upright.
    pub image: RgbImage,
    /// Pixels of `image` per pixel of the image given to [`OcrRuntime::recognize`].
    pub fit: f32,
}

impl OcrRuntime {
    pub(crate) fn new(locator: ModelLocator, settings: OcrSettings) -> OcrRuntime {
        let (backend, threads) = (settings.backend, settings.threads);
        OcrRuntime {
            settings,
            models: LazyModels::new("OCR", move || {
                let det = locate(&locator, ModelId::TextDetection)?;
                let rec = locate(&locator, ModelId::TextRecognition)?;
                let cls = locate(&locator, ModelId::TextLineClassifier)?;
                let orientation = locate(&locator, ModelId::PageOrientation)?;
                Ocr::load(
                    &OcrModelPaths {
                        det: &det,
                        rec: &rec,
                        cls: Some(&cls),
                        orientation: Some(&orientation),
                    },
                    backend,
                    threads,
                )
                .map_err(|e| ModelError::Load(Arc::new(e)))
            }),
        }
    }

    /// The state of the models now (no load is attempted).
    pub(crate) fn state(&self) -> ModelState {
        self.models.state()
    }

    /// The loaded models, or why they cannot be loaded (see [`LazyModels::get`]).
    pub(crate) fn models(&self) -> Result<Arc<Ocr>, ModelError> {
        self.models.get()
    }

    /// Recognises `img`, scaled down to the pixel budget first; stops soon after `cancel`.
    pub(crate) fn recognize(&self, img: RgbImage, cancel: &Cancel) -> Result<OcrRead, OcrFailure> {
        self.recognize_with(img, &self.settings.params, cancel)
    }

    /// Recognises a picture cut from an upright page: as [`OcrRuntime::recognize`], without
    /// the page orientation model (the page is upright, and a screenshot or a chart says
    /// little about which way is up), so the words' boxes are in the picture's own pixels.
    /// Lines thinner than `min_line_height` pixels of `img` are not recognised.
    pub(crate) fn recognize_picture(
        &self,
        img: RgbImage,
        min_line_height: f32,
        cancel: &Cancel,
    ) -> Result<OcrRead, OcrFailure> {
        let params = OcrParams {
            detect_orientation: false,
            min_line_height,
            ..self.settings.params
        };
        self.recognize_with(img, &params, cancel)
    }

    fn recognize_with(
        &self,
        img: RgbImage,
        params: &OcrParams,
        cancel: &Cancel,
    ) -> Result<OcrRead, OcrFailure> {
        let models = self.models().map_err(OcrFailure::Models)?;
        let (img, fit) = img.fit_pixels(OCR_PIXEL_BUDGET);
        // A height in the given image's pixels is `fit` times as many of the image read.
        let params = OcrParams {
            min_line_height: params.min_line_height * fit,
            ..*params
        };
        let page = models
            .recognize_until(&img, &params, cancel)
            .map_err(OcrFailure::Run)?;
        // The coordinates are those of the upright page: so is the image kept for the layout
        // model (turned back the way OCR turned it).
        let image = match page.turned {
            0 => img,
            q => img.rotated(4 - q),
        };
        Ok(OcrRead { page, image, fit })
    }
}

/// The lines of an OCR page as glyphs in page units: image pixels divided by `px_per_unit`.
///
/// Each recognised line is one glyph (its words joined by the spaces the recogniser read): the
/// detector already decided what belongs together, and a line kept whole cannot be interleaved
/// word by word with a neighbour that a slightly skewed scan brings onto the same band.
pub(crate) fn page_content(page: &OcrPage, px_per_unit: f32) -> PageContent {
    let font = Arc::new(FontInfo {
        name: "OCR".to_string(),
        bold: false,
        italic: false,
        monospace: false,
    });
    let k = 1.0 / px_per_unit.max(f32::MIN_POSITIVE);
    let mut glyphs = Vec::with_capacity(page.lines.len());
    for line in &page.lines {
        let Some([x0, y0, x1, y1]) = line_extent(line) else {
            continue;
        };
        glyphs.push(Glyph {
            text: line.text.clone(),
            bbox: BBox::new(x0 * k, y0 * k, x1 * k, y1 * k),
            // Detection boxes carry some margin around the letters: their height is about 1.3
            // times the font size, which spacing and heading detection are measured against.
            size: line.height * k / 1.3,
            angle: 0.0,
            font: Arc::clone(&font),
            seq: glyphs.len() as u32,
        });
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

/// Every word OCR read, with its box in page units (image pixels divided by `px_per_unit`).
pub(crate) fn page_words(page: &OcrPage, px_per_unit: f32) -> Vec<(String, BBox)> {
    let k = 1.0 / px_per_unit.max(f32::MIN_POSITIVE);
    page.lines
        .iter()
        .flat_map(|l| &l.words)
        .filter(|w| !w.text.trim().is_empty() && w.bbox.iter().all(|v| v.is_finite()))
        .map(|w| {
            let [x0, y0, x1, y1] = w.bbox;
            (w.text.clone(), BBox::new(x0 * k, y0 * k, x1 * k, y1 * k))
        })
        .collect()
}

/// The box around a line's words (tighter than its detection quad on a skewed line), or around
/// its quad when it has no words.
fn line_extent(line: &OcrLine) -> Option<[f32; 4]> {
    let boxes: Vec<[f32; 4]> = if line.words.is_empty() {
        let xs = line.quad.map(|p| p.0);
        let ys = line.quad.map(|p| p.1);
        vec![[
            xs.iter().copied().fold(f32::INFINITY, f32::min),
            ys.iter().copied().fold(f32::INFINITY, f32::min),
            xs.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            ys.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        ]]
    } else {
        line.words.iter().map(|w| w.bbox).collect()
    };
    let extent = boxes.into_iter().reduce(|a, b| {
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    })?;
    let usable = !line.text.trim().is_empty() && extent.iter().all(|v| v.is_finite());
    usable.then_some(extent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use folio_doc::Source;
    use folio_vision::{OcrTimings, OcrWord};

    fn ocr_line(words: &[(&str, [f32; 4])]) -> OcrLine {
        let [x0, y0, _, y1] = words[0].1;
        let x1 = words[words.len() - 1].1[2];
        OcrLine {
            text: words.iter().map(|w| w.0).collect::<Vec<_>>().join(" "),
            score: 0.9,
            quad: [(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
            height: y1 - y0,
            words: words
                .iter()
                .map(|&(text, bbox)| OcrWord {
                    text: text.to_string(),
                    bbox,
                })
                .collect(),
        }
    }

    #[test]
    fn a_skewed_neighbour_is_not_interleaved_into_a_line() {
        // On a skewed receipt an amount from the row below sits half inside this row's band and
        // between its words. Word by word, the layout used to read "SC-03, 49.00 240VAC".
        let item = ocr_line(&[
            ("SR:", [100.0, 100.0, 130.0, 120.0]),
            ("CONTACTOR,", [136.0, 100.0, 230.0, 120.0]),
            ("SC-03,", [236.0, 100.0, 290.0, 120.0]),
            ("240VAC", [380.0, 101.0, 440.0, 121.0]),
        ]);
        let amount = ocr_line(&[("49.00", [300.0, 109.0, 350.0, 129.0])]);
        let page = OcrPage {
            width: 600,
            height: 300,
            turned: 0,
            lines: vec![item, amount],
            timings: OcrTimings::default(),
        };
        let blocks = folio_layout::analyze_page(&page_content(&page, 1.0), 1, Source::Ocr);
        let lines: Vec<String> = blocks
            .iter()
            .flat_map(|b| b.lines.iter().map(|l| l.text()))
            .collect();
        assert!(
            lines.iter().any(|l| l == "SR: CONTACTOR, SC-03, 240VAC"),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l == "49.00"), "{lines:?}");
    }

    #[test]
    fn blank_lines_are_dropped_and_boxes_scale_to_page_units() {
        let mut blank = ocr_line(&[("", [0.0, 0.0, 10.0, 10.0])]);
        blank.text = " ".to_string();
        let page = OcrPage {
            width: 400,
            height: 400,
            turned: 0,
            lines: vec![blank, ocr_line(&[("TOTAL", [40.0, 80.0, 120.0, 106.0])])],
            timings: OcrTimings::default(),
        };
        let content = page_content(&page, 2.0);
        assert_eq!(content.glyphs.len(), 1);
        let g = &content.glyphs[0];
        assert_eq!(g.text, "TOTAL");
        assert_eq!(
            (g.bbox.x0, g.bbox.y0, g.bbox.x1, g.bbox.y1),
            (20.0, 40.0, 60.0, 53.0)
        );
        assert_eq!((content.width, content.height), (200.0, 200.0));
    }
}
