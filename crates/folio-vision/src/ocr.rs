//! The OCR pipeline of one page: orientation → detection → line direction → recognition.

use std::path::Path;
use std::time::Instant;

use folio_content::Cancel;

use crate::backend::{BackendError, BackendKind, Precision, Session};
use crate::det::{detect, DetParams, TextBox};
use crate::geometry::Point;
use crate::image::{Frame, RgbImage};
use crate::rec::{RecLine, RecParams, Recognizer};
use crate::{cls, orientation};

/// Where the model files are.
#[derive(Debug, Clone)]
pub struct OcrModelPaths<'a> {
    /// Text detection (DB).
    pub det: &'a Path,
    /// Text recognition (CTC).
    pub rec: &'a Path,
    /// Line direction 0/180; optional.
    pub cls: Option<&'a Path>,
    /// Page orientation 0/90/180/270; optional.
    pub orientation: Option<&'a Path>,
}

/// Tuning of the whole pipeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OcrParams {
    /// Detection.
    pub det: DetParams,
    /// Recognition.
    pub rec: RecParams,
    /// Run the page orientation model and turn the page upright when it is sure.
    pub detect_orientation: bool,
    /// Confidence the orientation model needs before a page is turned.
    pub orientation_threshold: f32,
    /// Run the line direction classifier and read upside-down lines the right way.
    pub classify_lines: bool,
    /// Lines whose recognition score is below this are dropped as noise.
    pub min_line_score: f32,
    /// Lines whose box is thinner than this many pixels across their reading direction are
    /// not recognised: a caller that keeps text only from some size on (the text inside a
    /// picture on a text page) spares the recogniser the rest. 0 reads every line.
    pub min_line_height: f32,
}

impl Default for OcrParams {
    fn default() -> Self {
        OcrParams {
            det: DetParams::default(),
            rec: RecParams::default(),
            detect_orientation: true,
            orientation_threshold: 0.8,
            classify_lines: true,
            min_line_score: 0.5,
            min_line_height: 0.0,
        }
    }
}

/// A recognised word, with its axis-aligned box in page pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrWord {
    /// The word.
    pub text: String,
    /// `[x0, y0, x1, y1]`.
    pub bbox: [f32; 4],
}

/// A recognised text line.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    /// The line's text (words separated by single spaces).
    pub text: String,
    /// Mean probability of the recognised characters.
    pub score: f32,
    /// The line's box: top-left, top-right, bottom-right, bottom-left, in page pixels.
    pub quad: [Point; 4],
    /// Height of the line's box across its reading direction, in pixels.
    pub height: f32,
    /// The words, left to right.
    pub words: Vec<OcrWord>,
}

/// Time spent in each stage, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OcrTimings {
    /// Page orientation.
    pub orientation_ms: u64,
    /// Detection, post-processing included.
    pub det_ms: u64,
    /// Line direction classification.
    pub cls_ms: u64,
    /// Recognition and decoding.
    pub rec_ms: u64,
}

/// What OCR found on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrPage {
    /// Width of the (upright) image the coordinates refer to.
    pub width: u32,
    /// Height of the (upright) image the coordinates refer to.
    pub height: u32,
    /// Quarter turns anticlockwise applied to make the page upright (0 when it already was).
    pub turned: u8,
    /// Lines, top to bottom and left to right.
    pub lines: Vec<OcrLine>,
    /// Stage timings.
    pub timings: OcrTimings,
}

/// Loaded OCR models. Share one (`Arc<Ocr>`) between threads.
#[derive(Debug)]
pub struct Ocr {
    det: Box<dyn Session>,
    rec: Recognizer,
    cls: Option<Box<dyn Session>>,
    orientation: Option<Box<dyn Session>>,
    /// Threads each model runs on; work outside the models uses as many.
    threads: usize,
    /// What the recogniser computes in.
    rec_precision: Precision,
}

