"""De-identification by the PS3.15 Basic Application Level Confidentiality Profile.

:data:`BASIC_PROFILE` is Table E.1-1 as data: every attribute the profile names,
with its action (PS3.15 E.1.1):

- ``D``: replace with a dummy value of the same VR;
- ``Z``: replace with a zero-length value (or a dummy);
- ``X``: remove;
- ``K``: keep;
- ``C``: clean (keep only what is not identifying);
- ``U``: replace a UID with another, consistently within the case.

Combined actions (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``) leave the choice to the
de-identifier as far as the IOD allows; here they resolve to the stricter one
(``X`` before ``Z`` before ``D``). ``X/Z/U*`` (Referenced and Source Image
Sequence) is removed at the top level of a dataset, and kept with its UIDs
replaced where it is nested (a presentation state or a report refers to the
images through it, so it is required there; PS3.15 E.1.1 "U*").

Beyond the table, for a stricter result: every private attribute, curve (50xx)
and overlay (60xx) group, and public attribute pydicom does not know is removed;
every date, date-time and time attribute the table does not name is treated as
a temporal attribute (removed, or kept or shifted with the Retain Longitudinal
Temporal Information option); and every UID that is not a registered DICOM UID
nor a class or transfer syntax is replaced. Sequences are de-identified item by
item, recursively.

References
----------
PS3.15 Annex E, Table E.1-1 "Application Level Confidentiality Profile
Attributes", E.3.6 Retain Longitudinal Temporal Information Options; PS3.16
CID 7050 De-identification Method; PS3.5 B.2 UUID Derived UID; PS3.3 C.7.1.1
(Patient Identity Removed, De-identification Method), C.7.6.1 (Burned In
Annotation).
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import hmac
import os
import uuid
import warnings
from dataclasses import dataclass, field
from io import BytesIO
from typing import TYPE_CHECKING, Any, Final

import pydicom
from pydicom.datadict import dictionary_has_tag, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from imaging_viewer.core.files import write_bytes_atomic

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = [
    "BASIC_PROFILE",
    "BurnedInAnnotationError",
    "DeidContext",
    "ProfileEntry",
    "dataset_bytes",
    "deidentify",
    "read_dataset",
    "resolve_action",
    "source_identifiers",
    "write_dataset",
]

# PS3.15 Table E.1-1. Columns: tag, Basic Profile action, "K" where the Retain
# Longitudinal Temporal Information with Full Dates Option keeps the attribute
# (the Modified Dates Option cleans it: here, shifts it), "-" otherwise, and the
# attribute's name. The masked rows (Curve Data 50xx,xxxx; Overlay Data and
# Comments 60xx,3000 and 60xx,4000; private attributes) are whole groups, handled
# by :func:`_is_removed_group`.
_TABLE_E_1_1: Final = """
0008,0050 Z       - Accession Number
0018,4000 X       - Acquisition Comments
0040,0555 X/Z     - Acquisition Context Sequence
0008,0022 X/Z     K Acquisition Date
0008,002A X/Z/D   K Acquisition DateTime
0018,1400 X/D     - Acquisition Device Processing Description
0018,11BB D       - Acquisition Field Of View Label
0018,9424 X       - Acquisition Protocol Description
0008,0032 X/Z     K Acquisition Time
0040,4035 X       - Actual Human Performers Sequence
0010,21B0 X       - Additional Patient History
0040,A353 X       - Address (Trial)
0038,0010 X       - Admission ID
0038,0020 X       K Admitting Date
0008,1084 X       - Admitting Diagnoses Code Sequence
0008,1080 X       - Admitting Diagnoses Description
0038,0021 X       K Admitting Time
0000,1000 X       - Affected SOP Instance UID
0010,2110 X       - Allergies
4000,0010 X       - Arbitrary
0040,A078 X       - Author Observer Sequence
2200,0005 X/Z     - Barcode Value
300A,00C3 X       - Beam Description
300A,00DD X       - Bolus Description
0010,1081 X       - Branch of Service
0016,004D X       - Camera Owner Name
0018,1007 X       - Cassette ID
0012,0060 Z       - Clinical Trial Coordinating Center Name
0012,0082 X       - Clinical Trial Protocol Ethics Committee Approval Number
0012,0081 D       - Clinical Trial Protocol Ethics Committee Name
0012,0020 D       - Clinical Trial Protocol ID
0012,0021 Z       - Clinical Trial Protocol Name
0012,0072 X       - Clinical Trial Series Description
0012,0071 X       - Clinical Trial Series ID
0012,0030 Z       - Clinical Trial Site ID
0012,0031 Z       - Clinical Trial Site Name
0012,0010 D       - Clinical Trial Sponsor Name
0012,0040 D       - Clinical Trial Subject ID
0012,0042 D       - Clinical Trial Subject Reading ID
0012,0051 X       - Clinical Trial Time Point Description
0012,0050 Z       - Clinical Trial Time Point ID
0040,0310 X       - Comments on Radiation Dose
0040,0280 X       - Comments on the Performed Procedure Step
300A,02EB X       - Compensator Description
0020,9161 U       - Concatenation UID
3010,000F Z       - Conceptual Volume Combination Description
3010,0017 Z       - Conceptual Volume Description
3010,0006 U       - Conceptual Volume UID
0040,3001 X       - Confidentiality Constraint on Patient Data Description
3010,0013 U       - Constituent Conceptual Volume UID
0008,009C Z       - Consulting Physician's Name
0008,009D X       - Consulting Physician Identification Sequence
0050,001B X       - Container Component ID
0040,051A X       - Container Description
0040,0512 D       - Container Identifier
0070,0086 X       - Content Creator's Identification Code Sequence
0070,0084 Z/D     - Content Creator's Name
0008,0023 Z/D     K Content Date
0040,A730 D       - Content Sequence
0008,0033 Z/D     K Content Time
0018,0010 Z/D     - Contrast/Bolus Agent
0018,A003 X       - Contribution Description
0010,2150 X       - Country of Residence
0040,A307 X       - Current Observer (Trial)
0038,0300 X       - Current Patient Location
0008,0025 X       K Curve Date
0008,0035 X       K Curve Time
0040,A07C X       - Custodial Organization Sequence
FFFC,FFFC X       - Data Set Trailing Padding
0018,937F X       - Decomposition Description
0008,2111 X       - Derivation Description
0018,700A X/D     - Detector ID
3010,001B Z       - Device Alternate Identifier
0050,0020 X       - Device Description
3010,002D D       - Device Label
0018,1000 X/Z/D   - Device Serial Number
0016,004B X       - Device Setting Description
0018,1002 U       - Device UID
FFFA,FFFA X       - Digital Signatures Sequence
0400,0100 U       - Digital Signature UID
0020,9164 U       - Dimension Organization UID
0038,0040 X       - Discharge Diagnosis Description
4008,011A X       - Distribution Address
4008,0119 X       - Distribution Name
300A,0016 X       - Dose Reference Description
300A,0013 U       - Dose Reference UID
3010,006E U       - Dosimetric Objective UID
0018,9517 X/D     K End Acquisition DateTime
3010,0037 X       - Entity Description
3010,0035 D       - Entity Label
3010,0038 D       - Entity Long Label
3010,0036 X       - Entity Name
300A,0676 X       - Equipment Frame of Reference Description
0010,2160 X       - Ethnic Group
0040,4011 X       K Expected Completion DateTime
0008,0058 U       - Failed SOP Instance UID List
0070,031A U       - Fiducial UID
0040,2017 Z       - Filler Order Number / Imaging Service Request
3008,0054 X/D     K First Treatment Date
300A,0196 X       - Fixation Device Description
0034,0002 D       - Flow Identifier
0034,0001 D       - Flow Identifier Sequence
3010,007F Z       - Fractionation Notes
300A,0072 X       - Fraction Group Description
0020,9158 X       - Frame Comments
0020,0052 U       - Frame of Reference UID
0034,0007 D       K Frame Origin Timestamp
0018,1008 X       - Gantry ID
0018,1005 X       - Generator ID
0016,0076 X       - GPS Altitude
0016,0075 X       - GPS Altitude Ref
0016,008C X       - GPS Area Information
0016,008D X       K GPS Date Stamp
0016,0088 X       - GPS Dest Bearing
0016,0087 X       - GPS Dest Bearing Ref
0016,008A X       - GPS Dest Distance
0016,0089 X       - GPS Dest Distance Ref
0016,0084 X       - GPS Dest Latitude
0016,0083 X       - GPS Dest Latitude Ref
0016,0086 X       - GPS Dest Longitude
0016,0085 X       - GPS Dest Longitude Ref
0016,008E X       - GPS Differential
0016,007B X       - GPS DOP
0016,0081 X       - GPS Img Direction
0016,0080 X       - GPS Img Direction Ref
0016,0072 X       - GPS Latitude
0016,0071 X       - GPS Latitude Ref
0016,0074 X       - GPS Longitude
0016,0073 X       - GPS Longitude Ref
0016,0082 X       - GPS Map Datum
0016,007A X       - GPS Measure Mode
0016,008B X       - GPS Processing Method
0016,0078 X       - GPS Satellites
0016,007D X       - GPS Speed
0016,007C X       - GPS Speed Ref
0016,0079 X       - GPS Status
0016,0077 X       - GPS Time Stamp
0016,007F X       - GPS Track
0016,007E X       - GPS Track Ref
0016,0070 X       - GPS Version ID
0070,0001 D       - Graphic Annotation Sequence
0040,4037 X       - Human Performer's Name
0040,4036 X       - Human Performer's Organization
0088,0200 X       - Icon Image Sequence
0008,4000 X       - Identifying Comments
0020,4000 X       - Image Comments
0028,4000 X       - Image Presentation Comments
0040,2400 X       - Imaging Service Request Comments
003A,0314 D       K Impedance Measurement DateTime
4008,0300 X       - Impressions
0008,0015 X       K Instance Coercion DateTime
0008,0014 U       - Instance Creator UID
0400,0600 X       - Instance Origin Status
0008,0081 X       - Institution Address
0008,1040 X       - Institutional Department Name
0008,1041 X       - Institutional Department Type Code Sequence
0008,0082 X/Z/D   - Institution Code Sequence
0008,0080 X/Z/D   - Institution Name
0010,1050 X       - Insurance Plan Identification
3010,004D X/D     K Intended Phase End Date
3010,004C X/D     K Intended Phase Start Date
0040,1011 X       - Intended Recipients of Results Identification Sequence
300A,0741 D       K Interlock DateTime
300A,0742 D       - Interlock Description
300A,0783 D       - Interlock Origin Description
4008,0111 X       - Interpretation Approver Sequence
4008,010C X       - Interpretation Author
4008,0115 X       - Interpretation Diagnosis Description
4008,0202 X       - Interpretation ID Issuer
4008,0102 X       - Interpretation Recorder
4008,010B X       - Interpretation Text
4008,010A X       - Interpretation Transcriber
0008,3010 U       - Irradiation Event UID
0038,0011 X       - Issuer of Admission ID
0038,0014 X       - Issuer of Admission ID Sequence
0010,0021 X       - Issuer of Patient ID
0038,0061 X       - Issuer of Service Episode ID
0038,0064 X       - Issuer of Service Episode ID Sequence
0040,0513 Z       - Issuer of the Container Identifier Sequence
0040,0562 Z       - Issuer of the Specimen Identifier Sequence
2200,0002 X/Z     - Label Text
0028,1214 U       - Large Palette Color Lookup Table UID
0010,21D0 X       K Last Menstrual Date
0016,004F X       - Lens Make
0016,0050 X       - Lens Model
0016,0051 X       - Lens Serial Number
0016,004E X       - Lens Specification
0050,0021 X       - Long Device Description
0400,0404 X       - MAC
0016,002B X       - Maker Note
0018,100B U       - Manufacturer's Device Class UID
3010,0043 Z       - Manufacturer's Device Identifier
0002,0003 U       - Media Storage SOP Instance UID
0010,2000 X       - Medical Alerts
0010,1090 X       - Medical Record Locator
0010,1080 X       - Military Rank
0400,0550 X       - Modified Attributes Sequence
0020,3406 X       - Modified Image Description
0020,3401 X       - Modifying Device ID
3008,0056 X/D     K Most Recent Treatment Date
0018,937B X       - Multi-energy Acquisition Description
003A,0310 U       - Multiplex Group UID
0008,1060 X       - Name of Physician(s) Reading Study
0040,1010 X       - Names of Intended Recipients of Results
0400,0551 X       - Nonconforming Modified Attributes Sequence
0400,0552 X       - Nonconforming Data Element Value
0040,A192 X       K Observation Date (Trial)
0040,A402 U       - Observation Subject UID (Trial)
0040,A193 X       K Observation Time (Trial)
0040,A171 U       - Observation UID
0010,2180 X       - Occupation
0008,1072 X/D     - Operator Identification Sequence
0008,1070 X/Z/D   - Operators' Name
0040,2010 X       - Order Callback Phone Number
0040,2011 X       - Order Callback Telecom Information
0040,2008 X       - Order Entered By
0040,2009 X       - Order Enterer's Location
0400,0561 X       - Original Attributes Sequence
0010,1000 X       - Other Patient IDs
0010,1002 X       - Other Patient IDs Sequence
0010,1001 X       - Other Patient Names
0008,0024 X       K Overlay Date
0008,0034 X       K Overlay Time
300A,0760 D       K Override DateTime
0028,1199 U       - Palette Color Lookup Table UID
0040,A07A X       - Participant Sequence
0010,1040 X       - Patient's Address
0010,1010 X       - Patient's Age
0010,0030 Z       - Patient's Birth Date
0010,1005 X       - Patient's Birth Name
0010,0032 X       - Patient's Birth Time
0038,0400 X       - Patient's Institution Residence
0010,0050 X       - Patient's Insurance Plan Code Sequence
0010,1060 X       - Patient's Mother's Birth Name
0010,0010 Z       - Patient's Name
0010,0101 X       - Patient's Primary Language Code Sequence
0010,0102 X       - Patient's Primary Language Modifier Code Sequence
0010,21F0 X       - Patient's Religious Preference
0010,0040 Z       - Patient's Sex
0010,2203 X/Z     - Patient's Sex Neutered
0010,1020 X       - Patient's Size
0010,2155 X       - Patient's Telecom Information
0010,2154 X       - Patient's Telephone Numbers
0010,1030 X       - Patient's Weight
0010,4000 X       - Patient Comments
0010,0020 Z       - Patient ID
300A,0650 U       - Patient Setup UID
0038,0500 X       - Patient State
0040,1004 X       - Patient Transport Arrangements
0040,0243 X       - Performed Location
0040,0254 X       - Performed Procedure Step Description
0040,0250 X       K Performed Procedure Step End Date
0040,4051 X       K Performed Procedure Step End DateTime
0040,0251 X       K Performed Procedure Step End Time
0040,0253 X       - Performed Procedure Step ID
0040,0244 X       K Performed Procedure Step Start Date
0040,4050 X       K Performed Procedure Step Start DateTime
0040,0245 X       K Performed Procedure Step Start Time
0040,0241 X       - Performed Station AE Title
0040,4030 X       - Performed Station Geographic Location Code Sequence
0040,0242 X       - Performed Station Name
0040,4028 X       - Performed Station Name Code Sequence
0008,1050 X       - Performing Physician's Name
0008,1052 X       - Performing Physician Identification Sequence
0040,1102 X       - Person's Address
0040,1104 X       - Person's Telecom Information
0040,1103 X       - Person's Telephone Numbers
0040,1101 D       - Person Identification Code Sequence
0040,A123 D       - Person Name
0008,1048 X       - Physician(s) of Record
0008,1049 X       - Physician(s) of Record Identification Sequence
0008,1062 X       - Physician(s) Reading Study Identification Sequence
4008,0114 X       - Physician Approving Interpretation
0040,2016 Z       - Placer Order Number / Imaging Service Request
0018,1004 X       - Plate ID
0010,21C0 X       - Pregnancy Status
0040,0012 X       - Pre-Medication
300A,000E X       - Prescription Description
3010,007B Z       - Prescription Notes
3010,0081 Z       - Prescription Notes Sequence
0070,1101 U       - Presentation Display Collection UID
0070,1102 U       - Presentation Sequence Collection UID
3010,0061 X       - Prior Treatment Dose Description
0040,4052 X       K Procedure Step Cancellation DateTime
0018,1030 X/D     - Protocol Name
300A,0619 D       - Radiation Dose Identification Label
300A,0623 D       - Radiation Dose In-Vivo Measurement Label
300A,067D Z       - Radiation Generation Mode Description
300A,067C D       - Radiation Generation Mode Label
300C,0113 X       - Reason for Omission Description
0040,100A X       - Reason for Requested Procedure Code Sequence
0032,1030 X       - Reason for Study
3010,005C Z       - Reason for Superseding
0040,2001 X       - Reason for the Imaging Service Request
0040,1002 X       - Reason for the Requested Procedure
0032,1066 X       - Reason for Visit
0032,1067 X       - Reason for Visit Code Sequence
300A,073A D       K Recorded RT Control Point DateTime
3010,000B U       - Referenced Conceptual Volume UID
0400,0402 X       - Referenced Digital Signature Sequence
300A,0083 U       - Referenced Dose Reference UID
3010,006F U       - Referenced Dosimetric Objective UID
3010,0031 U       - Referenced Fiducials UID
3006,0024 U       - Referenced Frame of Reference UID
0040,4023 U       - Referenced General Purpose Scheduled Procedure Step Transaction UID
0008,1140 X/Z/U*  - Referenced Image Sequence
0040,A172 U       - Referenced Observation UID (Trial)
0038,0004 X       - Referenced Patient Alias Sequence
0010,1100 X       - Referenced Patient Photo Sequence
0008,1120 X       - Referenced Patient Sequence
0008,1111 X/Z/D   - Referenced Performed Procedure Step Sequence
0400,0403 X       - Referenced SOP Instance MAC Sequence
0008,1155 U       - Referenced SOP Instance UID
0004,1511 U       - Referenced SOP Instance UID in File
0008,1110 X/Z     - Referenced Study Sequence
0008,0092 X       - Referring Physician's Address
0008,0090 Z       - Referring Physician's Name
0008,0094 X       - Referring Physician's Telephone Numbers
0008,0096 X       - Referring Physician Identification Sequence
0010,2152 X       - Region of Residence
3006,00C2 U       - Related Frame of Reference UID
0040,0275 X       - Request Attributes Sequence
0032,1070 X       - Requested Contrast Agent
0040,1400 X       - Requested Procedure Comments
0032,1060 X/Z     - Requested Procedure Description
0040,1001 X       - Requested Procedure ID
0040,1005 X       - Requested Procedure Location
0018,9937 X       - Requested Series Description
0000,1001 U       - Requested SOP Instance UID
0032,1032 X       - Requesting Physician
0032,1033 X       - Requesting Service
0018,9185 X       - Respiratory Motion Compensation Technique Description
0010,2299 X       - Responsible Organization
0010,2297 X       - Responsible Person
4008,4000 X       - Results Comments
4008,0118 X       - Results Distribution List Sequence
4008,0042 X       - Results ID Issuer
300E,0008 X/Z     - Reviewer Name
3006,0028 X       - ROI Description
3006,0038 X       - ROI Generation Description
3006,00A6 Z       - ROI Interpreter
3006,0026 Z       - ROI Name
3006,0088 X       - ROI Observation Description
3006,0085 X       - ROI Observation Label
300A,0615 Z       - RT Accessory Device Slot ID
300A,0611 Z       - RT Accessory Holder Slot ID
3010,005A Z       - RT Physician Intent Narrative
300A,0006 X/D     K RT Plan Date
300A,0004 X       - RT Plan Description
300A,0002 D       - RT Plan Label
300A,0003 X       - RT Plan Name
300A,0007 X/D     K RT Plan Time
3010,0054 D       - RT Prescription Label
300A,062A D       - RT Tolerance Set Label
3010,0056 X/D     - RT Treatment Approach Label
3010,003B U       - RT Treatment Phase UID
0040,4034 X       - Scheduled Human Performers Sequence
0038,001E X       - Scheduled Patient Institution Residence
0040,0006 X       - Scheduled Performing Physician's Name
0040,000B X       - Scheduled Performing Physician Identification Sequence
0040,0007 X       - Scheduled Procedure Step Description
0040,0004 X       K Scheduled Procedure Step End Date
0040,0005 X       K Scheduled Procedure Step End Time
0040,4008 X       K Scheduled Procedure Step Expiration DateTime
0040,0009 X       - Scheduled Procedure Step ID
0040,0011 X       - Scheduled Procedure Step Location
0040,4010 X       K Scheduled Procedure Step Modification DateTime
0040,0002 X       K Scheduled Procedure Step Start Date
0040,4005 X       K Scheduled Procedure Step Start DateTime
0040,0003 X       K Scheduled Procedure Step Start Time
0040,0001 X       - Scheduled Station AE Title
0040,4027 X       - Scheduled Station Geographic Location Code Sequence
0040,0010 X       - Scheduled Station Name
0040,4025 X       - Scheduled Station Name Code Sequence
0032,1020 X       - Scheduled Study Location
0032,1021 X       - Scheduled Study Location AE Title
0008,0021 X/D     K Series Date
0008,103E X       - Series Description
0020,000E U       - Series Instance UID
0008,0031 X/D     K Series Time
0038,0062 X       - Service Episode Description
0038,0060 X       - Service Episode ID
300A,01B2 X       - Setup Technique Description
300A,01A6 X       - Shielding Device Description
0040,06FA X       - Slide Identifier
0010,21A0 X       - Smoking Status
0008,0018 U       - SOP Instance UID
3010,0015 U       - Source Conceptual Volume UID
0018,936A D       K Source End DateTime
0034,0005 D       - Source Identifier
0008,2112 X/Z/U*  - Source Image Sequence
300A,0216 X       - Source Manufacturer
3008,0105 X/Z     - Source Serial Number
0018,9369 D       K Source Start DateTime
0038,0050 X       - Special Needs
0040,050A X       - Specimen Accession Number
0040,0602 X       - Specimen Detailed Description
0040,0551 D       - Specimen Identifier
0040,0610 Z       - Specimen Preparation Sequence
0040,0600 X       - Specimen Short Description
0040,0554 U       - Specimen UID
0018,9516 X/D     K Start Acquisition DateTime
0008,1010 X/Z/D   - Station Name
0088,0140 U       - Storage Media File-set UID
3006,0008 Z       K Structure Set Date
3006,0006 X       - Structure Set Description
3006,0002 D       - Structure Set Label
3006,0004 X       - Structure Set Name
3006,0009 X/D     K Structure Set Time
0032,4000 X       - Study Comments
0008,0020 Z       K Study Date
0008,1030 X       - Study Description
0020,0010 Z       - Study ID
0032,0012 X       - Study ID Issuer
0020,000D U       - Study Instance UID
0008,0030 Z       K Study Time
0020,0200 U       - Synchronization Frame of Reference UID
0018,2042 U       - Target UID
0040,A354 X       - Telephone Number (Trial)
0040,DB0D U       - Template Extension Creator UID
0040,DB0C U       - Template Extension Organization UID
4000,4000 X       - Text Comments
2030,0020 X       - Text String
0008,0201 X       K Timezone Offset From UTC
0088,0910 X       - Topic Author
0088,0912 X       - Topic Keywords
0088,0906 X       - Topic Subject
0088,0904 X       - Topic Title
0062,0021 U       - Tracking UID
0008,1195 U       - Transaction UID
0018,5011 X       - Transducer Identification Sequence
3008,0250 X/D     K Treatment Date
300A,00B2 X       - Treatment Machine Name
300A,0608 D       - Treatment Position Group Label
300A,0609 U       - Treatment Position Group UID
300A,0700 U       - Treatment Session UID
3010,0077 D       - Treatment Site
3010,007A Z       - Treatment Technique Notes
3008,0251 X/D     K Treatment Time
300A,0736 D       K Treatment Tolerance Violation DateTime
300A,0734 D       - Treatment Tolerance Violation Description
0018,100A X       - UDI Sequence
0040,A124 U       - UID
0018,1009 X       - Unique Device Identifier
3010,0033 D       - User Content Label
3010,0034 D       - User Content Long Label
0040,A352 X       - Verbal Source (Trial)
0040,A358 X       - Verbal Source Identifier Code Sequence (Trial)
0040,A088 Z       - Verifying Observer Identification Code Sequence
0040,A075 D       - Verifying Observer Name
0040,A073 D       - Verifying Observer Sequence
0040,A027 D       - Verifying Organization
0038,4000 X       - Visit Comments
0018,9371 D       - X-Ray Detector ID
0018,9373 X       - X-Ray Detector Label
0018,9367 D       - X-Ray Source ID
"""

_STRICTNESS: Final = ("X", "Z", "D", "U", "C", "K")
"""Actions from the strictest (leaves the least) to the least strict."""


@dataclass(frozen=True)
class ProfileEntry:
    """One row of PS3.15 Table E.1-1."""

    tag: int
    name: str
    basic: str
    """The Basic Profile column as written, e.g. ``"X/Z/D"``."""
    temporal: bool
    """Listed under the Retain Longitudinal Temporal Information Options."""

    @property
    def action(self) -> str:
        """The action applied: the strictest of :attr:`basic` (see
        :func:`resolve_action`)."""
        return resolve_action(self.basic)


def resolve_action(code: str) -> str:
    """The strictest action of a Table E.1-1 code: ``"X/Z/D"`` gives ``"X"``.

    Parameters
    ----------
    code : str
        ``D``, ``Z``, ``X``, ``K``, ``C``, ``U`` or a combination such as
        ``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D`` or ``X/Z/U*``.

    Returns
    -------
    str
        One of ``X``, ``Z``, ``D``, ``U``, ``C``, ``K``.

    References
    ----------
    PS3.15 E.1.1 (De-identifier: the meaning of each action code).
    """
    actions = {part.rstrip("*") for part in code.split("/")}
    unknown = actions - set(_STRICTNESS)
    if unknown:
        raise ValueError(f"unknown action {code!r}")
    return next(action for action in _STRICTNESS if action in actions)


def _parse_table(text: str) -> dict[int, ProfileEntry]:
    entries: dict[int, ProfileEntry] = {}
    for line in text.strip().splitlines():
        tag_text, basic, temporal, name = line.split(maxsplit=3)
        group, element = tag_text.split(",")
        tag = int(group, 16) << 16 | int(element, 16)
        resolve_action(basic)
        if tag in entries:
            raise ValueError(f"duplicate row for ({group},{element})")
        entries[tag] = ProfileEntry(tag, name, basic, temporal == "K")
    return entries


BASIC_PROFILE: Final[Mapping[int, ProfileEntry]] = _parse_table(_TABLE_E_1_1)
"""PS3.15 Table E.1-1 by tag (``0xGGGGEEEE``), except its masked rows: Curve Data
(50xx,xxxx), Overlay Data and Comments (60xx,3000 / 60xx,4000) and private
attributes, which are removed whole groups at a time."""

_CONTENT_SEQUENCE: Final = 0x0040A730
_GRAPHIC_ANNOTATION_SEQUENCE: Final = 0x00700001
_TEMPORAL_VRS: Final = frozenset({"DA", "DT", "TM"})
# Text VRs a kept attribute is cleaned in (numbers and UIDs are not).
_CLEANABLE_VRS: Final = frozenset(
    {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
)

# PS3.16 CID 7050 De-identification Method (codes in DCM).
_BASIC_PROFILE_CODE: Final = ("113100", "Basic Application Confidentiality Profile")
_CLEAN_GRAPHICS_CODE: Final = ("113103", "Clean Graphics Option")
_CLEAN_STRUCTURED_CONTENT_CODE: Final = ("113104", "Clean Structured Content Option")
_FULL_DATES_CODE: Final = (
    "113106",
    "Retain Longitudinal Temporal Information Full Dates Option",
)
_MODIFIED_DATES_CODE: Final = (
    "113107",
    "Retain Longitudinal Temporal Information Modified Dates Option",
)

_DUMMY_TEXT: Final = "DEIDENTIFIED"
"""The ``D`` replacement of text VRs (fits SH, CS and AE: at most 16 characters)."""
_DUMMY_BY_VR: Final[dict[str, Any]] = {
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "DS": "0",
    "IS": "0",
    "AS": "000D",
    "FL": 0.0,
    "FD": 0.0,
    "SS": 0,
    "US": 0,
    "SL": 0,
    "UL": 0,
    "SV": 0,
    "UV": 0,
}
_TEXT_VRS: Final = frozenset(
    {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"}
)
# UIDs that name a kind of thing (a SOP class, a transfer syntax, a coding
# scheme), not an instance: they identify nobody and must stay as they are.
_CLASS_UID_SUFFIXES: Final = ("ClassUID", "SyntaxUID", "ClassUIDInFile")
_TEXT_PRONE_MODALITIES: Final = frozenset({"US", "SC", "OT", "XC", "ES", "DOC"})


class BurnedInAnnotationError(ValueError):
    """An image whose pixels say they carry burned-in text (PS3.3 C.7.6.1.1.7).

    Header de-identification cannot remove text from pixels, so such an image is
    refused unless :attr:`DeidContext.accept_burned_in` says otherwise.
    """


@dataclass(eq=False)
class DeidContext:
    """What stays the same for every dataset of one case.

    Parameters
    ----------
    case_key : str
        A secret of the case: new UIDs and pseudonyms are keyed hashes
        (HMAC-SHA-256) of the originals under this key, so repeated runs with
        the same key give the same UIDs, and without it the originals cannot be
        recomputed from them.
    keep_dates : bool
        Retain Longitudinal Temporal Information: keep dates and times
        (shifted by ``date_shift_days`` when that is not 0) instead of removing
        them (PS3.15 E.3.6).
    date_shift_days : int
        Days added to every date (with ``keep_dates``); times of day stay.
    uid_map : dict of str to str
        Original UID -> new UID, shared by every dataset of the case and
        filled as UIDs are met. New UIDs map to themselves, so de-identifying
        an already de-identified dataset (e.g. a report made from the exported
        images) keeps its references.
    clean_structured_content : bool
        Keep and clean the Content Sequence of a structured report (Clean
        Structured Content Option) instead of replacing it; for reports made
        from the case's own annotations.
    clean_graphics : bool
        Keep and clean the Graphic Annotation Sequence of a presentation state
        (Clean Graphics Option) instead of replacing it.
    accept_burned_in : bool
        De-identify images whose Burned In Annotation is YES instead of refusing
        them; each is listed in :attr:`flagged`.
    """

    case_key: str
    keep_dates: bool = False
    date_shift_days: int = 0
    uid_map: dict[str, str] = field(default_factory=dict)
    clean_structured_content: bool = False
    clean_graphics: bool = False
    accept_burned_in: bool = False
    flagged: list[str] = field(default_factory=list)
    """Messages about images whose pixels may carry identifying text."""
    cleaned: list[str] = field(default_factory=list)
    """Messages about kept attributes that held the patient's identifiers
    (which were taken out of them)."""
    _new_uids: set[str] = field(init=False, repr=False)
    _pseudonyms: set[str] = field(init=False, repr=False, default_factory=set)

    def __post_init__(self) -> None:
        if not self.case_key:
            raise ValueError("de-identification needs a case key")
        if self.date_shift_days and not self.keep_dates:
            raise ValueError("date_shift_days needs keep_dates (dates are removed)")
        self._new_uids = set(self.uid_map.values())

    def _digest(self, purpose: str, value: str) -> bytes:
        message = f"{purpose}\0{value}".encode()
        return hmac.new(self.case_key.encode(), message, hashlib.sha256).digest()

    def remap_uid(self, uid: str) -> str:
        """The new UID of ``uid``: the same one every time within the case.

        The new UID is ``2.25.`` followed by a UUID (from a keyed hash of the
        original) as one integer (PS3.5 B.2); at most 44 characters.
        """
        original = uid.strip().rstrip("\0")
        if not original or original in self._new_uids:
            return original
        new = self.uid_map.get(original)
        if new is None:
            digest = self._digest("uid", original)
            new = f"2.25.{uuid.UUID(bytes=digest[:16], version=4).int}"
            self.uid_map[original] = new
            self._new_uids.add(new)
        return new

    def pseudonym(self, original: str) -> str:
        """A stable stand-in for a patient ID or name: ``ANON`` and 10 hex digits.

        The same original gives the same pseudonym within the case, so the
        images of one patient stay together; a pseudonym given before stays.
        """
        text = original.strip()
        if text in self._pseudonyms:
            return text
        pseudonym = "ANON" + self._digest("patient", text).hex()[:10].upper()
        self._pseudonyms.add(pseudonym)
        return pseudonym

    def with_options(
        self, *, clean_structured_content: bool, clean_graphics: bool
    ) -> DeidContext:
        """The same case (key, dates, UID map, pseudonyms) with other cleaning
        options, e.g. for the reports of the case's images."""
        other = DeidContext(
            self.case_key,
            keep_dates=self.keep_dates,
            date_shift_days=self.date_shift_days,
            uid_map=self.uid_map,
            clean_structured_content=clean_structured_content,
            clean_graphics=clean_graphics,
            accept_burned_in=self.accept_burned_in,
            flagged=self.flagged,
        )
        other._new_uids = self._new_uids
        other._pseudonyms = self._pseudonyms
        return other

    @property
    def temporal_option(self) -> str:
        """``"removed"``, ``"full"`` (kept) or ``"modified"`` (shifted)."""
        if not self.keep_dates:
            return "removed"
        return "modified" if self.date_shift_days else "full"

    def method_codes(self) -> list[tuple[str, str]]:
        """(code value, meaning) of PS3.16 CID 7050 for what was done."""
        codes = [_BASIC_PROFILE_CODE]
        if self.clean_graphics:
            codes.append(_CLEAN_GRAPHICS_CODE)
        if self.clean_structured_content:
            codes.append(_CLEAN_STRUCTURED_CONTENT_CODE)
        if self.temporal_option == "full":
            codes.append(_FULL_DATES_CODE)
        elif self.temporal_option == "modified":
            codes.append(_MODIFIED_DATES_CODE)
        return codes


