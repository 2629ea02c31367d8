//! Frames between the parent and a child: `[kind: u8][len: u32 LE][payload]`.
//!
//! Parent to child: [`JOB`], whose payload is a `u32` LE header length, the JSON [`Request`]
//! and the document's bytes. Child to parent: any number of [`PROGRESS`] frames (pages done and
//! selected, two `u32` LE), then one [`RESULT`] (a JSON [`Answer`]) or one [`ERROR`] (a JSON
//! [`RemoteError`]).

use std::io::{self, Read, Write};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use folio_api::{ExtractResponse, Failure, OptionError, RequestOptions};
use folio_engine::{Limits, ModelState};
use serde::{Deserialize, Serialize};

/// A document and what to do with it.
pub(crate) const JOB: u8 = b'J';
/// Pages done and selected.
pub(crate) const PROGRESS: u8 = b'P';
/// A finished extraction.
pub(crate) const RESULT: u8 = b'R';
/// A failed extraction.
pub(crate) const ERROR: u8 = b'E';

/// What a child is asked to do, besides the document's bytes: the request's options as the
/// front door parsed them and the limits it runs under.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Request {
    format: String,
    pages: Option<String>,
    ocr: String,
    layout: String,
    #[serde(default)]
    images: bool,
    password: Option<String>,
    filename: Option<String>,
    fields: Option<folio_fields::FieldRequest>,
    #[serde(default)]
    notes: bool,
    #[serde(default)]
    hidden_sheets: bool,
    max_input_bytes: u64,
    max_pages: u32,
    max_page_pixels: u64,
    page_timeout_ms: u64,
    total_timeout_ms: u64,
    page_workers: Option<usize>,
    #[serde(default = "default_image_bytes")]
    max_image_bytes: u64,
}

fn default_image_bytes() -> u64 {
    Limits::default().max_image_bytes
}

impl Request {
    pub(crate) fn new(options: &RequestOptions, limits: &Limits) -> Request {
        // Every field named, so that a new limit or option does not travel silently unset.
        let Limits {
            max_input_bytes,
            max_pages,
            max_page_pixels,
            page_timeout,
            total_timeout,
            page_workers,
            max_image_bytes,
        } = limits;
        let RequestOptions {
            format,
            pages,
            ocr,
            layout,
            password,
            filename,
            fields,
            images,
            notes,
            hidden_sheets,
        } = options;
        Request {
            format: format.name().to_string(),
            pages: pages.as_ref().map(ToString::to_string),
            ocr: ocr.name().to_string(),
            layout: layout.name().to_string(),
            images: *images,
            password: password.clone(),
            filename: filename.clone(),
            fields: fields.as_deref().cloned(),
            notes: *notes,
            hidden_sheets: *hidden_sheets,
            max_input_bytes: *max_input_bytes,
            max_pages: *max_pages,
            max_page_pixels: *max_page_pixels,
            page_timeout_ms: millis(*page_timeout),
            total_timeout_ms: millis(*total_timeout),
            page_workers: page_workers.map(NonZeroUsize::get),
            max_image_bytes: *max_image_bytes,
        }
    }

    /// The options and limits the child runs with.
    pub(crate) fn parse(&self) -> Result<(RequestOptions, Limits), OptionError> {
        let mut options = RequestOptions::default();
        options.set("format", &self.format)?;
        if let Some(p) = &self.pages {
            options.set("pages", p)?;
        }
        options.set("ocr", &self.ocr)?;
        options.set("layout", &self.layout)?;
        options.images = self.images;
        options.password = self.password.clone();
        options.filename = self.filename.clone();
        options.fields = self.fields.clone().map(Arc::new);
        options.notes = self.notes;
        options.hidden_sheets = self.hidden_sheets;
        let limits = Limits {
            max_input_bytes: self.max_input_bytes,
            max_pages: self.max_pages,
            max_page_pixels: self.max_page_pixels,
            page_timeout: Duration::from_millis(self.page_timeout_ms.max(1)),
            total_timeout: Duration::from_millis(self.total_timeout_ms.max(1)),
            page_workers: self.page_workers.and_then(NonZeroUsize::new),
            max_image_bytes: self.max_image_bytes,
        };
        Ok((options, limits))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A child's answer to a document it extracted.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Answer {
    pub response: ExtractResponse,
    /// See [`RemoteError::pages_running`].
    pub pages_running: usize,
    /// See [`RemoteError::models`].
    #[serde(default)]
    pub models: Option<Models>,
}

/// The state of a child's OCR models after a document, for the parent's `/ready` and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Models {
    state: String,
    reason: Option<String>,
    retry_in_ms: Option<u64>,
}

