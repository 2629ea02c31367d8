//! `GET /openapi.json`: the API described as OpenAPI 3.1, generated with `utoipa` from the
//! types the handlers answer with ([`ExtractResponse`], [`ErrorBody`], the upload's options).
//!
//! The operations are declared here, one documentation function per route, rather than on the
//! handlers, so that the API reads in one place; tests check that they name exactly the routes
//! the router serves, and that the schemas name every field a real answer carries.

use axum::response::{IntoResponse, Response};
use folio_api::{ErrorBody, ErrorDetail, ExtractResponse, PageSummary, Timings};
use folio_doc::Format;
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

pub(crate) async fn document() -> Response {
    axum::Json(spec()).into_response()
}

/// The document itself.
pub(crate) fn spec() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Folio",
        description = "Document extraction: PDFs, images (PNG, JPEG, TIFF, BMP, WebP; read by \
                       OCR), Office documents (DOCX, PPTX, XLSX/XLS/ODS), HTML, Markdown, CSV and \
                       text to Markdown, JSON, HTML, text and CSV. Errors are \
                       {\"error\": {\"code\", \"message\"}}."
    ),
    paths(page, health, ready, metrics, openapi_json, extract, create_job, get_job, cancel_job, get_result),
    components(schemas(
        ExtractResponse,
        PageSummary,
        Timings,
        ErrorBody,
        ErrorDetail,
        Job,
        Upload,
        JobUpload
    )),
    modifiers(&Security)
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn format_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Format::ALL.map(Format::name)))
        .default(Some(Value::from(Format::Markdown.name())))
        .description(Some("Output format."))
}

fn ocr_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            folio_engine::OcrMode::ALL.map(folio_engine::OcrMode::name),
        ))
        .default(Some(Value::from(folio_engine::OcrMode::default().name())))
        .description(Some(
            "When to run OCR: `auto` (PDF pages without a usable text layer; images always), \
             `always`, or `never`.",
        ))
}

fn layout_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            folio_engine::LayoutMode::ALL.map(folio_engine::LayoutMode::name),
        ))
        .default(Some(Value::from(
            folio_engine::LayoutMode::default().name(),
        )))
        .description(Some(
            "When to run the layout and table models: `auto` (scanned pages that read like a \
             document or hold a table, and born-digital pages with aligned text no table took), `model` \
             (every page), or `fast` (never).",
        ))
}

fn images_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["none", "inline"]))
        .default(Some(Value::from("none")))
        .description(Some(
            "`inline`: each figure block of the JSON carries its picture as `image` \
             (`data` in base64, `mime`, `width`, `height`; Markdown and HTML embed it as a \
             `data:` URI), at most 16 MiB of pictures per answer (past it an `image_skipped` \
             warning and no `data`). The service never writes a file for a request.",
        ))
}

/// The multipart body of `POST /extract`: a `file` part and the option fields
/// ([`RequestOptions::FIELDS`]).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Upload {
    /// The document, detected by its content: a PDF, an image (PNG, JPEG, TIFF, BMP, WebP; read by
    /// OCR), DOCX, PPTX, XLSX, XLS, ODS, HTML, Markdown, CSV/TSV or plain text.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[schema(schema_with = format_schema)]
    format: Option<String>,
    /// 1-based page selection, e.g. `1-3,7` or `10-`.
    pages: Option<String>,
    #[schema(schema_with = ocr_schema)]
    ocr: Option<String>,
    #[schema(schema_with = layout_schema)]
    layout: Option<String>,
    #[schema(schema_with = images_schema)]
    images: Option<String>,
    /// Password of an encrypted PDF.
    password: Option<String>,
    /// Overrides the file part's name.
    filename: Option<String>,
    /// Named fields to extract, e.g. `company,date,address,total` (`format=fields` answers
    /// them as one flat object; `format=json` carries them in the document's `fields`).
    fields: Option<String>,
    /// A JSON Schema (text): an object of named, typed properties, arrays of objects for line
    /// items; instead of `fields`.
    schema: Option<String>,
    /// PPTX: add each slide's speaker notes after its content (`true` or `false`).
    #[schema(default = false)]
    notes: Option<bool>,
    /// XLSX, XLS, ODS: read hidden sheets too, each a page as visible ones are (`true` or
    /// `false`).
    #[schema(default = false)]
    hidden_sheets: Option<bool>,
}

