//! Text recognition: each line sampled to a fixed height, batched by width, CTC-decoded.

use crate::backend::{BackendError, Session, Tensor};
use crate::ctc::{ctc_greedy, Decoded, Dictionary};
use crate::image::{sample_into, Frame, Normalize, RgbImage, Slot};

/// Input height of the PP-OCR recogniser.
pub const REC_HEIGHT: u32 = 48;

/// Tuning of recognition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecParams {
    /// Lines per model run.
    pub batch: usize,
    /// Narrowest batch input; PP-OCR pads every batch to 320.
    pub min_width: u32,
    /// Widest line input; wider lines are squeezed to it.
    pub max_width: u32,
}

impl Default for RecParams {
    fn default() -> Self {
        RecParams {
            batch: 8,
            // PP-OCR pads every batch to 320; measured on the SROIE receipts, 64 reads the
            // same and spares a tenth of the time short lines spent on padding.
            min_width: 64,
            max_width: 2400,
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
        let widths: Vec<u32> = frames.iter().map(|f| line_width(f, p)).collect();
        // Similar widths share a batch, so little of each batch is padding.
        let mut order: Vec<usize> = (0..frames.len()).collect();
        order.sort_by_key(|&i| widths[i]);
        let batches: Vec<&[usize]> = order.chunks(p.batch.max(1)).collect();
        let mut out: Vec<Option<RecLine>> = vec![None; frames.len()];
        for chunk in batches {
            let (input, batch_w) = self.batch_input(img, frames, &widths, chunk, p);
            let res = self.session.run(input)?;
            self.decode_batch(res, chunk, &widths, batch_w, &mut out)?;
        }
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

/// The input width of a line at the recogniser's height, keeping its aspect ratio.
fn line_width(f: &Frame, p: &RecParams) -> u32 {
    let ratio = f.width() / f.height().max(1.0);
    ((REC_HEIGHT as f32 * ratio).ceil() as u32).clamp(8, p.max_width.max(8))
}
