//! `--images DIR`: the figures' pictures the engine kept, written to files the outputs link.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use folio_doc::{BlockKind, Document};

/// Creates the folder (and its parents) if missing: called before the extraction, so that a
/// target that cannot be one costs no work.
pub(crate) fn prepare(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the images folder {}", dir.display()))
}

/// Writes every figure's picture to `dir` (created if missing) as `page-N-figure-M.EXT`, where
/// M counts the page's figures in reading order (with or without a picture, so a name does not
/// shift when one picture is left out), and replaces its bytes with the file's path as `dir`
/// was written (`DIR/page-3-figure-2.png`). Each file is written beside its name and renamed into
/// place, so a link already standing at that name is replaced, never followed.
pub(crate) fn write(doc: &mut Document, dir: &Path) -> anyhow::Result<()> {
    prepare(dir)?;
    let mut perms = std::fs::metadata(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .permissions();
    for page in &mut doc.pages {
        let figures = page
            .blocks
            .iter_mut()
            .filter(|b| b.kind == BlockKind::Figure);
        for (i, block) in figures.enumerate() {
            let Some(image) = block.image.as_mut() else {
                continue;
            };
            let Some(data) = image.data.take() else {
                continue;
            };
            let name = format!(
                "page-{}-figure-{}.{}",
                page.number,
                i + 1,
                image.extension()
            );
            let path = dir.join(&name);
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            // Readable as any picture is (a temporary file starts private).
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
            tmp.write_all(&data)
                .and_then(|()| tmp.flush())
                .and_then(|()| tmp.as_file().set_permissions(perms.clone()))
                .with_context(|| format!("cannot write {}", path.display()))?;
            tmp.persist(&path)
                .map_err(|e| e.error)
                .with_context(|| format!("cannot write {}", path.display()))?;
            image.path = Some(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}
