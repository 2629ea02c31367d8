//! Tables from ruling lines.
//!
//! Two shapes are recognised where they are clearly present:
//! - lattice tables: horizontal and vertical rules that cross into a grid of at least 2×2 cells;
//!   a missing rule inside the grid makes a spanning cell;
//! - rule-delimited tables (the "booktabs" style of papers): two or more long horizontal rules of
//!   the same extent with text rows between them, rows and columns found from the text's own
//!   alignment as for unruled tables, or one row per band where a rule runs under every row.
//!
//! Rules are not only tables': a chart's gridlines, bars and frame, and a form ruled into
//! fields, draw them too. A grid whose cells are mostly empty or whose text runs through its
//! rules is a plot area (its labels, and a frame around it, make no table); a grid whose rows
//! are labels ending in ':' or checkboxes is a form, left to become key-value lines.
//!
//! Fragments that fall inside a table become its cells and leave the text flow.

use folio_doc::{join_lines, BBox, Block, Cell, Provenance, Table};

use crate::stream::{self, is_numeric, text_lines};
use crate::words::Fragment;
use folio_content::Segment;

/// A grid of rules whose cells are mostly empty is a chart's bars and gridlines, or a blank
/// form, not a table: the tables of the ICDAR-2013 set fill 59 % of their grid or more.
const MIN_LATTICE_FILL: f32 = 0.3;
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
    let (mut blocks, frags, plots) = ruled_tables(segments, frags, provenance, em);
    // OCR'd pages are mostly receipts and forms whose rows wander: alignment alone is no
    // evidence of a table there.
    if provenance.source == folio_doc::Source::Ocr {
        return (blocks, frags);
    }
    // Labels inside a chart's plot area (values on its bars) line up with its axis labels,
    // but they are no table: keep them out of the search for unruled tables.
    let (in_plots, frags): (Vec<Fragment>, Vec<Fragment>) = frags
        .into_iter()
        .partition(|f| plots.iter().any(|p| center_in(&f.bbox, p)));
    let (found, mut frags) = stream::find_tables(frags, em);
    frags.extend(in_plots);
    for (table, bbox) in found {
        blocks.push(Block::from_table(compact(table), bbox, provenance));
    }
    (blocks, frags)
}

/// Tables from rules: lattices, then regions between long horizontal rules.
/// Also returns the grids of rules that held no table (charts' plot areas, blank forms).
fn ruled_tables(
    segments: &[Segment],
    frags: Vec<Fragment>,
    provenance: Provenance,
    em: f32,
) -> (Vec<Block>, Vec<Fragment>, Vec<BBox>) {
    if segments.is_empty() || frags.is_empty() {
        return (Vec::new(), frags, Vec::new());
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
    // Grids of rules that hold no table: a chart's plot area (gridlines, bars) or a blank form.
    let mut plots: Vec<BBox> = Vec::new();
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
        if inside.is_empty() || text_runs_through(&vl, &inside) {
            plots.push(bbox);
            continue;
        }
        let table = compact(lattice_table(&xs, &ys, &hl, &vl, inside));
        if !looks_tabular(&table) {
            plots.push(bbox);
            continue;
        }
        // A form ruled into fields is read as its fields (key-value lines), not as a table.
        if looks_like_form(&table) {
            continue;
        }
        take_inside(&mut slots, &bbox);
        blocks.push(Block::from_table(table, bbox, provenance));
    }
    for (bbox, ys) in rule_delimited_regions(&hs, &blocks) {
        let bbox = with_rows_below(&slots, bbox, em);
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
        // A frame around a chart has a plot area inside: its labels are no table.
        let around_plot = plots.iter().any(|p| {
            let w = (p.x1.min(bbox.x1) - p.x0.max(bbox.x0)).max(0.0);
            let h = (p.y1.min(bbox.y1) - p.y0.max(bbox.y0)).max(0.0);
            let overlap = w * h;
            overlap >= 0.5 * p.width() * p.height()
        });
        if around_plot || !bands_hold_text(&ys, &inside) {
            continue;
        }
        // Text alignment alone is weaker evidence than rules: ask for short cells.
        // The alignment rules of unruled tables (header rows, spanning headers, wrapped cells)
        // hold between rules too; the plain row-per-line split is the fallback.
        let owned: Vec<Fragment> = inside.iter().map(|&f| f.clone()).collect();
        let ruled_rows = ruled_rows(&ys, &inside);
        let bands = ruled_rows.then_some(ys.as_slice());
        let table = stream::aligned_table(&owned, em, true, bands)
            .map(|(t, _)| compact(t))
            .or_else(|| aligned_table(&inside, &ys))
            .filter(|t| {
                let filled: Vec<&Cell> = t
                    .cells
                    .iter()
                    .filter(|c| !c.text.trim().is_empty())
                    .collect();
                let words: usize = filled
                    .iter()
                    .map(|c| c.text.split_whitespace().count())
                    .sum();
                looks_tabular(t) && words <= filled.len() * 6 && !looks_like_form(t)
            });
        if let Some(table) = table {
            for i in candidates {
                slots[i] = None;
            }
            blocks.push(Block::from_table(table, bbox, provenance));
        }
    }
    (blocks, slots.into_iter().flatten().collect(), plots)
}

