"""The HTTP server: Azure's REST APIs over the read pipeline."""