impl From<&ModelState> for Models {
    fn from(m: &ModelState) -> Models {
        let (state, reason, retry_in_ms) = match m {
            ModelState::NotNeeded => ("not_needed", None, None),
            ModelState::NotLoaded => ("not_loaded", None, None),
            ModelState::Loaded => ("loaded", None, None),
            ModelState::Failed { reason, retry_in } => {
                ("failed", Some(reason.clone()), Some(millis(*retry_in)))
            }
            _ => ("not_loaded", None, None),
        };
        Models {
            state: state.to_string(),
            reason,
            retry_in_ms,
        }
    }
}

impl Models {
    pub(crate) fn state(&self) -> ModelState {
        match self.state.as_str() {
            "not_needed" => ModelState::NotNeeded,
            "loaded" => ModelState::Loaded,
            "failed" => ModelState::Failed {
                reason: self.reason.clone().unwrap_or_default(),
                retry_in: Duration::from_millis(self.retry_in_ms.unwrap_or(0)),
            },
            _ => ModelState::NotLoaded,
        }
    }
}

/// An extraction error as a child reports it: a [`Failure`] without its `&'static` code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RemoteError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub causes: Vec<String>,
    /// Page threads of the child still running once the document was answered: pages
    /// abandoned at their time limit that have not stopped yet. A child with any is replaced,
    /// so that no abandoned page keeps a core.
    #[serde(default)]
    pub pages_running: usize,
    /// The child's OCR models after the document (a load that failed, or succeeded).
    #[serde(default)]
    pub models: Option<Models>,
}

impl RemoteError {
    pub(crate) fn new(f: &Failure, pages_running: usize, models: Option<Models>) -> RemoteError {
        RemoteError {
            status: f.status,
            code: f.code.to_string(),
            message: f.message.clone(),
            causes: f.causes.clone(),
            pages_running,
            models,
        }
    }
}

impl From<RemoteError> for Failure {
    fn from(e: RemoteError) -> Failure {
        Failure::from_wire(e.status, &e.code, e.message, e.causes)
    }
}

pub(crate) fn write_frame(w: &mut impl Write, kind: u8, parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    // A frame holds up to 4 GiB: a document at any `--max-size-mb` in use, or the JSON
    // rendering of a large document.
    let len = u32::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    w.write_all(&[kind])?;
    w.write_all(&len.to_le_bytes())?;
    for p in parts {
        w.write_all(p)?;
    }
    w.flush()
}

/// The next frame, or `None` at a clean end of stream (before a frame's first byte).
pub(crate) fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..])?;
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    // Read as it arrives rather than allocated up front from the length alone.
    let mut payload = Vec::new();
    r.take(u64::from(len)).read_to_end(&mut payload)?;
    if payload.len() != len as usize {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some((head[0], payload)))
}

/// The start of a job frame's payload: the header's length and the header.
pub(crate) fn job_header(request: &Request) -> io::Result<Vec<u8>> {
    let header = serde_json::to_vec(request).map_err(io::Error::other)?;
    let len = u32::try_from(header.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "job header too large"))?;
    let mut out = len.to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    Ok(out)
}

/// Splits a job frame's payload into its request and document.
pub(crate) fn parse_job(payload: &[u8]) -> Result<(Request, &[u8]), String> {
    let len = payload
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("short job frame")?;
    let end = 4usize.checked_add(len).ok_or("bad job header length")?;
    let header = payload.get(4..end).ok_or("short job header")?;
    let request = serde_json::from_slice(header).map_err(|e| format!("bad job header: {e}"))?;
    Ok((request, &payload[end..]))
}

