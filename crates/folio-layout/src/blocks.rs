//! Fragments in reading order → lines → blocks, with the roles a page alone can tell:
//! list items, captions, code. Headings and furniture need the whole document (see `document`).

use folio_doc::{BBox, Block, BlockKind, KeyValue, Line, Provenance, Span};

use crate::words::Fragment;

/// Fragments on one baseline closer than this many font sizes form one line.
const LINE_JOIN_GAP_EM: f32 = 4.0;

/// A line assembled from fragments, with the facts block grouping looks at.
#[derive(Debug, Clone)]
pub(crate) struct TextLine {
    pub line: Line,
    pub frame: BBox,
    pub orientation: u8,
    pub size: f32,
    pub bold: bool,
    pub monospace: bool,
    /// For a form's "Label:   value" line, how many spans the label takes.
    pub key_spans: Option<usize>,
}

impl TextLine {
    fn text(&self) -> String {
        self.line.text()
    }
}

/// Joins consecutive fragments that continue the same baseline into lines.
pub(crate) fn lines(fragments: Vec<Fragment>) -> Vec<TextLine> {
    let mut out: Vec<TextLine> = Vec::new();
    for f in fragments {
        if let Some(last) = out.last_mut() {
            let same_orientation = last.orientation == f.orientation;
            let overlap = last.frame.overlap_y(&f.frame);
            let on_baseline = overlap >= 0.5 * last.frame.height().min(f.frame.height()).max(0.1);
            let gap = if f.rtl {
                last.frame.x0 - f.frame.x1
            } else {
                f.frame.x0 - last.frame.x1
            };
            let em = last.size.max(f.size).max(1.0);
            // A short label ending in ':' set apart from what follows on its baseline is a
            // form field, however far away its value sits.
            let is_label = last.key_spans.is_none()
                && !f.rtl
                && last
                    .line
                    .spans
                    .last()
                    .is_some_and(|s| s.text.trim_end().ends_with(':'))
                && {
                    let label = last.line.text();
                    let label = label.trim();
                    // "Table 2:" set apart from its title is a caption, not a field.
                    label.split_whitespace().count() <= 6
                        && !label.starts_with(|c: char| c.is_ascii_digit())
                        && !is_caption_start(label)
                };
            let near = gap < LINE_JOIN_GAP_EM * em || (is_label && gap < 30.0 * em);
            if same_orientation && on_baseline && gap > -0.5 * em && near {
                if is_label && gap >= 1.0 * em {
                    last.key_spans = Some(last.line.spans.len());
                }
                let mut spans = f.spans;
                if let Some(first) = spans.first_mut() {
                    if !first.text.starts_with(' ') {
                        first.text.insert(0, ' ');
                    }
                }
                if f.rtl {
                    // Logical order of a right-to-left line runs from the right.
                    spans.append(&mut last.line.spans);
                    last.line.spans = spans;
                } else {
                    last.line.spans.append(&mut spans);
                }
                last.line.bbox = last.line.bbox.union(&f.bbox);
                last.frame = last.frame.union(&f.frame);
                last.bold &= f.bold;
                last.monospace &= f.monospace;
                last.size = last.size.max(f.size);
                continue;
            }
        }
        out.push(TextLine {
            line: Line {
                bbox: f.bbox,
                spans: f.spans,
            },
            frame: f.frame,
            orientation: f.orientation,
            size: f.size,
            bold: f.bold,
            monospace: f.monospace,
            key_spans: None,
        });
    }
    for l in &mut out {
        if let Some(first) = l.line.spans.first_mut() {
            let trimmed = first.text.trim_start().to_string();
            first.text = trimmed;
        }
    }
    out
}

