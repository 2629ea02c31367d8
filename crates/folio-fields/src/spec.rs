//! What is asked: field names (`--fields company,date`) or a JSON Schema (`--schema`), mapped
//! onto the roles the built-in rules know.

use serde_json::{json, Map, Value};

/// A role the built-in rules can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// The issuer's name (vendor, merchant, seller).
    Company,
    /// The issuer's postal address.
    Address,
    /// The document's (issue) date.
    Date,
    /// The payment due date.
    DueDate,
    /// The invoice or receipt number.
    InvoiceNumber,
    /// The amount to pay.
    Total,
    /// The amount before tax.
    Subtotal,
    /// The tax (VAT, GST, sales tax) amount.
    Tax,
    /// The ISO 4217 currency of the amounts.
    Currency,
    /// The lines of goods or services.
    LineItems,
}

/// Names (and their common spellings in schemas) for each role. The first is the canonical name.
const ALIASES: &[(Role, &[&str])] = &[
    (
        Role::Company,
        &[
            "company",
            "vendor",
            "merchant",
            "issuer",
            "seller",
            "supplier",
            "company_name",
            "vendor_name",
            "merchant_name",
            "issuer_name",
            "seller_name",
            "supplier_name",
            "store",
            "store_name",
        ],
    ),
    (
        Role::Address,
        &[
            "address",
            "company_address",
            "vendor_address",
            "merchant_address",
            "issuer_address",
            "seller_address",
            "supplier_address",
            "store_address",
        ],
    ),
    (
        Role::Date,
        &[
            "date",
            "invoice_date",
            "receipt_date",
            "issue_date",
            "document_date",
            "transaction_date",
        ],
    ),
    (Role::DueDate, &["due_date", "payment_due_date", "due"]),
    (
        Role::InvoiceNumber,
        &[
            "invoice_number",
            "invoice_no",
            "invoice_id",
            "invoice",
            "number",
            "receipt_number",
            "receipt_no",
            "document_number",
            "bill_number",
            "bill_no",
        ],
    ),
    (
        Role::Total,
        &[
            "total",
            "total_amount",
            "amount_due",
            "grand_total",
            "amount",
            "total_due",
            "amount_total",
            "balance_due",
        ],
    ),
    (
        Role::Subtotal,
        &[
            "subtotal",
            "sub_total",
            "net_amount",
            "total_net",
            "net_total",
        ],
    ),
    (
        Role::Tax,
        &[
            "tax",
            "tax_amount",
            "vat",
            "vat_amount",
            "gst",
            "sales_tax",
            "total_tax",
        ],
    ),
    (Role::Currency, &["currency", "currency_code"]),
    (
        Role::LineItems,
        &["line_items", "items", "lines", "line_item", "products"],
    ),
];

/// The canonical names the rules know, for messages.
pub const KNOWN: &[&str] = &[
    "company",
    "vendor",
    "merchant",
    "issuer",
    "seller",
    "address",
    "date",
    "invoice_number",
    "due_date",
    "total",
    "subtotal",
    "tax",
    "currency",
    "line_items",
];

fn role_of(name: &str) -> Option<Role> {
    let n = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    ALIASES
        .iter()
        .find(|(_, names)| names.contains(&n.as_str()))
        .map(|(r, _)| *r)
}

/// A column of line items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ItemColumn {
    /// What was sold.
    Description,
    /// How many.
    Quantity,
    /// Price of one.
    UnitPrice,
    /// The line's amount.
    Amount,
}

const ITEM_ALIASES: &[(ItemColumn, &[&str])] = &[
    (
        ItemColumn::Description,
        &[
            "description",
            "name",
            "item",
            "product",
            "article",
            "designation",
            "text",
        ],
    ),
    (ItemColumn::Quantity, &["quantity", "qty", "count", "units"]),
    (
        ItemColumn::UnitPrice,
        &["unit_price", "price", "unit_cost", "rate", "price_each"],
    ),
    (
        ItemColumn::Amount,
        &[
            "amount",
            "total",
            "line_total",
            "net_amount",
            "value",
            "sum",
        ],
    ),
];

