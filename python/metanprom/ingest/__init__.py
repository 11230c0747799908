"""Reading the bank's extracts: their formats, the checks on a user's file, the raw and mart quality gates."""
