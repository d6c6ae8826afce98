"""Hotlists: importers (CLEW .tbl, NCIC fixed width, CSV), officer entries, matching."""