# ---------------------------------------------------------------- values


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _shift_date(text: str, days: int) -> str | None:
    """``YYYYMMDD`` moved by ``days``; None when it is not a date."""
    digits = text.strip()
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        moved = datetime.date(
            int(digits[:4]), int(digits[4:6]), int(digits[6:])
        ) + datetime.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return f"{moved.year:04d}{moved.month:02d}{moved.day:02d}"


def _shift_temporal(vr: str, value: Any, days: int) -> list[str] | None:
    """Each value of a DA or DT moved by ``days`` (TM unchanged); None if any
    value cannot be read as a date."""
    shifted = []
    for item in _values(value):
        text = str(item).strip()
        if vr == "TM" or not days or not text:
            shifted.append(text)
            continue
        moved = _shift_date(text[:8], days)
        if moved is None:
            return None
        shifted.append(moved + text[8:])
    return shifted


def _is_removed_group(tag: int) -> bool:
    """Private groups, Curve Data (50xx) and Overlays (60xx), PS3.15 Table E.1-1."""
    group = tag >> 16
    if group % 2 == 1:
        return True
    return 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF


def _is_registered(value: str) -> bool:
    """True for a UID of the DICOM registry (PS3.6 Annex A): pydicom names it."""
    return UID(value).name != value


def _is_instance_uid(keyword: str, value: str) -> bool:
    """True where a UI value names an instance (replaced), not a kind of thing."""
    if keyword.endswith(_CLASS_UID_SUFFIXES) or keyword == "CodingSchemeUID":
        return False
    return not _is_registered(value)


