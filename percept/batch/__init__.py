"""Batch analysis (Document Intelligence ``:analyzeBatch``): a container's documents, one child operation each,
results written to the user's result container."""
