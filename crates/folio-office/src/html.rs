//! HTML through `scraper` (html5ever's tree builder): headings, paragraphs, nested lists,
//! tables with spans, code, figures. Nothing is ever fetched: images and links stay references.

use ego_tree::NodeRef;
use folio_doc::{BBox, BlockKind, Document, Link};
use scraper::{Html, Node};

use crate::build::{link, DocBuilder, TableBuilder};
use crate::media::FigureSource;
use crate::{OfficeError, OfficeOptions};

const FORMAT: &str = "html";

/// Elements whose content is never text of the document: code, styling, navigation, widgets.
fn skipped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "nav"
            | "iframe"
            | "object"
            | "embed"
            | "svg"
            | "canvas"
            | "button"
            | "select"
            | "input"
            | "textarea"
            | "map"
            | "audio"
            | "video"
    )
}

/// Elements that start and end a block of text.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "header"
            | "footer"
            | "aside"
            | "blockquote"
            | "figure"
            | "figcaption"
            | "details"
            | "summary"
            | "dl"
            | "dt"
            | "dd"
            | "form"
            | "fieldset"
            | "legend"
            | "address"
            | "center"
            | "hr"
            | "body"
            | "html"
            | "caption"
            | "tr"
            | "td"
            | "th"
    )
}

fn hidden(el: &scraper::node::Element) -> bool {
    el.attr("hidden").is_some()
        || el.attr("role") == Some("navigation")
        || el.attr("aria-hidden") == Some("true")
        || el.attr("style").is_some_and(|s| {
            s.replace(' ', "")
                .to_ascii_lowercase()
                .contains("display:none")
        })
}

/// The character set a document declares in a `<meta>` within its first 1024 bytes.
fn declared_charset(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let label: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    encoding_rs::Encoding::for_label(label.as_bytes())
}

struct Reader<'o> {
    b: DocBuilder,
    buf: String,
    /// What the buffered text becomes when flushed (a list item waiting for its text).
    pending: Option<BlockKind>,
    /// Nesting of lists: the next ordinal of each (None for bulleted).
    lists: Vec<Option<u64>>,
    /// Inside a list item (block elements there join the item's text, as browsers show it).
    in_item: usize,
    /// Hyperlinks in the buffered text.
    links: Vec<Link>,
    /// Blocks flushed so far, to tell whether a link's text is still whole in `buf`.
    flushes: u64,
    options: &'o OfficeOptions,
}

/// Reads an HTML document.
pub(crate) fn read(bytes: &[u8], options: &OfficeOptions) -> Result<Document, OfficeError> {
    let text = crate::text::decode_with(bytes, declared_charset(bytes))?;
    // html5ever's tree builder is quadratic in nesting depth (20,000 nested elements take
    // seconds): refuse a document nested past the limit before parsing it.
    let depth = estimated_depth(&text);
    let max = options.limits.max_depth;
    if depth > max {
        return Err(OfficeError::limit(
            FORMAT,
            "element nesting",
            depth as u64,
            max as u64,
        ));
    }
    let html = Html::parse_document(&text);
    let mut r = Reader {
        b: DocBuilder::new(
            FORMAT,
            options.filename.as_deref(),
            "html: no page geometry",
        ),
        buf: String::new(),
        pending: None,
        lists: Vec::new(),
        in_item: 0,
        links: Vec::new(),
        flushes: 0,
        options,
    };
    let title = html
        .root_element()
        .descendants()
        .filter_map(|n| n.value().as_element().map(|e| (n, e)))
        .find(|(_, e)| e.name() == "title")
        .map(|(n, _)| {
            flat_text(n, 0, options.limits.max_depth)
                .map(|(t, _)| t)
                .unwrap_or_default()
        });
    r.b.set_title(title.map(|t| crate::build::collapse_ws(&t)));
    r.b.start_page(0.0, 0.0);
    r.walk(*html.root_element(), 0)?;
    r.flush();
    r.b.finish_with_images(options, |_| Ok(None))
}

