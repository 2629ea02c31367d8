//! Spreadsheets through `calamine`: one page per sheet (hidden sheets as an option), headed by
//! the sheet's name. Each block of adjacent non-empty cells becomes a table (a lone cell, a
//! paragraph), merged cells as spans, values formatted as displayed (dates, percentages,
//! currencies, fixed decimals). Charts and pictures in a sheet's drawing become figures, a
//! chart with its data as a table; a chart sheet becomes a page holding its chart.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, SheetType, SheetVisible};
use folio_doc::{BBox, BlockKind, Cell, Document, Table};

use crate::build::DocBuilder;
use crate::package::{parse_xml, relationships, Package};
use crate::xml::{attr, local};
use crate::{Format, OfficeError, OfficeOptions};

/// A sheet's non-empty cells, by `(row, col)`, already formatted.
type Cells = HashMap<(u32, u32), String>;
/// A rectangle of cells: its first and last `(row, col)`.
type Area = ((u32, u32), (u32, u32));
/// A merged area.
type Merge = Area;
/// Cells read between two looks at the cancel flag and the deadline.
const CHECK_EVERY: usize = 1024;

/// Reads a workbook of the given format.
pub(crate) fn read(
    bytes: &[u8],
    format: Format,
    options: &OfficeOptions,
) -> Result<Document, OfficeError> {
    let name = format.name();
    let limits = options.limits;
    let spreadsheet = |source: calamine::Error| OfficeError::Spreadsheet {
        format: name,
        source,
    };
    let mut b = DocBuilder::new(
        name,
        options.filename.as_deref(),
        "spreadsheet: one page per sheet, no page geometry",
    );
    // The zip checks (bomb, ratio, members) run before calamine inflates anything.
    let mut pkg = match format {
        Format::Xlsx | Format::Ods => Some(Package::open(bytes, name, &limits)?),
        _ => None,
    };
    let drawings = match (format, pkg.as_mut()) {
        (Format::Xlsx, Some(p)) => sheet_drawings(p)?,
        _ => HashMap::new(),
    };
    if let (Format::Xlsx, Some(p)) = (format, pkg.as_mut()) {
        b.set_title(crate::docx::core_title(p)?);
    }
    let cursor = Cursor::new(bytes);
    match format {
        Format::Xlsx => {
            let mut wb = calamine::Xlsx::new(cursor).map_err(|e| spreadsheet(e.into()))?;
            let sheets = wb.sheets_metadata().to_vec();
            check_sheets(name, sheets.len(), options)?;
            for sheet in sheets {
                options.check(name)?;
                if !wanted(&sheet, options) {
                    continue;
                }
                b.start_page(0.0, 0.0);
                b.push(BlockKind::Heading { level: 2 }, &sheet.name);
                if sheet.typ == SheetType::WorkSheet {
                    let cells = xlsx_cells(&mut wb, &sheet.name, options)?;
                    let merges = wb
                        .merge_cells_by_sheet_name(&sheet.name)
                        .map_err(|e| spreadsheet(e.into()))?
                        .into_iter()
                        .map(|d| (d.start, d.end))
                        .collect::<Vec<_>>();
                    emit_regions(&mut b, &cells, &merges, name, options)?;
                }
                if let (Some(p), Some(parts)) = (pkg.as_mut(), drawings.get(&sheet.name)) {
                    for part in parts {
                        drawing(&mut b, p, part)?;
                    }
                }
            }
        }
        Format::Xls | Format::Ods => {
            let mut wb = calamine::open_workbook_auto_from_rs(cursor).map_err(spreadsheet)?;
            let sheets = wb.sheets_metadata().to_vec();
            check_sheets(name, sheets.len(), options)?;
            for sheet in sheets {
                options.check(name)?;
                if !wanted(&sheet, options) || sheet.typ != SheetType::WorkSheet {
                    continue;
                }
                b.start_page(0.0, 0.0);
                b.push(BlockKind::Heading { level: 2 }, &sheet.name);
                let range = wb.worksheet_range(&sheet.name).map_err(spreadsheet)?;
                let mut cells = Cells::new();
                let (r0, c0) = range.start().unwrap_or((0, 0));
                for (i, (r, c, v)) in range.used_cells().enumerate() {
                    if i.is_multiple_of(CHECK_EVERY) {
                        options.check(name)?;
                    }
                    if cells.len() as u64 >= limits.max_cells_per_sheet {
                        return Err(OfficeError::limit(
                            name,
                            "cells in a sheet",
                            cells.len() as u64 + 1,
                            limits.max_cells_per_sheet,
                        ));
                    }
                    let text = display_data(v, None);
                    if !text.trim().is_empty() {
                        cells.insert((r0 + r as u32, c0 + c as u32), text);
                    }
                }
                let merges = match &mut wb {
                    calamine::Sheets::Xls(x) => x
                        .merge_cells_by_sheet_name(&sheet.name)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|d| (d.start, d.end))
                        .collect(),
                    _ => Vec::new(),
                };
                emit_regions(&mut b, &cells, &merges, name, options)?;
            }
        }
        _ => {}
    }
    Ok(b.finish())
}

