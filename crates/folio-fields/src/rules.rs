//! The built-in extractor: labels, positions and value shapes over the document's rows.
//!
//! Each role has its own rule, all reading the same analysis of the rows (labels, amounts and
//! dates found in each). Confidences are rough: a labelled value found where labels put their
//! values is trusted more than a guess from position alone.

use folio_doc::BBox;
use serde_json::{json, Value};

use crate::labels::{self, Label};
use crate::normalize::{self, Amount, DateOrder, FoundDate};
use crate::spec::ItemColumn;
use crate::view::{Row, View};

/// A value the rules found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The value (text as printed, a number for amounts, an array for line items).
    pub value: Value,
    /// The text it was read from, when that differs from the value.
    pub text: Option<String>,
    /// The standard form.
    pub normalized: Option<Value>,
    /// 0 to 1.
    pub confidence: f32,
    /// The page.
    pub page: u32,
    /// Where on the page.
    pub bbox: BBox,
}

struct RowInfo {
    labels: Vec<labels::Found>,
    amounts: Vec<Amount>,
    dates: Vec<FoundDate>,
}

/// A run of pieces of one row with small gaps between them: one column's text on that row.
#[derive(Debug, Clone)]
struct Phrase {
    row: usize,
    start: usize,
    end: usize,
    bbox: BBox,
}

/// The analysis of a document's rows that every rule reads.
pub struct Rules<'a> {
    view: &'a View,
    info: Vec<RowInfo>,
    order: DateOrder,
    currency: Option<&'static str>,
    median_height: f32,
}

impl<'a> Rules<'a> {
    /// Analyses the rows once.
    pub fn new(view: &'a View) -> Rules<'a> {
        let text = view.text();
        let (day_first, month_first) = normalize::order_evidence(&text);
        // Without evidence either way, day first: most of the world writes dates that way, and
        // a month-first document shows itself as soon as one day passes 12.
        let order = if month_first > day_first {
            DateOrder::MonthFirst
        } else {
            DateOrder::DayFirst
        };
        let info = view
            .rows
            .iter()
            .map(|r| RowInfo {
                labels: labels::find(&r.lower, false),
                amounts: normalize::amounts_in(&r.text),
                dates: normalize::dates_in(&r.text, order),
            })
            .collect();
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for c in normalize::currencies_in(&text) {
            match counts.iter_mut().find(|(k, _)| *k == c) {
                Some(e) => e.1 += 1,
                None => counts.push((c, 1)),
            }
        }
        // The most printed code wins; a lone "$" yields to a printed code.
        let currency = counts
            .iter()
            .max_by_key(|(c, n)| (*n, *c != "USD"))
            .map(|(c, _)| *c);
        let mut heights: Vec<f32> = view.rows.iter().map(Row::height).collect();
        heights.sort_by(f32::total_cmp);
        let median_height = heights
            .get(heights.len() / 2)
            .copied()
            .unwrap_or(10.0)
            .max(0.1);
        Rules {
            view,
            info,
            order,
            currency,
            median_height,
        }
    }

    /// How the document writes numeric dates.
    pub fn date_order(&self) -> DateOrder {
        self.order
    }

    /// The document's currency, when it prints one.
    pub fn currency_code(&self) -> Option<&'static str> {
        self.currency
    }

    fn rows(&self) -> &[Row] {
        &self.view.rows
    }

    fn hit(
        &self,
        row: usize,
        start: usize,
        end: usize,
        value: Value,
        normalized: Option<Value>,
        confidence: f32,
    ) -> Hit {
        let r = &self.rows()[row];
        let text = r.text[start..end].to_string();
        Hit {
            text: (value.as_str() != Some(text.as_str())).then_some(text),
            value,
            normalized,
            confidence,
            page: r.page,
            bbox: r.bbox_of(start, end),
        }
    }

    /// The value a label announces: after it on its row, else on the row below (beneath the
    /// label or further right).
    fn labelled<T>(
        &self,
        row: usize,
        label: &labels::Found,
        pick: impl Fn(usize, usize) -> Option<T>,
    ) -> Option<(T, bool)> {
        if let Some(v) = pick(row, label.end) {
            return Some((v, false));
        }
        let rows = self.rows();
        let r = &rows[row];
        let lb = r.bbox_of(label.start, label.end);
        let below = rows
            .iter()
            .enumerate()
            .skip(row + 1)
            .take(3)
            .find(|(_, b)| {
                b.page == r.page && b.bbox.y0 >= lb.y1 - 1.0 && b.bbox.overlap_x(&lb) > 0.0
            })?;
        // Too far below is another part of the page.
        if below.1.bbox.y0 - lb.y1 > 2.5 * r.height().max(self.median_height) {
            return None;
        }
        // A value below belongs to the label when no other label sits before it there.
        let first_label = self.info[below.0].labels.first().map(|f| f.start);
        let v = pick(below.0, 0)?;
        if first_label.is_some_and(|s| s == 0) {
            return None;
        }
        Some((v, true))
    }

    // ---------------------------------------------------------------- amounts

