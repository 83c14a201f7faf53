"""docs/img/notice-source-and-result.png: samples/notice-540.md beside page 1 of its PDF.

Run from the project folder: PYTHONPATH=. .venv/bin/python docs/img/make_notice_png.py
"""
from pathlib import Path
import io
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont
from kenpo_docs.demo import sample_notice
import tempfile

tmp = Path(tempfile.mkdtemp())
pdf = sample_notice(tmp)[0]
page = pdfium.PdfDocument(pdf.read_bytes())[0].render(scale=100 / 72).to_pil()
W, H = page.size
src = Path("samples/notice-540.md").read_text("utf-8").splitlines()
font = ImageFont.truetype("fonts/BIZUDPGothic-Regular.ttf", 13)
left = Image.new("RGB", (W, H), "#f6f8fa")
d = ImageDraw.Draw(left)
d.text((20, 14), "samples/notice-540.md（Markdown の原稿）", font=ImageFont.truetype(
    "fonts/BIZUDPGothic-Bold.ttf", 15), fill="#1d4e89")
y = 46
for line in src:
    if not line:
        y += 9
        continue
    # wrap long lines at the panel width
    while line:
        cut = len(line)
        while d.textlength(line[:cut], font=font) > W - 40:
            cut -= 1
        d.text((20, y), line[:cut], font=font, fill="#24292f")
        line = line[cut:]
        y += 19
        if y > H - 30:
            break
    if y > H - 30:
        break
out = Image.new("RGB", (2 * W + 20, H), "white")
out.paste(left, (0, 0))
out.paste(page, (W + 20, 0))
ImageDraw.Draw(out).rectangle([W + 20, 0, 2 * W + 19, H - 1], outline="#999")
out.save("docs/img/notice-source-and-result.png", optimize=True)
print(out.size)