class _Deidentifier:
    def __init__(
        self, context: DeidContext, identifiers: Mapping[str, str] | None = None
    ) -> None:
        self.context = context
        self.identifiers = dict(identifiers or {})
        self.sop_instance_uid = ""

    def copy_into(self, source: Dataset, target: Dataset, *, nested: bool) -> None:
        for element in source:
            result = self.element(element, nested=nested)
            if result is not None:
                target.add(result)

    def sequence(self, element: DataElement) -> DataElement:
        items = Sequence()
        for item in element.value or ():
            cleaned = Dataset()
            self.copy_into(item, cleaned, nested=True)
            items.append(cleaned)
        return DataElement(element.tag, "SQ", items)

    def element(self, element: DataElement, *, nested: bool) -> DataElement | None:
        tag = int(element.tag)
        if _is_removed_group(tag) or element.tag.element == 0:
            return None
        entry = BASIC_PROFILE.get(tag)
        vr = element.VR
        if entry is None:
            return self.unlisted(element)
        if entry.temporal:
            kept = self.temporal(element)
            if kept is not None:
                return kept
        if "U*" in entry.basic and nested and vr == "SQ":
            return self.sequence(element)
        if tag == _CONTENT_SEQUENCE and self.context.clean_structured_content:
            return self.sequence(element)
        if tag == _GRAPHIC_ANNOTATION_SEQUENCE and self.context.clean_graphics:
            return self.sequence(element)
        action = entry.action
        if action == "X":
            return None
        if action == "U":
            return self.uids(element)
        if action == "Z" or vr == "SQ":
            return _emptied(element)
        if action == "D":
            return _dummy(element, self.context)
        return self.kept(element)

    def kept(self, element: DataElement) -> DataElement:
        """A kept attribute, with any of the patient's identifiers taken out of
        its text: attributes the profile keeps (a sequence name, a protocol)
        sometimes hold the patient's name or ID, which PS3.15 E.1 asks not to
        leave in any attribute."""
        if element.VR not in _CLEANABLE_VRS or not self.identifiers:
            return copy.copy(element)
        values = [str(v) for v in _values(element.value)]
        cleaned = list(values)
        found: set[str] = set()
        for text, keyword in self.identifiers.items():
            for index, value in enumerate(cleaned):
                if text in value:
                    cleaned[index] = value.replace(text, "").strip()
                    found.add(keyword)
        if not found:
            return copy.copy(element)
        self.context.cleaned.append(
            f"{self.context.remap_uid(self.sop_instance_uid)}: "
            f"{keyword_for_tag(element.tag) or element.tag} held the "
            f"{', '.join(sorted(found))} of the patient: taken out"
        )
        new: Any = cleaned[0] if len(cleaned) == 1 else cleaned
        return DataElement(element.tag, element.VR, new or None)

    def temporal(self, element: DataElement) -> DataElement | None:
        """The element kept or shifted under Retain Longitudinal Temporal
        Information; None when dates are removed (or the value is unreadable)."""
        if not self.context.keep_dates or element.VR not in _TEMPORAL_VRS:
            return None
        if element.value in (None, ""):
            return copy.copy(element)
        shifted = _shift_temporal(
            element.VR, element.value, self.context.date_shift_days
        )
        if shifted is None:
            return None
        value: Any = shifted[0] if len(shifted) == 1 else shifted
        return DataElement(element.tag, element.VR, value)

    def uids(
        self, element: DataElement, *, keep_registered: bool = False
    ) -> DataElement:
        if element.VR == "SQ":
            return self.sequence(element)
        if element.VR != "UI":
            return _dummy(element, self.context)
        new = [
            str(v).strip().rstrip("\0")
            if keep_registered and _is_registered(str(v).strip().rstrip("\0"))
            else self.context.remap_uid(str(v))
            for v in _values(element.value)
        ]
        value: Any = new[0] if len(new) == 1 else new
        return DataElement(element.tag, "UI", value)

    def unlisted(self, element: DataElement) -> DataElement | None:
        """An attribute Table E.1-1 does not name (see the module docstring)."""
        vr = element.VR
        tag = element.tag
        if not dictionary_has_tag(tag) and tag.group != 0x0002:
            return None  # unknown public attribute: what it holds cannot be known
        if vr == "SQ":
            return self.sequence(element)
        if vr in _TEMPORAL_VRS:
            return self.temporal(element)
        if vr == "UI":
            keyword = keyword_for_tag(tag)
            values = [str(v) for v in _values(element.value)]
            if any(_is_instance_uid(keyword, v.strip().rstrip("\0")) for v in values):
                return self.uids(element, keep_registered=True)
            return copy.copy(element)
        return self.kept(element)