/// The region of a rule-delimited table grown down over the lines just below its last rule
/// that are rows of it: a total set under a double rule with no rule of the table's extent
/// after it. Such a line lies within the region's width, starts within 1.5 font sizes of what
/// is above, holds two or more pieces with a value among them, and is no caption or note.
fn with_rows_below(slots: &[Option<Fragment>], mut region: BBox, em: f32) -> BBox {
    for _ in 0..2 {
        let below: Vec<&Fragment> = slots
            .iter()
            .flatten()
            .filter(|f| {
                f.bbox.y0 > region.y1 - 0.5
                    && f.bbox.y0 < region.y1 + 1.5 * em
                    && f.bbox.x0 >= region.x0 - 1.0
                    && f.bbox.x1 <= region.x1 + 1.0
            })
            .collect();
        let Some(first) = below.iter().min_by(|a, b| a.bbox.y0.total_cmp(&b.bbox.y0)) else {
            break;
        };
        let line: Vec<&&Fragment> = below
            .iter()
            .filter(|f| f.bbox.overlap_y(&first.bbox) > 0.5 * first.bbox.height())
            .collect();
        let texts: Vec<String> = line.iter().map(|f| f.text()).collect();
        let is_row = line.len() >= 2
            && texts.iter().any(|t| is_numeric(t))
            && !texts.iter().any(|t| stream::ends_a_table(t));
        if !is_row {
            break;
        }
        for f in line {
            region = region.union(&f.bbox);
        }
    }
    region
}

/// A form drawn with a rule under each field: labels ending in ':' (or checkboxes) in a
/// quarter or more of its rows. Rules alone do not make it a table; its fields become
/// key-value lines instead.
fn looks_like_form(table: &Table) -> bool {
    let mut rows = 0;
    let mut fields = 0;
    for r in 0..table.rows {
        let mut cells: Vec<&Cell> = table
            .cells
            .iter()
            .filter(|c| c.row == r && !c.text.trim().is_empty())
            .collect();
        if cells.is_empty() {
            continue;
        }
        cells.sort_by_key(|c| c.col);
        rows += 1;
        let label = cells.iter().any(|c| stream::is_field_label(&c.text));
        let checkbox = cells
            .iter()
            .any(|c| c.text.contains("[ ]") || c.text.contains("[x]"));
        if label || checkbox {
            fields += 1;
        }
    }
    rows > 0 && fields * 4 >= rows
}

