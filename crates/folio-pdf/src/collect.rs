//! A hayro `Device` that records glyphs, ruling segments and image boxes instead of painting.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use folio_content::{
    Cancel, ContentWarning, ContentWarningKind, FontInfo, Glyph, PageContent, Segment,
};
use folio_doc::BBox;
use hayro::hayro_interpret::font::{Glyph as HayroGlyph, GlyphRun};
use hayro::hayro_interpret::hayro_cmap::WritingMode;
use hayro::hayro_interpret::{
    BlendMode, CacheKey, ClipPath, Device, DrawMode, DrawProps, Image, ImageDrawProps, Paint,
    SoftMask,
};
use hayro::kurbo::{Affine, BezPath, PathEl, Point};

/// Glyph space has 1000 units per em; these are the conventional ascent and descent used to give
/// a glyph a box when the font's own metrics are not at hand.
const ASCENT: f64 = 800.0;
const DESCENT: f64 = -200.0;
/// Most ruling segments kept from one page.
const MAX_SEGMENTS: usize = 50_000;
/// Most filled rectangles compared with each other for hidden edges (the check is quadratic);
/// past this, every edge counts.
const MAX_FILLS_COMPARED: usize = 2_000;
/// Most image boxes kept from one page.
const MAX_IMAGES: usize = 10_000;

/// A filled rectangle in page space, with a key that is equal for equal paints.
struct Fill {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    paint: u128,
}

/// A key equal for fills of the same paint. A colour is keyed by its components as drawn, not
/// converted to RGB as hayro's own key does: converting a CMYK colour first builds its
/// profile's transform, which costs more than reading the text of a page.
fn paint_key(paint: &Paint<'_>) -> u128 {
    match paint {
        Paint::Color(color) => {
            let mut hasher = std::hash::DefaultHasher::new();
            color.color_space().num_components().hash(&mut hasher);
            for c in color.components() {
                c.to_bits().hash(&mut hasher);
            }
            u128::from(hasher.finish())
        }
        Paint::Pattern(_) => paint.cache_key(),
    }
}

pub(crate) struct Collector {
    width: f32,
    height: f32,
    max_glyphs: usize,
    glyphs: Vec<Glyph>,
    segments: Vec<Segment>,
    /// Filled rectangles (cell backgrounds), whose edges become segments once the page is done.
    fills: Vec<Fill>,
    images: Vec<BBox>,
    fonts: HashMap<u128, Arc<FontInfo>>,
    unknown_font: Arc<FontInfo>,
    seq: u32,
    dropped_glyphs: usize,
    dropped_segments: usize,
    dropped_images: usize,
    /// Once set, every callback returns at once: the interpreter stops at its next operator,
    /// and what it draws until then is not worth collecting.
    cancel: Cancel,
}

impl Collector {
    pub(crate) fn new(width: f32, height: f32, max_glyphs: usize, cancel: Cancel) -> Collector {
        Collector {
            width,
            height,
            max_glyphs,
            glyphs: Vec::new(),
            segments: Vec::new(),
            fills: Vec::new(),
            images: Vec::new(),
            fonts: HashMap::new(),
            unknown_font: Arc::new(FontInfo {
                name: String::new(),
                bold: false,
                italic: false,
                monospace: false,
            }),
            seq: 0,
            dropped_glyphs: 0,
            dropped_segments: 0,
            dropped_images: 0,
            cancel,
        }
    }

    pub(crate) fn finish(mut self) -> PageContent {
        self.push_fill_edges();
        let mut warnings = Vec::new();
        if self.dropped_glyphs > 0 {
            warnings.push(ContentWarning::new(
                ContentWarningKind::GlyphsDropped,
                format!(
                    "page draws over {} glyphs; {} were ignored",
                    self.max_glyphs, self.dropped_glyphs
                ),
            ));
        }
        if self.dropped_segments > 0 {
            warnings.push(ContentWarning::new(
                ContentWarningKind::SegmentsDropped,
                format!(
                    "page draws over {MAX_SEGMENTS} ruling lines; {} were ignored",
                    self.dropped_segments
                ),
            ));
        }
        if self.dropped_images > 0 {
            warnings.push(ContentWarning::new(
                ContentWarningKind::ImagesDropped,
                format!(
                    "page draws over {MAX_IMAGES} images; {} were ignored",
                    self.dropped_images
                ),
            ));
        }
        PageContent {
            width: self.width,
            height: self.height,
            rotation: 0,
            glyphs: self.glyphs,
            segments: self.segments,
            images: self.images,
            warnings,
        }
    }

