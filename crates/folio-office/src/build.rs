//! Assembling a [`Document`] from the blocks a reader finds, in order.

use folio_doc::{
    BBox, Block, BlockKind, Cell, Document, Link, Metadata, Page, PageProvenance, Provenance,
    Source, Table,
};

use crate::media::{FigureSource, Pending};
use crate::OfficeError;

/// Collects blocks page by page; every reader ends with [`DocBuilder::finish`].
pub(crate) struct DocBuilder {
    doc: Document,
    current: Option<Page>,
    decision: &'static str,
    /// Figures whose picture the file holds, for [`DocBuilder::finish_with_images`].
    pending: Vec<Pending>,
}

impl DocBuilder {
    pub(crate) fn new(format: &str, filename: Option<&str>, decision: &'static str) -> Self {
        DocBuilder {
            doc: Document::new(Metadata {
                filename: filename.map(str::to_string),
                format: format.to_string(),
                page_count: 0,
                title: None,
            }),
            current: None,
            decision,
            pending: Vec::new(),
        }
    }

    pub(crate) fn set_title(&mut self, title: Option<String>) {
        self.doc.metadata.title = title.filter(|t| !t.trim().is_empty());
    }

    /// Starts a new page; `(0, 0)` for a logical page without geometry.
    pub(crate) fn start_page(&mut self, width: f32, height: f32) {
        self.end_page();
        let number = self.doc.pages.len() as u32 + 1;
        self.current = Some(Page {
            number,
            width,
            height,
            rotation: 0,
            blocks: Vec::new(),
            provenance: PageProvenance::new(Source::TextLayer, self.decision),
        });
    }

    fn end_page(&mut self) {
        if let Some(page) = self.current.take() {
            self.doc.pages.push(page);
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.current.is_none() {
            // Blocks before any page start go on a logical page.
            self.start_page(0.0, 0.0);
        }
        self.current.get_or_insert_with(unreachable_page)
    }

    fn provenance(&mut self) -> Provenance {
        Provenance {
            page: self.page().number,
            source: Source::TextLayer,
        }
    }

    /// Adds a text block; blank text is dropped except for figures.
    pub(crate) fn push(&mut self, kind: BlockKind, text: &str) {
        self.push_at(kind, text, BBox::default());
    }

    pub(crate) fn push_at(&mut self, kind: BlockKind, text: &str, bbox: BBox) {
        self.push_linked(kind, text, bbox, Vec::new());
    }

    /// Adds a text block with the hyperlinks found in its text.
    pub(crate) fn push_linked(
        &mut self,
        kind: BlockKind,
        text: &str,
        bbox: BBox,
        links: Vec<Link>,
    ) {
        let text = if kind == BlockKind::Code {
            text.trim_matches('\n').trim_end().to_string()
        } else {
            collapse_ws(text)
        };
        if text.is_empty() && kind != BlockKind::Figure {
            return;
        }
        let provenance = self.provenance();
        self.page().blocks.push(Block {
            kind,
            bbox,
            text,
            lines: Vec::new(),
            table: None,
            key_value: None,
            caption: None,
            image: None,
            links,
            provenance,
        });
    }

    /// Adds a figure; `source` says where its picture is, when the file holds one.
    pub(crate) fn push_figure(&mut self, bbox: BBox, source: Option<FigureSource>) {
        self.push_figure_linked(bbox, source, Vec::new());
    }

    /// [`DocBuilder::push_figure`] with the hyperlinks around the picture.
    pub(crate) fn push_figure_linked(
        &mut self,
        bbox: BBox,
        source: Option<FigureSource>,
        links: Vec<Link>,
    ) {
        self.push_linked(BlockKind::Figure, "", bbox, links);
        if let Some(source) = source {
            let page = self.page();
            let at = (page.number, page.blocks.len() - 1, source);
            self.pending.push(at);
        }
    }

    pub(crate) fn push_table(&mut self, table: Table, bbox: BBox) {
        self.push_table_linked(table, bbox, Vec::new());
    }

    /// Adds a table with the hyperlinks found in its cells.
    pub(crate) fn push_table_linked(&mut self, table: Table, bbox: BBox, links: Vec<Link>) {
        if table.cells.is_empty() {
            return;
        }
        let provenance = self.provenance();
        let mut block = Block::from_table(table, bbox, provenance);
        block.links = links;
        self.page().blocks.push(block);
    }

    pub(crate) fn warn(&mut self, message: impl Into<String>) {
        let page = self.current.as_ref().map(|p| p.number);
        // What a reader reports is content it could not take in (a missing part, a broken one).
        self.doc
            .warn(folio_doc::WarningKind::ContentDropped, page, message);
    }

    /// [`DocBuilder::finish`], giving each figure its picture when `options` asks for them
    /// (`read` fetches a package member).
    pub(crate) fn finish_with_images(
        mut self,
        options: &crate::OfficeOptions,
        read: impl FnMut(&str) -> Result<Option<Vec<u8>>, OfficeError>,
    ) -> Result<Document, OfficeError> {
        let pending = std::mem::take(&mut self.pending);
        let mut doc = self.finish();
        if options.images {
            crate::media::attach(&mut doc, pending, options.limits.max_image_bytes, read)?;
        }
        Ok(doc)
    }

    pub(crate) fn finish(mut self) -> Document {
        self.end_page();
        if self.doc.pages.is_empty() {
            // An empty file is still a document: one empty logical page.
            self.start_page(0.0, 0.0);
            self.end_page();
        }
        self.doc.metadata.page_count = self.doc.pages.len() as u32;
        self.doc
    }
}

/// Never used: [`DocBuilder::page`] has just started a page when it calls this.
fn unreachable_page() -> Page {
    Page {
        number: 1,
        width: 0.0,
        height: 0.0,
        rotation: 0,
        blocks: Vec::new(),
        provenance: PageProvenance::new(Source::TextLayer, ""),
    }
}

/// A hyperlink as the document model keeps it, or `None` for a target that must not travel:
/// an empty one, or a script URL (`javascript:`, `vbscript:`) or inline `data:` payload, which
/// a consumer that renders links could otherwise be made to run. The scheme is read as
/// browsers read it: ASCII whitespace and control characters anywhere in it are ignored.
pub(crate) fn link(text: &str, url: &str) -> Option<Link> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let scheme: String = url
        .chars()
        .take_while(|&c| c != ':')
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if url.contains(':') && matches!(scheme.as_str(), "javascript" | "vbscript" | "data") {
        return None;
    }
    Some(Link {
        text: collapse_ws(text),
        url: url.to_string(),
    })
}

