//! Tables without rules: rows and columns from the alignment of the text alone.
//!
//! Financial statements and statistical tables often draw no rules at all. Such a table shows
//! as a run of lines split into pieces by wide gaps that line up from line to line. Columns are
//! the x-ranges that (almost) no piece crosses; header lines above the first line of values
//! become header rows, a piece over several columns a spanning cell; a line that only continues
//! the text of one cell (wrapped text) joins the row it belongs to instead of starting one.
//!
//! Text alignment is weaker evidence than rules, so a run becomes a table only when it looks
//! like one: several columns of short cells, values that are mostly numbers (or three or more
//! columns of short labels), and neither prose nor a form (labels ending in `:`).

use folio_doc::{join_lines, BBox, Cell, Table};

use crate::words::Fragment;

/// Lines further apart than this many font sizes do not belong to one table.
const MAX_LINE_GAP_EM: f32 = 2.6;
/// A column gap at least this wide (in font sizes) separates columns.
const MIN_COLUMN_GAP_EM: f32 = 0.15;
/// Unruled text lines up as a table only when its cells fill this share of the grid or more.
const MIN_STREAM_FILL: f32 = 0.4;
/// Words of one header fragment that stand this far apart (in font sizes) head two columns.
const HEAD_GAP_EM: f32 = 0.6;
/// Cells of a table hold few words on average; prose holds many.
const MAX_MEAN_WORDS: f32 = 6.0;
/// A gutter between text columns is at least this many font sizes wide...
const TEXT_GUTTER_EM: f32 = 2.0;
/// ...with at least this many lines of prose on each side...
const MIN_PROSE_LINES: usize = 3;
/// ...a line of prose having at least this many words.
const PROSE_LINE_WORDS: usize = 6;
/// Columns split off columns at most this deep (bounds the work on pathological pages).
const MAX_COLUMN_SPLITS: usize = 4;

/// A value cell: a number, an amount, a percentage, or a placeholder for a missing value.
pub(crate) fn is_numeric(text: &str) -> bool {
    let core: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if core.is_empty() {
        return false;
    }
    if matches!(
        core.as_str(),
        "-" | "–" | "—" | "−" | ":" | ".." | "..." | "…" | "x" | "n/a" | "n.a." | "na" | "nil"
    ) {
        return true;
    }
    let digits = core.chars().filter(char::is_ascii_digit).count();
    let letters = core.chars().filter(|c| c.is_alphabetic()).count();
    digits > 0 && letters <= 2 && digits * 2 >= core.chars().count().min(digits * 2 + letters)
}

/// Groups boxes into text lines, top to bottom: a box joins the current line when it overlaps
/// the line's band by half the smaller height. Each line lists its boxes left to right.
pub(crate) fn text_lines(boxes: &[BBox]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| boxes[a].center().1.total_cmp(&boxes[b].center().1));
    let mut lines: Vec<(BBox, Vec<usize>)> = Vec::new();
    for i in order {
        let b = boxes[i];
        match lines.last_mut() {
            Some((band, members))
                if band.overlap_y(&b) >= 0.5 * band.height().min(b.height()).max(0.01) =>
            {
                members.push(i);
                // The band follows the line's main text, not a tall or raised piece.
                if b.height() <= band.height() * 1.2 {
                    band.y0 = band.y0.min(b.y0).max(band.y0 - 0.2 * band.height());
                    band.y1 = band.y1.max(b.y1).min(band.y1 + 0.2 * band.height());
                }
                band.x0 = band.x0.min(b.x0);
                band.x1 = band.x1.max(b.x1);
            }
            _ => lines.push((b, vec![i])),
        }
    }
    lines
        .into_iter()
        .map(|(_, mut m)| {
            m.sort_by(|&a, &b| boxes[a].x0.total_cmp(&boxes[b].x0));
            m
        })
        .collect()
}

/// Connecting words that leave a cell's text unfinished at a line end.
pub(crate) fn ends_unfinished(text: &str) -> bool {
    let t = text.trim_end();
    let last = t.rsplit(' ').next().unwrap_or("").to_lowercase();
    t.ends_with(['-', ',', '/', '&', '('])
        || matches!(
            last.as_str(),
            "and" | "or" | "of" | "the" | "for" | "in" | "to" | "with" | "by" | "on" | "a" | "an"
        )
}

pub(crate) fn starts_as_continuation(text: &str) -> bool {
    text.trim_start()
        .chars()
        .next()
        .is_some_and(|c| c.is_lowercase() || c == ')')
}

/// Cells that share a covered column range: `((first, last), piece indices)`.
type Slot = ((usize, usize), Vec<usize>);

/// One line of a table region as cells: for each piece, the columns it covers and its text.
pub(crate) struct GridLine {
    /// (first column, last column, fragment index).
    pub pieces: Vec<(usize, usize, usize)>,
}

impl GridLine {
    fn columns(&self) -> Vec<usize> {
        let mut c: Vec<usize> = self.pieces.iter().map(|p| p.0).collect();
        c.dedup();
        c
    }
}

