//! The one error type of this crate.

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfficeError {
    /// The bytes are not a zip archive, or the archive is damaged or truncated.
    #[error("{format}: not a readable zip package")]
    Zip {
        /// The format the bytes were taken for.
        format: &'static str,
        /// What the zip reader said.
        #[source]
        source: zip::result::ZipError,
    },
    /// A package member the format requires is absent.
    #[error("{format}: the package has no {part}")]
    MissingPart {
        /// The format the bytes were taken for.
        format: &'static str,
        /// The member's name.
        part: String,
    },
    /// A member could not be read out of the archive (corrupt deflate stream, CRC mismatch...).
    #[error("{format}: cannot read {part}")]
    Member {
        /// The format the bytes were taken for.
        format: &'static str,
        /// The member's name.
        part: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An XML part is not well-formed, declares a DTD (entities are never expanded, external
    /// ones never resolved), or has more nodes than allowed.
    #[error("{format}: {part} is not acceptable XML")]
    Xml {
        /// The format the bytes were taken for.
        format: &'static str,
        /// The member's name.
        part: String,
        /// What the XML parser said.
        #[source]
        source: roxmltree::Error,
    },
    /// A limit of [`crate::OfficeLimits`] was exceeded.
    #[error("{format}: {what} exceeds the limit ({actual} > {limit})")]
    Limit {
        /// The format the bytes were taken for.
        format: &'static str,
        /// What was counted.
        what: &'static str,
        /// The value met (a lower bound when counting stopped early).
        actual: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A spreadsheet the spreadsheet reader refused.
    #[error("{format}: unreadable workbook")]
    Spreadsheet {
        /// The format the bytes were taken for.
        format: &'static str,
        /// What calamine said.
        #[source]
        source: calamine::Error,
    },
    /// The text is not in any encoding we can decode (binary data).
    #[error("{format}: the input looks like binary data, not text")]
    Binary {
        /// The format the bytes were taken for.
        format: &'static str,
    },
    /// A CSV file the CSV reader refused.
    #[error("{format}: unreadable delimited text")]
    Csv {
        /// The format the bytes were taken for.
        format: &'static str,
        /// What the csv reader said.
        #[source]
        source: csv::Error,
    },
    /// Reading was cancelled ([`crate::OfficeOptions::cancel`]).
    #[error("{format}: reading cancelled")]
    Cancelled {
        /// The format being read.
        format: &'static str,
    },
    /// Reading ran past [`crate::OfficeOptions::deadline`].
    #[error("{format}: reading ran past its time limit")]
    TimedOut {
        /// The format being read.
        format: &'static str,
    },
}

impl OfficeError {
    pub(crate) fn limit(format: &'static str, what: &'static str, actual: u64, limit: u64) -> Self {
        OfficeError::Limit {
            format,
            what,
            actual,
            limit,
        }
    }
}