def _emptied(element: DataElement) -> DataElement:
    if element.VR == "SQ":
        return DataElement(element.tag, "SQ", Sequence())
    return DataElement(element.tag, element.VR, None)


def _dummy(element: DataElement, context: DeidContext) -> DataElement:
    vr = element.VR
    if vr == "SQ":
        # A dummy item would be a made-up record; an empty sequence holds none.
        return DataElement(element.tag, "SQ", Sequence())
    if vr == "UI":
        new = [context.remap_uid(str(v)) for v in _values(element.value)]
        return DataElement(element.tag, "UI", new[0] if len(new) == 1 else new)
    if vr in _TEXT_VRS:
        return DataElement(element.tag, vr, _DUMMY_TEXT)
    if vr in _DUMMY_BY_VR:
        return DataElement(element.tag, vr, _DUMMY_BY_VR[vr])
    return DataElement(element.tag, vr, None)


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item


def _transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        return UID(str(syntax))
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if implicit in (None, True):
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little in (None, True) else ExplicitVRBigEndian


def _burned_in(ds: Dataset) -> str:
    return str(ds.get("BurnedInAnnotation", "") or "").strip().upper()


def _pseudonymise_patient(source: Dataset, out: Dataset, context: DeidContext) -> None:
    """Patient ID and Patient's Name: one keyed pseudonym for both (Z allows a
    dummy value), from the ID (or the name when there is none), so a patient's
    images stay together and the name shown is the ID used."""
    original = ""
    for keyword in ("PatientID", "PatientName"):
        original = str(source.get(keyword, "") or "").strip()
        if original:
            break
    pseudonym = context.pseudonym(original) if original else None
    for keyword in ("PatientID", "PatientName"):
        if keyword in out:
            setattr(out, keyword, pseudonym)


