"""Lesions and their annotations: the model, measurements and the annotation file."""
