//! The document model: pages → blocks → lines → spans, tables of cells, boxes and provenance.

use serde::{Deserialize, Serialize};

/// Identifies the JSON layout of [`Document`]; bumped whenever a field changes meaning.
pub const SCHEMA: &str = "folio.document.v1";

/// An axis-aligned box in page coordinates: points, origin top-left, y grows downwards.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl BBox {
    /// A box from its edges; swapped edges are put in order so a box is never inverted.
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        BBox {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
        }
    }

    /// Width (never negative).
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }

    /// Height (never negative).
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }

    /// Centre point `(x, y)`.
    pub fn center(&self) -> (f32, f32) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &BBox) -> BBox {
        BBox {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// The union of many boxes, or `None` for none.
    pub fn union_all<'a>(boxes: impl IntoIterator<Item = &'a BBox>) -> Option<BBox> {
        boxes.into_iter().fold(None, |acc, b| match acc {
            None => Some(*b),
            Some(a) => Some(a.union(b)),
        })
    }

    /// Length of the overlap of the two horizontal extents (0 when disjoint).
    pub fn overlap_x(&self, other: &BBox) -> f32 {
        (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0)
    }

    /// Length of the overlap of the two vertical extents (0 when disjoint).
    pub fn overlap_y(&self, other: &BBox) -> f32 {
        (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0)
    }

    /// Whether the point lies inside or on the edge.
    pub fn contains_point(&self, x: f32, y: f32) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }

    /// Whether all four edges are zero: the box of an element without page geometry.
    pub fn is_zero(&self) -> bool {
        *self == BBox::default()
    }

    /// Whether all four edges are finite numbers.
    pub fn is_finite(&self) -> bool {
        self.x0.is_finite() && self.y0.is_finite() && self.x1.is_finite() && self.y1.is_finite()
    }
}

/// Where a piece of content came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The document's own text layer (a born-digital PDF, an office file).
    TextLayer,
    /// Optical character recognition on a raster.
    Ocr,
    /// A learned model (layout, table structure) decided it.
    Model,
}

/// The page and the source an element was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// 1-based page number in the source document.
    pub page: u32,
    /// How the content was obtained.
    pub source: Source,
}

/// A run of text in one font.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// The text, NFKC-normalised, in logical order.
    pub text: String,
    /// Box around the span's glyphs.
    pub bbox: BBox,
    /// Font name as the document names it (subset prefix removed); empty when unknown (OCR).
    pub font: String,
    /// Font size in points.
    pub size: f32,
    /// Bold face.
    pub bold: bool,
    /// Italic or oblique face.
    pub italic: bool,
}

/// A line of text: spans on one baseline, in logical order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Box around the line.
    pub bbox: BBox,
    /// The spans of the line.
    pub spans: Vec<Span>,
}

