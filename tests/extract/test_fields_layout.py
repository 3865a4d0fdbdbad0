"""Layout cues on documents written here (not from the corpus): wording, label styles and
OCR damage the dev corpus does not have, so the rules are shown to read labels and
layout rather than particular templates."""

from __future__ import annotations

from typing import Literal

from extract.fields import extract_fields
from extract.types import Page, Word

Cell = tuple[float, str]  # (left edge as page fraction, text)


def page(
    rows: list[list[Cell]], source: Literal["text", "ocr"] = "text", conf: float = 1.0
) -> Page:
    """A page whose rows hold cells of words at the given x positions (0..1)."""
    words: list[Word] = []
    for n, cells in enumerate(rows):
        y0 = 0.05 + 0.035 * n
        for x, text in cells:
            for t in text.split():
                w = 0.0085 * len(t)
                words.append(Word(t, conf, (x, y0, x + w, y0 + 0.014), 1 + n, n))
                x += w + 0.006
    return Page(1, 612, 792, source, words)


def values(p: Page) -> tuple[str, dict[str, str | None], dict[str, float]]:
    doc_type, _, fields = extract_fields([p])
    return (
        doc_type,
        {k: f.value for k, f in fields.items()},
        {k: f.confidence for k, f in fields.items()},
    )


def test_licence_with_other_wording_and_short_labels() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.3, "Ohio Board of Nursing")],
                [(0.3, "Verification of Licensure")],
                [(0.1, "Licensee:"), (0.35, "ADAMS, JOANNA R.")],
                [(0.1, "Lic. #:"), (0.35, "RN 447120")],
                [(0.1, "Profession:"), (0.35, "Registered Nurse")],
                [(0.1, "Date of Licensure:"), (0.35, "3 March 2015")],
                [(0.1, "Exp:"), (0.35, "04/2027")],
            ]
        )
    )
    assert doc_type == "nursing_license"
    assert got["person_name"] == "Joanna R. Adams"
    assert got["credential_number"] == "RN447120"
    assert got["jurisdiction"] == "OH"
    assert got["credential_title"] == "Registered Nurse"
    assert got["issue_date"] == "2015-03-03"
    assert got["expiration_date"] == "2027-04-30"  # month and year only: last day


def test_header_row_with_values_below() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "The Doctors Company")],
                [(0.1, "CERTIFICATE OF INSURANCE - PROFESSIONAL LIABILITY")],
                [(0.1, "INSURED"), (0.5, "NPI")],
                [(0.1, "Priya Natarajan, MD"), (0.5, "1234567893")],
                [(0.1, "POLICY NO."), (0.4, "EFFECTIVE"), (0.7, "EXPIRES")],
                [(0.1, "TDC-55120"), (0.4, "Jan. 1, 2024"), (0.7, "Jan. 1, 2025")],
                [(0.1, "Limits of liability: $1,000,000 / $3,000,000")],
            ]
        )
    )
    assert doc_type == "malpractice_insurance"
    assert got["issuer"] == "The Doctors Company"
    assert got["person_name"] == "Priya Natarajan"
    assert got["npi"] == "1234567893"
    assert got["credential_number"] == "TDC-55120"
    assert got["issue_date"] == "2024-01-01"
    assert got["expiration_date"] == "2025-01-01"


def test_ocr_damaged_labels_and_digits_lower_confidence() -> None:
    rows = [
        [(0.2, "American Board of Family Medicine")],
        [(0.2, "hereby certifies that")],
        [(0.2, "Marcus Bell, MD")],
        [(0.2, "is a Diplomate certified in Family Medicine")],
        [(0.1, "Certiflcate Number:"), (0.4, "1O77342")],
        [(0.1, "Expiratlon Date:"), (0.4, "12/3l/2O30")],
    ]
    doc_type, got, conf = values(page(rows, source="ocr", conf=0.62))
    assert doc_type == "board_certification"
    assert got["person_name"] == "Marcus Bell"
    assert got["credential_title"] == "Family Medicine"
    assert got["expiration_date"] == "2030-12-31"
    # misread words: the reviewer must look at them
    assert conf["expiration_date"] < 0.9