/// What kind of list marker a line starts with, and how many bytes it takes.
pub(crate) fn list_marker(text: &str) -> Option<(bool, usize)> {
    const BULLETS: &[char] = &[
        '•', '◦', '▪', '▫', '●', '○', '■', '□', '➢', '►', '▶', '✓', '✔', '-', '–', '—', '*', '·',
        '‣', '⁃',
    ];
    let mut chars = text.char_indices();
    let (_, first) = chars.next()?;
    if BULLETS.contains(&first) {
        let rest = &text[first.len_utf8()..];
        // A bullet needs a space after it ("-5" and "—and" are not list items).
        if rest.starts_with(' ') && rest.trim_start().chars().next().is_some() {
            return Some((false, first.len_utf8()));
        }
        return None;
    }
    // Ordered: "1." "12)" "a)" "iv." "(3)" followed by a space.
    let bytes = text.as_bytes();
    let mut end = 0;
    let paren = bytes.first() == Some(&b'(');
    if paren {
        end = 1;
    }
    let start = end;
    while end < bytes.len() && end - start < 4 && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    if end == start || end >= bytes.len() {
        return None;
    }
    let token = &text[start..end];
    let numeric = token.len() <= 3 && token.chars().all(|c| c.is_ascii_digit());
    let letter = token.len() == 1 && token.chars().all(|c| c.is_ascii_lowercase());
    let roman = token.chars().all(|c| matches!(c, 'i' | 'v' | 'x')) && token.len() <= 4;
    if !(numeric || letter || roman) {
        return None;
    }
    let close = bytes[end];
    let ok_close = if paren {
        close == b')'
    } else {
        close == b'.' || close == b')'
    };
    if !ok_close || bytes.get(end + 1) != Some(&b' ') {
        return None;
    }
    // "3. 5" is a number, not a list item.
    let next = text[end + 2..].chars().next()?;
    if numeric && next.is_ascii_digit() {
        return None;
    }
    Some((true, 0))
}

pub(crate) fn is_caption_start(text: &str) -> bool {
    let t = text.trim_start();
    for prefix in ["Figure ", "Fig. ", "Table ", "Tab. ", "Chart ", "Listing "] {
        if let Some(rest) = t.strip_prefix(prefix) {
            let label: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            let after = rest[label.len()..].chars().next();
            return label
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                && matches!(after, Some(':' | '.' | ' ' | '-' | '—' | '–') | None);
        }
    }
    false
}

/// Fonts that set mathematics (TeX's math italic, symbols and extension fonts, STIX, Cambria
/// Math, Symbol).
fn is_math_font(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "cmmi", "cmsy", "cmex", "msbm", "msam", "math", "symbol", "stix", "eufm", "rsfs", "mtsy",
        "mtmi", "mtex", "lmmath", "txsy", "pxsy",
    ]
    .iter()
    .any(|k| n.contains(k))
}

fn is_math_char(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '−' | '×' | '÷' | '±' | '·' | '√' | '∞' | '^' | '<' | '>' | '|'
    ) || ('\u{0391}'..='\u{03C9}').contains(&c)
        || ('\u{2190}'..='\u{21FF}').contains(&c)
        || ('\u{2200}'..='\u{22FF}').contains(&c)
        || ('\u{27C0}'..='\u{27EF}').contains(&c)
        || ('\u{1D400}'..='\u{1D7FF}').contains(&c)
}

/// The spans' characters other than spaces, and how many of them are mathematics (a math
/// font's, or a relation, operator or Greek letter).
fn math_chars(spans: &[Span]) -> (usize, usize) {
    let (mut n, mut math) = (0usize, 0usize);
    for span in spans {
        let math_font = is_math_font(&span.font);
        for c in span.text.chars().filter(|c| !c.is_whitespace()) {
            n += 1;
            if math_font || is_math_char(c) {
                math += 1;
            }
        }
    }
    (n, math)
}

/// Whether most of these spans' characters are mathematics: a matrix's entries or a
/// formula's pieces, not a table's cells.
pub(crate) fn mostly_math(spans: &[Span]) -> bool {
    let (n, math) = math_chars(spans);
    n > 0 && math * 2 >= n
}

/// A displayed formula line: a relation or a big operator, mostly mathematical symbols or
/// math-font letters, and hardly any words of prose.
pub(crate) fn is_formula_line(l: &TextLine) -> bool {
    if l.monospace {
        return false;
    }
    let spans = &l.line.spans;
    let (n, math) = math_chars(spans);
    let relation = spans.iter().flat_map(|s| s.text.chars()).any(|c| {
        matches!(
            c,
            '=' | '≤'
                | '≥'
                | '≈'
                | '≠'
                | '≡'
                | '<'
                | '>'
                | '∈'
                | '→'
                | '∝'
                | '∑'
                | '∏'
                | '∫'
        )
    });
    let prose_words: usize = spans
        .iter()
        .filter(|s| !is_math_font(&s.font))
        .map(|s| {
            s.text
                .split_whitespace()
                .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 3)
                .count()
        })
        .sum();
    n >= 3 && relation && math * 10 >= n * 3 && prose_words <= 1
}