/// Whether text runs on through the vertical rules of a grid: two pieces of one line on
/// either side of a rule with no more room between them than between two letters ("30" and
/// ".5" of a value printed over a chart's gridline). A table's rules stand between cells,
/// clear of their text. Two such crossings are asked for, as a single one may be a tight cell.
fn text_runs_through(vl: &[VLine], frags: &[Fragment]) -> bool {
    if frags.len() > 2_000 {
        return false;
    }
    let mut crossings = 0;
    for a in frags {
        for b in frags {
            let gap = b.bbox.x0 - a.bbox.x1;
            let same_line = a.bbox.overlap_y(&b.bbox) > 0.5 * a.bbox.height().min(b.bbox.height());
            if !same_line || gap < -0.5 || gap > 0.1 * a.size.max(b.size) {
                continue;
            }
            let (_, cy) = a.bbox.center();
            if vl.iter().any(|v| {
                v.x >= a.bbox.x1 - 0.5 && v.x <= b.bbox.x0 + 0.5 && cy >= v.y0 && cy <= v.y1
            }) {
                crossings += 1;
            }
        }
    }
    crossings >= 2
}

/// Whether most bands between consecutive rules hold text. A table's rules (top, below the
/// header, bottom, or one under every row) each close a band of text; a chart's gridlines are
/// evenly spaced rules of one extent too, but the plot between them holds bars and curves, and
/// its text (a legend) fills a band or two at most.
fn bands_hold_text(ys: &[f32], frags: &[&Fragment]) -> bool {
    let bands = ys.len().saturating_sub(1);
    let with_text = ys
        .windows(2)
        .filter(|w| {
            frags.iter().any(|f| {
                let (_, cy) = f.bbox.center();
                cy > w[0] && cy < w[1]
            })
        })
        .count();
    if with_text * 2 < bands {
        return false;
    }
    // Rules hug a table's rows; a frame around a chart's legend leaves most of it empty.
    let mut heights: Vec<f32> = frags.iter().map(|f| f.bbox.height()).collect();
    heights.sort_by(f32::total_cmp);
    let Some(&line) = heights.get(heights.len() / 2) else {
        return false;
    };
    let (top, bottom) = (ys[0], ys[ys.len() - 1]);
    let mut covered: Vec<(f32, f32)> = frags
        .iter()
        .map(|f| (f.bbox.y0.max(top), f.bbox.y1.min(bottom)))
        .collect();
    covered.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The largest stretch between the top rule and the bottom one that no text covers.
    let mut reach = top;
    let mut widest = 0.0f32;
    for (a, b) in covered {
        widest = widest.max(a - reach);
        reach = reach.max(b);
    }
    widest = widest.max(bottom - reach);
    widest <= 4.0 * line
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
        && stream::filled_share(table) >= MIN_LATTICE_FILL
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
    let hs: Vec<HLine> = segments
        .iter()
        .filter(|s| s.is_horizontal())
        .map(|s| HLine {
            y: (s.y0 + s.y1) / 2.0,
            x0: s.x0.min(s.x1),
            x1: s.x0.max(s.x1),
        })
        .collect();
    let vs: Vec<VLine> = segments
        .iter()
        .filter(|s| s.is_vertical())
        .map(|s| VLine {
            x: (s.x0 + s.x1) / 2.0,
            y0: s.y0.min(s.y1),
            y1: s.y0.max(s.y1),
        })
        .collect();
    let mh = merge_collinear(hs.into_iter().map(|h| (h.y, h.x0, h.x1)).collect())
        .into_iter()
        .map(|(y, x0, x1)| HLine { y, x0, x1 })
        .collect();
    let mv = merge_collinear(vs.into_iter().map(|v| (v.x, v.y0, v.y1)).collect())
        .into_iter()
        .map(|(x, y0, y1)| VLine { x, y0, y1 })
        .collect();
    (mh, mv)
}

