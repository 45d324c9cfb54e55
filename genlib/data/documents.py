"""Files people upload by mistake: Word, PowerPoint, PDF, OpenDocument, pictures of a table.

They are recognised by their content (the first bytes; in a ZIP, its [Content_Types].xml or
`mimetype` entry; in an old Office file, the names of its streams), never by the file name, so a
Word file renamed to .csv is still named a Word document. Each loader then says what to do.

    >>> document_kind(b"%PDF-1.4 ...")
    'pdf'
    >>> table_advice("report.csv", "pdf")  # doctest: +ELLIPSIS
    'report.csv is a PDF document, not a table: ...'
"""
from __future__ import annotations

import io
import re
import zipfile

MAX_MANIFEST_BYTES = 64 * 1024            # [Content_Types].xml / mimetype: read at most this much

# kind → what it is called, and the program it opens in
KINDS = {
    "word": ("a Word document", "Word"),
    "powerpoint": ("a PowerPoint presentation", "PowerPoint"),
    "excel": ("an Excel workbook", "Excel"),
    "pdf": ("a PDF document", "a PDF reader"),
    "odt": ("an OpenDocument text (LibreOffice Writer)", "LibreOffice Writer"),
    "ods": ("an OpenDocument spreadsheet (LibreOffice Calc)", "LibreOffice Calc"),
    "odp": ("an OpenDocument presentation (LibreOffice Impress)", "LibreOffice Impress"),
    "rtf": ("a Rich Text document", "Word"),
    "epub": ("an e-book (EPUB)", "an e-book reader"),
    "picture": ("a picture", "an image viewer"),
    "office": ("an Office 97-2003 document", "Word, Excel or PowerPoint"),
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"          # Office 97-2003 (.doc, .xls, .ppt)
_ODF = {"application/vnd.oasis.opendocument.text": "odt",
        "application/vnd.oasis.opendocument.spreadsheet": "ods",
        "application/vnd.oasis.opendocument.presentation": "odp",
        "application/epub+zip": "epub"}
_OOXML = (("word", "word"), ("presentation", "powerpoint"), ("slideshow", "powerpoint"),
          ("sheet", "excel"), ("excel", "excel"))                       # in the main part's type
_OLE_STREAMS = (("WordDocument", "word"), ("PowerPoint Document", "powerpoint"),
                ("Workbook", "excel"), ("Book", "excel"))
_PICTURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


def document_kind(head: bytes, zf: zipfile.ZipFile | None = None) -> str | None:
    """What kind of document the bytes are ("word", "pdf", "ods", …, keys of KINDS), or None for
    anything else. `head` is the file's start (the whole file for an old Office file); `zf` the
    file opened as a ZIP, when it is one."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(OLE_MAGIC):                                    # OLE2: Office 97-2003
        for stream, kind in _OLE_STREAMS:                             # directory names, UTF-16
            if stream.encode("utf-16-le") + b"\x00\x00" in head:
                return kind
        return None
    if head.startswith(_PICTURES) or (head.startswith(b"RIFF") and head[8:12] == b"WEBP") or \
            (head.startswith(b"BM") and head[6:10] == b"\x00" * 4):          # BMP: reserved zeros
        return "picture"
    if zf is None and head.startswith(b"PK\x03\x04"):
        try:
            zf = zipfile.ZipFile(io.BytesIO(head))
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
    return _zip_kind(zf) if zf is not None else None


def _zip_kind(zf: zipfile.ZipFile) -> str | None:
    names = set(zf.namelist())
    try:
        if "mimetype" in names:                                       # OpenDocument, EPUB
            kind = _ODF.get(_read_small(zf, "mimetype").decode("ascii", "replace").strip())
            if kind:
                return kind
        if "[Content_Types].xml" in names:                            # Office Open XML
            types = _read_small(zf, "[Content_Types].xml").decode("utf-8", "replace")
            for main in re.findall(r'ContentType="([^"]+)\.main\+xml"', types):   # the main part
                for marker, kind in _OOXML:
                    if marker in main.lower():
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError):
        pass
    for prefix, kind in (("word/", "word"), ("ppt/", "powerpoint"), ("xl/", "excel")):
        if any(n.startswith(prefix) for n in names) and "[Content_Types].xml" in names:
            return kind
    return None


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as f:                       # bounded: a manifest is a few hundred bytes
        return f.read(MAX_MANIFEST_BYTES)


def table_advice(fname: str, kind: str) -> str:
    """What to say when `fname`, a document of `kind`, was given as a table of time series."""
    what, program = KINDS[kind]
    if kind == "ods":
        return (f"{fname} is {what}: open it in LibreOffice Calc and save it as Excel (.xlsx) or "
                "CSV (File › Save As…), then load that file.")
    if kind == "picture":
        return (f"{fname} is {what}, not a table: genlib reads the numbers themselves. Load the "
                "spreadsheet or CSV file the picture was made from.")
    if kind == "pdf":
        return (f"{fname} is {what}, not a table: load the spreadsheet it was made from, or copy "
                "the table from the PDF into Excel and save it as .xlsx or .csv.")
    return (f"{fname} is {what}, not a table: open it in {program}, copy the table into Excel and "
            "save it as .xlsx or .csv, then load that file.")


def images_advice(fname: str, kind: str) -> str:
    """What to say when `fname`, a document of `kind`, was given as images to train on."""
    what, program = KINDS[kind]
    if kind in ("excel", "ods"):
        return (f"{fname} is {what}, not images. To forecast its numbers, choose “A table of time "
                "series”; to train on pictures, put them (PNG or JPEG) in a ZIP file.")
    if kind == "picture":
        return (f"{fname} is a single picture. To train a model, put many pictures (a few hundred "
                "at least) in a ZIP file, one folder per class if you have classes.")
    if kind == "pdf":
        return (f"{fname} is {what}, not images: export its pages or pictures as PNG or JPEG files "
                "(most PDF programs can), put them in a ZIP file, one folder per class if you "
                "have classes, and load that.")
    return (f"{fname} is {what}, not images: save its pictures as PNG or JPEG files (in {program}: "
            "right-click a picture › Save as Picture, or export the pages as images), put them in "
            "a ZIP file, one folder per class if you have classes, and load that.")
