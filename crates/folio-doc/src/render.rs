//! Serializers: one function per output format, all reading the same [`Document`].
//!
//! Reading formats (Markdown, HTML) leave out page furniture (running headers and footers);
//! plain text keeps everything in reading order; JSON is the whole model; CSV is the tables.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::model::{Block, BlockKind, Document, Image, Table};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// GitHub-flavoured Markdown with pipe tables.
    Markdown,
    /// The whole document model as JSON (see `docs/json-schema.md`).
    Json,
    /// A standalone HTML5 document.
    Html,
    /// Plain text, blocks separated by blank lines.
    Text,
    /// Every table as RFC 4180 CSV, tables separated by a blank line.
    Csv,
    /// The fields asked of the document as one flat JSON object: name -> value (`null` when
    /// not found).
    Fields,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 6] = [
        Format::Markdown,
        Format::Json,
        Format::Html,
        Format::Text,
        Format::Csv,
        Format::Fields,
    ];

    /// The name used on the command line and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Json => "json",
            Format::Html => "html",
            Format::Text => "text",
            Format::Csv => "csv",
            Format::Fields => "fields",
        }
    }

    /// The media type of the rendered output.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Fields => "application/json",
        }
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown format {0:?} (expected markdown, json, html, text, csv or fields)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "text" | "txt" | "plain" => Ok(Format::Text),
            "csv" => Ok(Format::Csv),
            "fields" => Ok(Format::Fields),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Options shared by the serializers.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Mark page boundaries (Markdown: `<!-- page N -->`; text: a form feed).
    pub page_breaks: bool,
}

/// Renders the document in the given format.
pub fn render(doc: &Document, format: Format, options: RenderOptions) -> String {
    match format {
        Format::Markdown => markdown(doc, options),
        Format::Json => json(doc),
        Format::Html => html(doc),
        Format::Text => text(doc, options),
        Format::Csv => csv(doc),
        Format::Fields => fields(doc),
    }
}

/// The fields asked of the document as one flat JSON object (see [`crate::Fields::flat_json`]).
pub fn fields(doc: &Document) -> String {
    let mut s = doc.fields.flat_json();
    s.push('\n');
    s
}

/// The document model as pretty-printed JSON.
pub fn json(doc: &Document) -> String {
    // The model holds only strings, numbers, bools and enums: serialization cannot fail.
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|e| {
        format!(
            "{{\"error\":{{\"code\":\"internal\",\"message\":{:?}}}}}",
            e.to_string()
        )
    });
    s.push('\n');
    s
}

