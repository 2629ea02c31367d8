//! `folio extract --fields` end to end: born-digital invoices in five languages, laid out here
//! with positioned Helvetica text as an invoicing tool writes them, read back by the real
//! binary; and the errors of a bad request.

mod cli_common;

#[path = "../../folio-pdf/tests/common/pdf_writer.rs"]
mod pdf_writer;

use cli_common::*;
use serde_json::{json, Value};

/// A one-page A4 PDF with each `(x, y from the top, size, text)` drawn in Helvetica
/// (WinAnsi: the text is given in Latin-1 so that accents and `€` (0x80) come out right).
fn invoice_pdf(items: &[(f32, f32, f32, &str)]) -> Vec<u8> {
    let mut content = Vec::new();
    for (x, y, size, text) in items {
        content.extend_from_slice(format!("BT /F1 {size} Tf {x} {} Td (", 842.0 - y).as_bytes());
        for c in text.chars() {
            let b = match c {
                '€' => 0x80,
                '(' | ')' | '\\' => {
                    content.push(b'\\');
                    c as u8
                }
                c if (c as u32) < 256 => c as u8,
                _ => b'?',
            };
            content.push(b);
        }
        content.extend_from_slice(b") Tj ET\n");
    }
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        pdf_writer::stream("", &content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    pdf_writer::pdf(&objects)
}

/// The words of one invoice layout, in one language.
struct Words<'a> {
    company: &'a str,
    street: &'a str,
    city: &'a str,
    title: &'a str,
    number: (&'a str, &'a str),
    date: (&'a str, &'a str),
    due: (&'a str, &'a str),
    bill_to: (&'a str, &'a str),
    header: [&'a str; 4],
    lines: [(&'a str, &'a str, &'a str, &'a str); 2],
    subtotal: (&'a str, &'a str),
    tax: (&'a str, &'a str),
    total: (&'a str, &'a str),
}

fn layout(w: &Words<'_>) -> Vec<u8> {
    let mut items = vec![
        (50.0, 60.0, 18.0, w.company),
        (400.0, 60.0, 20.0, w.title),
        (50.0, 82.0, 10.0, w.street),
        (50.0, 96.0, 10.0, w.city),
        (330.0, 110.0, 10.0, w.number.0),
        (450.0, 110.0, 10.0, w.number.1),
        (330.0, 124.0, 10.0, w.date.0),
        (450.0, 124.0, 10.0, w.date.1),
        (330.0, 138.0, 10.0, w.due.0),
        (450.0, 138.0, 10.0, w.due.1),
        (50.0, 180.0, 10.0, w.bill_to.0),
        (50.0, 194.0, 10.0, w.bill_to.1),
        (50.0, 260.0, 10.0, w.header[0]),
        (300.0, 260.0, 10.0, w.header[1]),
        (370.0, 260.0, 10.0, w.header[2]),
        (480.0, 260.0, 10.0, w.header[3]),
    ];
    for (i, l) in w.lines.iter().enumerate() {
        let y = 280.0 + 16.0 * i as f32;
        items.extend([
            (50.0, y, 10.0, l.0),
            (300.0, y, 10.0, l.1),
            (370.0, y, 10.0, l.2),
            (480.0, y, 10.0, l.3),
        ]);
    }
    for (i, (label, value)) in [w.subtotal, w.tax, w.total].iter().enumerate() {
        let y = 340.0 + 16.0 * i as f32;
        items.extend([(370.0, y, 10.0, *label), (480.0, y, 10.0, *value)]);
    }
    invoice_pdf(&items)
}

const ALL: &str =
    "vendor,address,date,due_date,invoice_number,subtotal,tax,total,currency,line_items";

fn fields_of(pdf: &[u8], names: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, pdf).unwrap();
    let o = folio(&[
        "extract",
        path.to_str().unwrap(),
        "--fields",
        names,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    doc["fields"].clone()
}

/// What one invoice's fields must be.
struct Expected<'a> {
    company: &'a str,
    street: &'a str,
    date: &'a str,
    due: &'a str,
    number: &'a str,
    amounts: [f64; 3],
    currency: &'a str,
    items: [(&'a str, f64); 2],
}

fn check(f: &Value, e: &Expected<'_>) {
    let Expected {
        company,
        street,
        date,
        due,
        number,
        amounts,
        currency,
        items,
    } = *e;
    let v = |n: &str| f[n]["value"].clone();
    assert_eq!(v("vendor"), json!(company), "{f:#}");
    assert!(
        v("address").as_str().unwrap_or("").contains(street),
        "{f:#}"
    );
    assert_eq!(f["date"]["normalized"], json!(date), "{f:#}");
    assert_eq!(f["due_date"]["normalized"], json!(due), "{f:#}");
    assert_eq!(v("invoice_number"), json!(number), "{f:#}");
    assert_eq!(
        [v("subtotal"), v("tax"), v("total")],
        amounts.map(|a| json!(a)),
        "{f:#}"
    );
    assert_eq!(
        f["total"]["normalized"]["currency"],
        json!(currency),
        "{f:#}"
    );
    assert_eq!(v("currency"), json!(currency), "{f:#}");
    let lines = v("line_items");
    let got: Vec<(String, f64)> = lines
        .as_array()
        .unwrap_or_else(|| panic!("{f:#}"))
        .iter()
        .map(|l| {
            (
                l["description"].as_str().unwrap_or("").to_string(),
                l["amount"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    assert_eq!(got, items.map(|(d, a)| (d.to_string(), a)), "{f:#}");
    for name in ["vendor", "total", "date"] {
        assert_eq!(f[name]["source"], "rules");
        assert_eq!(f[name]["page"], 1);
        assert!(f[name]["bbox"]["x0"].is_number(), "{f:#}");
    }
}

#[test]
fn english_invoice() {
    let pdf = layout(&Words {
        company: "Northwind Traders Ltd",
        street: "12 Harbour Street",
        city: "London EC1A 1BB",
        title: "INVOICE",
        number: ("Invoice No:", "INV-2024-0042"),
        date: ("Invoice Date:", "14/03/2024"),
        due: ("Due Date:", "13/04/2024"),
        bill_to: ("Bill to:", "Contoso Corporation"),
        header: ["Description", "Qty", "Unit price", "Amount"],
        lines: [
            ("Consulting services", "10", "120.00", "1,200.00"),
            ("Travel expenses", "1", "350.50", "350.50"),
        ],
        subtotal: ("Subtotal", "1,550.50"),
        tax: ("VAT 20%", "310.10"),
        total: ("Total due", "GBP 1,860.60"),
    });
    let f = fields_of(&pdf, ALL);
    check(
        &f,
        &Expected {
            company: "Northwind Traders Ltd",
            street: "12 Harbour Street",
            date: "2024-03-14",
            due: "2024-04-13",
            number: "INV-2024-0042",
            amounts: [1550.5, 310.1, 1860.6],
            currency: "GBP",
            items: [("Consulting services", 1200.0), ("Travel expenses", 350.5)],
        },
    );
}

#[test]
fn german_invoice() {
    let pdf = layout(&Words {
        company: "Muster GmbH",
        street: "Hauptstraße 5",
        city: "10115 Berlin",
        title: "RECHNUNG",
        number: ("Rechnungsnummer:", "RE-2024-17"),
        date: ("Rechnungsdatum:", "05.03.2024"),
        due: ("Fälligkeitsdatum:", "04.04.2024"),
        bill_to: ("Rechnungsempfänger:", "Beispiel AG"),
        header: ["Beschreibung", "Menge", "Einzelpreis", "Betrag"],
        lines: [
            ("Beratung", "8", "100,00 €", "800,00 €"),
            ("Reisekosten", "1", "200,00 €", "200,00 €"),
        ],
        subtotal: ("Zwischensumme", "1.000,00 €"),
        tax: ("MwSt. 19%", "190,00 €"),
        total: ("Gesamtbetrag", "1.190,00 €"),
    });
    let f = fields_of(&pdf, ALL);
    check(
        &f,
        &Expected {
            company: "Muster GmbH",
            street: "Hauptstraße 5",
            date: "2024-03-05",
            due: "2024-04-04",
            number: "RE-2024-17",
            amounts: [1000.0, 190.0, 1190.0],
            currency: "EUR",
            items: [("Beratung", 800.0), ("Reisekosten", 200.0)],
        },
    );
}

#[test]
fn french_invoice() {
    let pdf = layout(&Words {
        company: "Dupont SARL",
        street: "12 rue de la Paix",
        city: "75002 Paris",
        title: "FACTURE",
        number: ("Facture n°", "F-2024-003"),
        date: ("Date :", "14/02/2024"),
        due: ("Échéance :", "15/03/2024"),
        bill_to: ("Facturé à :", "Martin SA"),
        header: ["Désignation", "Qté", "Prix unitaire", "Montant"],
        lines: [
            ("Développement", "5", "80,00 €", "400,00 €"),
            ("Hébergement", "1", "100,00 €", "100,00 €"),
        ],
        subtotal: ("Total HT", "500,00 €"),
        tax: ("TVA 20 %", "100,00 €"),
        total: ("Total TTC", "600,00 €"),
    });
    let f = fields_of(&pdf, ALL);
    check(
        &f,
        &Expected {
            company: "Dupont SARL",
            street: "12 rue de la Paix",
            date: "2024-02-14",
            due: "2024-03-15",
            number: "F-2024-003",
            amounts: [500.0, 100.0, 600.0],
            currency: "EUR",
            items: [("Développement", 400.0), ("Hébergement", 100.0)],
        },
    );
}

#[test]
fn dutch_invoice() {
    let pdf = layout(&Words {
        company: "Jansen B.V.",
        street: "Keizersgracht 100",
        city: "1015 AA Amsterdam",
        title: "FACTUUR",
        number: ("Factuurnummer:", "2024-118"),
        date: ("Factuurdatum:", "07-05-2024"),
        due: ("Vervaldatum:", "06-06-2024"),
        bill_to: ("Klant:", "De Vries en Zonen"),
        header: ["Omschrijving", "Aantal", "Prijs", "Bedrag"],
        lines: [
            ("Advies", "2", "€ 75,00", "€ 150,00"),
            ("Licentie", "1", "€ 50,00", "€ 50,00"),
        ],
        subtotal: ("Subtotaal", "€ 200,00"),
        tax: ("BTW 21%", "€ 42,00"),
        total: ("Totaal te betalen", "€ 242,00"),
    });
    let f = fields_of(&pdf, ALL);
    check(
        &f,
        &Expected {
            company: "Jansen B.V.",
            street: "Keizersgracht 100",
            date: "2024-05-07",
            due: "2024-06-06",
            number: "2024-118",
            amounts: [200.0, 42.0, 242.0],
            currency: "EUR",
            items: [("Advies", 150.0), ("Licentie", 50.0)],
        },
    );
}

#[test]
fn spanish_invoice() {
    let pdf = layout(&Words {
        company: "García y Asociados S.L.",
        street: "Calle Mayor 10",
        city: "28013 Madrid",
        title: "FACTURA",
        number: ("Número de factura:", "FAC-88"),
        date: ("Fecha:", "20/01/2024"),
        due: ("Vencimiento:", "19/02/2024"),
        bill_to: ("Cliente:", "Comercial López"),
        header: ["Descripción", "Cantidad", "Precio", "Importe"],
        lines: [
            ("Diseño web", "1", "250,00 €", "250,00 €"),
            ("Mantenimiento", "1", "50,00 €", "50,00 €"),
        ],
        subtotal: ("Base imponible", "300,00 €"),
        tax: ("IVA 21%", "63,00 €"),
        total: ("Total", "363,00 €"),
    });
    let f = fields_of(&pdf, ALL);
    check(
        &f,
        &Expected {
            company: "García y Asociados S.L.",
            street: "Calle Mayor 10",
            date: "2024-01-20",
            due: "2024-02-19",
            number: "FAC-88",
            amounts: [300.0, 63.0, 363.0],
            currency: "EUR",
            items: [("Diseño web", 250.0), ("Mantenimiento", 50.0)],
        },
    );
}

/// A till receipt paid in cash: the total is rounded to five cents on its own line, and that
/// rounded amount is the one to pay, whether the line says "TOTAL" or only "Rounding".
#[test]
fn a_cash_rounded_total_is_the_amount_paid() {
    for (rounded_label, expected) in [("TOTAL:", 65.70), ("Rounding", 65.70)] {
        let pdf = invoice_pdf(&[
            (50.0, 60.0, 14.0, "KEDAI MAKAN SRI MAJU"),
            (50.0, 80.0, 9.0, "12, JALAN AIR HITAM, 43800 DENGKIL"),
            (50.0, 100.0, 9.0, "Date: 28-04-2018 20:10"),
            (50.0, 130.0, 9.0, "Chicken Item"),
            (300.0, 130.0, 9.0, "20.00"),
            (50.0, 145.0, 9.0, "Sausage Fried Rice"),
            (300.0, 145.0, 9.0, "42.00"),
            (50.0, 170.0, 9.0, "Total (Excluding GST):"),
            (300.0, 170.0, 9.0, "62.00"),
            (50.0, 185.0, 9.0, "GST Payable:"),
            (300.0, 185.0, 9.0, "3.72"),
            (50.0, 200.0, 9.0, "Total (Inclusive of GST):"),
            (300.0, 200.0, 9.0, "65.72"),
            (50.0, 215.0, 9.0, "Rounding Adj"),
            (300.0, 215.0, 9.0, "-0.02"),
            (50.0, 230.0, 9.0, rounded_label),
            (300.0, 230.0, 9.0, "65.70"),
            (50.0, 250.0, 9.0, "CASH"),
            (300.0, 250.0, 9.0, "70.00"),
            (50.0, 265.0, 9.0, "CHANGE"),
            (300.0, 265.0, 9.0, "4.30"),
        ]);
        let f = fields_of(&pdf, "total");
        assert_eq!(
            f["total"]["value"].as_f64(),
            Some(expected),
            "{rounded_label}: {f}"
        );
    }
}

#[test]
fn format_fields_prints_one_flat_object_in_the_order_asked() {
    let pdf = invoice_pdf(&[
        (50.0, 60.0, 18.0, "Acme Trading Co."),
        (50.0, 120.0, 10.0, "Date: 09/01/2019"),
        (300.0, 300.0, 10.0, "TOTAL: RM31.00"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let o = folio(&[
        "extract",
        path.to_str().unwrap(),
        "--fields",
        "total,date,company,colour",
        "--format",
        "fields",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let v: Value = serde_json::from_str(&out).expect("only JSON on stdout");
    assert_eq!(
        v,
        json!({"total": 31.0, "date": "09/01/2019", "company": "Acme Trading Co.", "colour": null})
    );
    let order: Vec<usize> = ["\"total\"", "\"date\"", "\"company\"", "\"colour\""]
        .iter()
        .map(|k| out.find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
    // The unknown name is a warning on stderr, never a guess.
    assert!(stderr(&o).contains("colour"), "{}", stderr(&o));
}

#[test]
fn bad_requests_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("r.pdf");
    std::fs::write(&pdf, invoice_pdf(&[(50.0, 60.0, 12.0, "Total 1.00")])).unwrap();
    let p = pdf.to_str().unwrap();
    let schema = dir.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"type":"object","properties":{"total":{"type":"object"}}}"#,
    )
    .unwrap();
    assert_clean_failure(
        &folio(&["extract", p, "--schema", schema.to_str().unwrap()]),
        "unsupported type",
    );
    std::fs::write(&schema, "{not json").unwrap();
    assert_clean_failure(
        &folio(&["extract", p, "--schema", schema.to_str().unwrap()]),
        "not valid JSON",
    );
    assert_clean_failure(
        &folio(&["extract", p, "--schema", "/nonexistent/schema.json"]),
        "cannot read the schema",
    );
    assert_clean_failure(&folio(&["extract", p, "--format", "fields"]), "--fields");
    assert_clean_failure(
        &folio(&["extract", p, "--fields", "a b"]),
        "invalid field name",
    );
}

#[test]
fn a_schema_asks_typed_fields() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("r.pdf");
    std::fs::write(
        &pdf,
        invoice_pdf(&[
            (50.0, 60.0, 18.0, "Acme Trading Co."),
            (50.0, 120.0, 10.0, "Date: 09/01/2019"),
            (300.0, 300.0, 10.0, "TOTAL: RM31.00"),
        ]),
    )
    .unwrap();
    let schema = dir.path().join("schema.json");
    std::fs::write(&schema, r#"{"type":"object","properties":{"merchant_name":{"type":"string"},"invoice_date":{"type":"string","format":"date"},"grand_total":{"type":"string"}}}"#).unwrap();
    let o = folio(&[
        "extract",
        pdf.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--format",
        "fields",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v,
        json!({"merchant_name": "Acme Trading Co.", "invoice_date": "2019-01-09", "grand_total": "31.00"})
    );
}