def test_failing_validator_is_never_sure() -> None:
    _, got, conf = values(
        page(
            [
                [(0.1, "CONTROLLED SUBSTANCE REGISTRATION CERTIFICATE")],
                [(0.1, "DRUG ENFORCEMENT ADMINISTRATION")],
                [(0.1, "DEA REGISTRATION NUMBER"), (0.5, "THIS REGISTRATION EXPIRES")],
                [(0.1, "BN1234567"), (0.5, "06/30/2027")],
                [(0.1, "SCHEDULES"), (0.5, "BUSINESS ACTIVITY")],
                [(0.1, "2, 2N, 3, 3N, 4, 5"), (0.5, "PRACTITIONER")],
                [(0.1, "NGUYEN, LAN T MD")],
                [(0.1, "100 MAIN STREET")],
                [(0.1, "AUSTIN, TX 78701")],
            ]
        )
    )
    assert got["credential_number"] == "BN1234567"  # check digit is wrong (should be 3)
    assert conf["credential_number"] <= 0.5
    assert got["jurisdiction"] == "TX"
    assert got["schedules"] == "2,2N,3,3N,4,5"
    assert got["expiration_date"] == "2027-06-30"
    assert got["person_name"] == "Lan T. Nguyen"


def test_employment_letter_in_prose_with_open_end() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "Riverside Regional Medical Center")],
                [(0.1, "Human Resources Department")],
                [(0.1, "March 14, 2025")],
                [(0.1, "RE: Employment Verification for Daniel K. Okafor")],
                [(0.1, "To whom it may concern:")],
                [(0.1, "Please accept this letter as verification that Daniel K. Okafor has been")],
                [(0.1, "employed by Riverside Regional Medical Center as a Hospitalist since")],
                [(0.1, "August 1, 2019 and remains employed with us.")],
                [(0.1, "Sincerely,")],
                [(0.1, "Laura Chen")],
                [(0.1, "HR Generalist")],
            ]
        )
    )
    assert doc_type == "employment_verification"
    assert got["person_name"] == "Daniel K. Okafor"
    assert got["issuer"] == "Riverside Regional Medical Center"
    assert got["credential_title"] == "Hospitalist"
    assert got["start_date"] == "2019-08-01"
    assert got["issue_date"] == "2025-03-14"
    assert "end_date" not in got


def test_cme_certificate_with_other_wording() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.25, "Stanford Medicine Center for Continuing Medical Education")],
                [(0.35, "CERTIFICATE OF COMPLETION")],
                [(0.35, "This certifies that")],
                [(0.35, "Elena Petrova, DO")],
                [(0.2, "has completed the enduring material activity")],
                [(0.25, "Point-of-Care Ultrasound for Hospitalists")],
                [(0.2, "and is awarded 8.5 AMA PRA Category 1 Credits™")],
                [(0.2, "Date of completion: 09/18/2024")],
            ]
        )
    )
    assert doc_type == "cme_certificate"
    assert got["person_name"] == "Elena Petrova"
    assert got["credit_hours"] == "8.5"
    assert got["issue_date"] == "2024-09-18"
    assert got["credential_title"] == "Point-of-Care Ultrasound for Hospitalists"
    assert got["issuer"] == "Stanford Medicine Center for Continuing Medical Education"


def test_diploma_with_other_wording() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.3, "The Regents of the")],
                [(0.25, "University of New Mexico")],
                [(0.2, "on the nomination of the Faculty of the School of Medicine")],
                [(0.3, "have awarded to")],
                [(0.3, "Tomas J. Alvarado")],
                [(0.3, "the Degree of")],
                [(0.3, "Doctor of Medicine")],
                [(0.2, "Awarded at Albuquerque, New Mexico, May 17, 2014")],
            ]
        )
    )
    assert doc_type == "diploma"
    assert got["person_name"] == "Tomas J. Alvarado"
    assert got["issuer"] == "University of New Mexico"
    assert got["credential_title"] == "Doctor of Medicine"
    assert got["issue_date"] == "2014-05-17"


def test_life_support_card_from_another_body() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "American Red Cross")],
                [(0.1, "Advanced Cardiovascular Life Support")],
                [(0.1, "Name:"), (0.3, "Grace O'Malley")],
                [(0.1, "Training Provider:"), (0.35, "Metro CPR Training Center")],
                [(0.1, "Completion Date:"), (0.35, "2024-02-09")],
                [(0.1, "Valid for 2 years. Expiration:"), (0.55, "02/2026")],
            ]
        )
    )
    assert doc_type == "life_support_card"
    assert got["issuer"] == "American Red Cross"
    assert got["credential_title"] == "Advanced Cardiovascular Life Support"
    assert got["person_name"] == "Grace O'Malley"
    assert got["issue_date"] == "2024-02-09"
    assert got["expiration_date"] == "2026-02-28"


