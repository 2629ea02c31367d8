//! The multipart upload shared by `POST /extract` and `POST /v1/jobs`: a `file` part plus
//! option fields.

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;
use folio_api::RequestOptions;

use crate::error::ApiError;

/// Largest option field (`pages`, `format`, `password`, `webhook_url`, ...) accepted. Fields are
/// read chunk by chunk and refused as soon as they pass this, so a 250 MB `pages` field costs
/// nothing but the time to refuse it (it used to be buffered whole: 3.9 GB).
pub(crate) const MAX_FIELD_BYTES: usize = 8 * 1024;

/// A parsed upload.
#[derive(Debug)]
pub(crate) struct Upload {
    pub bytes: Bytes,
    pub options: RequestOptions,
    /// The option fields as sent, to store with a job and parse again when it runs.
    pub fields: Vec<(String, String)>,
    /// Whether `format` was given (else `Accept` may choose it).
    pub format_given: bool,
    pub webhook_url: Option<String>,
    /// Jobs only: `s3://bucket/key` to read the document from instead of a `file` part.
    pub source: Option<String>,
    /// Jobs only: `s3://bucket/prefix/` to write the result to as well.
    pub output: Option<String>,
}

/// Reads the upload; `webhook_url`, `source` and `output` are fields only where `jobs` is set.
pub(crate) async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
    jobs: bool,
) -> Result<Upload, ApiError> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::unsupported_media(format!(
            "send the document as multipart/form-data with a \"file\" part ({})",
            e.body_text()
        ))
    })?;
    let mut bytes = None;
    let mut options = RequestOptions::default();
    let mut fields = Vec::new();
    let mut format_given = false;
    let mut webhook_url = None;
    let (mut source, mut output) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if bytes.is_some() {
                    return Err(ApiError::bad_request(
                        "bad_request",
                        "send one \"file\" part per request",
                    ));
                }
                let filename = field.file_name().map(str::to_string);
                bytes = Some(field.bytes().await.map_err(multipart_error)?);
                if let Some(f) = filename.filter(|f| !f.is_empty()) {
                    if options.filename.is_none() {
                        options.set("filename", &f)?;
                        fields.push(("filename".to_string(), f));
                    }
                }
            }
            "webhook_url" if jobs => {
                let url = small_field(field, &name).await?;
                webhook_url = Some(url.trim().to_string()).filter(|u| !u.is_empty());
            }
            "source" | "output" if jobs => {
                let url = field.text().await.map_err(multipart_error)?;
                let url = Some(url.trim().to_string()).filter(|u| !u.is_empty());
                if name == "source" {
                    source = url;
                } else {
                    output = url;
                }
            }
            _ => {
                let value = small_field(field, &name).await?;
                options.set(&name, &value)?;
                format_given |= name == "format" && !value.trim().is_empty();
                fields.push((name, value));
            }
        }
    }
    let bytes = match (bytes, &source) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "bad_request",
                "send either a \"file\" part or a \"source\" field, not both",
            ))
        }
        (Some(bytes), None) => bytes,
        (None, Some(_)) => Bytes::new(),
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_file",
                "the request has no \"file\" part: send the document as multipart/form-data",
            ))
        }
    };
    options.check()?;
    Ok(Upload {
        bytes,
        options,
        fields,
        format_given,
        webhook_url,
        source,
        output,
    })
}

/// An option field's text, refused once it passes [`MAX_FIELD_BYTES`] (before the rest is read).
async fn small_field(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<String, ApiError> {
    let mut value = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if value.len() + chunk.len() > MAX_FIELD_BYTES {
            return Err(ApiError::too_large(format!(
                "the form field {name:?} is over {MAX_FIELD_BYTES} bytes; only the \"file\" part may be large"
            )));
        }
        value.extend_from_slice(&chunk);
    }
    String::from_utf8(value).map_err(|_| {
        ApiError::bad_request(
            "bad_multipart",
            format!("the form field {name:?} is not UTF-8 text"),
        )
    })
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!(
            "the request body is over this server's size limit ({})",
            e.body_text()
        ))
    } else {
        ApiError::bad_request(
            "bad_multipart",
            format!("cannot read the multipart body: {}", e.body_text()),
        )
    }
}
