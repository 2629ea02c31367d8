//! Tables from ruling lines.
//!
//! Two shapes are recognised where they are clearly present:
//! - lattice tables: horizontal and vertical rules that cross into a grid of at least 2×2 cells;
//!   a missing rule inside the grid makes a spanning cell;
//! - rule-delimited tables (the "booktabs" style of papers): two or more long horizontal rules of
//!   the same extent with text rows between them, columns found from the text's own alignment.
//!
//! Fragments that fall inside a table become its cells and leave the text flow.

use folio_doc::{join_lines, BBox, Block, Cell, Provenance, Table};

use crate::stream::{self, is_numeric, text_lines};
use crate::words::Fragment;
use folio_content::Segment;

/// Rules closer than this (points) are the same rule.
const SNAP: f32 = 2.0;

/// A grid of crossing rules: its box, the column and row boundaries, and the rules themselves.
struct Lattice {
    bbox: BBox,
    xs: Vec<f32>,
    ys: Vec<f32>,
    hl: Vec<HLine>,
    vl: Vec<VLine>,
}

#[derive(Debug, Clone, Copy)]
struct HLine {
    y: f32,
    x0: f32,
    x1: f32,
}

#[derive(Debug, Clone, Copy)]
struct VLine {
    x: f32,
    y0: f32,
    y1: f32,
}

/// Finds tables, turns the fragments inside them into cells, and returns the table blocks and
/// the fragments left over.
pub(crate) fn extract_tables(
    segments: &[Segment],
    frags: Vec<Fragment>,
    provenance: Provenance,
    em: f32,
) -> (Vec<Block>, Vec<Fragment>) {
    let (mut blocks, frags) = ruled_tables(segments, frags, provenance);
    // OCR'd pages are mostly receipts and forms whose rows wander: alignment alone is no
    // evidence of a table there.
    if provenance.source == folio_doc::Source::Ocr {
        return (blocks, frags);
    }
    let (found, frags) = stream::find_tables(frags, em);
    for (table, bbox) in found {
        blocks.push(Block::from_table(compact(table), bbox, provenance));
    }
    (blocks, frags)
}

/// Tables from rules: lattices, then regions between long horizontal rules.
fn ruled_tables(
    segments: &[Segment],
    frags: Vec<Fragment>,
    provenance: Provenance,
) -> (Vec<Block>, Vec<Fragment>) {
    if segments.is_empty() || frags.is_empty() {
        return (Vec::new(), frags);
    }
    let (hs, vs) = merge_rules(segments);
    let mut regions: Vec<Lattice> = Vec::new();
    for (h_idx, v_idx) in lattice_components(&hs, &vs) {
        let hl: Vec<HLine> = h_idx.iter().map(|&i| hs[i]).collect();
        let vl: Vec<VLine> = v_idx.iter().map(|&i| vs[i]).collect();
        // Tables often leave their outer sides open: the rules' own ends bound the grid too.
        let mut x_stops: Vec<f32> = vl.iter().map(|v| v.x).collect();
        x_stops.extend(hl.iter().flat_map(|h| [h.x0, h.x1]));
        let mut y_stops: Vec<f32> = hl.iter().map(|h| h.y).collect();
        y_stops.extend(vl.iter().flat_map(|v| [v.y0, v.y1]));
        let ys = cluster(y_stops);
        let xs = cluster(x_stops);
        if ys.len() >= 3 && xs.len() >= 3 {
            let bbox = BBox::new(xs[0], ys[0], xs[xs.len() - 1], ys[ys.len() - 1]);
            regions.push(Lattice {
                bbox,
                xs,
                ys,
                hl,
                vl,
            });
        }
    }
    let mut blocks = Vec::new();
    let mut slots: Vec<Option<Fragment>> = frags.into_iter().map(Some).collect();
    for Lattice {
        bbox,
        xs,
        ys,
        hl,
        vl,
    } in regions
    {
        let inside: Vec<Fragment> = slots
            .iter()
            .flatten()
            .filter(|f| center_in(&f.bbox, &bbox))
            .cloned()
            .collect();
        if inside.is_empty() {
            continue;
        }
        let table = compact(lattice_table(&xs, &ys, &hl, &vl, inside));
        if !looks_tabular(&table) {
            continue;
        }
        take_inside(&mut slots, &bbox);
        blocks.push(Block::from_table(table, bbox, provenance));
    }
    for (bbox, ys) in rule_delimited_regions(&hs, &blocks) {
        let candidates: Vec<usize> = slots
            .iter()
            .enumerate()
            .filter(|(_, f)| f.as_ref().is_some_and(|f| center_in(&f.bbox, &bbox)))
            .map(|(i, _)| i)
            .collect();
        let inside: Vec<&Fragment> = candidates
            .iter()
            .filter_map(|&i| slots[i].as_ref())
            .collect();
        // Text alignment alone is weaker evidence than rules: ask for short cells.
        let table = aligned_table(&inside, &ys).filter(|t| {
            let filled: Vec<&Cell> = t
                .cells
                .iter()
                .filter(|c| !c.text.trim().is_empty())
                .collect();
            let words: usize = filled
                .iter()
                .map(|c| c.text.split_whitespace().count())
                .sum();
            looks_tabular(t) && words <= filled.len() * 6
        });
        if let Some(table) = table {
            for i in candidates {
                slots[i] = None;
            }
            blocks.push(Block::from_table(table, bbox, provenance));
        }
    }
    (blocks, slots.into_iter().flatten().collect())
}