impl Line {
    /// The line's text: its spans joined as they stand (spans carry their own spacing).
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

/// What a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockKind {
    /// A section heading; level 1 is the most important.
    Heading {
        /// 1 to 6.
        level: u8,
    },
    /// Body text.
    Paragraph,
    /// One item of a list; the bullet is not part of the text, an ordinal number is.
    ListItem {
        /// Numbered (1., a), iv.) rather than bulleted.
        ordered: bool,
        /// Nesting depth: 0 for a top-level item, 1 for an item of a list inside an item...
        /// (absent from the JSON when 0; readers that cannot tell nesting leave it 0).
        #[serde(default, skip_serializing_if = "is_zero")]
        level: u8,
    },
    /// A table; the block's `table` holds its cells.
    Table,
    /// A picture or chart; its text, if any, is what was printed inside it.
    Figure,
    /// The caption of a table or figure.
    Caption,
    /// Running header repeated across pages.
    PageHeader,
    /// Running footer or page number.
    PageFooter,
    /// A displayed formula.
    Formula,
    /// Program code or other preformatted text; lines are kept.
    Code,
    /// A label and its value on a form ("Name: Jane Doe"); the block's `key_value` holds both
    /// parts with their boxes, and its text is "key: value".
    KeyValue,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

impl BlockKind {
    /// Page furniture (running headers and footers), which reading formats leave out.
    pub fn is_furniture(&self) -> bool {
        matches!(self, BlockKind::PageHeader | BlockKind::PageFooter)
    }
}

/// A block of content: a paragraph, heading, list item, table, figure…
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// What the block is.
    #[serde(flatten)]
    pub kind: BlockKind,
    /// Box around the block. Absent from the JSON (and all zero here) for blocks that have no
    /// page geometry: those of flow formats (DOCX, HTML, spreadsheets, text).
    #[serde(default, skip_serializing_if = "BBox::is_zero")]
    pub bbox: BBox,
    /// The block's text, lines joined (hyphenation at line ends removed; `Code` keeps newlines).
    pub text: String,
    /// The lines the text came from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    /// The cells, for a `Table` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    /// The label and the value, for a `KeyValue` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_value: Option<KeyValue>,
    /// For a `Figure`: the text of its caption (the `Caption` block beside it), when the layout
    /// found one. The caption block itself stays in the reading order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// For a `Figure`, when pictures were asked for (`--images`, `images=inline`): its picture.
    /// (Boxed: most blocks have none, and every block would otherwise carry its size.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Box<Image>>,
    /// The hyperlinks in the block's text (or in a table's cells), in reading order; absent
    /// from the JSON when there are none. Only the JSON carries them: Markdown, HTML and text
    /// output print the text alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Where it came from.
    pub provenance: Provenance,
}

/// A figure's picture: its bytes inline (base64 in JSON), or the path of the file it was
/// written to by the CLI (`--images DIR`), never both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Where the CLI wrote the picture, as the caller named the folder (`DIR/page-3-figure-2.png`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The picture's encoded bytes (`mime` says which format); base64 in JSON.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "base64_bytes"
    )]
    pub data: Option<Vec<u8>>,
    /// The media type of the bytes: `image/png` or `image/jpeg`.
    pub mime: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Image {
    /// The file extension for the picture's format (`png`, `jpg`).
    pub fn extension(&self) -> &'static str {
        match self.mime.as_str() {
            "image/jpeg" => "jpg",
            _ => "png",
        }
    }
}

/// `Option<Vec<u8>>` as a standard base64 string.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        data: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match data {
            Some(bytes) => {
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t.as_bytes())
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

/// A hyperlink: the words that carry it and where it points. Never followed by Folio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The linked words, whitespace collapsed (empty for a link around a picture).
    pub text: String,
    /// The target as written in the source: an absolute or relative URL, `mailto:`, or
    /// `#name` for a place inside the document.
    pub url: String,
}

/// A form's label and its value, each with its box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    /// The label, without its trailing colon ("Name").
    pub key: String,
    /// Box around the label.
    pub key_bbox: BBox,
    /// The value as filled in; empty for a blank field. A checkbox reads `[x]` or `[ ]`.
    pub value: String,
    /// Box around the value, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_bbox: Option<BBox>,
}

impl Block {
    /// A text block from its lines; the text is joined with [`join_lines`] (or with newlines for `Code`).
    pub fn from_lines(kind: BlockKind, lines: Vec<Line>, provenance: Provenance) -> Block {
        let texts: Vec<String> = lines.iter().map(Line::text).collect();
        let text = if kind == BlockKind::Code {
            indented_code(&lines, &texts)
        } else {
            join_lines(texts.iter().map(String::as_str))
        };
        let bbox = BBox::union_all(lines.iter().map(|l| &l.bbox)).unwrap_or_default();
        Block {
            kind,
            bbox,
            text,
            lines,
            table: None,
            key_value: None,
            caption: None,
            image: None,
            links: Vec::new(),
            provenance,
        }
    }

