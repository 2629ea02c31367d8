//! Glyphs → fragments: runs of words on one baseline with no wide gap inside.
//!
//! A fragment never crosses a column gutter or a table rule gap, so it is the atom that reading
//! order and table detection move around. Text is assembled here: spaces from geometry (gaps
//! wider than a fraction of the font size, or explicit space glyphs), NFKC for ligatures and
//! compatibility forms, logical order for right-to-left scripts.

use std::sync::Arc;

use folio_doc::{BBox, Span};
use unicode_bidi::{BidiInfo, Level};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use folio_content::{FontInfo, Glyph, Segment};

/// A gap wider than this many font sizes starts a new fragment.
const FRAGMENT_GAP_EM: f32 = 0.8;
/// A gap wider than this many font sizes between two glyphs is a word space.
const WORD_GAP_EM: f32 = 0.17;
/// In a run whose gaps fall into two clear groups, a word space is at least this much (in font
/// sizes) wider than the gaps between its letters.
const MIN_WORD_GAP_EM: f32 = 0.09;

/// A run of glyphs on one baseline.
#[derive(Debug, Clone)]
pub(crate) struct Fragment {
    /// Box in page coordinates.
    pub bbox: BBox,
    /// Box in the text's own frame (baseline horizontal), for geometry along and across lines.
    pub frame: BBox,
    /// Baseline direction in quarter turns (0 = upright, 1 = 90° CCW, …), or 4 for other angles.
    pub orientation: u8,
    /// Dominant font size.
    pub size: f32,
    /// Spans in logical order, each with its own text (words separated by spaces).
    pub spans: Vec<Span>,
    /// Every span bold.
    pub bold: bool,
    /// Every span monospaced.
    pub monospace: bool,
    /// Mostly right-to-left script.
    pub rtl: bool,
    /// Boxes of the words, left to right, with their text (empty for right-to-left text, whose
    /// words are reordered). Table detection splits a fragment between words that fall in
    /// different columns.
    pub words: Vec<(String, BBox)>,
}

impl Fragment {
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

/// A glyph seen in the frame of its own baseline.
struct FramedGlyph<'g> {
    glyph: &'g Glyph,
    frame: BBox,
}

fn orientation_of(angle: f32) -> u8 {
    let a = angle.rem_euclid(360.0);
    for (q, target) in [(0u8, 0.0f32), (1, 90.0), (2, 180.0), (3, 270.0), (0, 360.0)] {
        if (a - target).abs() < 3.0 {
            return q;
        }
    }
    4
}

/// Maps a glyph's page-coordinate box into the frame where text of `angle` degrees runs left to
/// right. The box is the axis-aligned hull of the glyph's rotated em box, so the advance along
/// the baseline is recovered from the hull's size (exact at right angles, and without the
/// hull's inflation at other angles).
fn to_frame(b: &BBox, angle: f32, size: f32) -> BBox {
    let t = angle.to_radians();
    let (ux, uy) = (t.cos(), -t.sin());
    let (vx, vy) = (-uy, ux);
    let (cx, cy) = b.center();
    let (cu, cv) = (cx * ux + cy * uy, cx * vx + cy * vy);
    let (c, s) = (ux.abs(), uy.abs());
    let h = size.max(0.01);
    let advance = if c >= s {
        (b.width() - h * s) / c
    } else {
        (b.height() - h * c) / s
    };
    let w = advance.max(0.0);
    BBox::new(cu - w / 2.0, cv - h / 2.0, cu + w / 2.0, cv + h / 2.0)
}