impl Reader<'_> {
    /// Where an `img`'s picture is: a `data:` URI's bytes (decoded only when pictures are asked
    /// for, and only when the URI is within the picture budget), or a link, never fetched.
    fn picture(&self, src: &str) -> FigureSource {
        if !self.options.images {
            return FigureSource::External;
        }
        let limit = self.options.limits.max_image_bytes;
        // Base64 takes 4 characters for 3 bytes.
        if src.len() as u64 / 4 * 3 > limit {
            return FigureSource::Refused(format!(
                "its data: URI is over the budget of {limit} bytes"
            ));
        }
        match crate::media::data_uri(src) {
            Some(bytes) => FigureSource::Bytes(bytes),
            None => FigureSource::External,
        }
    }

    fn flush(&mut self) {
        let kind = self.pending.take().unwrap_or(BlockKind::Paragraph);
        let links = std::mem::take(&mut self.links);
        if !self.buf.trim().is_empty() {
            self.b.push_linked(kind, &self.buf, BBox::default(), links);
        }
        self.buf.clear();
        self.flushes += 1;
    }

    fn walk(&mut self, node: NodeRef<'_, Node>, depth: usize) -> Result<(), OfficeError> {
        let max = self.options.limits.max_depth;
        if depth > max {
            return Err(OfficeError::limit(
                FORMAT,
                "element nesting",
                depth as u64,
                max as u64,
            ));
        }
        match node.value() {
            Node::Text(t) => {
                self.buf.push_str(t);
                Ok(())
            }
            Node::Element(el) => self.element(node, el, depth),
            Node::Document | Node::Fragment => self.children(node, depth),
            _ => Ok(()),
        }
    }

    fn children(&mut self, node: NodeRef<'_, Node>, depth: usize) -> Result<(), OfficeError> {
        self.options.check(FORMAT)?;
        for child in node.children() {
            self.walk(child, depth + 1)?;
        }
        Ok(())
    }

    fn element(
        &mut self,
        node: NodeRef<'_, Node>,
        el: &scraper::node::Element,
        depth: usize,
    ) -> Result<(), OfficeError> {
        let name = el.name();
        if skipped(name) || hidden(el) {
            return Ok(());
        }
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                let level = name.as_bytes()[1] - b'0';
                let (text, links) = flat_text(node, depth, self.options.limits.max_depth)?;
                self.b
                    .push_linked(BlockKind::Heading { level }, &text, BBox::default(), links);
            }
            "br" => self.buf.push('\n'),
            "pre" => {
                self.flush();
                let text = raw_text(node, depth, self.options.limits.max_depth)?;
                self.b.push(BlockKind::Code, &text);
            }
            "img" => {
                self.flush();
                let source = el.attr("src").map(|src| self.picture(src));
                self.b.push_figure(BBox::default(), source);
            }
            "table" => {
                self.flush();
                let (table, links) = self.table(node, depth)?;
                self.b.push_table_linked(table, BBox::default(), links);
            }
            "a" => {
                let (start, flushes) = (self.buf.len(), self.flushes);
                self.children(node, depth)?;
                if let Some(href) = el.attr("href") {
                    // A block inside the link flushed part of its text: read it again whole.
                    let text = if self.flushes == flushes {
                        self.buf.get(start..).unwrap_or("").to_string()
                    } else {
                        flat_text(node, depth, self.options.limits.max_depth)?.0
                    };
                    self.links.extend(link(&text, href));
                }
            }
            "ul" | "ol" | "menu" => {
                self.flush();
                if self.lists.len() >= self.options.limits.max_depth {
                    return Err(OfficeError::limit(
                        FORMAT,
                        "list nesting",
                        self.lists.len() as u64,
                        self.options.limits.max_depth as u64,
                    ));
                }
                let start = el
                    .attr("start")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(1);
                self.lists.push((name == "ol").then_some(start));
                // A list inside an item is its own list, not more text of the item.
                let saved = std::mem::take(&mut self.in_item);
                self.children(node, depth)?;
                self.in_item = saved;
                self.flush();
                self.lists.pop();
            }
            "li" => {
                self.flush();
                let level = self.lists.len().saturating_sub(1).min(u8::MAX as usize) as u8;
                let ordered = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let value = el
                            .attr("value")
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(*n);
                        self.buf.push_str(&format!("{value}. "));
                        *n = value + 1;
                        true
                    }
                    _ => false,
                };
                self.pending = Some(BlockKind::ListItem { ordered, level });
                self.in_item += 1;
                self.children(node, depth)?;
                self.in_item -= 1;
                self.flush();
            }
            _ if is_block(name) => {
                if self.in_item == 0 {
                    self.flush();
                    self.children(node, depth)?;
                    self.flush();
                } else {
                    self.buf.push(' ');
                    self.children(node, depth)?;
                    self.buf.push(' ');
                }
            }
            _ => self.children(node, depth)?,
        }
        Ok(())
    }

    /// A table's own rows (not those of tables nested in its cells), with row and column spans.
    fn table(
        &self,
        node: NodeRef<'_, Node>,
        depth: usize,
    ) -> Result<(folio_doc::Table, Vec<Link>), OfficeError> {
        let max = self.options.limits.max_depth;
        let mut t = TableBuilder::new(self.options.limits.max_cells_per_sheet as usize);
        let mut links = Vec::new();
        let mut rows: Vec<(NodeRef<'_, Node>, bool)> = Vec::new();
        for child in node.children() {
            let Some(el) = child.value().as_element() else {
                continue;
            };
            match el.name() {
                "tr" => rows.push((child, false)),
                "thead" | "tbody" | "tfoot" => {
                    for row in child.children() {
                        if row.value().as_element().is_some_and(|e| e.name() == "tr") {
                            rows.push((row, el.name() == "thead"));
                        }
                    }
                }
                _ => {}
            }
        }
        for (row, in_head) in rows {
            self.options.check(FORMAT)?;
            t.start_row();
            for cell in row.children() {
                let Some(el) = cell.value().as_element() else {
                    continue;
                };
                if !matches!(el.name(), "td" | "th") {
                    continue;
                }
                let span = |a: &str| {
                    el.attr(a)
                        .and_then(|v| v.trim().parse::<u32>().ok())
                        .unwrap_or(1)
                };
                let (text, cell_links) = flat_text(cell, depth + 2, max)?;
                links.extend(cell_links);
                let text = crate::build::collapse_ws(&text);
                if !t.cell(
                    text,
                    span("rowspan"),
                    span("colspan"),
                    in_head || el.name() == "th",
                ) {
                    return Err(OfficeError::limit(
                        FORMAT,
                        "table cells",
                        self.options.limits.max_cells_per_sheet,
                        self.options.limits.max_cells_per_sheet,
                    ));
                }
            }
        }
        Ok((t.finish(), links))
    }
}