    /// A key-value block; its lines are those of both parts. Its text is the lines' text as
    /// printed ("TOTAL : 7.80" keeps the space before the colon, as a transcript does), or
    /// "key: value" when it has no lines.
    pub fn from_key_value(kv: KeyValue, lines: Vec<Line>, provenance: Provenance) -> Block {
        let texts: Vec<String> = lines.iter().map(Line::text).collect();
        let printed = join_lines(texts.iter().map(String::as_str));
        let text = if !printed.is_empty() {
            printed
        } else if kv.value.is_empty() {
            format!("{}:", kv.key)
        } else {
            format!("{}: {}", kv.key, kv.value)
        };
        let bbox = match kv.value_bbox {
            Some(v) => kv.key_bbox.union(&v),
            None => kv.key_bbox,
        };
        Block {
            kind: BlockKind::KeyValue,
            bbox,
            text,
            lines,
            table: None,
            key_value: Some(kv),
            caption: None,
            image: None,
            links: Vec::new(),
            provenance,
        }
    }

    /// A table block; its text is the cells' text, row by row, for search and plain output.
    pub fn from_table(table: Table, bbox: BBox, provenance: Provenance) -> Block {
        let text = table
            .grid()
            .iter()
            .map(|row| row.join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        Block {
            kind: BlockKind::Table,
            bbox,
            text,
            lines: Vec::new(),
            table: Some(table),
            key_value: None,
            caption: None,
            image: None,
            links: Vec::new(),
            provenance,
        }
    }
}

/// Code lines with their indentation restored from their left edges, in character widths of
/// the (monospaced) font.
fn indented_code(lines: &[Line], texts: &[String]) -> String {
    let left = lines.iter().map(|l| l.bbox.x0).fold(f32::MAX, f32::min);
    let mut widths: Vec<f32> = lines
        .iter()
        .zip(texts)
        .filter(|(_, t)| t.chars().count() >= 4)
        .map(|(l, t)| l.bbox.width() / t.chars().count() as f32)
        .collect();
    widths.sort_by(f32::total_cmp);
    let char_width = widths.get(widths.len() / 2).copied().unwrap_or(0.0);
    lines
        .iter()
        .zip(texts)
        .map(|(l, t)| {
            let indent = if char_width > 0.0 {
                ((l.bbox.x0 - left) / char_width).round().clamp(0.0, 40.0) as usize
            } else {
                0
            };
            format!("{}{}", " ".repeat(indent), t.trim())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Joins the lines of a paragraph: a space between lines, except that a word broken with a
/// hyphen at a line end (`infor-` / `mation`) is rejoined. A hyphen between a letter and a capital
/// or a digit (`Jean-` / `Paul`, `COVID-` / `19`) is kept, without the space.
pub fn join_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str(line);
            continue;
        }
        let mut prev = out.chars().rev();
        let last = prev.next();
        let before_last = prev.next();
        let next_first = line.chars().next();
        match (before_last, last, next_first) {
            (Some(a), Some('-' | '\u{00AD}'), Some(b)) if a.is_alphabetic() && b.is_lowercase() => {
                out.pop();
                out.push_str(line);
            }
            (Some(a), Some('-'), Some(b)) if a.is_alphabetic() && b.is_alphanumeric() => {
                out.push_str(line);
            }
            _ => {
                out.push(' ');
                out.push_str(line);
            }
        }
    }
    out
}

/// A table: cells on a grid, with spans.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    /// Number of grid rows.
    pub rows: u32,
    /// Number of grid columns.
    pub cols: u32,
    /// The cells; a spanning cell appears once, at its top-left grid position.
    pub cells: Vec<Cell>,
}

/// One table cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// 0-based grid row of the top-left corner.
    pub row: u32,
    /// 0-based grid column of the top-left corner.
    pub col: u32,
    /// Rows covered (at least 1).
    pub row_span: u32,
    /// Columns covered (at least 1).
    pub col_span: u32,
    /// The cell's text.
    pub text: String,
    /// Box around the cell, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BBox>,
    /// A header cell (column or row heading).
    #[serde(default)]
    pub header: bool,
}

