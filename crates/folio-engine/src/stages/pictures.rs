//! Text inside pictures on pages kept on their text layer (`--ocr auto`): a poster's title drawn
//! as an image, a screenshot of a dialog, a scanned signature block pasted into a report. The
//! text layer has none of it, so each picture large enough to hold readable text is cut from
//! the page (rendered at [`crate::OCR_RENDER_DPI`] at most) and read by OCR.
//!
//! Where its words go: into the figure block that stands for the picture. The document model
//! already says a figure's text is "what was printed inside it", Markdown, HTML and plain text
//! print it with the figure, in the figure's place in reading order, and the block's
//! provenance becomes OCR. Words the text layer already has at the same place (a label drawn
//! over the picture) are not added twice: an OCR word mostly covered by the text layer's
//! glyphs is dropped.
//!
//! Cost stays bounded: a page reads at most [`PAGE_PICTURE_PIXELS`] of pictures and a document
//! [`DOCUMENT_PICTURE_PIXELS`] (shared by its pages, [`PictureBudget`]); pictures past the
//! budget keep no text and the page's decision says how many. Cancellation (the page's time
//! limit) is checked before and during each picture. Without models (the engine was given
//! none, or they cannot be loaded) the page keeps its text layer; models that cannot be loaded
//! give an `ocr_unavailable` warning naming the pictures left unread.

use std::sync::atomic::{AtomicU64, Ordering};

use folio_content::PageContent;
use folio_doc::{BBox, Block, BlockKind, Line, Provenance, Source, Warning, WarningKind};
use folio_vision::RgbImage;

use super::figures::crop;
use super::{OcrChoice, PageCx, PageError, PageStage, PageState};
use crate::ocr::{OcrFailure, OCR_PIXEL_BUDGET, OCR_RENDER_DPI};
use crate::OcrMode;

/// Pictures smaller than this share of the page are decoration (icons, bullets, logos in a
/// line): the same bound under which the layout makes no figure of an image.
const MIN_PICTURE_SHARE: f32 = 0.02;

/// A picture over this share of the page is the page itself (a scan under an OCR text layer,
/// a page background): its text is the text layer's.
const MAX_PICTURE_SHARE: f32 = 0.9;

/// A picture thinner than this (points) on either side holds no line of readable text.
const MIN_PICTURE_SIDE_PT: f32 = 16.0;

/// Most pixels of pictures one page reads: a letter page's pictures at 200 dpi cover about
/// 3.7 million pixels, so a page full of pictures is read at full resolution or just below.
pub const PAGE_PICTURE_PIXELS: u64 = 4_000_000;

/// Most pixels of pictures one document reads, all pages together: about a dozen pages full of
/// pictures, a few seconds of OCR.
pub const DOCUMENT_PICTURE_PIXELS: u64 = 40_000_000;

/// An OCR word whose box the text layer's glyphs cover by this share is already in the text.
const DUPLICATE_COVER: f32 = 0.5;

/// Text in a picture smaller than this share of the page's body text is not read: a
/// screenshot's menus, a chart's tick labels, a diagram's fine print are the picture's detail,
/// which documents (and the references they are scored against) leave in the picture, while a
/// poster's title, a slide's text or a pasted letter's lines are read like the page. On the
/// dev `text` set, reading every picture's text took redp5110 (17 screenshots) from edit
/// similarity 0.908 to 0.874; from 0.9 of the body size it stays at 0.908.
const MIN_SIZE_OF_BODY: f32 = 0.9;

/// Letters and digits a picture's line needs to be read as text.
const MIN_LINE_CHARS: usize = 2;

/// A line's box (OCR's, or a word's) is about this many times its font size.
const LINE_BOX_PER_SIZE: f32 = 1.3;

/// What is left of a document's pixels for pictures, shared by its pages.
#[derive(Debug)]
pub(crate) struct PictureBudget {
    left: AtomicU64,
}

impl PictureBudget {
    pub(crate) fn new(pixels: u64) -> PictureBudget {
        PictureBudget {
            left: AtomicU64::new(pixels),
        }
    }

    /// Takes `pixels` from the budget; false (and nothing taken) when fewer are left.
    fn take(&self, pixels: u64) -> bool {
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(pixels)
            })
            .is_ok()
    }
}

/// The picture-text stage.
pub(crate) struct PictureText;