/// The recogniser's arithmetic: int8 1x1 convolutions (see [`Precision`]) unless
/// `FOLIO_REC_PRECISION=f32` (read once) asks for the model's own f32, to compare the two.
///
/// Measured on the 63 SROIE receipts (`bench/ocr.sh`, its `folio-f32` row): int8 moves cer_ci
/// by well under 0.002 and takes about a third off recognition, most of a small receipt's
/// time.
pub fn recognizer_precision() -> Precision {
    static PRECISION: std::sync::OnceLock<Precision> = std::sync::OnceLock::new();
    *PRECISION.get_or_init(|| match std::env::var("FOLIO_REC_PRECISION") {
        Ok(v) if v.trim().eq_ignore_ascii_case("f32") => Precision::F32,
        _ => Precision::Int8Pointwise,
    })
}

impl Ocr {
    /// Loads the models with `backend`, each running on `threads` threads.
    pub fn load(
        paths: &OcrModelPaths<'_>,
        backend: BackendKind,
        threads: usize,
    ) -> Result<Ocr, BackendError> {
        let load = |p: &Path| backend.load(p, threads);
        let rec_precision = match backend {
            BackendKind::Rten => recognizer_precision(),
            _ => Precision::F32,
        };
        // Loading is parsing and graph optimisation on one thread. The recogniser is half of
        // the bytes, so it loads beside the other three (44 -> 30 ms on 2 cores).
        std::thread::scope(|scope| {
            let rec = scope.spawn(|| backend.load_with(paths.rec, threads, rec_precision));
            let det = load(paths.det);
            let cls = paths.cls.map(load).transpose();
            let orientation = paths.orientation.map(load).transpose();
            let rec = rec.join().unwrap_or_else(|_| {
                Err(BackendError::Load {
                    path: paths.rec.display().to_string(),
                    reason: "the loading thread panicked".to_string(),
                })
            });
            Ok(Ocr {
                det: det?,
                rec: Recognizer::new(rec?)?,
                cls: cls?,
                orientation: orientation?,
                threads: threads.max(1),
                rec_precision,
            })
        })
    }

    /// What the recogniser computes in (see [`recognizer_precision`]).
    pub fn recognizer_precision(&self) -> Precision {
        self.rec_precision
    }

    /// The detector's lines on `img` in reading order, its time added to `timings`.
    fn detect_lines(
        &self,
        img: &RgbImage,
        p: &OcrParams,
        timings: &mut OcrTimings,
    ) -> Result<Vec<TextBox>, BackendError> {
        let t = Instant::now();
        let boxes = sort_reading(detect(self.det.as_ref(), img, &p.det, self.threads)?);
        timings.det_ms += ms(t);
        Ok(boxes)
    }

    /// Reads the text of one page image.
    pub fn recognize(&self, img: &RgbImage, p: &OcrParams) -> Result<OcrPage, BackendError> {
        self.recognize_until(img, p, &Cancel::new())
    }

