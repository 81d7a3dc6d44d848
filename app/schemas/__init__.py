"""Pydantic models of every JSON body the service sends; the OpenAPI page shows them."""
