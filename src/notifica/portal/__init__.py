"""The health-authority portal where operators authorise upload codes (layer 3½)."""