/// The text of a formula with sub- and superscripts kept: a smaller span raised above the
/// line's baseline is `^{…}`, one lowered below it `_{…}`.
pub(crate) fn formula_text(lines: &[Line]) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        let main = line.spans.iter().map(|s| s.size).fold(0.0f32, f32::max);
        // The bottom of the main-size text: its baseline plus descent.
        let mut bottoms: Vec<f32> = line
            .spans
            .iter()
            .filter(|s| s.size >= 0.9 * main)
            .map(|s| s.bbox.y1)
            .collect();
        bottoms.sort_by(f32::total_cmp);
        let bottom = bottoms
            .get(bottoms.len() / 2)
            .copied()
            .unwrap_or(line.bbox.y1);
        let mut text = String::new();
        for s in &line.spans {
            let t = s.text.trim();
            let lead = if s.text.starts_with(' ') && !text.is_empty() {
                " "
            } else {
                ""
            };
            if s.size < 0.85 * main && s.bbox.y1 < bottom - 0.2 * main {
                text.push_str(&format!("^{{{t}}}"));
            } else if s.size < 0.85 * main && s.bbox.y1 > bottom + 0.05 * main {
                text.push_str(&format!("_{{{t}}}"));
            } else {
                text.push_str(lead);
                text.push_str(t);
            }
        }
        out.push(text);
    }
    out.join(" ")
}

fn kind_of_first_line(l: &TextLine) -> BlockKind {
    let text = l.text();
    if is_formula_line(l) {
        return BlockKind::Formula;
    }
    if let Some((ordered, _)) = list_marker(&text) {
        return BlockKind::ListItem { ordered, level: 0 };
    }
    if is_caption_start(&text) {
        return BlockKind::Caption;
    }
    if l.monospace {
        return BlockKind::Code;
    }
    BlockKind::Paragraph
}

/// Groups lines (in reading order) into blocks.
pub(crate) fn blocks(lines: Vec<TextLine>, page: u32, source: folio_doc::Source) -> Vec<Block> {
    let provenance = Provenance { page, source };
    let mut out: Vec<Block> = Vec::new();
    let mut current: Vec<TextLine> = Vec::new();
    let mut kind = BlockKind::Paragraph;
    let mut gaps: Vec<f32> = Vec::new();
    let flush = |current: &mut Vec<TextLine>, kind: BlockKind, out: &mut Vec<Block>| {
        if current.is_empty() {
            return;
        }
        let mut lines: Vec<Line> = current.drain(..).map(|l| l.line).collect();
        if let BlockKind::ListItem { ordered: false, .. } = kind {
            strip_bullet(&mut lines);
        }
        let mut block = Block::from_lines(kind, lines, provenance);
        if kind == BlockKind::Formula {
            block.text = formula_text(&block.lines);
        }
        out.push(block);
    };
    let leading = typical_leading(&lines);
    for l in lines {
        if let Some(n) = l.key_spans {
            flush(&mut current, kind, &mut out);
            gaps.clear();
            out.push(key_value_block(l.line, n, provenance));
            continue;
        }
        let starts_new = match current.last() {
            None => true,
            Some(prev) => {
                let block_box =
                    BBox::union_all(current.iter().map(|c| &c.frame)).unwrap_or(prev.frame);
                breaks_block(prev, &l, &block_box, &gaps, leading, kind, current.len())
            }
        };
        if starts_new {
            flush(&mut current, kind, &mut out);
            kind = kind_of_first_line(&l);
            gaps.clear();
        } else if let Some(prev) = current.last() {
            gaps.push(l.frame.y0 - prev.frame.y1);
        }
        current.push(l);
    }
    flush(&mut current, kind, &mut out);
    out
}

/// A key-value block from a form line whose first `n` spans are the label.
fn key_value_block(line: Line, n: usize, provenance: Provenance) -> Block {
    let (key, value) = line.spans.split_at(n.min(line.spans.len()));
    let text = |spans: &[Span]| spans.iter().map(|s| s.text.as_str()).collect::<String>();
    let kv = KeyValue {
        key: text(key)
            .trim()
            .trim_end_matches(':')
            .trim_end()
            .to_string(),
        key_bbox: BBox::union_all(key.iter().map(|s| &s.bbox)).unwrap_or(line.bbox),
        value: text(value).trim().to_string(),
        value_bbox: BBox::union_all(value.iter().map(|s| &s.bbox)),
    };
    Block::from_key_value(kv, vec![line], provenance)
}

/// The page's usual gap between consecutive lines of one column, in font sizes: some documents
/// set lines far apart, and a gap is a paragraph break only when it is wider than usual.
fn typical_leading(lines: &[TextLine]) -> f32 {
    let ratios: Vec<f32> = lines
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (&w[0], &w[1]);
            let em = a.size.max(b.size).max(1.0);
            let gap = b.frame.y0 - a.frame.y1;
            let same_column =
                a.frame.overlap_x(&b.frame) > 0.5 * a.frame.width().min(b.frame.width());
            let same_size = (a.size - b.size).abs() < 0.12 * em;
            (a.orientation == b.orientation
                && same_column
                && same_size
                && gap >= 0.0
                && gap <= 2.0 * em)
                .then_some(gap / em)
        })
        .collect();
    median(&ratios).unwrap_or(0.2)
}

