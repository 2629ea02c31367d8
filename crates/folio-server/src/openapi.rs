//! `GET /openapi.json`: the API described as OpenAPI 3.1. Written by hand next to the router;
//! a test checks that it names exactly the routes the router serves.

use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub(crate) async fn document() -> Response {
    axum::Json(spec()).into_response()
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn errors(codes: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    codes
        .iter()
        .map(|(status, why)| (status.to_string(), error_response(why)))
        .collect()
}

/// The document itself.
pub(crate) fn spec() -> Value {
    let upload_fields = json!({
        "file": {"type": "string", "format": "binary", "description": "The document (PDF; images once OCR is built in)."},
        "format": {"type": "string", "enum": ["markdown", "json", "html", "text", "csv"], "default": "markdown"},
        "pages": {"type": "string", "description": "1-based selection, e.g. `1-3,7` or `10-`."},
        "ocr": {"type": "string", "enum": ["auto", "always", "never"], "default": "auto"},
        "password": {"type": "string", "description": "Password of an encrypted PDF."},
        "filename": {"type": "string", "description": "Overrides the file part's name."}
    });
    let mut job_fields = upload_fields.clone();
    job_fields["webhook_url"] = json!({
        "type": "string", "format": "uri",
        "description": "POSTed the job's status JSON when it ends (subject to the server's webhook policy)."
    });
    job_fields["source"] = json!({
        "type": "string",
        "description": "Instead of `file`: `s3://bucket/key` of the document, read when the job runs (buckets the operator allows)."
    });
    job_fields["output"] = json!({
        "type": "string",
        "description": "`s3://bucket/prefix/`: the result is also written to `<prefix><job id>.json`."
    });
    let extract_errors = errors(&[
        ("400", "A bad option or a malformed multipart body."),
        ("401", "Missing or wrong API key."),
        (
            "408",
            "The upload did not finish within the request time limit.",
        ),
        ("413", "The document is over a size, page or pixel limit."),
        ("415", "Not multipart, or not a document type Folio reads."),
        (
            "422",
            "The document cannot be read (damaged, encrypted, no such page).",
        ),
        (
            "429",
            "Every slot is busy and the queue is full; see Retry-After.",
        ),
        (
            "503",
            "Past the time limit, shutting down, or models unavailable.",
        ),
    ]);
    let mut extract_responses = extract_errors.clone();
    extract_responses.insert(
        "200".into(),
        json!({
            "description": "The extraction: JSON, or the rendering itself when Accept asks for text/markdown, text/html, text/plain or text/csv.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ExtractResponse"}},
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}}
            }
        }),
    );
    let mut create_responses = errors(&[
        ("400", "A bad option, webhook URL or multipart body."),
        ("401", "Missing or wrong API key."),
        (
            "408",
            "The upload did not finish within the request time limit.",
        ),
        ("413", "The document is over the size limit."),
        ("415", "Not multipart, or not a document type Folio reads."),
        ("422", "The document is empty."),
        ("429", "Too many jobs waiting; see Retry-After."),
        ("503", "Shutting down."),
    ]);
    create_responses.insert(
        "202".into(),
        json!({"description": "Queued; `Location` names the job.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}}),
    );
    let id_param =
        json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
    let keyed = json!([{"apiKey": []}, {"bearer": []}]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Folio",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Document extraction: PDFs to Markdown, JSON, HTML, text and CSV. Errors are {\"error\": {\"code\", \"message\"}}."
        },
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"}
            },
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}}}}
                },
                "ExtractResponse": {
                    "type": "object",
                    "required": ["content", "format", "page_count", "pages_extracted", "pages", "status", "warnings", "timings"],
                    "properties": {
                        "content": {"description": "The rendering (a string), or the document model for `json`."},
                        "format": {"type": "string"},
                        "page_count": {"type": "integer"},
                        "pages_extracted": {"type": "integer"},
                        "pages": {"type": "array", "items": {"type": "object", "properties": {
                            "page": {"type": "integer"}, "source": {"type": "string"}, "decision": {"type": "string"}}}},
                        "status": {"type": "string", "enum": ["success", "partial"]},
                        "warnings": {"type": "array", "items": {"type": "object"}},
                        "timings": {"type": "object", "properties": {
                            "extract_ms": {"type": "integer"}, "render_ms": {"type": "integer"}, "total_ms": {"type": "integer"}}}
                    }
                },
                "Job": {
                    "type": "object", "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled", "cancelling"]},
                        "format": {"type": "string"}, "filename": {"type": ["string", "null"]},
                        "attempts": {"type": "integer"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "started_at": {"type": ["string", "null"], "format": "date-time"},
                        "finished_at": {"type": ["string", "null"], "format": "date-time"},
                        "pages_extracted": {"type": ["integer", "null"]},
                        "progress": {"type": ["object", "null"]},
                        "error": {"type": ["object", "null"]},
                        "webhook": {"type": ["object", "null"]},
                        "links": {"type": "object"}
                    }
                }
            }
        },
        "paths": {
            "/": {"get": {"summary": "The drop-a-file page.", "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}},
            "/health": {"get": {"summary": "The process is alive.", "responses": {"200": {"description": "Alive."}}}},
            "/ready": {"get": {"summary": "The model store can serve the required models (as `folio doctor` sees it).",
                "responses": {"200": {"description": "Ready."}, "503": error_response("Not ready; the body says why and how to fix it.")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics.", "responses": {"200": {"description": "Text exposition 0.0.4.", "content": {"text/plain": {}}}}}},
            "/openapi.json": {"get": {"summary": "This document.", "responses": {"200": {"description": "OpenAPI 3.1."}}}},
            "/extract": {"post": {
                "summary": "Extract a document and wait for the result.",
                "security": keyed,
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": upload_fields}}}},
                "responses": extract_responses
            }},
            "/v1/jobs": {"post": {
                "summary": "Queue a document for extraction; the job survives restarts.",
                "security": keyed,
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": job_fields}}}},
                "responses": create_responses
            }},
            "/v1/jobs/{id}": {
                "get": {"summary": "A job's status and progress.", "security": keyed, "parameters": id_param,
                    "responses": {"200": {"description": "The job.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                        "401": error_response("Missing or wrong API key."), "404": error_response("No such job (finished jobs expire).")}},
                "delete": {"summary": "Cancel a queued or running job; delete a finished one and its result.", "security": keyed, "parameters": id_param,
                    "responses": {"200": {"description": "The job after cancellation (status `cancelling` while a running job stops).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                        "401": error_response("Missing or wrong API key."), "404": error_response("No such job.")}}
            },
            "/v1/jobs/{id}/result": {"get": {
                "summary": "A finished job's result, as POST /extract answers (Accept works the same way).",
                "security": keyed, "parameters": id_param,
                "responses": {
                    "200": {"description": "The extraction.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExtractResponse"}}}},
                    "401": error_response("Missing or wrong API key."),
                    "404": error_response("No such job, or its result expired."),
                    "406": error_response("Accept asks for a format other than the job's."),
                    "409": error_response("The job has not succeeded (yet); the message says its state.")
                }
            }}
        }
    })
}