/// Boxes drawn around text (a framed page, a sidebar, a form) form grids too; a real table holds
/// short texts in several cells.
fn looks_tabular(table: &Table) -> bool {
    let filled: Vec<&Cell> = table
        .cells
        .iter()
        .filter(|c| !c.text.trim().is_empty())
        .collect();
    let longest = filled
        .iter()
        .map(|c| c.text.split_whitespace().count())
        .max()
        .unwrap_or(0);
    let words: usize = filled
        .iter()
        .map(|c| c.text.split_whitespace().count())
        .sum();
    let mut columns: Vec<u32> = filled.iter().map(|c| c.col).collect();
    columns.sort_unstable();
    columns.dedup();
    let mut rows: Vec<u32> = filled.iter().map(|c| c.row).collect();
    rows.sort_unstable();
    rows.dedup();
    filled.len() >= 3
        && columns.len() >= 2
        && rows.len() >= 2
        && longest <= 60
        && words <= filled.len() * 15
}

fn center_in(b: &BBox, region: &BBox) -> bool {
    let (cx, cy) = b.center();
    region.contains_point(cx, cy)
}

fn take_inside(slots: &mut [Option<Fragment>], region: &BBox) {
    for s in slots.iter_mut() {
        if s.as_ref().is_some_and(|f| center_in(&f.bbox, region)) {
            *s = None;
        }
    }
}

/// Splits segments into horizontal and vertical rules and joins collinear pieces.
fn merge_rules(segments: &[Segment]) -> (Vec<HLine>, Vec<VLine>) {
    let mut hs: Vec<HLine> = segments
        .iter()
        .filter(|s| s.is_horizontal())
        .map(|s| HLine {
            y: (s.y0 + s.y1) / 2.0,
            x0: s.x0.min(s.x1),
            x1: s.x0.max(s.x1),
        })
        .collect();
    let mut vs: Vec<VLine> = segments
        .iter()
        .filter(|s| s.is_vertical())
        .map(|s| VLine {
            x: (s.x0 + s.x1) / 2.0,
            y0: s.y0.min(s.y1),
            y1: s.y0.max(s.y1),
        })
        .collect();
    hs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    vs.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y0.total_cmp(&b.y0)));
    let mut mh: Vec<HLine> = Vec::new();
    for h in hs {
        match mh.last_mut() {
            Some(l) if (l.y - h.y).abs() <= SNAP && h.x0 <= l.x1 + SNAP => l.x1 = l.x1.max(h.x1),
            _ => mh.push(h),
        }
    }
    let mut mv: Vec<VLine> = Vec::new();
    for v in vs {
        match mv.last_mut() {
            Some(l) if (l.x - v.x).abs() <= SNAP && v.y0 <= l.y1 + SNAP => l.y1 = l.y1.max(v.y1),
            _ => mv.push(v),
        }
    }
    (mh, mv)
}

