"""One exception type per way a file can fail to be read; each message is one line that
tells a person what to do."""

from __future__ import annotations


class ExtractError(Exception):
    """A file that cannot be read. `str(err)` is the reason shown to people."""

    code = "unreadable"


class EmptyFileError(ExtractError):
    code = "empty"


class UnsupportedFileError(ExtractError):
    code = "unsupported"


class EncryptedPDFError(ExtractError):
    code = "encrypted"


class CorruptFileError(ExtractError):
    code = "corrupt"


class TooManyPagesError(ExtractError):
    code = "too_many_pages"


class ImageTooLargeError(ExtractError):
    code = "too_large"


class OCRError(ExtractError):
    code = "ocr_failed"
