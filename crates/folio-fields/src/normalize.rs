//! Amounts and dates as printed, turned into standard forms: a decimal string with an ISO 4217
//! currency, an ISO 8601 date. The text they came from is kept by the caller.

/// An amount of money found in text.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    /// The decimal value as a string with a dot and at least two decimals (`1234.50`); exact,
    /// never rounded through a float.
    pub decimal: String,
    /// The ISO 4217 code the text names (`RM` is `MYR`), when it names one.
    pub currency: Option<&'static str>,
    /// Byte range of the amount (with its currency mark) in the text it was found in.
    pub span: (usize, usize),
}

impl Amount {
    /// The value as a float, for comparisons and the flat output.
    pub fn value(&self) -> f64 {
        self.decimal.parse().unwrap_or(0.0)
    }

    /// Whether the text had an explicit decimal part (`12.50`, not `12`).
    pub fn has_decimals(&self) -> bool {
        !self.decimal.ends_with(".00") || self.decimal.len() > 3
    }
}

/// Currency marks and the codes they stand for. Symbols shared by several currencies take the
/// most common one (`$` is USD, `kr` SEK); the document's own code, when printed, wins.
const CURRENCY_MARKS: &[(&str, &str)] = &[
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("US$", "USD"),
    ("$", "USD"),
    ("RM", "MYR"),
    ("S$", "SGD"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("CHF", "CHF"),
    ("Fr.", "CHF"),
    ("kr", "SEK"),
    ("zł", "PLN"),
    ("R$", "BRL"),
];

/// ISO 4217 codes that invoices commonly print.
const CURRENCY_CODES: &[&str] = &[
    "EUR", "USD", "GBP", "CHF", "JPY", "CNY", "INR", "MYR", "SGD", "AUD", "CAD", "NZD", "SEK",
    "NOK", "DKK", "PLN", "CZK", "HUF", "BRL", "MXN", "ZAR", "HKD", "IDR", "THB", "PHP", "MAD",
    "AED", "SAR", "TRY", "RUB", "KRW",
];

/// The ISO 4217 code a word or symbol names (`€` -> EUR, `rm` -> MYR, `eur` -> EUR).
pub fn currency_code(mark: &str) -> Option<&'static str> {
    let t = mark.trim();
    if let Some(code) = CURRENCY_CODES.iter().find(|c| c.eq_ignore_ascii_case(t)) {
        return Some(code);
    }
    CURRENCY_MARKS
        .iter()
        .find(|(m, _)| m.eq_ignore_ascii_case(t))
        .map(|(_, c)| *c)
}

/// Every currency code or symbol in `text`, in order (whole words only for letters).
pub fn currencies_in(text: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')') {
        let letters: String = word.chars().take_while(|c| !c.is_ascii_digit()).collect();
        let letters = letters.trim_end_matches(['.', ',']);
        if letters.is_empty() {
            continue;
        }
        if let Some(code) = currency_code(letters) {
            // Only capital letter codes count: "rm" inside prose is not Malaysian ringgit.
            if letters.chars().any(|c| c.is_ascii_lowercase())
                && letters.len() > 1
                && letters != "kr"
            {
                continue;
            }
            out.push(code);
        } else if let Some(sym) = letters.chars().last().filter(|c| "€£¥₹$".contains(*c)) {
            if let Some(code) = currency_code(&sym.to_string()) {
                out.push(code);
            }
        }
    }
    for word in text.split_whitespace() {
        let tail: String = word
            .chars()
            .rev()
            .take_while(|c| !c.is_ascii_digit())
            .collect();
        let tail: String = tail.chars().rev().collect();
        if let Some(sym) = tail.chars().find(|c| "€£¥₹".contains(*c)) {
            if let Some(code) = currency_code(&sym.to_string()) {
                out.push(code);
            }
        }
    }
    out
}