/// Groups glyphs into fragments. Glyphs with no text are dropped; exact duplicates (a face made
/// bold by drawing it twice) are kept once.
pub(crate) fn fragments(glyphs: &[Glyph], segments: &[Segment]) -> Vec<Fragment> {
    // Vertical rules separate table cells even when the text inside them nearly touches.
    let mut rules: Vec<Segment> = segments
        .iter()
        .filter(|s| s.is_vertical())
        .copied()
        .collect();
    rules.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut by_orientation: [Vec<FramedGlyph<'_>>; 5] = Default::default();
    for g in glyphs {
        if g.text.is_empty() {
            continue;
        }
        let o = orientation_of(g.angle);
        let angle = if o == 4 { g.angle } else { f32::from(o) * 90.0 };
        by_orientation[o as usize].push(FramedGlyph {
            glyph: g,
            frame: to_frame(&g.bbox, angle, g.size),
        });
    }
    let mut out = Vec::new();
    for (o, mut group) in by_orientation.into_iter().enumerate() {
        if group.is_empty() {
            continue;
        }
        group.sort_by(|a, b| {
            a.frame
                .x0
                .total_cmp(&b.frame.x0)
                .then(a.glyph.seq.cmp(&b.glyph.seq))
        });
        let rules: &[Segment] = if o == 0 { &rules } else { &[] };
        for run in group_into_runs(&group, rules) {
            if let Some(f) = build_fragment(&run, o as u8) {
                out.push(f);
            }
        }
    }
    out
}

/// Sweeps glyphs left to right (in frame coordinates), appending each to the open run it lines
/// up with best, or opening a new run.
fn group_into_runs<'a, 'g>(
    sorted: &'a [FramedGlyph<'g>],
    rules: &[Segment],
) -> Vec<Vec<&'a FramedGlyph<'g>>> {
    // Whether a vertical rule stands between x0 and x1 at height y.
    let ruled = |x0: f32, x1: f32, y: f32| {
        let start = rules.partition_point(|r| r.x0 < x0);
        rules[start..]
            .iter()
            .take_while(|r| r.x0 <= x1)
            .any(|r| y >= r.y0.min(r.y1) && y <= r.y0.max(r.y1))
    };
    struct Run<'a, 'g> {
        glyphs: Vec<&'a FramedGlyph<'g>>,
        y0: f32,
        y1: f32,
        x1: f32,
        size: f32,
    }
    let mut open: Vec<Run<'a, 'g>> = Vec::new();
    let mut closed: Vec<Vec<&'a FramedGlyph<'g>>> = Vec::new();
    for g in sorted {
        let (gy0, gy1) = (g.frame.y0, g.frame.y1);
        let gh = (gy1 - gy0).max(0.01);
        // Runs that end too far left can never take another glyph: close them.
        let mut i = 0;
        while i < open.len() {
            if g.frame.x0 - open[i].x1 > FRAGMENT_GAP_EM * open[i].size.max(g.glyph.size) {
                closed.push(std::mem::take(&mut open[i].glyphs));
                open.swap_remove(i);
            } else {
                i += 1;
            }
        }
        let mut best: Option<(usize, f32)> = None;
        for (i, run) in open.iter().enumerate() {
            // Most open runs are other lines of the page: reject them before the arithmetic
            // below (a run that does not overlap the glyph has a ratio of zero).
            if run.y0 >= gy1 || run.y1 <= gy0 {
                continue;
            }
            let overlap = (run.y1.min(gy1) - run.y0.max(gy0)).max(0.0);
            let ratio = overlap / gh.min((run.y1 - run.y0).max(0.01));
            // Overlapping glyphs far behind the run's end belong to another line drawn on top.
            let behind =
                run.x1 - g.frame.x0 > 0.6 * run.size.max(g.glyph.size) + (g.frame.x1 - g.frame.x0);
            let better = ratio >= 0.5 && !behind && best.is_none_or(|(_, r)| ratio > r);
            if !better {
                continue;
            }
            let cy = (gy0 + gy1) / 2.0;
            if !rules.is_empty() && ruled(run.x1 - 0.5, g.frame.x0 + 0.5, cy) {
                continue;
            }
            best = Some((i, ratio));
        }
        match best {
            Some((i, _)) => {
                let run = &mut open[i];
                run.glyphs.push(g);
                run.x1 = run.x1.max(g.frame.x1);
                // Keep the band of the run's main text: superscripts must not widen it.
                if g.glyph.size >= run.size * 0.9 {
                    run.y0 = run.y0.min(gy0);
                    run.y1 = run.y1.max(gy1);
                    run.size = run.size.max(g.glyph.size);
                }
            }
            None => open.push(Run {
                glyphs: vec![g],
                y0: gy0,
                y1: gy1,
                x1: g.frame.x1,
                size: g.glyph.size,
            }),
        }
    }
    closed.extend(open.into_iter().map(|r| r.glyphs));
    closed
}

