/*!
The one document model every Folio stage reads and writes, and the serializers that render it.

A [`Document`] holds [`Page`]s; a page holds [`Block`]s in reading order; a block holds [`Line`]s of
[`Span`]s, or a [`Table`] of [`Cell`]s. Every element carries a [`BBox`] in page coordinates
(points, origin at the top-left corner of the page as displayed, y growing downwards) and the
[`Provenance`] of its content.

Serializers live in [`render`]: they only read the model. The JSON form is the model itself
(`serde`), documented in `docs/json-schema.md` at the repository root.

Scope: no I/O, no parsing of input formats; readers in other crates build this model.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod model;
pub mod render;

pub use model::*;
pub use render::{render, Format, RenderOptions, UnknownFormat};
