//! The words invoices and receipts print before their values, in English, Dutch, French,
//! German and Spanish. Matching is on lower-cased text at word boundaries.

/// What a label announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// The amount to pay; `strong` for unambiguous forms ("grand total", "amount due").
    Total {
        /// An unambiguous form.
        strong: bool,
    },
    /// Before tax.
    Subtotal,
    /// Tax.
    Tax,
    /// Cash handed over, change, rounding, discounts, counts: amounts that are not the total.
    NotTotal,
    /// The document's date.
    Date,
    /// The payment due date.
    DueDate,
    /// The invoice or receipt number.
    InvoiceNumber,
    /// The customer's block ("bill to"), whose name and address are not the issuer's.
    Customer,
    /// Telephone, fax, e-mail, web, tax and company registration numbers: the end of an
    /// issuer's address.
    Contact,
    /// Line item column headers.
    ItemHeader(crate::spec::ItemColumn),
}

use crate::spec::ItemColumn;
use Label::*;

/// Labels, longest first where one contains another, so "subtotal" wins over "total".
const LABELS: &[(&str, Label)] = &[
    // Not the total: these contain "total" but say something else.
    ("total qty", NotTotal),
    ("total quantity", NotTotal),
    ("total items", NotTotal),
    ("total item", NotTotal),
    ("total savings", NotTotal),
    ("total discount", NotTotal),
    ("total disc", NotTotal),
    ("total tendered", NotTotal),
    ("total paid", NotTotal),
    ("total number", NotTotal),
    ("total units", NotTotal),
    ("total pieces", NotTotal),
    ("tendered", NotTotal),
    ("cash received", NotTotal),
    ("cash", NotTotal),
    ("change due", NotTotal),
    ("change", NotTotal),
    ("rounding", NotTotal),
    ("round adj", NotTotal),
    ("rounding adj", NotTotal),
    ("discount", NotTotal),
    ("paid", NotTotal),
    ("payment", NotTotal),
    ("balance", NotTotal),
    ("qty", NotTotal),
    ("wisselgeld", NotTotal),
    ("contant", NotTotal),
    ("korting", NotTotal),
    ("rendu", NotTotal),
    ("remise", NotTotal),
    ("espèces", NotTotal),
    ("rückgeld", NotTotal),
    ("bar gegeben", NotTotal),
    ("rabatt", NotTotal),
    ("cambio", NotTotal),
    ("efectivo", NotTotal),
    ("descuento", NotTotal),
    // Subtotals and taxes.
    ("subtotal", Subtotal),
    ("sub total", Subtotal),
    ("sub-total", Subtotal),
    ("total excl", Subtotal),
    ("total excluding", Subtotal),
    ("total before tax", Subtotal),
    ("total (excl", Subtotal),
    ("net amount", Subtotal),
    ("amount excl", Subtotal),
    ("subtotaal", Subtotal),
    ("totaal excl", Subtotal),
    ("bedrag excl", Subtotal),
    ("total ht", Subtotal),
    ("montant ht", Subtotal),
    ("sous-total", Subtotal),
    ("sous total", Subtotal),
    ("total hors taxes", Subtotal),
    ("zwischensumme", Subtotal),
    ("nettobetrag", Subtotal),
    ("summe netto", Subtotal),
    ("gesamt netto", Subtotal),
    ("netto", Subtotal),
    ("base imponible", Subtotal),
    ("importe neto", Subtotal),
    ("total gst", Tax),
    ("total tax", Tax),
    ("total vat", Tax),
    ("sales tax", Tax),
    ("tax amount", Tax),
    ("tax amt", Tax),
    ("vat amount", Tax),
    ("gst amount", Tax),
    ("tax", Tax),
    ("vat", Tax),
    ("gst", Tax),
    ("sst", Tax),
    ("btw", Tax),
    ("tva", Tax),
    ("mwst", Tax),
    ("mehrwertsteuer", Tax),
    ("umsatzsteuer", Tax),
    ("ust", Tax),
    ("iva", Tax),
    ("impuesto", Tax),
    // Totals.
    ("grand total", Total { strong: true }),
    ("total amount", Total { strong: true }),
    ("total amt", Total { strong: true }),
    ("amount due", Total { strong: true }),
    ("total due", Total { strong: true }),
    ("balance due", Total { strong: true }),
    ("amount payable", Total { strong: true }),
    ("total payable", Total { strong: true }),
    ("nett total", Total { strong: true }),
    ("net total", Total { strong: true }),
    ("total incl", Total { strong: true }),
    ("total (incl", Total { strong: true }),
    ("total sales", Total { strong: true }),
    ("total inclusive", Total { strong: true }),
    ("rounded total", Total { strong: true }),
    ("total rounded", Total { strong: true }),
    ("totaal incl", Total { strong: true }),
    ("te betalen", Total { strong: true }),
    ("totaalbedrag", Total { strong: true }),
    ("total ttc", Total { strong: true }),
    ("montant ttc", Total { strong: true }),
    ("net à payer", Total { strong: true }),
    ("net a payer", Total { strong: true }),
    ("total à payer", Total { strong: true }),
    ("montant total", Total { strong: true }),
    ("gesamtbetrag", Total { strong: true }),
    ("rechnungsbetrag", Total { strong: true }),
    ("gesamtsumme", Total { strong: true }),
    ("endbetrag", Total { strong: true }),
    ("zu zahlen", Total { strong: true }),
    ("summe brutto", Total { strong: true }),
    ("total a pagar", Total { strong: true }),
    ("importe total", Total { strong: true }),
    ("total factura", Total { strong: true }),
    ("total", Total { strong: false }),
    ("totaal", Total { strong: false }),
    ("gesamt", Total { strong: false }),
    ("summe", Total { strong: false }),
    ("brutto", Total { strong: false }),
    ("amount", Total { strong: false }),
    ("montant", Total { strong: false }),
    ("bedrag", Total { strong: false }),
    ("betrag", Total { strong: false }),
    ("importe", Total { strong: false }),
    // Dates.
    ("due date", DueDate),
    ("payment due", DueDate),
    ("date due", DueDate),
    ("pay by", DueDate),
    ("vervaldatum", DueDate),
    ("uiterste betaaldatum", DueDate),
    ("date d'échéance", DueDate),
    ("échéance", DueDate),
    ("echeance", DueDate),
    ("fälligkeitsdatum", DueDate),
    ("fällig am", DueDate),
    ("zahlbar bis", DueDate),
    ("fecha de vencimiento", DueDate),
    ("vencimiento", DueDate),
    ("invoice date", Date),
    ("date of issue", Date),
    ("issue date", Date),
    ("receipt date", Date),
    ("date", Date),
    ("dated", Date),
    ("factuurdatum", Date),
    ("datum", Date),
    ("date de facture", Date),
    ("date facture", Date),
    ("date d'émission", Date),
    ("rechnungsdatum", Date),
    ("belegdatum", Date),
    ("fecha de factura", Date),
    ("fecha factura", Date),
    ("fecha de emisión", Date),
    ("fecha", Date),
    ("tarikh", Date),
    // Numbers.
    ("invoice number", InvoiceNumber),
    ("invoice no", InvoiceNumber),
    ("invoice nr", InvoiceNumber),
    ("invoice #", InvoiceNumber),
    ("invoice id", InvoiceNumber),
    ("inv no", InvoiceNumber),
    ("inv #", InvoiceNumber),
    ("receipt no", InvoiceNumber),
    ("receipt number", InvoiceNumber),
    ("receipt #", InvoiceNumber),
    ("bill no", InvoiceNumber),
    ("cash bill", InvoiceNumber),
    ("doc no", InvoiceNumber),
    ("document no", InvoiceNumber),
    ("factuurnummer", InvoiceNumber),
    ("factuurnr", InvoiceNumber),
    ("factuur nr", InvoiceNumber),
    ("numéro de facture", InvoiceNumber),
    ("facture n°", InvoiceNumber),
    ("facture no", InvoiceNumber),
    ("n° de facture", InvoiceNumber),
    ("rechnungsnummer", InvoiceNumber),
    ("rechnungs-nr", InvoiceNumber),
    ("rechnung nr", InvoiceNumber),
    ("número de factura", InvoiceNumber),
    ("numero de factura", InvoiceNumber),
    ("nº factura", InvoiceNumber),
    ("factura n", InvoiceNumber),
    ("invoice", InvoiceNumber),
    // The customer's block.
    ("bill to", Customer),
    ("billed to", Customer),
    ("ship to", Customer),
    ("sold to", Customer),
    ("invoice to", Customer),
    ("customer", Customer),
    ("client", Customer),
    ("factuuradres", Customer),
    ("klant", Customer),
    ("facturé à", Customer),
    ("facturer à", Customer),
    ("rechnungsempfänger", Customer),
    ("kunde", Customer),
    ("cliente", Customer),
    ("facturar a", Customer),
    // Contact and registration lines.
    ("tel", Contact),
    ("tel.", Contact),
    ("phone", Contact),
    ("telephone", Contact),
    ("telefoon", Contact),
    ("téléphone", Contact),
    ("telefon", Contact),
    ("teléfono", Contact),
    ("fax", Contact),
    ("mobile", Contact),
    ("whatsapp", Contact),
    ("whatsapps", Contact),
    ("h/p", Contact),
    ("email", Contact),
    ("e-mail", Contact),
    ("www", Contact),
    ("http", Contact),
    ("gst id", Contact),
    ("gst reg", Contact),
    ("gst no", Contact),
    ("co reg", Contact),
    ("co. reg", Contact),
    ("company reg", Contact),
    ("vat no", Contact),
    ("vat reg", Contact),
    ("btw-nr", Contact),
    ("btw nr", Contact),
    ("kvk", Contact),
    ("siret", Contact),
    ("tva intracom", Contact),
    ("ust-idnr", Contact),
    ("steuernummer", Contact),
    ("cif", Contact),
    ("nif", Contact),
    ("iban", Contact),
    // Item columns.
    ("description", ItemHeader(ItemColumn::Description)),
    ("item", ItemHeader(ItemColumn::Description)),
    ("omschrijving", ItemHeader(ItemColumn::Description)),
    ("désignation", ItemHeader(ItemColumn::Description)),
    ("beschreibung", ItemHeader(ItemColumn::Description)),
    ("bezeichnung", ItemHeader(ItemColumn::Description)),
    ("artikel", ItemHeader(ItemColumn::Description)),
    ("descripción", ItemHeader(ItemColumn::Description)),
    ("concepto", ItemHeader(ItemColumn::Description)),
    ("quantity", ItemHeader(ItemColumn::Quantity)),
    ("qty", ItemHeader(ItemColumn::Quantity)),
    ("aantal", ItemHeader(ItemColumn::Quantity)),
    ("quantité", ItemHeader(ItemColumn::Quantity)),
    ("qté", ItemHeader(ItemColumn::Quantity)),
    ("menge", ItemHeader(ItemColumn::Quantity)),
    ("anzahl", ItemHeader(ItemColumn::Quantity)),
    ("cantidad", ItemHeader(ItemColumn::Quantity)),
    ("unit price", ItemHeader(ItemColumn::UnitPrice)),
    ("price", ItemHeader(ItemColumn::UnitPrice)),
    ("rate", ItemHeader(ItemColumn::UnitPrice)),
    ("prijs", ItemHeader(ItemColumn::UnitPrice)),
    ("stukprijs", ItemHeader(ItemColumn::UnitPrice)),
    ("prix unitaire", ItemHeader(ItemColumn::UnitPrice)),
    ("prix", ItemHeader(ItemColumn::UnitPrice)),
    ("einzelpreis", ItemHeader(ItemColumn::UnitPrice)),
    ("preis", ItemHeader(ItemColumn::UnitPrice)),
    ("precio unitario", ItemHeader(ItemColumn::UnitPrice)),
    ("precio", ItemHeader(ItemColumn::UnitPrice)),
    ("amount", ItemHeader(ItemColumn::Amount)),
    ("line total", ItemHeader(ItemColumn::Amount)),
    ("total", ItemHeader(ItemColumn::Amount)),
    ("bedrag", ItemHeader(ItemColumn::Amount)),
    ("totaal", ItemHeader(ItemColumn::Amount)),
    ("montant", ItemHeader(ItemColumn::Amount)),
    ("betrag", ItemHeader(ItemColumn::Amount)),
    ("gesamt", ItemHeader(ItemColumn::Amount)),
    ("importe", ItemHeader(ItemColumn::Amount)),
];