def _may_carry_text(ds: Dataset) -> bool:
    """Kinds of image that often show text in their pixels (ultrasound, screen
    captures and other secondary captures, PS3.3 A.8)."""
    modality = str(ds.get("Modality", "") or "").strip().upper()
    return modality in _TEXT_PRONE_MODALITIES or "ConversionType" in ds


def deidentify(ds: Dataset, context: DeidContext) -> Dataset:
    """A de-identified copy of ``ds`` (``ds`` is left as it is).

    Applies :data:`BASIC_PROFILE` to every attribute, recursively into
    sequences, removes private, curve and overlay groups, replaces UIDs through
    ``context`` (consistently across the case), and records what was done in
    Patient Identity Removed, De-identification Method and its Code Sequence,
    and Longitudinal Temporal Information Modified. Pixel data are copied
    unchanged, so it is the caller's task not to export images with burned-in
    text.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset as read from a file (its file meta, if any, is used for the
        transfer syntax).
    context : DeidContext
        The case's key, options and UID map.

    Returns
    -------
    pydicom.dataset.Dataset
        A new dataset with new file meta information (Media Storage SOP
        Instance UID replaced), ready for :func:`write_dataset`.

    Raises
    ------
    BurnedInAnnotationError
        When Burned In Annotation (0028,0301) is YES and
        ``context.accept_burned_in`` is False.

    References
    ----------
    PS3.15 E.1 and Table E.1-1; E.3.6; PS3.3 C.7.1.1 (Patient Identity Removed,
    De-identification Method Code Sequence); PS3.16 CID 7050; PS3.3 C.7.6.1.1.7
    (Burned In Annotation).
    """
    sop_uid = str(ds.get("SOPInstanceUID", "") or "")
    if _burned_in(ds) == "YES":
        message = (
            "Burned In Annotation is YES: its pixels may show patient data that "
            "header de-identification cannot remove"
        )
        if not context.accept_burned_in:
            raise BurnedInAnnotationError(message)
        context.flagged.append(f"{context.remap_uid(sop_uid)}: {message}")
    elif _burned_in(ds) != "NO" and _may_carry_text(ds):
        context.flagged.append(
            f"{context.remap_uid(sop_uid)}: Burned In Annotation is not stated and "
            f"this is a {ds.get('Modality', '') or 'secondary capture'} image, "
            "which often has text in its pixels: check it before sharing"
        )
    out = Dataset()
    with warnings.catch_warnings():
        # Invalid values in old headers are common; each would warn again here.
        warnings.simplefilter("ignore")
        deidentifier = _Deidentifier(context, source_identifiers(ds, patient=True))
        deidentifier.sop_instance_uid = sop_uid
        deidentifier.copy_into(ds, out, nested=False)
    _pseudonymise_patient(ds, out, context)
    if not out.get("SOPInstanceUID"):
        # A file without its own UID still needs one to be stored (PS3.10 7.1):
        # a stable one, from its pixels, else a new one.
        pixels = ds.get("PixelData")
        anchor = (
            hashlib.sha256(pixels).hexdigest()
            if isinstance(pixels, bytes)
            else uuid.uuid4().hex
        )
        out.SOPInstanceUID = context.remap_uid(f"no SOP Instance UID:{anchor}")
    out.PatientIdentityRemoved = "YES"
    codes = context.method_codes()
    out.DeidentificationMethod = [meaning for _, meaning in codes]
    out.DeidentificationMethodCodeSequence = Sequence(
        [_code_item(value, meaning) for value, meaning in codes]
    )
    out.LongitudinalTemporalInformationModified = {
        "removed": "REMOVED",
        "full": "UNMODIFIED",
        "modified": "MODIFIED",
    }[context.temporal_option]

    meta = FileMetaDataset()
    source_meta = getattr(ds, "file_meta", None)
    sop_class = out.get("SOPClassUID") or (
        source_meta.get("MediaStorageSOPClassUID") if source_meta else None
    )
    if sop_class:
        meta.MediaStorageSOPClassUID = sop_class
    if "SOPInstanceUID" in out:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    meta.TransferSyntaxUID = _transfer_syntax(ds)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    out.file_meta = meta
    out.preamble = b"\0" * 128
    return out


