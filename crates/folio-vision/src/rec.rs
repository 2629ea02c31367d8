//! Text recognition: each line sampled to a fixed height, batched by width, CTC-decoded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use folio_content::Cancel;

use crate::backend::{BackendError, Session, Tensor};
use crate::ctc::{ctc_greedy, Decoded, Dictionary};
use crate::image::{sample_into, Frame, Normalize, RgbImage, Slot};

/// Input height of the PP-OCR recogniser.
pub const REC_HEIGHT: u32 = 48;

/// Tuning of recognition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecParams {
    /// Most lines per model run.
    pub batch: usize,
    /// Narrowest batch input; PP-OCR pads every batch to 320.
    pub min_width: u32,
    /// Widest line input; wider lines are squeezed to it.
    pub max_width: u32,
    /// Input width over the width that keeps a line's aspect ratio at the model's height.
    pub width_scale: f32,
}

impl Default for RecParams {
    fn default() -> Self {
        RecParams {
            batch: 16,
            // PP-OCR pads every batch to 320; measured on the SROIE receipts, 64 reads the
            // same and spares a tenth of the time short lines spent on padding.
            min_width: 64,
            max_width: 2400,
            // The recogniser's time is proportional to its input columns. Squeezing lines by a
            // tenth read the SROIE receipts at case-insensitive CER 0.0957 against 0.0961,
            // and 16 document pages (8 at 150 and 300 dpi) at word recall 0.9789 against
            // 0.9799, for 6 % less time per image; 0.8 read the receipts at 0.0972.
            width_scale: 0.9,
        }
    }
}

/// A recognised line: its text, score and where each character was read.
#[derive(Debug, Clone, PartialEq)]
pub struct RecLine {
    /// Decoded text and per-character steps.
    pub decoded: Decoded,
    /// The fraction of the line's width each step covers.
    pub step_width: f32,
}

impl RecLine {
    /// Where (as a fraction of the line's width) the character at `index` sits: its centre.
    pub fn char_center(&self, index: usize) -> f32 {
        self.decoded
            .steps
            .get(index)
            .map_or(0.0, |&t| (t as f32 + 0.5) * self.step_width)
    }
}

/// The recogniser and its dictionary.
#[derive(Debug)]
pub struct Recognizer {
    session: Box<dyn Session>,
    dict: Dictionary,
}

impl Recognizer {
    /// Wraps a loaded recognition model; its dictionary comes from the `character` metadata.
    pub fn new(session: Box<dyn Session>) -> Result<Recognizer, BackendError> {
        let chars = session.metadata("character").ok_or_else(|| {
            BackendError::Output(
                "the recognition model has no `character` metadata (not a PP-OCR recogniser?)"
                    .to_string(),
            )
        })?;
        Ok(Recognizer {
            dict: Dictionary::from_metadata(&chars),
            session,
        })
    }

    /// Recognises the lines `frames` of `img` (each frame maps a line onto an upright
    /// rectangle). The result is in the order of `frames`.
    pub fn recognize(
        &self,
        img: &RgbImage,
        frames: &[Frame],
        p: &RecParams,
    ) -> Result<Vec<RecLine>, BackendError> {
        self.recognize_until(img, frames, p, &Cancel::new())
    }

    /// [`Recognizer::recognize`], stopping with [`BackendError::Cancelled`] before the next
    /// batch once `cancel` is set.
    pub fn recognize_until(
        &self,
        img: &RgbImage,
        frames: &[Frame],
        p: &RecParams,
        cancel: &Cancel,
    ) -> Result<Vec<RecLine>, BackendError> {
        let widths: Vec<u32> = frames.iter().map(|f| line_width(f, p)).collect();
        let mut order: Vec<usize> = (0..frames.len()).collect();
        order.sort_by_key(|&i| widths[i]);
        let sorted: Vec<u32> = order.iter().map(|&i| widths[i].max(p.min_width)).collect();
        let mut batches: Vec<&[usize]> = plan_batches(&sorted, p.batch)
            .into_iter()
            .map(|r| &order[r])
            .collect();
        let mut out: Vec<Option<RecLine>> = vec![None; frames.len()];
        // Widest batches first, so that parallel lanes finish close together.
        batches.reverse();
        let lanes = self.session.lanes().min(batches.len());
        let next = AtomicUsize::new(0);
        let done = Mutex::new(&mut out);
        let run_lane = |lane: usize| -> Result<(), BackendError> {
            while let Some(&chunk) = batches.get(next.fetch_add(1, Ordering::Relaxed)) {
                cancel.check()?;
                let (input, batch_w) = self.batch_input(img, frames, &widths, chunk, p);
                tracing::trace!(lines = chunk.len(), batch_w, lane, "recognition batch");
                // One lane alone keeps all of the session's threads.
                let res = if lanes > 1 {
                    self.session.run_in_lane(lane, input)?
                } else {
                    self.session.run(input)?
                };
                let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
                self.decode_batch(res, chunk, &widths, batch_w, &mut done)?;
            }
            Ok(())
        };
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..lanes)
                .map(|lane| scope.spawn(move || run_lane(lane)))
                .collect();
            let mine = run_lane(0);
            others
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(BackendError::Run("a recognition lane panicked".to_string()))
                    })
                })
                .chain(std::iter::once(mine))
                .collect::<Result<(), _>>()
        })?;
        Ok(out
            .into_iter()
            .map(|l| {
                l.unwrap_or(RecLine {
                    decoded: Decoded {
                        text: String::new(),
                        score: 0.0,
                        steps: Vec::new(),
                    },
                    step_width: 0.0,
                })
            })
            .collect())
    }
}

