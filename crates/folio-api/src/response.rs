//! The JSON answer that the HTTP service and the RunPod worker both return, and its OpenAPI
//! schema (derived with `utoipa`; the document model's own types are described by hand below,
//! since `folio-doc` does not depend on `utoipa`).

use folio_doc::{Document, Format, PageProvenance, RenderOptions, Status, Warning};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// How long the stages took, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Timings {
    /// Extraction (reading, OCR, layout).
    pub extract_ms: u64,
    /// Rendering the requested format.
    pub render_ms: u64,
    /// Both, plus everything around them.
    pub total_ms: u64,
}

/// One extracted page, without its content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageSummary {
    /// 1-based page number.
    pub page: u32,
    /// How its text was obtained, and why.
    #[serde(flatten)]
    pub provenance: PageProvenance,
}

/// The result of one extraction as the network front doors return it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExtractResponse {
    /// The rendered document: a string, or for `json` the document model itself
    /// (`folio.document.v1`, docs/json-schema.md).
    pub content: serde_json::Value,
    /// The format of `content`.
    pub format: String,
    /// Pages in the source document.
    pub page_count: u32,
    /// Pages extracted.
    pub pages_extracted: u32,
    /// Per-page provenance.
    pub pages: Vec<PageSummary>,
    /// `success` or `partial`.
    #[schema(schema_with = status_schema)]
    pub status: Status,
    /// Problems that did not stop the extraction.
    #[schema(schema_with = warnings_schema)]
    pub warnings: Vec<Warning>,
    /// Stage timings.
    pub timings: Timings,
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn status_schema() -> ObjectBuilder {
    string()
        .enum_values(Some(["success", "partial"]))
        .description(Some(
            "`partial` when a page or a stage failed; see `warnings`.",
        ))
}

fn warnings_schema() -> ArrayBuilder {
    ArrayBuilder::new().items(
        ObjectBuilder::new()
            .property(
                "kind",
                string().description(Some("What kind of problem, e.g. `page_timeout`.")),
            )
            .property(
                "page",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("The page concerned, when there is one.")),
            )
            .property("message", string().description(Some("What happened.")))
            .required("message"),
    )
}

impl utoipa::PartialSchema for PageSummary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some("One extracted page, without its content."))
            .property(
                "page",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("1-based page number.")),
            )
            .property(
                "source",
                string()
                    .enum_values(Some(["text_layer", "ocr", "model"]))
                    .description(Some("Where the page's text came from.")),
            )
            .property(
                "decision",
                string().description(Some("Why that source was chosen.")),
            )
            .property(
                "stages",
                ArrayBuilder::new().items(string()).description(Some(
                    "The engine's stages that changed the page, in the order they ran.",
                )),
            )
            .property(
                "partial",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some(
                        "The page lost some of its content; see `warnings` for this page.",
                    )),
            )
            .required("page")
            .required("source")
            .required("decision")
            .into()
    }
}

impl utoipa::ToSchema for PageSummary {}

impl ExtractResponse {
    /// Renders `doc` in `format` and wraps it with its metadata. `extract_ms` is the time the
    /// extraction took; rendering is timed here.
    pub fn new(doc: &Document, format: Format, extract_ms: u64) -> ExtractResponse {
        let start = std::time::Instant::now();
        let content = match format {
            Format::Json => serde_json::to_value(doc).unwrap_or(serde_json::Value::Null),
            // The flat object itself, not its text: JSON callers read `content.total`.
            Format::Fields => {
                serde_json::from_str(&doc.fields.flat_json()).unwrap_or(serde_json::Value::Null)
            }
            other => {
                serde_json::Value::String(folio_doc::render(doc, other, RenderOptions::default()))
            }
        };
        let render_ms = start.elapsed().as_millis() as u64;
        ExtractResponse {
            content,
            format: format.name().to_string(),
            page_count: doc.metadata.page_count,
            pages_extracted: doc.pages.len() as u32,
            pages: doc
                .pages
                .iter()
                .map(|p| PageSummary {
                    page: p.number,
                    provenance: p.provenance.clone(),
                })
                .collect(),
            status: doc.status,
            warnings: doc.warnings.clone(),
            timings: Timings {
                extract_ms,
                render_ms,
                total_ms: extract_ms + render_ms,
            },
        }
    }
}