/// An upper estimate of the element nesting of a document from its tags alone: start tags of
/// elements that need an end tag open a level, end tags close one. Void elements and those whose
/// end tag is optional (`p`, `li`, `td`...) are not counted; comments and the bodies of scripts and
/// styles are skipped.
fn estimated_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
        i += off + 1;
        if bytes[i..].starts_with(b"!--") {
            i = find(bytes, i, b"-->");
            continue;
        }
        let close = bytes.get(i) == Some(&b'/');
        let start = if close { i + 1 } else { i };
        let end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(bytes.len(), |p| start + p);
        if end == start {
            continue;
        }
        let name = text[start..end].to_ascii_lowercase();
        let tag_end = find(bytes, end, b">");
        let self_closed = tag_end >= 2 && bytes.get(tag_end - 2) == Some(&b'/');
        i = tag_end;
        let counted = !matches!(
            name.as_str(),
            "area"
                | "base"
                | "br"
                | "col"
                | "embed"
                | "hr"
                | "img"
                | "input"
                | "link"
                | "meta"
                | "source"
                | "track"
                | "wbr"
                | "param"
                | "p"
                | "li"
                | "dt"
                | "dd"
                | "tr"
                | "td"
                | "th"
                | "option"
                | "optgroup"
                | "thead"
                | "tbody"
                | "tfoot"
                | "colgroup"
                | "rb"
                | "rt"
                | "rp"
                | "html"
                | "head"
                | "body"
        );
        if !close && matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
            // Their content is text: skip past the end tag.
            i = find(bytes, i, format!("</{name}").as_bytes());
            continue;
        }
        if !counted || self_closed {
            continue;
        }
        if close {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

/// The index just past the first `needle` at or after `from` (the end when absent).
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| {
            rest.windows(needle.len())
                .position(|w| w.eq_ignore_ascii_case(needle))
        })
        .map_or(bytes.len(), |p| from + p + needle.len())
}

