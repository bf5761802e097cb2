"""Small real PDFs made with pikepdf: the demo's papers, and the tests'."""
import io

import pikepdf


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def sample_pdf(lines=("COMMERCIAL INVOICE",), *, pages=1) -> bytes:
    """An A4 PDF with a few lines of Latin text (Helvetica) on each page."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))
    for number in range(pages):
        ops = ["BT", "/F1 22 Tf", "60 770 Td"]
        for i, line in enumerate([*lines, f"Page {number + 1} of {pages}"]):
            if i == 1:
                ops.append("/F1 12 Tf")
            ops.append(f"({_escape(line)}) Tj 0 -26 Td")
        ops.append("ET")
        ops.append("0.2 w 50 60 495 740 re S")  # a frame, so the thumbnail shows a page
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pdf.make_stream(" ".join(ops).encode("latin-1")),
        )
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()