/// Every amount in `text`: numbers with an optional currency mark before or after. A number
/// needs a decimal part or a currency mark to count as money (a bare `2` is a quantity).
pub fn amounts_in(text: &str) -> Vec<Amount> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if !c.is_ascii_digit() {
            i += 1;
            continue;
        }
        // A number run: digits with single separators between digit groups.
        let mut j = i;
        while j < chars.len() {
            let ch = chars[j].1;
            if ch.is_ascii_digit() {
                j += 1;
            } else if matches!(ch, '.' | ',' | '\'' | ' ' | '\u{a0}' | '\u{202f}')
                && j + 1 < chars.len()
                && chars[j + 1].1.is_ascii_digit()
                && j > i
            {
                // A space groups thousands only before exactly three digits.
                if matches!(ch, ' ' | '\u{a0}' | '\u{202f}') {
                    let group: String = chars[j + 1..].iter().take(4).map(|c| c.1).collect();
                    let three = group.chars().take(3).all(|c| c.is_ascii_digit())
                        && group.chars().nth(3).is_none_or(|c| !c.is_ascii_digit());
                    if !three {
                        break;
                    }
                }
                j += 1;
            } else {
                break;
            }
        }
        let end = chars.get(j).map_or(text.len(), |c| c.0);
        // Digits glued to letters (an invoice number, a postcode in "SG1 2AB") are not money.
        let glued_before =
            i > 0 && chars[i - 1].1.is_alphabetic() && currency_before(text, start).is_none();
        let glued_after = chars.get(j).is_some_and(|c| c.1.is_alphabetic())
            && currency_after(text, end).is_none();
        let number = &text[start..end];
        if let (false, false, Some(decimal)) = (glued_before, glued_after, parse_number(number)) {
            let before = currency_before(text, start);
            let after = currency_after(text, end);
            let currency = before.map(|b| b.0).or(after.map(|a| a.0));
            let explicit_decimals = decimal.1;
            if currency.is_some() || explicit_decimals {
                let s = before.map_or(start, |b| b.1);
                let e = after.map_or(end, |a| a.1);
                out.push(Amount {
                    decimal: decimal.0,
                    currency,
                    span: (s, e),
                });
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// The currency mark right before byte `pos` (spaces allowed), with where it starts.
fn currency_before(text: &str, pos: usize) -> Option<(&'static str, usize)> {
    let head = text[..pos].trim_end();
    let word_start = head
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || *c == ':' || *c == '(')
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &head[word_start..];
    if word.is_empty() {
        return None;
    }
    // "RM", "EUR", "$", "US$", or a symbol glued to a label ("Total$").
    if let Some(code) = currency_code(word) {
        if word.chars().all(|c| !c.is_ascii_lowercase()) || word == "kr" {
            return Some((code, word_start));
        }
    }
    let last = word.chars().last()?;
    if "€£¥₹$".contains(last) {
        return currency_code(&last.to_string()).map(|c| (c, head.len() - last.len_utf8()));
    }
    None
}

/// The currency mark right after byte `pos`, with where it ends.
fn currency_after(text: &str, pos: usize) -> Option<(&'static str, usize)> {
    let tail = &text[pos..];
    let skipped = tail.len() - tail.trim_start().len();
    let rest = tail.trim_start();
    let word_len = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || *c == ')' || *c == ',')
        .map_or(rest.len(), |(i, _)| i);
    let word = rest[..word_len].trim_end_matches('.');
    if word.is_empty() {
        return None;
    }
    let first = word.chars().next()?;
    if "€£¥₹".contains(first) {
        return currency_code(&first.to_string()).map(|c| (c, pos + skipped + first.len_utf8()));
    }
    if word.chars().all(|c| c.is_ascii_uppercase()) && word.len() == 3 {
        return currency_code(word).map(|c| (c, pos + skipped + word.len()));
    }
    None
}