fn breaks_block(
    prev: &TextLine,
    l: &TextLine,
    block: &BBox,
    gaps: &[f32],
    leading: f32,
    kind: BlockKind,
    n: usize,
) -> bool {
    if prev.orientation != l.orientation {
        return true;
    }
    let em = prev.size.max(l.size).max(1.0);
    let gap = l.frame.y0 - prev.frame.y1;
    // A displayed formula stands apart from the text around it; its own lines stay together.
    let formula = is_formula_line(l);
    if (kind == BlockKind::Formula) != formula {
        return true;
    }
    if formula {
        return gap > 1.2 * em || gap < -0.5 * em;
    }
    if gap < -0.5 * em {
        return true; // went back up: another column or region
    }
    // A blank line inside a listing does not end it.
    let prev_short = prev.text().trim().chars().count() < 8;
    if kind == BlockKind::Code
        && l.monospace
        && (prev.monospace || prev_short)
        && gap < 2.5 * em
        && l.frame.x0 >= block.x0 - 0.5 * em
    {
        return false;
    }
    let typical = median(gaps);
    let paragraph_gap = match typical {
        Some(t) => gap > (t * 1.6).max(t + 0.35 * em),
        None => gap > em * (leading * 1.5 + 0.1).max(0.6),
    };
    if paragraph_gap {
        return true;
    }
    let overlap = block.overlap_x(&l.frame);
    if overlap < 0.3 * l.frame.width().min(block.width()).max(0.1) {
        return true;
    }
    if (prev.size - l.size).abs() > 0.12 * em {
        return true;
    }
    let text = l.text();
    // Too short to tell its pitch ("}", "end"): such a line continues a code block.
    let short_code_line = kind == BlockKind::Code && text.trim().chars().count() < 8;
    if prev.bold != l.bold || (prev.monospace != l.monospace && !short_code_line) {
        return true;
    }
    if list_marker(&text).is_some() || is_caption_start(&text) {
        return true;
    }
    // A first-line indent after a line that ended short starts a paragraph; a list item's
    // continuation lines are indented by design.
    let indent = l.frame.x0 - prev.frame.x0;
    let prev_ends_short = prev.frame.x1 < block.x1 - 2.0 * em;
    let is_list = matches!(kind, BlockKind::ListItem { .. });
    // Code keeps its own indentation.
    if kind == BlockKind::Code && (l.monospace || short_code_line) {
        return false;
    }
    if !is_list && indent > 0.8 * em && indent < 6.0 * em && (n > 1 || prev_ends_short) {
        return true;
    }
    // After a list item's text, a line back at the bullet's position is not its continuation.
    false
}

fn median(v: &[f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f32::total_cmp);
    Some(s[s.len() / 2])
}

