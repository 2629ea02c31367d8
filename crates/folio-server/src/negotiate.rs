//! Content negotiation: the JSON envelope, or the rendering itself when `Accept` asks for
//! `text/markdown`, `text/html`, `text/plain` or `text/csv`.

use axum::http::HeaderValue;
use folio_doc::Format;

use crate::error::ApiError;

/// What the client wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `ExtractResponse` as JSON.
    Json,
    /// The rendered document alone, in this format.
    Raw(Format),
}

/// Picks the reply from `Accept`: the acceptable type with the highest `q`, first on ties;
/// JSON when nothing known is asked for.
pub(crate) fn reply_for(accept: Option<&HeaderValue>) -> Reply {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return Reply::Json;
    };
    let mut best: Option<(f32, Reply)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let reply = match media.as_str() {
            "application/json" | "application/*" | "*/*" => Reply::Json,
            "text/markdown" | "text/x-markdown" => Reply::Raw(Format::Markdown),
            "text/html" => Reply::Raw(Format::Html),
            "text/plain" => Reply::Raw(Format::Text),
            "text/csv" => Reply::Raw(Format::Csv),
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, reply));
        }
    }
    best.map_or(Reply::Json, |(_, r)| r)
}

/// The output format: `Accept` decides for raw replies; a `format` field that disagrees with
/// it is an error rather than a silent choice.
pub(crate) fn format_for(
    reply: Reply,
    field: Format,
    field_given: bool,
) -> Result<Format, ApiError> {
    match reply {
        Reply::Json => Ok(field),
        Reply::Raw(f) if !field_given || f == field => Ok(f),
        Reply::Raw(f) => Err(ApiError::bad_request(
            "bad_option",
            format!(
                "format={} contradicts the Accept header, which asks for {}; drop one of them",
                field.name(),
                f.media_type()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(accept: &str) -> Reply {
        reply_for(Some(&HeaderValue::from_str(accept).unwrap()))
    }

    #[test]
    fn accept_picks_the_preferred_known_type() {
        assert_eq!(reply_for(None), Reply::Json);
        assert_eq!(r("text/markdown"), Reply::Raw(Format::Markdown));
        assert_eq!(r("text/html, */*;q=0.8"), Reply::Raw(Format::Html));
        assert_eq!(r("text/plain;q=0.5, application/json"), Reply::Json);
        assert_eq!(r("image/png"), Reply::Json);
        assert_eq!(r("text/html;q=0"), Reply::Json);
        assert!(format_for(Reply::Raw(Format::Html), Format::Json, true).is_err());
        assert_eq!(
            format_for(Reply::Raw(Format::Html), Format::Markdown, false).unwrap(),
            Format::Html
        );
    }
}
