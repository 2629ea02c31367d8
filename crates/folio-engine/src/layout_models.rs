//! The layout and table-structure models inside the engine: located through the same
//! [`ModelLocator`] as OCR and loaded on the first page that needs them ([`LazyModels`]).

use std::sync::Arc;

use folio_store::ModelId;
use folio_vision::{BackendKind, LayoutModel, TableModel};

use crate::models::{locate, LazyModels, ModelLocator, ModelState};
use crate::ModelError;

/// The two document models, loaded together: a page the layout model reads may hold a table.
#[derive(Debug)]
pub(crate) struct DocModels {
    /// Regions of a page (PP-PicoDet on CDLA).
    pub layout: LayoutModel,
    /// Rows, columns and cells of a table image (SLANet-plus).
    pub table: TableModel,
}

/// The layout and table models, shared by every page and thread.
#[derive(Debug)]
pub(crate) struct LayoutRuntime {
    models: LazyModels<DocModels>,
}

impl LayoutRuntime {
    pub(crate) fn new(locator: ModelLocator, backend: BackendKind, threads: usize) -> Self {
        LayoutRuntime {
            models: LazyModels::new("layout", move || {
                let layout = locate(&locator, ModelId::Layout)?;
                let table = locate(&locator, ModelId::TableStructure)?;
                let load = |e| ModelError::Load(Arc::new(e));
                Ok(DocModels {
                    layout: LayoutModel::load(&layout, backend, threads).map_err(load)?,
                    table: TableModel::load(&table, backend, threads).map_err(load)?,
                })
            }),
        }
    }

    /// The state of the models now (no load is attempted).
    pub(crate) fn state(&self) -> ModelState {
        self.models.state()
    }

    /// The loaded models, or why they cannot be loaded.
    pub(crate) fn models(&self) -> Result<Arc<DocModels>, ModelError> {
        self.models.get()
    }
}
