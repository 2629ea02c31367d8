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
    /// Where it came from.
    pub provenance: Provenance,
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

/// A problem that did not stop the extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The page concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// What happened.
    pub message: String,
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
        }
    }

    /// Records a problem and marks the document partial.
    pub fn warn(&mut self, page: Option<u32>, message: impl Into<String>) {
        self.warnings.push(Warning {
            page,
            message: message.into(),
        });
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
