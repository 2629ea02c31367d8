//! Markdown input (CommonMark with tables), through `pulldown-cmark`.

use folio_doc::{BBox, BlockKind, Document};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::build::{DocBuilder, TableBuilder};
use crate::{OfficeError, OfficeOptions};

struct ListState {
    /// Next ordinal for an ordered list; `None` for a bulleted one.
    next: Option<u64>,
}

/// Headings, paragraphs, nested lists, code blocks, tables, images as figures.
pub(crate) fn read(bytes: &[u8], options: &OfficeOptions) -> Result<Document, OfficeError> {
    let text = crate::text::decode(bytes)?;
    let mut b = DocBuilder::new(
        "markdown",
        options.filename.as_deref(),
        "markdown: no page geometry",
    );
    b.start_page(0.0, 0.0);
    let parser = Parser::new_ext(
        &text,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    let mut lists: Vec<ListState> = Vec::new();
    let mut buf = String::new();
    // The kind the buffered text will become when its block ends.
    let mut kind: Option<BlockKind> = None;
    let mut table: Option<TableBuilder> = None;
    let mut in_head = false;
    let max_depth = options.limits.max_depth;
    for (i, event) in parser.enumerate() {
        if i.is_multiple_of(256) {
            options.check("markdown")?;
        }
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                kind = Some(BlockKind::Heading {
                    level: heading_level(level),
                });
            }
            // Inside an item the paragraph is the item's text.
            Event::Start(Tag::Paragraph) if kind.is_none() => kind = Some(BlockKind::Paragraph),
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut b, &mut buf, &mut kind);
                kind = Some(BlockKind::Code);
            }
            Event::Start(Tag::List(start)) => {
                flush(&mut b, &mut buf, &mut kind);
                if lists.len() >= max_depth {
                    return Err(OfficeError::limit(
                        "markdown",
                        "list nesting",
                        lists.len() as u64 + 1,
                        max_depth as u64,
                    ));
                }
                lists.push(ListState { next: start });
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut b, &mut buf, &mut kind);
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut b, &mut buf, &mut kind);
                let level = lists.len().saturating_sub(1).min(u8::MAX as usize) as u8;
                let ordered = match lists.last_mut() {
                    Some(ListState { next: Some(n) }) => {
                        buf.push_str(&format!("{n}. "));
                        *n += 1;
                        true
                    }
                    _ => false,
                };
                kind = Some(BlockKind::ListItem { ordered, level });
            }
            Event::Start(Tag::Table(_)) => {
                flush(&mut b, &mut buf, &mut kind);
                table = Some(TableBuilder::new(
                    options.limits.max_cells_per_sheet as usize,
                ));
            }
            Event::Start(Tag::TableHead) => {
                in_head = true;
                if let Some(t) = table.as_mut() {
                    t.start_row();
                }
            }
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => {
                if let Some(t) = table.as_mut() {
                    t.start_row();
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(t) = table.as_mut() {
                    t.cell(crate::build::collapse_ws(&buf), 1, 1, in_head);
                }
                buf.clear();
            }
            Event::End(TagEnd::Table) => {
                if let Some(t) = table.take() {
                    b.push_table(t.finish(), BBox::default());
                }
            }
            Event::Start(Tag::Image { .. }) => {
                flush(&mut b, &mut buf, &mut kind);
                b.push(BlockKind::Figure, "");
            }
            Event::End(
                TagEnd::Heading(_) | TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::Item,
            ) if table.is_none() => flush(&mut b, &mut buf, &mut kind),
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                buf.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => {
                buf.push(if kind == Some(BlockKind::Code) {
                    '\n'
                } else {
                    ' '
                });
            }
            Event::Html(_) | Event::InlineHtml(_) => {}
            _ => {}
        }
    }
    flush(&mut b, &mut buf, &mut kind);
    Ok(b.finish())
}

fn flush(b: &mut DocBuilder, buf: &mut String, kind: &mut Option<BlockKind>) {
    let k = kind.take().unwrap_or(BlockKind::Paragraph);
    if !buf.trim().is_empty() {
        b.push(k, buf);
    }
    buf.clear();
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}
