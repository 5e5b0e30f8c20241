"""TeX in statements as MathML, rendered on the server (no script, so it fits the CSP).

``$...$`` is inline math and ``$$...$$`` display math (``$5 and $10`` stay prices: a dollar
next to a digit or a space does not open or close math). latex2mathml converts the TeX; its
output is parsed again and rebuilt from an allow-list of MathML elements and attributes, so
no link, style or event handler a statement writes (``\\href{javascript:...}``) reaches the
page. TeX it cannot convert is shown as written, in a ``<code>``.
"""

from __future__ import annotations

import logging
from xml.etree import ElementTree

from latex2mathml.converter import convert
from markupsafe import escape

log = logging.getLogger(__name__)

MATHML = "http://www.w3.org/1998/Math/MathML"
#: The presentation-MathML elements latex2mathml writes for ordinary formulas.
MATH_TAGS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
        "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
        "mstyle", "mpadded", "mphantom", "menclose", "mfenced", "semantics", "annotation",
    }
)  # fmt: skip
MATH_ATTRIBUTES = frozenset(
    {
        "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
        "accent", "accentunder", "movablelimits", "largeop", "symmetric", "minsize", "maxsize",
        "linethickness", "columnalign", "rowalign", "columnspacing", "rowspacing", "width",
        "height", "depth", "notation", "open", "close", "separators", "scriptlevel",
        "displaystyle", "encoding",
    }
)  # fmt: skip
#: Longest formula converted; a longer one is shown as its TeX.
MAX_TEX_CHARS = 4000


def tex_to_mathml(tex: str, *, display: bool) -> str:
    """Return the formula ``tex`` as sanitised MathML, or as escaped TeX if it will not convert."""
    if len(tex) <= MAX_TEX_CHARS:
        try:
            mathml = convert(tex, display="block" if display else "inline")
            # latex2mathml writes it with ElementTree: no DTD or entity can come through.
            tree = ElementTree.fromstring(mathml)  # noqa: S314
        except Exception as error:  # latex2mathml raises many kinds on input it cannot parse
            log.info("statement formula not converted (%s): %.80r", type(error).__name__, tex)
        else:
            return ElementTree.tostring(_clean(tree), encoding="unicode", method="html")
    delimiter = "$$" if display else "$"
    return f'<code class="tex">{escape(delimiter + tex + delimiter)}</code>'


def _clean(element: ElementTree.Element) -> ElementTree.Element:
    """Return a copy of ``element`` with only allowed MathML elements and attributes."""
    name = element.tag.removeprefix("{" + MATHML + "}")
    tag = name if name in MATH_TAGS else "mrow"
    clean = ElementTree.Element(
        tag, {k: v for k, v in element.attrib.items() if k in MATH_ATTRIBUTES}
    )
    if tag == "math":
        clean.set("xmlns", MATHML)
    clean.text = element.text
    for child in element:
        cleaned = _clean(child)
        cleaned.tail = child.tail
        clean.append(cleaned)
    return clean
