//! PPTX (PresentationML): one page per slide, in the presentation's order, with the slide's
//! size; the title as a heading; text frames, tables, pictures and charts in reading order
//! (top to bottom, then left to right, from each shape's position); speaker notes as an option.

use std::collections::HashMap;

use folio_doc::{BBox, BlockKind, Cell, Document, Link, Table};
use roxmltree::Node;

use crate::build::{collapse_ws, link, DocBuilder};
use crate::media::FigureSource;
use crate::package::{parse_xml, relationships, Package, Rel};
use crate::xml::{attr, child, children, local};
use crate::{OfficeError, OfficeOptions};

const FORMAT: &str = "pptx";
/// English Metric Units per point.
const EMU_PER_PT: f32 = 12_700.0;

/// A placeholder's kind and index, to find its position on the layout when the slide omits it.
#[derive(Debug, Clone, PartialEq)]
struct Placeholder {
    kind: String,
    idx: Option<String>,
}

/// One thing on a slide, before ordering.
struct Item {
    bbox: Option<BBox>,
    /// Position in the shape tree, to keep the order of shapes without a position.
    order: usize,
    blocks: Vec<ItemBlock>,
    /// Where the picture of the item's figure is (a `pic` shape's embedded image).
    picture: Option<FigureSource>,
}

/// A block of an [`Item`]: its kind, text, table and hyperlinks.
type ItemBlock = (BlockKind, String, Option<Table>, Vec<Link>);

/// A paragraph of a text body.
struct TextPara {
    /// `(ordered, level)` for a list item.
    marker: Option<(bool, u8)>,
    text: String,
    /// Hyperlinks on its runs (`a:hlinkClick` to an external target).
    links: Vec<Link>,
}

/// The texts of a text body's paragraphs joined by spaces, with their links.
fn joined(paras: Vec<TextPara>) -> (String, Vec<Link>) {
    let mut texts = Vec::new();
    let mut links = Vec::new();
    for p in paras {
        texts.push(p.text);
        links.extend(p.links);
    }
    (texts.join(" "), links)
}

