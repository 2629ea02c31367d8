//! DOCX (WordprocessingML): paragraphs with heading levels from styles and outline levels,
//! numbered and bulleted lists with their nesting, tables with merged cells, text boxes,
//! images as figures, equations (OMML as LaTeX), footnotes and endnotes, headers and footers as
//! page furniture.

use std::collections::HashMap;

use folio_doc::{BBox, BlockKind, Cell, Document, Link, Table};
use roxmltree::Node;

use crate::build::{collapse_ws, link, DocBuilder};
use crate::media::FigureSource;
use crate::package::{parse_xml, relationships, Package, Rel};
use crate::xml::{attr, child, child_val, children, is_math, local, on};
use crate::{OfficeError, OfficeOptions};

const FORMAT: &str = "docx";

/// What a paragraph style contributes.
#[derive(Debug, Default, Clone)]
struct Style {
    name: String,
    based_on: Option<String>,
    outline: Option<u8>,
    num_id: Option<String>,
    ilvl: Option<u8>,
    font: Option<String>,
}

/// One level of a numbering definition.
#[derive(Debug, Clone)]
struct Level {
    fmt: String,
    text: String,
    start: u64,
}

#[derive(Default)]
struct Numbering {
    /// numId → (abstractNumId, start overrides per level).
    nums: HashMap<String, (String, HashMap<u8, u64>)>,
    abstracts: HashMap<String, HashMap<u8, Level>>,
    /// Running counters per numId and level.
    counters: HashMap<String, [u64; 10]>,
}

impl Numbering {
    fn level(&self, num_id: &str, ilvl: u8) -> Option<Level> {
        let (abs, overrides) = self.nums.get(num_id)?;
        let mut level = self.abstracts.get(abs)?.get(&ilvl)?.clone();
        if let Some(&s) = overrides.get(&ilvl) {
            level.start = s;
        }
        Some(level)
    }

    /// Advances the counter of `(num_id, ilvl)` and returns `(ordered, label)`.
    fn next(&mut self, num_id: &str, ilvl: u8) -> Option<(bool, String)> {
        let ilvl = ilvl.min(9);
        let level = self.level(num_id, ilvl)?;
        if level.fmt == "none" {
            return Some((false, String::new()));
        }
        let starts: Vec<u64> = (0..10)
            .map(|l| self.level(num_id, l).map_or(1, |lv| lv.start))
            .collect();
        let counters = self.counters.entry(num_id.to_string()).or_insert([0; 10]);
        let i = ilvl as usize;
        counters[i] = if counters[i] == 0 {
            starts[i]
        } else {
            counters[i] + 1
        };
        for c in counters.iter_mut().skip(i + 1) {
            *c = 0;
        }
        if level.fmt == "bullet" {
            return Some((false, String::new()));
        }
        let counters = *counters;
        let mut label = level.text.clone();
        for l in 0..=i {
            let fmt = self
                .level(num_id, l as u8)
                .map_or_else(|| "decimal".to_string(), |lv| lv.fmt);
            let value = if counters[l] == 0 {
                starts[l]
            } else {
                counters[l]
            };
            label = label.replace(&format!("%{}", l + 1), &format_number(value, &fmt));
        }
        Some((true, label.trim().to_string()))
    }
}

fn format_number(n: u64, fmt: &str) -> String {
    match fmt {
        "lowerLetter" => letters(n).to_lowercase(),
        "upperLetter" => letters(n),
        "lowerRoman" => roman(n).to_lowercase(),
        "upperRoman" => roman(n),
        _ => n.to_string(),
    }
}

fn letters(n: u64) -> String {
    // Word repeats the letter past z: aa, bb...
    let n = n.max(1) - 1;
    let c = (b'A' + (n % 26) as u8) as char;
    c.to_string().repeat((n / 26 + 1).min(10) as usize)
}