/// A progress frame's payload.
pub(crate) fn progress_payload(done: u32, total: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&done.to_le_bytes());
    out[4..].copy_from_slice(&total.to_le_bytes());
    out
}

/// Pages done and selected from a progress frame's payload.
pub(crate) fn parse_progress(payload: &[u8]) -> Option<(u32, u32)> {
    let done = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?);
    let total = u32::from_le_bytes(payload.get(4..8)?.try_into().ok()?);
    Some((done, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use folio_doc::Format;
    use folio_engine::OcrMode;

    #[test]
    fn jobs_round_trip_with_every_option_and_limit() {
        let mut options = RequestOptions::default();
        options.set("format", "json").unwrap();
        options.set("pages", "1-3,7,10-").unwrap();
        options.set("ocr", "never").unwrap();
        options.set("layout", "fast").unwrap();
        options.set("images", "inline").unwrap();
        options.set("password", " pw ").unwrap();
        options.set("filename", "a.pdf").unwrap();
        options.set("fields", "company,total").unwrap();
        options.set("notes", "true").unwrap();
        options.set("hidden_sheets", "true").unwrap();
        let limits = Limits {
            max_input_bytes: 12,
            max_pages: 3,
            max_page_pixels: 99,
            page_timeout: Duration::from_millis(1500),
            total_timeout: Duration::from_secs(7),
            page_workers: NonZeroUsize::new(2),
            max_image_bytes: 5,
        };
        let header = job_header(&Request::new(&options, &limits)).unwrap();
        let mut buf = Vec::new();
        write_frame(&mut buf, JOB, &[&header, b"%PDF-1.7"]).unwrap();
        let (kind, payload) = read_frame(&mut &buf[..]).unwrap().unwrap();
        assert_eq!(kind, JOB);
        let (request, doc) = parse_job(&payload).unwrap();
        assert_eq!(doc, b"%PDF-1.7");
        let (o, l) = request.parse().unwrap();
        assert_eq!(o.format, Format::Json);
        assert_eq!(o.pages, options.pages);
        assert_eq!(o.ocr, OcrMode::Never);
        assert_eq!(o.layout, folio_engine::LayoutMode::Fast);
        assert!(o.images);
        assert_eq!(o.password.as_deref(), Some(" pw "));
        assert_eq!(o.filename.as_deref(), Some("a.pdf"));
        assert_eq!(o.fields, options.fields);
        assert!(o.notes && o.hidden_sheets);
        assert_eq!(format!("{l:?}"), format!("{limits:?}"));
    }

    #[test]
    fn short_or_lying_frames_are_errors_not_panics() {
        let mut buf = Vec::new();
        write_frame(&mut buf, RESULT, &[b"abc"]).unwrap();
        assert!(read_frame(&mut &buf[..3]).is_err());
        assert!(read_frame(&mut &buf[..buf.len() - 1]).is_err());
        assert!(read_frame(&mut &[][..]).unwrap().is_none());
        assert!(parse_job(&[1, 2]).is_err());
        assert!(parse_job(&[255, 255, 255, 255, b'{']).is_err());
        assert!(parse_job(&[1, 0, 0, 0, b'{']).is_err());
        assert_eq!(parse_progress(&progress_payload(3, 9)), Some((3, 9)));
        assert_eq!(parse_progress(&[1, 2, 3]), None);
    }

    #[test]
    fn model_states_travel() {
        for m in [
            ModelState::NotNeeded,
            ModelState::NotLoaded,
            ModelState::Loaded,
            ModelState::Failed {
                reason: "no ocr-det: run folio models install".into(),
                retry_in: Duration::from_millis(1500),
            },
        ] {
            let wire = serde_json::to_string(&Models::from(&m)).unwrap();
            let back: Models = serde_json::from_str(&wire).unwrap();
            assert_eq!(back.state(), m);
        }
    }
}
