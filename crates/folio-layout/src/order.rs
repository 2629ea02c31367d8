//! Reading order by recursive XY-cut over item boxes.
//!
//! A region is split at a vertical whitespace band (a column gutter) when one runs through all
//! of it and both sides are wide enough to be columns, else at its widest horizontal bands
//! (between paragraphs, or between a title and the columns under it). Regions that cannot be
//! split are read top to bottom, left to right. Right-to-left pages read columns right to left.
//!
//! Short labels laid out beside their values (forms, key/value lists) keep row order: a vertical
//! cut is refused when its sides are narrow and their items line up row by row.

use folio_doc::BBox;

/// Deeper than this, a region is read in plain row order (bounds the work on pathological pages).
const MAX_DEPTH: usize = 48;

/// What may be read as columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// Sides that are text columns, or sides of pieces that do not line up row by row.
    Aligned,
    /// Only sides that are both text columns (mostly full lines). For OCR'd scans, which are
    /// mostly receipts and forms whose rows wander: a label and its value often sit half a
    /// line apart, and items print their name on one line and their amounts on the next.
    TextOnly,
}

/// Returns the indices of `boxes` in reading order. `em` is the typical font size on the page.
pub(crate) fn reading_order(boxes: &[BBox], em: f32, rtl: bool, policy: Columns) -> Vec<usize> {
    let mut out = Vec::with_capacity(boxes.len());
    let items: Vec<usize> = (0..boxes.len()).collect();
    let page = Page {
        boxes,
        em: em.max(1.0),
        rtl,
        policy,
    };
    cut(&page, items, 0, &mut out);
    out
}

/// Items whose heights differ by more than this factor never share a row.
const ROW_HEIGHT_RATIO: f32 = 3.0;

/// What every level of the cut shares.
struct Page<'a> {
    boxes: &'a [BBox],
    em: f32,
    rtl: bool,
    policy: Columns,
}

fn cut(page: &Page<'_>, mut items: Vec<usize>, depth: usize, out: &mut Vec<usize>) {
    let boxes = page.boxes;
    if items.len() <= 1 || depth >= MAX_DEPTH {
        row_order(boxes, &mut items);
        out.extend(items);
        return;
    }
    if let Some(mut parts) = vertical_cut(boxes, &items, page.em, page.policy) {
        if page.rtl {
            parts.reverse();
        }
        for p in parts {
            cut(page, p, depth + 1, out);
        }
        return;
    }
    if let Some(parts) = horizontal_cut(boxes, &items, page.em) {
        for p in parts {
            cut(page, p, depth + 1, out);
        }
        return;
    }
    row_order(boxes, &mut items);
    out.extend(items);
}

/// Top to bottom by line, then left to right within a line (items whose vertical extents
/// overlap by half their height share a line). An item several times taller than another (a
/// figure beside text) shares no line with it: otherwise every line beside the figure would
/// join the figure's row and be read left to right across the whole page.
fn row_order(boxes: &[BBox], items: &mut [usize]) {
    items.sort_by(|&a, &b| boxes[a].y0.total_cmp(&boxes[b].y0));
    let mut start = 0;
    while start < items.len() {
        let first = boxes[items[start]];
        let mut end = start + 1;
        while end < items.len() {
            let b = boxes[items[end]];
            let overlap = first.overlap_y(&b);
            let (short, tall) = (
                first.height().min(b.height()).max(0.1),
                first.height().max(b.height()),
            );
            if overlap < 0.5 * short || tall > ROW_HEIGHT_RATIO * short {
                break;
            }
            end += 1;
        }
        items[start..end].sort_by(|&a, &b| boxes[a].x0.total_cmp(&boxes[b].x0));
        start = end;
    }
}

/// Whitespace bands along one axis: (start, end) of gaps between the merged extents.
pub(crate) fn gaps(mut spans: Vec<(f32, f32)>) -> Vec<(f32, f32)> {
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut reach = f32::MIN;
    for (s, e) in spans {
        if reach != f32::MIN && s > reach {
            out.push((reach, s));
        }
        reach = reach.max(e);
    }
    out
}

