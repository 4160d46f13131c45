"""DICOM reading: scanning folders, assembling series, decoding pixels."""
