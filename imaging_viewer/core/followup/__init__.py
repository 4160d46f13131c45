"""Following lesions through treatment: RECIST 1.1, the response table, registration.

Qt-free. SimpleITK is imported only inside :mod:`.registration`'s functions.
"""
