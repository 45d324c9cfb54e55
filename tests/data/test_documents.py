"""Files uploaded by mistake (Word, PowerPoint, PDF, OpenDocument, a picture) are named by their
content, with what to do, by both loaders; real workbooks and archives still load as before."""
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from genlib.data import load_images, load_series
from genlib.data.documents import document_kind
from genlib.errors import DataError

_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
          'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
          '<Default Extension="xlsx" ContentType="application/vnd.openxmlformats-officedocument.'
          'spreadsheetml.sheet"/><Override PartName="{part}" ContentType="{main}"/></Types>')


def ooxml(part: str, main: str, extra: dict | None = None) -> bytes:
    """A minimal Office Open XML file: [Content_Types].xml naming the main part, and that part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _TYPES.format(part=part, main=main))
        zf.writestr(part.lstrip("/"), "<doc/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def docx() -> bytes:      # with an embedded chart's workbook, as Word files often have
    return ooxml("/word/document.xml", "application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document.main+xml", {"word/embeddings/chart.xlsx": b"PK..."})


def pptx() -> bytes:
    return ooxml("/ppt/presentation.xml", "application/vnd.openxmlformats-officedocument."
                 "presentationml.presentation.main+xml")


def odf(mimetype: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)   # first, unpacked
        zf.writestr("content.xml", "<office:document-content/>")
    return buf.getvalue()


def old_word() -> bytes:
    """An Office 97-2003 file's start: the OLE2 signature, then a directory naming WordDocument."""
    return (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Root Entry".encode("utf-16-le")
            + b"\x00" * 44 + "WordDocument".encode("utf-16-le") + b"\x00\x00" + b"\x00" * 600)


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize("raw, name, what", [
    (docx(), "sales.csv", "is a Word document, not a table: open it in Word, copy the table into Excel"),
    (docx(), "sales.docx", "is a Word document, not a table"),
    (pptx(), "deck.xlsx", "is a PowerPoint presentation, not a table"),
    (PDF, "report.pdf", "is a PDF document, not a table"),
    (odf("application/vnd.oasis.opendocument.text"), "notes.csv", "is an OpenDocument text"),
    (odf("application/vnd.oasis.opendocument.spreadsheet"), "table.ods", "save it as Excel (.xlsx) or CSV"),
    (old_word(), "old.xls", "is a Word document, not a table"),
    (b"{\\rtf1\\ansi hello}", "memo.csv", "is a Rich Text document, not a table"),
])
def test_a_document_given_as_a_table_is_named_with_what_to_do(raw, name, what):
    with pytest.raises(DataError) as err:
        load_series(raw, name=name)
    message = str(err.value)
    assert message.startswith(name) and what in message
    assert "ZIP archive" not in message and "unzip" not in message


def test_a_picture_of_a_table_is_named():
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (255, 255, 255)).save(buf, "PNG")
    with pytest.raises(DataError, match=r"screenshot\.csv is a picture, not a table"):
        load_series(buf.getvalue(), name="screenshot.csv")


@pytest.mark.parametrize("raw, name, what", [
    (docx(), "pictures.zip", "is a Word document, not images: save its pictures as PNG or JPEG"),
    (PDF, "scans.pdf", "is a PDF document, not images: export its pages or pictures"),
    (pptx(), "slides.zip", "is a PowerPoint presentation, not images"),
    (old_word(), "old.doc", "is a Word document, not images"),
])
def test_a_document_given_as_images_is_named_with_what_to_do(raw, name, what):
    with pytest.raises(DataError) as err:
        load_images(raw, name=name)
    assert str(err.value).startswith(name) and what in str(err.value)


def test_a_workbook_given_as_images_points_to_the_table_loader():
    buf = io.BytesIO()
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=5), "y": range(5)}).to_excel(buf, index=False)
    with pytest.raises(DataError, match=r"is an Excel workbook, not images\. To forecast its numbers"):
        load_images(buf.getvalue(), name="numbers.xlsx")


def test_real_workbooks_and_archives_still_load():
    buf = io.BytesIO()
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=12, freq="MS"), "y": np.arange(12.0)})
    frame.to_excel(buf, index=False)
    assert document_kind(buf.getvalue()[:8], zipfile.ZipFile(io.BytesIO(buf.getvalue()))) == "excel"
    assert load_series(buf.getvalue(), name="renamed.csv").freq == "MS"       # content wins over the name
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.csv", "date,y\n2024-01-01,1\n")
        zf.writestr("b.csv", "date,y\n2024-01-01,1\n")
    with pytest.raises(DataError, match="a ZIP archive with 2 files"):        # a real archive: unzip it
        load_series(two.getvalue(), name="both.zip")


def test_text_that_starts_like_a_bitmap_is_still_a_table():
    csv = "BMW;Audi\n" + "".join(f"{i};{i * 2}\n" for i in range(1, 10))
    assert document_kind(csv.encode()) is None
    assert load_series(csv.encode(), name="cars.csv").n_series == 2