/// A number as printed (`1,234.50`, `1.234,50`, `1 234,5`, `12`) as a decimal string with at
/// least two decimals, and whether it had a decimal part. The last separator followed by one
/// or two digits is the decimal mark; groups of three after a separator are thousands.
pub fn parse_number(s: &str) -> Option<(String, bool)> {
    let s = s.trim();
    if s.is_empty() || !s.chars().next()?.is_ascii_digit() {
        return None;
    }
    let seps: Vec<(usize, char)> = s
        .char_indices()
        .filter(|(_, c)| !c.is_ascii_digit())
        .collect();
    let digits_after = |i: usize| {
        s[i..]
            .chars()
            .skip(1)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let (int_part, frac_part) = match seps.last() {
        None => (s.to_string(), String::new()),
        Some(&(i, c)) => {
            let after = digits_after(i);
            let same_kind_before = seps[..seps.len() - 1].iter().any(|(_, d)| *d == c);
            let decimal =
                matches!(c, '.' | ',') && (after <= 2 || (after != 3 && !same_kind_before));
            // The thousands groups before the decimal mark must all be three digits long.
            let groups_ok = seps.windows(2).all(|w| w[1].0 - w[0].0 == 4);
            if decimal {
                if seps.len() > 1 && !groups_ok {
                    return None;
                }
                if seps[..seps.len() - 1].iter().any(|(_, d)| *d == c) {
                    return None;
                }
                let int: String = s[..i].chars().filter(char::is_ascii_digit).collect();
                (int, s[i + c.len_utf8()..].to_string())
            } else {
                // All separators are thousands marks: each group after the first has 3 digits.
                let mut prev = None;
                for &(k, _) in &seps {
                    if let Some(p) = prev {
                        if k - p != 4 {
                            return None;
                        }
                    }
                    prev = Some(k);
                }
                if digits_after(seps[seps.len() - 1].0) != 3 {
                    return None;
                }
                let kinds: Vec<char> = seps.iter().map(|x| x.1).collect();
                if kinds.iter().any(|k| *k != kinds[0]) {
                    return None;
                }
                (
                    s.chars().filter(char::is_ascii_digit).collect(),
                    String::new(),
                )
            }
        }
    };
    let int = int_part.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let has_frac = !frac_part.is_empty();
    let mut frac = frac_part;
    while frac.len() < 2 {
        frac.push('0');
    }
    Some((format!("{int}.{frac}"), has_frac))
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Four-digit year.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
}

impl Date {
    fn checked(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=days).contains(&day) && (1900..=2199).contains(&year)).then_some(Date {
            year,
            month,
            day,
        })
    }

    /// ISO 8601 (`2019-01-09`).
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Which component of an all-numeric date comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// 09/01/2019 is 9 January (most of the world).
    DayFirst,
    /// 09/01/2019 is 1 September (the United States).
    MonthFirst,
}

/// A date found in text, with the byte range it was printed in.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundDate {
    /// The date.
    pub date: Date,
    /// Byte range in the text.
    pub span: (usize, usize),
    /// Both orders were possible (09/01/2019) and `order` decided it.
    pub ambiguous: bool,
}