fn crosses(h: &HLine, v: &VLine) -> bool {
    v.x >= h.x0 - SNAP && v.x <= h.x1 + SNAP && h.y >= v.y0 - SNAP && h.y <= v.y1 + SNAP
}

/// Groups rules that touch each other into connected components (union-find).
fn lattice_components(hs: &[HLine], vs: &[VLine]) -> Vec<(Vec<usize>, Vec<usize>)> {
    // Pages with thousands of rules are drawings, not tables: bound the quadratic work.
    if hs.len() * vs.len() > 4_000_000 {
        return Vec::new();
    }
    let n = hs.len() + vs.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for (hi, h) in hs.iter().enumerate() {
        for (vi, v) in vs.iter().enumerate() {
            if crosses(h, v) {
                let (a, b) = (find(&mut parent, hi), find(&mut parent, hs.len() + vi));
                parent[a] = b;
            }
        }
    }
    let mut groups: std::collections::HashMap<usize, (Vec<usize>, Vec<usize>)> = Default::default();
    for i in 0..n {
        let root = find(&mut parent, i);
        let g = groups.entry(root).or_default();
        if i < hs.len() {
            g.0.push(i);
        } else {
            g.1.push(i - hs.len());
        }
    }
    groups
        .into_values()
        .filter(|(h, v)| h.len() >= 2 && v.len() >= 2)
        .collect()
}

/// Sorted positions with near-duplicates merged.
fn cluster(mut v: Vec<f32>) -> Vec<f32> {
    v.sort_by(f32::total_cmp);
    let mut out: Vec<f32> = Vec::new();
    for x in v {
        match out.last() {
            Some(&l) if x - l <= SNAP => {}
            _ => out.push(x),
        }
    }
    out
}

/// Where a band of a lattice (between two horizontal rules) holds several rows of text that
/// the rules do not separate, the y positions between those rows. Rows are text lines that
/// fill two or more columns; a line in one column that continues a cell joins its row.
fn unruled_row_breaks(xs: &[f32], top: f32, bottom: f32, frags: &[&Fragment]) -> Vec<f32> {
    let inside: Vec<&Fragment> = frags
        .iter()
        .filter(|f| {
            let (_, cy) = f.bbox.center();
            cy > top && cy < bottom
        })
        .copied()
        .collect();
    let boxes: Vec<BBox> = inside.iter().map(|f| f.bbox).collect();
    let lines = text_lines(&boxes);
    if lines.len() < 2 {
        return Vec::new();
    }
    let col_of = |f: &Fragment| {
        let (cx, _) = f.bbox.center();
        xs.iter().take_while(|&&x| x < cx).count().saturating_sub(1)
    };
    let grid: Vec<stream::GridLine> = lines
        .iter()
        .map(|l| stream::GridLine {
            pieces: l
                .iter()
                .map(|&i| (col_of(inside[i]), col_of(inside[i]), i))
                .collect(),
        })
        .collect();
    let multi = grid
        .iter()
        .filter(|g| {
            let mut c: Vec<usize> = g.pieces.iter().map(|p| p.0).collect();
            c.dedup();
            c.len() >= 2
        })
        .count();
    let numeric_lines = lines
        .iter()
        .filter(|l| l.iter().filter(|&&i| is_numeric(&inside[i].text())).count() >= 2)
        .count();
    // Four or more rows of values stacked in one band are rows.
    // A framed page of prose or a questionnaire lines up too: ask for rows of values.
    // Two or three lines in each cell are as often one row of multi-line cells (a paper's
    // table with one line per variant).
    if multi < 4 || numeric_lines < 4 {
        return Vec::new();
    }
    let text_of = |i: usize| inside[i].text();
    let rows = stream::group_rows(&grid, &text_of);
    let row_box = |r: &Vec<usize>| {
        BBox::union_all(
            r.iter()
                .flat_map(|&li| lines[li].iter().map(|&i| &boxes[i])),
        )
    };
    rows.windows(2)
        .filter_map(|w| Some((row_box(&w[0])?.y1 + row_box(&w[1])?.y0) / 2.0))
        .collect()
}

