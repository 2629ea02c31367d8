//! Bounds on what a hostile file can make the readers do.

/// Limits applied while reading; each is checked before the work it bounds, so a zip bomb or a
/// pathological file ends as [`crate::OfficeError::Limit`] rather than exhausting memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeLimits {
    /// Total bytes that may be decompressed out of one zip package (all members together).
    pub max_uncompressed: u64,
    /// Largest allowed ratio of a member's uncompressed to compressed size (members above 1 MiB).
    pub max_ratio: u64,
    /// Members in one zip package.
    pub max_members: usize,
    /// Nodes in one XML part.
    pub max_xml_nodes: u32,
    /// Element nesting the readers walk (XML and HTML).
    pub max_depth: usize,
    /// Non-empty cells read from one sheet.
    pub max_cells_per_sheet: u64,
    /// Slides in a presentation.
    pub max_slides: usize,
    /// Sheets in a workbook.
    pub max_sheets: usize,
    /// Bytes of figure pictures kept from one file, when they are asked for.
    pub max_image_bytes: u64,
}

impl Default for OfficeLimits {
    fn default() -> Self {
        OfficeLimits {
            max_uncompressed: 512 * 1024 * 1024,
            max_ratio: 200,
            max_members: 20_000,
            max_xml_nodes: 20_000_000,
            max_depth: 256,
            max_cells_per_sheet: 2_000_000,
            max_slides: 5_000,
            max_sheets: 1_000,
            max_image_bytes: 64 * 1024 * 1024,
        }
    }
}