# ----------------------------------------------------------------- files


def read_dataset(path: str | os.PathLike[str]) -> Dataset:
    """A whole DICOM file (pixels included) for export.

    Raises
    ------
    OSError
        When the file cannot be read.
    pydicom.errors.InvalidDicomError
        When it is not DICOM.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(os.fspath(path), force=True)


def dataset_bytes(ds: Dataset) -> bytes:
    """``ds`` encoded as a DICOM file (PS3.10), in its file meta's transfer syntax."""
    buffer = BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def write_dataset(ds: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` as a DICOM file, atomically (temporary file, then rename).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_bytes_atomic(path, dataset_bytes(ds))


# Attributes whose values must not appear anywhere in a de-identified export:
# names, IDs, dates, places and the original instance UIDs.
_IDENTIFIERS: Final = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "OtherPatientIDs",
    "OtherPatientNames",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "AccessionNumber",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "StationName",
    "DeviceSerialNumber",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "FrameOfReferenceUID",
)


_PATIENT_IDENTIFIERS: Final = _IDENTIFIERS[:5]
# Values de-identification itself writes (dummies, Longitudinal Temporal
# Information Modified): a source holding one as a placeholder leaks nothing.
_WRITTEN_PLACEHOLDERS: Final = frozenset(
    {str(v) for v in _DUMMY_BY_VR.values() if isinstance(v, str)}
    | {_DUMMY_TEXT, "REMOVED", "MODIFIED", "UNMODIFIED", "ANONYMOUS"}
)


def source_identifiers(ds: Dataset, *, patient: bool = False) -> dict[str, str]:
    """Identifying text of a source dataset, value -> keyword, to scan exports for.

    Patient names and IDs, dates, institution, staff and device names, and the
    study, series, instance and frame of reference UIDs (top level). Values
    shorter than 6 characters, or 8 for digits (dates, numeric IDs), are left
    out: they turn up by chance in pixel data and new UIDs; so are values of
    one repeated character. With ``patient``,
    only the patient's names and IDs.
    """
    found: dict[str, str] = {}
    for keyword in _PATIENT_IDENTIFIERS if patient else _IDENTIFIERS:
        element = ds.get(keyword)
        if element is None:
            continue
        for value in _values(element):
            text = str(value).strip().strip("\0").strip()
            digits = text.replace(".", "").replace("-", "").isdigit()
            # A value of one repeated character ("000000000") or a dummy
            # this module writes itself (19000101) identifies no one.
            if (
                len(set(text)) > 1
                and text.upper() not in _WRITTEN_PLACEHOLDERS
                and len(text) >= (8 if digits else 6)
            ):
                found[text] = keyword
    return found


def leak_check_values(ds: Dataset) -> dict[str, str]:
    """:func:`source_identifiers` to look for in what is exported from ``ds``.

    Leaves out the values that an attribute the profile keeps also holds (an
    institution named like the manufacturer, "TOSHIBA" in "TOSHIBA_MEC"):
    finding them says nothing. The patient's names and IDs always stay:
    :func:`deidentify` takes them out of kept attributes.
    """
    kept = "\n".join(
        str(element.value)
        for element in ds
        if not element.tag.is_private
        and element.VR in _CLEANABLE_VRS
        and int(element.tag) not in BASIC_PROFILE
        and element.value is not None
    )
    return {
        value: keyword
        for value, keyword in source_identifiers(ds).items()
        if keyword in _PATIENT_IDENTIFIERS or value not in kept
    }