def test_reference_letter_with_signature_block() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "Lakeview Family Health Partners")],
                [(0.1, "June 3, 2023")],
                [(0.1, "Credentials Committee")],
                [(0.1, "St. Anne Hospital")],
                [(0.1, "Dear Committee Members:")],
                [
                    (
                        0.1,
                        "It is my pleasure to write this letter of recommendation for "
                        "Dr. Hannah Weiss,",
                    )
                ],
                [(0.1, "whom I have known for six years. I recommend her without reservation.")],
                [(0.1, "Respectfully,")],
                [(0.1, "Robert Mills, MD")],
                [(0.1, "Medical Director")],
                [(0.1, "Lakeview Family Health Partners")],
            ]
        )
    )
    assert doc_type == "reference_letter"
    assert got["person_name"] == "Hannah Weiss"
    assert got["referee_name"] == "Robert Mills"
    assert got["issuer"] == "Lakeview Family Health Partners"
    assert got["issue_date"] == "2023-06-03"


def test_board_certificate_with_a_printed_period() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.2, "American Board of Emergency Medicine")],
                [(0.2, "Verification of Certification")],
                [(0.1, "Physician:"), (0.35, "Samuel A. Ortiz, MD")],
                [(0.1, "Specialty:"), (0.35, "Emergency Medicine")],
                [(0.1, "Certificate #:"), (0.35, "ABEM-40917")],
                [(0.1, "Certification Period:"), (0.35, "07/01/2019 - 12/31/2029")],
            ]
        )
    )
    assert doc_type == "board_certification"
    assert got["issuer"] == "American Board of Emergency Medicine"
    assert got["person_name"] == "Samuel A. Ortiz"
    assert got["credential_title"] == "Emergency Medicine"
    assert got["credential_number"] == "ABEM-40917"
    assert got["issue_date"] == "2019-07-01"
    assert got["expiration_date"] == "2029-12-31"


def test_training_certificate_period_fills_start_and_completion() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.25, "Northwestern Memorial Hospital")],
                [(0.25, "Department of Graduate Medical Education")],
                [(0.3, "This certifies that")],
                [(0.3, "Aisha N. Rahman, MD")],
                [(0.15, "has satisfactorily completed a fellowship in Pulmonary Disease")],
                [(0.2, "from July 1, 2018 through June 30, 2021.")],
            ]
        )
    )
    assert doc_type == "training_certificate"
    assert got["person_name"] == "Aisha N. Rahman"
    assert got["issuer"] == "Northwestern Memorial Hospital"
    assert got["credential_title"] == "Pulmonary Disease"
    assert got["start_date"] == "2018-07-01"
    assert got["issue_date"] == "2021-06-30"


def test_wallet_card_without_labels() -> None:
    doc_type, got, conf = values(
        page(
            [
                [(0.1, "STATE OF TEXAS")],
                [(0.1, "TEXAS BOARD OF NURSING")],
                [(0.1, "LICENSED VOCATIONAL NURSE")],
                [(0.1, "MARIA L. DELGADO")],
                [(0.1, "1402 ELM STREET")],
                [(0.1, "AUSTIN, TX 78701")],
                [(0.1, "LVN 220915")],
                [(0.1, "01/15/2024"), (0.5, "01/31/2026")],
            ],
            source="ocr",
            conf=0.93,
        )
    )
    assert doc_type == "nursing_license"
    assert got["issuer"] == "Texas Board of Nursing"
    assert got["jurisdiction"] == "TX"
    assert got["credential_title"] == "Licensed Vocational Nurse"
    assert got["person_name"] == "Maria L. Delgado"
    assert got["issue_date"] == "2024-01-15"
    assert got["expiration_date"] == "2026-01-31"
    # unlabelled values are guesses from layout: the reviewer is asked to confirm them
    assert conf["issue_date"] < 0.9 and conf["expiration_date"] < 0.9


def test_ecard_name_above_completion_with_form_rows_between() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "American Heart Association"), (0.5, "Training Center Name")],
                [(0.1, "ACLS Provider"), (0.5, "TC ID"), (0.7, "OR20931")],
                [(0.1, "Grace O'Malley"), (0.5, "Course Location"), (0.7, "North Campus")],
                [(0.1, "Instructor Name"), (0.5, "Victor Lindqvist")],
                [(0.1, "has successfully completed the cognitive and skills evaluations")],
                [(0.1, "Issue Date"), (0.5, "Valid Until")],
                [(0.1, "03/14/2024"), (0.5, "03/31/2026")],
            ]
        )
    )
    assert doc_type == "life_support_card"
    assert got["person_name"] == "Grace O'Malley"
    assert got["credential_title"] == "ACLS Provider"