/// Reads a PPTX package.
pub(crate) fn read(bytes: &[u8], options: &OfficeOptions) -> Result<Document, OfficeError> {
    let limits = options.limits;
    let mut pkg = Package::open(bytes, FORMAT, &limits)?;
    let pres_name = relationships(&mut pkg, "")?
        .values()
        .find(|r| r.kind == "officeDocument" && !r.external)
        .map(|r| r.target.clone())
        .filter(|t| pkg.has(t))
        .unwrap_or_else(|| "ppt/presentation.xml".to_string());
    let pres_text = pkg.require_text(&pres_name)?;
    let pres = parse_xml(&pres_text, FORMAT, &pres_name, &limits)?;
    let pres_rels = relationships(&mut pkg, &pres_name)?;
    let root = pres.root_element();
    let (width, height) = child(root, "sldSz")
        .map(|s| {
            let n = |a| {
                attr(s, a)
                    .and_then(|v| v.parse::<f32>().ok())
                    .unwrap_or(0.0)
                    / EMU_PER_PT
            };
            (n("cx"), n("cy"))
        })
        .unwrap_or((720.0, 540.0));
    let slides: Vec<String> = child(root, "sldIdLst")
        .map(|l| {
            children(l, "sldId")
                .filter_map(|s| attr_ns_id(s))
                .filter_map(|id| pres_rels.get(id))
                .filter(|r| !r.external)
                .map(|r| r.target.clone())
                .collect()
        })
        .unwrap_or_default();
    if slides.len() > limits.max_slides {
        return Err(OfficeError::limit(
            FORMAT,
            "slides",
            slides.len() as u64,
            limits.max_slides as u64,
        ));
    }
    let mut b = DocBuilder::new(
        FORMAT,
        options.filename.as_deref(),
        "pptx: slide geometry from shape positions",
    );
    b.set_title(crate::docx::core_title(&mut pkg)?);
    let authors = comment_authors(&mut pkg, &pres_rels)?;
    let mut layouts: HashMap<String, Vec<(Placeholder, BBox)>> = HashMap::new();
    for slide in slides {
        options.check(FORMAT)?;
        b.start_page(width, height);
        let Some(text) = pkg.read_text(&slide)? else {
            b.warn(format!("slide {slide} is missing from the package"));
            continue;
        };
        let doc = parse_xml(&text, FORMAT, &slide, &limits)?;
        let rels = relationships(&mut pkg, &slide)?;
        let layout_boxes = match rels
            .values()
            .find(|r| r.kind == "slideLayout" && !r.external)
        {
            Some(l) => {
                if !layouts.contains_key(&l.target) {
                    let boxes = placeholder_boxes(&mut pkg, &l.target)?;
                    layouts.insert(l.target.clone(), boxes);
                }
                layouts.get(&l.target).cloned().unwrap_or_default()
            }
            None => Vec::new(),
        };
        let mut items = Vec::new();
        if let Some(tree) = doc
            .descendants()
            .find(|n| n.is_element() && local(*n) == "spTree")
        {
            let mut ctx = SlideCtx {
                pkg: &mut pkg,
                rels: &rels,
                layout: &layout_boxes,
                options,
                items: &mut items,
            };
            ctx.shapes(tree, 0)?;
        }
        for item in order_items(items) {
            let mut picture = item.picture;
            for (kind, text, table, links) in item.blocks {
                let bbox = item.bbox.unwrap_or_default();
                match table {
                    Some(t) => b.push_table_linked(t, bbox, links),
                    None if kind == BlockKind::Figure => {
                        b.push_figure_linked(bbox, picture.take(), links)
                    }
                    None => b.push_linked(kind, &text, bbox, links),
                }
            }
        }
        // Reviewers' comments on the slide, after its content.
        for rel in rels
            .values()
            .filter(|r| r.kind == "comments" && !r.external)
        {
            for c in comments(&mut pkg, &rel.target, &authors)? {
                b.push(BlockKind::Paragraph, &c);
            }
        }
        if options.notes {
            if let Some(notes) = rels
                .values()
                .find(|r| r.kind == "notesSlide" && !r.external)
            {
                if let Some(text) = pkg.read_text(&notes.target)? {
                    let ndoc = parse_xml(&text, FORMAT, &notes.target, &limits)?;
                    let notes_rels = relationships(&mut pkg, &notes.target)?;
                    for sp in ndoc
                        .descendants()
                        .filter(|n| n.is_element() && local(*n) == "sp")
                    {
                        if placeholder(sp).is_some_and(|p| p.kind == "body") {
                            if let Some(tx) = child(sp, "txBody") {
                                for p in paragraphs(tx, false, &notes_rels) {
                                    b.push_linked(
                                        BlockKind::Paragraph,
                                        &p.text,
                                        BBox::default(),
                                        p.links,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    b.finish_with_images(options, |name| pkg.read(name))
}

/// Comment authors by id (legacy `commentAuthors.xml` and modern `authors.xml`): (name, initials).
fn comment_authors(
    pkg: &mut Package<'_>,
    pres_rels: &HashMap<String, Rel>,
) -> Result<HashMap<String, (String, String)>, OfficeError> {
    let mut out = HashMap::new();
    let limits = *pkg.limits();
    let parts: Vec<String> = pres_rels
        .values()
        .filter(|r| matches!(r.kind.as_str(), "commentAuthors" | "authors") && !r.external)
        .map(|r| r.target.clone())
        .collect();
    for part in parts {
        let Some(text) = pkg.read_text(&part)? else {
            continue;
        };
        let doc = parse_xml(&text, FORMAT, &part, &limits)?;
        for a in doc
            .descendants()
            .filter(|n| n.is_element() && matches!(local(*n), "cmAuthor" | "author"))
        {
            if let Some(id) = attr(a, "id") {
                let name = attr(a, "name").unwrap_or("").to_string();
                let initials = attr(a, "initials").unwrap_or("").to_string();
                out.insert(id.to_string(), (name, initials));
            }
        }
    }
    Ok(out)
}

/// A comments part (legacy `p:cmLst` or modern threaded comments) as lines of
/// `[author: NAME (INITIALS), time: WHEN]: TEXT`.
fn comments(
    pkg: &mut Package<'_>,
    part: &str,
    authors: &HashMap<String, (String, String)>,
) -> Result<Vec<String>, OfficeError> {
    let limits = *pkg.limits();
    let Some(text) = pkg.read_text(part)? else {
        return Ok(Vec::new());
    };
    let doc = parse_xml(&text, FORMAT, part, &limits)?;
    let mut out = Vec::new();
    for cm in doc
        .descendants()
        .filter(|n| n.is_element() && matches!(local(*n), "cm" | "reply"))
    {
        let body = match child(cm, "text") {
            Some(t) => t.text().unwrap_or("").to_string(),
            None => child(cm, "txBody")
                .map(|tx| joined(paragraphs(tx, false, &HashMap::new())).0)
                .unwrap_or_default(),
        };
        let body = collapse_ws(&body);
        if body.is_empty() {
            continue;
        }
        let (name, initials) = attr(cm, "authorId")
            .and_then(|id| authors.get(id))
            .cloned()
            .unwrap_or_default();
        let when = attr(cm, "dt").or(attr(cm, "created")).unwrap_or("");
        let who = if initials.is_empty() {
            name
        } else {
            format!("{name} ({initials})")
        };
        out.push(format!("[author: {who}, time: {when}]: {body}"));
    }
    Ok(out)
}

/// The relationship id of a `p:sldId` (`r:id`, not the numeric `id`).
fn attr_ns_id<'a>(n: Node<'a, '_>) -> Option<&'a str> {
    n.attributes()
        .find(|a| a.name() == "id" && a.namespace().is_some_and(|ns| ns.contains("relationships")))
        .map(|a| a.value())
}

fn placeholder(sp: Node<'_, '_>) -> Option<Placeholder> {
    let ph = sp
        .children()
        .find(|n| n.is_element() && local(*n).starts_with("nv"))
        .and_then(|nv| child(nv, "nvPr"))
        .and_then(|p| child(p, "ph"))?;
    Some(Placeholder {
        kind: attr(ph, "type").unwrap_or("body").to_string(),
        idx: attr(ph, "idx").map(str::to_string),
    })
}

/// A shape's box from its `a:xfrm` (`p:spPr/a:xfrm` or a graphic frame's `p:xfrm`).
fn xfrm_box(node: Node<'_, '_>) -> Option<BBox> {
    let xfrm = node.children().filter(|n| n.is_element()).find_map(|n| {
        if local(n) == "xfrm" {
            Some(n)
        } else {
            child(n, "xfrm").filter(|_| local(n) == "spPr" || local(n) == "grpSpPr")
        }
    })?;
    let off = child(xfrm, "off")?;
    let ext = child(xfrm, "ext")?;
    let n = |e: Node<'_, '_>, a| {
        attr(e, a)
            .and_then(|v| v.parse::<f32>().ok())
            .unwrap_or(0.0)
            / EMU_PER_PT
    };
    let (x, y) = (n(off, "x"), n(off, "y"));
    let bbox = BBox::new(x, y, x + n(ext, "cx"), y + n(ext, "cy"));
    bbox.is_finite().then_some(bbox)
}

/// The boxes of a layout's placeholders.
fn placeholder_boxes(
    pkg: &mut Package<'_>,
    layout: &str,
) -> Result<Vec<(Placeholder, BBox)>, OfficeError> {
    let Some(text) = pkg.read_text(layout)? else {
        return Ok(Vec::new());
    };
    let limits = *pkg.limits();
    // A broken layout only loses positions.
    let Ok(doc) = parse_xml(&text, FORMAT, layout, &limits) else {
        return Ok(Vec::new());
    };
    Ok(doc
        .descendants()
        .filter(|n| n.is_element() && local(*n) == "sp")
        .filter_map(|sp| Some((placeholder(sp)?, xfrm_box(sp)?)))
        .collect())
}

struct SlideCtx<'c, 'p> {
    pkg: &'c mut Package<'p>,
    rels: &'c HashMap<String, Rel>,
    layout: &'c [(Placeholder, BBox)],
    options: &'c OfficeOptions,
    items: &'c mut Vec<Item>,
}

impl SlideCtx<'_, '_> {
    fn shapes(&mut self, tree: Node<'_, '_>, depth: usize) -> Result<(), OfficeError> {
        let max = self.options.limits.max_depth;
        if depth > max {
            return Err(OfficeError::limit(
                FORMAT,
                "shape nesting",
                depth as u64,
                max as u64,
            ));
        }
        for n in tree.children().filter(|n| n.is_element()) {
            let order = self.items.len();
            match local(n) {
                "sp" => {
                    let ph = placeholder(n);
                    let bbox = xfrm_box(n).or_else(|| {
                        let ph = ph.as_ref()?;
                        self.layout
                            .iter()
                            .find(|(l, _)| {
                                (ph.idx.is_some() && l.idx == ph.idx)
                                    || (l.kind == ph.kind
                                        && matches!(ph.kind.as_str(), "title" | "ctrTitle"))
                            })
                            .map(|(_, b)| *b)
                    });
                    let Some(tx) = child(n, "txBody") else {
                        continue;
                    };
                    let kind = ph.as_ref().map(|p| p.kind.as_str());
                    let is_title = matches!(kind, Some("title" | "ctrTitle"));
                    // Body placeholders show their master's bullets unless a paragraph says none.
                    let bulleted = matches!(kind, Some("body" | "obj"))
                        || ph
                            .as_ref()
                            .is_some_and(|p| p.kind == "body" && p.idx.is_some());
                    let mut blocks = Vec::new();
                    if is_title {
                        let (t, links) = joined(paragraphs(tx, false, self.rels));
                        blocks.push((BlockKind::Heading { level: 1 }, t, None, links));
                    } else {
                        for p in paragraphs(tx, bulleted, self.rels) {
                            let kind = match p.marker {
                                Some((ordered, level)) => BlockKind::ListItem { ordered, level },
                                None => BlockKind::Paragraph,
                            };
                            blocks.push((kind, p.text, None, p.links));
                        }
                    }
                    self.items.push(Item {
                        bbox,
                        order,
                        blocks,
                        picture: None,
                    });
                }
                "grpSp" => self.shapes(n, depth + 1)?,
                "graphicFrame" => {
                    let bbox = xfrm_box(n);
                    let mut blocks = Vec::new();
                    if let Some(tbl) = n
                        .descendants()
                        .find(|x| x.is_element() && local(*x) == "tbl")
                    {
                        let (t, links) = table(tbl, self.options, self.rels)?;
                        blocks.push((BlockKind::Table, String::new(), Some(t), links));
                    } else if let Some(chart) = n
                        .descendants()
                        .find(|x| x.is_element() && local(*x) == "chart")
                    {
                        let target = chart_rel(chart)
                            .and_then(|id| self.rels.get(id))
                            .filter(|r| !r.external)
                            .map(|r| r.target.clone());
                        let data = match target {
                            Some(t) => crate::chart::read(self.pkg, &t)?,
                            None => None,
                        };
                        if let Some(title) = data.as_ref().and_then(|c| c.title.clone()) {
                            blocks.push((BlockKind::Caption, title, None, Vec::new()));
                        }
                        blocks.push((BlockKind::Figure, String::new(), None, Vec::new()));
                        if let Some(t) = data.and_then(|c| c.table) {
                            blocks.push((BlockKind::Table, String::new(), Some(t), Vec::new()));
                        }
                    } else {
                        blocks.push((BlockKind::Figure, String::new(), None, Vec::new()));
                    }
                    self.items.push(Item {
                        bbox,
                        order,
                        blocks,
                        picture: None,
                    });
                }
                "pic" => {
                    // Only a picture whose image is in the package is a figure; a broken one
                    // (no fill, a dangling relationship) shows nothing.
                    let embedded = n
                        .descendants()
                        .find(|x| x.is_element() && local(*x) == "blip")
                        .and_then(|blip| attr(blip, "embed").or(attr(blip, "link")))
                        .and_then(|id| self.rels.get(id))
                        .filter(|r| !r.external && self.pkg.has(&r.target));
                    if let Some(rel) = embedded {
                        let blocks = vec![(BlockKind::Figure, String::new(), None, Vec::new())];
                        self.items.push(Item {
                            bbox: xfrm_box(n),
                            order,
                            blocks,
                            picture: Some(FigureSource::Member(rel.target.clone())),
                        });
                    }
                }
                "AlternateContent" => {
                    if let Some(first) = n.children().find(|c| c.is_element()) {
                        self.shapes(first, depth + 1)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn chart_rel<'a>(chart: Node<'a, '_>) -> Option<&'a str> {
    chart
        .attributes()
        .find(|a| a.name() == "id")
        .map(|a| a.value())
}

/// Reading order: by rows (shapes whose tops are within a few points), then left to right.
/// Shapes without a position keep their place after the shape before them in the tree.
fn order_items(items: Vec<Item>) -> Vec<Item> {
    let mut last = BBox::default();
    let mut keyed: Vec<((f32, f32, usize), Item)> = items
        .into_iter()
        .map(|it| {
            let b = it.bbox.unwrap_or(last);
            last = b;
            ((b.y0, b.x0, it.order), it)
        })
        .collect();
    // Sort by top, then cut into rows and sort each row left to right: a comparator with a
    // tolerance would not be a total order (and `sort_by` may panic on one).
    keyed.sort_by(|((ya, _, oa), _), ((yb, _, ob), _)| ya.total_cmp(yb).then(oa.cmp(ob)));
    let mut start = 0;
    while start < keyed.len() {
        let top = keyed[start].0 .0;
        let end = keyed[start..]
            .iter()
            .position(|((y, _, _), _)| y - top > 6.0)
            .map_or(keyed.len(), |p| start + p);
        keyed[start..end]
            .sort_by(|((_, xa, oa), _), ((_, xb, ob), _)| xa.total_cmp(xb).then(oa.cmp(ob)));
        start = end;
    }
    keyed.into_iter().map(|(_, it)| it).collect()
}

/// The external target of a run's `a:hlinkClick` (not a jump to another slide or an action).
fn run_link(r: Node<'_, '_>, rels: &HashMap<String, Rel>) -> Option<String> {
    let click = child(r, "rPr").and_then(|p| child(p, "hlinkClick"))?;
    let id = click
        .attributes()
        .find(|a| a.name() == "id" && a.namespace().is_some_and(|ns| ns.contains("relationships")))?
        .value();
    rels.get(id)
        .filter(|rel| rel.external)
        .map(|rel| rel.target.clone())
}

/// The paragraphs of a text body with their list markers (`(ordered, level)`) and hyperlinks
/// (resolved through `rels`, the relationships of the part the body is in).
fn paragraphs(tx: Node<'_, '_>, bulleted: bool, rels: &HashMap<String, Rel>) -> Vec<TextPara> {
    let mut out = Vec::new();
    let mut counters = [0u64; 10];
    for p in children(tx, "p") {
        let mut text = String::new();
        let mut links = Vec::new();
        // The link being read: its target and where its text starts (runs with the same
        // target one after the other are one link, however their formatting changes).
        let mut open: Option<(String, usize)> = None;
        for r in p.children().filter(|n| n.is_element()) {
            let target = match local(r) {
                "r" | "fld" => run_link(r, rels),
                _ => None,
            };
            if open.as_ref().map(|(u, _)| u) != target.as_ref() {
                if let Some((url, start)) = open.take() {
                    links.extend(link(&text[start..], &url));
                }
                open = target.map(|u| (u, text.len()));
            }
            match local(r) {
                "r" | "fld" => {
                    if let Some(t) = child(r, "t").and_then(|t| t.text()) {
                        text.push_str(t);
                    }
                }
                "br" => text.push('\n'),
                _ => {}
            }
        }
        if let Some((url, start)) = open {
            links.extend(link(&text[start..], &url));
        }
        let text = collapse_ws(&text);
        if text.is_empty() {
            continue;
        }
        let ppr = child(p, "pPr");
        let level = ppr
            .and_then(|p| attr(p, "lvl"))
            .and_then(|v| v.parse::<u8>().ok())
            .unwrap_or(0)
            .min(9);
        let none = ppr.is_some_and(|p| child(p, "buNone").is_some());
        let auto = ppr.and_then(|p| child(p, "buAutoNum"));
        let chr = ppr.is_some_and(|p| child(p, "buChar").is_some() || child(p, "buBlip").is_some());
        let marker = if none {
            None
        } else if let Some(auto) = auto {
            let i = level as usize;
            counters[i] = if counters[i] == 0 {
                attr(auto, "startAt")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1)
            } else {
                counters[i] + 1
            };
            for c in counters.iter_mut().skip(i + 1) {
                *c = 0;
            }
            let label = auto_label(attr(auto, "type").unwrap_or("arabicPeriod"), counters[i]);
            out.push(TextPara {
                marker: Some((true, level)),
                text: format!("{label} {text}"),
                links,
            });
            continue;
        } else if chr || bulleted {
            Some((false, level))
        } else {
            None
        };
        out.push(TextPara {
            marker,
            text,
            links,
        });
    }
    out
}

/// The label of an automatically numbered paragraph (`arabicPeriod` → "3.").
fn auto_label(kind: &str, n: u64) -> String {
    let base = if kind.starts_with("alphaLc") {
        ((b'a' + ((n.max(1) - 1) % 26) as u8) as char).to_string()
    } else if kind.starts_with("alphaUc") {
        ((b'A' + ((n.max(1) - 1) % 26) as u8) as char).to_string()
    } else if kind.starts_with("romanLc") {
        roman(n).to_lowercase()
    } else if kind.starts_with("romanUc") {
        roman(n)
    } else {
        n.to_string()
    };
    if kind.ends_with("ParenBoth") {
        format!("({base})")
    } else if kind.ends_with("ParenR") {
        format!("{base})")
    } else if kind.ends_with("Plain") {
        base
    } else {
        format!("{base}.")
    }
}

fn roman(mut n: u64) -> String {
    let mut out = String::new();
    for (v, s) in [
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
    ] {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

/// A DrawingML table: `gridSpan`/`rowSpan` start spans, `hMerge`/`vMerge` mark covered cells;
/// with the hyperlinks in its cells.
fn table(
    tbl: Node<'_, '_>,
    options: &OfficeOptions,
    rels: &HashMap<String, Rel>,
) -> Result<(Table, Vec<Link>), OfficeError> {
    let max = options.limits.max_cells_per_sheet;
    let mut cells = Vec::new();
    let mut links = Vec::new();
    let mut rows = 0u32;
    let mut cols = 0u32;
    let mut count = 0u64;
    for (r, tr) in children(tbl, "tr").enumerate() {
        options.check(FORMAT)?;
        rows = r as u32 + 1;
        for (c, tc) in children(tr, "tc").enumerate() {
            count += 1;
            if count > max {
                return Err(OfficeError::limit(FORMAT, "table cells", count, max));
            }
            cols = cols.max(c as u32 + 1);
            let covered = |a| matches!(attr(tc, a), Some("1" | "true"));
            if covered("hMerge") || covered("vMerge") {
                continue;
            }
            let span = |a| {
                attr(tc, a)
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(1)
                    .clamp(1, 1000)
            };
            let text = match child(tc, "txBody") {
                Some(tx) => {
                    let (text, cell_links) = joined(paragraphs(tx, false, rels));
                    links.extend(cell_links);
                    text
                }
                None => String::new(),
            };
            cells.push(Cell {
                row: r as u32,
                col: c as u32,
                row_span: span("rowSpan"),
                col_span: span("gridSpan"),
                text,
                bbox: None,
                header: r == 0,
            });
        }
    }
    for c in &mut cells {
        c.row_span = c.row_span.min(rows - c.row);
        c.col_span = c.col_span.min(cols - c.col);
    }
    Ok((Table { rows, cols, cells }, links))
}