/// A label found in a row: what it announces and the byte range it covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// The label's meaning.
    pub label: Label,
    /// Start byte in the row's text.
    pub start: usize,
    /// End byte.
    pub end: usize,
}

fn at_boundary(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphabetic())
}

/// Every label in a lower-cased row text, earliest first; where labels overlap the longer
/// (listed first among those containing each other) wins. Item headers are left out unless
/// `headers` is set, since "total" or "amount" is a total label everywhere else.
pub fn find(lower: &str, headers: bool) -> Vec<Found> {
    static BY_LENGTH: std::sync::OnceLock<Vec<(&str, Label)>> = std::sync::OnceLock::new();
    let labels = BY_LENGTH.get_or_init(|| {
        let mut v = LABELS.to_vec();
        // Longest first: "balance due" before "balance", "cash bill" before "cash".
        v.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
        v
    });
    let mut out: Vec<Found> = Vec::new();
    for &(word, label) in labels {
        if matches!(label, ItemHeader(_)) != headers {
            continue;
        }
        let mut from = 0;
        while let Some(pos) = lower[from..].find(word) {
            let (s, e) = (from + pos, from + pos + word.len());
            from = e;
            if !at_boundary(lower, s, e) {
                continue;
            }
            if out.iter().any(|f| f.start < e && s < f.end) {
                continue;
            }
            // "included in total", "2% of total": the word, not a label.
            let prev_word = lower[..s].split_whitespace().next_back().unwrap_or("");
            if matches!(label, Total { .. })
                && matches!(prev_word, "in" | "of" | "im" | "du" | "del")
            {
                continue;
            }
            out.push(Found {
                label,
                start: s,
                end: e,
            });
        }
    }
    out.sort_by_key(|f| f.start);
    qualify(lower, out)
}

