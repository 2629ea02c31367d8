//! Frames between the parent and a child: `[kind: u8][len: u32 LE][payload]`.

use std::io::{self, Read, Write};
use std::time::Duration;

use folio_doc::Format;
use folio_engine::{ExtractError, ExtractOptions, Limits, OcrMode};
use serde::{Deserialize, Serialize};

/// A job for a child.
pub(crate) const JOB: u8 = b'J';
/// Progress from a child: pages done and total, two `u32`.
pub(crate) const PROGRESS: u8 = b'P';
/// A finished extraction from a child.
pub(crate) const RESULT: u8 = b'R';
/// A failed extraction from a child.
pub(crate) const ERROR: u8 = b'E';

/// Largest frame read from either side: a document at the largest input limit, or the JSON
/// rendering of the largest document.
pub(crate) const MAX_FRAME: u32 = 1 << 30;

/// What a child is asked to do, besides the document's bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// Output format name (`markdown`, `json`, ...).
    pub format: String,
    /// Page selection as written (`1-3,7`).
    pub pages: Option<String>,
    /// `auto`, `always` or `never`.
    pub ocr: String,
    /// PDF password.
    pub password: Option<String>,
    /// The input's file name.
    pub filename: Option<String>,
    /// Largest input, bytes.
    pub max_input_bytes: u64,
    /// Most pages.
    pub max_pages: u32,
    /// Most pixels per raster.
    pub max_page_pixels: u64,
    /// Time per page, milliseconds.
    pub page_timeout_ms: u64,
    /// Time for the document, milliseconds.
    pub total_timeout_ms: u64,
}

impl Job {
    /// The job for `opts` rendered as `format`.
    pub fn new(opts: &ExtractOptions, format: Format) -> Job {
        Job {
            format: format.to_string(),
            pages: opts.pages.as_ref().map(ToString::to_string),
            ocr: match opts.ocr {
                OcrMode::Auto => "auto",
                OcrMode::Always => "always",
                OcrMode::Never => "never",
            }
            .to_string(),
            password: opts.password.clone(),
            filename: opts.filename.clone(),
            max_input_bytes: opts.limits.max_input_bytes,
            max_pages: opts.limits.max_pages,
            max_page_pixels: opts.limits.max_page_pixels,
            page_timeout_ms: opts.limits.page_timeout.as_millis() as u64,
            total_timeout_ms: opts.limits.total_timeout.as_millis() as u64,
        }
    }

    /// The options and format the child runs with.
    pub(crate) fn options(&self) -> Result<(ExtractOptions, Format), String> {
        let format = self.format.parse().map_err(|e| format!("{e}"))?;
        let pages = match &self.pages {
            Some(p) => Some(p.parse().map_err(|e| format!("{e}"))?),
            None => None,
        };
        let opts = ExtractOptions {
            pages,
            password: self.password.clone(),
            ocr: self.ocr.parse()?,
            limits: Limits {
                max_input_bytes: self.max_input_bytes,
                max_pages: self.max_pages,
                max_page_pixels: self.max_page_pixels,
                page_timeout: Duration::from_millis(self.page_timeout_ms.max(1)),
                total_timeout: Duration::from_millis(self.total_timeout_ms.max(1)),
            },
            filename: self.filename.clone(),
            cancel: None,
        };
        Ok((opts, format))
    }
}

/// An engine error as a child reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteError {
    /// The engine's stable code ([`ExtractError::code`]).
    pub code: String,
    /// Its message.
    pub message: String,
}

impl From<&ExtractError> for RemoteError {
    fn from(e: &ExtractError) -> RemoteError {
        RemoteError {
            code: e.code().to_string(),
            message: e.to_string(),
        }
    }
}

pub(crate) fn write_frame(w: &mut impl Write, kind: u8, parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    w.write_all(&[kind])?;
    w.write_all(&len.to_le_bytes())?;
    for p in parts {
        w.write_all(p)?;
    }
    w.flush()
}

/// The next frame, or `None` at a clean end of stream.
pub(crate) fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..])?;
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes"),
        ));
    }
    let mut payload = Vec::new();
    r.take(u64::from(len)).read_to_end(&mut payload)?;
    if payload.len() != len as usize {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some((head[0], payload)))
}

/// A job frame's payload: the header's length, the header, the document.
pub(crate) fn job_payload(job: &Job) -> io::Result<Vec<u8>> {
    let header = serde_json::to_vec(job).map_err(io::Error::other)?;
    let mut out = (header.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    Ok(out)
}

/// Splits a job frame's payload into its header and document.
pub(crate) fn parse_job(payload: &[u8]) -> Result<(Job, &[u8]), String> {
    let len = payload
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("short job frame")?;
    let header = payload.get(4..4 + len).ok_or("short job header")?;
    let job = serde_json::from_slice(header).map_err(|e| format!("bad job header: {e}"))?;
    Ok((job, &payload[4 + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_jobs_round_trip() {
        let opts = ExtractOptions {
            pages: Some("1-3,7".parse().unwrap()),
            password: Some("pw".into()),
            ocr: OcrMode::Never,
            ..ExtractOptions::default()
        };
        let job = Job::new(&opts, Format::Json);
        let mut buf = Vec::new();
        let header = job_payload(&job).unwrap();
        write_frame(&mut buf, JOB, &[&header, b"%PDF-1.7"]).unwrap();
        let (kind, payload) = read_frame(&mut &buf[..]).unwrap().unwrap();
        assert_eq!(kind, JOB);
        let (back, doc) = parse_job(&payload).unwrap();
        assert_eq!(doc, b"%PDF-1.7");
        let (o, f) = back.options().unwrap();
        assert_eq!(f, Format::Json);
        assert_eq!(o.pages, opts.pages);
        assert_eq!(o.ocr, OcrMode::Never);
        assert_eq!(o.password.as_deref(), Some("pw"));
        assert!(read_frame(&mut &buf[..3]).is_err());
        assert!(read_frame(&mut &[][..]).unwrap().is_none());
    }
}
