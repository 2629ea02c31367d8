//! Charts (DrawingML `c:chartSpace`, in PPTX and XLSX): the title and the cached data a chart
//! plots, as a table (categories down, series across), so a chart's numbers are not lost.

use folio_doc::{Cell, Table};
use roxmltree::Node;

use crate::build::collapse_ws;
use crate::package::{parse_xml, Package};
use crate::xml::{child, local};
use crate::OfficeError;

/// What a chart part holds.
pub(crate) struct Chart {
    pub title: Option<String>,
    pub table: Option<Table>,
}

/// Reads a chart part; `None` when the part is missing.
pub(crate) fn read(pkg: &mut Package<'_>, part: &str) -> Result<Option<Chart>, OfficeError> {
    let Some(text) = pkg.read_text(part)? else {
        return Ok(None);
    };
    let limits = *pkg.limits();
    let doc = parse_xml(&text, pkg.format(), part, &limits)?;
    let root = doc.root_element();
    let chart = child(root, "chart");
    let title = chart
        .and_then(|c| child(c, "title"))
        .map(|t| {
            t.descendants()
                .filter(|n| n.is_element() && local(*n) == "t")
                .filter_map(|n| n.text())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map(|t| collapse_ws(&t))
        .filter(|t| !t.is_empty());
    let mut categories: Vec<String> = Vec::new();
    let mut series: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(plot) = chart.and_then(|c| child(c, "plotArea")) {
        for ser in plot
            .descendants()
            .filter(|n| n.is_element() && local(*n) == "ser")
        {
            let name = child(ser, "tx")
                .map(|t| points(t).join(" "))
                .unwrap_or_default();
            if categories.is_empty() {
                if let Some(cat) = child(ser, "cat").or_else(|| child(ser, "xVal")) {
                    categories = points(cat);
                }
            }
            let values = child(ser, "val")
                .or_else(|| child(ser, "yVal"))
                .map(points)
                .unwrap_or_default();
            series.push((name, values));
        }
    }
    let table = (!series.is_empty()).then(|| {
        let rows = series
            .iter()
            .map(|(_, v)| v.len())
            .max()
            .unwrap_or(0)
            .max(categories.len());
        let cols = series.len() + 1;
        let mut cells = Vec::new();
        let mut put = |row: usize, col: usize, text: &str| {
            cells.push(Cell {
                row: row as u32,
                col: col as u32,
                row_span: 1,
                col_span: 1,
                text: text.to_string(),
                bbox: None,
                header: row == 0,
            });
        };
        put(0, 0, "");
        for (i, (name, _)) in series.iter().enumerate() {
            put(0, i + 1, name);
        }
        for r in 0..rows {
            put(r + 1, 0, categories.get(r).map_or("", String::as_str));
            for (i, (_, values)) in series.iter().enumerate() {
                put(r + 1, i + 1, values.get(r).map_or("", String::as_str));
            }
        }
        Table {
            rows: rows as u32 + 1,
            cols: cols as u32,
            cells,
        }
    });
    Ok(Some(Chart { title, table }))
}

/// The cached points under a reference (`c:strCache`/`c:numCache`/literals), by index.
fn points(node: Node<'_, '_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for pt in node
        .descendants()
        .filter(|n| n.is_element() && local(*n) == "pt")
    {
        let idx = pt
            .attributes()
            .find(|a| a.name() == "idx")
            .and_then(|a| a.value().parse::<usize>().ok())
            .unwrap_or(out.len())
            // A hostile index must not allocate millions of empty points.
            .min(100_000);
        let v = child(pt, "v")
            .and_then(|v| v.text())
            .unwrap_or("")
            .to_string();
        if out.len() <= idx {
            out.resize(idx + 1, String::new());
        }
        out[idx] = v;
    }
    out
}