    fn font_of(&mut self, glyph: &HayroGlyph<'_>) -> Arc<FontInfo> {
        let HayroGlyph::Outline(outline) = glyph else {
            return Arc::clone(&self.unknown_font);
        };
        let Some(data) = outline.font_data() else {
            return Arc::clone(&self.unknown_font);
        };
        Arc::clone(self.fonts.entry(data.cache_key).or_insert_with(|| {
            let name = data
                .postscript_name
                .as_deref()
                .map(strip_subset_prefix)
                .unwrap_or_default()
                .to_string();
            let lower = name.to_ascii_lowercase();
            Arc::new(FontInfo {
                bold: data.weight.is_some_and(|w| w >= 600) || name_says_bold(&lower),
                italic: data.is_italic || lower.contains("italic") || lower.contains("oblique"),
                monospace: data.is_monospace || name_says_mono(&lower),
                name,
            })
        }))
    }

    fn in_page(&self, b: &BBox) -> bool {
        let (cx, cy) = b.center();
        let margin = 2.0;
        cx >= -margin && cy >= -margin && cx <= self.width + margin && cy <= self.height + margin
    }

    /// The edges of the filled rectangles, less those that cannot be seen: an edge inside
    /// another rectangle of the same paint (word processors shade a cell and then each line of
    /// its text again, in the same colour) separates nothing on the page.
    fn push_fill_edges(&mut self) {
        let fills = std::mem::take(&mut self.fills);
        let compare = fills.len() <= MAX_FILLS_COMPARED;
        // Strictly inside across the edge, and over its whole length (with a point's slack).
        const ACROSS: f64 = 0.5;
        const ALONG: f64 = 1.0;
        for (i, f) in fills.iter().enumerate() {
            let hidden = |horizontal: bool, at: f64, from: f64, to: f64| {
                compare
                    && fills.iter().enumerate().any(|(j, g)| {
                        let (lo, hi, a, b) = if horizontal {
                            (g.y0, g.y1, g.x0, g.x1)
                        } else {
                            (g.x0, g.x1, g.y0, g.y1)
                        };
                        j != i
                            && g.paint == f.paint
                            && lo < at - ACROSS
                            && hi > at + ACROSS
                            && a <= from + ALONG
                            && b >= to - ALONG
                    })
            };
            for (horizontal, at) in [(true, f.y0), (true, f.y1), (false, f.x0), (false, f.x1)] {
                if horizontal && !hidden(true, at, f.x0, f.x1) {
                    self.push_segment(Point::new(f.x0, at), Point::new(f.x1, at));
                } else if !horizontal && !hidden(false, at, f.y0, f.y1) {
                    self.push_segment(Point::new(at, f.y0), Point::new(at, f.y1));
                }
            }
        }
    }

    fn push_segment(&mut self, a: Point, b: Point) {
        if self.segments.len() >= MAX_SEGMENTS {
            self.dropped_segments += 1;
            return;
        }
        let s = Segment {
            x0: a.x as f32,
            y0: a.y as f32,
            x1: b.x as f32,
            y1: b.y as f32,
        };
        if (s.is_horizontal() || s.is_vertical())
            && [s.x0, s.y0, s.x1, s.y1].iter().all(|v| v.is_finite())
        {
            self.segments.push(s);
        }
    }
}

fn strip_subset_prefix(name: &str) -> &str {
    match name.split_once('+') {
        Some((tag, rest)) if tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()) => rest,
        _ => name,
    }
}

fn name_says_bold(lower: &str) -> bool {
    // "Medi" is how URW's Nimbus fonts (the TeX Times) name their bold face.
    [
        "bold", "black", "heavy", "semibold", "demi", "-medi", ",bold",
    ]
    .iter()
    .any(|k| lower.contains(k))
}

