"""National identification numbers: every python-stdnum validator of a natural person's number for
the countries of the registry's languages (filters/pii_regions.py), with the evidence each needs.

A checksum alone is weak evidence: a single check digit passes for one random number in ten or
eleven, and some numbers have no checksum at all (US SSN, Argentine DNI, Indonesian NIK). So each
number type says what makes a candidate count:

  anywhere  a written form that counts in any document: checksum plus a shape prose does not make
            (HETU, DNI/NIE, NIR, CURP, Chinese RIC, CPF as 000.000.000-00, Swiss AHV as 756.xxxx...)
  written   a written form that counts in documents of its country (language or URL ccTLD), e.g. a
            US SSN as 123-45-6789, a Pakistani CNIC as 12345-1234567-1
  keywords  labels that, within KEYWORD_WINDOW characters before the number, make it count in
            documents of its country ("SSN", "NHS", "CPF", "Aadhaar", "الرقم الضريبي", ...)

"*" means any candidate. A type with none of these never counts. Company numbers (VAT, trade
registers) are not personal data and are left out; so are numbers stdnum has no validator for
(UK National Insurance, Bangladeshi NID, Taiwanese and Hong Kong ids).

Patterns have bounded repetitions and no nested quantifiers; filters/pii.py adds the boundaries
and joins the patterns of the types that apply to a document into one regex.
"""

from __future__ import annotations

from typing import NamedTuple

KEYWORD_WINDOW = 40
ANY = "*"


class IdType(NamedTuple):
    """One kind of national number; VALIDATORS are stdnum module paths, any of which may accept it."""

    country: str
    validators: tuple[str, ...]
    pattern: str
    keywords: str | None = None
    written: str | None = None
    anywhere: str | None = None


_SSN_3_2_4 = r"[0-9]{3}-[0-9]{2}-[0-9]{4}"
_AADHAAR_WORDS = r"Aadhaa?r|आधार|আধার|ஆதார்|ఆధార్|ಆಧಾರ್|ആധാർ|આધાર|ਆਧਾਰ|ଆଧାର|آدھار|\bUIDAI\b|\bUID\b"

