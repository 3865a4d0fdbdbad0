"""Tesseract on one page image: words, boxes and confidences."""

from __future__ import annotations

import pytesseract
from PIL import Image

from extract.errors import OCRError
from extract.types import Page, ReadOptions, Word


def read_image(image: Image.Image, number: int, options: ReadOptions) -> Page:
    """OCR one page image with tesseract's `image_to_data`."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    try:
        data = pytesseract.image_to_data(
            image, lang=options.language, config="--psm 3", output_type=pytesseract.Output.DICT
        )
    except pytesseract.TesseractNotFoundError as e:
        raise OCRError("tesseract is not installed: install the tesseract-ocr package") from e
    except pytesseract.TesseractError as e:
        raise OCRError(f"tesseract could not read the page ({e.status})") from e
    width, height = image.size
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for i, text in enumerate(data["text"]):
        text = text.strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = line_ids.setdefault(key, len(line_ids))
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        box = (x / width, y / height, (x + w) / width, (y + h) / height)
        words.append(Word(text, conf / 100.0, box, data["block_num"][i], line))
    return Page(number, width, height, "ocr", words, image=image if options.keep_images else None)
