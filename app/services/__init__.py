"""Service functions: validated parameters in, response schemas out."""