fn check_sheets(
    format: &'static str,
    n: usize,
    options: &OfficeOptions,
) -> Result<(), OfficeError> {
    let max = options.limits.max_sheets;
    if n > max {
        return Err(OfficeError::limit(format, "sheets", n as u64, max as u64));
    }
    Ok(())
}

fn wanted(sheet: &calamine::Sheet, options: &OfficeOptions) -> bool {
    matches!(sheet.typ, SheetType::WorkSheet | SheetType::ChartSheet)
        && (sheet.visible == SheetVisible::Visible || options.hidden_sheets)
}

/// The non-empty cells of an XLSX sheet, streamed (a sheet is never expanded to its dense
/// rectangle, which a single far-away cell could make enormous), formatted with the cell's
/// number format.
fn xlsx_cells(
    wb: &mut calamine::Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    options: &OfficeOptions,
) -> Result<Cells, OfficeError> {
    let err = |e: calamine::XlsxError| OfficeError::Spreadsheet {
        format: "xlsx",
        source: e.into(),
    };
    let max = options.limits.max_cells_per_sheet;
    let mut reader = wb.worksheet_cells_reader(sheet).map_err(err)?;
    let formats: Vec<Option<String>> = reader
        .styles()
        .iter()
        .map(|s| s.number_format.as_ref().map(|f| f.format_code.clone()))
        .collect();
    let mut cells = Cells::new();
    let mut seen: u64 = 0;
    while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(err)? {
        if seen.is_multiple_of(CHECK_EVERY as u64) {
            options.check("xlsx")?;
        }
        seen += 1;
        if seen > max {
            return Err(OfficeError::limit("xlsx", "cells in a sheet", seen, max));
        }
        let fmt = formats.get(style).and_then(|f| f.as_deref());
        let text = display_ref(cell.get_value(), fmt);
        if !text.trim().is_empty() {
            let (r, c) = cell.get_position();
            cells.insert((r, c), text);
        }
    }
    Ok(cells)
}

/// Splits a sheet into blocks of adjacent cells, as a reader sees separate tables: each group
/// of non-empty cells connected through their edges (a merged area counts as filled over its
/// whole extent) becomes one table over its bounding rectangle, in the order of the group's
/// first cell (row-major). A full-width merged title above a table becomes a paragraph, and a
/// lone cell a paragraph.
fn emit_regions(
    b: &mut DocBuilder,
    cells: &Cells,
    merges: &[Merge],
    format: &'static str,
    options: &OfficeOptions,
) -> Result<(), OfficeError> {
    // Merged areas over their whole extent (bounded: an area can be huge).
    let mut merged_at: HashMap<(u32, u32), usize> = HashMap::new();
    for (i, (s, e)) in merges.iter().enumerate() {
        let area = (e.0.saturating_sub(s.0) as u64 + 1) * (e.1.saturating_sub(s.1) as u64 + 1);
        if area > 10_000 || e.0 < s.0 || e.1 < s.1 {
            continue;
        }
        for r in s.0..=e.0 {
            for c in s.1..=e.1 {
                merged_at.insert((r, c), i);
            }
        }
    }
    let filled = |p: (u32, u32)| cells.contains_key(&p) || merged_at.contains_key(&p);
    let mut keys: Vec<(u32, u32)> = cells.keys().copied().collect();
    keys.sort_unstable();
    let mut visited: HashSet<(u32, u32)> = HashSet::new();
    for &start in &keys {
        if visited.contains(&start) {
            continue;
        }
        options.check(format)?;
        // Flood fill over edge neighbours.
        let (mut r0, mut c0, mut r1, mut c1) = (start.0, start.1, start.0, start.1);
        let mut stack = vec![start];
        visited.insert(start);
        while let Some((r, c)) = stack.pop() {
            r0 = r0.min(r);
            c0 = c0.min(c);
            r1 = r1.max(r);
            c1 = c1.max(c);
            let neighbours = [
                r.checked_sub(1).map(|r| (r, c)),
                r.checked_add(1).map(|r| (r, c)),
                c.checked_sub(1).map(|c| (r, c)),
                c.checked_add(1).map(|c| (r, c)),
            ];
            for n in neighbours.into_iter().flatten() {
                if filled(n) && visited.insert(n) {
                    stack.push(n);
                }
            }
        }
        region(
            b,
            cells,
            &keys,
            merges,
            &merged_at,
            &mut visited,
            ((r0, c0), (r1, c1)),
        );
    }
    Ok(())
}