ID_TYPES: tuple[IdType, ...] = (
    # --- Europe
    IdType("FI", ("fi.hetu",), r"[0-3][0-9][01][0-9]{3}[\-+A-FU-Y][0-9]{3}[0-9A-Y]", anywhere=ANY),
    IdType("FI", ("fi.veronumero",), r"[0-9]{12}", r"veronumero|skattenummer|tax number"),
    IdType(
        "SE",
        ("se.personnummer",),
        r"(?:[0-9]{2})?[0-9]{6}[\-+]?[0-9]{4}",
        r"personnummer|henkilötunnus",
        written=r"(?:[0-9]{2})?[0-9]{6}[\-+][0-9]{4}",
    ),
    IdType("ES", ("es.dni",), r"[0-9]{8}-?[A-Z]", anywhere=ANY),
    IdType("ES", ("es.nie",), r"[XYZ]-?[0-9]{7}-?[A-Z]", anywhere=ANY),
    IdType("AD", ("ad.nrt",), r"[A-Z]-?[0-9]{6}-?[A-Z]", r"\bNRT\b"),
    IdType(
        "FR", ("fr.nir",), r"[12] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}", anywhere=ANY
    ),
    IdType(
        "FR",
        ("fr.nif",),
        r"[0-3][0-9] ?[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}",
        r"num[ée]ro fiscal|identifiant fiscal|\bSPI\b|\bNIF\b",
    ),
    IdType(
        "BE",
        ("be.nn", "be.bis"),
        r"[0-9]{2}[ .]?[0-9]{2}[ .]?[0-9]{2}[ \-]?[0-9]{3}[ .]?[0-9]{2}",
        r"registre national|rijksregister|num[ée]ro national|national number|\bNISS\b|\bINSZ\b",
        written=r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}",
    ),
    IdType(
        "CH",
        ("ch.ssn",),
        r"756\.?[0-9]{4}\.?[0-9]{4}\.?[0-9]{2}",
        r"\bAHV\b|\bAVS\b|\bNAVS\b|\bOASI\b|assurance|Sozialversicherung",
        anywhere=r"756\.[0-9]{4}\.[0-9]{4}\.[0-9]{2}",
    ),
    IdType(
        "IT",
        ("it.codicefiscale",),
        r"[A-Z]{6}[0-9LMNP-V]{2}[A-EHLMPR-T][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]",
        anywhere=ANY,
    ),
    IdType(
        "PT",
        ("pt.nif",),
        r"(?:PT ?)?[1-9][0-9]{2} ?[0-9]{3} ?[0-9]{3}",
        r"\bNIF\b|\bNIPC\b|contribuinte|fiscal",
        written=r"PT.*",
    ),
    IdType(
        "PT",
        ("pt.cc",),
        r"[0-9]{8} ?[0-9] ?(?:[A-Z][A-Z0-9]|[0-9][A-Z])[0-9]",
        r"cart[ãa]o de cidad[ãa]o|\bCC\b|\bBI\b",
        written=ANY,
        anywhere=r"[0-9]{8} [0-9] [A-Z0-9]{2}[0-9]",
    ),
    IdType("GB", ("gb.nhs",), r"[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{4}", r"\bNHS\b"),
    IdType("GB", ("gb.utr",), r"[0-9]{5} ?[0-9]{5}", r"\bUTR\b|unique taxpayer"),
    IdType("GB", ("gb.upn",), r"[A-Z][0-9]{11}[0-9A-Z]", r"\bUPN\b|pupil number"),
    IdType("IE", ("ie.pps",), r"[0-9]{7}[A-W][A-IW]?", r"\bPPSN?\b|personal public service", written=ANY),
    # --- Americas
    IdType(
        "US",
        ("us.ssn", "us.itin", "us.atin"),
        rf"{_SSN_3_2_4}|[0-9]{{3}} [0-9]{{2}} [0-9]{{4}}|[0-9]{{9}}",
        r"\bSSN\b|social security|\bI?TIN\b|\bATIN\b|taxpayer identification|seguro social",
        written=_SSN_3_2_4,
    ),
    IdType("US", ("us.ptin",), r"P-?[0-9]{8}", r"\bPTIN\b|preparer"),
    IdType(
        "CA",
        ("ca.sin",),
        r"[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{3}",
        r"\bSIN\b|\bNAS\b|social insurance|assurance sociale",
    ),
    IdType("CA", ("ca.bc_phn",), r"[0-9]{4} ?[0-9]{3} ?[0-9]{3}", r"\bPHN\b|personal health"),
    IdType("MX", ("mx.curp",), r"[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9]", anywhere=ANY),
    IdType("MX", ("mx.rfc",), r"[A-ZÑ&]{4}[ \-]?[0-9]{6}[ \-]?[A-Z0-9]{3}", r"\bRFC\b|registro federal"),
    IdType(
        "BR",
        ("br.cpf",),
        r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}|[0-9]{11}",
        r"\bCPF\b",
        anywhere=r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}",
    ),
    IdType("AR", ("ar.dni",), r"[0-9]{1,2}\.?[0-9]{3}\.?[0-9]{3}", r"\bDNI\b|documento"),
    IdType("AR", ("ar.cuit",), r"[0-9]{2}-?[0-9]{8}-?[0-9]", r"\bCUI[TL]\b", written=r"[0-9]{2}-[0-9]{8}-[0-9]"),
    IdType(
        "CL",
        ("cl.rut",),
        r"[0-9]{1,2}\.?[0-9]{3}\.?[0-9]{3}-?[0-9kK]",
        r"\bRU[TN]\b|R\.U\.[TN]\.?",
        written=r"[0-9]{1,2}\.[0-9]{3}\.[0-9]{3}-[0-9kK]",
    ),
    IdType(
        "CO",
        ("co.nit",),
        r"[0-9]{1,3}(?:\.[0-9]{3}){2,3}-[0-9]|[0-9]{6,10}-?[0-9]",
        r"\bNIT\b|\bC\.? ?C\.?(?![A-Za-z])|c[ée]dula",
    ),
    IdType("EC", ("ec.ci",), r"[0-9]{9}-?[0-9]", r"c[ée]dula|\bC\.? ?I\.?(?![A-Za-z])"),
    IdType("PE", ("pe.cui",), r"[0-9]{8}(?:-?[0-9K])?", r"\bDNI\b|\bCUI\b"),
    IdType("VE", ("ve.rif",), r"[VEP]-?[0-9]{8}-?[0-9]", r"\bRIF\b|c[ée]dula", written=ANY),
    IdType("GT", ("gt.nit",), r"[0-9]{4,12}-[0-9kK]", r"\bNIT\b"),
    IdType(
        "SV",
        ("sv.nit",),
        r"[0-9]{4}-?[0-9]{6}-?[0-9]{3}-?[0-9]",
        r"\bNIT\b",
        written=r"[0-9]{4}-[0-9]{6}-[0-9]{3}-[0-9]",
    ),
    IdType("CU", ("cu.ni",), r"[0-9]{11}", r"carn[ée] de identidad|identidad|\bCI\b|\bNI\b"),
    IdType("DO", ("do.cedula",), r"[0-9]{3}-?[0-9]{7}-?[0-9]", r"c[ée]dula", written=r"[0-9]{3}-[0-9]{7}-[0-9]"),
    IdType("CR", ("cr.cpf",), r"[0-9]{1,2}-?[0-9]{4}-?[0-9]{4}", r"c[ée]dula"),
    IdType("CR", ("cr.cr",), r"[0-9]{11,12}", r"\bDIMEX\b|residencia"),
    IdType("PY", ("py.ruc",), r"[0-9]{5,8}-[0-9]", r"\bRUC\b"),
    IdType("UY", ("uy.rut",), r"[0-9]{2}[ \-]?[0-9]{6}[ \-]?[0-9]{3}[ \-]?[0-9]", r"\bRUT\b"),
    # --- Asia and Oceania
    IdType("CN", ("cn.ric",), r"[1-9][0-9]{16}[0-9Xx]", anywhere=ANY),
    IdType(
        "IN",
        ("in_.aadhaar",),
        r"[2-9][0-9]{3}[ \-]?[0-9]{4}[ \-]?[0-9]{4}",
        _AADHAAR_WORDS,
        written=r"[0-9]{4} [0-9]{4} [0-9]{4}|[0-9]{4}-[0-9]{4}-[0-9]{4}",
    ),
    IdType("IN", ("in_.vid",), r"[0-9]{4}[ \-]?[0-9]{4}[ \-]?[0-9]{4}[ \-]?[0-9]{4}", r"\bVID\b|virtual id"),
    IdType("IN", ("in_.pan",), r"[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]", r"\bPAN\b|पैन|permanent account"),
    IdType("IN", ("in_.epic",), r"[A-Z]{3}[0-9]{7}", r"\bEPIC\b|voter|elector|मतदाता"),
    IdType(
        "PK",
        ("pk.cnic",),
        r"[0-9]{5}-?[0-9]{7}-?[0-9]",
        r"\bC?NIC\b|identity card|شناختی",
        written=r"[0-9]{5}-[0-9]{7}-[0-9]",
    ),
    IdType("ID", ("id.nik",), r"[0-9]{16}", r"\bNIK\b|\bKTP\b|nomor induk"),
    IdType(
        "ID",
        ("id.npwp",),
        r"[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}\.?[0-9]-?[0-9]{3}\.?[0-9]{3}",
        r"\bNPWP\b",
        written=r"[0-9]{2}\.[0-9]{3}\.[0-9]{3}\.[0-9]-[0-9]{3}\.[0-9]{3}",
    ),
    IdType("VN", ("vn.mst",), r"[0-9]{10}(?:-[0-9]{3})?", r"\bMST\b|mã số thuế|ma so thue|tax code"),
    IdType("IL", ("il.idnr",), r"[0-9]{8}-?[0-9]", r"מספר זהות|תעודת זהות|ת\.ז|رقم الهوية|identity number"),
    IdType("AU", ("au.tfn",), r"[0-9]{3} ?[0-9]{3} ?[0-9]{2,3}", r"\bTFN\b|tax file"),
    IdType("NZ", ("nz.ird",), r"(?:NZ ?)?[0-9]{2,3}-?[0-9]{3}-?[0-9]{3}", r"\bIRD\b|inland revenue"),
    # --- Africa
    IdType("ZA", ("za.idnr",), r"[0-9]{6} ?[0-9]{4} ?[0-9]{2} ?[0-9]", r"identity|\bID\b|\bI\.D\.|nomboro|inombolo"),
    IdType("ZA", ("za.tin",), r"[0-9]{10}", r"\bTIN\b|tax (?:reference|number)|income tax"),
    IdType("KE", ("ke.pin",), r"[AP][0-9]{9}[A-Z]", r"\bKRA\b|\bPIN\b"),
    IdType("GH", ("gh.tin",), r"[PCGQV][0-9]{10}", r"\bTIN\b|Ghana ?card", written=ANY),
    IdType("MU", ("mu.nid",), r"[A-Z][0-9]{12}[0-9A-Z]", r"\bNIC\b|\bNID\b|identity card|carte d'identit[ée]"),
    IdType("MZ", ("mz.nuit",), r"[0-9]{3} ?[0-9]{3} ?[0-9]{3}", r"\bNUIT\b"),
    IdType("GN", ("gn.nifp",), r"[0-9]{3}-?[0-9]{3}-?[0-9]{3}", r"\bNIFp?\b|identification fiscale"),
    IdType(
        "DZ",
        ("dz.nif",),
        r"[0-9]{15}|[0-9]{20}|[0-9]{3}(?: [0-9]{3}){4}(?: [0-9]{5})?",
        r"\bNIF\b|identification fiscale|رقم التعريف الجبائي",
    ),
    IdType(
        "EG",
        ("eg.tn",),
        r"[0-9]{3}-?[0-9]{3}-?[0-9]{3}",
        r"الرقم الضريبي|رقم التسجيل الضريبي|رقم ضريبي|tax registration|\bTRN\b",
    ),
)