    /// [`Ocr::recognize`], stopping with [`BackendError::Cancelled`] soon after `cancel` is set:
    /// it is checked between the stages and between recognition batches.
    pub fn recognize_until(
        &self,
        img: &RgbImage,
        p: &OcrParams,
        cancel: &Cancel,
    ) -> Result<OcrPage, BackendError> {
        let mut timings = OcrTimings::default();
        let mut turned = 0u8;
        let mut upright: Option<RgbImage> = None;
        let mut boxes = self.detect_lines(img, p, &mut timings)?;
        cancel.check()?;

        // The orientation model tells 0/90/180/270, but lines that run across the page already
        // say the page is upright or upside down, and the line classifier below tells those two
        // apart: the model runs only on pages whose lines run up or down.
        if let (true, Some(model)) = (p.detect_orientation, &self.orientation) {
            if !boxes.is_empty() && !lines_run_across(&boxes) {
                let t = Instant::now();
                let o = orientation::classify(model.as_ref(), img)?;
                timings.orientation_ms = ms(t);
                if o.quarter_turns != 0 && o.confidence >= p.orientation_threshold {
                    tracing::debug!(
                        turns = o.quarter_turns,
                        confidence = o.confidence,
                        "page turned"
                    );
                    turned = o.quarter_turns;
                    let turned_img = img.rotated(4 - o.quarter_turns);
                    cancel.check()?;
                    boxes = self.detect_lines(&turned_img, p, &mut timings)?;
                    upright = Some(turned_img);
                }
            }
        }
        cancel.check()?;

        let mut frames: Vec<Frame> = boxes.iter().map(|b| line_frame(&b.quad)).collect();
        if let (true, Some(model)) = (p.classify_lines, &self.cls) {
            let t = Instant::now();
            // Detection run again in here counts as detection.
            let det_before = timings.det_ms;
            let page = upright.as_ref().unwrap_or(img);
            let mut flips = upside_down_lines(model.as_ref(), page, &frames)?;
            // Most of the surest lines upside down: the page is, so it is turned a half turn
            // (its lines read in order, its coordinates those of the upright page), read again
            // (the detector finds lines a little differently the right way up) and its lines
            // classified again.
            if turned == 0 && flips.sample_upside_down() {
                tracing::debug!("page upside down by its lines; turned a half turn");
                turned = 2;
                let turned_img = page.rotated(2);
                cancel.check()?;
                boxes = self.detect_lines(&turned_img, p, &mut timings)?;
                frames = boxes.iter().map(|b| line_frame(&b.quad)).collect();
                flips = upside_down_lines(model.as_ref(), &turned_img, &frames)?;
                upright = Some(turned_img);
            }
            for (i, flip) in flips.lines {
                if flip {
                    frames[i] = frames[i].turned_half();
                }
            }
            timings.cls_ms = ms(t).saturating_sub(timings.det_ms - det_before);
        }
        let img = upright.as_ref().unwrap_or(img);
        if p.min_line_height > 0.0 {
            let keep: Vec<usize> = (0..frames.len())
                .filter(|&i| frames[i].height() >= p.min_line_height)
                .collect();
            boxes = keep.iter().map(|&i| boxes[i]).collect();
            frames = keep.iter().map(|&i| frames[i]).collect();
        }

        cancel.check()?;
        let t = Instant::now();
        let recognized = self.rec.recognize_until(img, &frames, &p.rec, cancel)?;
        timings.rec_ms = ms(t);

        let lines = boxes
            .iter()
            .zip(&frames)
            .zip(recognized)
            .filter(|(_, r)| r.decoded.score >= p.min_line_score)
            .filter_map(|((b, f), r)| line(b, f, r))
            .collect();
        Ok(OcrPage {
            width: img.width(),
            height: img.height(),
            turned,
            lines,
            timings,
        })
    }
}

/// Lines the direction classifier checks before deciding whether the rest need it.
const CLS_SAMPLE: usize = 12;

/// Which lines read upside down, and how many of the sampled ones did.
struct Flips {
    /// Each classified line and whether it reads upside down.
    lines: Vec<(usize, bool)>,
    /// Lines in the first sample, and how many of them read upside down.
    sampled: usize,
    sampled_upside_down: usize,
}

impl Flips {
    /// More than half of the sample, and at least three lines, read upside down.
    fn sample_upside_down(&self) -> bool {
        self.sampled_upside_down >= 3 && 2 * self.sampled_upside_down > self.sampled
    }
}

/// Which lines read upside down. The classifier first sees the longest lines (the surest
/// answers); only when one of them is upside down are all the others classified too. An
/// upright page rarely holds a flipped line, and this spares most of the classifier's time on
/// such pages.
fn upside_down_lines(
    model: &dyn Session,
    img: &RgbImage,
    frames: &[Frame],
) -> Result<Flips, BackendError> {
    let mut by_length: Vec<usize> = (0..frames.len()).collect();
    by_length.sort_by(|&a, &b| frames[b].width().total_cmp(&frames[a].width()));
    let (sample, rest) = by_length.split_at(by_length.len().min(CLS_SAMPLE));
    let classify = |ids: &[usize]| -> Result<Vec<(usize, bool)>, BackendError> {
        let picked: Vec<Frame> = ids.iter().map(|&i| frames[i]).collect();
        let flips = cls::upside_down(model, img, &picked)?;
        Ok(ids
            .iter()
            .copied()
            .zip(flips.into_iter().map(|(f, _)| f))
            .collect())
    };
    let mut lines = classify(sample)?;
    let sampled_upside_down = lines.iter().filter(|&&(_, flip)| flip).count();
    if sampled_upside_down > 0 {
        lines.extend(classify(rest)?);
    }
    Ok(Flips {
        lines,
        sampled: sample.len(),
        sampled_upside_down,
    })
}

