//! Office Math (OMML) to LaTeX, for the constructs documents use most: fractions, scripts,
//! radicals, n-ary operators, delimiters, functions, accents, matrices.

use roxmltree::Node;

use crate::xml::{attr, child, local};
use crate::OfficeError;

/// The LaTeX of an `m:oMath` element.
pub(crate) fn latex(node: Node<'_, '_>, max_depth: usize) -> Result<String, OfficeError> {
    let mut out = String::new();
    seq(node, 0, max_depth, &mut out)?;
    Ok(out.trim().to_string())
}

fn check(depth: usize, max: usize) -> Result<(), OfficeError> {
    if depth > max {
        return Err(OfficeError::limit(
            "docx",
            "equation nesting",
            depth as u64,
            max as u64,
        ));
    }
    Ok(())
}

/// The children of `node` in order (properties skipped).
fn seq(node: Node<'_, '_>, depth: usize, max: usize, out: &mut String) -> Result<(), OfficeError> {
    check(depth, max)?;
    for c in node.children().filter(|c| c.is_element()) {
        element(c, depth + 1, max, out)?;
    }
    Ok(())
}

/// The LaTeX of the named child's content (empty when absent).
fn part(node: Node<'_, '_>, name: &str, depth: usize, max: usize) -> Result<String, OfficeError> {
    let mut out = String::new();
    if let Some(c) = child(node, name) {
        seq(c, depth + 1, max, &mut out)?;
    }
    Ok(out.trim().to_string())
}

/// A property's `m:val` (`<m:begChr m:val="["/>` inside `m:dPr`).
fn prop<'a>(node: Node<'a, '_>, pr: &str, name: &str) -> Option<&'a str> {
    child(node, pr)
        .and_then(|p| child(p, name))
        .and_then(|c| attr(c, "val"))
}