/// Month names in English, Dutch, French, German, Spanish (and common abbreviations); the
/// number is the month. Matched on the first letters of a word, case-insensitively.
const MONTHS: &[(&str, u8)] = &[
    ("january", 1),
    ("jan", 1),
    ("januari", 1),
    ("janvier", 1),
    ("janv", 1),
    ("januar", 1),
    ("jänner", 1),
    ("enero", 1),
    ("ene", 1),
    ("february", 2),
    ("feb", 2),
    ("februari", 2),
    ("février", 2),
    ("fevrier", 2),
    ("févr", 2),
    ("fév", 2),
    ("februar", 2),
    ("febrero", 2),
    ("march", 3),
    ("mar", 3),
    ("maart", 3),
    ("mrt", 3),
    ("mars", 3),
    ("märz", 3),
    ("marz", 3),
    ("mär", 3),
    ("marzo", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("avr", 4),
    ("abril", 4),
    ("abr", 4),
    ("may", 5),
    ("mei", 5),
    ("mai", 5),
    ("mayo", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("july", 7),
    ("jul", 7),
    ("juli", 7),
    ("juillet", 7),
    ("juil", 7),
    ("julio", 7),
    ("august", 8),
    ("aug", 8),
    ("augustus", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("ago", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("october", 10),
    ("oct", 10),
    ("oktober", 10),
    ("okt", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("december", 12),
    ("dec", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("déc", 12),
    ("dezember", 12),
    ("dez", 12),
    ("diciembre", 12),
    ("dic", 12),
];

fn month_of(word: &str) -> Option<u8> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTHS.iter().find(|(m, _)| *m == w).map(|(_, n)| *n)
}

fn year_of(n: u32, digits: usize) -> Option<u16> {
    match digits {
        4 => Some(n as u16),
        // Two-digit years on invoices are this century's.
        2 => Some(2000 + n as u16),
        _ => None,
    }
}

/// A token of a date candidate: a number (value, digit count) or a word.
#[derive(Debug, Clone, Copy)]
enum Tok<'a> {
    Num(u32, usize),
    Word(&'a str),
}

/// Every date in `text`, numeric dates read in `order` where both orders are possible.
pub fn dates_in(text: &str, order: DateOrder) -> Vec<FoundDate> {
    let toks = tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((date, ambiguous, used)) = date_at(&toks[i..], order) {
            let span = (toks[i].1, toks[i + used - 1].2);
            out.push(FoundDate {
                date,
                span,
                ambiguous,
            });
            i += used;
        } else {
            i += 1;
        }
    }
    out
}

/// The numeric dates' evidence for an order: `Some` when a date can only be read one way
/// (13/01/2019 is day-first). Conflicting evidence counts by majority.
pub fn order_evidence(text: &str) -> (usize, usize) {
    let toks = tokenize(text);
    let (mut day_first, mut month_first) = (0, 0);
    for w in toks.windows(5) {
        if let [(Tok::Num(a, _), ..), (Tok::Word(s1), ..), (Tok::Num(b, _), ..), (Tok::Word(s2), ..), (Tok::Num(_, yd), ..)] =
            w
        {
            if s1 != s2 || !matches!(*s1, "/" | "-" | ".") || !matches!(*yd, 2 | 4) {
                continue;
            }
            if *a > 12 && *a <= 31 && *b <= 12 {
                day_first += 1;
            } else if *b > 12 && *b <= 31 && *a <= 12 {
                month_first += 1;
            }
        }
    }
    (day_first, month_first)
}

type Spanned<'a> = (Tok<'a>, usize, usize);

fn tokenize(text: &str) -> Vec<Spanned<'_>> {
    let mut toks = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c.is_ascii_digit() {
            let mut end = i + 1;
            while let Some(&(j, d)) = it.peek() {
                if d.is_ascii_digit() {
                    end = j + 1;
                    it.next();
                } else {
                    break;
                }
            }
            let s = &text[i..end];
            toks.push((Tok::Num(s.parse().unwrap_or(u32::MAX), s.len()), i, end));
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = it.peek() {
                if d.is_alphabetic() {
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            // A month abbreviation keeps its dot ("Jan.", "févr.").
            toks.push((Tok::Word(&text[i..end]), i, end));
        } else if c.is_whitespace() {
            continue;
        } else {
            toks.push((Tok::Word(&text[i..i + c.len_utf8()]), i, i + c.len_utf8()));
        }
    }
    toks
}

/// A date starting at the first token: (date, ambiguous, tokens used).
fn date_at(t: &[Spanned<'_>], order: DateOrder) -> Option<(Date, bool, usize)> {
    let num = |k: usize| match t.get(k) {
        Some((Tok::Num(n, d), ..)) => Some((*n, *d)),
        _ => None,
    };
    let word = |k: usize| match t.get(k) {
        Some((Tok::Word(w), ..)) => Some(*w),
        _ => None,
    };
    // Adjacent tokens only: "12 / 01 / 2019" is fine, but a date never spans a long gap.
    let close = |k: usize| {
        t.get(k)
            .zip(t.get(k + 1))
            .is_some_and(|(a, b)| b.1 - a.2 <= 2)
    };
    // Numeric: a SEP b SEP c with the same separator.
    if let (Some((a, ad)), Some(s1), Some((b, bd)), Some(s2), Some((c, cd))) =
        (num(0), word(1), num(2), word(3), num(4))
    {
        if s1 == s2 && matches!(s1, "/" | "-" | ".") && (0..4).all(close) {
            // Year first: 2019-01-09.
            if ad == 4 && bd <= 2 && cd <= 2 {
                let d = Date::checked(a as u16, b as u8, c as u8)?;
                return Some((d, false, 5));
            }
            if ad <= 2 && bd <= 2 {
                let year = year_of(c, cd)?;
                // A time or a decimal follows some numbers ("12.05.2019" vs "1.234.56"):
                // a three-digit third part is not a year.
                let dm = Date::checked(year, b as u8, a as u8);
                let md = Date::checked(year, a as u8, b as u8);
                return match (dm, md, order) {
                    (Some(d), Some(m), _) if d == m => Some((d, false, 5)),
                    (Some(d), Some(_), DateOrder::DayFirst) => Some((d, true, 5)),
                    (Some(_), Some(m), DateOrder::MonthFirst) => Some((m, true, 5)),
                    (Some(d), None, _) => Some((d, false, 5)),
                    (None, Some(m), _) => Some((m, false, 5)),
                    (None, None, _) => None,
                };
            }
        }
    }
    // Day month year: "12 MAR 2018", "12-Mar-18", "12. März 2018", "12 de marzo de 2018".
    if let Some((a, ad)) = num(0) {
        if ad <= 2 {
            let mut k = 1;
            while matches!(word(k), Some("." | "-" | "/" | "de")) {
                k += 1;
            }
            if let Some(m) = word(k).and_then(month_of) {
                let mut k2 = k + 1;
                while matches!(word(k2), Some("." | "-" | "/" | "," | "de")) {
                    k2 += 1;
                }
                if let Some((y, yd)) = num(k2) {
                    if k2 < 7 {
                        let d = Date::checked(year_of(y, yd)?, m, a as u8)?;
                        return Some((d, false, k2 + 1));
                    }
                }
            }
        }
    }
    // Month day year: "March 12, 2018", "Mar 12 2018".
    if let Some(m) = word(0).and_then(month_of) {
        let mut k = 1;
        while matches!(word(k), Some(".")) {
            k += 1;
        }
        if let Some((a, ad)) = num(k) {
            if ad <= 2 {
                let mut k2 = k + 1;
                while matches!(word(k2), Some("," | ".")) {
                    k2 += 1;
                }
                if let Some((y, yd)) = num(k2) {
                    let d = Date::checked(year_of(y, yd)?, m, a as u8)?;
                    return Some((d, false, k2 + 1));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Option<String> {
        parse_number(s).map(|d| d.0)
    }

    #[test]
    fn numbers_read_thousands_and_decimal_marks_either_way() {
        assert_eq!(dec("1,234.56").as_deref(), Some("1234.56"));
        assert_eq!(dec("1.234,56").as_deref(), Some("1234.56"));
        assert_eq!(dec("1 234,5").as_deref(), Some("1234.50"));
        assert_eq!(dec("12,50").as_deref(), Some("12.50"));
        assert_eq!(dec("1,234").as_deref(), Some("1234.00"));
        assert_eq!(dec("1.234.567").as_deref(), Some("1234567.00"));
        assert_eq!(dec("0.46").as_deref(), Some("0.46"));
        assert_eq!(dec("007").as_deref(), Some("7.00"));
        assert_eq!(dec("1,23,4"), None);
        assert_eq!(dec("1.234.56"), None);
    }

    #[test]
    fn amounts_take_their_currency_marks() {
        let a = amounts_in("TOTAL: RM31.00");
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].decimal.as_str(), a[0].currency),
            ("31.00", Some("MYR"))
        );
        assert_eq!(&"TOTAL: RM31.00"[a[0].span.0..a[0].span.1], "RM31.00");
        let a = amounts_in("Gesamtbetrag 1.234,50 €");
        assert_eq!(
            (a[0].decimal.as_str(), a[0].currency),
            ("1234.50", Some("EUR"))
        );
        let a = amounts_in("Total due $8.20 (USD)");
        assert_eq!(
            (a[0].decimal.as_str(), a[0].currency),
            ("8.20", Some("USD"))
        );
        let a = amounts_in("EUR 1 250,00");
        assert_eq!(
            (a[0].decimal.as_str(), a[0].currency),
            ("1250.00", Some("EUR"))
        );
        // Quantities and identifiers are not money.
        assert!(
            amounts_in("QTY 2 INV123 81100").is_empty(),
            "{:?}",
            amounts_in("QTY 2 INV123 81100")
        );
    }

    #[test]
    fn dates_in_many_forms() {
        let iso = |t: &str, o| dates_in(t, o).first().map(|d| d.date.iso());
        use DateOrder::*;
        assert_eq!(
            iso("DATE : 09/01/2019 8:01:11 PM", DayFirst).as_deref(),
            Some("2019-01-09")
        );
        assert_eq!(iso("09/01/2019", MonthFirst).as_deref(), Some("2019-09-01"));
        assert_eq!(iso("13/01/2019", MonthFirst).as_deref(), Some("2019-01-13"));
        assert_eq!(iso("28-12-17", DayFirst).as_deref(), Some("2017-12-28"));
        assert_eq!(iso("2018-01-05", DayFirst).as_deref(), Some("2018-01-05"));
        assert_eq!(
            iso("12 MAR 2018 18:19", DayFirst).as_deref(),
            Some("2018-03-12")
        );
        assert_eq!(
            iso("Datum: 3. März 2021", DayFirst).as_deref(),
            Some("2021-03-03")
        );
        assert_eq!(
            iso("le 14 février 2022", DayFirst).as_deref(),
            Some("2022-02-14")
        );
        assert_eq!(
            iso("Fecha: 5 de marzo de 2020", DayFirst).as_deref(),
            Some("2020-03-05")
        );
        assert_eq!(
            iso("Datum 7 mei 2023", DayFirst).as_deref(),
            Some("2023-05-07")
        );
        assert_eq!(
            iso("March 12, 2018", DayFirst).as_deref(),
            Some("2018-03-12")
        );
        assert_eq!(iso("12.05.2019", DayFirst).as_deref(), Some("2019-05-12"));
        assert_eq!(iso("31/02/2019", DayFirst), None);
        assert_eq!(iso("TEL 07-355 2616", DayFirst), None);
        assert_eq!(order_evidence("01/13/2020 and 02/01/2020"), (0, 1));
    }
}