/// Whether the page's lines run across it (left-right) rather than up or down, weighing each
/// box by its length; boxes too square to say are left out. A page with no telling box counts
/// as running across: there is nothing to turn it by.
fn lines_run_across(boxes: &[TextBox]) -> bool {
    let (mut across, mut up) = (0.0f32, 0.0f32);
    for b in boxes {
        let (w, h) = quad_sides(&b.quad);
        if w >= 1.5 * h {
            across += w;
        } else if h >= 1.5 * w {
            up += h;
        }
    }
    across >= up
}

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// Rows top to bottom, boxes left to right within a row. A box joins the row above when it
/// overlaps that row's vertical band by half its own height, so a slightly skewed or taller
/// box stays on its row (PP-OCR's fixed 10-pixel rule splits rows on large scans).
fn sort_reading(mut boxes: Vec<TextBox>) -> Vec<TextBox> {
    let span = |b: &TextBox| {
        let ys = b.quad.iter().map(|p| p.1);
        (
            ys.clone().fold(f32::MAX, f32::min),
            ys.fold(f32::MIN, f32::max),
        )
    };
    boxes.sort_by(|a, b| {
        let (a0, a1) = span(a);
        let (b0, b1) = span(b);
        (a0 + a1).total_cmp(&(b0 + b1))
    });
    let mut rows: Vec<(f32, f32, Vec<TextBox>)> = Vec::new();
    for b in boxes {
        let (y0, y1) = span(&b);
        let joins = rows.last().is_some_and(|(r0, r1, _)| {
            let overlap = y1.min(*r1) - y0.max(*r0);
            overlap >= 0.5 * (y1 - y0).min(r1 - r0)
        });
        match rows.last_mut() {
            Some((r0, r1, row)) if joins => {
                *r0 = r0.min(y0);
                *r1 = r1.max(y1);
                row.push(b);
            }
            _ => rows.push((y0, y1, vec![b])),
        }
    }
    rows.into_iter()
        .flat_map(|(_, _, mut row)| {
            row.sort_by(|a, b| a.quad[0].0.total_cmp(&b.quad[0].0));
            row
        })
        .collect()
}

/// A box's width (top and bottom sides) and height (left and right sides), the longer of each
/// pair.
fn quad_sides(q: &[Point; 4]) -> (f32, f32) {
    let [tl, tr, br, bl] = *q;
    let d = |a: Point, b: Point| (b.0 - a.0).hypot(b.1 - a.1);
    (d(tl, tr).max(d(bl, br)), d(tl, bl).max(d(tr, br)))
}

/// The frame that reads a detected box left to right; a box much taller than wide holds
/// vertical text, read top to bottom (PP-OCR turns such crops a quarter turn).
fn line_frame(q: &[Point; 4]) -> Frame {
    let [tl, tr, br, bl] = *q;
    let (w, h) = quad_sides(q);
    if h >= 1.5 * w {
        Frame {
            origin: tr,
            along: (br.0 - tr.0, br.1 - tr.1),
            across: (tl.0 - tr.0, tl.1 - tr.1),
        }
    } else {
        Frame {
            origin: tl,
            along: (tr.0 - tl.0, tr.1 - tl.1),
            across: (bl.0 - tl.0, bl.1 - tl.1),
        }
    }
}