/// Runs of whitespace (including newlines) become one space; ends trimmed.
pub(crate) fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Builds a [`Table`] from rows of cells with spans, placing each cell in the first grid position
/// not covered by a span from above (the HTML table model, which DOCX merges map onto too).
#[derive(Default)]
pub(crate) struct TableBuilder {
    cells: Vec<Cell>,
    /// For each column, the first row no longer covered by a rowspan from above.
    covered_until: Vec<u32>,
    row: u32,
    col: u32,
    max_cols: u32,
    max_cells: usize,
}

impl TableBuilder {
    pub(crate) fn new(max_cells: usize) -> Self {
        TableBuilder {
            max_cells,
            ..Default::default()
        }
    }

    pub(crate) fn start_row(&mut self) {
        if !self.cells.is_empty() || self.row > 0 || self.col > 0 {
            self.row += 1;
        }
        self.col = 0;
    }

    /// Adds a cell to the current row; returns false when the cell budget is spent.
    pub(crate) fn cell(
        &mut self,
        text: String,
        row_span: u32,
        col_span: u32,
        header: bool,
    ) -> bool {
        if self.cells.len() >= self.max_cells {
            return false;
        }
        // Spans are clamped: a hostile rowspan="65534" must not allocate a huge grid.
        let row_span = row_span.clamp(1, 1000);
        let col_span = col_span.clamp(1, 1000);
        while self
            .covered_until
            .get(self.col as usize)
            .is_some_and(|&until| until > self.row)
        {
            self.col += 1;
        }
        let end = self.col + col_span;
        if self.covered_until.len() < end as usize {
            self.covered_until.resize(end as usize, 0);
        }
        for c in self.col..end {
            self.covered_until[c as usize] = self.row + row_span;
        }
        self.cells.push(Cell {
            row: self.row,
            col: self.col,
            row_span,
            col_span,
            text,
            bbox: None,
            header,
        });
        self.col = end;
        self.max_cols = self.max_cols.max(end);
        true
    }

    pub(crate) fn finish(self) -> Table {
        let rows = self.cells.iter().map(|c| c.row + 1).max().unwrap_or(0);
        // Row spans reaching past the last row are cut to the table.
        let mut cells = self.cells;
        for c in &mut cells {
            c.row_span = c.row_span.min(rows - c.row);
        }
        Table {
            rows,
            cols: self.max_cols,
            cells,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_links_are_dropped() {
        assert_eq!(
            link(" a\n b ", "https://example.org/x").map(|l| (l.text, l.url)),
            Some(("a b".to_string(), "https://example.org/x".to_string()))
        );
        assert_eq!(link("x", "#intro").unwrap().url, "#intro");
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "vbscript:msgbox",
            "data:text/html,<script>alert(1)</script>",
            "  ",
        ] {
            assert!(link("x", bad).is_none(), "{bad:?}");
        }
        // A relative path that merely contains the word is a link like any other.
        assert!(link("x", "docs/javascript.html").is_some());
    }

    #[test]
    fn spans_push_later_cells_right() {
        let mut t = TableBuilder::new(100);
        t.start_row();
        t.cell("a".into(), 2, 1, true);
        t.cell("b".into(), 1, 2, true);
        t.start_row();
        t.cell("c".into(), 1, 1, false);
        t.cell("d".into(), 1, 1, false);
        let t = t.finish();
        assert_eq!((t.rows, t.cols), (2, 3));
        assert_eq!(
            t.spanned_grid(),
            vec![vec!["a", "b", "b"], vec!["a", "c", "d"]]
        );
    }
}
