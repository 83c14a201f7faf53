"""The XMP metadata packet of every PDF we write: the document info in the form PDF/UA reads.

PDF/UA-1 (ISO 14289-1, 5 and 7.1) asks for a metadata stream in the catalog (``/Type
/Metadata /Subtype /XML``) holding the document's title as ``dc:title`` and the PDF/UA
identification (``pdfuaid:part`` 1) when the file claims conformance. :func:`packet` builds it
from the document information dictionary the file already has (title, author, creator tool,
producer, dates), so the two say the same, plus ``dc:language`` (the catalog's /Lang, ja).

Nothing here depends on the time of writing: the same document gives the same bytes
(reproducible output). The packet is written uncompressed, as XMP readers that scan files
for packets expect.

Which files claim PDF/UA-1 (docs/accessibility.md): the notices, forms, letters and mailed
pieces. Print files do not: their pages share one copy of each letter's background (a form
XObject drawn on every piece's page), and the marked content of a form drawn more than once
has no single parent in the structure tree (the validator's rule PDFUA1-FORM-STRUCTURE-001,
tests/test_pdfua.py); that would hold only if every page carried its own copy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from xml.sax.saxutils import escape

#: The PDF/UA identification schema's namespace (ISO 14289-1, 5).
PDFUAID_NS = "http://www.aiim.org/pdfua/ns/id/"

_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:([+-])(\d{2})'(\d{2})'?|Z)?")


def xmp_date(value: str) -> str | None:
    """A PDF date (``D:20251104000000+09'00``) as an XMP date (``2025-11-04T00:00:00+09:00``);
    None when it is not a full date and time (then the packet leaves it out)."""
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    y, mo, d, h, mi, s, sign, oh, om = match.groups()
    zone = f"{sign}{oh}:{om}" if sign else "Z"
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}{zone}"


#: PDF/A allows only the properties of its predefined schemas, or of schemas the packet
#: describes (ISO 19005-1 6.7.8): pdfuaid is not predefined, so a PDF/A file that claims
#: PDF/UA describes it (the description ISO 14289-1 gives).
_PDFUA_EXTENSION = (
    '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
    "<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>"
    f"<pdfaSchema:namespaceURI>{PDFUAID_NS}</pdfaSchema:namespaceURI>"
    "<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>"
    '<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">'
    "<pdfaProperty:name>part</pdfaProperty:name>"
    "<pdfaProperty:valueType>Integer</pdfaProperty:valueType>"
    "<pdfaProperty:category>internal</pdfaProperty:category>"
    "<pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed"
    "</pdfaProperty:description>"
    "</rdf:li></rdf:Seq></pdfaSchema:property>"
    "</rdf:li></rdf:Bag></pdfaExtension:schemas>"
)
_PDFAID = re.compile(r'pdfaid:(part|conformance)(?:="([^"]*)"|>([^<]*)<)')


def pdfa_claim(existing: bytes) -> tuple[str, str] | None:
    """The PDF/A part and conformance (``("3", "B")``) an XMP packet claims, if any: WeasyPrint
    writes them for ``--pdfa``, and :func:`packet` must say them again."""
    found = {m.group(1): m.group(2) or m.group(3)
             for m in _PDFAID.finditer(existing.decode("utf-8", "replace"))}
    if "part" not in found:
        return None
    return found["part"], found.get("conformance", "")


def packet(info: Mapping[str, str], *, ua: bool, lang: str = "ja",
           pdfa: tuple[str, str] | None = None) -> bytes:
    """The XMP packet (UTF-8) for a document whose info dictionary is ``info`` (keys without
    the slash: Title, Author, Creator, Producer, CreationDate, ModDate); ``ua``: the file
    claims PDF/UA-1; ``pdfa``: it claims PDF/A (part, conformance)."""
    fields = ['<dc:format>application/pdf</dc:format>']
    title = info.get("Title")
    if title:
        fields.append('<dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
                      f'{escape(title)}</rdf:li></rdf:Alt></dc:title>')
    author = info.get("Author")
    if author:
        fields.append(f'<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq>'
                      '</dc:creator>')
    fields.append(f'<dc:language><rdf:Bag><rdf:li>{escape(lang)}</rdf:li></rdf:Bag>'
                  '</dc:language>')
    if info.get("Producer"):
        fields.append(f'<pdf:Producer>{escape(info["Producer"])}</pdf:Producer>')
    if info.get("Creator"):
        fields.append(f'<xmp:CreatorTool>{escape(info["Creator"])}</xmp:CreatorTool>')
    for key, name in (("CreationDate", "xmp:CreateDate"), ("ModDate", "xmp:ModifyDate")):
        when = xmp_date(info.get(key) or "")
        if when:
            fields.append(f"<{name}>{when}</{name}>")
    if ua:
        fields.append("<pdfuaid:part>1</pdfuaid:part>")
    namespaces = ""
    if pdfa is not None:
        part, conformance = pdfa
        fields.append(f"<pdfaid:part>{escape(part)}</pdfaid:part>")
        if conformance:
            fields.append(f"<pdfaid:conformance>{escape(conformance)}</pdfaid:conformance>")
        namespaces = ' xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        if ua:
            fields.append(_PDFUA_EXTENSION)
            namespaces += (' xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
                           ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
                           ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"')
    body = "\n   ".join(fields)
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' xmlns:pdfuaid="{PDFUAID_NS}"{namespaces}>\n'
        f"   {body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    )
    return text.encode("utf-8")


def stream_object(info: Mapping[str, str], *, ua: bool) -> bytes:
    """The metadata stream as an indirect object's body (for a writer of raw objects)."""
    data = packet(info, ua=ua)
    return (b"<</Type/Metadata/Subtype/XML/Length %d>>\nstream\n" % len(data)
            + data + b"\nendstream")