/// Builds a line with its words placed from the characters' positions along the line.
fn line(b: &TextBox, f: &Frame, r: RecLine) -> Option<OcrLine> {
    let text = r.decoded.text.trim();
    if text.is_empty() {
        return None;
    }
    let chars: Vec<char> = r.decoded.text.chars().collect();
    let n = chars.len();
    // Half the mean distance between character centres: how far a word reaches past the
    // centres of its first and last characters.
    let half_pitch = if n > 1 {
        (r.char_center(n - 1) - r.char_center(0)) / (n - 1) as f32 / 2.0
    } else {
        0.5
    };
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    for i in 0..=n {
        let is_space = i == n || chars[i].is_whitespace();
        match (start, is_space) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                let u0 = (r.char_center(s) - half_pitch).clamp(0.0, 1.0);
                let u1 = (r.char_center(i - 1) + half_pitch).clamp(u0, 1.0);
                let corners = [f.at(u0, 0.0), f.at(u1, 0.0), f.at(u1, 1.0), f.at(u0, 1.0)];
                words.push(OcrWord {
                    text: chars[s..i].iter().collect(),
                    bbox: hull(&corners),
                });
                start = None;
            }
            _ => {}
        }
    }
    Some(OcrLine {
        text: words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        score: r.decoded.score,
        quad: b.quad,
        height: f.height(),
        words,
    })
}

fn hull(points: &[Point]) -> [f32; 4] {
    points.iter().fold(
        [f32::MAX, f32::MAX, f32::MIN, f32::MIN],
        |[x0, y0, x1, y1], &(x, y)| [x0.min(x), y0.min(y), x1.max(x), y1.max(y)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tb(x0: f32, y0: f32, x1: f32, y1: f32) -> TextBox {
        TextBox {
            quad: [(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
            score: 1.0,
        }
    }

    #[test]
    fn rows_group_by_overlap_not_by_top() {
        // The amount's top sits 14 pixels above the label's (a taller box), same row.
        let boxes = vec![
            tb(400.0, 100.0, 500.0, 150.0), // amount, row 1
            tb(10.0, 114.0, 200.0, 150.0),  // label, row 1
            tb(10.0, 200.0, 200.0, 236.0),  // label, row 2
        ];
        let order: Vec<f32> = sort_reading(boxes).iter().map(|b| b.quad[0].0).collect();
        assert_eq!(order, vec![10.0, 400.0, 10.0]);
    }

    #[test]
    fn lines_run_across_by_their_length_not_their_count() {
        let across = [tb(10.0, 10.0, 400.0, 40.0), tb(10.0, 60.0, 300.0, 90.0)];
        assert!(lines_run_across(&across));
        // A page on its side: long boxes standing up; two short level ones do not outweigh them.
        let up = [
            tb(10.0, 10.0, 40.0, 500.0),
            tb(60.0, 10.0, 90.0, 450.0),
            tb(100.0, 10.0, 160.0, 30.0),
            tb(100.0, 50.0, 160.0, 70.0),
        ];
        assert!(!lines_run_across(&up));
        // Square boxes (single characters) say nothing either way.
        let squares = [tb(0.0, 0.0, 20.0, 20.0), tb(0.0, 30.0, 20.0, 50.0)];
        assert!(lines_run_across(&squares));
    }

    #[test]
    fn words_are_placed_along_the_line() {
        let frame = Frame::axis_aligned(100.0, 50.0, 200.0, 20.0);
        let r = RecLine {
            decoded: crate::ctc::Decoded {
                text: "ab cd".to_string(),
                score: 0.9,
                steps: vec![1, 3, 5, 7, 9],
            },
            step_width: 0.1,
        };
        let l = line(&tb(100.0, 50.0, 300.0, 70.0), &frame, r).unwrap();
        assert_eq!(l.text, "ab cd");
        assert_eq!(l.words.len(), 2);
        let (a, c) = (&l.words[0].bbox, &l.words[1].bbox);
        assert!(a[2] <= c[0], "words overlap: {a:?} {c:?}");
        assert!(a[0] >= 100.0 && c[2] <= 300.0);
    }
}