impl Recognizer {
    /// The input tensor of one batch of lines, and its width.
    fn batch_input(
        &self,
        img: &RgbImage,
        frames: &[Frame],
        widths: &[u32],
        chunk: &[usize],
        p: &RecParams,
    ) -> (Tensor, u32) {
        let batch_w = chunk
            .iter()
            .map(|&i| widths[i])
            .max()
            .unwrap_or(p.min_width)
            .max(p.min_width);
        let h = REC_HEIGHT as usize;
        let plane = h * batch_w as usize;
        let mut input = Tensor::zeros(&[chunk.len(), 3, h, batch_w as usize]);
        for (slot, &i) in chunk.iter().enumerate() {
            let dst = &mut input.data[slot * 3 * plane..(slot + 1) * 3 * plane];
            let slot = Slot {
                data: dst,
                plane,
                row: batch_w as usize,
            };
            sample_into(
                img,
                &frames[i],
                (widths[i], REC_HEIGHT),
                Normalize::PP_OCR,
                slot,
            );
        }
        (input, batch_w)
    }

    /// Decodes one batch's output into `out` at the lines' own positions.
    fn decode_batch(
        &self,
        res: Tensor,
        chunk: &[usize],
        widths: &[u32],
        batch_w: u32,
        out: &mut [Option<RecLine>],
    ) -> Result<(), BackendError> {
        let [n, steps, classes] = res.shape[..] else {
            return Err(BackendError::Output(format!(
                "recognition output is {:?}, expected [batch, steps, classes]",
                res.shape
            )));
        };
        if n != chunk.len() || steps == 0 {
            return Err(BackendError::Output(format!(
                "recognition output is {:?} for a batch of {}",
                res.shape,
                chunk.len()
            )));
        }
        for (slot, &i) in chunk.iter().enumerate() {
            let probs = &res.data[slot * steps * classes..(slot + 1) * steps * classes];
            let decoded = ctc_greedy(probs, classes, &self.dict)
                .map_err(|e| BackendError::Output(e.to_string()))?;
            // A step covers batch_w / steps input columns; the line fills widths[i] of them.
            let step_width = batch_w as f32 / steps as f32 / widths[i].max(1) as f32;
            out[i] = Some(RecLine {
                decoded,
                step_width,
            });
        }
        Ok(())
    }
}

/// What one more model run costs, in input columns of one line: the recogniser's time grows
/// by about 0.064 ms per column and a run adds about 2.5 ms of its own (measured on the SROIE
/// receipts with rten on 2 cores), so a run is worth about 40 columns of padding.
const RUN_COST_COLUMNS: u64 = 40;

/// Splits lines sorted by width into batches of at most `max_batch` that minimise the columns
/// the recogniser computes: each batch is padded to its widest line, and each run costs
/// [`RUN_COST_COLUMNS`]. Fixed-size chunks of sorted lines padded a sixth of all columns on the
/// receipts, because line widths spread geometrically; this plan pads a few percent.
fn plan_batches(sorted_widths: &[u32], max_batch: usize) -> Vec<std::ops::Range<usize>> {
    let n = sorted_widths.len();
    let max_batch = max_batch.max(1);
    // best[j]: least cost of the first j lines; from[j]: where the last batch of that plan starts.
    let mut best = vec![u64::MAX; n + 1];
    let mut from = vec![0usize; n + 1];
    best[0] = 0;
    for end in 1..=n {
        let widest = u64::from(sorted_widths[end - 1]);
        for start in end.saturating_sub(max_batch)..end {
            let cost = best[start] + (end - start) as u64 * widest + RUN_COST_COLUMNS;
            if cost < best[end] {
                best[end] = cost;
                from[end] = start;
            }
        }
    }
    let mut batches = Vec::new();
    let mut end = n;
    while end > 0 {
        batches.push(from[end]..end);
        end = from[end];
    }
    batches.reverse();
    batches
}

/// The input width of a line at the recogniser's height: its aspect ratio, scaled by
/// [`RecParams::width_scale`].
fn line_width(f: &Frame, p: &RecParams) -> u32 {
    let ratio = p.width_scale * f.width() / f.height().max(1.0);
    ((REC_HEIGHT as f32 * ratio).ceil() as u32).clamp(8, p.max_width.max(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(batches: &[std::ops::Range<usize>]) -> Vec<usize> {
        batches.iter().flat_map(|r| r.clone()).collect()
    }

    #[test]
    fn batches_cover_every_line_once_in_order() {
        let widths: Vec<u32> = (0..37).map(|i| 64 + i * 13).collect();
        let batches = plan_batches(&widths, 8);
        assert_eq!(covered(&batches), (0..37).collect::<Vec<_>>());
        assert!(batches.iter().all(|r| !r.is_empty() && r.len() <= 8));
        assert!(plan_batches(&[], 8).is_empty());
    }

    #[test]
    fn a_much_wider_line_runs_alone_rather_than_padding_the_others() {
        // Fixed chunks of 8 would pad seven 100-column lines to 1200 columns.
        let widths = [100, 100, 100, 100, 100, 100, 100, 1200];
        assert_eq!(plan_batches(&widths, 8), vec![0..7, 7..8]);
    }

    #[test]
    fn equal_widths_fill_whole_batches() {
        assert_eq!(plan_batches(&[300; 20], 8).len(), 3);
    }
}
