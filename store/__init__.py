"""The workspace on disk and everything that gets data into it."""
