/*!
Named fields from a [`folio_doc::Document`]: who issued it, when, the total, the tax, the lines.

[`FieldRequest`] says what is asked, by name ([`FieldRequest::from_names`]: `company,date,total`)
or by JSON Schema ([`FieldRequest::from_schema_text`]). [`extract`] fills the document's
[`folio_doc::Fields`]: first the built-in rules, which read the layout (labels and their values
on a row or below, item tables under their headers, totals near the end, the issuer's name and
address at the top) in English, Dutch, French, German and Spanish; then, when an
[`LlmClient`] is configured, a model behind an OpenAI-compatible chat completions endpoint,
whose answer is validated against the schema, checked against the document's text, and merged
with the rules by confidence.

Scope: invoices and receipts. No I/O beyond the model endpoint the operator configures; the
rules need no model at all.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod labels;
pub mod llm;
pub mod normalize;
mod rules;
mod spec;
mod view;

use folio_doc::{Document, Field, FieldSource};
use serde_json::Value;

pub use llm::{LlmClient, LlmConfig, LlmError};
pub use spec::{FieldRequest, FieldSpec, ItemColumn, RequestError, Role, ValueType, KNOWN};

use rules::{Hit, Rules};
use view::View;

/// Fills `doc.fields` with every field `request` asks for: the rules first, then the model
/// when one is configured. A field nobody found is `null`; a name neither the rules nor a model
/// can fill gets a warning too. A model that fails leaves the rules' answer and a warning.
pub fn extract(doc: &mut Document, request: &FieldRequest, llm: Option<&LlmClient>) {
    let view = View::of(doc);
    let rules = Rules::new(&view);
    let mut found: Vec<Option<Field>> = request
        .fields
        .iter()
        .map(|spec| rule_field(&rules, spec))
        .collect();
    if let Some(client) = llm {
        match client.ask(doc, request) {
            Ok(answers) => {
                let text = normalize_for_search(&view.text());
                for (slot, spec) in found.iter_mut().zip(&request.fields) {
                    let answer = answers
                        .get(&spec.name)
                        .and_then(|v| verify(&view, &rules, &text, spec, v));
                    *slot = merge(slot.take(), answer);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the LLM endpoint failed; fields come from the rules only");
                // Not a failure of the extraction either: the fields still come, from the rules.
                doc.warnings.push(folio_doc::Warning::new(
                    folio_doc::WarningKind::FieldsModelFailed,
                    None,
                    format!(
                        "fields: the LLM endpoint failed, fields come from the rules only: {e}"
                    ),
                ));
            }
        }
    }
    for (spec, field) in request.fields.iter().zip(&found) {
        if spec.role.is_none() && llm.is_none() {
            let message = if request.from_schema {
                format!(
                    "fields: {:?} is not a field the built-in rules know and no LLM endpoint is configured; it is null",
                    spec.name
                )
            } else {
                format!(
                    "fields: unknown field {:?} (known: {}); it is null",
                    spec.name,
                    KNOWN.join(", ")
                )
            };
            tracing::warn!("{message}");
            // Not a failure of the extraction: the document stays complete.
            doc.warnings.push(folio_doc::Warning::new(
                folio_doc::WarningKind::UnknownField,
                None,
                message,
            ));
        }
        doc.fields.set(spec.name.clone(), field.clone());
    }
}

/// Lower-cased, letters and digits only, single spaces: how values are looked up in the text.
fn normalize_for_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_string()
}

/// A model's value as a field: found in the document's text (located on its row when it can
/// be), or marked unverified with a low confidence.
fn verify(
    view: &View,
    rules: &Rules<'_>,
    text: &str,
    spec: &FieldSpec,
    value: &Value,
) -> Option<Field> {
    let (found, normalized, needle) = match value {
        Value::Null => return None,
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) => {
            let needle = normalize_for_search(s);
            let mut found = !needle.is_empty() && text.contains(&needle);
            let mut normalized = None;
            if matches!(spec.role, Some(Role::Date | Role::DueDate)) {
                if let Some(d) = normalize::dates_in(s, rules.date_order()).first() {
                    normalized = Some(Value::String(d.date.iso()));
                    found |= view.rows.iter().any(|r| {
                        normalize::dates_in(&r.text, rules.date_order())
                            .iter()
                            .any(|x| x.date == d.date)
                    });
                }
            }
            (found, normalized, needle)
        }
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            let found = view.rows.iter().any(|r| {
                normalize::amounts_in(&r.text)
                    .iter()
                    .any(|a| (a.value() - v).abs() < 0.005)
            }) || text
                .split(' ')
                .any(|w| w.parse::<f64>().is_ok_and(|x| (x - v).abs() < 1e-9));
            let normalized = matches!(spec.role, Some(Role::Total | Role::Subtotal | Role::Tax))
                .then(|| serde_json::json!({ "amount": format!("{v:.2}"), "currency": rules.currency_code() }));
            (found, normalized, String::new())
        }
        Value::Array(items) => {
            // Line items: verified when most descriptions are in the text.
            let descs: Vec<String> = items
                .iter()
                .filter_map(|i| i.as_object())
                .flat_map(|o| {
                    o.values()
                        .filter_map(Value::as_str)
                        .map(normalize_for_search)
                })
                .filter(|d| !d.is_empty())
                .collect();
            let hits = descs.iter().filter(|d| text.contains(d.as_str())).count();
            (hits * 2 >= descs.len(), None, String::new())
        }
        _ => (false, None, String::new()),
    };
    let located = (!needle.is_empty())
        .then(|| {
            view.rows
                .iter()
                .find(|r| normalize_for_search(&r.text).contains(&needle))
        })
        .flatten();
    Some(Field {
        value: value.clone(),
        text: None,
        normalized,
        confidence: if found { 0.85 } else { 0.2 },
        page: located.map(|r| r.page),
        bbox: located.map(|r| r.bbox),
        source: FieldSource::Llm,
        unverified: !found,
    })
}

/// The higher-confidence answer; a model's answer that agrees with the rules raises their
/// confidence instead.
fn merge(rules: Option<Field>, llm: Option<Field>) -> Option<Field> {
    match (rules, llm) {
        (Some(mut r), Some(l)) => {
            if r.value == l.value {
                r.confidence = (r.confidence.max(l.confidence) + 0.05).min(0.99);
                Some(r)
            } else if l.confidence > r.confidence {
                Some(l)
            } else {
                Some(r)
            }
        }
        (r, l) => r.or(l),
    }
}

fn rule_field(rules: &Rules<'_>, spec: &FieldSpec) -> Option<Field> {
    let hit = match spec.role? {
        Role::Company => rules.company(),
        Role::Address => rules.address(),
        Role::Date => rules.date(spec.iso_date),
        Role::DueDate => rules.due_date(spec.iso_date),
        Role::InvoiceNumber => rules.invoice_number(),
        Role::Total => rules.total(),
        Role::Subtotal => rules.subtotal(),
        Role::Tax => rules.tax(),
        Role::Currency => rules.currency(),
        Role::LineItems => match &spec.ty {
            ValueType::Items(cols) => {
                let cols: Vec<(String, ItemColumn)> = cols
                    .iter()
                    .filter_map(|(n, _, c)| c.map(|c| (n.clone(), c)))
                    .collect();
                rules.line_items(&cols)
            }
            _ => None,
        },
    }?;
    Some(to_field(typed(hit, &spec.ty)))
}

/// The value in the type the request asks (a schema may want an amount as a string).
fn typed(mut hit: Hit, ty: &ValueType) -> Hit {
    hit.value = match (ty, hit.value) {
        (ValueType::String, Value::Number(n)) => {
            let s = hit
                .normalized
                .as_ref()
                .and_then(|v| v.get("amount"))
                .and_then(Value::as_str)
                .map_or_else(|| n.to_string(), str::to_string);
            Value::String(s)
        }
        (ValueType::Integer, Value::Number(n)) => n
            .as_f64()
            .map(|f| Value::from(f.round() as i64))
            .unwrap_or(Value::Number(n)),
        (ValueType::Number | ValueType::Integer, Value::String(s)) => {
            normalize::parse_number(s.trim())
                .and_then(|(d, _)| d.parse::<f64>().ok())
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::String(s), Value::Number)
        }
        (_, v) => v,
    };
    hit
}

fn to_field(hit: Hit) -> Field {
    Field {
        value: hit.value,
        text: hit.text,
        normalized: hit.normalized,
        confidence: (hit.confidence * 100.0).round() / 100.0,
        page: Some(hit.page),
        bbox: Some(hit.bbox),
        source: FieldSource::Rules,
        unverified: false,
    }
}