fn vertical_cut(
    boxes: &[BBox],
    items: &[usize],
    em: f32,
    policy: Columns,
) -> Option<Vec<Vec<usize>>> {
    let region = BBox::union_all(items.iter().map(|&i| &boxes[i]))?;
    let bands = gaps(items.iter().map(|&i| (boxes[i].x0, boxes[i].x1)).collect());
    // The widest gutter first; accept the first that separates two column-like sides.
    let mut candidates: Vec<(f32, f32)> = bands
        .into_iter()
        .filter(|(s, e)| e - s >= 0.75 * em)
        .collect();
    candidates.sort_by(|a, b| (b.1 - b.0).total_cmp(&(a.1 - a.0)));
    for (s, e) in candidates {
        let mid = (s + e) / 2.0;
        let (left, right): (Vec<usize>, Vec<usize>) =
            items.iter().partition(|&&i| boxes[i].x1 <= mid);
        if left.is_empty() || right.is_empty() {
            continue;
        }
        if is_column_split(boxes, &left, &right, region.width(), policy) {
            return Some(vec![left, right]);
        }
    }
    None
}

/// Columns are wide, or, when narrow, do not line up row by row (that would be a form or a
/// table read across). Wide sides that line up row by row are still a form (a receipt's labels
/// and amounts) when their items are short pieces rather than lines that fill a column.
fn is_column_split(
    boxes: &[BBox],
    left: &[usize],
    right: &[usize],
    region_width: f32,
    policy: Columns,
) -> bool {
    let side_width = |side: &[usize]| {
        BBox::union_all(side.iter().map(|&i| &boxes[i])).map_or(0.0, |b| b.width())
    };
    let (left_width, right_width) = (side_width(left), side_width(right));
    let aligned_share = |from: &[usize], to: &[usize]| {
        let aligned = from
            .iter()
            .filter(|&&a| {
                to.iter().any(|&b| {
                    boxes[a].overlap_y(&boxes[b]) >= 0.5 * boxes[a].height().min(boxes[b].height())
                })
            })
            .count();
        aligned as f32 / from.len().max(1) as f32
    };
    // Text columns are mostly full lines; a form side is pieces of assorted widths.
    let full_share = |side: &[usize], width: f32| {
        let full = side
            .iter()
            .filter(|&&i| boxes[i].width() >= 0.85 * width)
            .count();
        full as f32 / side.len().max(1) as f32
    };
    // Ragged-right text fills few lines to the edge, but its lines are long and most of them
    // reach well across the column: that is running text, not a form's pieces.
    let running_text = |side: &[usize], width: f32| {
        let mut widths: Vec<f32> = side.iter().map(|&i| boxes[i].width()).collect();
        let mut aspect: Vec<f32> = side
            .iter()
            .map(|&i| boxes[i].width() / boxes[i].height().max(0.1))
            .collect();
        widths.sort_by(f32::total_cmp);
        aspect.sort_by(f32::total_cmp);
        let mid = side.len() / 2;
        side.len() >= 3
            && widths.get(mid).is_some_and(|&w| w >= 0.6 * width)
            && aspect.get(mid).is_some_and(|&a| a >= 12.0)
    };
    let text_columns = running_text(left, left_width) && running_text(right, right_width);
    let pieces = !text_columns
        && (full_share(left, left_width) < 0.5 || full_share(right, right_width) < 0.5);
    if policy == Columns::TextOnly {
        // Lines of running text are long for their height; amounts and codes are not, even
        // when a receipt's right-aligned amounts fill their side.
        let long_lines = |side: &[usize]| {
            let mut aspect: Vec<f32> = side
                .iter()
                .map(|&i| boxes[i].width() / boxes[i].height().max(0.1))
                .collect();
            aspect.sort_by(f32::total_cmp);
            aspect.get(aspect.len() / 2).is_some_and(|&a| a >= 8.0)
        };
        return !pieces && long_lines(left) && long_lines(right);
    }
    let tall_enough = left.len() >= 3 && right.len() >= 3;
    if left_width >= 0.25 * region_width && right_width >= 0.25 * region_width {
        let form = tall_enough
            && pieces
            && aligned_share(left, right) >= 0.6
            && aligned_share(right, left) >= 0.6;
        return !form;
    }
    // Narrow sides: a column of labels or bullets beside their text reads across.
    tall_enough && aligned_share(left, right) < 0.3
}