impl Table {
    /// The table as a dense `rows × cols` grid of text; a spanning cell's text sits at its
    /// top-left position and the positions it covers are empty. Cells outside the grid are ignored.
    pub fn grid(&self) -> Vec<Vec<String>> {
        let (rows, cols) = (self.rows as usize, self.cols as usize);
        let mut grid = vec![vec![String::new(); cols]; rows];
        for cell in &self.cells {
            if let Some(slot) = grid
                .get_mut(cell.row as usize)
                .and_then(|r| r.get_mut(cell.col as usize))
            {
                slot.clone_from(&cell.text);
            }
        }
        grid
    }

    /// Like [`Table::grid`], but a spanning cell's text fills every position it covers.
    pub fn spanned_grid(&self) -> Vec<Vec<String>> {
        let (rows, cols) = (self.rows as usize, self.cols as usize);
        let mut grid = vec![vec![String::new(); cols]; rows];
        for cell in &self.cells {
            let (r0, c0) = (cell.row as usize, cell.col as usize);
            let r1 = (r0 + cell.row_span.max(1) as usize).min(rows);
            let c1 = (c0 + cell.col_span.max(1) as usize).min(cols);
            for row in grid.iter_mut().take(r1).skip(r0) {
                for slot in row.iter_mut().take(c1).skip(c0) {
                    slot.clone_from(&cell.text);
                }
            }
        }
        grid
    }

    /// Whether the first row is made of header cells (or the table has no header flags at all,
    /// in which case Markdown treats the first row as the header by convention).
    pub fn first_row_is_header(&self) -> bool {
        self.cells.iter().filter(|c| c.row == 0).all(|c| c.header)
            || self.cells.iter().all(|c| !c.header)
    }
}

/// How the content of a page was obtained, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageProvenance {
    /// The source of the page's text.
    pub source: Source,
    /// Why that source was chosen (for example "text layer has 1834 characters" or
    /// "--ocr always"), so that a reader can audit the decision.
    pub decision: String,
    /// The engine's stages that changed this page, in the order they ran (for example
    /// `["text_layer", "layout", "tables"]` or `["ocr", "layout"]`).
    #[serde(default)]
    pub stages: Vec<String>,
    /// The page lost some of its content (see the document's warnings for this page).
    #[serde(default)]
    pub partial: bool,
}

impl PageProvenance {
    /// A provenance with its source and decision, before any stage ran.
    pub fn new(source: Source, decision: impl Into<String>) -> PageProvenance {
        PageProvenance {
            source,
            decision: decision.into(),
            stages: Vec::new(),
            partial: false,
        }
    }
}

/// One page.
///
/// Flow formats (DOCX, HTML, Markdown, text, CSV, spreadsheets) have no pages of their own: their
/// "pages" are logical (the whole document, one sheet) and have a width and height of 0, and
/// their blocks carry no box ([`Page::is_flow`]). Slides have real geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// 1-based page number in the source document.
    pub number: u32,
    /// Width in points, as displayed (after rotation); 0 for a flow page.
    pub width: f32,
    /// Height in points, as displayed (after rotation); 0 for a flow page.
    pub height: f32,
    /// The page's rotation in degrees (0, 90, 180 or 270) as the source declares it.
    pub rotation: u16,
    /// Blocks in reading order.
    pub blocks: Vec<Block>,
    /// How this page's text was obtained.
    pub provenance: PageProvenance,
}

impl Page {
    /// A logical page without geometry (zero size): its blocks have no boxes.
    pub fn is_flow(&self) -> bool {
        self.width == 0.0 && self.height == 0.0
    }

    /// Gives each figure without a caption the text of the `Caption` block right after it, or
    /// else right before it (when that caption does not follow another figure, whose it is).
    /// Layout places a figure's caption next to it in reading order; office files put it in
    /// the paragraph before or after the picture.
    pub fn link_figure_captions(&mut self) {
        // A table's caption beside a figure is not the figure's.
        let captions: Vec<Option<String>> = self
            .blocks
            .iter()
            .map(|b| {
                let text = b.text.trim();
                let table = text.starts_with("Table") || text.starts_with("Tab.");
                (b.kind == BlockKind::Caption && !text.is_empty() && !table)
                    .then(|| text.to_string())
            })
            .collect();
        let figure: Vec<bool> = self
            .blocks
            .iter()
            .map(|b| b.kind == BlockKind::Figure)
            .collect();
        for (i, block) in self.blocks.iter_mut().enumerate() {
            if !figure[i] || block.caption.is_some() {
                continue;
            }
            let after = captions.get(i + 1).cloned().flatten();
            let before = match i {
                0 => None,
                // The caption under the figure above is that figure's.
                _ if i >= 2 && figure[i - 2] => None,
                _ => captions[i - 1].clone(),
            };
            block.caption = after.or(before);
        }
    }
}

