"""Matching diagnosis keys against a phone's sightings: derive once, share, look up (layer 2)."""
