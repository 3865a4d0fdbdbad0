"""The credential summary a coordinator can give a patient: who the clinician is, which
licences, board certifications and education were verified and when, nothing confidential.

Built from an allow-list: only the credential types and columns named here are read, so a
value the office keeps for itself (DEA number beyond its last four digits, malpractice
policies, references, employment, anything read from the documents' pages) cannot reach
the page or the PDF. Also home of `ReportPdf`, the small PDF layout the committee packet
shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import errors
from models import Credential, Provider

LICENCE_TYPES = {"medical_license": "Medical licence", "nursing_license": "Nursing licence"}
EDUCATION_TYPES = {"diploma": "Degree", "training_certificate": "Training"}


class ProviderNotFound(errors.NotFound):
    pass


@dataclass(frozen=True)
class LicenceLine:
    kind: str  # "Medical licence", "Nursing licence", "DEA registration"
    state: str | None
    number: str | None  # DEA: "ending 1234" only
    title: str | None
    status: str  # "active" / "expired"
    expires: date | None
    verified_on: date


@dataclass(frozen=True)
class BoardLine:
    board: str | None
    specialty: str | None
    status: str
    expires: date | None
    verified_on: date


@dataclass(frozen=True)
class EducationLine:
    kind: str  # "Degree" / "Training"
    school: str | None
    title: str | None
    completed: date | None
    verified_on: date


@dataclass(frozen=True)
class ProviderSummary:
    provider_id: int
    name: str
    as_of: date
    licences: list[LicenceLine]
    board_certifications: list[BoardLine]
    education: list[EducationLine]

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        result: dict[str, Any] = plain(asdict(self))
        return result


def status_on(expires: date | None, today: date) -> str:
    return "expired" if expires is not None and expires < today else "active"


def mask_dea(number: str | None) -> str | None:
    """A DEA number shown to outsiders: its last four digits only."""
    if not number:
        return None
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"ending {digits[-4:]}" if len(digits) >= 4 else None


def build_summary(
    session: Session, provider_id: int, *, today: date | None = None
) -> ProviderSummary:
    today = today or date.today()
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise ProviderNotFound(f"provider {provider_id} not found")
    wanted = [*LICENCE_TYPES, "dea_registration", "board_certification", *EDUCATION_TYPES]
    creds = list(
        session.scalars(
            select(Credential)
            .where(Credential.provider_id == provider_id, Credential.doc_type.in_(wanted))
            .order_by(Credential.id)
        )
    )
    current = _latest(creds)
    licences: list[LicenceLine] = []
    boards: list[BoardLine] = []
    education: list[EducationLine] = []
    for c in current:
        verified = c.verified_at.date()
        if c.doc_type in LICENCE_TYPES or c.doc_type == "dea_registration":
            dea = c.doc_type == "dea_registration"
            licences.append(
                LicenceLine(
                    kind="DEA registration" if dea else LICENCE_TYPES[c.doc_type],
                    state=c.jurisdiction,
                    number=mask_dea(c.credential_number) if dea else c.credential_number,
                    title=None if dea else c.credential_title,
                    status=status_on(c.expiration_date, today),
                    expires=c.expiration_date,
                    verified_on=verified,
                )
            )
        elif c.doc_type == "board_certification":
            boards.append(
                BoardLine(
                    board=c.issuer,
                    specialty=c.credential_title,
                    status=status_on(c.expiration_date, today),
                    expires=c.expiration_date,
                    verified_on=verified,
                )
            )
        else:
            education.append(
                EducationLine(
                    kind=EDUCATION_TYPES[c.doc_type],
                    school=c.issuer,
                    title=c.credential_title,
                    completed=c.issue_date,
                    verified_on=verified,
                )
            )
    licences.sort(
        key=lambda x: (x.kind != "Medical licence", x.kind, x.state or "", x.number or "")
    )
    boards.sort(key=lambda x: (x.board or "", x.specialty or ""))
    education.sort(key=lambda x: (x.completed or date.min, x.kind))
    return ProviderSummary(
        provider_id=provider.id,
        name=provider.name,
        as_of=today,
        licences=licences,
        board_certifications=boards,
        education=education,
    )


def _latest(creds: Iterable[Credential]) -> list[Credential]:
    """One line per credential: a renewal (same type, state, number or title) replaces the
    older record."""
    best: dict[tuple[Any, ...], Credential] = {}
    for c in creds:
        key = (
            c.doc_type,
            c.jurisdiction,
            (c.credential_number or "").upper()
            or (c.issuer or "").lower() + "|" + (c.credential_title or "").lower(),
        )
        old = best.get(key)
        if old is None or _recency(c) >= _recency(old):
            best[key] = c
    return sorted(best.values(), key=lambda c: c.id)


def _recency(c: Credential) -> tuple[date, date, int]:
    return (c.expiration_date or date.min, c.issue_date or date.min, c.id)


# --- PDF -----------------------------------------------------------------------------------

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


class ReportPdf(FPDF):
    """A4 pages with a title, sections and tables; DejaVu Sans when the system has it (any
    name's letters), else the PDF core font with characters outside Latin-1 replaced."""

    def __init__(self, title: str, footer_note: str) -> None:
        super().__init__(format="A4")
        self.report_title = title
        self.footer_note = footer_note
        self.set_title(title)
        self.set_creator("credflow")
        self.face = "Helvetica"
        self.unicode_font = False
        for folder in FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.is_file() and bold.is_file():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                self.face, self.unicode_font = "DejaVu", True
                break
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(16, 16, 16)
        self.add_page()

    def text_of(self, value: Any) -> str:
        if value is None:
            return "—" if self.unicode_font else "-"
        text = value.isoformat() if isinstance(value, date) else str(value)
        if not self.unicode_font:
            text = text.encode("latin-1", "replace").decode("latin-1")
        return text

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(self.face, "", 7.5)
        self.set_text_color(110)
        self.cell(0, 5, self.text_of(f"{self.footer_note}   Page {self.page_no()}/{{nb}}"))
        self.set_text_color(0)

    def heading(self, text: str, size: float = 16) -> None:
        self.set_font(self.face, "B", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9.5) -> None:
        self.set_font(self.face, "", size)
        self.multi_cell(0, 5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def section(self, text: str) -> None:
        if self.get_y() > self.h - 45:
            self.add_page()
        self.ln(3)
        self.set_font(self.face, "B", 11.5)
        self.cell(0, 7, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def grid(
        self,
        header: Sequence[str] | None,
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        empty: str = "None on file.",
    ) -> None:
        if not rows:
            self.paragraph(empty)
            return
        self.set_font(self.face, "", 8.5)
        with self.table(
            col_widths=tuple(widths),
            text_align="LEFT",
            line_height=4.6,
            first_row_as_headings=header is not None,
            headings_style=_headings_style(self.face),
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            if header is not None:
                table.row([self.text_of(h) for h in header])
            for r in rows:
                table.row([self.text_of(v) for v in r])

    def render(self) -> bytes:
        return bytes(self.output())


def _headings_style(family: str) -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family=family, emphasis="BOLD", fill_color=(235, 238, 242))


def render_summary_pdf(summary: ProviderSummary) -> bytes:
    pdf = ReportPdf(
        f"Credential summary: {summary.name}",
        f"Credential summary as of {summary.as_of.isoformat()}",
    )
    pdf.heading("Credential summary")
    pdf.heading(summary.name, 13)
    pdf.paragraph(
        f"As of {summary.as_of.isoformat()}. Each credential below was verified by the "
        "credentialing office on the date shown."
    )
    pdf.section("Licences and registrations")
    pdf.grid(
        ["Licence", "State", "Number", "Status", "Expires", "Verified"],
        [
            [
                x.kind + (f" ({x.title})" if x.title else ""),
                x.state,
                x.number,
                x.status,
                x.expires,
                x.verified_on,
            ]
            for x in summary.licences
        ],
        (52, 14, 34, 20, 24, 24),
    )
    pdf.section("Board certifications")
    pdf.grid(
        ["Board", "Specialty", "Status", "Expires", "Verified"],
        [
            [x.board, x.specialty, x.status, x.expires, x.verified_on]
            for x in summary.board_certifications
        ],
        (56, 44, 20, 24, 24),
    )
    pdf.section("Education and training")
    pdf.grid(
        ["", "School or institution", "Degree or programme", "Completed", "Verified"],
        [[x.kind, x.school, x.title, x.completed, x.verified_on] for x in summary.education],
        (20, 58, 42, 24, 24),
    )
    return pdf.render()
