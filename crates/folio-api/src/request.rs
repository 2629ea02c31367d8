//! Extraction options as network front doors receive them: named string fields.
//!
//! The HTTP service (multipart fields) and the RunPod worker (JSON members) both get `format`,
//! `pages`, `ocr`, `layout`, `images`, `password`, `fields`, `schema`, `notes` and
//! `hidden_sheets` as text (JSON callers may write the last two as `true`/`false`). Parsing
//! them here keeps one set of names, defaults and error messages for every front door.

use folio_doc::Format;
use folio_engine::{ExtractOptions, LayoutMode, Limits, OcrMode, PageSelection};
use serde_json::Value;

/// A request's extraction options, before limits and cancellation are attached.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// Output format; Markdown unless asked otherwise.
    pub format: Format,
    /// Pages to extract; all when `None`.
    pub pages: Option<PageSelection>,
    /// When to run OCR.
    pub ocr: OcrMode,
    /// When to run the layout and table models.
    pub layout: LayoutMode,
    /// Password of an encrypted PDF.
    pub password: Option<String>,
    /// The input's file name.
    pub filename: Option<String>,
    /// Named fields to extract (`fields` or `schema`).
    pub fields: Option<std::sync::Arc<folio_fields::FieldRequest>>,
    /// `images=inline`: each figure's picture in the JSON (`image.data`, base64), within
    /// [`INLINE_IMAGE_BYTES`]. Never a path: a network front door writes no file for a caller.
    pub images: bool,
    /// PPTX: speaker notes after each slide's content.
    pub notes: bool,
    /// XLSX, XLS, ODS: hidden sheets too.
    pub hidden_sheets: bool,
}

/// Bytes of figure pictures one answer carries inline (`images=inline`), at most: past it,
/// figures keep their box and caption, and an `image_skipped` warning says so.
pub const INLINE_IMAGE_BYTES: u64 = 16 * 1024 * 1024;

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            format: Format::Markdown,
            pages: None,
            ocr: OcrMode::default(),
            layout: LayoutMode::default(),
            password: None,
            filename: None,
            fields: None,
            images: false,
            notes: false,
            hidden_sheets: false,
        }
    }
}

/// An option that does not parse, or that no front door knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OptionError {
    /// The option's name as the caller wrote it.
    pub field: String,
    /// What is wrong, quoting the value.
    pub message: String,
}

impl OptionError {
    /// The stable code of every option error.
    pub fn code(&self) -> &'static str {
        "bad_option"
    }
}

impl RequestOptions {
    /// The option names [`RequestOptions::set`] accepts.
    pub const FIELDS: [&'static str; 11] = [
        "format",
        "pages",
        "ocr",
        "layout",
        "images",
        "password",
        "filename",
        "fields",
        "schema",
        "notes",
        "hidden_sheets",
    ];