/// Joins pieces of rules `(position across, start, end)` that lie on one line and touch or
/// overlap. Pieces within [`SNAP`] of each other across are one line, however they were drawn:
/// a grid drawn as one short rectangle per cell side gives pieces whose positions differ by a
/// hundredth of a point, so sorting by position alone would interleave the pieces of one line
/// and keep only some of its extent.
fn merge_collinear(mut pieces: Vec<(f32, f32, f32)>) -> Vec<(f32, f32, f32)> {
    pieces.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        // One line: pieces within SNAP of the first piece's position.
        let mut j = i + 1;
        while j < pieces.len() && pieces[j].0 - pieces[i].0 <= SNAP {
            j += 1;
        }
        let mut line: Vec<(f32, f32, f32)> = pieces[i..j].to_vec();
        line.sort_by(|a, b| a.1.total_cmp(&b.1));
        // (position across, start, end); the position is the lowest of the pieces joined, so
        // that a rule drawn in one piece keeps its exact position.
        let mut current: Option<(f32, f32, f32)> = None;
        for (pos, a, b) in line {
            match current.as_mut() {
                Some(c) if a <= c.2 + SNAP => {
                    c.2 = c.2.max(b);
                    c.0 = c.0.min(pos);
                }
                _ => {
                    out.extend(current.take());
                    current = Some((pos, a, b));
                }
            }
        }
        out.extend(current);
        i = j;
    }
    out
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
        // Likewise down: a cell over three or more rows that the next column's rules divide,
        // holding one line of text in each of several of them (a form's values beside labels
        // ruled off one by one), is a cell per row, unless its lines read as one wrapped text.
        if let Some(split) = split_by_rows(&cell, &frags, ys) {
            out.extend(split);
            continue;
        }
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

/// The cells of `cell`, a row per band of `ys` it covers, when its text lines each sit in one
/// band, three or more bands hold one, and no line continues the one above (starts in lower
/// case, or follows a line left unfinished); `None` otherwise.
fn split_by_rows(cell: &Cell, frags: &[Fragment], ys: &[f32]) -> Option<Vec<Cell>> {
    let (r0, r1) = (cell.row as usize, (cell.row + cell.row_span) as usize);
    if cell.row_span < 3 || frags.len() < 3 || r1 >= ys.len() {
        return None;
    }
    let band_of = |f: &Fragment| {
        let (_, cy) = f.bbox.center();
        (r0..r1).find(|&k| f.bbox.y0 >= ys[k] - SNAP && f.bbox.y1 <= ys[k + 1] + SNAP && cy > ys[k])
    };
    let mut per: Vec<Vec<Fragment>> = vec![Vec::new(); r1 - r0];
    for f in frags {
        per[band_of(f)? - r0].push(f.clone());
    }
    if per.iter().filter(|p| !p.is_empty()).count() < 3 {
        return None;
    }
    let texts: Vec<String> = per
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| cell_text(p.clone()))
        .collect();
    if texts
        .windows(2)
        .any(|w| stream::ends_unfinished(&w[0]) || stream::starts_as_continuation(&w[1]))
    {
        return None;
    }
    let bbox = cell.bbox?;
    Some(
        per.into_iter()
            .enumerate()
            .map(|(k, fs)| Cell {
                row: (r0 + k) as u32,
                row_span: 1,
                text: cell_text(fs),
                bbox: Some(BBox::new(bbox.x0, ys[r0 + k], bbox.x1, ys[r0 + k + 1])),
                ..cell.clone()
            })
            .collect(),
    )
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

/// Whether the rules of a region divide it into rows: three or more bands, most of which hold
/// text, and none more than three lines (a rule under every row, the lines of a band being
/// one row's wrapped cells). Otherwise the rules only frame the table and set off its header.
fn ruled_rows(ys: &[f32], frags: &[&Fragment]) -> bool {
    if ys.len() < 4 {
        return false;
    }
    let boxes: Vec<BBox> = frags.iter().map(|f| f.bbox).collect();
    let lines = text_lines(&boxes);
    let mut per_band = vec![0usize; ys.len() - 1];
    for l in &lines {
        let Some(b) = BBox::union_all(l.iter().map(|&i| &boxes[i])) else {
            continue;
        };
        let (_, cy) = b.center();
        if let Some(k) = ys.windows(2).position(|w| cy > w[0] && cy < w[1]) {
            per_band[k] += 1;
        }
    }
    let with_text = per_band.iter().filter(|&&n| n > 0).count();
    with_text * 3 >= per_band.len() * 2 && per_band.iter().all(|&n| n <= 3)
}