fn lattice_table(
    xs: &[f32],
    ys: &[f32],
    hl: &[HLine],
    vl: &[VLine],
    frags: Vec<Fragment>,
) -> Table {
    // Rows of text inside one ruled band become rows of their own: virtual rules between them.
    let refs: Vec<&Fragment> = frags.iter().collect();
    let mut hl: Vec<HLine> = hl.to_vec();
    let mut all_ys: Vec<f32> = ys.to_vec();
    let (left, right) = (xs[0], xs[xs.len() - 1]);
    for w in ys.windows(2) {
        for y in unruled_row_breaks(xs, w[0], w[1], &refs) {
            hl.push(HLine {
                y,
                x0: left,
                x1: right,
            });
            all_ys.push(y);
        }
    }
    all_ys.sort_by(f32::total_cmp);
    let ys = &all_ys[..];
    let hl = &hl[..];
    let (rows, cols) = (ys.len() - 1, xs.len() - 1);
    let has_v = |x: f32, y: f32| {
        vl.iter()
            .any(|v| (v.x - x).abs() <= SNAP && y >= v.y0 - SNAP && y <= v.y1 + SNAP)
    };
    let has_h = |y: f32, x: f32| {
        hl.iter()
            .any(|h| (h.y - y).abs() <= SNAP && x >= h.x0 - SNAP && x <= h.x1 + SNAP)
    };
    let mut owner = vec![vec![usize::MAX; cols]; rows];
    let mut cells: Vec<Cell> = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            if owner[r][c] != usize::MAX {
                continue;
            }
            let ymid = (ys[r] + ys[r + 1]) / 2.0;
            let mut cs = 1;
            while c + cs < cols && !has_v(xs[c + cs], ymid) {
                cs += 1;
            }
            let mut rs = 1;
            while r + rs < rows
                && (c..c + cs).all(|k| !has_h(ys[r + rs], (xs[k] + xs[k + 1]) / 2.0))
            {
                rs += 1;
            }
            for row in owner.iter_mut().skip(r).take(rs) {
                for slot in row.iter_mut().skip(c).take(cs) {
                    *slot = cells.len();
                }
            }
            cells.push(Cell {
                row: r as u32,
                col: c as u32,
                row_span: rs as u32,
                col_span: cs as u32,
                text: String::new(),
                bbox: Some(BBox::new(xs[c], ys[r], xs[c + cs], ys[r + rs])),
                header: r == 0,
            });
        }
    }
    let mut contents: Vec<Vec<Fragment>> = vec![Vec::new(); cells.len()];
    for f in frags {
        let (cx, cy) = f.bbox.center();
        let c = xs
            .iter()
            .take_while(|&&x| x < cx)
            .count()
            .saturating_sub(1)
            .min(cols - 1);
        let r = ys
            .iter()
            .take_while(|&&y| y < cy)
            .count()
            .saturating_sub(1)
            .min(rows - 1);
        let idx = owner[r][c];
        if idx < contents.len() {
            contents[idx].push(f);
        }
    }
    // A cell that spans columns only because no rule divides them (rules drawn around the
    // header alone) is several cells when its pieces of text each sit inside one column.
    let mut out: Vec<Cell> = Vec::with_capacity(cells.len());
    for (cell, frags) in cells.into_iter().zip(contents) {
        if cell.col_span > 1 && frags.len() >= 2 {
            let (c0, c1) = (cell.col as usize, (cell.col + cell.col_span) as usize);
            let column_of = |f: &Fragment| {
                (c0..c1).find(|&k| f.bbox.x0 >= xs[k] - SNAP && f.bbox.x1 <= xs[k + 1] + SNAP)
            };
            let placed: Vec<Option<usize>> = frags.iter().map(column_of).collect();
            let mut distinct: Vec<usize> = placed.iter().flatten().copied().collect();
            distinct.sort_unstable();
            distinct.dedup();
            if placed.iter().all(Option::is_some) && distinct.len() >= 2 {
                let mut per: Vec<Vec<Fragment>> = vec![Vec::new(); c1 - c0];
                for (f, k) in frags.into_iter().zip(placed) {
                    if let Some(k) = k {
                        per[k - c0].push(f);
                    }
                }
                for (k, fs) in per.into_iter().enumerate() {
                    let col = c0 + k;
                    out.push(Cell {
                        row: cell.row,
                        col: col as u32,
                        row_span: cell.row_span,
                        col_span: 1,
                        text: cell_text(fs),
                        bbox: Some(BBox::new(
                            xs[col],
                            ys[cell.row as usize],
                            xs[col + 1],
                            ys[(cell.row + cell.row_span) as usize],
                        )),
                        header: cell.header,
                    });
                }
                continue;
            }
        }
        out.push(Cell {
            text: cell_text(frags),
            ..cell
        });
    }
    Table {
        rows: rows as u32,
        cols: cols as u32,
        cells: out,
    }
}