fn horizontal_cut(boxes: &[BBox], items: &[usize], em: f32) -> Option<Vec<Vec<usize>>> {
    let bands = gaps(items.iter().map(|&i| (boxes[i].y0, boxes[i].y1)).collect());
    let widest = bands.iter().map(|(s, e)| e - s).fold(0.0f32, f32::max);
    if widest <= 0.0 {
        return None;
    }
    // Cut at every band nearly as wide as the widest: uniform line spacing splits into lines at
    // once, while a title's larger gap is cut alone (keeping aligned columns beneath together).
    let threshold = (widest * 0.8).min(widest - 0.05 * em).max(0.0);
    let cuts: Vec<f32> = bands
        .iter()
        .filter(|(s, e)| e - s >= threshold)
        .map(|(s, e)| (s + e) / 2.0)
        .collect();
    let mut parts: Vec<Vec<usize>> = vec![Vec::new(); cuts.len() + 1];
    for &i in items {
        let (_, cy) = boxes[i].center();
        let slot = cuts.iter().take_while(|&&c| cy > c).count();
        parts[slot].push(i);
    }
    parts.retain(|p| !p.is_empty());
    (parts.len() > 1).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x0: f32, y0: f32, x1: f32, y1: f32) -> BBox {
        BBox::new(x0, y0, x1, y1)
    }

    #[test]
    fn two_columns_under_a_title_read_column_by_column() {
        // Title, then two columns with aligned baselines.
        let boxes = vec![
            b(50.0, 10.0, 550.0, 30.0),  // 0 title
            b(50.0, 60.0, 280.0, 70.0),  // 1 left line 1
            b(320.0, 60.0, 550.0, 70.0), // 2 right line 1
            b(50.0, 72.0, 280.0, 82.0),  // 3 left line 2
            b(320.0, 72.0, 550.0, 82.0), // 4 right line 2
            b(50.0, 84.0, 280.0, 94.0),  // 5 left line 3
            b(320.0, 84.0, 550.0, 94.0), // 6 right line 3
        ];
        assert_eq!(
            reading_order(&boxes, 10.0, false, Columns::Aligned),
            vec![0, 1, 3, 5, 2, 4, 6]
        );
        assert_eq!(
            reading_order(&boxes, 10.0, true, Columns::Aligned),
            vec![0, 2, 4, 6, 1, 3, 5]
        );
    }

    #[test]
    fn labels_beside_values_read_row_by_row() {
        let boxes = vec![
            b(50.0, 10.0, 100.0, 20.0),  // 0 "Name:"
            b(200.0, 10.0, 300.0, 20.0), // 1 value
            b(50.0, 30.0, 100.0, 40.0),  // 2 "Date:"
            b(200.0, 30.0, 300.0, 40.0), // 3 value
            b(50.0, 50.0, 100.0, 60.0),  // 4 "Total:"
            b(200.0, 50.0, 300.0, 60.0), // 5 value
        ];
        assert_eq!(
            reading_order(&boxes, 10.0, false, Columns::Aligned),
            vec![0, 1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn wide_label_and_amount_columns_read_row_by_row() {
        // A receipt: labels of assorted widths beside amounts, on shared rows; one value is a
        // long date, so both sides are wide enough to pass for columns.
        let rows = [(120.0, 40.0), (60.0, 130.0), (150.0, 45.0), (80.0, 40.0)];
        let mut boxes = Vec::new();
        for (row, (label_w, value_w)) in rows.into_iter().enumerate() {
            let y = 10.0 + row as f32 * 20.0;
            boxes.push(b(10.0, y, 10.0 + label_w, y + 10.0));
            boxes.push(b(300.0 - value_w, y, 300.0, y + 10.0));
        }
        assert_eq!(
            reading_order(&boxes, 10.0, false, Columns::Aligned),
            vec![0, 1, 2, 3, 4, 5, 6, 7]
        );
    }

    #[test]
    fn ocr_reads_names_above_their_amounts_row_by_row() {
        // Item names on one line, their amounts on the next, never level with each other.
        let mut boxes = Vec::new();
        for (item, name_width) in [70.0, 40.0, 55.0, 90.0].into_iter().enumerate() {
            let y = 10.0 + item as f32 * 40.0;
            boxes.push(b(10.0, y, 10.0 + name_width, y + 12.0));
            boxes.push(b(120.0, y + 20.0, 300.0, y + 32.0));
        }
        let in_rows: Vec<usize> = (0..8).collect();
        assert_eq!(
            reading_order(&boxes, 10.0, false, Columns::TextOnly),
            in_rows
        );
        assert_ne!(
            reading_order(&boxes, 10.0, false, Columns::Aligned),
            in_rows
        );
    }

    #[test]
    fn ocr_reads_two_text_columns_column_by_column() {
        let mut boxes = Vec::new();
        for line in 0..5 {
            let y = 10.0 + line as f32 * 14.0;
            boxes.push(b(10.0, y, 280.0, y + 10.0));
            boxes.push(b(320.0, y + 3.0, 590.0, y + 13.0));
        }
        let order = reading_order(&boxes, 10.0, false, Columns::TextOnly);
        assert_eq!(order, vec![0, 2, 4, 6, 8, 1, 3, 5, 7, 9]);
    }

    #[test]
    fn a_figure_beside_lines_does_not_pull_them_into_its_row() {
        // A sidebar figure as tall as the text, too close for a column gutter: the lines read
        // top to bottom, not left to right across the page.
        let boxes = [
            b(442.0, 202.0, 595.0, 648.0),
            b(71.0, 208.0, 437.0, 221.0),
            b(83.0, 230.0, 437.0, 243.0),
            b(71.0, 251.0, 437.0, 264.0),
        ];
        for rtl in [false, true] {
            let order = reading_order(&boxes, 13.0, rtl, Columns::Aligned);
            let lines: Vec<usize> = order.into_iter().filter(|&i| i != 0).collect();
            assert_eq!(lines, vec![1, 2, 3], "rtl {rtl}");
        }
    }

    #[test]
    fn ragged_two_columns_read_column_by_column() {
        // Left-aligned text: lines end at assorted widths, baselines level across the gutter.
        let widths = [230.0, 170.0, 185.0, 160.0, 225.0, 150.0];
        let mut boxes = Vec::new();
        for (line, w) in widths.into_iter().enumerate() {
            let y = 10.0 + line as f32 * 12.0;
            boxes.push(b(50.0, y, 50.0 + w, y + 10.0));
            boxes.push(b(320.0, y, 320.0 + widths[(line + 3) % 6], y + 10.0));
        }
        let order = reading_order(&boxes, 10.0, false, Columns::Aligned);
        assert_eq!(order, vec![0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]);
    }

    #[test]
    fn many_items_do_not_overflow() {
        let boxes: Vec<BBox> = (0..20_000)
            .map(|i| {
                b(
                    (i % 7) as f32 * 30.0,
                    i as f32 * 0.5,
                    (i % 7) as f32 * 30.0 + 5.0,
                    i as f32 * 0.5 + 0.4,
                )
            })
            .collect();
        assert_eq!(
            reading_order(&boxes, 10.0, false, Columns::Aligned).len(),
            boxes.len()
        );
    }
}
