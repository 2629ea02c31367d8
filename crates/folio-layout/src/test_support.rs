//! Page content built in tests: glyphs laid out as a simple font would set them.

use std::sync::Arc;

use folio_doc::BBox;

use folio_content::{FontInfo, Glyph};

/// A regular upright font named `name`.
pub(crate) fn font(name: &str) -> Arc<FontInfo> {
    Arc::new(FontInfo {
        name: name.into(),
        bold: false,
        italic: false,
        monospace: false,
    })
}

/// Lays out `text` as glyphs half a font size wide on a baseline at `y`, starting at `x`; a
/// space advances without a glyph.
pub(crate) fn line(text: &str, x: f32, y: f32, size: f32, f: &Arc<FontInfo>) -> Vec<Glyph> {
    let w = size * 0.5;
    text.chars()
        .enumerate()
        .filter(|(_, c)| *c != ' ')
        .map(|(i, c)| Glyph {
            text: c.to_string(),
            bbox: BBox::new(
                x + i as f32 * w,
                y - size * 0.8,
                x + (i as f32 + 1.0) * w,
                y + size * 0.2,
            ),
            size,
            angle: 0.0,
            font: Arc::clone(f),
            seq: i as u32,
        })
        .collect()
}

/// The advance of `c` in a proportional test font, in font sizes.
fn advance(c: char) -> f32 {
    match c {
        'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' => 0.28,
        'f' | 't' | 'r' | '(' | ')' | '-' => 0.35,
        'm' | 'w' | 'M' | 'W' => 0.8,
        c if c.is_uppercase() => 0.65,
        _ => 0.5,
    }
}

/// Lays out `text` in a proportional font (prose, which a uniform pitch would make code).
pub(crate) fn prose(text: &str, x: f32, y: f32, size: f32, f: &Arc<FontInfo>) -> Vec<Glyph> {
    let mut out = Vec::new();
    let mut pen = x;
    for (i, c) in text.chars().enumerate() {
        let w = advance(c) * size;
        if c != ' ' {
            out.push(Glyph {
                text: c.to_string(),
                bbox: BBox::new(pen, y - size * 0.8, pen + w, y + size * 0.2),
                size,
                angle: 0.0,
                font: Arc::clone(f),
                seq: i as u32,
            });
        }
        pen += if c == ' ' { 0.25 * size } else { w };
    }
    out
}

/// Right-aligns `text` in the proportional font so that it ends at `x1`.
pub(crate) fn prose_right(text: &str, x1: f32, y: f32, size: f32, f: &Arc<FontInfo>) -> Vec<Glyph> {
    let w: f32 = text
        .chars()
        .map(|c| if c == ' ' { 0.25 } else { advance(c) })
        .sum::<f32>()
        * size;
    prose(text, x1 - w, y, size, f)
}
