"""DICOM writing and importing: SR, presentation states, de-identification."""