/// The text of a subtree as one line (blocks separated by spaces, list items marked), and the
/// hyperlinks in it.
fn flat_text(
    node: NodeRef<'_, Node>,
    depth: usize,
    max: usize,
) -> Result<(String, Vec<Link>), OfficeError> {
    let mut out = String::new();
    let mut links = Vec::new();
    flat_into(node, depth, max, &mut out, &mut links)?;
    Ok((out, links))
}

fn flat_into(
    node: NodeRef<'_, Node>,
    depth: usize,
    max: usize,
    out: &mut String,
    links: &mut Vec<Link>,
) -> Result<(), OfficeError> {
    if depth > max {
        return Err(OfficeError::limit(
            FORMAT,
            "element nesting",
            depth as u64,
            max as u64,
        ));
    }
    match node.value() {
        Node::Text(t) => out.push_str(t),
        Node::Element(el) => {
            if skipped(el.name()) || hidden(el) {
                return Ok(());
            }
            let block = is_block(el.name())
                || matches!(
                    el.name(),
                    "li" | "ul"
                        | "ol"
                        | "table"
                        | "br"
                        | "pre"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                );
            if block {
                out.push(' ');
            }
            if el.name() == "li" {
                out.push_str("- ");
            }
            let start = out.len();
            for child in node.children() {
                flat_into(child, depth + 1, max, out, links)?;
            }
            if let Some(href) = el.attr("href").filter(|_| el.name() == "a") {
                links.extend(link(&out[start..], href));
            }
            if block {
                out.push(' ');
            }
        }
        _ => {
            for child in node.children() {
                flat_into(child, depth + 1, max, out, links)?;
            }
        }
    }
    Ok(())
}

/// The text of a `<pre>` as written (newlines kept), hidden parts left out.
fn raw_text(node: NodeRef<'_, Node>, depth: usize, max: usize) -> Result<String, OfficeError> {
    fn go(
        node: NodeRef<'_, Node>,
        depth: usize,
        max: usize,
        out: &mut String,
    ) -> Result<(), OfficeError> {
        if depth > max {
            return Err(OfficeError::limit(
                FORMAT,
                "element nesting",
                depth as u64,
                max as u64,
            ));
        }
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(el) if skipped(el.name()) || hidden(el) => {}
            Node::Element(el) if el.name() == "br" => out.push('\n'),
            _ => {
                for child in node.children() {
                    go(child, depth + 1, max, out)?;
                }
            }
        }
        Ok(())
    }
    let mut out = String::new();
    go(node, depth, max, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::estimated_depth;

    #[test]
    fn nesting_is_estimated_from_tags() {
        assert_eq!(estimated_depth("<div><div><p>a<p>b</div></div>"), 2);
        assert_eq!(estimated_depth("<ul><li>a<li>b</ul><br><img src=x>"), 1);
        assert_eq!(
            estimated_depth("<script>if (a<b) { '<div><div>' }</script><span/>"),
            0
        );
        assert_eq!(estimated_depth("<!-- <div><div> --><b>x</b>"), 1);
        assert_eq!(estimated_depth(&"<div>".repeat(1000)), 1000);
    }
}