def test_life_support_course_named_only_in_prose_or_on_its_own_line() -> None:
    # an AHA card names the holder's credential "<course> Provider"
    _, got, _ = values(
        page(
            [
                [(0.1, "Omar Lindqvist")],
                [(0.1, "has successfully completed the cognitive and skills evaluations of the")],
                [(0.1, "American Heart Association Basic Life Support (CPR and AED) Program.")],
                [(0.1, "Issue Date"), (0.5, "Expiration Date")],
                [(0.1, "1/15/2022"), (0.5, "1/31/2024")],
            ]
        )
    )
    assert got["credential_title"] == "BLS Provider"
    # a course whose name is not a known one: the line after "completed the requirements for"
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "American Red Cross")],
                [(0.1, "Presented to")],
                [(0.1, "Omar Lindqvist")],
                [(0.1, "has successfully completed the requirements for")],
                [(0.1, "Advanced Life Support")],
                [(0.1, "Date Completed: 01/03/2020"), (0.5, "Valid Until: 01/03/2022")],
            ]
        )
    )
    assert doc_type == "life_support_card"
    assert got["credential_title"] == "Advanced Life Support"


def test_licence_type_stated_in_a_sentence() -> None:
    _, got, _ = values(
        page(
            [
                [(0.1, "STATE OF OREGON")],
                [(0.1, "OREGON MEDICAL BOARD")],
                [(0.1, "LICENSE NUMBER"), (0.5, "EXPIRATION DATE")],
                [(0.1, "MD59075"), (0.5, "OCTOBER 31, 2026")],
                [(0.1, "The PHYSICIAN AND SURGEON named below IS LICENSED under state law.")],
                [(0.1, "PAUL HILL-BANERJEE")],
            ]
        )
    )
    assert got["credential_title"] == "Physician and Surgeon"
    _, got, _ = values(
        page(
            [
                [(0.1, "New Jersey Board of Nursing")],
                [(0.1, "GABRIELA SANCHEZ, DNP, APRN")],
                [(0.1, "is licensed as an Advanced Practice Nurse")],
                [(0.1, "LIC. NO"), (0.3, "26NJ0008290")],
            ]
        )
    )
    assert got["credential_title"] == "Advanced Practice Nurse"


def test_training_title_ends_where_the_period_line_begins() -> None:
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "Lakeshore Medical Center")],
                [(0.1, "Office of Graduate Medical Education")],
                [(0.1, "This is to certify that")],
                [(0.1, "Laura C. Schwartz, MD")],
                [
                    (
                        0.1,
                        "has satisfactorily completed the requirements of the residency program in",
                    )
                ],
                [(0.1, "Neurology")],
                [(0.1, "July 1, 2001 - June 30, 2004")],
            ]
        )
    )
    assert doc_type == "training_certificate"
    assert got["credential_title"] == "Neurology"


def test_board_name_printed_longer_and_accreditor_named_in_small_print() -> None:
    _, got, _ = values(
        page(
            [
                [(0.1, "Washington Board of Osteopathic Medicine and Surgery")],
                [(0.1, "CERTIFICATE OF LICENSURE")],
                [(0.1, "This certifies that")],
                [(0.1, "Michael Harris, DO")],
                [(0.1, "is duly licensed to practice medicine as a")],
                [(0.1, "OSTEOPATHIC PHYSICIAN AND SURGEON")],
                [(0.1, "License Number: OP60728211")],
            ]
        )
    )
    assert got["issuer"] == "Washington Board of Osteopathic Medicine and Surgery"
    doc_type, got, _ = values(
        page(
            [
                [(0.1, "Society of Hospital Medicine")],
                [(0.1, "Continuing Education Certificate of Credit")],
                [(0.1, "Awarded to")],
                [(0.1, "Eric Le, APRN, FNP-C")],
                [(0.1, "for successful completion of")],
                [(0.1, "Clinical Updates in Women's Health")],
                [(0.1, "Credit: 0.5 nursing contact hours")],
                [(0.1, "Date: 01/22/2025")],
                [(0.1, "The Society of Hospital Medicine is accredited as a provider by the")],
                [(0.1, "American Nurses Credentialing Center's Commission on Accreditation.")],
            ]
        )
    )
    assert doc_type == "cme_certificate"
    assert got["person_name"] == "Eric Le"
    assert got["issuer"] == "Society of Hospital Medicine"


def test_letter_date_under_an_ocr_damaged_received_stamp() -> None:
    _, got, _ = values(
        page(
            [
                [(0.1, "Cedars Valley Medical Center")],
                [(0.1, "1633 Main Street, San Diego, CA 92198"), (0.7, "RECEIVER")],
                [(0.7, "OCT 03 2025")],
                [(0.1, "April 25, 2025")],
                [(0.1, "RE: Letter of Reference for Nadia Ortiz, D.O.")],
                [(0.1, "Dear Members of the Credentials Committee:")],
                [(0.1, "I recommend Dr. Ortiz without reservation for clinical privileges.")],
                [(0.1, "Sincerely,")],
                [(0.1, "Ifeoma Wagner-Wright, MD")],
            ]
        )
    )
    assert got["issue_date"] == "2025-04-25"