    /// Amounts labelled `want`, each with its row and whether its label is strong.
    fn labelled_amounts(&self, want: impl Fn(Label) -> Option<f32>) -> Vec<(Amount, usize, f32)> {
        let mut out = Vec::new();
        for (i, info) in self.info.iter().enumerate() {
            for (k, l) in info.labels.iter().enumerate() {
                let Some(weight) = want(l.label) else {
                    continue;
                };
                // Up to the next label on the row that comes after an amount: "Subtotal 10.00
                // Tax 1.00" gives each its own, while "Total inclusive of Tax 11.25" is one label.
                let limit = info.labels[k + 1..]
                    .iter()
                    .find(|n| {
                        info.amounts
                            .iter()
                            .any(|a| a.span.0 >= l.end && a.span.0 < n.start)
                    })
                    .map_or(usize::MAX, |n| n.start);
                let found = self.labelled(i, l, |row, from| {
                    let to = if row == i { limit } else { usize::MAX };
                    self.info[row]
                        .amounts
                        .iter()
                        .rfind(|a| a.span.0 >= from && a.span.0 < to)
                        .cloned()
                        .map(|a| (a, row))
                });
                if let Some(((a, row), below)) = found {
                    out.push((a, row, if below { weight - 0.5 } else { weight }));
                }
            }
        }
        out
    }

    fn amount_hit(&self, a: &Amount, row: usize, confidence: f32) -> Hit {
        let currency = a.currency.or(self.currency);
        let value = serde_json::Number::from_f64(a.value()).map_or(Value::Null, Value::Number);
        self.hit(
            row,
            a.span.0,
            a.span.1,
            value,
            Some(json!({ "amount": a.decimal, "currency": currency })),
            confidence,
        )
    }

    /// The amount to pay: the labelled totals, preferring strong labels, values printed more
    /// than once, those lower on the page and one that equals subtotal plus tax.
    pub fn total(&self) -> Option<Hit> {
        let cands = self.labelled_amounts(|l| match l {
            Label::Total { strong: true } => Some(3.0),
            Label::Total { strong: false } => Some(2.0),
            _ => None,
        });
        let n = self.rows().len().max(1) as f32;
        // A tax summary ("GST SUMMARY ... TOTAL 16.98 1.02") repeats the word but not the total.
        let summary_from = self
            .rows()
            .iter()
            .position(|r| {
                r.lower.contains("summary")
                    || r.lower.contains("récapitulatif")
                    || r.lower.contains("zusammenfassung")
            })
            .unwrap_or(usize::MAX);
        // After a rounding line, the rounded total is the one to pay.
        let rounding_at = self.rows().iter().position(|r| {
            r.lower.contains("rounding")
                || r.lower.contains("round adj")
                || r.lower.contains("afronding")
                || r.lower.contains("arrondi")
        });
        let sub = self.subtotal_amount();
        let tax = self.tax_amount();
        let max = cands.iter().map(|c| c.0.value()).fold(0.0, f64::max);
        let best = cands
            .iter()
            .map(|(a, row, w)| {
                let v = a.value();
                let repeats = cands
                    .iter()
                    .filter(|c| (c.0.value() - v).abs() < 0.005)
                    .count() as f32;
                let mut score = *w + 0.5 * (*row as f32 / n) + 1.5 * (repeats - 1.0).min(2.0);
                if rounding_at.is_some_and(|k| *row > k) {
                    score += 1.5;
                }
                if *row > summary_from {
                    score -= 2.0;
                }
                if self.info[*row].amounts.len() > 1 {
                    score -= 1.0;
                }
                if let (Some(s), Some(t)) = (&sub, &tax) {
                    if (s.value() + t.value() - v).abs() < 0.015 {
                        score += 2.0;
                    }
                }
                if (v - max).abs() < 0.005 {
                    score += 0.5;
                }
                if v <= 0.0 {
                    score -= 3.0;
                }
                (score, a, *row)
            })
            .max_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((score, a, row)) = best {
            let confidence = (0.5 + score / 12.0).min(0.95);
            if let Some((rounded, at)) = rounding_at.and_then(|k| self.cash_rounded(a, k)) {
                return Some(self.amount_hit(&rounded, at, confidence));
            }
            return Some(self.amount_hit(a, row, confidence));
        }
        // No label: the largest amount in the lower part of the document, away from cash and
        // change lines.
        let rows = self.rows();
        let (i, a) = self
            .info
            .iter()
            .enumerate()
            .filter(|(i, info)| {
                let (_, h) = self.view.page_size(rows[*i].page);
                rows[*i].bbox.y0 > h * 0.3
                    && !info
                        .labels
                        .iter()
                        .any(|l| matches!(l.label, Label::NotTotal | Label::Tax))
            })
            .flat_map(|(i, info)| info.amounts.iter().map(move |a| (i, a)))
            .max_by(|x, y| x.1.value().total_cmp(&y.1.value()))?;
        Some(self.amount_hit(a, i, 0.35))
    }

    /// Cash rounding: a total in cents that is not a multiple of five, followed by a rounding
    /// line, is paid as the amount within ten cents of it that is such a multiple, printed on or
    /// after that line (however it is labelled there: "Rounding RM 177.20", "TOTAL: 65.70").
    fn cash_rounded(&self, total: &Amount, rounding_row: usize) -> Option<(Amount, usize)> {
        let cents = |v: f64| (v * 100.0).round() as i64;
        let t = cents(total.value());
        if t % 5 == 0 {
            return None;
        }
        self.info
            .iter()
            .enumerate()
            .skip(rounding_row)
            .take(4)
            .flat_map(|(i, info)| info.amounts.iter().map(move |a| (i, a)))
            .find(|(_, a)| {
                let c = cents(a.value());
                c % 5 == 0 && c != t && (c - t).abs() <= 10
            })
            .map(|(i, a)| (a.clone(), i))
    }