fn item_column_of(name: &str) -> Option<ItemColumn> {
    let n = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    ITEM_ALIASES
        .iter()
        .find(|(_, names)| names.contains(&n.as_str()))
        .map(|(c, _)| *c)
}

/// The JSON type a field's value takes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ValueType {
    /// Text.
    String,
    /// A number (amounts).
    Number,
    /// A whole number.
    Integer,
    /// An array of objects with these properties (name, type, column the rules fill it from).
    Items(Vec<(String, ValueType, Option<ItemColumn>)>),
}

/// One field asked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldSpec {
    /// The name as asked; the output uses it.
    pub name: String,
    /// What the rules look for, when they know the name.
    pub role: Option<Role>,
    /// The type of the value.
    pub ty: ValueType,
    /// The schema's `description`, passed to a model.
    pub description: Option<String>,
    /// The schema asked for `"format": "date"`: the value is the ISO 8601 date.
    pub iso_date: bool,
}

/// Why a request for fields cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// `--fields` named nothing.
    #[error("no field names given (expected a list such as company,date,total)")]
    NoNames,
    /// A field name with characters no JSON key should need.
    #[error("invalid field name {0:?} (letters, digits, '_' and '-' only)")]
    BadName(String),
    /// The schema is not JSON.
    #[error("the schema is not valid JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The schema is not a JSON Schema of an object with properties.
    #[error("the schema must be a JSON Schema object with \"properties\" ({0})")]
    NotAnObject(&'static str),
    /// A property type the extractor cannot produce.
    #[error("schema property {name:?} has unsupported type {ty} (expected string, number, integer, or an array of objects)")]
    UnsupportedType {
        /// The property.
        name: String,
        /// Its type as written.
        ty: String,
    },
    /// The schema does not compile as a JSON Schema.
    #[error("the schema is not a valid JSON Schema: {0}")]
    InvalidSchema(String),
    /// Both names and a schema were given.
    #[error("give field names or a schema, not both")]
    Both,
}

/// The fields asked of a document.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldRequest {
    /// The fields, in the order asked.
    pub fields: Vec<FieldSpec>,
    /// Whether they came from a schema (names the rules do not know are then the model's to
    /// fill, and get no warning of their own).
    pub from_schema: bool,
}

impl FieldRequest {
    /// Fields by name, comma separated (`company,date,address,total`). Known names get their
    /// role's type; unknown ones are kept (a model may fill them) as text.
    pub fn from_names(list: &str) -> Result<FieldRequest, RequestError> {
        let mut fields: Vec<FieldSpec> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                || name.len() > 64
            {
                return Err(RequestError::BadName(name.to_string()));
            }
            if fields.iter().any(|f| f.name == name) {
                continue;
            }
            let role = role_of(name);
            let ty = match role {
                Some(Role::Total | Role::Subtotal | Role::Tax) => ValueType::Number,
                Some(Role::LineItems) => ValueType::Items(default_item_columns()),
                _ => ValueType::String,
            };
            fields.push(FieldSpec {
                name: name.to_string(),
                role,
                ty,
                description: None,
                iso_date: false,
            });
        }
        if fields.is_empty() {
            return Err(RequestError::NoNames);
        }
        Ok(FieldRequest {
            fields,
            from_schema: false,
        })
    }

    /// Fields from a JSON Schema's text: an object whose properties are strings, numbers,
    /// integers or arrays of objects (line items).
    pub fn from_schema_text(text: &str) -> Result<FieldRequest, RequestError> {
        let schema: Value = serde_json::from_str(text).map_err(RequestError::NotJson)?;
        FieldRequest::from_schema(&schema)
    }

    /// Fields from a JSON Schema value (see [`FieldRequest::from_schema_text`]).
    pub fn from_schema(schema: &Value) -> Result<FieldRequest, RequestError> {
        let obj = schema
            .as_object()
            .ok_or(RequestError::NotAnObject("it is not a JSON object"))?;
        if let Some(t) = obj.get("type") {
            if t != "object" {
                return Err(RequestError::NotAnObject("its \"type\" is not \"object\""));
            }
        }
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .ok_or(RequestError::NotAnObject("it has no \"properties\" object"))?;
        if props.is_empty() {
            return Err(RequestError::NotAnObject("its \"properties\" are empty"));
        }
        jsonschema::meta::validate(schema)
            .map_err(|e| RequestError::InvalidSchema(e.to_string()))?;
        let mut fields = Vec::new();
        for (name, prop) in props {
            let ty = value_type(name, prop)?;
            let role = role_of(name).filter(|r| match (r, &ty) {
                (Role::LineItems, ValueType::Items(_)) => true,
                (Role::LineItems, _) => false,
                (_, ValueType::Items(_)) => false,
                _ => true,
            });
            fields.push(FieldSpec {
                name: name.clone(),
                role,
                ty,
                description: prop
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                iso_date: prop.get("format").and_then(Value::as_str) == Some("date"),
            });
        }
        Ok(FieldRequest {
            fields,
            from_schema: true,
        })
    }

    /// The JSON Schema of the answer (every field present, null when not found), as sent to a
    /// model and used to validate what it returns.
    pub fn answer_schema(&self) -> Value {
        let mut props = Map::new();
        for f in &self.fields {
            let mut p = type_schema(&f.ty, true);
            if let (Some(d), Some(o)) = (&f.description, p.as_object_mut()) {
                o.insert("description".into(), Value::String(d.clone()));
            } else if let (Some(role), Some(o)) = (f.role, p.as_object_mut()) {
                o.insert(
                    "description".into(),
                    Value::String(role_description(role).into()),
                );
            }
            props.insert(f.name.clone(), p);
        }
        json!({
            "type": "object",
            "properties": props,
            "required": self.fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
            "additionalProperties": false,
        })
    }
}

