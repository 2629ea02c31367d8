/*!
The model store's foundation: where the cache lives, and making that place usable without ever
destroying what a user put there.

The system Folio descends from failed every extraction because `~/.cache` was a file. This crate
decides from `lstat` before acting: [`resolve_root`] picks the cache root (explicit path >
`FOLIO_CACHE_DIR` > `$XDG_CACHE_HOME/folio` when absolute > `~/.cache/folio`, with `HOME` from the
environment or else the passwd entry > a temp-dir fallback) and records every decision;
[`prepare_root`] makes it a usable directory, moving a file in the way aside to
`<name>.conflict-<unix time>` (never deleting it), and reports dangling links (an unmounted volume)
and link loops as typed errors instead of following them.

Scope so far: root resolution and preparation. Verified installs, locks, `models` commands and
health reports are still to come (issue 3).
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod root;

pub use root::{
    inspect, prepare_root, resolve_root, Prepared, RootChoice, RootOrigin, RootState, StoreError,
};
