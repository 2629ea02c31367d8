//! What a reader hands to layout analysis: positioned glyphs, rules and image boxes of one page.

use std::sync::Arc;

use folio_doc::BBox;

/// Font facts shared by many glyphs.
#[derive(Debug, Clone, PartialEq)]
pub struct FontInfo {
    /// Name without the subset prefix (`ABCDEF+Times-Bold` → `Times-Bold`).
    pub name: String,
    /// Bold weight (from the name or the font descriptor).
    pub bold: bool,
    /// Italic or oblique (from the name, descriptor flags or angle).
    pub italic: bool,
    /// Monospaced (fixed pitch flag or a known monospace name).
    pub monospace: bool,
}

/// One glyph as drawn on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    /// The Unicode text of the glyph (may be several chars for a ligature; empty if unknown).
    pub text: String,
    /// Box from the baseline-aligned font box, in page coordinates (top-left origin).
    pub bbox: BBox,
    /// Font size in points as rendered (text matrix and CTM included).
    pub size: f32,
    /// Direction of the baseline in degrees, counter-clockwise from left-to-right; 0 for upright text.
    pub angle: f32,
    /// The font.
    pub font: Arc<FontInfo>,
    /// Drawing order on the page, to break ties and to keep stream order where it matters.
    pub seq: u32,
}

/// A straight line or thin rectangle edge, as used by ruled tables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start x.
    pub x0: f32,
    /// Start y.
    pub y0: f32,
    /// End x.
    pub x1: f32,
    /// End y.
    pub y1: f32,
}

impl Segment {
    /// Horizontal within a small tolerance.
    pub fn is_horizontal(&self) -> bool {
        (self.y1 - self.y0).abs() < 1.0 && (self.x1 - self.x0).abs() >= 1.0
    }

    /// Vertical within a small tolerance.
    pub fn is_vertical(&self) -> bool {
        (self.x1 - self.x0).abs() < 1.0 && (self.y1 - self.y0).abs() >= 1.0
    }
}

/// Everything layout needs from one page.
#[derive(Debug, Clone, Default)]
pub struct PageContent {
    /// Page width in points, as displayed.
    pub width: f32,
    /// Page height in points, as displayed.
    pub height: f32,
    /// Declared rotation in degrees.
    pub rotation: u16,
    /// The glyphs, in drawing order.
    pub glyphs: Vec<Glyph>,
    /// Ruling lines and rectangle edges.
    pub segments: Vec<Segment>,
    /// Boxes of images drawn on the page.
    pub images: Vec<BBox>,
    /// Problems the reader met on this page (content it had to drop).
    pub warnings: Vec<ContentWarning>,
}

impl PageContent {
    /// An empty page of the given size: no glyphs, rules or images.
    pub fn empty(width: f32, height: f32) -> PageContent {
        PageContent {
            width,
            height,
            ..PageContent::default()
        }
    }
}

/// What kind of content a reader had to leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentWarningKind {
    /// Glyphs past the per-page limit were ignored.
    GlyphsDropped,
    /// Ruling segments past the per-page limit were ignored.
    SegmentsDropped,
    /// Image boxes past the per-page limit were ignored.
    ImagesDropped,
    /// The reader stopped before the end of the page's content (it was cancelled or hit a
    /// limit on the work one page may take).
    Interrupted,
}

/// A problem a reader met on one page: content it had to drop. A page with such a warning is
/// incomplete, and the document that holds it is reported `partial`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentWarning {
    /// What was lost.
    pub kind: ContentWarningKind,
    /// What happened, with the figures (for example how many glyphs were ignored).
    pub message: String,
}

impl ContentWarning {
    /// A warning of `kind`.
    pub fn new(kind: ContentWarningKind, message: impl Into<String>) -> ContentWarning {
        ContentWarning {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ContentWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
