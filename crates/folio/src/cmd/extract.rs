//! `folio extract`: one document in, one rendering out.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use folio_doc::{Format, RenderOptions};
use folio_engine::{BackendKind, ExtractError, ExtractOptions, LayoutMode, OcrMode, PageSelection};

use super::limits::{LimitArgs, DOCUMENT_TIMEOUT};

/// Arguments of `folio extract`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The document to read, or `-` for standard input.
    pub input: PathBuf,
    /// Output format.
    #[arg(short, long, default_value = "markdown", value_parser = super::format_parser())]
    pub format: Format,
    /// Write the output to this file instead of standard output. The input itself, a
    /// directory, device, FIFO or socket is refused, and so is a symbolic link unless `--force`.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Let `-o` write through a symbolic link (to the file it points to).
    #[arg(long)]
    pub force: bool,
    /// Pages to extract, e.g. `1-3,7` or `10-` (1-based).
    #[arg(long)]
    pub pages: Option<PageSelection>,
    /// Password of an encrypted PDF.
    #[arg(long, env = "FOLIO_PDF_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// When to run OCR: auto (PDF pages without a usable text layer, and images), always or
    /// never.
    #[arg(long, default_value = "auto", value_parser = super::ocr_parser())]
    pub ocr: OcrMode,
    /// When to run the layout and table models: auto (scanned pages that read like a document
    /// or hold a table, and born-digital pages with aligned text no table took), model (every page) or
    /// fast (never: heuristics only).
    #[arg(long, default_value = "auto", value_parser = super::layout_parser())]
    pub layout: LayoutMode,
    /// Inference backend for OCR: rten (built in), ort or ort-cuda (builds with those features).
    #[arg(long, default_value = "rten", env = "FOLIO_OCR_BACKEND", value_parser = super::backend_parser())]
    pub ocr_backend: BackendKind,
    /// Model cache root (default: FOLIO_VOLUME, FOLIO_CACHE_DIR, XDG_CACHE_HOME/folio or
    /// ~/.cache/folio).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Write each figure's picture to this folder (created if missing) as
    /// `page-N-figure-M.png` (or `.jpg`, an Office file's own JPEG), and link it: Markdown
    /// `![caption](DIR/page-N-figure-M.png)`, HTML `<img src=...>`, JSON `image.path`.
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// PPTX: add each slide's speaker notes after its content.
    #[arg(long)]
    pub notes: bool,
    /// XLSX, XLS, ODS: read hidden sheets too (each is a page, as visible ones are).
    #[arg(long)]
    pub hidden_sheets: bool,
    /// Mark page boundaries in Markdown and text output.
    #[arg(long)]
    pub page_breaks: bool,
    /// Never show a progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Named fields to extract, e.g. `company,date,address,total` (see `--format fields`).
    #[arg(long, value_name = "NAMES", conflicts_with = "schema")]
    pub fields: Option<String>,
    /// A JSON Schema file: an object of named, typed properties (arrays of objects for line
    /// items) to extract as fields.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub llm: super::LlmArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.limits.configure_pool();
    let limits = args
        .limits
        .limits(args.limits.timeout.unwrap_or(DOCUMENT_TIMEOUT));
    let fields = field_request(&args)?;
    if args.format == Format::Fields && fields.is_none() {
        bail!("--format fields needs --fields NAMES or --schema FILE");
    }
    // The output is judged before the work, so a refused target costs no extraction.
    let input_id = input_identity(&args.input);
    if let Some(path) = &args.output {
        output_target(path, input_id, args.force)?;
    }
    if let Some(dir) = &args.images {
        super::images::prepare(dir)?;
    }
    let (bytes, filename) = read_input(&args.input, limits.max_input_bytes)?;
    let opts = ExtractOptions {
        pages: args.pages,
        password: args.password,
        ocr: args.ocr,
        layout: args.layout,
        limits,
        filename,
        cancel: None,
        fields,
        images: args.images.is_some(),
        notes: args.notes,
        hidden_sheets: args.hidden_sheets,
    };
    let bar = progress_bar(args.no_progress);
    let engine = args
        .llm
        .apply(super::engine(args.cache_dir.clone(), args.ocr_backend))?;
    let doc = engine
        .extract_with_progress(&bytes, &opts, &|done, total| {
            if let Some(bar) = &bar {
                bar.set_length(u64::from(total));
                bar.set_position(u64::from(done));
            }
        })
        .map_err(|e| match e {
            ExtractError::PasswordRequired => {
                anyhow::anyhow!("{e}: give it with --password (or FOLIO_PDF_PASSWORD)")
            }
            e => e.into(),
        })
        .with_context(|| format!("cannot extract {}", args.input.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut doc = doc;
    if let Some(dir) = &args.images {
        super::images::write(&mut doc, dir)?;
    }
    for w in &doc.warnings {
        tracing::warn!(page = w.page, "{}", w.message);
    }
    let rendered = folio_doc::render(
        &doc,
        args.format,
        RenderOptions {
            page_breaks: args.page_breaks,
        },
    );
    match &args.output {
        Some(path) => {
            // Judged again: the extraction may have taken minutes, and the target may have
            // changed meanwhile.
            let target = output_target(path, input_id, args.force)?;
            write_atomically(&target, rendered.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The fields asked with `--fields` or `--schema`, checked before any work is done.
fn field_request(
    args: &Args,
) -> anyhow::Result<Option<std::sync::Arc<folio_fields::FieldRequest>>> {
    let request = match (&args.fields, &args.schema) {
        (Some(names), _) => {
            folio_fields::FieldRequest::from_names(names).context("invalid --fields")?
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the schema {}", path.display()))?;
            folio_fields::FieldRequest::from_schema_text(&text)
                .with_context(|| format!("invalid schema {}", path.display()))?
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(std::sync::Arc::new(request)))
}

/// Reads the input without ever holding more than the size limit plus one byte.
fn read_input(path: &PathBuf, limit: u64) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let too_large = |size: u64| {
        anyhow::anyhow!("input is {size} bytes or more, over the limit of {limit} bytes (raise it with --max-size-mb)")
    };
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        if buf.len() as u64 > limit {
            return Err(too_large(buf.len() as u64));
        }
        return Ok((buf, None));
    }
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        bail!("cannot read {}: it is a directory", path.display());
    }
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() as u64 > limit {
        return Err(too_large(buf.len() as u64));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok((buf, name))
}

/// Device and inode of a file, to recognise the same file under another name.
type FileId = (u64, u64);

/// The input's identity: the file named, or whatever standard input is (a redirected file).
fn input_identity(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let meta = if path.as_os_str() == "-" {
        // Standard input redirected from a file is that file; a pipe or terminal is no file
        // that `-o` could name.
        std::fs::metadata("/dev/stdin").ok()
    } else {
        // A missing input is reported by the read, with its own message.
        std::fs::metadata(path).ok()
    };
    meta.map(|m| (m.dev(), m.ino()))
}

/// Where `-o PATH` will really write, or why it must not: never over the input (a run would
/// replace the document with its own rendering), never onto a directory, device, FIFO or
/// socket (the rename would swap a regular file in for it), and not through a symbolic link
/// unless `force` (the link would otherwise be replaced by a file).
fn output_target(path: &Path, input: Option<FileId>, force: bool) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let refuse = |why: &str| anyhow::anyhow!("refusing to write {}: {why}", path.display());
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    };
    let target = if link.file_type().is_symlink() {
        if !force {
            return Err(refuse(
                "it is a symbolic link (pass --force to write to the file it points to)",
            ));
        }
        match std::fs::canonicalize(path) {
            Ok(t) => t,
            // A dangling link: the file it names does not exist yet, and is created.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dest = std::fs::read_link(path)
                    .with_context(|| format!("cannot read the link {}", path.display()))?;
                return Ok(path.parent().unwrap_or(Path::new(".")).join(dest));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    } else {
        path.to_path_buf()
    };
    let meta =
        std::fs::metadata(&target).with_context(|| format!("cannot write {}", path.display()))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "it is a directory"
        } else if kind.is_fifo() {
            "it is a FIFO"
        } else if kind.is_socket() {
            "it is a socket"
        } else if kind.is_block_device() || kind.is_char_device() {
            "it is a device"
        } else {
            "it is not a regular file"
        };
        return Err(refuse(what));
    }
    if input == Some((meta.dev(), meta.ino())) {
        return Err(refuse("it is the input file"));
    }
    Ok(target)
}

/// Writes next to the target and renames, so a failed run never leaves half a file behind.
fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn progress_bar(disabled: bool) -> Option<indicatif::ProgressBar> {
    if disabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} pages {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // Only long documents need a bar; short ones finish before it would draw.
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    Some(bar)
}