/// The multipart body of `POST /v1/jobs`: that of `POST /extract`, plus a webhook.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct JobUpload {
    #[schema(inline)]
    #[serde(flatten)]
    upload: Upload,
    /// POSTed the job's status JSON when it ends (subject to the server's webhook policy).
    #[schema(format = "uri")]
    webhook_url: Option<String>,
    /// Instead of `file`: `s3://bucket/key` of the document, read when the job runs (buckets
    /// the operator allows).
    source: Option<String>,
    /// `s3://bucket/prefix/`: the result is also written to `<prefix><job id>.json`.
    output: Option<String>,
}

/// A job: what `GET /v1/jobs/{id}` answers and what its webhook carries.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Job {
    /// 32 hex digits.
    id: String,
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled` or `cancelling`.
    status: String,
    /// The output format asked for.
    format: String,
    filename: Option<String>,
    /// Runs started (a crash or a restart interrupts a run; it is retried).
    attempts: u32,
    /// RFC 3339.
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    pages_extracted: Option<u32>,
    /// `{"pages_done", "pages_total"}` while it runs.
    #[schema(value_type = Option<Object>)]
    progress: Option<Value>,
    /// `{"code", "message"}` when it failed.
    #[schema(value_type = Option<Object>)]
    error: Option<Value>,
    /// The `s3://bucket/prefix/` the result is also written to, when one was asked for.
    output: Option<String>,
    /// `{"url", "state"}` when a webhook was asked for.
    #[schema(value_type = Option<Object>)]
    webhook: Option<Value>,
    /// `self`, and `result` once it succeeded.
    #[schema(value_type = Object)]
    links: Value,
}

#[utoipa::path(get, path = "/", responses((status = 200, description = "The drop-a-file page.", content_type = "text/html")))]
#[allow(dead_code)]
fn page() {}

#[utoipa::path(get, path = "/health", responses((status = 200, description = "The process is alive.")))]
#[allow(dead_code)]
fn health() {}

#[utoipa::path(
    get,
    path = "/ready",
    responses(
        (status = 200, description = "Ready: the model store can serve the required models (as `folio doctor` sees it)."),
        (status = 503, description = "Not ready; the message says why and how to fix it.", body = ErrorBody)
    )
)]
#[allow(dead_code)]
fn ready() {}

#[utoipa::path(
    get,
    path = "/metrics",
    responses((status = 200, description = "Prometheus metrics (OpenMetrics 1.0 text).", content_type = "application/openmetrics-text"))
)]
#[allow(dead_code)]
fn metrics() {}

#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "This document.")))]
#[allow(dead_code)]
fn openapi_json() {}

#[utoipa::path(
    post,
    path = "/extract",
    security(("apiKey" = []), ("bearer" = [])),
    request_body(content = Upload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The extraction: JSON, or the rendering itself when Accept asks for text/markdown, text/html, text/plain or text/csv.",
            content((ExtractResponse = "application/json"), (String = "text/markdown"), (String = "text/html"), (String = "text/plain"), (String = "text/csv"))),
        (status = 400, description = "A bad option or a malformed multipart body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key.", body = ErrorBody),
        (status = 408, description = "The upload did not finish within the request time limit.", body = ErrorBody),
        (status = 413, description = "The document is over a size, page or pixel limit.", body = ErrorBody),
        (status = 415, description = "Not multipart, or not a document type Folio reads (PDF, PNG, JPEG, TIFF, BMP, WebP, DOCX, PPTX, XLSX, XLS, ODS, HTML, Markdown, CSV/TSV, plain text).", body = ErrorBody),
        (status = 422, description = "The document cannot be read (damaged, encrypted, no such page), or it took its extraction process past its memory cap, crashed it or kept it past its deadline (`document_too_costly`, with the reason).", body = ErrorBody),
        (status = 429, description = "Every slot is busy and the queue is full; see Retry-After.", body = ErrorBody),
        (status = 503, description = "Past the time limit, shutting down, or models unavailable.", body = ErrorBody)
    )
)]
#[allow(dead_code)]
fn extract() {}