/// Emits the cells inside one rectangle as a table (or a paragraph), marking them visited.
fn region(
    b: &mut DocBuilder,
    cells: &Cells,
    keys: &[(u32, u32)],
    merges: &[Merge],
    merged_at: &HashMap<(u32, u32), usize>,
    visited: &mut HashSet<(u32, u32)>,
    ((r, c), (r1, c1)): Area,
) {
    let mut table_cells = Vec::new();
    let mut covered: HashSet<(u32, u32)> = HashSet::new();
    // The cells inside, row by row from the sorted keys: scanning every cell of the sheet for
    // each region made a sheet of many small regions quadratic (10,000 lone cells took 6 s).
    let mut inside: Vec<(&(u32, u32), &String)> = Vec::new();
    for row in r..=r1 {
        let from = keys.partition_point(|k| *k < (row, c));
        for key in keys[from..].iter().take_while(|k| k.0 == row && k.1 <= c1) {
            if let Some(text) = cells.get(key) {
                inside.push((key, text));
            }
        }
    }
    for (&(cr, cc), text) in inside {
        visited.insert((cr, cc));
        if covered.contains(&(cr, cc)) {
            continue;
        }
        let (rs, cs) = merged_at
            .get(&(cr, cc))
            .map(|&i| merges[i])
            .filter(|(s, _)| *s == (cr, cc))
            .map_or((1, 1), |(s, e)| {
                (
                    (e.0 - s.0 + 1).min(r1 - cr + 1),
                    (e.1 - s.1 + 1).min(c1 - cc + 1),
                )
            });
        for dr in 0..rs {
            for dc in 0..cs {
                if (dr, dc) != (0, 0) {
                    covered.insert((cr + dr, cc + dc));
                }
            }
        }
        table_cells.push(Cell {
            row: cr - r,
            col: cc - c,
            row_span: rs,
            col_span: cs,
            text: text.clone(),
            bbox: None,
            header: cr == r,
        });
    }
    let (mut rows, cols) = (r1 - r + 1, c1 - c + 1);
    if table_cells.len() == 1 {
        b.push(BlockKind::Paragraph, &table_cells[0].text);
        return;
    }
    // A title merged across the whole width above at least two rows is not a table row.
    if rows >= 3 && cols > 1 {
        let first_row: Vec<&Cell> = table_cells.iter().filter(|x| x.row == 0).collect();
        if let [title] = first_row.as_slice() {
            if title.col_span == cols && title.row_span == 1 {
                b.push(BlockKind::Paragraph, &title.text);
                table_cells.retain(|x| x.row != 0);
                for x in &mut table_cells {
                    x.row -= 1;
                    x.header = x.row == 0;
                }
                rows -= 1;
            }
        }
    }
    b.push_table(
        Table {
            rows,
            cols,
            cells: table_cells,
        },
        BBox::default(),
    );
}