fn default_item_columns() -> Vec<(String, ValueType, Option<ItemColumn>)> {
    vec![
        (
            "description".into(),
            ValueType::String,
            Some(ItemColumn::Description),
        ),
        (
            "quantity".into(),
            ValueType::Number,
            Some(ItemColumn::Quantity),
        ),
        (
            "unit_price".into(),
            ValueType::Number,
            Some(ItemColumn::UnitPrice),
        ),
        ("amount".into(), ValueType::Number, Some(ItemColumn::Amount)),
    ]
}

fn type_name(prop: &Value) -> Option<String> {
    match prop.get("type") {
        Some(Value::String(s)) => Some(s.clone()),
        // ["string", "null"]: the nullable form strict structured outputs use.
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_string),
        _ => None,
    }
}

fn value_type(name: &str, prop: &Value) -> Result<ValueType, RequestError> {
    let unsupported = |ty: String| RequestError::UnsupportedType {
        name: name.to_string(),
        ty,
    };
    match type_name(prop).as_deref() {
        Some("string") | None => Ok(ValueType::String),
        Some("number") => Ok(ValueType::Number),
        Some("integer") => Ok(ValueType::Integer),
        Some("array") => {
            let items = prop
                .get("items")
                .ok_or_else(|| unsupported("array without items".into()))?;
            if type_name(items).as_deref() != Some("object") {
                return Err(unsupported("array of non-objects".into()));
            }
            let props = items
                .get("properties")
                .and_then(Value::as_object)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| unsupported("array of objects without properties".into()))?;
            let mut cols = Vec::new();
            for (k, v) in props {
                let ty = value_type(&format!("{name}.{k}"), v)?;
                if matches!(ty, ValueType::Items(_)) {
                    return Err(unsupported("nested array".into()));
                }
                cols.push((k.clone(), ty, item_column_of(k)));
            }
            Ok(ValueType::Items(cols))
        }
        Some(other) => Err(unsupported(format!("{other:?}"))),
    }
}