/// Removes grid columns and rows that hold nothing of their own: a column where every cell
/// either spans over it from the left or is an empty single cell (a stop left by a rule's end),
/// and a row whose cells are all empty. Spans shrink accordingly.
pub(crate) fn compact(mut t: Table) -> Table {
    let mut c = 0;
    while c < t.cols {
        let over: Vec<&Cell> = t
            .cells
            .iter()
            .filter(|x| x.col <= c && c < x.col + x.col_span)
            .collect();
        let droppable = t.cols > 1
            && over
                .iter()
                .all(|x| x.col < c || (x.col_span == 1 && x.text.trim().is_empty()));
        if !droppable {
            c += 1;
            continue;
        }
        t.cells.retain(|x| !(x.col == c && x.col_span == 1));
        for x in &mut t.cells {
            if x.col < c && c < x.col + x.col_span {
                x.col_span -= 1;
            } else if x.col > c {
                x.col -= 1;
            }
        }
        t.cols -= 1;
    }
    let mut r = 0;
    while r < t.rows {
        let starts: Vec<&Cell> = t.cells.iter().filter(|x| x.row == r).collect();
        let droppable = t.rows > 1
            && starts
                .iter()
                .all(|x| x.text.trim().is_empty() && x.row_span == 1);
        if !droppable {
            r += 1;
            continue;
        }
        let header_row = starts.iter().any(|x| x.header);
        t.cells.retain(|x| x.row != r);
        for x in &mut t.cells {
            if x.row < r && r < x.row + x.row_span {
                x.row_span -= 1;
            } else if x.row > r {
                x.row -= 1;
                // The first row was the header of a ruled grid; the one below takes its place.
                if header_row && x.row == 0 {
                    x.header = true;
                }
            }
        }
        t.rows -= 1;
    }
    t
}

/// Text of a cell: its fragments top to bottom, left to right.
fn cell_text(mut frags: Vec<Fragment>) -> String {
    frags.sort_by(|a, b| {
        let same_line = a.bbox.overlap_y(&b.bbox) > 0.5 * a.bbox.height().min(b.bbox.height());
        if same_line {
            a.bbox.x0.total_cmp(&b.bbox.x0)
        } else {
            a.bbox.y0.total_cmp(&b.bbox.y0)
        }
    });
    let texts: Vec<String> = frags.iter().map(Fragment::text).collect();
    join_lines(texts.iter().map(String::as_str))
}