/// Sheet name → the drawing parts its cells anchor (pictures, charts).
fn sheet_drawings(pkg: &mut Package<'_>) -> Result<HashMap<String, Vec<String>>, OfficeError> {
    let mut out = HashMap::new();
    let limits = *pkg.limits();
    let Some(text) = pkg.read_text("xl/workbook.xml")? else {
        return Ok(out);
    };
    let doc = parse_xml(&text, "xlsx", "xl/workbook.xml", &limits)?;
    let rels = relationships(pkg, "xl/workbook.xml")?;
    for sheet in doc
        .descendants()
        .filter(|n| n.is_element() && local(*n) == "sheet")
    {
        let (Some(name), Some(rid)) = (
            attr(sheet, "name"),
            sheet
                .attributes()
                .find(|a| {
                    a.name() == "id" && a.namespace().is_some_and(|ns| ns.contains("relationships"))
                })
                .map(|a| a.value()),
        ) else {
            continue;
        };
        let Some(part) = rels
            .get(rid)
            .filter(|r| !r.external)
            .map(|r| r.target.clone())
        else {
            continue;
        };
        let drawings: Vec<String> = relationships(pkg, &part)?
            .into_values()
            .filter(|r| r.kind == "drawing" && !r.external)
            .map(|r| r.target)
            .collect();
        out.insert(name.to_string(), drawings);
    }
    Ok(out)
}