/// Builds a table from text alignment inside a rule-delimited region, or `None` when the text
/// does not look like rows and columns. Where the rules divide rows ([`ruled_rows`]), each
/// band between two rules is one row.
fn aligned_table(frags: &[&Fragment], ys: &[f32]) -> Option<Table> {
    if frags.len() < 4 {
        return None;
    }
    let band_of = |f: &Fragment| {
        let (_, cy) = f.bbox.center();
        ys.windows(2).position(|w| cy > w[0] && cy < w[1])
    };
    let by_band = ruled_rows(ys, frags);
    // Rows: fragments whose vertical extents overlap (in one band, where rules divide rows).
    let mut order: Vec<usize> = (0..frags.len()).collect();
    order.sort_by(|&a, &b| frags[a].bbox.y0.total_cmp(&frags[b].bbox.y0));
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut row_box: Option<BBox> = None;
    let mut row_band: Option<usize> = None;
    for i in order {
        if by_band {
            let band = band_of(frags[i]);
            match rows.last_mut() {
                Some(r) if band == row_band => r.push(i),
                _ => {
                    rows.push(vec![i]);
                    row_band = band;
                }
            }
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{font, prose, prose_right};
    use crate::words::fragments;
    use folio_content::Glyph;
    use folio_doc::Source;

    fn hrule(y: f32, x0: f32, x1: f32) -> Segment {
        Segment {
            x0,
            y0: y,
            x1,
            y1: y,
        }
    }

    fn vrule(x: f32, y0: f32, y1: f32) -> Segment {
        Segment {
            x0: x,
            y0,
            x1: x,
            y1,
        }
    }

    /// Text at a baseline: left-aligned at x, or right-aligned ending at x.
    fn text(glyphs: &mut Vec<Glyph>, t: &str, x: f32, y: f32, right: bool) {
        let f = font("Helvetica");
        glyphs.extend(if right {
            prose_right(t, x, y, 10.0, &f)
        } else {
            prose(t, x, y, 10.0, &f)
        });
    }

    fn tables_of(glyphs: &[Glyph], segments: &[Segment]) -> (Vec<Block>, Vec<Fragment>) {
        let provenance = Provenance {
            page: 1,
            source: Source::TextLayer,
        };
        extract_tables(segments, fragments(glyphs, segments), provenance, 10.0)
    }

    #[test]
    fn rule_pieces_a_hundredth_apart_are_one_rule() {
        // One rule drawn as a short rectangle per cell, whose centres differ by 0.01 pt: sorted
        // by height alone, the pieces interleave, and the rule must still span them all.
        let (hs, _) = merge_rules(&[
            hrule(98.21, 72.0, 146.6),
            hrule(98.19, 401.9, 460.4),
            hrule(98.20, 147.6, 209.6),
            hrule(98.21, 210.6, 400.9),
        ]);
        assert_eq!(hs.len(), 1, "{hs:?}");
        assert!((hs[0].x0 - 72.0).abs() < 0.01 && (hs[0].x1 - 460.4).abs() < 0.01);
    }

    #[test]
    fn a_lattice_drawn_in_pieces_keeps_every_column() {
        // Three columns; each rule is one piece per cell side, at heights a hundredth apart.
        let xs = [50.0, 150.0, 220.0, 290.0];
        let ys = [100.0, 114.0, 128.0, 142.0];
        let mut segments = Vec::new();
        for (k, &y) in ys.iter().enumerate() {
            for w in xs.windows(2) {
                segments.push(hrule(y + 0.01 * (k % 2) as f32, w[0] + 0.5, w[1] - 0.5));
            }
        }
        for &x in &xs {
            for w in ys.windows(2) {
                segments.push(vrule(x, w[0] + 0.5, w[1] - 0.5));
            }
        }
        // The pieces of the top rule, drawn right to left at slightly lower heights.
        segments.reverse();
        let mut g = Vec::new();
        for (i, (name, a, b)) in [
            ("Germany", "27.5", "81.9"),
            ("France", "25.0", "58.1"),
            ("Italy", "19.0", "57.3"),
        ]
        .iter()
        .enumerate()
        {
            let y = 111.0 + 14.0 * i as f32;
            text(&mut g, name, 55.0, y, false);
            text(&mut g, a, 210.0, y, true);
            text(&mut g, b, 280.0, y, true);
        }
        let (blocks, _) = tables_of(&g, &segments);
        assert_eq!(blocks.len(), 1);
        let t = blocks[0].table.as_ref().expect("table");
        assert_eq!(t.grid()[0], vec!["Germany", "27.5", "81.9"]);
    }

    #[test]
    fn a_bar_chart_is_no_table_nor_are_its_labels() {
        // A plot area with gridlines every 40 pt and bars, two values on the bars, the axis
        // values beside it and below.
        let mut segments = Vec::new();
        for k in 0..=10 {
            segments.push(vrule(100.0 + 40.0 * k as f32, 100.0, 250.0));
        }
        segments.push(hrule(100.0, 100.0, 500.0));
        segments.push(hrule(250.0, 100.0, 500.0));
        for (k, len) in [120.0f32, 200.0, 160.0].iter().enumerate() {
            let y = 110.0 + 45.0 * k as f32;
            segments.push(hrule(y, 100.0, 100.0 + len));
            segments.push(hrule(y + 12.0, 100.0, 100.0 + len));
            segments.push(vrule(100.0 + len, y, y + 12.0));
        }
        let mut g = Vec::new();
        for (k, (year, value)) in [("2001", "30.5"), ("2005", "29.7"), ("2010", "28.7")]
            .iter()
            .enumerate()
        {
            let y = 120.0 + 45.0 * k as f32;
            text(&mut g, year, 95.0, y, true);
            text(&mut g, value, 130.0, y, false);
        }
        for k in 0..=5 {
            text(
                &mut g,
                &format!("{}%", 20 * k),
                95.0 + 80.0 * k as f32,
                265.0,
                false,
            );
        }
        let (blocks, rest) = tables_of(&g, &segments);
        assert!(blocks.is_empty(), "{:?}", blocks[0].table);
        // Every label stays in the running text.
        let chars: usize = rest.iter().map(|f| f.text().replace(' ', "").len()).sum();
        assert_eq!(chars, g.len());
    }

    #[test]
    fn a_frame_around_a_legend_is_no_table() {
        // A chart's frame: a top and a bottom rule 190 pt apart, its legend in the top corner.
        let segments = [hrule(190.0, 140.0, 460.0), hrule(380.0, 140.0, 460.0)];
        let mut g = Vec::new();
        for (k, (a, b)) in [
            ("Greece", "Spain"),
            ("Ireland", "Italy"),
            ("Portugal", "UK"),
        ]
        .iter()
        .enumerate()
        {
            let y = 205.0 + 12.0 * k as f32;
            text(&mut g, a, 360.0, y, false);
            text(&mut g, b, 410.0, y, false);
        }
        let (blocks, _) = tables_of(&g, &segments);
        assert!(blocks.is_empty(), "{:?}", blocks[0].table);
    }

    /// A form's labels and values, the last a pair of checkboxes.
    const FORM_FIELDS: [(&str, &str); 4] = [
        ("Name:", "Jane Doe"),
        ("Date of birth:", "12 May 1990"),
        ("Member since:", "2019"),
        ("Newsletter:", "[x] Yes [ ] No"),
    ];

    #[test]
    fn a_form_with_a_rule_under_each_field_is_key_values_not_a_table() {
        let mut content = folio_content::PageContent::empty(600.0, 800.0);
        let mut g = Vec::new();
        for (k, (label, value)) in FORM_FIELDS.iter().enumerate() {
            let y = 100.0 + 24.0 * k as f32;
            text(&mut g, label, 50.0, y, false);
            text(&mut g, value, 200.0, y, false);
            content.segments.push(hrule(y + 4.0, 50.0, 450.0));
        }
        content.segments.push(hrule(84.0, 50.0, 450.0));
        content.glyphs = g;
        let blocks = crate::analyze_page(&content, 1, Source::TextLayer);
        assert!(blocks.iter().all(|b| b.table.is_none()), "{blocks:?}");
        let kv: Vec<(&str, &str)> = blocks
            .iter()
            .filter_map(|b| b.key_value.as_ref())
            .map(|kv| (kv.key.as_str(), kv.value.as_str()))
            .collect();
        assert_eq!(kv.len(), 4, "{blocks:?}");
        assert_eq!(kv[0], ("Name", "Jane Doe"));
        assert!(blocks
            .iter()
            .filter_map(|b| b.key_value.as_ref())
            .all(|kv| kv.value_bbox.is_some()));
    }

    #[test]
    fn a_total_under_the_last_rule_is_a_row_and_the_source_is_not() {
        let segments = [
            hrule(100.0, 50.0, 400.0),
            hrule(116.0, 50.0, 400.0),
            hrule(160.0, 50.0, 400.0),
        ];
        let mut g = Vec::new();
        text(&mut g, "Freq.", 300.0, 112.0, true);
        text(&mut g, "Percent", 390.0, 112.0, true);
        for (k, (label, a, b)) in [
            ("Kept", "344", "75.2"),
            ("Sold some", "53", "11.6"),
            ("Sold all", "61", "13.2"),
        ]
        .iter()
        .enumerate()
        {
            let y = 128.0 + 12.0 * k as f32;
            text(&mut g, label, 55.0, y, false);
            text(&mut g, a, 300.0, y, true);
            text(&mut g, b, 390.0, y, true);
        }
        text(&mut g, "Total", 55.0, 172.0, false);
        text(&mut g, "458", 300.0, 172.0, true);
        text(&mut g, "100.0", 390.0, 172.0, true);
        text(&mut g, "Source: SAVE 2009", 55.0, 186.0, false);
        let (blocks, rest) = tables_of(&g, &segments);
        assert_eq!(blocks.len(), 1);
        let grid = blocks[0].table.as_ref().expect("table").grid();
        assert_eq!(
            grid.last(),
            Some(&vec!["Total".to_string(), "458".into(), "100.0".into()])
        );
        assert_eq!(rest.len(), 1, "the source stays text");
    }

    #[test]
    fn a_form_ruled_under_its_labels_only_is_key_values_not_one_cell_of_values() {
        // A frame with a column rule; a rule under each label, none between the values.
        let mut content = folio_content::PageContent::empty(600.0, 800.0);
        let mut g = Vec::new();
        let mut segments = vec![
            hrule(84.0, 40.0, 450.0),
            vrule(40.0, 84.0, 188.0),
            vrule(190.0, 84.0, 188.0),
            vrule(450.0, 84.0, 188.0),
        ];
        for (k, (label, value)) in FORM_FIELDS.iter().enumerate() {
            let y = 100.0 + 26.0 * k as f32;
            text(&mut g, label, 50.0, y, false);
            text(&mut g, value, 200.0, y, false);
            segments.push(hrule(y + 10.0, 40.0, 190.0));
        }
        segments.push(hrule(188.0, 40.0, 450.0));
        content.glyphs = g;
        content.segments = segments;
        let blocks = crate::analyze_page(&content, 1, Source::TextLayer);
        assert!(blocks.iter().all(|b| b.table.is_none()), "{blocks:?}");
        let texts: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
        assert!(texts.contains(&"Name: Jane Doe"), "{texts:?}");
        assert!(texts.contains(&"Newsletter: [x] Yes [ ] No"), "{texts:?}");
    }

    /// A frame from x 40 to 400 between rules at y 100 and 160, a column rule at each of
    /// `columns`, and rules at y 115, 130 and 145 from `x0` to `x1` only.
    fn frame_ruled_in_part(columns: &[f32], x0: f32, x1: f32) -> Vec<Segment> {
        let mut segments = vec![hrule(100.0, 40.0, 400.0), hrule(160.0, 40.0, 400.0)];
        segments.extend(columns.iter().map(|&x| vrule(x, 100.0, 160.0)));
        segments.extend([115.0, 130.0, 145.0].map(|y| hrule(y, x0, x1)));
        segments
    }

    /// Four rows 15 points apart from y 111: a label at `x`, a number ending at 395.
    fn four_rows(g: &mut Vec<Glyph>, rows: [(&str, &str); 4], x: f32) {
        for (k, (a, b)) in rows.iter().enumerate() {
            let y = 111.0 + 15.0 * k as f32;
            text(g, a, x, y, false);
            text(g, b, 395.0, y, true);
        }
    }

    #[test]
    fn values_beside_rows_ruled_in_one_column_only_take_their_rows() {
        let segments = frame_ruled_in_part(&[40.0, 200.0, 400.0], 40.0, 200.0);
        let mut g = Vec::new();
        four_rows(
            &mut g,
            [
                ("Spain", "268"),
                ("Germany", "233"),
                ("France", "136"),
                ("Italy", "92"),
            ],
            45.0,
        );
        let (blocks, _) = tables_of(&g, &segments);
        let grid = blocks[0].table.as_ref().expect("table").grid();
        assert_eq!(grid.len(), 4, "{grid:?}");
        assert_eq!(grid[1], vec!["Germany", "233"]);
    }

    #[test]
    fn a_wrapped_label_over_ruled_rows_stays_one_cell() {
        // "Chronic fatigue / syndrome" spans the rows its neighbour column divides.
        let segments = frame_ruled_in_part(&[40.0, 200.0, 300.0, 400.0], 200.0, 400.0);
        let mut g = Vec::new();
        text(&mut g, "Chronic fatigue", 45.0, 111.0, false);
        text(&mut g, "syndrome", 45.0, 126.0, false);
        text(&mut g, "and related", 45.0, 141.0, false);
        four_rows(
            &mut g,
            [
                ("Count", "19"),
                ("Percentage", "3.8%"),
                ("Count", "4"),
                ("Percentage", "0.8%"),
            ],
            205.0,
        );
        let (blocks, _) = tables_of(&g, &segments);
        let t = blocks[0].table.as_ref().expect("table");
        let label = t
            .cells
            .iter()
            .find(|c| c.col == 0 && c.row == 0)
            .expect("label");
        assert_eq!(label.text, "Chronic fatigue syndrome and related");
        assert_eq!(label.row_span, 4);
    }

    #[test]
    fn a_rule_under_every_row_makes_each_band_a_row() {
        // The header, then a section label alone in its row, then rows of values.
        let rows: [(&str, &str); 6] = [
            ("Indicators", "Weight in 2006"),
            ("Effectiveness", ""),
            ("Employment", "40"),
            ("Further studies", "15"),
            ("Processes", ""),
            ("Dropping out", "15"),
        ];
        let mut segments = vec![hrule(100.0, 50.0, 400.0)];
        let mut g = Vec::new();
        for (k, (label, value)) in rows.iter().enumerate() {
            let top = 100.0 + 16.0 * k as f32;
            text(&mut g, label, 55.0, top + 12.0, false);
            if !value.is_empty() {
                text(&mut g, value, 390.0, top + 12.0, true);
            }
            segments.push(hrule(top + 16.0, 50.0, 400.0));
        }
        let (blocks, _) = tables_of(&g, &segments);
        assert_eq!(blocks.len(), 1);
        let grid = blocks[0].table.as_ref().expect("table").grid();
        assert_eq!(grid.len(), 6, "{grid:?}");
        assert_eq!(grid[0], vec!["Indicators", "Weight in 2006"]);
        assert_eq!(grid[1], vec!["Effectiveness", ""]);
        assert_eq!(grid[2], vec!["Employment", "40"]);
    }
}