impl PageStage for PictureText {
    fn name(&self) -> &'static str {
        "picture_ocr"
    }

    fn run(&self, page: &mut PageState, cx: &PageCx<'_>) -> Result<bool, PageError> {
        // Only a page kept on its text layer by `--ocr auto`: `always` read the whole page
        // already, `never` reads nothing, and an image's pixels went to OCR whole.
        let kept_layer = page.has_text_layer
            && page.choice == OcrChoice::TextLayer
            && page.source == Source::TextLayer;
        if cx.mode != OcrMode::Auto || !kept_layer {
            return Ok(false);
        }
        let Some(budget) = cx.pictures else {
            return Ok(false);
        };
        let pictures = pictures(page);
        if pictures.is_empty() {
            return Ok(false);
        }
        // An engine started without OCR chose to read text layers only.
        let Some(runtime) = cx.ocr else {
            return Ok(false);
        };
        if let Err(e) = runtime.models() {
            let number = page.number;
            let n = pictures.len();
            page.decision = format!("{}; {n} pictures not read: OCR unavailable", page.decision);
            page.warnings.push(Warning::new(
                WarningKind::OcrUnavailable,
                Some(number),
                format!("page {number}: {n} pictures may hold text that was not read: OCR unavailable: {e}"),
            ));
            return Ok(false);
        }
        cx.cancel.check()?;

        // One rendering of the page serves its pictures: at OCR's resolution, unless their
        // pixels (or the whole page's) would pass the budget.
        let (w, h) = (page.content.width.max(1.0), page.content.height.max(1.0));
        let area: f32 = pictures.iter().map(|(_, b)| b.width() * b.height()).sum();
        let page_cap = PAGE_PICTURE_PIXELS.min(cx.max_pixels) as f32;
        let render_cap = OCR_PIXEL_BUDGET.min(cx.max_pixels) as f32;
        let body = body_size(&page.content);
        let min_size = MIN_SIZE_OF_BODY * body;
        let scale = (OCR_RENDER_DPI / 72.0)
            .min((page_cap / area.max(1.0)).sqrt())
            .min((render_cap / (w * h)).sqrt());
        let img = match cx
            .input
            .render_page(page.number, scale, cx.max_pixels, cx.cancel)
        {
            Ok(img) => img,
            Err(PageError::Cancelled) => return Err(PageError::Cancelled),
            Err(e) => {
                page.decision = format!(
                    "{}; {} pictures not read: the page cannot be rendered: {e}",
                    page.decision,
                    pictures.len()
                );
                return Ok(false);
            }
        };
        // Measured rather than assumed: the rendering is rounded to whole pixels.
        let (px_x, px_y) = (img.width() as f32 / w, img.height() as f32 / h);

        let mut read = 0usize;
        let mut lines_found = 0usize;
        let mut pixels = 0u64;
        let mut over_budget = 0usize;
        let mut failed: Option<String> = None;
        for (index, bbox) in pictures {
            cx.cancel.check()?;
            let Some(cut) = crop(&img, &bbox, px_x, px_y) else {
                continue;
            };
            let size = u64::from(cut.width()) * u64::from(cut.height());
            if !budget.take(size) {
                over_budget += 1;
                continue;
            }
            let origin = (
                (bbox.x0 * px_x).floor().max(0.0),
                (bbox.y0 * px_y).floor().max(0.0),
            );
            // Lines under the size kept are not even recognised (a screenshot's menus, a
            // chart's labels): the recogniser's time goes to the lines that can be kept.
            let min_height = min_size * LINE_BOX_PER_SIZE * px_y;
            let found = match read_picture(runtime, cut, origin, (px_x, px_y), min_height, cx) {
                Ok(found) => found,
                Err(PageError::Cancelled) => return Err(PageError::Cancelled),
                Err(e) => {
                    failed.get_or_insert_with(|| e.to_string());
                    continue;
                }
            };
            read += 1;
            pixels += size;
            let found: Vec<PictureLine> = found
                .into_iter()
                .filter(|l| l.size >= min_size && l.is_text())
                .collect();
            let lines = new_lines(&page.content, &bbox, found, page.number);
            lines_found += lines.len();
            if !lines.is_empty() {
                add_lines(&mut page.blocks[index], lines);
            }
        }
        let mut said =
            format!("; OCR of {read} pictures ({pixels} pixels): {lines_found} new lines",);
        if over_budget > 0 {
            said.push_str(&format!(
                ", {over_budget} left unread (picture pixel budget spent)"
            ));
        }
        if let Some(e) = failed {
            said.push_str(&format!(", OCR failed on some: {e}"));
        }
        page.decision.push_str(&said);
        Ok(lines_found > 0)
    }
}