/// A tax word that qualifies a total ("Total (incl. GST)", "Total Sales Excluding VAT",
/// "Totaal incl. btw") is part of that label, not a tax line of its own; "excluding" makes the
/// total a subtotal.
fn qualify(lower: &str, found: Vec<Found>) -> Vec<Found> {
    const INCL: &[&str] = &[
        "incl",
        "inclusive",
        "including",
        "inkl",
        "inclus",
        "inclusief",
        "incluido",
        "ttc",
    ];
    const EXCL: &[&str] = &[
        "excl",
        "exclusive",
        "excluding",
        "exkl",
        "hors",
        "exclusief",
        "sin",
        "before",
        "ohne",
    ];
    let mut out: Vec<Found> = Vec::with_capacity(found.len());
    for mut f in found {
        // "Total 6% supplies", "Total 21% BTW": the part of the total at one tax rate.
        if f.label == (Total { strong: false }) && rate_follows(&lower[f.end..]) {
            f.label = NotTotal;
        }
        if f.label == Tax {
            if let Some(prev) = out.last_mut() {
                let between = &lower[prev.end..f.start];
                let words: Vec<&str> = between
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect();
                let is_total = matches!(prev.label, Total { .. } | Subtotal);
                if is_total && words.len() <= 4 {
                    if words.iter().any(|w| EXCL.contains(w)) {
                        prev.label = Subtotal;
                        prev.end = f.end;
                        continue;
                    }
                    if words.iter().any(|w| INCL.contains(w)) || between.contains('(') {
                        prev.end = f.end;
                        continue;
                    }
                }
            }
        }
        out.push(f);
    }
    out
}

