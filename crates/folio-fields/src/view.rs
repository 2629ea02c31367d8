//! The document as the rules read it: per page, visual rows of text pieces, left to right.
//!
//! OCR and layout analysis can put a label and its value in different blocks ("Total:" at the
//! left, "31.00" far right); rows group every piece of text whose vertical extents overlap, so
//! that a label finds its value on the same row wherever the blocks fell.

use folio_doc::{BBox, Document};

/// A piece of text with its box: an OCR box, a font run, a table cell.
#[derive(Debug, Clone)]
pub struct Seg {
    /// The text, trimmed.
    pub text: String,
    /// Where it is.
    pub bbox: BBox,
}

/// A visual row of a page.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based page number.
    pub page: u32,
    /// Box around the row.
    pub bbox: BBox,
    /// The pieces, left to right.
    pub segs: Vec<Seg>,
    /// The pieces' text joined with single spaces.
    pub text: String,
    /// The lower-cased text (same byte offsets for ASCII; matching uses it).
    pub lower: String,
    /// Byte offset of each piece in `text`.
    starts: Vec<usize>,
}

impl Row {
    fn new(page: u32, mut segs: Vec<Seg>) -> Row {
        segs.sort_by(|a, b| a.bbox.x0.total_cmp(&b.bbox.x0));
        let mut text = String::new();
        let mut starts = Vec::new();
        for s in &segs {
            if !text.is_empty() {
                text.push(' ');
            }
            starts.push(text.len());
            text.push_str(&s.text);
        }
        let bbox = BBox::union_all(segs.iter().map(|s| &s.bbox)).unwrap_or_default();
        Row {
            page,
            bbox,
            lower: lower_same_len(&text),
            segs,
            text,
            starts,
        }
    }

    /// The box of the text between byte offsets `start..end`: the pieces it touches, narrowed
    /// to the characters' share of a piece's width where it covers part of one.
    pub fn bbox_of(&self, start: usize, end: usize) -> BBox {
        let mut out: Option<BBox> = None;
        for (seg, &s0) in self.segs.iter().zip(&self.starts) {
            let s1 = s0 + seg.text.len();
            if s1 <= start || s0 >= end {
                continue;
            }
            let len = seg.text.chars().count().max(1) as f32;
            let a = seg.text[..start.saturating_sub(s0).min(seg.text.len())]
                .chars()
                .count() as f32;
            let b = seg.text[..end.saturating_sub(s0).min(seg.text.len())]
                .chars()
                .count() as f32;
            let w = seg.bbox.width();
            let part = BBox::new(
                seg.bbox.x0 + w * a / len,
                seg.bbox.y0,
                seg.bbox.x0 + w * b / len,
                seg.bbox.y1,
            );
            out = Some(out.map_or(part, |o| o.union(&part)));
        }
        out.unwrap_or(self.bbox)
    }

    /// Height of the row's text (the tallest piece).
    pub fn height(&self) -> f32 {
        self.segs
            .iter()
            .map(|s| s.bbox.height())
            .fold(0.0, f32::max)
    }
}

/// Lower-cases character by character, keeping a character whose lower case has another
/// length as it is, so that byte offsets in `text` and its lower case agree.
fn lower_same_len(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(x), None) if x.len_utf8() == c.len_utf8() => x,
                _ => c,
            }
        })
        .collect()
}

/// The rows of every page, pages in order, rows from the top.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// Every row.
    pub rows: Vec<Row>,
    /// Page sizes `(number, width, height)`.
    pub pages: Vec<(u32, f32, f32)>,
}

impl View {
    /// Reads the document's lines (span by span) and table cells into rows.
    pub fn of(doc: &Document) -> View {
        let mut view = View::default();
        for page in &doc.pages {
            view.pages.push((page.number, page.width, page.height));
            let mut segs = Vec::new();
            for block in &page.blocks {
                for line in &block.lines {
                    for span in &line.spans {
                        let t = span.text.trim();
                        if !t.is_empty() && span.bbox.is_finite() {
                            segs.push(Seg {
                                text: t.to_string(),
                                bbox: span.bbox,
                            });
                        }
                    }
                }
                if let Some(table) = &block.table {
                    for cell in &table.cells {
                        let t = cell.text.trim();
                        if let (false, Some(b)) = (t.is_empty(), cell.bbox) {
                            segs.push(Seg {
                                text: t.to_string(),
                                bbox: b,
                            });
                        }
                    }
                }
            }
            view.rows.extend(rows_of(page.number, segs));
        }
        view
    }

    /// The size of a page.
    pub fn page_size(&self, number: u32) -> (f32, f32) {
        self.pages
            .iter()
            .find(|p| p.0 == number)
            .map_or((1.0, 1.0), |p| (p.1.max(1.0), p.2.max(1.0)))
    }

    /// The whole text, rows separated by newlines.
    pub fn text(&self) -> String {
        self.rows
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Groups pieces into rows: a piece joins the row whose vertical extent covers most of it and
/// where it overlaps no piece already there.
fn rows_of(page: u32, mut segs: Vec<Seg>) -> Vec<Row> {
    segs.sort_by(|a, b| a.bbox.center().1.total_cmp(&b.bbox.center().1));
    let mut rows: Vec<Vec<Seg>> = Vec::new();
    for seg in segs {
        let h = seg.bbox.height().max(0.1);
        let found = rows.iter_mut().rev().take(6).find(|row| {
            // The row's band: its pieces' mean top and bottom (one tall piece must not swallow
            // the rows beside it).
            let n = row.len() as f32;
            let top = row.iter().map(|s| s.bbox.y0).sum::<f32>() / n;
            let bottom = row.iter().map(|s| s.bbox.y1).sum::<f32>() / n;
            let band = BBox::new(seg.bbox.x0, top, seg.bbox.x1, bottom);
            let overlap = band.overlap_y(&seg.bbox);
            let min_h = h.min(band.height().max(0.1));
            overlap >= 0.5 * min_h
                && row.iter().all(|s| {
                    s.bbox.overlap_x(&seg.bbox) < 0.3 * s.bbox.width().min(seg.bbox.width())
                })
        });
        match found {
            Some(row) => row.push(seg),
            None => rows.push(vec![seg]),
        }
    }
    let mut out: Vec<Row> = rows.into_iter().map(|r| Row::new(page, r)).collect();
    out.sort_by(|a, b| a.bbox.y0.total_cmp(&b.bbox.y0));
    out
}