    fn subtotal_amount(&self) -> Option<Amount> {
        self.labelled_amounts(|l| (l == Label::Subtotal).then_some(1.0))
            .into_iter()
            .next_back()
            .map(|c| c.0)
    }

    fn tax_amount(&self) -> Option<Amount> {
        self.labelled_amounts(|l| (l == Label::Tax).then_some(1.0))
            .into_iter()
            .rfind(|c| c.0.value() > 0.0)
            .map(|c| c.0)
    }

    /// The amount before tax: the last labelled subtotal.
    pub fn subtotal(&self) -> Option<Hit> {
        let c = self
            .labelled_amounts(|l| (l == Label::Subtotal).then_some(1.0))
            .into_iter()
            .next_back()?;
        Some(self.amount_hit(&c.0, c.1, 0.75))
    }

    /// The tax: the last labelled tax amount that is not zero (a receipt's tax summary lists
    /// zero-rated lines too).
    pub fn tax(&self) -> Option<Hit> {
        let cands = self.labelled_amounts(|l| (l == Label::Tax).then_some(1.0));
        let c = cands.iter().rfind(|c| c.0.value() > 0.0).or(cands.last())?;
        Some(self.amount_hit(&c.0, c.1, 0.7))
    }

    /// The currency: the code printed most often, or the total's.
    pub fn currency(&self) -> Option<Hit> {
        let code = self.currency?;
        let rows = self.rows();
        // Locate the first mention for the page and box.
        let found = rows.iter().enumerate().find_map(|(i, r)| {
            normalize::currencies_in(&r.text)
                .contains(&code)
                .then_some(i)
        });
        let i = found?;
        let r = &rows[i];
        Some(Hit {
            value: Value::String(code.to_string()),
            text: None,
            normalized: Some(Value::String(code.to_string())),
            confidence: 0.8,
            page: r.page,
            bbox: r.bbox,
        })
    }

    // ---------------------------------------------------------------- dates

    fn date_hit(&self, row: usize, d: &FoundDate, iso_value: bool, confidence: f32) -> Hit {
        let text = &self.rows()[row].text[d.span.0..d.span.1];
        let value = if iso_value {
            d.date.iso()
        } else {
            text.to_string()
        };
        self.hit(
            row,
            d.span.0,
            d.span.1,
            Value::String(value),
            Some(Value::String(d.date.iso())),
            confidence,
        )
    }

    fn labelled_date(&self, want: Label) -> Option<(usize, FoundDate, bool)> {
        for (i, info) in self.info.iter().enumerate() {
            for l in info.labels.iter().filter(|l| l.label == want) {
                let found = self.labelled(i, l, |row, from| {
                    self.info[row]
                        .dates
                        .iter()
                        .find(|d| d.span.0 >= from)
                        .cloned()
                        .map(|d| (row, d))
                });
                if let Some(((row, d), below)) = found {
                    return Some((row, d, below));
                }
            }
        }
        None
    }

    /// The document's date: the labelled one, else the first date that is not a due date.
    pub fn date(&self, iso_value: bool) -> Option<Hit> {
        if let Some((row, d, below)) = self.labelled_date(Label::Date) {
            let c = if below { 0.8 } else { 0.9 };
            return Some(self.date_hit(row, &d, iso_value, if d.ambiguous { c - 0.1 } else { c }));
        }
        let due = self
            .labelled_date(Label::DueDate)
            .map(|(r, d, _)| (r, d.span));
        let (row, d) = self
            .info
            .iter()
            .enumerate()
            .flat_map(|(i, info)| info.dates.iter().map(move |d| (i, d)))
            .find(|(i, d)| due != Some((*i, d.span)))?;
        Some(self.date_hit(row, d, iso_value, if d.ambiguous { 0.6 } else { 0.7 }))
    }

    /// The payment due date, by its label only.
    pub fn due_date(&self, iso_value: bool) -> Option<Hit> {
        let (row, d, _) = self.labelled_date(Label::DueDate)?;
        Some(self.date_hit(row, &d, iso_value, 0.85))
    }

    // ---------------------------------------------------------------- numbers

    /// The invoice or receipt number: the first token with a digit after its label.
    pub fn invoice_number(&self) -> Option<Hit> {
        for (i, info) in self.info.iter().enumerate() {
            for l in info
                .labels
                .iter()
                .filter(|l| l.label == Label::InvoiceNumber)
            {
                let found = self.labelled(i, l, |row, from| {
                    let text = &self.rows()[row].text;
                    let mut pos = from;
                    for tok in text[from..].split_whitespace() {
                        let at = pos + text[pos..].find(tok).unwrap_or(0);
                        pos = at + tok.len();
                        let t = tok.trim_matches(|c: char| {
                            matches!(c, ':' | '#' | '.' | ',' | '(' | ')' | '[' | ']')
                        });
                        let lower = t.to_lowercase();
                        if matches!(
                            lower.as_str(),
                            "no" | "nr" | "n°" | "nº" | "number" | "num" | "#" | ""
                        ) {
                            continue;
                        }
                        if t.chars().any(|c| c.is_ascii_digit()) && t.len() >= 3 {
                            let s = at + tok.find(t).unwrap_or(0);
                            return Some((row, s, s + t.len()));
                        }
                        // A word that is neither a number nor a filler ends the search.
                        return None;
                    }
                    None
                });
                if let Some(((row, s, e), below)) = found {
                    let v = self.rows()[row].text[s..e].to_string();
                    return Some(self.hit(
                        row,
                        s,
                        e,
                        Value::String(v),
                        None,
                        if below { 0.75 } else { 0.85 },
                    ));
                }
            }
        }
        None
    }