/// The page's pictures worth reading, each with the index of the figure block that stands for
/// it, in reading order. A picture without a figure block (inside a table, or a page
/// background) is left alone: its place in the document is not a picture's.
fn pictures(page: &PageState) -> Vec<(usize, BBox)> {
    let (w, h) = (page.content.width, page.content.height);
    let page_area = (w * h).max(1.0);
    let mut found: Vec<(usize, BBox)> = Vec::new();
    for img in &page.content.images {
        let clipped = BBox::new(
            img.x0.max(0.0),
            img.y0.max(0.0),
            img.x1.min(w),
            img.y1.min(h),
        );
        let (cw, ch) = (clipped.width(), clipped.height());
        let share = cw * ch / page_area;
        if !(MIN_PICTURE_SHARE..MAX_PICTURE_SHARE).contains(&share)
            || cw.min(ch) < MIN_PICTURE_SIDE_PT
            || found.iter().any(|(_, b)| mostly_inside(&clipped, b, 0.9))
        {
            continue;
        }
        let figure = page.blocks.iter().position(|b| {
            b.kind == BlockKind::Figure
                && (mostly_inside(&clipped, &b.bbox, 0.5) || mostly_inside(&b.bbox, &clipped, 0.5))
        });
        if let Some(index) = figure {
            found.push((index, clipped));
        }
    }
    found.sort_by_key(|(i, _)| *i);
    found
}

/// One line OCR read in a picture: its words with their boxes, and its font size, in page
/// units.
struct PictureLine {
    words: Vec<(String, BBox)>,
    size: f32,
}

impl PictureLine {
    /// Whether the line reads as text: at least [`MIN_LINE_CHARS`] letters or digits (a lone
    /// letter or digit is an icon's glyph or a diagram's marker).
    fn is_text(&self) -> bool {
        self.words
            .iter()
            .flat_map(|(t, _)| t.chars())
            .filter(|c| c.is_alphanumeric())
            .count()
            >= MIN_LINE_CHARS
    }
}

/// Reads one picture, cut from the page's rendering at `origin` (pixels), with `px` pixels per
/// page unit across and down.
fn read_picture(
    runtime: &crate::ocr::OcrRuntime,
    cut: RgbImage,
    origin: (f32, f32),
    px: (f32, f32),
    min_line_height: f32,
    cx: &PageCx<'_>,
) -> Result<Vec<PictureLine>, PageError> {
    let read = runtime
        .recognize_picture(cut, min_line_height, cx.cancel)
        .map_err(|e| match e {
            OcrFailure::Models(e) => PageError::Models(e),
            OcrFailure::Run(folio_vision::BackendError::Cancelled) => PageError::Cancelled,
            OcrFailure::Run(e) => PageError::Ocr(e),
        })?;
    // OCR's pixels (the cut, scaled by `fit`) to page units. Without the orientation model a
    // picture is turned, if at all, a half turn (its lines read upside down): its boxes are
    // then those of the turned picture, turned back here. A quarter turn cannot happen.
    let (turned_w, turned_h) = (read.page.width as f32, read.page.height as f32);
    let half_turn = match read.page.turned {
        0 => false,
        2 => true,
        _ => return Ok(Vec::new()),
    };
    let fit = read.fit.max(f32::MIN_POSITIVE);
    let to_page = |x: f32, y: f32| {
        let (x, y) = if half_turn {
            (turned_w - x, turned_h - y)
        } else {
            (x, y)
        };
        ((x / fit + origin.0) / px.0, (y / fit + origin.1) / px.1)
    };
    Ok(read
        .page
        .lines
        .iter()
        .map(|line| PictureLine {
            words: line
                .words
                .iter()
                .filter(|w| !w.text.trim().is_empty() && w.bbox.iter().all(|v| v.is_finite()))
                .map(|w| {
                    let [x0, y0, x1, y1] = w.bbox;
                    let (a, b) = (to_page(x0, y0), to_page(x1, y1));
                    let bbox = BBox::new(a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1));
                    (w.text.clone(), bbox)
                })
                .collect(),
            size: line.height / fit / px.1 / LINE_BOX_PER_SIZE,
        })
        .filter(|l| !l.words.is_empty())
        .collect())
}

