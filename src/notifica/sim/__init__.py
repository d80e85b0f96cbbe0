"""The population simulator: virtual phones through the real system, scored against ground truth."""