    // ---------------------------------------------------------------- issuer

    /// Splits each row into phrases at gaps wider than two characters' height.
    fn phrases(&self, row: usize) -> Vec<Phrase> {
        let r = &self.rows()[row];
        let mut out: Vec<Phrase> = Vec::new();
        let mut offset = 0;
        for seg in &r.segs {
            let start = offset;
            let end = start + seg.text.len();
            offset = end + 1;
            let gap_limit = 2.0 * seg.bbox.height().max(r.height() * 0.5);
            match out.last_mut() {
                Some(p) if seg.bbox.x0 - p.bbox.x1 < gap_limit => {
                    p.end = end;
                    p.bbox = p.bbox.union(&seg.bbox);
                }
                _ => out.push(Phrase {
                    row,
                    start,
                    end,
                    bbox: seg.bbox,
                }),
            }
        }
        out
    }

    fn phrase_text(&self, p: &Phrase) -> &str {
        &self.rows()[p.row].text[p.start..p.end]
    }

    /// Rows of the first page's head: above the first amount, item header or total label,
    /// and within the top half.
    fn head_rows(&self) -> std::ops::Range<usize> {
        let rows = self.rows();
        let Some(first_page) = rows.first().map(|r| r.page) else {
            return 0..0;
        };
        let (_, h) = self.view.page_size(first_page);
        let mut end = 0;
        for (i, r) in rows.iter().enumerate() {
            if r.page != first_page || r.bbox.y0 > h * 0.5 {
                break;
            }
            let info = &self.info[i];
            if i >= 3
                && (info
                    .labels
                    .iter()
                    .any(|l| matches!(l.label, Label::Total { .. } | Label::Subtotal))
                    || !info.amounts.is_empty()
                    || labels::find(&r.lower, true).len() >= 2)
            {
                break;
            }
            end = i + 1;
        }
        0..end.max(rows.len().min(3))
    }

    /// Phrases inside a customer block ("Bill to" and the lines under it).
    fn in_customer_block(&self, p: &Phrase) -> bool {
        for (i, info) in self.info.iter().enumerate().take(p.row + 1) {
            for l in info.labels.iter().filter(|l| l.label == Label::Customer) {
                let r = &self.rows()[i];
                let lb = r.bbox_of(l.start, l.end);
                if i == p.row && p.bbox.x0 >= lb.x0 - 1.0 {
                    return true;
                }
                let below = p.row > i && p.row - i <= 6;
                let column =
                    p.bbox.x0 < lb.x0 + 4.0 * r.height().max(1.0) && p.bbox.x1 > lb.x0 - 1.0;
                if below && column {
                    return true;
                }
            }
        }
        false
    }

    /// The issuer's name: a phrase at the head of the first page, scored on business words
    /// (legal forms, trades), size and position.
    pub fn company(&self) -> Option<Hit> {
        let head = self.head_rows();
        let mut cands: Vec<(f32, Phrase)> = Vec::new();
        let mut seen = 0;
        for (rank, i) in head.enumerate() {
            for p in self.phrases(i) {
                let text = self.phrase_text(&p);
                if !looks_like_name(strip_registration(text)) || self.in_customer_block(&p) {
                    continue;
                }
                let lower = text.to_lowercase();
                let lbls = labels::find(&lower, false);
                if lbls
                    .iter()
                    .any(|l| !matches!(l.label, Label::Total { strong: false } | Label::NotTotal))
                {
                    continue;
                }
                if is_title(&lower) || address_score(&lower) >= 2 {
                    continue;
                }
                let mut score = 0.0;
                if has_business_word(&lower) {
                    score += 3.0;
                }
                score += [1.5, 1.0, 0.5].get(seen).copied().unwrap_or(0.0);
                // The issuer heads the page: the further down, the less likely.
                score -= 0.3 * rank as f32;
                let h = p.bbox.height() / self.median_height;
                score += ((h - 1.0) * 2.0).clamp(-1.0, 2.0);
                if address_score(&lower) == 1 {
                    score -= 1.0;
                }
                seen += 1;
                cands.push((score, p));
            }
        }
        let (score, p) = cands.into_iter().max_by(|a, b| a.0.total_cmp(&b.0))?;
        let mut parts = vec![p.clone()];
        // A name printed on two lines: the line above or below in the same size, that reads as
        // a name and not an address, joins it when one of the two ends or starts a business
        // name ("POPULAR BOOK" / "CO. (M) SDN BHD", "HOME MASTER HARDWARE &" / "ELECTRICAL").
        let first = strip_registration(self.phrase_text(&p)).to_lowercase();
        let first_has_word = has_business_word(&first);
        if let Some(q) = self.neighbour_phrase(&p, 1) {
            let t = strip_registration(self.phrase_text(&q)).to_lowercase();
            let continues = first.ends_with('&') || first.ends_with(',') || first.ends_with('-');
            if continues || (has_business_word(&t) && !t.starts_with("owned")) {
                parts.push(q);
            }
        }
        if parts.len() == 1 && first_has_word {
            if let Some(q) = self.neighbour_phrase(&p, -1) {
                let t = self.phrase_text(&q).to_lowercase();
                let first_word = first.split_whitespace().next().unwrap_or("");
                // "CO. (M) SDN BHD" alone is a legal form without the name before it.
                if matches!(
                    first_word,
                    "co."
                        | "co"
                        | "sdn"
                        | "bhd"
                        | "(m)"
                        | "ltd"
                        | "gmbh"
                        | "enterprise"
                        | "trading"
                ) && !has_business_word(&t)
                {
                    parts.insert(0, q);
                }
            }
        }
        let name = parts
            .iter()
            .map(|q| strip_registration(self.phrase_text(q)))
            .collect::<Vec<_>>()
            .join(" ");
        let bbox = BBox::union_all(parts.iter().map(|q| &q.bbox)).unwrap_or(p.bbox);
        Some(Hit {
            value: Value::String(name),
            text: None,
            normalized: None,
            confidence: (0.4 + score / 10.0).clamp(0.3, 0.9),
            page: self.rows()[p.row].page,
            bbox,
        })
    }