/// The pictures and charts of a drawing part, in anchor order.
fn drawing(b: &mut DocBuilder, pkg: &mut Package<'_>, part: &str) -> Result<(), OfficeError> {
    let limits = *pkg.limits();
    let Some(text) = pkg.read_text(part)? else {
        return Ok(());
    };
    let doc = parse_xml(&text, "xlsx", part, &limits)?;
    let rels = relationships(pkg, part)?;
    for anchor in doc.root_element().children().filter(|n| n.is_element()) {
        for n in anchor.descendants().filter(|n| n.is_element()) {
            match local(n) {
                "pic" => b.push(BlockKind::Figure, ""),
                "chart" => {
                    let target = n
                        .attributes()
                        .find(|a| a.name() == "id")
                        .and_then(|a| rels.get(a.value()))
                        .filter(|r| !r.external)
                        .map(|r| r.target.clone());
                    let chart = match target {
                        Some(t) => crate::chart::read(pkg, &t)?,
                        None => None,
                    };
                    if let Some(title) = chart.as_ref().and_then(|c| c.title.clone()) {
                        b.push(BlockKind::Caption, &title);
                    }
                    b.push(BlockKind::Figure, "");
                    if let Some(t) = chart.and_then(|c| c.table) {
                        b.push_table(t, BBox::default());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn display_ref(v: &DataRef<'_>, fmt: Option<&str>) -> String {
    match v {
        DataRef::Int(i) => display_number(*i as f64, fmt),
        DataRef::Float(f) => display_number(*f, fmt),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) => display_serial(d.as_f64(), fmt, d.is_duration()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

fn display_data(v: &Data, fmt: Option<&str>) -> String {
    match v {
        Data::Int(i) => display_number(*i as f64, fmt),
        Data::Float(f) => display_number(*f, fmt),
        Data::String(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => display_serial(d.as_f64(), fmt, d.is_duration()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}

/// A number as its format code shows it: percentages, currency symbols, thousands separators
/// and fixed decimals; "General" prints the shortest exact form.
pub(crate) fn display_number(v: f64, fmt: Option<&str>) -> String {
    let Some(fmt) = fmt.filter(|f| !f.eq_ignore_ascii_case("general") && !f.is_empty()) else {
        return general(v);
    };
    // Only the positive section of a multi-section format.
    let section = fmt.split(';').next().unwrap_or(fmt);
    // Quoted literals and escapes, bracketed colours/locales are not digits.
    let mut plain = String::new();
    let mut literal = String::new();
    let mut chars = section.chars().peekable();
    let mut prefix = String::new();
    let mut seen_digit = false;
    while let Some(ch) = chars.next() {
        match ch {
            '"' => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    literal.push(c);
                }
            }
            '\\' => {
                if let Some(c) = chars.next() {
                    literal.push(c);
                }
            }
            '[' => {
                // [$€-407] is a currency symbol; [Red] a colour.
                let inner: String = chars.by_ref().take_while(|&c| c != ']').collect();
                if let Some(sym) = inner.strip_prefix('$') {
                    literal.push_str(sym.split('-').next().unwrap_or(""));
                }
            }
            '_' | '*' => {
                chars.next();
            }
            _ => {
                plain.push(ch);
                if matches!(ch, '0' | '#' | '?') {
                    seen_digit = true;
                } else if !seen_digit && matches!(ch, '$' | '€' | '£' | '¥') {
                    literal.push(ch);
                }
            }
        }
        if !seen_digit && !literal.is_empty() {
            prefix.push_str(&literal);
            literal.clear();
        }
    }
    let lower = plain.to_ascii_lowercase();
    if lower.contains(['y', 'd'])
        || (lower.contains('m') && !lower.contains('0'))
        || lower.contains('h')
    {
        return display_serial(v, Some(fmt), false);
    }
    if !seen_digit {
        return general(v);
    }
    let percent = plain.contains('%');
    let value = if percent { v * 100.0 } else { v };
    let decimals = plain.split_once('.').map_or(0, |(_, d)| {
        d.chars()
            .take_while(|c| matches!(c, '0' | '#' | '?'))
            .count()
    });
    let thousands = plain.contains(',');
    // Excel rounds halves away from zero; `format!` rounds them to even.
    let scale = 10f64.powi(decimals.min(15) as i32);
    let mut s = format!("{:.*}", decimals, (value.abs() * scale).round() / scale);
    if thousands {
        let (int, frac) = s.split_once('.').map_or((s.clone(), None), |(i, f)| {
            (i.to_string(), Some(f.to_string()))
        });
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        s = match frac {
            Some(f) => format!("{grouped}.{f}"),
            None => grouped,
        };
    }
    let sign = if value < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    let symbol: String = prefix.chars().filter(|c| !c.is_whitespace()).collect();
    format!(
        "{sign}{symbol}{s}{}{}",
        if percent { "%" } else { "" },
        literal.trim_end()
    )
}

/// The shortest form of a number: integers without a decimal point.
fn general(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v}");
        // Floating noise from binary fractions (0.1 + 0.2): at most 10 significant decimals.
        let rounded = format!("{v:.10}");
        let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
        if trimmed.len() < s.len() {
            trimmed.to_string()
        } else {
            s
        }
    }
}

/// An Excel serial date (days since 1899-12-30) shown as ISO date, time or both, as the format
/// asks; durations as hours:minutes:seconds.
fn display_serial(v: f64, fmt: Option<&str>, duration: bool) -> String {
    if !v.is_finite() || !(-1.0e6..=3.0e6).contains(&v) {
        return general(v);
    }
    let secs_total = (v.fract().abs() * 86_400.0).round() as i64;
    let (h, m, s) = (secs_total / 3600, (secs_total / 60) % 60, secs_total % 60);
    if duration {
        let hours = (v.trunc() as i64) * 24 + h;
        return format!("{hours}:{m:02}:{s:02}");
    }
    let lower = fmt.unwrap_or("yyyy-mm-dd").to_ascii_lowercase();
    let has_date = lower.contains('y') || lower.contains('d') || v >= 1.0;
    let has_time = lower.contains('h') || lower.contains('s');
    let days = v.trunc() as i64;
    let (y, mo, d) = civil_from_days(days - 25_569);
    match (has_date, has_time) {
        (true, true) => format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}"),
        (false, true) => format!("{h:02}:{m:02}:{s:02}"),
        _ => format!("{y:04}-{mo:02}-{d:02}"),
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_as_formatted() {
        assert_eq!(display_number(120.0, None), "120");
        assert_eq!(display_number(0.1 + 0.2, Some("General")), "0.3");
        assert_eq!(display_number(0.256, Some("0.0%")), "25.6%");
        assert_eq!(display_number(1234.5, Some("#,##0.00")), "1,234.50");
        assert_eq!(display_number(1234.5, Some("\"$\"#,##0")), "$1,235");
        assert_eq!(display_number(-3.5, Some("[$€-407]#,##0.00")), "-€3.50");
        assert_eq!(display_number(45000.0, Some("yyyy-mm-dd")), "2023-03-15");
        assert_eq!(
            display_number(45000.5, Some("m/d/yy h:mm")),
            "2023-03-15 12:00:00"
        );
    }
}