fn name_says_mono(lower: &str) -> bool {
    ["mono", "courier", "consol", "cmtt", "typewriter", "code"]
        .iter()
        .any(|k| lower.contains(k))
}

/// The text of a glyph: its Unicode mapping, or, for a simple font without one, its code when
/// that is printable ASCII (standard encodings agree there).
fn glyph_text(glyph: &HayroGlyph<'_>) -> String {
    use hayro::hayro_interpret::hayro_cmap::BfString;
    match glyph.as_unicode() {
        Some(BfString::Char(c)) => c.to_string(),
        Some(BfString::String(s)) => s,
        None => match glyph.char_code() {
            c @ 0x21..=0x7E => char::from(c as u8).to_string(),
            _ => String::new(),
        },
    }
}

/// An image's size in pixels, as its dictionary gives it (what the interpreter scaled by).
fn image_pixels(image: &Image<'_, '_>) -> Option<(f64, f64)> {
    use hayro::hayro_syntax::object::dict::keys::{H, HEIGHT, W, WIDTH};
    let dict = match image {
        Image::Stencil(s) => s.stream().dict(),
        Image::Raster(r) => r.stream().dict(),
    };
    let w = dict.get::<u32>(W).or_else(|| dict.get::<u32>(WIDTH))?;
    let h = dict.get::<u32>(H).or_else(|| dict.get::<u32>(HEIGHT))?;
    Some((f64::from(w), f64::from(h)))
}

fn glyph_advance(glyph: &HayroGlyph<'_>) -> f64 {
    let adv = match glyph {
        HayroGlyph::Outline(o) => o.advance_width(),
        HayroGlyph::Type3(t) => t.advance_width(),
    };
    match adv {
        Some(a) if a.is_finite() && a > 0.0 => f64::from(a),
        _ => 500.0,
    }
}

impl<'a> Device<'a> for Collector {
    fn draw_path(&mut self, path: &BezPath, props: DrawProps<'a>, draw_mode: &DrawMode) {
        if matches!(draw_mode, DrawMode::Invisible) || self.cancel.is_cancelled() {
            return;
        }
        let t = props.transform;
        let stroke = matches!(draw_mode, DrawMode::Stroke(_) | DrawMode::FillAndStroke(..));
        let mut points: Vec<Point> = Vec::new();
        let mut start = Point::ZERO;
        let mut last = Point::ZERO;
        let mut straight = true;
        for el in path.elements() {
            match *el {
                PathEl::MoveTo(p) => {
                    start = t * p;
                    last = start;
                    points.push(start);
                }
                PathEl::LineTo(p) => {
                    let p = t * p;
                    if stroke {
                        self.push_segment(last, p);
                    }
                    last = p;
                    points.push(p);
                }
                PathEl::ClosePath => {
                    if stroke {
                        self.push_segment(last, start);
                    }
                    last = start;
                }
                PathEl::QuadTo(_, p) | PathEl::CurveTo(_, _, p) => {
                    straight = false;
                    last = t * p;
                }
            }
        }
        // A filled thin rectangle is how many generators draw a rule; a filled cell background's
        // edges delimit cells just as well.
        if !stroke && straight && (4..=5).contains(&points.len()) {
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for p in &points {
                x0 = x0.min(p.x);
                y0 = y0.min(p.y);
                x1 = x1.max(p.x);
                y1 = y1.max(p.y);
            }
            let (w, h) = (x1 - x0, y1 - y0);
            if h < 2.5 && w >= 2.0 {
                let y = (y0 + y1) / 2.0;
                self.push_segment(Point::new(x0, y), Point::new(x1, y));
            } else if w < 2.5 && h >= 2.0 {
                let x = (x0 + x1) / 2.0;
                self.push_segment(Point::new(x, y0), Point::new(x, y1));
            } else if w < f64::from(self.width) * 0.95 || h < f64::from(self.height) * 0.95 {
                if self.fills.len() < MAX_SEGMENTS {
                    self.fills.push(Fill {
                        x0,
                        y0,
                        x1,
                        y1,
                        paint: paint_key(&props.paint),
                    });
                } else {
                    self.dropped_segments += 4;
                }
            }
        }
    }

