"""Teaching cases: key images, the case sheet, and the Qt-free export.

``case`` holds the case text, ``key_images`` which images show the lesions,
``measurements`` what they measure, ``case_sheet`` the Markdown and JSON sheet,
``export`` the case folder (drawing through ``burn_in``'s protocol).
"""
