//! A zip package (OOXML) read under [`OfficeLimits`], and its XML parts.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use crate::{OfficeError, OfficeLimits};

/// Members above this size must respect [`OfficeLimits::max_ratio`]; small parts of repetitive
/// XML legitimately compress very well.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// An opened zip archive whose members are read with a shared decompression budget.
pub(crate) struct Package<'a> {
    format: &'static str,
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    /// Lower-cased member name → index: OPC part names are case-insensitive.
    names: HashMap<String, usize>,
    budget: u64,
    limits: OfficeLimits,
}

impl<'a> Package<'a> {
    pub(crate) fn open(
        bytes: &'a [u8],
        format: &'static str,
        limits: &OfficeLimits,
    ) -> Result<Self, OfficeError> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|source| OfficeError::Zip { format, source })?;
        if zip.len() > limits.max_members {
            return Err(OfficeError::limit(
                format,
                "zip members",
                zip.len() as u64,
                limits.max_members as u64,
            ));
        }
        let mut names = HashMap::with_capacity(zip.len());
        let mut declared: u64 = 0;
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|source| OfficeError::Zip { format, source })?;
            declared = declared.saturating_add(entry.size());
            check_ratio(format, entry.size(), entry.compressed_size(), limits)?;
            names.insert(entry.name().trim_start_matches('/').to_ascii_lowercase(), i);
        }
        // Declared sizes can lie; reading enforces the budget again on the real bytes.
        if declared > limits.max_uncompressed {
            return Err(OfficeError::limit(
                format,
                "declared uncompressed size",
                declared,
                limits.max_uncompressed,
            ));
        }
        Ok(Package {
            format,
            zip,
            names,
            budget: limits.max_uncompressed,
            limits: *limits,
        })
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains_key(&name.to_ascii_lowercase())
    }

    /// A member's bytes, or `None` when absent; the read counts against the budget.
    pub(crate) fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, OfficeError> {
        let Some(&index) = self
            .names
            .get(&name.trim_start_matches('/').to_ascii_lowercase())
        else {
            return Ok(None);
        };
        let format = self.format;
        let entry = self
            .zip
            .by_index(index)
            .map_err(|source| OfficeError::Zip { format, source })?;
        let compressed = entry.compressed_size();
        let mut out = Vec::with_capacity(entry.size().min(self.budget).min(64 << 20) as usize);
        let mut limited = entry.take(self.budget + 1);
        limited
            .read_to_end(&mut out)
            .map_err(|source| OfficeError::Member {
                format,
                part: name.to_string(),
                source,
            })?;
        let got = out.len() as u64;
        if got > self.budget {
            return Err(OfficeError::limit(
                format,
                "total uncompressed size",
                self.limits.max_uncompressed - self.budget + got,
                self.limits.max_uncompressed,
            ));
        }
        check_ratio(format, got, compressed, &self.limits)?;
        self.budget -= got;
        Ok(Some(out))
    }

    /// A member parsed as text (UTF-8 or UTF-16 with a BOM), or `None` when absent.
    pub(crate) fn read_text(&mut self, name: &str) -> Result<Option<String>, OfficeError> {
        Ok(self.read(name)?.map(|b| xml_text(&b)))
    }

    /// A required member as text.
    pub(crate) fn require_text(&mut self, name: &str) -> Result<String, OfficeError> {
        self.read_text(name)?
            .ok_or_else(|| OfficeError::MissingPart {
                format: self.format,
                part: name.to_string(),
            })
    }

    pub(crate) fn limits(&self) -> &OfficeLimits {
        &self.limits
    }

    pub(crate) fn format(&self) -> &'static str {
        self.format
    }
}

fn check_ratio(
    format: &'static str,
    size: u64,
    compressed: u64,
    limits: &OfficeLimits,
) -> Result<(), OfficeError> {
    if size > RATIO_FLOOR {
        let ratio = size / compressed.max(1);
        if ratio > limits.max_ratio {
            return Err(OfficeError::limit(
                format,
                "compression ratio",
                ratio,
                limits.max_ratio,
            ));
        }
    }
    Ok(())
}

/// XML bytes as a string: a UTF-16 or UTF-8 BOM decides, otherwise UTF-8 (lossy).
fn xml_text(bytes: &[u8]) -> String {
    let (text, _, _) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, _)) => enc.decode(bytes),
        None => encoding_rs::UTF_8.decode(bytes),
    };
    text.into_owned()
}

/// Parses an XML part. DTDs are refused outright, so no entity is ever expanded and no external
/// entity resolved (OOXML never needs one); the node count is bounded.
pub(crate) fn parse_xml<'i>(
    text: &'i str,
    format: &'static str,
    part: &str,
    limits: &OfficeLimits,
) -> Result<roxmltree::Document<'i>, OfficeError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_xml_nodes,
        // Never consulted (no DTD is accepted), and never able to fetch anything.
        entity_resolver: None,
    };
    roxmltree::Document::parse_with_options(text, options).map_err(|source| OfficeError::Xml {
        format,
        part: part.to_string(),
        source,
    })
}

/// The relationships of a part: id → (target resolved against the part's folder, external).
pub(crate) fn relationships(
    pkg: &mut Package<'_>,
    part: &str,
) -> Result<HashMap<String, Rel>, OfficeError> {
    let (dir, file) = match part.rfind('/') {
        Some(i) => (&part[..i], &part[i + 1..]),
        None => ("", part),
    };
    let rels_name = if dir.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{dir}/_rels/{file}.rels")
    };
    let mut out = HashMap::new();
    let Some(text) = pkg.read_text(&rels_name)? else {
        return Ok(out);
    };
    let limits = *pkg.limits();
    let doc = parse_xml(&text, pkg.format(), &rels_name, &limits)?;
    for rel in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Relationship")
    {
        let (Some(id), Some(target)) = (rel.attribute("Id"), rel.attribute("Target")) else {
            continue;
        };
        let external = rel.attribute("TargetMode") == Some("External");
        let target = if external {
            target.to_string()
        } else {
            resolve(dir, target)
        };
        out.insert(
            id.to_string(),
            Rel {
                target,
                external,
                kind: rel
                    .attribute("Type")
                    .and_then(|t| t.rsplit('/').next())
                    .unwrap_or("")
                    .to_string(),
            },
        );
    }
    Ok(out)
}

/// One relationship of a part.
#[derive(Debug, Clone)]
pub(crate) struct Rel {
    /// A package member name (resolved), or the external URL as written.
    pub target: String,
    /// Points outside the package (a hyperlink, a linked image): never fetched.
    pub external: bool,
    /// The last segment of the relationship type (`image`, `hyperlink`, `slide`, ...).
    pub kind: String,
}

/// Resolves a relative target against a folder inside the package.
pub(crate) fn resolve(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn targets_resolve_against_the_part_folder() {
        assert_eq!(resolve("word", "media/image1.png"), "word/media/image1.png");
        assert_eq!(resolve("ppt/slides", "../media/a.png"), "ppt/media/a.png");
        assert_eq!(resolve("ppt/slides", "/ppt/x.xml"), "ppt/x.xml");
    }
}