    fn push_clip_path(&mut self, _clip_path: &ClipPath) {}

    fn push_transparency_group(
        &mut self,
        _opacity: f32,
        _mask: Option<SoftMask<'a>>,
        _blend_mode: BlendMode,
    ) {
    }

    fn draw_glyph_run(&mut self, run: &GlyphRun<'_, 'a>, props: DrawProps<'a>, _mode: &DrawMode) {
        if self.cancel.is_cancelled() {
            return;
        }
        // Invisible text (render mode 3) is kept on purpose: it is the text layer of scanned PDFs.
        let glyphs = run.glyphs();
        let Some(first) = glyphs.first() else {
            return;
        };
        let font = self.font_of(first);
        // A vertical font (CMap WMode 1: Japanese and Chinese set top to bottom) stacks its
        // glyphs downwards from an upright glyph: the text runs a quarter turn clockwise of the
        // glyph's own baseline, and reads as a line in that direction, not as one line per glyph.
        let vertical = run.writing_mode() == WritingMode::Vertical;
        for pg in glyphs {
            if self.glyphs.len() >= self.max_glyphs {
                self.dropped_glyphs += 1;
                continue;
            }
            let text = glyph_text(pg);
            let t: Affine = props.transform * pg.transform();
            let adv = glyph_advance(pg);
            let corners = [
                t * Point::new(0.0, DESCENT),
                t * Point::new(adv, DESCENT),
                t * Point::new(adv, ASCENT),
                t * Point::new(0.0, ASCENT),
            ];
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for p in corners {
                x0 = x0.min(p.x);
                y0 = y0.min(p.y);
                x1 = x1.max(p.x);
                y1 = y1.max(p.y);
            }
            let bbox = BBox::new(x0 as f32, y0 as f32, x1 as f32, y1 as f32);
            let [a, b, c, d, _, _] = t.as_coeffs();
            // The em square's vertical extent is the rendered font size.
            let size = ((c * c + d * d).sqrt() * 1000.0) as f32;
            // Baseline direction; device y grows downwards, so negate it for a CCW angle.
            let mut angle = (-b).atan2(a).to_degrees() as f32;
            if vertical {
                angle -= 90.0;
            }
            if !bbox.is_finite() || !size.is_finite() || size <= 0.0 || !self.in_page(&bbox) {
                continue;
            }
            self.seq += 1;
            self.glyphs.push(Glyph {
                text,
                bbox,
                size,
                angle,
                font: Arc::clone(&font),
                seq: self.seq,
            });
        }
    }

    fn draw_image(&mut self, image: Image<'a, '_>, props: ImageDrawProps<'a>) {
        // The interpreter has already mapped the PDF's unit square onto the image's pixel grid
        // (a scale of 1/width, 1/height), so the transform takes pixel coordinates: the unit
        // square here would be one pixel, and every scan would look like a speck.
        if self.cancel.is_cancelled() {
            return;
        }
        let Some((w, h)) = image_pixels(&image) else {
            return;
        };
        let t = props.transform;
        let pts = [
            t * Point::new(0.0, 0.0),
            t * Point::new(w, 0.0),
            t * Point::new(0.0, h),
            t * Point::new(w, h),
        ];
        let xs = pts.iter().map(|p| p.x as f32);
        let ys = pts.iter().map(|p| p.y as f32);
        let bbox = BBox::new(
            xs.clone().fold(f32::MAX, f32::min),
            ys.clone().fold(f32::MAX, f32::min),
            xs.fold(f32::MIN, f32::max),
            ys.fold(f32::MIN, f32::max),
        );
        if bbox.is_finite() && bbox.width() > 1.0 && bbox.height() > 1.0 {
            if self.images.len() < MAX_IMAGES {
                self.images.push(bbox);
            } else {
                self.dropped_images += 1;
            }
        }
    }

    fn pop_clip(&mut self) {}

    fn pop_transparency_group(&mut self) {}
}