    /// The phrase right above (`dir` -1) or below (+1) `p`, in its column and of its size, when
    /// it reads as part of a name.
    fn neighbour_phrase(&self, p: &Phrase, dir: isize) -> Option<Phrase> {
        let row = p.row.checked_add_signed(dir)?;
        let r = self.rows().get(row)?;
        if r.page != self.rows()[p.row].page {
            return None;
        }
        let q = self
            .phrases(row)
            .into_iter()
            .find(|q| q.bbox.overlap_x(&p.bbox) > 0.5 * q.bbox.width().min(p.bbox.width()))?;
        let (h0, h1) = (p.bbox.height(), q.bbox.height());
        let gap = if dir > 0 {
            q.bbox.y0 - p.bbox.y1
        } else {
            p.bbox.y0 - q.bbox.y1
        };
        let text = strip_registration(self.phrase_text(&q));
        let lower = text.to_lowercase();
        let ok = (h1 - h0).abs() <= 0.3 * h0.max(h1)
            && gap < 0.8 * h0.max(h1)
            && looks_like_name(text)
            && address_score(&lower) == 0
            && !is_title(&lower)
            && labels::find(&lower, false).is_empty()
            && self.info[row].dates.is_empty();
        ok.then_some(q)
    }

    /// The issuer's address: the phrases under the issuer's name, in its column, up to the
    /// first contact, date, number or total line.
    pub fn address(&self) -> Option<Hit> {
        let company = self.company()?;
        let rows = self.rows();
        let crow = rows.iter().position(|r| {
            r.page == company.page
                && r.bbox.overlap_y(&company.bbox) > 0.0
                && r.bbox.overlap_x(&company.bbox) > 0.0
        })?;
        let mut parts: Vec<(String, BBox, usize)> = Vec::new();
        let mut last_y = company.bbox.y1;
        let col = company.bbox;
        for (i, r) in rows.iter().enumerate().take(crow + 10).skip(crow + 1) {
            if r.page != company.page {
                break;
            }
            // A gap of more than two lines ends the block.
            if r.bbox.y0 - last_y > 2.5 * r.height().max(self.median_height) {
                break;
            }
            let phrases = self.phrases(i);
            let Some(p) = phrases
                .iter()
                .filter(|p| {
                    p.bbox.overlap_x(&col) > 0.0 || (p.bbox.x0 - col.x0).abs() < 2.0 * r.height()
                })
                .max_by(|a, b| a.bbox.overlap_x(&col).total_cmp(&b.bbox.overlap_x(&col)))
            else {
                continue;
            };
            let mut text = self.phrase_text(p);
            if parts.is_empty() {
                // "(CO. REG: 704427-T) LOT 1851-A ...": OCR joined the registration line and
                // the address's first line.
                text = strip_leading_registration(text);
            }
            let lower = text.to_lowercase();
            // A date line has a four-digit year that reads as a postcode.
            let street = match address_score(&lower) {
                0 => false,
                1 => self.info[i].dates.is_empty(),
                _ => true,
            };
            let lbls = labels::find(&lower, false);
            let labelled_stop = lbls.iter().any(|l| {
                matches!(
                    l.label,
                    Label::Contact
                        | Label::Date
                        | Label::DueDate
                        | Label::InvoiceNumber
                        | Label::Customer
                        | Label::Total { .. }
                        | Label::Subtotal
                )
            });
            // "SS21/39,47400" reads as an amount and "7/118B" as a date: on a line that reads
            // as an address, numbers are the address's.
            let numbers =
                !street && (!self.info[i].dates.is_empty() || !self.info[i].amounts.is_empty());
            let registration = is_registration(text);
            let stop = labelled_stop
                || is_phone(text)
                || is_title(&lower)
                || numbers
                || registration
                || has_long_number(text)
                || has_phone_number(text);
            if stop {
                // Before the address starts, registration numbers (company, tax) and a date
                // line may sit between the name and the address.
                if parts.is_empty() && (registration || !self.info[i].dates.is_empty()) {
                    last_y = r.bbox.y1;
                    continue;
                }
                break;
            }
            let named = strip_registration(text);
            if parts.is_empty()
                && !street
                && (named.len() < text.len() || !text.chars().any(|c| c.is_ascii_digit()))
            {
                // A second line of the name (with its registration number, "AEON CO. (M) BHD
                // (126926-H)"), or a slogan, before the address proper.
                last_y = r.bbox.y1;
                continue;
            }
            parts.push((text.to_string(), p.bbox, i));
            last_y = r.bbox.y1;
        }
        // Keep the block only when it reads like an address.
        let joined = parts
            .iter()
            .map(|p| p.0.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if parts.is_empty() || address_score(&joined.to_lowercase()) == 0 {
            return None;
        }
        let bbox = BBox::union_all(parts.iter().map(|p| &p.1)).unwrap_or_default();
        Some(Hit {
            value: Value::String(joined),
            text: None,
            normalized: None,
            confidence: 0.6,
            page: company.page,
            bbox,
        })
    }

    // ---------------------------------------------------------------- line items

    /// The lines under an item header row (two column labels at least), up to the totals: each
    /// piece goes to the column whose header it sits under.
    pub fn line_items(&self, cols: &[(String, ItemColumn)]) -> Option<Hit> {
        let rows = self.rows();
        let (hrow, headers) = rows.iter().enumerate().find_map(|(i, r)| {
            let found = labels::find(&r.lower, true);
            let kinds: Vec<ItemColumn> = found
                .iter()
                .filter_map(|f| match f.label {
                    Label::ItemHeader(c) => Some(c),
                    _ => None,
                })
                .collect();
            let distinct = kinds
                .iter()
                .enumerate()
                .all(|(k, c)| !kinds[..k].contains(c));
            (kinds.len() >= 2 && distinct).then(|| {
                (
                    i,
                    found
                        .iter()
                        .filter_map(|f| match f.label {
                            Label::ItemHeader(c) => Some((c, r.bbox_of(f.start, f.end))),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                )
            })
        })?;
        let page = rows[hrow].page;
        let mut items = Vec::new();
        let mut boxes = Vec::new();
        for (i, r) in rows.iter().enumerate().skip(hrow + 1) {
            if r.page != page {
                break;
            }
            let info = &self.info[i];
            if info
                .labels
                .iter()
                .any(|l| matches!(l.label, Label::Total { .. } | Label::Subtotal | Label::Tax))
            {
                break;
            }
            // Each piece to the header column nearest its centre horizontally; amounts align
            // right under their header, descriptions left.
            let mut cells: Vec<(ItemColumn, String)> = Vec::new();
            for seg in &r.segs {
                let (cx, _) = seg.bbox.center();
                let col = headers
                    .iter()
                    .min_by(|a, b| {
                        let da = dist(cx, &a.1, seg.bbox.x1);
                        let db = dist(cx, &b.1, seg.bbox.x1);
                        da.total_cmp(&db)
                    })
                    .map(|h| h.0);
                if let Some(c) = col {
                    match cells.iter_mut().find(|x| x.0 == c) {
                        Some(x) => {
                            x.1.push(' ');
                            x.1.push_str(&seg.text);
                        }
                        None => cells.push((c, seg.text.clone())),
                    }
                }
            }
            let amount = cells
                .iter()
                .find(|c| c.0 == ItemColumn::Amount)
                .and_then(|c| normalize::amounts_in(&c.1).pop());
            let description = cells
                .iter()
                .find(|c| c.0 == ItemColumn::Description)
                .map(|c| c.1.clone());
            if amount.is_none() {
                // A description running onto a second line joins the item above.
                if let (Some(d), Some(last)) = (description, items.last_mut()) {
                    if let Some(Value::String(s)) = item_get(last, cols, ItemColumn::Description) {
                        let joined = format!("{s} {d}");
                        item_set(last, cols, ItemColumn::Description, Value::String(joined));
                    }
                }
                continue;
            }
            let mut obj = serde_json::Map::new();
            for (name, col) in cols {
                let raw = cells.iter().find(|c| c.0 == *col).map(|c| c.1.as_str());
                let v = match (col, raw) {
                    (_, None) => Value::Null,
                    (ItemColumn::Description, Some(t)) => Value::String(t.to_string()),
                    (ItemColumn::Quantity, Some(t)) => number_value(t),
                    (ItemColumn::UnitPrice | ItemColumn::Amount, Some(t)) => {
                        normalize::amounts_in(t)
                            .pop()
                            .and_then(|a| serde_json::Number::from_f64(a.value()))
                            .map_or_else(|| number_value(t), Value::Number)
                    }
                };
                obj.insert(name.clone(), v);
            }
            items.push(Value::Object(obj));
            boxes.push(r.bbox);
        }
        if items.is_empty() {
            return None;
        }
        Some(Hit {
            value: Value::Array(items),
            text: None,
            normalized: None,
            confidence: 0.6,
            page,
            bbox: BBox::union_all(boxes.iter()).unwrap_or_default(),
        })
    }
}

fn dist(cx: f32, header: &BBox, x1: f32) -> f32 {
    // The nearer of centre-to-centre and right-edge-to-right-edge (numbers align right).
    (cx - header.center().0).abs().min((x1 - header.x1).abs())
}

fn item_get<'v>(
    item: &'v Value,
    cols: &[(String, ItemColumn)],
    c: ItemColumn,
) -> Option<&'v Value> {
    let name = &cols.iter().find(|x| x.1 == c)?.0;
    item.get(name)
}

fn item_set(item: &mut Value, cols: &[(String, ItemColumn)], c: ItemColumn, v: Value) {
    if let (Some((name, _)), Some(obj)) = (cols.iter().find(|x| x.1 == c), item.as_object_mut()) {
        obj.insert(name.clone(), v);
    }
}

fn number_value(t: &str) -> Value {
    let digits: String = t
        .trim()
        .trim_start_matches(['x', 'X', '*', '@'])
        .to_string();
    normalize::parse_number(digits.split_whitespace().next().unwrap_or(""))
        .and_then(|(d, _)| d.parse::<f64>().ok())
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// Words that name a business or its legal form, in the languages the labels cover and in
/// Malaysian receipts' English.
const BUSINESS_WORDS: &[&str] = &[
    "sdn bhd",
    "sdn. bhd",
    "bhd",
    "s/b",
    "enterprise",
    "enterprises",
    "trading",
    "restaurant",
    "restoran",
    "store",
    "stores",
    "mart",
    "shop",
    "hardware",
    "stationery",
    "bakery",
    "bakeries",
    "cafe",
    "café",
    "co.",
    "company",
    "corporation",
    "corp",
    "ltd",
    "limited",
    "inc",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "b.v.",
    "bv",
    "n.v.",
    "nv",
    "vof",
    "sarl",
    "sas",
    "s.a.",
    "sa",
    "s.l.",
    "sl",
    "s.a.s.",
    "srl",
    "holdings",
    "industries",
    "supermarket",
    "market",
    "pharmacy",
    "electrical",
    "marketing",
    "services",
    "seafood",
    "kedai",
    "syarikat",
    "perniagaan",
    "house",
    "bookstore",
    "books",
    "cash & carry",
    "confectionery",
    "food",
    "foods",
    "motor",
    "trading co",
    "international",
    "group",
    "studio",
    "hotel",
    "bistro",
    "bar",
    "pub",
    "boulangerie",
    "bäckerei",
    "bakkerij",
    "tienda",
    "farmacia",
];

fn has_business_word(lower: &str) -> bool {
    BUSINESS_WORDS.iter().any(|w| {
        let mut from = 0;
        while let Some(p) = lower[from..].find(w) {
            let (s, e) = (from + p, from + p + w.len());
            from = e;
            let before = lower[..s].chars().next_back();
            let after = lower[e..].chars().next();
            if before.is_none_or(|c| !c.is_alphanumeric())
                && after.is_none_or(|c| !c.is_alphanumeric())
            {
                return true;
            }
        }
        false
    })
}

/// Document titles that are not anyone's name.
fn is_title(lower: &str) -> bool {
    const TITLES: &[&str] = &[
        "invoice",
        "tax invoice",
        "receipt",
        "official receipt",
        "cash receipt",
        "cash bill",
        "bill",
        "simplified tax invoice",
        "factuur",
        "facture",
        "rechnung",
        "factura",
        "quittung",
        "reçu",
        "ticket",
        "kassenbon",
        "bon",
        "recibo",
        "credit note",
        "proforma",
        "quotation",
        "statement",
    ];
    let t = lower.trim_matches(|c: char| !c.is_alphanumeric());
    // OCR drops the space of a title in capitals ("TAXINVOICE").
    let squeezed: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    TITLES.contains(&t)
        || TITLES.iter().any(|w| w.replace(' ', "") == squeezed)
        || TITLES
            .iter()
            .any(|w| t.starts_with(w) && t[w.len()..].trim().chars().all(|c| !c.is_alphabetic()))
}

fn looks_like_name(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
    letters >= 3 && digits * 3 <= letters && !text.contains('@')
}

/// How strongly a text reads as a postal address: street words and postcodes.
fn address_score(lower: &str) -> u32 {
    const WORDS: &[&str] = &[
        "jalan",
        "jln",
        "lot",
        "no.",
        "no",
        "street",
        "st.",
        "road",
        "rd",
        "avenue",
        "ave",
        "lane",
        "taman",
        "tmn",
        "blok",
        "block",
        "floor",
        "flr",
        "level",
        "suite",
        "building",
        "bangunan",
        "kawasan",
        "seksyen",
        "section",
        "persiaran",
        "lorong",
        "lebuh",
        "bandar",
        "straße",
        "strasse",
        "str.",
        "weg",
        "platz",
        "allee",
        "rue",
        "boulevard",
        "bd",
        "chemin",
        "place",
        "calle",
        "avda",
        "avenida",
        "plaza",
        "paseo",
        "straat",
        "laan",
        "plein",
        "gracht",
        "kade",
        "box",
        "po box",
        "selangor",
        "kuala lumpur",
        "johor",
        "malaysia",
        "darul ehsan",
    ];
    let mut score = 0;
    for w in WORDS {
        let found = lower.match_indices(w).any(|(s, m)| {
            let e = s + m.len();
            lower[..s]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && lower[e..].chars().next().is_none_or(|c| !c.is_alphabetic())
        });
        if found {
            score += 1;
            break;
        }
    }
    // A postcode: a 4 or 5 digit number standing alone (NL "1012 AB" too).
    let postcode = lower
        .split(|c: char| !c.is_ascii_digit())
        .any(|d| d.len() == 5 || d.len() == 4)
        && lower
            .split(|c: char| c.is_whitespace() || c == ',')
            .any(|w| (w.len() == 5 || w.len() == 4) && w.chars().all(|c| c.is_ascii_digit()));
    if postcode {
        score += 1;
    }
    score
}

fn is_phone(text: &str) -> bool {
    let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
    let other = text
        .chars()
        .filter(|c| !c.is_ascii_digit() && !matches!(c, ' ' | '-' | '(' | ')' | '+' | '/' | '.'))
        .count();
    digits >= 7 && other <= 2
}

/// A company or tax registration line: "(867388-U)", "002693074-K", "Co. Reg. No.: 795225-A",
/// "GST ID No: 000306020352", "BRN GST No. 000417619968 President: Kang"; never a line that
/// reads as an address.
fn is_registration(text: &str) -> bool {
    const KEYS: &[&str] = &[
        "reg",
        "reg.",
        "registration",
        "gst",
        "sst",
        "vat",
        "co no",
        "co. no",
        "co.no",
        "company no",
        "roc",
        "brn",
        "tax id",
        "id no",
        "id. no",
        "btw",
        "kvk",
        "siret",
        "siren",
        "ust-idnr",
        "uid",
        "nif",
        "cif",
        "abn",
        "uen",
        "tin",
    ];
    let t = text.trim();
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    if digits < 4 {
        return false;
    }
    // The keys blanked out, so that the "No." of "Co. Reg. No." is not an address's.
    let mut unkeyed = t.to_lowercase();
    let mut keyed = false;
    for k in KEYS {
        let mut from = 0;
        while let Some(p) = unkeyed[from..].find(k) {
            let (s, e) = (from + p, from + p + k.len());
            from = e;
            let bounded = unkeyed[..s]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && unkeyed[e..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
            if bounded {
                keyed = true;
                unkeyed.replace_range(s..e, &" ".repeat(e - s));
            }
        }
    }
    if keyed {
        // What is left once the key's other words ("Co.", "No.") are gone too.
        let rest: Vec<&str> = unkeyed
            .split_whitespace()
            .filter(|w| {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric());
                !matches!(w, "no" | "co" | "nr" | "number" | "num")
            })
            .collect();
        if address_score(&rest.join(" ")) == 0 {
            return true;
        }
    }
    // A bare company number: one token of digits with a check letter or in parentheses
    // ("002693074-K", "(65351-M)"); a lone postcode has neither.
    let token = t.trim_matches(|c| c == '(' || c == ')').trim();
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    let bare = !token.contains(' ')
        && letters <= 2
        && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && (token.contains('-') || letters > 0 || t.starts_with('(') || digits >= 7);
    if bare {
        return true;
    }
    let letters = t.chars().filter(|c| c.is_alphabetic()).count();
    (t.starts_with('(') || t.ends_with(')')) && letters <= 4
}

/// A run of nine or more digits: a tax, account or invoice number, never part of an address.
fn has_long_number(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() >= 9)
}

/// A telephone number among other words ("Outlet:03-80626265"): a token of digits and dashes
/// holding eight digits or more, longer than any postcode or house number.
fn has_phone_number(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .any(|token| {
            let token = token.trim_matches(|c| c == '(' || c == ')');
            token.chars().filter(|c| c.is_ascii_digit()).count() >= 8
                && token
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '/' | '.'))
        })
}

