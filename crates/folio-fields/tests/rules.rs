//! The built-in rules on receipts laid out as OCR reads them: one text box per printed line,
//! the issuer's name on top, registration and contact lines around the address, totals by tax
//! rate before the amount to pay.

mod common;

use common::ocr_page;
use folio_doc::{BBox, Document};
use folio_fields::{extract, FieldRequest};
use serde_json::Value;

/// A one-page receipt whose lines are `lines`, centred, one every 20 points from the top.
fn receipt(lines: &[&str]) -> Document {
    let boxes: Vec<(&str, BBox)> = lines
        .iter()
        .enumerate()
        .map(|(i, &text)| {
            let width = 7.0 * text.chars().count() as f32;
            let y = 20.0 + 20.0 * i as f32;
            let bbox = BBox::new(200.0 - width / 2.0, y, 200.0 + width / 2.0, y + 14.0);
            (text, bbox)
        })
        .collect();
    ocr_page(&boxes, 400.0, 1000.0)
}

/// Lines after the address, as receipts print them.
const TAIL: [&str; 4] = [
    "TAX INVOICE",
    "INV NO: 10765",
    "CHICKEN RICE 1 X 7.50 7.50",
    "TOTAL 7.50",
];

/// The value of field `name` the rules find on a receipt of `lines`.
fn field(name: &str, lines: &[&str]) -> Option<Value> {
    let mut doc = receipt(lines);
    extract(&mut doc, &FieldRequest::from_names(name).unwrap(), None);
    doc.fields
        .get(name)
        .unwrap()
        .as_ref()
        .map(|f| f.value.clone())
}

/// The address the rules find on a receipt whose head is `head`, followed by [`TAIL`].
fn address(head: &[&str]) -> Option<String> {
    let lines: Vec<&str> = head.iter().copied().chain(TAIL).collect();
    match field("address", &lines) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn a_bare_company_number_and_tax_lines_are_not_the_address() {
    let got = address(&[
        "KEDAI MAKAN SRI MAJU",
        "002693074-K",
        "Co. Reg. No.: 795225-A",
        "No.2, Jalan Temenggung 19/9,",
        "43200 Cheras, Selangor",
        "GST REG NO: 001335787520",
    ]);
    assert_eq!(
        got.as_deref(),
        Some("No.2, Jalan Temenggung 19/9, 43200 Cheras, Selangor")
    );
}

#[test]
fn a_registration_number_joined_to_the_first_line_is_cut_off() {
    let got = address(&[
        "MR. HARDWARE (M) SDN BHD",
        "(CO. REG: 704427-T ) LOT 18, JALAN KPB 6,",
        "43300 SERI KEMBANGAN, SELANGOR",
    ]);
    assert_eq!(
        got.as_deref(),
        Some("LOT 18, JALAN KPB 6, 43300 SERI KEMBANGAN, SELANGOR")
    );
    let got = address(&[
        "PERMAS TRADING SDN BHD",
        "REG NO: 1203194-W JALAN PERMAS UTARA 1,",
        "PERMAS JAYA 81750 MASAI JOHOR",
    ]);
    assert_eq!(
        got.as_deref(),
        Some("JALAN PERMAS UTARA 1, PERMAS JAYA 81750 MASAI JOHOR")
    );
}

#[test]
fn a_name_line_with_its_registration_number_comes_before_the_address() {
    let got = address(&[
        "AEON SUPERSTORE",
        "AEON CO. (M) BHD (126926-H)",
        "3RD FLR, AEON TAMAN MALURI SC",
        "55100 KUALA LUMPUR",
    ]);
    assert_eq!(
        got.as_deref(),
        Some("3RD FLR, AEON TAMAN MALURI SC 55100 KUALA LUMPUR")
    );
}

#[test]
fn phone_numbers_after_the_address_end_it() {
    let got = address(&[
        "SANYU STATIONERY SHOP",
        "NO. 31G, JALAN SETIA INDAH X,",
        "40170 SETIA ALAM",
        "Mobile /Whatsapps: +6012-918 7937",
    ]);
    assert_eq!(
        got.as_deref(),
        Some("NO. 31G, JALAN SETIA INDAH X, 40170 SETIA ALAM")
    );
    let got = address(&[
        "BERRY'S CAKE HOUSE",
        "No.1, Jln Puteri 1/6,",
        "47100 Puchong, Selangor",
        "Outlet:03-80626265 Careline:03-56381988",
    ]);
    assert_eq!(
        got.as_deref(),
        Some("No.1, Jln Puteri 1/6, 47100 Puchong, Selangor")
    );
}

#[test]
fn a_date_line_under_the_name_is_not_an_address() {
    // The year reads as a postcode; the date makes it a date line, and the address follows.
    let got = address(&[
        "UNIHAKKA INTERNATIONAL SDN BHD",
        "12 Mar 2018 18:19",
        "12, JALAN TAMPOI 7/4, KAWASAN PERINDUSTRIAN TAMPOI,",
        "81200 JOHOR BAHRU, JOHOR",
    ]);
    assert_eq!(
        got.as_deref(),
        Some("12, JALAN TAMPOI 7/4, KAWASAN PERINDUSTRIAN TAMPOI, 81200 JOHOR BAHRU, JOHOR")
    );
}

#[test]
fn totals_at_one_tax_rate_are_not_the_amount_to_pay() {
    let lines = [
        "GARDENIA BAKERIES SDN BHD",
        "WHITE BREAD 2.13 3 6.39",
        "Total 0% supplies: 14.35",
        "Total 6% supplies (excl. GST): 25.56",
        "GST: 1.53",
        "Total 6% supplies (Inc. GST): 27.09",
        "Total 0% supplies: 14.35",
        "Total Payable: 41.44",
    ];
    // 27.09 is the subtotal plus the tax, and 14.35 is printed twice: neither is the total.
    assert_eq!(field("total", &lines), Some(serde_json::json!(41.44)));
}

#[test]
fn a_tax_word_inside_the_total_label_does_not_cut_it_from_its_amount() {
    let lines = [
        "BERRY'S CAKE HOUSE",
        "RAISIN BREAD 1.00 4.55 4.55",
        "CHEESE ROLL 1.00 3.90 3.90",
        "Total Inclusive of Tax 11.25",
        "Cash 20.00",
        "Change 8.75",
    ];
    assert_eq!(field("total", &lines), Some(serde_json::json!(11.25)));
}