/// Rows from lines: every line that fills two or more columns starts a row; a line with text
/// in one column only joins the row above when its text continues that row's cell (starts in
/// lower case, or the cell above ends unfinished), joins the row below when the text below it
/// continues it, and is a row of its own otherwise (a section label). Returns, per row, the
/// indices of its lines.
pub(crate) fn group_rows(lines: &[GridLine], text_of: &dyn Fn(usize) -> String) -> Vec<Vec<usize>> {
    let cell_text = |line: &GridLine, col: usize| -> Option<String> {
        let t: Vec<String> = line
            .pieces
            .iter()
            .filter(|p| p.0 == col)
            .map(|p| text_of(p.2))
            .collect();
        (!t.is_empty()).then(|| t.join(" "))
    };
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut attach_next: Vec<usize> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let cols = line.columns();
        if cols.len() == 1 {
            let col = cols[0];
            let text = cell_text(line, col).unwrap_or_default();
            let above = i
                .checked_sub(1)
                .and_then(|p| cell_text(&lines[p], col))
                .filter(|_| !rows.is_empty() && attach_next.is_empty());
            if above.as_deref().is_some_and(ends_unfinished)
                || (above.is_some() && starts_as_continuation(&text))
            {
                if let Some(r) = rows.last_mut() {
                    r.push(i);
                    continue;
                }
            }
            let below = lines.get(i + 1).filter(|n| n.columns().len() >= 2);
            let continues_below = below.and_then(|n| cell_text(n, col)).is_some_and(|t| {
                starts_as_continuation(&t) || (ends_unfinished(&text) && !text.ends_with('('))
            });
            if continues_below {
                attach_next.push(i);
                continue;
            }
        }
        let mut row = std::mem::take(&mut attach_next);
        row.push(i);
        rows.push(row);
    }
    if !attach_next.is_empty() {
        rows.push(attach_next);
    }
    rows
}

/// Column intervals from where the pieces of the given lines sit: the x-ranges that at most
/// a tenth of the lines cross (a spanning header or a piece holding two values) are gaps.
fn columns_from_coverage(pieces: &[Vec<BBox>], em: f32) -> Vec<(f32, f32)> {
    let mut events: Vec<(f32, i32)> = Vec::new();
    for line in pieces {
        // One line counts once where its pieces overlap.
        let mut spans: Vec<(f32, f32)> = line.iter().map(|b| (b.x0, b.x1)).collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f32, f32)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(m) if s <= m.1 => m.1 = m.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        for (s, e) in merged {
            events.push((s, 1));
            events.push((e, -1));
        }
    }
    if events.is_empty() {
        return Vec::new();
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let tolerance = (pieces.len() / 10) as i32;
    let mut cols: Vec<(f32, f32)> = Vec::new();
    let mut depth = 0;
    let mut start: Option<f32> = None;
    let mut gap_start: Option<f32> = None;
    for (x, d) in events {
        let before = depth;
        depth += d;
        if before <= tolerance && depth > tolerance {
            // Leaving a gap (or the left margin).
            match (start, gap_start) {
                (None, _) => start = Some(x),
                (Some(s), Some(g)) if x - g >= MIN_COLUMN_GAP_EM * em => {
                    cols.push((s, g));
                    start = Some(x);
                }
                _ => {}
            }
            gap_start = None;
        } else if before > tolerance && depth <= tolerance {
            gap_start = Some(x);
        }
    }
    if let (Some(s), Some(g)) = (start, gap_start) {
        cols.push((s, g));
    }
    cols
}

/// The boxes a fragment covers for finding columns: its runs of words, cut where two words
/// stand wider apart than a word space (two values closer than a fragment gap).
fn coverage_boxes(f: &Fragment) -> Vec<BBox> {
    let mut out: Vec<BBox> = Vec::new();
    for (_, b) in &f.words {
        match out.last_mut() {
            Some(last) if b.x0 - last.x1 < 0.5 * f.size.max(1.0) => *last = last.union(b),
            _ => out.push(*b),
        }
    }
    if out.is_empty() {
        out.push(f.bbox);
    }
    out
}

/// The columns a box covers: from the first column it reaches into to the last.
fn covered(cols: &[(f32, f32)], b: &BBox) -> (usize, usize) {
    let inset = (b.width() * 0.1).min(1.0);
    let first = cols
        .iter()
        .position(|c| c.1 > b.x0 + inset)
        .unwrap_or(cols.len() - 1);
    let last = cols
        .iter()
        .rposition(|c| c.0 < b.x1 - inset)
        .unwrap_or(0)
        .max(first);
    (first, last)
}

/// A header over several columns is centred over the columns it heads: widen its range while
/// that brings the centre of the columns closer to its own (a short title over wide columns
/// does not reach the outer ones' text).
fn centred_range(cols: &[(f32, f32)], b: &BBox, (mut a, mut z): (usize, usize)) -> (usize, usize) {
    let (cx, _) = b.center();
    let centre = |a: usize, z: usize| (cols[a].0 + cols[z].1) / 2.0;
    loop {
        let now = (centre(a, z) - cx).abs();
        let right = (z + 1 < cols.len()).then(|| (centre(a, z + 1) - cx).abs());
        let left = (a > 0).then(|| (centre(a - 1, z) - cx).abs());
        match (left, right) {
            (_, Some(r)) if r < now && left.is_none_or(|l| r <= l) => z += 1,
            (Some(l), _) if l < now => a -= 1,
            _ => return (a, z),
        }
    }
}

