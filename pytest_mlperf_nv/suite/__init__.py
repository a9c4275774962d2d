"""Suite files: YAML loading with positions, validation, and expansion into cases."""
