"""The national backend: an Immuni-compatible HTTP API with publishing and retention (layer 3)."""