/// Removes the bullet glyph (and the space after it) from the first span of a list item.
fn strip_bullet(lines: &mut [Line]) {
    let Some(first_line) = lines.first_mut() else {
        return;
    };
    let text = first_line.text();
    let Some((false, len)) = list_marker(&text) else {
        return;
    };
    let mut remaining = len;
    for span in &mut first_line.spans {
        if remaining == 0 {
            break;
        }
        let take = remaining.min(span.text.len());
        if span.text.is_char_boundary(take) {
            span.text.drain(..take);
            remaining -= take;
        } else {
            break;
        }
    }
    if let Some(s) = first_line.spans.first_mut() {
        let t = s.text.trim_start().to_string();
        s.text = t;
    }
    first_line.spans.retain(|s: &Span| !s.text.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_markers() {
        assert_eq!(list_marker("• item"), Some((false, 3)));
        assert_eq!(list_marker("- item"), Some((false, 1)));
        assert_eq!(list_marker("1. First"), Some((true, 0)));
        assert_eq!(list_marker("(a) thing"), Some((true, 0)));
        assert_eq!(list_marker("iv) thing"), Some((true, 0)));
        assert_eq!(list_marker("-5 degrees"), None);
        assert_eq!(list_marker("3. 5 is a number"), None);
        assert_eq!(list_marker("2023. The year"), None);
        assert_eq!(list_marker("Hello"), None);
    }

    use crate::test_support::{font, line, prose};
    use crate::words::fragments;
    use folio_content::Glyph;
    use folio_doc::Source;

    fn page_blocks(glyphs: &[Glyph]) -> Vec<Block> {
        let mut frags = fragments(glyphs, &[]);
        frags.sort_by(|a, b| {
            a.bbox
                .y0
                .total_cmp(&b.bbox.y0)
                .then(a.bbox.x0.total_cmp(&b.bbox.x0))
        });
        blocks(lines(frags), 1, Source::TextLayer)
    }

    #[test]
    fn a_displayed_equation_is_a_formula_with_its_superscript() {
        let body = font("CMR10");
        let math = font("CMMI10");
        let small = font("CMR7");
        let mut glyphs = prose(
            "The sum of the squares follows from the text above.",
            50.0,
            100.0,
            10.0,
            &body,
        );
        // "a" (math italic), a raised small "2", then " + 8 = 12".
        glyphs.extend(line("a", 200.0, 130.0, 10.0, &math));
        glyphs.extend(line("2", 205.0, 126.0, 7.0, &small));
        glyphs.extend(line(" + 8 = 12", 208.5, 130.0, 10.0, &body));
        glyphs.extend(prose(
            "And the text goes on after the formula here.",
            50.0,
            160.0,
            10.0,
            &body,
        ));
        let b = page_blocks(&glyphs);
        assert_eq!(b.len(), 3, "{b:?}");
        assert_eq!(b[1].kind, BlockKind::Formula);
        assert_eq!(b[1].text, "a^{2} + 8 = 12");
        assert_eq!(b[0].kind, BlockKind::Paragraph);
    }

    #[test]
    fn a_sentence_with_an_equals_sign_is_not_a_formula() {
        let body = font("Times");
        let glyphs = prose(
            "We set the learning rate = 0.5 in all runs.",
            50.0,
            100.0,
            10.0,
            &body,
        );
        assert_eq!(page_blocks(&glyphs)[0].kind, BlockKind::Paragraph);
    }

    #[test]
    fn a_label_set_apart_from_its_value_is_a_key_value() {
        let f = font("Arial");
        let mut glyphs = prose("Name:", 50.0, 100.0, 10.0, &f);
        glyphs.extend(prose("Jane Doe", 150.0, 100.0, 10.0, &f));
        glyphs.extend(prose(
            "Note: labels inside prose stay prose.",
            50.0,
            130.0,
            10.0,
            &f,
        ));
        let b = page_blocks(&glyphs);
        assert_eq!(b[0].kind, BlockKind::KeyValue);
        let kv = b[0].key_value.as_ref().expect("key_value");
        assert_eq!((kv.key.as_str(), kv.value.as_str()), ("Name", "Jane Doe"));
        assert!(kv
            .value_bbox
            .is_some_and(|v| v.x0 >= 150.0 && kv.key_bbox.x1 <= 80.0));
        assert_eq!(b[0].text, "Name: Jane Doe");
        assert_eq!(b[1].kind, BlockKind::Paragraph);
    }

    #[test]
    fn a_key_value_reads_as_printed() {
        // A receipt's "TOTAL :" with a space before the colon, its amount far to the right:
        // the key loses its colon, the text keeps what the page says (a transcript does too).
        let f = font("OCR");
        let mut glyphs = prose("TOTAL :", 50.0, 100.0, 10.0, &f);
        glyphs.extend(prose("7.80", 250.0, 100.0, 10.0, &f));
        let b = page_blocks(&glyphs);
        assert_eq!(b[0].kind, BlockKind::KeyValue);
        let kv = b[0].key_value.as_ref().expect("key_value");
        assert_eq!((kv.key.as_str(), kv.value.as_str()), ("TOTAL", "7.80"));
        assert_eq!(b[0].text, "TOTAL : 7.80");
    }

    #[test]
    fn a_caption_set_apart_from_its_title_is_no_key_value() {
        let f = font("Arial");
        let mut glyphs = prose("Table 2:", 50.0, 100.0, 10.0, &f);
        glyphs.extend(prose("Persons employed by sector", 110.0, 100.0, 10.0, &f));
        let b = page_blocks(&glyphs);
        assert_ne!(b[0].kind, BlockKind::KeyValue, "{:?}", b[0]);
        assert_eq!(b[0].text, "Table 2: Persons employed by sector");
    }

    #[test]
    fn captions() {
        assert!(is_caption_start("Figure 3: A plot"));
        assert!(is_caption_start("Table 1. HPO performed"));
        assert!(!is_caption_start("Tables are useful"));
        assert!(!is_caption_start("Figure out what"));
    }
}