fn is_cjk(c: char) -> bool {
    // Kana and Han only: Korean separates words with spaces, as Latin does.
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF66..=0xFF9F)
}

fn is_rtl_char(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

/// The combining mark a diacritic glyph stands for: fonts draw accents as spacing glyphs
/// (U+00B4 ´) or as combining marks placed over the letter by position.
fn combining_form(c: char) -> Option<char> {
    Some(match c {
        '\u{00B4}' | '\u{02CA}' => '\u{0301}',
        '`' | '\u{02CB}' => '\u{0300}',
        '\u{00A8}' => '\u{0308}',
        '^' | '\u{02C6}' => '\u{0302}',
        '~' | '\u{02DC}' => '\u{0303}',
        '\u{00B8}' => '\u{0327}',
        '\u{02C7}' => '\u{030C}',
        '\u{02D8}' => '\u{0306}',
        '\u{02D9}' => '\u{0307}',
        '\u{02DA}' => '\u{030A}',
        '\u{02DD}' => '\u{030B}',
        '\u{00AF}' | '\u{02C9}' => '\u{0304}',
        '\u{02DB}' => '\u{0328}',
        c if is_combining_mark(c) => c,
        _ => return None,
    })
}

/// Whether `mark` (a diacritic glyph) sits over `base`: its centre lies well inside the base
/// letter's advance. Glyphs set one after another never do (each starts where the last ended).
fn sits_on(mark: &FramedGlyph<'_>, base: &FramedGlyph<'_>) -> bool {
    let w = base.frame.width();
    let (cx, _) = mark.frame.center();
    base.glyph
        .text
        .chars()
        .last()
        .is_some_and(char::is_alphabetic)
        && w > 0.0
        && cx > base.frame.x0 + 0.15 * w
        && cx < base.frame.x1 - 0.15 * w
        && (mark.glyph.size - base.glyph.size).abs() <= 0.3 * base.glyph.size.max(0.1)
}

/// The run in text order with each diacritic drawn as its own glyph moved right after the
/// letter it sits on (it may be drawn before or after it) and given as its combining mark, so
/// that NFKC composes the pair ("e" + "´" → "é"). Other glyphs keep their order.
fn attach_marks<'a, 'g>(run: &[&'a FramedGlyph<'g>]) -> Vec<(&'a FramedGlyph<'g>, Option<char>)> {
    let mark_of = |g: &FramedGlyph<'_>| {
        let mut chars = g.glyph.text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => combining_form(c),
            _ => None,
        }
    };
    let mut out: Vec<(&'a FramedGlyph<'g>, Option<char>)> = Vec::with_capacity(run.len());
    let mut deferred: Option<(&'a FramedGlyph<'g>, char)> = None;
    for (i, g) in run.iter().enumerate() {
        if let Some(m) = mark_of(g) {
            let prev_base = out
                .last()
                .filter(|(p, pm)| pm.is_none() && sits_on(g, p))
                .is_some();
            if prev_base {
                out.push((g, Some(m)));
                continue;
            }
            let next_base = run
                .get(i + 1)
                .is_some_and(|n| mark_of(n).is_none() && sits_on(g, n));
            if next_base && deferred.is_none() {
                deferred = Some((g, m));
                continue;
            }
        }
        out.push((g, None));
        if let Some((d, m)) = deferred.take() {
            out.push((d, Some(m)));
        }
    }
    if let Some((d, _)) = deferred {
        out.push((d, None));
    }
    out
}

