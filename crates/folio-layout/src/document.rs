//! Passes over the whole document: running headers and footers, and headings.

use std::collections::HashMap;

use folio_doc::{Block, BlockKind, Page, Source};

/// Share of the page height at the top and bottom where running headers and footers live.
const MARGIN_ZONE: f32 = 0.13;

/// Text with digits folded, so "Page 3 of 9" on every page compares equal.
fn furniture_key(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if c.is_ascii_digit() {
                '#'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn looks_like_page_number(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_prefix("page").unwrap_or(&t).trim();
    let core = t.trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
    !core.is_empty()
        && core.len() <= 12
        && core
            .split(|c: char| c == '/' || c.is_whitespace())
            .all(|w| {
                w.is_empty() || w == "of" || w.chars().all(|c| c.is_ascii_digit()) || is_roman(w)
            })
}

/// A running header or footer line: a short title with the page number at one end
/// ("Optimized Table Tokenization 9", "12 Journal of Things").
fn numbered_running_line(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let is_page_no = |w: &&str| w.len() <= 4 && w.chars().all(|c| c.is_ascii_digit());
    let numbered_end =
        words.first().is_some_and(is_page_no) || words.last().is_some_and(is_page_no);
    numbered_end && (4..=16).contains(&words.len())
}

fn is_roman(w: &str) -> bool {
    !w.is_empty() && w.len() <= 6 && w.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l'))
}

/// `Some(true)` for a text block in the top margin zone, `Some(false)` in the bottom one.
fn margin_zone(page_height: f32, b: &Block) -> Option<bool> {
    if b.kind == BlockKind::Table || b.kind == BlockKind::Figure || page_height <= 0.0 {
        None
    } else if b.bbox.y1 <= page_height * MARGIN_ZONE {
        Some(true)
    } else if b.bbox.y0 >= page_height * (1.0 - MARGIN_ZONE) {
        Some(false)
    } else {
        None
    }
}

/// Stamps, banners and notices that publishers and repositories print in the margins:
/// furniture by their content alone, on a page of its own too.
fn stamp_like(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    const MARKS: &[&str] = &[
        "downloaded from",
        "downloaded by",
        "all rights reserved",
        "this article is protected by copyright",
        "for personal use only",
        "accepted manuscript",
        "author manuscript",
        "creative commons",
        "licensed under",
        "provided by",
        "doi:",
        "doi.org/",
        "arxiv:",
        "issn",
        "http://",
        "https://",
        "www.",
        "©",
        "(c) ",
        "copyright",
        "rev.",
        "revision",
        "revised",
        "printed in",
        "confidential",
    ];
    // A footnote (a marker, then its text) may cite a web address; it stays text.
    let footnote = t
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || "*†‡§¶".contains(c))
        && !t.starts_with("doi")
        && !t.contains("downloaded");
    !footnote
        && (MARKS.iter().any(|m| t.contains(m))
            || t.starts_with("vol.")
            || t.starts_with("volume "))
}

/// A journal banner or running head: a short line of the margin set smaller than the body,
/// or naming the publication ("Journal of …", "Proceedings of …", "Vol. 3, No. 2, pp. 1-20").
fn banner_like(text: &str, size: f32, body: Option<f32>) -> bool {
    let t = text.trim().to_lowercase();
    let words = t.split_whitespace().count();
    let smaller = body.is_some_and(|b| size > 0.0 && size < 0.9 * b);
    let names_publication = [
        "journal",
        "proceedings",
        "transactions",
        "conference",
        "vol.",
        "no.",
        "pp.",
    ]
    .iter()
    .any(|k| t.contains(k));
    words <= 16 && (smaller || names_publication)
}

/// Text turned on its side in the left or right margin (the identifier arXiv stamps along a
/// preprint's edge).
fn side_stamp(page_width: f32, b: &Block) -> bool {
    b.bbox.height() > 4.0 * b.bbox.width()
        && (b.bbox.x1 <= page_width * 0.12 || b.bbox.x0 >= page_width * 0.88)
}

/// Marks blocks in the top or bottom margin as page header or footer when their text (digits
/// folded) repeats on at least two pages, when they are a page number, a stamp or a banner by
/// their content and size (on a single page too), and text along a side margin.
pub(crate) fn mark_furniture(pages: &mut [Page]) {
    let body = body_size(pages);
    let mut seen: HashMap<(bool, String), usize> = HashMap::new();
    for page in pages.iter() {
        let mut keys: Vec<(bool, String)> = page
            .blocks
            .iter()
            .filter_map(|b| margin_zone(page.height, b).map(|top| (top, furniture_key(&b.text))))
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            *seen.entry(k).or_default() += 1;
        }
    }
    for page in pages.iter_mut() {
        let (height, width) = (page.height, page.width);
        for b in &mut page.blocks {
            let text_block = !matches!(b.kind, BlockKind::Table | BlockKind::Figure);
            if text_block && side_stamp(width, b) && b.text.split_whitespace().count() <= 20 {
                b.kind = BlockKind::PageHeader;
                continue;
            }
            let Some(top) = margin_zone(height, b) else {
                continue;
            };
            let repeats = seen
                .get(&(top, furniture_key(&b.text)))
                .copied()
                .unwrap_or(0)
                >= 2;
            let single_line = b.lines.len() <= 1;
            let (size, _) = block_style(b);
            // A heading-sized line at the top is a title, whatever it says.
            let not_title = body.is_none_or(|body| size <= body * 1.05);
            let by_content = b.lines.len() <= 3
                && not_title
                && (stamp_like(&b.text)
                    || (top && single_line && banner_like(&b.text, size, body)));
            if repeats
                || looks_like_page_number(&b.text)
                || (single_line && numbered_running_line(&b.text))
                || by_content
            {
                b.kind = if top {
                    BlockKind::PageHeader
                } else {
                    BlockKind::PageFooter
                };
            }
        }
    }
}