    /// The options that are switches: `true` or `false` (also `1`/`0`, `yes`/`no`, and `on`,
    /// what an HTML checkbox sends).
    pub const SWITCHES: [&'static str; 2] = ["notes", "hidden_sheets"];

    /// Sets one option from its text. An empty value leaves the default in place, since HTML
    /// forms send empty fields for inputs left blank.
    pub fn set(&mut self, field: &str, value: &str) -> Result<(), OptionError> {
        let err = |message: String| OptionError {
            field: field.to_string(),
            message,
        };
        let raw = value;
        let value = value.trim();
        if value.is_empty() && field != "password" {
            return if Self::FIELDS.contains(&field) {
                Ok(())
            } else {
                Err(err(unknown(field)))
            };
        }
        match field {
            "format" => {
                self.format = value
                    .parse()
                    .map_err(|e: folio_doc::UnknownFormat| err(e.to_string()))?;
            }
            "pages" => {
                self.pages = Some(
                    value
                        .parse()
                        .map_err(|e: folio_engine::PageSelectionError| err(e.to_string()))?,
                );
            }
            "ocr" => self.ocr = value.parse().map_err(err)?,
            "layout" => self.layout = value.parse().map_err(err)?,
            "images" => {
                self.images = match value {
                    "inline" => true,
                    "none" => false,
                    other => {
                        return Err(err(format!(
                            "unknown images mode {other:?} (expected inline or none; a \
                             network request never names a folder to write to)"
                        )))
                    }
                }
            }
            // Passwords are taken verbatim: spaces can be part of one.
            "password" => self.password = (!raw.is_empty()).then(|| raw.to_string()),
            "filename" => self.filename = Some(value.to_string()),
            "notes" => self.notes = switch(field, value)?,
            "hidden_sheets" => self.hidden_sheets = switch(field, value)?,
            // Names (`company,date,total`) or a JSON Schema; one of the two.
            "fields" | "schema" => {
                if self.fields.is_some() {
                    return Err(err(folio_fields::RequestError::Both.to_string()));
                }
                let request = if field == "fields" {
                    folio_fields::FieldRequest::from_names(value)
                } else {
                    folio_fields::FieldRequest::from_schema_text(value)
                };
                self.fields = Some(std::sync::Arc::new(
                    request.map_err(|e| err(e.to_string()))?,
                ));
            }
            _ => return Err(err(unknown(field))),
        }
        Ok(())
    }

    /// Sets one option from a JSON member, as JSON callers (the RunPod worker's `input`) write
    /// them: a string as [`RequestOptions::set`] takes it, a number written out, `null` for the
    /// default, for `pages` a list like `[1, "4-5"]`, for `fields` a list of names and for
    /// `schema` the JSON Schema object itself. Anything else is refused, quoting it.
    pub fn set_json(&mut self, field: &str, value: &Value) -> Result<(), OptionError> {
        let text = match value {
            Value::String(s) => Some(s.clone()),
            Value::Null => Some(String::new()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) if Self::SWITCHES.contains(&field) => Some(b.to_string()),
            Value::Array(items) if field == "pages" => items
                .iter()
                .map(|v| match v {
                    Value::Number(n) => Some(n.to_string()),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(|parts| parts.join(",")),
            Value::Array(items) if field == "fields" => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(|parts| parts.join(",")),
            Value::Object(_) if field == "schema" => Some(value.to_string()),
            _ => None,
        };
        match text {
            Some(text) => self.set(field, &text),
            None if Self::FIELDS.contains(&field) => Err(OptionError {
                field: field.to_string(),
                message: format!("option {field:?} must be a string, not {value}"),
            }),
            // An unknown member: `set` says so, whatever its value.
            None => self.set(field, ""),
        }
    }

    /// Checks the options together, once every one is set: `format=fields` needs `fields` or
    /// `schema`, since there is nothing to print otherwise.
    pub fn check(&self) -> Result<(), OptionError> {
        if self.format == Format::Fields && self.fields.is_none() {
            return Err(OptionError {
                field: "format".to_string(),
                message: "format=fields needs a \"fields\" option (names, e.g. \
                          company,date,total) or a \"schema\" (a JSON Schema)"
                    .to_string(),
            });
        }
        Ok(())
    }

    /// The engine's options for this request, with the front door's limits and cancel flag.
    pub fn extract_options(
        &self,
        limits: Limits,
        cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    ) -> ExtractOptions {
        let limits = Limits {
            max_image_bytes: limits.max_image_bytes.min(INLINE_IMAGE_BYTES),
            ..limits
        };
        ExtractOptions {
            pages: self.pages.clone(),
            password: self.password.clone(),
            ocr: self.ocr,
            layout: self.layout,
            limits,
            filename: self.filename.clone(),
            cancel,
            fields: self.fields.clone(),
            images: self.images,
            notes: self.notes,
            hidden_sheets: self.hidden_sheets,
        }
    }
}

/// A switch's value.
fn switch(field: &str, value: &str) -> Result<bool, OptionError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(OptionError {
            field: field.to_string(),
            message: format!("option {field:?} must be true or false, not {value:?}"),
        }),
    }
}

fn unknown(field: &str) -> String {
    format!(
        "unknown option {field:?} (expected one of {})",
        RequestOptions::FIELDS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_with_defaults_and_quoted_errors() {
        let mut o = RequestOptions::default();
        assert_eq!(o.format, Format::Markdown);
        o.set("format", "html").unwrap();
        o.set("pages", "2-3").unwrap();
        o.set("ocr", "never").unwrap();
        o.set("password", " a b").unwrap();
        o.set("ocr", "").unwrap();
        assert_eq!(o.format, Format::Html);
        assert_eq!(o.ocr, OcrMode::Never);
        assert_eq!(o.password.as_deref(), Some(" a b"));
        assert_eq!(o.pages.as_ref().unwrap().resolve(5).unwrap(), vec![2, 3]);

        let e = o.set("format", "docx").unwrap_err();
        assert_eq!((e.field.as_str(), e.code()), ("format", "bad_option"));
        assert!(e.message.contains("docx"), "{e}");
        assert!(o.set("pages", "3-1").unwrap_err().message.contains("3-1"));
        assert!(o.set("ocr", "maybe").unwrap_err().message.contains("maybe"));
        assert_eq!(o.layout, LayoutMode::Auto);
        o.set("layout", "fast").unwrap();
        assert_eq!(o.layout, LayoutMode::Fast);
        assert_eq!(
            o.extract_options(Limits::default(), None).layout,
            LayoutMode::Fast
        );
        let e = o.set("layout", "heuristic").unwrap_err();
        assert_eq!(e.field, "layout");
        assert!(e.message.contains("heuristic"), "{e}");
        assert!(!o.extract_options(Limits::default(), None).images);
        o.set("images", "inline").unwrap();
        let opts = o.extract_options(Limits::default(), None);
        assert!(opts.images);
        assert_eq!(opts.limits.max_image_bytes, INLINE_IMAGE_BYTES);
        // A folder is no mode: the service never writes where a caller says.
        let e = o.set("images", "/tmp/out").unwrap_err();
        assert_eq!(e.field, "images");
        assert!(e.message.contains("/tmp/out"), "{e}");
        o.set("images", "none").unwrap();
        assert!(!o.images);
        let e = o.set("fromat", "json").unwrap_err();
        assert!(
            e.message.contains("fromat") && e.message.contains("format"),
            "{e}"
        );
        assert!(o.set("fromat", "").is_err());
    }

    #[test]
    fn json_members_parse_as_their_text() {
        let mut o = RequestOptions::default();
        o.set_json("pages", &serde_json::json!([1, "3-4"])).unwrap();
        assert_eq!(o.pages.as_ref().unwrap().resolve(5).unwrap(), vec![1, 3, 4]);
        o.set_json("pages", &serde_json::json!(2)).unwrap();
        assert_eq!(o.pages.as_ref().unwrap().resolve(5).unwrap(), vec![2]);
        o.set_json("format", &Value::Null).unwrap();
        assert_eq!(o.format, Format::Markdown);
        let e = o.set_json("ocr", &serde_json::json!(true)).unwrap_err();
        assert!(e.message.contains("must be a string"), "{e}");
        let e = o
            .set_json("pages", &serde_json::json!({"from": 1}))
            .unwrap_err();
        assert!(e.message.contains("\"pages\" must be"), "{e}");
        let e = o
            .set_json("fromat", &serde_json::json!({"x": 1}))
            .unwrap_err();
        assert!(e.message.contains("unknown option"), "{e}");
    }

    #[test]
    fn fields_and_schema_parse_and_exclude_each_other() {
        let mut o = RequestOptions::default();
        o.set("fields", "company,total").unwrap();
        let names: Vec<_> = o
            .fields
            .as_ref()
            .unwrap()
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect();
        assert_eq!(names, ["company", "total"]);
        let e = o
            .set("schema", r#"{"properties":{"a":{"type":"string"}}}"#)
            .unwrap_err();
        assert!(e.message.contains("not both"), "{e}");
        let mut o = RequestOptions::default();
        let e = o.set("schema", "{not json").unwrap_err();
        assert_eq!(e.field, "schema");
        assert!(e.message.contains("not valid JSON"), "{e}");
        o.set(
            "schema",
            r#"{"type":"object","properties":{"total":{"type":"number"}}}"#,
        )
        .unwrap();
        assert!(o.fields.as_ref().unwrap().from_schema);
    }

    #[test]
    fn json_callers_write_fields_as_a_list_and_the_schema_as_an_object() {
        let mut o = RequestOptions::default();
        o.set_json("fields", &serde_json::json!(["company", "total"]))
            .unwrap();
        assert_eq!(o.fields.as_ref().unwrap().fields.len(), 2);
        let e = o
            .set_json("fields", &serde_json::json!([1, 2]))
            .unwrap_err();
        assert!(e.message.contains("must be a string"), "{e}");
        let mut o = RequestOptions::default();
        let schema =
            serde_json::json!({"type": "object", "properties": {"total": {"type": "number"}}});
        o.set_json("schema", &schema).unwrap();
        assert!(o.fields.as_ref().unwrap().from_schema);
    }

    #[test]
    fn notes_and_hidden_sheets_are_switches() {
        let mut o = RequestOptions::default();
        assert!(!o.notes && !o.hidden_sheets);
        o.set("notes", "true").unwrap();
        o.set("hidden_sheets", "on").unwrap();
        let e = o.extract_options(Limits::default(), None);
        assert!(e.notes && e.hidden_sheets);
        o.set("notes", "0").unwrap();
        assert!(!o.notes);
        // A blank form field keeps what is set.
        o.set("hidden_sheets", "").unwrap();
        assert!(o.hidden_sheets);
        let e = o.set("notes", "sometimes").unwrap_err();
        assert_eq!(e.field, "notes");
        assert!(e.message.contains("sometimes"), "{e}");

        let mut o = RequestOptions::default();
        o.set_json("notes", &serde_json::json!(true)).unwrap();
        o.set_json("hidden_sheets", &serde_json::json!("yes"))
            .unwrap();
        assert!(o.notes && o.hidden_sheets);
        o.set_json("notes", &serde_json::json!(false)).unwrap();
        assert!(!o.notes);
        // Booleans are for switches only.
        let e = o.set_json("pages", &serde_json::json!(true)).unwrap_err();
        assert!(e.message.contains("must be a string"), "{e}");
        let e = o.set_json("notes", &serde_json::json!(2)).unwrap_err();
        assert!(e.message.contains("true or false"), "{e}");
    }

    #[test]
    fn format_fields_needs_names_or_a_schema() {
        let mut o = RequestOptions::default();
        o.set("format", "fields").unwrap();
        let e = o.check().unwrap_err();
        assert_eq!(e.field, "format");
        assert!(e.message.contains("schema"), "{e}");
        o.set("fields", "total").unwrap();
        o.check().unwrap();
    }
}