fn roman(mut n: u64) -> String {
    if n == 0 || n > 3999 {
        return n.to_string();
    }
    let table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (v, s) in table {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

/// Something found inside a paragraph that becomes its own block after the paragraph's text.
enum Deferred<'a, 'i> {
    /// A picture or chart, with where its picture is when the package holds one.
    Figure(Option<FigureSource>),
    /// The body of a text box, read as blocks of its own.
    Body(Node<'a, 'i>),
}

/// A paragraph's content.
struct Para<'a, 'i> {
    text: String,
    /// Display equations (`m:oMathPara`) found in it, as LaTeX.
    display_math: Vec<String>,
    deferred: Vec<Deferred<'a, 'i>>,
    /// Every run with text is in a monospaced font.
    monospace: bool,
    /// Hyperlinks (`w:hyperlink`, HYPERLINK fields) in `text`.
    links: Vec<Link>,
    /// Complex fields open at this point (`w:fldChar` begin .. end): the instruction read so far
    /// and, once `separate` is met, where the field's displayed result starts in `text`.
    fields: Vec<(String, Option<usize>)>,
}

impl Para<'_, '_> {
    fn new(monospace: bool) -> Self {
        Para {
            text: String::new(),
            display_math: Vec::new(),
            deferred: Vec::new(),
            monospace,
            links: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Keeps the text from `start` on as a link to `url`, when the target may travel.
    fn link_from(&mut self, start: usize, url: Option<String>) {
        if let Some(l) = url.and_then(|u| link(self.text.get(start..).unwrap_or(""), &u)) {
            self.links.push(l);
        }
    }
}

/// The target of a `HYPERLINK` field instruction: `HYPERLINK "https://..."` or, with `\l`, a
/// bookmark in the document (`#name`).
fn field_target(instr: &str) -> Option<String> {
    let rest = instr.trim().strip_prefix("HYPERLINK")?;
    let mut target = None;
    let mut anchor = false;
    let mut parts = rest.split('"');
    // Outside quotes: switches; inside: arguments.
    while let Some(outside) = parts.next() {
        let switches: Vec<&str> = outside.split_whitespace().collect();
        if switches.iter().any(|s| s.eq_ignore_ascii_case("\\l")) {
            anchor = true;
        }
        let words: Vec<&str> = switches
            .iter()
            .copied()
            .filter(|s| !s.starts_with('\\'))
            .collect();
        if target.is_none() {
            if let Some(w) = words.first() {
                target = Some(w.to_string());
            }
        }
        let Some(quoted) = parts.next() else { break };
        if anchor && !quoted.is_empty() {
            return Some(format!("#{quoted}"));
        }
        if target.is_none() && !quoted.is_empty() {
            target = Some(quoted.to_string());
        }
    }
    target
}

struct Reader<'o> {
    styles: HashMap<String, Style>,
    default_style: Option<String>,
    numbering: Numbering,
    rels: HashMap<String, Rel>,
    footnotes: HashMap<String, String>,
    endnotes: HashMap<String, String>,
    /// Footnote and endnote ids in the order the text refers to them.
    note_refs: Vec<(bool, String)>,
    options: &'o OfficeOptions,
    /// Consecutive code paragraphs are gathered into one block.
    code: Vec<String>,
    /// Hyperlinks met by [`Reader::flat_text`] (table cells), for the table's block.
    flat_links: Vec<Link>,
}

/// Reads a DOCX package.
pub(crate) fn read(bytes: &[u8], options: &OfficeOptions) -> Result<Document, OfficeError> {
    let limits = options.limits;
    let mut pkg = Package::open(bytes, FORMAT, &limits)?;
    let main = main_part(&mut pkg)?;
    let rels = relationships(&mut pkg, &main)?;
    let part_of = |kind: &str| {
        rels.values()
            .find(|r| r.kind == kind && !r.external)
            .map(|r| r.target.clone())
    };
    let mut r = Reader {
        styles: HashMap::new(),
        default_style: None,
        numbering: Numbering::default(),
        rels: HashMap::new(),
        footnotes: HashMap::new(),
        endnotes: HashMap::new(),
        note_refs: Vec::new(),
        options,
        code: Vec::new(),
        flat_links: Vec::new(),
    };
    if let Some(name) = part_of("styles") {
        if let Some(text) = pkg.read_text(&name)? {
            r.read_styles(&parse_xml(&text, FORMAT, &name, &limits)?);
        }
    }
    if let Some(name) = part_of("numbering") {
        if let Some(text) = pkg.read_text(&name)? {
            r.read_numbering(&parse_xml(&text, FORMAT, &name, &limits)?);
        }
    }
    for (kind, endnote) in [("footnotes", false), ("endnotes", true)] {
        let Some(name) = part_of(kind) else { continue };
        let Some(text) = pkg.read_text(&name)? else {
            continue;
        };
        let doc = parse_xml(&text, FORMAT, &name, &limits)?;
        let notes = r.read_notes(&doc)?;
        if endnote {
            r.endnotes = notes;
        } else {
            r.footnotes = notes;
        }
    }
    let mut b = DocBuilder::new(
        FORMAT,
        options.filename.as_deref(),
        "docx: flow document, no page geometry",
    );
    b.set_title(core_title(&mut pkg)?);
    b.start_page(0.0, 0.0);

    let text = pkg.require_text(&main)?;
    let doc = parse_xml(&text, FORMAT, &main, &limits)?;
    r.rels = rels.clone();
    let body = doc
        .root_element()
        .children()
        .find(|n| n.is_element() && local(*n) == "body");

    // Headers and footers, once each, as furniture (reading formats leave them out).
    let mut furniture: Vec<(bool, String)> = Vec::new();
    if let Some(body) = body {
        for sect in body
            .descendants()
            .filter(|n| n.is_element() && local(*n) == "sectPr")
        {
            for reference in sect.children().filter(|n| n.is_element()) {
                let footer = match local(reference) {
                    "headerReference" => false,
                    "footerReference" => true,
                    _ => continue,
                };
                let Some(rel) = attr(reference, "id").and_then(|id| rels.get(id)) else {
                    continue;
                };
                if rel.external || furniture.iter().any(|(_, t)| *t == rel.target) {
                    continue;
                }
                furniture.push((footer, rel.target.clone()));
            }
        }
    }
    let mut furniture_text: Vec<(bool, String)> = Vec::new();
    for (footer, part) in &furniture {
        let Some(text) = pkg.read_text(part)? else {
            continue;
        };
        let hdoc = parse_xml(&text, FORMAT, part, &limits)?;
        let saved = std::mem::replace(&mut r.rels, relationships(&mut pkg, part)?);
        let t = r.flat_text(hdoc.root_element(), 0)?;
        r.rels = saved;
        let t = collapse_ws(&t);
        if !t.is_empty() && !furniture_text.iter().any(|(_, x)| *x == t) {
            furniture_text.push((*footer, t));
        }
    }
    for (_, t) in furniture_text.iter().filter(|(f, _)| !f) {
        b.push(BlockKind::PageHeader, t);
    }
    if let Some(body) = body {
        r.body(&mut b, body, 0)?;
    }
    r.flush_code(&mut b);
    // Notes after the body, in the order they were referred to.
    let refs = std::mem::take(&mut r.note_refs);
    for (endnote, id) in refs {
        let notes = if endnote { &r.endnotes } else { &r.footnotes };
        if let Some(t) = notes.get(&id) {
            b.push(BlockKind::Paragraph, &format!("[{id}] {t}"));
        }
    }
    for (_, t) in furniture_text.iter().filter(|(f, _)| *f) {
        b.push(BlockKind::PageFooter, t);
    }
    b.finish_with_images(options, |name| pkg.read(name))
}

/// The main document part, from the package relationships (`word/document.xml` as a fallback).
fn main_part(pkg: &mut Package<'_>) -> Result<String, OfficeError> {
    let rels = relationships(pkg, "")?;
    let main = rels
        .values()
        .find(|r| r.kind == "officeDocument" && !r.external)
        .map(|r| r.target.clone())
        .filter(|t| pkg.has(t))
        .unwrap_or_else(|| "word/document.xml".to_string());
    Ok(main)
}

/// `dc:title` from `docProps/core.xml`, when present.
pub(crate) fn core_title(pkg: &mut Package<'_>) -> Result<Option<String>, OfficeError> {
    let Some(text) = pkg.read_text("docProps/core.xml")? else {
        return Ok(None);
    };
    let limits = *pkg.limits();
    // A damaged core.xml only loses the title.
    let Ok(doc) = parse_xml(&text, pkg.format(), "docProps/core.xml", &limits) else {
        return Ok(None);
    };
    Ok(doc
        .descendants()
        .find(|n| n.is_element() && local(*n) == "title")
        .and_then(|n| n.text())
        .map(str::to_string))
}

/// The relationship id of an element (`r:id`), not an attribute named `id` in another namespace.
fn rel_id<'a>(n: Node<'a, '_>) -> Option<&'a str> {
    n.attributes()
        .find(|a| a.name() == "id" && a.namespace().is_some_and(|ns| ns.contains("relationships")))
        .map(|a| a.value())
}

fn is_mono(font: &str) -> bool {
    let f = font.to_ascii_lowercase();
    [
        "courier",
        "consolas",
        "mono",
        "menlo",
        "monaco",
        "lucida console",
        "inconsolata",
        "source code",
        "fira code",
    ]
    .iter()
    .any(|m| f.contains(m))
}

impl Reader<'_> {
    fn read_styles(&mut self, doc: &roxmltree::Document<'_>) {
        for s in doc
            .root_element()
            .children()
            .filter(|n| n.is_element() && local(*n) == "style")
        {
            let Some(id) = attr(s, "styleId") else {
                continue;
            };
            let ppr = child(s, "pPr");
            let numpr = ppr.and_then(|p| child(p, "numPr"));
            let style = Style {
                name: child_val(s, "name").unwrap_or(id).to_string(),
                based_on: child_val(s, "basedOn").map(str::to_string),
                outline: ppr
                    .and_then(|p| child_val(p, "outlineLvl"))
                    .and_then(|v| v.parse().ok()),
                num_id: numpr
                    .and_then(|n| child_val(n, "numId"))
                    .map(str::to_string),
                ilvl: numpr
                    .and_then(|n| child_val(n, "ilvl"))
                    .and_then(|v| v.parse().ok()),
                font: child(s, "rPr")
                    .and_then(|r| child(r, "rFonts"))
                    .and_then(|f| attr(f, "ascii").or(attr(f, "hAnsi")))
                    .map(str::to_string),
            };
            if attr(s, "type") == Some("paragraph")
                && matches!(attr(s, "default"), Some("1" | "true"))
            {
                self.default_style = Some(id.to_string());
            }
            self.styles.insert(id.to_string(), style);
        }
    }

    /// A style property, looked up through `basedOn` (bounded: chains can loop).
    fn style_prop<T>(&self, id: &str, get: impl Fn(&Style) -> Option<T>) -> Option<T> {
        let mut cur = Some(id);
        for _ in 0..16 {
            let s = self.styles.get(cur?)?;
            if let Some(v) = get(s) {
                return Some(v);
            }
            cur = s.based_on.as_deref();
        }
        None
    }

    fn read_numbering(&mut self, doc: &roxmltree::Document<'_>) {
        let root = doc.root_element();
        for a in children(root, "abstractNum") {
            let Some(id) = attr(a, "abstractNumId") else {
                continue;
            };
            let mut levels = HashMap::new();
            for l in children(a, "lvl") {
                let Some(ilvl) = attr(l, "ilvl").and_then(|v| v.parse::<u8>().ok()) else {
                    continue;
                };
                levels.insert(
                    ilvl,
                    Level {
                        fmt: child_val(l, "numFmt").unwrap_or("decimal").to_string(),
                        text: child_val(l, "lvlText").unwrap_or("").to_string(),
                        start: child_val(l, "start")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(1),
                    },
                );
            }
            self.numbering.abstracts.insert(id.to_string(), levels);
        }
        for n in children(root, "num") {
            let (Some(id), Some(abs)) = (attr(n, "numId"), child_val(n, "abstractNumId")) else {
                continue;
            };
            let mut overrides = HashMap::new();
            for o in children(n, "lvlOverride") {
                if let (Some(l), Some(s)) = (
                    attr(o, "ilvl").and_then(|v| v.parse::<u8>().ok()),
                    child_val(o, "startOverride").and_then(|v| v.parse::<u64>().ok()),
                ) {
                    overrides.insert(l, s);
                }
            }
            self.numbering
                .nums
                .insert(id.to_string(), (abs.to_string(), overrides));
        }
    }

    fn read_notes(
        &mut self,
        doc: &roxmltree::Document<'_>,
    ) -> Result<HashMap<String, String>, OfficeError> {
        let mut out = HashMap::new();
        for n in doc.root_element().children().filter(|n| n.is_element()) {
            if matches!(
                attr(n, "type"),
                Some("separator" | "continuationSeparator" | "continuationNotice")
            ) {
                continue;
            }
            let Some(id) = attr(n, "id") else { continue };
            let t = collapse_ws(&self.flat_text(n, 0)?);
            if !t.is_empty() {
                out.insert(id.to_string(), t);
            }
        }
        Ok(out)
    }

    fn check_depth(&self, depth: usize) -> Result<(), OfficeError> {
        let max = self.options.limits.max_depth;
        if depth > max {
            return Err(OfficeError::limit(
                FORMAT,
                "element nesting",
                depth as u64,
                max as u64,
            ));
        }
        Ok(())
    }

    fn flush_code(&mut self, b: &mut DocBuilder) {
        if !self.code.is_empty() {
            let text = self.code.join("\n");
            self.code.clear();
            b.push(BlockKind::Code, &text);
        }
    }

    /// Block-level content: paragraphs, tables, content controls.
    fn body<'a, 'i>(
        &mut self,
        b: &mut DocBuilder,
        node: Node<'a, 'i>,
        depth: usize,
    ) -> Result<(), OfficeError> {
        self.check_depth(depth)?;
        for n in node.children().filter(|n| n.is_element()) {
            self.options.check(FORMAT)?;
            match local(n) {
                "p" => self.paragraph(b, n, depth + 1)?,
                "tbl" => {
                    self.flush_code(b);
                    self.flat_links.clear();
                    let table = self.table(n, depth + 1)?;
                    let links = std::mem::take(&mut self.flat_links);
                    b.push_table_linked(table, BBox::default(), links);
                }
                "sdt" => {
                    if let Some(content) = child(n, "sdtContent") {
                        self.body(b, content, depth + 1)?;
                    }
                }
                "customXml" | "ins" | "moveTo" | "txbxContent" => self.body(b, n, depth + 1)?,
                "AlternateContent" => {
                    if let Some(first) = n.children().find(|c| c.is_element()) {
                        self.body(b, first, depth + 1)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The paragraph's style id (or the document's default paragraph style).
    fn style_id<'a>(&'a self, p: Node<'a, '_>) -> Option<&'a str> {
        child(p, "pPr")
            .and_then(|ppr| child_val(ppr, "pStyle"))
            .or(self.default_style.as_deref())
    }

    fn heading_level(&self, p: Node<'_, '_>) -> Option<u8> {
        let ppr = child(p, "pPr");
        let style = self.style_id(p);
        let name = style
            .and_then(|s| self.styles.get(s))
            .map(|s| s.name.to_ascii_lowercase())
            .unwrap_or_default();
        if name == "title" {
            return Some(1);
        }
        // Word's "Heading N" is one level below the title, as docling numbers them.
        if let Some(n) = name
            .strip_prefix("heading")
            .map(str::trim)
            .and_then(|n| n.parse::<u8>().ok())
        {
            return Some((n + 1).clamp(1, 6));
        }
        let outline = ppr
            .and_then(|p| child_val(p, "outlineLvl"))
            .and_then(|v| v.parse::<u8>().ok())
            .or_else(|| style.and_then(|s| self.style_prop(s, |st| st.outline)));
        // Level 9 is "body text".
        outline.filter(|&o| o < 9).map(|o| (o + 2).min(6))
    }

    fn is_code_style(&self, p: Node<'_, '_>) -> bool {
        let Some(style) = self.style_id(p).and_then(|s| self.styles.get(s)) else {
            return false;
        };
        let name = style.name.to_ascii_lowercase();
        name == "code"
            || name.ends_with(" code")
            || name.starts_with("code ")
            || name.contains("preformatted")
            || name == "plain text"
    }

    /// The numbering of a paragraph: direct `numPr` first, then its style's.
    fn num(&self, p: Node<'_, '_>) -> Option<(String, u8)> {
        let numpr = child(p, "pPr").and_then(|ppr| child(ppr, "numPr"));
        let direct_id = numpr.and_then(|n| child_val(n, "numId"));
        let direct_lvl = numpr
            .and_then(|n| child_val(n, "ilvl"))
            .and_then(|v| v.parse().ok());
        let style = self.style_id(p);
        let num_id = direct_id
            .map(str::to_string)
            .or_else(|| style.and_then(|s| self.style_prop(s, |st| st.num_id.clone())))?;
        // numId 0 removes numbering.
        if num_id == "0" {
            return None;
        }
        let ilvl = direct_lvl
            .or_else(|| style.and_then(|s| self.style_prop(s, |st| st.ilvl)))
            .unwrap_or(0);
        Some((num_id, ilvl))
    }

    fn paragraph<'a, 'i>(
        &mut self,
        b: &mut DocBuilder,
        p: Node<'a, 'i>,
        depth: usize,
    ) -> Result<(), OfficeError> {
        let mut para = Para::new(true);
        let style_font = self
            .style_id(p)
            .and_then(|s| self.style_prop(s, |st| st.font.clone()));
        self.inline(p, &mut para, style_font.as_deref(), depth)?;
        let text = para.text.trim().to_string();
        let heading = self.heading_level(p);
        let code = !text.is_empty()
            && heading.is_none()
            && (self.is_code_style(p)
                || (para.monospace
                    && text.contains([';', '{', '}', '(', ')', '=', '<', '>', '[', ']', '#'])));
        if code {
            self.code.push(para.text.trim_end().to_string());
        } else {
            self.flush_code(b);
        }
        let numbered = self.num(p).and_then(|(id, lvl)| {
            // Numbering on an empty paragraph does not advance the list as displayed text.
            if text.is_empty() {
                None
            } else {
                self.numbering
                    .next(&id, lvl)
                    .map(|(ordered, label)| (ordered, label, lvl))
            }
        });
        if !code && !text.is_empty() {
            let links = std::mem::take(&mut para.links);
            match (heading, numbered) {
                (Some(level), n) => {
                    let t = match n {
                        Some((true, label, _)) if !label.is_empty() => format!("{label} {text}"),
                        _ => text,
                    };
                    b.push_linked(BlockKind::Heading { level }, &t, BBox::default(), links);
                }
                (None, Some((ordered, label, lvl))) => {
                    let t = if ordered && !label.is_empty() {
                        format!("{label} {text}")
                    } else {
                        text
                    };
                    b.push_linked(
                        BlockKind::ListItem {
                            ordered,
                            level: lvl,
                        },
                        &t,
                        BBox::default(),
                        links,
                    );
                }
                (None, None) => {
                    b.push_linked(BlockKind::Paragraph, &text, BBox::default(), links);
                }
            }
        }
        for m in para.display_math {
            b.push(BlockKind::Formula, &m);
        }
        for d in para.deferred {
            match d {
                Deferred::Figure(source) => {
                    self.flush_code(b);
                    b.push_figure(BBox::default(), source);
                }
                Deferred::Body(n) => {
                    self.flush_code(b);
                    self.body(b, n, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// The inline content of a paragraph (runs, hyperlinks, fields, math, drawings).
    fn inline<'a, 'i>(
        &mut self,
        node: Node<'a, 'i>,
        para: &mut Para<'a, 'i>,
        font: Option<&str>,
        depth: usize,
    ) -> Result<(), OfficeError> {
        self.check_depth(depth)?;
        for n in node.children().filter(|n| n.is_element()) {
            if is_math(n) {
                match local(n) {
                    "oMathPara" => {
                        for m in n
                            .children()
                            .filter(|c| c.is_element() && local(*c) == "oMath")
                        {
                            para.display_math
                                .push(crate::omml::latex(m, self.options.limits.max_depth)?);
                        }
                    }
                    "oMath" => {
                        let m = crate::omml::latex(n, self.options.limits.max_depth)?;
                        para.text.push_str(&format!(" ${m}$ "));
                    }
                    _ => {}
                }
                continue;
            }
            match local(n) {
                "r" => self.run(n, para, font, depth + 1)?,
                "hyperlink" => {
                    let start = para.text.len();
                    self.inline(n, para, font, depth + 1)?;
                    // An external relationship (`r:id`) or a bookmark here (`w:anchor`).
                    let url = rel_id(n)
                        .and_then(|id| self.rels.get(id))
                        .filter(|r| r.external)
                        .map(|r| r.target.clone())
                        .or_else(|| attr(n, "anchor").map(|a| format!("#{a}")));
                    para.link_from(start, url);
                }
                "fldSimple" => {
                    let start = para.text.len();
                    self.inline(n, para, font, depth + 1)?;
                    para.link_from(start, attr(n, "instr").and_then(field_target));
                }
                "ins" | "moveTo" | "smartTag" | "customXml" | "bdo" | "dir" => {
                    self.inline(n, para, font, depth + 1)?;
                }
                "sdt" => {
                    if let Some(c) = child(n, "sdtContent") {
                        self.inline(c, para, font, depth + 1)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn run<'a, 'i>(
        &mut self,
        r: Node<'a, 'i>,
        para: &mut Para<'a, 'i>,
        font: Option<&str>,
        depth: usize,
    ) -> Result<(), OfficeError> {
        let rpr = child(r, "rPr");
        if rpr.is_some_and(|p| on(p, "vanish")) {
            return Ok(());
        }
        let run_font = rpr
            .and_then(|p| child(p, "rFonts"))
            .and_then(|f| attr(f, "ascii").or(attr(f, "hAnsi")))
            .or(font);
        let mut had_text = false;
        for c in r.children().filter(|n| n.is_element()) {
            match local(c) {
                "t" => {
                    if let Some(t) = c.text() {
                        para.text.push_str(t);
                        had_text |= !t.trim().is_empty();
                    }
                }
                "tab" | "ptab" => para.text.push('\t'),
                "br" | "cr" => para.text.push('\n'),
                "noBreakHyphen" => para.text.push('-'),
                "fldChar" => match attr(c, "fldCharType") {
                    Some("begin") => para.fields.push((String::new(), None)),
                    Some("separate") => {
                        let at = para.text.len();
                        if let Some(f) = para.fields.last_mut() {
                            f.1 = Some(at);
                        }
                    }
                    Some("end") => {
                        if let Some((instr, Some(start))) = para.fields.pop() {
                            para.link_from(start, field_target(&instr));
                        }
                    }
                    _ => {}
                },
                "instrText" => {
                    if let (Some(f), Some(t)) = (para.fields.last_mut(), c.text()) {
                        // Bounded: a hostile field cannot grow one string without end.
                        if f.0.len() < 4096 {
                            f.0.push_str(t);
                        }
                    }
                }
                "footnoteReference" | "endnoteReference" => {
                    if let Some(id) = attr(c, "id") {
                        self.note_refs
                            .push((local(c) == "endnoteReference", id.to_string()));
                    }
                }
                "drawing" | "pict" | "object" => self.drawing(c, para, depth + 1)?,
                "AlternateContent" => {
                    if let Some(first) = c.children().find(|x| x.is_element()) {
                        self.drawing(first, para, depth + 1)?;
                    }
                }
                _ => {}
            }
        }
        if had_text && !run_font.is_some_and(is_mono) {
            para.monospace = false;
        }
        Ok(())
    }

    /// A drawing or VML picture: text boxes are read as blocks; pictures become figures.
    fn drawing<'a, 'i>(
        &mut self,
        node: Node<'a, 'i>,
        para: &mut Para<'a, 'i>,
        depth: usize,
    ) -> Result<(), OfficeError> {
        self.check_depth(depth)?;
        let mut figure = false;
        let mut source: Option<FigureSource> = None;
        let mut stack = vec![(node, depth)];
        while let Some((n, d)) = stack.pop() {
            self.check_depth(d)?;
            match local(n) {
                "txbxContent" => {
                    para.deferred.push(Deferred::Body(n));
                    continue;
                }
                "blip" | "imagedata" => {
                    figure = true;
                    // `r:embed` (DrawingML) or `r:id` / `o:relid` (VML): the first picture of the drawing.
                    let rel = attr(n, "embed")
                        .or_else(|| attr(n, "link"))
                        .or_else(|| attr(n, "id"))
                        .or_else(|| attr(n, "relid"))
                        .and_then(|id| self.rels.get(id));
                    if source.is_none() {
                        source = rel.map(|r| {
                            if r.external {
                                FigureSource::External
                            } else {
                                FigureSource::Member(r.target.clone())
                            }
                        });
                    }
                }
                // A chart or diagram is a figure too.
                "chart" | "relIds" => figure = true,
                "AlternateContent" => {
                    if let Some(first) = n.children().find(|x| x.is_element()) {
                        stack.push((first, d + 1));
                    }
                    continue;
                }
                _ => {}
            }
            // Depth-first in document order.
            let kids: Vec<_> = n.children().filter(|c| c.is_element()).collect();
            for k in kids.into_iter().rev() {
                stack.push((k, d + 1));
            }
        }
        if figure {
            para.deferred.push(Deferred::Figure(source));
        }
        Ok(())
    }

    /// The text of any subtree as one string (table cells, notes, headers): paragraphs joined
    /// by spaces, list items with their bullet or number.
    fn flat_text(&mut self, node: Node<'_, '_>, depth: usize) -> Result<String, OfficeError> {
        self.check_depth(depth)?;
        let mut out = String::new();
        for n in node.children().filter(|n| n.is_element()) {
            match local(n) {
                "p" => {
                    self.options.check(FORMAT)?;
                    let mut para = Para::new(false);
                    self.inline(n, &mut para, None, depth + 1)?;
                    self.flat_links.append(&mut para.links);
                    let text = para.text.trim();
                    if !text.is_empty() {
                        let prefix =
                            match self.num(n).and_then(|(id, l)| self.numbering.next(&id, l)) {
                                Some((true, label)) if !label.is_empty() => format!("{label} "),
                                Some(_) => "- ".to_string(),
                                None => String::new(),
                            };
                        out.push(' ');
                        out.push_str(&prefix);
                        out.push_str(text);
                    }
                    for m in para.display_math {
                        out.push_str(&format!(" $${m}$$"));
                    }
                    for d in para.deferred {
                        if let Deferred::Body(b) = d {
                            out.push(' ');
                            out.push_str(&self.flat_text(b, depth + 1)?);
                        }
                    }
                }
                "tbl" => {
                    for tr in n
                        .descendants()
                        .filter(|x| x.is_element() && local(*x) == "tc")
                    {
                        out.push(' ');
                        out.push_str(&self.flat_text(tr, depth + 1)?);
                    }
                }
                _ => {
                    out.push(' ');
                    out.push_str(&self.flat_text(n, depth + 1)?);
                }
            }
        }
        Ok(collapse_ws(&out))
    }

    /// A table: `gridSpan` becomes a column span, `vMerge` runs a row span.
    fn table(&mut self, tbl: Node<'_, '_>, depth: usize) -> Result<Table, OfficeError> {
        self.check_depth(depth)?;
        struct Raw {
            col: u32,
            span: u32,
            merge: Option<bool>, // Some(true) = restart, Some(false) = continue
            text: String,
        }
        let max_cells = self.options.limits.max_cells_per_sheet as usize;
        let mut rows: Vec<Vec<Raw>> = Vec::new();
        let mut count = 0usize;
        for tr in tbl
            .children()
            .filter(|n| n.is_element() && local(*n) == "tr")
        {
            self.options.check(FORMAT)?;
            let mut col = tr
                .children()
                .find(|n| n.is_element() && local(*n) == "trPr")
                .and_then(|p| child_val(p, "gridBefore"))
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
                .min(1000);
            let mut row = Vec::new();
            let cells = tr.children().filter(|n| n.is_element()).flat_map(|n| {
                // Cells can sit inside content controls.
                if local(n) == "sdt" {
                    child(n, "sdtContent")
                        .map(|c| {
                            c.children()
                                .filter(|x| x.is_element() && local(*x) == "tc")
                                .collect()
                        })
                        .unwrap_or_default()
                } else if local(n) == "tc" {
                    vec![n]
                } else {
                    Vec::new()
                }
            });
            for tc in cells {
                count += 1;
                if count > max_cells {
                    return Err(OfficeError::limit(
                        FORMAT,
                        "table cells",
                        count as u64,
                        max_cells as u64,
                    ));
                }
                let tcpr = child(tc, "tcPr");
                let span = tcpr
                    .and_then(|p| child_val(p, "gridSpan"))
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(1)
                    .clamp(1, 1000);
                let merge = tcpr
                    .and_then(|p| child(p, "vMerge"))
                    .map(|m| attr(m, "val") == Some("restart"));
                let text = if merge == Some(false) {
                    String::new()
                } else {
                    self.flat_text(tc, depth + 1)?
                };
                row.push(Raw {
                    col,
                    span,
                    merge,
                    text,
                });
                col += span;
            }
            rows.push(row);
        }
        let mut cells = Vec::new();
        let mut cols = 0;
        for (r, row) in rows.iter().enumerate() {
            for c in row {
                if c.merge == Some(false) {
                    continue;
                }
                let mut row_span = 1;
                if c.merge == Some(true) {
                    for below in rows.iter().skip(r + 1) {
                        if below
                            .iter()
                            .any(|x| x.col == c.col && x.merge == Some(false))
                        {
                            row_span += 1;
                        } else {
                            break;
                        }
                    }
                }
                cols = cols.max(c.col + c.span);
                cells.push(Cell {
                    row: r as u32,
                    col: c.col,
                    row_span,
                    col_span: c.span,
                    text: c.text.clone(),
                    bbox: None,
                    header: false,
                });
            }
        }
        Ok(Table {
            rows: rows.len() as u32,
            cols,
            cells,
        })
    }
}