/// An OCR'd line may be a heading when the page has prose and the line is words of letters
/// (not a scrawl read as a few odd characters).
fn ocr_heading_plausible(text: &str, prose_blocks: usize) -> bool {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let letters = chars.iter().filter(|c| c.is_alphabetic()).count();
    let words = text
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count();
    prose_blocks >= 3 && words >= 2 && letters * 5 >= chars.len() * 4
}

/// The size that most characters of body text use, rounded to half a point.
fn body_size(pages: &[Page]) -> Option<f32> {
    let mut hist: HashMap<i32, usize> = HashMap::new();
    for b in pages.iter().flat_map(|p| &p.blocks) {
        if b.kind != BlockKind::Paragraph && !matches!(b.kind, BlockKind::ListItem { .. }) {
            continue;
        }
        for s in b.lines.iter().flat_map(|l| &l.spans) {
            *hist.entry((s.size * 2.0).round() as i32).or_default() += s.text.len();
        }
    }
    hist.into_iter()
        .max_by_key(|(size, n)| (*n, -*size))
        .map(|(s, _)| s as f32 / 2.0)
}

/// The size and weight that dominate a block (by characters).
fn block_style(b: &Block) -> (f32, bool) {
    let mut chars = 0usize;
    let mut bold_chars = 0usize;
    let mut weighted = 0.0f32;
    for s in b.lines.iter().flat_map(|l| &l.spans) {
        let n = s.text.trim().chars().count();
        chars += n;
        weighted += s.size * n as f32;
        if s.bold {
            bold_chars += n;
        }
    }
    if chars == 0 {
        return (0.0, false);
    }
    (weighted / chars as f32, bold_chars * 10 >= chars * 9)
}