/// The lines the text layer does not already have: OCR's lines less the words the layer's
/// glyphs cover, laid out as a page of their own. What is left of a line stays whole (its
/// words joined by the spaces the recogniser read), as on a page read by OCR.
fn new_lines(
    content: &PageContent,
    picture: &BBox,
    found: Vec<PictureLine>,
    number: u32,
) -> Vec<Line> {
    let glyphs: Vec<&BBox> = content
        .glyphs
        .iter()
        .filter(|g| !g.text.trim().is_empty())
        .map(|g| &g.bbox)
        .filter(|g| g.overlap_x(picture) > 0.0 && g.overlap_y(picture) > 0.0)
        .collect();
    let duplicate = |bbox: &BBox| {
        let area = bbox.width().max(0.1) * bbox.height().max(0.1);
        let covered: f32 = glyphs
            .iter()
            .map(|g| g.overlap_x(bbox) * g.overlap_y(bbox))
            .sum();
        covered >= DUPLICATE_COVER * area
    };
    let font = std::sync::Arc::new(folio_content::FontInfo {
        name: "OCR".to_string(),
        bold: false,
        italic: false,
        monospace: false,
    });
    let mut fresh = PageContent::empty(content.width, content.height);
    for line in found {
        // Runs of words the text layer lacks.
        let mut runs: Vec<Vec<(String, BBox)>> = vec![Vec::new()];
        for (text, bbox) in line.words {
            if duplicate(&bbox) {
                runs.push(Vec::new());
            } else if let Some(run) = runs.last_mut() {
                run.push((text, bbox));
            }
        }
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let Some(bbox) = BBox::union_all(run.iter().map(|(_, b)| b)) else {
                continue;
            };
            let text = run
                .into_iter()
                .map(|(t, _)| t)
                .collect::<Vec<_>>()
                .join(" ");
            fresh.glyphs.push(folio_content::Glyph {
                text,
                bbox,
                size: line.size,
                angle: 0.0,
                font: std::sync::Arc::clone(&font),
                seq: fresh.glyphs.len() as u32,
            });
        }
    }
    if fresh.glyphs.is_empty() {
        return Vec::new();
    }
    folio_layout::analyze_page(&fresh, number, Source::Ocr)
        .into_iter()
        .flat_map(|b| match b.table {
            // A table's words, row by row, as lines.
            Some(t) => t
                .grid()
                .into_iter()
                .map(|row| row.join(" "))
                .zip(std::iter::repeat(b.bbox))
                .map(|(text, bbox)| Line {
                    bbox,
                    spans: vec![folio_doc::Span {
                        text,
                        bbox,
                        font: "OCR".to_string(),
                        size: 0.0,
                        bold: false,
                        italic: false,
                    }],
                })
                .collect::<Vec<_>>(),
            None => b.lines,
        })
        .collect()
}

/// The figure block with `lines` read by OCR added after what the text layer gave it; its
/// text now comes (at least in part) from OCR.
fn add_lines(block: &mut Block, lines: Vec<Line>) {
    let mut all = std::mem::take(&mut block.lines);
    all.extend(lines);
    let rebuilt = Block::from_lines(
        BlockKind::Figure,
        all,
        Provenance {
            page: block.provenance.page,
            source: Source::Ocr,
        },
    );
    block.text = rebuilt.text;
    block.lines = rebuilt.lines;
    block.provenance = rebuilt.provenance;
}

/// Whether `inner` lies mostly (by area) inside `outer`.
fn mostly_inside(inner: &BBox, outer: &BBox, share: f32) -> bool {
    let area = inner.width().max(0.1) * inner.height().max(0.1);
    inner.overlap_x(outer) * inner.overlap_y(outer) >= share * area
}