/// The gap (in font sizes) above which two glyphs of this run are separate words. Letters of
/// one word are set edge to edge, so the run's typical gap says how tightly (or loosely) it is
/// tracked; a word space stands clearly above that. A fixed share of the font size alone runs
/// the words of tightly set text together and splits letter-spaced words.
fn word_gap_threshold(run: &[(&FramedGlyph<'_>, Option<char>)]) -> f32 {
    let mut gaps: Vec<f32> = run
        .windows(2)
        .filter(|w| w[0].1.is_none() && w[1].1.is_none())
        .filter(|w| !w[0].0.glyph.text.trim().is_empty() && !w[1].0.glyph.text.trim().is_empty())
        .map(|w| {
            let size = w[0].0.glyph.size.min(w[1].0.glyph.size).max(0.1);
            (w[1].0.frame.x0 - w[0].0.frame.x1) / size
        })
        // Overlapping glyphs (a face drawn twice for bold, kerned pairs) say nothing of the
        // tracking.
        .filter(|g| g.is_finite() && *g > -0.05 && *g < FRAGMENT_GAP_EM)
        .collect();
    if gaps.len() < 6 {
        return WORD_GAP_EM;
    }
    gaps.sort_by(f32::total_cmp);
    // Most gaps are between letters: the lower quartile gives the tracking (short words and
    // spaced operators make many gaps word gaps).
    let tracking = gaps[gaps.len() / 4].max(0.0);
    let threshold = tracking + MIN_WORD_GAP_EM;
    // Word gaps are the clearly separated upper group: a threshold below the fixed one is
    // used only when the gaps of the run fall into two groups around it.
    let above = gaps.iter().filter(|&&g| g > threshold).count();
    let between = gaps
        .iter()
        .filter(|&&g| g > tracking + 0.5 * MIN_WORD_GAP_EM && g <= threshold)
        .count();
    if threshold < WORD_GAP_EM && above > 0 && between * 4 <= above {
        threshold
    } else {
        WORD_GAP_EM.max(threshold)
    }
}

fn build_fragment(run: &[&FramedGlyph<'_>], orientation: u8) -> Option<Fragment> {
    let mut spans: Vec<Span> = Vec::new();
    let mut cur: Option<(Arc<FontInfo>, String, BBox, f32)> = None;
    let mut prev: Option<&FramedGlyph<'_>> = None;
    let mut pending_space = false;
    let (mut rtl_chars, mut ltr_chars) = (0usize, 0usize);
    let ordered = attach_marks(run);
    let word_gap = word_gap_threshold(&ordered);
    let mut words: Vec<(String, BBox)> = Vec::new();
    for &(g, mark) in &ordered {
        let text = g.glyph.text.as_str();
        if text.chars().all(char::is_whitespace) {
            pending_space = true;
            continue;
        }
        if let Some(m) = mark {
            // A diacritic placed on the letter before it: no gap logic, no box of its own.
            if let Some((_, t, _, _)) = cur.as_mut() {
                t.push(m);
            }
            if let Some((w, _)) = words.last_mut() {
                w.push(m);
            }
            continue;
        }
        if let Some(p) = prev {
            // Skip a glyph drawn twice at (almost) the same place: fake bold or shadow.
            let same_place = (g.frame.x0 - p.frame.x0).abs()
                < 0.3 * (p.frame.x1 - p.frame.x0).max(0.5)
                && (g.frame.y0 - p.frame.y0).abs() < 0.3 * (p.frame.y1 - p.frame.y0).max(0.5);
            if same_place && g.glyph.text == p.glyph.text {
                continue;
            }
            let gap = g.frame.x0 - p.frame.x1;
            let mut size = g.glyph.size.min(p.glyph.size).max(0.1);
            let last = p.glyph.text.chars().last();
            let first = text.chars().next();
            // Ideographic text has no spaces: only a wide gap separates words there.
            let mut threshold = word_gap;
            if last.is_some_and(is_cjk) && first.is_some_and(is_cjk) {
                size *= 3.5;
                threshold = WORD_GAP_EM;
            }
            // Diacritics are drawn as their own glyphs, often offset: they never start a word.
            let combining = text.chars().next().is_some_and(is_combining_mark);
            if gap > threshold * size && !combining {
                pending_space = true;
            }
            // Words do not mix Latin and right-to-left scripts: a change of script is a word
            // boundary even where the PDF draws no space.
            if let (Some(a), Some(b)) = (last, first) {
                let script_change = is_rtl_char(a) != is_rtl_char(b) || is_cjk(a) != is_cjk(b);
                if a.is_alphabetic() && b.is_alphabetic() && script_change {
                    pending_space = true;
                }
            }
        }
        for c in text.chars() {
            if is_rtl_char(c) {
                rtl_chars += 1;
            } else if c.is_alphabetic() {
                ltr_chars += 1;
            }
        }
        let font = &g.glyph.font;
        let same_style = cur
            .as_ref()
            .is_some_and(|(f, _, _, s)| Arc::ptr_eq(f, font) && (s - g.glyph.size).abs() < 0.5);
        if !same_style {
            if let Some((f, t, b, s)) = cur.take() {
                spans.push(make_span(&f, t, b, s));
            }
            let lead = if pending_space && (prev.is_some()) {
                " "
            } else {
                ""
            };
            cur = Some((
                Arc::clone(font),
                lead.to_string(),
                g.glyph.bbox,
                g.glyph.size,
            ));
        } else if let Some((_, t, b, _)) = cur.as_mut() {
            if pending_space {
                t.push(' ');
            }
            *b = b.union(&g.glyph.bbox);
        }
        let kept: String = text.chars().filter(|&c| !is_elongation(c)).collect();
        match words.last_mut() {
            Some((w, b)) if !pending_space => {
                w.push_str(&kept);
                *b = b.union(&g.glyph.bbox);
            }
            _ => words.push((kept.clone(), g.glyph.bbox)),
        }
        if let Some((_, t, _, _)) = cur.as_mut() {
            // NFKC waits until the text is in logical order: a right-to-left ligature (lam-alef)
            // decomposes into letters in logical order, which reordering would then reverse.
            // A glyph that stands for several right-to-left letters (a lam-alef drawn as one
            // shape) lists them in logical order; the visual-to-logical reordering below would
            // reverse them, so they go in reversed here.
            if text.chars().count() > 1 && text.chars().all(is_rtl_char) {
                t.extend(kept.chars().rev());
            } else {
                t.push_str(&kept);
            }
        }
        pending_space = false;
        prev = Some(g);
    }
    if let Some((f, t, b, s)) = cur.take() {
        spans.push(make_span(&f, t, b, s));
    }
    spans.retain(|s| !s.text.trim().is_empty());
    if spans.is_empty() {
        return None;
    }
    let rtl = rtl_chars > ltr_chars;
    if rtl {
        spans = to_logical_order(spans);
        words.clear();
    }
    for span in &mut spans {
        if !span.text.is_ascii() {
            span.text = checkboxes(&span.text.nfkc().collect::<String>());
        }
    }
    for (w, _) in &mut words {
        if !w.is_ascii() {
            *w = w.nfkc().collect();
        }
    }
    words.retain(|(w, _)| !w.trim().is_empty());
    let bbox = BBox::union_all(spans.iter().map(|s| &s.bbox))?;
    let frame = BBox::union_all(run.iter().map(|g| &g.frame))?;
    let size = spans
        .iter()
        .max_by_key(|s| s.text.len())
        .map(|s| s.size)
        .unwrap_or(0.0);
    let bold = spans.iter().all(|s| s.bold);
    let monospace = run.iter().all(|g| g.glyph.font.monospace) || uniform_advances(run);
    Some(Fragment {
        bbox,
        frame,
        orientation,
        size,
        spans,
        bold,
        monospace,
        rtl,
        words,
    })
}

/// Characters that only stretch or break a word on the page and are no part of its text: the
/// soft hyphen, controls, and the Arabic tatweel (kashida), which justified Arabic text and
/// display lettering repeat to lengthen a word (a title's "السياســــــــي" is "السياسي";
/// search and comparison read the word without it, as Arabic normalisers do).
fn is_elongation(c: char) -> bool {
    c == '\u{00AD}' || c == '\u{0640}' || c.is_control()
}

/// Fonts do not always say they are monospaced (unnamed Type 1 fonts say nothing); equal
/// advances over a run that includes narrow letters do.
fn uniform_advances(run: &[&FramedGlyph<'_>]) -> bool {
    let widths: Vec<f32> = run
        .iter()
        .filter(|g| g.glyph.text.chars().any(|c| !c.is_whitespace()))
        .map(|g| g.frame.width())
        .collect();
    let narrow = run.iter().any(|g| {
        g.glyph
            .text
            .chars()
            .any(|c| matches!(c, 'i' | 'l' | '.' | ',' | '(' | ')' | ';'))
    });
    if widths.len() < 8 || !narrow {
        return false;
    }
    let (lo, hi) = widths
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &w| (lo.min(w), hi.max(w)));
    lo > 0.0 && hi / lo < 1.06
}

/// Checkbox glyphs as Markdown task-list boxes: `[ ]` empty, `[x]` ticked or crossed.
fn checkboxes(text: &str) -> String {
    if !text.contains(['☐', '☑', '☒', '□', '▢', '❏', '❑', '⊠']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '☐' | '□' | '▢' | '❏' | '❑' => out.push_str("[ ]"),
            '☑' | '☒' | '⊠' => out.push_str("[x]"),
            c => out.push(c),
        }
    }
    out
}

fn make_span(font: &FontInfo, text: String, bbox: BBox, size: f32) -> Span {
    Span {
        text,
        bbox,
        font: font.name.clone(),
        size,
        bold: font.bold,
        italic: font.italic,
    }
}

/// Right-to-left glyphs arrive in visual (left-to-right) order; reordering the visual string as
/// if it were logical text with a right-to-left base direction restores the logical order
/// (RTL runs reversed, embedded numbers and Latin words kept).
fn to_logical_order(spans: Vec<Span>) -> Vec<Span> {
    let visual: String = spans.iter().map(|s| s.text.as_str()).collect();
    let info = BidiInfo::new(&visual, Some(Level::rtl()));
    let Some(para) = info.paragraphs.first() else {
        return spans;
    };
    let logical = info.reorder_line(para, para.range.clone()).into_owned();
    let bbox = BBox::union_all(spans.iter().map(|s| &s.bbox)).unwrap_or_default();
    let first = &spans[0];
    vec![Span {
        text: logical.trim().to_string(),
        bbox,
        font: first.font.clone(),
        size: first.size,
        bold: spans.iter().all(|s| s.bold),
        italic: spans.iter().all(|s| s.italic),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::line;

    fn font() -> Arc<FontInfo> {
        crate::test_support::font("Test")
    }

    #[test]
    fn spaces_come_from_gaps_and_wide_gaps_split_fragments() {
        let f = font();
        let mut glyphs = line("hello world", 10.0, 100.0, 10.0, &f);
        glyphs.extend(line("column", 200.0, 100.0, 10.0, &f));
        let frags = fragments(&glyphs, &[]);
        let mut texts: Vec<String> = frags.iter().map(Fragment::text).collect();
        texts.sort();
        assert_eq!(texts, vec!["column", "hello world"]);
    }

    #[test]
    fn ligatures_are_decomposed_and_duplicates_dropped() {
        let f = font();
        let mut glyphs = line("xy", 10.0, 50.0, 10.0, &f);
        glyphs[0].text = "\u{FB01}".into(); // ﬁ
        let mut dup = glyphs[1].clone();
        dup.bbox.x0 += 0.2;
        dup.bbox.x1 += 0.2;
        glyphs.push(dup);
        let frags = fragments(&glyphs, &[]);
        assert_eq!(frags.len(), 1);
        assert_eq!(frags[0].text(), "fiy");
    }

    #[test]
    fn rtl_visual_order_becomes_logical() {
        let f = font();
        // Hebrew "שלום" drawn left to right in visual order: ם ו ל ש
        let glyphs = line("םולש", 10.0, 50.0, 10.0, &f);
        let frags = fragments(&glyphs, &[]);
        assert_eq!(frags[0].text(), "שלום");
        assert!(frags[0].rtl);
    }

    #[test]
    fn arabic_elongation_is_not_text() {
        let f = font();
        // "السياسي" stretched with tatweels, drawn in visual order (right-to-left reversed).
        let stretched: String = "السياســــــــي".chars().rev().collect();
        let glyphs = line(&stretched, 10.0, 50.0, 10.0, &f);
        let frags = fragments(&glyphs, &[]);
        assert_eq!(frags.len(), 1);
        assert_eq!(frags[0].text(), "السياسي");
    }

    #[test]
    fn rotated_text_forms_its_own_fragment() {
        let f = font();
        // Text running upwards (90°): each glyph above the previous one.
        let glyphs: Vec<Glyph> = "up"
            .chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                text: c.to_string(),
                bbox: BBox::new(
                    100.0,
                    200.0 - (i as f32 + 1.0) * 5.0,
                    110.0,
                    200.0 - i as f32 * 5.0,
                ),
                size: 10.0,
                angle: 90.0,
                font: Arc::clone(&f),
                seq: i as u32,
            })
            .collect();
        let frags = fragments(&glyphs, &[]);
        assert_eq!(frags.len(), 1);
        assert_eq!(frags[0].text(), "up");
        assert_eq!(frags[0].orientation, 1);
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;
    use crate::test_support::{font, line};

    fn glyph(text: &str, x0: f32, x1: f32, f: &Arc<FontInfo>, seq: u32) -> Glyph {
        Glyph {
            text: text.into(),
            bbox: BBox::new(x0, 92.0, x1, 102.0),
            size: 10.0,
            angle: 0.0,
            font: Arc::clone(f),
            seq,
        }
    }

    #[test]
    fn an_accent_drawn_after_its_letter_goes_onto_it() {
        let f = font("Times");
        // "cafe" then a spacing acute accent drawn over the "e" (TeX's \'e).
        let mut glyphs = line("cafe", 10.0, 100.0, 10.0, &f);
        glyphs.push(glyph("\u{00B4}", 26.0, 29.0, &f, 9));
        let frags = fragments(&glyphs, &[]);
        assert_eq!(frags.len(), 1);
        assert_eq!(frags[0].text(), "café");
    }

    #[test]
    fn an_accent_drawn_before_its_letter_goes_onto_it_too() {
        let f = font("Times");
        // A grave accent slightly left of the "a" it sits on, so it sorts first: "là".
        let mut glyphs = vec![glyph("l", 10.0, 15.0, &f, 0)];
        glyphs.push(glyph("`", 15.6, 19.0, &f, 1));
        glyphs.push(glyph("a", 15.8, 20.8, &f, 2));
        let frags = fragments(&glyphs, &[]);
        assert_eq!(frags[0].text(), "là");
    }

    #[test]
    fn a_caret_after_a_letter_stays_a_caret() {
        let f = font("Courier");
        let glyphs = line("a^b", 10.0, 100.0, 10.0, &f);
        assert_eq!(fragments(&glyphs, &[])[0].text(), "a^b");
    }

    /// Glyphs of `words` set with `letter` points between letters and `space` between words.
    fn tracked(words: &[&str], letter: f32, space: f32, f: &Arc<FontInfo>) -> Vec<Glyph> {
        let mut x = 10.0;
        let mut out = Vec::new();
        for (wi, w) in words.iter().enumerate() {
            if wi > 0 {
                x += space - letter;
            }
            for c in w.chars() {
                out.push(glyph(&c.to_string(), x, x + 5.0, f, out.len() as u32));
                x += 5.0 + letter;
            }
        }
        out
    }

    #[test]
    fn tightly_set_words_are_still_separated() {
        let f = font("Helvetica");
        // Word spaces of 0.13 em (under the fixed 0.17) with letters set edge to edge.
        let glyphs = tracked(&["Figure", "shows", "the", "results"], 0.0, 1.3, &f);
        assert_eq!(
            fragments(&glyphs, &[])[0].text(),
            "Figure shows the results"
        );
    }

    #[test]
    fn letter_spaced_words_are_not_split() {
        let f = font("Helvetica");
        // Letters 0.19 em apart (over the fixed 0.17), words 0.5 em apart.
        let glyphs = tracked(&["SPACED", "OUT", "TITLE"], 1.9, 5.0, &f);
        assert_eq!(fragments(&glyphs, &[])[0].text(), "SPACED OUT TITLE");
    }

    #[test]
    fn checkbox_glyphs_read_as_task_boxes() {
        let f = font("Arial");
        let glyphs = line("\u{2612} Yes \u{2610} No", 10.0, 100.0, 10.0, &f);
        assert_eq!(fragments(&glyphs, &[])[0].text(), "[x] Yes [ ] No");
    }
}
