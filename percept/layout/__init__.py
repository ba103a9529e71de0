"""Layout analysis on top of the read pipeline: tables, selection marks, paragraph roles, reading order and
key-value pairs.

Page-level analysis (:func:`percept.layout.page.analyze_page`) runs in the worker processes next to the OCR, on
words already in page units; document-level steps (key-value pairs, markdown) run when the document is assembled.
"""
