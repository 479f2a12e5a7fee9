"""The portal's date formats: one, ISO-like, on every page (FORMAT_MODULE_PATH)."""
