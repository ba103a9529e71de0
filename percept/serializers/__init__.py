"""One thin serializer per API family and version over :class:`percept.model.Document`."""