/// The page's body text size: the median size of its text layer's letters and digits.
fn body_size(content: &PageContent) -> f32 {
    let mut sizes: Vec<f32> = content
        .glyphs
        .iter()
        .filter(|g| g.text.chars().any(char::is_alphanumeric) && g.size.is_finite() && g.size > 0.0)
        .map(|g| g.size)
        .collect();
    if sizes.is_empty() {
        return 10.0;
    }
    sizes.sort_by(f32::total_cmp);
    sizes[sizes.len() / 2]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use folio_content::{Cancel, FontInfo, Glyph};

    use super::*;
    use crate::stages::testing::{cx, state, FakeInput};

    fn glyph(text: &str, bbox: BBox) -> Glyph {
        Glyph {
            text: text.to_string(),
            bbox,
            size: 10.0,
            angle: 0.0,
            font: Arc::new(FontInfo {
                name: "Times".into(),
                bold: false,
                italic: false,
                monospace: false,
            }),
            seq: 0,
        }
    }

    fn figure(bbox: BBox) -> Block {
        let mut b = Block::from_lines(
            BlockKind::Figure,
            Vec::new(),
            Provenance {
                page: 1,
                source: Source::TextLayer,
            },
        );
        b.bbox = bbox;
        b
    }

    #[test]
    fn the_budget_refuses_what_it_has_not_and_keeps_what_it_has() {
        let budget = PictureBudget::new(100);
        assert!(budget.take(60));
        assert!(!budget.take(60));
        assert!(budget.take(40));
        assert!(!budget.take(1));
    }

    #[test]
    fn words_the_text_layer_has_are_not_added_twice() {
        let mut content = PageContent::empty(600.0, 800.0);
        // A label the text layer draws over the picture, where OCR reads it too.
        content
            .glyphs
            .push(glyph("Total", BBox::new(150.0, 200.0, 180.0, 212.0)));
        let picture = BBox::new(100.0, 150.0, 500.0, 400.0);
        let line = PictureLine {
            words: vec![
                ("Quarterly".into(), BBox::new(110.0, 200.0, 145.0, 212.0)),
                ("Total".into(), BBox::new(150.0, 200.0, 180.0, 212.0)),
                ("tonnes".into(), BBox::new(185.0, 200.0, 215.0, 212.0)),
                ("shipped".into(), BBox::new(220.0, 200.0, 255.0, 212.0)),
            ],
            size: 10.0,
        };
        let lines = new_lines(&content, &picture, vec![line], 1);
        let texts: Vec<String> = lines.iter().map(Line::text).collect();
        assert_eq!(texts.join(" | "), "Quarterly | tonnes shipped");
        // Nothing new: no lines.
        let only_label = PictureLine {
            words: vec![("Total".into(), BBox::new(151.0, 201.0, 179.0, 211.0))],
            size: 10.0,
        };
        assert!(new_lines(&content, &picture, vec![only_label], 1).is_empty());
    }

    #[test]
    fn a_lone_character_is_not_text() {
        let line = |t: &str| PictureLine {
            words: vec![(t.to_string(), BBox::new(0.0, 0.0, 10.0, 10.0))],
            size: 10.0,
        };
        assert!(!line("A").is_text());
        assert!(!line("1 .").is_text());
        assert!(line("OK").is_text());
    }

    #[test]
    fn only_pictures_with_a_figure_block_and_of_a_readable_size_are_read() {
        let mut content = PageContent::empty(600.0, 800.0);
        // A screenshot, an icon, a full-page background and a picture the layout made no
        // figure of (inside a table, say).
        let screenshot = BBox::new(100.0, 100.0, 500.0, 300.0);
        content.images = vec![
            screenshot,
            BBox::new(50.0, 50.0, 62.0, 62.0),
            BBox::new(0.0, 0.0, 600.0, 800.0),
            BBox::new(100.0, 500.0, 500.0, 700.0),
        ];
        let mut page = state(content, true);
        page.blocks = vec![figure(screenshot)];
        assert_eq!(pictures(&page), vec![(0, screenshot)]);
    }

    #[test]
    fn a_page_read_some_other_way_is_left_alone() {
        let input = FakeInput { raster: None };
        let cancel = Cancel::new();
        let budget = PictureBudget::new(DOCUMENT_PICTURE_PIXELS);
        let screenshot = BBox::new(100.0, 100.0, 500.0, 300.0);
        for (mode, choice) in [
            (OcrMode::Never, OcrChoice::TextLayer),
            (OcrMode::Always, OcrChoice::Ocr),
            (OcrMode::Auto, OcrChoice::Ocr),
            // With OCR wanted but no OCR in this engine: its choice stands, without a word.
            (OcrMode::Auto, OcrChoice::TextLayer),
        ] {
            let mut content = PageContent::empty(600.0, 800.0);
            content.images.push(screenshot);
            let mut page = state(content, true);
            page.blocks = vec![figure(screenshot)];
            page.choice = choice;
            page.decision = "text layer (40 characters)".into();
            let mut cx = cx(&input, mode, &cancel);
            cx.pictures = Some(&budget);
            assert!(!PictureText.run(&mut page, &cx).unwrap());
            assert_eq!(page.decision, "text layer (40 characters)");
            assert!(page.warnings.is_empty());
        }
    }
}