/// Outcome of the whole extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every requested page was processed.
    Success,
    /// Some pages or stages failed; see `warnings`.
    Partial,
}

/// What kind of problem a [`Warning`] reports; serialised as a snake_case string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// A page could not be read; it is missing from the document.
    PageFailed,
    /// A page ran past its time limit and was cancelled; it is missing from the document.
    PageTimeout,
    /// A page lost some of its content (a reader's per-page limit, a read cut short).
    ContentDropped,
    /// A page needed OCR that could not run (no models installed, or models that do not load).
    OcrUnavailable,
    /// A page needed OCR, but OCR was turned off (`--ocr never`).
    OcrDisabled,
    /// The input ends early (a truncated file); what was there was read.
    TruncatedInput,
    /// A field was asked that the built-in rules do not know, with no model to ask; it is null.
    UnknownField,
    /// The model endpoint for fields failed; the fields come from the rules alone.
    FieldsModelFailed,
    /// The layout and table models could not run (not installed, not loadable, or failed on
    /// the page): the pages named keep their heuristic layout.
    LayoutUnavailable,
    /// A figure's picture was asked for (`--images`, `images=inline`) and left out: over the
    /// document's budget of picture bytes or figures, in a format that cannot be written
    /// (EMF, SVG), or a link to a file outside the document, which is never fetched.
    ImageSkipped,
    /// A kind this version does not know (written by a newer Folio).
    #[serde(other)]
    Other,
}

impl WarningKind {
    /// The kind's name as it appears in JSON.
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::PageFailed => "page_failed",
            WarningKind::PageTimeout => "page_timeout",
            WarningKind::ContentDropped => "content_dropped",
            WarningKind::OcrUnavailable => "ocr_unavailable",
            WarningKind::OcrDisabled => "ocr_disabled",
            WarningKind::TruncatedInput => "truncated_input",
            WarningKind::UnknownField => "unknown_field",
            WarningKind::FieldsModelFailed => "fields_model_failed",
            WarningKind::LayoutUnavailable => "layout_unavailable",
            WarningKind::ImageSkipped => "image_skipped",
            WarningKind::Other => "other",
        }
    }
}

impl std::fmt::Display for WarningKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A problem that did not stop the extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// What kind of problem it is.
    pub kind: WarningKind,
    /// The page concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// What happened.
    pub message: String,
}

impl Warning {
    /// A warning of `kind` about `page` (or the whole document).
    pub fn new(kind: WarningKind, page: Option<u32>, message: impl Into<String>) -> Warning {
        Warning {
            kind,
            page,
            message: message.into(),
        }
    }
}

/// Facts about the source document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metadata {
    /// File name of the source, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Input format ("pdf", "png", …).
    pub format: String,
    /// Number of pages in the source (not only those extracted).
    pub page_count: u32,
    /// Title from the document's metadata, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A whole extracted document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Facts about the source.
    pub metadata: Metadata,
    /// The extracted pages, in document order.
    pub pages: Vec<Page>,
    /// Whether everything asked for was extracted.
    pub status: Status,
    /// Problems met on the way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Named fields asked of the document (`--fields`, `--schema`), in the order asked; absent
    /// when none were asked.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub fields: Fields,
}

impl Document {
    /// An empty document for the given source.
    pub fn new(metadata: Metadata) -> Document {
        Document {
            schema: SCHEMA.to_string(),
            metadata,
            pages: Vec::new(),
            status: Status::Success,
            warnings: Vec::new(),
            fields: Fields::default(),
        }
    }