/// A fragment cut at word boundaries into pieces that each fit one column, when its words
/// allow it (two values set closer than a fragment gap); `None` when it really spans.
fn split_by_columns(f: &Fragment, cols: &[(f32, f32)]) -> Option<Vec<Fragment>> {
    if f.words.len() < 2 {
        return None;
    }
    let mut groups: Vec<(usize, Vec<&(String, BBox)>)> = Vec::new();
    for w in &f.words {
        let (a, b) = covered(cols, &w.1);
        if a != b {
            return None;
        }
        match groups.last_mut() {
            Some((c, ws)) if *c == a => ws.push(w),
            _ => groups.push((a, vec![w])),
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let span = f.spans.first()?;
    Some(
        groups
            .into_iter()
            .filter_map(|(_, ws)| {
                let bbox = BBox::union_all(ws.iter().map(|w| &w.1))?;
                let text = ws
                    .iter()
                    .map(|w| w.0.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut piece = f.clone();
                piece.bbox = bbox;
                piece.frame = bbox;
                piece.words = ws.into_iter().cloned().collect();
                piece.spans = vec![folio_doc::Span {
                    text,
                    bbox,
                    ..span.clone()
                }];
                Some(piece)
            })
            .collect(),
    )
}

fn mean_words(texts: &[String]) -> f32 {
    let filled: Vec<&String> = texts.iter().filter(|t| !t.trim().is_empty()).collect();
    let words: usize = filled.iter().map(|t| t.split_whitespace().count()).sum();
    words as f32 / filled.len().max(1) as f32
}

/// A table built from the text alignment of `frags` (the fragments of one region, in any
/// order), or `None` when they do not line up as rows and columns. `strict` asks for the
/// evidence an unruled region needs (values, no prose, no form); a region bounded by rules
/// has shown it is a table already.
///
/// `bands`, where rules divide the rows (the y of each rule, top to bottom), makes each band
/// one row, and the header no more than the first band.
pub(crate) fn aligned_table(
    frags: &[Fragment],
    em: f32,
    strict: bool,
    bands: Option<&[f32]>,
) -> Option<(Table, BBox)> {
    if frags.len() < 4 {
        return None;
    }
    let boxes: Vec<BBox> = frags.iter().map(|f| f.bbox).collect();
    let lines = text_lines(&boxes);
    let multi: Vec<&Vec<usize>> = lines.iter().filter(|l| l.len() >= 2).collect();
    if multi.len() < 2 {
        return None;
    }
    // Body lines give the columns: from the first line with a value in a later column on.
    // Years over the columns ("2023  2022") head them; they are not values.
    let year = |t: &str| {
        let t = t.trim();
        t.len() == 4
            && (t.starts_with("19") || t.starts_with("20"))
            && t.chars().all(|c| c.is_ascii_digit())
    };
    let numeric_line = |l: &Vec<usize>| {
        let values: Vec<String> = l.iter().skip(1).map(|&i| frags[i].text()).collect();
        l.len() >= 2
            && values.iter().any(|t| is_value(t))
            && !values.iter().filter(|t| is_value(t)).all(|t| year(t))
    };
    let first_body = lines.iter().position(numeric_line);
    let body_start = match first_body {
        Some(b) => b,
        // Without values, the first line is the header.
        None if lines[0].len() >= 2 => 1.min(lines.len() - 1),
        None => lines.iter().position(|l| l.len() >= 2)?,
    };
    let band_of = |l: &Vec<usize>| {
        let b = BBox::union_all(l.iter().map(|&i| &frags[i].bbox))?;
        let (_, cy) = b.center();
        bands?.windows(2).position(|w| cy > w[0] && cy < w[1])
    };
    // Where rules divide rows, what lies below the first rule under the header is body.
    let body_start = match bands {
        Some(_) if body_start > 0 => {
            let first = band_of(&lines[0]);
            lines
                .iter()
                .position(|l| band_of(l) != first)
                .unwrap_or(body_start)
                .min(body_start)
        }
        _ => body_start,
    };
    let body_pieces: Vec<Vec<BBox>> = lines[body_start..]
        .iter()
        .filter(|l| l.len() >= 2)
        .map(|l| l.iter().flat_map(|&i| coverage_boxes(&frags[i])).collect())
        .collect();
    let body_pieces = if body_pieces.len() >= 2 {
        body_pieces
    } else {
        multi
            .iter()
            .map(|l| l.iter().flat_map(|&i| coverage_boxes(&frags[i])).collect())
            .collect()
    };
    let cols = columns_from_coverage(&body_pieces, em);
    if cols.len() < 2 || cols.len() > 40 {
        return None;
    }
    // Pieces per line, with fragments that hold two columns' values cut apart.
    let mut pieces: Vec<Fragment> = Vec::new();
    let mut grid_lines: Vec<GridLine> = Vec::new();
    for (li, line) in lines.iter().enumerate() {
        let mut gl = GridLine { pieces: Vec::new() };
        for &i in line {
            let f = &frags[i];
            let (a, b) = covered(&cols, &f.bbox);
            let parts = if a != b && li >= body_start {
                split_by_columns(f, &cols)
            } else if a != b {
                // Header words over several columns are one spanning title unless the words
                // of each column stand apart from the next column's by more than a space
                // (two column heads set close: "Portugal  Greece").
                split_by_columns(f, &cols).filter(|parts| {
                    parts
                        .windows(2)
                        .all(|w| w[1].bbox.x0 - w[0].bbox.x1 >= HEAD_GAP_EM * f.size)
                })
            } else {
                None
            };
            match parts {
                Some(parts) => {
                    for p in parts {
                        let (a, b) = covered(&cols, &p.bbox);
                        gl.pieces.push((a, b, pieces.len()));
                        pieces.push(p);
                    }
                }
                None => {
                    // Header pieces above other header lines may head a group of columns.
                    let (a, b) = if li + 1 < body_start {
                        centred_range(&cols, &f.bbox, (a, b))
                    } else {
                        (a, b)
                    };
                    gl.pieces.push((a, b, pieces.len()));
                    pieces.push(f.clone());
                }
            }
        }
        grid_lines.push(gl);
    }
    let text_of = |i: usize| pieces[i].text();
    // Header: the lines above the first body line.
    let (header_lines, body_lines) = grid_lines.split_at(body_start);
    let mut cells: Vec<Cell> = Vec::new();
    let header_rows = build_header(header_lines, &pieces, cols.len(), &mut cells);
    let rows = match bands {
        Some(_) => {
            // One row per band, in line order.
            let mut rows: Vec<Vec<usize>> = Vec::new();
            let mut last = None;
            for (li, line) in lines[body_start..].iter().enumerate() {
                let band = band_of(line);
                match rows.last_mut() {
                    Some(r) if band == last => r.push(li),
                    _ => rows.push(vec![li]),
                }
                last = band;
            }
            rows
        }
        None => group_rows(body_lines, &text_of),
    };
    let mut row_index = header_rows;
    for row in &rows {
        // (first, last) -> fragments, in line order.
        let mut slots: Vec<Slot> = Vec::new();
        for &li in row {
            for &(a, b, pi) in &body_lines[li].pieces {
                match slots.iter_mut().find(|s| s.0 .0 <= b && a <= s.0 .1) {
                    Some(s) => {
                        s.0 = (s.0 .0.min(a), s.0 .1.max(b));
                        s.1.push(pi);
                    }
                    None => slots.push(((a, b), vec![pi])),
                }
            }
        }
        slots.sort_by_key(|s| s.0 .0);
        // Overlapping spans after merging: fold them together.
        let mut merged: Vec<Slot> = Vec::new();
        for s in slots {
            match merged.last_mut() {
                Some(m) if s.0 .0 <= m.0 .1 => {
                    m.0 .1 = m.0 .1.max(s.0 .1);
                    m.1.extend(s.1);
                }
                _ => merged.push(s),
            }
        }
        let mut next_col = 0;
        for ((a, b), members) in merged {
            for c in next_col..a {
                cells.push(empty_cell(row_index, c, false));
            }
            cells.push(Cell {
                row: row_index as u32,
                col: a as u32,
                row_span: 1,
                col_span: (b - a + 1) as u32,
                text: join_cell(&pieces, &members),
                bbox: BBox::union_all(members.iter().map(|&m| &pieces[m].bbox)),
                header: false,
            });
            next_col = b + 1;
        }
        for c in next_col..cols.len() {
            cells.push(empty_cell(row_index, c, false));
        }
        row_index += 1;
    }
    let table = Table {
        rows: row_index as u32,
        cols: cols.len() as u32,
        cells,
    };
    if strict && !convincing(&table, &pieces, body_lines) {
        return None;
    }
    let bbox = BBox::union_all(frags.iter().map(|f| &f.bbox))?;
    Some((table, bbox))
}

fn empty_cell(row: usize, col: usize, header: bool) -> Cell {
    Cell {
        row: row as u32,
        col: col as u32,
        row_span: 1,
        col_span: 1,
        text: String::new(),
        bbox: None,
        header,
    }
}

/// The text of the pieces of one cell: top to bottom, left to right within a line.
fn join_cell(pieces: &[Fragment], members: &[usize]) -> String {
    let boxes: Vec<BBox> = members.iter().map(|&m| pieces[m].bbox).collect();
    let lines = text_lines(&boxes);
    let texts: Vec<String> = lines
        .iter()
        .map(|l| {
            l.iter()
                .map(|&i| pieces[members[i]].text())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    join_lines(texts.iter().map(String::as_str))
}

/// Header rows from the lines above the body. Pieces over several columns are spanning cells,
/// one header row per line that holds them (lines of one spanning cell stacked over the same
/// columns join); pieces over one column stack into one cell per column in the last header
/// row, which spans up to the top where nothing spans over it. Returns the number of rows.
fn build_header(
    lines: &[GridLine],
    pieces: &[Fragment],
    ncols: usize,
    cells: &mut Vec<Cell>,
) -> usize {
    if lines.is_empty() {
        return 0;
    }
    // Spanning levels: (covered range per piece) per line that has any.
    let mut levels: Vec<Vec<Slot>> = Vec::new();
    let mut singles: Vec<Vec<usize>> = vec![Vec::new(); ncols];
    for line in lines {
        let spanning: Vec<&(usize, usize, usize)> =
            line.pieces.iter().filter(|p| p.1 > p.0).collect();
        if !spanning.is_empty() {
            let ranges: Vec<(usize, usize)> = spanning.iter().map(|p| (p.0, p.1)).collect();
            let continues = levels.last().is_some_and(|l| {
                l.len() == ranges.len() && l.iter().zip(&ranges).all(|(a, b)| a.0 == *b)
            });
            if continues {
                if let Some(level) = levels.last_mut() {
                    for (slot, p) in level.iter_mut().zip(&spanning) {
                        slot.1.push(p.2);
                    }
                }
            } else {
                levels.push(spanning.iter().map(|p| ((p.0, p.1), vec![p.2])).collect());
            }
        }
        for p in line.pieces.iter().filter(|p| p.1 == p.0) {
            singles[p.0].push(p.2);
        }
    }
    let has_singles = singles.iter().any(|s| !s.is_empty());
    let rows = levels.len() + usize::from(has_singles);
    let covered_above = |c: usize| {
        levels
            .iter()
            .any(|l| l.iter().any(|s| s.0 .0 <= c && c <= s.0 .1))
    };
    // Grid occupancy, so empty header positions get their own (empty) cells.
    let mut taken = vec![vec![false; ncols]; rows];
    for (r, level) in levels.iter().enumerate() {
        for ((a, b), members) in level {
            for slot in taken[r].iter_mut().take(*b + 1).skip(*a) {
                *slot = true;
            }
            cells.push(Cell {
                row: r as u32,
                col: *a as u32,
                row_span: 1,
                col_span: (b - a + 1) as u32,
                text: join_cell(pieces, members),
                bbox: BBox::union_all(members.iter().map(|&m| &pieces[m].bbox)),
                header: true,
            });
        }
    }
    if has_singles {
        let last = rows - 1;
        for (c, members) in singles.iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            let top = if covered_above(c) { last } else { 0 };
            // A column with nothing above it in every level takes the whole header height.
            let top = (top..=last)
                .find(|&r| (r..=last).all(|rr| !taken[rr][c]))
                .unwrap_or(last);
            for row in taken.iter_mut().take(last + 1).skip(top) {
                row[c] = true;
            }
            cells.push(Cell {
                row: top as u32,
                col: c as u32,
                row_span: (last - top + 1) as u32,
                col_span: 1,
                text: join_cell(pieces, members),
                bbox: BBox::union_all(members.iter().map(|&m| &pieces[m].bbox)),
                header: true,
            });
        }
    }
    for (r, row) in taken.iter().enumerate() {
        for (c, t) in row.iter().enumerate() {
            if !t {
                cells.push(empty_cell(r, c, true));
            }
        }
    }
    rows
}

/// The share of a table's grid positions that cells with text cover (a spanning cell covers
/// all its positions).
pub(crate) fn filled_share(table: &Table) -> f32 {
    let total = (table.rows as usize * table.cols as usize).max(1);
    let covered: usize = table
        .cells
        .iter()
        .filter(|c| !c.text.trim().is_empty())
        .map(|c| c.row_span.max(1) as usize * c.col_span.max(1) as usize)
        .sum();
    covered.min(total) as f32 / total as f32
}

/// Whether an unruled grid is a table rather than prose in columns, a list, or a form.
fn convincing(table: &Table, pieces: &[Fragment], body: &[GridLine]) -> bool {
    let body_cells: Vec<&Cell> = table
        .cells
        .iter()
        .filter(|c| !c.header && !c.text.trim().is_empty())
        .collect();
    let texts: Vec<String> = table.cells.iter().map(|c| c.text.clone()).collect();
    if mean_words(&texts) > MAX_MEAN_WORDS {
        return false;
    }
    // Text scattered over a wide grid is the labels of a chart (axis values at both ends of
    // the plot, a legend), not rows of values.
    if filled_share(table) < MIN_STREAM_FILL {
        return false;
    }
    // Rows that fill at least two columns.
    let full_rows = body.iter().filter(|l| l.columns().len() >= 2).count();
    if full_rows < 2 {
        return false;
    }
    // A chart's axis values: rows of numbers alone, with no label, across a grid that is
    // mostly empty. A table's row has its label, or fills most of its columns.
    let body_rows: Vec<Vec<&Cell>> = (0..table.rows)
        .map(|r| body_cells.iter().copied().filter(|c| c.row == r).collect())
        .filter(|r: &Vec<&Cell>| !r.is_empty())
        .collect();
    let bare_values = body_rows
        .iter()
        .filter(|r| r.iter().all(|c| is_numeric(&c.text)) && r.len() * 2 <= table.cols as usize)
        .count();
    if bare_values * 2 > body_rows.len() {
        return false;
    }
    // Forms: labels ending in ':' beside their values.
    let labels = body_cells
        .iter()
        .filter(|c| is_field_label(&c.text))
        .count();
    if labels * 4 >= body_cells.len() {
        return false;
    }
    // A column of bullets or list numbers beside text is a list.
    let markers = body_cells
        .iter()
        .filter(|c| {
            c.col == 0 && crate::blocks::list_marker(&format!("{} x", c.text.trim())).is_some()
        })
        .count();
    let first_col = body_cells.iter().filter(|c| c.col == 0).count();
    if first_col > 0 && markers * 2 >= first_col {
        return false;
    }
    let later: Vec<&&Cell> = body_cells.iter().filter(|c| c.col > 0).collect();
    let numeric = later.iter().filter(|c| is_value(&c.text)).count();
    let numeric_share = numeric as f32 / later.len().max(1) as f32;
    let _ = pieces;
    if table.cols == 2 {
        // Two columns: a label and a value per row, not a label and its description.
        numeric_share >= 0.6 && full_rows >= 3
    } else {
        // Columns of short labels alone are as often a questionnaire's options or a form.
        numeric_share >= 0.5
    }
}

/// What a table's value cell holds: a number (see [`is_numeric`]) or a mark (see [`is_mark`]).
fn is_value(text: &str) -> bool {
    is_numeric(text) || is_mark(text)
}

/// A cell holding one mark, as a matrix of options ticks its cells: a check mark, a cross, a
/// star, a dot or a box. Such cells are a table's values as much as numbers are.
fn is_mark(text: &str) -> bool {
    let mut chars = text.chars().filter(|c| !c.is_whitespace());
    matches!(
        (chars.next(), chars.next()),
        (
            Some(
                '*' | '✓'
                    | '✔'
                    | '✗'
                    | '✘'
                    | '×'
                    | '•'
                    | '●'
                    | '○'
                    | '◯'
                    | '■'
                    | '□'
                    | '☐'
                    | '☑'
                    | '☒'
                    | '◆'
                    | '◇'
                    | '+'
                    | 'X'
            ),
            None
        )
    )
}

/// A form's label: words ending in ':' ("Name:"), not the ':' that statistical tables print
/// for a value that is not available.
pub(crate) fn is_field_label(text: &str) -> bool {
    let t = text.trim_end();
    t.ends_with(':') && t.chars().any(char::is_alphabetic)
}

/// A line that starts a caption ("Figure 3:", "Table 2.") or a note under a table ("Source:",
/// "Notes:").
pub(crate) fn ends_a_table(text: &str) -> bool {
    let t = text.trim_start();
    crate::blocks::is_caption_start(t)
        || ["Source:", "Sources:", "Note:", "Notes:", "Source :"]
            .iter()
            .any(|p| t.starts_with(p))
}

/// Finds unruled tables among `frags` (what rules did not claim): runs of consecutive lines
/// of which most are split into pieces by wide gaps, with at most one line in a row that is
/// not (a section label, a wrapped cell), and short lines just above them (header lines).
/// Returns the tables with their boxes, and the fragments they did not take.
pub(crate) fn find_tables(frags: Vec<Fragment>, em: f32) -> (Vec<(Table, BBox)>, Vec<Fragment>) {
    let columns = text_columns(&frags, em);
    if columns.len() < 2 {
        return find_tables_in(frags, em);
    }
    let mut slots: Vec<Option<Fragment>> = frags.into_iter().map(Some).collect();
    let mut tables = Vec::new();
    let mut rest = Vec::new();
    for column in columns {
        let pieces = column.into_iter().filter_map(|i| slots[i].take()).collect();
        let (found, left) = find_tables_in(pieces, em);
        tables.extend(found);
        rest.extend(left);
    }
    (tables, rest)
}

/// The page's text columns, as indices into `frags`: the text split at every white gutter at
/// least [`TEXT_GUTTER_EM`] font sizes wide that runs through all of it (or through all of a
/// side already split off) with lines of prose on both sides, as on a two-page spread or a
/// page of columns with no title across them. A table's rows are looked for in one column: a
/// line of the next column beside them is no cell of theirs. A gutter between columns of
/// values or short labels is a table's own and splits nothing.
fn text_columns(frags: &[Fragment], em: f32) -> Vec<Vec<usize>> {
    let prose: Vec<bool> = frags
        .iter()
        .map(|f| f.text().split_whitespace().count() >= PROSE_LINE_WORDS)
        .collect();
    let mut columns = Vec::new();
    let page = ColumnSplit {
        frags,
        prose: &prose,
        em: em.max(1.0),
    };
    page.split((0..frags.len()).collect(), 0, &mut columns);
    columns
}

/// What every level of [`text_columns`]' splitting reads.
struct ColumnSplit<'a> {
    frags: &'a [Fragment],
    /// Whether each fragment is a line of prose.
    prose: &'a [bool],
    em: f32,
}

impl ColumnSplit<'_> {
    fn split(&self, items: Vec<usize>, depth: usize, out: &mut Vec<Vec<usize>>) {
        if depth < MAX_COLUMN_SPLITS {
            let boxes = |i: usize| self.frags[i].bbox;
            let mut gutters: Vec<(f32, f32)> =
                crate::order::gaps(items.iter().map(|&i| (boxes(i).x0, boxes(i).x1)).collect())
                    .into_iter()
                    .filter(|(start, end)| end - start >= TEXT_GUTTER_EM * self.em)
                    .collect();
            gutters.sort_by(|a, b| (b.1 - b.0).total_cmp(&(a.1 - a.0)));
            let prose_lines = |side: &[usize]| side.iter().filter(|&&i| self.prose[i]).count();
            for (start, end) in gutters {
                let mid = (start + end) / 2.0;
                let (left, right): (Vec<usize>, Vec<usize>) =
                    items.iter().partition(|&&i| boxes(i).x1 <= mid);
                if prose_lines(&left) >= MIN_PROSE_LINES && prose_lines(&right) >= MIN_PROSE_LINES {
                    self.split(left, depth + 1, out);
                    self.split(right, depth + 1, out);
                    return;
                }
            }
        }
        out.push(items);
    }
}

/// Finds unruled tables among the fragments of one text column (see [`find_tables`]).
fn find_tables_in(frags: Vec<Fragment>, em: f32) -> (Vec<(Table, BBox)>, Vec<Fragment>) {
    let upright: Vec<usize> = (0..frags.len())
        .filter(|&i| frags[i].orientation == 0 && !frags[i].rtl)
        .collect();
    if upright.len() < 6 {
        return (Vec::new(), frags);
    }
    let boxes: Vec<BBox> = upright.iter().map(|&i| frags[i].bbox).collect();
    let lines: Vec<Vec<usize>> = text_lines(&boxes)
        .into_iter()
        .map(|l| l.into_iter().map(|i| upright[i]).collect())
        .collect();
    let line_box = |l: &Vec<usize>| BBox::union_all(l.iter().map(|&i| &frags[i].bbox));
    // A caption or a table's note ends a table: a line that starts one (in any of its pieces,
    // as under two charts side by side) belongs to no table.
    let closes = |l: &Vec<usize>| l.iter().any(|&k| ends_a_table(&frags[k].text()));
    let split = |l: &Vec<usize>| l.len() >= 2 && !closes(l);
    let mut taken = vec![false; frags.len()];
    let mut tables = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !split(&lines[i]) {
            i += 1;
            continue;
        }
        // Extend down over split lines, bridging one unsplit line at a time.
        let mut end = i + 1;
        let mut last_split = i;
        while end < lines.len() {
            let (Some(prev), Some(cur)) = (line_box(&lines[end - 1]), line_box(&lines[end])) else {
                break;
            };
            if cur.y0 - prev.y1 > MAX_LINE_GAP_EM * em {
                break;
            }
            if split(&lines[end]) {
                last_split = end;
            } else if end - last_split > 1 || closes(&lines[end]) {
                break;
            }
            end += 1;
        }
        let end = last_split + 1;
        // Header lines just above: short, unsplit, close.
        let mut start = i;
        while start > 0 && i - start < 3 {
            let (Some(above), Some(top)) = (line_box(&lines[start - 1]), line_box(&lines[start]))
            else {
                break;
            };
            let region = lines[i..end]
                .iter()
                .filter_map(line_box)
                .reduce(|a, b| a.union(&b));
            let inside = region.is_some_and(|r| above.x0 >= r.x0 - em && above.x1 <= r.x1 + em);
            let text: String = lines[start - 1].iter().map(|&k| frags[k].text()).collect();
            if top.y0 - above.y1 > 1.2 * em
                || !inside
                || crate::blocks::is_caption_start(&text)
                || text.split_whitespace().count() > 12
            {
                break;
            }
            start -= 1;
        }
        let members: Vec<usize> = lines[start..end].iter().flatten().copied().collect();
        let region: Vec<Fragment> = members.iter().map(|&k| frags[k].clone()).collect();
        // Two lines alone (an axis and a legend under a chart) are too little evidence.
        let found = if end - i >= 2 && end - start >= 3 {
            aligned_table(&region, em, true, None)
        } else {
            None
        };
        match found {
            Some(t) => {
                for k in members {
                    taken[k] = true;
                }
                tables.push(t);
                i = end;
            }
            None => i += 1,
        }
    }
    let rest = frags
        .into_iter()
        .zip(taken)
        .filter_map(|(f, t)| (!t).then_some(f))
        .collect();
    (tables, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{font, prose, prose_right};
    use crate::words::fragments;
    use folio_content::Glyph;

    /// A cell: its text, its x, and whether it is right-aligned at x.
    type TestCell<'a> = (&'a str, f32, bool);

    /// Rows of cells at their baselines: text left-aligned at x, or right-aligned ending at x.
    fn page(rows: &[(f32, &[TestCell<'_>])]) -> Vec<Glyph> {
        let f = font("Helvetica");
        let mut glyphs = Vec::new();
        for (y, cells) in rows {
            for (text, x, right) in cells.iter() {
                if *right {
                    glyphs.extend(prose_right(text, *x, *y, 10.0, &f));
                } else {
                    glyphs.extend(prose(text, *x, *y, 10.0, &f));
                }
            }
        }
        glyphs
    }

    fn grid(t: &Table) -> Vec<Vec<String>> {
        t.grid()
    }

    fn tables(glyphs: &[Glyph]) -> (Vec<(Table, BBox)>, Vec<Fragment>) {
        find_tables(fragments(glyphs, &[]), 10.0)
    }

    #[test]
    fn an_unruled_statement_is_a_table_with_its_header_row() {
        let glyphs = page(&[
            (
                40.0,
                &[(
                    "Income statement for the year as reported by the group",
                    50.0,
                    false,
                )],
            ),
            (80.0, &[("2023", 300.0, true), ("2022", 380.0, true)]),
            (
                94.0,
                &[
                    ("Revenue", 50.0, false),
                    ("1,234", 300.0, true),
                    ("987", 380.0, true),
                ],
            ),
            (
                108.0,
                &[
                    ("Cost of sales", 50.0, false),
                    ("(456)", 300.0, true),
                    ("(400)", 380.0, true),
                ],
            ),
            (
                122.0,
                &[
                    ("Gross profit", 50.0, false),
                    ("778", 300.0, true),
                    ("587", 380.0, true),
                ],
            ),
            (
                136.0,
                &[
                    ("Operating costs", 50.0, false),
                    ("123", 300.0, true),
                    ("100", 380.0, true),
                ],
            ),
        ]);
        let (found, rest) = tables(&glyphs);
        assert_eq!(found.len(), 1);
        let t = &found[0].0;
        assert_eq!(
            grid(t),
            vec![
                vec!["", "2023", "2022"],
                vec!["Revenue", "1,234", "987"],
                vec!["Cost of sales", "(456)", "(400)"],
                vec!["Gross profit", "778", "587"],
                vec!["Operating costs", "123", "100"],
            ]
        );
        assert!(t.cells.iter().filter(|c| c.row == 0).all(|c| c.header));
        assert_eq!(rest.len(), 1, "the sentence above stays text");
    }

    #[test]
    fn a_two_level_header_spans_its_columns_and_stacked_lines_join() {
        let glyphs = page(&[
            (60.0, &[("THRESHOLD FOR RELEASES", 232.0, false)]),
            (
                74.0,
                &[
                    ("to air", 200.0, false),
                    ("to water", 280.0, false),
                    ("to land", 360.0, false),
                ],
            ),
            (
                86.0,
                &[
                    ("kg/year", 200.0, false),
                    ("kg/year", 280.0, false),
                    ("kg/year", 360.0, false),
                ],
            ),
            (
                100.0,
                &[
                    ("Carbon dioxide", 50.0, false),
                    ("100 million", 200.0, false),
                    ("-", 280.0, false),
                    ("-", 360.0, false),
                ],
            ),
            (
                112.0,
                &[
                    ("Methane", 50.0, false),
                    ("100 000", 200.0, false),
                    ("-", 280.0, false),
                    ("-", 360.0, false),
                ],
            ),
            (
                124.0,
                &[
                    ("Ammonia", 50.0, false),
                    ("10 000", 200.0, false),
                    ("-", 280.0, false),
                    ("10 000", 360.0, false),
                ],
            ),
        ]);
        let (found, _) = tables(&glyphs);
        assert_eq!(found.len(), 1);
        let t = &found[0].0;
        let span = t
            .cells
            .iter()
            .find(|c| c.text == "THRESHOLD FOR RELEASES")
            .expect("spanning header");
        assert_eq!((span.row, span.col, span.col_span), (0, 1, 3));
        let g = grid(t);
        assert_eq!(
            g[1],
            vec!["", "to air kg/year", "to water kg/year", "to land kg/year"]
        );
        assert_eq!(g[2], vec!["Carbon dioxide", "100 million", "-", "-"]);
        assert_eq!(t.rows, 5);
    }

    #[test]
    fn adjacent_numbers_set_close_stay_in_their_columns() {
        // In the last row the two values are closer than a fragment gap (0.6 em).
        let glyphs = page(&[
            (
                94.0,
                &[
                    ("Alpha", 50.0, false),
                    ("10.5", 240.0, true),
                    ("20.5", 300.0, true),
                ],
            ),
            (
                108.0,
                &[
                    ("Beta", 50.0, false),
                    ("11.5", 240.0, true),
                    ("21.5", 300.0, true),
                ],
            ),
            (
                122.0,
                &[
                    ("Gamma", 50.0, false),
                    ("12.5", 240.0, true),
                    ("22.5", 300.0, true),
                ],
            ),
            (
                136.0,
                &[
                    ("Delta", 50.0, false),
                    ("1,234,567.5", 280.0, true),
                    ("23.5", 306.0, true),
                ],
            ),
        ]);
        let (found, _) = tables(&glyphs);
        assert_eq!(found.len(), 1);
        let g = grid(&found[0].0);
        assert_eq!(g.last().unwrap(), &vec!["Delta", "1,234,567.5", "23.5"]);
    }

    #[test]
    fn two_column_heads_set_close_head_their_own_columns() {
        // "Portugal" and "Greece" are one fragment (a space glyph between them), 0.7 em apart.
        let mut glyphs = page(&[(80.0, &[("Differences", 50.0, false)])]);
        let f = font("Helvetica");
        glyphs.extend(prose("Portugal", 200.0, 80.0, 10.0, &f));
        glyphs.extend(prose("Greece", 247.0, 80.0, 10.0, &f));
        glyphs.push(Glyph {
            text: " ".into(),
            ..prose("x", 241.5, 80.0, 10.0, &f)[0].clone()
        });
        let rows: [(f32, &[TestCell<'_>]); 3] = [
            (
                94.0,
                &[
                    ("Q1 2009", 50.0, false),
                    ("0.33", 200.0, false),
                    ("0.51", 247.0, false),
                ],
            ),
            (
                108.0,
                &[
                    ("Q2 2009", 50.0, false),
                    ("0.17", 200.0, false),
                    ("0.70", 247.0, false),
                ],
            ),
            (
                122.0,
                &[
                    ("Q3 2009", 50.0, false),
                    ("0.64", 200.0, false),
                    ("0.72", 247.0, false),
                ],
            ),
        ];
        glyphs.extend(page(&rows));
        let (found, _) = tables(&glyphs);
        assert_eq!(found.len(), 1);
        let g = grid(&found[0].0);
        assert_eq!(g[0], vec!["Differences", "Portugal", "Greece"], "{g:?}");
    }

    #[test]
    fn wrapped_cell_text_stays_in_its_row() {
        let glyphs = page(&[
            (
                94.0,
                &[
                    ("Alpha", 50.0, false),
                    ("10", 240.0, true),
                    ("20", 300.0, true),
                ],
            ),
            (
                108.0,
                &[
                    ("Other operating", 50.0, false),
                    ("11", 240.0, true),
                    ("21", 300.0, true),
                ],
            ),
            (120.0, &[("expenses and costs", 50.0, false)]),
            (
                134.0,
                &[
                    ("Gamma", 50.0, false),
                    ("12", 240.0, true),
                    ("22", 300.0, true),
                ],
            ),
        ]);
        let (found, _) = tables(&glyphs);
        assert_eq!(found.len(), 1);
        let g = grid(&found[0].0);
        assert_eq!(g.len(), 3, "{g:?}");
        assert_eq!(g[1], vec!["Other operating expenses and costs", "11", "21"]);
    }

    #[test]
    fn prose_in_two_columns_and_forms_are_not_tables() {
        let mut rows: Vec<(f32, Vec<TestCell<'_>>)> = Vec::new();
        for i in 0..8 {
            rows.push((
                40.0 + i as f32 * 12.0,
                vec![
                    ("the quick brown fox jumps over", 50.0, false),
                    ("a lazy dog that sleeps all day", 330.0, false),
                ],
            ));
        }
        let rows: Vec<(f32, &[TestCell<'_>])> =
            rows.iter().map(|(y, c)| (*y, c.as_slice())).collect();
        assert!(tables(&page(&rows)).0.is_empty());
        let form = page(&[
            (40.0, &[("Name:", 50.0, false), ("Jane Doe", 200.0, false)]),
            (
                54.0,
                &[("Date:", 50.0, false), ("12 May 2024", 200.0, false)],
            ),
            (68.0, &[("Amount:", 50.0, false), ("120.00", 200.0, false)]),
            (82.0, &[("Account:", 50.0, false), ("12345", 200.0, false)]),
        ]);
        assert!(tables(&form).0.is_empty());
    }

    #[test]
    fn the_axes_of_two_charts_side_by_side_are_no_table() {
        // Axis values down the left of each plot, dates under both, then their captions.
        let mut rows: Vec<(f32, Vec<TestCell<'_>>)> = Vec::new();
        let values = ["300", "250", "200", "150", "100", "50", "0"];
        for (k, v) in values.iter().enumerate() {
            rows.push((
                60.0 + 14.0 * k as f32,
                vec![(*v, 80.0, true), (*v, 330.0, true)],
            ));
        }
        rows.push((
            160.0,
            vec![
                ("Jan-08", 90.0, false),
                ("Jan-09", 160.0, false),
                ("Jan-10", 230.0, false),
                ("Jan-08", 340.0, false),
                ("Jan-09", 410.0, false),
                ("Jan-10", 480.0, false),
            ],
        ));
        rows.push((
            176.0,
            vec![
                ("Figure 15 (data until July", 90.0, false),
                ("Figure 16 (data until July", 340.0, false),
            ],
        ));
        let rows: Vec<(f32, &[TestCell<'_>])> =
            rows.iter().map(|(y, c)| (*y, c.as_slice())).collect();
        let (found, _) = tables(&page(&rows));
        assert!(found.is_empty(), "{:?}", found.first().map(|t| grid(&t.0)));
    }

    #[test]
    fn a_caption_under_a_table_is_not_one_of_its_rows() {
        let glyphs = page(&[
            (
                80.0,
                &[
                    ("Austria", 50.0, false),
                    ("12", 240.0, true),
                    ("20", 300.0, true),
                ],
            ),
            (
                94.0,
                &[
                    ("Belgium", 50.0, false),
                    ("11", 240.0, true),
                    ("21", 300.0, true),
                ],
            ),
            (
                108.0,
                &[
                    ("Czechia", 50.0, false),
                    ("13", 240.0, true),
                    ("22", 300.0, true),
                ],
            ),
            (
                122.0,
                &[("Source: Eurostat", 50.0, false), ("2024", 300.0, true)],
            ),
        ]);
        let (found, rest) = tables(&glyphs);
        assert_eq!(found.len(), 1);
        assert_eq!(grid(&found[0].0).len(), 3);
        assert_eq!(rest.len(), 2, "the note stays text");
    }

    #[test]
    fn numbers_and_placeholders_are_values() {
        for v in [
            "12",
            "3,375",
            "-",
            "86.2%",
            "(1,234)",
            "€ 12.50",
            ":",
            "2007",
        ] {
            assert!(is_numeric(v), "{v}");
        }
        for t in ["Austria", "Total (n)", "", "to air kg/year"] {
            assert!(!is_numeric(t), "{t}");
        }
    }
}