/// Whether `rest` starts with a percentage ("6% supplies", " 0 %:").
fn rate_follows(rest: &str) -> bool {
    let rest = rest.trim_start();
    let digits = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(rest.len());
    digits > 0 && rest[digits..].trim_start().starts_with('%')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> Vec<Label> {
        find(&s.to_lowercase(), false)
            .into_iter()
            .map(|f| f.label)
            .collect()
    }

    #[test]
    fn longer_labels_win_and_words_must_be_whole() {
        assert_eq!(labels("SUBTOTAL 12.00"), [Subtotal]);
        assert_eq!(labels("Total Qty: 3"), [NotTotal]);
        assert_eq!(labels("Nett Total: $8.20"), [Total { strong: true }]);
        assert_eq!(labels("TOTAL: 31.00"), [Total { strong: false }]);
        assert_eq!(
            labels("Totaal te betalen € 12,50"),
            [Total { strong: false }, Total { strong: true }]
        );
        assert_eq!(labels("Fälligkeitsdatum: 01.04.2024"), [DueDate]);
        assert_eq!(labels("Date: 09/01/2019"), [Date]);
        assert_eq!(labels("Updated"), Vec::<Label>::new());
        assert_eq!(labels("GST @6%: 0.46"), [Tax]);
        assert_eq!(labels("Facture n° F-2024-001"), [InvoiceNumber]);
    }
}