/// The text after a registration number that OCR joined to the front of the address's first
/// line: "(CO. REG: 704427-T ) LOT 1851-A", "REG NO: 1203194-W JALAN PERMAS", "822737-X NO.
/// 17-G", "AEON CO. (M) BHD (126926-H) 3RD FLR". The text as it is when nothing precedes an
/// address.
fn strip_leading_registration(text: &str) -> &str {
    fn rest_if_address(rest: &str) -> Option<&str> {
        let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == ';');
        (address_score(&rest.to_lowercase()) > 0).then_some(rest)
    }
    // A parenthesis holding a number, with an address after it and none before it.
    for (close, _) in text.match_indices(')') {
        let head = &text[..close];
        let Some(open) = head.rfind('(') else {
            continue;
        };
        if address_score(&text[..open].to_lowercase()) > 0 {
            break;
        }
        if head[open..].chars().filter(|c| c.is_ascii_digit()).count() >= 4 {
            if let Some(rest) = rest_if_address(&text[close + 1..]) {
                return rest;
            }
        }
    }
    // Words up to the first one holding a number of four digits or more.
    let mut end = 0;
    for (at, word) in text.split_whitespace().map(|w| {
        let at = w.as_ptr() as usize - text.as_ptr() as usize;
        (at, w)
    }) {
        end = at + word.len();
        if word.chars().filter(|c| c.is_ascii_digit()).count() >= 4 {
            break;
        }
    }
    if end < text.len() && is_registration(&text[..end]) {
        if let Some(rest) = rest_if_address(&text[end..]) {
            return rest;
        }
    }
    text
}

/// The name without a registration number printed after it ("ACME SDN BHD (12345-X)").
fn strip_registration(text: &str) -> &str {
    let t = text.trim_end();
    if let Some(open) = t.rfind('(') {
        let tail = &t[open..];
        if tail.chars().filter(|c| c.is_ascii_digit()).count() >= 4 {
            return t[..open].trim_end();
        }
    }
    t
}