#[utoipa::path(
    post,
    path = "/v1/jobs",
    security(("apiKey" = []), ("bearer" = [])),
    request_body(content = JobUpload, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Queued; `Location` names the job.", body = Job),
        (status = 400, description = "A bad option, webhook URL or multipart body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key.", body = ErrorBody),
        (status = 408, description = "The upload did not finish within the request time limit.", body = ErrorBody),
        (status = 413, description = "The document is over the size limit.", body = ErrorBody),
        (status = 415, description = "Not multipart, or not a document type Folio reads (PDF, PNG, JPEG, TIFF, BMP, WebP, DOCX, PPTX, XLSX, XLS, ODS, HTML, Markdown, CSV/TSV, plain text).", body = ErrorBody),
        (status = 422, description = "The document is empty.", body = ErrorBody),
        (status = 429, description = "Too many jobs waiting; see Retry-After.", body = ErrorBody),
        (status = 503, description = "Shutting down.", body = ErrorBody)
    )
)]
#[allow(dead_code)]
fn create_job() {}

#[utoipa::path(
    get,
    path = "/v1/jobs/{id}",
    security(("apiKey" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The job's id.")),
    responses(
        (status = 200, description = "The job.", body = Job),
        (status = 401, description = "Missing or wrong API key.", body = ErrorBody),
        (status = 404, description = "No such job (finished jobs expire).", body = ErrorBody)
    )
)]
#[allow(dead_code)]
fn get_job() {}

#[utoipa::path(
    delete,
    path = "/v1/jobs/{id}",
    security(("apiKey" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The job's id.")),
    responses(
        (status = 200, description = "The job after cancellation (status `cancelling` while a running job stops); a finished job is deleted with its result.", body = Job),
        (status = 401, description = "Missing or wrong API key.", body = ErrorBody),
        (status = 404, description = "No such job.", body = ErrorBody)
    )
)]
#[allow(dead_code)]
fn cancel_job() {}

#[utoipa::path(
    get,
    path = "/v1/jobs/{id}/result",
    security(("apiKey" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The job's id.")),
    responses(
        (status = 200, description = "A finished job's result, as POST /extract answers (Accept works the same way).", body = ExtractResponse),
        (status = 401, description = "Missing or wrong API key.", body = ErrorBody),
        (status = 404, description = "No such job, or its result expired.", body = ErrorBody),
        (status = 406, description = "Accept asks for a format other than the job's.", body = ErrorBody),
        (status = 409, description = "The job has not succeeded (yet); the message says its state.", body = ErrorBody)
    )
)]
#[allow(dead_code)]
fn get_result() {}

#[cfg(test)]
mod tests {
    use super::*;
    use folio_api::RequestOptions;

    fn properties(doc: &Value, schema: &str) -> Vec<String> {
        let s = &doc["components"]["schemas"][schema];
        let mut out: Vec<String> = s["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        // A flattened struct is an allOf of its parts.
        for part in s["allOf"].as_array().into_iter().flatten() {
            out.extend(
                part["properties"]
                    .as_object()
                    .into_iter()
                    .flat_map(|p| p.keys().cloned()),
            );
        }
        out
    }

    #[test]
    fn the_upload_schema_names_every_option_the_form_takes() {
        let doc = spec();
        for upload in ["Upload", "JobUpload"] {
            let props = properties(&doc, upload);
            assert!(props.contains(&"file".to_string()), "{upload}: {props:?}");
            for field in RequestOptions::FIELDS {
                assert!(
                    props.contains(&field.to_string()),
                    "{upload} lacks {field}: {props:?}"
                );
            }
        }
        for field in ["webhook_url", "source", "output"] {
            assert!(properties(&doc, "JobUpload").contains(&field.to_string()));
        }
        let text = doc.to_string();
        assert!(!text.contains("once OCR is built in"), "stale text");
        for format in Format::ALL {
            assert!(
                text.contains(&format!("\"{}\"", format.name())),
                "{format:?}"
            );
        }
    }
}
