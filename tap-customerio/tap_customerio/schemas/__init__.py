"""JSON schemas of the App API records, written with `singer_sdk.typing` (types per the reference §2/§6)."""
