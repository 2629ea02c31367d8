//! Passes over the whole document: running headers and footers, and headings.

use std::collections::HashMap;

use folio_doc::{Block, BlockKind, Page};

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

/// Marks blocks in the top or bottom margin as page header or footer when their text (digits
/// folded) repeats on at least two pages, or when they are just a page number.
pub(crate) fn mark_furniture(pages: &mut [Page]) {
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
        let height = page.height;
        for b in &mut page.blocks {
            let Some(top) = margin_zone(height, b) else {
                continue;
            };
            let repeats = seen
                .get(&(top, furniture_key(&b.text)))
                .copied()
                .unwrap_or(0)
                >= 2;
            let single_line = b.lines.len() <= 1;
            if repeats
                || looks_like_page_number(&b.text)
                || (single_line && numbered_running_line(&b.text))
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
        for (bi, b) in page.blocks.iter().enumerate() {
            if b.kind != BlockKind::Paragraph {
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
            if ((larger || bold_title) && !ends_like_sentence) || numbered {
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