/// A numbered section title: "3", "3.1", "A.2", "IV." followed by words.
fn numbered_title(text: &str) -> bool {
    let mut parts = text.splitn(2, ' ');
    let (Some(num), Some(rest)) = (parts.next(), parts.next()) else {
        return false;
    };
    let num = num.trim_end_matches('.');
    let numeric = !num.is_empty()
        && num.split('.').all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && (p.chars().all(|c| c.is_ascii_digit())
                    || (p.len() == 1 && p.chars().all(|c| c.is_ascii_uppercase())))
        })
        && num
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || num.contains('.'));
    numeric && rest.chars().next().is_some_and(|c| c.is_uppercase())
}

/// Decides which paragraphs are headings and their levels: larger than body text, or bold
/// (when body text is not) and short, or a short numbered section title. Levels follow the
/// distinct heading sizes, largest first.
/// A heading stands alone across its column. Three or more short blocks side by side on one
/// row are the labels of a diagram, a legend or a table the rules did not find, however large
/// their letters.
fn in_row_of_labels(page: &Page, bi: usize) -> bool {
    let b = &page.blocks[bi];
    if b.bbox.is_zero() || b.lines.len() > 2 {
        return false;
    }
    let beside = page
        .blocks
        .iter()
        .enumerate()
        .filter(|&(i, o)| {
            let overlap = b.bbox.y1.min(o.bbox.y1) - b.bbox.y0.max(o.bbox.y0);
            i != bi
                && !o.kind.is_furniture()
                && o.lines.len() <= 2
                && overlap >= 0.5 * b.bbox.height().max(o.bbox.height())
                && (o.bbox.x1 <= b.bbox.x0 || o.bbox.x0 >= b.bbox.x1)
        })
        .count();
    beside >= 2
}