fn element(n: Node<'_, '_>, depth: usize, max: usize, out: &mut String) -> Result<(), OfficeError> {
    check(depth, max)?;
    let name = local(n);
    if name.ends_with("Pr") {
        return Ok(());
    }
    match name {
        "r" => {
            for t in n.children().filter(|c| c.is_element() && local(*c) == "t") {
                for ch in t.text().unwrap_or("").chars() {
                    push_char(out, ch);
                }
            }
        }
        "f" => {
            let num = part(n, "num", depth, max)?;
            let den = part(n, "den", depth, max)?;
            out.push_str(&format!("\\frac{{{num}}}{{{den}}}"));
        }
        "sSup" => {
            let e = part(n, "e", depth, max)?;
            let sup = part(n, "sup", depth, max)?;
            out.push_str(&format!("{e}^{{{sup}}}"));
        }
        "sSub" => {
            let e = part(n, "e", depth, max)?;
            let sub = part(n, "sub", depth, max)?;
            out.push_str(&format!("{e}_{{{sub}}}"));
        }
        "sSubSup" => {
            let e = part(n, "e", depth, max)?;
            let sub = part(n, "sub", depth, max)?;
            let sup = part(n, "sup", depth, max)?;
            out.push_str(&format!("{e}_{{{sub}}}^{{{sup}}}"));
        }
        "sPre" => {
            let e = part(n, "e", depth, max)?;
            let sub = part(n, "sub", depth, max)?;
            let sup = part(n, "sup", depth, max)?;
            out.push_str(&format!("{{}}_{{{sub}}}^{{{sup}}}{e}"));
        }
        "rad" => {
            let deg = part(n, "deg", depth, max)?;
            let e = part(n, "e", depth, max)?;
            if deg.is_empty() {
                out.push_str(&format!("\\sqrt{{{e}}}"));
            } else {
                out.push_str(&format!("\\sqrt[{deg}]{{{e}}}"));
            }
        }
        "nary" => {
            let op = match prop(n, "naryPr", "chr").unwrap_or("∫") {
                "∑" => "\\sum",
                "∏" => "\\prod",
                "∐" => "\\coprod",
                "∬" => "\\iint",
                "∭" => "\\iiint",
                "∮" => "\\oint",
                "⋃" => "\\bigcup",
                "⋂" => "\\bigcap",
                _ => "\\int",
            };
            let sub = part(n, "sub", depth, max)?;
            let sup = part(n, "sup", depth, max)?;
            let e = part(n, "e", depth, max)?;
            out.push_str(op);
            if !sub.is_empty() {
                out.push_str(&format!("_{{{sub}}}"));
            }
            if !sup.is_empty() {
                out.push_str(&format!("^{{{sup}}}"));
            }
            out.push_str(&e);
        }
        "d" => {
            let beg = prop(n, "dPr", "begChr").unwrap_or("(");
            let end = prop(n, "dPr", "endChr").unwrap_or(")");
            let sep = prop(n, "dPr", "sepChr").unwrap_or("|");
            let mut items = Vec::new();
            for e in n.children().filter(|c| c.is_element() && local(*c) == "e") {
                let mut s = String::new();
                seq(e, depth + 1, max, &mut s)?;
                items.push(s.trim().to_string());
            }
            let delim = |c: &str| match c {
                "" => ".".to_string(),
                "{" => "\\{".to_string(),
                "}" => "\\}".to_string(),
                "⟨" => "\\langle".to_string(),
                "⟩" => "\\rangle".to_string(),
                "|" | "(" | ")" | "[" | "]" => c.to_string(),
                other => other.to_string(),
            };
            out.push_str(&format!(
                "\\left{}{}\\right{}",
                delim(beg),
                items.join(sep),
                delim(end)
            ));
        }
        "func" => {
            let fname = part(n, "fName", depth, max)?;
            let e = part(n, "e", depth, max)?;
            let known = [
                "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "lim", "max", "min",
                "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "det", "dim", "gcd", "sup",
                "inf",
            ];
            if known.contains(&fname.as_str()) {
                out.push_str(&format!("\\{fname}({e})"));
            } else {
                out.push_str(&format!("{fname}({e})"));
            }
        }
        "acc" => {
            let e = part(n, "e", depth, max)?;
            let cmd = match prop(n, "accPr", "chr").unwrap_or("\u{302}") {
                "\u{307}" => "dot",
                "\u{308}" => "ddot",
                "\u{303}" => "tilde",
                "\u{304}" | "\u{305}" => "bar",
                "\u{20D7}" => "vec",
                _ => "hat",
            };
            out.push_str(&format!("\\{cmd}{{{e}}}"));
        }
        "bar" => {
            let e = part(n, "e", depth, max)?;
            if prop(n, "barPr", "pos") == Some("bot") {
                out.push_str(&format!("\\underline{{{e}}}"));
            } else {
                out.push_str(&format!("\\overline{{{e}}}"));
            }
        }
        "limLow" => {
            let e = part(n, "e", depth, max)?;
            let lim = part(n, "lim", depth, max)?;
            out.push_str(&format!("{e}_{{{lim}}}"));
        }
        "limUpp" => {
            let e = part(n, "e", depth, max)?;
            let lim = part(n, "lim", depth, max)?;
            out.push_str(&format!("{e}^{{{lim}}}"));
        }
        "eqArr" => {
            let mut rows = Vec::new();
            for e in n.children().filter(|c| c.is_element() && local(*c) == "e") {
                let mut s = String::new();
                seq(e, depth + 1, max, &mut s)?;
                rows.push(s.trim().to_string());
            }
            out.push_str(&format!(
                "\\begin{{array}}{{l}}{}\\end{{array}}",
                rows.join(" \\\\ ")
            ));
        }
        "m" => {
            let mut rows = Vec::new();
            for mr in n.children().filter(|c| c.is_element() && local(*c) == "mr") {
                let mut cells = Vec::new();
                for e in mr.children().filter(|c| c.is_element() && local(*c) == "e") {
                    let mut s = String::new();
                    seq(e, depth + 1, max, &mut s)?;
                    cells.push(s.trim().to_string());
                }
                rows.push(cells.join(" & "));
            }
            out.push_str(&format!(
                "\\begin{{matrix}}{}\\end{{matrix}}",
                rows.join(" \\\\ ")
            ));
        }
        // Word runs inside math (`w:r` in an `m:oMath`), boxes, groups, phantoms: their content.
        _ => {
            if name == "t" {
                out.push_str(n.text().unwrap_or(""));
            } else {
                seq(n, depth + 1, max, out)?;
            }
        }
    }
    Ok(())
}

fn push_char(out: &mut String, ch: char) {
    let cmd = match ch {
        'π' => "\\pi",
        'α' => "\\alpha",
        'β' => "\\beta",
        'γ' => "\\gamma",
        'δ' => "\\delta",
        'ε' => "\\epsilon",
        'θ' => "\\theta",
        'λ' => "\\lambda",
        'μ' => "\\mu",
        'σ' => "\\sigma",
        'φ' => "\\phi",
        'ω' => "\\omega",
        'Δ' => "\\Delta",
        'Σ' => "\\Sigma",
        'Ω' => "\\Omega",
        '∞' => "\\infty",
        '×' => "\\times",
        '÷' => "\\div",
        '±' => "\\pm",
        '≤' => "\\leq",
        '≥' => "\\geq",
        '≠' => "\\neq",
        '≈' => "\\approx",
        '→' => "\\rightarrow",
        '∈' => "\\in",
        '∂' => "\\partial",
        '⋅' | '·' => "\\cdot",
        '…' => "\\ldots",
        _ => {
            out.push(ch);
            return;
        }
    };
    // Spaced so that a following letter does not extend the command's name.
    out.push(' ');
    out.push_str(cmd);
    out.push(' ');
}