/// Regions between long horizontal rules of the same extent that are not already lattice tables.
fn rule_delimited_regions(hs: &[HLine], lattices: &[Block]) -> Vec<(BBox, Vec<f32>)> {
    let long: Vec<&HLine> = hs
        .iter()
        .filter(|h| h.x1 - h.x0 >= 100.0)
        .filter(|h| {
            !lattices
                .iter()
                .any(|b| b.bbox.contains_point((h.x0 + h.x1) / 2.0, h.y))
        })
        .collect();
    let mut used = vec![false; long.len()];
    let mut out = Vec::new();
    for i in 0..long.len() {
        if used[i] {
            continue;
        }
        let group: Vec<usize> = (i..long.len())
            .filter(|&j| {
                !used[j]
                    && (long[j].x0 - long[i].x0).abs() <= 6.0
                    && (long[j].x1 - long[i].x1).abs() <= 6.0
            })
            .collect();
        if group.len() < 2 {
            continue;
        }
        for &j in &group {
            used[j] = true;
        }
        let ys: Vec<f32> = cluster(group.iter().map(|&j| long[j].y).collect());
        if ys.len() < 2 {
            continue;
        }
        let (top, bottom) = (ys[0], ys[ys.len() - 1]);
        if bottom - top < 10.0 {
            continue;
        }
        out.push((BBox::new(long[i].x0, top, long[i].x1, bottom), ys));
    }
    out
}

/// Builds a table from text alignment inside a rule-delimited region, or `None` when the text
/// does not look like rows and columns.
fn aligned_table(frags: &[&Fragment], _rules: &[f32]) -> Option<Table> {
    if frags.len() < 4 {
        return None;
    }
    // Rows: fragments whose vertical extents overlap.
    let mut order: Vec<usize> = (0..frags.len()).collect();
    order.sort_by(|&a, &b| frags[a].bbox.y0.total_cmp(&frags[b].bbox.y0));
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut row_box: Option<BBox> = None;
    for i in order {
        let b = frags[i].bbox;
        match row_box {
            Some(rb) if rb.overlap_y(&b) >= 0.4 * b.height().min(rb.height()) => {
                if let Some(r) = rows.last_mut() {
                    r.push(i);
                }
                row_box = Some(rb.union(&b));
            }
            _ => {
                rows.push(vec![i]);
                row_box = Some(b);
            }
        }
    }
    // Columns: gaps in the horizontal projection of all fragments.
    let mut spans: Vec<(f32, f32)> = frags.iter().map(|f| (f.bbox.x0, f.bbox.x1)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut bounds: Vec<(f32, f32)> = Vec::new();
    for (s, e) in spans {
        match bounds.last_mut() {
            Some(last) if s <= last.1 + 1.0 => last.1 = last.1.max(e),
            _ => bounds.push((s, e)),
        }
    }
    let cols = bounds.len();
    let multi = rows.iter().filter(|r| r.len() >= 2).count();
    if cols < 2 || rows.len() < 2 || multi * 2 < rows.len() || cols > 40 {
        return None;
    }
    let mut cells = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let mut per_col: Vec<Vec<Fragment>> = vec![Vec::new(); cols];
        for &i in row {
            let (cx, _) = frags[i].bbox.center();
            let c = bounds
                .iter()
                .position(|(s, e)| cx >= *s && cx <= *e)
                .unwrap_or(0);
            per_col[c].push(frags[i].clone());
        }
        for (c, fs) in per_col.into_iter().enumerate() {
            let bbox = BBox::union_all(fs.iter().map(|f| &f.bbox));
            cells.push(Cell {
                row: r as u32,
                col: c as u32,
                row_span: 1,
                col_span: 1,
                text: cell_text(fs),
                bbox,
                header: r == 0,
            });
        }
    }
    Some(Table {
        rows: rows.len() as u32,
        cols: cols as u32,
        cells,
    })
}