pub(crate) fn mark_headings(pages: &mut [Page]) {
    let Some(body) = body_size(pages) else {
        return;
    };
    let body_bold = {
        let (mut bold, mut all) = (0usize, 0usize);
        for s in pages
            .iter()
            .flat_map(|p| &p.blocks)
            .flat_map(|b| &b.lines)
            .flat_map(|l| &l.spans)
        {
            all += s.text.len();
            if s.bold {
                bold += s.text.len();
            }
        }
        bold * 2 > all
    };
    let mut candidates: Vec<(usize, usize, f32)> = Vec::new();
    for (pi, page) in pages.iter().enumerate() {
        // A scan read by OCR has headings only when it reads like a document (paragraphs of
        // prose); on a receipt or form, large letters are a logo or a handwritten scrawl.
        let prose = page
            .blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Paragraph && b.text.split_whitespace().count() >= 8)
            .count();
        // A receipt's address lines make paragraphs of eight words too: the text's shape, a
        // strip, says it is no document, and its large letters (a handwritten note across the
        // top, a shop's name) are no headings.
        let receipt = crate::regions::receipt_shaped(page.blocks.iter().map(|b| &b.bbox));
        // The layout model laid the page out: its title regions already made the headings
        // that OCR's lines hold, and font sizes guessed from OCR's boxes add none.
        let model_titles = page
            .provenance
            .stages
            .iter()
            .any(|s| s == crate::regions::MODEL_STAGE);
        for (bi, b) in page.blocks.iter().enumerate() {
            if b.kind != BlockKind::Paragraph {
                continue;
            }
            if b.provenance.source == Source::Ocr
                && (model_titles || receipt || !ocr_heading_plausible(&b.text, prose))
            {
                continue;
            }
            let text = b.text.trim();
            let words = text.split_whitespace().count();
            if text.is_empty() || b.lines.len() > 3 || text.len() > 160 || words > 20 {
                continue;
            }
            let has_letters = text.chars().filter(|c| c.is_alphabetic()).count() >= 2;
            if !has_letters {
                continue;
            }
            let (size, bold) = block_style(b);
            let larger = size >= body * 1.15;
            let ends_like_sentence = text.ends_with(['.', ',', ';']) && !numbered_title(text);
            let bold_title = bold && !body_bold && size >= body * 0.95 && words <= 14;
            // A one-line numbered title ("5.1 Hyper Parameter Optimization") is a heading even
            // when the font does not say bold (unnamed Type 1 fonts hide their weight).
            let numbered = numbered_title(text)
                && words <= 14
                && (bold || larger || (b.lines.len() == 1 && !text.ends_with('.')));
            if (((larger || bold_title) && !ends_like_sentence) || numbered)
                && !in_row_of_labels(page, bi)
            {
                candidates.push((pi, bi, size));
            }
        }
    }
    let mut sizes: Vec<i32> = candidates
        .iter()
        .map(|c| (c.2 * 2.0).round() as i32)
        .collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    sizes.dedup();
    // Level 1 is the document's title: the one heading of the largest size, on the first page.
    // Section headings start at level 2, as most documents have one title and many sections.
    let largest = sizes.first().copied();
    let at_largest: Vec<&(usize, usize, f32)> = candidates
        .iter()
        .filter(|c| Some((c.2 * 2.0).round() as i32) == largest)
        .collect();
    let has_title = at_largest.len() == 1 && at_largest[0].0 == 0 && sizes.len() > 1;
    for (pi, bi, size) in candidates {
        let key = (size * 2.0).round() as i32;
        let rank = sizes.iter().position(|&s| s == key).unwrap_or(0);
        let level = if has_title { rank + 1 } else { rank + 2 };
        pages[pi].blocks[bi].kind = BlockKind::Heading {
            level: level.min(6) as u8,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use folio_doc::{BBox, Line, PageProvenance, Provenance, Span};

    fn text_block(text: &str, bbox: BBox, size: f32, source: Source) -> Block {
        let line = Line {
            bbox,
            spans: vec![Span {
                text: text.into(),
                bbox,
                font: "Times".into(),
                size,
                bold: false,
                italic: false,
            }],
        };
        Block::from_lines(
            BlockKind::Paragraph,
            vec![line],
            Provenance { page: 1, source },
        )
    }

    fn one_page(blocks: Vec<Block>) -> Vec<Page> {
        vec![Page {
            number: 1,
            width: 612.0,
            height: 792.0,
            rotation: 0,
            blocks,
            provenance: PageProvenance::new(Source::TextLayer, "test"),
        }]
    }

    fn body(n: usize) -> Vec<Block> {
        (0..n)
            .map(|i| {
                let y = 150.0 + i as f32 * 60.0;
                text_block(
                    "Body text of the paper runs on in sentences of ordinary length here.",
                    BBox::new(72.0, y, 540.0, y + 40.0),
                    10.0,
                    Source::TextLayer,
                )
            })
            .collect()
    }

    #[test]
    fn stamps_banners_and_side_ids_on_a_single_page_are_furniture() {
        let mut blocks = vec![
            text_block(
                "Journal of Applied Things, Vol. 12",
                BBox::new(72.0, 30.0, 300.0, 38.0),
                8.0,
                Source::TextLayer,
            ),
            text_block(
                "A Large Title Of The Paper",
                BBox::new(72.0, 60.0, 540.0, 80.0),
                18.0,
                Source::TextLayer,
            ),
            text_block(
                "arXiv:2301.00001v2 [cs.CL] 3 Jan 2023",
                BBox::new(10.0, 200.0, 30.0, 600.0),
                20.0,
                Source::TextLayer,
            ),
            text_block(
                "Downloaded from https://example.org on 3 May 2024",
                BBox::new(72.0, 760.0, 540.0, 770.0),
                7.0,
                Source::TextLayer,
            ),
            text_block(
                "1 https://github.com/example/code",
                BBox::new(72.0, 740.0, 300.0, 748.0),
                8.0,
                Source::TextLayer,
            ),
        ];
        blocks.extend(body(8));
        let mut pages = one_page(blocks);
        mark_furniture(&mut pages);
        mark_headings(&mut pages);
        let kinds: Vec<BlockKind> = pages[0].blocks.iter().map(|b| b.kind).collect();
        assert_eq!(kinds[0], BlockKind::PageHeader);
        assert!(matches!(kinds[1], BlockKind::Heading { .. }));
        assert_eq!(kinds[2], BlockKind::PageHeader);
        assert_eq!(kinds[3], BlockKind::PageFooter);
        assert_eq!(
            kinds[4],
            BlockKind::Paragraph,
            "a footnote citing a link stays text"
        );
    }

    #[test]
    fn large_labels_side_by_side_are_no_headings() {
        // A diagram's four labels in large letters on one row, then a title alone on its row.
        let mut blocks: Vec<Block> = (0..4)
            .map(|i| {
                let x = 72.0 + i as f32 * 120.0;
                text_block(
                    &format!("Goal number {i}"),
                    BBox::new(x, 600.0, x + 90.0, 614.0),
                    14.0,
                    Source::TextLayer,
                )
            })
            .collect();
        blocks.push(text_block(
            "Strategic goals",
            BBox::new(72.0, 100.0, 300.0, 114.0),
            14.0,
            Source::TextLayer,
        ));
        blocks.extend(body(6));
        let mut pages = one_page(blocks);
        mark_headings(&mut pages);
        let kinds: Vec<BlockKind> = pages[0].blocks.iter().map(|b| b.kind).collect();
        assert!(kinds[..4].iter().all(|k| *k == BlockKind::Paragraph));
        assert!(matches!(kinds[4], BlockKind::Heading { .. }));
    }

    #[test]
    fn a_scrawl_on_a_receipt_is_no_heading() {
        let blocks = vec![
            text_block(
                "Aih",
                BBox::new(100.0, 600.0, 160.0, 640.0),
                30.0,
                Source::Ocr,
            ),
            text_block(
                "TOTAL 12.00",
                BBox::new(100.0, 300.0, 200.0, 310.0),
                10.0,
                Source::Ocr,
            ),
            text_block(
                "CASH 20.00",
                BBox::new(100.0, 320.0, 200.0, 330.0),
                10.0,
                Source::Ocr,
            ),
        ];
        let mut pages = one_page(blocks);
        mark_furniture(&mut pages);
        mark_headings(&mut pages);
        assert_eq!(pages[0].blocks[0].kind, BlockKind::Paragraph);
    }

    #[test]
    fn a_handwritten_note_across_a_receipt_is_no_heading() {
        // A note scrawled over a receipt's top in large letters, read as words, above address
        // and item lines long enough to pass for prose; the text is a strip `width` wide.
        let page = |width: f32| {
            let mut blocks = vec![text_block(
                "TUKAR KEPALA GAS DAPUR",
                BBox::new(100.0, 40.0, 100.0 + width, 80.0),
                30.0,
                Source::Ocr,
            )];
            for i in 0..4 {
                let y = 120.0 + i as f32 * 150.0;
                blocks.push(text_block(
                    "NO. 17-G, JALAN SETIA INDAH, SEKSYEN U13, 40170 SHAH ALAM",
                    BBox::new(100.0, y, 100.0 + width, y + 30.0),
                    10.0,
                    Source::Ocr,
                ));
            }
            let mut pages = one_page(blocks);
            mark_furniture(&mut pages);
            mark_headings(&mut pages);
            pages[0].blocks[0].kind
        };
        assert_eq!(page(200.0), BlockKind::Paragraph);
        // The same lines across a page: a document, whose large line is a heading.
        assert!(matches!(page(480.0), BlockKind::Heading { .. }));
    }

    #[test]
    fn page_numbers_and_titles() {
        assert!(looks_like_page_number("12"));
        assert!(looks_like_page_number("Page 3 of 10"));
        assert!(looks_like_page_number("- 4 -"));
        assert!(looks_like_page_number("xii"));
        assert!(!looks_like_page_number("Introduction"));
        assert!(numbered_running_line(
            "Optimized Table Tokenization for Table Structure Recognition 9"
        ));
        assert!(!numbered_running_line("Chapter 3"));
        assert!(numbered_title("5.1 Hyper Parameter Optimization"));
        assert!(numbered_title("3 Method"));
        assert!(!numbered_title("2023 was a year"));
        assert!(!numbered_title("Hello World"));
    }
}