/// Markdown: headings, paragraphs, lists, pipe tables; figures as `<!-- image -->`.
pub fn markdown(doc: &Document, options: RenderOptions) -> String {
    let mut out = String::new();
    for page in &doc.pages {
        if options.page_breaks {
            push_separated(&mut out, &format!("<!-- page {} -->", page.number), false);
        }
        let mut prev_list = false;
        for block in page.blocks.iter().filter(|b| !b.kind.is_furniture()) {
            let is_list = matches!(block.kind, BlockKind::ListItem { .. });
            let piece = markdown_block(block);
            if piece.is_empty() {
                continue;
            }
            // Consecutive list items form one list: a single newline between them.
            push_separated(&mut out, &piece, is_list && prev_list);
            prev_list = is_list;
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn push_separated(out: &mut String, piece: &str, tight: bool) {
    if !out.is_empty() {
        out.push_str(if tight { "\n" } else { "\n\n" });
    }
    out.push_str(piece);
}

fn markdown_block(block: &Block) -> String {
    let text = block.text.trim();
    match block.kind {
        BlockKind::Heading { level } => {
            format!(
                "{} {}",
                "#".repeat(level.clamp(1, 6) as usize),
                escape_md_line(text)
            )
        }
        BlockKind::Paragraph | BlockKind::Caption => escape_md_line(text),
        BlockKind::ListItem {
            ordered: false,
            level,
        } => format!("{}- {}", list_indent(level), escape_md_line(text)),
        // The ordinal is part of the text ("1.", "a)") so the document's own numbering survives.
        BlockKind::ListItem {
            ordered: true,
            level,
        } => format!("{}{}", list_indent(level), escape_md_list_text(text)),
        BlockKind::Table => match &block.table {
            Some(t) => markdown_table(t),
            None => escape_md_line(text),
        },
        BlockKind::Figure => {
            let picture = match block.image.as_deref().and_then(image_src) {
                Some(src) => format!(
                    "![{}]({})",
                    escape_md_alt(block.caption.as_deref().unwrap_or("")),
                    md_link_target(&src)
                ),
                None => "<!-- image -->".to_string(),
            };
            if text.is_empty() {
                picture
            } else {
                format!("{picture}\n\n{}", escape_md_line(text))
            }
        }
        BlockKind::Formula => format!("$${text}$$"),
        BlockKind::Code => format!("```\n{}\n```", block.text.trim_end()),
        BlockKind::KeyValue => escape_md_line(text),
        BlockKind::PageHeader | BlockKind::PageFooter => String::new(),
    }
}

/// Where a figure's picture is: the file the CLI wrote, or its bytes as a `data:` URI.
fn image_src(image: &Image) -> Option<String> {
    use base64::Engine as _;
    match (&image.path, &image.data) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(data)) => Some(format!(
            "data:{};base64,{}",
            image.mime,
            base64::engine::general_purpose::STANDARD.encode(data)
        )),
        (None, None) => None,
    }
}

/// A caption as image alt text: one line, brackets escaped so the link stays a link.
fn escape_md_alt(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

/// A link destination: in angle brackets when it holds spaces or parentheses (CommonMark).
fn md_link_target(src: &str) -> String {
    if src.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", src.replace('<', "%3C").replace('>', "%3E"))
    } else {
        src.to_string()
    }
}

/// Four spaces per nesting level, as CommonMark nests list items.
fn list_indent(level: u8) -> String {
    " ".repeat(4 * level.min(10) as usize)
}

/// An ordered item's text starts with its ordinal ("1.", "a)"), which must stay list syntax.
fn escape_md_list_text(text: &str) -> String {
    let ordinal_end = text
        .find(|c: char| c.is_whitespace())
        .filter(|&i| text[..i].ends_with(['.', ')']));
    match ordinal_end {
        Some(i) => format!("{}{}", &text[..i], escape_md_line(&text[i..])),
        None => escape_md_line(text),
    }
}

/// Keeps text from being read as Markdown syntax where it would change meaning: a leading `#`,
/// `>` or list marker, and HTML-like `<`.
fn escape_md_line(text: &str) -> String {
    // Literal emphasis characters would otherwise start italics or bold (a form's "_____").
    let mut s = text
        .replace('\\', "\\\\")
        .replace('_', "\\_")
        .replace('*', "\\*")
        .replace('<', "&lt;");
    let starts_like_syntax = s.starts_with('#')
        || s.starts_with('>')
        || s.starts_with("- ")
        || s.starts_with("* ")
        || s.starts_with("+ ");
    if starts_like_syntax {
        s.insert(0, '\\');
    }
    s
}

fn markdown_table(table: &Table) -> String {
    // Markdown cannot span cells: a spanning cell's text is repeated in every position it covers,
    // so each row reads whole (the convention docling's Markdown follows too).
    let grid = table.spanned_grid();
    if grid.is_empty() || table.cols == 0 {
        return String::new();
    }
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let row_line = |row: &[String]| {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut out = String::new();
    let mut rows = grid.iter();
    // Markdown requires a header row; use the first row whether or not it was flagged.
    if let Some(first) = rows.next() {
        out.push_str(&row_line(first));
        out.push('\n');
        out.push_str(&format!("|{}", " --- |".repeat(table.cols as usize)));
    }
    for row in rows {
        out.push('\n');
        out.push_str(&row_line(row));
    }
    out
}

/// Plain text: every block (furniture included) in reading order, blank line between blocks;
/// table rows as tab-separated cells.
pub fn text(doc: &Document, options: RenderOptions) -> String {
    let mut out = String::new();
    for (i, page) in doc.pages.iter().enumerate() {
        if i > 0 && options.page_breaks {
            out.push('\u{000C}');
        }
        for block in &page.blocks {
            let piece = match (&block.kind, &block.table) {
                (BlockKind::Table, Some(t)) => t
                    .grid()
                    .iter()
                    .map(|r| r.join("\t"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                // The bullet was taken off the text; plain text keeps the item a list item.
                (BlockKind::ListItem { ordered: false, .. }, _) => {
                    format!("- {}", block.text.trim_end())
                }
                _ => block.text.trim_end().to_string(),
            };
            if piece.is_empty() {
                continue;
            }
            if !out.is_empty() && !out.ends_with('\u{000C}') {
                out.push_str("\n\n");
            }
            out.push_str(&piece);
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Every table as CSV (RFC 4180), one blank line between tables. Empty when there are none.
pub fn csv(doc: &Document) -> String {
    let mut out = String::new();
    for (i, (_, table)) in doc.tables().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for row in table.spanned_grid() {
            let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A standalone HTML5 document.
pub fn html(doc: &Document) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    let title = doc
        .metadata
        .title
        .as_deref()
        .or(doc.metadata.filename.as_deref())
        .unwrap_or("Document");
    let _ = writeln!(
        out,
        "<title>{}</title>\n</head>\n<body>",
        escape_html(title)
    );
    for page in &doc.pages {
        let _ = writeln!(
            out,
            "<section class=\"page\" data-page=\"{}\">",
            page.number
        );
        let mut open_list: Option<bool> = None;
        for block in page.blocks.iter().filter(|b| !b.kind.is_furniture()) {
            let this_list = match block.kind {
                BlockKind::ListItem { ordered, .. } => Some(ordered),
                _ => None,
            };
            if open_list != this_list {
                if let Some(ordered) = open_list {
                    out.push_str(if ordered { "</ol>\n" } else { "</ul>\n" });
                }
                if let Some(ordered) = this_list {
                    out.push_str(if ordered { "<ol>\n" } else { "<ul>\n" });
                }
                open_list = this_list;
            }
            html_block(&mut out, block);
        }
        if let Some(ordered) = open_list {
            out.push_str(if ordered { "</ol>\n" } else { "</ul>\n" });
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn html_block(out: &mut String, block: &Block) {
    let text = escape_html(block.text.trim());
    match block.kind {
        BlockKind::Heading { level } => {
            let l = level.clamp(1, 6);
            let _ = writeln!(out, "<h{l}>{text}</h{l}>");
        }
        BlockKind::Paragraph => {
            let _ = writeln!(out, "<p>{text}</p>");
        }
        BlockKind::ListItem { .. } => {
            let _ = writeln!(out, "<li>{text}</li>");
        }
        BlockKind::Caption => {
            let _ = writeln!(out, "<p class=\"caption\">{text}</p>");
        }
        BlockKind::Figure => match block.image.as_deref().and_then(image_src) {
            Some(src) => {
                let _ = writeln!(
                    out,
                    "<figure><img src=\"{}\" alt=\"{}\">{text}</figure>",
                    escape_html(&src),
                    escape_html(block.caption.as_deref().unwrap_or(""))
                );
            }
            None => {
                let _ = writeln!(out, "<figure>{text}</figure>");
            }
        },
        BlockKind::Formula => {
            let _ = writeln!(out, "<div class=\"formula\">{text}</div>");
        }
        BlockKind::Code => {
            let _ = writeln!(out, "<pre><code>{text}</code></pre>");
        }
        BlockKind::KeyValue => match &block.key_value {
            Some(kv) => {
                let _ = writeln!(
                    out,
                    "<p class=\"key-value\"><span class=\"key\">{}</span>: <span class=\"value\">{}</span></p>",
                    escape_html(&kv.key),
                    escape_html(&kv.value)
                );
            }
            None => {
                let _ = writeln!(out, "<p>{text}</p>");
            }
        },
        BlockKind::Table => match &block.table {
            Some(t) => html_table(out, t),
            None => {
                let _ = writeln!(out, "<p>{text}</p>");
            }
        },
        BlockKind::PageHeader | BlockKind::PageFooter => {}
    }
}

fn html_table(out: &mut String, table: &Table) {
    out.push_str("<table>\n");
    for row in 0..table.rows {
        out.push_str("<tr>");
        let mut cells: Vec<_> = table.cells.iter().filter(|c| c.row == row).collect();
        cells.sort_by_key(|c| c.col);
        for c in cells {
            let tag = if c.header { "th" } else { "td" };
            out.push('<');
            out.push_str(tag);
            if c.row_span > 1 {
                let _ = write!(out, " rowspan=\"{}\"", c.row_span);
            }
            if c.col_span > 1 {
                let _ = write!(out, " colspan=\"{}\"", c.col_span);
            }
            let _ = write!(out, ">{}</{tag}>", escape_html(&c.text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn prov() -> Provenance {
        Provenance {
            page: 1,
            source: Source::TextLayer,
        }
    }

    fn block(kind: BlockKind, text: &str) -> Block {
        Block {
            kind,
            bbox: BBox::default(),
            text: text.to_string(),
            lines: vec![],
            table: None,
            key_value: None,
            caption: None,
            image: None,
            links: Vec::new(),
            provenance: prov(),
        }
    }

    fn sample() -> Document {
        let table = Table {
            rows: 2,
            cols: 2,
            cells: vec![
                Cell {
                    row: 0,
                    col: 0,
                    row_span: 1,
                    col_span: 1,
                    text: "a|b".into(),
                    bbox: None,
                    header: true,
                },
                Cell {
                    row: 0,
                    col: 1,
                    row_span: 1,
                    col_span: 1,
                    text: "say \"hi\", ok".into(),
                    bbox: None,
                    header: true,
                },
                Cell {
                    row: 1,
                    col: 0,
                    row_span: 1,
                    col_span: 2,
                    text: "<b>".into(),
                    bbox: None,
                    header: false,
                },
            ],
        };
        let mut doc = Document::new(Metadata {
            filename: Some("x.pdf".into()),
            format: "pdf".into(),
            page_count: 1,
            title: None,
        });
        doc.pages.push(Page {
            number: 1,
            width: 600.0,
            height: 800.0,
            rotation: 0,
            blocks: vec![
                block(BlockKind::PageHeader, "Running head"),
                block(BlockKind::Heading { level: 2 }, "Intro"),
                block(BlockKind::Paragraph, "# not a heading"),
                block(
                    BlockKind::ListItem {
                        ordered: false,
                        level: 0,
                    },
                    "one",
                ),
                block(
                    BlockKind::ListItem {
                        ordered: false,
                        level: 1,
                    },
                    "two",
                ),
                Block::from_table(table, BBox::default(), prov()),
            ],
            provenance: PageProvenance::new(Source::TextLayer, "text layer"),
        });
        doc
    }

    #[test]
    fn markdown_renders_structure_and_skips_furniture() {
        let md = markdown(&sample(), RenderOptions::default());
        assert_eq!(
            md,
            "## Intro\n\n\\# not a heading\n\n- one\n    - two\n\n| a\\|b | say \"hi\", ok |\n| --- | --- |\n| &lt;b> | &lt;b> |\n"
                .replace("&lt;b>", "<b>")
        );
    }

    #[test]
    fn csv_quotes_fields_that_need_it() {
        assert_eq!(csv(&sample()), "a|b,\"say \"\"hi\"\", ok\"\r\n<b>,<b>\r\n");
    }

    #[test]
    fn html_escapes_and_spans() {
        let h = html(&sample());
        assert!(h.contains("<td colspan=\"2\">&lt;b&gt;</td>"), "{h}");
        assert!(h.contains("<ul>\n<li>one</li>\n<li>two</li>\n</ul>"), "{h}");
        assert!(!h.contains("Running head"));
    }

    #[test]
    fn text_keeps_furniture_and_tabs_tables() {
        let t = text(&sample(), RenderOptions::default());
        assert!(t.starts_with("Running head\n\nIntro"));
        assert!(t.contains("a|b\tsay \"hi\", ok\n<b>\t"));
    }

    #[test]
    fn json_round_trips() {
        let doc = sample();
        let back: Document = serde_json::from_str(&json(&doc)).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn format_names_parse() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert!("pdf".parse::<Format>().is_err());
    }

    fn figure_page(image: Option<Image>) -> Document {
        let image = image.map(Box::new);
        let mut doc = sample();
        let page = &mut doc.pages[0];
        page.blocks = vec![
            block(BlockKind::Figure, ""),
            block(BlockKind::Caption, "Figure 1: A [boxed] plot"),
        ];
        page.link_figure_captions();
        page.blocks[0].image = image;
        doc
    }

    #[test]
    fn figures_without_pictures_render_as_before() {
        let doc = figure_page(None);
        assert_eq!(
            doc.pages[0].blocks[0].caption.as_deref(),
            Some("Figure 1: A [boxed] plot")
        );
        assert_eq!(
            markdown(&doc, RenderOptions::default()),
            "<!-- image -->\n\nFigure 1: A [boxed] plot\n"
        );
        assert!(html(&doc).contains("<figure></figure>"));
        // The caption is in the JSON; no image member at all.
        let v: serde_json::Value = serde_json::from_str(&json(&doc)).unwrap();
        let fig = &v["pages"][0]["blocks"][0];
        assert_eq!(fig["caption"], "Figure 1: A [boxed] plot");
        assert!(fig.get("image").is_none());
    }

    #[test]
    fn figures_link_their_written_picture_or_inline_bytes() {
        let written = figure_page(Some(Image {
            path: Some("out dir/page-1-figure-1.png".into()),
            data: None,
            mime: "image/png".into(),
            width: 40,
            height: 30,
        }));
        let md = markdown(&written, RenderOptions::default());
        assert!(
            md.starts_with("![Figure 1: A \\[boxed\\] plot](<out dir/page-1-figure-1.png>)\n"),
            "{md}"
        );
        assert!(html(&written).contains(
            "<figure><img src=\"out dir/page-1-figure-1.png\" alt=\"Figure 1: A [boxed] plot\"></figure>"
        ));
        let inline = figure_page(Some(Image {
            path: None,
            data: Some(vec![0x89, b'P', b'N', b'G']),
            mime: "image/png".into(),
            width: 1,
            height: 1,
        }));
        assert!(markdown(&inline, RenderOptions::default())
            .contains("(data:image/png;base64,iVBORw==)"));
        let v: serde_json::Value = serde_json::from_str(&json(&inline)).unwrap();
        let image = &v["pages"][0]["blocks"][0]["image"];
        assert_eq!(image["data"], "iVBORw==");
        assert_eq!(image["mime"], "image/png");
        assert_eq!(image["width"], 1);
        assert!(image.get("path").is_none());
        let back: Document = serde_json::from_str(&json(&inline)).unwrap();
        assert_eq!(back, inline);
    }

    #[test]
    fn a_caption_before_a_figure_is_its_own_unless_the_figure_above_took_it() {
        let mut page = sample().pages.remove(0);
        page.blocks = vec![
            block(BlockKind::Figure, ""),
            block(BlockKind::Caption, "Figure 1: first"),
            block(BlockKind::Figure, ""),
            block(BlockKind::Paragraph, "text"),
            block(BlockKind::Caption, "Figure 3: third"),
            block(BlockKind::Figure, ""),
            block(BlockKind::Caption, "Table 2: not a figure's"),
        ];
        page.link_figure_captions();
        let captions: Vec<Option<&str>> = page
            .blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Figure)
            .map(|b| b.caption.as_deref())
            .collect();
        assert_eq!(
            captions,
            [Some("Figure 1: first"), None, Some("Figure 3: third")]
        );
    }
}