    /// Records a problem and marks the document partial (and the page, when it is in the
    /// document).
    pub fn warn(&mut self, kind: WarningKind, page: Option<u32>, message: impl Into<String>) {
        self.push_warning(Warning::new(kind, page, message));
    }

    /// Records a warning made elsewhere, as [`Document::warn`] does.
    pub fn push_warning(&mut self, warning: Warning) {
        if let Some(number) = warning.page {
            if let Some(page) = self.pages.iter_mut().find(|p| p.number == number) {
                page.provenance.partial = true;
            }
        }
        self.warnings.push(warning);
        self.status = Status::Partial;
    }

    /// Every table in the document with the page it is on.
    pub fn tables(&self) -> impl Iterator<Item = (u32, &Table)> {
        self.pages.iter().flat_map(|p| {
            p.blocks
                .iter()
                .filter_map(move |b| b.table.as_ref().map(|t| (p.number, t)))
        })
    }
}

/// How a field's value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// The built-in rules over the document's layout.
    Rules,
    /// A language model behind an OpenAI-compatible endpoint.
    Llm,
}

/// One field found in the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The value as `--format fields` prints it: text as printed (names, addresses, dates,
    /// numbers), a number for amounts, an array of objects for line items.
    pub value: serde_json::Value,
    /// The document's text the value was read from, as printed, when it differs from `value`
    /// (an amount's `RM 31.00`, for example).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The value in a standard form: an ISO 8601 date (`2019-01-09`), an amount as
    /// `{"amount": "31.00", "currency": "MYR"}` (a decimal string; the currency an ISO 4217
    /// code, or null when the document does not say), an ISO 4217 currency code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized: Option<serde_json::Value>,
    /// How sure the extractor is, from 0 to 1.
    pub confidence: f32,
    /// The page the value is on, when it was located.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Where on that page, when it was located.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BBox>,
    /// Who found it.
    pub source: FieldSource,
    /// A model's answer that could not be found in the document's text (its confidence is low).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
}

/// The fields asked of a document: each name with its field, or `None` when it was not found.
/// Serialized as a JSON object in the order the names were asked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fields {
    entries: Vec<(String, Option<Field>)>,
}

