"""The one `alpr` command."""
