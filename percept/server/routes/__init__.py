"""One router module per API family; each is a thin layer over deps and the serializers."""