impl Fields {
    /// Whether no field was asked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets a field (or records it as not found), replacing an earlier entry of the same name.
    pub fn set(&mut self, name: impl Into<String>, field: Option<Field>) {
        let name = name.into();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = field,
            None => self.entries.push((name, field)),
        }
    }

    /// The field of that name: `None` when not asked, `Some(None)` when asked but not found.
    pub fn get(&self, name: &str) -> Option<Option<&Field>> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.as_ref())
    }

    /// The names and fields, in the order asked.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&Field>)> {
        self.entries.iter().map(|(n, f)| (n.as_str(), f.as_ref()))
    }

    /// The flat object `--format fields` prints, as pretty JSON text: each name to its value,
    /// `null` when not found, in the order asked (serde_json's own map would sort the names).
    pub fn flat_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (name, field)) in self.entries.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            // Strings and JSON values always serialize.
            out.push_str(&serde_json::to_string(name).unwrap_or_default());
            out.push_str(": ");
            let value = field
                .as_ref()
                .map_or(&serde_json::Value::Null, |f| &f.value);
            out.push_str(&serde_json::to_string(value).unwrap_or_else(|_| "null".into()));
        }
        out.push_str(if self.entries.is_empty() { "}" } else { "\n}" });
        out
    }
}

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, field) in &self.entries {
            map.serialize_entry(name, field)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of fields")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut fields = Fields::default();
                while let Some((name, field)) = map.next_entry::<String, Option<Field>>()? {
                    fields.set(name, field);
                }
                Ok(fields)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_the_order_asked_and_round_trip() {
        let mut doc = Document::new(Metadata::default());
        let v = serde_json::to_value(&doc).unwrap();
        assert!(
            v.get("fields").is_none(),
            "no fields asked, none written: {v}"
        );
        doc.fields.set("total", None);
        doc.fields.set(
            "date",
            Some(Field {
                value: "09/01/2019".into(),
                text: None,
                normalized: Some("2019-01-09".into()),
                confidence: 0.9,
                page: Some(1),
                bbox: Some(BBox::new(1.0, 2.0, 3.0, 4.0)),
                source: FieldSource::Rules,
                unverified: false,
            }),
        );
        let json = serde_json::to_string(&doc).unwrap();
        assert!(
            json.contains(r#""fields":{"total":null,"date":{"value":"09/01/2019""#),
            "{json}"
        );
        assert!(!json.contains("unverified"), "{json}");
        let back: Document = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
        assert_eq!(back.fields.get("total"), Some(None));
        assert!(back.fields.get("company").is_none());
    }

    #[test]
    fn join_lines_rejoins_hyphenated_words_only() {
        assert_eq!(join_lines(["infor-", "mation here"]), "information here");
        assert_eq!(join_lines(["Jean-", "Paul"]), "Jean-Paul");
        assert_eq!(join_lines(["COVID-", "19 cases"]), "COVID-19 cases");
        assert_eq!(join_lines(["a -", "b"]), "a - b");
        assert_eq!(join_lines(["one", "", "two "]), "one two");
    }

    #[test]
    fn grid_places_spanning_cells_at_their_origin() {
        let t = Table {
            rows: 2,
            cols: 2,
            cells: vec![
                Cell {
                    row: 0,
                    col: 0,
                    row_span: 1,
                    col_span: 2,
                    text: "wide".into(),
                    bbox: None,
                    header: true,
                },
                Cell {
                    row: 1,
                    col: 1,
                    row_span: 1,
                    col_span: 1,
                    text: "b".into(),
                    bbox: None,
                    header: false,
                },
                Cell {
                    row: 9,
                    col: 9,
                    row_span: 1,
                    col_span: 1,
                    text: "outside".into(),
                    bbox: None,
                    header: false,
                },
            ],
        };
        assert_eq!(t.grid(), vec![vec!["wide", ""], vec!["", "b"]]);
        assert!(t.first_row_is_header());
    }

    #[test]
    fn warnings_are_typed_and_mark_their_page_partial() {
        let mut doc = Document::new(Metadata::default());
        doc.pages.push(Page {
            number: 2,
            width: 10.0,
            height: 10.0,
            rotation: 0,
            blocks: Vec::new(),
            provenance: PageProvenance::new(Source::TextLayer, "text layer"),
        });
        doc.warn(WarningKind::ContentDropped, Some(2), "glyphs ignored");
        assert_eq!(doc.status, Status::Partial);
        assert!(doc.pages[0].provenance.partial);
        let v = serde_json::to_value(&doc.warnings[0]).unwrap();
        assert_eq!(v["kind"], "content_dropped");
        assert_eq!(v["page"], 2);
        // A kind from a newer version still reads.
        let w: Warning = serde_json::from_str(r#"{"kind":"something_new","message":"m"}"#).unwrap();
        assert_eq!(w.kind, WarningKind::Other);
    }

    #[test]
    fn block_kind_serializes_as_a_tag() {
        let b = Block::from_lines(
            BlockKind::Heading { level: 2 },
            vec![],
            Provenance {
                page: 1,
                source: Source::TextLayer,
            },
        );
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["type"], "heading");
        assert_eq!(v["level"], 2);
        let back: Block = serde_json::from_value(v).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn links_appear_in_the_json_only_when_there_are_some() {
        let mut b = Block::from_lines(
            BlockKind::Paragraph,
            vec![],
            Provenance {
                page: 1,
                source: Source::TextLayer,
            },
        );
        assert!(serde_json::to_value(&b).unwrap().get("links").is_none());
        b.links.push(Link {
            text: "Folio".into(),
            url: "https://example.org/".into(),
        });
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(
            v["links"],
            serde_json::json!([{"text": "Folio", "url": "https://example.org/"}])
        );
        let back: Block = serde_json::from_value(v).unwrap();
        assert_eq!(back, b);
    }
}
