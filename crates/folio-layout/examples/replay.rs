//! Runs page layout on what `folio-pdf`'s `dump` example printed, and prints the blocks with
//! each table as a grid: `cargo run -p folio-layout --example replay DUMP`; with `--html DUMP...`
//! (one dump per page) it prints only the tables, as HTML, for `score.py --set tables`. A
//! development aid for table work: a layout change is measured in seconds, without building
//! the reader or the CLI. Fonts are not in the dump, so every glyph gets one regular font.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use folio_content::{FontInfo, Glyph, PageContent, Segment};
use folio_doc::{BBox, Source};

/// The text of a Rust debug string literal at the start of `s`, and what follows it.
fn debug_str(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 2..])),
            '\\' => match chars.next()?.1 {
                'u' => {
                    let hex: String = chars
                        .by_ref()
                        .map(|(_, c)| c)
                        .skip(1)
                        .take_while(|&c| c != '}')
                        .collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                'n' => out.push('\n'),
                't' => out.push('\t'),
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

fn nums(s: &str) -> Vec<f32> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|t| t.parse().ok())
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--html DUMP...`: the tables of all the pages as HTML, as `folio extract --format html`
    // writes them (for score.py).
    if args.first().is_some_and(|a| a == "--html") {
        for path in &args[1..] {
            for b in folio_layout::analyze_page(&read_dump(path)?, 1, Source::TextLayer) {
                if let Some(t) = &b.table {
                    println!("<table>");
                    for row in 0..t.rows {
                        let mut cells: Vec<_> = t.cells.iter().filter(|c| c.row == row).collect();
                        cells.sort_by_key(|c| c.col);
                        let mut line = String::from("<tr>");
                        for c in cells {
                            line.push_str(&format!(
                                "<td rowspan=\"{}\" colspan=\"{}\">{}</td>",
                                c.row_span,
                                c.col_span,
                                c.text.replace('&', "&amp;").replace('<', "&lt;")
                            ));
                        }
                        println!("{line}</tr>");
                    }
                    println!("</table>");
                }
            }
        }
        return Ok(());
    }
    let path = args.first().ok_or("usage: replay DUMP")?;
    let content = read_dump(path)?;
    print_page(&content);
    Ok(())
}

fn read_dump(path: &str) -> Result<PageContent, Box<dyn std::error::Error>> {
    let text = fs_read(path)?;
    let mut content = PageContent::empty(612.0, 792.0);
    let font = Arc::new(FontInfo {
        name: "replay".into(),
        bold: false,
        italic: false,
        monospace: false,
    });
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("page ") {
            let v = nums(&rest.replace('x', " "));
            if let [w, h, ..] = v[..] {
                content.width = w;
                content.height = h;
            }
        } else if let Some(rest) = line.strip_prefix("seg ") {
            if let [x0, y0, x1, y1] = nums(&rest.replace("->", " "))[..] {
                content.segments.push(Segment { x0, y0, x1, y1 });
            }
        } else if let Some(rest) = line.strip_prefix("img ") {
            let v =
                nums(&rest.replace(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'), " "));
            if let [x0, y0, x1, y1] = v[..] {
                content.images.push(BBox::new(x0, y0, x1, y1));
            }
        } else if let Some(rest) = line.strip_prefix("glyph ") {
            let Some((t, rest)) = debug_str(rest) else {
                continue;
            };
            let before_font = rest.split(" font ").next().unwrap_or("");
            let v = nums(&before_font.replace("size", " ").replace("angle", " "));
            let bold = rest.ends_with(" btrue ifalse") || rest.ends_with(" btrue itrue");
            if let [x0, y0, x1, y1, size, angle] = v[..] {
                let f = if bold {
                    Arc::new(FontInfo {
                        bold: true,
                        ..(*font).clone()
                    })
                } else {
                    Arc::clone(&font)
                };
                content.glyphs.push(Glyph {
                    text: t,
                    bbox: BBox::new(x0, y0, x1, y1),
                    size,
                    angle,
                    font: f,
                    seq: content.glyphs.len() as u32,
                });
            }
        }
    }
    Ok(content)
}

fn print_page(content: &PageContent) {
    for b in folio_layout::analyze_page(content, 1, Source::TextLayer) {
        match &b.table {
            Some(t) => {
                println!("TABLE {}x{} at {:?}", t.rows, t.cols, b.bbox);
                for c in &t.cells {
                    if c.row_span > 1 || c.col_span > 1 {
                        println!(
                            "  span r{} c{} {}x{} {:?}",
                            c.row, c.col, c.row_span, c.col_span, c.text
                        );
                    }
                }
                for row in t.grid() {
                    println!("  | {} |", row.join(" | "));
                }
            }
            None => println!(
                "{:?}: {}",
                b.kind,
                b.text.chars().take(100).collect::<String>()
            ),
        }
    }
}

fn fs_read(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}
