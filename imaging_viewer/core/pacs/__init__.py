"""The PACS room: the local study database and remote DICOM nodes.

:mod:`~imaging_viewer.core.pacs.database` indexes what is opened, imported,
retrieved or received (SQLite, schema modelled on CTK's ``dicom-schema.sql``);
:mod:`~imaging_viewer.core.pacs.nodes` names the remote nodes;
:mod:`~imaging_viewer.core.pacs.dimse` (pynetdicom) and
:mod:`~imaging_viewer.core.pacs.dicomweb` (dicomweb-client) talk to them. Every
failure is a :class:`~imaging_viewer.core.pacs.errors.PacsError` whose message
says what a person can do about it. pydicom is imported here because the
datasets travel on the wire (PS3.7, PS3.18).
"""