fn type_schema(ty: &ValueType, nullable: bool) -> Value {
    let t = |name: &str| {
        if nullable {
            json!({ "type": [name, "null"] })
        } else {
            json!({ "type": name })
        }
    };
    match ty {
        ValueType::String => t("string"),
        ValueType::Number => t("number"),
        ValueType::Integer => t("integer"),
        ValueType::Items(cols) => {
            let mut props = Map::new();
            for (name, ty, _) in cols {
                props.insert(name.clone(), type_schema(ty, true));
            }
            json!({
                "type": if nullable { json!(["array", "null"]) } else { json!("array") },
                "items": {
                    "type": "object",
                    "properties": props,
                    "required": cols.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
                    "additionalProperties": false,
                },
            })
        }
    }
}

fn role_description(role: Role) -> &'static str {
    match role {
        Role::Company => "name of the company that issued the document",
        Role::Address => "postal address of the issuer, as printed",
        Role::Date => "date of the document, exactly as printed",
        Role::DueDate => "payment due date, exactly as printed",
        Role::InvoiceNumber => "invoice or receipt number",
        Role::Total => "total amount to pay, as a number",
        Role::Subtotal => "amount before tax, as a number",
        Role::Tax => "tax amount (VAT, GST, sales tax), as a number",
        Role::Currency => "ISO 4217 currency code of the amounts",
        Role::LineItems => "the lines of goods or services",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_roles_and_unknown_ones_are_kept() {
        let r = FieldRequest::from_names("vendor, date,total,colour,date").unwrap();
        let got: Vec<_> = r.fields.iter().map(|f| (f.name.as_str(), f.role)).collect();
        assert_eq!(
            got,
            [
                ("vendor", Some(Role::Company)),
                ("date", Some(Role::Date)),
                ("total", Some(Role::Total)),
                ("colour", None)
            ]
        );
        assert_eq!(r.fields[2].ty, ValueType::Number);
        assert!(matches!(
            FieldRequest::from_names(" , "),
            Err(RequestError::NoNames)
        ));
        assert!(matches!(
            FieldRequest::from_names("a b\"c"),
            Err(RequestError::BadName(_))
        ));
    }

    #[test]
    fn schemas_give_typed_fields_and_bad_ones_say_why() {
        let r = FieldRequest::from_schema_text(
            r#"{"type":"object","properties":{
                "merchant_name":{"type":"string"},
                "invoice_date":{"type":"string","format":"date"},
                "grand_total":{"type":["number","null"]},
                "items":{"type":"array","items":{"type":"object","properties":{
                    "name":{"type":"string"},"qty":{"type":"integer"},"price":{"type":"number"}}}}}}"#,
        )
        .unwrap();
        assert!(r.from_schema);
        let f = |n: &str| r.fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(f("merchant_name").role, Some(Role::Company));
        assert!(f("invoice_date").iso_date);
        assert_eq!(f("grand_total").ty, ValueType::Number);
        match &f("items").ty {
            ValueType::Items(cols) => {
                assert!(cols.contains(&(
                    "qty".into(),
                    ValueType::Integer,
                    Some(ItemColumn::Quantity)
                )));
            }
            other => panic!("{other:?}"),
        }
        for (bad, why) in [
            ("{", "not valid JSON"),
            ("[]", "not a JSON object"),
            (r#"{"type":"array"}"#, "\"type\""),
            (r#"{"properties":{}}"#, "empty"),
            (
                r#"{"properties":{"a":{"type":"object"}}}"#,
                "unsupported type",
            ),
            (
                r#"{"properties":{"a":{"type":"array","items":{"type":"string"}}}}"#,
                "non-objects",
            ),
            (
                r#"{"properties":{"a":{"type":"strnig"}}}"#,
                "not a valid JSON Schema",
            ),
            (
                r#"{"properties":{"a":{"type":"string","minLength":"x"}}}"#,
                "not a valid JSON Schema",
            ),
        ] {
            let e = FieldRequest::from_schema_text(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn the_answer_schema_is_strict_and_nullable() {
        let r = FieldRequest::from_names("total,line_items").unwrap();
        let s = r.answer_schema();
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["required"], json!(["total", "line_items"]));
        assert_eq!(s["properties"]["total"]["type"], json!(["number", "null"]));
        assert_eq!(
            s["properties"]["line_items"]["items"]["required"][0],
            "description"
        );
        jsonschema::meta::validate(&s).unwrap();
    }
}
