"""Text burned into pixels: which images are at risk, finding it by OCR, hiding it.

Header de-identification cannot remove a name the scanner drew into the image.
Ultrasound, secondary captures and documents often carry one, stated or not
(PS3.3 C.7.6.1.1.7 Burned In Annotation). Before such an image leaves as
"de-identified", its text is found with Tesseract OCR (through pytesseract)
and the boxes found, plus any the user drew, are blacked out in the pixels; the
caller refuses the image where no OCR is installed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from numpy.typing import NDArray
    from pydicom.dataset import Dataset

# Modalities whose images often show text (PS3.3 C.7.3.1.1.1): ultrasound,
# secondary capture, other, external camera, document.
AT_RISK_MODALITIES = frozenset({"US", "SC", "OT", "XC", "DOC", "ES", "SM"})
# Secondary Capture Image Storage and its multi-frame variants (PS3.4 B.5), and
# Encapsulated PDF/CDA documents.
_AT_RISK_CLASS_PREFIXES = ("1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.104")
# Words Tesseract reads with less confidence than this (0-100) are noise.
MIN_CONFIDENCE = 30.0
# Pixels added around each word box: OCR boxes hug the glyphs.
BOX_MARGIN_PX = 3
# PS3.16 CID 7050: Clean Pixel Data Option.
CLEAN_PIXEL_DATA_CODE = ("113101", "Clean Pixel Data Option")


class PixelTextError(ValueError):
    """An image at risk of burned-in text cannot be cleaned; the message says why."""


@dataclass(frozen=True)
class TextBox:
    """A rectangle of pixels to black out: columns ``column .. column + width``."""

    column: int
    row: int
    width: int
    height: int
    text: str = ""
    """What OCR read there (empty for the user's own rectangles)."""


def risk_of_burned_in_text(ds: Dataset) -> str | None:
    """Why ``ds`` may carry patient data in its pixels, or None.

    Burned In Annotation YES always; for ultrasound, secondary capture,
    other, external camera and document images, YES or absent (only an explicit
    NO is trusted).

    References
    ----------
    PS3.3 C.7.6.1.1.7 (Burned In Annotation); PS3.15 E.3.1 (Clean Pixel Data).
    """
    burned_in = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    if burned_in == "YES":
        return "Burned In Annotation is YES"
    modality = str(ds.get("Modality", "") or "").strip().upper()
    sop_class = str(ds.get("SOPClassUID", "") or "")
    kind = ""
    if modality in AT_RISK_MODALITIES:
        kind = f"a {modality} image"
    elif sop_class.startswith(_AT_RISK_CLASS_PREFIXES) or "ConversionType" in ds:
        kind = "a secondary capture"
    if kind and burned_in != "NO":
        return f"{kind} without Burned In Annotation NO, which often shows text"
    return None


def ocr_available() -> bool:
    """True where pytesseract and the tesseract program are both installed."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


def find_text(pixels: NDArray[Any]) -> list[TextBox]:
    """Word boxes Tesseract finds in a frame (``[row, column]`` or RGB ``[.., 3]``).

    The frame is stretched to 8 bits over its own range and read twice, as is
    and inverted (Tesseract reads dark text on light best), at twice the size
    when small.

    Raises
    ------
    PixelTextError
        When OCR is not installed.
    """
    if not ocr_available():
        raise PixelTextError(
            "no OCR installed (Debian package tesseract-ocr and the Python package "
            "pytesseract): text burned into the pixels cannot be found"
        )
    import pytesseract

    gray = _as_gray8(pixels)
    scale = 2 if max(gray.shape) < 1200 else 1
    boxes: list[TextBox] = []
    for image in (gray, 255 - gray):
        enlarged = np.kron(image, np.ones((scale, scale), dtype=np.uint8))
        data = pytesseract.image_to_data(
            enlarged, config="--psm 11", output_type=pytesseract.Output.DICT
        )
        for n, text in enumerate(data["text"]):
            if not str(text).strip() or float(data["conf"][n]) < MIN_CONFIDENCE:
                continue
            boxes.append(
                _padded(
                    TextBox(
                        int(data["left"][n]) // scale,
                        int(data["top"][n]) // scale,
                        -(-int(data["width"][n]) // scale),
                        -(-int(data["height"][n]) // scale),
                        str(text),
                    ),
                    gray.shape,
                )
            )
    return boxes


def read_text(pixels: NDArray[Any]) -> str:
    """All the text Tesseract reads in a frame (for checking a redaction)."""
    return " ".join(box.text for box in find_text(pixels))


def black_out(pixels: NDArray[Any], boxes: Iterable[TextBox]) -> NDArray[Any]:
    """A copy of ``pixels`` with every box set to the frame's lowest value."""
    out = np.array(pixels, copy=True)
    fill = out.min() if out.size else 0
    for box in boxes:
        out[box.row : box.row + box.height, box.column : box.column + box.width] = fill
    return out


def clean_pixel_data(
    ds: Dataset, extra_boxes: Sequence[TextBox] = (), *, use_ocr: bool = True
) -> list[TextBox]:
    """Black out burned-in text in every frame of ``ds``, in place.

    Boxes are found by OCR in each frame (when ``use_ocr``) and joined by
    ``extra_boxes`` (the user's own). The pixel data are rewritten uncompressed
    (Explicit VR Little Endian), and Burned In Annotation set to NO, only now,
    with the Clean Pixel Data Option (PS3.16 CID 7050, 113101) and how many
    regions OCR found and the user drew added to De-identification Method.

    Returns
    -------
    list of TextBox
        The boxes blacked out (those of all frames).

    References
    ----------
    PS3.15 E.3.1 Clean Pixel Data Option; PS3.3 C.7.6.1.1.7, C.12.1.1.7.
    """
    from pydicom.uid import ExplicitVRLittleEndian

    pixels = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    stack = pixels if frames > 1 else pixels[np.newaxis]
    applied: list[TextBox] = []
    cleaned = []
    found_by_ocr = 0
    for frame in stack:
        boxes = (find_text(frame) if use_ocr else []) + list(extra_boxes)
        # One more pass over the cleaned frame: text that was hidden among the
        # first words' boxes is read once they are gone.
        if use_ocr and boxes:
            boxes += find_text(black_out(frame, boxes))
        found_by_ocr += len(boxes) - len(extra_boxes)
        applied.extend(boxes)
        cleaned.append(black_out(frame, boxes))
    result = np.stack(cleaned) if frames > 1 else cleaned[0]
    if samples == 3 and str(ds.get("PhotometricInterpretation", "")).startswith("YBR"):
        ds.PhotometricInterpretation = "RGB"  # pixel_array converted it to RGB
    ds.PixelData = np.ascontiguousarray(result).tobytes()
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds["PixelData"].VR = "OB" if ds.get("BitsAllocated", 8) <= 8 else "OW"
    ds.BurnedInAnnotation = "NO"
    methods = list(ds.get("DeidentificationMethod", []) or [])
    if isinstance(methods, str):
        methods = [methods]
    meaning = CLEAN_PIXEL_DATA_CODE[1]
    how = _cleaning_method(use_ocr, found_by_ocr, len(extra_boxes) * len(stack))
    if meaning not in methods:
        ds.DeidentificationMethod = [*methods, meaning, how]
        codes = ds.get("DeidentificationMethodCodeSequence")
        if codes is not None:
            from pydicom.dataset import Dataset as Item

            item = Item()
            item.CodeValue, item.CodeMeaning = CLEAN_PIXEL_DATA_CODE
            item.CodingSchemeDesignator = "DCM"
            codes.append(item)
    return applied


@dataclass(frozen=True, eq=False)
class RedactionPreview:
    """One stored frame of an image, as the redaction tool shows it."""

    sop_instance_uid: str
    pixels: NDArray[np.uint8]
    """The frame in 8-bit grey over its own range (``[row, column]``): the
    stored-frame pixels that redaction rectangles are given in."""
    risk: str | None
    """Why it may carry patient data in its pixels, or None."""
    found: tuple[TextBox, ...]
    """What OCR found (and the export will black out)."""
    problem: str = ""
    """Why the image could not be read or searched, if so."""


def redaction_preview(
    path: str, frame_index: int = 0, *, use_ocr: bool = True
) -> RedactionPreview:
    """A frame of the image in ``path`` with the text OCR finds in it (only for
    an image at risk, as the export does); never raises for a bad file.

    References
    ----------
    PS3.15 E.3.1 (Clean Pixel Data Option); PS3.3 C.7.6.1.1.7.
    """
    import pydicom

    try:
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        frame = pixels[min(frame_index, frames - 1)] if frames > 1 else pixels
        gray = _as_gray8(frame)
    except Exception as error:  # any unreadable file: shown as a problem
        return RedactionPreview(
            "", np.zeros((1, 1), np.uint8), None, (), f"cannot read it: {error}"
        )
    sop = str(ds.get("SOPInstanceUID", "") or "")
    risk = risk_of_burned_in_text(ds)
    if risk is None or not use_ocr:
        return RedactionPreview(sop, gray, risk, ())
    try:
        found = tuple(find_text(frame))
    except PixelTextError as error:
        return RedactionPreview(sop, gray, risk, (), str(error))
    return RedactionPreview(sop, gray, risk, found)


def _cleaning_method(use_ocr: bool, found_by_ocr: int, drawn: int) -> str:
    """What was blacked out, as one De-identification Method value (LO, at most
    64 characters, PS3.5 6.2), e.g. ``pixels: 5 OCR (Tesseract), 1 user regions``."""
    parts = [f"{found_by_ocr} OCR (Tesseract)"] if use_ocr else []
    if drawn or not use_ocr:
        parts.append(f"{drawn} user")
    return f"pixels: {', '.join(parts)} regions blacked out"[:64]


def _as_gray8(pixels: NDArray[Any]) -> NDArray[np.uint8]:
    values = np.asarray(pixels, dtype=np.float64)
    if values.ndim == 3:
        values = values.mean(axis=2)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.rint((values - low) * (255.0 / (high - low))).astype(np.uint8)


def _padded(box: TextBox, shape: tuple[int, ...]) -> TextBox:
    rows, columns = shape[:2]
    column = max(0, box.column - BOX_MARGIN_PX)
    row = max(0, box.row - BOX_MARGIN_PX)
    right = min(columns, box.column + box.width + BOX_MARGIN_PX)
    bottom = min(rows, box.row + box.height + BOX_MARGIN_PX)
    return TextBox(column, row, right - column, bottom - row, box.text)
