"""Demo tooling, not part of the service: synthetic LLM traffic and the `make run` launcher."""
