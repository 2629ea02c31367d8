//! Small helpers over `roxmltree` that match by local name, so the transitional and strict
//! OOXML namespaces (and any prefix) read alike.

use roxmltree::Node;

/// The element's local name ("p" for `w:p`).
pub(crate) fn local<'a>(n: Node<'a, '_>) -> &'a str {
    n.tag_name().name()
}

/// An attribute by local name, whatever its namespace.
pub(crate) fn attr<'a>(n: Node<'a, '_>, name: &str) -> Option<&'a str> {
    n.attributes().find(|a| a.name() == name).map(|a| a.value())
}

/// The first child element with this local name.
pub(crate) fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.is_element() && local(*c) == name)
}

/// Child elements with this local name.
pub(crate) fn children<'a, 'i: 'a>(
    n: Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && local(*c) == name)
}

/// The `val` attribute of a child element (`<w:pStyle w:val="Heading1"/>`).
pub(crate) fn child_val<'a>(n: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(n, name).and_then(|c| attr(c, "val"))
}

/// Whether the element's namespace is OMML (Office math).
pub(crate) fn is_math(n: Node<'_, '_>) -> bool {
    n.tag_name()
        .namespace()
        .is_some_and(|ns| ns.contains("math"))
}

/// A boolean property element: present and not `val="0"`/`"false"`/`"off"`.
pub(crate) fn on(n: Node<'_, '_>, name: &str) -> bool {
    child(n, name).is_some_and(|c| !matches!(attr(c, "val"), Some("0" | "false" | "off" | "none")))
}
