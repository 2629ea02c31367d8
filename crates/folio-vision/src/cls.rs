//! The text-line direction classifier: upright (0°) or upside down (180°).

use crate::backend::{BackendError, Session, Tensor};
use crate::image::{sample_into, Frame, Normalize, RgbImage, Slot};

const CLS_HEIGHT: u32 = 48;
const CLS_WIDTH: u32 = 192;
/// PP-OCR turns a line only when the classifier is this sure.
const TURN_THRESHOLD: f32 = 0.9;
const BATCH: usize = 16;

/// For each line, whether it reads upside down (and the classifier's confidence in that).
pub fn upside_down(
    session: &dyn Session,
    img: &RgbImage,
    frames: &[Frame],
) -> Result<Vec<(bool, f32)>, BackendError> {
    let mut out = Vec::with_capacity(frames.len());
    let plane = (CLS_HEIGHT * CLS_WIDTH) as usize;
    for chunk in frames.chunks(BATCH) {
        let mut input = Tensor::zeros(&[chunk.len(), 3, CLS_HEIGHT as usize, CLS_WIDTH as usize]);
        for (slot, f) in chunk.iter().enumerate() {
            let ratio = f.width() / f.height().max(1.0);
            let w = ((CLS_HEIGHT as f32 * ratio).ceil() as u32).clamp(1, CLS_WIDTH);
            let dst = &mut input.data[slot * 3 * plane..(slot + 1) * 3 * plane];
            let slot = Slot {
                data: dst,
                plane,
                row: CLS_WIDTH as usize,
            };
            sample_into(img, f, (w, CLS_HEIGHT), Normalize::PP_OCR, slot);
        }
        let res = session.run(input)?;
        if res.shape != [chunk.len(), 2] {
            return Err(BackendError::Output(format!(
                "line classifier output is {:?}, expected [{}, 2]",
                res.shape,
                chunk.len()
            )));
        }
        for probs in res.data.chunks_exact(2) {
            out.push((probs[1] > probs[0] && probs[1] >= TURN_THRESHOLD, probs[1]));
        }
    }
    Ok(out)
}
